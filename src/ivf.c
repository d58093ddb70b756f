/* ivf.c — coarse quantiser for the inverted lists of the vector store (see ivf.h, docs/store.md "IVF").
 * The heavy products go through OpenBLAS sgemm; every call covers a fixed block of rows, so a row's result does not
 * depend on the thread count (GEMM reduces each output element over the same k order whatever the blocking). */
#include "ivf.h"
/* argmax's lanes vectorise at -O3 (the Makefile builds with -O2) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "util.h"
#include "thread.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cblas.h>

static void normalise(float *v, int dim)
{
	double s = 0;
	for (int i = 0; i < dim; i++) s += (double)v[i] * v[i];
	if (s <= 0)
		return;
	float f = (float)(1.0 / sqrt(s));
	for (int i = 0; i < dim; i++)
		v[i] *= f;
}

/* index of the maximum of a[0..n), lowest index on ties (the first index holding the maximum). The maximum comes
 * from 16 running lanes, a loop the compiler vectorises (the plain compare-and-branch loop was about a third of the
 * list assignment's time next to its GEMM); then the first index that holds it. */
static int argmax(const float *a, int n)
{
	float lane[16];
	int i = 0;
	for (int j = 0; j < 16; j++)
		lane[j] = a[0];
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			lane[j] = a[i + j] > lane[j] ? a[i + j] : lane[j];
	float m = lane[0];
	for (int j = 1; j < 16; j++)
		m = lane[j] > m ? lane[j] : m;
	for (; i < n; i++)
		m = a[i] > m ? a[i] : m;
	int b = 0;
	while (!(a[b] == m) && b < n - 1)   /* a NaN-free row holds m; the bound keeps a NaN row in range */
		b++;
	return b;
}

void es_ivf_assign(const float *cent, int C, int dim, const float *x, int n, float *scratch, int32_t *list)
{
	for (int s = 0; s < n; s += ES_IVF_ASSIGN_BLOCK) {
		int m = n - s < ES_IVF_ASSIGN_BLOCK ? n - s : ES_IVF_ASSIGN_BLOCK;
		/* scratch[m][C] = x[s..s+m) . cent^T */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, C, dim, 1.0f, x + (size_t)s * dim, dim, cent, dim,
		            0.0f, scratch, C);
		for (int i = 0; i < m; i++)
			list[s + i] = argmax(scratch + (size_t)i * C, C);
	}
}

/* One Lloyd round's assignment: item i is rows [i*BLOCK, (i+1)*BLOCK), each worker with its own scratch. */
typedef struct {
	const float *cent, *x;
	int C, dim;
	int64_t n;
	int32_t *lab;
	float **scratch;   /* [n_threads] ES_IVF_ASSIGN_BLOCK*C floats */
} assign_job_t;

static void assign_block(void *ctx, int64_t i, int tid)
{
	assign_job_t *j = ctx;
	int64_t s = i * ES_IVF_ASSIGN_BLOCK;
	int m = j->n - s < ES_IVF_ASSIGN_BLOCK ? (int)(j->n - s) : ES_IVF_ASSIGN_BLOCK;
	es_ivf_assign(j->cent, j->C, j->dim, j->x + s * j->dim, m, j->scratch[tid], j->lab + s);
}

/* C sample points spread over the input (the input is in genome order, so a stride avoids starting many centroids
 * on one repeat family), jittered by the seed */
static void init_centroids(const float *x, int64_t n, int dim, int C, es_rng_t *rng, float *cent)
{
	for (int c = 0; c < C; c++) {
		int64_t r = (int64_t)((double)c * n / C) + (int64_t)es_rng_below(rng, (uint64_t)(n / C > 1 ? n / C : 1));
		if (r >= n)
			r = n - 1;
		memcpy(cent + (size_t)c * dim, x + r * dim, dim * sizeof(float));
	}
}

