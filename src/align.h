/* align.h — pairwise alignment of a read into a candidate reference region: Smith-Waterman with bwa mem's scoring
 * and end-clipping rule, CIGAR, NM and MD:Z. A SIMD (AVX2, striped 16-bit) kernel with a scalar twin (align_ref.c);
 * the fill kernels and their matrix layout are in align_kern.h (private to align*.c and the tests).
 * Sequences are codes 0..4 (A C G T N, seqio.h). Coordinates are 0-based half-open [beg,end). */
#ifndef ES_ALIGN_H
#define ES_ALIGN_H
#include <stdint.h>

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

/* bwa mem's defaults: match 1, mismatch 4, gap open 6, gap extend 1 (a gap of length L costs 6+L), N -1, clip 5. */
es_score_t es_score_default(void);

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

/* NM and MD:Z of an alignment (SAM spec). cigar: BAM-encoded (M,=,X,I,D,S,H,N,P accepted; S/H/P skipped;
 * N (ref skip) counts neither in NM nor MD); q: the whole query (S bases are skipped through); t: the target from
 * the first aligned base (tbeg). A pair is a match only if both bases are equal and not N (samtools calmd's rule);
 * a mismatch is written as the target base (N for code 4).
 * Either of nm and md may be NULL. *md is malloc'ed; the caller frees it. Returns 0, or -1 with es_error on an
 * unknown CIGAR operation. */
int es_aln_nm_md(const uint32_t *cigar, int n_cigar, const uint8_t *q, const uint8_t *t_from_tbeg, int *nm,
                 char **md);

/* bwa mem's AS:i for an alignment from es_align: the best score of a contiguous stretch of its columns (bwa reports
 * its local extension's maximum even where it prints an end-to-end CIGAR). >= a->score when that is >= 0, and
 * equal when no end was extended through a loss. q, t: as given to es_align (the whole target). On bwa's own
 * placements of 20,000 simulated 250 bp human reads (mason) this equals bwa's AS:i for 99.95%, vs 93.9% for
 * a->score. Returns 0 for an empty alignment. */
int es_aln_local_score(const es_aln_t *a, const uint8_t *q, const uint8_t *t, const es_score_t *sc);

/* Which kernel es_align uses: "avx2", "avx512" or "scalar". */
const char *es_align_kernel(void);
#endif
