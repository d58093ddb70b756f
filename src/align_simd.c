/* align_simd.c — es_align's DP fill as a striped Smith-Waterman (Farrar 2007 layout) with W lanes of 16-bit scores,
 * one source compiled once per instruction set, as minimap2 compiles ksw2_extd2_sse.c twice: the Makefile builds it
 * with AVX2_FLAGS -DES_SIMD_AVX2 (es_sw_avx2, 16 lanes) and with AVX512_FLAGS -DES_SIMD_AVX512 (es_sw_avx512, 32
 * lanes); align.c picks one at run time. The scalar twin the tests compare both with is align_ref.c.
 * Query position i lives in segment i%seglen, lane i/seglen. Vertical gaps that cross lanes are resolved by a
 * prefix-max scan across lanes (as parasail's "scan" kernels do) instead of Farrar's "lazy F" loop: for a read that
 * matches, F stays alive down whole columns and the lazy loop ran ~W passes per column (measured 91 us per 250 bp
 * alignment with lazy F, vs ~13 with the scan). Stores H per cell when a traceback is wanted.
 * Why our own kernel: neither library computes this objective (parasail: plain local or semi-global, no end bonus;
 * ksw2: extension from a fixed start or global), and ours is also faster. Measured on the same pairs (250 bp read,
 * 1% errors, 330 bp target; one core of the shared AMD EPYC dev box, CPU time): es_align_score 13-17 us, es_align
 * with CIGAR+MD 17 us; parasail_sw_striped_avx2_256_16 (score only) 24-27 us, parasail_sw_scan_avx2_256_16 33 us,
 * parasail_sw_trace_striped_avx2_256_16 + cigar 91-109 us; ksw2 ksw_extz2_sse (extension, full band) 54-62 us.
 * 150 bp: ours 7.3 / 8.7-9.6 us, parasail striped 11 us, parasail trace 37-45 us, ksw2 23-27 us.
 * AVX-512: on AMD Zen 4 (512-bit ops split in two) it runs at the AVX2 speed; it pays off where 512-bit units are
 * native. */
#include "align_kern.h"
#include <stdlib.h>
#include <immintrin.h>

/* ---- the instruction set: lanes, vector type, exported names, intrinsics ---- */
#if defined(ES_SIMD_AVX2)
#define W 16   /* lanes */
typedef __m256i vec_t;
#define SW_FILL          es_sw_avx2
#define SW_SEGLEN        es_sw_avx2_seglen
#define V_LOAD(p)        _mm256_load_si256(p)
#define V_STORE(p, v)    _mm256_store_si256(p, v)
#define V_MAX(a, b)      _mm256_max_epi16(a, b)
#define V_SUBS(a, b)     _mm256_subs_epi16(a, b)
#define V_ADDS(a, b)     _mm256_adds_epi16(a, b)
#define V_SET1(x)        _mm256_set1_epi16(x)
#define V_ZERO()         _mm256_setzero_si256()
#define V_LANE0(x)       _mm256_setr_epi16(x, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)  /* x in lane 0 */
#define V_ANY_GT(a, b)   (_mm256_movemask_epi8(_mm256_cmpgt_epi16(a, b)) != 0)

/* lane k <- lane k-d, lanes < d <- vNeg's (d a constant: 1, 2, 4, 8) */
#define SHIFT_NEG(v, vNeg, d) ((d) == 8 ? _mm256_permute2x128_si256(v, vNeg, 0x02) \
	: _mm256_alignr_epi8(v, _mm256_permute2x128_si256(v, vNeg, 0x02), 16 - 2 * (d)))

/* lane k <- lane k-1 for k >= 1, lane 0 <- x (x0 holds x in lane 0 and 0 elsewhere) */
static inline vec_t shift_in(vec_t v, vec_t x0)
{
	__m256i lo = _mm256_permute2x128_si256(v, v, 0x08);  /* [0, v.lo] */
	return _mm256_add_epi16(_mm256_alignr_epi8(v, lo, 14), x0);
}