/* The update step: each centroid the normalised sum of its members; an empty cluster restarts at a random point. */
static void update_centroids(const float *x, int64_t n, int dim, int C, const int32_t *lab, es_rng_t *rng,
                             double *sum, int64_t *cnt, float *cent)
{
	memset(sum, 0, (size_t)C * dim * sizeof(double));
	memset(cnt, 0, (size_t)C * sizeof(int64_t));
	for (int64_t i = 0; i < n; i++) {
		cnt[lab[i]]++;
		for (int t = 0; t < dim; t++)
			sum[(size_t)lab[i] * dim + t] += x[i * dim + t];
	}
	for (int c = 0; c < C; c++) {
		float *v = cent + (size_t)c * dim;
		if (cnt[c] == 0) {
			int64_t r = (int64_t)es_rng_below(rng, (uint64_t)n);
			memcpy(v, x + r * dim, dim * sizeof(float));
		} else {
			for (int t = 0; t < dim; t++)
				v[t] = (float)sum[(size_t)c * dim + t];
		}
		normalise(v, dim);
	}
}

int es_ivf_train(const float *x, int64_t n, int dim, int C, int iters, int n_threads, uint64_t seed, float *cent)
{
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	init_centroids(x, n, dim, C, &rng, cent);
	int32_t *lab = es_malloc((size_t)n * sizeof(int32_t));
	double *sum = es_malloc((size_t)C * dim * sizeof(double));
	int64_t *cnt = es_malloc((size_t)C * sizeof(int64_t));
	int nt = n_threads < 1 ? 1 : n_threads;
	float **scratch = es_calloc((size_t)nt, sizeof *scratch);
	for (int t = 0; t < nt; t++)
		scratch[t] = es_malloc((size_t)ES_IVF_ASSIGN_BLOCK * C * sizeof(float));
	assign_job_t job = { cent, x, C, dim, n, lab, scratch };
	int64_t n_blocks = (n + ES_IVF_ASSIGN_BLOCK - 1) / ES_IVF_ASSIGN_BLOCK;
	int ret = 0;
	for (int it = 0; it < iters && ret == 0; it++) {
		ret = es_for(nt, assign_block, &job, n_blocks);
		if (ret == 0)
			update_centroids(x, n, dim, C, lab, &rng, sum, cnt, cent);
	}
	for (int t = 0; t < nt; t++)
		free(scratch[t]);
	free(scratch);
	free(lab);
	free(sum);
	free(cnt);
	return ret;
}

/* The heap of nth_largest over sgn * a: the value of rank k-1 (0-based, descending) of sgn * a[0..m), returned as an
 * element of a (negation is exact and reverses the order, so sgn = -1 selects from the bottom). */
static inline __attribute__((always_inline)) float heap_rank(const float *a, int m, int k, float *heap, float sgn)
{
	for (int i = 0; i < k; i++) {   /* heapify the first k: sift each new value up */
		int c = i;
		heap[c] = sgn * a[i];
		while (c > 0 && heap[(c - 1) / 2] > heap[c]) {
			float t = heap[c];
			heap[c] = heap[(c - 1) / 2];
			heap[(c - 1) / 2] = t;
			c = (c - 1) / 2;
		}
	}
	for (int i = k; i < m; i++) {
		float v = sgn * a[i];
		if (v <= heap[0])
			continue;
		int c = 0;   /* replace the root and sift down */
		for (;;) {
			int l = 2 * c + 1, r = l + 1, s = c;
			float sv = v;
			if (l < k && heap[l] < sv) {
				s = l;
				sv = heap[l];
			}
			if (r < k && heap[r] < sv)
				s = r;
			if (s == c)
				break;
			heap[c] = heap[s];
			c = s;
		}
		heap[c] = v;
	}
	return sgn * heap[0];
}

/* The value of rank n (0-based, descending) of a[0..m), n < m: a min-heap of the n+1 largest seen so far. Most values
 * fall below the heap's root and cost one well-predicted compare, so for the few lists a query probes this is several
 * times faster than a quickselect over all of them (which also had to copy them); the value is the same. A rank in
 * the lower half is the rank m-1-n from the bottom, and its heap of m-n is the smaller one: picking np of ~np + 32
 * sampled candidates (probe_candidates), the heap of np took most values in and sifted each through log2(np) levels
 * (1 Gb genome, 65,536 lists: nth_largest was 7% of a 100 bp read's CPU). heap: min(n + 1, m - n) floats. */
static float nth_largest(const float *a, int m, int n, float *heap)
{
	return n >= m / 2 ? heap_rank(a, m, m - n, heap, -1.0f) : heap_rank(a, m, n + 1, heap, 1.0f);
}

#define PROBE_SUB 8   /* probe_candidates samples every PROBE_SUB-th list */

