/* train.c — contrastive training of the learned encoder: pairs (a reference window, a read drawn from it with
 * substitutions, indels and a random strand) sampled on the fly, symmetric in-batch InfoNCE plus hard negatives, AdamW,
 * clipping, pthreads (deterministic for a thread count), checkpoints and resume; and held-out exact-search recall. */
#include "train.h"
#include "nn.h"
#include "simulate.h"
#include "util.h"
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <errno.h>

/* ---------------- AdamW and clipping ---------------- */
void es_adamw_init(es_adamw_t *o, size_t n, double lr, double wd)
{
	memset(o, 0, sizeof *o);
	o->n = n; o->lr = lr; o->wd = wd; o->beta1 = 0.9; o->beta2 = 0.999; o->eps = 1e-8;
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

void es_adamw_free(es_adamw_t *o) { free(o->m); free(o->v); o->m = o->v = NULL; }

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

/* ---------------- a static parallel-for: item i runs on worker i % nthreads, so results do not depend on timing ---- */
typedef void (*work_fn)(void *ctx, int tid, int nthreads);
typedef struct { work_fn fn; void *ctx; int tid, nt; } worker_arg_t;
static void *worker_main(void *a) { worker_arg_t *w = a; w->fn(w->ctx, w->tid, w->nt); return NULL; }
static void run_workers(work_fn fn, void *ctx, int nt)
{
	if (nt <= 1) { fn(ctx, 0, 1); return; }
	pthread_t th[256];
	worker_arg_t arg[256];
	if (nt > 256) nt = 256;
	for (int t = 0; t < nt; t++) {
		arg[t] = (worker_arg_t){ fn, ctx, t, nt };
		if (t > 0 && pthread_create(&th[t], NULL, worker_main, &arg[t]) != 0) worker_main(&arg[t]);
	}
	worker_main(&arg[0]);
	for (int t = 1; t < nt; t++) pthread_join(th[t], NULL);
}

/* ---------------- batch loss and gradient ---------------- */
typedef struct {
	const es_model_t *m;
	int N, maxT;
	const uint8_t **seq;
	const int *len;
	float *y;          /* (N, D) raw embeddings f(x)+f(rc x) */
	const float *dy;   /* (N, D) gradient w.r.t. y */
	float **tgrad;     /* per-thread gradient */
	float *cache;      /* NULL: recompute forwards in backward; else both strands' activations of sequence i at off[i] */
	size_t *off;
} pg_ctx_t;

struct es_train_ws_s { float *buf; size_t cap; };
es_train_ws_t *es_train_ws_new(void) { return es_calloc(1, sizeof(es_train_ws_t)); }
void es_train_ws_free(es_train_ws_t *ws) { if (ws) { free(ws->buf); free(ws); } }

static int too_short(const es_model_t *m, const uint8_t *x, int T)
{
	if (T < es_model_min_len(&m->cfg)) return 1;
	for (int i = 0; i < T; i++) if (x[i] < 4) return 0;
	return 1;
}

static void pg_forward(void *vc, int tid, int nt)
{
	pg_ctx_t *c = vc;
	int D = c->m->cfg.D;
	float *act = c->cache ? NULL : es_malloc((es_model_act_size(&c->m->cfg, c->maxT) + 1) * sizeof(float));
	uint8_t *rc = es_malloc(c->maxT + 1);
	for (int i = tid; i < c->N; i += nt) {
		float *y = c->y + (size_t)i * D;
		if (!c->cache) { es_model_embed_raw(c->m, c->seq[i], c->len[i], rc, act, y); continue; }
		/* cached: keep each strand's activations for the backward pass */
		const uint8_t *x = c->seq[i];
		int T = c->len[i];
		if (too_short(c->m, x, T)) { memset(y, 0, D * sizeof(float)); continue; }
		float *a0 = c->cache + c->off[i], *a1 = a0 + es_model_act_size(&c->m->cfg, T), y2[4096];
		es_model_forward(c->m, x, T, a0, y);
		memcpy(rc, x, T);
		es_revcomp(rc, T);
		es_model_forward(c->m, rc, T, a1, y2);
		for (int k = 0; k < D; k++) y[k] += y2[k];
	}
	free(act); free(rc);
}

static void pg_backward(void *vc, int tid, int nt)
{
	pg_ctx_t *c = vc;
	size_t na = es_model_act_size(&c->m->cfg, c->maxT) + 1;
	float *act = c->cache ? NULL : es_malloc(na * sizeof(float)), *dact = es_malloc(na * sizeof(float));
	uint8_t *rc = es_malloc(c->maxT + 1);
	for (int i = tid; i < c->N; i += nt) {
		const uint8_t *x = c->seq[i];
		int T = c->len[i];
		if (too_short(c->m, x, T)) continue;
		const float *dy = c->dy + (size_t)i * c->m->cfg.D;
		float y[4096];
		if (c->cache) {
			float *a0 = c->cache + c->off[i], *a1 = a0 + es_model_act_size(&c->m->cfg, T);
			es_model_backward(c->m, x, T, a0, dy, c->tgrad[tid], dact);
			memcpy(rc, x, T);
			es_revcomp(rc, T);
			es_model_backward(c->m, rc, T, a1, dy, c->tgrad[tid], dact);
			continue;
		}
		/* y = f(x) + f(rc x): the same dy flows into both strands; recompute each forward to keep memory flat */
		es_model_forward(c->m, x, T, act, y);
		es_model_backward(c->m, x, T, act, dy, c->tgrad[tid], dact);
		memcpy(rc, x, T);
		es_revcomp(rc, T);
		es_model_forward(c->m, rc, T, act, y);
		es_model_backward(c->m, rc, T, act, dy, c->tgrad[tid], dact);
	}
	free(act); free(dact); free(rc);
}

double es_train_pairs_grad(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                           const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h, const int *hlen,
                           float tau, int nthreads, float *grad, int *n_top1)
{
	return es_train_pairs_grad_ws(m, B, q, qlen, w, wlen, H, h, hlen, tau, nthreads, grad, n_top1, NULL);
}

double es_train_pairs_grad_ws(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                              const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h, const int *hlen,
                              float tau, int nthreads, float *grad, int *n_top1, es_train_ws_t *ws)
{
	int D = m->cfg.D, M = B + H, N = B + M;
	const uint8_t **seq = es_malloc(N * sizeof *seq);
	int *len = es_malloc(N * sizeof *len), maxT = 1;
	for (int i = 0; i < B; i++) { seq[i] = q[i]; len[i] = qlen[i]; seq[B + i] = w[i]; len[B + i] = wlen[i]; }
	for (int j = 0; j < H; j++) { seq[2 * B + j] = h[j]; len[2 * B + j] = hlen[j]; }
	for (int i = 0; i < N; i++) if (len[i] > maxT) maxT = len[i];
	if (nthreads < 1) nthreads = 1;
	if (nthreads > N) nthreads = N;
	float *y = es_malloc((size_t)N * D * sizeof(float)), *e = es_malloc((size_t)N * D * sizeof(float));
	float *de = es_calloc((size_t)N * D, sizeof(float)), *dy = es_calloc((size_t)N * D, sizeof(float));
	float *nrm = es_malloc(N * sizeof(float)), *scr = es_malloc((size_t)2 * B * M * sizeof(float));
	pg_ctx_t c = { m, N, maxT, seq, len, y, dy, NULL, NULL, NULL };
	if (ws && grad) {
		size_t tot = 0;
		c.off = es_malloc(N * sizeof(size_t));
		for (int i = 0; i < N; i++) { c.off[i] = tot; tot += 2 * es_model_act_size(&m->cfg, len[i]); }
		if (tot > ws->cap) { free(ws->buf); ws->cap = tot + tot / 4; ws->buf = es_malloc(ws->cap * sizeof(float)); }
		c.cache = ws->buf;
	}
	run_workers(pg_forward, &c, nthreads);
	es_nn_l2norm_forward(e, nrm, y, N, D);
	double loss = es_nn_infonce(grad ? de : NULL, grad ? de + (size_t)B * D : NULL, e, e + (size_t)B * D, B, M, D, tau, scr, n_top1);
	if (grad) {
		es_nn_l2norm_backward(dy, de, e, nrm, N, D);
		c.tgrad = es_malloc(nthreads * sizeof(float *));
		c.tgrad[0] = grad;  /* worker 0 accumulates straight into grad; the others into their own, added in order */
		for (int t = 1; t < nthreads; t++) c.tgrad[t] = es_calloc(m->L.n, sizeof(float));
		run_workers(pg_backward, &c, nthreads);
		for (int t = 1; t < nthreads; t++) {
			for (size_t j = 0; j < m->L.n; j++) grad[j] += c.tgrad[t][j];
			free(c.tgrad[t]);
		}
		free(c.tgrad);
	}
	free(seq); free(len); free(y); free(e); free(de); free(dy); free(nrm); free(scr); free(c.off);
	return loss;
}

/* ---------------- embedding many sequences with an encoder, in parallel ---------------- */
typedef struct {
	const es_encoder_t *e;
	int n;
	const uint8_t *const *seq;
	const int *len;
	float *out;
	int err;
} emb_ctx_t;

static void emb_worker(void *vc, int tid, int nt)
{
	emb_ctx_t *c = vc;
	/* contiguous chunks of 64 sequences, dealt round-robin */
	for (int a = tid * 64; a < c->n; a += nt * 64) {
		int k = c->n - a < 64 ? c->n - a : 64;
		if (c->e->embed(c->e, k, c->seq + a, c->len + a, c->out + (size_t)a * c->e->dim) < 0) c->err = 1;
	}
}

static int embed_all(const es_encoder_t *e, int n, const uint8_t *const *seq, const int *len, float *out, int nt)
{
	emb_ctx_t c = { e, n, seq, len, out, 0 };
	run_workers(emb_worker, &c, nt < 1 ? 1 : nt);
	return c.err ? -1 : 0;
}

/* Draw a read of read_len from global position p (forward strand), mutated, random strand. Returns 0 or -1. */
static int draw_read(const es_ref_t *ref, int64_t p, int read_len, double sub, es_rng_t *rng, uint8_t *src, uint8_t *out)
{
	int slen = read_len + read_len / 8 + 32;
	if (p + slen > ref->len) return -1;
	es_ref_get(ref, p, p + slen, src);
	es_sim_err_t err = { sub, sub / 20, sub / 20, ES_SIM_INDEL_EXT };
	if (es_sim_mutate(src, slen, read_len, &err, rng, out, NULL) < 0) return -1;
	if (es_rng_uniform(rng) < 0.5) es_revcomp(out, read_len);
	return 0;
}

/* ---------------- held-out exact-search recall ---------------- */
/* top-K insertion: keep best K (score, index) in descending order */
static void topk_push(float *sc, int *id, int K, float s, int j)
{
	if (s <= sc[K - 1]) return;
	int i = K - 1;
	while (i > 0 && sc[i - 1] < s) { sc[i] = sc[i - 1]; id[i] = id[i - 1]; i--; }
	sc[i] = s; id[i] = j;
}

/* reads of one setting; returns 0 or -1 */
static int make_reads(const es_ref_t *ref, int64_t beg, int64_t end, int L, double sub, int nr, uint64_t seed,
                      uint8_t *rseq, int64_t *rpos)
{
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	uint8_t *src = es_malloc(L + L / 8 + 64);
	int64_t span = end - beg - (L + L / 8 + 32);
	int rc = 0;
	for (int i = 0; i < nr && rc == 0; i++) {
		for (int tries = 0;; tries++) {
			int64_t p = beg + (int64_t)es_rng_below(&rng, (uint64_t)span);
			if (es_ref_count_n(ref, p, p + L + L / 8 + 32) == 0 && draw_read(ref, p, L, sub, &rng, src, rseq + (size_t)i * L) == 0) {
				rpos[i] = p; break;
			}
			if (tries > 10000) { rc = es_error("recall: cannot place reads in the region (too many N)"); break; }
		}
	}
	free(src);
	return rc;
}

int es_recall_eval(const es_encoder_t *e, const es_ref_t *ref, const es_recall_opt_t *o, double (*recall)[4],
                   double *speed)
{
	const int K = 64, Ks[4] = {1, 4, 16, 64};
	int D = e->dim, W = o->W, maxL = 0;
	if (o->n_set < 1 || o->n_set > ES_RECALL_MAX_SET) return es_error("recall: %d read settings, expected 1..%d", o->n_set, ES_RECALL_MAX_SET);
	for (int s = 0; s < o->n_set; s++) if (o->read_len[s] > maxL) maxL = o->read_len[s];
	if (o->beg < 0 || o->end > ref->len || o->end - o->beg < W + 2 * maxL + 100)
		return es_error("recall: region [%lld,%lld) too small or outside the reference", (long long)o->beg, (long long)o->end);
	/* windows without N */
	int64_t nw = 0, cap = (o->end - o->beg) / o->stride + 1;
	int64_t *wst = es_malloc(cap * sizeof(int64_t));
	for (int64_t s = o->beg; s + W <= o->end; s += o->stride)
		if (es_ref_count_n(ref, s, s + W) == 0) wst[nw++] = s;
	if (nw == 0) { free(wst); return es_error("recall: no N-free window in the region"); }
	uint8_t *wseq = es_malloc((size_t)nw * W);
	const uint8_t **wp = es_malloc(nw * sizeof *wp);
	int *wl = es_malloc(nw * sizeof(int));
	for (int64_t i = 0; i < nw; i++) {
		es_ref_get(ref, wst[i], wst[i] + W, wseq + (size_t)i * W);
		wp[i] = wseq + (size_t)i * W; wl[i] = W;
	}
	float *wv = es_malloc((size_t)nw * D * sizeof(float));
	double t0 = es_cputime();
	int rc = embed_all(e, (int)nw, wp, wl, wv, o->nthreads);
	if (speed) speed[0] = nw / (es_cputime() - t0 + 1e-9);
	free(wseq); free(wp); free(wl);
	int nr = o->n_reads, BW = 8192;
	uint8_t *rseq = es_malloc((size_t)nr * maxL);
	const uint8_t **rp = es_malloc(nr * sizeof *rp);
	int *rl = es_malloc(nr * sizeof(int));
	int64_t *rpos = es_malloc(nr * sizeof(int64_t));
	float *rv = es_malloc((size_t)nr * D * sizeof(float)), *tsc = es_malloc((size_t)nr * K * sizeof(float));
	float *S = es_malloc((size_t)nr * BW * sizeof(float));
	int *tid = es_malloc((size_t)nr * K * sizeof(int));
	for (int set = 0; set < o->n_set && rc == 0; set++) {
		int L = o->read_len[set];
		rc = make_reads(ref, o->beg, o->end, L, o->sub[set], nr, o->seed + (uint64_t)set, rseq, rpos);
		for (int i = 0; i < nr; i++) { rp[i] = rseq + (size_t)i * L; rl[i] = L; }
		t0 = es_cputime();
		if (rc == 0) rc = embed_all(e, nr, rp, rl, rv, o->nthreads);
		if (rc < 0) break;
		if (speed) speed[1 + set] = nr / (es_cputime() - t0 + 1e-9);
		/* brute force: scores of all reads against blocks of windows, keeping the top K per read */
		for (size_t i = 0; i < (size_t)nr * K; i++) tsc[i] = -1e30f, tid[i] = -1;
		for (int64_t a = 0; a < nw; a += BW) {
			int nb = (int)(nw - a < BW ? nw - a : BW);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nb, D, 1.0f, rv, D, wv + (size_t)a * D, D, 0.0f, S, nb);
			for (int i = 0; i < nr; i++)
				for (int j = 0; j < nb; j++) topk_push(tsc + (size_t)i * K, tid + (size_t)i * K, K, S[(size_t)i * nb + j], (int)(a + j));
		}
		int hit[4] = {0};
		for (int i = 0; i < nr; i++) {
			int first = K;
			for (int k = 0; k < K; k++) {
				int j = tid[(size_t)i * K + k];
				if (j >= 0 && llabs(wst[j] - rpos[i]) < W / 2) { first = k; break; }
			}
			for (int q = 0; q < 4; q++) hit[q] += first < Ks[q];
		}
		for (int q = 0; q < 4; q++) recall[set][q] = (double)hit[q] / nr;
	}
	free(wst); free(wv); free(rseq); free(rp); free(rl); free(rpos); free(rv); free(tsc); free(S); free(tid);
	return rc;
}

