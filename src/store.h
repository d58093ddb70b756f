/* store.h — the DNA vector store: `esalign index` builds one file (PREFIX.esi) holding the 2-bit reference, the
 * window table, int8 window embeddings, compact codes for approximate search (PQ6 by default) and a checksummed,
 * versioned header; es_index_load maps it read-only so several processes share it. Search is exact (brute force over
 * the int8 vectors) or approximate (a SIMD scan of the codes of every window, then an exact re-rank of the nearest few
 * hundred; see docs/store.md). Coordinates are 0-based half-open [beg,end) in the reference's global coordinates
 * (seqio.h). Every function that can fail returns -1 or NULL with es_error() set; none prints or exits. */
#ifndef ES_STORE_H
#define ES_STORE_H
#include <stdint.h>
#include "seqio.h"
#include "encoder.h"

#define ES_INDEX_MAGIC   "ESALIDX\x1a"   /* 8 bytes at offset 0 */
#define ES_INDEX_VERSION 2
#define ES_INDEX_SUFFIX  ".esi"

typedef struct es_index_s es_index_t;   /* opaque; immutable after load, so safe to share between threads */

#define ES_CODE_SIGN 1   /* code_bits sign bits of a random projection, Hamming distance */
#define ES_CODE_PQ4  2   /* product quantisation, pq_m subspaces x 4 bits, table-lookup distance (fast scan) */
#define ES_CODE_PQ6  3   /* product quantisation, pq_m subspaces x 6 bits (one byte each), 64-entry table lookups */

/* Build options; es_index_opt_init sets the defaults (chosen by measurement, docs/store.md). */
typedef struct {
	const char *encoder_spec;  /* recorded in the header so the aligner can reopen it; default "kmer" */
	int w;                     /* window length (bases), 16..100000; 0 (default) auto: 150 for kmer, 100 for a learned
	                            * encoder (one index for 100-250 bp reads, docs/store.md) */
	int stride;                /* window stride (bases), 1..w; 0 (default) auto: 25 for kmer, 20 for a learned encoder */
	int code_kind;             /* ES_CODE_PQ6 (default), ES_CODE_PQ4 or ES_CODE_SIGN */
	int pq_m;                  /* PQ: subspaces (even, divides dim, <= 64); default 16 */
	int code_bits;             /* SIGN: bits of the binary code: 64, 128, ..., 512; default 128 */
	int code_step;             /* codes for every code_step-th window only (its neighbours are re-ranked with it,
	                            * since consecutive windows overlap by W-S bases); 1..64, 0 (default) auto: 2 for
	                            * kmer, 1 for a learned encoder (docs/store.md) */
	int ivf_lists;             /* PQ6 only: inverted lists the codes are split into, so a query scans the few it is
	                            * nearest to; 0 none (scan every code); -1 (default): about one list per 1,024 codes
	                            * for a learned encoder, none for kmer or under 32,768 codes (docs/store.md) */
	double max_n_frac;         /* windows with more than this fraction of N are skipped; default 0.5 */
	int n_threads;             /* embedding threads, default 1 */
	int progress;              /* 1: progress lines (stage, %, ETA) on stderr via es_log */
} es_index_opt_t;
void es_index_opt_init(es_index_opt_t *opt);

/* Build the index of ref with encoder enc and write it atomically to path (the full file name, e.g. "ref.fa.esi").
 * Returns 0, or -1 with es_error set. stats (may be NULL) receives {n_windows, file bytes}. */
int es_index_build(const es_ref_t *ref, const es_encoder_t *enc, const es_index_opt_t *opt, const char *path,
                   int64_t stats[2]);

/* Map an index. path is the file, or a prefix to which ".esi" is appended if path itself does not exist.
 * The whole content is checksummed on load: a missing, truncated, foreign, wrong-version or corrupt file is refused
 * (NULL, es_error names the file(s) and the problem). Free with es_index_destroy. */
es_index_t *es_index_load(const char *path);
void es_index_destroy(es_index_t *idx);

