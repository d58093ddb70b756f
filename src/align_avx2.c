/* align_avx2.c — es_align's DP fill as a striped Smith-Waterman (Farrar 2007 layout) with 16 lanes of 16-bit scores
 * (AVX2). Query position i lives in segment i%seglen, lane i/seglen. Vertical gaps that cross lanes are resolved by
 * a prefix-max scan across lanes (as parasail's "scan" kernels do) instead of Farrar's "lazy F" loop: for a read that
 * matches, F stays alive down whole columns and the lazy loop ran ~W passes per column (measured 91 us per 250 bp
 * alignment with lazy F, vs ~13 with the scan). Stores H per cell when a traceback is wanted; the scalar twin is
 * align_ref.c.
 * Why our own kernel: neither library computes this objective (parasail: plain local or semi-global, no end bonus;
 * ksw2: extension from a fixed start or global), and ours is also faster. Measured on the same pairs (250 bp read,
 * 1% errors, 330 bp target; one core of the shared AMD EPYC dev box, CPU time): es_align_score 13-17 us, es_align
 * with CIGAR+MD 17 us; parasail_sw_striped_avx2_256_16 (score only) 24-27 us, parasail_sw_scan_avx2_256_16 33 us,
 * parasail_sw_trace_striped_avx2_256_16 + cigar 91-109 us; ksw2 ksw_extz2_sse (extension, full band) 54-62 us.
 * 150 bp: ours 7.3 / 8.7-9.6 us, parasail striped 11 us, parasail trace 37-45 us, ksw2 23-27 us. */
#include "align.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define W 16   /* lanes */

int es_sw_avx2_seglen(int qlen) { return (qlen + W - 1) / W; }

/* lane k <- lane k-1 for k >= 1, lane 0 <- x (x0 holds x in lane 0 and 0 elsewhere) */
static inline __m256i shift_in(__m256i v, __m256i x0)
{
	__m256i lo = _mm256_permute2x128_si256(v, v, 0x08);  /* [0, v.lo] */
	return _mm256_add_epi16(_mm256_alignr_epi8(v, lo, 14), x0);
}

/* lane k <- lane k-d, lanes < d <- vNeg's */
#define SHIFT_NEG(v, vNeg, d) ((d) == 8 ? _mm256_permute2x128_si256(v, vNeg, 0x02) \
	: _mm256_alignr_epi8(v, _mm256_permute2x128_si256(v, vNeg, 0x02), 16 - 2 * (d)))

static inline int hmax16(__m256i v)
{
	__m128i m = _mm_max_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 8));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 4));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 2));
	return (int16_t)_mm_extract_epi16(m, 0);
}

static inline int any_gt(__m256i a, __m256i b) { return _mm256_movemask_epi8(_mm256_cmpgt_epi16(a, b)) != 0; }

