/* ann.h — private: the approximate-search kernels of the vector store (ann.c, ann_avx2.c, ann_avx512.c) and the
 * state they share. Included by the store's own files (store_priv.h) and the kernel tests, never by store.h: each
 * fast kernel has a scalar twin that must agree exactly. */
#ifndef ES_ANN_H
#define ES_ANN_H
#include <stdint.h>
#include <stddef.h>

#define ES_HAMQ_MAX_DIST 512   /* the largest distance a kernel offers: 512 sign bits; a PQ sum is at most 255 */

/* Per-query state of a scan: keeps every code with distance < thr; when the buffer fills, thr drops to the distance
 * of the keep-th nearest and exactly keep codes survive (ties at that distance: the first in window order), so the
 * keep nearest by (distance, window order) are always among the entries. */
typedef struct es_hamq_s {
	int thr;           /* current exclusive distance bound, at most ES_HAMQ_MAX_DIST + 1 */
	int keep, n, cap;  /* wanted survivors; entries used; capacity (>= 2*keep + 64) */
	uint32_t *id;      /* code index (or list slot) */
	uint16_t *dist;    /* distance, 0..ES_HAMQ_MAX_DIST */
} es_hamq_t;
/* Called when a buffer is full: lower thr, compact. Shared by every kernel so all agree. */
void es_hamq_shrink(es_hamq_t *st);
/* hist[0..thr]: how many entries lie at each distance. */
void es_hamq_hist(const es_hamq_t *st, int *hist);
/* The entries below distance d and the first `ties` at d, in order, into id/dist (which may be the state's own
 * arrays; dist may be NULL; each is written up to ES_HAMQ_KEEP_PAD past the count, and never past st->n); returns
 * their count. es_hamq_keep runs the best of the twins below this CPU runs (ES_SIMD=scalar: the scalar one). */
#define ES_HAMQ_KEEP_PAD 8
int es_hamq_keep(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist);
int es_hamq_keep_scalar(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist);
/* The scalar rule from entry i on, j entries kept before it: the twin's loop, and the AVX2 one's tail. */
static inline int es_hamq_keep_from(const es_hamq_t *st, int i, int j, int d, int ties, uint32_t *id,
                                    uint16_t *dist)
{
	/* branch-free (a kept entry is a coin flip to the predictor): every entry is written, the count advances only
	 * for kept ones; out may be the state's own arrays (j <= i) */
	for (; i < st->n; i++) {
		int x = st->dist[i], eq = x == d, keep = (x < d) | (eq & (ties > 0));
		ties -= eq;
		uint32_t v = st->id[i];
		id[j] = v;
		if (dist)
			dist[j] = (uint16_t)x;
		j += keep;
	}
	return j;
}
/* Eight entries a step: their kept mask compacted by a permutation from a 256-entry table (AVX2 has no compress). */
int es_hamq_keep_avx2(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist);
/* Offer one code: the single rule every kernel applies, in code order. */
static inline void es_hamq_push(es_hamq_t *st, uint32_t id, int d)
{
	if (d >= st->thr)
		return;
	if (st->n == st->cap) {
		es_hamq_shrink(st);
		if (d >= st->thr)
			return;
	}
	st->id[st->n] = id;
	st->dist[st->n] = (uint16_t)d;
	st->n++;
}

/* Scan codes of windows [beg,end): codes are stored in nw planes of n_total uint64 each (plane j holds word j of
 * every window), q holds the query's nw words. Appends (id, dist) for dist < st->thr in window order. */
typedef void (*es_hamscan_fn)(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end,
                              const uint64_t *q, es_hamq_t *st);
void es_hamscan_scalar(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                       es_hamq_t *st);
void es_hamscan_avx2(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                     es_hamq_t *st);
void es_hamscan_avx512(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                       es_hamq_t *st);
/* The best kernel this CPU runs (AVX-512 VPOPCNTDQ, else AVX2+POPCNT, else scalar); ES_SIMD=scalar|avx2 forces one. */
es_hamscan_fn es_hamscan_best(const char **name);

