/* train.c — contrastive training of the learned encoder: pairs (a reference window, a read drawn from it with
 * substitutions, indels and a random strand) sampled on the fly, symmetric in-batch InfoNCE plus hard negatives,
 * AdamW, clipping, threads through es_for (deterministic for a thread count), checkpoints and resume. */
#include "train.h"
#include "nn.h"
#include "region.h"
#include "thread.h"
#include "util.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <errno.h>

/* ---------------- AdamW and clipping ---------------- */
void es_adamw_init(es_adamw_t *o, size_t n, double lr, double wd)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	o->lr = lr;
	o->wd = wd;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-8;
	o->m = es_calloc(n, sizeof(float));
	o->v = es_calloc(n, sizeof(float));
}

void es_adamw_step(es_adamw_t *o, float *p, const float *g)
{
	o->t++;
	double c1 = 1.0 - pow(o->beta1, (double)o->t), c2 = 1.0 - pow(o->beta2, (double)o->t);
	float b1 = (float)o->beta1, b2 = (float)o->beta2;
	for (size_t i = 0; i < o->n; i++) {
		o->m[i] = b1 * o->m[i] + (1 - b1) * g[i];
		o->v[i] = b2 * o->v[i] + (1 - b2) * g[i] * g[i];
		double mh = o->m[i] / c1, vh = o->v[i] / c2;
		p[i] -= (float)(o->lr * (mh / (sqrt(vh) + o->eps) + o->wd * p[i]));
	}
}

void es_adamw_free(es_adamw_t *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

double es_clip_grad(float *g, size_t n, double max_norm)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
	double norm = sqrt(s);
	if (max_norm > 0 && norm > max_norm) {
		float f = (float)(max_norm / norm);
		for (size_t i = 0; i < n; i++) g[i] *= f;
	}
	return norm;
}

/* ---------------- batch loss and gradient ---------------- */
typedef struct {
	const es_model_t *m;
	int N, maxT, nt;
	const uint8_t **seq;
	const int *len;
	float *y;          /* (N, D) raw embeddings f(x)+f(rc x) */
	const float *dy;   /* (N, D) gradient w.r.t. y */
	float **tgrad;     /* (nt) gradient of backward item t: the sequences t, t+nt, ... */
	float *cache;      /* NULL: recompute forwards in backward; else both strands' activations of sequence i at off[i] */
	size_t *off;
	float **act, **dact;   /* (nt) per-thread scratch of es_model_act_size(maxT)+1 floats */
	uint8_t **rc;          /* (nt) per-thread reverse-complement buffer of maxT+1 bytes */
} pg_ctx_t;

struct es_train_ws_s {
	float *buf;
	size_t cap;
};

es_train_ws_t *es_train_ws_new(void)
{
	return es_calloc(1, sizeof(es_train_ws_t));
}

void es_train_ws_free(es_train_ws_t *ws)
{
	if (!ws) return;
	free(ws->buf);
	free(ws);
}

static int too_short(const es_model_t *m, const uint8_t *x, int T)
{
	if (T < es_model_min_len(&m->cfg)) return 1;
	for (int i = 0; i < T; i++)
		if (x[i] < 4) return 0;
	return 1;
}

/* item i: the raw embedding of sequence i (with the cache: keeping each strand's activations for the backward) */
static void pg_forward(void *vc, int64_t i, int tid)
{
	pg_ctx_t *c = vc;
	int D = c->m->cfg.D, T = c->len[i];
	const uint8_t *x = c->seq[i];
	float *y = c->y + (size_t)i * D;
	uint8_t *rc = c->rc[tid];
	if (!c->cache) {
		es_model_embed_raw(c->m, x, T, rc, c->act[tid], y);
		return;
	}
	if (too_short(c->m, x, T)) {
		memset(y, 0, D * sizeof(float));
		return;
	}
	float *a0 = c->cache + c->off[i], *a1 = a0 + es_model_act_size(&c->m->cfg, T), y2[4096];
	es_model_forward(c->m, x, T, a0, y);
	memcpy(rc, x, T);
	es_revcomp(rc, T);
	es_model_forward(c->m, rc, T, a1, y2);
	for (int k = 0; k < D; k++) y[k] += y2[k];
}

