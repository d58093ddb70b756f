/* simulate.h — simulated reads with their true origin in the read name, and the pure mutation function the trainer
 * uses to make (read, reference window) pairs. Coordinates are 0-based half-open [beg,end); codes A=0 C=1 G=2 T=3
 * N=4. */
#ifndef ES_SIMULATE_H
#define ES_SIMULATE_H
#include <stdint.h>
#include <stdio.h>
#include "util.h"
#include "seqio.h"

/* Per-reference-base error rates. An indel's length is 1 + a geometric number of extensions, each taken with
 * probability indel_ext: mean length 1/(1-indel_ext), so indel_ext = 1/3 gives a mean of 1.5 bases. */
typedef struct {
	double sub;        /* substitution probability per copied base, [0,1] */
	double ins;        /* probability of an insertion before a reference base (not before the first), [0,1) */
	double del;        /* probability of a deletion before a reference base (not before the first), [0,1) */
	double indel_ext;  /* extension probability of an indel, [0,1) */
} es_sim_err_t;

/* Default indel extension probability (mean indel length 1.5). */
#define ES_SIM_INDEL_EXT (1.0 / 3.0)

/* Draw a read of exactly read_len codes from the reference codes src[0..src_len), read left to right, with
 * substitutions, insertions and deletions at the rates of err. The first read base always comes from src[0]
 * (no indel before it), so the read's alignment starts at src[0]. N (4) in src is copied as N unless substituted.
 * Pure: depends only on its arguments and the state of rng (advanced). out must hold read_len bytes.
 * src_used (may be NULL) receives the number of reference bases consumed, including deleted ones; the last
 * consumed base was copied (a deletion is always followed by a copy) unless the read ended inside an insertion.
 * Returns 0, or -1 if src ran out before read_len bases were made (out is then partly written; retry with a
 * longer src — read_len + read_len/8 + 32 is ample for rates up to a few %). */
int es_sim_mutate(const uint8_t *src, int src_len, int read_len, const es_sim_err_t *err, es_rng_t *rng,
                  uint8_t *out, int *src_used);

/* Options of es_sim_reads. Initialise with es_sim_opt_init. */
typedef struct {
	int64_t n_reads;      /* number of reads, default 10000 */
	int read_len;         /* bases per read, default 250 */
	es_sim_err_t err;     /* default sub 0.01, ins 0.0005, del 0.0005, indel_ext ES_SIM_INDEL_EXT */
	uint64_t seed;        /* default 11 */
	const char *region;   /* NULL = whole reference; else "CONTIG", or "CONTIG:BEG-END" 0-based half-open (not owned) */
	double max_n_frac;    /* an origin whose reference span holds more than this fraction of N is redrawn; default 0 */
	char qual_char;       /* quality character, default 'I' (Q40); every 17th base is '?' so qualities are not flat */
} es_sim_opt_t;
void es_sim_opt_init(es_sim_opt_t *opt);

/* Write opt->n_reads FASTQ records to fq. Origins are uniform over the valid start positions of the reference (or of
 * the region): a read's reference span lies inside one contig (and inside the region). Strand is + or - with
 * probability 1/2; a '-' read is the reverse complement of the mutated forward fragment. The read name is
 * s<ID>!<CONTIG>!<POS>!<STRAND>: ID counts from 0, POS is the 0-based leftmost reference position of the read's
 * alignment (the first base of the fragment on the forward strand, whatever the strand). Reproducible for a seed.
 * Returns 0, or -1 with es_error set (bad region, reference or region too short or too full of N, write error). */
int es_sim_reads(const es_ref_t *ref, const es_sim_opt_t *opt, FILE *fq);

/* Parse a region "CONTIG" or "CONTIG:BEG-END", 0-based half-open: es_region_parse (region.h) under its older name,
 * the same rule and results. The suffix after the last ':' is taken as BEG-END only when it is two numbers joined by
 * '-' (commas in numbers are ignored); otherwise the ':' belongs to the contig name (e.g. HLA-A*01:01). *contig is
 * malloc'ed (caller frees); "CONTIG" alone gives beg 0, end -1 (to its end).
 * Returns 0, or -1 with es_error set (empty name, beg >= end, malformed numbers). */
int es_sim_region_parse(const char *s, char **contig, int64_t *beg, int64_t *end);

/* Parse a simulated read name s<ID>!<CONTIG>!<POS>!<STRAND> from the right (the contig may contain '!').
 * A trailing "/1" or "/2" is ignored. On success *contig points into name (not NUL-terminated: *contig_len bytes),
 * *pos is the 0-based position and *strand is '+' or '-'. Returns 0, or -1 if name is not of that form. */
int es_sim_name_parse(const char *name, const char **contig, int *contig_len, int64_t *pos, char *strand);
#endif
