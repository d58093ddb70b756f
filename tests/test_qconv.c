/* test_qconv.c — the int8 conv layer of encoder inference (src/qconv.c): every SIMD kernel against the scalar twin
 * (bit-identical bytes and floats), the int8 layer against the float convolution, fixed activation scales (a window
 * alone gives the rows it gives inside a longer input), and the int8 encoder against the float one on the shipped
 * model (cosine, exact strand invariance, its own checksum and name, ESALIGN_ENCODER_FLOAT=1, ES_SIMD=scalar). */
#include "test.h"
#include "qconv.h"
#include "nn.h"
#include "model.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>

#define SHIPPED_MODEL "models/esalign.model"  /* the runner works in the repository root */

static void rand_u7(uint8_t *a, size_t n, es_rng_t *r)
{
	for (size_t i = 0; i < n; i++)
		a[i] = (uint8_t)es_rng_below(r, 128);
}

static void rand_s8(int8_t *w, size_t n, es_rng_t *r)
{
	for (size_t i = 0; i < n; i++)
		w[i] = (int8_t)((int)es_rng_below(r, 255) - 127);
}

/* Every kernel level this CPU runs against level 0 on one shape; a, w8, sw, b already filled (wrapped into a layer,
 * whose AVX2 pairing is made from w8). Returns mismatches. */
static int conv_levels_agree(const uint8_t *a, int To, int stride, const int8_t *w8, const float *sw, const float *b,
                             int C, int k, int OC)
{
	size_t n = (size_t)To * OC;
	float *ref = malloc(n * sizeof(float) + 1);
	float *got = malloc(n * sizeof(float) + 1);
	es_qconv_t *q = es_qconv_wrap(w8, sw, b, C, OC, k, 1);
	es_qconv_kernels(0)->conv(q, ref, a, To, stride);
	int bad = 0;
	for (int lv = 1; lv <= 2; lv++) {
		const es_qconv_kern_t *kk = es_qconv_kernels(lv);
		if (!kk)
			continue;
		memset(got, 0xff, n * sizeof(float));
		kk->conv(q, got, a, To, stride);
		if (memcmp(ref, got, n * sizeof(float))) {
			bad++;
			fprintf(stderr, "    %s differs: To=%d stride=%d K=%d OC=%d pairs=%d\n", kk->name, To, stride, k * C, OC,
			        q->npair);
		}
	}
	es_qconv_free(q);
	free(ref);
	free(got);
	return bad;
}

/* ---- kernels vs the scalar twin: random shapes (T 9..300, odd lengths, strides 1-2, output blocks of 64 + 16 and
 * 32 + 16), and the extreme operands (every activation 127, every weight +-127: the largest pair sums) ---- */