/* the gradient of one sequence into g: the same dy flows into both strands of y = f(x) + f(rc x) */
static void pg_backward_one(const pg_ctx_t *c, int i, int tid, float *g)
{
	const uint8_t *x = c->seq[i];
	int T = c->len[i];
	if (too_short(c->m, x, T)) return;
	const float *dy = c->dy + (size_t)i * c->m->cfg.D;
	float y[4096], *dact = c->dact[tid];
	uint8_t *rc = c->rc[tid];
	memcpy(rc, x, T);
	es_revcomp(rc, T);
	if (c->cache) {
		float *a0 = c->cache + c->off[i], *a1 = a0 + es_model_act_size(&c->m->cfg, T);
		es_model_backward(c->m, x, T, a0, dy, g, dact);
		es_model_backward(c->m, rc, T, a1, dy, g, dact);
		return;
	}
	/* recompute each forward to keep memory flat */
	float *act = c->act[tid];
	es_model_forward(c->m, x, T, act, y);
	es_model_backward(c->m, x, T, act, dy, g, dact);
	es_model_forward(c->m, rc, T, act, y);
	es_model_backward(c->m, rc, T, act, dy, g, dact);
}

/* item t of nt: sequences t, t+nt, ... summed in order into tgrad[t], so the sums do not depend on timing */
static void pg_backward(void *vc, int64_t t, int tid)
{
	pg_ctx_t *c = vc;
	for (int i = (int)t; i < c->N; i += c->nt) pg_backward_one(c, i, tid, c->tgrad[t]);
}

double es_train_pairs_grad(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                           const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h, const int *hlen,
                           float tau, int nthreads, float *grad, int *n_top1)
{
	return es_train_pairs_grad_ws(m, B, q, qlen, w, wlen, H, h, hlen, tau, nthreads, grad, n_top1, NULL);
}

/* the activation cache of the whole batch in ws (grown as needed): sequence i's strands at c->off[i] */
static void pg_cache(pg_ctx_t *c, es_train_ws_t *ws)
{
	size_t tot = 0;
	c->off = es_malloc(c->N * sizeof(size_t));
	for (int i = 0; i < c->N; i++) {
		c->off[i] = tot;
		tot += 2 * es_model_act_size(&c->m->cfg, c->len[i]);
	}
	if (tot > ws->cap) {
		free(ws->buf);
		ws->cap = tot + tot / 4;
		ws->buf = es_malloc(ws->cap * sizeof(float));
	}
	c->cache = ws->buf;
}

static void pg_scratch(pg_ctx_t *c, int alloc)
{
	size_t na = es_model_act_size(&c->m->cfg, c->maxT) + 1;
	for (int t = 0; t < c->nt && alloc; t++) {
		c->act[t] = c->cache ? NULL : es_malloc(na * sizeof(float));
		c->dact[t] = es_malloc(na * sizeof(float));
		c->rc[t] = es_malloc(c->maxT + 1);
	}
	for (int t = 0; t < c->nt && !alloc; t++) {
		free(c->act[t]);
		free(c->dact[t]);
		free(c->rc[t]);
	}
}

/* Backward through the per-item gradients: item 0 accumulates straight into grad, the others into their own
 * buffers, added in item order. Returns 0, or -1 (es_for). */
static int pg_grad(pg_ctx_t *c, float *grad)
{
	size_t n = c->m->L.n;
	c->tgrad[0] = grad;
	for (int t = 1; t < c->nt; t++) c->tgrad[t] = es_calloc(n, sizeof(float));
	int rc = es_for(c->nt, pg_backward, c, c->nt);
	for (int t = 1; t < c->nt; t++) {
		for (size_t j = 0; j < n; j++) grad[j] += c->tgrad[t][j];
		free(c->tgrad[t]);
	}
	return rc;
}

