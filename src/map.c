/* map.c — the mapping pipeline. Per batch of reads: the vector store returns candidate loci (embed + search), each
 * locus is verified by Smith-Waterman on the strand and diagonal that its shared k-mers point to, the best alignment
 * becomes the primary record and the runner-up sets MAPQ. Reads are split among threads by index and written in input
 * order, so the output does not depend on the thread count. */
#include "map.h"
#include "store.h"
#include "encoder.h"
#include "seqio.h"
#include "util.h"
#include <htslib/sam.h>
#include <htslib/kstring.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <stdatomic.h>

#define MAX_READ_LEN 1000   /* longer reads are refused: the verification kernel and windows are sized for short reads */
#define SEED_K 12           /* k-mer used to find strand and diagonal inside a retrieved locus */
#define DIAG_BAND 32        /* diagonals within this many bp are one placement (indels shift the diagonal) */

void es_map_opt_init(es_map_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n_threads = 1;
	o->max_loci = 16;
	o->max_align = 16;   /* every retrieved locus that passes the k-mer support filter: on 5,000 mason reads per length
	                      * (chrX 70 Mb) 8 -> 16 gained 0.12-0.18 points with the transformer index, 0-0.10 with kmer, and
	                      * halved the 100 bp error at MAPQ>=20 (0.23 -> 0.10%), at no measurable CPU cost */
	o->n_secondary = 0;
	o->min_len = 30;
	o->min_score = 30;
	o->batch_size = 20000;
	o->locus_ratio = 0.5;
	o->deficit_coef = 1.0;
	o->sc = es_score_default();
}

char *es_map_parse_rg(const char *arg, char **id)
{
	kstring_t s = { 0, 0, NULL };
	for (const char *p = arg; *p; p++) {
		if (p[0] == '\\' && p[1] == 't') { kputc('\t', &s); p++; }
		else if (p[0] == '\\' && p[1] == 'n') { free(s.s); es_error("read group line must not contain a newline: %s", arg); return NULL; }
		else kputc(*p, &s);
	}
	if (!s.s || strncmp(s.s, "@RG\t", 4) != 0) { free(s.s); es_error("read group line must start with '@RG\\t': %s", arg); return NULL; }
	char *idp = strstr(s.s, "\tID:");
	if (!idp || idp[4] == 0 || idp[4] == '\t') { free(s.s); es_error("read group line has no ID: field: %s", arg); return NULL; }
	idp += 4;
	size_t n = strcspn(idp, "\t");
	*id = es_malloc(n + 1);
	memcpy(*id, idp, n); (*id)[n] = 0;
	return s.s;
}

/* ---------------- per-read mapping ---------------- */

typedef struct {
	int score, strand;     /* strand 1 = read reverse-complemented */
	int64_t gpos;          /* global position of the first aligned reference base */
	es_aln_t aln;
} hit_t;

typedef struct { int32_t diag; int8_t strand; } vote_t;

typedef struct {           /* per-thread scratch, reused across reads */
	uint8_t *region; int64_t m_region;
	uint32_t *tkey; int32_t *tpos; int m_table, tsize, tbits;  /* the read's k-mer table */
	vote_t *votes; int m_votes;
	es_locus_t *loci; int *n_loci; int m_loci;
	hit_t *hits; int m_hits;
} scratch_t;

typedef struct {
	const es_index_t *idx;
	const es_ref_t *ref;
	const es_encoder_t *enc;
	const es_map_opt_t *opt;
	const char *rg_id;
} ctx_t;

typedef struct {
	int n;
	es_read_t *reads;
	uint8_t **fw, **rc;    /* codes of each read, forward and reverse complement */
	bam1_t ***recs; int *n_recs;
	atomic_int next;       /* next chunk to process */
	int chunk;
	const ctx_t *ctx;
	int failed; char err[512];
} batch_t;

static int cmp_vote(const void *a, const void *b)
{
	const vote_t *x = a, *y = b;
	if (x->strand != y->strand) return x->strand - y->strand;
	return (x->diag > y->diag) - (x->diag < y->diag);
}

/* Multiplicative hashing into 2^bits slots: the table is tiny and probed ~1,500 times per locus, so a full mixer
 * costs more than the collisions it would save. */
static inline uint32_t seed_hash(uint32_t x, int bits) { return (uint32_t)((x * 0x9E3779B97F4A7C15ULL) >> (64 - bits)); }

