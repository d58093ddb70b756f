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
	if (!mapped) { ev->n_unmapped++; return; }
	ev->n_mapped++;
	if (correct) ev->n_correct++; else ev->n_wrong++;
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++)
		if (mapq >= es_eval_mapq_thr[i]) { ev->mapq_mapped[i]++; if (!correct) ev->mapq_wrong[i]++; }
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

void es_eval_print(FILE *fp, const es_eval_t *ev, int tsv)
{
	if (tsv) {
		fprintf(fp, "reads\tmapped_pct\tcorrect_pct\twrong_pct\tunmapped_pct");
		for (int i = 0; i < ES_EVAL_N_MAPQ; i++) fprintf(fp, "\tmapq%d_mapped_pct\tmapq%d_err_pct", es_eval_mapq_thr[i], es_eval_mapq_thr[i]);
		fprintf(fp, "\n%lld\t%.4f\t%.4f\t%.4f\t%.4f", (long long)ev->n_reads, ev->mapped_pct, ev->correct_pct, ev->wrong_pct, ev->unmapped_pct);
		for (int i = 0; i < ES_EVAL_N_MAPQ; i++) fprintf(fp, "\t%.4f\t%.4f", ev->mapq_mapped_pct[i], ev->mapq_err_pct[i]);
		fputc('\n', fp);
		return;
	}
	fprintf(fp, "reads     %10lld\n", (long long)ev->n_reads);
	fprintf(fp, "mapped    %10lld  %7.3f %%\n", (long long)ev->n_mapped, ev->mapped_pct);
	fprintf(fp, "correct   %10lld  %7.3f %%\n", (long long)ev->n_correct, ev->correct_pct);
	fprintf(fp, "wrong     %10lld  %7.3f %%\n", (long long)ev->n_wrong, ev->wrong_pct);
	fprintf(fp, "unmapped  %10lld  %7.3f %%", (long long)ev->n_unmapped, ev->unmapped_pct);
	if (ev->n_absent) fprintf(fp, "  (%lld absent from the SAM)", (long long)ev->n_absent);
	fprintf(fp, "\n\nMAPQ>=   mapped %%   error %%   (error %% among the reads mapped at that MAPQ)\n");
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++)
		fprintf(fp, "%6d  %9.3f  %8.3f\n", es_eval_mapq_thr[i], ev->mapq_mapped_pct[i], ev->mapq_err_pct[i]);
	if (ev->n_secondary || ev->n_supplementary || ev->n_outside || ev->n_no_truth) {
		fprintf(fp, "\nnot scored: %lld secondary and %lld supplementary records", (long long)ev->n_secondary, (long long)ev->n_supplementary);
		if (ev->n_outside) fprintf(fp, "; %lld reads from outside the region", (long long)ev->n_outside);
		if (ev->n_no_truth) fprintf(fp, "; %lld reads unplaced in the truth", (long long)ev->n_no_truth);
		fputc('\n', fp);
	}
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
			if (kh_exist(ts->h, k)) free((char *)kh_key(ts->h, k));
		kh_destroy(truth, ts->h);
	}
	for (int i = 0; i < ts->n_tname; i++) free(ts->tname[i]);
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