double es_train_pairs_grad_ws(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                              const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h,
                              const int *hlen, float tau, int nthreads, float *grad, int *n_top1, es_train_ws_t *ws)
{
	int D = m->cfg.D, M = B + H, N = B + M, maxT = 1;
	if (nthreads < 1 || nthreads > ES_MAX_THREADS)
		return es_error("train: %d threads requested, the supported range is 1..%d", nthreads, ES_MAX_THREADS);
	/* sequences: the B queries, their B positives, the H extra negatives */
	const uint8_t **seq = es_malloc(N * sizeof *seq);
	int *len = es_malloc(N * sizeof *len);
	memcpy(seq, q, B * sizeof *seq);
	memcpy(seq + B, w, B * sizeof *seq);
	if (H > 0) memcpy(seq + 2 * B, h, H * sizeof *seq);
	memcpy(len, qlen, B * sizeof *len);
	memcpy(len + B, wlen, B * sizeof *len);
	if (H > 0) memcpy(len + 2 * B, hlen, H * sizeof *len);
	for (int i = 0; i < N; i++)
		if (len[i] > maxT) maxT = len[i];
	int nt = nthreads < N ? nthreads : N;   /* a thread per sequence at most: more would idle */
	float *y = es_malloc((size_t)N * D * sizeof(float)), *e = es_malloc((size_t)N * D * sizeof(float));
	float *de = es_calloc((size_t)N * D, sizeof(float)), *dy = es_calloc((size_t)N * D, sizeof(float));
	float *nrm = es_malloc(N * sizeof(float)), *scr = es_malloc((size_t)2 * B * M * sizeof(float));
	float *act[ES_MAX_THREADS], *dact[ES_MAX_THREADS], *tgrad[ES_MAX_THREADS];
	uint8_t *rcb[ES_MAX_THREADS];
	pg_ctx_t c = { m, N, maxT, nt, seq, len, y, dy, tgrad, NULL, NULL, act, dact, rcb };
	if (ws && grad) pg_cache(&c, ws);
	pg_scratch(&c, 1);
	double loss = -1;
	if (es_for(nt, pg_forward, &c, N) < 0) goto out;
	es_nn_l2norm_forward(e, nrm, y, N, D);
	float *dq = grad ? de : NULL, *dk = grad ? de + (size_t)B * D : NULL;
	loss = es_nn_infonce(dq, dk, e, e + (size_t)B * D, B, M, D, tau, scr, n_top1);
	if (grad) {
		es_nn_l2norm_backward(dy, de, e, nrm, N, D);
		if (pg_grad(&c, grad) < 0) loss = -1;
	}
out:
	pg_scratch(&c, 0);
	free(seq);
	free(len);
	free(y);
	free(e);
	free(de);
	free(dy);
	free(nrm);
	free(scr);
	free(c.off);
	return loss;
}

/* ---------------- the training run ---------------- */
void es_train_opt_init(es_train_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->train_region = "X:0-35000000";
	o->eval_region = "X:35000000-36000000";
	o->out = "esalign-train";
	es_model_cfg_default(&o->cfg);
	o->windows[0] = 250;
	o->n_windows = 1;
	o->batch = 256;
	o->steps = 10000;
	o->lr = 1e-3;
	o->wd = 0.01;
	o->clip = 1.0;
	o->tau = 0.05;
	o->warmup = 200;
	o->max_sub = 0.06;
	o->hard = 0;
	o->hard_pool = 4096;
	o->hard_every = 50;
	o->nthreads = 1;
	o->seed = 1;
	o->log_every = 50;
	o->eval_every = 500;
	o->eval_reads = 300;
	o->ckpt_secs = 300;
}

#define STATE_MAGIC "ESALNCKP"
#define STATE_VERSION 1
typedef struct {
	uint64_t step, pairs;   /* steps taken, pairs seen */
	uint64_t rng[4];        /* the sampler's rng state */
	uint64_t n, adam_t;     /* parameters, AdamW steps */
	double secs;            /* training wall time over all invocations */
} state_hdr_t;

static uint64_t state_checksum(const state_hdr_t *h, const es_adamw_t *o)
{
	uint64_t ck = es_checksum(h, sizeof *h, 0);
	ck = es_checksum(o->m, o->n * sizeof(float), ck);
	return es_checksum(o->v, o->n * sizeof(float), ck);
}

