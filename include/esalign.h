/* esalign.h — the public API of libesalign (build/libesalign.a), self-contained: open an index, embed DNA, search
 * the vector store for a read's candidate loci, verify them with Smith-Waterman, or align a whole read file to SAM.
 * Conventions (htslib's): functions return >= 0 (or non-NULL) on success and -1 (or NULL) on error, with a one-line
 * message in es_last_error() naming the file and the problem; the library never exits or prints errors itself.
 * Every object a function returns is owned by the caller unless said otherwise, and is freed by the function named.
 * Coordinates are 0-based half-open [beg,end); "global" coordinates index the concatenation of all contigs.
 * Nucleotide codes are A=0 C=1 G=2 T=3 N=4. Link with -lesalign -lhts -lopenblas -lz -lm -lpthread.
 *
 * This is the one copy of every public declaration: the library's internal headers (src/) include it and add only
 * what is internal. It compiles alone (tests/header_check.c includes it first; examples/ is built with -Iinclude). */
#ifndef ESALIGN_H
#define ESALIGN_H
#include <stdint.h>

#define ES_VERSION "0.1.0"   /* esalign version, in @PG and `esalign version` */

/* ---- errors ---- */
/* The last error message of this thread ("" if none). */
const char *es_last_error(void);

/* ---- nucleotide codes and the reference ---- */
extern const uint8_t es_nt4[256];   /* ASCII -> code 0..4 */
extern const char es_code2nt[5];   /* code -> "ACGTN" */
/* Reverse-complement codes in place (N stays N). */
void es_revcomp(uint8_t *s, int64_t len);

typedef struct {
	char *name;
	int64_t len;   /* bases */
	int64_t off;   /* global offset of base 0: contig covers [off, off+len) */
} es_contig_t;

typedef struct {
	int64_t beg, end;  /* [beg,end) global: a maximal run of N */
} es_nrun_t;

/* A reference genome; read-only for users (es_index_ref gives one). Contig i is contig[i], 0 <= i < n_contig. */
typedef struct {
	int32_t n_contig;
	es_contig_t *contig;
	int64_t len;       /* total bases, sum of contig lengths */
	uint8_t *pac;      /* 2-bit packed, base i in bits 2*(i&3) of byte i>>2; N positions hold 0 (see nrun) */
	int64_t n_nrun;
	es_nrun_t *nrun;   /* sorted, non-overlapping, never spanning two contigs */
	int owns_pac;      /* 1 if pac/contig/nrun were malloc'ed (0 when they point into an mmap'ed index) */
} es_ref_t;

/* Copy codes of global [beg,end) into out (end-beg bytes); N runs give 4. Caller keeps ranges inside [0,len). */
void es_ref_get(const es_ref_t *ref, int64_t beg, int64_t end, uint8_t *out);
/* Contig index holding global position pos (binary search); -1 if out of range. */
int es_ref_contig_at(const es_ref_t *ref, int64_t pos);
/* Index of a contig by name, or -1. */
int es_ref_contig_by_name(const es_ref_t *ref, const char *name);

/* ---- encoders: DNA -> unit vector, the same for both strands ---- */
typedef struct es_encoder_s es_encoder_t;   /* opaque */
/* Open an encoder from a spec: "kmer" (k=15, dim=64), "kmer:K:DIM", "transformer" (the shipped model, found through
 * $ESALIGN_MODEL or models/esalign.model beside the binary), or a path to a model file.
 * Returns NULL with es_error set (naming the file) on failure. Free with es_encoder_destroy. */
es_encoder_t *es_encoder_open(const char *spec);
void es_encoder_destroy(es_encoder_t *e);
/* Embed n sequences (codes 0..4, N=4; seqs[i] of lens[i] bases, at most es_encoder_max_len) into out (n*dim floats,
 * each row L2-normalised; an all-N or too-short sequence gives a zero row). Thread-safe: may be called from several
 * threads at once. Returns 0, or -1 with es_error set. */
int es_encoder_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out);
/* Embed n windows of one sequence x (T bases): window i is [beg[i], beg[i]+len[i]), 0-based half-open, inside
 * [0,T). out (n*dim) holds exactly what es_encoder_embed gives for each window alone; the learned encoder computes
 * it with one pass over x (a window's features are those of its positions in x), not one per window. */
int es_encoder_embed_spans(const es_encoder_t *e, const uint8_t *x, int T, int n, const int *beg, const int *len,
                           float *out);
