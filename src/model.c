/* model.c — the learned encoder: config, the parameter block, forward/backward of one strand built from nn.c layers,
 * the model file (magic + version + config + checksum), and its es_encoder_t ("transformer"), strand-invariant by
 * embedding f(x) + f(revcomp x) before L2 normalisation. */
#include "model.h"
#include "nn.h"
#include "qconv.h"
#include "seqio.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <errno.h>

#define MODEL_MAGIC "ESALNMDL"
#define MODEL_VERSION 1
#define CFG_NFIELD 10

void es_model_cfg_default(es_model_cfg_t *c)
{
	memset(c, 0, sizeof *c);
	c->k1 = 9;
	c->d0 = 32;
	c->n_conv = 1;
	c->k2 = 9;
	c->s2 = 1;
	c->d = 64;
	c->n_block = 0;
	c->n_head = 4;
	c->D = 64;
	c->act = 0;
}

int es_model_cfg_check(const es_model_cfg_t *c)
{
	if (c->k1 < 1 || c->k1 > 31)
		return es_error("model config: k1=%d out of range 1..31", c->k1);
	if (c->d0 < 1 || c->d0 > 1024)
		return es_error("model config: d0=%d out of range 1..1024", c->d0);
	if (c->n_conv < 0 || c->n_conv > ES_MODEL_MAX_CONV)
		return es_error("model config: nconv=%d out of range 0..%d", c->n_conv, ES_MODEL_MAX_CONV);
	if (c->n_conv > 0 && (c->k2 < 1 || c->k2 > 31))
		return es_error("model config: k2=%d out of range 1..31", c->k2);
	if (c->n_conv > 0 && (c->s2 < 1 || c->s2 > c->k2))
		return es_error("model config: s2=%d out of range 1..k2", c->s2);
	if (c->d < 1 || c->d > 1024)
		return es_error("model config: d=%d out of range 1..1024", c->d);
	if (c->n_conv == 0 && c->d != c->d0)
		return es_error("model config: d=%d must equal d0=%d without conv layers", c->d, c->d0);
	if (c->n_block < 0 || c->n_block > ES_MODEL_MAX_BLOCK)
		return es_error("model config: blocks=%d out of range 0..%d", c->n_block, ES_MODEL_MAX_BLOCK);
	if (c->n_block > 0 && (c->n_head < 1 || c->d % c->n_head))
		return es_error("model config: heads=%d must divide d=%d", c->n_head, c->d);
	if (c->D < 2 || c->D > 4096)
		return es_error("model config: D=%d out of range 2..4096", c->D);
	if (c->act != 0 && c->act != 1)
		return es_error("model config: act=%d must be 0 (relu) or 1 (gelu)", c->act);
	return 0;
}

/* The config field named key, or NULL. */
static int *cfg_field(es_model_cfg_t *c, const char *key)
{
	static const char *const names[] = { "k1", "d0", "nconv", "k2", "s2", "d", "blocks", "heads", "D", "act" };
	int *fields[] = { &c->k1, &c->d0, &c->n_conv, &c->k2, &c->s2, &c->d, &c->n_block, &c->n_head, &c->D, &c->act };
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (!strcmp(key, names[i]))
			return fields[i];
	return NULL;
}

int es_model_cfg_parse(es_model_cfg_t *c, const char *s)
{
	const char *p = s;
	while (*p) {
		char key[32];
		int val;
		int nc = 0;
		if (sscanf(p, "%31[^=,]=%d%n", key, &val, &nc) != 2)
			return es_error("model config '%s': expected key=value,...", s);
		int *f = cfg_field(c, key);
		if (!f)
			return es_error("model config '%s': unknown key '%s'", s, key);
		*f = val;
		p += nc;
		if (*p == ',')
			p++;
		else if (*p)
			return es_error("model config '%s': expected ',' after %s", s, key);
	}
	return 0;
}

void es_model_cfg_str(const es_model_cfg_t *c, char *buf, size_t n)
{
	snprintf(buf, n, "k1=%d,d0=%d,nconv=%d,k2=%d,s2=%d,d=%d,blocks=%d,heads=%d,D=%d,act=%d",
	         c->k1, c->d0, c->n_conv, c->k2, c->s2, c->d, c->n_block, c->n_head, c->D, c->act);
}

/* Carve cnt floats off a block whose first *o are taken: returns their offset. */
static size_t take(size_t *o, size_t cnt)
{
	size_t f = *o;
	*o += cnt;
	return f;
}