static int save_state(const char *path, const state_hdr_t *h, const es_adamw_t *o)
{
	es_ofile_t of;
	if (es_ofile_open(&of, path, "wb") < 0) return -1;
	uint32_t ver = STATE_VERSION;
	uint64_t ck = state_checksum(h, o);
	/* the file in order: magic, version, header, first and second moments, checksum */
	const void *part[6] = { STATE_MAGIC, &ver, h, o->m, o->v, &ck };
	size_t size[6] = { 8, 4, sizeof *h, o->n * sizeof(float), o->n * sizeof(float), 8 };
	for (int k = 0; k < 6; k++) {
		if (fwrite(part[k], 1, size[k], of.fp) != size[k]) {
			es_ofile_abort(&of);
			return es_error("%s: write failed: %s", path, strerror(errno));
		}
	}
	return es_ofile_commit(&of);
}

static int read_part(FILE *fp, const char *path, void *p, size_t n, const char *what)
{
	if (fread(p, 1, n, fp) != n) return es_error("%s: truncated training state (in the %s)", path, what);
	return 0;
}

static int load_state_fp(FILE *fp, const char *path, state_hdr_t *h, es_adamw_t *o)
{
	char magic[8];
	uint32_t ver;
	uint64_t ck;
	if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, STATE_MAGIC, 8))
		return es_error("%s: not an esalign training state (bad magic)", path);
	if (fread(&ver, 4, 1, fp) != 1 || ver != STATE_VERSION)
		return es_error("%s: training state version mismatch (want %d)", path, STATE_VERSION);
	if (read_part(fp, path, h, sizeof *h, "header") < 0) return -1;
	if (h->n != o->n)
		return es_error("%s: training state for %llu parameters, the model has %zu", path, (unsigned long long)h->n,
		                o->n);
	if (read_part(fp, path, o->m, o->n * sizeof(float), "first moments") < 0) return -1;
	if (read_part(fp, path, o->v, o->n * sizeof(float), "second moments") < 0) return -1;
	if (read_part(fp, path, &ck, 8, "checksum") < 0) return -1;
	if (state_checksum(h, o) != ck) return es_error("%s: training state checksum mismatch (corrupt file)", path);
	o->t = (int64_t)h->adam_t;
	return 0;
}

static int load_state(const char *path, state_hdr_t *h, es_adamw_t *o)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return es_error("%s: cannot open training state: %s", path, strerror(errno));
	int rc = load_state_fp(fp, path, h, o);
	fclose(fp);
	return rc;
}

/* a random N-free position p with [p-pad, p+len+pad) inside [beg,end) */
static int64_t sample_pos(const es_ref_t *ref, int64_t beg, int64_t end, int len, int pad, es_rng_t *rng)
{
	for (int tries = 0; tries < 100000; tries++) {
		int64_t p = beg + pad + (int64_t)es_rng_below(rng, (uint64_t)(end - beg - len - 2 * pad));
		if (es_ref_count_n(ref, p - pad, p + len + pad) == 0) return p;
	}
	return -1;
}

static void fmt_secs(double s, char *buf, size_t n)
{
	if (s < 0 || s > 1e8) {
		snprintf(buf, n, "?");
		return;
	}
	int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
	if (h) snprintf(buf, n, "%dh%02dm", h, m);
	else snprintf(buf, n, "%dm%02ds", m, sec);
}

