/* align.h — pairwise alignment of a read into a candidate reference region: Smith-Waterman with bwa mem's scoring
 * and end-clipping rule, CIGAR, NM and MD:Z. Striped 16-bit SIMD fill kernels (align_simd.c, compiled for AVX2 and
 * AVX-512) with a scalar twin (align_ref.c); the kernels and their matrix layout are in align_kern.h (private to
 * align*.c and the tests). The public part (es_score_t, es_aln_t, es_align, es_align_score) is in esalign.h.
 * Sequences are codes 0..4 (A C G T N, seqio.h). Coordinates are 0-based half-open [beg,end). */
#ifndef ES_ALIGN_H
#define ES_ALIGN_H
#include <stdint.h>
#include <stddef.h>
#include "esalign.h"   /* es_score_t, es_aln_t, es_score_default, es_aln_free, es_align, es_align_score */

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
/* Reusable scratch of es_align_into: the DP matrix memory of the last call, grown as needed; one per thread (a
 * malloc per alignment fragments the heap of a long run). Zero-initialise it; free with es_align_buf_free. */
typedef struct {
	void *p;      /* 64-byte aligned */
	size_t cap;   /* bytes */
} es_align_buf_t;
void es_align_buf_free(es_align_buf_t *buf);
/* es_align with buf's memory for the matrix instead of a malloc per call; the same results. */
int es_align_into(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out,
                  es_align_buf_t *buf);
#endif