void es_model_layout(const es_model_cfg_t *c, es_model_layout_t *L)
{
	size_t o = 0;
	int d = c->d;
	memset(L, 0, sizeof *L);
	L->emb_w = take(&o, (size_t)c->k1 * 4 * c->d0);  /* (k1,4,d0) */
	L->emb_b = take(&o, c->d0);
	for (int i = 0; i < c->n_conv; i++) {
		int cin = i ? d : c->d0;
		L->conv_w[i] = take(&o, (size_t)c->k2 * cin * d);  /* (k2*cin, d) */
		L->conv_b[i] = take(&o, d);
	}
	for (int b = 0; b < c->n_block; b++) {
		L->ln1_w[b] = take(&o, d);
		L->ln1_b[b] = take(&o, d);
		L->qkv_w[b] = take(&o, (size_t)d * 3 * d);  /* (d,3d) */
		L->qkv_b[b] = take(&o, 3 * d);
		L->ao_w[b] = take(&o, (size_t)d * d);
		L->ao_b[b] = take(&o, d);
		L->ln2_w[b] = take(&o, d);
		L->ln2_b[b] = take(&o, d);
		L->fc_w[b] = take(&o, (size_t)d * 4 * d);   /* (d,4d) */
		L->fc_b[b] = take(&o, 4 * d);
		L->fp_w[b] = take(&o, (size_t)4 * d * d);   /* (4d,d) */
		L->fp_b[b] = take(&o, d);
	}
	L->proj_w = take(&o, (size_t)d * c->D);  /* (d,D) */
	L->proj_b = take(&o, c->D);
	L->n = o;
}

static void fill_normal(float *p, size_t n, double std, es_rng_t *r)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(es_rng_normal(r) * std);
}

es_model_t *es_model_new(const es_model_cfg_t *c, uint64_t seed)
{
	if (es_model_cfg_check(c) < 0)
		return NULL;
	es_model_t *m = es_calloc(1, sizeof *m);
	m->cfg = *c;
	es_model_layout(c, &m->L);
	m->p = es_calloc(m->L.n, sizeof(float));
	es_rng_t r;
	es_rng_seed(&r, seed);
	const es_model_layout_t *L = &m->L;
	int d = c->d;
	/* variance-preserving init: one-hot input has k1 active taps; ReLU/He for convs; residual branches scaled
	 * down */
	fill_normal(m->p + L->emb_w, (size_t)c->k1 * 4 * c->d0, 1.0 / sqrt(c->k1), &r);
	for (int i = 0; i < c->n_conv; i++) {
		int cin = i ? d : c->d0;
		fill_normal(m->p + L->conv_w[i], (size_t)c->k2 * cin * d, sqrt(2.0 / (c->k2 * cin)), &r);
	}
	for (int b = 0; b < c->n_block; b++) {
		for (int i = 0; i < d; i++) {
			m->p[L->ln1_w[b] + i] = 1.0f;
			m->p[L->ln2_w[b] + i] = 1.0f;
		}
		fill_normal(m->p + L->qkv_w[b], (size_t)d * 3 * d, 1.0 / sqrt(d), &r);
		fill_normal(m->p + L->ao_w[b], (size_t)d * d, 1.0 / sqrt(d) / sqrt(2.0 * c->n_block), &r);
		fill_normal(m->p + L->fc_w[b], (size_t)d * 4 * d, 1.0 / sqrt(d), &r);
		fill_normal(m->p + L->fp_w[b], (size_t)4 * d * d, 1.0 / sqrt(4.0 * d) / sqrt(2.0 * c->n_block), &r);
	}
	fill_normal(m->p + L->proj_w, (size_t)d * c->D, 1.0 / sqrt(d), &r);
	return m;
}

void es_model_destroy(es_model_t *m)
{
	if (!m)
		return;
	es_qconv_free(m->qconv);
	free(m->p);
	free(m);
}

uint64_t es_model_checksum(const es_model_t *m)
{
	uint64_t h = es_checksum(&m->cfg, sizeof m->cfg, 0x6d6f64656cULL);
	return es_checksum(m->p, m->L.n * sizeof(float), h);
}

/* Activations grow with T (im2col is T*k2*d floats; attention T*T per head), so inputs are capped well below memory. */
int es_model_max_len(const es_model_cfg_t *c)
{
	return c->n_block > 0 ? 4096 : 65536;
}

/* ---- activation layout for one strand of length T (offsets in floats into act) ---- */
typedef struct {
	int T1, Tc[ES_MODEL_MAX_CONV], Tb;
	size_t h0, a0, col[ES_MODEL_MAX_CONV], h[ES_MODEL_MAX_CONV], a[ES_MODEL_MAX_CONV];
	size_t ln1[ES_MODEL_MAX_BLOCK], m1[ES_MODEL_MAX_BLOCK], r1[ES_MODEL_MAX_BLOCK], qkv[ES_MODEL_MAX_BLOCK];
	size_t att[ES_MODEL_MAX_BLOCK], atty[ES_MODEL_MAX_BLOCK], x1[ES_MODEL_MAX_BLOCK];
	size_t ln2[ES_MODEL_MAX_BLOCK], m2[ES_MODEL_MAX_BLOCK], r2[ES_MODEL_MAX_BLOCK], fch[ES_MODEL_MAX_BLOCK];
	size_t fca[ES_MODEL_MAX_BLOCK], x2[ES_MODEL_MAX_BLOCK];
	size_t last, pooled, n;  /* last: the stream that is pooled */
} act_layout_t;

