/* eval.c — accuracy of an alignment file against simulated truth: correct / wrong / unmapped and a MAPQ table
 * (mapped % and error % at MAPQ >= 0,1,10,20,30,60). Truth from 'esalign simulate' read names or a truth SAM/BAM. */
#include "eval.h"
#include "simulate.h"
#include "util.h"
#include <htslib/sam.h>
#include <htslib/khash.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>

const int es_eval_mapq_thr[ES_EVAL_N_MAPQ] = { 0, 1, 10, 20, 30, 60 };

void es_eval_opt_init(es_eval_opt_t *opt)
{
	opt->max_dist = 20;
	opt->region = NULL;
}

void es_eval_init(es_eval_t *ev) { memset(ev, 0, sizeof *ev); }

void es_eval_add(es_eval_t *ev, int mapped, int correct, int mapq)
{
	ev->n_reads++;
	if (!mapped) {
		ev->n_unmapped++;
		return;
	}
	ev->n_mapped++;
	if (correct)
		ev->n_correct++;
	else
		ev->n_wrong++;
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++) {
		if (mapq < es_eval_mapq_thr[i])
			continue;
		ev->mapq_mapped[i]++;
		if (!correct)
			ev->mapq_wrong[i]++;
	}
}

/* k reads of the truth with no primary record: the same as k calls of es_eval_add(ev, 0, 0, 0), in one step (in
 * name mode k can be large) */
static void add_absent(es_eval_t *ev, int64_t k)
{
	ev->n_reads += k;
	ev->n_unmapped += k;
	ev->n_absent += k;
}

static double pct(int64_t a, int64_t b) { return b > 0 ? 100.0 * (double)a / (double)b : 0.0; }

void es_eval_finish(es_eval_t *ev)
{
	ev->mapped_pct = pct(ev->n_mapped, ev->n_reads);
	ev->correct_pct = pct(ev->n_correct, ev->n_reads);
	ev->wrong_pct = pct(ev->n_wrong, ev->n_reads);
	ev->unmapped_pct = pct(ev->n_unmapped, ev->n_reads);
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++) {
		ev->mapq_mapped_pct[i] = pct(ev->mapq_mapped[i], ev->n_reads);
		ev->mapq_err_pct[i] = pct(ev->mapq_wrong[i], ev->mapq_mapped[i]);
	}
}

static void print_tsv(FILE *fp, const es_eval_t *ev)
{
	fprintf(fp, "reads\tmapped_pct\tcorrect_pct\twrong_pct\tunmapped_pct");
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++)
		fprintf(fp, "\tmapq%d_mapped_pct\tmapq%d_err_pct", es_eval_mapq_thr[i], es_eval_mapq_thr[i]);
	fprintf(fp, "\n%lld\t%.4f\t%.4f\t%.4f\t%.4f", (long long)ev->n_reads, ev->mapped_pct, ev->correct_pct,
	        ev->wrong_pct, ev->unmapped_pct);
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++)
		fprintf(fp, "\t%.4f\t%.4f", ev->mapq_mapped_pct[i], ev->mapq_err_pct[i]);
	fputc('\n', fp);
}

void es_eval_print(FILE *fp, const es_eval_t *ev, int tsv)
{
	if (tsv) {
		print_tsv(fp, ev);
		return;
	}
	fprintf(fp, "reads     %10lld\n", (long long)ev->n_reads);
	fprintf(fp, "mapped    %10lld  %7.3f %%\n", (long long)ev->n_mapped, ev->mapped_pct);
	fprintf(fp, "correct   %10lld  %7.3f %%\n", (long long)ev->n_correct, ev->correct_pct);
	fprintf(fp, "wrong     %10lld  %7.3f %%\n", (long long)ev->n_wrong, ev->wrong_pct);
	fprintf(fp, "unmapped  %10lld  %7.3f %%", (long long)ev->n_unmapped, ev->unmapped_pct);
	if (ev->n_absent)
		fprintf(fp, "  (%lld absent from the SAM)", (long long)ev->n_absent);
	fprintf(fp, "\n\nMAPQ>=   mapped %%   error %%   (error %% among the reads mapped at that MAPQ)\n");
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++)
		fprintf(fp, "%6d  %9.3f  %8.3f\n", es_eval_mapq_thr[i], ev->mapq_mapped_pct[i], ev->mapq_err_pct[i]);
	if (!ev->n_secondary && !ev->n_supplementary && !ev->n_outside && !ev->n_no_truth)
		return;
	fprintf(fp, "\nnot scored: %lld secondary and %lld supplementary records", (long long)ev->n_secondary,
	        (long long)ev->n_supplementary);
	if (ev->n_outside)
		fprintf(fp, "; %lld reads from outside the region", (long long)ev->n_outside);
	if (ev->n_no_truth)
		fprintf(fp, "; %lld reads unplaced in the truth", (long long)ev->n_no_truth);
	fputc('\n', fp);
}

