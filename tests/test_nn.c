/* test_nn.c — the encoder's numerics: every layer's backward against central finite differences, the whole
 * InfoNCE loss through the model, the GEMM convolution against its scalar twin, strand invariance, the model file
 * round trip and refusal of damaged files, and a tiny model overfitting a handful of pairs. */
#include "test.h"
#include "nn.h"
#include "model.h"
#include "train.h"
#include "thread.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>

/* ---- a generic finite-difference check ----
 * loss() is a scalar function of the float array x[0..n); g holds its analytic gradient. Checks up to nsample
 * entries (all when n <= nsample): |g - fd| <= atol + rtol * max(|g|,|fd|). Returns the number of mismatches. */
typedef double (*lossfn_t)(void);
static int gradcheck(const char *what, lossfn_t loss, float *x, const float *g, int n, int nsample, double eps, double rtol, double atol)
{
	es_rng_t r; es_rng_seed(&r, 99);
	int bad = 0;
	for (int s = 0; s < (n < nsample ? n : nsample); s++) {
		int i = n <= nsample ? s : (int)es_rng_below(&r, n);
		float x0 = x[i];
		x[i] = x0 + (float)eps; double lp = loss();
		x[i] = x0 - (float)eps; double lm = loss();
		x[i] = x0;
		double fd = (lp - lm) / (2 * eps), an = g[i];
		double tol = atol + rtol * (fabs(fd) > fabs(an) ? fabs(fd) : fabs(an));
		if (fabs(fd - an) > tol) {
			if (bad < 5) fprintf(stderr, "    %s[%d]: analytic %.6g, finite difference %.6g\n", what, i, an, fd);
			bad++;
		}
	}
	return bad;
}

static float *randv(size_t n, double std, es_rng_t *r)
{
	float *v = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++) v[i] = (float)(es_rng_normal(r) * std);
	return v;
}
/* sum(out * R): a scalar loss whose gradient w.r.t. out is R */
static double dotR(const float *out, const float *R, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) s += (double)out[i] * R[i];
	return s;
}

/* ---- convolution ---- */
enum { CT = 13, CC = 3, COC = 4, CK = 3, CS = 2 };
static float *cv_in, *cv_w, *cv_b, *cv_R, cv_out[64 * 8], cv_col[64 * 16];
static double cv_loss(void)
{
	es_nn_conv_forward(cv_out, cv_col, cv_in, cv_w, cv_b, CT, CC, COC, CK, CS);
	return dotR(cv_out, cv_R, (size_t)es_nn_conv_outlen(CT, CK, CS) * COC);
}

TEST(nn_conv_matches_scalar_twin)
{
	es_rng_t r; es_rng_seed(&r, 1);
	int T = 40, C = 8, OC = 16, k = 9;
	for (int s = 1; s <= 3; s++) {
		float *in = randv((size_t)T * C, 1, &r), *w = randv((size_t)k * C * OC, 1, &r), *b = randv(OC, 1, &r);
		int To = es_nn_conv_outlen(T, k, s);
		float *o1 = malloc((size_t)To * OC * 4), *o2 = malloc((size_t)To * OC * 4), *col = malloc((size_t)To * k * C * 4);
		es_nn_conv_forward(o1, col, in, w, b, T, C, OC, k, s);
		es_nn_conv_forward_ref(o2, in, w, b, T, C, OC, k, s);
		double mx = 0;
		for (int i = 0; i < To * OC; i++) mx = fmax(mx, fabs(o1[i] - o2[i]));
		CHECKF(mx < 1e-4, "stride %d: max diff %g", s, mx);
		free(in); free(w); free(b); free(o1); free(o2); free(col);
	}
}