/* Returns 0, or -1 if T is too short for the network. */
static int act_layout(const es_model_cfg_t *c, int T, act_layout_t *A)
{
	size_t o = 0;
	int d = c->d;
	memset(A, 0, sizeof *A);
	if (T < c->k1)
		return -1;
	int t = T - c->k1 + 1;
	A->T1 = t;
	A->h0 = take(&o, (size_t)t * c->d0);  /* (T1,d0) */
	A->a0 = take(&o, (size_t)t * c->d0);
	A->last = A->a0;
	for (int i = 0; i < c->n_conv; i++) {
		int cin = i ? d : c->d0;
		int to = es_nn_conv_outlen(t, c->k2, c->s2);
		if (to < 1)
			return -1;
		A->col[i] = take(&o, (size_t)to * c->k2 * cin);  /* (Tc,k2*cin) */
		A->h[i] = take(&o, (size_t)to * d);               /* (Tc,d) */
		A->a[i] = take(&o, (size_t)to * d);
		t = to;
		A->Tc[i] = t;
		A->last = A->a[i];
	}
	A->Tb = t;
	for (int b = 0; b < c->n_block; b++) {
		A->ln1[b] = take(&o, (size_t)t * d);  /* (Tb,d) */
		A->m1[b] = take(&o, t);
		A->r1[b] = take(&o, t);
		A->qkv[b] = take(&o, (size_t)t * 3 * d);              /* (Tb,3d) */
		A->att[b] = take(&o, (size_t)c->n_head * t * t);      /* (NH,Tb,Tb) */
		A->atty[b] = take(&o, (size_t)t * d);
		A->x1[b] = take(&o, (size_t)t * d);
		A->ln2[b] = take(&o, (size_t)t * d);
		A->m2[b] = take(&o, t);
		A->r2[b] = take(&o, t);
		A->fch[b] = take(&o, (size_t)t * 4 * d);              /* (Tb,4d) */
		A->fca[b] = take(&o, (size_t)t * 4 * d);
		A->x2[b] = take(&o, (size_t)t * d);
		A->last = A->x2[b];
	}
	A->pooled = take(&o, d);  /* (d) */
	A->n = o;
	return 0;
}

int es_model_min_len(const es_model_cfg_t *c)
{
	act_layout_t A;
	int T = c->k1;
	while (act_layout(c, T, &A) < 0)
		T++;
	return T;
}

size_t es_model_act_size(const es_model_cfg_t *c, int T)
{
	act_layout_t A;
	return act_layout(c, T, &A) < 0 ? 0 : A.n;
}

static void act_forward(int act, float *out, const float *inp, size_t n)
{
	if (act)
		es_nn_gelu_forward(out, inp, n);
	else
		es_nn_relu_forward(out, inp, n);
}
static void act_backward(int act, float *dinp, const float *inp, const float *dout, size_t n)
{
	if (act)
		es_nn_gelu_backward(dinp, inp, dout, n);
	else
		es_nn_relu_backward(dinp, inp, dout, n);
}

/* One transformer block, forward: x1 = xin + attn(ln1(xin)); x2 = x1 + mlp(ln2(x1)). xin, x1, x2: (t,d). */
static void block_forward(const es_model_t *m, const act_layout_t *A, int b, size_t in, int t, float *act)
{
	const es_model_cfg_t *c = &m->cfg;
	const es_model_layout_t *L = &m->L;
	const float *p = m->p;
	int d = c->d;
	float *xin = act + in;
	float *x1 = act + A->x1[b];
	float *x2 = act + A->x2[b];
	size_t n = (size_t)t * d;
	es_nn_layernorm_forward(act + A->ln1[b], act + A->m1[b], act + A->r1[b], xin, p + L->ln1_w[b], p + L->ln1_b[b],
	                        t, d);
	es_nn_linear_forward(act + A->qkv[b], act + A->ln1[b], p + L->qkv_w[b], p + L->qkv_b[b], t, d, 3 * d);
	es_nn_attention_forward(act + A->atty[b], act + A->att[b], act + A->qkv[b], t, d, c->n_head);
	es_nn_linear_forward(x1, act + A->atty[b], p + L->ao_w[b], p + L->ao_b[b], t, d, d);
	for (size_t i = 0; i < n; i++)
		x1[i] += xin[i];
	es_nn_layernorm_forward(act + A->ln2[b], act + A->m2[b], act + A->r2[b], x1, p + L->ln2_w[b], p + L->ln2_b[b],
	                        t, d);
	es_nn_linear_forward(act + A->fch[b], act + A->ln2[b], p + L->fc_w[b], p + L->fc_b[b], t, d, 4 * d);
	es_nn_gelu_forward(act + A->fca[b], act + A->fch[b], (size_t)t * 4 * d);
	es_nn_linear_forward(x2, act + A->fca[b], p + L->fp_w[b], p + L->fp_b[b], t, 4 * d, d);
	for (size_t i = 0; i < n; i++)
		x2[i] += x1[i];
}

