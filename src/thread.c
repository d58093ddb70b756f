/* thread.c — es_for, the parallel-for every threaded loop uses (after minimap2's kthread.c kt_for: interleaved
 * items, then stealing from the busiest worker), and the progress lines of long loops. */
#include "thread.h"
#include "util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

typedef struct es_for_s es_for_t;
typedef struct {
	es_for_t *f;
	atomic_llong i;   /* this worker's next item: i, i+n, i+2n, ... */
	int tid;
} for_worker_t;
struct es_for_s {
	int n;
	int64_t n_items;
	es_for_fn fn;
	void *ctx;
	atomic_int stop;  /* a thread could not be created: start no more items */
	for_worker_t w[ES_MAX_THREADS];
};

/* The worker with the most items left (its next index is the smallest), or -1 when every one is done. */
static int steal_from(es_for_t *f)
{
	int best = -1;
	int64_t min = f->n_items;
	for (int t = 0; t < f->n; t++) {
		int64_t i = atomic_load(&f->w[t].i);
		if (i < min) {
			min = i;
			best = t;
		}
	}
	return best;
}

static void *for_worker(void *arg)
{
	for_worker_t *w = arg;
	es_for_t *f = w->f;
	for (;;) {
		if (atomic_load(&f->stop)) return NULL;
		int64_t i = atomic_fetch_add(&w->i, f->n);
		if (i >= f->n_items) break;
		f->fn(f->ctx, i, w->tid);
	}
	for (;;) {   /* own items done: steal the next item of the worker with the most left */
		if (atomic_load(&f->stop)) return NULL;
		int t = steal_from(f);
		if (t < 0) break;
		int64_t i = atomic_fetch_add(&f->w[t].i, f->n);
		if (i < f->n_items) f->fn(f->ctx, i, w->tid);
	}
	return NULL;
}

int es_for(int n_threads, es_for_fn fn, void *ctx, int64_t n_items)
{
	if (n_threads < 1 || n_threads > ES_MAX_THREADS)
		return es_error("threads: %d requested, the supported range is 1..%d", n_threads, ES_MAX_THREADS);
	if (n_threads == 1 || n_items <= 1) {
		for (int64_t i = 0; i < n_items; i++) fn(ctx, i, 0);
		return 0;
	}
	es_for_t *f = es_calloc(1, sizeof *f);
	f->n = n_threads;
	f->n_items = n_items;
	f->fn = fn;
	f->ctx = ctx;
	atomic_init(&f->stop, 0);
	for (int t = 0; t < n_threads; t++) {
		f->w[t].f = f;
		f->w[t].tid = t;
		atomic_init(&f->w[t].i, t);
	}
	pthread_t th[ES_MAX_THREADS];
	int started = 1, err = 0;
	for (int t = 1; t < n_threads; t++) {
		err = pthread_create(&th[t], NULL, for_worker, &f->w[t]);
		if (err != 0) {
			atomic_store(&f->stop, 1);
			break;
		}
		started++;
	}
	if (err == 0) for_worker(&f->w[0]);
	for (int t = 1; t < started; t++) pthread_join(th[t], NULL);
	free(f);
	if (err != 0)
		return es_error("threads: cannot create thread %d of %d: %s", started + 1, n_threads, strerror(err));
	return 0;
}

void es_progress_init(es_progress_t *p, const char *stage, const char *what, int64_t total, double t0, int enabled)
{
	double now = es_time();
	p->stage = stage;
	p->what = what;
	p->total = total > 0 ? total : 1;
	p->t_start = now;
	p->t0 = t0 > 0 ? t0 : now;
	p->enabled = enabled;
	atomic_init(&p->done, 0);
	atomic_init(&p->last, now);
}

void es_progress_add(es_progress_t *p, int64_t n)
{
	int64_t d = atomic_fetch_add(&p->done, n) + n;
	if (!p->enabled) return;
	double now = es_time(), last = atomic_load(&p->last);
	if (now - last < 2.0 || !atomic_compare_exchange_strong(&p->last, &last, now)) return;
	double f = (double)d / p->total;
	double eta = f > 0 ? (now - p->t_start) * (1 - f) / f : 0;
	es_log(2, p->stage, "%s %5.1f%%  %.0f s elapsed, ETA %.0f s", p->what, 100 * f, now - p->t0, eta);
}