/* Index the read's forward SEED_K-mers (key -> read position) in a small open-addressing table, once per read. */
static void build_read_table(scratch_t *s, const uint8_t *fw, int qlen)
{
	int tsize = 64, tbits = 6;
	while (tsize < 2 * qlen) tsize <<= 1, tbits++;
	s->tbits = tbits;
	if (tsize > s->m_table) {
		s->m_table = tsize;
		s->tkey = es_realloc(s->tkey, tsize * sizeof(uint32_t));
		s->tpos = es_realloc(s->tpos, tsize * sizeof(int32_t));
	}
	s->tsize = tsize;
	memset(s->tkey, 0, tsize * sizeof(uint32_t));
	const uint32_t mask = (1u << (2 * SEED_K)) - 1, tmask = tsize - 1;
	uint32_t x = 0;
	for (int i = 0, l = 0; i < qlen; i++) {
		if (fw[i] > 3) { l = 0; continue; }
		x = ((x << 2) | fw[i]) & mask;
		if (++l < SEED_K) continue;
		uint32_t h = seed_hash(x, s->tbits);
		for (int probe = 0; s->tkey[h] && probe < 32; probe++) h = (h + 1) & tmask;
		s->tkey[h] = x + 1; s->tpos[h] = i - SEED_K + 1;
	}
}

static inline void add_vote(scratch_t *s, int *nv, int diag, int strand)
{
	if (*nv == s->m_votes) { s->m_votes = s->m_votes ? 2 * s->m_votes : 1024; s->votes = es_realloc(s->votes, s->m_votes * sizeof(vote_t)); }
	s->votes[*nv].diag = diag;
	s->votes[*nv].strand = (int8_t)strand;
	(*nv)++;
}

/* Find the strand and diagonal (region position - read position) of the read inside region[0,rlen) from the
 * SEED_K-mers they share, using the table of build_read_table. A region k-mer equal to a read k-mer votes for the
 * forward strand; one whose reverse complement equals a read k-mer votes for the reverse strand.
 * Returns the largest number of votes within DIAG_BAND diagonals (0 if none) and that placement. */
static int locate_in_region(scratch_t *s, const uint8_t *region, int rlen, int qlen, int *strand, int *dlo, int *dhi)
{
	const uint32_t mask = (1u << (2 * SEED_K)) - 1, tmask = s->tsize - 1;
	const int shift = 2 * (SEED_K - 1);
	uint32_t x = 0, y = 0;
	int nv = 0;
	for (int j = 0, l = 0; j < rlen; j++) {
		int c = region[j];
		if (c > 3) { l = 0; continue; }
		x = ((x << 2) | c) & mask;
		y = (y >> 2) | ((uint32_t)(3 - c) << shift);
		if (++l < SEED_K) continue;
		int tj = j - SEED_K + 1;
		for (int st = 0; st < 2; st++) {
			uint32_t key = st ? y : x;
			if (st && y == x) break;  /* a palindromic k-mer says nothing about the strand */
			uint32_t h = seed_hash(key, s->tbits);
			int found = 0;
			for (int probe = 0; s->tkey[h] && probe < 32; probe++, h = (h + 1) & tmask) {
				if (s->tkey[h] != key + 1) continue;
				if (++found > 4) break;  /* a k-mer repeated many times in the read tells nothing */
				int qi = s->tpos[h];
				add_vote(s, &nv, st ? tj - (qlen - qi - SEED_K) : tj - qi, st);
			}
		}
	}
	if (nv == 0) return 0;
	qsort(s->votes, nv, sizeof(vote_t), cmp_vote);
	int best = 0, bi = 0, bj = 0;
	for (int i = 0, j = 0; i < nv; i++) {   /* sliding window over the sorted diagonals of one strand */
		if (j < i) j = i;
		while (j + 1 < nv && s->votes[j + 1].strand == s->votes[i].strand && s->votes[j + 1].diag - s->votes[i].diag <= DIAG_BAND) j++;
		if (j - i + 1 > best) { best = j - i + 1; bi = i; bj = j; }
	}
	*strand = s->votes[bi].strand;
	*dlo = s->votes[bi].diag;
	*dhi = s->votes[bj].diag;
	return best;
}

/* bwa-style MAPQ from the best and runner-up scores (the runner-up floor is what a random 19-mer hit would score),
 * then capped by the score deficit: unlike seed-and-extend, retrieval can miss the true locus altogether, and when it
 * does the read is placed at a poor look-alike with no runner-up in sight. A read's true placement scores close to
 * qlen*match, so every point the best alignment falls short (mismatches, gaps, clipped bases) lowers the cap. */
