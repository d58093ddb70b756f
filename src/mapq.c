/* mapq.c — the MAPQ model: a logistic regression of "the primary placement is wrong" on a dozen bounded inputs made
 * from what the mapper knows about a read (mapq.h), fitted on simulated reads of the training half of human chrX and
 * of E. coli at 0-15% divergence; MAPQ = -10 log10 P(wrong), 0 for a tie, at most 60. */
#include "mapq.h"
#include <math.h>

/* Fitted by
 *   IDX_DIR=DIR scripts/fit-mapq.sh WORKDIR
 * (indexes: DIR/{human,ecoli}-{kmer,transformer}.esi, the default indexes of human chrX 70 Mb and E. coli, the shipped
 * encoder). Training reads, never the evaluation region chrX 35-70 Mb nor the bench's seeds: esalign simulate on
 * X:0-35,000,000 (3,000 reads) and E. coli (1,500) per length 100/150/250 bp and substitution rate 0.2/1/3/6/10/15%
 * (indels at a tenth), mapped with the transformer index only, and mason reads of a mason_variator sample (seed 9;
 * SNPs 1e-3, indels 1e-4) of the chrX half (30,000 per length) and E. coli (15,000 per length), mapped with both
 * indexes. 2026-12-01 (issue 13): 341,723 primary placements, 4,293 ties left out, the correct ones thinned 1 in 4
 * (weight 4). The kmer index's simulated reads are out since this fit: with them the MAPQ 1-9 / 10-19 / 20-29 bins
 * claimed 6x / 9x / 14x the error observed on the bench's diverged reads (transformer index). z = sum coef[i] * x[i]
 * is the log-odds of a wrong placement; x as es_mapq_inputs builds them. */
static const double coef[] = {
	-0.512496, /* x0  1 */
	-0.82056,  /* x1  score lead over a runner-up placement, /10 match, at most 3 (0 when there is none) */
	0.854223,  /* x2  a runner-up placement exists */
	0.683156,  /* x3  divergence of the best hit (1 - identity), x10 */
	-3.95373,  /* x4  ... above 3%, x10 (a hinge: the slope may change there) */
	0.565559,  /* x5  score deficit (qlen*match - score) / (qlen*match), x10 */
	-3.36492,  /* x6  similarity of the next locus / of the best hit's locus, at most 2 */
	-1.80271,  /* x7  similarity of the best hit's locus / of the top locus, at most 1 */
	2.60337,   /* x8  k-mer votes of the next placement / of the best, at most 2 */
	0.789609,  /* x9  ... x6 above 0.8, x5 (a hinge) */
	-0.733774, /* x10 log2(read length / 100) */
	0.383358,  /* x11 other placements within match + mismatch of the best, at most 4 */
	-1.45219,  /* x12 k-mer votes of the best placement less the next one's / the read's k-mers, 0..1, x10 */
};
_Static_assert(sizeof coef / sizeof coef[0] == ES_MAPQ_NX, "one coefficient per model input");