/* Every layer up to the pooling over x (T): returns the offset in act of the (*tl, d) stream that is pooled.
 * A must hold act_layout(c, T). int8: run the first conv layer with m->qconv when it is set (inference only). */
static size_t forward_features(const es_model_t *m, const act_layout_t *Ap, const uint8_t *x, int T, float *act,
                               int *tl, int int8)
{
	const es_model_cfg_t *c = &m->cfg;
	const es_model_layout_t *L = &m->L;
	const float *p = m->p;
	act_layout_t A = *Ap;
	int d = c->d;
	int t = A.T1;
	/* x (T) codes -> h0, a0 (T1,d0) */
	es_nn_embconv_forward(act + A.h0, x, T, p + L->emb_w, p + L->emb_b, c->k1, c->d0);
	act_forward(c->act, act + A.a0, act + A.h0, (size_t)t * c->d0);
	size_t in = A.a0;
	for (int i = 0; i < c->n_conv; i++) {  /* (t,cin) -> h[i], a[i] (Tc[i],d) */
		int cin = i ? d : c->d0;
		if (int8 && m->qconv && i == 0)  /* the im2col slot (Tc*k2*cin floats) holds the t*cin u8 activations */
			es_qconv_forward(m->qconv, act + A.h[i], (uint8_t *)(act + A.col[i]), act + in, t);
		else
			es_nn_conv_forward(act + A.h[i], act + A.col[i], act + in, p + L->conv_w[i], p + L->conv_b[i],
			                   t, cin, d, c->k2, c->s2);
		t = A.Tc[i];
		act_forward(c->act, act + A.a[i], act + A.h[i], (size_t)t * d);
		in = A.a[i];
	}
	for (int b = 0; b < c->n_block; b++) {
		block_forward(m, &A, b, in, t, act);
		in = A.x2[b];
	}
	*tl = t;
	return in;
}

/* Forward one strand: features, mean pool, projection (int8 as in forward_features). */
static void model_forward(const es_model_t *m, const uint8_t *x, int T, float *act, float *y, int int8)
{
	const es_model_cfg_t *c = &m->cfg;
	act_layout_t A;
	if (act_layout(c, T, &A) < 0) {
		memset(y, 0, c->D * sizeof(float));
		return;
	}
	int t;
	size_t in = forward_features(m, &A, x, T, act, &t, int8);
	/* (t,d) -> pooled (d) -> y (D) */
	es_nn_meanpool_forward(act + A.pooled, act + in, t, c->d);
	es_nn_linear_forward(y, act + A.pooled, m->p + m->L.proj_w, m->p + m->L.proj_b, 1, c->d, c->D);
}

void es_model_forward(const es_model_t *m, const uint8_t *x, int T, float *act, float *y)
{
	model_forward(m, x, T, act, y, 0);
}

/* One transformer block, backward (see block_forward): accumulates into the gradients of its parameters (g) and of
 * its input (da + in), from da + x2[b]. */
