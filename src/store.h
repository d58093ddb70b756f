/* store.h — the DNA vector store: `esalign index` builds one file (PREFIX.esi) holding the 2-bit reference, the
 * window table, int8 window embeddings, compact codes for approximate search (PQ6 by default) and a checksummed,
 * versioned header; es_index_load maps it read-only so several processes share it. Search is exact (brute force
 * over the int8 vectors) or approximate (a SIMD scan of the codes of every window, or of the inverted lists nearest
 * the query, then an exact re-rank of the nearest few hundred; see docs/store.md). Coordinates are 0-based
 * half-open [beg,end) in the reference's global coordinates (seqio.h). Every function that can fail returns -1 or
 * NULL with es_error() set; none prints or exits. Code: store_file.c (file, load, accessors), store_build.c
 * (build), search.c (search), candidates.c (reads -> loci); private parts in store_priv.h and ann.h. What a user of
 * the library sees (es_index_t, load, the public accessors, es_index_search, es_index_candidates) is in esalign.h;
 * this header adds building and the internal accessors and settings. */
#ifndef ES_STORE_H
#define ES_STORE_H
#include <stdint.h>
#include "esalign.h"
#include "seqio.h"
#include "encoder.h"

#define ES_INDEX_MAGIC   "ESALIDX\x1a"   /* 8 bytes at offset 0 */
#define ES_INDEX_VERSION 4   /* 4: the low-complexity seed table (lowc.h) */
#define ES_INDEX_SUFFIX  ".esi"

#define ES_CODE_SIGN 1   /* code_bits sign bits of a random projection, Hamming distance */
#define ES_CODE_PQ4  2   /* product quantisation, pq_m subspaces x 4 bits, table-lookup distance (fast scan) */
#define ES_CODE_PQ6  3   /* product quantisation, pq_m subspaces x 6 bits (one byte each), 64-entry table lookups */
/* Centroids per subspace of a PQ code kind: 64 for ES_CODE_PQ6, 16 for ES_CODE_PQ4. */
static inline int es_pq_centroids(int code_kind) { return code_kind == ES_CODE_PQ6 ? 64 : 16; }

/* Build options; es_index_opt_init sets the defaults (chosen by measurement, docs/store.md). */
typedef struct {
	const char *encoder_spec;  /* recorded in the header so the aligner can reopen it; default "kmer" */
	int w;                     /* window length (bases), 16..100000; 0 (default) auto: 150 for kmer, 100 for a
	                            * learned encoder (one index for 100-250 bp reads, docs/store.md) */
	int stride;                /* window stride (bases), 1..w; 0 (default) auto: 25 for kmer, 20 for a learned
	                            * encoder */
	int code_kind;             /* ES_CODE_PQ6 (default), ES_CODE_PQ4 or ES_CODE_SIGN */
	int pq_m;                  /* PQ: subspaces (even, divides dim, <= 64); default 16 */
	int code_bits;             /* SIGN: bits of the binary code: 64, 128, ..., 512; default 128 */
	int code_step;             /* codes for every code_step-th window only (its neighbours are re-ranked with it,
	                            * since consecutive windows overlap by W-S bases); 1..64, 0 (default) auto: 2 for
	                            * kmer, 1 for a learned encoder (docs/store.md) */
	int ivf_lists;             /* PQ6 only: inverted lists the codes are split into, so a query scans the few it is
	                            * nearest to; 0 none (scan every code); -1 (default): about one list per 1,024 codes
	                            * for a learned encoder, none for kmer or under 32,768 codes (docs/store.md) */
	int ivf_groups;            /* lists trained and assigned in two levels, through this many groups of lists (the
	                            * search ranks all the lists either way); 0 flat; -1 (default) auto: flat up to
	                            * 4,096 lists, else the power of two nearest sqrt(lists) (docs/store.md) */
	int vec_bits;              /* 8 (default): int8 vectors for the re-rank and exact search; 4: 4 bits a dimension
	                            * (half the bytes, for big genomes; docs/store.md "Index size") */
	double max_n_frac;         /* windows with more than this fraction of N are skipped; default 0.5 */
	int n_threads;             /* build threads, 1..ES_MAX_THREADS (thread.h); default 1 */
	int progress;              /* 1: progress lines (stage, %, ETA) on stderr via es_log */
} es_index_opt_t;
void es_index_opt_init(es_index_opt_t *opt);

/* Build the index of ref with encoder enc and write it atomically to path (the full file name, e.g. "ref.fa.esi").
 * The file is the same for any n_threads. Returns 0, or -1 with es_error set (an option out of range, more than
 * 2^32-1 windows, an embedding failure, a thread that cannot be created, a write error). stats (may be NULL)
 * receives {n_windows, file bytes}. */