static inline __m128i hmax_half(vec_t v)
{
	return _mm_max_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

#elif defined(ES_SIMD_AVX512)
#define W 32   /* lanes */
typedef __m512i vec_t;
#define SW_FILL          es_sw_avx512
#define SW_SEGLEN        es_sw_avx512_seglen
#define V_LOAD(p)        _mm512_load_si512(p)
#define V_STORE(p, v)    _mm512_store_si512(p, v)
#define V_MAX(a, b)      _mm512_max_epi16(a, b)
#define V_SUBS(a, b)     _mm512_subs_epi16(a, b)
#define V_ADDS(a, b)     _mm512_adds_epi16(a, b)
#define V_SET1(x)        _mm512_set1_epi16(x)
#define V_ZERO()         _mm512_setzero_si512()
#define V_LANE0(x)       _mm512_maskz_set1_epi16(1, x)
#define V_ANY_GT(a, b)   (_mm512_cmpgt_epi16_mask(a, b) != 0)

/* lane k <- lane k-d (d = 1, 2, 4, 8, 16), lanes < d <- vNeg's: one permute per shift */
#define IX(d) { (0 >= d ? 0 - d : 0), (1 >= d ? 1 - d : 0), (2 >= d ? 2 - d : 0), (3 >= d ? 3 - d : 0), \
	(4 >= d ? 4 - d : 0), (5 >= d ? 5 - d : 0), (6 >= d ? 6 - d : 0), (7 >= d ? 7 - d : 0), (8 >= d ? 8 - d : 0), \
	(9 >= d ? 9 - d : 0), (10 >= d ? 10 - d : 0), 11 - d, 12 - d, 13 - d, 14 - d, 15 - d, 16 - d, 17 - d, 18 - d, \
	19 - d, 20 - d, 21 - d, 22 - d, 23 - d, 24 - d, 25 - d, 26 - d, 27 - d, 28 - d, 29 - d, 30 - d, 31 - d }
static const uint16_t shift_ix[5][32] __attribute__((aligned(64))) = { IX(1), IX(2), IX(4), IX(8), IX(16) };
static inline vec_t shift_neg(vec_t v, vec_t vNeg, int d)
{
	int k = d == 1 ? 0 : d == 2 ? 1 : d == 4 ? 2 : d == 8 ? 3 : 4;
	__m512i ix = _mm512_load_si512(shift_ix[k]);
	return _mm512_mask_permutexvar_epi16(vNeg, (__mmask32)(0xffffffffu << d), ix, v);
}
#define SHIFT_NEG(v, vNeg, d) shift_neg(v, vNeg, d)

/* lane k <- lane k-1 for k >= 1, lane 0 <- x (x0 holds x in lane 0 and 0 elsewhere) */
static inline vec_t shift_in(vec_t v, vec_t x0)
{
	return _mm512_add_epi16(shift_neg(v, _mm512_setzero_si512(), 1), x0);
}

static inline __m128i hmax_half(vec_t v)
{
	__m256i h = _mm256_max_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
	return _mm_max_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

#else
#error "align_simd.c is compiled once per instruction set: -DES_SIMD_AVX2 or -DES_SIMD_AVX512 (see the Makefile)"
#endif
/* ---- end of the instruction-set block: what follows is the same for every width ---- */

int SW_SEGLEN(int qlen)
{
	return (qlen + W - 1) / W;
}

/* Maximum over the lanes. */
static inline int hmax16(vec_t v)
{
	__m128i m = hmax_half(v);
	m = _mm_max_epi16(m, _mm_srli_si128(m, 8));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 4));
	m = _mm_max_epi16(m, _mm_srli_si128(m, 2));
	return (int16_t)_mm_extract_epi16(m, 0);
}

/* x saturated to int16, in every lane */
static inline vec_t set1_sat(int64_t x)
{
	return V_SET1((int16_t)(x > 32767 ? 32767 : x));
}

