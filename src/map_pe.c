/* map_pe.c — paired-end mapping: each mate's verified hits (map.c), mate rescue by Smith-Waterman in the window
 * the insert-size model gives (no vector search), the pair maximising summed score plus insert log-likelihood
 * (pair.c), and both mates' records with their pair fields (FLAG, RNEXT, PNEXT, TLEN, MC, MQ, ms). */
#include "pipeline.h"
#include "pair.h"
#include "sam.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

#define RESCUE_TOP 4          /* a mate's best hits (within ES_PE_UNPAIRED_PEN of its best) whose partner is rescued */
#define UNIQUE_MAPQ 20        /* both mates at least this (single-end) for a pair to enter the insert estimate; mate 1
                               * at least this for mate 2 to be placed by rescue alone ... */
#define SKIP_SCORE 0.8        /* ... when the rescued mate 2 scores at least this fraction of a perfect alignment */
#define LONE_RAISE_MIN 20     /* a mate with one hit is raised by its pair only from at least this MAPQ of its own */

typedef struct {              /* one mate while its pair is decided */
	const es_read_t *r;
	const uint8_t *fw, *rc;
	es_map_hit_t *h;          /* verified (and rescued) hits, best first */
	int n, cap;
	es_pe_aln_t *pa;          /* the same hits as pair.c sees them */
	int pa_cap;
	int chosen, mapq;         /* the reported hit (-1: unmapped) and its MAPQ */
} mate_t;

struct es_pe_buf_s {
	mate_t mt[2];
	uint8_t *region;
	int64_t m_region;
	es_align_buf_t abuf;      /* Smith-Waterman scratch of the rescue */
};

es_pe_buf_t *es_pe_buf_init(void)
{
	return es_calloc(1, sizeof(es_pe_buf_t));
}

void es_pe_buf_destroy(es_pe_buf_t *b)
{
	if (!b)
		return;
	for (int k = 0; k < 2; k++) {
		free(b->mt[k].h);
		free(b->mt[k].pa);
	}
	free(b->region);
	es_align_buf_free(&b->abuf);
	free(b);
}

static void free_mate_hits(mate_t *x)
{
	for (int j = 0; j < x->n; j++)
		es_aln_free(&x->h[j].aln);
	x->n = 0;
}

static es_pe_aln_t to_pe(const es_ref_t *ref, const es_map_hit_t *h)
{
	es_pe_aln_t a = { h->gpos, h->gpos + (h->aln.tend - h->aln.tbeg), es_ref_contig_at(ref, h->gpos), h->strand,
	                  h->score };
	return a;
}

/* Both mates' verified hits: taken over from pre[k] (pre_n[k] of them, computed earlier; the arrays are freed and
 * set to NULL) when pre is not NULL, else verified now from their loci. */
static void mate_hits(const es_mapper_t *m, es_map_buf_t *b, es_pe_buf_t *pb, const es_read_t *reads,
                      uint8_t *const *fw, uint8_t *const *rc, const es_locus_t *const *loci, const int *n_loci,
                      es_map_hit_t **pre, const int *pre_n)
{
	for (int k = 0; k < 2; k++) {
		mate_t *x = &pb->mt[k];
		x->r = &reads[k];
		x->fw = fw[k];
		x->rc = rc[k];
		x->chosen = -1;
		x->mapq = 0;
		if (!pre || pre_n[k] < 0) {
			x->n = es_map_read_hits(m, b, x->r, x->fw, x->rc, loci[k], n_loci[k], &x->h, &x->cap);
			continue;
		}
		if (pre_n[k] > x->cap) {
			x->cap = pre_n[k];
			x->h = es_realloc(x->h, (size_t)x->cap * sizeof *x->h);
		}
		if (pre_n[k] > 0)
			memcpy(x->h, pre[k], (size_t)pre_n[k] * sizeof *x->h);   /* the alignments move */
		x->n = pre_n[k];
		free(pre[k]);
		pre[k] = NULL;
	}
}

/* The single-end MAPQ of hit i of x: 0 when another hit scores as well; the read's own (mapq.c, from its retrieval
 * evidence) for its best hit; -1 when unknown (a hit found by rescue, which has no such evidence). */
static int se_mapq(const mate_t *x, int i)
{
	for (int j = 0; j < x->n; j++)
		if (j != i && x->h[j].score >= x->h[i].score)
			return 0;
	return x->h[i].mapq;
}

