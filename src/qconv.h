/* qconv.h — private: the int8 inference of one valid 1-D convolution (the encoder's conv layer after the first ReLU).
 * Activations are unsigned 7-bit (0..127), weights signed int8 (-127..127), sums int32, so the AVX2 vpmaddubsw pair
 * sum cannot saturate (2 * 127 * 127 < 32767) and AVX-512 VNNI vpdpbusd gives the same integers: every kernel is
 * bit-identical to the scalar twin (tested). Training never comes here; it stays float (nn.c). */
#ifndef ES_QCONV_H
#define ES_QCONV_H
#include <stdint.h>
#include <stddef.h>

/* The kernels of one instruction set; every set computes the same bytes and floats.
 * conv: out (To, OC) floats from the u8 activations a, where the input row of position t is the K contiguous bytes
 *   a + t*stride (a valid conv of k taps over C channels with stride s: K = k*C, stride = s*C; no im2col).
 *   w8 [K/4][OC][4]: 4 consecutive input rows of one output side by side, the operand of vpdpbusd.
 *   out[t][o] = fmaf((float)acc[t][o], sw[o], b[o]), acc the exact int32 sum: one rounding (an FMA) in every set.
 *   Requires K % 4 == 0 and OC % 16 == 0.
 * quant: a8 (T, C) = min(127, round-half-up(max(0, inp[t][c] * inv_sa[c]))) (NaN gives 0). */
typedef void (*es_qconv_fn)(float *out, const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw,
                            const float *b, int K, int OC);
typedef void (*es_qquant_fn)(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C);
typedef struct {
	es_qconv_fn conv;
	es_qquant_fn quant;
	const char *name;  /* "scalar", "avx2", "avx512vnni" */
} es_qconv_kern_t;
void es_qconv_scalar(float *out, const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw,
                     const float *b, int K, int OC);
void es_qconv_avx2(float *out, const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw,
                   const float *b, int K, int OC);
void es_qconv_avx512(float *out, const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw,
                     const float *b, int K, int OC);
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
	int8_t *w8;            /* [K/4][OC][4] the weights times sa of their input channel, over sw of their output */
	float *sw;             /* (OC) the scale of an output's int32 sum */
	float *b;              /* (OC) bias */
	const es_qconv_kern_t *kern;  /* the kernels es_qconv_forward runs (es_qconv_best_level) */
} es_qconv_t;

/* 1 if (C, OC, k) suits the kernels (k*C % 4 == 0, OC % 16 == 0), else 0. */
int es_qconv_eligible(int C, int OC, int k);
/* Quantise the float conv w (k*C, OC) (nn.h layout: row j*C+c), b (OC), for inputs whose channel c lies in
 * [0, amax[c]] (a larger value saturates to 127). NULL if not es_qconv_eligible. Free with es_qconv_free. */
es_qconv_t *es_qconv_new(const float *w, const float *b, const float *amax, int C, int OC, int k, int s);
void es_qconv_free(es_qconv_t *q);
/* Forward: out (To, OC), To = es_nn_conv_outlen(T, k, s), from inp (T, C); a8 is T*C bytes of scratch. */
void es_qconv_forward(const es_qconv_t *q, float *out, uint8_t *a8, const float *inp, int T);
#endif
