/* test_thread.c — es_for: every item runs exactly once whatever the thread count (including the stealing phase with
 * uneven item costs), the inline one-thread path, the range check; the progress counter; es_pipeline: batches in
 * order, steps overlapping, a failure in any step stopping it with the first error and every batch freed. */
#include "test.h"
#include "thread.h"
#include "util.h"
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

typedef struct {
	atomic_int *count;
	atomic_int *tid_seen;
	int n_threads;
	int bad_tid;
} for_ctx_t;

static void count_item(void *arg, int64_t i, int tid)
{
	for_ctx_t *c = arg;
	if (tid < 0 || tid >= c->n_threads) c->bad_tid = 1;
	else atomic_fetch_add(&c->tid_seen[tid], 1);
	if (i % 7 == 0) usleep(200);   /* uneven costs: the other workers steal */
	atomic_fetch_add(&c->count[i], 1);
}

TEST(es_for_runs_every_item_once)
{
	enum { N = 1000 };
	int threads[] = { 1, 2, 3, 8 };
	for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
		atomic_int count[N], seen[8];
		for (int i = 0; i < N; i++) atomic_init(&count[i], 0);
		for (int t = 0; t < 8; t++) atomic_init(&seen[t], 0);
		for_ctx_t c = { count, seen, threads[k], 0 };
		CHECK_EQ_INT(es_for(threads[k], count_item, &c, N), 0);
		int bad = 0;
		for (int i = 0; i < N; i++) bad += atomic_load(&count[i]) != 1;
		CHECKF(bad == 0, "%d items not run exactly once with %d threads", bad, threads[k]);
		CHECK(!c.bad_tid);
		if (threads[k] == 1) CHECK_EQ_INT(atomic_load(&seen[0]), N);
	}
	/* no items, one item */
	atomic_int one[1], seen[8];
	atomic_init(&one[0], 0);
	for (int t = 0; t < 8; t++) atomic_init(&seen[t], 0);
	for_ctx_t c = { one, seen, 4, 0 };
	CHECK_EQ_INT(es_for(4, count_item, &c, 0), 0);
	CHECK_EQ_INT(atomic_load(&one[0]), 0);
	CHECK_EQ_INT(es_for(4, count_item, &c, 1), 0);
	CHECK_EQ_INT(atomic_load(&one[0]), 1);
}

TEST(es_for_refuses_bad_thread_counts)
{
	atomic_int count[4], seen[8];
	for_ctx_t c = { count, seen, 8, 0 };
	CHECK_EQ_INT(es_for(0, count_item, &c, 4), -1);
	CHECKF(strstr(es_last_error(), "1..64") != NULL, "message: %s", es_last_error());
	CHECK_EQ_INT(es_for(ES_MAX_THREADS + 1, count_item, &c, 4), -1);
}

typedef struct { es_progress_t *p; } prog_ctx_t;
static void prog_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	prog_ctx_t *c = arg;
	es_progress_add(c->p, i + 1);
}

TEST(es_progress_counts_from_every_worker)
{
	es_progress_t p;
	es_progress_init(&p, "test", "items", 5050, 0, 0);
	prog_ctx_t c = { &p };
	CHECK_EQ_INT(es_for(3, prog_item, &c, 100), 0);
	CHECK_EQ_INT(atomic_load(&p.done), 5050);   /* sum of 1..100 */
}

/* ---- es_pipeline ---- */

typedef struct {
	int n_batches;        /* step 0 makes this many */
	int fail_step, fail_at;   /* step fail_step fails on batch fail_at (-1: never) */
	int next;             /* step 0 */
	int last_seen;        /* last step: the previous batch id, to check the order */
	int out_of_order, n_done;
	atomic_int n_live;    /* batches made and not yet freed */
	int max_live;         /* step 0: the most alive when it made one */
	atomic_int in_step1;  /* step 1 is running */
	atomic_int overlap;   /* step 0 made a batch while step 1 was running */
} pipe_ctx_t;

static int pipe_step(void *shared, int step, void **data)
{
	pipe_ctx_t *c = shared;
	if (step == 0) {
		if (c->next == c->n_batches)
			return 0;
		if (atomic_load(&c->in_step1))
			atomic_store(&c->overlap, 1);
		int *b = malloc(sizeof *b);
		*b = c->next++;
		int live = atomic_fetch_add(&c->n_live, 1) + 1;
		if (live > c->max_live)
			c->max_live = live;
		*data = b;
		if (c->fail_step == 0 && *b == c->fail_at)
			return es_error("step 0 failed on batch %d", *b);
		return 0;
	}
	int id = *(int *)*data;
	if (step == 1) {
		atomic_store(&c->in_step1, 1);
		usleep(id % 3 == 0 ? 3000 : 500);   /* uneven costs */
		atomic_store(&c->in_step1, 0);
	}
	if (step == c->fail_step && id == c->fail_at)
		return es_error("step %d failed on batch %d", step, id);
	if (step == 2) {
		c->out_of_order += id != c->last_seen + 1;
		c->last_seen = id;
		c->n_done++;
	}
	return 0;
}