TEST(qconv_kernels_match_scalar)
{
	es_rng_t r;
	es_rng_seed(&r, 41);
	static const int Ts[] = { 9, 10, 11, 12, 13, 17, 31, 64, 99, 150, 242, 255, 300 };
	static const int shapes[][3] = { { 32, 9, 64 }, { 32, 9, 16 }, { 32, 9, 48 }, { 32, 9, 80 }, { 4, 1, 32 },
	                                 { 12, 3, 112 }, { 20, 5, 64 } };  /* C, k, OC */
	int bad = 0;
	for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
		int C = shapes[si][0], k = shapes[si][1], OC = shapes[si][2], K = k * C;
		CHECK(es_qconv_eligible(C, OC, k));
		int8_t *w8 = malloc((size_t)K * OC);
		float *sw = malloc(OC * sizeof(float)), *b = malloc(OC * sizeof(float));
		rand_s8(w8, (size_t)K * OC, &r);
		for (int o = 0; o < OC; o++) {
			sw[o] = (float)(es_rng_uniform(&r) * 1e-3);
			b[o] = (float)es_rng_normal(&r);
		}
		for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++)
			for (int s = 1; s <= 2; s++) {
				int T = Ts[ti], To = es_nn_conv_outlen(T, k, s);
				uint8_t *a = malloc((size_t)T * C);
				rand_u7(a, (size_t)T * C, &r);
				bad += conv_levels_agree(a, To, s * C, w8, sw, b, C, k, OC);
				memset(a, 127, (size_t)T * C);
				memset(w8, ti & 1 ? 0x81 : 0x7f, (size_t)K * OC);  /* -127 or +127 everywhere */
				bad += conv_levels_agree(a, To, s * C, w8, sw, b, C, k, OC);
				es_qconv_t *q = es_qconv_wrap(w8, sw, b, C, 16, k, 1);   /* the first 16 outputs */
				float y[16];  /* one position */
				es_qconv_kernels(es_qconv_best_level())->conv(q, y, a, 1, s * C);
				float want = fmaf((float)((ti & 1 ? -1 : 1) * K * 127 * 127), sw[0], b[0]);
				CHECK(y[0] == want);  /* the exact sum: nothing saturated */
				CHECK_EQ_INT(q->npair, 0);   /* 127 * 4 * 127 > 32767: no two groups may share an int16 sum */
				es_qconv_free(q);
				/* weights of at most 64 (any two groups pair: 127 * 4 * 64 <= 32767) and of at most 65 (the largest
				 * pairs then reach 33,020 and must not form), every activation 127: the int16 sums at their limit */
				for (int lim = 64; lim <= 65; lim++) {
					for (size_t i = 0; i < (size_t)K * OC; i++)
						w8[i] = (int8_t)((i % 3 == 0 ? -1 : 1) * (lim - (int)es_rng_below(&r, 2) * (i % 5 == 0)));
					bad += conv_levels_agree(a, To, s * C, w8, sw, b, C, k, OC);
					rand_u7(a, (size_t)T * C, &r);
					bad += conv_levels_agree(a, To, s * C, w8, sw, b, C, k, OC);
					memset(a, 127, (size_t)T * C);
					es_qconv_t *qp = es_qconv_wrap(w8, sw, b, C, OC, k, 1);
					if (lim == 64)
						CHECK_EQ_INT(qp->npair, K / 8);
					for (int g = 0; g < 2 * qp->npair; g += 2)   /* every pair within int16, lane by lane */
						for (int o = 0; o < OC; o++)
							for (int h = 0; h < 2; h++) {
								int sum = 0;
								for (int e = 0; e < 2; e++)
									for (int u = 0; u < 2; u++)
										sum += abs(w8[((size_t)qp->gord[g + e] * OC + o) * 4 + 2 * h + u]);
								CHECK(127 * sum <= 32767);
							}
					es_qconv_free(qp);
				}
				rand_s8(w8, (size_t)K * OC, &r);
				free(a);
			}
		free(w8);
		free(sw);
		free(b);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(es_qconv_kernels(0) != NULL && es_qconv_kernels(es_qconv_best_level()) != NULL);
}

/* ---- the activation quantiser of every level against the twin: signs, NaN, +-inf, values at .5 steps, values past
 * 127, channel counts with and without a tail ---- */
TEST(qconv_quant_match_scalar)
{
	es_rng_t r;
	es_rng_seed(&r, 43);
	static const int Cs[] = { 32, 7, 16, 20, 40, 1 };
	for (size_t ci = 0; ci < sizeof Cs / sizeof Cs[0]; ci++) {
		int C = Cs[ci], T = 37;
		size_t n = (size_t)T * C;
		float *x = malloc(n * sizeof(float)), *inv = malloc(C * sizeof(float));
		uint8_t *ref = malloc(n), *got = malloc(n);
		for (int c = 0; c < C; c++)
			inv[c] = c % 3 ? (float)(1 + es_rng_uniform(&r) * 50) : 1.0f;
		for (size_t i = 0; i < n; i++) {
			int kind = (int)es_rng_below(&r, 8);
			x[i] = kind == 0 ? (float)(es_rng_below(&r, 300)) * 0.5f : (float)(es_rng_normal(&r) * 3);
			x[i] = kind == 1 ? NAN : kind == 2 ? INFINITY * (es_rng_below(&r, 2) ? 1 : -1) : x[i];
		}
		es_qquant_scalar(ref, x, inv, T, C);
		for (size_t i = 0; i < n; i++)
			CHECK(ref[i] <= 127);
		for (int lv = 1; lv <= 2; lv++) {
			const es_qconv_kern_t *k = es_qconv_kernels(lv);
			if (!k)
				continue;
			memset(got, 0xff, n);
			k->quant(got, x, inv, T, C);
			CHECKF(memcmp(ref, got, n) == 0, "%s, C=%d", k->name, C);
		}
		free(x);
		free(inv);
		free(ref);
		free(got);
	}
	float v[4] = { 0.5f / 3, 1.0f, -2.0f, 1e9f };
	float inv[4] = { 3, 126.5f, 1, 1 };
	uint8_t q[4];
	es_qquant_scalar(q, v, inv, 1, 4);
	CHECK(q[0] == 1 && q[1] == 127 && q[2] == 0 && q[3] == 127);  /* half up; saturation; negative -> 0 */
}