/* The lists scoring at least a threshold t into cand (increasing order), t chosen so that about np + 4*PROBE_SUB
 * of the C pass: the score of rank np/PROBE_SUB + 3 among every PROBE_SUB-th list. Returns their number; fewer than
 * np (an unlucky sample) or a C too small for the sample to pay means the caller ranks all C lists. The selection
 * that follows is exact either way: with np candidates, every list scoring >= the np-th best is among them. So the
 * heap and the two passes that find and emit the np best run over ~np + 32 lists instead of C (chrX 70 Mb, 4,096
 * lists: nth_largest and its passes were 8% of a 150 bp read's CPU). sub: C / PROBE_SUB floats of scratch, heap:
 * np / PROBE_SUB + 4 (<= np + 4). */
static int probe_candidates(const float *s, int C, int np, float *sub, float *heap, int32_t *cand)
{
	int nsub = C / PROBE_SUB, r = np / PROBE_SUB + 3;
	if (C < 1024 || r >= nsub / 2)
		return 0;
	for (int j = 0; j < nsub; j++)
		sub[j] = s[j * PROBE_SUB];
	float t = nth_largest(sub, nsub, r, heap);
	int m = 0;
	for (int c = 0; c < C; c++) {   /* branch-free: most lists fall below t */
		cand[m] = c;
		m += s[c] >= t;
	}
	return m;
}

/* The score of rank np-1 of s[0,C) (np <= C): among the sampled candidates when they hold np (then they hold every
 * entry scoring at least it), else among all. The entries that can rank within np into cand[0,*m) (increasing);
 * scratch as probe_candidates, tmp: C floats. */
static float rank_value(const float *s, int C, int np, float *sub, float *heap, float *tmp, int32_t *cand, int *m)
{
	int mc = probe_candidates(s, C, np, sub, heap, cand);
	if (mc >= np) {
		for (int j = 0; j < mc; j++)
			tmp[j] = s[cand[j]];
		*m = mc;
		return nth_largest(tmp, mc, np - 1, heap);
	}
	*m = C;
	for (int c = 0; c < C; c++)
		cand[c] = c;
	return nth_largest(s, C, np - 1, heap);
}

/* q . c over dim floats in 8 partial sums (a tail after the last 8 goes to the first) */
static float list_dot(const float *q, const float *c, int dim)
{
	float p[8] = { 0 };
	int t = 0;
	for (; t + 8 <= dim; t += 8)
		for (int k = 0; k < 8; k++)
			p[k] += q[t + k] * c[t + k];
	for (; t < dim; t++)
		p[0] += q[t] * c[t];
	return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

int es_ivf_trim(const float *cent, int dim, const float *q, const float *row, float gap, int keep, int32_t *lists,
                int n, float *scratch)
{
	if (n <= keep || gap <= 0)
		return n;
	float *sc = scratch, best = -INFINITY;
	for (int j = 0; j < n; j++) {
		sc[j] = row ? row[lists[j]] : list_dot(q, cent + (size_t)lists[j] * dim, dim);
		best = sc[j] > best ? sc[j] : best;
	}
	int pass = 0;
	for (int j = 0; j < n; j++)
		pass += sc[j] > best - gap;
	int m = 0;
	if (pass >= keep) {
		for (int j = 0; j < n; j++)
			if (sc[j] > best - gap)
				lists[m++] = lists[j];
	} else {   /* the keep best, and the lists tied with the keep-th */
		float kth = nth_largest(sc, n, keep - 1, sc + n);
		for (int j = 0; j < n; j++)
			if (sc[j] >= kth)
				lists[m++] = lists[j];
	}
	return m;
}

void es_ivf_probe(const float *cent, int C, int dim, const float *q, int n, int nprobe, const int *nps,
                  float *scratch, int32_t *probe)
{
	if (nprobe > C)
		nprobe = C;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, C, dim, 1.0f, q, dim, cent, dim, 0.0f, scratch, C);
	int nsub = C / PROBE_SUB;   /* scratch: C scores, the sample, a heap of nprobe (>= the sample's rank + 1) */
	float *tmp = es_malloc(((size_t)C + nsub + nprobe + 4) * sizeof(float)), *sub = tmp + C, *heap = sub + nsub;
	int32_t *cand = es_malloc((size_t)C * sizeof *cand);
	for (int i = 0; i < n; i++) {
		const float *s = scratch + (size_t)i * C;
		int np = es_ivf_probe_count(nps, i, nprobe), m;
		float v = rank_value(s, C, np, sub, heap, tmp, cand, &m);
		/* every list above v, then lists equal to v from the lowest index: out comes in increasing list order */
		int above = 0;
		for (int j = 0; j < m; j++)
			above += s[cand[j]] > v;
		int room = np - above, k = 0;
		int32_t *out = probe + (size_t)i * nprobe;
		for (int j = 0; j < m; j++) {
			float x = s[cand[j]];
			if (x > v || (x == v && room-- > 0))
				out[k++] = cand[j];
		}
	}
	free(tmp);
	free(cand);
}

