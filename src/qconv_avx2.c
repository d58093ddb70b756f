/* qconv_avx2.c — the int8 conv kernel and the activation quantiser with AVX2 (qconv.h), for CPUs without VNNI.
 * vpmaddubsw multiplies u8 x s8 and adds pairs to int16 (no saturation: activations are 7-bit, 2 * 127 * 127 <
 * 32767), vpmaddwd by ones adds the two pairs of each group of 4 rows to int32, as vpdpbusd does. A tile is one
 * position x 32 outputs (4 ymm accumulators, a weight vector loaded per product: 18 KB of weights stay in L1). Twins of
 * es_qconv_scalar and es_qquant_scalar (qconv.c): exact integer sums and one FMA per output, so bit-identical. */
#include "qconv.h"
#include <immintrin.h>
#include <string.h>

#define TILE_P 1

/* Outputs o0..o0+8*NB of positions t..t+P-1 (out and a already at position t); P, NB constants at every call. */
static inline __attribute__((always_inline)) void tile(float *out, const uint8_t *a, int stride, const int8_t *w8,
                                                       const float *sw, const float *b, int K, int OC, int o0,
                                                       int P, int NB)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i acc[TILE_P][4];
#pragma GCC unroll 4
	for (int p = 0; p < P; p++)
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++)
			acc[p][j] = _mm256_setzero_si256();
	const int8_t *wg = w8 + (size_t)o0 * 4;
	/* one position per tile (TILE_P): tiles of 2 positions shared each weight load between them, but left GCC 8
	 * accumulators, 4 weights, 2 broadcasts and the temporaries in 16 registers; it spilled an accumulator to the
	 * stack and back on every step. One position: 242 positions x 64 outputs x 288 rows 70.6 -> 49.3 us per call
	 * (Zen 3, min of 8 x 4,000 calls); embedding 20,000 250 bp reads 0.95x the CPU (median of 11 pairs) */
	for (int r = 0; r < K; r += 4, wg += (size_t)OC * 4) {
		__m256i x[TILE_P];
#pragma GCC unroll 2
		for (int p = 0; p < P; p++) {
			int32_t v;
			memcpy(&v, a + (size_t)p * stride + r, 4);
			x[p] = _mm256_set1_epi32(v);
		}
#pragma GCC unroll 4
		for (int j = 0; j < NB; j++) {
			__m256i w = _mm256_loadu_si256((const __m256i *)(wg + 32 * j));  /* [r/4][o0+8j .. +8][4] */
#pragma GCC unroll 2
			for (int p = 0; p < P; p++) {
				__m256i pair = _mm256_maddubs_epi16(x[p], w);  /* x unsigned, w signed */
				acc[p][j] = _mm256_add_epi32(acc[p][j], _mm256_madd_epi16(pair, ones));
			}
		}
	}
#pragma GCC unroll 4
	for (int j = 0; j < NB; j++) {
		__m256 s = _mm256_loadu_ps(sw + o0 + 8 * j);
		__m256 bb = _mm256_loadu_ps(b + o0 + 8 * j);
#pragma GCC unroll 2
		for (int p = 0; p < P; p++)
			_mm256_storeu_ps(out + (size_t)p * OC + o0 + 8 * j,
			                 _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[p][j]), s, bb));
	}
}

/* All OC outputs of P positions: blocks of 32, then one of 16 (OC % 16 == 0). */
static inline __attribute__((always_inline)) void positions(float *out, const uint8_t *a, int stride,
                                                            const int8_t *w8, const float *sw, const float *b, int K,
                                                            int OC, int P)
{
	int o0 = 0;
	for (; o0 + 32 <= OC; o0 += 32)
		tile(out, a, stride, w8, sw, b, K, OC, o0, P, 4);
	if (o0 < OC)
		tile(out, a, stride, w8, sw, b, K, OC, o0, P, 2);
}

/* The loops over positions and output blocks mirror qconv_avx512.c's; the tiles under them differ in every
 * instruction, so the two files stay apart, as ann_avx2.c and ann_avx512.c do. */
void es_qconv_avx2(float *out, const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw,
                   const float *b, int K, int OC)
{
	int t = 0;
	for (; t + TILE_P <= To; t += TILE_P)
		positions(out + (size_t)t * OC, a + (size_t)t * stride, stride, w8, sw, b, K, OC, TILE_P);
	for (; t < To; t++)
		positions(out + (size_t)t * OC, a + (size_t)t * stride, stride, w8, sw, b, K, OC, 1);
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
