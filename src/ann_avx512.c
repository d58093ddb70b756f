/* ann_avx512.c — the Hamming scan with AVX-512 VPOPCNTDQ: 8 windows per step, distances of each code plane added
 * lane-wise; only windows under the query's threshold leave the vector unit. Twin of es_hamscan_scalar (ann.c). */
#include "ann.h"
#include <immintrin.h>

void es_hamscan_avx512(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                       es_hamq_t *st)
{
	__m512i qv[8];
	for (int j = 0; j < nw && j < 8; j++)
		qv[j] = _mm512_set1_epi64((long long)q[j]);
	__m512i thrv = _mm512_set1_epi64(st->thr);
	int64_t i = beg;
	for (; i + 8 <= end; i += 8) {
		__m512i acc = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i), qv[0]));
		for (int j = 1; j < nw; j++) {
			__m512i c = _mm512_loadu_si512(codes + (int64_t)j * n_total + i);
			acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(c, qv[j])));
		}
		__mmask8 m = _mm512_cmplt_epi64_mask(acc, thrv);
		if (m) {
			uint64_t d[8];
			_mm512_storeu_si512(d, acc);
			while (m) {
				int b = __builtin_ctz(m);
				es_hamq_push(st, (uint32_t)(i + b), (int)d[b]);
				m &= (__mmask8)(m - 1);
			}
			thrv = _mm512_set1_epi64(st->thr);
		}
	}
	for (; i < end; i++) {
		int d = 0;
		for (int j = 0; j < nw; j++)
			d += __builtin_popcountll(codes[(int64_t)j * n_total + i] ^ q[j]);
		es_hamq_push(st, (uint32_t)i, d);
	}
}

/* PQ4 fast scan, 64 windows per step: per subspace pair one load, two nibble masks, two byte shuffles into the
 * query's tables, two byte adds (sums never exceed 255, see ann.c). */
static inline __attribute__((always_inline)) void pqscan512(const uint8_t *codes, const int M, int64_t beg,
                                                            int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	__m512i lv[64];
#pragma GCC unroll 64
	for (int j = 0; j < M; j++)
		lv[j] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(lut + 16 * j)));
	const __m512i low = _mm512_set1_epi8(0x0f);
	for (int64_t b0 = beg & ~(int64_t)63; b0 < end; b0 += 64) {
		const uint8_t *c = codes + (b0 >> 6) * (int64_t)(M / 2) * 64;
		__m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 32
		for (int p = 0; p < M / 2; p++) {
			__m512i v = _mm512_loadu_si512(c + p * 64);
			acc = _mm512_add_epi8(acc, _mm512_shuffle_epi8(lv[2 * p], _mm512_and_si512(v, low)));
			__m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
			acc = _mm512_add_epi8(acc, _mm512_shuffle_epi8(lv[2 * p + 1], hi));
		}
		__mmask64 m = st->thr > 255 ? ~(__mmask64)0
		              : _mm512_cmplt_epu8_mask(acc, _mm512_set1_epi8((char)st->thr));
		if (b0 < beg)
			m &= ~(__mmask64)0 << (beg - b0);
		if (end - b0 < 64)
			m &= ((__mmask64)1 << (end - b0)) - 1;
		if (m) {
			uint8_t d[64];
			_mm512_storeu_si512(d, acc);
			while (m) {
				int b = __builtin_ctzll(m);
				es_hamq_push(st, (uint32_t)(b0 + b), d[b]);
				m &= m - 1;
			}
		}
	}
}

void es_pqscan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	/* constant M lets the compiler keep the tables in registers */
	if (M == 16)
		pqscan512(codes, 16, beg, end, lut, st);
	else if (M == 32)
		pqscan512(codes, 32, beg, end, lut, st);
	else if (M == 8)
		pqscan512(codes, 8, beg, end, lut, st);
	else
		pqscan512(codes, M, beg, end, lut, st);
}

/* PQ6 scan, 64 windows per step: per subspace one load, one 64-entry byte permute (VBMI), one byte add. */
__attribute__((target("avx512vbmi")))
static inline __attribute__((always_inline)) void pq6scan512(const uint8_t *codes, const int M, int64_t beg,
                                                             int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	__m512i lv[64];
#pragma GCC unroll 64
	for (int j = 0; j < M; j++)
		lv[j] = _mm512_loadu_si512(lut + 64 * j);
	for (int64_t b0 = beg & ~(int64_t)63; b0 < end; b0 += 64) {
		const uint8_t *c = codes + (b0 >> 6) * (int64_t)M * 64;
		__m512i acc = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();   /* two chains for ILP */
#pragma GCC unroll 64
		for (int j = 0; j < M; j += 2) {
			acc = _mm512_add_epi8(acc, _mm512_permutexvar_epi8(_mm512_loadu_si512(c + j * 64), lv[j]));
			acc1 = _mm512_add_epi8(acc1, _mm512_permutexvar_epi8(_mm512_loadu_si512(c + (j + 1) * 64), lv[j + 1]));
		}
		acc = _mm512_add_epi8(acc, acc1);
		__mmask64 m = st->thr > 255 ? ~(__mmask64)0
		              : _mm512_cmplt_epu8_mask(acc, _mm512_set1_epi8((char)st->thr));
		if (b0 < beg)
			m &= ~(__mmask64)0 << (beg - b0);
		if (end - b0 < 64)
			m &= ((__mmask64)1 << (end - b0)) - 1;
		if (m) {
			uint8_t d[64];
			_mm512_storeu_si512(d, acc);
			while (m) {
				int b = __builtin_ctzll(m);
				es_hamq_push(st, (uint32_t)(b0 + b), d[b]);
				m &= m - 1;
			}
		}
	}
}

