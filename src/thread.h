/* thread.h — the one parallel-for of esalign (minimap2's kt_for), the one pipeline (kt_pipeline), and the progress
 * lines of long loops.
 * Every multi-threaded loop in the library goes through es_for, so thread creation, failure and work sharing are
 * written once. */
#ifndef ES_THREAD_H
#define ES_THREAD_H
#include <stdint.h>
#include <stdatomic.h>

/* The body of a parallel-for: item i (0 <= i < n_items) on worker tid (0 <= tid < n_threads; tid 0 is the calling
 * thread). Items are independent; a body that writes only its item's output makes the result independent of the
 * thread count. */
typedef void (*es_for_fn)(void *ctx, int64_t i, int tid);

/* For tests: the N-th thread creation from now (0: the next one) fails as if the system had none left (EAGAIN);
 * -1 (the default) never. */
extern atomic_int es_thread_fail_after;

#define ES_MAX_THREADS 64   /* the largest n_threads es_for accepts (callers refuse larger values with this limit) */

/* Run fn(ctx, i, tid) for every i in [0, n_items) on n_threads workers (1..ES_MAX_THREADS): worker t takes
 * t, t+n, t+2n, ... and, once its own are done, steals from the worker with the most left. n_threads 1 (or one
 * item) runs inline on the calling thread. Returns 0; -1 with es_error set when n_threads is out of range or a
 * thread cannot be created (then no item is started after the failure is seen, the started workers are joined, and
 * some items may not have run: the caller must discard the results). */
int es_for(int n_threads, es_for_fn fn, void *ctx, int64_t n_items);

/* One step of a pipeline, on the batch in *data. Step 0 is called with *data NULL and sets it to the next batch, or
 * leaves it NULL at the end of the input; a later step works on the batch (it may replace *data). Returns 0, or -1
 * with es_error set: the pipeline then stops. */
typedef int (*es_pipeline_fn)(void *shared, int step, void **data);
/* Frees a batch once it leaves the pipeline: after its last step, or unfinished when a step has failed. */
typedef void (*es_pipeline_free_fn)(void *shared, void *data);

#define ES_PIPELINE_MAX_STEPS 8   /* the most steps es_pipeline runs */

/* Run batches through n_steps steps (minimap2's kt_pipeline): each step runs on its own thread (step 0 on the
 * calling thread) and takes the batches in the order step 0 made them, so step s of batch k overlaps step s-1 of
 * batch k+1 and step s+1 of batch k-1; at most n_steps batches are alive at once (a step starts on a batch only when
 * the next step has taken its previous one). A step is one thread: it may run es_for inside itself. After a failure no
 * step starts on a new batch; the batches in flight are freed unfinished. Returns 0, or -1 with the first error
 * (es_error set on the calling thread) when a step failed, n_steps is outside 1..ES_PIPELINE_MAX_STEPS, or a thread
 * cannot be created. */
int es_pipeline(int n_steps, es_pipeline_fn fn, es_pipeline_free_fn free_fn, void *shared);

/* Progress of a long loop: "[esalign STAGE] WHAT  42.0%  12 s elapsed, ETA 16 s" every 2 s (verbosity 2), from
 * whichever worker's es_progress_add crosses the 2-second mark. enabled 0: es_progress_add only counts. */
typedef struct {
	const char *stage, *what;
	int64_t total;
	double t0, t_start;       /* the stage's clock origin (elapsed is shown from it); this loop's start */
	int enabled;
	atomic_llong done;
	_Atomic double last;      /* time of the last line */
} es_progress_t;
/* t0: the clock origin for "elapsed" (es_time() of the whole job's start; 0 means now). */
void es_progress_init(es_progress_t *p, const char *stage, const char *what, int64_t total, double t0, int enabled);
/* Count n more items done, and print a line if 2 s have passed since the last one. Thread-safe. */
void es_progress_add(es_progress_t *p, int64_t n);
#endif