/* PQ codes: M subspaces of dim/M dimensions (M divides dim, M <= 64, even), K = 16 (PQ4) or 64 (PQ6) centroids each;
 * cb is [M][K][dim/M] floats. PQ4 layout: codes of window w live in blocks of 64 windows: byte
 * (w/64)*(M/2)*64 + p*64 + w%64 holds subspace 2p in its low nibble and 2p+1 in its high nibble. */
void es_pq_train(const float *x, int64_t n, int dim, int M, int K, uint64_t seed, float *cb);
void es_pq_encode(const float *cb, int dim, int M, int K, const float *x, uint8_t *nib /* M values 0..K-1 */);
void es_pq_store(uint8_t *codes, int M, int64_t w, const uint8_t *nib);
/* The query's tables lut[M][K]: 0 for the subspace's best centroid, up to 255/M for its worst (one scale for all). */
void es_pq_lut(const float *cb, int dim, int M, int K, const float *q, uint8_t *lut);
/* The codebook cb [M][K][ds] (ds = dim/M) transposed to cbt [M][ds][K], the layout of es_pq_lut_t. */
void es_pq_transpose(const float *cb, int dim, int M, int K, float *cbt);
/* es_pq_lut from the transposed codebook: the K inner products of a subspace side by side in vector lanes, each
 * summed in the same order as es_pq_lut's, so the tables are the same bytes (its twin; K <= 64). */
void es_pq_lut_t(const float *cbt, int dim, int M, int K, const float *q, uint8_t *lut);
/* Scan windows [beg,end) (beg a multiple of 64): distance = sum of table entries; offered to st in window order. */
typedef void (*es_pqscan_fn)(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut,
                             es_hamq_t *st);
void es_pqscan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pqscan_avx2(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pqscan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
es_pqscan_fn es_pqscan_best(const char **name);
/* PQ6 layout: byte (w/64)*M*64 + j*64 + w%64 holds window w's centroid (0..63) in subspace j. */
void es_pq6_store(uint8_t *codes, int M, int64_t w, const uint8_t *code);
void es_pq6scan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pq6scan_avx2(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
/* needs AVX-512 VBMI */
void es_pq6scan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
es_pqscan_fn es_pq6scan_best(const char **name);

/* Inner product of a float query with an int8 vector times its scale: scale * sum q[i]*v[i]. */
float es_dot_f32_i8(const float *q, const int8_t *v, float scale, int dim);
/* The same with AVX2: eight float lanes, each the scalar's partial sum in the same order (a multiply, then an add:
 * no fused multiply-add), so the value is the scalar's bit for bit. */
float es_dot_f32_i8_avx2(const float *q, const int8_t *v, float scale, int dim);
typedef float (*es_dot_i8_fn)(const float *q, const int8_t *v, float scale, int dim);
/* The best of the two this CPU runs (ES_SIMD=scalar forces the scalar one). */
es_dot_i8_fn es_dot_i8_best(const char **name);
/* The same for a 4-bit vector (dim even; byte i holds dimensions 2i in its low and 2i+1 in its high nibble, each
 * -7..7) whose scale is m16 / (65535 * 7), m16 = round(max |x| * 65535): es_quantise4's output. */
float es_dot_f32_i4(const float *q, const uint8_t *v, uint16_t m16, int dim);
/* Unit vector x (|x_i| <= 1) to 4 bits a dimension: v[dim/2] and m16 as es_dot_f32_i4 reads them. */
void es_quantise4(const float *x, int dim, uint8_t *v, uint16_t *m16);
/* Sign-bit code of x (dim floats) under the code_bits x dim projection matrix R: bit b = (R_b . x >= 0). */
void es_code_make(const float *R, int code_bits, int dim, const float *x, uint64_t *code);
/* Fast checksum of a buffer (4 lanes of 64-bit multiply-xorshift); used for the index sections. */
uint64_t es_fast_checksum(const void *buf, size_t n, uint64_t seed);
/* The same checksum over a buffer given in pieces: init, add every piece in order (each but the last a multiple of
 * 32 bytes), final; es_fast_checksum(buf, n, seed) is the one-piece case. */
typedef struct {
	uint64_t h[4], n, t;
} es_cksum_t;
void es_cksum_init(es_cksum_t *c, uint64_t seed);
void es_cksum_add(es_cksum_t *c, const void *buf, size_t n);
uint64_t es_cksum_final(es_cksum_t *c);
#endif
