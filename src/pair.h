/* pair.h — paired-end logic, after bwa mem (bwamem_pair.c): the insert-size model per orientation, the choice of the
 * pair of alignments that maximises the summed score plus the log-likelihood of its insert size, the windows where a
 * mate must lie (mate rescue), the pair's MAPQ, and SAM's TLEN. No I/O, no alignment: map.c and pipeline.c feed it
 * alignments. Coordinates are global (seqio.h), 0-based half-open [beg,end). */
#ifndef ES_PAIR_H
#define ES_PAIR_H
#include <stdint.h>

/* One alignment of a mate as pairing sees it. */
typedef struct {
	int64_t beg, end;  /* global [beg,end) of the aligned reference bases */
	int tid;           /* contig index */
	int strand;        /* 1: the read aligned reverse-complemented */
	int score;         /* alignment score */
} es_pe_aln_t;

/* Orientations, bwa's numbering: the second mate relative to the first (F forward, R reverse), in the first's frame. */
enum { ES_PE_FF = 0, ES_PE_FR = 1, ES_PE_RF = 2, ES_PE_RR = 3 };
extern const char *const es_pe_dir_name[4];   /* "FF", "FR", "RF", "RR" */

typedef struct {
	int failed;        /* 1: too few pairs in this orientation (or not given with -I): never a proper pair */
	int64_t n;         /* pairs the estimate used (0 when given with -I) */
	double mean, sd;   /* of the insert sizes inside the outlier bounds */
	int p25, p50, p75; /* percentiles of the insert sizes (0 when given with -I) */
	int low, high;     /* inserts in [low, high] are consistent with the model (a proper pair) */
} es_pe_orient_t;

typedef struct {
	es_pe_orient_t o[4];
	int from_user;     /* 1: set with -I (es_pe_model_parse), 0: estimated */
} es_pe_model_t;

#define ES_PE_MAX_INS 10000    /* pairs farther apart than this never enter the estimate */
#define ES_PE_MIN_DIR_CNT 10   /* an orientation needs at least this many pairs ... */
#define ES_PE_MIN_DIR_RATIO 0.05  /* ... and this fraction of the most frequent orientation's count */
#define ES_PE_UNPAIRED_PEN 17  /* bwa's -U: the summed score of two unpaired mates is reduced by this */

/* Orientation of mate b relative to mate a (both on one contig; ref_len: the reference's total length, used to
 * reflect reverse-strand positions as bwa does) and their distance (*dist >= 0: for FR, b's last base minus a's
 * first). */
int es_pe_dir(int64_t ref_len, const es_pe_aln_t *a, const es_pe_aln_t *b, int64_t *dist);

/* Estimate the model from n pairs (dir[i] an orientation, dist[i] its distance): per orientation with enough pairs,
 * quartiles, outliers beyond 2 inter-quartile ranges dropped for the mean and sd, bounds [low, high] of 3 IQRs and at
 * least 4 sd around the mean (bwa's mem_pestat). Orientations with too few pairs are failed; if every one fails the
 * model has no orientation and pairs are reported unpaired (es_pe_model_usable() is 0). dist and dir are not kept. */
void es_pe_model_estimate(es_pe_model_t *m, int n, const int *dir, const int64_t *dist);
/* -I MEAN[,SD[,MAX[,MIN]]]: the FR orientation only, sd default 10% of the mean, max default mean+4sd, min default
 * max(1, mean-4sd). 0, or -1 with es_error naming the option and the bad part. */
int es_pe_model_parse(es_pe_model_t *m, const char *arg);
int es_pe_model_usable(const es_pe_model_t *m);   /* 1 if some orientation is modelled */
/* The model as bwa prints it, one line per orientation ("FR: 9812 pairs, mean 400.1, sd 59.8, percentiles
 * (25/50/75) 360/400/440, proper [160, 640]" or "RF: 3 pairs, too few: not modelled"), into buf. */
void es_pe_model_format(const es_pe_model_t *m, char *buf, int size);

/* The best pair among a[0..na) x b[0..nb) consistent with the model: score a.score + b.score + the log-likelihood of
 * the insert (0.721 * match * log(2 erfc(|z|/sqrt 2)), bwa's mem_pair). Ties go to the lower (i, j). */
typedef struct {
	int i, j;          /* the chosen alignments of each mate (-1: no consistent pair) */
	int score;         /* the pair's score */
	int sub;           /* the second-best consistent pair's score (0 if none) */
	int n_sub;         /* other pairs scoring within match+mismatch of the best */
	int dir;           /* the pair's orientation */
} es_pe_choice_t;
int es_pe_best_pair(const es_pe_model_t *m, int64_t ref_len, int match, int mismatch, const es_pe_aln_t *a, int na,
                    const es_pe_aln_t *b, int nb, uint64_t tie, es_pe_choice_t *c);

/* 1 if a and b form a pair the model accepts (same contig, a modelled orientation, insert within [low, high]). */
int es_pe_is_proper(const es_pe_model_t *m, int64_t ref_len, const es_pe_aln_t *a, const es_pe_aln_t *b);

/* Where the mate of a (mate_len bases) must lie, per modelled orientation: win[k] = global [beg,end) clipped to
 * [cbeg, cend) (a's contig) and strand[k] the mate's strand there (bwa's mem_matesw windows). Returns the count
 * (0..4); empty windows are left out. */
int es_pe_rescue_windows(const es_pe_model_t *m, int64_t ref_len, const es_pe_aln_t *a, int mate_len, int64_t cbeg,
                         int64_t cend, int64_t win[4][2], int strand[4]);

/* MAPQ of a mate placed as part of the chosen pair (bwa's mem_sam_pe): the pair's MAPQ q_pe from its score against
 * max(sub, the unpaired score score_un), less 4.343 ln(n_sub+1); the mate keeps its own MAPQ q_se when higher, and is
 * raised towards q_pe by at most 40 otherwise. */
int es_pe_pair_mapq(int match, const es_pe_choice_t *c, int score_un);
int es_pe_mate_mapq(int q_se, int q_pe);

/* SAM TLEN of a record whose alignment is self and whose mate's is mate (both mapped on one contig): the number of
 * bases from the leftmost to the rightmost mapped base, + for the leftmost segment, - for the rightmost; when both
 * start at the same base, + for the first mate (self_is_first) and - for the second. */
int64_t es_pe_tlen(const es_pe_aln_t *self, const es_pe_aln_t *mate, int self_is_first);
#endif
