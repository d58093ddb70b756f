/* thread.c — es_for, the parallel-for every threaded loop uses (after minimap2's kthread.c kt_for: interleaved
 * items, then stealing from the busiest worker), es_pipeline (kt_pipeline: steps on their own threads, batches in
 * order), and the progress lines of long loops. */
#include "thread.h"
#include "util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

atomic_int es_thread_fail_after = -1;

/* pthread_create, with the test hook of thread.h: a thread-creation failure must be a clean error. */
static int thread_create(pthread_t *th, void *(*fn)(void *), void *arg)
{
	if (atomic_load(&es_thread_fail_after) >= 0 && atomic_fetch_sub(&es_thread_fail_after, 1) == 0)
		return EAGAIN;
	return pthread_create(th, NULL, fn, arg);
}

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
		err = thread_create(&th[t], for_worker, &f->w[t]);
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

/* ---------------- es_pipeline ---------------- */

/* The hand-off between step s-1 and step s: one batch at most, so a step runs at most one batch ahead. */
typedef struct {
	void *data;
	int full;
	int closed;   /* step s-1 has finished: no more batches */
} pipe_slot_t;

typedef struct pipe_s pipe_t;
typedef struct {
	pipe_t *p;
	int step;
} pipe_worker_t;

struct pipe_s {
	int n_steps;
	es_pipeline_fn fn;
	es_pipeline_free_fn free_fn;
	void *shared;
	pthread_mutex_t mu;
	pthread_cond_t cv;               /* any slot changed */
	pipe_slot_t slot[ES_PIPELINE_MAX_STEPS];   /* slot[s] feeds step s (s >= 1) */
	atomic_int failed;
	char err[1024];                  /* the first error, written by the step that set failed */
	pipe_worker_t w[ES_PIPELINE_MAX_STEPS];
};

/* First error wins: the step that sets failed copies its thread's message. */
static void pipe_fail(pipe_t *p, const char *msg)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&p->failed, &expected, 1))
		snprintf(p->err, sizeof p->err, "%s", msg);
}

/* The next batch for step s, or NULL once step s-1 has closed the slot and it is empty. */
static void *pipe_take(pipe_t *p, int s)
{
	pthread_mutex_lock(&p->mu);
	while (!p->slot[s].full && !p->slot[s].closed)
		pthread_cond_wait(&p->cv, &p->mu);
	void *d = NULL;
	if (p->slot[s].full) {
		d = p->slot[s].data;
		p->slot[s].full = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return d;
}

/* Wait until step s has taken the previous batch (it always does: a step drains its slot until it is closed, even
 * after a failure). A step waits for room before it starts on a batch, so a finished batch is handed on at once and
 * at most n_steps batches are alive: one per step, being worked on or waiting in the slot after it. */
static void pipe_wait_room(pipe_t *p, int s)
{
	pthread_mutex_lock(&p->mu);
	while (p->slot[s].full)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Hand a batch to step s (waits for room, though pipe_wait_room has made it). */
static void pipe_put(pipe_t *p, int s, void *d)
{
	pthread_mutex_lock(&p->mu);
	while (p->slot[s].full)
		pthread_cond_wait(&p->cv, &p->mu);
	p->slot[s].data = d;
	p->slot[s].full = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void pipe_close(pipe_t *p, int s)
{
	pthread_mutex_lock(&p->mu);
	p->slot[s].closed = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* One step's loop: take a batch (or make one, step 0), run the step unless the pipeline has failed, pass it on
 * (or free it after the last step), and close the next slot when there are no more. */
static void *pipe_worker(void *arg)
{
	pipe_worker_t *w = arg;
	pipe_t *p = w->p;
	int s = w->step;
	int last = s == p->n_steps - 1;
	for (;;) {
		void *d = NULL;
		if (!last)
			pipe_wait_room(p, s + 1);
		if (s == 0 && atomic_load(&p->failed))
			break;
		if (s > 0 && !(d = pipe_take(p, s)))
			break;
		if (!atomic_load(&p->failed) && p->fn(p->shared, s, &d) < 0)
			pipe_fail(p, es_last_error());
		if (s == 0 && !d)
			break;
		if (d && (last || atomic_load(&p->failed)))
			p->free_fn(p->shared, d);
		else if (d)
			pipe_put(p, s + 1, d);
	}
	if (!last)
		pipe_close(p, s + 1);
	return NULL;
}

int es_pipeline(int n_steps, es_pipeline_fn fn, es_pipeline_free_fn free_fn, void *shared)
{
	if (n_steps < 1 || n_steps > ES_PIPELINE_MAX_STEPS)
		return es_error("pipeline: %d steps requested, the supported range is 1..%d", n_steps, ES_PIPELINE_MAX_STEPS);
	pipe_t *p = es_calloc(1, sizeof *p);
	p->n_steps = n_steps;
	p->fn = fn;
	p->free_fn = free_fn;
	p->shared = shared;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	atomic_init(&p->failed, 0);
	pthread_t th[ES_PIPELINE_MAX_STEPS];
	int first = n_steps;   /* steps [first, n_steps) have a thread */
	/* from the last step down, so that a step that cannot get a thread has consumers and no producer */
	for (int s = n_steps - 1; s >= 1; s--) {
		p->w[s].p = p;
		p->w[s].step = s;
		int err = thread_create(&th[s], pipe_worker, &p->w[s]);
		if (err != 0) {
			es_error("threads: cannot create the thread of pipeline step %d of %d: %s", s, n_steps, strerror(err));
			pipe_fail(p, es_last_error());
			if (s + 1 < n_steps)
				pipe_close(p, s + 1);   /* the steps after s see the end of their input */
			break;
		}
		first = s;
	}
	if (first == 1 || n_steps == 1) {
		p->w[0].p = p;
		p->w[0].step = 0;
		pipe_worker(&p->w[0]);
	}
	for (int s = first; s < n_steps; s++)
		pthread_join(th[s], NULL);
	int ret = atomic_load(&p->failed) ? es_error("%s", p->err) : 0;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return ret;
}