/* Can 16-bit lanes hold every score? The best objective is at most qlen*max(mat) + 2*bonus; penalties must fit too. */
static int fits16(const es_swp_t *p, int qlen)
{
	int maxm = 0;
	int minm = 0;
	for (int k = 0; k < 25; k++) {
		if (p->mat[k] > maxm)
			maxm = p->mat[k];
		if (p->mat[k] < minm)
			minm = p->mat[k];
	}
	return (int64_t)qlen * maxm + 2 * (int64_t)p->bonus <= 32000 && minm >= -16000 && p->oe <= 16000 &&
	       p->ge <= 16000;
}

/* Striped query profile: prof[c*S + s] holds, lane l, the score of query position l*S+s against target code c
 * (with the end bonus on the last position; INT16_MIN past the query's end). */
static void build_profile(vec_t *prof, const uint8_t *q, int qlen, const es_swp_t *p, int S)
{
	for (int c = 0; c < 5; c++) {
		int16_t *pc = (int16_t *)(prof + c * S);
		for (int s = 0; s < S; s++)
			for (int l = 0; l < W; l++) {
				int i = l * S + s;
				int v = i < qlen ? p->mat[q[i] * 5 + c] + (i == qlen - 1 ? p->bonus : 0) : INT16_MIN;
				pc[s * W + l] = (int16_t)v;
			}
	}
}

/* F entering each lane's segment 0: max over earlier lanes l' of Fout[l'] - ge*S*(l-1-l'), by a prefix-max scan of
 * log2(W) shifts; vScan[k] is the decay over 2^k whole lanes. */
static inline vec_t lane_scan(vec_t vF1, vec_t vNeg, const vec_t *vScan)
{
	vF1 = SHIFT_NEG(vF1, vNeg, 1);
	vF1 = V_MAX(vF1, V_SUBS(SHIFT_NEG(vF1, vNeg, 1), vScan[0]));
	vF1 = V_MAX(vF1, V_SUBS(SHIFT_NEG(vF1, vNeg, 2), vScan[1]));
	vF1 = V_MAX(vF1, V_SUBS(SHIFT_NEG(vF1, vNeg, 4), vScan[2]));
	vF1 = V_MAX(vF1, V_SUBS(SHIFT_NEG(vF1, vNeg, 8), vScan[3]));
#if W == 32
	vF1 = V_MAX(vF1, V_SUBS(SHIFT_NEG(vF1, vNeg, 16), vScan[4]));
#endif
	return vF1;
}

/* Decay of a carried F over 2^k whole lanes into vScan[k] (saturated: a gap that long is worth nothing anyway);
 * returns the decay from segment 0 to S-1. */
static inline vec_t scan_decay(vec_t vScan[5], int ge, int S)
{
	for (int k = 0; k < 5; k++)
		vScan[k] = set1_sat(((int64_t)ge * S) << k);
	return set1_sat((int64_t)ge * (S - 1));
}

/* Finish the last column only (H = max(Ht, F)), for the traceback. */
static void finish_last(vec_t *Hj, const vec_t *pvHt, vec_t vF, vec_t vOE, vec_t vGE, int S)
{
	for (int s = 0; s < S; s++) {
		vec_t vHt = V_LOAD(pvHt + s);
		V_STORE(Hj + s, V_MAX(vHt, vF));
		vF = V_MAX(V_SUBS(vF, vGE), V_SUBS(vHt, vOE));
	}
}

/* Smallest row of column bj holding the best (H kept, best > 0). */
static int best_row(const int16_t *H, int qlen, int S, int bj, int best)
{
	const int16_t *col = H + (size_t)(bj + 1) * S * W;
	for (int i = 0; i < qlen; i++)
		if (col[(size_t)(i % S) * W + i / S] == best)
			return i;
	return -1;
}

