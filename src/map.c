/* map.c — per-read mapping: the vector store's candidate loci of a read are located by shared k-mers (strand and
 * diagonal), verified by Smith-Waterman, duplicate placements merged, ties picked by the read name, MAPQ from the
 * fitted model of mapq.c (mapq_features gathers its evidence); the hits become SAM records (sam.c). The pipeline
 * around it (batches, threads, output) is pipeline.c. */
#include "pipeline.h"
#include "sam.h"
#include "util.h"
#include "mapq.h"
#include "lowc.h"
#include <stdlib.h>
#include <htslib/ksort.h>
#include <string.h>
#include <math.h>

#define SEED_K 12           /* k-mer used to find strand and diagonal inside a retrieved locus */
#define DIAG_BAND 32        /* diagonals within this many bp are one placement (indels shift the diagonal) */
#define BAND_PAD 40         /* the verified reference is the placement's diagonals padded by this many bp */

void es_map_opt_init(es_map_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n_threads = 1;
	o->max_loci = 16;
	/* -A: every retrieved locus that passes the k-mer support filter: on 5,000 mason reads per length (chrX 70 Mb)
	 * 8 -> 16 gained 0.12-0.18 points with the transformer index, 0-0.10 with kmer, and halved the 100 bp error at
	 * MAPQ>=20 (0.23 -> 0.10%), at no measurable CPU cost */
	o->max_align = 16;
	o->n_secondary = 0;
	o->min_len = 30;
	o->min_score = 30;
	o->batch_size = 20000;
	o->locus_ratio = 0.5;
	o->look_mapq = 3;
	o->sc = es_score_default();
}

typedef es_map_hit_t hit_t;   /* pipeline.h */

typedef struct {           /* 8 bytes: the votes of a locus are sorted */
	int32_t diag;
	uint16_t qi;           /* the read position of the voting k-mer, modulo 65,536 (longer reads: a position and
	                        * one 65,536 bases on count once) */
	int8_t strand;
} vote_t;

typedef struct {           /* a group of votes: one placement of the read inside a locus */
	int support;           /* the read positions voting in it; 0: none (not examined, or no shared k-mer) */
	int strand, dlo, dhi;  /* its strand and diagonal range */
} group_t;

typedef struct {           /* where the read sits inside one candidate locus */
	group_t g[2];          /* the best-supported group, and the best one at least half a read off it or on the other
	                        * strand: a second copy inside the locus (a tandem or inverted repeat) */
	int ci;                /* contig of the locus */
	int64_t rb, re;        /* global [beg,end) of the examined region (the locus padded by the read length) */
} place_t;

/* Bits of the read's k-mer filter. 4,096 bits hold a 250 bp read's ~240 k-mers with ~6% of absent k-mers passing;
 * the table's probe loop on every region k-mer (its branch on an occupied slot mispredicts) was most of the locate
 * step's time. */
#define ES_SEED_FILTER_BITS 12
#define ES_SEED_FILTER (1 << ES_SEED_FILTER_BITS)

struct es_map_buf_s {      /* per-thread scratch, reused across reads */
	uint8_t *region;
	int64_t m_region;
	uint32_t *tkey;        /* the read's k-mer table: key + 1 (0: empty slot) */
	int32_t *tpos;         /* ... and the read position of that k-mer */
	int m_table, tsize, tbits;
	uint64_t filter[ES_SEED_FILTER / 64];   /* a bit per hash of the read's k-mers: most region k-mers are not in the
	                                         * read, and one well-predicted bit test spares them the table probe */
	vote_t *votes;
	int m_votes;
	vote_t *vtmp;          /* [m_vtmp] the counting sort's output (sort_votes), then swapped with votes */
	int m_vtmp;
	int *vcnt;             /* [m_vcnt] its counts per (strand, diagonal) */
	int64_t m_vcnt;
	uint8_t *qcnt;         /* [m_qcnt] votes per read position in densest_votes' window; all 0 between calls */
	int m_qcnt;
	place_t *place;        /* one per candidate locus */
	int m_place;
	hit_t *hits;
	int m_hits;
	es_align_buf_t abuf;   /* Smith-Waterman scratch */
	es_locus_t *loci;      /* ES_MAP_CHUNK * es_map_loci_stride */
	int *n_loci;           /* ES_MAP_CHUNK */
	int n_pass, n_aligned; /* the last verify_loci: loci passing the support filter, and of those verified */
	es_mapq_feat_t feat;   /* the MAPQ evidence of the read being mapped (mapq_features) */
	es_lowc_buf_t lowc;    /* the low-complexity test and seed lookups (lowc.h) */
	es_locus_t *mloci;     /* [m_mloci] a low-complexity read's loci and its seed loci after them (read_hits) */
	int m_mloci;
	const es_locus_t *cur; /* the loci read_hits verified the read at: its candidates, or mloci */
	int n_cur, n_seed;     /* their number, and the seed loci among them (the last n_seed) */
};

es_map_buf_t *es_map_buf_init(const es_map_opt_t *opt)
{
	es_map_buf_t *b = es_calloc(1, sizeof *b);
	b->loci = es_malloc((size_t)ES_MAP_CHUNK * es_map_loci_stride(opt) * sizeof(es_locus_t));
	b->n_loci = es_malloc(ES_MAP_CHUNK * sizeof(int));
	return b;
}

