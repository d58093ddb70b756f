/* sam.c — the SAM/BAM side of 'esalign align': the header lines, a bam1_t per placement (SEQ and QUAL on the
 * forward strand, NM/MD/AS/XS/RG tags), and the output file with every write checked, kept only if all succeed. */
#include "sam.h"
#include "map.h"
#include "util.h"
#include <htslib/kstring.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *es_map_parse_rg(const char *arg, char **id)
{
	kstring_t s = { 0, 0, NULL };
	for (const char *p = arg; *p; p++) {
		if (p[0] == '\\' && p[1] == 't') {
			kputc('\t', &s);
			p++;
		} else if (p[0] == '\\' && p[1] == 'n') {
			free(s.s);
			es_error("read group line must not contain a newline: %s", arg);
			return NULL;
		} else {
			kputc(*p, &s);
		}
	}
	if (!s.s || strncmp(s.s, "@RG\t", 4) != 0) {
		free(s.s);
		es_error("read group line must start with '@RG\\t': %s", arg);
		return NULL;
	}
	char *idp = strstr(s.s, "\tID:");
	if (!idp || idp[4] == 0 || idp[4] == '\t') {
		free(s.s);
		es_error("read group line has no ID: field: %s", arg);
		return NULL;
	}
	idp += 4;
	size_t n = strcspn(idp, "\t");
	*id = es_malloc(n + 1);
	memcpy(*id, idp, n);
	(*id)[n] = 0;
	return s.s;
}

sam_hdr_t *es_sam_header(const es_ref_t *ref, const char *rg_line, const char *cmdline)
{
	kstring_t t = { 0, 0, NULL };
	ksprintf(&t, "@HD\tVN:1.6\tSO:unsorted\tGO:query\n");
	for (int i = 0; i < ref->n_contig; i++)
		ksprintf(&t, "@SQ\tSN:%s\tLN:%lld\n", ref->contig[i].name, (long long)ref->contig[i].len);
	if (rg_line)
		ksprintf(&t, "%s\n", rg_line);
	ksprintf(&t, "@PG\tID:esalign\tPN:esalign\tVN:%s\tCL:%s\n", ES_VERSION, cmdline ? cmdline : "esalign");
	sam_hdr_t *h = sam_hdr_parse(t.l, t.s);
	free(t.s);
	if (!h)
		es_error("cannot build the SAM header (a contig name or the @RG line is not valid SAM)");
	return h;
}

static void add_tags(bam1_t *b, const es_sam_rec_t *rec, const char *rg_id)
{
	if (rec->aln) {
		bam_aux_update_int(b, "NM", rec->aln->nm);
		bam_aux_append(b, "MD", 'Z', strlen(rec->aln->md) + 1, (const uint8_t *)rec->aln->md);
		bam_aux_update_int(b, "AS", rec->aln->score);
		if (rec->xs >= 0)
			bam_aux_update_int(b, "XS", rec->xs);
	}
	if (rec->mate_aln) {
		kstring_t c = { 0, 0, NULL };
		for (int i = 0; i < rec->mate_aln->n_cigar; i++)
			ksprintf(&c, "%u%c", rec->mate_aln->cigar[i] >> 4, BAM_CIGAR_STR[rec->mate_aln->cigar[i] & 0xf]);
		bam_aux_append(b, "MC", 'Z', c.l + 1, (const uint8_t *)c.s);
		free(c.s);
	}
	if (rec->mate_mapq >= 0)
		bam_aux_update_int(b, "MQ", rec->mate_mapq);
	if (rec->mate_ms >= 0)
		bam_aux_update_int(b, "ms", rec->mate_ms);
	if (rg_id)
		bam_aux_append(b, "RG", 'Z', strlen(rg_id) + 1, (const uint8_t *)rg_id);
}