/* Isotonic recalibration of the logistic model's MAPQ (its index) on the same training reads, one table per kind of
 * evidence (es_mapq_evidence): pool-adjacent-violators blocks, a block of N reads with w wrong given
 * -10 log10(max(w, 1) / N), and 60 when that error is at most 1 in 50,000 (issue 13's bound for MAPQ 60).
 * The rest and strong tables are of the fit of 2026-12-01 (scripts/fit-mapq.sh with the training reads of the
 * coefficients): strong evidence (es_mapq_strong: 288,268 training reads, 1 wrong) at logistic MAPQ 32-60, 288,033
 * reads, 1 wrong -> 60; the rest 37-57, 20,962 reads, 6 wrong -> 35, at most 36. Refitted on the training set of the
 * diverged tables, the rest table rose by 3-13 at raw 15-24 and put 2-3 more wrong human reads of the bench at
 * MAPQ >= 20; it was kept.
 * The four diverged tables were fitted with these coefficients and the rest and strong tables kept
 * (FIT_ARGS="--coef src/mapq.c --keep rest,strong" scripts/fit-mapq.sh) on the same reads plus mason samples diverged
 * 5-20% (E. coli) and 5-15% (chrX 20-30 Mb), mapped at the default scoring and with -x divergent; refitted 2026-12-02
 * on those reads mapped again with the mapping of the bench of that day (commit d77dfe1; the mapping changes
 * 722b7a7-7df7b73 came after the first mapping): 481,367 primary placements, 5,840 ties left out. Diverged reads with
 * no runner-up placement (x2 = 0) have tables of their own since then: of the diverged training reads at logistic MAPQ
 * 5-24, those were wrong 0.08% (E. coli) / 0.6% (chrX) of the time, those with one 4.7% / 7.4%. With one table for
 * both, the training E. coli reads (default scoring) at MAPQ 10-19 had a third of the error claimed (chrX 1.2x; the
 * bench's diverged E. coli reads with no runner-up 1/25: 3 wrong of 1,843), now half (chrX 1.1x). Blocks (reads as the
 * fit counts them: the correct ones thinned 1 in 4 with weight 4), default scoring, with a runner-up: raw 27-58, 4,373
 * reads, 1 wrong -> 34; 18-21, 629 reads, 1 wrong -> 28; 14-17, 539 reads, 7 wrong -> 19; none: raw 33-60, 63,879
 * reads, 7 wrong -> 39; 25-32, 21,703 reads, 7 wrong -> 35; 11-19, 3,770 reads, 10 wrong -> 26. Lenient scoring, with a
 * runner-up: raw 35-60, 2,348 reads, none wrong -> 34; 25-29, 594 reads, 6 wrong -> 20; none: raw 41-60, 37,560 reads,
 * none wrong -> 46; 29-33, 6,195 reads, 15 wrong -> 26; 15-24, 612 reads, 8 wrong -> 19.
 * The three sketch tables (the kmer sketch encoder's reads, f->sketch) were fitted 2026-12-02 with these coefficients
 * and every other table kept (FIT_ARGS="--coef src/mapq.c --keep rest,diverged,diverged-unique,diverged-lenient,
 * diverged-lenient-unique,strong" scripts/fit-mapq.sh; only the kmer index's reads reach them): the simulated reads
 * and the mason reads of the training half of chrX and of E. coli on the kmer indexes, plus 120,000 more 100 bp mason
 * reads of the chrX half (seeds 204-205; with the first 30,000 alone the top sketch block, 6,749 reads with 1 wrong,
 * said 38, and the bench's kmer reads at MAPQ 30-39 were wrong 4.6x as often as claimed), 296,003 primary placements.
 * With the tables above, those reads at MAPQ 10-19 / 20-29 / 30-39 were wrong 3.7x / 31x / 50x as often as claimed
 * (the sketch's diverged reads, which the learned encoder's tables rate far higher), now 0.9x / 1.0x / 1.0x. Blocks:
 * sketch, raw 50-60, 14,619 reads, 3 wrong -> 37; 30-49, 2,770 reads, 2 wrong -> 31; sketch-strong, raw 32-60,
 * 255,752 reads, none wrong -> 60. */