static int truthset_load(truthset_t *ts, const char *fn)
{
	memset(ts, 0, sizeof *ts);
	errno = 0;
	samFile *fp = sam_open(fn, "r");
	if (!fp) return es_error("%s: cannot open the truth file: %s", fn, errno ? strerror(errno) : "unknown format");
	sam_hdr_t *hdr = sam_hdr_read(fp);
	if (!hdr) { sam_close(fp); return es_error("%s: cannot read the SAM/BAM header of the truth file", fn); }
	ts->h = kh_init(truth);
	ts->n_tname = sam_hdr_nref(hdr);
	ts->tname = es_calloc(ts->n_tname ? ts->n_tname : 1, sizeof(char *));
	for (int i = 0; i < ts->n_tname; i++) ts->tname[i] = es_strdup(sam_hdr_tid2name(hdr, i));
	bam1_t *b = bam_init1();
	int ret, rc = 0;
	int64_t rec = 0;
	char buf[1024];
	while ((ret = sam_read1(fp, hdr, b)) >= 0) {
		rec++;
		if (b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) continue;
		const char *q = strip_mate(bam_get_qname(b), buf, sizeof buf);
		int absent;
		khint_t k = kh_put(truth, ts->h, q, &absent);
		if (absent < 0) { rc = es_error("%s: out of memory", fn); break; }
		if (!absent) { rc = es_error("%s: record %lld: read '%s' has two primary records in the truth (paired-end truth is not supported)", fn, (long long)rec, q); break; }
		kh_key(ts->h, k) = es_strdup(q);
		if (ts->n == ts->m) { ts->m = ts->m ? 2 * ts->m : 1024; ts->a = es_realloc(ts->a, ts->m * sizeof(truth_t)); }
		truth_t *t = &ts->a[ts->n];
		int unplaced = (b->core.flag & BAM_FUNMAP) || b->core.tid < 0;
		t->tid = unplaced ? -1 : b->core.tid;
		t->pos = unplaced ? -1 : b->core.pos;
		t->seen = 0;
		kh_val(ts->h, k) = ts->n++;
	}
	if (rc == 0 && ret < -1) rc = es_error("%s: malformed or truncated SAM/BAM after record %lld", fn, (long long)rec);
	bam_destroy1(b);
	sam_hdr_destroy(hdr);
	sam_close(fp);
	if (rc < 0) truthset_free(ts);
	return rc;
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
		if (op != BAM_CSOFT_CLIP && op != BAM_CHARD_CLIP) break;
		clip += bam_cigar_oplen(cig[i]);
	}
	int64_t d1 = b->core.pos - tpos, d2 = b->core.pos - clip - tpos;
	if (d1 < 0) d1 = -d1;
	if (d2 < 0) d2 = -d2;
	return d1 < d2 ? d1 : d2;
}

typedef struct { char *contig; int64_t beg, end; } region_t;  /* [beg,end) 0-based; end -1: to the contig's end */

static int in_region(const region_t *rg, const char *contig, int contig_len, int64_t pos)
{
	if (!rg->contig) return 1;
	if ((int)strlen(rg->contig) != contig_len || memcmp(rg->contig, contig, contig_len) != 0) return 0;
	return pos >= rg->beg && (rg->end < 0 || pos < rg->end);
}