static int compute_mapq(const es_score_t *sc, const hit_t *best, int sub, int qlen, double deficit_coef)
{
	int floor_sub = 19 * sc->match;
	if (sub < floor_sub) sub = floor_sub;
	if (sub >= best->score) return 0;
	int l = best->aln.qend - best->aln.qbeg;
	int tl = best->aln.tend - best->aln.tbeg;
	if (tl > l) l = tl;
	if (l <= 0) return 0;
	double identity = 1.0 - (double)(l * sc->match - best->score) / (sc->match + sc->mismatch) / l;
	double tmp = l < 50 ? 1.0 : log(50.0) / log((double)l);
	tmp *= identity * identity;
	int mapq = (int)(6.02 * (best->score - sub) / sc->match * tmp * tmp + 0.499);
	int cap = 60 - (int)(deficit_coef * (qlen * sc->match - best->score) / sc->match + 0.5);
	if (mapq > cap) mapq = cap;
	return mapq > 60 ? 60 : mapq < 0 ? 0 : mapq;
}

static bam1_t *make_record(const ctx_t *c, const es_read_t *r, int flag, const hit_t *h, int mapq, int xs, const uint8_t *codes)
{
	bam1_t *b = bam_init1();
	int len = r->len;
	char *seq = es_malloc(len + 1);
	char *qual = NULL;
	int rev = h && h->strand;
	for (int i = 0; i < len; i++) seq[i] = es_code2nt[codes[i]];  /* IUPAC codes other than ACGT become N */
	if (r->qual) {
		qual = es_malloc(len);
		for (int i = 0; i < len; i++) qual[i] = r->qual[rev ? len - 1 - i : i] - 33;
	}
	int tid = -1; int64_t pos = -1;
	const uint32_t *cigar = NULL; int n_cigar = 0;
	if (h) {
		tid = es_ref_contig_at(c->ref, h->gpos);
		pos = h->gpos - c->ref->contig[tid].off;
		cigar = h->aln.cigar; n_cigar = h->aln.n_cigar;
	}
	if (bam_set1(b, strlen(r->name), r->name, flag, tid, pos, mapq, n_cigar, cigar, -1, -1, 0, len, seq, qual, 64) < 0) {
		free(seq); free(qual); bam_destroy1(b);
		return NULL;
	}
	free(seq); free(qual);
	if (h) {
		bam_aux_update_int(b, "NM", h->aln.nm);
		bam_aux_append(b, "MD", 'Z', strlen(h->aln.md) + 1, (const uint8_t *)h->aln.md);
		bam_aux_update_int(b, "AS", h->score);
		if (xs >= 0) bam_aux_update_int(b, "XS", xs);
	}
	if (c->rg_id) bam_aux_append(b, "RG", 'Z', strlen(c->rg_id) + 1, (const uint8_t *)c->rg_id);
	return b;
}

static int cmp_hit(const void *a, const void *b)
{
	const hit_t *x = a, *y = b;
	if (x->score != y->score) return y->score - x->score;
	if (x->gpos != y->gpos) return x->gpos < y->gpos ? -1 : 1;
	return x->strand - y->strand;
}