static const unsigned char recal[ES_MAPQ_N_EVIDENCE][ES_MAPQ_MAX + 1] = {
	{ /* rest */
		0, 1, 1, 2, 4, 5, 7, 7, 7, 9, 9, 10, 13, 14, 14, 17,
		17, 17, 17, 17, 22, 22, 28, 28, 28, 28, 28, 30, 30, 30, 33, 33,
		33, 33, 33, 33, 33, 35, 35, 35, 35, 35, 35, 35, 35, 35, 35, 35,
		35, 35, 35, 35, 35, 35, 35, 35, 35, 35, 36, 36, 36,
	},
	{ /* diverged */
		0, 1, 2, 3, 7, 7, 7, 10, 10, 10, 11, 13, 13, 13, 19, 19,
		19, 19, 28, 28, 28, 28, 30, 30, 30, 30, 30, 34, 34, 34, 34, 34,
		34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,
		34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,
	},
	{ /* diverged-unique */
		10, 10, 10, 10, 10, 10, 13, 13, 13, 20, 20, 26, 26, 26, 26, 26,
		26, 26, 26, 26, 33, 33, 33, 33, 33, 35, 35, 35, 35, 35, 35, 35,
		35, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39,
		39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39,
	},
	{ /* diverged-lenient */
		0, 1, 1, 1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 9, 10,
		11, 11, 13, 13, 13, 13, 13, 13, 14, 20, 20, 20, 20, 20, 29, 29,
		29, 29, 29, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,
		34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,
	},
	{ /* diverged-lenient-unique */
		0, 0, 7, 7, 10, 10, 10, 10, 10, 10, 10, 12, 12, 12, 12, 19,
		19, 19, 19, 19, 19, 19, 19, 19, 19, 23, 25, 25, 25, 26, 26, 26,
		26, 26, 28, 28, 30, 30, 30, 38, 38, 46, 46, 46, 46, 46, 46, 46,
		46, 46, 46, 46, 46, 46, 46, 46, 46, 46, 46, 46, 46,
	},
	{ /* strong */
		0, 1, 1, 2, 4, 5, 7, 7, 7, 9, 9, 10, 13, 14, 14, 17,
		17, 17, 17, 17, 22, 22, 28, 28, 28, 28, 28, 30, 30, 30, 33, 33,
		60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
		60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
	},
	{ /* sketch */
		0, 0, 1, 5, 7, 7, 9, 9, 9, 11, 15, 15, 15, 15, 15, 18,
		18, 20, 20, 20, 20, 24, 24, 24, 24, 26, 26, 26, 26, 26, 31, 31,
		31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
		31, 31, 37, 37, 37, 37, 37, 37, 37, 37, 37, 37, 37,
	},
	{ /* sketch-diverged */
		0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
		2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 6, 6, 8, 8, 8,
		8, 9, 10, 10, 10, 10, 12, 12, 12, 18, 18, 21, 21, 21, 21, 22,
		22, 22, 22, 22, 24, 24, 26, 26, 26, 30, 30, 30, 33,
	},
	{ /* sketch-strong */
		0, 0, 1, 5, 7, 7, 9, 9, 9, 11, 15, 15, 15, 15, 15, 18,
		18, 20, 20, 20, 20, 24, 24, 24, 24, 26, 26, 26, 26, 26, 31, 31,
		60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
		60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
	},
};

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* The k-mer votes of the best placement less the next one's, over the read's ES_MAPQ_SEED_K-mers: 0..1 at any read
 * length (a unique perfect read has about 1; the votes of a tandem copy or look-alike bring it towards 0). */
static double vote_lead(const es_mapq_feat_t *f)
{
	int nk = f->qlen - ES_MAPQ_SEED_K + 1;
	return clampd((double)(f->sup_best - f->sup_next) / (nk > 1 ? nk : 1), 0, 1);
}

void es_mapq_inputs(const es_mapq_feat_t *f, double x[ES_MAPQ_NX])
{
	int floor_sub = 19 * f->match;
	int sub = f->sub > floor_sub ? f->sub : floor_sub;
	double lead = clampd((double)(f->score - sub) / f->match, 0, 80) / 10;
	int l = f->alen > 0 ? f->alen : 1;
	/* identity as bwa mem's MAPQ has it: each mismatch costs match + mismatch below the perfect score */
	double ident = 1.0 - (double)(l * f->match - f->score) / (f->match + f->mismatch) / l;
	double div = clampd(1.0 - ident, 0, 0.5) * 10;
	double perfect = (double)f->qlen * f->match;
	int has_sub = f->sub >= floor_sub;
	double next = f->loc_best > 0 ? clampd(f->loc_next / f->loc_best, 0, 2) : 1;
	x[0] = 1;
	x[1] = has_sub ? clampd(lead, 0, 3) : 0;
	x[2] = has_sub;
	x[3] = div;
	x[4] = div > 0.3 ? div - 0.3 : 0;
	x[5] = clampd((perfect - f->score) / perfect, 0, 1) * 10;
	x[6] = next;
	x[7] = f->loc_top > 0 ? clampd(f->loc_best / f->loc_top, 0, 1) : 1;
	x[8] = f->sup_best > 0 ? clampd((double)f->sup_next / f->sup_best, 0, 2) : 1;
	x[9] = next > 0.8 ? (next - 0.8) * 5 : 0;
	x[10] = log2(clampd(f->qlen, 25, 1600) / 100.0);
	x[11] = f->n_close < 4 ? f->n_close : 4;
	x[12] = vote_lead(f) * 10;
}