/* ---- truth from a SAM/BAM ---- */

typedef struct {
	int32_t tid;    /* contig in the truth header; -1: the read is unplaced in the truth */
	int64_t pos;    /* 0-based leftmost */
	int8_t seen;    /* a primary record was met in the scored file */
} truth_t;

KHASH_MAP_INIT_STR(truth, int64_t)

typedef struct {
	khash_t(truth) *h;
	truth_t *a;
	int64_t n, m;
	char **tname;   /* contig names of the truth header */
	int n_tname;
} truthset_t;

static void truthset_free(truthset_t *ts)
{
	if (ts->h) {
		for (khint_t k = kh_begin(ts->h); k != kh_end(ts->h); k++)
			if (kh_exist(ts->h, k))
				free((char *)kh_key(ts->h, k));
		kh_destroy(truth, ts->h);
	}
	for (int i = 0; i < ts->n_tname; i++)
		free(ts->tname[i]);
	free(ts->tname);
	free(ts->a);
	memset(ts, 0, sizeof *ts);
}

/* QNAME without a trailing /1 or /2 (ART writes them in some modes), into buf */
static const char *strip_mate(const char *q, char *buf, size_t cap)
{
	size_t n = strlen(q);
	if (n >= 2 && q[n - 2] == '/' && (q[n - 1] == '1' || q[n - 1] == '2') && n - 2 < cap) {
		memcpy(buf, q, n - 2);
		buf[n - 2] = 0;
		return buf;
	}
	return q;
}

/* The key of a record's read: its QNAME without /1 or /2, and for a mate of a pair (FLAG 0x40 or 0x80) "/1" or
 * "/2" again, so that both mates of a pair are scored, each against its own truth. (A name suffix alone says
 * nothing: ART's single-end truth names end in /1 too.) */
static const char *read_key(const bam1_t *b, char *buf, size_t cap)
{
	const char *q = bam_get_qname(b);
	size_t n = strlen(q);
	const char *base = strip_mate(q, buf, cap);
	int mate = b->core.flag & BAM_FREAD1 ? 1 : b->core.flag & BAM_FREAD2 ? 2 : 0;
	if (!mate)
		return base;
	if (base == q) {
		if (n + 3 > cap)
			return q;
		memcpy(buf, q, n + 1);
	}
	size_t l = strlen(buf);
	buf[l] = '/';
	buf[l + 1] = (char)('0' + mate);
	buf[l + 2] = 0;
	return buf;
}

/* A record's contig index must name one of the n_ref contigs its arrays were sized from. htslib can return a larger
 * one: a malformed @SQ line (e.g. LN:-5) is skipped when the header is read but counted once the first record makes
 * htslib parse the header again. */
static int check_tid(const char *fn, int64_t rec, const bam1_t *b, int n_ref)
{
	if (b->core.tid < n_ref)
		return 0;
	return es_error("%s: record %lld: read '%s' has contig index %d but the header has %d contigs "
	                "(malformed @SQ line?)", fn, (long long)rec, bam_get_qname(b), b->core.tid, n_ref);
}

/* Add the truth of one primary record. 0 ok, -1 with es_error set. */
static int truthset_add(truthset_t *ts, const char *fn, int64_t rec, const bam1_t *b)
{
	char buf[1024];
	const char *q = read_key(b, buf, sizeof buf);
	if (check_tid(fn, rec, b, ts->n_tname) < 0)
		return -1;
	int absent;
	khint_t k = kh_put(truth, ts->h, q, &absent);
	if (absent < 0)
		return es_error("%s: out of memory", fn);
	if (!absent)
		return es_error("%s: record %lld: read '%s' has two primary records in the truth", fn, (long long)rec, q);
	kh_key(ts->h, k) = es_strdup(q);
	if (ts->n == ts->m) {
		ts->m = ts->m ? 2 * ts->m : 1024;
		ts->a = es_realloc(ts->a, ts->m * sizeof(truth_t));
	}
	truth_t *t = &ts->a[ts->n];
	int unplaced = (b->core.flag & BAM_FUNMAP) || b->core.tid < 0;
	t->tid = unplaced ? -1 : b->core.tid;
	t->pos = unplaced ? -1 : b->core.pos;
	t->seen = 0;
	kh_val(ts->h, k) = ts->n++;
	return 0;
}

