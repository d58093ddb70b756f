/* ann.c — approximate-search kernels: sign-bit codes of window embeddings, the scalar Hamming scan (the twin of the
 * AVX2/AVX-512 scans in ann_avx2.c / ann_avx512.c), run-time dispatch, the float x int8 inner product and the fast
 * section checksum of the index file. */
#include "ann.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* Lower thr to the distance d of the keep-th nearest entry and keep exactly keep: those below d and the first ties at
 * d in window order (stable, so every kernel ends in the same state). A later code at distance d or more cannot be
 * among the keep nearest by (distance, window order), which is all a scan's caller selects (search.c), so nothing it
 * selects is lost. Keeping every tie at d instead (thr = d + 1, as before) left up to 3/4 of the buffer full on the
 * small integer distances of PQ codes, and the shrinks came several times as often: the kernel of a 100 bp read's
 * scan, 12,800 codes from a fresh threshold, spent 30% of its time compacting. */
void es_hamq_shrink(es_hamq_t *st)
{
	int hist[ES_HAMQ_MAX_DIST + 2];   /* one spare: d stops at thr only if fewer than keep entries */
	es_hamq_hist(st, hist);
	int cum = 0, d;
	for (d = 0; d < st->thr; d++) {
		cum += hist[d];
		if (cum >= st->keep)
			break;
	}
	int nthr = d, ties = st->keep - (cum - hist[d]);
	if (nthr > st->thr)
		nthr = st->thr;   /* thr never rises */
	st->n = es_hamq_keep(st, d, ties, st->id, st->dist);
	st->thr = nthr;
}

void es_hamq_hist(const es_hamq_t *st, int *hist)
{
	/* four histograms: runs of equal distances (common) would otherwise wait on the increment of one bin */
	int h4[4][ES_HAMQ_MAX_DIST + 2];
	size_t nb = (size_t)(st->thr + 1) * sizeof(int);   /* every entry is below thr (<= MAX + 1) */
	for (int k = 0; k < 4; k++)
		memset(h4[k], 0, nb);
	int i = 0;
	for (; i + 4 <= st->n; i += 4) {
		h4[0][st->dist[i]]++;
		h4[1][st->dist[i + 1]]++;
		h4[2][st->dist[i + 2]]++;
		h4[3][st->dist[i + 3]]++;
	}
	for (; i < st->n; i++)
		h4[0][st->dist[i]]++;
	for (int b = 0; b <= st->thr; b++)
		hist[b] = (h4[0][b] + h4[1][b]) + (h4[2][b] + h4[3][b]);
}

int es_hamq_keep_scalar(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist)
{
	return es_hamq_keep_from(st, 0, 0, d, ties, id, dist);
}

typedef int (*keep_fn)(const es_hamq_t *, int, int, uint32_t *, uint16_t *);
static int simd_level(int can512, int can2);

/* Chosen once (the first call; a race between threads stores the same pointer). */
int es_hamq_keep(const es_hamq_t *st, int d, int ties, uint32_t *id, uint16_t *dist)
{
	static keep_fn fn;
	keep_fn f = __atomic_load_n(&fn, __ATOMIC_RELAXED);
	if (!f) {
		__builtin_cpu_init();
		f = simd_level(0, __builtin_cpu_supports("avx2")) ? es_hamq_keep_avx2 : es_hamq_keep_scalar;
		__atomic_store_n(&fn, f, __ATOMIC_RELAXED);
	}
	return f(st, d, ties, id, dist);
}

/* Portable population count (no POPCNT instruction), so the scalar twin is independent of the fast kernels. */
static inline int popcount64_swar(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (int)((x * 0x0101010101010101ULL) >> 56);
}

void es_hamscan_scalar(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q,
                       es_hamq_t *st)
{
	for (int64_t i = beg; i < end; i++) {
		int d = 0;
		for (int j = 0; j < nw; j++)
			d += popcount64_swar(codes[(int64_t)j * n_total + i] ^ q[j]);
		es_hamq_push(st, (uint32_t)i, d);
	}
}

