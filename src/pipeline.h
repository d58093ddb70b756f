/* pipeline.h — the inside of es_map_file (esalign.h): the per-read mapper of map.c as pipeline.c drives it.
 * Private to the library (include/esalign.h does not include it). */
#ifndef ES_PIPELINE_H
#define ES_PIPELINE_H
#include <stdint.h>
#include <htslib/sam.h>
#include "map.h"
#include "store.h"
#include "encoder.h"
#include "seqio.h"
#include "pair.h"

/* reads per vector-store call: the unit of work of the mapping threads. 1,024, not 256: the queries of a chunk scan
 * each inverted list together (search.c), and a 100 bp read's 64 of 4,096 lists (chrX 70 Mb) were scanned by ~4
 * queries per memory load of the list at 256, ~16 at 1,024 (with the malloc settings of main.c: 0.91x the mapping
 * CPU at 100 bp; 0.97x without them, which the larger chunk's scratch pays in page faults) */
#define ES_MAP_CHUNK 1024

/* What every read is mapped against; read-only while mapping. */
typedef struct {
	const es_index_t *idx;
	const es_ref_t *ref;
	const es_encoder_t *enc;
	const es_map_opt_t *opt;
	const char *rg_id;        /* RG:Z on every record, or NULL */
} es_mapper_t;

/* Scratch of one mapping thread, reused across reads and batches. */
typedef struct es_map_buf_s es_map_buf_t;
es_map_buf_t *es_map_buf_init(const es_map_opt_t *opt);
void es_map_buf_destroy(es_map_buf_t *b);   /* NULL is a no-op */

/* Map reads[0,n) (n <= ES_MAP_CHUNK; fw[i], rc[i]: codes of read i and of its reverse complement): one vector-store
 * call, then each read on its own. recs[i] gets a malloc'ed array of n_recs[i] >= 1 records (primary or unmapped
 * first, then up to opt->n_secondary secondary ones), in the order they are to be written. The result of a read
 * depends only on that read. Returns 0, or -1 with es_error set (the records made so far are in recs/n_recs). */
int es_map_chunk(const es_mapper_t *m, es_map_buf_t *b, int n, const es_read_t *reads, uint8_t *const *fw,
                 uint8_t *const *rc, bam1_t ***recs, int *n_recs);

/* ---- for paired-end mapping (map_pe.c) ---- */
/* A verified placement of a read. */
typedef struct {
	int score, strand;     /* alignment score; strand 1 = read reverse-complemented */
	int locus;             /* the candidate locus (index into the read's loci) it was found through; -1: rescued */
	int second;            /* 1: through the locus's second placement (a copy inside the locus; map.c) */
	int mapq;              /* the read's best hit: its single-end MAPQ (mapq.c); -1 for the others and rescued hits */
	int64_t gpos;          /* global position of the first aligned reference base */
	es_aln_t aln;          /* owned */
} es_map_hit_t;
/* The verified hits of read r given its loci, best first (score, then position), none under min_score, into
 * (*out)[0, n) (grown as needed, *cap its capacity; the caller frees each aln); the best one's mapq is its
 * single-end MAPQ. Returns n (0: unmapped). */
int es_map_read_hits(const es_mapper_t *m, es_map_buf_t *s, const es_read_t *r, const uint8_t *fw, const uint8_t *rc,
                     const es_locus_t *loci, int n_loci, es_map_hit_t **out, int *cap);
void es_map_sort_hits(es_map_hit_t *h, int n);   /* best first, the order es_map_read_hits gives */
/* Which of the hits tied with hits[0] (sorted best first) a read named name reports: by a hash of the name, like
 * bwa, so that the reads of a repeat spread over its copies; deterministic for a given read. */
int es_map_tie_pick(const es_map_hit_t *hits, int n, const char *name);
/* For tests: n votes (diag[i], strand[i] 0/1) sorted by strand then diagonal by the locate step's sort (a counting
 * sort where the keys are dense) and by its comparison-sort twin; 1 when both give the same votes in the same key
 * order. */
int es_map_vote_sort_check(int n, const int *diag, const int *strand);
/* Add h to hits[0, *n) (grown as needed, *cap its capacity) unless the same placement is there (same strand, within
 * half a read of qlen bases): then the better of the two stays. h's alignment is owned by hits afterwards. */
void es_map_add_hit(es_map_hit_t **hits, int *n, int *cap, es_map_hit_t *h, int qlen);

/* Per-thread scratch of paired-end mapping. */
typedef struct es_pe_buf_s es_pe_buf_t;
es_pe_buf_t *es_pe_buf_init(void);
void es_pe_buf_destroy(es_pe_buf_t *b);   /* NULL is a no-op */
/* For the insert-size estimate: 1 and the pair's orientation and distance (pair.h) when both mates of a pair
 * are placed uniquely (single-end MAPQ >= 20) on one contig, else 0; hits[k][0, n_hits[k]): mate k's verified hits,
 * best first (es_map_read_hits). */
int es_map_pair_stat(const es_mapper_t *m, es_map_hit_t *const *hits, const int *n_hits, int *dir, int64_t *dist);
/* Map the pair reads[0,2) (mate 1, mate 2) with the insert model pe: rescue, pairing, MAPQ; recs[k] receives a
 * malloc'ed array of n_recs[k] records of mate k (primary first). The mates' hits are verified from their loci
 * (loci[k], n_loci[k] of them), or, when pre is not NULL and pre_n[k] >= 0, taken over from pre[k] (pre_n[k]
 * hits from es_map_read_hits; the arrays are freed and set to NULL). Returns 0, or -1 with es_error set. */