/* ---------------- two levels: groups of lists ----------------
 * At 1 Gb and beyond (65,536 lists) the flat assignment (every window against every centroid) costs hours, so the
 * build trains G group centroids, then the lists of each group on the sample points of that group alone, and
 * assigns a window to the nearest list among the groups nearest to it. The search still ranks all the lists (the
 * centroids on disk are one flat array, a group's lists contiguous). */

/* A stable counting sort of items 0..n-1 by key[i] in 0..G-1: group g's items are order[beg[g] .. beg[g+1]), in
 * increasing order (beg: G+1 ints). The one bucketing of the two levels: sample points, lists and (row, group)
 * pairs by group. */
static void bucket(const int32_t *key, int n, int G, int *beg, int *order)
{
	memset(beg, 0, ((size_t)G + 1) * sizeof(int));
	for (int i = 0; i < n; i++)
		beg[key[i] + 1]++;
	for (int g = 0; g < G; g++)
		beg[g + 1] += beg[g];
	for (int i = 0; i < n; i++)
		order[beg[key[i]]++] = i;
	for (int g = G; g > 0; g--)   /* beg[g] now ends group g: shift back to the starts */
		beg[g] = beg[g - 1];
	beg[0] = 0;
}

/* How many of C lists each of G groups gets: proportional to its share of the n sample points (largest
 * remainder, lower group first on equal remainders), at least one for a non-empty group, at most its points. */
static void apportion(const int64_t *cnt, int G, int64_t n, int C, int *nl)
{
	int given = 0;
	for (int g = 0; g < G; g++) {
		nl[g] = cnt[g] == 0 ? 0 : (int)((double)C * cnt[g] / n);
		if (cnt[g] > 0 && nl[g] < 1)
			nl[g] = 1;
		if (nl[g] > cnt[g])
			nl[g] = (int)cnt[g];
		given += nl[g];
	}
	while (given != C) {   /* one list at a time to (or from) the group furthest from its share */
		int best = -1;
		double bd = 0;
		for (int g = 0; g < G; g++) {
			double d = (double)C * cnt[g] / n - nl[g];
			int ok = given < C ? nl[g] < cnt[g] : nl[g] > 1;
			if (ok && (best < 0 || (given < C ? d > bd : d < bd))) {
				best = g;
				bd = d;
			}
		}
		if (best < 0)
			break;   /* cannot happen when n >= C (callers ensure it) */
		nl[best] += given < C ? 1 : -1;
		given += given < C ? 1 : -1;
	}
}

typedef struct {
	const float *x;
	int dim, iters;
	uint64_t seed;
	const int *mbeg;       /* [G+1] group g's sample points are rows mbeg[g].. of xs */
	const float *xs;       /* the sample sorted by group */
	const int *lbeg;       /* [G+1] group g's lists are cent rows lbeg[g].. */
	float *cent;
	atomic_int failed;
} group_job_t;

static void train_group(void *ctx, int64_t g, int tid)
{
	(void)tid;
	group_job_t *j = ctx;
	int64_t m = j->mbeg[g + 1] - j->mbeg[g];
	int c = j->lbeg[g + 1] - j->lbeg[g];
	if (c == 0)
		return;
	if (es_ivf_train(j->xs + (int64_t)j->mbeg[g] * j->dim, m, j->dim, c, j->iters, 1, j->seed + (uint64_t)g,
	                 j->cent + (size_t)j->lbeg[g] * j->dim) != 0)
		atomic_store(&j->failed, 1);
}