/* The model's P(wrong) and kind of evidence from the inputs x of es_mapq_inputs (es_mapq builds them once). */
static double perror_of(const double *x)
{
	double z = 0;
	for (int i = 0; i < ES_MAPQ_NX; i++)
		z += coef[i] * x[i];
	z = clampd(z, -40, 40);
	return 1.0 / (1.0 + exp(-z));
}

double es_mapq_perror(const es_mapq_feat_t *f)
{
	double x[ES_MAPQ_NX];
	es_mapq_inputs(f, x);
	return perror_of(x);
}

/* The thresholds, from the training reads (the fit's): with no runner-up, divergence under 3% and a vote lead of at
 * least half the read's k-mers, 268,036 reads with 1 wrong (3.7e-6; a lead of 30-50%: 2.5e-3, under 30%: 0.16;
 * divergence 3-6% with a lead of half: 3.8e-4); with a runner-up 15 matches behind or more, divergence under 3% and
 * a lead of 30%: 20,291 reads, none wrong (a lead of 20-30%: 9.6e-4, under 20%: 1.4e-2). And a score deficit under
 * 20% of the perfect score: of those reads only 59 had more (clipped or diverged reads), too few to support 60; a
 * held-out 100 bp read aligned with a deficit of 32% on a look-alike was at 60 with the kmer index. */
static int strong_of(const double *x)
{
	if (x[3] >= 0.3 || x[5] >= 2)
		return 0;
	return x[2] ? x[12] >= 3 && x[1] >= 1.5 : x[12] >= 5;
}

int es_mapq_strong(const es_mapq_feat_t *f)
{
	double x[ES_MAPQ_NX];
	es_mapq_inputs(f, x);
	return strong_of(x);
}

/* A kmer sketch read's next locus at 90% of its own similarity or more (x6): of the strong training reads of the
 * sketch, 5,348 had such a next locus and 1 was wrong, the 154,235 others none. */
#define SKETCH_NEXT 0.9

static int evidence_of(const es_mapq_feat_t *f, const double *x)
{
	if (f->sketch)
		return strong_of(x) && x[6] < SKETCH_NEXT ? ES_MAPQ_SKETCH_STRONG
		       : x[3] >= 0.3                      ? ES_MAPQ_SKETCH_DIVERGED
		                                          : ES_MAPQ_SKETCH;
	if (strong_of(x))
		return ES_MAPQ_STRONG;
	if (x[3] < 0.3)
		return ES_MAPQ_REST;
	int unique = !x[2];   /* no runner-up placement */
	if (f->mismatch <= 2 * f->match)
		return unique ? ES_MAPQ_DIVERGED_LENIENT_UNIQUE : ES_MAPQ_DIVERGED_LENIENT;
	return unique ? ES_MAPQ_DIVERGED_UNIQUE : ES_MAPQ_DIVERGED;
}

int es_mapq_evidence(const es_mapq_feat_t *f)
{
	double x[ES_MAPQ_NX];
	es_mapq_inputs(f, x);
	return evidence_of(f, x);
}

int es_mapq(const es_mapq_feat_t *f)
{
	if (f->sub >= f->score)
		return 0;
	double x[ES_MAPQ_NX];
	es_mapq_inputs(f, x);   /* once: the model and the kind of evidence read the same inputs */
	double q = -10.0 * log10(perror_of(x));
	int raw = (int)(q + 0.5);
	raw = raw > ES_MAPQ_MAX ? ES_MAPQ_MAX : raw < 0 ? 0 : raw;
	return recal[evidence_of(f, x)][raw];
}
