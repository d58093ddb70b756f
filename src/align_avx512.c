/* align_avx512.c — the AVX-512BW twin of align_avx2.c (whose notes apply): the same striped Smith-Waterman with a
 * prefix-max scan for vertical gaps across lanes, with 32 lanes of 16-bit scores. On AMD Zen 4 (512-bit ops split in
 * two) it runs at the AVX2 speed; it pays off where 512-bit units are native. The scalar twin is align_ref.c. */
#include "align.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define W 32   /* lanes */

int es_sw_avx512_seglen(int qlen) { return (qlen + W - 1) / W; }

/* lane k <- lane k-d (d = 1, 2, 4, 8, 16), lanes < d <- vNeg's */
#define IX(d) { (0 >= d ? 0 - d : 0), (1 >= d ? 1 - d : 0), (2 >= d ? 2 - d : 0), (3 >= d ? 3 - d : 0), (4 >= d ? 4 - d : 0), \
	(5 >= d ? 5 - d : 0), (6 >= d ? 6 - d : 0), (7 >= d ? 7 - d : 0), (8 >= d ? 8 - d : 0), (9 >= d ? 9 - d : 0), \
	(10 >= d ? 10 - d : 0), 11 - d, 12 - d, 13 - d, 14 - d, 15 - d, 16 - d, 17 - d, 18 - d, 19 - d, 20 - d, 21 - d, \
	22 - d, 23 - d, 24 - d, 25 - d, 26 - d, 27 - d, 28 - d, 29 - d, 30 - d, 31 - d }
static const uint16_t shift_ix[5][32] __attribute__((aligned(64))) = { IX(1), IX(2), IX(4), IX(8), IX(16) };
static inline __m512i shift_neg(__m512i v, __m512i vNeg, int d)
{
	int k = d == 1 ? 0 : d == 2 ? 1 : d == 4 ? 2 : d == 8 ? 3 : 4;
	return _mm512_mask_permutexvar_epi16(vNeg, (__mmask32)(0xffffffffu << d), _mm512_load_si512(shift_ix[k]), v);
}
#define SHIFT_NEG(v, vNeg, d) shift_neg(v, vNeg, d)

/* lane k <- lane k-1 for k >= 1, lane 0 <- x (x0 holds x in lane 0 and 0 elsewhere) */
static inline __m512i shift_in(__m512i v, __m512i x0) { return _mm512_add_epi16(shift_neg(v, _mm512_setzero_si512(), 1), x0); }

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