int es_map_pair_stat(const es_mapper_t *m, es_map_hit_t *const *hits, const int *n_hits, int *dir, int64_t *dist)
{
	for (int k = 0; k < 2; k++)
		if (n_hits[k] == 0 || hits[k][0].mapq < UNIQUE_MAPQ)
			return 0;
	es_pe_aln_t a = to_pe(m->ref, &hits[0][0]), c = to_pe(m->ref, &hits[1][0]);
	if (a.tid != c.tid)
		return 0;
	*dir = es_pe_dir(m->ref->len, &a, &c, dist);
	return 1;
}

/* Align y in the reference window [beg,end) on strand st; a hit scoring at least min_score is added to y's hits
 * (merged with one at the same place). Returns 1 and the hit's reference span [*hb,*he) when there was one. */
static int align_window(const es_mapper_t *m, es_pe_buf_t *pb, mate_t *y, int64_t beg, int64_t end, int st,
                        int64_t *hb, int64_t *he)
{
	if (end - beg < y->r->len)
		return 0;
	if (end - beg > pb->m_region) {
		pb->m_region = end - beg;
		pb->region = es_realloc(pb->region, pb->m_region);
	}
	es_ref_get(m->ref, beg, end, pb->region);
	es_map_hit_t h;
	memset(&h, 0, sizeof h);
	h.strand = st;
	if (es_align_into(st ? y->rc : y->fw, y->r->len, pb->region, (int)(end - beg), &m->opt->sc, &h.aln, &pb->abuf) < 0)
		return 0;
	h.score = h.aln.score;
	h.gpos = beg + h.aln.tbeg;
	h.locus = -1;
	h.mapq = -1;
	if (h.score < m->opt->min_score || h.aln.tend <= h.aln.tbeg) {
		es_aln_free(&h.aln);
		return 0;
	}
	*hb = h.gpos;
	*he = beg + h.aln.tend;
	es_map_add_hit(&y->h, &y->n, &y->cap, &h, y->r->len);
	return 1;
}

/* Rescue y in one window. Smith-Waterman reports one alignment, the leftmost of equal ones; a window can hold two
 * copies (a tandem or a segmental repeat shorter than the insert range), so the window is searched again on each
 * side of the first hit (overlapping it but for one base, as tandem copies overlap): every copy becomes a hit, the
 * insert likelihood then chooses among them and the MAPQ sees the alternative. */
static void rescue_in(const es_mapper_t *m, es_pe_buf_t *pb, mate_t *y, int64_t beg, int64_t end, int st)
{
	int64_t hb, he, b2, e2;
	if (!align_window(m, pb, y, beg, end, st, &hb, &he))
		return;
	align_window(m, pb, y, beg, he - 1, st, &b2, &e2);
	align_window(m, pb, y, hb + 1, end, st, &b2, &e2);
}

/* Mate rescue: for each of x's best hits with no consistent partner among y's hits, y is aligned where the model
 * says it must be (bwa's mem_matesw). */
static void rescue(const es_mapper_t *m, es_pe_buf_t *pb, const es_pe_model_t *pe, mate_t *x, mate_t *y)
{
	const es_ref_t *ref = m->ref;
	int n0 = x->n;
	for (int i = 0; i < n0 && i < RESCUE_TOP; i++) {
		if (x->h[i].score < x->h[0].score - ES_PE_UNPAIRED_PEN)
			break;
		es_pe_aln_t a = to_pe(ref, &x->h[i]);
		int consistent = 0;
		for (int j = 0; j < y->n && !consistent; j++) {
			es_pe_aln_t c = to_pe(ref, &y->h[j]);
			consistent = es_pe_is_proper(pe, ref->len, &a, &c);
		}
		if (consistent)
			continue;
		int64_t win[4][2];
		int st[4];
		const es_contig_t *ctg = &ref->contig[a.tid];
		int nw = es_pe_rescue_windows(pe, ref->len, &a, y->r->len, ctg->off, ctg->off + ctg->len, win, st);
		for (int w = 0; w < nw; w++)
			rescue_in(m, pb, y, win[w][0], win[w][1], st[w]);
	}
}