int es_encoder_dim(const es_encoder_t *e);            /* output dimension */
int es_encoder_max_len(const es_encoder_t *e);        /* longest input accepted (bases) */
const char *es_encoder_name(const es_encoder_t *e);   /* e.g. "kmer(k=15,dim=64)" */
uint64_t es_encoder_checksum(const es_encoder_t *e);  /* identity of the parameters */

/* ---- the index (vector store of reference windows), built by `esalign index` ---- */
typedef struct es_index_s es_index_t;   /* opaque; immutable after load, so safe to share between threads */

/* Map an index. path is the file; or, when path does not exist or is not an index (no magic: e.g. the FASTA that
 * `esalign index ref.fa` indexed) and PATH.esi exists, PATH.esi is loaded instead (like bwa's prefix).
 * The whole content is checksummed on load and every count, offset and table is checked: a missing, truncated,
 * foreign, wrong-version, corrupt or inconsistent file is refused (NULL, es_error names the file(s), the field and
 * its values). Free with es_index_destroy. */
es_index_t *es_index_load(const char *path);
void es_index_destroy(es_index_t *idx);

/* The reference stored in the index (arrays point into the mapping, owns_pac=0; valid until es_index_destroy). */
const es_ref_t *es_index_ref(const es_index_t *idx);
const char *es_index_encoder_spec(const es_index_t *idx);   /* as given at build time, e.g. "kmer" */
const char *es_index_encoder_name(const es_index_t *idx);   /* es_encoder_t.name at build time */
const char *es_index_path(const es_index_t *idx);           /* the file that was loaded */
int es_index_w(const es_index_t *idx);
int es_index_stride(const es_index_t *idx);
int es_index_dim(const es_index_t *idx);
int64_t es_index_n_windows(const es_index_t *idx);
/* Window i (0 <= i < n_windows) covers global [*beg,*end); windows are sorted by beg and never span two contigs. */
void es_index_window(const es_index_t *idx, int64_t i, int64_t *beg, int64_t *end);

/* 0 if enc is the encoder the index was built with (same checksum and dim); else -1 with es_error naming both. */
int es_index_check_encoder(const es_index_t *idx, const es_encoder_t *enc);
/* Open the index's encoder from its recorded spec and check it (NULL with es_error set on failure). */
es_encoder_t *es_index_open_encoder(const es_index_t *idx);

/* ---- search ---- */
#define ES_SEARCH_EXACT 1   /* brute force over every window (the yardstick); default is the approximate search */
#define ES_CAND_WHOLE   2   /* es_index_candidates: one query per read whatever its length (no chunks) */
#define ES_SEARCH_DEEP  4   /* approximate search: re-rank more codes (ES_DEEP_RERANK times the index's count, more
                             * on a large index: es_index_deep_rerank, store.h) */
#define ES_DEEP_RERANK 2

/* Top-k windows by inner product for n query vectors q (n*dim floats, unit length). ids[n*k] receives window
 * indices best first (-1 pads when fewer than k, e.g. for a zero query), scores[n*k] the inner products (may be
 * NULL). Ties are broken by the lower window index, so results are deterministic. Thread-safe (own scratch).
 * Returns 0, or -1 with es_error set. */
int es_index_search(const es_index_t *idx, int n, const float *q, int k, int flags, int64_t *ids, float *scores);

/* ---- reads -> candidate loci (what the aligner calls) ---- */
typedef struct {
	int64_t beg, end;  /* global [beg,end), inside one contig: expected to contain the read's origin (either strand) */
	float score;       /* sum over the read's chunks of the best window score inside the locus (higher is better) */
} es_locus_t;

/* For each of n reads (codes 0..4, seqs[i] of lens[i] bases), up to max_loci candidate loci, best first, into
 * loci[i*max_loci ..], their number into n_loci[i]. A read up to 5/4 of the window length is one query; a longer read
 * is cut into chunks of the window length whose hits vote. Hits are padded by max(0, len-W) + stride on both sides,
 * clipped to their contig and merged when they overlap. A read shorter than 16 bases or mostly N gets 0 loci.
 * enc must be the index's encoder (checked); max_loci 1..ES_CAND_MAX_LOCI. flags: ES_SEARCH_EXACT, ES_CAND_WHOLE,
 * ES_SEARCH_DEEP or 0. Thread-safe. Returns 0, or -1 (es_error). */
#define ES_CAND_MAX_LOCI 65536   /* the most loci per read es_index_candidates accepts */
int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags);
/* As es_index_candidates, with loci[i*wide ..] holding up to wide >= max_loci loci: a read whose list is full and
 * whose max_loci-th locus scores at least 0.9 of its best (a repeat family with more copies than max_loci), or one of
 * whose chunks has its last window at 0.9 of its best (a chunk among more look-alikes than it keeps), is searched
 * again for more (ES_SEARCH_DEEP), and keeps those after the max_loci-th that score at least 0.9 of its best. */