int SW_FILL(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int16_t *H, es_swmat_t *m)
{
	if (!fits16(p, qlen))
		return -1;
	const int S = SW_SEGLEN(qlen);
	/* profile (5 target codes x S), Ht (H before vertical gaps) and E of one column */
	size_t nvec = (size_t)S * 7;
	vec_t stackbuf[7 * 512 / W];  /* queries up to 512 bases need no allocation */
	vec_t *buf = stackbuf;
	if (nvec > sizeof stackbuf / sizeof stackbuf[0])
		buf = aligned_alloc(sizeof(vec_t), nvec * sizeof(vec_t));
	if (!buf)
		return -1;
	vec_t *prof = buf;
	vec_t *pvHt = buf + 5 * S;
	vec_t *pvE = pvHt + S;
	build_profile(prof, q, qlen, p, S);
	const vec_t vNeg = V_SET1(INT16_MIN);
	const vec_t vZero = V_ZERO();
	const vec_t vOE = V_SET1((int16_t)p->oe);
	const vec_t vGE = V_SET1((int16_t)p->ge);
	const vec_t vBonus0 = V_LANE0((int16_t)p->bonus);
	vec_t vScan[5];
	const vec_t vLast = scan_decay(vScan, p->ge, S);
	/* Column j-1 = -1 to start: Ht = 0 (H[i][-1] = 0), no F, E of column -1 irrelevant (E[i][0] = 0-oe). */
	for (int s = 0; s < S; s++) {
		pvHt[s] = vZero;
		pvE[s] = vNeg;
	}
	vec_t vX = vNeg;       /* F entering segment 0 of each lane, column j */
	vec_t vFpen = vNeg;    /* in-lane F entering segment S-1, column j */
	vec_t vBest = vZero;
	int best = 0;
	int bj = -1;
	/* Each pass finishes column j (H = max(Ht, F), E of column j+1) and computes Ht and in-lane F of column j+1:
	 * fusing the two halves saves a load and a store of both H and E per segment. */
	for (int j = -1; j < tlen - 1; j++) {
		vec_t *Hj = H ? (vec_t *)H + (size_t)(j + 1) * S : NULL;   /* final H of column j */
		const vec_t *vP = prof + t[j + 1] * S;
		/* final H of column j, last segment: its lane-shift is the diagonal of column j+1's segment 0 */
		vec_t vFlast = V_MAX(vFpen, V_SUBS(vX, vLast));
		vec_t vDiag = shift_in(V_MAX(V_LOAD(pvHt + S - 1), vFlast), vBonus0);
		vec_t vF = vX;
		vec_t vF1 = vNeg;
		vec_t vColMax = vZero;
		for (int s = 0; s < S; s++) {
			vec_t vHt = V_LOAD(pvHt + s);
			vec_t vH = V_MAX(vHt, vF);                       /* final H of column j */
			if (Hj)
				V_STORE(Hj + s, vH);
			vF = V_MAX(V_SUBS(vF, vGE), V_SUBS(vHt, vOE));  /* opening from Ht suffices */
			vec_t vE = V_MAX(V_SUBS(V_LOAD(pvE + s), vGE), V_SUBS(vH, vOE));
			V_STORE(pvE + s, vE);                            /* E of column j+1 */
			vec_t vHt1 = V_MAX(V_MAX(V_ADDS(vDiag, V_LOAD(vP + s)), vE), vZero);
			V_STORE(pvHt + s, vHt1);                         /* Ht of column j+1 */
			vColMax = V_MAX(vColMax, vHt1);                  /* an F-made H is never a column's maximum */
			vFpen = vF1;
			vF1 = V_MAX(V_SUBS(vF1, vGE), V_SUBS(vHt1, vOE));
			vDiag = vH;
		}
		vX = lane_scan(vF1, vNeg, vScan);
		/* first column holding a new best: strict, so ties keep the smaller j */
		if (V_ANY_GT(vColMax, vBest)) {
			best = hmax16(vColMax);
			vBest = V_SET1((int16_t)best);
			bj = j + 1;
		}
	}
	if (H)
		finish_last((vec_t *)H + (size_t)tlen * S, pvHt, vX, vOE, vGE, S);
	if (buf != stackbuf)
		free(buf);
	*m = (es_swmat_t){ .H16 = H, .H32 = 0, .w = W, .seglen = S, .best = best, .bj = bj };
	m->bi = H && best > 0 ? best_row(H, qlen, S, bj, best) : -1;
	return 0;
}
