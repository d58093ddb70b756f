/* align_avx512.c — the AVX-512BW twin of align_avx2.c: the same striped Smith-Waterman with 32 lanes of 16-bit scores.
 * Query position i lives in segment i%seglen, lane i/seglen; the "lazy F" loop repairs vertical gaps that cross
 * lanes. Stores H and E per cell when a traceback is wanted; the scalar twin is align_ref.c. */
#include "align.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define W 32   /* lanes */

int es_sw_avx512_seglen(int qlen) { return (qlen + W - 1) / W; }

/* lane k <- lane k-1 for k >= 1, lane 0 <- x (x0 holds x in lane 0 and 0 elsewhere) */
static inline __m512i shift_in(__m512i v, __m512i x0)
{
	const __m512i idx = _mm512_set_epi32(0x001e001d, 0x001c001b, 0x001a0019, 0x00180017, 0x00160015, 0x00140013,
	                                     0x00120011, 0x0010000f, 0x000e000d, 0x000c000b, 0x000a0009, 0x00080007,
	                                     0x00060005, 0x00040003, 0x00020001, 0x00000000);
	return _mm512_add_epi16(_mm512_maskz_permutexvar_epi16(0xfffffffeu, idx, v), x0);
}

static inline int hmax16(__m512i v)
{
	__m256i h = _mm256_max_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
	__m128i m = _mm_max_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 8));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 4));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 2));
	return (int16_t)_mm_extract_epi16(m, 0);
}

static inline int any_gt(__m512i a, __m512i b) { return _mm512_cmpgt_epi16_mask(a, b) != 0; }

int es_sw_avx512(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H, int16_t *E, es_swmat_t *m)
{
	/* 16-bit range: the best objective is at most qlen*max(mat) + 2*bonus; penalties must fit too */
	int maxm = 0, minm = 0;
	for (int k = 0; k < 25; k++) { if (p->mat[k] > maxm) maxm = p->mat[k]; if (p->mat[k] < minm) minm = p->mat[k]; }
	if ((int64_t)qlen * maxm + 2 * (int64_t)p->bonus > 32000 || minm < -16000 || p->oe > 16000 || p->ge > 16000)
		return -1;
	const int seglen = es_sw_avx512_seglen(qlen);
	/* profile (5 target codes x seglen), E of the next column, and two H columns when not storing */
	size_t nvec = (size_t)seglen * (5 + 1 + (H ? 0 : 2));
	__m512i stackbuf[8 * 16];
	__m512i *buf = nvec <= sizeof stackbuf / sizeof stackbuf[0] ? stackbuf : aligned_alloc(64, nvec * sizeof(__m512i));
	if (!buf) return -1;
	__m512i *prof = buf, *pvE = buf + 5 * seglen, *pvH0 = pvE + seglen, *pvH1 = pvH0 + seglen;
	for (int c = 0; c < 5; c++) {
		int16_t *pc = (int16_t *)(prof + c * seglen);
		for (int s = 0; s < seglen; s++)
			for (int l = 0; l < W; l++) {
				int i = l * seglen + s;
				pc[s * W + l] = i < qlen ? (int16_t)(p->mat[q[i] * 5 + c] + (i == qlen - 1 ? p->bonus : 0)) : INT16_MIN;
			}
	}
	const __m512i vNeg = _mm512_set1_epi16(INT16_MIN), vZero = _mm512_setzero_si512();
	const __m512i vOE = _mm512_set1_epi16((int16_t)p->oe), vGE = _mm512_set1_epi16((int16_t)p->ge);
	const __m512i vBonus0 = _mm512_maskz_set1_epi16(1, (int16_t)p->bonus);
	const __m512i vNeg0 = _mm512_maskz_set1_epi16(1, INT16_MIN);
	for (int s = 0; s < seglen; s++) pvE[s] = vNeg;
	__m512i *Hload = H ? (__m512i *)H : pvH0;  /* column j-1 */
	for (int s = 0; s < seglen; s++) Hload[s] = vZero;
	__m512i vBest = vZero;
	int best = 0, bj = -1;
	for (int j = 0; j < tlen; j++) {
		__m512i *Hstore = H ? (__m512i *)H + (size_t)(j + 1) * seglen : (j & 1 ? pvH0 : pvH1);
		__m512i *Ej = E ? (__m512i *)E + (size_t)j * seglen : NULL;
		const __m512i *vP = prof + t[j] * seglen;
		__m512i vF = vNeg, vColMax = vZero;
		__m512i vH = shift_in(_mm512_load_si512(Hload + seglen - 1), vBonus0);  /* diagonal; row -1 is worth the bonus */
		for (int s = 0; s < seglen; s++) {
			vH = _mm512_adds_epi16(vH, _mm512_load_si512(vP + s));
			__m512i vE = _mm512_load_si512(pvE + s);
			if (Ej) _mm512_store_si512(Ej + s, vE);
			vH = _mm512_max_epi16(vH, vE);
			vH = _mm512_max_epi16(vH, vF);
			vH = _mm512_max_epi16(vH, vZero);
			_mm512_store_si512(Hstore + s, vH);
			vColMax = _mm512_max_epi16(vColMax, vH);
			__m512i vHo = _mm512_subs_epi16(vH, vOE);
			_mm512_store_si512(pvE + s, _mm512_max_epi16(_mm512_subs_epi16(vE, vGE), vHo));
			vF = _mm512_max_epi16(_mm512_subs_epi16(vF, vGE), vHo);
			vH = _mm512_load_si512(Hload + s);
		}
		/* lazy F: carry F across lane boundaries until it can no longer raise H (F <= H-oe everywhere) */
		for (int k = 0; k < W; k++) {
			vF = shift_in(vF, vNeg0);
			int s;
			for (s = 0; s < seglen; s++) {
				vH = _mm512_max_epi16(_mm512_load_si512(Hstore + s), vF);
				_mm512_store_si512(Hstore + s, vH);
				__m512i vHo = _mm512_subs_epi16(vH, vOE);
				_mm512_store_si512(pvE + s, _mm512_max_epi16(_mm512_load_si512(pvE + s), vHo));
				vF = _mm512_subs_epi16(vF, vGE);
				if (!any_gt(vF, vHo)) break;
			}
			if (s < seglen) break;
		}
		if (any_gt(vColMax, vBest)) {  /* first column holding a new best: strict, so ties keep the smaller j */
			best = hmax16(vColMax);
			vBest = _mm512_set1_epi16((int16_t)best);
			bj = j;
		}
		Hload = Hstore;
	}
	if (buf != stackbuf) free(buf);
	m->H16 = H; m->E16 = E; m->H32 = 0; m->E32 = 0;
	m->w = W; m->seglen = seglen;
	m->best = best; m->bj = bj; m->bi = -1;
	if (H && best > 0) {  /* smallest row of column bj holding the best */
		for (int i = 0; i < qlen; i++)
			if (H[(size_t)(bj + 1) * seglen * W + (size_t)(i % seglen) * W + i / seglen] == best) { m->bi = i; break; }
	}
	return 0;
}