/* ---------------- the training run ---------------- */
void es_train_opt_init(es_train_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->train_region = "X:0-35000000";
	o->eval_region = "X:35000000-36000000";
	o->out = "esalign-train";
	es_model_cfg_default(&o->cfg);
	o->windows[0] = 250; o->n_windows = 1;
	o->batch = 256; o->steps = 10000;
	o->lr = 1e-3; o->wd = 0.01; o->clip = 1.0; o->tau = 0.05; o->warmup = 200;
	o->max_sub = 0.06;
	o->hard = 0; o->hard_pool = 4096; o->hard_every = 50;
	o->nthreads = 1; o->seed = 1;
	o->log_every = 50; o->eval_every = 500; o->eval_reads = 300;
	o->ckpt_secs = 300;
}

/* region string -> global [beg,end) */
int es_train_region(const es_ref_t *ref, const char *s, int64_t *beg, int64_t *end)
{
	char *ctg;
	int64_t b, e;
	if (es_sim_region_parse(s, &ctg, &b, &e) < 0) return -1;
	int ci = es_ref_contig_by_name(ref, ctg);
	if (ci < 0) { es_error("region '%s': no contig '%s' in the reference", s, ctg); free(ctg); return -1; }
	free(ctg);
	const es_contig_t *c = &ref->contig[ci];
	if (e < 0 || e > c->len) e = c->len;
	if (b >= e) return es_error("region '%s' is empty in a contig of %lld bases", s, (long long)c->len);
	*beg = c->off + b; *end = c->off + e;
	return 0;
}