int es_eval_sam(const char *sam_path, const char *truth_path, const es_eval_opt_t *opt, es_eval_t *out)
{
	es_eval_init(out);
	region_t rg = { NULL, 0, -1 };
	if (opt->region && es_sim_region_parse(opt->region, &rg.contig, &rg.beg, &rg.end) < 0) return -1;
	truthset_t ts;
	memset(&ts, 0, sizeof ts);
	if (truth_path && truthset_load(&ts, truth_path) < 0) { free(rg.contig); return -1; }
	const char *fn = strcmp(sam_path, "-") == 0 ? "<stdin>" : sam_path;
	int rc = 0;
	errno = 0;
	samFile *fp = sam_open(sam_path, "r");
	sam_hdr_t *hdr = NULL;
	bam1_t *b = NULL;
	int32_t *tmap = NULL;    /* SAM contig -> truth contig (truth-file mode) */
	uint8_t *idseen = NULL;  /* name mode: read IDs met */
	int64_t m_id = 0, max_id = -1, rec = 0;
	if (!fp) { rc = es_error("%s: cannot open: %s", fn, errno ? strerror(errno) : "unknown format"); goto end; }
	if (!(hdr = sam_hdr_read(fp))) { rc = es_error("%s: cannot read the SAM/BAM header (not SAM/BAM?)", fn); goto end; }
	int n_ref = sam_hdr_nref(hdr);
	if (truth_path) {
		tmap = es_malloc((n_ref ? n_ref : 1) * sizeof(int32_t));
		for (int i = 0; i < n_ref; i++) {
			tmap[i] = -1;
			for (int j = 0; j < ts.n_tname; j++)
				if (strcmp(sam_hdr_tid2name(hdr, i), ts.tname[j]) == 0) { tmap[i] = j; break; }
		}
	}
	b = bam_init1();
	int ret;
	char buf[1024];
	while ((ret = sam_read1(fp, hdr, b)) >= 0) {
		rec++;
		uint16_t flag = b->core.flag;
		if (flag & BAM_FSECONDARY) { out->n_secondary++; continue; }
		if (flag & BAM_FSUPPLEMENTARY) { out->n_supplementary++; continue; }
		const char *qname = bam_get_qname(b);
		int mapped = !(flag & BAM_FUNMAP) && b->core.tid >= 0;
		int correct = 0;
		if (truth_path) {
			const char *q = strip_mate(qname, buf, sizeof buf);
			khint_t k = kh_get(truth, ts.h, q);
			if (k == kh_end(ts.h)) { rc = es_error("%s: record %lld: read '%s' is not in the truth file %s", fn, (long long)rec, q, truth_path); goto end; }
			truth_t *t = &ts.a[kh_val(ts.h, k)];
			if (t->seen) { rc = es_error("%s: record %lld: read '%s' has two primary records", fn, (long long)rec, q); goto end; }
			t->seen = 1;
			if (t->tid < 0) { out->n_no_truth++; continue; }
			const char *tc = ts.tname[t->tid];
			if (!in_region(&rg, tc, (int)strlen(tc), t->pos)) { out->n_outside++; continue; }
			correct = mapped && tmap[b->core.tid] == t->tid && pos_dist(b, t->pos) <= opt->max_dist;
		} else {
			const char *tc;
			int tlen;
			int64_t tpos;
			char strand;
			if (es_sim_name_parse(qname, &tc, &tlen, &tpos, &strand) < 0) {
				rc = es_error("%s: record %lld: read name '%s' carries no truth (not from 'esalign simulate'; use --truth)", fn, (long long)rec, qname);
				goto end;
			}
			int64_t id = strtoll(qname + 1, NULL, 10);
			if (id > ((int64_t)1 << 34)) { rc = es_error("%s: record %lld: read '%s' has an implausibly large ID", fn, (long long)rec, qname); goto end; }
			if (id >= m_id) {
				int64_t m = m_id ? m_id : 1024;
				while (m <= id) m *= 2;
				idseen = es_realloc(idseen, m);
				memset(idseen + m_id, 0, m - m_id);
				m_id = m;
			}
			if (idseen[id]) { rc = es_error("%s: record %lld: read '%s' has two primary records", fn, (long long)rec, qname); goto end; }
			idseen[id] = 1;
			if (id > max_id) max_id = id;
			if (!in_region(&rg, tc, tlen, tpos)) { out->n_outside++; continue; }
			if (mapped) {
				const char *ac = sam_hdr_tid2name(hdr, b->core.tid);
				correct = (int)strlen(ac) == tlen && memcmp(ac, tc, tlen) == 0 && pos_dist(b, tpos) <= opt->max_dist;
			}
		}
		es_eval_add(out, mapped, correct, b->core.qual);
	}
	if (ret < -1) { rc = es_error("%s: malformed or truncated SAM/BAM after record %lld", fn, (long long)rec); goto end; }
	/* reads with a truth but no primary record are unmapped */
	if (truth_path) {
		for (int64_t i = 0; i < ts.n; i++) {
			const truth_t *t = &ts.a[i];
			if (t->seen) continue;
			if (t->tid < 0) { out->n_no_truth++; continue; }
			if (!in_region(&rg, ts.tname[t->tid], (int)strlen(ts.tname[t->tid]), t->pos)) { out->n_outside++; continue; }
			es_eval_add(out, 0, 0, 0);
			out->n_absent++;
		}
	} else if (!rg.contig) {
		for (int64_t id = 0; id <= max_id; id++)
			if (!idseen[id]) { es_eval_add(out, 0, 0, 0); out->n_absent++; }
	}
	es_eval_finish(out);
end:
	if (b) bam_destroy1(b);
	if (hdr) sam_hdr_destroy(hdr);
	if (fp) sam_close(fp);
	free(tmap); free(idseen); free(rg.contig);
	truthset_free(&ts);
	return rc;
}