TEST(nn_conv_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 2);
	int To = es_nn_conv_outlen(CT, CK, CS);
	cv_in = randv(CT * CC, 1, &r); cv_w = randv(CK * CC * COC, 1, &r); cv_b = randv(COC, 1, &r); cv_R = randv(To * COC, 1, &r);
	float din[CT * CC] = {0}, dw[CK * CC * COC] = {0}, db[COC] = {0}, dcol[64 * 16];
	cv_loss();
	es_nn_conv_backward(din, dw, db, dcol, cv_R, cv_col, cv_w, CT, CC, COC, CK, CS);
	CHECK(gradcheck("conv.inp", cv_loss, cv_in, din, CT * CC, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("conv.w", cv_loss, cv_w, dw, CK * CC * COC, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("conv.b", cv_loss, cv_b, db, COC, 100, 1e-2, 1e-2, 1e-3) == 0);
	free(cv_in); free(cv_w); free(cv_b); free(cv_R);
}

/* ---- embedding convolution (one-hot gather, with an N) ---- */
static uint8_t ec_x[12] = {0, 1, 2, 3, 3, 4, 2, 1, 0, 0, 2, 3};
static float *ec_w, *ec_b, *ec_R, ec_out[12 * 5];
static double ec_loss(void)
{
	es_nn_embconv_forward(ec_out, ec_x, 12, ec_w, ec_b, 4, 5);
	return dotR(ec_out, ec_R, 9 * 5);
}
TEST(nn_embconv_gradcheck_and_matches_onehot_conv)
{
	es_rng_t r; es_rng_seed(&r, 3);
	ec_w = randv(4 * 4 * 5, 1, &r); ec_b = randv(5, 1, &r); ec_R = randv(9 * 5, 1, &r);
	float dw[80] = {0}, db[5] = {0};
	ec_loss();
	es_nn_embconv_backward(dw, db, ec_R, ec_x, 12, 4, 5);
	CHECK(gradcheck("embconv.w", ec_loss, ec_w, dw, 80, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("embconv.b", ec_loss, ec_b, db, 5, 100, 1e-2, 1e-2, 1e-3) == 0);
	/* the gather equals a convolution over the one-hot input (N = all zeros) */
	float oh[12 * 4] = {0}, ref[9 * 5];
	ec_loss();  /* gradcheck left ec_out at a perturbed point */
	for (int t = 0; t < 12; t++) if (ec_x[t] < 4) oh[t * 4 + ec_x[t]] = 1;
	es_nn_conv_forward_ref(ref, oh, ec_w, ec_b, 12, 4, 5, 4, 1);
	double mx = 0;
	for (int i = 0; i < 45; i++) mx = fmax(mx, fabs(ref[i] - ec_out[i]));
	CHECK(mx < 1e-5);
	free(ec_w); free(ec_b); free(ec_R);
}

/* The register-blocked gather (16 outputs at a time, the encoder's d0 = 32, and a tail) gives exactly the floats of
 * the plain loop: bias, then each tap's row added in tap order, N taps skipped. */
TEST(nn_embconv_blocks_match_the_plain_loop)
{
	enum { T = 150, K = 9 };
	es_rng_t r; es_rng_seed(&r, 17);
	uint8_t x[T];
	for (int t = 0; t < T; t++) x[t] = es_rng_below(&r, 50) == 0 ? 4 : (uint8_t)es_rng_below(&r, 4);
	const int widths[] = { 32, 37, 5, 16 };
	for (int wi = 0; wi < 4; wi++) {
		int C = widths[wi], To = T - K + 1;
		float *w = randv(K * 4 * C, 1, &r), *b = randv(C, 1, &r);
		float *got = malloc(sizeof(float) * To * C), *want = malloc(sizeof(float) * To * C);
		es_nn_embconv_forward(got, x, T, w, b, K, C);
		for (int t = 0; t < To; t++)
			for (int i = 0; i < C; i++) {
				float a = b[i];
				for (int j = 0; j < K; j++)
					if (x[t + j] < 4) a += w[((size_t)j * 4 + x[t + j]) * C + i];
				want[(size_t)t * C + i] = a;
			}
		CHECKF(memcmp(got, want, sizeof(float) * To * C) == 0, "C=%d: the blocked gather differs", C);
		free(w); free(b); free(got); free(want);
	}
}

/* ---- linear, activations, layernorm, meanpool, l2norm ---- */
enum { LT = 5, LC = 6, LOC = 7 };
static float *li_in, *li_w, *li_b, *li_R, li_out[LT * LOC];
static double li_loss(void) { es_nn_linear_forward(li_out, li_in, li_w, li_b, LT, LC, LOC); return dotR(li_out, li_R, LT * LOC); }
TEST(nn_linear_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 4);
	li_in = randv(LT * LC, 1, &r); li_w = randv(LC * LOC, 1, &r); li_b = randv(LOC, 1, &r); li_R = randv(LT * LOC, 1, &r);
	float din[LT * LC] = {0}, dw[LC * LOC] = {0}, db[LOC] = {0};
	es_nn_linear_backward(din, dw, db, li_R, li_in, li_w, LT, LC, LOC);
	CHECK(gradcheck("linear.inp", li_loss, li_in, din, LT * LC, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("linear.w", li_loss, li_w, dw, LC * LOC, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("linear.b", li_loss, li_b, db, LOC, 100, 1e-2, 1e-2, 1e-3) == 0);
	free(li_in); free(li_w); free(li_b); free(li_R);
}

static float ac_in[40], ac_R[40], ac_out[40];
static int ac_gelu;
static double ac_loss(void)
{
	if (ac_gelu) es_nn_gelu_forward(ac_out, ac_in, 40); else es_nn_relu_forward(ac_out, ac_in, 40);
	return dotR(ac_out, ac_R, 40);
}
TEST(nn_activations_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 5);
	for (int i = 0; i < 40; i++) {
		double v = es_rng_normal(&r) * 2;
		ac_in[i] = (float)(v + (v > 0 ? 0.1 : -0.1));  /* away from ReLU's kink */
		ac_R[i] = (float)es_rng_normal(&r);
	}
	for (ac_gelu = 0; ac_gelu < 2; ac_gelu++) {
		float d[40] = {0};
		if (ac_gelu) es_nn_gelu_backward(d, ac_in, ac_R, 40); else es_nn_relu_backward(d, ac_in, ac_R, 40);
		CHECK(gradcheck(ac_gelu ? "gelu" : "relu", ac_loss, ac_in, d, 40, 100, 1e-3, 1e-2, 1e-3) == 0);
	}
}

enum { NT = 4, NC = 8 };
static float *ln_in, *ln_w, *ln_b, *ln_R, ln_out[NT * NC], ln_m[NT], ln_r[NT];
static double ln_loss(void) { es_nn_layernorm_forward(ln_out, ln_m, ln_r, ln_in, ln_w, ln_b, NT, NC); return dotR(ln_out, ln_R, NT * NC); }
TEST(nn_layernorm_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 6);
	ln_in = randv(NT * NC, 1, &r); ln_w = randv(NC, 1, &r); ln_b = randv(NC, 1, &r); ln_R = randv(NT * NC, 1, &r);
	float din[NT * NC] = {0}, dw[NC] = {0}, db[NC] = {0};
	ln_loss();
	es_nn_layernorm_backward(din, dw, db, ln_R, ln_in, ln_w, ln_m, ln_r, NT, NC);
	CHECK(gradcheck("layernorm.inp", ln_loss, ln_in, din, NT * NC, 100, 1e-2, 2e-2, 2e-3) == 0);
	CHECK(gradcheck("layernorm.w", ln_loss, ln_w, dw, NC, 100, 1e-2, 1e-2, 1e-3) == 0);
	CHECK(gradcheck("layernorm.b", ln_loss, ln_b, db, NC, 100, 1e-2, 1e-2, 1e-3) == 0);
	free(ln_in); free(ln_w); free(ln_b); free(ln_R);
}

enum { AT = 5, AC = 8, AH = 2 };
static float *at_qkv, *at_R, at_out[AT * AC], at_att[AH * AT * AT];
static double at_loss(void) { es_nn_attention_forward(at_out, at_att, at_qkv, AT, AC, AH); return dotR(at_out, at_R, AT * AC); }
TEST(nn_attention_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 7);
	at_qkv = randv(AT * 3 * AC, 1, &r); at_R = randv(AT * AC, 1, &r);
	float dqkv[AT * 3 * AC] = {0}, datt[AH * AT * AT];
	at_loss();
	es_nn_attention_backward(dqkv, datt, at_R, at_qkv, at_att, AT, AC, AH);
	CHECK(gradcheck("attention.qkv", at_loss, at_qkv, dqkv, AT * 3 * AC, 200, 1e-2, 2e-2, 2e-3) == 0);
	free(at_qkv); free(at_R);
}