#define STATE_MAGIC "ESALNCKP"
#define STATE_VERSION 1
typedef struct { uint64_t step, pairs, rng[4], n, adam_t; double secs; } state_hdr_t;

static int save_state(const char *path, const state_hdr_t *h, const es_adamw_t *o)
{
	es_ofile_t of;
	if (es_ofile_open(&of, path, "wb") < 0) return -1;
	uint32_t ver = STATE_VERSION;
	uint64_t ck = es_checksum(h, sizeof *h, 0);
	ck = es_checksum(o->m, o->n * sizeof(float), ck);
	ck = es_checksum(o->v, o->n * sizeof(float), ck);
	int ok = fwrite(STATE_MAGIC, 1, 8, of.fp) == 8 && fwrite(&ver, 4, 1, of.fp) == 1 && fwrite(h, sizeof *h, 1, of.fp) == 1
	      && fwrite(o->m, sizeof(float), o->n, of.fp) == o->n && fwrite(o->v, sizeof(float), o->n, of.fp) == o->n
	      && fwrite(&ck, 8, 1, of.fp) == 1;
	if (!ok) { es_ofile_abort(&of); return es_error("%s: write failed: %s", path, strerror(errno)); }
	return es_ofile_commit(&of);
}

static int load_state(const char *path, state_hdr_t *h, es_adamw_t *o)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return es_error("%s: cannot open training state: %s", path, strerror(errno));
	char magic[8];
	uint32_t ver;
	uint64_t ck;
	int rc = -1;
	if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, STATE_MAGIC, 8)) { es_error("%s: not an esalign training state (bad magic)", path); goto out; }
	if (fread(&ver, 4, 1, fp) != 1 || ver != STATE_VERSION) { es_error("%s: training state version mismatch", path); goto out; }
	if (fread(h, sizeof *h, 1, fp) != 1) { es_error("%s: truncated training state", path); goto out; }
	if (h->n != o->n) { es_error("%s: training state for %llu parameters, the model has %zu", path, (unsigned long long)h->n, o->n); goto out; }
	if (fread(o->m, sizeof(float), o->n, fp) != o->n || fread(o->v, sizeof(float), o->n, fp) != o->n || fread(&ck, 8, 1, fp) != 1) {
		es_error("%s: truncated training state", path); goto out;
	}
	uint64_t c2 = es_checksum(h, sizeof *h, 0);
	c2 = es_checksum(o->m, o->n * sizeof(float), c2);
	c2 = es_checksum(o->v, o->n * sizeof(float), c2);
	if (c2 != ck) { es_error("%s: training state checksum mismatch (corrupt file)", path); goto out; }
	o->t = (int64_t)h->adam_t;
	rc = 0;
