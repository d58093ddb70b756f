/* seqio.c — FASTA reference loading into a 2-bit packed genome with N runs, and a strict FASTQ/FASTA read parser.
 * Both read through htslib's BGZF layer, which handles plain and gzip-compressed files and "-" for stdin. */
#include "seqio.h"
#include "util.h"
#include <htslib/bgzf.h>
#include <htslib/kstring.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>

const char es_code2nt[5] = { 'A', 'C', 'G', 'T', 'N' };

#define N16 4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4
const uint8_t es_nt4[256] = {
	N16, N16, N16, N16,
	4, 0, 4, 1, 4, 4, 4, 2, 4, 4, 4, 4, 4, 4, 4, 4,  /* @ABCDEFGHIJKLMNO */
	4, 4, 4, 4, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,  /* PQRSTUVWXYZ... */
	4, 0, 4, 1, 4, 4, 4, 2, 4, 4, 4, 4, 4, 4, 4, 4,  /* `abcdefghijklmno */
	4, 4, 4, 4, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,  /* pqrstuvwxyz... */
	N16, N16, N16, N16, N16, N16, N16, N16
};

void es_revcomp(uint8_t *s, int64_t len)
{
	for (int64_t i = 0, j = len - 1; i <= j; i++, j--) {
		uint8_t a = s[i], b = s[j];
		s[i] = b < 4 ? 3 - b : 4;
		s[j] = a < 4 ? 3 - a : 4;
	}
}

/* ---------------- reference ---------------- */

static BGZF *open_input(const char *fn)
{
	BGZF *fp = strcmp(fn, "-") == 0 ? bgzf_dopen(0, "r") : bgzf_open(fn, "r");
	if (!fp)
		es_error("%s: cannot open: %s", fn, errno ? strerror(errno) : "unknown error");
	return fp;
}

/* The state of one es_ref_load_fasta call. */
typedef struct {
	const char *fn;
	es_ref_t *ref;
	int64_t m_pac, m_contig, m_nrun;  /* allocated: bytes of pac, entries of contig and nrun */
	int64_t lineno, pos;              /* line of the file (1-based), global position of the next base */
	int in_n;                         /* the last base was an N: the next N extends nrun[n_nrun-1] */
} fasta_ld_t;

/* A '>' line: close the previous contig, open a new one. 0 ok, -1 with es_error set. */
static int fasta_header(fasta_ld_t *ld, char *line)
{
	es_ref_t *ref = ld->ref;
	long long lineno = ld->lineno;
	if (ref->n_contig > 0 && ref->contig[ref->n_contig - 1].len == 0)
		return es_error("%s: line %lld: contig '%s' has no sequence", ld->fn, lineno,
		                ref->contig[ref->n_contig - 1].name);
	ld->in_n = 0;  /* an N run never spans two contigs */
	char *p = line + 1;
	char *q;
	while (*p && isspace((unsigned char)*p))
		p++;
	for (q = p; *q && !isspace((unsigned char)*q); q++) {}
	*q = 0;
	if (*p == 0)
		return es_error("%s: line %lld: FASTA header without a name", ld->fn, lineno);
	for (int i = 0; i < ref->n_contig; i++)
		if (strcmp(ref->contig[i].name, p) == 0)
			return es_error("%s: line %lld: duplicate contig name '%s'", ld->fn, lineno, p);
	if (ref->n_contig == ld->m_contig) {
		ld->m_contig *= 2;
		ref->contig = es_realloc(ref->contig, ld->m_contig * sizeof(es_contig_t));
	}
	es_contig_t *c = &ref->contig[ref->n_contig++];
	c->name = es_strdup(p);
	c->len = 0;
	c->off = ld->pos;
	return 0;
}

/* An N at ld->pos: extend the open run or start one. */
static void fasta_add_n(fasta_ld_t *ld)
{
	es_ref_t *ref = ld->ref;
	if (ld->in_n) {
		ref->nrun[ref->n_nrun - 1].end = ld->pos + 1;
		return;
	}
	if (ref->n_nrun == ld->m_nrun) {
		ld->m_nrun *= 2;
		ref->nrun = es_realloc(ref->nrun, ld->m_nrun * sizeof(es_nrun_t));
	}
	ref->nrun[ref->n_nrun].beg = ld->pos;
	ref->nrun[ref->n_nrun].end = ld->pos + 1;
	ref->n_nrun++;
	ld->in_n = 1;
}