/* The reference stored in the index (arrays point into the mapping, owns_pac=0; valid until es_index_destroy). */
const es_ref_t *es_index_ref(const es_index_t *idx);
const char *es_index_encoder_spec(const es_index_t *idx);   /* as given at build time, e.g. "kmer" */
const char *es_index_encoder_name(const es_index_t *idx);   /* es_encoder_t.name at build time */
uint64_t es_index_encoder_checksum(const es_index_t *idx);
const char *es_index_path(const es_index_t *idx);           /* the file that was loaded */
int es_index_w(const es_index_t *idx);
int es_index_stride(const es_index_t *idx);
int es_index_dim(const es_index_t *idx);
int es_index_code_bits(const es_index_t *idx);
int es_index_code_step(const es_index_t *idx);
int es_index_code_kind(const es_index_t *idx);
int64_t es_index_n_windows(const es_index_t *idx);
/* Window i (0 <= i < n_windows) covers global [*beg,*end); windows are sorted by beg and never span two contigs. */
void es_index_window(const es_index_t *idx, int64_t i, int64_t *beg, int64_t *end);

/* 0 if enc is the encoder the index was built with (same checksum and dim); else -1 with es_error naming both. */
int es_index_check_encoder(const es_index_t *idx, const es_encoder_t *enc);
/* Open the index's encoder from its recorded spec and check it (NULL with es_error set on failure). */
es_encoder_t *es_index_open_encoder(const es_index_t *idx);

/* ---- search ---- */
#define ES_SEARCH_EXACT 1   /* brute force over every window (the yardstick); default is the approximate search */
#define ES_CAND_WHOLE   2   /* es_index_candidates: one query per read whatever its length (no chunks) */

/* Approximate-search effort: number of nearest codes (PQ or Hamming distance) re-ranked exactly per query (default
 * 384, or 256 for an index with inverted lists).
 * Set before searching; not thread-safe with concurrent searches. */
void es_index_set_rerank(es_index_t *idx, int n_rerank);
int es_index_get_rerank(const es_index_t *idx);
/* Lists probed per query by an index with inverted lists (default 4 sqrt(lists); clipped to 1..lists).
 * Set before searching; not thread-safe with concurrent searches. es_index_ivf_lists: 0 for an index without. */
void es_index_set_nprobe(es_index_t *idx, int nprobe);
int es_index_get_nprobe(const es_index_t *idx);
int es_index_ivf_lists(const es_index_t *idx);

/* Top-k windows by inner product for n query vectors q (n*dim floats, unit length). ids[n*k] receives window
 * indices best first (-1 pads when fewer than k, e.g. for a zero query), scores[n*k] the inner products (may be
 * NULL). Ties are broken by the lower window index, so results are deterministic. Thread-safe (own scratch).
 * Returns 0, or -1 with es_error set. */
int es_index_search(const es_index_t *idx, int n, const float *q, int k, int flags, int64_t *ids, float *scores);

/* ---- reads -> candidate loci (what the aligner calls) ---- */
typedef struct {
	int64_t beg, end;  /* global [beg,end), inside one contig: expected to contain the read's origin (either strand) */
	float score;       /* sum over the read's chunks of the best window score inside the locus (higher is better) */
} es_locus_t;

/* For each of n reads (codes 0..4, seqs[i] of lens[i] bases), up to max_loci candidate loci, best first, into
 * loci[i*max_loci ..], their number into n_loci[i]. A read up to 5/4 of the window length is one query; a longer read
 * is cut into chunks of the window length whose hits vote. Hits are padded by max(0, len-W) + stride on both sides,
 * clipped to their contig and merged when they overlap. A read shorter than 16 bases or mostly N gets 0 loci.
 * enc must be the index's encoder (checked). flags: ES_SEARCH_EXACT or 0. Thread-safe. Returns 0, or -1 (es_error). */
int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags);

/* CPU seconds the calling thread has spent in es_index_candidates embedding reads (t[0]) and searching their
 * query vectors (t[1]), and the number of queries searched (t[2]), since the last reset (reset=1 zeroes them). */
void es_index_thread_times(double t[3], int reset);

/* ---- kernels (ann.c), exposed for tests: each fast version has a scalar twin that must agree exactly ---- */
/* Per-query state of a Hamming scan: keeps every code with distance < thr; when the buffer fills, thr drops so that
 * at least keep codes survive (ties at the cut may be dropped only when they alone would overflow the buffer). */