out:
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
	if (s < 0 || s > 1e8) { snprintf(buf, n, "?"); return; }
	int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
	if (h) snprintf(buf, n, "%dh%02dm", h, m); else snprintf(buf, n, "%dm%02ds", m, sec);
}

int es_train_run(const es_train_opt_t *o)
{
	int rc = -1, B = o->batch, Wmax = 0, H = o->hard;
	for (int i = 0; i < o->n_windows; i++) if (o->windows[i] > Wmax) Wmax = o->windows[i];
	if (B < 2) return es_error("train: batch %d must be at least 2", B);
	if (o->n_windows < 1 || Wmax < 20) return es_error("train: window lengths must be at least 20");
	if (H < 0 || H > B) return es_error("train: hard negatives %d must be in 0..batch", H);
	es_ref_t *ref = es_ref_load_fasta(o->ref_fn);
	if (!ref) return -1;
	int64_t tb, te, eb, ee;
	es_model_t *m = NULL;
	es_adamw_t opt = {0};
	char path[4096], buf[256];
	if (es_train_region(ref, o->train_region, &tb, &te) < 0 || es_train_region(ref, o->eval_region, &eb, &ee) < 0) goto out;
	if (te - tb < 10 * Wmax) { es_error("train: training region %s too short", o->train_region); goto out; }
	state_hdr_t st = {0};
	es_rng_t rng;
	es_rng_seed(&rng, o->seed);
	if (o->resume) {
		snprintf(path, sizeof path, "%s.model", o->resume);
		if (!(m = es_model_load(path))) goto out;
		es_adamw_init(&opt, m->L.n, o->lr, o->wd);
		snprintf(path, sizeof path, "%s.state", o->resume);
		if (load_state(path, &st, &opt) < 0) goto out;
		memcpy(rng.s, st.rng, sizeof rng.s);
		es_log(2, "train", "resumed from %s at step %llu (%llu pairs)", o->resume, (unsigned long long)st.step, (unsigned long long)st.pairs);
	} else {
		if (!(m = es_model_new(&o->cfg, o->seed))) goto out;
		es_adamw_init(&opt, m->L.n, o->lr, o->wd);
	}
	es_model_cfg_str(&m->cfg, buf, sizeof buf);
	es_log(2, "train", "model %s, %zu parameters; batch %d, hard negatives %d, tau %.3g, lr %.2g, %d thread(s)",
	       buf, m->L.n, B, H, o->tau, o->lr, o->nthreads);
	/* per-step buffers: B reads, B windows, H hard negatives */
	int slen = Wmax + Wmax / 8 + 64;
	uint8_t *qbuf = es_malloc((size_t)B * Wmax), *wbuf = es_malloc((size_t)B * Wmax), *hbuf = es_malloc((size_t)(H + 1) * Wmax);
	uint8_t *src = es_malloc(slen);
	const uint8_t **qp = es_malloc(B * sizeof *qp), **wp = es_malloc(B * sizeof *wp), **hp = es_malloc((H + 1) * sizeof *hp);
	int *ql = es_malloc(B * sizeof(int)), *wl = es_malloc(B * sizeof(int)), *hl = es_malloc((H + 1) * sizeof(int));
	int64_t *wpos = es_malloc(B * sizeof(int64_t));
	float *grad = es_malloc(m->L.n * sizeof(float));
	es_train_ws_t *ws = es_train_ws_new();
	/* hard-negative pool: windows of length Wmax, re-embedded every hard_every steps */
	int P = H > 0 ? o->hard_pool : 0, D = m->cfg.D;
	uint8_t *pool = P ? es_malloc((size_t)P * Wmax) : NULL;
	int64_t *ppos = P ? es_malloc(P * sizeof(int64_t)) : NULL;
	float *pemb = P ? es_malloc((size_t)P * D * sizeof(float)) : NULL;
	int64_t pool_epoch = -1;
	es_encoder_t *enc = es_calloc(1, sizeof *enc);  /* a borrowed view of m for embedding (not destroyed) */
	{
		es_encoder_t *tmp = es_encoder_from_model(m);
		*enc = *tmp;
		free(tmp);
	}
	double t_begin = es_time(), t_start = t_begin, t_ckpt = t_start, t_log = t_start, r1 = -1, r16 = -1, loss_avg = 0, top1_avg = 0;
	int64_t pairs_log = 0, nlog = 0;
	es_recall_opt_t ro = { eb, ee, 250, 25, 1, {250}, {0.05}, o->eval_reads, 12345, o->nthreads };
	for (int64_t step = (int64_t)st.step; step < o->steps; step++) {
		/* learning rate: linear warmup, then cosine to 10% at o->steps */
		double f = step < o->warmup ? (step + 1.0) / o->warmup
		         : 0.1 + 0.9 * 0.5 * (1 + cos(M_PI * (double)(step - o->warmup) / (double)(o->steps - o->warmup > 0 ? o->steps - o->warmup : 1)));
		opt.lr = o->lr * f;
		/* sample B pairs */
		for (int i = 0; i < B; i++) {
			int W = o->windows[es_rng_below(&rng, o->n_windows)], lmin = W < 100 ? W : 100;
			int len = lmin + (int)es_rng_below(&rng, W - lmin + 1);
			if (es_rng_uniform(&rng) < 0.4) len = W;
			int64_t p = sample_pos(ref, tb, te, W, 40, &rng);
			if (p < 0) { es_error("train: cannot find N-free windows in %s", o->train_region); goto out2; }
			int off = len == W ? (int)es_rng_below(&rng, 25) - 12 : (int)es_rng_below(&rng, W - len + 1);
			double sub = es_rng_uniform(&rng) * o->max_sub;
			es_ref_get(ref, p, p + W, wbuf + (size_t)i * Wmax);
			int ok = draw_read(ref, p + off, len, sub, &rng, src, qbuf + (size_t)i * Wmax) == 0;
			if (!ok) { i--; continue; }
			qp[i] = qbuf + (size_t)i * Wmax; ql[i] = len;
			wp[i] = wbuf + (size_t)i * Wmax; wl[i] = W; wpos[i] = p;
		}
		/* hard negatives: for the first H reads, the pool window the current model ranks highest that does not
		 * overlap the read's own window */
		if (H > 0) {
			int64_t epoch = step / o->hard_every;
			if (epoch != pool_epoch) {
				es_rng_t pr;
				es_rng_seed(&pr, o->seed ^ es_hash64((uint64_t)epoch + 0x9001));
				const uint8_t **pp = es_malloc(P * sizeof *pp);
				int *pl = es_malloc(P * sizeof(int));
				for (int j = 0; j < P; j++) {
					ppos[j] = sample_pos(ref, tb, te, Wmax, 0, &pr);
					if (ppos[j] < 0) ppos[j] = tb;
					es_ref_get(ref, ppos[j], ppos[j] + Wmax, pool + (size_t)j * Wmax);
					pp[j] = pool + (size_t)j * Wmax; pl[j] = Wmax;
				}
				embed_all(enc, P, pp, pl, pemb, o->nthreads);
				free(pp); free(pl);
				pool_epoch = epoch;
			}
			float *qe = es_malloc((size_t)H * D * sizeof(float)), *S = es_malloc((size_t)H * P * sizeof(float));
			embed_all(enc, H, qp, ql, qe, o->nthreads);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, P, D, 1.0f, qe, D, pemb, D, 0.0f, S, P);
			for (int i = 0; i < H; i++) {
				int best = -1;
				for (int j = 0; j < P; j++)
					if (llabs(ppos[j] - wpos[i]) >= Wmax && (best < 0 || S[(size_t)i * P + j] > S[(size_t)i * P + best])) best = j;
				if (best < 0) best = 0;
				memcpy(hbuf + (size_t)i * Wmax, pool + (size_t)best * Wmax, Wmax);
				hp[i] = hbuf + (size_t)i * Wmax; hl[i] = Wmax;
			}
			free(qe); free(S);
		}
		memset(grad, 0, m->L.n * sizeof(float));
		int top1 = 0;
		double loss = es_train_pairs_grad_ws(m, B, qp, ql, wp, wl, H, hp, hl, (float)o->tau, o->nthreads, grad, &top1, ws);
		double gn = es_clip_grad(grad, m->L.n, o->clip);
		es_adamw_step(&opt, m->p, grad);
		st.step = (uint64_t)step + 1; st.pairs += (uint64_t)B; pairs_log += B;
		loss_avg += loss; top1_avg += (double)top1 / B; nlog++;
		int last = st.step == (uint64_t)o->steps || (o->max_secs > 0 && es_time() - t_begin > o->max_secs);
		if (o->eval_every > 0 && (st.step % (uint64_t)o->eval_every == 0 || last)) {
			double rec[1][4];
			enc->checksum = es_model_checksum(m);
			if (es_recall_eval(enc, ref, &ro, rec, NULL) == 0) { r1 = rec[0][0]; r16 = rec[0][2]; }
			else es_log(1, "train", "held-out recall failed: %s", es_last_error());
		}
		if (st.step % (uint64_t)o->log_every == 0 || last) {
			double now = es_time(), pps = pairs_log / (now - t_log + 1e-9);
			char eta[32], el[32];
			fmt_secs((double)(o->steps - (int64_t)st.step) * B / (pps > 0 ? pps : 1), eta, sizeof eta);
			fmt_secs(st.secs + now - t_start, el, sizeof el);
			fprintf(stderr, "[train] step %llu/%lld loss %.4f top1 %.3f |g| %.3g lr %.2e held-out(250bp,5%%) recall@1 %.3f @16 %.3f pairs/s %.0f pairs %llu elapsed %s ETA %s\n",
			        (unsigned long long)st.step, (long long)o->steps, loss_avg / nlog, top1_avg / nlog, gn, opt.lr, r1, r16, pps,
			        (unsigned long long)st.pairs, el, eta);
			fflush(stderr);
			t_log = now; pairs_log = 0; loss_avg = top1_avg = 0; nlog = 0;
		}
		if (es_time() - t_ckpt > o->ckpt_secs || last) {
			double now = es_time();
			st.secs += now - t_start; t_start = now;  /* secs: training wall time over all invocations */
			memcpy(st.rng, rng.s, sizeof st.rng);
			st.n = m->L.n; st.adam_t = (uint64_t)opt.t;
			snprintf(path, sizeof path, "%s.model", o->out);
			if (es_model_save(m, path) < 0) goto out2;
			snprintf(path, sizeof path, "%s.state", o->out);
			if (save_state(path, &st, &opt) < 0) goto out2;
			es_log(2, "train", "checkpoint %s.{model,state} at step %llu (%.0f s of training)", o->out, (unsigned long long)st.step, st.secs);
			t_ckpt = es_time();
		}
		if (last) break;
	}
	rc = 0;
out2:
	free(qbuf); free(wbuf); free(hbuf); free(src); free(qp); free(wp); free(hp); free(ql); free(wl); free(hl); free(wpos);
	free(grad); es_train_ws_free(ws); free(pool); free(ppos); free(pemb); free(enc);
out:
	es_adamw_free(&opt);
	es_model_destroy(m);
	es_ref_destroy(ref);
	return rc;
}
