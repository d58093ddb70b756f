/* eval.h — score alignments (SAM/BAM) against the true origins of single-end reads: the truth comes from the read
 * names written by 'esalign simulate' (s<ID>!<CONTIG>!<POS>!<STRAND>) or from a truth SAM/BAM (mason_simulator -oa,
 * art_illumina -sam). Positions are 0-based. Only primary records count (0x100 and 0x800 are ignored). */
#ifndef ES_EVAL_H
#define ES_EVAL_H
#include <stdint.h>
#include <stdio.h>

#define ES_EVAL_N_MAPQ 6
/* The largest read ID scored from names (s<ID>!...): IDs met are kept as one bit each up to the largest, so at most
 * 512 MiB; a larger ID is an error. */
#define ES_EVAL_MAX_READ_ID (((int64_t)1 << 32) - 1)
/* The MAPQ thresholds of the table: 0 1 10 20 30 60. */
extern const int es_eval_mapq_thr[ES_EVAL_N_MAPQ];

typedef struct {
	int max_dist;        /* a read is correct when on the true contig with SAM POS, or its unclipped start (POS less
	                        a leading S/H clip), within max_dist bp of the true position; default 20 */
	const char *region;  /* NULL, or score only reads whose true POS lies in CONTIG or CONTIG:BEG-END (0-based
	                        half-open, see es_sim_region_parse); not owned */
} es_eval_opt_t;
void es_eval_opt_init(es_eval_opt_t *opt);

typedef struct {
	/* counts over the scored reads (those with a truth, inside the region if one is set) */
	int64_t n_reads;     /* scored reads = n_correct + n_wrong + n_unmapped */
	int64_t n_mapped, n_correct, n_wrong, n_unmapped;  /* unmapped includes reads absent from the SAM */
	int64_t n_absent;    /* of n_unmapped: reads of the truth with no primary record in the SAM */
	int64_t mapq_mapped[ES_EVAL_N_MAPQ];  /* mapped reads with MAPQ >= es_eval_mapq_thr[i] */
	int64_t mapq_wrong[ES_EVAL_N_MAPQ];   /* of those, not correct */
	/* records and reads not scored, for the report */
	int64_t n_secondary, n_supplementary;  /* records ignored (0x100, 0x800) */
	int64_t n_outside;   /* reads whose true origin is outside the region */
	int64_t n_no_truth;  /* truth-file reads that are unmapped in the truth itself (no origin): ignored */
	/* percentages filled by es_eval_finish: of n_reads, except mapq_err_pct (of mapq_mapped[i]); 0 when empty */
	double mapped_pct, correct_pct, wrong_pct, unmapped_pct;
	double mapq_mapped_pct[ES_EVAL_N_MAPQ], mapq_err_pct[ES_EVAL_N_MAPQ];
} es_eval_t;

/* Streaming use (e.g. from a program that aligns in memory): zero ev, add each scored read, then finish. */
void es_eval_init(es_eval_t *ev);
/* Add one scored read: mapped 0/1, correct 0/1 (ignored when unmapped), its MAPQ. */
void es_eval_add(es_eval_t *ev, int mapped, int correct, int mapq);
/* Compute the percentages from the counts. */
void es_eval_finish(es_eval_t *ev);

/* Score the SAM/BAM/CRAM sam_path ("-" for stdin). truth_path NULL: truth from read names; read IDs missing from the
 * SAM between 0 and the largest ID seen count as absent and unmapped (only without a region: their origin is
 * unknown). truth_path set: truth from its primary records (QNAME with any /1 or /2 removed, RNAME, POS); reads of
 * the truth absent from sam_path count as unmapped. Fills *out (finished). Returns 0, or -1 with es_error set naming
 * the file: unreadable or malformed file, a record whose contig index is not one of the header's (a malformed @SQ
 * line), a read without truth (not in the truth file, or a name that is not a simulated one), a read ID above
 * ES_EVAL_MAX_READ_ID, two primary records for one read, a bad region. */
int es_eval_sam(const char *sam_path, const char *truth_path, const es_eval_opt_t *opt, es_eval_t *out);

/* Print a finished ev: a human-readable report, or (tsv) exactly two lines: the header
 * "reads mapped_pct correct_pct wrong_pct unmapped_pct mapq0_mapped_pct mapq0_err_pct ... mapq60_err_pct"
 * (tab-separated) and the values. */
void es_eval_print(FILE *fp, const es_eval_t *ev, int tsv);
#endif