/* The kernel level to use, given what the CPU runs: 2 AVX-512, 1 AVX2, 0 scalar; ES_SIMD=scalar|avx2 caps it
 * (for tests and measurements). Shared by every dispatcher so they all obey the same override. */
static int simd_level(int can512, int can2)
{
	const char *force = getenv("ES_SIMD");
	if (force && strcmp(force, "scalar") == 0)
		return 0;
	if (force && strcmp(force, "avx2") == 0)
		can512 = 0;
	return can512 ? 2 : can2 ? 1 : 0;
}

es_hamscan_fn es_hamscan_best(const char **name)
{
	__builtin_cpu_init();
	int lv = simd_level(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq"),
	                    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"));
	static const es_hamscan_fn fn[3] = { es_hamscan_scalar, es_hamscan_avx2, es_hamscan_avx512 };
	static const char *names[3] = { "scalar", "avx2", "avx512" };
	if (name)
		*name = names[lv];
	return fn[lv];
}

float es_dot_f32_i8(const float *q, const int8_t *v, float scale, int dim)
{
	/* eight partial sums in a fixed order: the same value whichever caller (exact or re-rank) computes it */
	float s[8] = { 0 };
	int i = 0;
	for (; i + 8 <= dim; i += 8)
		for (int j = 0; j < 8; j++)
			s[j] += q[i + j] * (float)v[i + j];
	for (; i < dim; i++)
		s[0] += q[i] * (float)v[i];
	return scale * (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

void es_code_make(const float *R, int code_bits, int dim, const float *x, uint64_t *code)
{
	int nw = code_bits / 64;
	memset(code, 0, nw * sizeof(uint64_t));
	for (int b = 0; b < code_bits; b++) {
		const float *r = R + (size_t)b * dim;
		float s = 0;
		for (int i = 0; i < dim; i++)
			s += r[i] * x[i];
		if (s >= 0)
			code[b >> 6] |= 1ULL << (b & 63);
	}
}

void es_cksum_init(es_cksum_t *c, uint64_t seed)
{
	for (int j = 0; j < 4; j++)
		c->h[j] = es_hash64(seed + (uint64_t)j);
	c->n = 0;
	c->t = 0;
}

#define CK_P 0x9fb21c651e98df25ULL

void es_cksum_add(es_cksum_t *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint64_t *h = c->h;
	size_t i = 0;
	/* (h ^ w) * odd and h ^= h >> 29 are bijections: any change to one word changes that lane's final state. The
	 * lanes live in locals: through c->h the compiler stored and reloaded them every word (p may alias them), and the
	 * check of a 1 Gb index at load ran at ~1.3 bytes per cycle. */
	uint64_t h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3];
	for (; i + 32 <= n; i += 32) {
		uint64_t w0, w1, w2, w3;
		memcpy(&w0, p + i, 8);
		memcpy(&w1, p + i + 8, 8);
		memcpy(&w2, p + i + 16, 8);
		memcpy(&w3, p + i + 24, 8);
		h0 = (h0 ^ w0) * CK_P;
		h1 = (h1 ^ w1) * CK_P;
		h2 = (h2 ^ w2) * CK_P;
		h3 = (h3 ^ w3) * CK_P;
		h0 ^= h0 >> 29;
		h1 ^= h1 >> 29;
		h2 ^= h2 >> 29;
		h3 ^= h3 >> 29;
	}
	h[0] = h0;
	h[1] = h1;
	h[2] = h2;
	h[3] = h3;
	uint64_t t = 0;
	for (int s = 0; i < n; i++, s++) {   /* the tail: whole 8-byte words into lane 0, the rest into lane 1 */
		t |= (uint64_t)p[i] << (8 * (s & 7));
		if ((s & 7) == 7) {
			h[0] = (h[0] ^ t) * CK_P;
			h[0] ^= h[0] >> 29;
			t = 0;
		}
	}
	c->t = t;
	c->n += n;
}

uint64_t es_cksum_final(es_cksum_t *c)
{
	uint64_t *h = c->h;
	h[1] = (h[1] ^ c->t) * CK_P;
	return es_hash64(h[0] ^ es_hash64(h[1] ^ es_hash64(h[2] ^ es_hash64(h[3] ^ c->n))));
}

uint64_t es_fast_checksum(const void *buf, size_t n, uint64_t seed)
{
	es_cksum_t c;
	es_cksum_init(&c, seed);
	es_cksum_add(&c, buf, n);
	return es_cksum_final(&c);
}

float es_dot_f32_i4(const float *q, const uint8_t *v, uint16_t m16, int dim)
{
	float s[8] = { 0 };   /* eight partial sums in a fixed order, as es_dot_f32_i8 */
	int i = 0;
	for (; i + 8 <= dim; i += 8)
		for (int j = 0; j < 8; j += 2) {
			uint8_t b = v[(i + j) / 2];
			s[j] += q[i + j] * (float)((int8_t)(uint8_t)(b << 4) >> 4);
			s[j + 1] += q[i + j + 1] * (float)((int8_t)b >> 4);
		}
	for (; i < dim; i += 2) {
		uint8_t b = v[i / 2];
		s[0] += q[i] * (float)((int8_t)(uint8_t)(b << 4) >> 4) + q[i + 1] * (float)((int8_t)b >> 4);
	}
	float scale = (float)m16 * (1.0f / (65535.0f * 7.0f));
	return scale * (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
}

void es_quantise4(const float *x, int dim, uint8_t *v, uint16_t *m16)
{
	float mx = 0;
	for (int i = 0; i < dim; i++)
		mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
	long m = lrintf((mx < 1 ? mx : 1) * 65535.0f);
	*m16 = (uint16_t)m;
	memset(v, 0, (size_t)dim / 2);
	if (m == 0)
		return;
	float f = 7.0f * 65535.0f / (float)m;   /* the stored max, so the scale es_dot_f32_i4 applies matches */
	for (int i = 0; i < dim; i++) {
		long t = lrintf(x[i] * f);
		t = t > 7 ? 7 : t < -7 ? -7 : t;
		v[i / 2] |= (uint8_t)((t & 15) << (4 * (i & 1)));
	}
}

/* ---------------- PQ4 fast scan ----------------
 * Product quantisation with 4-bit codes: the vector is cut into M subspaces of dim/M dimensions, each replaced by the
 * nearest of 16 centroids. A query turns into M tables of 16 small integers (how much worse than the subspace's best
 * centroid each one is), and a window's distance is the sum of M table lookups: in SIMD, one byte shuffle per
 * subspace for 64 windows at once (the "fast scan" of faiss, André et al.). Entries are at most 255/M so the sums fit
 * a byte exactly: every kernel computes the same integers. */

/* Index of the centroid (K of dimension ds, row-major in c) nearest to v in squared distance; the first on ties.
 * One function for training and encoding, so a window is always coded with the rule its centroids were fitted by. */
static int nearest_centroid(const float *v, const float *c, int K, int ds)
{
	int best = 0;
	float bd = INFINITY;
	for (int k = 0; k < K; k++) {
		float d = 0;
		for (int t = 0; t < ds; t++) {
			float e = v[t] - c[k * ds + t];
			d += e * e;
		}
		if (d < bd) {
			bd = d;
			best = k;
		}
	}
	return best;
}

void es_pq_train(const float *x, int64_t n, int dim, int M, int K, uint64_t seed, float *cb)
{
	int ds = dim / M;
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	float *c = es_malloc(K * ds * sizeof(float));
	double *sum = es_malloc(K * ds * sizeof(double));
	int64_t *cnt = es_malloc(K * sizeof(int64_t));
	for (int j = 0; j < M; j++) {
		for (int k = 0; k < K; k++) {   /* initial centroids: random sample points */
			int64_t r = (int64_t)es_rng_below(&rng, (uint64_t)n);
			memcpy(c + k * ds, x + r * dim + j * ds, ds * sizeof(float));
		}
		for (int it = 0; it < 20; it++) {
			memset(sum, 0, K * ds * sizeof(double));
			memset(cnt, 0, K * sizeof(int64_t));
			for (int64_t i = 0; i < n; i++) {
				const float *v = x + i * dim + j * ds;
				int best = nearest_centroid(v, c, K, ds);
				cnt[best]++;
				for (int t = 0; t < ds; t++)
					sum[best * ds + t] += v[t];
			}
			for (int k = 0; k < K; k++) {
				if (cnt[k] == 0) {   /* an empty cluster restarts at a random point */
					int64_t r = (int64_t)es_rng_below(&rng, (uint64_t)n);
					memcpy(c + k * ds, x + r * dim + j * ds, ds * sizeof(float));
				} else {
					for (int t = 0; t < ds; t++)
						c[k * ds + t] = (float)(sum[k * ds + t] / cnt[k]);
				}
			}
		}
		memcpy(cb + (size_t)j * K * ds, c, K * ds * sizeof(float));
	}
	free(c);
	free(sum);
	free(cnt);
}

void es_pq_encode(const float *cb, int dim, int M, int K, const float *x, uint8_t *nib)
{
	int ds = dim / M;
	for (int j = 0; j < M; j++) {
		nib[j] = (uint8_t)nearest_centroid(x + j * ds, cb + (size_t)j * K * ds, K, ds);
	}
}

void es_pq_store(uint8_t *codes, int M, int64_t w, const uint8_t *nib)
{
	uint8_t *b = codes + (w >> 6) * (int64_t)(M / 2) * 64 + (w & 63);
	for (int p = 0; p < M / 2; p++)
		b[p * 64] = (uint8_t)(nib[2 * p] | nib[2 * p + 1] << 4);
}

/* The table bytes from the distances below each subspace's best, bad[M*K], and their largest, range. (bad is not
 * const: GCC 12 then warned that the callers' stack array may be read unset.) */
static void pq_lut_bytes(float *bad, float range, int M, int K, uint8_t *lut)
{
	int lmax = 255 / M;
	float s = range > 0 ? lmax / range : 0;
	/* x = bad * s lies in [0, lmax]: (x + 2^23) - 2^23 rounds it to the nearest integer, ties to even, as lrintf does
	 * in the default rounding mode, without a call per entry (the call was ~40% of this function; the tables are
	 * identical) */
	float top = (float)lmax;
	for (int i = 0; i < M * K; i++) {   /* clamped to [0, lmax] first (NaN to 0): the same bytes, and no branch */
		float x = bad[i] * s;
		x = x >= 0 ? x : 0;
		x = x < top ? x : top;
		lut[i] = (uint8_t)(int)((x + 0x1p23f) - 0x1p23f);
	}
}

void es_pq_transpose(const float *cb, int dim, int M, int K, float *cbt)
{
	int ds = dim / M;
	for (int j = 0; j < M; j++)
		for (int k = 0; k < K; k++)
			for (int t = 0; t < ds; t++)
				cbt[((size_t)j * ds + t) * K + k] = cb[((size_t)j * K + k) * ds + t];
}

/* Subspace j's K distances below its best into bad[K], their largest returned: the inner products side by side
 * (d[k] = ((0 + q0 c0) + q1 c1) + ..., es_pq_lut's order). always_inline with K a constant at the call for PQ6, so
 * that GCC (-O2) vectorises the loops over k. */
static inline __attribute__((always_inline)) float pq_lut_sub(const float *cbt, const float *qj, int ds, int K,
                                                              float *bad)
{
	float d[64] = { 0 }, mx = -INFINITY, range = 0;
	for (int t = 0; t < ds; t++) {
		float qt = qj[t];
		const float *c = cbt + (size_t)t * K;
		for (int k = 0; k < K; k++)
			d[k] += qt * c[k];
	}
	for (int k = 0; k < K; k++)
		mx = d[k] > mx ? d[k] : mx;
	for (int k = 0; k < K; k++) {
		bad[k] = mx - d[k];
		range = bad[k] > range ? bad[k] : range;
	}
	return range;
}

void es_pq_lut_t(const float *cbt, int dim, int M, int K, const float *q, uint8_t *lut)
{
	int ds = dim / M;
	float stack[16 * 64], range = 0;
	float *bad = (size_t)M * K <= sizeof stack / sizeof *stack ? stack : es_malloc((size_t)M * K * sizeof(float));
	for (int j = 0; j < M; j++) {
		const float *c = cbt + (size_t)j * ds * K;
		float r = K == 64 ? pq_lut_sub(c, q + j * ds, ds, 64, bad + j * K) : pq_lut_sub(c, q + j * ds, ds, K, bad + j * K);
		range = r > range ? r : range;
	}
	pq_lut_bytes(bad, range, M, K, lut);
	if (bad != stack)
		free(bad);
}

void es_pq_lut(const float *cb, int dim, int M, int K, const float *q, uint8_t *lut)
{
	int ds = dim / M;
	float stack[16 * 64], range = 0;   /* the PQ6 / PQ4 tables of M = 16 fit */
	float *bad = (size_t)M * K <= sizeof stack / sizeof *stack ? stack : es_malloc((size_t)M * K * sizeof(float));
	for (int j = 0; j < M; j++) {
		float d[64], mx = -INFINITY;
		for (int k = 0; k < K; k++) {
			d[k] = 0;
			for (int t = 0; t < ds; t++)
				d[k] += q[j * ds + t] * cb[((size_t)j * K + k) * ds + t];
			if (d[k] > mx)
				mx = d[k];
		}
		for (int k = 0; k < K; k++) {
			bad[j * K + k] = mx - d[k];
			if (bad[j * K + k] > range)
				range = bad[j * K + k];
		}
	}
	pq_lut_bytes(bad, range, M, K, lut);
	if (bad != stack)
		free(bad);
}

void es_pqscan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	for (int64_t w = beg; w < end; w++) {
		const uint8_t *b = codes + (w >> 6) * (int64_t)(M / 2) * 64 + (w & 63);
		int d = 0;
		for (int p = 0; p < M / 2; p++)
			d += lut[32 * p + (b[p * 64] & 15)] + lut[32 * p + 16 + (b[p * 64] >> 4)];
		es_hamq_push(st, (uint32_t)w, d);
	}
}

es_dot_i8_fn es_dot_i8_best(const char **name)
{
	__builtin_cpu_init();
	int lv = simd_level(0, __builtin_cpu_supports("avx2"));
	if (name)
		*name = lv ? "avx2" : "scalar";
	return lv ? es_dot_f32_i8_avx2 : es_dot_f32_i8;
}

es_pqscan_fn es_pqscan_best(const char **name)
{
	__builtin_cpu_init();
	int lv = simd_level(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"),
	                    __builtin_cpu_supports("avx2"));
	static const es_pqscan_fn fn[3] = { es_pqscan_scalar, es_pqscan_avx2, es_pqscan_avx512 };
	static const char *names[3] = { "scalar", "avx2", "avx512" };
	if (name)
		*name = names[lv];
	return fn[lv];
}

/* PQ6: M subspaces x 64 centroids, one byte per subspace: block of 64 windows, byte (w/64)*M*64 + j*64 + w%64.
 * One 64-entry table lookup per subspace (AVX-512 VBMI vpermb) instead of two 16-entry ones per byte. */
void es_pq6_store(uint8_t *codes, int M, int64_t w, const uint8_t *code)
{
	uint8_t *b = codes + (w >> 6) * (int64_t)M * 64 + (w & 63);
	for (int j = 0; j < M; j++)
		b[j * 64] = code[j];
}

void es_pq6scan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st)
{
	for (int64_t w = beg; w < end; w++) {
		const uint8_t *b = codes + (w >> 6) * (int64_t)M * 64 + (w & 63);
		int d = 0;
		for (int j = 0; j < M; j++)
			d += lut[64 * j + (b[j * 64] & 63)];
		es_hamq_push(st, (uint32_t)w, d);
	}
}

es_pqscan_fn es_pq6scan_best(const char **name)
{
	__builtin_cpu_init();
	int vbmi = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
	           && __builtin_cpu_supports("avx512vbmi");
	int lv = simd_level(vbmi, __builtin_cpu_supports("avx2"));
	static const es_pqscan_fn fn[3] = { es_pq6scan_scalar, es_pq6scan_avx2, es_pq6scan_avx512 };
	static const char *names[3] = { "scalar", "avx2", "avx512vbmi" };
	if (name)
		*name = names[lv];
	return fn[lv];
}
