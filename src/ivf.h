/* ivf.h — the coarse quantiser of the vector store's inverted lists (IVF): spherical k-means centroids over the
 * window embeddings, the assignment of each window to its nearest centroid, and the choice of the lists a query
 * probes. Nearness is the inner product (vectors and centroids are unit length). Every result is deterministic:
 * ties go to the lower centroid index, and GEMM calls cover fixed row blocks whatever the thread count.
 * None of them prints; only es_ivf_train can fail (a thread that cannot be created). */
#ifndef ES_IVF_H
#define ES_IVF_H
#include <stddef.h>
#include <stdint.h>

/* Train C unit-length centroids (cent[C][dim]) on n unit vectors x[n][dim] (n >= C): iters rounds of Lloyd's
 * algorithm under the inner product (assignments on n_threads threads through es_for, 1..ES_MAX_THREADS), starting
 * from C sample points spread over the input and chosen with seed; an empty cluster restarts at a random point.
 * Same result for any thread count. Returns 0, or -1 with es_error set (n_threads out of range, a thread that
 * cannot be created; cent is then unusable). */
int es_ivf_train(const float *x, int64_t n, int dim, int C, int iters, int n_threads, uint64_t seed, float *cent);

/* The nearest centroid (highest inner product, lowest index on ties) of each of n vectors into list[n]. Uses
 * scratch of IVF_ASSIGN_BLOCK*C floats per call; callers split work into IVF_ASSIGN_BLOCK-row blocks so results
 * do not depend on how rows are shared between threads. */
#define ES_IVF_ASSIGN_BLOCK 1024
void es_ivf_assign(const float *cent, int C, int dim, const float *x, int n, float *scratch, int32_t *list);

/* Two levels, for many lists (docs/store.md, "Two-level lists"): G group centroids gcent[G][dim] trained on x, then
 * each group's share of the C lists (proportional to its points, at least one for a non-empty group) trained on its
 * own points; group g's lists are cent rows [lbeg[g], lbeg[g+1]), lbeg[G] = C. n >= C, n <= INT_MAX. Same result
 * for any thread count. Returns 0, or -1 with es_error set. */
int es_ivf_train2(const float *x, int64_t n, int dim, int C, int G, int iters, int n_threads, uint64_t seed,
                  float *gcent, int *lbeg, float *cent);
/* The nearest list of each of n vectors among the lists of its ES_IVF_GROUP_PROBE nearest groups (highest inner
 * product; the lower list on ties), into list[n]; blocks of ES_IVF_ASSIGN_BLOCK rows as es_ivf_assign. scratch:
 * es_ivf_assign2_scratch(G, lbeg, dim) floats. */
#define ES_IVF_GROUP_PROBE 4
size_t es_ivf_assign2_scratch(int G, const int *lbeg, int dim);
/* The most lists a group holds. */
int es_ivf_group_max(const int *lbeg, int G);
void es_ivf_assign2(const float *gcent, int G, const float *cent, const int *lbeg, int dim, const float *x, int n,
                    float *scratch, int32_t *list);

/* For each of n queries (q[n][dim]), the nprobe lists with the highest inner product (nps[i] of them when nps is not
 * NULL and nps[i] < nprobe), written to row i of probe[n][nprobe] in increasing list order (the order they are
 * scanned in). scratch holds n*C floats. */
void es_ivf_probe(const float *cent, int C, int dim, const float *q, int n, int nprobe, const int *nps,
                  float *scratch, int32_t *probe);
/* The lists query i of es_ivf_probe probes: nps[i] (or nprobe without nps) within 1..nprobe. */
static inline int es_ivf_probe_count(const int *nps, int i, int nprobe)
{
	int np = nps ? nps[i] : nprobe;
	return np < 1 ? 1 : np < nprobe ? np : nprobe;
}

/* A probe cut by score (search.c, docs/store.md "The probe's gap"): of query q's probed lists lists[0,n) (in
 * increasing order), those whose centroid scores at least gap below its best list are dropped, but the keep best (and
 * every list tied with the keep-th) stay; the order is kept. Scores are row[list] when row is not NULL (a flat
 * probe's scores, es_ivf_probe's scratch row of the query), else q . cent[list] (dim floats). scratch: n + keep
 * floats.
 * gap <= 0 or n <= keep: nothing dropped. Returns the new count. */
int es_ivf_trim(const float *cent, int dim, const float *q, const float *row, float gap, int keep, int32_t *lists,
                int n, float *scratch);

/* Two levels at search time (docs/store.md, "Two-level lists"): the index's list centroids grouped by spherical
 * k-means into G groups (5 rounds, one thread, fixed seed: the same groups in every process); a query opens
 * max(ES_IVF_OPEN_MIN, ES_IVF_OPEN * np * G / C) groups, the best by their centroids, and picks its np lists among
 * theirs. NULL (es_error set) if a thread cannot be made. */
#define ES_IVF_OPEN 8
#define ES_IVF_OPEN_MIN 16
#define SCAN_QUERIES_MAX 1024  /* the most queries one es_ivf_probe2 call takes */
typedef struct es_ivf_groups_s es_ivf_groups_t;
es_ivf_groups_t *es_ivf_groups_new(const float *cent, int C, int dim, int G);
void es_ivf_groups_free(es_ivf_groups_t *g);
int es_ivf_groups_count(const es_ivf_groups_t *g);   /* G; 0 for NULL */
/* es_ivf_probe's output (rows of nprobe lists, each query's in increasing order) for n <= SCAN_QUERIES_MAX queries,
 * the lists ranked among those of the opened groups only. scratch: es_ivf_probe2_scratch(g, n, nprobe) floats. */
size_t es_ivf_probe2_scratch(const es_ivf_groups_t *g, int n, int nprobe);
void es_ivf_probe2(const es_ivf_groups_t *g, const float *q, int n, int nprobe, const int *nps, float *scratch,
                   int32_t *probe);
#endif