static int truthset_load(truthset_t *ts, const char *fn)
{
	memset(ts, 0, sizeof *ts);
	errno = 0;
	samFile *fp = sam_open(fn, "r");
	if (!fp)
		return es_error("%s: cannot open the truth file: %s", fn, errno ? strerror(errno) : "unknown format");
	sam_hdr_t *hdr = sam_hdr_read(fp);
	if (!hdr) {
		sam_close(fp);
		return es_error("%s: cannot read the SAM/BAM header of the truth file", fn);
	}
	ts->h = kh_init(truth);
	ts->n_tname = sam_hdr_nref(hdr);
	ts->tname = es_calloc(ts->n_tname ? ts->n_tname : 1, sizeof(char *));
	for (int i = 0; i < ts->n_tname; i++)
		ts->tname[i] = es_strdup(sam_hdr_tid2name(hdr, i));
	bam1_t *b = bam_init1();
	int ret, rc = 0;
	int64_t rec = 0;
	while (rc == 0 && (ret = sam_read1(fp, hdr, b)) >= 0) {
		rec++;
		if (!(b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)))
			rc = truthset_add(ts, fn, rec, b);
	}
	if (rc == 0 && ret < -1)
		rc = es_error("%s: malformed or truncated SAM/BAM after record %lld", fn, (long long)rec);
	bam_destroy1(b);
	sam_hdr_destroy(hdr);
	sam_close(fp);
	if (rc < 0)
		truthset_free(ts);
	return rc;
}

/* ---- read IDs met in name mode ---- */

/* One bit per read ID in [0, m); grown to the largest ID met, never past ES_EVAL_MAX_READ_ID. */
typedef struct {
	uint64_t *bit;
	int64_t m;       /* IDs held: a multiple of 64 */
	int64_t max;     /* largest ID set; -1: none */
} idset_t;

/* Set id; returns 1 if it was set already, 0 if not. The caller keeps id in [0, ES_EVAL_MAX_READ_ID]. */
static int idset_put(idset_t *s, int64_t id)
{
	if (id >= s->m) {
		int64_t m = s->m ? 2 * s->m : 1024;
		if (m <= id)
			m = id + 1;
		if (m > ES_EVAL_MAX_READ_ID + 1)
			m = ES_EVAL_MAX_READ_ID + 1;
		m = (m + 63) & ~(int64_t)63;
		s->bit = es_realloc(s->bit, m / 8);
		memset(s->bit + s->m / 64, 0, (m - s->m) / 8);
		s->m = m;
	}
	uint64_t mask = (uint64_t)1 << (id & 63);
	if (s->bit[id >> 6] & mask)
		return 1;
	s->bit[id >> 6] |= mask;
	if (id > s->max)
		s->max = id;
	return 0;
}

/* IDs in [0, max] not set */
static int64_t idset_n_unset(const idset_t *s)
{
	int64_t n_set = 0;
	for (int64_t w = 0; w <= s->max >> 6; w++)
		n_set += __builtin_popcountll(s->bit[w]);
	return s->max + 1 - n_set;
}

/* ---- scoring ---- */

/* Distance of a mapped record from the true leftmost position: the nearer of SAM POS and the unclipped start (POS
 * less the leading soft/hard clip). Aligners clip a noisy read start (ART's MiSeq profile makes the first ~30 bases
 * noisy) and SAM POS then moves right by the clip although the read is placed right; the unclipped start keeps such
 * reads correct, and POS itself keeps reads whose clipped start hides an indel. */
static int64_t pos_dist(const bam1_t *b, int64_t tpos)
{
	const uint32_t *cig = bam_get_cigar(b);
	int64_t clip = 0;
	for (uint32_t i = 0; i < b->core.n_cigar; i++) {
		int op = bam_cigar_op(cig[i]);
		if (op != BAM_CSOFT_CLIP && op != BAM_CHARD_CLIP)
			break;
		clip += bam_cigar_oplen(cig[i]);
	}
	int64_t d1 = b->core.pos - tpos;
	int64_t d2 = b->core.pos - clip - tpos;
	if (d1 < 0)
		d1 = -d1;
	if (d2 < 0)
		d2 = -d2;
	return d1 < d2 ? d1 : d2;
}