/* A conv layer with He-scaled random weights and ReLU'd random inputs (T, C); amax (C) the inputs' channel maxima. */
typedef struct {
	int T, C, OC, k, s;
	float *w, *b, *x, *amax;
} layer_t;

static void layer_init(layer_t *L, int T, int C, int OC, int k, int s, es_rng_t *r)
{
	L->T = T;
	L->C = C;
	L->OC = OC;
	L->k = k;
	L->s = s;
	L->w = malloc((size_t)k * C * OC * sizeof(float));
	L->b = malloc(OC * sizeof(float));
	L->x = malloc((size_t)T * C * sizeof(float));
	L->amax = calloc(C, sizeof(float));
	for (int i = 0; i < k * C * OC; i++)
		L->w[i] = (float)(es_rng_normal(r) * sqrt(2.0 / (k * C)));
	for (int o = 0; o < OC; o++)
		L->b[o] = (float)(es_rng_normal(r) * 0.1);
	for (int i = 0; i < T * C; i++) {
		double v = es_rng_normal(r) * (1 + i % C % 4);  /* channels of different ranges */
		L->x[i] = v > 0 ? (float)v : 0.0f;
		L->amax[i % C] = fmaxf(L->amax[i % C], L->x[i]);
	}
}

static void layer_free(layer_t *L)
{
	free(L->w);
	free(L->b);
	free(L->x);
	free(L->amax);
}

/* ---- int8 against float: the error relative to the outputs' scale, for strides 1 and 2 ---- */
TEST(qconv_close_to_float_conv)
{
	es_rng_t r;
	es_rng_seed(&r, 47);
	for (int s = 1; s <= 2; s++) {
		layer_t L;
		layer_init(&L, 242, 32, 64, 9, s, &r);
		int To = es_nn_conv_outlen(L.T, L.k, L.s);
		size_t n = (size_t)To * L.OC;
		float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
		float *col = malloc((size_t)To * L.k * L.C * sizeof(float));
		uint8_t *a8 = malloc((size_t)L.T * L.C);
		es_nn_conv_forward(ref, col, L.x, L.w, L.b, L.T, L.C, L.OC, L.k, L.s);
		es_qconv_t *q = es_qconv_new(L.w, L.b, L.amax, L.C, L.OC, L.k, L.s);
		CHECK(q != NULL);
		es_qconv_forward(q, got, a8, L.x, L.T);
		double emax = 0, e2 = 0, rmax = 0, r2 = 0;
		for (size_t i = 0; i < n; i++) {
			double d = got[i] - ref[i];
			emax = fmax(emax, fabs(d));
			e2 += d * d;
			rmax = fmax(rmax, fabs(ref[i]));
			r2 += (double)ref[i] * ref[i];
		}
		double rel_max = emax / rmax, rel_rms = sqrt(e2 / r2);
		fprintf(stderr, "    stride %d (%s): max error %.4f of max |output|, rms error %.4f of rms output\n", s,
		        q->kern->name, rel_max, rel_rms);
		/* measured 0.0128 / 0.0125 (stride 1), 0.0135 / 0.0116 (stride 2): 127 levels per channel's range */
		CHECKF(rel_max < 0.03 && rel_rms < 0.025, "stride %d: %g %g", s, rel_max, rel_rms);
		es_qconv_free(q);
		layer_free(&L);
		free(ref);
		free(got);
		free(col);
		free(a8);
	}
	float w[4 * 16] = { 0 }, b[16] = { 0 }, amax[4] = { 1, 1, 1, 1 };
	CHECK(es_qconv_new(w, b, amax, 3, 16, 1, 1) == NULL);  /* K % 4 != 0 */
	CHECK(es_qconv_new(w, b, amax, 4, 8, 1, 1) == NULL);   /* OC % 16 != 0 */
}

