/* mapq.c — the MAPQ model: a logistic regression of "the primary placement is wrong" on a dozen bounded inputs made
 * from what the mapper knows about a read (mapq.h), fitted on simulated reads of the training half of human chrX and
 * of E. coli at 0-15% divergence; MAPQ = -10 log10 P(wrong), 0 for a tie, at most 60. */
#include "mapq.h"
#include <math.h>

/* Fitted by
 *   IDX_DIR=DIR scripts/fit-mapq.sh WORKDIR
 * (indexes: DIR/{human,ecoli}-{kmer,transformer}.esi, the default indexes of human chrX 70 Mb and E. coli; refitted
 * 2026-12-01 for the shipped model of step 7,500 with int8 inference: the model before it gave 2 wrong reads of
 * 193,824 at MAPQ 60 on these reads, this one none of 162,846). Training reads, never the evaluation region chrX 35-70
 * Mb nor the bench's seeds: esalign simulate on X:0-35,000,000 (3,000 reads) and E. coli (1,500) per length
 * 100/150/250 bp and substitution rate 0.2/1/3/6/10/15% (indels at a tenth), and mason reads of a mason_variator
 * sample (seed 9; SNPs 1e-3, indels 1e-4) of the chrX half (30,000 per length) and E. coli (15,000 per length); each
 * mapped with both indexes; 383,381 primary placements, 4,677 ties left out, thinned 1 in 4 for the correct ones
 * (weight 4). z = sum coef[i] * x[i] is the log-odds of a wrong placement; x as es_mapq_inputs builds them. */
static const double coef[] = {
	-3.44575,  /* x0  1 */
	-0.876949, /* x1  score lead over a runner-up placement, /10 match, at most 3 (0 when there is none) */
	1.1858,    /* x2  a runner-up placement exists */
	0.371423,  /* x3  divergence of the best hit (1 - identity), x10 */
	-4.08814,  /* x4  ... above 3%, x10 (a hinge: the slope may change there) */
	0.829379,  /* x5  score deficit (qlen*match - score) / (qlen*match), x10 */
	-2.65143,  /* x6  similarity of the next locus / of the best hit's locus, at most 2 */
	-0.786042, /* x7  similarity of the best hit's locus / of the top locus, at most 1 */
	3.03325,   /* x8  k-mer votes of the next placement / of the best, at most 2 */
	0.738361,  /* x9  ... x6 above 0.8, x5 (a hinge) */
	-0.225568, /* x10 log2(read length / 100) */
	0.2739,    /* x11 other placements within match + mismatch of the best, at most 4 */
	-0.997701, /* x12 k-mer votes of the best placement less the next one's, /20, at most 10 */
};
_Static_assert(sizeof coef / sizeof coef[0] == ES_MAPQ_NX, "one coefficient per model input");

/* Isotonic recalibration of the logistic model's MAPQ (its index) on the same training reads: pool-adjacent-violators
 * blocks, each given the MAPQ of its observed error. The top block (logistic MAPQ 53-60: 163,664 reads, none wrong)
 * gets 60; the two below it (37-52: 162,883 reads, 7 wrong) 44. Printed by fit_mapq.py with the coefficients. */
static const unsigned char recal[ES_MAPQ_MAX + 1] = {
	0, 1, 2, 3, 4, 4, 6, 6, 8, 9, 11, 12, 12, 13, 15, 16,
	17, 17, 18, 18, 19, 20, 20, 24, 26, 26, 27, 28, 28, 28, 28, 30,
	30, 30, 30, 33, 33, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44,
	44, 44, 44, 44, 44, 60, 60, 60, 60, 60, 60, 60, 60,
};

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
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
	x[12] = clampd(f->sup_best - f->sup_next, 0, 200) / 20;
}

double es_mapq_perror(const es_mapq_feat_t *f)
{
	double x[ES_MAPQ_NX], z = 0;
	es_mapq_inputs(f, x);
	for (int i = 0; i < ES_MAPQ_NX; i++)
		z += coef[i] * x[i];
	z = clampd(z, -40, 40);
	return 1.0 / (1.0 + exp(-z));
}

int es_mapq(const es_mapq_feat_t *f)
{
	if (f->sub >= f->score)
		return 0;
	double q = -10.0 * log10(es_mapq_perror(f));
	int raw = (int)(q + 0.5);
	return recal[raw > ES_MAPQ_MAX ? ES_MAPQ_MAX : raw < 0 ? 0 : raw];
}
