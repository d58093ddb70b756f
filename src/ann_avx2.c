/* ann_avx2.c — the Hamming scan with AVX2: 4 windows per step, popcount by nibble lookup (vpshufb) and vpsadbw
 * (Mula's method), for CPUs without AVX-512 VPOPCNTDQ. Twin of es_hamscan_scalar (ann.c). The loop has the shape of
 * es_hamscan_avx512 but not its operations (a nibble-table popcount, a movemask instead of mask registers), so the two
 * are separate sources, not one source compiled per instruction set as align_simd.c is. */
#include "ann.h"
#include <immintrin.h>
#include <pthread.h>

static inline __m256i popcnt256(__m256i v)
{
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
	                                     0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
	__m256i cnt = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
	return _mm256_sad_epu8(cnt, _mm256_setzero_si256());  /* four 64-bit sums */
}

void es_hamscan_avx2(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                     es_hamq_t *st)
{
	__m256i qv[8];
	for (int j = 0; j < nw && j < 8; j++)
		qv[j] = _mm256_set1_epi64x((long long)q[j]);
	__m256i thrv = _mm256_set1_epi64x(st->thr);
	int64_t i = beg;
	for (; i + 4 <= end; i += 4) {
		__m256i acc = popcnt256(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(codes + i)), qv[0]));
		for (int j = 1; j < nw; j++) {
			__m256i c = _mm256_loadu_si256((const __m256i *)(codes + (int64_t)j * n_total + i));
			acc = _mm256_add_epi64(acc, popcnt256(_mm256_xor_si256(c, qv[j])));
		}
		int m = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(thrv, acc)));
		if (m) {
			uint64_t d[4];
			_mm256_storeu_si256((__m256i *)d, acc);
			while (m) {
				int b = __builtin_ctz(m);
				es_hamq_push(st, (uint32_t)(i + b), (int)d[b]);
				m &= m - 1;
			}
			thrv = _mm256_set1_epi64x(st->thr);
		}
	}
	for (; i < end; i++) {
		int d = 0;
		for (int j = 0; j < nw; j++)
			d += __builtin_popcountll(codes[(int64_t)j * n_total + i] ^ q[j]);
		es_hamq_push(st, (uint32_t)i, d);
	}
}

/* The survivors of one 32-window half (window h0 first; acc its sums) under st's threshold, in window order; the
 * tail of both AVX2 PQ scans. */
static inline __attribute__((always_inline)) void push_half(__m256i acc, int64_t h0, int64_t beg, int64_t end,
                                                           es_hamq_t *st)
{
	uint32_t m;
	if (st->thr > 255) {
		m = ~0u;
	} else {  /* unsigned acc < thr  <=>  max(acc, thr-1) == thr-1 */
		__m256i t = _mm256_set1_epi8((char)(st->thr - 1));
		m = st->thr == 0 ? 0 : (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(acc, t), t));
	}
	if (h0 < beg)
		m = h0 + 32 <= beg ? 0 : m & (~0u << (beg - h0));
	if (end - h0 < 32)
		m = end <= h0 ? 0 : m & (uint32_t)(((uint64_t)1 << (end - h0)) - 1);
	if (!m)
		return;
	if (st->cap - st->n < 32) {   /* the buffer may fill inside this half: es_hamq_push shrinks it on the way */
		uint8_t d[32];
		_mm256_storeu_si256((__m256i *)d, acc);
		while (m) {
			int b = __builtin_ctz(m);
			es_hamq_push(st, (uint32_t)(h0 + b), d[b]);
			m &= m - 1;
		}
		return;
	}
	/* room for every survivor: each is below thr (the mask), and thr cannot change before the next shrink, so the
	 * pushes are plain appends. A whole half (common while the buffer first fills) as four vector stores. */
	uint32_t *id = st->id + st->n;
	uint16_t *dist = st->dist + st->n;
	if (m == ~0u) {
		_mm256_storeu_si256((__m256i *)(void *)dist, _mm256_cvtepu8_epi16(_mm256_castsi256_si128(acc)));
		_mm256_storeu_si256((__m256i *)(void *)(dist + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(acc, 1)));
		__m256i base = _mm256_add_epi32(_mm256_set1_epi32((int)h0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		for (int k = 0; k < 4; k++)
			_mm256_storeu_si256((__m256i *)(void *)(id + 8 * k), _mm256_add_epi32(base, _mm256_set1_epi32(8 * k)));
		st->n += 32;
		return;
	}
	uint8_t d[32];
	_mm256_storeu_si256((__m256i *)d, acc);
	int n = 0;
	while (m) {
		int b = __builtin_ctz(m);
		id[n] = (uint32_t)(h0 + b);
		dist[n++] = d[b];
		m &= m - 1;
	}
	st->n += n;
}

/* PQ4 fast scan with AVX2: each 64-window block as two halves of 32 bytes. */
void es_pqscan_avx2(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	const __m256i low = _mm256_set1_epi8(0x0f);
	for (int64_t b0 = beg & ~(int64_t)63; b0 < end; b0 += 64) {
		const uint8_t *c = codes + (b0 >> 6) * (int64_t)(M / 2) * 64;
		for (int h = 0; h < 2; h++) {
			int64_t h0 = b0 + 32 * h;
			if (h0 >= end || h0 + 32 <= beg)
				continue;
			__m256i acc = _mm256_setzero_si256();
			for (int p = 0; p < M / 2; p++) {
				__m256i v = _mm256_loadu_si256((const __m256i *)(c + p * 64 + 32 * h));
				__m256i l0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(lut + 32 * p)));
				__m256i l1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(lut + 32 * p + 16)));
				acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(l0, _mm256_and_si256(v, low)));
				acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(l1, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
			}
			push_half(acc, h0, beg, end, st);
		}
	}
}