/* ---- fixed scales: a window alone gives exactly the output rows it gives inside a longer input ---- */
TEST(qconv_window_alone_equals_inside)
{
	es_rng_t r;
	es_rng_seed(&r, 53);
	layer_t L;
	layer_init(&L, 300, 32, 64, 9, 1, &r);
	es_qconv_t *q = es_qconv_new(L.w, L.b, L.amax, L.C, L.OC, L.k, L.s);
	int To = es_nn_conv_outlen(L.T, L.k, 1);
	float *all = malloc((size_t)To * L.OC * sizeof(float)), *win = malloc((size_t)To * L.OC * sizeof(float));
	uint8_t *a8 = malloc((size_t)L.T * L.C);
	es_qconv_forward(q, all, a8, L.x, L.T);
	static const int offs[][2] = { { 0, 100 }, { 57, 150 }, { 291 - 100, 109 }, { 13, 9 } };  /* start, length */
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		int off = offs[i][0], W = offs[i][1], Wo = es_nn_conv_outlen(W, L.k, 1);
		es_qconv_forward(q, win, a8, L.x + (size_t)off * L.C, W);
		size_t bytes = (size_t)Wo * L.OC * sizeof(float);
		CHECKF(memcmp(win, all + (size_t)off * L.OC, bytes) == 0, "window %d+%d", off, W);
	}
	es_qconv_free(q);
	layer_free(&L);
	free(all);
	free(win);
	free(a8);
}

/* The shipped model as an encoder, int8 unless float_inference. */
static es_encoder_t *open_shipped(int float_inference)
{
	if (float_inference)
		setenv("ESALIGN_ENCODER_FLOAT", "1", 1);
	es_encoder_t *e = es_encoder_open(SHIPPED_MODEL);
	unsetenv("ESALIGN_ENCODER_FLOAT");
	return e;
}

/* n random sequences of length L (codes 0..3, a few N) and their reverse complements: rows 0..n-1, n..2n-1. */
static uint8_t **rand_seqs(int n, int L, es_rng_t *r)
{
	uint8_t **s = malloc(2 * n * sizeof *s);
	for (int i = 0; i < n; i++) {
		s[i] = malloc(L);
		s[n + i] = malloc(L);
		for (int j = 0; j < L; j++)
			s[i][j] = (uint8_t)(es_rng_below(r, 50) ? es_rng_below(r, 4) : 4);
		memcpy(s[n + i], s[i], L);
		es_revcomp(s[n + i], L);
	}
	return s;
}

static void free_seqs(uint8_t **s, int n)
{
	for (int i = 0; i < 2 * n; i++)
		free(s[i]);
	free(s);
}

/* Embed the 2n rows of s (length L) with e into y (2n, D). */
static void embed_all(const es_encoder_t *e, uint8_t **s, int n, int L, float *y)
{
	int *lens = malloc(2 * n * sizeof(int));
	for (int i = 0; i < 2 * n; i++)
		lens[i] = L;
	CHECK(es_encoder_embed(e, 2 * n, (const uint8_t *const *)s, lens, y) == 0);
	free(lens);
}

/* ---- the shipped model: int8 embeddings close to float (cosine), exactly strand-invariant, the same on every
 * kernel level (ES_SIMD=scalar), and an identity of their own ---- */