int es_ivf_train2(const float *x, int64_t n, int dim, int C, int G, int iters, int n_threads, uint64_t seed,
                  float *gcent, int *lbeg, float *cent)
{
	if (es_ivf_train(x, n, dim, G, iters, n_threads, seed, gcent) != 0)
		return -1;
	int32_t *lab = es_malloc((size_t)n * sizeof(int32_t));
	float *scr = es_malloc((size_t)ES_IVF_ASSIGN_BLOCK * G * sizeof(float));
	es_ivf_assign(gcent, G, dim, x, (int)n, scr, lab);   /* n <= INT_MAX: the build's sample is capped */
	free(scr);
	int *mbeg = es_malloc(((size_t)G + 1) * sizeof(int)), *order = es_malloc((size_t)n * sizeof(int));
	bucket(lab, (int)n, G, mbeg, order);
	int64_t *cnt = es_malloc((size_t)G * sizeof(int64_t));
	for (int g = 0; g < G; g++)
		cnt[g] = mbeg[g + 1] - mbeg[g];
	int *nl = es_malloc((size_t)G * sizeof(int));
	apportion(cnt, G, n, C, nl);
	lbeg[0] = 0;
	for (int g = 0; g < G; g++)
		lbeg[g + 1] = lbeg[g] + nl[g];
	float *xs = es_malloc((size_t)n * dim * sizeof(float));   /* the sample in group order, stable inside a group */
	for (int64_t j = 0; j < n; j++)
		memcpy(xs + j * dim, x + (int64_t)order[j] * dim, (size_t)dim * sizeof(float));
	free(order);
	group_job_t job = { .x = x, .dim = dim, .iters = iters, .seed = seed ^ 0x9e3779b97f4a7c15ULL, .mbeg = mbeg,
		.xs = xs, .lbeg = lbeg, .cent = cent };
	atomic_init(&job.failed, 0);
	int ret = es_for(n_threads, train_group, &job, G);
	if (ret == 0 && atomic_load(&job.failed))
		ret = -1;
	free(xs);
	free(mbeg);
	free(nl);
	free(cnt);
	free(lab);
	return ret;
}

/* The t best groups of score row s[G] into top[t], best first, lower group first on ties. */
static void top_groups(const float *s, int G, int t, int *top)
{
	int k = 0;
	for (int g = 0; g < G; g++) {
		if (k == t && !(s[g] > s[top[t - 1]]))
			continue;
		int p = k < t ? k++ : t - 1;
		while (p > 0 && s[g] > s[top[p - 1]]) {
			top[p] = top[p - 1];
			p--;
		}
		top[p] = g;
	}
}

int es_ivf_group_max(const int *lbeg, int G)
{
	int m = 0;
	for (int g = 0; g < G; g++)
		m = lbeg[g + 1] - lbeg[g] > m ? lbeg[g + 1] - lbeg[g] : m;
	return m;
}

size_t es_ivf_assign2_scratch(int G, const int *lbeg, int dim)
{
	int maxc = es_ivf_group_max(lbeg, G);
	return (size_t)ES_IVF_ASSIGN_BLOCK * ((size_t)G + 2 * ES_IVF_GROUP_PROBE + 1 + (size_t)dim + (size_t)maxc) +
	       (size_t)G + 1;
}

