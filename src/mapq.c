/* mapq.c — the MAPQ model: a logistic regression of "the primary placement is wrong" on a dozen bounded inputs made
 * from what the mapper knows about a read (mapq.h), fitted on simulated reads of the training half of human chrX and
 * of E. coli at 0-15% divergence; MAPQ = -10 log10 P(wrong), 0 for a tie, at most 60. */
#include "mapq.h"
#include <math.h>

/* Fitted by
 *   scripts/fit-mapq.sh WORKDIR
 * (see there: esalign simulate on X:0-35,000,000 and E. coli, 100/150/250 bp, substitutions 0.2-15%, mapped with
 * the kmer and transformer indexes, logistic regression by scripts/fit_mapq.py). z = sum coef[i] * x[i] is the
 * log-odds of a wrong placement; x as es_mapq_inputs builds them. */
static const double coef[ES_MAPQ_NX] = {
	-1.0,   /* x0  1 */
	-2.3,   /* x1  score lead over the runner-up (or the 19-match floor), /10 match, at most 8 */
	0.0,    /* x2  a runner-up placement exists */
	0.0,    /* x3  divergence of the best hit (1 - identity), x10 */
	0.0,    /* x4  x1 * x3 */
	0.0,    /* x5  score deficit (qlen*match - score) / (qlen*match), x10 */
	0.0,    /* x6  similarity of the next locus / of the best hit's locus, at most 2 */
	0.0,    /* x7  similarity of the best hit's locus / of the top locus, at most 1 */
	0.0,    /* x8  k-mer votes of the next placement / of the best, at most 2 */
	0.0,    /* x9  a plausible locus was left unverified */
	0.0,    /* x10 log2(read length / 100) */
	0.0,    /* x11 other placements within match + mismatch of the best, at most 4 */
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
	x[0] = 1;
	x[1] = lead;
	x[2] = f->sub >= floor_sub;
	x[3] = div;
	x[4] = lead * div;
	x[5] = clampd((perfect - f->score) / perfect, 0, 1) * 10;
	x[6] = f->loc_best > 0 ? clampd(f->loc_next / f->loc_best, 0, 2) : 1;
	x[7] = f->loc_top > 0 ? clampd(f->loc_best / f->loc_top, 0, 1) : 1;
	x[8] = f->sup_best > 0 ? clampd((double)f->sup_next / f->sup_best, 0, 2) : 1;
	x[9] = f->n_pass > f->n_aligned;
	x[10] = log2(clampd(f->qlen, 25, 1600) / 100.0);
	x[11] = f->n_close < 4 ? f->n_close : 4;
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
	int mapq = (int)(q + 0.5);
	return mapq > ES_MAPQ_MAX ? ES_MAPQ_MAX : mapq < 0 ? 0 : mapq;
}
