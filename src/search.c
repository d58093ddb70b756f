/* search.c — top-k windows of query vectors: exact (every window's int8 vector), or approximate (a scan of the codes
 * of every window or of the probed inverted lists, then an exact re-rank of the nearest codes and of their
 * neighbouring windows). Both rank with the same score and es_topk, so ties go to the lower window index. */
#include "store_priv.h"
#include "ivf.h"
#include "topk.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

#define SCAN_L1    16384   /* bytes of codes per block: stays in L1 while a batch of queries scans it */
#define SCAN_BATCH 1024    /* queries scanned against one block: a mapping chunk (ES_MAP_CHUNK), docs/store.md */
#define RERANK_AHEAD 24    /* rows prefetched ahead of the re-rank's dot products */
#define ES_PROBE_KEEP 16   /* lists a query keeps whatever the probe's gap (es_ivf_trim) */
_Static_assert(SCAN_BATCH <= SCAN_QUERIES_MAX, "es_ivf_probe2 takes a batch at a time");

/* Window w scored exactly against query q (the one score exact search and every re-rank use). */
static inline es_hit_t window_hit(const es_index_t *idx, const float *q, int64_t w)
{
	return (es_hit_t){ es_index_window_dot(idx, q, w), w };
}

/* Ask for window w's vector and scale ahead of its window_hit. always_inline: GCC 12 judges a function whose only
 * statements are prefetches pure, and deletes the calls of a pure function that returns nothing (the two prefetch
 * sites lost every prefetch so, and each re-ranked row cost ~550 cycles of waiting; tests/cli.d/index.sh checks
 * that the binary holds prefetch instructions). */
static inline __attribute__((always_inline)) void prefetch_window(const es_index_t *idx, int64_t w)
{
	__builtin_prefetch(idx->vec + w * idx->vec_row);
	__builtin_prefetch(idx->scale ? (const void *)(idx->scale + w) : (const void *)(idx->scale16 + w));
}

static int is_zero(const float *q, int dim)
{
	for (int i = 0; i < dim; i++)
		if (q[i] != 0)
			return 0;
	return 1;
}

/* The n kept hits best first into ids[k] / scores[k] (may be NULL), -1 / 0 padding. */
static void emit(es_hit_t *h, int n, int k, int64_t *ids, float *scores)
{
	es_topk_sort(h, n);
	for (int j = 0; j < k; j++) {
		ids[j] = j < n ? h[j].id : -1;
		if (scores)
			scores[j] = j < n ? h[j].s : 0;
	}
}

static void search_exact(const es_index_t *idx, const float *q, int k, int64_t *ids, float *scores)
{
	int n = 0;
	es_hit_t *h = es_malloc((size_t)k * sizeof *h);
	if (!is_zero(q, (int)idx->hdr.dim))
		for (int64_t i = 0; i < idx->hdr.n_windows; i++)
			es_topk_offer(h, &n, k, window_hit(idx, q, i));
	emit(h, n, k, ids, scores);
	free(h);
}

/* The scratch of one approximate search call (so concurrent calls share nothing). */
typedef struct {
	int dim, nw, step, pq, M, K, k, T, cap, C, np;
	int64_t N, NC, blk;
	es_hamscan_fn scan;
	es_pqscan_fn pqscan;
	uint8_t *lut;          /* [SCAN_BATCH][M][K] PQ tables */
	es_hamq_t *st;         /* [SCAN_BATCH] */
	uint64_t *qc;          /* [SCAN_BATCH][nw] sign codes */
	uint32_t *idbuf;       /* [SCAN_BATCH][cap] */
	uint16_t *dbuf;        /* [SCAN_BATCH][cap] */
	uint32_t *near;        /* [T + 1] */
	uint32_t *cand;        /* [(k+1) * 2 * step] neighbours of the best code windows */
	es_hit_t *heap;        /* [T + k + (k+1) * 2 * step] a query's re-ranked windows, then its k best */
	int active[SCAN_BATCH], na;
	int32_t *probe;        /* [SCAN_BATCH][np] lists probed by each query */
	float *pscr;           /* [SCAN_BATCH][C] */
	int32_t *lstart;       /* [C+1] */
	uint16_t *pair_q;      /* [SCAN_BATCH * np] queries grouped by list */
	float *tsc;            /* [np + ES_PROBE_KEEP] es_ivf_trim's scratch */
} scan_t;

