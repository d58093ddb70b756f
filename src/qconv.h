/* qconv.h — private: the int8 inference of one valid 1-D convolution (the encoder's conv layer after the first ReLU).
 * Activations are unsigned 7-bit (0..127), weights signed int8 (-127..127), sums int32, so the AVX2 vpmaddubsw pair
 * sum cannot saturate (2 * 127 * 127 < 32767) and AVX-512 VNNI vpdpbusd gives the same integers: every kernel is
 * bit-identical to the scalar twin (tested). Training never comes here; it stays float (nn.c). */
#ifndef ES_QCONV_H
#define ES_QCONV_H
#include <stdint.h>
#include <stddef.h>

struct es_qconv_s;
/* The kernels of one instruction set; every set computes the same bytes and floats.
 * conv: out (To, q->OC) floats from the u8 activations a, where the input row of position t is the q->K contiguous
 *   bytes a + t*stride (a valid conv of k taps over C channels with stride s: K = k*C, stride = s*C; no im2col), from
 *   q's w8 (or, AVX2, its paired copy w8p); out[t][o] = fmaf((float)acc[t][o], sw[o], b[o]), acc the exact int32
 *   sum: one rounding (an FMA) in every set.
 * quant: a8 (T, C) = min(127, round-half-up(max(0, inp[t][c] * inv_sa[c]))) (NaN gives 0). */
typedef void (*es_qconv_fn)(const struct es_qconv_s *q, float *out, const uint8_t *a, int To, int stride);
typedef void (*es_qquant_fn)(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C);
typedef struct {
	es_qconv_fn conv;
	es_qquant_fn quant;
	const char *name;  /* "scalar", "avx2", "avx512vnni" */
} es_qconv_kern_t;
void es_qconv_scalar(const struct es_qconv_s *q, float *out, const uint8_t *a, int To, int stride);
void es_qconv_avx2(const struct es_qconv_s *q, float *out, const uint8_t *a, int To, int stride);
void es_qconv_avx512(const struct es_qconv_s *q, float *out, const uint8_t *a, int To, int stride);
void es_qquant_scalar(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C);
void es_qquant_avx2(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C);
void es_qquant_avx512(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C);
/* The kernels of level 0 (scalar), 1 (AVX2 + FMA) or 2 (AVX-512 F/BW/VL/DQ + VNNI), or NULL where this CPU lacks
 * them. */
const es_qconv_kern_t *es_qconv_kernels(int level);
/* The best level this CPU runs; ES_SIMD=scalar|avx2 caps it (as for the vector-store scans, ann.c). */
int es_qconv_best_level(void);

/* A quantised conv layer, prepared once (es_qconv_new) and read-only after, so threads share it. */
typedef struct es_qconv_s {
	int C, OC, k, s, K;    /* input channels, outputs, kernel, stride; K = k*C */
	float *inv_sa;         /* (C) 1/sa[c]: activation c is quantised as min(127, round(x[c] / sa[c])) */
	int8_t *w8;            /* [K/4][OC][4] the weights times sa of their input channel, over sw of their output;
	                        * 4 consecutive input rows of one output side by side (a group), vpdpbusd's operand */
	/* AVX2 (no VNNI): vpmaddubsw gives int16 sums of 2 products (at most 2 * 127 * 127, no saturation); two groups
	 * whose int16 sums together cannot leave int16 for any output (127 * the sum of their 4 |w| per int16 lane
	 * <= 32767) are added in int16 before the one vpmaddwd that widens them: 3 multiplies per 8 rows instead of 4 */
	int npair;             /* pairs of groups, gord[0, 2*npair); the other groups one at a time, gord[2*npair, K/4) */
	int32_t *gord;         /* [K/4] the groups in the AVX2 order */
	int8_t *w8p;           /* [K/4][OC][4] w8's groups in gord order */
	float *sw;             /* (OC) the scale of an output's int32 sum */
	float *b;              /* (OC) bias */
	const es_qconv_kern_t *kern;  /* the kernels es_qconv_forward runs (es_qconv_best_level) */
} es_qconv_t;

/* A layer from weights already in int8 (w8 [K/4][OC][4], sw and b (OC), copied), for tests and es_qconv_new; inv_sa
 * left at 1. NULL if not es_qconv_eligible. */
es_qconv_t *es_qconv_wrap(const int8_t *w8, const float *sw, const float *b, int C, int OC, int k, int s);
/* 1 if (C, OC, k) suits the kernels (k*C % 4 == 0, OC % 16 == 0), else 0. */
int es_qconv_eligible(int C, int OC, int k);
/* Quantise the float conv w (k*C, OC) (nn.h layout: row j*C+c), b (OC), for inputs whose channel c lies in
 * [0, amax[c]] (a larger value saturates to 127). NULL if not es_qconv_eligible. Free with es_qconv_free. */
es_qconv_t *es_qconv_new(const float *w, const float *b, const float *amax, int C, int OC, int k, int s);
void es_qconv_free(es_qconv_t *q);
/* Forward: out (To, OC), To = es_nn_conv_outlen(T, k, s), from inp (T, C); a8 is T*C bytes of scratch. */
void es_qconv_forward(const es_qconv_t *q, float *out, uint8_t *a8, const float *inp, int T);
#endif