static void block_backward(const es_model_t *m, const act_layout_t *A, int b, size_t in, int t, const float *act,
                           float *g, float *da)
{
	const es_model_cfg_t *c = &m->cfg;
	const es_model_layout_t *L = &m->L;
	const float *p = m->p;
	int d = c->d;
	size_t n = (size_t)t * d;
	float *dx2 = da + A->x2[b];
	float *dx1 = da + A->x1[b];
	float *dxin = da + in;
	for (size_t i = 0; i < n; i++)
		dx1[i] += dx2[i];
	es_nn_linear_backward(da + A->fca[b], g + L->fp_w[b], g + L->fp_b[b], dx2, act + A->fca[b], p + L->fp_w[b], t,
	                      4 * d, d);
	es_nn_gelu_backward(da + A->fch[b], act + A->fch[b], da + A->fca[b], (size_t)t * 4 * d);
	es_nn_linear_backward(da + A->ln2[b], g + L->fc_w[b], g + L->fc_b[b], da + A->fch[b], act + A->ln2[b],
	                      p + L->fc_w[b], t, d, 4 * d);
	es_nn_layernorm_backward(dx1, g + L->ln2_w[b], g + L->ln2_b[b], da + A->ln2[b], act + A->x1[b], p + L->ln2_w[b],
	                         act + A->m2[b], act + A->r2[b], t, d);
	for (size_t i = 0; i < n; i++)
		dxin[i] += dx1[i];
	es_nn_linear_backward(da + A->atty[b], g + L->ao_w[b], g + L->ao_b[b], dx1, act + A->atty[b], p + L->ao_w[b], t,
	                      d, d);
	/* the att slot of da is free scratch for the attention backward */
	es_nn_attention_backward(da + A->qkv[b], da + A->att[b], da + A->atty[b], act + A->qkv[b], act + A->att[b], t,
	                         d, c->n_head);
	es_nn_linear_backward(da + A->ln1[b], g + L->qkv_w[b], g + L->qkv_b[b], da + A->qkv[b], act + A->ln1[b],
	                      p + L->qkv_w[b], t, d, 3 * d);
	es_nn_layernorm_backward(dxin, g + L->ln1_w[b], g + L->ln1_b[b], da + A->ln1[b], act + in, p + L->ln1_w[b],
	                         act + A->m1[b], act + A->r1[b], t, d);
}

void es_model_backward(const es_model_t *m, const uint8_t *x, int T, const float *act, const float *dy,
                       float *grad, float *scratch)
{
	const es_model_cfg_t *c = &m->cfg;
	const es_model_layout_t *L = &m->L;
	const float *p = m->p;
	float *g = grad;
	float *da = scratch;  /* da: gradients w.r.t. activations, same layout as act */
	act_layout_t A;
	if (act_layout(c, T, &A) < 0)
		return;
	memset(da, 0, A.n * sizeof(float));
	int d = c->d;
	int t = A.Tb;
	es_nn_linear_backward(da + A.pooled, g + L->proj_w, g + L->proj_b, dy, act + A.pooled, p + L->proj_w, 1, d,
	                      c->D);
	es_nn_meanpool_backward(da + A.last, da + A.pooled, t, d);
	for (int b = c->n_block - 1; b >= 0; b--) {
		size_t in = b ? A.x2[b - 1] : (c->n_conv ? A.a[c->n_conv - 1] : A.a0);
		block_backward(m, &A, b, in, t, act, g, da);
	}
	for (int i = c->n_conv - 1; i >= 0; i--) {
		int cin = i ? d : c->d0;
		int tin = i ? A.Tc[i - 1] : A.T1;
		size_t in = i ? A.a[i - 1] : A.a0;
		act_backward(c->act, da + A.h[i], act + A.h[i], da + A.a[i], (size_t)A.Tc[i] * d);
		/* the col slot of da is free scratch for dcol */
		es_nn_conv_backward(da + in, g + L->conv_w[i], g + L->conv_b[i], da + A.col[i], da + A.h[i],
		                    act + A.col[i], p + L->conv_w[i], tin, cin, d, c->k2, c->s2);
	}
	act_backward(c->act, da + A.h0, act + A.h0, da + A.a0, (size_t)A.T1 * c->d0);
	es_nn_embconv_backward(g + L->emb_w, g + L->emb_b, da + A.h0, x, T, c->k1, c->d0);
}

int es_model_embed_raw(const es_model_t *m, const uint8_t *x, int T, uint8_t *rcbuf, float *act, float *y)
{
	int D = m->cfg.D;
	int nn = 0;
	for (int i = 0; i < T; i++)
		nn += x[i] > 3;
	if (T < es_model_min_len(&m->cfg) || nn == T) {
		memset(y, 0, D * sizeof(float));
		return 1;
	}
	float y2[4096];
	model_forward(m, x, T, act, y, 1);
	memcpy(rcbuf, x, T);
	es_revcomp(rcbuf, T);
	model_forward(m, rcbuf, T, act, y2, 1);
	for (int i = 0; i < D; i++)
		y[i] += y2[i];
	return 0;
}

/* Whether a window's embedding can be pooled from one pass over a longer sequence: with no attention and stride 1,
 * a position of the pooled stream depends only on the es_model_min_len bases under it (every layer is a valid
 * convolution), so the positions inside a window hold the same numbers as when the window is embedded alone. */
int es_model_spans_exact(const es_model_cfg_t *c)
{
	return c->n_block == 0 && (c->n_conv == 0 || c->s2 == 1);
}

/* One strand of the spans: the pooled stream of x (T) once, then each window's mean over the positions inside it
 * (window [b, b+l) holds positions [b, b+l-R+1) for the receptive field R), projected, added into y[i] (D). The
 * strand's windows begin at beg[i] (for the reverse strand: T - beg - len). skip[i]: the window embeds to zero. */