static void pipe_free(void *shared, void *data)
{
	pipe_ctx_t *c = shared;
	atomic_fetch_sub(&c->n_live, 1);
	free(data);
}

static int run_pipe(pipe_ctx_t *c, int n_batches, int fail_step, int fail_at)
{
	memset(c, 0, sizeof *c);
	c->n_batches = n_batches;
	c->fail_step = fail_step;
	c->fail_at = fail_at;
	c->last_seen = -1;
	atomic_init(&c->n_live, 0);
	atomic_init(&c->in_step1, 0);
	atomic_init(&c->overlap, 0);
	return es_pipeline(3, pipe_step, pipe_free, c);
}

TEST(es_pipeline_keeps_order_and_overlaps)
{
	pipe_ctx_t c;
	CHECK_EQ_INT(run_pipe(&c, 40, -1, -1), 0);
	CHECK_EQ_INT(c.n_done, 40);
	CHECK_EQ_INT(c.out_of_order, 0);
	CHECK_EQ_INT(atomic_load(&c.n_live), 0);
	CHECK(atomic_load(&c.overlap));   /* step 0 ran ahead while step 1 worked */
	CHECKF(c.max_live <= 3, "%d batches alive at once", c.max_live);   /* one per step */
	CHECK_EQ_INT(run_pipe(&c, 0, -1, -1), 0);   /* no input */
	CHECK_EQ_INT(c.n_done, 0);
	CHECK_EQ_INT(es_pipeline(0, pipe_step, pipe_free, &c), -1);
	CHECKF(strstr(es_last_error(), "1..8") != NULL, "message: %s", es_last_error());
}

/* A failure in any step stops the pipeline: the first error comes back on the calling thread, every batch in
 * flight is freed, nothing after the failed batch reaches the last step. */
TEST(es_pipeline_stops_on_the_first_error)
{
	for (int step = 0; step < 3; step++) {
		pipe_ctx_t c;
		es_error("%s", "");
		CHECK_EQ_INT(run_pipe(&c, 1000, step, 5), -1);
		char want[64];
		snprintf(want, sizeof want, "step %d failed on batch 5", step);
		CHECKF(strcmp(es_last_error(), want) == 0, "message '%s', want '%s'", es_last_error(), want);
		CHECK_EQ_INT(atomic_load(&c.n_live), 0);
		CHECKF(c.n_done <= 5, "step %d: %d batches written", step, c.n_done);
		CHECK_EQ_INT(c.out_of_order, 0);
		CHECK(c.next < 1000);   /* step 0 stopped early */
	}
}

TEST(es_for_thread_creation_failure_is_an_error)
{
	enum { N = 200 };
	atomic_int count[N], seen[8];
	for (int i = 0; i < N; i++) atomic_init(&count[i], 0);
	for (int t = 0; t < 8; t++) atomic_init(&seen[t], 0);
	for_ctx_t c = { count, seen, 4, 0 };
	atomic_store(&es_thread_fail_after, 1);   /* the second of three thread creations fails */
	CHECK_EQ_INT(es_for(4, count_item, &c, N), -1);
	atomic_store(&es_thread_fail_after, -1);
	CHECKF(strstr(es_last_error(), "cannot create thread 3 of 4") != NULL, "message: %s", es_last_error());
	int twice = 0;
	for (int i = 0; i < N; i++) twice += atomic_load(&count[i]) > 1;
	CHECK_EQ_INT(twice, 0);   /* the started worker was joined; no item ran twice */
	CHECK_EQ_INT(es_for(4, count_item, &c, N), 0);   /* the hook is spent: the next call works */
}

/* Out of memory: one line naming the function that asked and the size, exit status 1 (in a child process whose
 * address space is capped just above what it already uses). */
TEST(es_malloc_out_of_memory_names_the_caller)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return;   /* a sanitizer's allocator reports the failed allocation itself, and its shadow memory defeats the cap */
#endif
	char path[600];
	snprintf(path, sizeof path, "%s/oom.err", es_test_tmpdir());
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *err = freopen(path, "w", stderr);
		long pages = 0;
		FILE *st = fopen("/proc/self/statm", "r");
		if (!err || !st || fscanf(st, "%ld", &pages) != 1)
			_Exit(3);
		fclose(st);
		struct rlimit rl = { (rlim_t)pages * 4096 + (64 << 20), (rlim_t)pages * 4096 + (64 << 20) };
		setrlimit(RLIMIT_AS, &rl);
		volatile char *p = es_malloc((size_t)1 << 30);   /* 1 GiB: more than the cap */
		p[0] = 1;
		_Exit(0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	char msg[512] = "";
	FILE *fp = fopen(path, "r");
	if (fp) {
		if (!fgets(msg, sizeof msg, fp))
			msg[0] = 0;
		fclose(fp);
	}
	CHECKF(strstr(msg, "out of memory: 1073741824 bytes (1024.0 MiB) for es_malloc_out_of_memory_names_the_caller"),
	       "message: %s", msg);
}
