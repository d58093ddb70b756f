/* qconv.c — int8 inference of a valid 1-D convolution (qconv.h): quantising the weights once and the activations per
 * call, the scalar kernel (the twin of qconv_avx2.c / qconv_avx512.c, which must agree with it bit for bit) and the
 * run-time choice of kernel. */
#include "qconv.h"
#include "util.h"
/* The scalar kernels are the fallback of CPUs without AVX2 (and the quantiser does the SIMD ones' row tails): let GCC
 * vectorise their loops (the Makefile builds with -O2, whose cost model refuses loops of run-time length), as nn.c.
 * no-trapping-math lets it if-convert the clamps before the float -> int conversion; no value changes. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

int es_qconv_eligible(int C, int OC, int k)
{
	return C > 0 && k > 0 && OC > 0 && (k * C) % 4 == 0 && OC % 16 == 0;
}

/* Activation scales sa (C) from the ranges amax: 127 steps over [0, amax[c]]. A channel with no positive range is
 * always 0 after the ReLU, so any scale serves it: 1/127. */
static void act_scales(const float *amax, int C, float *sa)
{
	for (int c = 0; c < C; c++)
		sa[c] = (amax[c] > 0 ? amax[c] : 1.0f) / 127.0f;
}

/* Weights of output o, each times the scale of its input channel (so the u8 activations need no per-channel factor
 * in the sum), symmetric per output: sw[o] = max |w'| / 127, w8 = round(w' / sw[o]) in -127..127. */
static void quant_weights(es_qconv_t *q, const float *w, const float *sa)
{
	int K = q->K;
	int OC = q->OC;
	for (int o = 0; o < OC; o++) {
		double mx = 0;
		for (int r = 0; r < K; r++)
			mx = fmax(mx, fabs((double)w[(size_t)r * OC + o] * sa[r % q->C]));
		double s = mx > 0 ? mx / 127.0 : 1.0;
		q->sw[o] = (float)s;
		for (int r = 0; r < K; r++) {
			long v = lround((double)w[(size_t)r * OC + o] * sa[r % q->C] / s);
			v = v > 127 ? 127 : v < -127 ? -127 : v;
			q->w8[((size_t)(r / 4) * OC + o) * 4 + r % 4] = (int8_t)v;  /* [K/4][OC][4] */
		}
	}
}

/* The largest int16 lane sum bound of group g: 127 * (|w| + |w|) of the two rows of one lane, over outputs and lanes */
static int group_bound(const es_qconv_t *q, int g, int *lane)
{
	int mx = 0;
	for (int o = 0; o < q->OC; o++)
		for (int h = 0; h < 2; h++) {
			const int8_t *w = q->w8 + ((size_t)g * q->OC + o) * 4 + 2 * h;
			int v = abs(w[0]) + abs(w[1]);
			if (lane)
				lane[o * 2 + h] = v;
			mx = v > mx ? v : mx;
		}
	return mx;
}

/* The AVX2 pairing (qconv.h): greedy, the group of largest weights first, each with the unpaired group of largest
 * bound it may be added to in int16 (per lane 127 * (s_g + s_h) <= 32767). Fills npair, gord, w8p. */
static void pair_groups(es_qconv_t *q)
{
	int G = q->K / 4, L = 2 * q->OC;
	int *lane = es_malloc((size_t)G * L * sizeof(int)), *bound = es_malloc(G * sizeof(int));
	char *used = es_calloc(G, 1);
	for (int g = 0; g < G; g++)
		bound[g] = group_bound(q, g, lane + (size_t)g * L);
	q->gord = es_malloc(G * sizeof(int32_t));
	int n = 0;
	for (;;) {
		int g = -1;   /* the unpaired group of largest bound (lowest index among ties) */
		for (int i = 0; i < G; i++)
			if (!used[i] && (g < 0 || bound[i] > bound[g]))
				g = i;
		if (g < 0)
			break;
		used[g] = 1;
		int best = -1;
		for (int h = 0; h < G; h++) {
			if (used[h] || (best >= 0 && bound[h] <= bound[best]))
				continue;
			int ok = 1;
			for (int l = 0; l < L && ok; l++)
				ok = 127 * (lane[(size_t)g * L + l] + lane[(size_t)h * L + l]) <= 32767;
			if (ok)
				best = h;
		}
		if (best < 0) {   /* a single: after the pairs */
			used[g] = 2;
			continue;
		}
		used[best] = 1;
		q->gord[n++] = g;
		q->gord[n++] = best;
	}
	q->npair = n / 2;
	for (int g = 0; g < G; g++)
		if (used[g] == 2)
			q->gord[n++] = g;
	/* on a cache line: with malloc's 16-byte alignment half the 32-byte weight loads of the AVX2 tile crossed a line
	 * (the shipped model's layer: 52-58 us per 242-position call instead of 43) */
	q->w8p = es_malloc64((size_t)q->K * q->OC);
	for (int j = 0; j < G; j++)
		memcpy(q->w8p + (size_t)j * q->OC * 4, q->w8 + (size_t)q->gord[j] * q->OC * 4, (size_t)q->OC * 4);
	free(lane);
	free(bound);
	free(used);
}