static float *mp_in, *mp_R, mp_out[NC];
static double mp_loss(void) { es_nn_meanpool_forward(mp_out, mp_in, NT, NC); return dotR(mp_out, mp_R, NC); }
static float *l2_in, *l2_R, l2_out[3 * NC], l2_n[3];
static double l2_loss(void) { es_nn_l2norm_forward(l2_out, l2_n, l2_in, 3, NC); return dotR(l2_out, l2_R, 3 * NC); }
TEST(nn_meanpool_l2norm_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 8);
	mp_in = randv(NT * NC, 1, &r); mp_R = randv(NC, 1, &r);
	float d[NT * NC] = {0};
	es_nn_meanpool_backward(d, mp_R, NT, NC);
	CHECK(gradcheck("meanpool", mp_loss, mp_in, d, NT * NC, 100, 1e-2, 1e-2, 1e-4) == 0);
	l2_in = randv(3 * NC, 1, &r); l2_R = randv(3 * NC, 1, &r);
	float d2[3 * NC] = {0};
	l2_loss();
	es_nn_l2norm_backward(d2, l2_R, l2_out, l2_n, 3, NC);
	CHECK(gradcheck("l2norm", l2_loss, l2_in, d2, 3 * NC, 100, 1e-3, 2e-2, 1e-3) == 0);
	for (int i = 0; i < 3; i++) {
		double s = 0;
		for (int j = 0; j < NC; j++) s += l2_out[i * NC + j] * l2_out[i * NC + j];
		CHECK_NEAR(s, 1.0, 1e-5);
	}
	free(mp_in); free(mp_R); free(l2_in); free(l2_R);
}