TEST(qconv_encoder_shipped_model)
{
	es_encoder_t *ef = open_shipped(1), *eq = open_shipped(0);
	CHECKF(ef && eq, "%s", es_last_error());
	if (!ef || !eq)
		return;
	const char *old = getenv("ES_SIMD");
	char *keep = old ? strdup(old) : NULL;
	setenv("ES_SIMD", "scalar", 1);
	es_encoder_t *es = open_shipped(0);
	if (keep)
		setenv("ES_SIMD", keep, 1);
	else
		unsetenv("ES_SIMD");
	free(keep);
	CHECK(strstr(es_encoder_name(eq), ",int8)") && !strstr(es_encoder_name(ef), "int8"));
	CHECK(es_encoder_checksum(ef) == es_model_checksum(ef->impl));
	CHECK(es_encoder_checksum(eq) != es_encoder_checksum(ef) && es_encoder_checksum(es) == es_encoder_checksum(eq));
	es_rng_t r;
	es_rng_seed(&r, 59);
	enum { N = 200, D = 64 };
	static const int Ls[] = { 100, 150, 250 };
	float *yf = malloc(2 * N * D * sizeof(float)), *yq = malloc(2 * N * D * sizeof(float));
	float *ys = malloc(2 * N * D * sizeof(float));
	for (int li = 0; li < 3; li++) {
		uint8_t **s = rand_seqs(N, Ls[li], &r);
		embed_all(ef, s, N, Ls[li], yf);
		embed_all(eq, s, N, Ls[li], yq);
		embed_all(es, s, N, Ls[li], ys);
		double cmin = 1, cmean = 0;
		for (int i = 0; i < N; i++) {
			double c = 0;
			for (int k = 0; k < D; k++)
				c += (double)yf[i * D + k] * yq[i * D + k];
			cmin = fmin(cmin, c);
			cmean += c / N;
			int same = memcmp(yq + i * D, yq + (N + i) * D, D * sizeof(float)) == 0;
			CHECKF(same, "%d bp, seq %d vs revcomp", Ls[li], i);
		}
		fprintf(stderr, "    %d bp: cosine int8 vs float mean %.5f, min %.5f\n", Ls[li], cmean, cmin);
		/* measured mean 0.99949 / 0.99934 / 0.99899, min 0.99905 / 0.99867 / 0.99820 at 100 / 150 / 250 bp */
		CHECKF(cmin > 0.995 && cmean > 0.998, "%d bp: cosine mean %g, min %g", Ls[li], cmean, cmin);
		CHECK(memcmp(yq, ys, 2 * N * D * sizeof(float)) == 0);
		free_seqs(s, N);
	}
	free(yf);
	free(yq);
	free(ys);
	es_encoder_destroy(ef);
	es_encoder_destroy(eq);
	es_encoder_destroy(es);
}

/* ---- which encoders are int8: an owning encoder of the default config is; a borrowed view (training) is not, nor a
 * config the kernels do not suit; a change of the weights requantises ---- */
TEST(qconv_encoder_kinds)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	es_model_t *m = es_model_new(&c, 61);
	es_encoder_t *v = es_encoder_borrow_model(m);
	CHECK(m->qconv == NULL && es_encoder_checksum(v) == es_model_checksum(m));
	es_encoder_destroy(v);
	es_encoder_t *e = es_encoder_from_model(m);
	CHECK(m->qconv != NULL && es_encoder_checksum(e) != es_model_checksum(m));
	uint64_t ck = es_encoder_checksum(e);
	int8_t w0 = m->qconv->w8[0];
	for (size_t i = m->L.conv_w[0]; i < m->L.conv_b[0]; i++)
		m->p[i] = -m->p[i];
	es_encoder_model_changed(e);
	CHECK(m->qconv != NULL && m->qconv->w8[0] == -w0 && es_encoder_checksum(e) != ck);
	es_encoder_destroy(e);
	c.d = 24;  /* 24 outputs: not a multiple of 16 */
	m = es_model_new(&c, 61);
	e = es_encoder_from_model(m);
	CHECK(m->qconv == NULL && es_encoder_checksum(e) == es_model_checksum(m));
	es_encoder_destroy(e);
}