/* A sequence line of len bytes: pack its bases into the open contig. 0 ok, -1 with es_error set. */
static int fasta_seq(fasta_ld_t *ld, const char *line, size_t len)
{
	es_ref_t *ref = ld->ref;
	if (ref->n_contig == 0)
		return es_error("%s: line %lld: sequence before the first '>' header (not FASTA?)", ld->fn,
		                (long long)ld->lineno);
	es_contig_t *c = &ref->contig[ref->n_contig - 1];
	if ((ld->pos + (int64_t)len + 3) / 4 >= ld->m_pac) {
		int64_t old = ld->m_pac;
		while ((ld->pos + (int64_t)len + 3) / 4 >= ld->m_pac)
			ld->m_pac *= 2;
		ref->pac = es_realloc(ref->pac, ld->m_pac);
		memset(ref->pac + old, 0, ld->m_pac - old);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = line[i];
		if (isspace(ch))
			continue;
		if (!isalpha(ch) && ch != '-' && ch != '*' && ch != '.')
			return es_error("%s: line %lld: invalid character '%c' in sequence", ld->fn, (long long)ld->lineno,
			                isprint(ch) ? ch : '?');
		uint8_t b = es_nt4[ch];
		if (b < 4) {
			ref->pac[ld->pos >> 2] |= b << ((ld->pos & 3) << 1);
			ld->in_n = 0;
		} else {
			fasta_add_n(ld);
		}
		ld->pos++;
		c->len++;
	}
	return 0;
}

/* Every line of fp; then the checks at the end of the file. 0 ok, -1 with es_error set. */
static int fasta_read(fasta_ld_t *ld, BGZF *fp)
{
	kstring_t line = { 0, 0, NULL };
	int ret;
	int rc = 0;
	while (rc == 0 && (ret = bgzf_getline(fp, '\n', &line)) >= 0) {
		ld->lineno++;
		if (line.l && line.s[line.l - 1] == '\r')
			line.s[--line.l] = 0;
		if (line.l == 0)
			continue;
		rc = line.s[0] == '>' ? fasta_header(ld, line.s) : fasta_seq(ld, line.s, line.l);
	}
	free(line.s);
	es_ref_t *ref = ld->ref;
	if (rc < 0)
		return -1;
	if (ret < -1)
		return es_error("%s: read error or truncated/corrupt compressed file", ld->fn);
	if (ref->n_contig == 0)
		return es_error("%s: empty file or no FASTA records", ld->fn);
	if (ref->contig[ref->n_contig - 1].len == 0)
		return es_error("%s: contig '%s' has no sequence", ld->fn, ref->contig[ref->n_contig - 1].name);
	ref->len = ld->pos;
	return 0;
}

es_ref_t *es_ref_load_fasta(const char *fn)
{
	errno = 0;
	BGZF *fp = open_input(fn);
	if (!fp)
		return NULL;
	fasta_ld_t ld = { fn, NULL, 1 << 16, 16, 64, 0, 0, 0 };
	es_ref_t *ref = es_calloc(1, sizeof *ref);
	ref->owns_pac = 1;
	ref->pac = es_calloc(ld.m_pac, 1);
	ref->contig = es_calloc(ld.m_contig, sizeof(es_contig_t));
	ref->nrun = es_calloc(ld.m_nrun, sizeof(es_nrun_t));
	ld.ref = ref;
	int rc = fasta_read(&ld, fp);
	bgzf_close(fp);
	if (rc == 0)
		return ref;
	es_ref_destroy(ref);
	return NULL;
}

void es_ref_destroy(es_ref_t *ref)
{
	if (!ref)
		return;
	if (ref->owns_pac) {
		for (int i = 0; i < ref->n_contig; i++)
			free(ref->contig[i].name);
		free(ref->contig);
		free(ref->pac);
		free(ref->nrun);
	}
	free(ref);
}

