/* nn.c — forward/backward layer pairs for the encoder (see nn.h for shapes). GEMMs go through OpenBLAS (single
 * sequence, row-major); everything else is plain loops the compiler vectorises. Backward passes accumulate (+=).
 * es_nn_conv_forward_ref is the slow scalar twin that tests compare the GEMM path with. */
#include "nn.h"
#include <cblas.h>
/* The elementwise loops are the hot path of a small encoder: let GCC vectorise them (the Makefile builds with -O2). */
#if defined(__GNUC__) && !defined(__clang__)   /* clang has no per-file optimize pragma */
#pragma GCC optimize("O3")
#endif
#include <math.h>
#include <string.h>

/* ---------------- embedding convolution (a gather over one-hot codes) ---------------- */
/* Outputs [i0, i0+n) of position t: the bias plus the weight row of each tap's base, added in tap order. */
static inline __attribute__((always_inline)) void embconv_block(float *restrict o, const uint8_t *x, const float *w,
                                                               const float *b, int k, int C, int i0, int n)
{
	float acc[16];
	for (int i = 0; i < n; i++) acc[i] = b[i0 + i];
	for (int j = 0; j < k; j++) {
		int c = x[j];
		if (c > 3) continue;  /* N: zero one-hot */
		const float *restrict wr = w + ((size_t)j * 4 + c) * C + i0;
		for (int i = 0; i < n; i++) acc[i] += wr[i];
	}
	for (int i = 0; i < n; i++) o[i0 + i] = acc[i];
}

/* The same for a block of 16 outputs, as four vectors of 4 (GCC/clang vector extensions; lane-wise adds in the same
 * order, so the same floats): GCC's own vectorisation of embconv_block left half the adds scalar. */
typedef float v4f __attribute__((vector_size(16), aligned(4), may_alias));   /* unaligned loads and stores */
static void embconv_block16(float *o, const uint8_t *x, const float *w, const float *b, int k, int C, int i0)
{
	const v4f *bv = (const v4f *)(b + i0);
	v4f a0 = bv[0], a1 = bv[1], a2 = bv[2], a3 = bv[3];
	for (int j = 0; j < k; j++) {
		int c = x[j];
		if (c > 3) continue;  /* N: zero one-hot */
		const v4f *r = (const v4f *)(w + ((size_t)j * 4 + c) * C + i0);
		a0 += r[0];
		a1 += r[1];
		a2 += r[2];
		a3 += r[3];
	}
	v4f *ov = (v4f *)(o + i0);
	ov[0] = a0;
	ov[1] = a1;
	ov[2] = a2;
	ov[3] = a3;
}

/* Blocks of 16 outputs held in registers across the k taps (with the output row as the accumulator, every tap
 * loaded and stored it again: 4.8% of a 150 bp read's mapping CPU); the same additions in the same order. */
void es_nn_embconv_forward(float *out, const uint8_t *x, int T, const float *w, const float *b, int k, int C)
{
	int To = T - k + 1;
	for (int t = 0; t < To; t++) {
		float *o = out + (size_t)t * C;
		int i0 = 0;
		for (; i0 + 16 <= C; i0 += 16)
			embconv_block16(o, x + t, w, b, k, C, i0);
		if (i0 < C)
			embconv_block(o, x + t, w, b, k, C, i0, C - i0);
	}
}

void es_nn_embconv_backward(float *dw, float *db, const float *dout, const uint8_t *x, int T, int k, int C)
{
	int To = T - k + 1;
	for (int t = 0; t < To; t++) {
		const float *d = dout + (size_t)t * C;
		for (int i = 0; i < C; i++) db[i] += d[i];
		for (int j = 0; j < k; j++) {
			int c = x[t + j];
			if (c > 3) continue;
			float *g = dw + ((size_t)j * 4 + c) * C;
			for (int i = 0; i < C; i++) g[i] += d[i];
		}
	}
}