int es_index_build(const es_ref_t *ref, const es_encoder_t *enc, const es_index_opt_t *opt, const char *path,
                   int64_t stats[2]);

/* Accessors beyond the public ones of esalign.h (es_index_ref, _encoder_spec, _encoder_name, _path, _w, _stride,
 * _dim, _n_windows, _window). */
uint64_t es_index_encoder_checksum(const es_index_t *idx);
int es_index_code_bits(const es_index_t *idx);
int es_index_code_step(const es_index_t *idx);
int es_index_code_kind(const es_index_t *idx);
/* The index's low-complexity seed table (lowc.h), or NULL when it holds no seed. */
const struct es_lowc_s *es_index_lowc(const es_index_t *idx);

/* ---- search (es_index_search, its flags and es_index_candidates are in esalign.h) ---- */
/* es_index_search with a number of lists to probe per query (nprobe[i], at most the index's list count; NULL: the
 * index's nprobe for all; ignored without lists). */
int es_index_search_np(const es_index_t *idx, int n, const float *q, const int *nprobe, int k, int flags,
                       int64_t *ids, float *scores);
/* Approximate-search effort: number of nearest codes (PQ or Hamming distance) re-ranked exactly per query (default
 * 384, or 256 for an index with inverted lists; clipped to 1..ES_INDEX_MAX_RERANK).
 * Set before searching; not thread-safe with concurrent searches. */
#define ES_INDEX_MAX_RERANK 65536
void es_index_set_rerank(es_index_t *idx, int n_rerank);
int es_index_get_rerank(const es_index_t *idx);
/* The codes an ES_SEARCH_DEEP query re-ranks (the wide pass of a read whose candidate list a repeat family fills):
 * ES_DEEP_RERANK x the index's count, times one more for every ES_DEEP_SCALE_WINDOWS windows of the index (at most
 * ES_DEEP_SCALE_MAX steps), clipped to ES_INDEX_MAX_RERANK. A family's copies grow with the genome, the count
 * re-ranked did not: on the 1 Gb synthetic genome (48.9 M windows, docs/store.md) the lists a 150 bp read probes held
 * more of its family's codes than the 512 re-ranked, ties at the cut went to the first lists and windows (the wrong
 * placements piled up on the first synthetic contig), and the read's own copy was often dropped. 150 bp, re-ranking
 * 8 / 16 / 32 / 64 x instead of 2 x: correct 98.61 -> 98.76 / 98.84 / 98.89 / 98.94%; 16 x cost 1.02x the mapping
 * CPU and 32 x 1.14x (farm-bench, 3 pairs), so 16 x it is at 1 Gb. chrX 70 Mb (3.3 M windows) keeps 2 x. */
#define ES_DEEP_SCALE_WINDOWS 3000000
#define ES_DEEP_SCALE_MAX 8
int es_index_deep_rerank(const es_index_t *idx);
int es_deep_rerank_count(int rerank, int64_t n_windows);   /* the rule, for a count and a window total */
/* Its steps: 1 up to ES_DEEP_SCALE_WINDOWS windows, one more for every as many, at most max (the last look's loci
 * scale by the same rule, es_map_look_widen in pipeline.h). */
int es_index_scale_steps(int64_t n_windows, int max);
/* With ES_SEARCH_DEEP, the wide pass of the last look (a read still placed at MAPQ <= 3 or unmapped, pipeline.c):
 * ES_LOOK_RERANK x the deep count (es_index_look_rerank, clipped to ES_INDEX_MAX_RERANK). Few reads come so far
 * (1.3% of 1 Gb 150 bp reads), the ones whose own copy the PQ codes of a repeat family rank below the deep cut:
 * 1 Gb, 20,000 reads each, correct 98.08 -> 98.22 / 98.84 -> 98.98 / 99.27 -> 99.38% at 100 / 150 / 250 bp (bwa
 * 98.47 / 99.33 / 99.81), at 1.03x the CPU of the build before at 1 Gb 100 bp (with the cheaper load beside it;
 * 8 x: 98.20% at 1.05x, 4 x 98.19%), chrX and E. coli at most +1 read (farm-bench, 3 pairs). The look's first
 * search re-ranking 2 x as well added 0.015 points at ~1.08x the CPU. */