int es_map_pair(const es_mapper_t *m, es_map_buf_t *b, es_pe_buf_t *pb, const es_pe_model_t *pe,
                const es_read_t *reads, uint8_t *const *fw, uint8_t *const *rc, const es_locus_t *const *loci,
                const int *n_loci, es_map_hit_t **pre, const int *pre_n, bam1_t ***recs, int *n_recs);
/* Mate 2 of reads[0,2) placed by rescue alone, next to mate 1's best hit (h1[0, n1), best first), with no vector
 * search: 1 and its hits in a malloc'ed *out (*n_out of them) when mate 1 is unique (single-end MAPQ >= 20) and the
 * rescued mate 2 aligns almost whole (score >= 0.8 of a perfect one); else 0 (mate 2 needs its own search). */
int es_map_rescue_mate(const es_mapper_t *m, es_pe_buf_t *pb, const es_pe_model_t *pe, const es_read_t *reads,
                       uint8_t *const *fw, uint8_t *const *rc, const es_map_hit_t *h1, int n1, es_map_hit_t **out,
                       int *n_out);
/* Room for one read's candidate loci: ES_MAP_WIDEN * max_loci, for a read of a repeat family searched again
 * (es_index_candidates_wide); such a read is verified at up to ES_MAP_WIDEN * max_align loci. */
#define ES_MAP_WIDEN 4
int es_map_loci_stride(const es_map_opt_t *o);
/* The candidate loci of reads[0,n) (n <= ES_MAP_CHUNK) into loci[i * es_map_loci_stride ..], n_loci[i]: one
 * vector-store call. Returns 0, or -1 with es_error set. */
int es_map_candidates(const es_mapper_t *m, int n, const es_read_t *reads, uint8_t *const *fw, es_locus_t *loci,
                      int *n_loci);
/* The same for the codes seqs[0,n) (lens[i] bases; any n >= 1), flags added to the search's (the last look:
 * ES_SEARCH_LOOK, store.h, the look's re-rank in its wide pass, with a mapper holding the look's options). */
int es_map_candidates_of(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens, es_locus_t *loci,
                         int *n_loci, int flags);
/* The passes of es_map_candidates (es_index_candidates_first / _retry / _widen, store.h), for pipeline.c to search
 * the deep and wide passes of a whole batch's reads together: the first pass of seqs[0,n) (lens[i] bases) into
 * loci[i * es_map_loci_stride ..], n_loci[i], with sat[i] = ES_CAND_RETRY for a read of low score (its first loci
 * given: store.h), 1 for one to widen, and vec[i] its query vectors then (malloc'ed; vec may be NULL); the deeper
 * search of seqs[0,n) (loci, n_loci, sat 0 or 1), each chunk probing depth x the index's nprobe lists (0: the
 * default depth); the wide pass of seqs[0,n), their first loci in loci / n_loci; vec of the two: the first pass's
 * vectors (may be NULL). Any n >= 1. Return 0, or -1 with es_error set. */
int es_map_candidates_first(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens,
                            es_locus_t *loci, int *n_loci, uint8_t *sat, float **vec);
int es_map_candidates_retry(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens, int depth,
                            es_locus_t *loci, int *n_loci, uint8_t *sat, const float *const *vec);
int es_map_candidates_widen(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens,
                            es_locus_t *loci, int *n_loci, const float *const *vec);
/* The options of the last look of a read placed at MAPQ <= o->look_mapq or left unmapped (pipeline.c), on an index
 * of n_windows windows: o with es_map_look_widen(n_windows) times the loci and the alignments (-K 64 -A 64 by
 * default up to ES_DEEP_SCALE_WINDOWS windows, its wide pass up to 256 loci; -K 256 -A 256 from 4 x as many on, its
 * wide pass up to 1,024), for es_map_candidates_of and the verification after it. */
void es_map_look_opt(const es_map_opt_t *o, int64_t n_windows, es_map_opt_t *r);
/* The look's factor: ES_MAP_WIDEN, times one more for every ES_DEEP_SCALE_WINDOWS windows of the index (store.h), at
 * most ES_LOOK_SCALE_MAX times. A repeat family's copies grow with the genome and the look's 64 loci did not: on the
 * 1 Gb synthetic genome (48.9 M windows, docs/store.md) 16 x instead of 4 x placed 98.215 -> 98.305 / 98.98 -> 99.13 /
 * 99.375 -> 99.65% of 20,000 reads of 100 / 150 / 250 bp right (bwa 98.47 / 99.33 / 99.81), 8 x 98.25 / 99.075 at
 * 100 / 150 bp; its cost is in the SAM's few looked reads (1.3% of them at 150 bp), ~23 ms of CPU each at 16 x.
 * chrX 70 Mb (3.3 M windows) and E. coli keep 4 x. */
#define ES_LOOK_SCALE_MAX 4
int es_map_look_widen(int64_t n_windows);
/* es_map_chunk given the reads' candidate loci (loci[i], n_loci[i] of them; any n). */
int es_map_with_loci(const es_mapper_t *m, es_map_buf_t *b, int n, const es_read_t *reads, uint8_t *const *fw,
                     uint8_t *const *rc, const es_locus_t *const *loci, const int *n_loci, bam1_t ***recs,
                     int *n_recs);
#endif