static void scan_init(scan_t *S, const es_index_t *idx, int k, int np, int rr)
{
	const hdr_t *h = &idx->hdr;
	memset(S, 0, sizeof *S);
	S->dim = (int)h->dim;
	S->nw = (int)h->code_bits / 64;
	S->step = (int)h->code_step;
	S->pq = h->code_kind != ES_CODE_SIGN;
	S->M = (int)h->pq_m;
	S->K = es_pq_centroids((int)h->code_kind);
	S->N = h->n_windows;
	S->NC = h->n_codes;
	S->k = k;
	S->T = rr > k ? rr : k;
	/* distances are small integers with many ties: a larger buffer shrinks less often, but the queries of a batch
	 * keep their buffers in cache only while they are small (8T+64 -> 4T+64: 0.91-0.94x the mapping CPU on chrX) */
	S->cap = 4 * S->T + 64;
	/* a block of codes stays in L1 while the batch of queries scans it; PQ blocks are whole 64-window groups */
	S->blk = S->pq ? (SCAN_L1 / (S->K == 16 ? 32 * S->M : 64 * S->M)) * 64 : SCAN_L1 / (8 * S->nw);
	S->scan = es_hamscan_best(NULL);
	S->pqscan = S->K == 16 ? es_pqscan_best(NULL) : es_pq6scan_best(NULL);
	S->lut = es_malloc((size_t)SCAN_BATCH * S->K * (S->M > 0 ? S->M : 1));
	S->st = es_malloc(SCAN_BATCH * sizeof *S->st);
	S->qc = es_malloc((size_t)SCAN_BATCH * S->nw * sizeof(uint64_t));
	S->idbuf = es_malloc((size_t)SCAN_BATCH * S->cap * sizeof(uint32_t));
	S->dbuf = es_malloc((size_t)SCAN_BATCH * S->cap * sizeof(uint16_t));
	S->near = es_malloc(((size_t)S->T + ES_HAMQ_KEEP_PAD) * sizeof(uint32_t));   /* es_hamq_keep writes past the kept */
	S->cand = es_malloc((size_t)(k + 1) * 2 * S->step * sizeof(uint32_t));
	S->heap = es_malloc(((size_t)S->T + k + (size_t)(k + 1) * 2 * S->step) * sizeof *S->heap);
	S->C = (int)h->ivf_lists;
	S->np = S->C ? (np < S->C ? np : S->C) : 0;
	if (S->C) {
		S->probe = es_malloc((size_t)SCAN_BATCH * S->np * sizeof(int32_t));
		size_t ps = idx->groups ? es_ivf_probe2_scratch(idx->groups, SCAN_BATCH, S->np) : (size_t)SCAN_BATCH * S->C;
		S->pscr = es_malloc(ps * sizeof(float));
		S->lstart = es_malloc((size_t)(S->C + 1) * sizeof(int32_t));
		S->pair_q = es_malloc((size_t)SCAN_BATCH * S->np * sizeof *S->pair_q);
		S->tsc = es_malloc(((size_t)S->np + ES_PROBE_KEEP) * sizeof *S->tsc);
	}
}

static void scan_free(scan_t *S)
{
	free(S->lut);
	free(S->st);
	free(S->qc);
	free(S->idbuf);
	free(S->dbuf);
	free(S->near);
	free(S->cand);
	free(S->heap);
	free(S->probe);
	free(S->pscr);
	free(S->lstart);
	free(S->pair_q);
	free(S->tsc);
}

/* Each query of the batch: an empty scan state, and its PQ tables or sign code; zero queries stay inactive. */
static void batch_prepare(scan_t *S, const es_index_t *idx, const float *q, int nb)
{
	S->na = 0;
	for (int i = 0; i < nb; i++) {
		const float *x = q + (size_t)i * S->dim;
		es_hamq_t *st = &S->st[i];
		st->thr = S->pq ? 256 : (int)idx->hdr.code_bits + 1;
		st->keep = S->T;
		st->n = 0;
		st->cap = S->cap;
		st->id = S->idbuf + (size_t)i * S->cap;
		st->dist = S->dbuf + (size_t)i * S->cap;
		if (is_zero(x, S->dim))
			continue;
		if (S->pq)
			es_pq_lut_t(idx->proj_t, S->dim, S->M, S->K, x, S->lut + (size_t)i * S->K * S->M);
		else
			es_code_make(idx->proj, (int)idx->hdr.code_bits, S->dim, x, S->qc + (size_t)i * S->nw);
		S->active[S->na++] = i;
	}
}

/* Flat scan: every code, block by block, each block by every active query of the batch. */
static void scan_flat(scan_t *S, const es_index_t *idx)
{
	for (int64_t s = 0; s < S->NC; s += S->blk) {
		int64_t e = s + S->blk < S->NC ? s + S->blk : S->NC;
		for (int a = 0; a < S->na; a++) {
			int i = S->active[a];
			if (S->pq)
				S->pqscan(idx->pq, S->M, s, e, S->lut + (size_t)i * S->K * S->M, &S->st[i]);
			else
				S->scan(idx->codes, S->NC, S->nw, s, e, S->qc + (size_t)i * S->nw, &S->st[i]);
		}
	}
}