/* ---------------- convolution = im2col + GEMM ---------------- */
/* Row t of col is inp rows [t*s, t*s+k) flattened: k*C contiguous floats of inp, so im2col is one memcpy per row. */
void es_nn_conv_forward(float *out, float *col, const float *inp, const float *w, const float *b,
                        int T, int C, int OC, int k, int s)
{
	int To = es_nn_conv_outlen(T, k, s), K = k * C;
	if (To <= 0) return;
	for (int t = 0; t < To; t++) memcpy(col + (size_t)t * K, inp + (size_t)t * s * C, K * sizeof(float));
	for (int t = 0; t < To; t++) memcpy(out + (size_t)t * OC, b, OC * sizeof(float));
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, To, OC, K, 1.0f, col, K, w, OC, 1.0f, out, OC);
}

void es_nn_conv_backward(float *dinp, float *dw, float *db, float *dcol, const float *dout, const float *col,
                         const float *w, int T, int C, int OC, int k, int s)
{
	int To = es_nn_conv_outlen(T, k, s), K = k * C;
	if (To <= 0) return;
	for (int t = 0; t < To; t++) {
		const float *d = dout + (size_t)t * OC;
		for (int o = 0; o < OC; o++) db[o] += d[o];
	}
	/* dw (K, OC) += col^T (K, To) @ dout (To, OC) */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, OC, To, 1.0f, col, K, dout, OC, 1.0f, dw, OC);
	if (!dinp) return;
	/* dcol (To, K) = dout (To, OC) @ w^T (OC, K); then col2im scatters it back (overlapping rows add up) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, To, K, OC, 1.0f, dout, OC, w, OC, 0.0f, dcol, K);
	for (int t = 0; t < To; t++) {
		float *di = dinp + (size_t)t * s * C;
		const float *dc = dcol + (size_t)t * K;
		for (int i = 0; i < K; i++) di[i] += dc[i];
	}
}

void es_nn_conv_forward_ref(float *out, const float *inp, const float *w, const float *b, int T, int C, int OC, int k,
                            int s)
{
	int To = es_nn_conv_outlen(T, k, s);
	for (int t = 0; t < To; t++)
		for (int o = 0; o < OC; o++) {
			double acc = b[o];
			for (int j = 0; j < k; j++)
				for (int c = 0; c < C; c++)
					acc += (double)inp[(size_t)(t * s + j) * C + c] *
					       w[(size_t)(j * C + c) * OC + o];
			out[(size_t)t * OC + o] = (float)acc;
		}
}

/* ---------------- linear ---------------- */
void es_nn_linear_forward(float *out, const float *inp, const float *w, const float *b, int T, int C, int OC)
{
	for (int t = 0; t < T; t++) {
		if (b) memcpy(out + (size_t)t * OC, b, OC * sizeof(float));
		else memset(out + (size_t)t * OC, 0, OC * sizeof(float));
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, OC, C, 1.0f, inp, C, w, OC, 1.0f, out, OC);
}

void es_nn_linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                           int T, int C, int OC)
{
	if (db)
		for (int t = 0; t < T; t++)
			for (int o = 0; o < OC; o++) db[o] += dout[(size_t)t * OC + o];
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, T, 1.0f, inp, C, dout, OC, 1.0f, dw, OC);
	if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, C, OC, 1.0f, dout, OC, w, OC, 1.0f, dinp, C);
}

/* ---------------- activations ---------------- */
void es_nn_relu_forward(float *out, const float *inp, size_t n)
{
	/* vectorised to a max: no branch on random signs */
	for (size_t i = 0; i < n; i++)
		out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}
void es_nn_relu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	for (size_t i = 0; i < n; i++) dinp[i] += (float)(inp[i] > 0) * dout[i];
}

#define GELU_SCALE 0.7978845608028654f  /* sqrt(2/pi) */
void es_nn_gelu_forward(float *out, const float *inp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
	}
}
void es_nn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float x = inp[i], u = GELU_SCALE * (x + 0.044715f * x * x * x);
		float th = tanhf(u), sech2 = 1.0f - th * th;
		float g = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
		dinp[i] += g * dout[i];
	}
}