/* A training run: the data, the model and optimizer, one step's pairs, the hard-negative pool, the progress. */
typedef struct {
	const es_train_opt_t *o;
	es_ref_t *ref;
	int64_t tb, te;            /* training region, global [beg,end) */
	int B, H, P, Wmax, D;      /* pairs, hard negatives and pool windows per step; longest window; output dim */
	es_model_t *m;
	es_encoder_t *enc;         /* a borrowed view of m for embedding (es_encoder_borrow_model) */
	es_adamw_t opt;
	state_hdr_t st;
	es_rng_t rng;
	es_train_ws_t *ws;
	float *grad;               /* (L.n) */
	/* one step's pairs: read i at qp[i] (ql[i] bases), its window at wp[i] (wl[i], starting at wpos[i]) */
	uint8_t *qbuf, *wbuf, *hbuf, *src;
	const uint8_t **qp, **wp, **hp;
	int *ql, *wl, *hl;
	int64_t *wpos;
	/* the pool for hard negatives: P windows of Wmax starting at ppos, embedded into pemb, of epoch pool_epoch */
	uint8_t *pool;
	int64_t *ppos, pool_epoch;
	float *pemb;
	/* progress since the last line */
	es_recall_opt_t ro;        /* the held-out recall */
	double t_begin, t_start, t_ckpt, t_log, r1, r16, loss_sum, top1_sum;
	int64_t pairs_log, nlog;
} trainer_t;

static int check_opt(const es_train_opt_t *o, int *Wmax)
{
	*Wmax = 0;
	for (int i = 0; i < o->n_windows; i++)
		if (o->windows[i] > *Wmax) *Wmax = o->windows[i];
	if (o->batch < 2) return es_error("train: batch %d must be at least 2", o->batch);
	if (o->n_windows < 1 || o->n_windows > 4) return es_error("train: %d window lengths, expected 1..4", o->n_windows);
	if (*Wmax < 20) return es_error("train: the longest window is %d bases, at least 20 needed", *Wmax);
	if (o->hard < 0 || o->hard > o->batch)
		return es_error("train: hard negatives %d must be in 0..%d (the batch)", o->hard, o->batch);
	if (o->nthreads < 1 || o->nthreads > ES_MAX_THREADS)
		return es_error("train: %d threads, the supported range is 1..%d", o->nthreads, ES_MAX_THREADS);
	return 0;
}

/* the model and optimizer, new or from the checkpoint o->resume (then the rng continues too) */
static int open_model(trainer_t *t)
{
	const es_train_opt_t *o = t->o;
	char path[4096];
	es_rng_seed(&t->rng, o->seed);
	if (!o->resume) {
		if (!(t->m = es_model_new(&o->cfg, o->seed))) return -1;
		es_adamw_init(&t->opt, t->m->L.n, o->lr, o->wd);
		return 0;
	}
	snprintf(path, sizeof path, "%s.model", o->resume);
	if (!(t->m = es_model_load(path))) return -1;
	es_adamw_init(&t->opt, t->m->L.n, o->lr, o->wd);
	snprintf(path, sizeof path, "%s.state", o->resume);
	if (load_state(path, &t->st, &t->opt) < 0) return -1;
	memcpy(t->rng.s, t->st.rng, sizeof t->rng.s);
	es_log(2, "train", "resumed from %s at step %llu (%llu pairs)", o->resume, (unsigned long long)t->st.step,
	       (unsigned long long)t->st.pairs);
	return 0;
}

static void alloc_buffers(trainer_t *t)
{
	int B = t->B, H = t->H, P = t->P, W = t->Wmax;
	t->qbuf = es_malloc((size_t)B * W);
	t->wbuf = es_malloc((size_t)B * W);
	t->hbuf = es_malloc((size_t)(H + 1) * W);
	t->src = es_malloc(W + W / 8 + 64);
	t->qp = es_malloc(B * sizeof *t->qp);
	t->wp = es_malloc(B * sizeof *t->wp);
	t->hp = es_malloc((H + 1) * sizeof *t->hp);
	t->ql = es_malloc(B * sizeof(int));
	t->wl = es_malloc(B * sizeof(int));
	t->hl = es_malloc((H + 1) * sizeof(int));
	t->wpos = es_malloc(B * sizeof(int64_t));
	t->grad = es_malloc(t->m->L.n * sizeof(float));
	t->ws = es_train_ws_new();
	t->pool = P ? es_malloc((size_t)P * W) : NULL;
	t->ppos = P ? es_malloc(P * sizeof(int64_t)) : NULL;
	t->pemb = P ? es_malloc((size_t)P * t->D * sizeof(float)) : NULL;
	t->pool_epoch = -1;
}

