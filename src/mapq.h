/* mapq.h — MAPQ as an estimate of -10 log10 P(the primary placement is wrong), from the evidence the mapper has for
 * one read: its best and runner-up alignment scores, its length and identity, and the retrieval evidence (the
 * embedding similarity of the best hit's locus against the next one, the k-mer support of the placements, whether
 * every plausible locus was verified). A logistic model fitted on simulated reads (scripts/fit-mapq.sh). */
#ifndef ES_MAPQ_H
#define ES_MAPQ_H

/* What map.c gathers for a mapped read. */
typedef struct {
	int match, mismatch;   /* the scoring (es_score_t): match bonus and mismatch penalty, both > 0 */
	int qlen;              /* read length */
	int score;             /* best alignment score */
	int sub;               /* best score of another placement (a distinct hit); 0 when there is none */
	int n_close;           /* other placements scoring within match + mismatch of the best */
	int alen;              /* aligned length of the best hit: the longer of its read and reference spans */
	float loc_best;        /* embedding similarity (es_locus_t.score) of the locus that gave the best hit */
	float loc_top;         /* ... of the first (most similar) locus the store returned */
	float loc_next;        /* ... of the most similar locus not containing the best hit; 0 when none */
	int n_loci;            /* loci the store returned */
	int n_pass;            /* loci that passed the k-mer support filter (plausible placements) */
	int n_aligned;         /* of those, verified by Smith-Waterman (at most max_align) */
	int sup_best;          /* k-mer votes of the best hit's placement */
	int sup_next;          /* most k-mer votes of a placement other than the best hit's; 0 when none */
	int sketch;            /* 1 when the loci came from the kmer sketch encoder (its similarities are k-mer overlaps,
	                        * not the learned encoder's: the same inputs mean other odds), else 0 */
} es_mapq_feat_t;

#define ES_MAPQ_NX 13     /* model inputs, x[0] = 1 */
#define ES_MAPQ_MAX 60
#define ES_MAPQ_SEED_K 12  /* the k-mer of the votes (SEED_K of map.c) */

/* The model inputs of f into x[ES_MAPQ_NX] (each bounded, see mapq.c); what --mapq-features writes and the fit
 * (scripts/fit_mapq.py) reads. */
void es_mapq_inputs(const es_mapq_feat_t *f, double x[ES_MAPQ_NX]);

/* P(placement wrong) of the shipped logistic model, in (0,1) (before the isotonic recalibration of es_mapq). */
double es_mapq_perror(const es_mapq_feat_t *f);

/* Whether f is strong evidence (mapq.c): divergence under 3%, a score under 20% below the perfect one, and a k-mer
 * vote lead of at least half the read's k-mers with no runner-up, or of 30% of them and a score 15 matches above the
 * runner-up's. Such reads have their own recalibration table. */
int es_mapq_strong(const es_mapq_feat_t *f);

/* The kind of evidence f is, each with its own recalibration table: strong (es_mapq_strong); diverged (the best
 * hit 3% or more from the reference, not strong), apart for a lenient scoring (a mismatch costing at most twice the
 * match, as -x divergent's): such a scoring lets a read align to more places, and the same inputs mean more doubt;
 * each of the two apart again when there is no runner-up placement (unique: a diverged read with no second place to
 * go is wrong far less often than one with a runner-up, more so than the logistic model says); the rest. With the
 * kmer sketch encoder (f->sketch) the loci's similarities are k-mer overlaps, and a read whose next locus is nearly as
 * similar as its own is wrong more often than the same inputs say with the learned encoder: such reads have three
 * tables of their own: sketch-strong (strong evidence and a next locus clearly less similar), sketch-diverged (3% or
 * more from the reference) and sketch (the rest). */
enum {
	ES_MAPQ_REST,
	ES_MAPQ_DIVERGED,
	ES_MAPQ_DIVERGED_UNIQUE,
	ES_MAPQ_DIVERGED_LENIENT,
	ES_MAPQ_DIVERGED_LENIENT_UNIQUE,
	ES_MAPQ_STRONG,
	ES_MAPQ_SKETCH,
	ES_MAPQ_SKETCH_DIVERGED,
	ES_MAPQ_SKETCH_STRONG,
	ES_MAPQ_N_EVIDENCE
};
int es_mapq_evidence(const es_mapq_feat_t *f);

/* MAPQ 0..60: 0 when another placement scores as well as the best; else round(-10 log10 es_mapq_perror(f)),
 * recalibrated (a monotone table fitted with the coefficients, one per kind of evidence, es_mapq_evidence). */
int es_mapq(const es_mapq_feat_t *f);
#endif
