/* topk.h — the k best of a stream of scored items, by a bounded heap: the one exact top-k of esalign (exact search,
 * re-rank, held-out recall). Ties go to the lower id, so results are deterministic. */
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

/* Offer x to the k best kept in h[0..*n) (a heap whose root is the worst kept; *n <= k). */
void es_topk_offer(es_hit_t *h, int *n, int k, es_hit_t x);
/* Sort h[0..n) best first (after the offers; the heap order is lost). */
void es_topk_sort(es_hit_t *h, int n);
#endif