void es_ivf_assign2(const float *gcent, int G, const float *cent, const int *lbeg, int dim, const float *x, int n,
                    float *scratch, int32_t *list)
{
	int T = G < ES_IVF_GROUP_PROBE ? G : ES_IVF_GROUP_PROBE;
	float *gs = scratch;                                          /* [BLOCK][G] group scores */
	float *best = gs + (size_t)ES_IVF_ASSIGN_BLOCK * G;           /* [BLOCK] */
	int *top = (int *)(void *)(best + ES_IVF_ASSIGN_BLOCK);       /* [BLOCK][T] */
	int *rows = top + (size_t)ES_IVF_ASSIGN_BLOCK * T;            /* [BLOCK*T] rows by group (a counting sort) */
	int *gbeg = rows + (size_t)ES_IVF_ASSIGN_BLOCK * T;           /* [G+1] group g's rows: rows[gbeg[g]..] */
	float *xg = (float *)(void *)(gbeg + G + 1);                  /* [BLOCK][dim] the rows of one group */
	float *ls = xg + (size_t)ES_IVF_ASSIGN_BLOCK * dim;           /* [BLOCK][group's lists] */
	for (int s = 0; s < n; s += ES_IVF_ASSIGN_BLOCK) {
		int m = n - s < ES_IVF_ASSIGN_BLOCK ? n - s : ES_IVF_ASSIGN_BLOCK;
		const float *xb = x + (size_t)s * dim;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, G, dim, 1.0f, xb, dim, gcent, dim, 0.0f, gs, G);
		for (int i = 0; i < m; i++) {
			top_groups(gs + (size_t)i * G, G, T, top + (size_t)i * T);
			best[i] = -INFINITY;
			list[s + i] = lbeg[top[(size_t)i * T]];
		}
		bucket(top, m * T, G, gbeg, rows);   /* the rows probing each group, in row order */
		for (int k = 0; k < m * T; k++)
			rows[k] /= T;   /* (row, slot) pairs to rows */
		for (int g = 0; g < G; g++) {   /* each group with the rows that probe it: one GEMM */
			int c = lbeg[g + 1] - lbeg[g], r = gbeg[g + 1] - gbeg[g];
			const int *rg = rows + gbeg[g];
			if (r == 0 || c == 0)
				continue;
			for (int k = 0; k < r; k++)
				memcpy(xg + (size_t)k * dim, xb + (size_t)rg[k] * dim, (size_t)dim * sizeof(float));
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, c, dim, 1.0f, xg, dim,
			            cent + (size_t)lbeg[g] * dim, dim, 0.0f, ls, c);
			for (int k = 0; k < r; k++) {   /* groups in increasing order: a tie keeps the lower list */
				int a = argmax(ls + (size_t)k * c, c);
				if (ls[(size_t)k * c + a] > best[rg[k]]) {
					best[rg[k]] = ls[(size_t)k * c + a];
					list[s + rg[k]] = lbeg[g] + a;
				}
			}
		}
	}
}

/* ---------------- two levels at search time: groups of lists ----------------
 * With 65,536 lists (1 Gb and beyond) ranking every list centroid for each query cost more than the scan itself
 * (0.25 of 0.64 ms per query at 1 Gb). The loaded index groups its list centroids by spherical k-means (G groups,
 * deterministic, one thread); a query ranks the G group centroids, opens the best few groups, and ranks only their
 * lists. */
struct es_ivf_groups_s {
	int G, C, dim;
	float *gcent;   /* [G][dim] group centroids */
	int *gbeg;      /* [G+1] group g's lists are glist[gbeg[g] .. gbeg[g+1]) */
	int32_t *glist; /* [C] the lists of each group, increasing */
	float *lcent;   /* [C][dim] the list centroids in glist order: a group's block is contiguous */
	int *most;      /* [G+1] most[t]: the most lists t groups hold (the largest t group sizes summed) */
};

static int int_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

es_ivf_groups_t *es_ivf_groups_new(const float *cent, int C, int dim, int G)
{
	es_ivf_groups_t *g = es_calloc(1, sizeof *g);
	g->G = G;
	g->C = C;
	g->dim = dim;
	g->gcent = es_malloc((size_t)G * dim * sizeof(float));
	if (es_ivf_train(cent, C, dim, G, 5, 1, 0x6e0f5eedULL, g->gcent) != 0) {
		es_ivf_groups_free(g);
		return NULL;
	}
	int32_t *lab = es_malloc((size_t)C * sizeof(int32_t));
	float *scr = es_malloc((size_t)ES_IVF_ASSIGN_BLOCK * G * sizeof(float));
	es_ivf_assign(g->gcent, G, dim, cent, C, scr, lab);
	g->gbeg = es_malloc(((size_t)G + 1) * sizeof(int));
	g->glist = es_malloc((size_t)C * sizeof(int32_t));
	g->lcent = es_malloc((size_t)C * dim * sizeof(float));
	g->most = es_calloc((size_t)G + 1, sizeof(int));
	bucket(lab, C, G, g->gbeg, g->glist);   /* lists in increasing order inside each group */
	for (int p = 0; p < C; p++)
		memcpy(g->lcent + (size_t)p * dim, cent + (size_t)g->glist[p] * dim, (size_t)dim * sizeof(float));
	int *size = es_malloc((size_t)G * sizeof(int));
	for (int k = 0; k < G; k++)
		size[k] = g->gbeg[k + 1] - g->gbeg[k];
	qsort(size, (size_t)G, sizeof(int), int_desc);
	for (int k = 0; k < G; k++)
		g->most[k + 1] = g->most[k] + size[k];
	free(size);
	free(scr);
	free(lab);
	return g;
}