/* ---- InfoNCE with hard negatives (M > B) ---- */
enum { IB = 4, IM = 6, ID = 5 };
static float *in_q, *in_w, in_scr[2 * IB * IM];
static double in_loss(void) { return es_nn_infonce(NULL, NULL, in_q, in_w, IB, IM, ID, 0.3f, in_scr, NULL); }
TEST(nn_infonce_gradcheck)
{
	es_rng_t r; es_rng_seed(&r, 9);
	in_q = randv(IB * ID, 0.5, &r); in_w = randv(IM * ID, 0.5, &r);
	float dq[IB * ID] = {0}, dw[IM * ID] = {0};
	double l = es_nn_infonce(dq, dw, in_q, in_w, IB, IM, ID, 0.3f, in_scr, NULL);
	CHECK(l > 0);
	CHECK(gradcheck("infonce.q", in_loss, in_q, dq, IB * ID, 100, 1e-3, 2e-2, 1e-3) == 0);
	CHECK(gradcheck("infonce.w", in_loss, in_w, dw, IM * ID, 100, 1e-3, 2e-2, 1e-3) == 0);
	/* perfectly separated pairs give a loss near 0 and top-1 for every query */
	float q[IB * IB] = {0}, w[IB * IB] = {0};
	for (int i = 0; i < IB; i++) q[i * IB + i] = w[i * IB + i] = 1;
	int top1 = 0;
	double l0 = es_nn_infonce(NULL, NULL, q, w, IB, IB, IB, 0.05f, in_scr, &top1);
	CHECK(l0 < 1e-6);
	CHECK_EQ_INT(top1, IB);
	free(in_q); free(in_w);
}

/* ---- the whole model: symmetric InfoNCE over strand-invariant embeddings of a few pairs ---- */
#define GB 3
static es_model_t *gm;
static uint8_t gseq[2 * GB][40];
static int glen[2 * GB];
static float gscr[2 * GB * 2 * GB];
static double model_loss(void)
{
	int D = gm->cfg.D;
	float emb[2 * GB * 64], nrm[2 * GB];
	uint8_t rc[64];
	float *act = malloc(es_model_act_size(&gm->cfg, 40) * sizeof(float));
	for (int i = 0; i < 2 * GB; i++) es_model_embed_raw(gm, gseq[i], glen[i], rc, act, emb + i * D);
	es_nn_l2norm_forward(emb, nrm, emb, 2 * GB, D);
	free(act);
	return es_nn_infonce(NULL, NULL, emb, emb + GB * D, GB, GB, D, 0.5f, gscr, NULL);
}
TEST(nn_model_loss_gradcheck)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	/* every layer kind: embedding conv, a strided conv, a Transformer block; GELU keeps the loss smooth */
	c.k1 = 3; c.d0 = 8; c.n_conv = 1; c.k2 = 3; c.s2 = 2; c.d = 8; c.n_block = 1; c.n_head = 2; c.D = 6; c.act = 1;
	gm = es_model_new(&c, 5);
	CHECK(gm != NULL);
	if (!gm) return;
	es_rng_t r; es_rng_seed(&r, 10);
	for (int i = 0; i < 2 * GB; i++) {
		glen[i] = 20 + (int)es_rng_below(&r, 20);
		for (int j = 0; j < glen[i]; j++) gseq[i][j] = (uint8_t)es_rng_below(&r, 4);
	}
	float *grad = calloc(gm->L.n, sizeof(float));
	CHECK(es_train_pairs_grad(gm, GB, (const uint8_t *const[]){gseq[0], gseq[1], gseq[2]}, glen,
	                          (const uint8_t *const[]){gseq[3], gseq[4], gseq[5]}, glen + GB, 0, NULL, NULL, 0.5f, 1, grad, NULL) >= 0);
	CHECK_NEAR(es_train_pairs_grad(gm, GB, (const uint8_t *const[]){gseq[0], gseq[1], gseq[2]}, glen,
	           (const uint8_t *const[]){gseq[3], gseq[4], gseq[5]}, glen + GB, 0, NULL, NULL, 0.5f, 1, NULL, NULL), model_loss(), 1e-5);
	CHECK(gradcheck("model", model_loss, gm->p, grad, (int)gm->L.n, 300, 1e-2, 3e-2, 2e-4) == 0);
	free(grad);
	es_model_destroy(gm);
}