static void trainer_close(trainer_t *t)
{
	free(t->qbuf);
	free(t->wbuf);
	free(t->hbuf);
	free(t->src);
	free(t->qp);
	free(t->wp);
	free(t->hp);
	free(t->ql);
	free(t->wl);
	free(t->hl);
	free(t->wpos);
	free(t->grad);
	es_train_ws_free(t->ws);
	free(t->pool);
	free(t->ppos);
	free(t->pemb);
	es_encoder_destroy(t->enc);
	es_adamw_free(&t->opt);
	es_model_destroy(t->m);
	es_ref_destroy(t->ref);
}

/* The reference, the regions, the model (new or resumed) and the buffers. Returns 0, or -1 with es_error set (the
 * caller closes t either way). */
static int trainer_open(trainer_t *t, const es_train_opt_t *o)
{
	memset(t, 0, sizeof *t);
	t->o = o;
	if (check_opt(o, &t->Wmax) < 0) return -1;
	t->B = o->batch;
	t->H = o->hard;
	t->P = t->H > 0 ? o->hard_pool : 0;
	if (!(t->ref = es_ref_load_fasta(o->ref_fn))) return -1;
	int64_t eb, ee;
	if (es_ref_region(t->ref, o->train_region, &t->tb, &t->te) < 0) return -1;
	if (es_ref_region(t->ref, o->eval_region, &eb, &ee) < 0) return -1;
	if (t->te - t->tb < 10 * t->Wmax)
		return es_error("train: training region %s has %lld bases, fewer than 10 x the longest window (%d)",
		                o->train_region, (long long)(t->te - t->tb), t->Wmax);
	if (open_model(t) < 0) return -1;
	t->D = t->m->cfg.D;
	t->enc = es_encoder_borrow_model(t->m);
	alloc_buffers(t);
	es_recall_opt_t ro = { eb, ee, 250, 25, 1, { 250 }, { 0.05 }, o->eval_reads, 12345, o->nthreads };
	t->ro = ro;
	t->r1 = t->r16 = -1;
	return 0;
}

/* learning rate factor: linear warmup, then cosine to 10% at o->steps */
static double lr_factor(const es_train_opt_t *o, int64_t step)
{
	if (step < o->warmup) return (step + 1.0) / o->warmup;
	double span = (double)(o->steps - o->warmup > 0 ? o->steps - o->warmup : 1);
	return 0.1 + 0.9 * 0.5 * (1 + cos(M_PI * (double)(step - o->warmup) / span));
}

/* A read of len bases from global p (the shared read rule, recall.h), reverse-complemented on a coin. 0 or -1. */
static int draw_read(const es_ref_t *ref, int64_t p, int len, double sub, es_rng_t *rng, uint8_t *src, uint8_t *out)
{
	if (p + ES_READ_SRC_LEN(len) > ref->len) return -1;
	if (es_read_draw(ref, p, len, sub, rng, src, out, NULL) < 0) return -1;
	if (es_rng_uniform(rng) < 0.5) es_revcomp(out, len);
	return 0;
}

/* Pair i: a window of a random length from the list, and a read of 100..W bases (W for 40%, then jittered by up
 * to 12 bases) drawn inside it. Returns 1 drawn, 0 draw again (the read ran off), -1 error. */
static int sample_pair(trainer_t *t, int i)
{
	const es_train_opt_t *o = t->o;
	es_rng_t *rng = &t->rng;
	int W = o->windows[es_rng_below(rng, o->n_windows)], lmin = W < 100 ? W : 100;
	int len = lmin + (int)es_rng_below(rng, W - lmin + 1);
	if (es_rng_uniform(rng) < 0.4) len = W;
	int64_t p = sample_pos(t->ref, t->tb, t->te, W, 40, rng);
	if (p < 0) return es_error("train: cannot find N-free windows in %s", o->train_region);
	int off = len == W ? (int)es_rng_below(rng, 25) - 12 : (int)es_rng_below(rng, W - len + 1);
	double sub = es_rng_uniform(rng) * o->max_sub;
	uint8_t *q = t->qbuf + (size_t)i * t->Wmax, *w = t->wbuf + (size_t)i * t->Wmax;
	es_ref_get(t->ref, p, p + W, w);
	if (draw_read(t->ref, p + off, len, sub, rng, t->src, q) < 0) return 0;
	t->qp[i] = q;
	t->ql[i] = len;
	t->wp[i] = w;
	t->wl[i] = W;
	t->wpos[i] = p;
	return 1;
}