typedef struct {
	int thr;           /* current exclusive distance bound */
	int keep, n, cap;  /* wanted survivors; entries used; capacity (>= 2*keep + 64) */
	uint32_t *id;      /* window index */
	uint16_t *dist;    /* Hamming distance */
} es_hamq_t;
/* Called when a buffer is full: lower thr, compact. Shared by every kernel so all agree. */
void es_hamq_shrink(es_hamq_t *st);
/* Offer one code: the single rule every kernel applies, in window order. */
static inline void es_hamq_push(es_hamq_t *st, uint32_t id, int d)
{
	if (d >= st->thr) return;
	if (st->n == st->cap) { es_hamq_shrink(st); if (d >= st->thr) return; }
	st->id[st->n] = id; st->dist[st->n] = (uint16_t)d; st->n++;
}
/* Scan codes of windows [beg,end): codes are stored in nw planes of n_total uint64 each (plane j holds word j of
 * every window), q holds the query's nw words. Appends (id, dist) for dist < st->thr in window order. */
typedef void (*es_hamscan_fn)(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end,
                              const uint64_t *q, es_hamq_t *st);
void es_hamscan_scalar(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q, es_hamq_t *st);
void es_hamscan_avx2(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q, es_hamq_t *st);
void es_hamscan_avx512(const uint64_t *codes, int64_t n_total, int nw, int64_t beg, int64_t end, const uint64_t *q, es_hamq_t *st);
/* The best kernel this CPU runs (AVX-512 VPOPCNTDQ, else AVX2+POPCNT, else scalar); ES_SIMD=scalar|avx2 forces one. */
es_hamscan_fn es_hamscan_best(const char **name);

/* PQ4 codes (see ann.c): M subspaces of dim/M dimensions (M divides dim, M <= 64, even), 16 centroids each.
 * Codes of window w live in blocks of 64 windows: byte (w/64)*(M/2)*64 + p*64 + w%64 holds subspace 2p in its low
 * nibble and 2p+1 in its high nibble. cb is [M][16][dim/M] floats. */
/* K = 16 (PQ4) or 64 (PQ6) centroids per subspace; cb is [M][K][dim/M]. */
void es_pq_train(const float *x, int64_t n, int dim, int M, int K, uint64_t seed, float *cb);
void es_pq_encode(const float *cb, int dim, int M, int K, const float *x, uint8_t *nib /* M values 0..K-1 */);
void es_pq_store(uint8_t *codes, int M, int64_t w, const uint8_t *nib);
/* The query's tables lut[M][K]: 0 for the subspace's best centroid, up to 255/M for its worst (one scale for all). */
void es_pq_lut(const float *cb, int dim, int M, int K, const float *q, uint8_t *lut);
/* Scan windows [beg,end) (beg a multiple of 64): distance = sum of table entries; offered to st in window order. */
typedef void (*es_pqscan_fn)(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pqscan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pqscan_avx2(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pqscan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
es_pqscan_fn es_pqscan_best(const char **name);
/* PQ6 layout: byte (w/64)*M*64 + j*64 + w%64 holds window w's centroid (0..63) in subspace j. */
void es_pq6_store(uint8_t *codes, int M, int64_t w, const uint8_t *code);
void es_pq6scan_scalar(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);
void es_pq6scan_avx512(const uint8_t *codes, int M, int64_t beg, int64_t end, const uint8_t *lut, es_hamq_t *st);  /* needs VBMI */
es_pqscan_fn es_pq6scan_best(const char **name);

/* Inner product of a float query with an int8 vector times its scale: scale * sum q[i]*v[i]. */
float es_dot_f32_i8(const float *q, const int8_t *v, float scale, int dim);
/* Sign-bit code of x (dim floats) under the code_bits x dim projection matrix R: bit b = (R_b . x >= 0). */
void es_code_make(const float *R, int code_bits, int dim, const float *x, uint64_t *code);
/* Fast checksum of a buffer (4 lanes of 64-bit multiply-xorshift); used for the index sections. */
uint64_t es_fast_checksum(const void *buf, size_t n, uint64_t seed);
#endif