/* Map one read given its candidate loci; fills recs (primary first). Returns the number of records. */
static int map_one(const ctx_t *c, scratch_t *s, const es_read_t *r, const uint8_t *fw, const uint8_t *rc,
                   const es_locus_t *loci, int n_loci, bam1_t **recs)
{
	const es_map_opt_t *o = c->opt;
	const es_ref_t *ref = c->ref;
	int qlen = r->len, n_hits = 0;
	int nn = 0;
	for (int i = 0; i < qlen; i++) nn += fw[i] == 4;
	if (qlen < o->min_len || nn * 2 > qlen || n_loci == 0) goto unmapped;
	if (s->m_hits < n_loci) { s->m_hits = n_loci; s->hits = es_realloc(s->hits, n_loci * sizeof(hit_t)); }
	/* locate the read inside each locus; keep the loci whose k-mer support is near the best */
	int support[256], strand_of[256], dlo_of[256], dhi_of[256], ci_of[256];
	int64_t rb_of[256];
	int top = 0;
	if (n_loci > 256) n_loci = 256;
	build_read_table(s, fw, qlen);
	/* loci whose embedding similarity is far below the best one's are neither the origin nor a competing copy */
	float min_score = loci[0].score * o->locus_ratio;
	for (int i = 0; i < n_loci; i++) {
		support[i] = 0;
		if (i >= 2 && loci[i].score < min_score) continue;
		int ci = ci_of[i] = es_ref_contig_at(ref, loci[i].beg);
		int64_t cb = ref->contig[ci].off, ce = cb + ref->contig[ci].len;
		int64_t rb = loci[i].beg - qlen, re = loci[i].end + qlen;
		if (rb < cb) rb = cb;
		if (re > ce) re = ce;
		if (re - rb > s->m_region) { s->m_region = re - rb; s->region = es_realloc(s->region, s->m_region); }
		es_ref_get(ref, rb, re, s->region);
		support[i] = locate_in_region(s, s->region, (int)(re - rb), qlen, &strand_of[i], &dlo_of[i], &dhi_of[i]);
		rb_of[i] = rb;
		if (support[i] > top) top = support[i];
	}
	if (top == 0) goto unmapped;
	int n_aligned = 0;
	for (int i = 0; i < n_loci && n_aligned < o->max_align; i++) {
		if (support[i] == 0 || support[i] * 4 < top) continue;
		int ci = ci_of[i];
		int64_t ce = ref->contig[ci].off + ref->contig[ci].len;
		int64_t tb = rb_of[i] + dlo_of[i] - 40, te = rb_of[i] + dhi_of[i] + qlen + 40;
		if (tb < ref->contig[ci].off) tb = ref->contig[ci].off;
		if (te > ce) te = ce;
		if (te <= tb) continue;
		if (te - tb > s->m_region) { s->m_region = te - tb; s->region = es_realloc(s->region, s->m_region); }
		es_ref_get(ref, tb, te, s->region);
		hit_t h;
		memset(&h, 0, sizeof h);
		h.strand = strand_of[i];
		if (es_align(h.strand ? rc : fw, qlen, s->region, (int)(te - tb), &o->sc, &h.aln) < 0) continue;
		n_aligned++;
		h.score = h.aln.score;
		h.gpos = tb + h.aln.tbeg;
		/* the same placement found through two loci: keep one */
		int dup = 0;
		for (int j = 0; j < n_hits; j++)
			if (s->hits[j].strand == h.strand && llabs(s->hits[j].gpos - h.gpos) < qlen / 2) {
				dup = 1;
				if (cmp_hit(&h, &s->hits[j]) < 0) { es_aln_free(&s->hits[j].aln); s->hits[j] = h; }
				else es_aln_free(&h.aln);
				break;
			}
		if (!dup) s->hits[n_hits++] = h;
	}
	if (n_hits == 0) goto unmapped;
	qsort(s->hits, n_hits, sizeof(hit_t), cmp_hit);
	if (s->hits[0].score < o->min_score) goto unmapped_free;
	{	/* equally good placements (repeats): pick one by a hash of the read name, like bwa, so that the reads of a
		 * repeat spread over its copies instead of piling onto the leftmost; deterministic for a given read */
		int n_tie = 1;
		while (n_tie < n_hits && s->hits[n_tie].score == s->hits[0].score) n_tie++;
		if (n_tie > 1) {
			int pick = (int)(es_checksum(r->name, strlen(r->name), 0) % (uint64_t)n_tie);
			hit_t tmp = s->hits[0]; s->hits[0] = s->hits[pick]; s->hits[pick] = tmp;
		}
	}
	int sub = n_hits > 1 ? s->hits[1].score : 0;
	int mapq = compute_mapq(&o->sc, &s->hits[0], sub, qlen, o->deficit_coef);
	int n_rec = 0;
	const hit_t *b = &s->hits[0];
	recs[n_rec++] = make_record(c, r, b->strand ? 16 : 0, b, mapq, n_hits > 1 ? sub : -1, b->strand ? rc : fw);
	for (int j = 1; j < n_hits && n_rec <= o->n_secondary; j++) {
		if (s->hits[j].score < o->min_score) break;
		const hit_t *h = &s->hits[j];
		recs[n_rec++] = make_record(c, r, 0x100 | (h->strand ? 16 : 0), h, 0, -1, h->strand ? rc : fw);
	}
	for (int j = 0; j < n_hits; j++) es_aln_free(&s->hits[j].aln);
	return n_rec;
unmapped_free:
	for (int j = 0; j < n_hits; j++) es_aln_free(&s->hits[j].aln);
unmapped:
	recs[0] = make_record(c, r, 4, NULL, 0, -1, fw);
	return 1;
}