void es_map_buf_destroy(es_map_buf_t *b)
{
	if (!b)
		return;
	free(b->region);
	free(b->tkey);
	free(b->tpos);
	free(b->votes);
	free(b->vtmp);
	free(b->vcnt);
	free(b->qcnt);
	free(b->place);
	free(b->hits);
	free(b->loci);
	free(b->n_loci);
	free(b->mloci);
	es_lowc_buf_free(&b->lowc);
	es_align_buf_free(&b->abuf);
	free(b);
}

/* Codes of the reference [beg,end) into the scratch region. */
static uint8_t *get_region(es_map_buf_t *s, const es_ref_t *ref, int64_t beg, int64_t end)
{
	if (end - beg > s->m_region) {
		s->m_region = end - beg;
		s->region = es_realloc(s->region, s->m_region);
	}
	es_ref_get(ref, beg, end, s->region);
	return s->region;
}

/* Votes by strand, then diagonal. Votes of equal key differ in qi only, and what is read from the sorted array (a
 * group's read positions, its first and last diagonal) does not depend on their order. klib's typed
 * introsort (htslib/ksort.h): its inline compare took a third of the time of qsort's calls through a pointer. */
#define vote_lt(x, y) ((x).strand != (y).strand ? (x).strand < (y).strand : (x).diag < (y).diag)
KSORT_INIT_STATIC(vote, vote_t, vote_lt)

/* Multiplicative hashing into 2^bits slots: the table is tiny and probed ~1,500 times per locus, so a full mixer
 * costs more than the collisions it would save. */