static void spans_strand(const es_model_t *m, const uint8_t *x, int T, int n, const int *beg, const int *len,
                         const uint8_t *skip, int add, float *act, float *y)
{
	const es_model_cfg_t *c = &m->cfg;
	int d = c->d, D = c->D, R = es_model_min_len(c);
	act_layout_t A;
	if (act_layout(c, T, &A) < 0)
		return;
	int t;
	size_t in = forward_features(m, &A, x, T, act, &t, 1);
	float y1[4096];
	for (int i = 0; i < n; i++) {
		if (skip[i])
			continue;
		es_nn_meanpool_forward(act + A.pooled, act + in + (size_t)beg[i] * d, len[i] - R + 1, d);
		float *yi = add ? y1 : y + (size_t)i * D;
		es_nn_linear_forward(yi, act + A.pooled, m->p + m->L.proj_w, m->p + m->L.proj_b, 1, d, D);
		if (add)
			for (int j = 0; j < D; j++)
				y[(size_t)i * D + j] += y1[j];
	}
}

int es_model_embed_spans(const es_model_t *m, const uint8_t *x, int T, int n, const int *beg, const int *len,
                         float *out)
{
	int D = m->cfg.D, R = es_model_min_len(&m->cfg);
	int *nprefix = es_malloc(((size_t)T + 1) * sizeof(int));   /* nprefix[j]: N bases in x[0, j) */
	nprefix[0] = 0;
	for (int j = 0; j < T; j++)
		nprefix[j + 1] = nprefix[j] + (x[j] > 3);
	uint8_t *skip = es_malloc((size_t)n + 1);
	int *rbeg = es_malloc(((size_t)n + 1) * sizeof(int));
	for (int i = 0; i < n; i++) {   /* as es_model_embed_raw: too short or all N gives a zero vector */
		skip[i] = len[i] < R || nprefix[beg[i] + len[i]] - nprefix[beg[i]] == len[i];
		rbeg[i] = T - beg[i] - len[i];
	}
	memset(out, 0, (size_t)n * D * sizeof(float));
	float *act = es_malloc((es_model_act_size(&m->cfg, T) + 1) * sizeof(float));
	uint8_t *rc = es_malloc((size_t)T + 1);
	memcpy(rc, x, T);
	es_revcomp(rc, T);
	spans_strand(m, x, T, n, beg, len, skip, 0, act, out);
	spans_strand(m, rc, T, n, rbeg, len, skip, 1, act, out);
	float norm;
	for (int i = 0; i < n; i++)
		es_nn_l2norm_forward(out + (size_t)i * D, &norm, out + (size_t)i * D, 1, D);
	free(act);
	free(rc);
	free(rbeg);
	free(skip);
	free(nprefix);
	return 0;
}

/* ---------------- model file ---------------- */
/* The config as stored: ten int32 fields in this order. */
static void cfg_to_fields(const es_model_cfg_t *c, int32_t f[CFG_NFIELD])
{
	f[0] = c->k1;
	f[1] = c->d0;
	f[2] = c->n_conv;
	f[3] = c->k2;
	f[4] = c->s2;
	f[5] = c->d;
	f[6] = c->n_block;
	f[7] = c->n_head;
	f[8] = c->D;
	f[9] = c->act;
}

static void fields_to_cfg(const int32_t f[CFG_NFIELD], es_model_cfg_t *c)
{
	memset(c, 0, sizeof *c);
	c->k1 = f[0];
	c->d0 = f[1];
	c->n_conv = f[2];
	c->k2 = f[3];
	c->s2 = f[4];
	c->d = f[5];
	c->n_block = f[6];
	c->n_head = f[7];
	c->D = f[8];
	c->act = f[9];
}

int es_model_save(const es_model_t *m, const char *path)
{
	es_ofile_t of;
	if (es_ofile_open(&of, path, "wb") < 0)
		return -1;
	uint32_t ver = MODEL_VERSION;
	uint32_t nf = CFG_NFIELD;
	int32_t f[CFG_NFIELD];
	uint64_t n = m->L.n;
	uint64_t ck = es_checksum(m->p, m->L.n * sizeof(float), 0);
	cfg_to_fields(&m->cfg, f);
	int ok = fwrite(MODEL_MAGIC, 1, 8, of.fp) == 8;
	ok = ok && fwrite(&ver, 4, 1, of.fp) == 1;
	ok = ok && fwrite(&nf, 4, 1, of.fp) == 1;
	ok = ok && fwrite(f, 4, CFG_NFIELD, of.fp) == CFG_NFIELD;
	ok = ok && fwrite(&n, 8, 1, of.fp) == 1;
	ok = ok && fwrite(&ck, 8, 1, of.fp) == 1;
	ok = ok && fwrite(m->p, sizeof(float), n, of.fp) == n;
	if (!ok) {
		es_ofile_abort(&of);
		return es_error("%s: write failed: %s", path, strerror(errno));
	}
	return es_ofile_commit(&of);
}