static int sample_pairs(trainer_t *t)
{
	for (int i = 0; i < t->B;) {
		int r = sample_pair(t, i);
		if (r < 0) return -1;
		i += r;
	}
	return 0;
}

/* the pool of epoch: P windows of Wmax from its own seeded rng, embedded by the current model */
static int refresh_pool(trainer_t *t, int64_t epoch)
{
	int P = t->P, W = t->Wmax;
	es_rng_t pr;
	es_rng_seed(&pr, t->o->seed ^ es_hash64((uint64_t)epoch + 0x9001));
	const uint8_t **pp = es_malloc(P * sizeof *pp);
	int *pl = es_malloc(P * sizeof(int));
	for (int j = 0; j < P; j++) {
		t->ppos[j] = sample_pos(t->ref, t->tb, t->te, W, 0, &pr);
		if (t->ppos[j] < 0) t->ppos[j] = t->tb;
		es_ref_get(t->ref, t->ppos[j], t->ppos[j] + W, t->pool + (size_t)j * W);
		pp[j] = t->pool + (size_t)j * W;
		pl[j] = W;
	}
	int rc = es_embed_many(t->enc, P, pp, pl, t->pemb, t->o->nthreads);
	free(pp);
	free(pl);
	t->pool_epoch = epoch;
	return rc;
}

/* Hard negatives: for each of the first H reads, the pool window the current model ranks highest that does not
 * overlap the read's own window. Returns 0, or -1 (embedding). */
static int mine_hard(trainer_t *t, int64_t step)
{
	int H = t->H, P = t->P, D = t->D, W = t->Wmax;
	int64_t epoch = step / t->o->hard_every;
	if (epoch != t->pool_epoch && refresh_pool(t, epoch) < 0) return -1;
	float *qe = es_malloc((size_t)H * D * sizeof(float)), *S = es_malloc((size_t)H * P * sizeof(float));
	int rc = es_embed_many(t->enc, H, t->qp, t->ql, qe, t->o->nthreads);
	if (rc == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, P, D, 1.0f, qe, D, t->pemb, D, 0.0f, S, P);
	for (int i = 0; i < H && rc == 0; i++) {
		const float *s = S + (size_t)i * P;
		int best = -1;
		for (int j = 0; j < P; j++)
			if (llabs(t->ppos[j] - t->wpos[i]) >= W && (best < 0 || s[j] > s[best])) best = j;
		if (best < 0) best = 0;
		memcpy(t->hbuf + (size_t)i * W, t->pool + (size_t)best * W, W);
		t->hp[i] = t->hbuf + (size_t)i * W;
		t->hl[i] = W;
	}
	free(qe);
	free(S);
	return rc;
}

/* One optimizer step on fresh pairs; *gn receives the gradient norm before clipping. Returns 0 or -1. */
static int train_step(trainer_t *t, int64_t step, double *gn)
{
	const es_train_opt_t *o = t->o;
	t->opt.lr = o->lr * lr_factor(o, step);
	if (sample_pairs(t) < 0) return -1;
	if (t->H > 0 && mine_hard(t, step) < 0) return -1;
	memset(t->grad, 0, t->m->L.n * sizeof(float));
	int top1 = 0;
	double loss = es_train_pairs_grad_ws(t->m, t->B, t->qp, t->ql, t->wp, t->wl, t->H, t->hp, t->hl, (float)o->tau,
	                                     o->nthreads, t->grad, &top1, t->ws);
	if (loss < 0) return -1;
	*gn = es_clip_grad(t->grad, t->m->L.n, o->clip);
	es_adamw_step(&t->opt, t->m->p, t->grad);
	t->st.step = (uint64_t)step + 1;
	t->st.pairs += (uint64_t)t->B;
	t->pairs_log += t->B;
	t->loss_sum += loss;
	t->top1_sum += (double)top1 / t->B;
	t->nlog++;
	return 0;
}