/* ---- the encoder: strand invariance, too-short and all-N inputs ---- */
TEST(nn_encoder_strand_invariant)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	es_model_t *m = es_model_new(&c, 1);
	es_encoder_t *e = es_encoder_from_model(m);
	es_rng_t r; es_rng_seed(&r, 11);
	uint8_t s[300], rc[300], nn[50], sh[5] = {0, 1, 2, 3, 0};
	for (int i = 0; i < 300; i++) s[i] = rc[i] = (uint8_t)es_rng_below(&r, 4);
	es_revcomp(rc, 300);
	memset(nn, 4, sizeof nn);
	const uint8_t *seqs[4] = {s, rc, nn, sh};
	int lens[4] = {300, 300, 50, 5};
	float out[4 * 64];
	CHECK(es_encoder_embed(e, 4, seqs, lens, out) == 0);
	double mx = 0, n0 = 0, z = 0;
	for (int i = 0; i < 64; i++) { mx = fmax(mx, fabs(out[i] - out[64 + i])); n0 += out[i] * out[i]; z += fabs(out[128 + i]) + fabs(out[192 + i]); }
	CHECK(mx < 1e-5);
	CHECK_NEAR(n0, 1.0, 1e-4);
	CHECK(z == 0);
	CHECK(e->dim == 64 && e->kind == ES_ENC_TRANSFORMER && e->checksum != 0);
	es_encoder_destroy(e);
}

/* es_encoder_embed_spans gives exactly (memcmp) what es_encoder_embed gives each window alone: the default model
 * (one pass per strand), a model with attention (window by window) and kmer; windows at both ends, overlapping,
 * too short, all N and partly N; a window outside the sequence is refused. */
static void check_spans(es_encoder_t *e)
{
	enum { T = 700, NW = 9 };
	es_rng_t r; es_rng_seed(&r, 21);
	uint8_t x[T];
	for (int i = 0; i < T; i++) x[i] = (uint8_t)es_rng_below(&r, 4);
	memset(x + 300, 4, 60);   /* an N run: window 4 is all N, window 5 partly */
	int beg[NW] = {0, 20, 40, 150, 300, 280, 600, 690, 0}, len[NW] = {100, 100, 250, 100, 60, 100, 100, 8, 700};
	const uint8_t *seqs[NW];
	for (int i = 0; i < NW; i++) seqs[i] = x + beg[i];
	int D = e->dim;
	float a[NW * 64], b[NW * 64];
	CHECK(es_encoder_embed(e, NW, seqs, len, a) == 0);
	CHECK(es_encoder_embed_spans(e, x, T, NW, beg, len, b) == 0);
	CHECKF(memcmp(a, b, sizeof(float) * NW * D) == 0, "%s: spans differ from windows alone", e->name);
	float z = 0;
	for (int i = 0; i < D; i++) z += fabsf(b[4 * D + i]) + fabsf(b[7 * D + i]);
	CHECK(z == 0);   /* the all-N window and the one shorter than the receptive field embed to zero */
	int bad_beg = 650, bad_len = 100;
	CHECK(es_encoder_embed_spans(e, x, T, 1, &bad_beg, &bad_len, b) == -1);
	es_encoder_destroy(e);
}