/* Read and check a model file's header: the config, the parameter count n and the checksum ck. */
static int read_header(FILE *fp, const char *path, es_model_cfg_t *c, uint64_t *n, uint64_t *ck)
{
	char magic[8];
	uint32_t ver;
	uint32_t nf;
	int32_t f[CFG_NFIELD];
	if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, MODEL_MAGIC, 8))
		return es_error("%s: not an esalign model file (bad magic)", path);
	if (fread(&ver, 4, 1, fp) != 1 || fread(&nf, 4, 1, fp) != 1)
		return es_error("%s: truncated model file (header)", path);
	if (ver != MODEL_VERSION)
		return es_error("%s: model file version %u, this esalign reads version %d", path, ver, MODEL_VERSION);
	if (nf != CFG_NFIELD)
		return es_error("%s: model file has %u config fields, expected %d", path, nf, CFG_NFIELD);
	if (fread(f, 4, CFG_NFIELD, fp) != CFG_NFIELD || fread(n, 8, 1, fp) != 1 || fread(ck, 8, 1, fp) != 1)
		return es_error("%s: truncated model file (header)", path);
	fields_to_cfg(f, c);
	if (es_model_cfg_check(c) < 0) {
		char why[256];  /* es_error must not format from its own buffer */
		snprintf(why, sizeof why, "%s", es_last_error());
		return es_error("%s: bad model config: %s", path, why);
	}
	return 0;
}

es_model_t *es_model_load(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		es_error("%s: cannot open model file: %s", path, strerror(errno));
		return NULL;
	}
	es_model_cfg_t c;
	uint64_t n;
	uint64_t ck;
	es_model_t *m = NULL;
	if (read_header(fp, path, &c, &n, &ck) < 0)
		goto fail;
	m = es_calloc(1, sizeof *m);
	m->cfg = c;
	es_model_layout(&c, &m->L);
	if (n != m->L.n) {
		es_error("%s: model file holds %llu parameters, its config needs %zu", path, (unsigned long long)n,
		         m->L.n);
		goto fail;
	}
	m->p = es_malloc(n * sizeof(float));
	if (fread(m->p, sizeof(float), n, fp) != n) {
		es_error("%s: truncated model file (parameters)", path);
		goto fail;
	}
	if (fgetc(fp) != EOF) {
		es_error("%s: trailing bytes after the model parameters", path);
		goto fail;
	}
	if (es_checksum(m->p, n * sizeof(float), 0) != ck) {
		es_error("%s: model checksum mismatch (corrupt file)", path);
		goto fail;
	}
	fclose(fp);
	return m;
fail:
	fclose(fp);
	es_model_destroy(m);
	return NULL;
}

/* ---------------- the encoder interface ---------------- */
static int model_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out)
{
	const es_model_t *m = e->impl;
	int D = m->cfg.D;
	int maxT = 0;
	for (int i = 0; i < n; i++) {
		if (lens[i] > e->max_len)
			return es_error("%s: sequence %d is %d bases, longer than the encoder's limit %d", e->name, i,
			                lens[i], e->max_len);
		if (lens[i] > maxT)
			maxT = lens[i];
	}
	float *act = es_malloc((es_model_act_size(&m->cfg, maxT) + 1) * sizeof(float));
	float norm;
	uint8_t *rc = es_malloc(maxT + 1);
	for (int i = 0; i < n; i++) {
		float *y = out + (size_t)i * D;
		es_model_embed_raw(m, seqs[i], lens[i], rc, act, y);
		es_nn_l2norm_forward(y, &norm, y, 1, D);
	}
	free(act);
	free(rc);
	return 0;
}

/* ---- int8 inference of the conv layer ----
 * The activation scales are fixed per model, never per sequence, so a window embeds the same alone or inside a
 * longer sequence. The first layer is a gather, so the exact range of each of its channels over every possible input
 * follows from its weights; 127 steps over that range never saturate. Measured against quantiles of the first
 * layer's output (on 20,000 random bases or 200,000 of chrX), which saturate the rare larger values: the exact range
 * gave the embeddings closest to float (600 chrX reads: mean cosine 0.99950 / 0.99929 / 0.99893 at 100 / 150 /
 * 250 bp, against 0.99932 / 0.99909 / 0.99869 for the 99.9% quantile and 0.9955 / 0.9948 / 0.9933 for 99%).
 * The tag versions this scheme in the encoder checksum. */
#define QCONV_TAG "int8 v1"