int es_sw_avx2(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H, es_swmat_t *m)
{
	/* 16-bit range: the best objective is at most qlen*max(mat) + 2*bonus; penalties must fit too */
	int maxm = 0, minm = 0;
	for (int k = 0; k < 25; k++) { if (p->mat[k] > maxm) maxm = p->mat[k]; if (p->mat[k] < minm) minm = p->mat[k]; }
	if ((int64_t)qlen * maxm + 2 * (int64_t)p->bonus > 32000 || minm < -16000 || p->oe > 16000 || p->ge > 16000)
		return -1;
	const int S = es_sw_avx2_seglen(qlen);
	/* profile (5 target codes x S), Ht (H before vertical gaps) and E of one column */
	size_t nvec = (size_t)S * 7;
	__m256i stackbuf[7 * 32];
	__m256i *buf = nvec <= sizeof stackbuf / sizeof stackbuf[0] ? stackbuf : aligned_alloc(32, nvec * sizeof(__m256i));
	if (!buf) return -1;
	__m256i *prof = buf, *pvHt = buf + 5 * S, *pvE = pvHt + S;
	for (int c = 0; c < 5; c++) {
		int16_t *pc = (int16_t *)(prof + c * S);
		for (int s = 0; s < S; s++)
			for (int l = 0; l < W; l++) {
				int i = l * S + s;
				pc[s * W + l] = i < qlen ? (int16_t)(p->mat[q[i] * 5 + c] + (i == qlen - 1 ? p->bonus : 0)) : INT16_MIN;
			}
	}
	const __m256i vNeg = _mm256_set1_epi16(INT16_MIN), vZero = _mm256_setzero_si256();
	const __m256i vOE = _mm256_set1_epi16((int16_t)p->oe), vGE = _mm256_set1_epi16((int16_t)p->ge);
	const __m256i vBonus0 = _mm256_setr_epi16((int16_t)p->bonus, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	/* decay of a carried F over d whole lanes (saturated: a gap that long is worth nothing anyway) */
	int64_t g = (int64_t)p->ge * S, g1 = (int64_t)p->ge * (S - 1);
	const __m256i vScan1 = _mm256_set1_epi16((int16_t)(g > 32767 ? 32767 : g));
	const __m256i vScan2 = _mm256_set1_epi16((int16_t)(2 * g > 32767 ? 32767 : 2 * g));
	const __m256i vScan4 = _mm256_set1_epi16((int16_t)(4 * g > 32767 ? 32767 : 4 * g));
	const __m256i vScan8 = _mm256_set1_epi16((int16_t)(8 * g > 32767 ? 32767 : 8 * g));
	const __m256i vLast = _mm256_set1_epi16((int16_t)(g1 > 32767 ? 32767 : g1));  /* F decay from segment 0 to S-1 */
	/* Column j-1 = -1 to start: Ht = 0 (H[i][-1] = 0), no F, E of column -1 irrelevant (E[i][0] = 0-oe). */
	for (int s = 0; s < S; s++) { pvHt[s] = vZero; pvE[s] = vNeg; }
	__m256i vX = vNeg;       /* F entering segment 0 of each lane, column j */
	__m256i vFpen = vNeg;    /* in-lane F entering segment S-1, column j */
	__m256i vBest = vZero;
	int best = 0, bj = -1;
	/* Each pass finishes column j (H = max(Ht, F), E of column j+1) and computes Ht and in-lane F of column j+1:
	 * fusing the two halves saves a load and a store of both H and E per segment. */
	for (int j = -1; j < tlen; j++) {
		__m256i *Hj = H ? (__m256i *)H + (size_t)(j + 1) * S : NULL;   /* final H of column j */
		if (j == tlen - 1) {  /* only finish the last column (for the traceback) */
			if (Hj) {
				__m256i vF = vX;
				for (int s = 0; s < S; s++) {
					__m256i vHt = _mm256_load_si256(pvHt + s);
					_mm256_store_si256(Hj + s, _mm256_max_epi16(vHt, vF));
					vF = _mm256_max_epi16(_mm256_subs_epi16(vF, vGE), _mm256_subs_epi16(vHt, vOE));
				}
			}
			break;
		}
		const __m256i *vP = prof + t[j + 1] * S;
		/* final H of column j, last segment: its lane-shift is the diagonal of column j+1's segment 0 */
		__m256i vFlast = _mm256_max_epi16(vFpen, _mm256_subs_epi16(vX, vLast));
		__m256i vDiag = shift_in(_mm256_max_epi16(_mm256_load_si256(pvHt + S - 1), vFlast), vBonus0);
		__m256i vF = vX, vF1 = vNeg, vColMax = vZero;
		for (int s = 0; s < S; s++) {
			__m256i vHt = _mm256_load_si256(pvHt + s);
			__m256i vH = _mm256_max_epi16(vHt, vF);              /* final H of column j */
			if (Hj) _mm256_store_si256(Hj + s, vH);
			vF = _mm256_max_epi16(_mm256_subs_epi16(vF, vGE), _mm256_subs_epi16(vHt, vOE));  /* opening from Ht suffices */
			__m256i vE = _mm256_max_epi16(_mm256_subs_epi16(_mm256_load_si256(pvE + s), vGE), _mm256_subs_epi16(vH, vOE));
			_mm256_store_si256(pvE + s, vE);                     /* E of column j+1 */
			__m256i vHt1 = _mm256_max_epi16(_mm256_max_epi16(_mm256_adds_epi16(vDiag, _mm256_load_si256(vP + s)), vE), vZero);
			_mm256_store_si256(pvHt + s, vHt1);                  /* Ht of column j+1 */
			vColMax = _mm256_max_epi16(vColMax, vHt1);           /* an F-made H is never a column's maximum */
			vFpen = vF1;
			vF1 = _mm256_max_epi16(_mm256_subs_epi16(vF1, vGE), _mm256_subs_epi16(vHt1, vOE));
			vDiag = vH;
		}
		/* F entering each lane's segment 0: max over earlier lanes l' of Fout[l'] - ge*S*(l-1-l') */
		vF1 = SHIFT_NEG(vF1, vNeg, 1);
		vF1 = _mm256_max_epi16(vF1, _mm256_subs_epi16(SHIFT_NEG(vF1, vNeg, 1), vScan1));
		vF1 = _mm256_max_epi16(vF1, _mm256_subs_epi16(SHIFT_NEG(vF1, vNeg, 2), vScan2));
		vF1 = _mm256_max_epi16(vF1, _mm256_subs_epi16(SHIFT_NEG(vF1, vNeg, 4), vScan4));
		vX = _mm256_max_epi16(vF1, _mm256_subs_epi16(SHIFT_NEG(vF1, vNeg, 8), vScan8));
		if (any_gt(vColMax, vBest)) {  /* first column holding a new best: strict, so ties keep the smaller j */
			best = hmax16(vColMax);
			vBest = _mm256_set1_epi16((int16_t)best);
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
