/* topk.c — a bounded heap that keeps the k best scored items (see topk.h). */
#include "topk.h"
#include <stdlib.h>
#include <htslib/ksort.h>

void es_topk_insert(es_hit_t *h, int *n, int k, es_hit_t x)
{
	if (*n < k) {   /* sift up */
		int i = (*n)++;
		while (i > 0) {
			int p = (i - 1) / 2;
			if (!es_hit_better(&h[p], &x)) break;
			h[i] = h[p];
			i = p;
		}
		h[i] = x;
		return;
	}
	int i = 0;
	for (;;) {   /* replace the root, sift down */
		int l = 2 * i + 1, r = l + 1, w = i;
		const es_hit_t *wv = &x;
		if (l < k && es_hit_better(wv, &h[l])) {
			w = l;
			wv = &h[l];
		}
		if (r < k && es_hit_better(wv, &h[r])) w = r;
		if (w == i) break;
		h[i] = h[w];
		i = w;
	}
	h[i] = x;
}

/* Best first; (score, id) is a total order, so any correct sort gives the same array. klib's typed merge sort
 * (htslib/ksort.h) with an inline compare: glibc's qsort spent most of its time in calls through the pointer. */
#define hit_lt(a, b) es_hit_better(&(a), &(b))
KSORT_INIT_STATIC(hit, es_hit_t, hit_lt)

void es_topk_sort(es_hit_t *h, int n)
{
	es_hit_t tmp[128];
	ks_mergesort(hit, (size_t)n, h, n <= 128 ? tmp : NULL);
}

int es_topk_select(es_hit_t *h, int n, int k)
{
	if (k <= 0)
		return 0;
	if (n > k)
		ks_ksmall(hit, (size_t)n, h, (size_t)k - 1);
	return n < k ? n : k;
}
