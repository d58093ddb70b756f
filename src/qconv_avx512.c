/* qconv_avx512.c — the int8 conv kernel and the activation quantiser with AVX-512 (qconv.h). The kernel: one VNNI
 * vpdpbusd adds 4 u8 x s8 products into each of 16 int32 outputs; a tile is 4 positions x 64 outputs: 16 zmm
 * accumulators, and each weight register (loaded once per 4 input rows) serves the 4 positions. Twins of
 * es_qconv_scalar and es_qquant_scalar (qconv.c): integer sums are exact, and the one FMA per output rounds as fmaf
 * does, so the outputs are bit-identical. Built with -mavx512vnni (Makefile). */
#include "qconv.h"
#include <immintrin.h>
#include <string.h>

#define TILE_P 4   /* positions per tile: 4P accumulators + 4 weights + a broadcast stay within the 32 zmm */

/* acc += the 4-byte dot products of u8 x and s8 w per int32 lane. As inline asm because GCC 12 register-allocates
 * _mm512_dpbusd_epi32 in a loop badly: it copied all 16 accumulators to other registers and back every iteration
 * (two moves per vpdpbusd; measured 27 us against 20 us for 234 positions x 288 inputs x 64 outputs). */
static inline __m512i dpbusd(__m512i acc, __m512i x, __m512i w)
{
	__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "vm"(w));
	return acc;
}

/* Outputs o0..o0+16*NB of positions t..t+P-1 (out and a already at position t). P and NB are constants at every
 * call, so the accumulator arrays become registers. */
static inline __attribute__((always_inline)) void tile(float *out, const uint8_t *a, int stride, const int8_t *w8,
                                                       const float *sw, const float *b, int K, int OC, int o0,
                                                       int P, int NB)
{
	__m512i acc[TILE_P][4];
#pragma GCC unroll 4
	for (int p = 0; p < P; p++)
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++)
			acc[p][j] = _mm512_setzero_si512();
	const int8_t *wg = w8 + (size_t)o0 * 4;
	for (int r = 0; r < K; r += 4, wg += (size_t)OC * 4) {
		__m512i w[4];
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++)
			w[j] = _mm512_loadu_si512(wg + 64 * j);  /* [r/4][o0+16j .. +16][4] */
#pragma GCC unroll 4
		for (int p = 0; p < P; p++) {
			int32_t v;
			memcpy(&v, a + (size_t)p * stride + r, 4);  /* rows r..r+3 of position p, to every lane */
			__m512i x = _mm512_set1_epi32(v);
#pragma GCC unroll 4
			for (int j = 0; j < NB; j++)
				acc[p][j] = dpbusd(acc[p][j], x, w[j]);
		}
	}
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++) {
		__m512 s = _mm512_loadu_ps(sw + o0 + 16 * j);
		__m512 bb = _mm512_loadu_ps(b + o0 + 16 * j);
#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			_mm512_storeu_ps(out + (size_t)p * OC + o0 + 16 * j,
			                 _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[p][j]), s, bb));
	}
}

/* All OC outputs of P positions: blocks of 64, then of 16 (OC % 16 == 0). */
static inline __attribute__((always_inline)) void positions(float *out, const uint8_t *a, int stride,
                                                            const int8_t *w8, const float *sw, const float *b, int K,
                                                            int OC, int P)
{
	int o0 = 0;
	for (; o0 + 64 <= OC; o0 += 64)
		tile(out, a, stride, w8, sw, b, K, OC, o0, P, 4);
	for (; o0 < OC; o0 += 16)
		tile(out, a, stride, w8, sw, b, K, OC, o0, P, 1);
}

void es_qconv_avx512(const es_qconv_t *q, float *out, const uint8_t *a, int To, int stride)
{
	const int8_t *w8 = q->w8;
	const float *sw = q->sw, *b = q->b;
	int K = q->K, OC = q->OC;
	int t = 0;
	for (; t + TILE_P <= To; t += TILE_P)
		positions(out + (size_t)t * OC, a + (size_t)t * stride, stride, w8, sw, b, K, OC, TILE_P);
	for (; t < To; t++)
		positions(out + (size_t)t * OC, a + (size_t)t * stride, stride, w8, sw, b, K, OC, 1);
}

/* 16 channels per step; the operations of es_qquant_scalar in its order (maxps(v, 0) gives 0 for NaN, as the twin's
 * v > 0 ? v : 0; cvttps2dq truncates as the C cast), so the bytes are the same. A row's last C % 16 channels go to
 * the twin. */
void es_qquant_avx512(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C)
{
	const __m512 zero = _mm512_setzero_ps();
	const __m512 top = _mm512_set1_ps(127.0f);
	const __m512 half = _mm512_set1_ps(0.5f);
	for (int t = 0; t < T; t++) {
		const float *x = inp + (size_t)t * C;
		uint8_t *o = a8 + (size_t)t * C;
		int c = 0;
		for (; c + 16 <= C; c += 16) {
			__m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(inv_sa + c));
			v = _mm512_min_ps(_mm512_max_ps(v, zero), top);
			__m512i iv = _mm512_cvttps_epi32(_mm512_add_ps(v, half));
			_mm_storeu_si128((__m128i *)(o + c), _mm512_cvtepi32_epi8(iv));  /* 0..127: the low byte */
		}
		if (c < C)
			es_qquant_scalar(o + c, x + c, inv_sa + c, 1, C - c);
	}
}