int es_map_rescue_mate(const es_mapper_t *m, es_pe_buf_t *pb, const es_pe_model_t *pe, const es_read_t *reads,
                       uint8_t *const *fw, uint8_t *const *rc, const es_map_hit_t *h1, int n1, es_map_hit_t **out,
                       int *n_out)
{
	if (!es_pe_model_usable(pe) || n1 == 0)
		return 0;
	if (h1[0].mapq < UNIQUE_MAPQ)
		return 0;
	mate_t x = { .r = &reads[0], .fw = fw[0], .rc = rc[0], .h = (es_map_hit_t *)h1, .n = 1 };   /* read only */
	mate_t *y = &pb->mt[1];
	y->r = &reads[1];
	y->fw = fw[1];
	y->rc = rc[1];
	y->n = 0;
	rescue(m, pb, pe, &x, y);
	es_map_sort_hits(y->h, y->n);
	if (y->n == 0 || y->h[0].score < SKIP_SCORE * y->r->len * m->opt->sc.match) {
		free_mate_hits(y);
		return 0;
	}
	*out = es_malloc((size_t)y->n * sizeof **out);
	memcpy(*out, y->h, (size_t)y->n * sizeof **out);   /* the alignments move */
	*n_out = y->n;
	y->n = 0;
	return 1;
}

/* The hits of x as pair.c sees them, in x->pa. */
static void fill_pe(const es_ref_t *ref, mate_t *x)
{
	if (x->n > x->pa_cap) {
		x->pa_cap = x->n;
		x->pa = es_realloc(x->pa, (size_t)x->n * sizeof *x->pa);
	}
	for (int j = 0; j < x->n; j++)
		x->pa[j] = to_pe(ref, &x->h[j]);
}

/* A paired mate's MAPQ from its own q_se (-1: unknown), its partner's and the pair's. Pairing can only resolve the
 * alternatives it saw: a mate with other hits is raised towards the pair's MAPQ (bwa's rule); a mate whose one hit
 * has a MAPQ under LONE_RAISE_MIN of its own (an unverified copy inside its locus, weak retrieval) keeps it, since
 * no alternative pair was ever scored (on 10,000 chrX 2x150 pairs raising those put 5 wrong reads at MAPQ >= 20);
 * a mate placed by rescue alone has no evidence of its own and is as sure as its partner. */
static int mate_mapq(const mate_t *x, int q_se, int q_partner, int q_pe)
{
	if (q_se < 0)
		return es_pe_mate_mapq(q_partner > 0 ? q_partner : 0, q_pe);
	if (x->n == 1 && q_se < LONE_RAISE_MIN)
		return q_se;
	return es_pe_mate_mapq(q_se, q_pe);
}

/* Choose each mate's reported hit and MAPQ: the best consistent pair if it beats the two mates placed apart
 * (bwa's mem_sam_pe), else each mate on its own. Returns 1 if they were placed as a pair. */
static int choose(const es_mapper_t *m, const es_pe_model_t *pe, mate_t *mt)
{
	const es_score_t *sc = &m->opt->sc;
	int paired = 0;
	if (mt[0].n > 0 && mt[1].n > 0 && es_pe_model_usable(pe)) {
		es_pe_choice_t c;
		uint64_t tie = es_checksum(mt[0].r->name, strlen(mt[0].r->name), 0);
		int score_un = mt[0].h[0].score + mt[1].h[0].score - ES_PE_UNPAIRED_PEN;
		if (es_pe_best_pair(pe, m->ref->len, sc->match, sc->mismatch, mt[0].pa, mt[0].n, mt[1].pa, mt[1].n, tie, &c)
		    && c.score > score_un) {
			int q_pe = es_pe_pair_mapq(sc->match, &c, score_un);
			mt[0].chosen = c.i;
			mt[1].chosen = c.j;
			int q[2] = { se_mapq(&mt[0], c.i), se_mapq(&mt[1], c.j) };
			for (int k = 0; k < 2; k++)
				mt[k].mapq = mate_mapq(&mt[k], q[k], q[1 - k], q_pe);
			paired = 1;
		}
	}
	for (int k = 0; k < 2 && !paired; k++) {
		if (mt[k].n == 0)
			continue;
		mt[k].chosen = es_map_tie_pick(mt[k].h, mt[k].n, mt[k].r->name);
		int q = se_mapq(&mt[k], mt[k].chosen);
		mt[k].mapq = q > 0 ? q : 0;
	}
	return paired;
}

/* The runner-up score of x's chosen hit for XS:i, or -1 when it has no other hit. */
static int runner_up(const mate_t *x)
{
	int sub = -1;
	for (int j = 0; j < x->n; j++)
		if (j != x->chosen && x->h[j].score > sub)
			sub = x->h[j].score;
	return sub;
}