/* amax (d0): the largest value channel c of the first layer (after ReLU) takes on any input: its bias plus, per tap,
 * the largest weight over the four bases, or 0 where all four are negative (an N contributes nothing). */
static void emb_range(const es_model_t *m, float *amax)
{
	const es_model_cfg_t *c = &m->cfg;
	const float *w = m->p + m->L.emb_w;  /* (k1, 4, d0) */
	const float *b = m->p + m->L.emb_b;
	for (int ch = 0; ch < c->d0; ch++) {
		double s = b[ch];
		for (int j = 0; j < c->k1; j++) {
			double mx = 0;
			for (int base = 0; base < 4; base++)
				mx = fmax(mx, w[((size_t)j * 4 + base) * c->d0 + ch]);
			s += mx;
		}
		amax[ch] = s > 0 ? (float)s : 0.0f;
	}
}

/* m's conv layer in int8, or NULL: the config does not suit the kernels, or ESALIGN_ENCODER_FLOAT=1 asks for float
 * inference (for comparison; read at each encoder load). */
static es_qconv_t *model_qconv(const es_model_t *m)
{
	const es_model_cfg_t *c = &m->cfg;
	const char *env = getenv("ESALIGN_ENCODER_FLOAT");
	if (env && !strcmp(env, "1"))
		return NULL;
	/* conv-only with ReLU: the conv input is >= 0 (unsigned activations) and its output feeds only pool + linear */
	if (c->n_conv != 1 || c->n_block != 0 || c->act != 0 || !es_qconv_eligible(c->d0, c->d, c->k2))
		return NULL;
	float *amax = es_malloc(c->d0 * sizeof(float));
	emb_range(m, amax);
	es_qconv_t *q = es_qconv_new(m->p + m->L.conv_w[0], m->p + m->L.conv_b[0], amax, c->d0, c->d, c->k2, c->s2);
	free(amax);
	return q;
}

/* The encoder's identity: the model's, and with int8 inference the scheme's tag too, so that an index built with
 * float embeddings is refused by the int8 encoder (and the other way round) rather than searched with mixed ones. */
static uint64_t encoder_checksum(const es_model_t *m)
{
	uint64_t h = es_model_checksum(m);
	return m->qconv ? es_checksum(QCONV_TAG, strlen(QCONV_TAG), h) : h;
}

static int model_embed_spans(const es_encoder_t *e, const uint8_t *x, int T, int n, const int *beg, const int *len,
                             float *out)
{
	const es_model_t *m = e->impl;
	if (T > e->max_len)
		return es_error("%s: a sequence of %d bases is longer than the encoder's limit %d", e->name, T, e->max_len);
	return es_model_embed_spans(m, x, T, n, beg, len, out);
}

static void model_enc_destroy(es_encoder_t *e)
{
	es_model_destroy(e->impl);
	free(e);
}

/* An encoder over m, with m's int8 state as it is (model_qconv or NULL). */
static es_encoder_t *encoder_wrap(es_model_t *m)
{
	es_encoder_t *e = es_calloc(1, sizeof *e);
	const es_model_cfg_t *c = &m->cfg;
	e->kind = ES_ENC_TRANSFORMER;
	e->dim = c->D;
	e->max_len = es_model_max_len(c);
	snprintf(e->name, sizeof e->name, "transformer(k1=%d,d0=%d,conv=%dx%d/%d,d=%d,blocks=%d,D=%d,params=%zu%s)",
	         c->k1, c->d0, c->n_conv, c->k2, c->s2, c->d, c->n_block, c->D, m->L.n, m->qconv ? ",int8" : "");
	e->checksum = encoder_checksum(m);
	e->embed = model_embed;
	e->embed_spans = es_model_spans_exact(c) ? model_embed_spans : NULL;
	e->destroy = model_enc_destroy;
	e->impl = m;
	return e;
}

es_encoder_t *es_encoder_from_model(es_model_t *m)
{
	if (!m->qconv)
		m->qconv = model_qconv(m);
	return encoder_wrap(m);
}

/* A borrowed view frees itself, not the model. */
static void model_enc_release(es_encoder_t *e)
{
	free(e);
}

es_encoder_t *es_encoder_borrow_model(es_model_t *m)
{
	es_encoder_t *e = encoder_wrap(m);
	e->destroy = model_enc_release;
	return e;
}

void es_encoder_model_changed(es_encoder_t *e)
{
	es_model_t *m = e->impl;
	if (m->qconv) {  /* int8 weights are a function of the float ones: requantise */
		es_qconv_free(m->qconv);
		m->qconv = model_qconv(m);
	}
	e->checksum = encoder_checksum(m);
}

es_encoder_t *es_encoder_transformer_load(const char *path)
{
	es_model_t *m = es_model_load(path);
	return m ? es_encoder_from_model(m) : NULL;
}
