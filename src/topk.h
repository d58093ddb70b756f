/* topk.h — the k best of scored items, the one exact top-k of esalign: a bounded heap over a stream (exact search,
 * held-out recall) and a selection over an array (the re-rank; the heap is its twin in tests). Ties go to the lower
 * id, so results are deterministic. */
#ifndef ES_TOPK_H
#define ES_TOPK_H
#include <stdint.h>

typedef struct {
	float s;      /* score, higher is better */
	int64_t id;   /* item (e.g. window index) */
} es_hit_t;

/* a is better than b: higher score, then lower id */
static inline int es_hit_better(const es_hit_t *a, const es_hit_t *b)
{
	return a->s > b->s || (a->s == b->s && a->id < b->id);
}

/* es_topk_offer past its first test: x into the heap (sifted up while it holds fewer than k, else in place of the
 * root, which x beats). */
void es_topk_insert(es_hit_t *h, int *n, int k, es_hit_t x);
/* Offer x to the k best kept in h[0..*n) (a heap whose root is the worst kept; *n <= k). Inline for the test that
 * turns most offers away once the heap is full (exact search offers every window for k places). A stream whose
 * offers are mostly taken is better served by es_topk_select, as the re-rank is. */
static inline void es_topk_offer(es_hit_t *h, int *n, int k, es_hit_t x)
{
	if (*n < k || es_hit_better(&x, &h[0]))
		es_topk_insert(h, n, k, x);
}
/* The k best of h[0..n) (any order) into h[0..min(n,k)), in no order; returns min(n, k). A selection: n items cost
 * O(n), where offering them one by one costs O(n log k) once most of them are taken (a re-rank's codes come nearly in
 * score order). The same items as es_topk_offer's heap: (score, id) is a total order. */
int es_topk_select(es_hit_t *h, int n, int k);
/* Sort h[0..n) best first (after the offers; the heap order is lost). */
void es_topk_sort(es_hit_t *h, int n);
#endif
