/* recall.h — the recall benches of esalign in one module: held-out exact-search recall of an encoder (esalign train
 * --recall and the progress recall of training), and recall of an index's approximate search against the reads'
 * true origins (esalign index --bench); the simulated reads both draw, and embedding many sequences on threads.
 * Coordinates are 0-based half-open [beg,end), global over the reference. */
#ifndef ES_RECALL_H
#define ES_RECALL_H
#include <stdint.h>
#include <stdio.h>
#include "encoder.h"
#include "seqio.h"
#include "util.h"

/* Reference bases a read of len bases is drawn from: ample for indel rates up to a few % (es_sim_mutate). */
#define ES_READ_SRC_LEN(len) ((len) + (len) / 8 + 32)

/* A read of len bases whose forward fragment starts at global pos: the ES_READ_SRC_LEN(len) reference bases from pos
 * (the caller keeps them inside the reference) mutated with substitutions at rate sub and insertions and deletions
 * at sub/20 each (es_sim_mutate, mean indel length 1.5). The read is on the forward strand: the caller draws the
 * strand. src holds ES_READ_SRC_LEN(len) bytes (scratch), out len bytes; *used (may be NULL) receives the
 * reference bases consumed. The one read rule of the recall benches and of the training pairs.
 * Returns 0, or -1 when the fragment ran out before len bases (draw again). */
int es_read_draw(const es_ref_t *ref, int64_t pos, int len, double sub, es_rng_t *rng, uint8_t *src, uint8_t *out,
                 int *used);

/* Embed n sequences into out (n * es_encoder_dim floats) on n_threads (1..ES_MAX_THREADS) threads, in chunks of 64
 * (each chunk writes its own rows: the result does not depend on the thread count). Returns 0, or -1 with es_error
 * set (the encoder's error, or a thread error). */
int es_embed_many(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out,
                  int n_threads);

/* ---- held-out exact-search recall ----
 * Windows of W bases at stride over global [beg,end) (windows holding N skipped) are embedded once; then for each
 * of n_set read settings, n_reads reads of read_len[s] bases from [beg,end) with substitution rate sub[s] and
 * insertions/deletions at sub/20 each (a tenth of sub in all), random strand, seeded by seed+s. A read is found at K
 * when one of its K best windows (inner product, brute force, ties to the lower window) starts within W/2 of its
 * origin. recall[s][0..3] receive recall@1, @4, @16, @64. Optional speed[0]: window embeddings per CPU second,
 * speed[1+s]: read embeddings per CPU second of setting s (process CPU time, so per core when nthreads is 1; a busy
 * machine does not inflate it). Returns 0, or -1 with es_error set. */
#define ES_RECALL_MAX_SET 8
typedef struct {
	int64_t beg, end;      /* region, global coordinates [beg,end) */
	int W, stride;         /* window length and step */
	int n_set;             /* read settings, 1..ES_RECALL_MAX_SET */
	int read_len[ES_RECALL_MAX_SET];
	double sub[ES_RECALL_MAX_SET];
	int n_reads;           /* per setting */
	uint64_t seed;
	int nthreads;          /* 1..ES_MAX_THREADS */
} es_recall_opt_t;
int es_recall_eval(const es_encoder_t *e, const es_ref_t *ref, const es_recall_opt_t *o, double (*recall)[4],
                   double *speed);

/* ---- the index bench ----
 * n reads of len bases drawn uniformly over the index's reference (a read's span inside one contig and free of N),
 * substitutions at sub, indels at sub/20 each, random strand, seeded by seed; each read's loci from
 * es_index_candidates (approximate search; ES_CAND_WHOLE with whole); recall@1/4/16 = a read's first locus
 * overlapping its true span is among its first 1/4/16. Writes one "approx\t..." line to out, and with exact an
 * "exact\t..." line for exact search with the share of reads whose top locus agrees. Returns 0, or -1 with es_error
 * set (index, encoder, reads, threads). */
typedef struct {
	int n, len;       /* reads and their length */
	double sub;       /* substitution rate; indels at a tenth of it */
	int K;            /* loci per read, >= 16 for recall@16 to mean it */
	int rerank;       /* codes re-ranked exactly per query; 0: the index's default */
	int nprobe;       /* lists scanned per query (index with lists); 0: the index's default */
	int probe_groups; /* groups of lists for a two-level probe (es_index_set_probe_groups); -1: the index's default */
	double probe_gap; /* es_index_set_probe_gap; < 0: the index's default */
	int exact;        /* also run exact search and compare */
	int whole;        /* one query per read, no chunks */
	int n_threads;    /* 1..ES_MAX_THREADS */
	uint64_t seed;
} es_bench_opt_t;
void es_bench_opt_init(es_bench_opt_t *o);   /* 1000 reads of 250 bp, sub 0.01, K 16, 1 thread, seed 7 */
int es_index_bench(const char *path, const es_bench_opt_t *o, FILE *out);
#endif