/* ---------------- threads and batches ---------------- */

#define CHUNK 64   /* reads per unit of work: one vector-store call */

static void *worker(void *arg)
{
	batch_t *bt = arg;
	const ctx_t *c = bt->ctx;
	const es_map_opt_t *o = c->opt;
	scratch_t s;
	memset(&s, 0, sizeof s);
	s.loci = es_malloc((size_t)CHUNK * o->max_loci * sizeof(es_locus_t));
	s.n_loci = es_malloc(CHUNK * sizeof(int));
	const uint8_t *seqs[CHUNK];
	int lens[CHUNK];
	for (;;) {
		int ch = atomic_fetch_add(&bt->next, 1);
		int i0 = ch * CHUNK, i1 = i0 + CHUNK;
		if (i0 >= bt->n) break;
		if (i1 > bt->n) i1 = bt->n;
		for (int i = i0; i < i1; i++) { seqs[i - i0] = bt->fw[i]; lens[i - i0] = bt->reads[i].len; }
		int flags = o->exact ? ES_SEARCH_EXACT : 0;
		if (es_index_candidates(c->idx, c->enc, i1 - i0, seqs, lens, o->max_loci, s.loci, s.n_loci, flags) < 0) {
			bt->failed = 1;
			snprintf(bt->err, sizeof bt->err, "%s", es_last_error());
			break;
		}
		for (int i = i0; i < i1; i++) {
			bt->recs[i] = es_malloc((1 + o->n_secondary) * sizeof(bam1_t *));
			bt->n_recs[i] = map_one(c, &s, &bt->reads[i], bt->fw[i], bt->rc[i], s.loci + (size_t)(i - i0) * o->max_loci, s.n_loci[i - i0], bt->recs[i]);
		}
	}
	free(s.region); free(s.tkey); free(s.tpos); free(s.votes); free(s.loci); free(s.n_loci); free(s.hits);
	return NULL;
}

static sam_hdr_t *make_header(const es_ref_t *ref, const es_map_opt_t *o, const char *cmdline)
{
	kstring_t t = { 0, 0, NULL };
	ksprintf(&t, "@HD\tVN:1.6\tSO:unsorted\tGO:query\n");
	for (int i = 0; i < ref->n_contig; i++) ksprintf(&t, "@SQ\tSN:%s\tLN:%lld\n", ref->contig[i].name, (long long)ref->contig[i].len);
	if (o->rg_line) ksprintf(&t, "%s\n", o->rg_line);
	ksprintf(&t, "@PG\tID:esalign\tPN:esalign\tVN:%s\tCL:%s\n", ES_VERSION, cmdline ? cmdline : "esalign");
	sam_hdr_t *h = sam_hdr_parse(t.l, t.s);
	free(t.s);
	return h;
}

