/* align_kern.h — private to align.c, align_ref.c, align_simd.c and the tests: the scaled scoring the DP fill kernels
 * take, the layout of the matrix they fill, the kernels themselves (scalar; striped 16-bit SIMD per instruction set)
 * and es_align with a chosen kernel. Nothing else may include it; the alignment API is align.h (and esalign.h). */
#ifndef ES_ALIGN_KERN_H
#define ES_ALIGN_KERN_H
#include <stdint.h>
#include "align.h"

/* Scores scaled by ES_SW_K so that the end bonus clip_pen*K-1 makes an alignment with fewer bonuses win a tie
 * (objective K*(score + clip_pen*nb) - nb for nb bonuses, nb <= 2 < K). */
#define ES_SW_K 4
typedef struct {
	int mat[25];    /* scaled score of query code a against target code b: mat[a*5+b] */
	int oe, ge;     /* scaled gap open+extend, extend */
	int bonus;      /* scaled end bonus: clip_pen*K - 1 (>= 0) */
} es_swp_t;

/* A filled DP: H[i][j], the best objective of an alignment ending with cell (i,j) (floored at 0), for query rows i
 * in [0,qlen) and target columns j in [-1,tlen) (column -1 holds 0), in the "striped" layout of a kernel with w lanes
 * and seglen segments: cell (i,j) is at [(j+1)*seglen*w + (i%seglen)*w + i/seglen]; w=1, seglen=qlen is plain
 * column-major. Only H is kept: the traceback recovers gaps from H alone. */
typedef struct {
	const int32_t *H32;  /* the scalar kernel's matrix (or NULL) */
	const int16_t *H16;  /* a SIMD kernel's matrix (or NULL) */
	int w, seglen;
	int best, bi, bj;    /* scaled best objective (> 0 if any alignment), its cell (bi: -1 when H was not kept) */
} es_swmat_t;

/* Fill kernels. With H NULL only best and bj are computed (score only); otherwise H must hold (tlen+1)*seglen*w
 * elements (es_sw_*_seglen gives seglen; SIMD kernels want H 64-byte aligned). Return 0, or -1 if a 16-bit kernel
 * cannot hold the scores (the caller falls back to the 32-bit scalar kernel). The SIMD kernels are one source,
 * align_simd.c, compiled once per instruction set. */
int es_sw_scalar(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int32_t *H, es_swmat_t *m);
int es_sw_avx2_seglen(int qlen);
int es_sw_avx2(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H, es_swmat_t *m);
int es_sw_avx512_seglen(int qlen);
int es_sw_avx512(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H,
                 es_swmat_t *m);

/* es_align / es_align_score with a chosen kernel (0 scalar, 1 avx2, 2 avx512; -1 the automatic choice). A kernel the
 * CPU lacks gives -1 with es_error. For the tests and benchmarks. */
int es_align_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                  es_aln_t *out);
int es_align_score_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                        int *score, int *tend);
/* 1 if the CPU can run that kernel. */
int es_align_has_kernel(int kernel);
#endif