/* ---------------- layer norm ---------------- */
void es_nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                             int T, int C)
{
	for (int t = 0; t < T; t++) {
		const float *x = inp + (size_t)t * C;
		double m = 0, v = 0;
		for (int i = 0; i < C; i++) m += x[i];
		m /= C;
		for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
		v /= C;
		float rs = (float)(1.0 / sqrt(v + 1e-5));
		float *o = out + (size_t)t * C;
		for (int i = 0; i < C; i++) o[i] = (float)(x[i] - m) * rs * w[i] + b[i];
		mean[t] = (float)m;
		rstd[t] = rs;
	}
}

void es_nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                              const float *w, const float *mean, const float *rstd, int T, int C)
{
	for (int t = 0; t < T; t++) {
		const float *x = inp + (size_t)t * C, *d = dout + (size_t)t * C;
		float *dx = dinp + (size_t)t * C;
		float m = mean[t], rs = rstd[t];
		double dnorm_mean = 0, dnorm_norm_mean = 0;
		for (int i = 0; i < C; i++) {
			float norm = (x[i] - m) * rs, dn = w[i] * d[i];
			dnorm_mean += dn;
			dnorm_norm_mean += dn * norm;
		}
		dnorm_mean /= C;
		dnorm_norm_mean /= C;
		for (int i = 0; i < C; i++) {
			float norm = (x[i] - m) * rs, dn = w[i] * d[i];
			db[i] += d[i];
			dw[i] += norm * d[i];
			dx[i] += (float)((dn - dnorm_mean - norm * dnorm_norm_mean) * rs);
		}
	}
}

/* ---------------- self-attention (per head: two GEMMs with strided views into qkv) ---------------- */
void es_nn_attention_forward(float *out, float *att, const float *qkv, int T, int C, int NH)
{
	int hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);
	for (int h = 0; h < NH; h++) {
		const float *q = qkv + h * hs, *k = qkv + C + h * hs, *v = qkv + 2 * C + h * hs;
		float *a = att + (size_t)h * T * T;
		/* a (T,T) = scale * q (T,hs) k^T (hs,T) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, scale, q, C3, k, C3, 0.0f, a, T);
		for (int t = 0; t < T; t++) {
			float *r = a + (size_t)t * T, mx = r[0];
			for (int u = 1; u < T; u++) mx = r[u] > mx ? r[u] : mx;
			double s = 0;
			for (int u = 0; u < T; u++) {
				r[u] = expf(r[u] - mx);
				s += r[u];
			}
			float inv = (float)(1.0 / s);
			for (int u = 0; u < T; u++) r[u] *= inv;
		}
		/* out_h (T,hs) = a (T,T) v (T,hs) */
		float *out_h = out + h * hs;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, v, C3, 0.0f, out_h, C);
	}
}

void es_nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                              int T, int C, int NH)
{
	int hs = C / NH, C3 = 3 * C;
	float scale = 1.0f / sqrtf((float)hs);
	for (int h = 0; h < NH; h++) {
		const float *q = qkv + h * hs, *k = qkv + C + h * hs, *v = qkv + 2 * C + h * hs;
		float *dq = dqkv + h * hs, *dk = dqkv + C + h * hs, *dv = dqkv + 2 * C + h * hs;
		const float *a = att + (size_t)h * T * T, *dout_h = dout + h * hs;
		float *da = datt + (size_t)h * T * T;
		/* da (T,T) = dout_h (T,hs) v^T; dv += a^T dout_h */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, 1.0f, dout_h, C, v, C3, 0.0f, da, T);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, dout_h, C, 1.0f, dv, C3);
		/* softmax backward: dpre = a * (da - sum(da*a)), times scale */
		for (int t = 0; t < T; t++) {
			const float *ar = a + (size_t)t * T;
			float *dr = da + (size_t)t * T;
			double s = 0;
			for (int u = 0; u < T; u++) s += (double)dr[u] * ar[u];
			for (int u = 0; u < T; u++) dr[u] = ar[u] * (dr[u] - (float)s) * scale;
		}
		/* dq += dpre k; dk += dpre^T q */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, da, T, k, C3, 1.0f, dq, C3);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, da, T, q, C3, 1.0f, dk, C3);
	}
}