/* One subspace's 64-entry lookup for 32 code bytes v, from its four 16-entry tables t0..t3 (pq6scan256). */
static inline __attribute__((always_inline)) __m256i pq6_lookup(__m256i v, __m256i t0, __m256i t1, __m256i t2,
                                                              __m256i t3)
{
	__m256i s4 = _mm256_slli_epi16(v, 3);
	__m256i r01 = _mm256_blendv_epi8(_mm256_shuffle_epi8(t0, v), _mm256_shuffle_epi8(t1, v), s4);
	__m256i r23 = _mm256_blendv_epi8(_mm256_shuffle_epi8(t2, v), _mm256_shuffle_epi8(t3, v), s4);
	return _mm256_blendv_epi8(r01, r23, _mm256_slli_epi16(v, 2));
}

/* PQ6 scan with AVX2 (twin of es_pq6scan_scalar; es_pq6scan_avx512 needs VBMI's 64-entry byte permute): the
 * 64-entry table of a subspace as four 16-entry ones, each code byte (0..63) looked up in all four (vpshufb reads its
 * low four bits; bit 7 is clear) and the right one chosen by its bits 4 and 5 (vpblendvb reads bit 7, so the byte
 * shifted left by 3 and by 2). A 64-window block per step, as two halves of 32. */
static inline __attribute__((always_inline)) void pq6scan256(const uint8_t *codes, const int M, int64_t beg,
                                                             int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	for (int64_t b0 = beg & ~(int64_t)63; b0 < end; b0 += 64) {
		const uint8_t *c = codes + (b0 >> 6) * (int64_t)M * 64;
		/* both halves of the block at once: each subspace's tables loaded once for 64 windows (a half outside
		 * [beg,end) is computed and masked off: the block is whole in memory) */
		__m256i acc = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
#pragma GCC unroll 16
		for (int j = 0; j < M; j++) {
			const __m128i *t = (const __m128i *)(const void *)(lut + 64 * j);
			__m256i t0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(t));
			__m256i t1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(t + 1));
			__m256i t2 = _mm256_broadcastsi128_si256(_mm_loadu_si128(t + 2));
			__m256i t3 = _mm256_broadcastsi128_si256(_mm_loadu_si128(t + 3));
			const __m256i *v = (const __m256i *)(const void *)(c + j * 64);
			acc = _mm256_add_epi8(acc, pq6_lookup(_mm256_loadu_si256(v), t0, t1, t2, t3));
			acc1 = _mm256_add_epi8(acc1, pq6_lookup(_mm256_loadu_si256(v + 1), t0, t1, t2, t3));
		}
		push_half(acc, b0, beg, end, st);
		push_half(acc1, b0 + 32, beg, end, st);
	}
}

void es_pq6scan_avx2(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	if (M == 16)   /* constant M: the subspace loop unrolled */
		pq6scan256(codes, 16, beg, end, lut, st);
	else if (M == 8)
		pq6scan256(codes, 8, beg, end, lut, st);
	else
		pq6scan256(codes, M, beg, end, lut, st);
}

/* The re-rank's inner product (twin of es_dot_f32_i8): lane j holds partial sum j. With the rows prefetched its
 * conversions were the re-rank's cost: chrX 70 Mb, `index --bench -l 150`, 6% less CPU than the SSE2 code GCC makes
 * of the scalar loop. */
float es_dot_f32_i8_avx2(const float *q, const int8_t *v, float scale, int dim)
{
	__m256 acc = _mm256_setzero_ps();
	int i = 0;
	for (; i + 8 <= dim; i += 8) {
		__m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(v + i)));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(q + i), _mm256_cvtepi32_ps(x)));
	}
	float s[8];
	_mm256_storeu_ps(s, acc);
	for (; i < dim; i++)
		s[0] += q[i] * (float)v[i];
	return scale * (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

/* perm[m]: the lanes of mask m in order, then zeros (es_hamq_keep_avx2's compaction); built once. */
static uint32_t keep_perm[256][8];
static void keep_perm_init(void)
{
	for (int m = 0; m < 256; m++) {
		int k = 0;
		for (int b = 0; b < 8; b++)
			if (m >> b & 1)
				keep_perm[m][k++] = (uint32_t)b;
		while (k < 8)
			keep_perm[m][k++] = 0;
	}
}

int es_hamq_keep_avx2(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, keep_perm_init);
	const __m256i dv = _mm256_set1_epi32(d);
	int j = 0, i = 0;
	for (; i + 8 <= st->n; i += 8) {   /* stores of 8 at j <= i: only entries already loaded are overwritten */
		__m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(st->dist + i)));
		int keep = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(dv, x)));
		int eq = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(x, dv)));
		if (eq) {   /* the first `ties` entries at d stay, as the scalar's running count keeps them */
			int pe = __builtin_popcount((unsigned)eq);
			if (ties >= pe) {
				keep |= eq;
			} else {
				for (int t = ties; t > 0; t--) {
					keep |= eq & -eq;
					eq &= eq - 1;
				}
			}
			ties -= pe;
		}
		__m256i p = _mm256_loadu_si256((const __m256i *)(const void *)keep_perm[keep]);
		__m256i v = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(st->id + i)), p);
		_mm256_storeu_si256((__m256i *)(void *)(id + j), v);
		if (dist) {
			__m256i y = _mm256_permutevar8x32_epi32(x, p);
			__m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(y, y), 0x08);   /* lanes 0-3 and 4-7 of y */
			_mm_storeu_si128((__m128i *)(void *)(dist + j), _mm256_castsi256_si128(w));
		}
		j += __builtin_popcount((unsigned)keep);
	}
	return es_hamq_keep_from(st, i, j, d, ties, id, dist);   /* the tail as the scalar twin */
}