/* first N run with end > pos */
static int64_t nrun_lower(const es_ref_t *ref, int64_t pos)
{
	int64_t lo = 0, hi = ref->n_nrun;
	while (lo < hi) {
		int64_t mid = (lo + hi) / 2;
		if (ref->nrun[mid].end <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int es_ref_base(const es_ref_t *ref, int64_t pos)
{
	int64_t i = nrun_lower(ref, pos);
	if (i < ref->n_nrun && ref->nrun[i].beg <= pos)
		return 4;
	return ref->pac[pos >> 2] >> ((pos & 3) << 1) & 3;
}

/* The 4 codes of each packed byte (base p at bits 2(p&3)): es_ref_get copies whole bytes' codes, 4 at a time; it
 * was ~4% of the mapping CPU of 100 bp reads one base at a time (chrX 70 Mb). */
#define UNPACK1(x) { (x) & 3, (x) >> 2 & 3, (x) >> 4 & 3, (x) >> 6 & 3 }
#define UNPACK4(x) UNPACK1(x), UNPACK1((x) + 1), UNPACK1((x) + 2), UNPACK1((x) + 3)
#define UNPACK16(x) UNPACK4(x), UNPACK4((x) + 4), UNPACK4((x) + 8), UNPACK4((x) + 12)
#define UNPACK64(x) UNPACK16(x), UNPACK16((x) + 16), UNPACK16((x) + 32), UNPACK16((x) + 48)
static const uint8_t unpack4[256][4] = { UNPACK64(0), UNPACK64(64), UNPACK64(128), UNPACK64(192) };

void es_ref_get(const es_ref_t *ref, int64_t beg, int64_t end, uint8_t *out)
{
	int64_t p = beg;
	for (; p < end && (p & 3); p++)
		out[p - beg] = ref->pac[p >> 2] >> ((p & 3) << 1) & 3;
	for (; p + 4 <= end; p += 4)
		memcpy(out + (p - beg), unpack4[ref->pac[p >> 2]], 4);
	for (; p < end; p++)
		out[p - beg] = ref->pac[p >> 2] >> ((p & 3) << 1) & 3;
	for (int64_t i = nrun_lower(ref, beg); i < ref->n_nrun && ref->nrun[i].beg < end; i++) {
		int64_t b = ref->nrun[i].beg > beg ? ref->nrun[i].beg : beg;
		int64_t e = ref->nrun[i].end < end ? ref->nrun[i].end : end;
		memset(out + (b - beg), 4, e - b);
	}
}

int64_t es_ref_count_n(const es_ref_t *ref, int64_t beg, int64_t end)
{
	int64_t n = 0;
	for (int64_t i = nrun_lower(ref, beg); i < ref->n_nrun && ref->nrun[i].beg < end; i++) {
		int64_t b = ref->nrun[i].beg > beg ? ref->nrun[i].beg : beg;
		int64_t e = ref->nrun[i].end < end ? ref->nrun[i].end : end;
		n += e - b;
	}
	return n;
}

int es_ref_contig_at(const es_ref_t *ref, int64_t pos)
{
	if (pos < 0 || pos >= ref->len)
		return -1;
	int lo = 0, hi = ref->n_contig - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (ref->contig[mid].off <= pos)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

int es_ref_contig_by_name(const es_ref_t *ref, const char *name)
{
	for (int i = 0; i < ref->n_contig; i++)
		if (strcmp(ref->contig[i].name, name) == 0)
			return i;
	return -1;
}

/* ---------------- reads ---------------- */

struct es_reader_s {
	BGZF *fp;
	char *fn;
	kstring_t line;
	int has_peek;      /* line holds the next header already */
	int64_t n_rec, lineno;
	int eof;
};

es_reader_t *es_reader_open(const char *fn)
{
	errno = 0;
	BGZF *fp = open_input(fn);
	if (!fp)
		return NULL;
	es_reader_t *rd = es_calloc(1, sizeof *rd);
	rd->fp = fp;
	rd->fn = es_strdup(strcmp(fn, "-") == 0 ? "<stdin>" : fn);
	return rd;
}

void es_reader_close(es_reader_t *rd)
{
	if (!rd)
		return;
	bgzf_close(rd->fp);
	free(rd->line.s);
	free(rd->fn);
	free(rd);
}

void es_read_free(es_read_t *r)
{
	free(r->name);
	free(r->comment);
	free(r->seq);
	free(r->qual);
	memset(r, 0, sizeof *r);
}

/* next line into rd->line without the newline; 1 ok, 0 EOF, -1 error */
static int next_line(es_reader_t *rd)
{
	int ret = bgzf_getline(rd->fp, '\n', &rd->line);
	if (ret < -1)
		return es_error("%s: read error or truncated/corrupt compressed file near record %lld", rd->fn,
		                (long long)rd->n_rec + 1);
	if (ret == -1)
		return 0;
	rd->lineno++;
	if (rd->line.l && rd->line.s[rd->line.l - 1] == '\r')
		rd->line.s[--rd->line.l] = 0;
	return 1;
}

static void set_str(char **dst, const char *src, size_t n)
{
	*dst = es_realloc(*dst, n + 1);
	memcpy(*dst, src, n);
	(*dst)[n] = 0;
}

static int check_seq_chars(es_reader_t *rd, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return es_error("%s: record %lld (line %lld): invalid character '%c' in sequence", rd->fn,
			                (long long)rd->n_rec + 1, (long long)rd->lineno, isprint((unsigned char)s[i]) ? s[i] : '?');
	return 0;
}

/* The header line in rd->line into r->name and r->comment. 0 ok, -1 with es_error set. */
static int read_header(es_reader_t *rd, es_read_t *r, long long recno)
{
	char c = rd->line.s[0];
	if (c != '@' && c != '>')
		return es_error("%s: record %lld (line %lld): expected '@' or '>' at the start of a record (not FASTQ/FASTA?)",
		                rd->fn, recno, (long long)rd->lineno);
	char *p = rd->line.s + 1;
	char *q = p;
	while (*q && !isspace((unsigned char)*q))
		q++;
	if (q == p)
		return es_error("%s: record %lld (line %lld): header without a read name", rd->fn, recno,
		                (long long)rd->lineno);
	set_str(&r->name, p, q - p);
	while (*q && isspace((unsigned char)*q))
		q++;
	set_str(&r->comment, q, strlen(q));
	r->id = rd->n_rec;
	return 0;
}

/* FASTA: sequence lines until the next '>' (kept in rd->line for the next call) or EOF. */
static int read_fasta_seq(es_reader_t *rd, es_read_t *r, long long recno, kstring_t *seq)
{
	int ret;
	while ((ret = next_line(rd)) > 0) {
		if (rd->line.l && rd->line.s[0] == '>') {
			rd->has_peek = 1;
			break;
		}
		if (check_seq_chars(rd, rd->line.s, rd->line.l) < 0)
			return -1;
		kputsn(rd->line.s, rd->line.l, seq);
	}
	if (ret < 0)
		return -1;
	if (ret == 0)
		rd->eof = 1;
	if (seq->l == 0)
		return es_error("%s: record %lld ('%s'): empty sequence", rd->fn, recno, r->name);
	set_str(&r->seq, seq->s, seq->l);
	free(r->qual);
	r->qual = NULL;
	return 0;
}

/* FASTQ: sequence lines until '+'. */
static int read_fastq_seq(es_reader_t *rd, es_read_t *r, long long recno, kstring_t *seq)
{
	for (;;) {
		int ret = next_line(rd);
		if (ret < 0)
			return -1;
		if (ret == 0)
			return es_error("%s: record %lld ('%s'): truncated: missing '+' line", rd->fn, recno, r->name);
		if (rd->line.l && rd->line.s[0] == '+')
			break;
		if (rd->line.l && rd->line.s[0] == '@' && seq->l > 0)
			return es_error("%s: record %lld ('%s'): missing '+' line", rd->fn, recno, r->name);
		if (check_seq_chars(rd, rd->line.s, rd->line.l) < 0)
			return -1;
		kputsn(rd->line.s, rd->line.l, seq);
	}
	if (seq->l == 0)
		return es_error("%s: record %lld ('%s'): empty sequence", rd->fn, recno, r->name);
	return 0;
}

/* FASTQ: quality lines until they hold as many characters as the sequence has bases. */
static int read_fastq_qual(es_reader_t *rd, es_read_t *r, long long recno, const kstring_t *seq, kstring_t *qual)
{
	while (qual->l < seq->l) {
		int ret = next_line(rd);
		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
		kputsn(rd->line.s, rd->line.l, qual);
	}
	if (qual->l != seq->l)
		return es_error("%s: record %lld ('%s'): %s: sequence has %zu bases but quality has %zu", rd->fn, recno,
		                r->name, qual->l < seq->l ? "truncated or short quality" : "quality longer than sequence",
		                seq->l, qual->l);
	for (size_t i = 0; i < qual->l; i++)
		if (qual->s[i] < 33 || qual->s[i] > 126)
			return es_error("%s: record %lld ('%s'): invalid quality character", rd->fn, recno, r->name);
	set_str(&r->seq, seq->s, seq->l);
	set_str(&r->qual, qual->s, qual->l);
	return 0;
}

int es_reader_next(es_reader_t *rd, es_read_t *r)
{
	int ret;
	if (rd->eof)
		return 0;
	if (!rd->has_peek) {
		do { /* skip blank lines between records */
			ret = next_line(rd);
			if (ret <= 0) {
				rd->eof = 1;
				return ret;
			}
		} while (rd->line.l == 0);
	}
	rd->has_peek = 0;
	long long recno = rd->n_rec + 1;
	int fasta = rd->line.s[0] == '>';
	if (read_header(rd, r, recno) < 0)
		return -1;
	kstring_t seq = { 0, 0, NULL };
	kstring_t qual = { 0, 0, NULL };
	if (fasta)
		ret = read_fasta_seq(rd, r, recno, &seq);
	else if ((ret = read_fastq_seq(rd, r, recno, &seq)) == 0)
		ret = read_fastq_qual(rd, r, recno, &seq, &qual);
	int len = (int)seq.l;
	free(seq.s);
	free(qual.s);
	if (ret < 0)
		return -1;
	r->len = len;
	rd->n_rec++;
	return 1;
}
