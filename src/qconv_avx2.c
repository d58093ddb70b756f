/* qconv_avx2.c — the int8 conv kernel and the activation quantiser with AVX2 (qconv.h), for CPUs without VNNI.
 * vpmaddubsw multiplies u8 x s8 and adds pairs to int16 (no saturation: activations are 7-bit, 2 * 127 * 127 <
 * 32767), vpmaddwd by ones adds the two pairs of each group of 4 rows to int32, as vpdpbusd does. A tile is one
 * position x 32 outputs (4 ymm accumulators, a weight vector loaded per product: 18 KB of weights stay in L1). Twins of
 * es_qconv_scalar and es_qquant_scalar (qconv.c): exact integer sums and one FMA per output, so bit-identical. */
#include "qconv.h"
#include <immintrin.h>
#include <string.h>

/* Outputs o0..o0+8*NB of one position (out and a already at it; NB a constant at every call): the pairs of groups
 * of q's AVX2 order (w8p, gord), each pair's two vpmaddubsw added in int16 before the one vpmaddwd (qconv.h: no lane
 * can leave int16), then its single groups as vpdpbusd would take them. One position per tile: tiles of 2 positions
 * shared each weight load between them but left GCC 8 accumulators, 4 weights, 2 broadcasts and the temporaries in
 * 16 registers, and it spilled an accumulator to the stack and back on every step (242 positions x 64 outputs x 288
 * rows, Zen 3: 70.6 us per call with 2 positions, 49.3 with one, ... with the pairs). */
static inline __attribute__((always_inline)) void tile(const es_qconv_t *q, float *out, const uint8_t *a, int o0,
                                                       int NB)
{
	const __m256i ones = _mm256_set1_epi16(1);
	const int OC = q->OC, G = q->K / 4;
	__m256i acc[4];
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++)
		acc[j] = _mm256_setzero_si256();
	const int8_t *wg = q->w8p + (size_t)o0 * 4;
	const size_t gstep = (size_t)OC * 4;
	int i = 0;
	for (; i < 2 * q->npair; i += 2, wg += 2 * gstep) {
		int32_t v0, v1;
		memcpy(&v0, a + 4 * q->gord[i], 4);
		memcpy(&v1, a + 4 * q->gord[i + 1], 4);
		__m256i x0 = _mm256_set1_epi32(v0), x1 = _mm256_set1_epi32(v1);
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++) {
			__m256i p0 = _mm256_maddubs_epi16(x0, _mm256_loadu_si256((const __m256i *)(const void *)(wg + 32 * j)));
			__m256i p1 = _mm256_maddubs_epi16(x1,
			                                  _mm256_loadu_si256((const __m256i *)(const void *)(wg + gstep + 32 * j)));
			acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones));
		}
	}
	for (; i < G; i++, wg += gstep) {
		int32_t v;
		memcpy(&v, a + 4 * q->gord[i], 4);
		__m256i x = _mm256_set1_epi32(v);
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++) {
			__m256i p = _mm256_maddubs_epi16(x, _mm256_loadu_si256((const __m256i *)(const void *)(wg + 32 * j)));
			acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(p, ones));
		}
	}
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++) {
		__m256 s = _mm256_loadu_ps(q->sw + o0 + 8 * j);
		__m256 bb = _mm256_loadu_ps(q->b + o0 + 8 * j);
		_mm256_storeu_ps(out + o0 + 8 * j, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[j]), s, bb));
	}
}

/* The loops over positions and output blocks (32, then one of 16: OC % 16 == 0) mirror qconv_avx512.c's; the tiles
 * under them differ in every instruction, so the two files stay apart, as ann_avx2.c and ann_avx512.c do. */
void es_qconv_avx2(const es_qconv_t *q, float *out, const uint8_t *a, int To, int stride)
{
	for (int t = 0; t < To; t++) {
		float *y = out + (size_t)t * q->OC;
		const uint8_t *x = a + (size_t)t * stride;
		int o0 = 0;
		for (; o0 + 32 <= q->OC; o0 += 32)
			tile(q, y, x, o0, 4);
		if (o0 < q->OC)
			tile(q, y, x, o0, 2);
	}
}

/* 8 channels per step; the operations of es_qquant_scalar in its order (maxps(v, 0) gives 0 for NaN, as the twin's
 * v > 0 ? v : 0; cvttps2dq truncates as the C cast), so the bytes are the same. A row's last C % 8 channels go to
 * the twin. */
void es_qquant_avx2(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C)
{
	const __m256 zero = _mm256_setzero_ps();
	const __m256 top = _mm256_set1_ps(127.0f);
	const __m256 half = _mm256_set1_ps(0.5f);
	for (int t = 0; t < T; t++) {
		const float *x = inp + (size_t)t * C;
		uint8_t *o = a8 + (size_t)t * C;
		int c = 0;
		for (; c + 8 <= C; c += 8) {
			__m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(inv_sa + c));
			v = _mm256_min_ps(_mm256_max_ps(v, zero), top);
			__m256i iv = _mm256_cvttps_epi32(_mm256_add_ps(v, half));
			/* 8 x int32 in 0..127 -> 8 bytes (no saturation can occur) */
			__m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(iv), _mm256_extracti128_si256(iv, 1));
			_mm_storel_epi64((__m128i *)(o + c), _mm_packus_epi16(w16, w16));
		}
		if (c < C)
			es_qquant_scalar(o + c, x + c, inv_sa + c, 1, C - c);
	}
}