/* The record of mate k placed at its hit j (-1: unmapped), with its pair fields (flag adds 0x100 for a secondary). */
static bam1_t *pair_record(const es_mapper_t *m, const mate_t *mt, int k, int j, int flag, int proper, int mapq,
                           int xs)
{
	const mate_t *x = &mt[k], *o = &mt[1 - k];
	const es_ref_t *ref = m->ref;
	const es_map_hit_t *h = j >= 0 ? &x->h[j] : NULL;
	const es_map_hit_t *oh = o->chosen >= 0 ? &o->h[o->chosen] : NULL;
	es_sam_rec_t rec = { .flag = flag | 1 | (k ? 0x80 : 0x40) | (proper ? 2 : 0), .tid = -1, .pos = -1,
	                     .mapq = h ? mapq : 0, .xs = h ? xs : -1, ES_SAM_NO_MATE };
	rec.mate_ms = es_sam_qual_score(o->r);
	if (h) {
		rec.tid = es_ref_contig_at(ref, h->gpos);
		rec.pos = h->gpos - ref->contig[rec.tid].off;
		rec.flag |= h->strand ? 16 : 0;
		rec.aln = &h->aln;
	} else {
		rec.flag |= 4;
	}
	if (oh) {
		rec.mtid = es_ref_contig_at(ref, oh->gpos);
		rec.mpos = oh->gpos - ref->contig[rec.mtid].off;
		rec.flag |= oh->strand ? 32 : 0;
		rec.mate_aln = &oh->aln;
		rec.mate_mapq = o->mapq;
		if (!h) {   /* an unmapped read is placed at its mate (SAM convention) */
			rec.tid = rec.mtid;
			rec.pos = rec.mpos;
		}
	} else {
		rec.flag |= 8;
		rec.mtid = rec.tid;   /* -1 too when neither mate is placed */
		rec.mpos = rec.pos;
	}
	if (h && oh && rec.tid == rec.mtid && !(flag & 0x100)) {
		es_pe_aln_t a = to_pe(ref, h), b = to_pe(ref, oh);
		rec.tlen = es_pe_tlen(&a, &b, k == 0);
	}
	return es_sam_record(x->r, h && h->strand ? x->rc : x->fw, &rec, m->rg_id);
}

/* Mate k's records: its primary, then up to n_secondary secondary hits. Returns their number or -1. */
static int mate_records(const es_mapper_t *m, mate_t *mt, int k, int proper, bam1_t **recs)
{
	mate_t *x = &mt[k];
	const es_map_opt_t *o = m->opt;
	int n_rec = 0;
	recs[n_rec] = pair_record(m, mt, k, x->chosen, 0, proper, x->mapq, runner_up(x));
	if (!recs[n_rec++])
		return -1;
	for (int j = 0; j < x->n && n_rec <= o->n_secondary; j++) {
		if (j == x->chosen || x->h[j].score < o->min_score)
			continue;
		recs[n_rec] = pair_record(m, mt, k, j, 0x100, 0, 0, -1);
		if (!recs[n_rec++])
			return -1;
	}
	return n_rec;
}

int es_map_pair(const es_mapper_t *m, es_map_buf_t *b, es_pe_buf_t *pb, const es_pe_model_t *pe,
                const es_read_t *reads, uint8_t *const *fw, uint8_t *const *rc, const es_locus_t *const *loci,
                const int *n_loci, es_map_hit_t **pre, const int *pre_n, bam1_t ***recs, int *n_recs)
{
	mate_t *mt = pb->mt;
	mate_hits(m, b, pb, reads, fw, rc, loci, n_loci, pre, pre_n);
	if (es_pe_model_usable(pe)) {
		rescue(m, pb, pe, &mt[0], &mt[1]);
		rescue(m, pb, pe, &mt[1], &mt[0]);
	}
	int ret = 0;
	for (int k = 0; k < 2; k++) {
		es_map_sort_hits(mt[k].h, mt[k].n);
		fill_pe(m->ref, &mt[k]);
	}
	choose(m, pe, mt);
	int proper = mt[0].chosen >= 0 && mt[1].chosen >= 0 &&
	             es_pe_is_proper(pe, m->ref->len, &mt[0].pa[mt[0].chosen], &mt[1].pa[mt[1].chosen]);
	for (int k = 0; k < 2 && ret == 0; k++) {
		recs[k] = es_calloc(1 + m->opt->n_secondary, sizeof(bam1_t *));
		n_recs[k] = mate_records(m, mt, k, proper, recs[k]);
		if (n_recs[k] < 0) {
			n_recs[k] = 1 + m->opt->n_secondary;   /* the slots: NULL ones are skipped when freed */
			ret = -1;
		}
	}
	free_mate_hits(&mt[0]);
	free_mate_hits(&mt[1]);
	return ret;
}