int es_map_file(const char *index_path, const char *reads_path, const char *out_path, const es_map_opt_t *opt,
                const char *cmdline, es_map_stats_t *stats)
{
	int ret = -1;
	double t0 = es_time();
	es_index_t *idx = NULL;
	es_encoder_t *enc = NULL;
	es_reader_t *rd = NULL;
	samFile *out = NULL;
	sam_hdr_t *hdr = NULL;
	char *tmp = NULL, *rg_id = NULL, *rg_line = NULL;
	batch_t bt;
	memset(&bt, 0, sizeof bt);
	memset(stats, 0, sizeof *stats);
	es_map_opt_t o = *opt;
	if (o.n_threads < 1) o.n_threads = 1;
	if (o.max_loci < 1) o.max_loci = 1;
	if (o.rg_line) {
		if (!(rg_line = es_map_parse_rg(o.rg_line, &rg_id))) return -1;
		o.rg_line = rg_line;
	}
	if (!(idx = es_index_load(index_path))) goto done;
	if (o.nprobe > 0 && es_index_ivf_lists(idx) > 0) es_index_set_nprobe(idx, o.nprobe);
	if (o.encoder_spec) {   /* an explicit encoder must be the one the index was built with */
		if (!(enc = es_encoder_open(o.encoder_spec)) || es_index_check_encoder(idx, enc) < 0) goto done;
	} else if (!(enc = es_index_open_encoder(idx))) goto done;
	if (!(rd = es_reader_open(reads_path))) goto done;
	ctx_t ctx = { idx, es_index_ref(idx), enc, &o, rg_id };
	hdr = make_header(ctx.ref, &o, cmdline);
	if (!hdr) { es_error("%s: cannot build the SAM header", out_path); goto done; }
	int is_bam = strlen(out_path) > 4 && strcmp(out_path + strlen(out_path) - 4, ".bam") == 0;
	if (strcmp(out_path, "-") == 0) {
		out = sam_open("-", "w");
	} else {
		tmp = es_malloc(strlen(out_path) + 32);
		sprintf(tmp, "%s.tmp.%d", out_path, (int)getpid());
		out = sam_open(tmp, is_bam ? "wb" : "w");
	}
	if (!out) { es_error("%s: cannot create output", out_path); goto done; }
	if (sam_hdr_write(out, hdr) < 0) { es_error("%s: cannot write the SAM header", out_path); goto done; }
	int cap = o.batch_size;
	bt.reads = es_calloc(cap, sizeof(es_read_t));
	bt.fw = es_calloc(cap, sizeof(uint8_t *));
	bt.rc = es_calloc(cap, sizeof(uint8_t *));
	bt.recs = es_calloc(cap, sizeof(bam1_t **));
	bt.n_recs = es_calloc(cap, sizeof(int));
	bt.ctx = &ctx;
	for (;;) {
		int n = 0, r = 0;
		while (n < cap && (r = es_reader_next(rd, &bt.reads[n])) > 0) {
			es_read_t *rr = &bt.reads[n];
			if (rr->len > MAX_READ_LEN) {
				es_error("%s: record %lld ('%s'): read of %d bp is longer than the %d bp supported", reads_path,
				         (long long)rr->id + 1, rr->name, rr->len, MAX_READ_LEN);
				r = -1;
				break;
			}
			bt.fw[n] = es_realloc(bt.fw[n], rr->len);
			bt.rc[n] = es_realloc(bt.rc[n], rr->len);
			for (int i = 0; i < rr->len; i++) bt.fw[n][i] = es_nt4[(uint8_t)rr->seq[i]];
			memcpy(bt.rc[n], bt.fw[n], rr->len);
			es_revcomp(bt.rc[n], rr->len);
			n++;
		}
		if (r < 0) goto done;
		if (n == 0) break;
		bt.n = n;
		atomic_store(&bt.next, 0);
		pthread_t th[64];
		int nt = o.n_threads > 64 ? 64 : o.n_threads;
		for (int t = 1; t < nt; t++) pthread_create(&th[t], NULL, worker, &bt);
		worker(&bt);
		for (int t = 1; t < nt; t++) pthread_join(th[t], NULL);
		if (bt.failed) { es_error("%s", bt.err); goto done; }
		int werr = 0;
		for (int i = 0; i < n; i++) {
			if (bt.n_recs[i] > 0 && bt.recs[i][0] && !(bt.recs[i][0]->core.flag & 4)) stats->n_mapped++;
			for (int j = 0; j < bt.n_recs[i]; j++) {
				if (!werr && (!bt.recs[i][j] || sam_write1(out, hdr, bt.recs[i][j]) < 0)) werr = 1;
				if (bt.recs[i][j]) bam_destroy1(bt.recs[i][j]);
			}
			free(bt.recs[i]); bt.recs[i] = NULL; bt.n_recs[i] = 0;
		}
		if (werr) { es_error("%s: write failed", out_path); goto done; }
		stats->n_reads += n;
		es_log(3, "align", "%lld reads", (long long)stats->n_reads);
		if (r == 0) break;
	}
	if (sam_close(out) < 0) { out = NULL; es_error("%s: write failed on close", out_path); goto done; }
	out = NULL;
	if (tmp && rename(tmp, out_path) != 0) { es_error("%s: cannot rename from %s", out_path, tmp); goto done; }
	free(tmp); tmp = NULL;
	ret = 0;
done:
	if (out) sam_close(out);
	if (tmp) unlink(tmp);
	free(tmp);
	if (bt.reads) {
		for (int i = 0; i < o.batch_size; i++) {
			es_read_free(&bt.reads[i]); free(bt.fw[i]); free(bt.rc[i]);
			for (int j = 0; bt.recs[i] && j < bt.n_recs[i]; j++) if (bt.recs[i][j]) bam_destroy1(bt.recs[i][j]);
			free(bt.recs[i]);
		}
		free(bt.reads); free(bt.fw); free(bt.rc); free(bt.recs); free(bt.n_recs);
	}
	if (hdr) sam_hdr_destroy(hdr);
	es_reader_close(rd);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	free(rg_id); free(rg_line);
	stats->seconds = es_time() - t0;
	return ret;
}