typedef struct {
	char *contig;      /* NULL: no region */
	int64_t beg, end;  /* [beg,end) 0-based; end -1: to the contig's end */
} region_t;

static int in_region(const region_t *rg, const char *contig, int contig_len, int64_t pos)
{
	if (!rg->contig)
		return 1;
	if ((int)strlen(rg->contig) != contig_len || memcmp(rg->contig, contig, contig_len) != 0)
		return 0;
	return pos >= rg->beg && (rg->end < 0 || pos < rg->end);
}

/* The state of one es_eval_sam call. */
typedef struct {
	const es_eval_opt_t *opt;
	const char *fn;          /* the scored file as messages name it */
	const char *truth_path;  /* NULL: truth from the read names */
	region_t rg;
	truthset_t ts;           /* truth-file mode */
	samFile *fp;
	sam_hdr_t *hdr;
	int n_ref;               /* contigs of hdr when it was read: the size of tmap */
	int32_t *tmap;           /* contig of hdr -> contig of the truth, -1 if absent there (truth-file mode) */
	idset_t ids;             /* name mode: read IDs met */
	int64_t rec;             /* records read, for messages */
	es_eval_t *out;
} scorer_t;

/* Truth-file mode: 1 if the record is to be scored (*correct set), 0 if it is counted as not scored, -1 on error. */
static int score_truth(scorer_t *s, const bam1_t *b, int mapped, int *correct)
{
	char buf[1024];
	const char *q = read_key(b, buf, sizeof buf);
	khint_t k = kh_get(truth, s->ts.h, q);
	if (k == kh_end(s->ts.h))
		return es_error("%s: record %lld: read '%s' is not in the truth file %s", s->fn, (long long)s->rec, q,
		                s->truth_path);
	truth_t *t = &s->ts.a[kh_val(s->ts.h, k)];
	if (t->seen)
		return es_error("%s: record %lld: read '%s' has two primary records", s->fn, (long long)s->rec, q);
	t->seen = 1;
	if (t->tid < 0) {
		s->out->n_no_truth++;
		return 0;
	}
	const char *tc = s->ts.tname[t->tid];
	if (!in_region(&s->rg, tc, (int)strlen(tc), t->pos)) {
		s->out->n_outside++;
		return 0;
	}
	*correct = mapped && s->tmap[b->core.tid] == t->tid && pos_dist(b, t->pos) <= s->opt->max_dist;
	return 1;
}

/* Name mode: as score_truth, the truth from the name s<ID>!<CONTIG>!<POS>!<STRAND>. */
static int score_name(scorer_t *s, const bam1_t *b, int mapped, int *correct)
{
	const char *qname = bam_get_qname(b);
	const char *tc;
	int tlen;
	int64_t tpos;
	char strand;
	if (es_sim_name_parse(qname, &tc, &tlen, &tpos, &strand) < 0)
		return es_error("%s: record %lld: read name '%s' carries no truth (not from 'esalign simulate'; use --truth)",
		                s->fn, (long long)s->rec, qname);
	long long id = strtoll(qname + 1, NULL, 10);  /* digits, as the parse checked; LLONG_MAX if too many */
	if (id > ES_EVAL_MAX_READ_ID)
		return es_error("%s: record %lld: read '%s' has an implausibly large ID (eval holds IDs up to %lld)",
		                s->fn, (long long)s->rec, qname, (long long)ES_EVAL_MAX_READ_ID);
	if (idset_put(&s->ids, id))
		return es_error("%s: record %lld: read '%s' has two primary records", s->fn, (long long)s->rec, qname);
	if (!in_region(&s->rg, tc, tlen, tpos)) {
		s->out->n_outside++;
		return 0;
	}
	if (mapped) {
		const char *ac = sam_hdr_tid2name(s->hdr, b->core.tid);
		*correct = (int)strlen(ac) == tlen && memcmp(ac, tc, tlen) == 0 && pos_dist(b, tpos) <= s->opt->max_dist;
	}
	return 1;
}