int es_index_candidates_wide(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                             const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci, int flags);

/* ---- pairwise alignment: a read against a candidate region (bwa mem's scoring and end-clipping rule) ---- */
/* Scoring. Penalties are positive numbers that are subtracted; n_score is added as is (signed).
 * A match scores +match, a mismatch -mismatch, any pair with an N scores n_score, a gap of length L costs
 * gap_open + L*gap_ext, and reaching each end of the read earns a bonus of clip_pen (see es_align). */
typedef struct {
	int match;      /* > 0 */
	int mismatch;   /* >= 0 */
	int gap_open;   /* >= 0 */
	int gap_ext;    /* > 0 */
	int n_score;    /* <= 0 usually */
	int clip_pen;   /* >= 0: bonus for an end of the read that is not soft-clipped */
} es_score_t;

typedef struct {
	int score;        /* score of this alignment (its CIGAR) without the end bonuses, for SAM AS:i. Note: bwa mem's
	                   * AS:i is its local extension's maximum, which exceeds the score of the end-to-end CIGAR it
	                   * prints by up to clip_pen-1 per end when it extends through a late mismatch */
	int qbeg, qend;   /* [qbeg,qend): aligned part of the query (qbeg == qend: no alignment, see es_align) */
	int tbeg, tend;   /* [tbeg,tend): aligned part of the target */
	uint32_t *cigar;  /* BAM-encoded len<<4|op (ops: 0 M, 1 I, 2 D, 4 S); S only at the ends, M/I/D inside;
	                   * the aligned part starts and ends with M. Owned; free with es_aln_free */
	int n_cigar;
	int nm;           /* NM:i edit distance of the aligned part (mismatches + inserted + deleted bases) */
	char *md;         /* MD:Z string, NUL-terminated; owned; free with es_aln_free */
} es_aln_t;

/* bwa mem's defaults: match 1, mismatch 4, gap open 6, gap extend 1 (a gap of length L costs 6+L), N -1, clip 5. */
es_score_t es_score_default(void);
/* Free cigar and md and zero the struct (safe on a zeroed struct; the struct itself is the caller's). */
void es_aln_free(es_aln_t *a);
/* Align query q[0,qlen) into target t[0,tlen) (codes 0..4).
 * Objective: local alignment (Smith-Waterman, affine gaps) in which reaching q's first base and reaching q's last
 * base each earn a bonus of clip_pen; target ends are free. So a read end is soft-clipped only if the local
 * alignment beats reaching that end by at least clip_pen — bwa mem's rule (a tie clips, as bwa's
 * "gscore <= score - pen_clip" does). Among alignments of equal objective the one with fewer bonuses wins (so the
 * reported score is always determined); remaining ties are broken deterministically: the end cell is the first
 * column (smallest tend), then the smallest qend; the traceback prefers M, then D, then I, a gap opening over
 * extending, and stops (starts the alignment) as soon as the prefix is worth nothing.
 * The alignment always begins and ends with an M (aligned pair); the score may be negative (e.g. a 1-base
 * alignment with -4 that still earns the bonuses); callers apply their own minimum score.
 * If no alignment has a positive objective (only possible when clip_pen is small), out gets score 0, qbeg=qend=0,
 * tbeg=tend=0, a single qlen S CIGAR operation, nm 0 and md "0".
 * Cost: a full DP of qlen x tlen cells (~5 cells/ns with AVX2) plus 2*qlen*tlen bytes of scratch (malloc'ed per call)
 * for the traceback; scores past 16 bits (reads over ~8 kb with the default scoring) take a slow 32-bit path.
 * On success fills *out (which must not hold a previous result: es_aln_free it first) and returns 0.
 * Returns -1 with es_error set on bad arguments (NULL, qlen or tlen < 1, a code > 4, a scoring value outside
 * [0,1000] (match, gap_ext >= 1; n_score in [-1000, match]), or qlen*tlen > 2^28). Thread-safe. */
int es_align(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out);
/* Score-only version of es_align, for ranking many candidates: the same objective, the same score and tend as
 * es_align would report (tend = end of the aligned target part, exclusive; 0 if no alignment). tend may be NULL.
 * Only ~15-25% cheaper than es_align (the same DP without storing H and the traceback).
 * Returns 0, or -1 with es_error set (same conditions as es_align). */