void es_ivf_groups_free(es_ivf_groups_t *g)
{
	if (!g)
		return;
	free(g->gcent);
	free(g->gbeg);
	free(g->glist);
	free(g->lcent);
	free(g->most);
	free(g);
}

int es_ivf_groups_count(const es_ivf_groups_t *g) { return g ? g->G : 0; }

/* Groups a query probing np lists opens: ES_IVF_OPEN times its share of the groups, at least ES_IVF_OPEN_MIN. */
static int groups_open(const es_ivf_groups_t *g, int np)
{
	int64_t t = ((int64_t)ES_IVF_OPEN * np * g->G + g->C - 1) / g->C;
	t = t < ES_IVF_OPEN_MIN ? ES_IVF_OPEN_MIN : t;
	return t > g->G ? g->G : (int)t;
}

/* The most candidate lists a query probing up to nprobe lists can have: its opened groups, and more groups while
 * they hold fewer than nprobe lists (open_groups). */
static int open_cap(const es_ivf_groups_t *g, int nprobe)
{
	int a = g->most[groups_open(g, nprobe)], b = nprobe + g->most[1];
	return a > b ? a : b;
}

size_t es_ivf_probe2_scratch(const es_ivf_groups_t *g, int n, int nprobe)
{
	int cap = open_cap(g, nprobe), maxc = g->most[1];
	/* group scores, per query its candidates' scores and lists, the gathered queries of one group and their scores,
	 * each query's groups and the (query, group) pairs bucketed by group, a bitmap of C lists twice, the heap, and
	 * pick_lists' sample, scores and candidates of one query */
	return (size_t)n * g->G * 3 + (size_t)n * cap * 2 + (size_t)n * g->dim + (size_t)n * maxc + (size_t)g->G * 2 +
	       (size_t)n + (size_t)(g->C + 63) / 64 * 4 + (size_t)(nprobe > g->G ? nprobe : g->G) + 72 +
	       (size_t)cap / PROBE_SUB + (size_t)cap * 2 + 16;
}

/* Query row s[G]'s groups into top (returned count): the t best (ties to the lower group), then the best of the
 * rest one at a time while they hold fewer than np lists. used[G] is scratch. */
static int open_groups(const es_ivf_groups_t *g, const float *s, int t, int np, float *heap, char *used, int *top)
{
	int G = g->G, m = 0, room = t, lists = 0;
	float v = nth_largest(s, G, t - 1, heap);
	for (int k = 0; k < G; k++)
		room -= s[k] > v;
	memset(used, 0, (unsigned)G);
	for (int k = 0; k < G; k++)
		if (s[k] > v || (s[k] == v && room-- > 0)) {
			top[m++] = k;
			used[k] = 1;
			lists += g->gbeg[k + 1] - g->gbeg[k];
		}
	while (lists < np && m < G) {
		int b = -1;
		for (int k = 0; k < G; k++)
			if (!used[k] && (b < 0 || s[k] > s[b]))
				b = k;
		top[m++] = b;
		used[b] = 1;
		lists += g->gbeg[b + 1] - g->gbeg[b];
	}
	return m;
}

/* The lists of query i's opened groups scored, into cs/cl (cnt[i] of them, group by group); pairs[] holds the
 * queries of each group (gb[g]..gb[g+1]). One GEMM per group over the queries that opened it. */
static void score_open_lists(const es_ivf_groups_t *g, const float *q, int n, const int *pairs, const int *gb,
                             int cap, float *xg, float *ls, float *cs, int32_t *cl, int *cnt)
{
	int dim = g->dim;
	memset(cnt, 0, (size_t)n * sizeof(int));
	for (int k = 0; k < g->G; k++) {
		int r = gb[k + 1] - gb[k], c = g->gbeg[k + 1] - g->gbeg[k];
		if (r == 0 || c == 0)
			continue;
		for (int j = 0; j < r; j++)
			memcpy(xg + (size_t)j * dim, q + (size_t)pairs[gb[k] + j] * dim, (size_t)dim * sizeof(float));
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, c, dim, 1.0f, xg, dim,
		            g->lcent + (size_t)g->gbeg[k] * dim, dim, 0.0f, ls, c);
		for (int j = 0; j < r; j++) {
			int i = pairs[gb[k] + j];
			memcpy(cs + (size_t)i * cap + cnt[i], ls + (size_t)j * c, (size_t)c * sizeof(float));
			memcpy(cl + (size_t)i * cap + cnt[i], g->glist + g->gbeg[k], (size_t)c * sizeof(int32_t));
			cnt[i] += c;
		}
	}
}