/* The threshold-and-push tail below is repeated in each kernel on purpose: moved into a shared always_inline helper it
 * made mapping 250 bp reads on chrX 70 Mb ~20% slower (5.0 -> 6.0 CPU s for 5,000 reads), measured at the end of
 * session 1.
 * M = 16 (the default) with the 16 tables held in named registers: an array of tables ends up on the stack, and
 * then every lookup costs a second 512-bit load, which is what limits this loop on Zen 4. */
__attribute__((target("avx512vbmi")))
static void pq6scan512_m16(const uint8_t *codes, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
#define L(j) const __m512i l##j = _mm512_loadu_si512(lut + 64 * j)
	L(0);
	L(1);
	L(2);
	L(3);
	L(4);
	L(5);
	L(6);
	L(7);
	L(8);
	L(9);
	L(10);
	L(11);
	L(12);
	L(13);
	L(14);
	L(15);
#undef L
	const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	for (int64_t b0 = beg & ~(int64_t)63; b0 < end; b0 += 64) {
		const uint8_t *c = codes + (b0 >> 6) * 16 * 64;
#define P(j) _mm512_permutexvar_epi8(_mm512_loadu_si512(c + (j) * 64), l##j)
		__m512i a0 = _mm512_add_epi8(P(0), P(1)), a1 = _mm512_add_epi8(P(2), P(3));
		__m512i a2 = _mm512_add_epi8(P(4), P(5)), a3 = _mm512_add_epi8(P(6), P(7));
		a0 = _mm512_add_epi8(a0, _mm512_add_epi8(P(8), P(9)));
		a1 = _mm512_add_epi8(a1, _mm512_add_epi8(P(10), P(11)));
		a2 = _mm512_add_epi8(a2, _mm512_add_epi8(P(12), P(13)));
		a3 = _mm512_add_epi8(a3, _mm512_add_epi8(P(14), P(15)));
#undef P
		__m512i acc = _mm512_add_epi8(_mm512_add_epi8(a0, a1), _mm512_add_epi8(a2, a3));
		__mmask64 m = st->thr > 255 ? ~(__mmask64)0
		              : _mm512_cmplt_epu8_mask(acc, _mm512_set1_epi8((char)st->thr));
		if (b0 < beg)
			m &= ~(__mmask64)0 << (beg - b0);
		if (end - b0 < 64)
			m &= ((__mmask64)1 << (end - b0)) - 1;
		if (m && st->n + 64 <= st->cap) {
			/* no shrink can happen in this block: its survivors appended at once, in window order, as the pushes
			 * below would (compress in registers, then a full store: the buffer has room for 64 more) */
			int t = 0;
#define C4(q)                                                                                                     \
	do {                                                                                                      \
		__mmask16 mq = (__mmask16)(m >> (16 * (q)));                                                      \
		__m512i id = _mm512_add_epi32(_mm512_set1_epi32((int)(b0 + 16 * (q))), iota);                     \
		__m512i d32 = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(acc, q));                            \
		_mm512_storeu_si512(st->id + st->n + t, _mm512_maskz_compress_epi32(mq, id));                     \
		_mm256_storeu_si256((__m256i *)(void *)(st->dist + st->n + t),                                    \
		                    _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(mq, d32)));                 \
		t += __builtin_popcount(mq);                                                                      \
	} while (0)
			C4(0);
			C4(1);
			C4(2);
			C4(3);
#undef C4
			st->n += t;
		} else if (m) {
			uint8_t d[64];
			_mm512_storeu_si512(d, acc);
			while (m) {
				int b = __builtin_ctzll(m);
				es_hamq_push(st, (uint32_t)(b0 + b), d[b]);
				m &= m - 1;
			}
		}
	}
}

__attribute__((target("avx512vbmi")))
void es_pq6scan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	if (M == 16)
		pq6scan512_m16(codes, beg, end, lut, st);
	else if (M == 8)
		pq6scan512(codes, 8, beg, end, lut, st);
	else
		pq6scan512(codes, M, beg, end, lut, st);
}