TEST(nn_encoder_spans_match_windows)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	es_model_t *m = es_model_new(&c, 2);
	CHECK(es_model_spans_exact(&m->cfg));
	check_spans(es_encoder_from_model(m));
	c.n_block = 1;
	c.d0 = c.d = 32;
	c.n_conv = 0;
	es_model_t *mb = es_model_new(&c, 3);
	CHECK(!es_model_spans_exact(&mb->cfg));
	check_spans(es_encoder_from_model(mb));
	check_spans(es_encoder_kmer_new(15, 64));
}

/* ---- model file: round trip, and damaged files refused with the file named ---- */
TEST(nn_model_file_roundtrip_and_refusals)
{
	char path[512], bad[512];
	snprintf(path, sizeof path, "%s/m.model", es_test_tmpdir());
	snprintf(bad, sizeof bad, "%s/bad.model", es_test_tmpdir());
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	c.n_block = 1; c.d0 = c.d = 16; c.n_head = 2;
	es_model_t *m = es_model_new(&c, 3);
	CHECK(es_model_save(m, path) == 0);
	es_model_t *m2 = es_model_load(path);
	CHECK(m2 != NULL);
	if (m2) {
		CHECK(memcmp(&m->cfg, &m2->cfg, sizeof c) == 0);
		CHECK(m2->L.n == m->L.n && memcmp(m->p, m2->p, m->L.n * 4) == 0);
		CHECK(es_model_checksum(m) == es_model_checksum(m2));
		es_model_destroy(m2);
	}
	es_encoder_t *e = es_encoder_open(path);
	CHECK(e && e->checksum == es_model_checksum(m));
	es_encoder_destroy(e);
	/* read the file, then write damaged copies */
	FILE *fp = fopen(path, "rb");
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	rewind(fp);
	char *buf = malloc(n);
	CHECK(fread(buf, 1, n, fp) == (size_t)n);
	fclose(fp);
	struct { long len; int flip; const char *msg; } cases[] = {
		{ n - 7, -1, "truncated" }, { 20, -1, "truncated" }, { n, 0, "not an esalign model" },
		{ n, 8, "version" }, { n, (int)(n - 3), "checksum" }, { n, 16, "config" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fp = fopen(bad, "wb");
		if (cases[i].flip >= 0) buf[cases[i].flip] ^= 0x41;
		fwrite(buf, 1, cases[i].len, fp);
		fclose(fp);
		if (cases[i].flip >= 0) buf[cases[i].flip] ^= 0x41;
		es_model_t *mb = es_model_load(bad);
		CHECKF(mb == NULL, "case %zu loaded", i);
		CHECKF(strstr(es_last_error(), cases[i].msg) && strstr(es_last_error(), "bad.model"), "case %zu: %s", i, es_last_error());
		es_model_destroy(mb);
	}
	CHECK(es_model_load("/nonexistent/x.model") == NULL && strstr(es_last_error(), "/nonexistent/x.model"));
	free(buf);
	es_model_destroy(m);
}

/* ---- a tiny model overfits a handful of pairs (AdamW through es_train_pairs_grad) ---- */
TEST(nn_tiny_model_overfits)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	c.k1 = 5; c.d0 = c.d = 16; c.n_conv = 1; c.k2 = 3; c.D = 16;
	es_model_t *m = es_model_new(&c, 7);
	enum { B = 8, L = 60 };
	static uint8_t q[B][L], w[B][L];
	const uint8_t *qp[B], *wp[B];
	int ql[B], wl[B];
	es_rng_t r; es_rng_seed(&r, 12);
	for (int i = 0; i < B; i++) {
		for (int j = 0; j < L; j++) w[i][j] = (uint8_t)es_rng_below(&r, 4);
		/* the read: a 50 bp piece with 4 substitutions, reverse strand for odd i */
		for (int j = 0; j < 50; j++) q[i][j] = w[i][j + 5];
		for (int s = 0; s < 4; s++) { int j = (int)es_rng_below(&r, 50); q[i][j] = (q[i][j] + 1) & 3; }
		if (i & 1) es_revcomp(q[i], 50);
		qp[i] = q[i]; wp[i] = w[i]; ql[i] = 50; wl[i] = L;
	}
	float *g = calloc(m->L.n, 4);
	es_adamw_t opt;
	es_adamw_init(&opt, m->L.n, 3e-3, 0.01);
	double l0 = -1, l = 0;
	int top1 = 0;
	for (int step = 0; step < 150; step++) {
		memset(g, 0, m->L.n * 4);
		top1 = 0;
		l = es_train_pairs_grad(m, B, qp, ql, wp, wl, 0, NULL, NULL, 0.1f, 1, g, &top1);
		if (l0 < 0) l0 = l;
		es_clip_grad(g, m->L.n, 1.0);
		es_adamw_step(&opt, m->p, g);
	}
	CHECKF(l < 0.1 * l0 && top1 == B, "loss %g -> %g, top1 %d/%d", l0, l, top1, B);
	es_adamw_free(&opt);
	free(g);
	es_model_destroy(m);
}

