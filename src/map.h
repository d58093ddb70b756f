/* map.h — 'esalign align': reads -> (embed, search the vector store) candidate loci -> Smith-Waterman verification
 * -> SAM/BAM records, multi-threaded, output in input order and byte-identical for any thread count. Per-read mapping
 * is map.c, the records and the output file sam.c, the read -> map -> write pipeline (es_map_file) pipeline.c. */
#ifndef ES_MAP_H
#define ES_MAP_H
#include <stdint.h>
#include "align.h"

typedef struct {
	int n_threads;      /* mapping threads, 1..ES_MAX_THREADS (thread.h); reading and writing have one more each */
	int max_loci;       /* -K: candidate loci requested from the vector store per read */
	int max_align;      /* at most this many loci are verified by full alignment per read */
	int n_secondary;    /* --secondary: at most this many secondary (0x100) records per read */
	int min_len;        /* reads shorter than this are reported unmapped */
	int min_score;      /* alignments scoring below this are reported unmapped (bwa's -T) */
	int batch_size;     /* reads per batch (results do not depend on it) */
	const char *rg_line;      /* a full "@RG\tID:..." header line (tabs already expanded) or NULL */
	const char *encoder_spec; /* encoder to use; NULL: the one recorded in the index */
	float locus_ratio;  /* loci after the first two are verified only if their similarity >= this * the best's */
	double deficit_coef; /* unused since MAPQ is the fitted model of mapq.c (kept for the layout of the API) */
	int exact;          /* use exact (brute-force) search instead of the approximate index */
	int nprobe;         /* index with inverted lists: lists scanned per query (0: the index's default) */
	es_score_t sc;
	int mapq_features;  /* hidden --mapq-features: an XF:Z tag with the MAPQ model inputs on each primary record */
} es_map_opt_t;

void es_map_opt_init(es_map_opt_t *opt);

/* Validate an @RG line as given on the command line ("\t" may be the two characters '\' 't'); on success returns a
 * malloc'ed line with real tabs and stores its ID in *id (malloc'ed). NULL with es_error set on a bad line. */
char *es_map_parse_rg(const char *arg, char **id);

typedef struct {
	int64_t n_reads, n_mapped, n_unmapped_short;
	double seconds;
} es_map_stats_t;

/* Align every read of reads_path ("-" for stdin) against the index and write SAM (or BAM when out_path ends in
 * ".bam") to out_path ("-" for stdout), in input order, byte-identical for any n_threads (1..ES_MAX_THREADS, checked
 * before anything is opened). Reading, mapping and writing run as a pipeline (pipeline.c) and a progress line per
 * batch goes to stderr at verbosity 2. The output is written to a temporary name and renamed on success (stdout, a
 * device or a FIFO are written in place); every write is checked and on any error nothing is left behind. htslib's
 * own log lines are off while the output is open (its failures come back as es_error). cmdline goes into @PG CL:.
 * Returns 0 or -1 (es_error set: the first error, naming the file). */
int es_map_file(const char *index_path, const char *reads_path, const char *out_path, const es_map_opt_t *opt,
                const char *cmdline, es_map_stats_t *stats);
#endif