/* the held-out recall of the current model (a failure is logged, not fatal) */
static void eval_recall(trainer_t *t)
{
	double rec[1][4];
	es_encoder_model_changed(t->enc);
	if (es_recall_eval(t->enc, t->ref, &t->ro, rec, NULL) == 0) {
		t->r1 = rec[0][0];
		t->r16 = rec[0][2];
	} else {
		es_log(1, "train", "held-out recall failed: %s", es_last_error());
	}
}

static void log_progress(trainer_t *t, double gn)
{
	const es_train_opt_t *o = t->o;
	double now = es_time(), pps = t->pairs_log / (now - t->t_log + 1e-9);
	char eta[32], el[32];
	fmt_secs((double)(o->steps - (int64_t)t->st.step) * t->B / (pps > 0 ? pps : 1), eta, sizeof eta);
	fmt_secs(t->st.secs + now - t->t_start, el, sizeof el);
	fprintf(stderr, "[train] step %llu/%lld loss %.4f top1 %.3f |g| %.3g lr %.2e ", (unsigned long long)t->st.step,
	        (long long)o->steps, t->loss_sum / t->nlog, t->top1_sum / t->nlog, gn, t->opt.lr);
	fprintf(stderr, "held-out(250bp,5%%) recall@1 %.3f @16 %.3f pairs/s %.0f pairs %llu elapsed %s ETA %s\n", t->r1,
	        t->r16, pps, (unsigned long long)t->st.pairs, el, eta);
	fflush(stderr);
	t->t_log = now;
	t->pairs_log = 0;
	t->loss_sum = t->top1_sum = 0;
	t->nlog = 0;
}

/* OUT.model and OUT.state; st.secs counts training wall time over all invocations */
static int checkpoint(trainer_t *t)
{
	const es_train_opt_t *o = t->o;
	char path[4096];
	double now = es_time();
	t->st.secs += now - t->t_start;
	t->t_start = now;
	memcpy(t->st.rng, t->rng.s, sizeof t->st.rng);
	t->st.n = t->m->L.n;
	t->st.adam_t = (uint64_t)t->opt.t;
	snprintf(path, sizeof path, "%s.model", o->out);
	if (es_model_save(t->m, path) < 0) return -1;
	snprintf(path, sizeof path, "%s.state", o->out);
	if (save_state(path, &t->st, &t->opt) < 0) return -1;
	es_log(2, "train", "checkpoint %s.{model,state} at step %llu (%.0f s of training)", o->out,
	       (unsigned long long)t->st.step, t->st.secs);
	t->t_ckpt = es_time();
	return 0;
}

int es_train_run(const es_train_opt_t *o)
{
	trainer_t t;
	int rc = trainer_open(&t, o);
	if (rc == 0) {
		char cfg[256];
		es_model_cfg_str(&t.m->cfg, cfg, sizeof cfg);
		es_log(2, "train", "model %s, %zu parameters; batch %d, hard negatives %d, tau %.3g, lr %.2g, %d thread(s)",
		       cfg, t.m->L.n, t.B, t.H, o->tau, o->lr, o->nthreads);
		t.t_begin = t.t_start = t.t_ckpt = t.t_log = es_time();
	}
	for (int64_t step = (int64_t)t.st.step; rc == 0 && step < o->steps; step++) {
		double gn;
		if ((rc = train_step(&t, step, &gn)) < 0) break;
		int last = t.st.step == (uint64_t)o->steps || (o->max_secs > 0 && es_time() - t.t_begin > o->max_secs);
		if (o->eval_every > 0 && (t.st.step % (uint64_t)o->eval_every == 0 || last)) eval_recall(&t);
		if (t.st.step % (uint64_t)o->log_every == 0 || last) log_progress(&t, gn);
		if (es_time() - t.t_ckpt > o->ckpt_secs || last) rc = checkpoint(&t);
		if (last) break;
	}
	trainer_close(&t);
	return rc;
}
