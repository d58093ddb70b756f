/* fuzz_index_ck.c — libFuzzer target: the index loader past its checksums. The mutated bytes are resealed first
 * (every section checksum and the header checksum recomputed as the loader verifies them, as anyone crafting a file
 * can), so the checks of counts, offsets, contigs, N runs, windows and lists are what refuses a bad file. */
#include "fuzz.h"
#include "store.h"
#include "store_priv.h"
#include "ann.h"
#include <string.h>

static void reseal(uint8_t *b, size_t n)
{
	hdr_t h;
	memcpy(&h, b, sizeof h);
	for (int i = 0; i < N_SEC; i++) {
		if (h.sec[i].off > n || h.sec[i].size > n - h.sec[i].off) continue;
		h.sec[i].ck = es_fast_checksum(b + h.sec[i].off, h.sec[i].size, (uint64_t)i);
	}
	memcpy(b, &h, sizeof h);
	h.hdr_ck = es_index_hdr_checksum(b);
	memcpy(b, &h, sizeof h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	if (n < HDR_SIZE) return 0;
	uint8_t *b = malloc(n);
	memcpy(b, data, n);
	reseal(b, n);
	es_index_t *idx = es_index_load(fuzz_path(b, n, 0));
	free(b);
	if (!idx) return 0;
	const es_ref_t *ref = es_index_ref(idx);
	uint8_t buf[4096];
	for (int64_t i = 0; i < es_index_n_windows(idx) && i < 256; i++) {
		int64_t beg, end;
		es_index_window(idx, i, &beg, &end);
		if (end - beg > 0 && end - beg <= (int64_t)sizeof buf) es_ref_get(ref, beg, end, buf);
	}
	int dim = es_index_dim(idx);
	float *q = calloc(dim, sizeof(float));
	q[0] = 1;
	int64_t ids[8];
	es_index_search(idx, 1, q, 8, 0, ids, NULL);
	es_index_search(idx, 1, q, 8, ES_SEARCH_EXACT, ids, NULL);
	free(q);
	es_index_destroy(idx);
	return 0;
}
