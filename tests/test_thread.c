/* test_thread.c — es_for: every item runs exactly once whatever the thread count (including the stealing phase with
 * uneven item costs), the inline one-thread path, the range check; and the progress counter. */
#include "test.h"
#include "thread.h"
#include "util.h"
#include <stdlib.h>
#include <unistd.h>

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