int es_sw_avx512(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H, es_swmat_t *m)
{
	/* 16-bit range: the best objective is at most qlen*max(mat) + 2*bonus; penalties must fit too */
	int maxm = 0, minm = 0;
	for (int k = 0; k < 25; k++) { if (p->mat[k] > maxm) maxm = p->mat[k]; if (p->mat[k] < minm) minm = p->mat[k]; }
	if ((int64_t)qlen * maxm + 2 * (int64_t)p->bonus > 32000 || minm < -16000 || p->oe > 16000 || p->ge > 16000)
		return -1;
	const int S = es_sw_avx512_seglen(qlen);
	/* profile (5 target codes x S), Ht (H before vertical gaps) and E of one column */
	size_t nvec = (size_t)S * 7;
	__m512i stackbuf[7 * 16];
	__m512i *buf = nvec <= sizeof stackbuf / sizeof stackbuf[0] ? stackbuf : aligned_alloc(64, nvec * sizeof(__m512i));
	if (!buf) return -1;
	__m512i *prof = buf, *pvHt = buf + 5 * S, *pvE = pvHt + S;
	for (int c = 0; c < 5; c++) {
		int16_t *pc = (int16_t *)(prof + c * S);
		for (int s = 0; s < S; s++)
			for (int l = 0; l < W; l++) {
				int i = l * S + s;
				pc[s * W + l] = i < qlen ? (int16_t)(p->mat[q[i] * 5 + c] + (i == qlen - 1 ? p->bonus : 0)) : INT16_MIN;
			}
	}
	const __m512i vNeg = _mm512_set1_epi16(INT16_MIN), vZero = _mm512_setzero_si512();
	const __m512i vOE = _mm512_set1_epi16((int16_t)p->oe), vGE = _mm512_set1_epi16((int16_t)p->ge);
	const __m512i vBonus0 = _mm512_maskz_set1_epi16(1, (int16_t)p->bonus);
	/* decay of a carried F over d whole lanes (saturated: a gap that long is worth nothing anyway) */
	int64_t g = (int64_t)p->ge * S, g1 = (int64_t)p->ge * (S - 1);
	const __m512i vScan1 = _mm512_set1_epi16((int16_t)(g > 32767 ? 32767 : g));
	const __m512i vScan2 = _mm512_set1_epi16((int16_t)(2 * g > 32767 ? 32767 : 2 * g));
	const __m512i vScan4 = _mm512_set1_epi16((int16_t)(4 * g > 32767 ? 32767 : 4 * g));
	const __m512i vScan8 = _mm512_set1_epi16((int16_t)(8 * g > 32767 ? 32767 : 8 * g));
	const __m512i vScan16 = _mm512_set1_epi16((int16_t)(16 * g > 32767 ? 32767 : 16 * g));
	const __m512i vLast = _mm512_set1_epi16((int16_t)(g1 > 32767 ? 32767 : g1));  /* F decay from segment 0 to S-1 */
	/* Column j-1 = -1 to start: Ht = 0 (H[i][-1] = 0), no F, E of column -1 irrelevant (E[i][0] = 0-oe). */
	for (int s = 0; s < S; s++) { pvHt[s] = vZero; pvE[s] = vNeg; }
	__m512i vX = vNeg;       /* F entering segment 0 of each lane, column j */
	__m512i vFpen = vNeg;    /* in-lane F entering segment S-1, column j */
	__m512i vBest = vZero;
	int best = 0, bj = -1;
	/* Each pass finishes column j (H = max(Ht, F), E of column j+1) and computes Ht and in-lane F of column j+1:
	 * fusing the two halves saves a load and a store of both H and E per segment. */
	for (int j = -1; j < tlen; j++) {
		__m512i *Hj = H ? (__m512i *)H + (size_t)(j + 1) * S : NULL;   /* final H of column j */
		if (j == tlen - 1) {  /* only finish the last column (for the traceback) */
			if (Hj) {
				__m512i vF = vX;
				for (int s = 0; s < S; s++) {
					__m512i vHt = _mm512_load_si512(pvHt + s);
					_mm512_store_si512(Hj + s, _mm512_max_epi16(vHt, vF));
					vF = _mm512_max_epi16(_mm512_subs_epi16(vF, vGE), _mm512_subs_epi16(vHt, vOE));
				}
			}
			break;
		}
		const __m512i *vP = prof + t[j + 1] * S;
		/* final H of column j, last segment: its lane-shift is the diagonal of column j+1's segment 0 */
		__m512i vFlast = _mm512_max_epi16(vFpen, _mm512_subs_epi16(vX, vLast));
		__m512i vDiag = shift_in(_mm512_max_epi16(_mm512_load_si512(pvHt + S - 1), vFlast), vBonus0);
		__m512i vF = vX, vF1 = vNeg, vColMax = vZero;
		for (int s = 0; s < S; s++) {
			__m512i vHt = _mm512_load_si512(pvHt + s);
			__m512i vH = _mm512_max_epi16(vHt, vF);              /* final H of column j */
			if (Hj) _mm512_store_si512(Hj + s, vH);
			vF = _mm512_max_epi16(_mm512_subs_epi16(vF, vGE), _mm512_subs_epi16(vHt, vOE));  /* opening from Ht suffices */
			__m512i vE = _mm512_max_epi16(_mm512_subs_epi16(_mm512_load_si512(pvE + s), vGE), _mm512_subs_epi16(vH, vOE));
			_mm512_store_si512(pvE + s, vE);                     /* E of column j+1 */
			__m512i vHt1 = _mm512_max_epi16(_mm512_max_epi16(_mm512_adds_epi16(vDiag, _mm512_load_si512(vP + s)), vE), vZero);
			_mm512_store_si512(pvHt + s, vHt1);                  /* Ht of column j+1 */
			vColMax = _mm512_max_epi16(vColMax, vHt1);           /* an F-made H is never a column's maximum */
			vFpen = vF1;
			vF1 = _mm512_max_epi16(_mm512_subs_epi16(vF1, vGE), _mm512_subs_epi16(vHt1, vOE));
			vDiag = vH;
		}
		/* F entering each lane's segment 0: max over earlier lanes l' of Fout[l'] - ge*S*(l-1-l') */
		vF1 = SHIFT_NEG(vF1, vNeg, 1);
		vF1 = _mm512_max_epi16(vF1, _mm512_subs_epi16(SHIFT_NEG(vF1, vNeg, 1), vScan1));
		vF1 = _mm512_max_epi16(vF1, _mm512_subs_epi16(SHIFT_NEG(vF1, vNeg, 2), vScan2));
		vF1 = _mm512_max_epi16(vF1, _mm512_subs_epi16(SHIFT_NEG(vF1, vNeg, 4), vScan4));
		vF1 = _mm512_max_epi16(vF1, _mm512_subs_epi16(SHIFT_NEG(vF1, vNeg, 8), vScan8));
		vX = _mm512_max_epi16(vF1, _mm512_subs_epi16(SHIFT_NEG(vF1, vNeg, 16), vScan16));
		if (any_gt(vColMax, vBest)) {  /* first column holding a new best: strict, so ties keep the smaller j */
			best = hmax16(vColMax);
			vBest = _mm512_set1_epi16((int16_t)best);
			bj = j + 1;
		}
	}
	if (buf != stackbuf) free(buf);
	m->H16 = H; m->H32 = 0;
	m->w = W; m->seglen = S;
	m->best = best; m->bj = bj; m->bi = -1;
	if (H && best > 0) {  /* smallest row of column bj holding the best */
		for (int i = 0; i < qlen; i++)
			if (H[(size_t)(bj + 1) * S * W + (size_t)(i % S) * W + i / S] == best) { m->bi = i; break; }
	}
	return 0;
}