int es_align_score(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, int *score,
                   int *tend);

/* ---- aligning a read file: reads -> candidate loci -> Smith-Waterman -> SAM/BAM, multi-threaded ---- */
typedef struct {
	int n_threads;      /* mapping threads, 1..ES_MAX_THREADS (thread.h); reading and writing have one more each */
	int max_loci;       /* -K: candidate loci requested from the vector store per read */
	int max_align;      /* at most this many loci are verified by full alignment per read */
	int n_secondary;    /* --secondary: at most this many secondary (0x100) records per read */
	int min_len;        /* reads shorter than this are reported unmapped */
	int min_score;      /* alignments scoring below this are reported unmapped (bwa's -T) */
	int batch_size;     /* reads per batch (single-end results do not depend on it; paired-end: the insert model
	                     * is estimated on the first batch) */
	const char *rg_line;      /* a full "@RG\tID:..." header line (tabs already expanded) or NULL */
	const char *encoder_spec; /* encoder to use; NULL: the one recorded in the index */
	float locus_ratio;  /* loci after the first two are verified only if their similarity >= this * the best's */
	int exact;          /* use exact (brute-force) search instead of the approximate index */
	int nprobe;         /* index with inverted lists: lists scanned per query (0: the index's default) */
	es_score_t sc;
	const char *mate_path;   /* paired-end: the second mates' file (mate i of each file is a pair); NULL: none */
	int interleaved;         /* paired-end: the reads file holds mate 1, mate 2, mate 1, ... (bwa's -p) */
	const char *insert_arg;  /* paired-end: -I MEAN[,SD[,MAX[,MIN]]]; NULL: estimated from the first batch */
	int mapq_features;  /* hidden --mapq-features: an XF:Z tag with the MAPQ model inputs on each primary record */
	int look_mapq;      /* --last-look: a single-end read placed at this MAPQ or lower, or left unmapped, has a
	                     * last look (a search for W x max_loci loci, verified with W x max_align alignments), and takes its result when
	                     * that aligns better; -1: never [3] */
	int look_widen;     /* --look-widen: W of the last look, 1..16; 0: by the index's size (es_map_look_widen: 4 up to
	                     * 3 M windows, 16 from 12 M on) [0] */
	int no_lowc;        /* --no-lowc-seeds: low-complexity reads get no loci from the index's exact seeds of the
	                     * reference's low-complexity stretches (for comparison) [0] */
} es_map_opt_t;

/* The stages of mapping whose CPU time es_map_file reports (es_map_stats_t.stage_cpu, seconds over all threads). */
enum { ES_STAGE_PARSE, ES_STAGE_EMBED, ES_STAGE_SEARCH, ES_STAGE_VERIFY, ES_STAGE_FORMAT, ES_N_STAGES };

typedef struct {
	int64_t n_reads, n_mapped, n_unmapped_short;
	int64_t n_looked, n_look_better;   /* single-end: reads given the last look (look_mapq), and those it aligned
	                                    * better */
	int64_t n_low, n_deep;             /* single-end: reads of low score after the first search, and those of them
	                                    * given the full deeper search (aligned poorly at their first loci) */
	double seconds;
	/* CPU seconds of each stage, all threads: parsing reads, embedding and searching them (es_index_candidates),
	 * formatting records (building and writing them), and verify: everything else the mapping threads do
	 * (locating, Smith-Waterman, choosing, MAPQ, pairing) */
	double stage_cpu[ES_N_STAGES];
} es_map_stats_t;

/* The defaults of `esalign align`. */
void es_map_opt_init(es_map_opt_t *opt);
/* Align every read of reads_path ("-" for stdin) against the index and write SAM (or BAM when out_path ends in
 * ".bam") to out_path ("-" for stdout), in input order, byte-identical for any n_threads (1..ES_MAX_THREADS, which is
 * 64, checked before anything is opened). Reading, mapping and writing run as a pipeline (src/pipeline.c) and a
 * progress line per batch goes to stderr at verbosity 2. The output is written to a temporary name and renamed on
 * success (stdout, a device or a FIFO are written in place); every write is checked and on any error nothing is left
 * behind. htslib's own log lines are off while the output is open (its failures come back as es_error). cmdline goes
 * into @PG CL:. stats (not NULL) receives the number of reads, of mapped reads and of reads too short to map, and the
 * seconds taken. Returns 0 or -1 (es_error set: the first error, naming the file). */
int es_map_file(const char *index_path, const char *reads_path, const char *out_path, const es_map_opt_t *opt,
                const char *cmdline, es_map_stats_t *stats);
#endif
