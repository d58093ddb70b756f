/* fuzz_index.c — libFuzzer target: the index loader (es_index_load) on arbitrary bytes; an index that loads is read:
 * its windows, its reference, and one search. (The section checksums refuse nearly every mutation: fuzz_index_ck
 * recomputes them so that the checks behind them are reached.) */
#include "fuzz.h"
#include "store.h"
#include "seqio.h"

/* Touch what a loaded index promises: every window inside the reference, its bases, a search. */
static void exercise(es_index_t *idx)
{
	const es_ref_t *ref = es_index_ref(idx);
	int64_t nw = es_index_n_windows(idx);
	uint8_t buf[4096];
	for (int64_t i = 0; i < nw && i < 64; i++) {
		int64_t beg, end;
		es_index_window(idx, i, &beg, &end);
		if (end - beg > 0 && end - beg <= (int64_t)sizeof buf) es_ref_get(ref, beg, end, buf);
	}
	int dim = es_index_dim(idx);
	if (dim <= 0 || dim > 4096) return;
	float *q = calloc(dim, sizeof(float));
	q[0] = 1;
	int64_t ids[4];
	es_index_search(idx, 1, q, 4, 0, ids, NULL);
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	es_index_t *idx = es_index_load(fuzz_path(data, n, 0));
	if (!idx) return 0;
	exercise(idx);
	es_index_destroy(idx);
	return 0;
}