static bam1_t *sam_record(const es_read_t *r, const uint8_t *codes, const es_sam_rec_t *rec, const char *rg_id)
{
	int len = r->len;
	int rev = rec->aln && (rec->flag & 16);
	char *seq = es_malloc(len + 1);
	char *qual = NULL;
	for (int i = 0; i < len; i++)
		seq[i] = es_code2nt[codes[i]];   /* IUPAC codes other than ACGT become N */
	if (r->qual) {
		qual = es_malloc(len);
		for (int i = 0; i < len; i++)
			qual[i] = r->qual[rev ? len - 1 - i : i] - 33;
	}
	const uint32_t *cigar = rec->aln ? rec->aln->cigar : NULL;
	int n_cigar = rec->aln ? rec->aln->n_cigar : 0;
	bam1_t *b = bam_init1();
	int ret = bam_set1(b, strlen(r->name), r->name, rec->flag, rec->tid, rec->pos, rec->mapq, n_cigar, cigar,
	                   rec->mtid, rec->mpos, rec->tlen, len, seq, qual, 64);
	free(seq);
	free(qual);
	if (ret < 0) {
		bam_destroy1(b);
		es_error("read '%s' (record %lld): cannot build its SAM record (a name longer than 254 characters?)", r->name,
		         (long long)r->id + 1);
		return NULL;
	}
	add_tags(b, rec, rg_id);
	return b;
}

/* The record, its CPU time counted as the format stage. */
bam1_t *es_sam_record(const es_read_t *r, const uint8_t *codes, const es_sam_rec_t *rec, const char *rg_id)
{
	double c0 = es_thread_cputime();
	bam1_t *b = sam_record(r, codes, rec, rg_id);
	es_stage_add(ES_STAGE_FORMAT, es_thread_cputime() - c0);
	return b;
}

int es_sam_qual_score(const es_read_t *r)
{
	int s = 0;
	for (int i = 0; r->qual && i < r->len; i++)
		if (r->qual[i] - 33 >= 15)
			s += r->qual[i] - 33;
	return s;
}

/* ---------------- the output file ---------------- */

struct es_sam_out_s {
	samFile *fp;
	const sam_hdr_t *hdr;
	char *path;   /* the final name ("-": stdout) */
	char *tmp;    /* the name written to before the rename; NULL when written in place */
};

static const char *out_name(const es_sam_out_t *o)
{
	return strcmp(o->path, "-") == 0 ? "stdout" : o->path;
}

/* htslib leaves errno at the system error of a failed write; 0 means the failure was htslib's own. */
static const char *sys_err(int e)
{
	return e ? strerror(e) : "htslib error";
}

es_sam_out_t *es_sam_open(const char *path, const sam_hdr_t *hdr)
{
	es_sam_out_t *o = es_calloc(1, sizeof *o);
	size_t l = strlen(path);
	int is_bam = l > 4 && strcmp(path + l - 4, ".bam") == 0;
	o->hdr = hdr;
	o->path = es_strdup(path);
	o->tmp = es_tmp_name(path);
	errno = 0;
	o->fp = sam_open(o->tmp ? o->tmp : path, is_bam ? "wb" : "w");
	if (!o->fp) {
		es_error("%s: cannot create output: %s", out_name(o), sys_err(errno));
		es_sam_abort(o);
		return NULL;
	}
	errno = 0;
	if (sam_hdr_write(o->fp, (sam_hdr_t *)hdr) < 0) {
		es_error("%s: cannot write the SAM header: %s", out_name(o), sys_err(errno));
		es_sam_abort(o);
		return NULL;
	}
	return o;
}

int es_sam_write(es_sam_out_t *o, const bam1_t *b)
{
	errno = 0;
	if (sam_write1(o->fp, o->hdr, b) < 0)
		return es_error("%s: write failed: %s", out_name(o), sys_err(errno));
	return 0;
}

static void out_free(es_sam_out_t *o)
{
	free(o->path);
	free(o->tmp);
	free(o);
}

int es_sam_close(es_sam_out_t *o)
{
	int ret = 0;
	errno = 0;
	if (hts_flush(o->fp) < 0)
		ret = es_error("%s: write failed: %s", out_name(o), sys_err(errno));
	errno = 0;
	int rc = sam_close(o->fp);
	if (rc < 0 && ret == 0)
		ret = es_error("%s: write failed on close: %s", out_name(o), sys_err(errno));
	ret = es_tmp_finish(o->tmp, o->path, ret);
	out_free(o);
	return ret;
}

void es_sam_abort(es_sam_out_t *o)
{
	if (!o)
		return;
	if (o->fp)
		sam_close(o->fp);
	if (o->tmp)
		unlink(o->tmp);
	out_free(o);
}