static inline uint32_t seed_hash(uint32_t x, int bits)
{
	return (uint32_t)((x * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* Index the read's forward SEED_K-mers (key -> read position) in a small open-addressing table, once per read. */
static void build_read_table(es_map_buf_t *s, const uint8_t *fw, int qlen)
{
	int tsize = 64, tbits = 6;
	while (tsize < 2 * qlen) {
		tsize <<= 1;
		tbits++;
	}
	s->tbits = tbits;
	if (tsize > s->m_table) {
		s->m_table = tsize;
		s->tkey = es_realloc(s->tkey, tsize * sizeof(uint32_t));
		s->tpos = es_realloc(s->tpos, tsize * sizeof(int32_t));
	}
	s->tsize = tsize;
	memset(s->tkey, 0, tsize * sizeof(uint32_t));
	int nq = qlen < 65536 ? qlen : 65536;   /* vote_t.qi */
	if (nq > s->m_qcnt) {   /* zeroed once: densest_votes leaves it as it found it */
		free(s->qcnt);
		s->m_qcnt = nq;
		s->qcnt = es_calloc(nq, 1);
	}
	memset(s->filter, 0, sizeof s->filter);
	const uint32_t mask = (1u << (2 * SEED_K)) - 1, tmask = tsize - 1;
	uint32_t x = 0;
	for (int i = 0, l = 0; i < qlen; i++) {
		if (fw[i] > 3) {
			l = 0;
			continue;
		}
		x = ((x << 2) | fw[i]) & mask;
		if (++l < SEED_K)
			continue;
		uint32_t f = seed_hash(x, ES_SEED_FILTER_BITS);
		s->filter[f >> 6] |= 1ULL << (f & 63);
		uint32_t h = seed_hash(x, s->tbits);
		for (int probe = 0; s->tkey[h] && probe < 32; probe++)
			h = (h + 1) & tmask;
		s->tkey[h] = x + 1;
		s->tpos[h] = i - SEED_K + 1;
	}
}

/* Sort the votes v[0,nv) by strand, then diagonal: a stable counting sort over the keys (strand, diagonal) when
 * they span at most 4 per vote (+4,096), else klib's introsort, its twin (es_map_vote_sort_check). A locus holding a
 * copy of the read gets most of its votes on a few diagonals, and on such runs of equal keys the introsort went to
 * its combsort fallback: 1 Gb synthetic genome, 100 bp reads of its repeat families searched again for 256 loci
 * (the last look), the sort was ~80% of the locate step's time. Both give equal keys in some order and nothing read
 * from the sorted array depends on it, so the alignments are the same. */
static void sort_votes(es_map_buf_t *s, int nv)
{
	vote_t *v = s->votes;
	if (nv < 64) {
		ks_introsort(vote, nv, v);
		return;
	}
	int lo = v[0].diag, hi = v[0].diag;
	for (int i = 1; i < nv; i++) {
		lo = v[i].diag < lo ? v[i].diag : lo;
		hi = v[i].diag > hi ? v[i].diag : hi;
	}
	int64_t span = (int64_t)hi - lo + 1, nk = 2 * span;
	if (nk > 4 * (int64_t)nv + 4096) {
		ks_introsort(vote, nv, v);
		return;
	}
	if (nk + 1 > s->m_vcnt) {
		s->m_vcnt = nk + 1;
		s->vcnt = es_realloc(s->vcnt, (size_t)s->m_vcnt * sizeof *s->vcnt);
	}
	if (s->m_vtmp < s->m_votes) {
		s->m_vtmp = s->m_votes;
		s->vtmp = es_realloc(s->vtmp, (size_t)s->m_vtmp * sizeof *s->vtmp);
	}
	int *cnt = s->vcnt;
	memset(cnt, 0, (size_t)(nk + 1) * sizeof *cnt);
	for (int i = 0; i < nv; i++)
		cnt[(v[i].strand ? span : 0) + (v[i].diag - lo) + 1]++;
	for (int64_t k = 1; k <= nk; k++)
		cnt[k] += cnt[k - 1];
	for (int i = 0; i < nv; i++)
		s->vtmp[cnt[(v[i].strand ? span : 0) + (v[i].diag - lo)]++] = v[i];
	s->votes = s->vtmp;   /* the sorted array becomes the votes; capacities move with the arrays */
	s->vtmp = v;
	int m = s->m_votes;
	s->m_votes = s->m_vtmp;
	s->m_vtmp = m;
}

int es_map_vote_sort_check(int n, const int *diag, const int *strand)
{
	es_map_buf_t *s = es_calloc(1, sizeof *s);
	vote_t *ref = es_malloc((size_t)(n > 0 ? n : 1) * sizeof *ref);
	s->m_votes = n > 0 ? n : 1;
	s->votes = es_malloc((size_t)s->m_votes * sizeof *s->votes);
	for (int i = 0; i < n; i++)
		ref[i] = s->votes[i] = (vote_t){ diag[i], (uint16_t)i, (int8_t)strand[i] };
	ks_introsort(vote, n, ref);
	sort_votes(s, n);
	int ok = 1;
	for (int i = 0; i < n && ok; i++)
		ok = s->votes[i].strand == ref[i].strand && s->votes[i].diag == ref[i].diag;
	uint64_t qs = 0, qr = 0;   /* the same votes: the read positions (the input indexes) moved with their keys */
	for (int i = 0; i < n; i++) {
		qs += (uint64_t)s->votes[i].qi * (uint64_t)(s->votes[i].diag + 1000003) * (uint64_t)(s->votes[i].strand + 7);
		qr += (uint64_t)ref[i].qi * (uint64_t)(ref[i].diag + 1000003) * (uint64_t)(ref[i].strand + 7);
	}
	ok = ok && qs == qr;
	free(ref);
	free(s->votes);
	free(s->vtmp);
	free(s->vcnt);
	free(s);
	return ok;
}

static inline void add_vote(es_map_buf_t *s, int *nv, int diag, int strand, int qi)
{
	if (*nv == s->m_votes) {
		s->m_votes = s->m_votes ? 2 * s->m_votes : 1024;
		s->votes = es_realloc(s->votes, s->m_votes * sizeof(vote_t));
	}
	s->votes[*nv].diag = diag;
	s->votes[*nv].qi = (uint16_t)qi;
	s->votes[*nv].strand = (int8_t)strand;
	(*nv)++;
}

/* Votes of the region k-mer `key` ending at region position j: one per read position holding it (at most 4). */
/* (always inlined: two calls per reference position; as a call it cost ~9% of the mapping loop) */
static inline __attribute__((always_inline)) void vote_kmer(es_map_buf_t *s, int *nv, uint32_t key, int st, int tj,
                                                            int qlen)
{
	const uint32_t tmask = s->tsize - 1;
	uint32_t f = seed_hash(key, ES_SEED_FILTER_BITS);
	if (!(s->filter[f >> 6] >> (f & 63) & 1))
		return;   /* not a k-mer of the read */
	uint32_t h = seed_hash(key, s->tbits);
	int found = 0;
	for (int probe = 0; s->tkey[h] && probe < 32; probe++, h = (h + 1) & tmask) {
		if (s->tkey[h] != key + 1)
			continue;
		if (++found > 4)
			break;   /* a k-mer repeated many times in the read tells nothing */
		int qi = s->tpos[h];
		add_vote(s, nv, st ? tj - (qlen - qi - SEED_K) : tj - qi, st, qi);
	}
}

/* The densest group of sorted votes v[0,nv) of one strand within DIAG_BAND diagonals (all 0 when nv is 0). Its
 * support counts the read positions voting in it, each once: a read's k-mers inside a tandem repeat vote many times
 * on nearby diagonals, and a look-alike holding a long microsatellite of the read outvoted its true locus (chrX
 * 70 Mb, 100 bp mason: reads aligning 100 to 21 held at MAPQ 14-17, bwa 60). */
static group_t densest_votes(uint8_t *cnt, const vote_t *v, int nv)
{
	group_t g = { 0, 0, 0, 0 };
	int d = 0;
	for (int i = 0, j = 0; i < nv; i++) {   /* sliding window [i, j) over the sorted diagonals of one strand */
		while (j < nv && v[j].strand == v[i].strand && v[j].diag - v[i].diag <= DIAG_BAND)
			d += cnt[v[j++].qi]++ == 0;
		if (d > g.support)
			g = (group_t){ d, v[i].strand, v[i].diag, v[j - 1].diag };
		d -= --cnt[v[i].qi] == 0;   /* v[i] leaves: the window is empty again when the strand changes */
	}
	return g;
}

/* The densest group of sorted votes v[0,nv) at least qlen/2 diagonals away from group b (or on the other strand):
 * a second copy inside the same locus. The votes near b are one contiguous run of the sorted array. */
static group_t second_placement(uint8_t *cnt, const vote_t *v, int nv, const group_t *b, int qlen)
{
	int lo = b->dlo - qlen / 2, hi = b->dhi + qlen / 2;
	int ei = 0, ej;
	while (ei < nv && (v[ei].strand < b->strand || (v[ei].strand == b->strand && v[ei].diag < lo)))
		ei++;
	for (ej = ei; ej < nv && v[ej].strand == b->strand && v[ej].diag <= hi; ej++)
		;
	group_t g1 = densest_votes(cnt, v, ei), g2 = densest_votes(cnt, v + ej, nv - ej);
	return g2.support > g1.support ? g2 : g1;
}

/* Find the strand and diagonal (region position - read position) of the read inside region[0,rlen) from the
 * SEED_K-mers they share, using the table of build_read_table. A region k-mer equal to a read k-mer votes for the
 * forward strand; one whose reverse complement equals a read k-mer votes for the reverse strand.
 * The best group and the second placement into pl->g; returns the best group's support (0 if none). */
static int locate_in_region(es_map_buf_t *s, const uint8_t *region, int rlen, int qlen, place_t *pl)
{
	/* the rolling k-mer of the kmer sketch (encoder.c), but 32-bit and not canonical: each strand votes on its own */
	const uint32_t mask = (1u << (2 * SEED_K)) - 1;
	const int shift = 2 * (SEED_K - 1);
	uint32_t x = 0, y = 0;
	int nv = 0;
	for (int j = 0, l = 0; j < rlen; j++) {
		int c = region[j];
		if (c > 3) {
			l = 0;
			continue;
		}
		x = ((x << 2) | c) & mask;
		y = (y >> 2) | ((uint32_t)(3 - c) << shift);
		if (++l < SEED_K)
			continue;
		vote_kmer(s, &nv, x, 0, j - SEED_K + 1, qlen);
		if (y != x)   /* a palindromic k-mer says nothing about the strand */
			vote_kmer(s, &nv, y, 1, j - SEED_K + 1, qlen);
	}
	if (nv == 0)
		return 0;
	sort_votes(s, nv);
	pl->g[0] = densest_votes(s->qcnt, s->votes, nv);
	pl->g[1] = second_placement(s->qcnt, s->votes, nv, &pl->g[0], qlen);
	return pl->g[0].support;
}

/* The MAPQ evidence of a mapped read (hits sorted, the primary first): scores of the best and the next placement,
 * the embedding similarity of the best hit's locus against the top locus and the next locus not holding the best
 * hit, and the k-mer votes of the best placement against the next one. The model is mapq.c. */
static void mapq_features(const es_mapper_t *m, const es_map_buf_t *s, int n_hits, const es_locus_t *loci,
                          int n_loci, int qlen, es_mapq_feat_t *f)
{
	const es_map_opt_t *o = m->opt;
	const hit_t *h = &s->hits[0];
	memset(f, 0, sizeof *f);
	f->sketch = m->enc && es_encoder_kind(m->enc) == ES_ENC_KMER;
	f->match = o->sc.match;
	f->mismatch = o->sc.mismatch;
	f->qlen = qlen;
	f->score = h->score;
	f->sub = n_hits > 1 ? s->hits[1].score : 0;
	for (int j = 1; j < n_hits; j++)
		f->n_close += s->hits[j].score >= h->score - o->sc.match - o->sc.mismatch;
	int l = h->aln.qend - h->aln.qbeg, tl = h->aln.tend - h->aln.tbeg;
	f->alen = tl > l ? tl : l;
	f->n_loci = n_loci - s->n_seed;   /* the evidence of the vector search: seed loci have no similarity */
	f->n_pass = s->n_pass;
	f->n_aligned = s->n_aligned;
	f->loc_top = loci[0].score;
	f->loc_best = loci[h->locus].score;
	const place_t *own = &s->place[h->locus];   /* the best hit's group, and the other one in its locus */
	f->sup_best = own->g[h->second].support;
	f->sup_next = own->g[!h->second].support;
	for (int i = 0; i < n_loci; i++) {
		if (i == h->locus)
			continue;
		int holds = h->gpos + qlen > loci[i].beg && h->gpos < loci[i].end;
		if (!holds && i < n_loci - s->n_seed && loci[i].score > f->loc_next)
			f->loc_next = loci[i].score;
		const place_t *pl = &s->place[i];
		const group_t *g = &pl->g[0];
		int64_t pos = pl->rb + g->dlo;   /* where that placement puts the read's first base */
		if (g->support > 0 && (g->strand != h->strand || llabs(pos - h->gpos) >= qlen) && g->support > f->sup_next)
			f->sup_next = g->support;
	}
}

/* XF:Z, the model inputs of es_mapq_inputs, then the scoring's mismatch / match and f->sketch (--mapq-features, for
 * scripts/fit_mapq.py). 0, or -1 if htslib refuses. */
static int add_feature_tag(bam1_t *b, const es_mapq_feat_t *f)
{
	double x[ES_MAPQ_NX];
	char buf[ES_MAPQ_NX * 24];
	int n = 0;
	es_mapq_inputs(f, x);
	for (int i = 1; i < ES_MAPQ_NX; i++)
		n += snprintf(buf + n, sizeof buf - n, "%s%.6g", i > 1 ? "," : "", x[i]);
	n += snprintf(buf + n, sizeof buf - n, ",%.6g,%d", (double)f->mismatch / f->match, f->sketch);
	return bam_aux_append(b, "XF", 'Z', n + 1, (uint8_t *)buf);
}

static int cmp_hit(const void *a, const void *b)
{
	const hit_t *x = a, *y = b;
	if (x->score != y->score)
		return y->score - x->score;
	if (x->gpos != y->gpos)
		return x->gpos < y->gpos ? -1 : 1;
	return x->strand - y->strand;
}

/* A read of one query (up to 5/4 of the window) whose best locus is as similar as an ordinary read's: loci under
 * ES_CLEAR_RATIO of it are look-alikes (chrX 70 Mb, 100 bp reads, mason / ART: 80 / 53 reads of 20,000 change,
 * correct +0.01 / +0.005 points, MAPQ 60 +0.26 / +0.15 with none wrong, MAPQ >= 20 error unchanged, 0.86x the
 * mapping CPU). Not below ES_CLEAR_TOP, where a diverged read's own locus can sit well under a look-alike
 * (mason samples of E. coli and chrX 20-30 Mb 10-15% diverged, 100 bp: 0.6-1.7 points lost without the gate, none
 * with it), nor for a chunked read, whose loci found by only some of its chunks score a fraction of the best (150 /
 * 250 bp: -0.35 points at 0.8). A mapper without an index (loci given by the caller) keeps locus_ratio. */
#define ES_CLEAR_TOP 0.9f
#define ES_CLEAR_RATIO 0.9f
static float locus_ratio(const es_mapper_t *m, int qlen, float top)
{
	float r = m->opt->locus_ratio;
	if (top >= ES_CLEAR_TOP && r < ES_CLEAR_RATIO && m->idx && es_index_read_queries(m->idx, qlen, 0) == 1)
		r = ES_CLEAR_RATIO;
	return r;
}

/* Locate the read inside each locus (s->place[i]); returns the best support (0: no locus shares a k-mer). */
static int locate_loci(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, int qlen, const es_locus_t *loci,
                       int n_loci)
{
	const es_ref_t *ref = m->ref;
	if (s->m_place < n_loci) {
		s->m_place = n_loci;
		s->place = es_realloc(s->place, n_loci * sizeof(place_t));
	}
	build_read_table(s, fw, qlen);
	/* loci whose embedding similarity is far below the best one's are neither the origin nor a competing copy */
	float min_score = loci[0].score * locus_ratio(m, qlen, loci[0].score);
	int top = 0;
	for (int i = 0; i < n_loci; i++) {
		place_t *pl = &s->place[i];
		pl->g[0] = pl->g[1] = (group_t){ 0, 0, 0, 0 };
		if (i >= 2 && i < n_loci - s->n_seed && loci[i].score < min_score)
			continue;
		pl->ci = es_ref_contig_at(ref, loci[i].beg);
		int64_t cb = ref->contig[pl->ci].off;
		int64_t ce = cb + ref->contig[pl->ci].len;
		int64_t rb = loci[i].beg - qlen > cb ? loci[i].beg - qlen : cb;
		int64_t re = loci[i].end + qlen < ce ? loci[i].end + qlen : ce;
		const uint8_t *region = get_region(s, ref, rb, re);
		int sup = locate_in_region(s, region, (int)(re - rb), qlen, pl);
		pl->rb = rb;
		pl->re = re;
		if (sup > top)
			top = sup;
	}
	return top;
}

/* Add h to the hits unless the same placement was found through another locus: then keep the better of the two. */
void es_map_add_hit(es_map_hit_t **hits, int *n, int *cap, es_map_hit_t *h, int qlen)
{
	for (int j = 0; j < *n; j++) {
		hit_t *o = &(*hits)[j];
		if (o->strand != h->strand || llabs(o->gpos - h->gpos) >= qlen / 2)
			continue;
		if (cmp_hit(h, o) < 0) {
			es_aln_free(&o->aln);
			*o = *h;
		} else {
			es_aln_free(&h->aln);
		}
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*hits = es_realloc(*hits, (size_t)*cap * sizeof **hits);
	}
	(*hits)[(*n)++] = *h;
}

/* Align the read's strand `strand` to the reference [tb, te) (clipped to locus i's contig) into a hit of placement
 * `second` of locus i, added to s->hits unless it repeats one (es_map_add_hit). Returns 1 if aligned, 0 if not. */
static int align_span(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, const uint8_t *rc, int qlen,
                      const place_t *pl, int strand, int64_t tb, int64_t te, int second, int i, int *n_hits)
{
	const es_ref_t *ref = m->ref;
	int64_t cb = ref->contig[pl->ci].off;
	int64_t ce = cb + ref->contig[pl->ci].len;
	if (tb < cb)
		tb = cb;
	if (te > ce)
		te = ce;
	if (te <= tb)
		return 0;
	const uint8_t *region = get_region(s, ref, tb, te);
	hit_t h;
	memset(&h, 0, sizeof h);
	h.strand = strand;
	h.locus = i;
	h.second = second;
	if (es_align_into(strand ? rc : fw, qlen, region, (int)(te - tb), &m->opt->sc, &h.aln, &s->abuf) < 0)
		return 0;
	h.score = h.aln.score;
	h.gpos = tb + h.aln.tbeg;
	es_map_add_hit(&s->hits, n_hits, &s->m_hits, &h, qlen);
	return 1;
}

/* Align the read to placement `second` (0: the best group of locus i, 1: its second placement), in a band of
 * BAND_PAD around the group's diagonals. */
static int align_placement(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, const uint8_t *rc, int qlen,
                           const place_t *pl, int second, int i, int *n_hits)
{
	const group_t *g = &pl->g[second];
	return align_span(m, s, fw, rc, qlen, pl, g->strand, pl->rb + g->dlo - BAND_PAD, pl->rb + g->dhi + qlen + BAND_PAD,
	                  second, i, n_hits);
}

/* Align the read to the whole examined region of locus i on the strand of each placement, when the votes cannot tell
 * the locus's copies apart (the second placement has 3/4 of the first's support): in a tandem array every copy can
 * collect the same votes, the read's own copy among them, and the two banded placements may both be others (chrX
 * 70 Mb, 150 bp ART: reads of an AT-rich tandem array at X:53.05 Mb placed at MAPQ 21-22 on a neighbouring copy,
 * aligning 105 of 150 with five indels, their own copy 300 bp away aligning 145). */
static void align_whole_locus(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, const uint8_t *rc, int qlen,
                              const place_t *pl, int i, int *n_hits)
{
	if (pl->g[1].support == 0 || pl->g[1].support * 4 < pl->g[0].support * 3)
		return;
	for (int k = 0; k < 2; k++) {
		if (k == 1 && pl->g[1].strand == pl->g[0].strand)
			break;
		align_span(m, s, fw, rc, qlen, pl, pl->g[k].strand, pl->rb, pl->re, k, i, n_hits);
	}
}

/* Align the read to each well-supported placement (at most max_align), and to a locus's second placement (a copy
 * inside the locus: an inverted or tandem repeat) when it has a quarter of the best support: the best group of a
 * locus holding two copies can be the worse one (chrX 70 Mb, 150 bp mason: a read of a duplication at X:52.13 and
 * 52.37 Mb at MAPQ 60 on the other copy, its own placement second in its locus). Returns the number of distinct
 * hits. */
static int verify_loci(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, const uint8_t *rc, int qlen,
                       int n_loci, int top)
{
	const es_map_opt_t *o = m->opt;
	if (s->m_hits < 2 * n_loci) {
		s->m_hits = 2 * n_loci;
		s->hits = es_realloc(s->hits, s->m_hits * sizeof(hit_t));
	}
	int n_hits = 0, n_aligned = 0, n_cand = n_loci - s->n_seed;
	int max_align = n_cand > o->max_loci ? ES_MAP_WIDEN * o->max_align : o->max_align;   /* a repeat family's */
	s->n_pass = 0;
	for (int i = 0; i < n_loci; i++) {
		const place_t *pl = &s->place[i];
		int sup = pl->g[0].support;
		if (i >= n_cand) {   /* a seed locus (read_hits): aligned when its votes pass, not counted */
			if (sup > 0 && sup * 4 >= top)
				align_placement(m, s, fw, rc, qlen, pl, 0, i, &n_hits);
			continue;
		}
		if (n_aligned >= max_align) {   /* the rest only counted: were plausible loci left unverified? */
			s->n_pass += sup > 0 && sup * 4 >= top;
			continue;
		}
		if (sup == 0 || sup * 4 < top)
			continue;
		/* a locus after the first max_loci (a repeat family searched again, es_index_candidates_wide) is aligned only
		 * when its votes are near the best's, as a copy that ties or comes within a few mismatches has: 100 bp reads
		 * of chrX 70 Mb map as when every such locus was aligned, at 0.9x the verification CPU */
		if (i >= o->max_loci && sup * 4 < top * 3)
			continue;
		s->n_pass++;
		n_aligned += align_placement(m, s, fw, rc, qlen, pl, 0, i, &n_hits);
		if (pl->g[1].support > 0 && pl->g[1].support * 4 >= top)
			align_placement(m, s, fw, rc, qlen, pl, 1, i, &n_hits);
		align_whole_locus(m, s, fw, rc, qlen, pl, i, &n_hits);
	}
	s->n_aligned = n_aligned;
	return n_hits;
}

/* Equally good placements (repeats): pick one by a hash of the read name, like bwa, so that the reads of a repeat
 * spread over its copies instead of piling onto the leftmost; deterministic for a given read. */
int es_map_tie_pick(const es_map_hit_t *hits, int n, const char *name)
{
	int n_tie = 1;
	while (n_tie < n && hits[n_tie].score == hits[0].score)
		n_tie++;
	return n_tie == 1 ? 0 : (int)(es_checksum(name, strlen(name), 0) % (uint64_t)n_tie);
}

static void pick_tie(es_map_buf_t *s, int n_hits, const char *name)
{
	int pick = es_map_tie_pick(s->hits, n_hits, name);
	if (pick == 0)
		return;
	hit_t tmp = s->hits[0];
	s->hits[0] = s->hits[pick];
	s->hits[pick] = tmp;
}

static bam1_t *hit_record(const es_mapper_t *m, const es_read_t *r, const hit_t *h, int flag, int mapq, int xs,
                          const uint8_t *fw, const uint8_t *rc)
{
	int tid = es_ref_contig_at(m->ref, h->gpos);
	es_sam_rec_t rec = { .flag = flag | (h->strand ? 16 : 0), .tid = tid, .pos = h->gpos - m->ref->contig[tid].off,
	                     .mapq = mapq, .aln = &h->aln, .xs = xs, ES_SAM_NO_MATE };
	return es_sam_record(r, h->strand ? rc : fw, &rec, m->rg_id);
}

/* The records of a mapped read: the primary, then up to n_secondary secondary ones scoring at least min_score.
 * Returns their number, or -1 (es_error set) when one cannot be built. */
static int hit_records(const es_mapper_t *m, es_map_buf_t *s, int n_hits, const es_read_t *r, const uint8_t *fw,
                       const uint8_t *rc, bam1_t **recs)
{
	const es_map_opt_t *o = m->opt;
	int sub = n_hits > 1 ? s->hits[1].score : 0;
	int mapq = es_mapq(&s->feat);
	int n_rec = 0;
	recs[n_rec] = hit_record(m, r, &s->hits[0], 0, mapq, n_hits > 1 ? sub : -1, fw, rc);
	if (!recs[n_rec++])
		return -1;
	if (o->mapq_features && add_feature_tag(recs[0], &s->feat) < 0)
		return es_error("%s: cannot add the XF tag", r->name);
	for (int j = 1; j < n_hits && n_rec <= o->n_secondary; j++) {
		if (s->hits[j].score < o->min_score)
			break;
		recs[n_rec] = hit_record(m, r, &s->hits[j], 0x100, 0, -1, fw, rc);
		if (!recs[n_rec++])
			return -1;
	}
	return n_rec;
}

static void free_hits(es_map_buf_t *s, int n_hits)
{
	for (int j = 0; j < n_hits; j++)
		es_aln_free(&s->hits[j].aln);
}

/* A low-complexity read's loci: its candidates loci[0,n_loci), then its seed loci (lowc.h) that overlap none of them,
 * into s->mloci; s->cur / n_cur / n_seed (set by read_hits to the candidates alone) then say so. A seed locus scores
 * as the best candidate (1 without one), so that the similarity filter and the MAPQ features see no weaker top. */
static void add_seed_loci(const es_mapper_t *m, es_map_buf_t *s, const uint8_t *fw, const uint8_t *rc, int qlen,
                          const es_locus_t *loci, int n_loci)
{
	const es_lowc_t *t = m->idx && !m->opt->no_lowc ? es_index_lowc(m->idx) : NULL;
	if (!t || !es_lowc_read(&s->lowc, fw, qlen))
		return;
	es_locus_t seed[ES_LOWC_MAX_LOCI];
	int ns = es_lowc_loci(t, m->ref, &s->lowc, fw, rc, qlen, seed, ES_LOWC_MAX_LOCI);
	if (ns == 0)
		return;
	if (s->m_mloci < n_loci + ns) {
		s->m_mloci = n_loci + ns;
		s->mloci = es_realloc(s->mloci, (size_t)s->m_mloci * sizeof *s->mloci);
	}
	memcpy(s->mloci, loci, (size_t)n_loci * sizeof *loci);
	int n = n_loci;
	for (int k = 0; k < ns; k++) {
		int seen = 0;
		for (int i = 0; i < n_loci && !seen; i++)
			seen = seed[k].beg < loci[i].end && loci[i].beg < seed[k].end;
		if (seen)
			continue;
		seed[k].score = n_loci > 0 ? loci[0].score : 1;
		s->mloci[n++] = seed[k];
	}
	s->cur = s->mloci;
	s->n_cur = n;
	s->n_seed = n - n_loci;
}

/* The verified hits of one read into s->hits, best first, none under min_score; returns their number. The loci it
 * was verified at (its candidates, and its seed loci if it is of low complexity) are s->cur[0, n_cur). */
static int read_hits(const es_mapper_t *m, es_map_buf_t *s, const es_read_t *r, const uint8_t *fw, const uint8_t *rc,
                     const es_locus_t *loci, int n_loci)
{
	const es_map_opt_t *o = m->opt;
	int qlen = r->len;
	int nn = 0;
	for (int i = 0; i < qlen; i++)
		nn += fw[i] == 4;
	int n_hits = 0;
	s->cur = loci;
	s->n_cur = n_loci;
	s->n_seed = 0;
	if (qlen >= o->min_len && nn * 2 <= qlen)
		add_seed_loci(m, s, fw, rc, qlen, loci, n_loci);
	loci = s->cur;
	n_loci = s->n_cur;
	if (qlen >= o->min_len && nn * 2 <= qlen && n_loci > 0) {
		int top = locate_loci(m, s, fw, qlen, loci, n_loci);
		if (top > 0)
			n_hits = verify_loci(m, s, fw, rc, qlen, n_loci, top);
	}
	if (n_hits > 0) {
		qsort(s->hits, n_hits, sizeof(hit_t), cmp_hit);
		if (s->hits[0].score < o->min_score) {
			free_hits(s, n_hits);
			n_hits = 0;
		}
	}
	return n_hits;
}

/* Map one read given its candidate loci; fills recs (primary first, 1 + n_secondary slots). Returns the number of
 * records, or -1 with es_error set when a record cannot be built (recs then holds NULL in its slot). */
static int map_one(const es_mapper_t *m, es_map_buf_t *s, const es_read_t *r, const uint8_t *fw, const uint8_t *rc,
                   const es_locus_t *loci, int n_loci, bam1_t **recs)
{
	int n_hits = read_hits(m, s, r, fw, rc, loci, n_loci);
	if (n_hits == 0) {
		es_sam_rec_t rec = { .flag = 4, .tid = -1, .pos = -1, .mapq = 0, .aln = NULL, .xs = -1, ES_SAM_NO_MATE };
		recs[0] = es_sam_record(r, fw, &rec, m->rg_id);
		return recs[0] ? 1 : -1;
	}
	pick_tie(s, n_hits, r->name);
	mapq_features(m, s, n_hits, s->cur, s->n_cur, r->len, &s->feat);
	int n_rec = hit_records(m, s, n_hits, r, fw, rc, recs);
	free_hits(s, n_hits);
	return n_rec;
}

int es_map_read_hits(const es_mapper_t *m, es_map_buf_t *s, const es_read_t *r, const uint8_t *fw, const uint8_t *rc,
                     const es_locus_t *loci, int n_loci, es_map_hit_t **out, int *cap)
{
	int n = read_hits(m, s, r, fw, rc, loci, n_loci);
	for (int j = 0; j < n; j++)
		s->hits[j].mapq = -1;
	if (n > 0) {   /* the best hit's single-end MAPQ, from the evidence this buffer holds now */
		es_mapq_feat_t f;
		mapq_features(m, s, n, s->cur, s->n_cur, r->len, &f);
		s->hits[0].mapq = es_mapq(&f);
	}
	if (n > *cap) {
		*cap = n;
		*out = es_realloc(*out, (size_t)n * sizeof **out);
	}
	if (n > 0)
		memcpy(*out, s->hits, (size_t)n * sizeof **out);   /* the alignments move to *out */
	return n;
}

void es_map_sort_hits(es_map_hit_t *h, int n)
{
	qsort(h, n, sizeof *h, cmp_hit);
}

int es_map_loci_stride(const es_map_opt_t *o)
{
	return ES_MAP_WIDEN * o->max_loci;
}

static int search_flags(const es_map_opt_t *o)
{
	return o->exact ? ES_SEARCH_EXACT : 0;
}

int es_map_candidates(const es_mapper_t *m, int n, const es_read_t *reads, uint8_t *const *fw, es_locus_t *loci,
                      int *n_loci)
{
	const uint8_t *seqs[ES_MAP_CHUNK];
	int lens[ES_MAP_CHUNK];
	if (n < 1 || n > ES_MAP_CHUNK)
		return es_error("es_map_candidates: %d reads, the supported range is 1..%d per call", n, ES_MAP_CHUNK);
	for (int i = 0; i < n; i++) {
		seqs[i] = fw[i];
		lens[i] = reads[i].len;
	}
	return es_map_candidates_of(m, n, seqs, lens, loci, n_loci, 0);
}

int es_map_candidates_of(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens, es_locus_t *loci,
                         int *n_loci, int flags)
{
	const es_map_opt_t *o = m->opt;
	return es_index_candidates_wide(m->idx, m->enc, n, seqs, lens, o->max_loci, es_map_loci_stride(o), loci, n_loci,
	                                search_flags(o) | flags);
}

int es_map_candidates_first(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens,
                            es_locus_t *loci, int *n_loci, uint8_t *sat, float **vec)
{
	const es_map_opt_t *o = m->opt;
	return es_index_candidates_first(m->idx, m->enc, n, seqs, lens, o->max_loci, es_map_loci_stride(o), loci, n_loci,
	                                 sat, vec, search_flags(o) | ES_CAND_ENDS);
}

int es_map_candidates_retry(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens, int depth,
                            es_locus_t *loci, int *n_loci, uint8_t *sat, const float *const *vec)
{
	const es_map_opt_t *o = m->opt;
	return es_index_candidates_retry(m->idx, m->enc, n, seqs, lens, o->max_loci, es_map_loci_stride(o), depth, loci,
	                                 n_loci, sat, vec, search_flags(o) | ES_CAND_MIDDLE);
}

int es_map_candidates_widen(const es_mapper_t *m, int n, const uint8_t *const *seqs, const int *lens,
                            es_locus_t *loci, int *n_loci, const float *const *vec)
{
	const es_map_opt_t *o = m->opt;
	return es_index_candidates_widen(m->idx, m->enc, n, seqs, lens, o->max_loci, es_map_loci_stride(o), loci, n_loci,
	                                 vec, search_flags(o) | ES_CAND_ENDS);
}

int es_map_look_widen(int64_t n_windows)
{
	return ES_MAP_WIDEN * es_index_scale_steps(n_windows, ES_LOOK_SCALE_MAX);
}

void es_map_look_opt(const es_map_opt_t *o, int64_t n_windows, es_map_opt_t *r)
{
	int w = o->look_widen > 0 ? o->look_widen : es_map_look_widen(n_windows);
	*r = *o;
	r->max_loci = w * o->max_loci;
	r->max_align = w * o->max_align;
}

int es_map_with_loci(const es_mapper_t *m, es_map_buf_t *b, int n, const es_read_t *reads, uint8_t *const *fw,
                     uint8_t *const *rc, const es_locus_t *const *loci, const int *n_loci, bam1_t ***recs,
                     int *n_recs)
{
	const es_map_opt_t *o = m->opt;
	for (int i = 0; i < n; i++) {
		recs[i] = es_calloc(1 + o->n_secondary, sizeof(bam1_t *));
		n_recs[i] = map_one(m, b, &reads[i], fw[i], rc[i], loci[i], n_loci[i], recs[i]);
		if (n_recs[i] < 0) {
			n_recs[i] = 1 + o->n_secondary;   /* the slots: NULL ones are skipped when freed */
			return -1;
		}
	}
	return 0;
}

int es_map_chunk(const es_mapper_t *m, es_map_buf_t *b, int n, const es_read_t *reads, uint8_t *const *fw,
                 uint8_t *const *rc, bam1_t ***recs, int *n_recs)
{
	if (es_map_candidates(m, n, reads, fw, b->loci, b->n_loci) < 0)
		return -1;
	const es_locus_t *loci[ES_MAP_CHUNK];
	for (int i = 0; i < n; i++)
		loci[i] = b->loci + (size_t)i * es_map_loci_stride(m->opt);
	return es_map_with_loci(m, b, n, reads, fw, rc, loci, b->n_loci, recs, n_recs);
}