/* ---------------- pooling and normalisation ---------------- */
void es_nn_meanpool_forward(float *out, const float *inp, int T, int C)
{
	memset(out, 0, C * sizeof(float));
	for (int t = 0; t < T; t++)
		for (int i = 0; i < C; i++) out[i] += inp[(size_t)t * C + i];
	float inv = T > 0 ? 1.0f / T : 0.0f;
	for (int i = 0; i < C; i++) out[i] *= inv;
}

void es_nn_meanpool_backward(float *dinp, const float *dout, int T, int C)
{
	float inv = T > 0 ? 1.0f / T : 0.0f;
	for (int t = 0; t < T; t++)
		for (int i = 0; i < C; i++) dinp[(size_t)t * C + i] += dout[i] * inv;
}

void es_nn_l2norm_forward(float *out, float *norm, const float *inp, int n, int D)
{
	for (int r = 0; r < n; r++) {
		const float *x = inp + (size_t)r * D;
		double s = 0;
		for (int i = 0; i < D; i++) s += (double)x[i] * x[i];
		float nr = (float)sqrt(s), inv = nr > 0 ? 1.0f / nr : 0.0f;
		for (int i = 0; i < D; i++) out[(size_t)r * D + i] = x[i] * inv;
		norm[r] = nr;
	}
}

void es_nn_l2norm_backward(float *dinp, const float *dout, const float *out, const float *norm, int n, int D)
{
	/* y = x/|x|: dx = (dy - y (y.dy)) / |x| */
	for (int r = 0; r < n; r++) {
		if (norm[r] <= 0) continue;
		const float *y = out + (size_t)r * D, *dy = dout + (size_t)r * D;
		double dot = 0;
		for (int i = 0; i < D; i++) dot += (double)y[i] * dy[i];
		float inv = 1.0f / norm[r];
		for (int i = 0; i < D; i++) dinp[(size_t)r * D + i] += (dy[i] - y[i] * (float)dot) * inv;
	}
}

/* ---------------- InfoNCE ---------------- */
double es_nn_infonce(float *dq, float *dw, const float *q, const float *w, int B, int M, int D, float tau,
                     float *scratch, int *n_top1)
{
	float *L = scratch, *dL = scratch + (size_t)B * M;
	/* L (B,M) = q (B,D) w^T (D,M) / tau */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, M, D, 1.0f / tau, q, D, w, D, 0.0f, L, M);
	memset(dL, 0, (size_t)B * M * sizeof(float));
	double loss = 0, wgt = 1.0 / (2.0 * B);
	for (int i = 0; i < B; i++) {  /* read i -> its window among all M keys */
		const float *r = L + (size_t)i * M;
		float mx = r[0];
		int arg = 0;
		for (int j = 1; j < M; j++)
			if (r[j] > mx) {
				mx = r[j];
				arg = j;
			}
		if (n_top1 && arg == i)
			(*n_top1)++;
		double s = 0;
		for (int j = 0; j < M; j++) s += exp((double)r[j] - mx);
		loss += (log(s) + mx - r[i]) * wgt;
		for (int j = 0; j < M; j++)
			dL[(size_t)i * M + j] += (float)((exp((double)r[j] - mx) / s - (j == i)) * wgt);
	}
	for (int j = 0; j < B; j++) {  /* window j -> its read among the B queries */
		float mx = L[j];
		for (int i = 1; i < B; i++) mx = L[(size_t)i * M + j] > mx ? L[(size_t)i * M + j] : mx;
		double s = 0;
		for (int i = 0; i < B; i++) s += exp((double)L[(size_t)i * M + j] - mx);
		loss += (log(s) + mx - L[(size_t)j * M + j]) * wgt;
		for (int i = 0; i < B; i++)
			dL[(size_t)i * M + j] += (float)((exp((double)L[(size_t)i * M + j] - mx) / s - (i == j)) * wgt);
	}
	/* dq (B,D) += dL (B,M) w (M,D) / tau; dw (M,D) += dL^T q / tau */
	if (dq) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, M, 1.0f / tau, dL, M, w, D, 1.0f, dq, D);
	if (dw) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, D, B, 1.0f / tau, dL, M, q, D, 1.0f, dw, D);
	return loss;
}