static es_qconv_t *qconv_alloc(int C, int OC, int k, int s)
{
	if (!es_qconv_eligible(C, OC, k) || s < 1)
		return NULL;
	es_qconv_t *q = es_calloc(1, sizeof *q);
	q->C = C;
	q->OC = OC;
	q->k = k;
	q->s = s;
	q->K = k * C;
	q->inv_sa = es_malloc(C * sizeof(float));
	q->w8 = es_malloc64((size_t)q->K * OC);   /* the AVX-512 tile loads 64 bytes at a time */
	q->sw = es_malloc(OC * sizeof(float));
	q->b = es_malloc(OC * sizeof(float));
	q->kern = es_qconv_kernels(es_qconv_best_level());
	return q;
}

es_qconv_t *es_qconv_new(const float *w, const float *b, const float *amax, int C, int OC, int k, int s)
{
	es_qconv_t *q = qconv_alloc(C, OC, k, s);
	if (!q)
		return NULL;
	float *sa = es_malloc(C * sizeof(float));
	act_scales(amax, C, sa);
	for (int c = 0; c < C; c++)
		q->inv_sa[c] = 1.0f / sa[c];
	quant_weights(q, w, sa);
	memcpy(q->b, b, OC * sizeof(float));
	free(sa);
	pair_groups(q);
	return q;
}

es_qconv_t *es_qconv_wrap(const int8_t *w8, const float *sw, const float *b, int C, int OC, int k, int s)
{
	es_qconv_t *q = qconv_alloc(C, OC, k, s);
	if (!q)
		return NULL;
	for (int c = 0; c < C; c++)
		q->inv_sa[c] = 1.0f;
	memcpy(q->w8, w8, (size_t)q->K * OC);
	memcpy(q->sw, sw, OC * sizeof(float));
	memcpy(q->b, b, OC * sizeof(float));
	pair_groups(q);
	return q;
}

void es_qconv_free(es_qconv_t *q)
{
	if (!q)
		return;
	free(q->inv_sa);
	free(q->w8);
	free(q->w8p);
	free(q->gord);
	free(q->sw);
	free(q->b);
	free(q);
}

void es_qquant_scalar(uint8_t *a8, const float *inp, const float *inv_sa, int T, int C)
{
	for (int t = 0; t < T; t++) {
		const float *x = inp + (size_t)t * C;
		uint8_t *o = a8 + (size_t)t * C;
		for (int c = 0; c < C; c++) {
			float v = x[c] * inv_sa[c];
			v = v > 0.0f ? v : 0.0f;      /* also NaN -> 0, as maxps(v, 0) */
			v = v < 127.0f ? v : 127.0f;  /* saturate: 7 bits, so no vpmaddubsw pair sum can overflow */
			int32_t iv = (int32_t)(v + 0.5f);  /* round half up (v >= 0), truncating as cvttps2dq */
			o[c] = (uint8_t)iv;
		}
	}
}

void es_qconv_forward(const es_qconv_t *q, float *out, uint8_t *a8, const float *inp, int T)
{
	if (T < q->k)
		return;
	int To = (T - q->k) / q->s + 1;
	q->kern->quant(a8, inp, q->inv_sa, T, q->C);
	q->kern->conv(q, out, a8, To, q->s * q->C);
}

/* The twin: plain loops, 16 outputs at a time (OC % 16 == 0) so that the compiler vectorises the sums over them;
 * integer sums are exact in any order. fmaf rounds once, like the SIMD kernels' FMA. */
#define SCALAR_NO 16
void es_qconv_scalar(const es_qconv_t *q, float *out, const uint8_t *a, int To, int stride)
{
	const int8_t *w8 = q->w8;
	const float *sw = q->sw, *b = q->b;
	int K = q->K, OC = q->OC;
	for (int t = 0; t < To; t++) {
		const uint8_t *row = a + (size_t)t * stride;
		float *y = out + (size_t)t * OC;
		for (int o0 = 0; o0 < OC; o0 += SCALAR_NO) {
			int32_t acc[SCALAR_NO] = { 0 };
			for (int r = 0; r < K; r += 4) {
				const int8_t *wg = w8 + ((size_t)(r / 4) * OC + o0) * 4;  /* [r/4][o0..][4] */
				for (int o = 0; o < SCALAR_NO; o++)
					for (int i = 0; i < 4; i++)
						acc[o] += (int32_t)row[r + i] * wg[o * 4 + i];
			}
			for (int o = 0; o < SCALAR_NO; o++)
				y[o0 + o] = fmaf((float)acc[o], sw[o0 + o], b[o0 + o]);
		}
	}
}

const es_qconv_kern_t *es_qconv_kernels(int level)
{
	static const es_qconv_kern_t kern[3] = {
		{ es_qconv_scalar, es_qquant_scalar, "scalar" },
		{ es_qconv_avx2, es_qquant_avx2, "avx2" },
		{ es_qconv_avx512, es_qquant_avx512, "avx512vnni" },
	};
	__builtin_cpu_init();
	int ok = level == 0;
	if (level == 1)
		ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	/* the sets qconv_avx512.c is built with (AVX512_FLAGS), less VPOPCNTDQ: it counts no bits, and Cascade Lake has
	 * VNNI without VPOPCNTDQ */
	if (level == 2)
		ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
		     && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
		     && __builtin_cpu_supports("avx512vnni");
	return ok ? &kern[level] : NULL;
}

int es_qconv_best_level(void)
{
	/* ES_SIMD=scalar|avx2 caps the level, as for the vector-store scans (ann.c), for tests and measurements */
	const char *force = getenv("ES_SIMD");
	int cap = force && !strcmp(force, "scalar") ? 0 : force && !strcmp(force, "avx2") ? 1 : 2;
	int lv = cap;
	while (lv > 0 && !es_qconv_kernels(lv))
		lv--;
	return lv;
}
