/* train.h — contrastive training of the learned encoder (model.h): symmetric in-batch InfoNCE with a temperature and
 * optional hard negatives, AdamW, gradient clipping, threads, checkpoints with --resume; the held-out exact-search
 * recall it reports is in recall.h. Coordinates are 0-based half-open [beg,end). */
#ifndef ES_TRAIN_H
#define ES_TRAIN_H
#include <stdint.h>
#include "model.h"
#include "encoder.h"
#include "seqio.h"
#include "recall.h"

/* ---- AdamW ---- */
typedef struct {
	size_t n;
	float *m, *v;        /* first and second moments (n each), owned */
	double lr, wd, beta1, beta2, eps;
	int64_t t;           /* steps taken */
} es_adamw_t;
void es_adamw_init(es_adamw_t *o, size_t n, double lr, double wd);
/* One step: p -= lr * (mhat / (sqrt(vhat)+eps) + wd * p), for every parameter (decoupled weight decay). */
void es_adamw_step(es_adamw_t *o, float *p, const float *g);
void es_adamw_free(es_adamw_t *o);
/* Scale g so its L2 norm is at most max_norm (no-op if max_norm <= 0). Returns the norm before clipping. */
double es_clip_grad(float *g, size_t n, double max_norm);

/* Loss and gradient of one batch: B queries (reads) q[i] with their positives w[i], plus H extra negative keys h[j]
 * (may be 0/NULL). Embeddings are L2norm(f(x)+f(revcomp x)); loss is es_nn_infonce over them with temperature tau.
 * grad (m->L.n floats) += d loss / d params unless grad is NULL (loss only). nthreads 1..ES_MAX_THREADS workers; the
 * result is deterministic for a given nthreads. *n_top1 (may be NULL) += queries whose best key is their positive.
 * Returns the loss (>= 0), or -1 with es_error set (nthreads out of range, a thread not created). */
double es_train_pairs_grad(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                           const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h, const int *hlen,
                           float tau, int nthreads, float *grad, int *n_top1);

/* The same with a workspace that keeps every strand's activations from the forward to the backward pass (about
 * 2*es_model_act_size(T) floats per sequence; saves recomputing the forwards). ws from es_train_ws_new(), reused
 * across steps (grows to the largest batch), freed with es_train_ws_free(); NULL means recompute. Same results. */
typedef struct es_train_ws_s es_train_ws_t;
es_train_ws_t *es_train_ws_new(void);
void es_train_ws_free(es_train_ws_t *ws);
double es_train_pairs_grad_ws(const es_model_t *m, int B, const uint8_t *const *q, const int *qlen,
                              const uint8_t *const *w, const int *wlen, int H, const uint8_t *const *h,
                              const int *hlen, float tau, int nthreads, float *grad, int *n_top1, es_train_ws_t *ws);

/* ---- the training run ---- */
typedef struct {
	const char *ref_fn;       /* FASTA (not owned) */
	const char *train_region; /* "CONTIG:BEG-END" or "CONTIG" (not owned); default "X:0-35000000" */
	const char *eval_region;  /* held-out region for progress recall; default "X:35000000-36000000" */
	const char *out;          /* output prefix: OUT.model (best/latest model), OUT.state (optimizer), OUT.ckpt.model */
	const char *resume;       /* prefix of a checkpoint to continue from, or NULL */
	es_model_cfg_t cfg;
	int windows[4], n_windows; /* window lengths sampled uniformly, 1..4 of them (default 250) */
	int batch;                /* pairs per step, default 256 */
	int64_t steps;            /* total steps (including resumed ones), default 10000 */
	double lr, wd, clip, tau; /* 1e-3, 0.01, 1.0, 0.05 */
	int warmup;               /* linear warmup steps, default 200 */
	double max_sub;           /* read substitution rate ~ U(0, max_sub), default 0.06; indels at a tenth of it */
	int hard;                 /* hard negatives per step (0 = in-batch only), default 0 */
	int hard_pool;            /* pool of windows ranked for hard negatives (default 4096) */
	int hard_every;           /* pool refreshed every N steps (default 50) */
	int nthreads;             /* 1..ES_MAX_THREADS, default 1 */
	uint64_t seed;            /* default 1 */
	int log_every;            /* progress line every N steps (default 50) */
	int eval_every;           /* held-out recall every N steps (default 500; 0 = never) */
	int eval_reads;           /* reads for progress recall (default 300; 250 bp, 5% substitutions) */
	double ckpt_secs;         /* checkpoint every so many seconds (default 300) */
	double max_secs;          /* stop after this many seconds of this invocation (0 = no limit) */
} es_train_opt_t;
void es_train_opt_init(es_train_opt_t *o);
/* Run training; writes checkpoints and the final model. Returns 0, or -1 with es_error set. */
int es_train_run(const es_train_opt_t *o);
#endif