/* The np best of query i's m candidates (scores s, lists l) in increasing list order into out: every list above
 * the np-th score, then those equal to it from the lowest list (the rule of es_ivf_probe), through a bitmap. The
 * np-th score from the sampled candidates when they hold np (probe_candidates: then they hold every candidate scoring
 * at least that), else from all m. sub: m / PROBE_SUB floats, tmp: m floats, cand: m ints. */
static void pick_lists(const float *s, const int32_t *l, int m, int np, int C, uint64_t *bits, float *heap,
                       float *sub, float *tmp, int32_t *cand, int32_t *out)
{
	np = np < m ? np : m;
	int mc;
	float v = rank_value(s, m, np, sub, heap, tmp, cand, &mc);
	memset(bits, 0, (size_t)(C + 63) / 64 * sizeof(uint64_t));
	uint64_t *tie = bits + (C + 63) / 64;   /* the lists equal to v, lowest first */
	memset(tie, 0, (size_t)(C + 63) / 64 * sizeof(uint64_t));
	int above = 0;
	for (int j = 0; j < mc; j++) {
		int32_t c = l[cand[j]];
		float x = s[cand[j]];
		if (x > v) {
			bits[c >> 6] |= 1ULL << (c & 63);
			above++;
		} else if (x == v) {
			tie[c >> 6] |= 1ULL << (c & 63);
		}
	}
	int room = np - above, k = 0;
	for (int w = 0; w < (C + 63) / 64; w++) {
		uint64_t b = bits[w], t = tie[w];
		while (t && room > 0) {   /* the lowest ties first */
			b |= t & -t;
			t &= t - 1;
			room--;
		}
		for (; b; b &= b - 1)
			out[k++] = w * 64 + __builtin_ctzll(b);
	}
}

void es_ivf_probe2(const es_ivf_groups_t *g, const float *q, int n, int nprobe, const int *nps, float *scratch,
                   int32_t *probe)
{
	int G = g->G, C = g->C;
	if (nprobe > C)
		nprobe = C;
	int cap = open_cap(g, nprobe), T = G;
	float *gs = scratch, *cs = gs + (size_t)n * G, *xg = cs + (size_t)n * cap, *ls = xg + (size_t)n * g->dim;
	int32_t *cl = (int32_t *)(void *)(ls + (size_t)n * g->most[1]);
	int *top = (int *)(cl + (size_t)n * cap), *pairs = top + (size_t)n * T, *gb = pairs + (size_t)n * T;
	int *cnt = gb + G + 2;
	char *used = (char *)(cnt + n);
	uint64_t *bits = (uint64_t *)(void *)(((uintptr_t)(used + G) + 7) & ~(uintptr_t)7);
	float *heap = (float *)(void *)(bits + (size_t)(C + 63) / 64 * 2);
	float *sub = heap + (nprobe > G ? nprobe : G) + 8, *tmp = sub + cap / PROBE_SUB + 8;
	int32_t *cand = (int32_t *)(void *)(tmp + cap);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, G, g->dim, 1.0f, q, g->dim, g->gcent, g->dim, 0.0f, gs,
	            G);
	for (int i = 0; i < n; i++) {   /* each query's groups; its unused slots to the extra group G */
		int np = es_ivf_probe_count(nps, i, nprobe), *ti = top + (size_t)i * T;
		for (int k = open_groups(g, gs + (size_t)i * G, groups_open(g, np), np, heap, used, ti); k < T; k++)
			ti[k] = G;
	}
	bucket(top, n * T, G + 1, gb, pairs);   /* the (query, group) pairs by group, queries in order */
	for (int k = 0; k < gb[G]; k++)
		pairs[k] /= T;
	score_open_lists(g, q, n, pairs, gb, cap, xg, ls, cs, cl, cnt);
	for (int i = 0; i < n; i++)
		pick_lists(cs + (size_t)i * cap, cl + (size_t)i * cap, cnt[i], es_ivf_probe_count(nps, i, nprobe), C, bits,
		           heap, sub, tmp, cand, probe + (size_t)i * nprobe);
}