#define ES_SEARCH_LOOK 8
#define ES_LOOK_RERANK 16
int es_index_look_rerank(const es_index_t *idx);
/* The lists' probe in two levels through G groups of lists (es_ivf_probe2; the groups made by k-means over the list
 * centroids when set: the whole load of a 1 Gb index with 65,536 lists, checksums included, took 1.4 s of CPU); 0:
 * rank every list; -1 (what es_index_load sets): flat up to ES_PROBE_FLAT_MAX lists, else the power of two nearest
 * sqrt(lists). 0, or -1 with es_error set. Not thread-safe with concurrent searches. */
#define ES_PROBE_FLAT_MAX 4096
int es_index_set_probe_groups(es_index_t *idx, int G);
int es_index_get_probe_groups(const es_index_t *idx);
/* Lists probed per query by an index with inverted lists (default sqrt(lists); clipped to 1..lists).
 * Set before searching; not thread-safe with concurrent searches. es_index_ivf_lists: 0 for an index without. */
void es_index_set_nprobe(es_index_t *idx, int nprobe);
int es_index_get_nprobe(const es_index_t *idx);
int es_index_ivf_lists(const es_index_t *idx);
/* A query of the ordinary probe (at most nprobe lists: not a low-scoring read's deep search) skips the lists whose
 * centroid scores at least gap below its best list's, keeping its 16 best (es_ivf_trim; docs/store.md "The probe's
 * gap"); 0: none skipped. es_index_load sets ES_PROBE_GAP. Not thread-safe with concurrent searches. */
#define ES_PROBE_GAP 0.15f
void es_index_set_probe_gap(es_index_t *idx, float gap);
float es_index_get_probe_gap(const es_index_t *idx);

/* The passes of es_index_candidates_wide (esalign.h), for a caller that gathers the reads of the later ones over more
 * reads than one call holds (pipeline.c: a whole batch, whose deep searches then share each list's scan).
 * es_index_candidates_first: the first search of reads[0,n): loci[i*wide ..] and n_loci[i] (at most max_loci), and
 * sat[i]: ES_CAND_RETRY for a read whose best window scored low (its loci are given: a caller that finds them
 * good enough keeps them, else it searches the read again with es_index_candidates_retry), 1 for a read the wide
 * pass is to search again (never when wide == max_loci), else 0;
 * vec (may be NULL): vec[i] gets a malloc'ed copy of read i's query vectors when sat[i] is not 0, for the later
 * passes (the caller frees them), else NULL.
 * es_index_candidates_retry: those reads searched with deeper probes, each chunk depth x the index's nprobe lists
 * (0: ES_DEEP_PROBE, what es_index_candidates_first's immediate retry probes): loci, n_loci and sat (0 or 1) as
 * es_index_candidates_first's first search and immediate retry give them.
 * es_index_candidates_widen: the wide pass of reads[0,n), their first loci in loci/n_loci (stride wide): the loci
 * es_index_candidates_wide gives them. vec of the two (may be NULL, or hold NULLs): the reads' vectors from
 * es_index_candidates_first, not computed again. The result of a read depends on that read alone. 0, or -1
 * (es_error). */
#define ES_CAND_RETRY 2
/* Flags of those passes. ES_CAND_ENDS: a read of three chunks or more is searched with its two end chunks only (the
 * first search and its wide pass; pipeline.c). ES_CAND_MIDDLE (es_index_candidates_retry after such a first search):
 * every chunk, the given vectors being ES_CAND_ENDS ones: a read whose chunks differ is embedded again. */
#define ES_CAND_ENDS 16
#define ES_CAND_MIDDLE 32
/* The deeper search's default depth: 8 sqrt(lists), what 4 x 2 sqrt(lists) was when the first search probed
 * 2 sqrt(lists) (candidates.c) */
#define ES_DEEP_PROBE 8
int es_index_candidates_first(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci, uint8_t *sat,
                              float **vec, int flags);
int es_index_candidates_retry(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, int depth, es_locus_t *loci, int *n_loci,
                              uint8_t *sat, const float *const *vec, int flags);
int es_index_candidates_widen(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci,
                              const float *const *vec, int flags);

/* The queries es_index_candidates makes of a read of len bases: 1 up to 5/4 of the window length (or with
 * ES_CAND_WHOLE), else its chunks. */
int es_index_read_queries(const es_index_t *idx, int len, int flags);

/* CPU seconds the calling thread has spent in es_index_candidates embedding reads (t[0]) and searching their
 * query vectors (t[1]), and the number of queries searched (t[2]), since the last reset (reset=1 zeroes them). */
void es_index_thread_times(double t[3], int reset);

/* The scan kernel the approximate search of idx runs on this CPU ("avx512vbmi", "avx2", "scalar", ...). */
const char *es_index_scan_kernel(const es_index_t *idx);
#endif