/* List scan: each query's probed lists, then (list, query) pairs grouped by list so that the queries of a batch
 * that probe one list scan it while it is in L1; each query still sees its lists in increasing order. */
static void scan_lists(scan_t *S, const es_index_t *idx, const float *q, const int *nps, int nb)
{
	int np = S->np, C = S->C, npq[SCAN_BATCH];
	for (int i = 0; i < nb; i++)   /* without nps every query probes np, the index's nprobe (search_approx) */
		npq[i] = es_ivf_probe_count(nps, i, np);
	if (idx->groups)
		es_ivf_probe2(idx->groups, q, nb, np, npq, S->pscr, S->probe);
	else
		es_ivf_probe(idx->ivf_cent, C, S->dim, q, nb, np, npq, S->pscr, S->probe);
	for (int a = 0; a < S->na; a++) {   /* a query of the ordinary probe drops its lists far below its best */
		int i = S->active[a];
		if (npq[i] <= idx->nprobe)
			npq[i] = es_ivf_trim(idx->ivf_cent, S->dim, q + (size_t)i * S->dim,
			                     idx->groups ? NULL : S->pscr + (size_t)i * C, idx->probe_gap, ES_PROBE_KEEP,
			                     S->probe + (size_t)i * np, npq[i], S->tsc);
	}
	memset(S->lstart, 0, (size_t)(C + 1) * sizeof(int32_t));
	for (int a = 0; a < S->na; a++)
		for (int j = 0; j < npq[S->active[a]]; j++)
			S->lstart[S->probe[(size_t)S->active[a] * np + j] + 1]++;
	for (int l = 0; l < C; l++)
		S->lstart[l + 1] += S->lstart[l];
	for (int a = 0; a < S->na; a++)
		for (int j = 0; j < npq[S->active[a]]; j++)
			S->pair_q[S->lstart[S->probe[(size_t)S->active[a] * np + j]]++] = (uint16_t)S->active[a];
	/* lstart[l] is now the end of list l's pairs; they begin at lstart[l-1] */
	for (int l = 0, pb = 0; l < C; pb = S->lstart[l], l++) {
		const ivf_list_t *L = &idx->ivf_list[l];
		if (L->len == 0)
			continue;
		for (int p = pb; p < S->lstart[l]; p++) {
			int i = S->pair_q[p];
			S->pqscan(idx->pq, S->M, L->beg, L->beg + L->len, S->lut + (size_t)i * S->K * S->M, &S->st[i]);
		}
	}
}

/* The T nearest codes of a scan, in code order: entries are already in code order (appends and compaction keep
 * it), so a histogram finds the cut and ties at the cut go to the lower index. Returns the count. */