/* ---- the activation cache of the trainer gives exactly the gradient of the recomputing path, for 1 and 2 threads ---- */
TEST(nn_train_cache_matches_recompute)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	c.k1 = 5; c.d0 = 8; c.d = 16; c.k2 = 3; c.D = 8;
	es_model_t *m = es_model_new(&c, 9);
	enum { B = 6 };
	static uint8_t s[2 * B][80];
	const uint8_t *q[B], *w[B];
	int ql[B], wl[B];
	es_rng_t r; es_rng_seed(&r, 13);
	for (int i = 0; i < 2 * B; i++) for (int j = 0; j < 80; j++) s[i][j] = (uint8_t)es_rng_below(&r, 5);
	for (int i = 0; i < B; i++) { q[i] = s[i]; w[i] = s[B + i]; ql[i] = 30 + 8 * i; wl[i] = 80; }
	ql[0] = 4;  /* too short: a zero embedding, no gradient */
	float *g1 = calloc(m->L.n, 4), *g2 = calloc(m->L.n, 4);
	es_train_ws_t *ws = es_train_ws_new();
	for (int nt = 1; nt <= 2; nt++) {
		memset(g1, 0, m->L.n * 4); memset(g2, 0, m->L.n * 4);
		double l1 = es_train_pairs_grad(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, nt, g1, NULL);
		double l2 = es_train_pairs_grad_ws(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, nt, g2, NULL, ws);
		CHECK(l1 == l2);
		CHECK(memcmp(g1, g2, m->L.n * 4) == 0);
	}
	es_train_ws_free(ws);
	free(g1); free(g2);
	es_model_destroy(m);
}

/* ---- threads through es_for: the gradient for a thread count is the same bytes on every run, and the sum over
 * threads matches one thread's up to rounding; a thread count outside 1..ES_MAX_THREADS is an error ---- */
TEST(nn_train_threads_deterministic)
{
	es_model_cfg_t c;
	es_model_cfg_default(&c);
	c.k1 = 5;
	c.d0 = 8;
	c.d = 16;
	c.k2 = 3;
	c.D = 8;
	es_model_t *m = es_model_new(&c, 11);
	enum { B = 7 };
	static uint8_t s[2 * B][60];
	const uint8_t *q[B], *w[B];
	int ql[B], wl[B];
	es_rng_t r;
	es_rng_seed(&r, 17);
	for (int i = 0; i < 2 * B; i++)
		for (int j = 0; j < 60; j++) s[i][j] = (uint8_t)es_rng_below(&r, 4);
	for (int i = 0; i < B; i++) {
		q[i] = s[i];
		w[i] = s[B + i];
		ql[i] = 40 + 2 * i;
		wl[i] = 60;
	}
	size_t n = m->L.n;
	float *g1 = calloc(n, 4), *g3 = calloc(n, 4), *g3b = calloc(n, 4);
	double l1 = es_train_pairs_grad(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, 1, g1, NULL);
	double l3 = es_train_pairs_grad(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, 3, g3, NULL);
	double l3b = es_train_pairs_grad(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, 3, g3b, NULL);
	CHECK(l3 == l3b);
	CHECK(memcmp(g3, g3b, n * 4) == 0);
	CHECK_NEAR(l1, l3, 1e-6);
	double dmax = 0;
	for (size_t j = 0; j < n; j++) dmax = fmax(dmax, fabs(g1[j] - g3[j]));
	CHECK(dmax < 1e-5);
	CHECK(es_train_pairs_grad(m, B, q, ql, w, wl, 0, NULL, NULL, 0.1f, ES_MAX_THREADS + 1, g1, NULL) < 0);
	CHECK(strstr(es_last_error(), "supported range is 1..64") != NULL);
	free(g1);
	free(g3);
	free(g3b);
	es_model_destroy(m);
}