/* One record: 0 ok, -1 on error. */
static int score_record(scorer_t *s, const bam1_t *b)
{
	/* the smaller count: the arrays were sized from n_ref, and htslib's own may differ after a reparse */
	int n_ref = sam_hdr_nref(s->hdr) < s->n_ref ? sam_hdr_nref(s->hdr) : s->n_ref;
	if (check_tid(s->fn, s->rec, b, n_ref) < 0)
		return -1;
	uint16_t flag = b->core.flag;
	if (flag & BAM_FSECONDARY) {
		s->out->n_secondary++;
		return 0;
	}
	if (flag & BAM_FSUPPLEMENTARY) {
		s->out->n_supplementary++;
		return 0;
	}
	int mapped = !(flag & BAM_FUNMAP) && b->core.tid >= 0;
	int correct = 0;
	int r = s->truth_path ? score_truth(s, b, mapped, &correct) : score_name(s, b, mapped, &correct);
	if (r > 0)
		es_eval_add(s->out, mapped, correct, b->core.qual);
	return r < 0 ? -1 : 0;
}

/* Open the scored file and map its contigs to the truth's. 0 ok, -1 with es_error set. */
static int scorer_open(scorer_t *s, const char *sam_path)
{
	errno = 0;
	s->fp = sam_open(sam_path, "r");
	if (!s->fp)
		return es_error("%s: cannot open: %s", s->fn, errno ? strerror(errno) : "unknown format");
	s->hdr = sam_hdr_read(s->fp);
	if (!s->hdr)
		return es_error("%s: cannot read the SAM/BAM header (not SAM/BAM?)", s->fn);
	s->n_ref = sam_hdr_nref(s->hdr);
	if (!s->truth_path)
		return 0;
	s->tmap = es_malloc((s->n_ref ? s->n_ref : 1) * sizeof(int32_t));
	for (int i = 0; i < s->n_ref; i++) {
		s->tmap[i] = -1;
		for (int j = 0; j < s->ts.n_tname && s->tmap[i] < 0; j++)
			if (strcmp(sam_hdr_tid2name(s->hdr, i), s->ts.tname[j]) == 0)
				s->tmap[i] = j;
	}
	return 0;
}

/* Reads with a truth but no primary record are unmapped (name mode: the IDs below the largest, without a region). */
static void score_absent(scorer_t *s)
{
	if (!s->truth_path) {
		if (!s->rg.contig)
			add_absent(s->out, idset_n_unset(&s->ids));
		return;
	}
	for (int64_t i = 0; i < s->ts.n; i++) {
		const truth_t *t = &s->ts.a[i];
		if (t->seen)
			continue;
		if (t->tid < 0) {
			s->out->n_no_truth++;
			continue;
		}
		const char *tc = s->ts.tname[t->tid];
		if (!in_region(&s->rg, tc, (int)strlen(tc), t->pos)) {
			s->out->n_outside++;
			continue;
		}
		add_absent(s->out, 1);
	}
}

static void scorer_free(scorer_t *s)
{
	if (s->hdr)
		sam_hdr_destroy(s->hdr);
	if (s->fp)
		sam_close(s->fp);
	free(s->tmap);
	free(s->ids.bit);
	free(s->rg.contig);
	truthset_free(&s->ts);
}

/* Score every record of the open file, then the reads it lacks. 0 ok, -1 with es_error set. */
static int score_file(scorer_t *s)
{
	bam1_t *b = bam_init1();
	int ret = -1;
	int rc = 0;
	while (rc == 0 && (ret = sam_read1(s->fp, s->hdr, b)) >= 0) {
		s->rec++;
		rc = score_record(s, b);
	}
	bam_destroy1(b);
	if (rc < 0)
		return -1;
	if (ret < -1)
		return es_error("%s: malformed or truncated SAM/BAM after record %lld", s->fn, (long long)s->rec);
	score_absent(s);
	return 0;
}

int es_eval_sam(const char *sam_path, const char *truth_path, const es_eval_opt_t *opt, es_eval_t *out)
{
	es_eval_init(out);
	scorer_t s;
	memset(&s, 0, sizeof s);
	s.opt = opt;
	s.fn = strcmp(sam_path, "-") == 0 ? "<stdin>" : sam_path;
	s.truth_path = truth_path;
	s.rg.end = -1;
	s.ids.max = -1;
	s.out = out;
	int rc = -1;
	if (opt->region && es_sim_region_parse(opt->region, &s.rg.contig, &s.rg.beg, &s.rg.end) < 0)
		goto end;
	if (truth_path && truthset_load(&s.ts, truth_path) < 0)
		goto end;
	if (scorer_open(&s, sam_path) < 0)
		goto end;
	if (score_file(&s) < 0)
		goto end;
	es_eval_finish(out);
	rc = 0;
end:
	scorer_free(&s);
	return rc;
}