static int select_nearest(const es_hamq_t *st, int T, uint32_t *out)
{
	int hist[ES_HAMQ_MAX_DIST + 2];
	es_hamq_hist(st, hist);
	int cum = 0, d = 0;
	for (; d < st->thr; d++) {
		if (cum + hist[d] >= T)
			break;
		cum += hist[d];
	}
	return es_hamq_keep(st, d, T - cum, out, NULL);   /* all entries below d, plus the first T - cum at d */
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The windows within step-1 of the best code windows kept in S->heap[0..nh), sorted and without duplicates
 * (neighbours of two codes may coincide) into S->cand. Returns their number. */
static int neighbours(scan_t *S, int nh)
{
	int nc = 0;
	for (int j = 0; j < nh; j++) {
		int64_t c = S->heap[j].id;
		for (int64_t w = c - (S->step - 1); w <= c + S->step - 1; w++)
			if (w != c && w >= 0 && w < S->N)
				S->cand[nc++] = (uint32_t)w;
	}
	qsort(S->cand, nc, sizeof *S->cand, u32_cmp);
	int u = 0;
	for (int j = 0; j < nc; j++)
		if (u == 0 || S->cand[j] != S->cand[u - 1])
			S->cand[u++] = S->cand[j];
	return u;
}

/* Re-rank one query: the T nearest codes by code distance, ranked by the exact inner product of their windows
 * (stage 1); each code also stands for the step-1 windows on either side (near-duplicates at stride S), and those
 * of the k best code windows are ranked too (stage 2), since the true locus's code window is among them. */
static void rerank(scan_t *S, const es_index_t *idx, const float *x, const es_hamq_t *st, int64_t *ids,
                   float *scores)
{
	int m = select_nearest(st, S->T, S->near), nh = 0, nc = 0;
	if (S->C)
		for (int j = 0; j < m; j++)
			S->near[j] = idx->ivf_ids[S->near[j]];   /* slots -> code indices */
	/* the rows are scattered over the file: each is asked for RERANK_AHEAD rows before it is needed (asking for all
	 * of them at once overflowed the core's queue of misses, and the dropped requests left most dot products
	 * waiting on memory: E. coli 250 bp reads, 14% of the mapping time in them) */
	for (int j = 0; j < m + RERANK_AHEAD; j++) {
		if (j < m) {
			int64_t w = (int64_t)S->near[j] * S->step;
			prefetch_window(idx, w);
		}
		if (j >= RERANK_AHEAD)
			S->heap[nh++] = window_hit(idx, x, (int64_t)S->near[j - RERANK_AHEAD] * S->step);
	}
	nh = es_topk_select(S->heap, nh, S->k);
	if (S->step > 1) {
		nc = neighbours(S, nh);
		for (int j = 0; j < nc; j++) {
			prefetch_window(idx, S->cand[j]);
		}
		for (int j = 0; j < nc; j++)
			S->heap[nh++] = window_hit(idx, x, S->cand[j]);
		nh = es_topk_select(S->heap, nh, S->k);
	}
	emit(S->heap, nh, S->k, ids, scores);
}

static int clip_rerank(int64_t t)
{
	return t > ES_INDEX_MAX_RERANK ? ES_INDEX_MAX_RERANK : (int)t;
}

int es_index_scale_steps(int64_t n_windows, int max)
{
	int64_t s = n_windows / ES_DEEP_SCALE_WINDOWS;
	return s < 1 ? 1 : s > max ? max : (int)s;
}

int es_deep_rerank_count(int rerank, int64_t n_windows)
{
	return clip_rerank((int64_t)ES_DEEP_RERANK * es_index_scale_steps(n_windows, ES_DEEP_SCALE_MAX) * rerank);
}

int es_index_deep_rerank(const es_index_t *idx)
{
	return es_deep_rerank_count(idx->rerank, idx->hdr.n_windows);
}

int es_index_look_rerank(const es_index_t *idx)
{
	return clip_rerank((int64_t)ES_LOOK_RERANK * es_index_deep_rerank(idx));
}

/* The codes a query of these flags re-ranks: the index's count, the deep one, or the last look's. */
static int rerank_count(const es_index_t *idx, int flags)
{
	if (!(flags & ES_SEARCH_DEEP))
		return idx->rerank;
	return flags & ES_SEARCH_LOOK ? es_index_look_rerank(idx) : es_index_deep_rerank(idx);
}

static void search_approx(const es_index_t *idx, int n, const float *q, const int *nps, int k, int flags,
                          int64_t *ids, float *scores)
{
	scan_t S;
	int np = idx->nprobe;   /* the most lists a query of this call probes: the row width of the probe table */
	for (int i = 0; nps && i < n; i++)
		np = nps[i] > np ? nps[i] : np;
	scan_init(&S, idx, k, np, rerank_count(idx, flags));
	for (int b0 = 0; b0 < n; b0 += SCAN_BATCH) {
		int nb = n - b0 < SCAN_BATCH ? n - b0 : SCAN_BATCH;
		const float *qb = q + (size_t)b0 * S.dim;
		batch_prepare(&S, idx, qb, nb);
		if (S.C)
			scan_lists(&S, idx, qb, nps ? nps + b0 : NULL, nb);
		else
			scan_flat(&S, idx);
		for (int i = 0; i < nb; i++) {
			size_t o = (size_t)(b0 + i) * k;
			rerank(&S, idx, qb + (size_t)i * S.dim, &S.st[i], ids + o, scores ? scores + o : NULL);
		}
	}
	scan_free(&S);
}

int es_index_search_np(const es_index_t *idx, int n, const float *q, const int *nprobe, int k, int flags,
                       int64_t *ids, float *scores)
{
	if (n < 0 || k < 1)
		return es_error("%s: search: bad arguments (n=%d, k=%d)", idx->path, n, k);
	if (!(flags & ES_SEARCH_EXACT)) {
		search_approx(idx, n, q, nprobe, k, flags, ids, scores);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		size_t o = (size_t)i * k;
		search_exact(idx, q + (size_t)i * idx->hdr.dim, k, ids + o, scores ? scores + o : NULL);
	}
	return 0;
}

int es_index_search(const es_index_t *idx, int n, const float *q, int k, int flags, int64_t *ids, float *scores)
{
	return es_index_search_np(idx, n, q, NULL, k, flags, ids, scores);
}
