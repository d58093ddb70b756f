/* ann_avx512.c — the Hamming scan with AVX-512 VPOPCNTDQ: 8 windows per step, distances of each code plane added
 * lane-wise; only windows under the query's threshold leave the vector unit. Twin of es_hamscan_scalar (ann.c). */
#include "store.h"
#include <immintrin.h>

void es_hamscan_avx512(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q, es_hamq_t *st)
{
	__m512i qv[8];
	for (int j = 0; j < nw && j < 8; j++) qv[j] = _mm512_set1_epi64((long long)q[j]);
	__m512i thrv = _mm512_set1_epi64(st->thr);
	int64_t i = beg;
	for (; i + 8 <= end; i += 8) {
		__m512i acc = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i), qv[0]));
		for (int j = 1; j < nw; j++)
			acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + (int64_t)j * n_total + i), qv[j])));
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
		for (int j = 0; j < nw; j++) d += __builtin_popcountll(codes[(int64_t)j * n_total + i] ^ q[j]);
		es_hamq_push(st, (uint32_t)i, d);
	}
}
