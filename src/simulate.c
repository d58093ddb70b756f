/* simulate.c — read simulation: a pure mutation function (substitutions, geometric-length indels) shared with the
 * trainer, and a FASTQ writer whose read names carry the true origin (s<ID>!<CONTIG>!<POS>!<STRAND>) for eval.c. */
#include "simulate.h"
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

/* 1 + number of successes before the first failure, each extension taken with probability ext. */
static int geom_len(double ext, es_rng_t *rng)
{
	int l = 1;
	while (l < 1000 && es_rng_uniform(rng) < ext) l++;
	return l;
}

int es_sim_mutate(const uint8_t *src, int src_len, int read_len, const es_sim_err_t *err, es_rng_t *rng,
                  uint8_t *out, int *src_used)
{
	int i = 0, j = 0;  /* i: next src base, j: next read base */
	while (j < read_len) {
		/* indels only between copied bases, so the read's alignment begins at src[0] */
		if (j > 0) {
			if (err->ins > 0 && es_rng_uniform(rng) < err->ins) {
				int l = geom_len(err->indel_ext, rng);
				for (int k = 0; k < l && j < read_len; k++) out[j++] = (uint8_t)es_rng_below(rng, 4);
				if (j == read_len) break;
			}
			if (err->del > 0 && es_rng_uniform(rng) < err->del) i += geom_len(err->indel_ext, rng);
		}
		if (i >= src_len) { if (src_used) *src_used = src_len; return -1; }
		uint8_t b = src[i++];
		if (err->sub > 0 && es_rng_uniform(rng) < err->sub)
			b = b < 4 ? (uint8_t)((b + 1 + es_rng_below(rng, 3)) & 3) : (uint8_t)es_rng_below(rng, 4);
		out[j++] = b;
	}
	if (src_used) *src_used = i;
	return 0;
}

void es_sim_opt_init(es_sim_opt_t *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->n_reads = 10000;
	opt->read_len = 250;
	opt->err.sub = 0.01;
	opt->err.ins = 0.0005;
	opt->err.del = 0.0005;
	opt->err.indel_ext = ES_SIM_INDEL_EXT;
	opt->seed = 11;
	opt->region = NULL;
	opt->max_n_frac = 0.0;
	opt->qual_char = 'I';
}

/* parse a non-negative decimal with optional commas over [s,e); -1 if malformed */
static int64_t parse_num(const char *s, const char *e)
{
	int64_t v = 0;
	int nd = 0;
	for (; s < e; s++) {
		if (*s == ',') continue;
		if (!isdigit((unsigned char)*s) || v > (INT64_MAX - 9) / 10) return -1;
		v = v * 10 + (*s - '0');
		nd++;
	}
	return nd ? v : -1;
}

int es_sim_region_parse(const char *s, char **contig, int64_t *beg, int64_t *end)
{
	*contig = NULL; *beg = 0; *end = -1;
	if (!s || !*s) return es_error("empty region");
	const char *colon = strrchr(s, ':');
	size_t name_len = strlen(s);
	if (colon) {
		const char *dash = strchr(colon + 1, '-');
		int numeric = 1;
		for (const char *p = colon + 1; *p; p++)
			if (!isdigit((unsigned char)*p) && *p != ',' && p != dash) numeric = 0;
		if (numeric && dash) {
			int64_t b = parse_num(colon + 1, dash), e = parse_num(dash + 1, colon + strlen(colon));
			if (b < 0 || e < 0) return es_error("region '%s': malformed BEG-END (want CONTIG:BEG-END, 0-based half-open)", s);
			if (b >= e) return es_error("region '%s': BEG must be less than END (0-based half-open [BEG,END))", s);
			*beg = b; *end = e;
			name_len = (size_t)(colon - s);
		} /* otherwise the ':' belongs to the contig name (e.g. HLA-A*01:01) */
	}
	if (name_len == 0) return es_error("region '%s': empty contig name", s);
	*contig = es_malloc(name_len + 1);
	memcpy(*contig, s, name_len);
	(*contig)[name_len] = 0;
	return 0;
}

int es_sim_name_parse(const char *name, const char **contig, int *contig_len, int64_t *pos, char *strand)
{
	size_t n = strlen(name);
	if (n >= 2 && name[n - 2] == '/' && (name[n - 1] == '1' || name[n - 1] == '2')) n -= 2;
	if (n < 8 || name[0] != 's') return -1;
	const char *p = name + 1;
	if (!isdigit((unsigned char)*p)) return -1;
	while (isdigit((unsigned char)*p)) p++;
	if (*p != '!') return -1;
	const char *cb = p + 1;                    /* contig begins */
	const char *e = name + n;                  /* one past the strand */
	char st = e[-1];
	if ((st != '+' && st != '-') || e[-2] != '!') return -1;
	const char *pe = e - 2, *pb = pe;          /* POS digits are [pb,pe) */
	while (pb > cb && isdigit((unsigned char)pb[-1])) pb--;
	if (pb == pe || pb - 1 <= cb || pb[-1] != '!') return -1;
	if (pe - pb > 18) return -1;
	int64_t v = 0;
	for (const char *q = pb; q < pe; q++) v = v * 10 + (*q - '0');
	*contig = cb;
	*contig_len = (int)(pb - 1 - cb);
	*pos = v;
	*strand = st;
	return 0;
}

/* a segment of the reference where reads may start: global [beg,end) inside one contig */
typedef struct { int64_t beg, end, n_start, cum; int contig; } seg_t;

int es_sim_reads(const es_ref_t *ref, const es_sim_opt_t *opt, FILE *fq)
{
	int L = opt->read_len, ret = -1;
	if (L <= 0) return es_error("read length must be positive (got %d)", L);
	if (opt->n_reads < 0) return es_error("number of reads must be >= 0");
	int n_seg = 0;
	seg_t *seg = es_calloc(ref->n_contig, sizeof(seg_t));
	if (opt->region) {
		char *name; int64_t b, e;
		if (es_sim_region_parse(opt->region, &name, &b, &e) < 0) goto end;
		int ci = es_ref_contig_by_name(ref, name);
		if (ci < 0) { es_error("region '%s': no contig named '%s' in the reference", opt->region, name); free(name); goto end; }
		free(name);
		const es_contig_t *c = &ref->contig[ci];
		if (e < 0) e = c->len;
		if (e > c->len) { es_error("region '%s': END %lld is past the end of contig '%s' (length %lld)", opt->region, (long long)e, c->name, (long long)c->len); goto end; }
		seg[n_seg++] = (seg_t){ c->off + b, c->off + e, 0, 0, ci };
	} else {
		for (int i = 0; i < ref->n_contig; i++)
			seg[n_seg++] = (seg_t){ ref->contig[i].off, ref->contig[i].off + ref->contig[i].len, 0, 0, i };
	}
	int64_t total = 0;
	for (int i = 0; i < n_seg; i++) {
		seg[i].n_start = seg[i].end - seg[i].beg >= L ? seg[i].end - seg[i].beg - L + 1 : 0;
		seg[i].cum = total;
		total += seg[i].n_start;
	}
	if (total == 0) { es_error("%s is shorter than the read length %d", opt->region ? "the region" : "every contig of the reference", L); goto end; }

	int src_max = L + L / 8 + 32;
	uint8_t *src = es_malloc(src_max), *read = es_malloc(L);
	char *seq = es_malloc(L + 1), *qual = es_malloc(L + 1);
	es_rng_t rng;
	es_rng_seed(&rng, opt->seed);
	int fails = 0;
	for (int64_t id = 0; id < opt->n_reads; ) {
		/* draw an origin uniformly over the valid starts */
		int64_t u = (int64_t)es_rng_below(&rng, (uint64_t)total);
		int lo = 0, hi = n_seg - 1;
		while (lo < hi) { int mid = (lo + hi + 1) / 2; if (seg[mid].cum <= u) lo = mid; else hi = mid - 1; }
		const seg_t *sg = &seg[lo];
		int64_t start = sg->beg + (u - sg->cum);
		char strand = es_rng_uniform(&rng) < 0.5 ? '+' : '-';
		int avail = (int)(sg->end - start < src_max ? sg->end - start : src_max), used;
		es_ref_get(ref, start, start + avail, src);
		int ok = es_sim_mutate(src, avail, L, &opt->err, &rng, read, &used) == 0;
		/* a read's span never has more than max_n_frac N (0: none) */
		if (ok) ok = es_ref_count_n(ref, start, start + used) <= (int64_t)(opt->max_n_frac * used);
		if (!ok) {
			if (++fails > 100000) { es_error("cannot place reads: the %s is mostly N or too short for %d-base reads", opt->region ? "region" : "reference", L); goto done; }
			continue;
		}
		fails = 0;
		if (strand == '-') es_revcomp(read, L);
		for (int i = 0; i < L; i++) {
			seq[i] = es_code2nt[read[i]];
			qual[i] = read[i] == 4 ? '#' : i % 17 == 16 ? '?' : opt->qual_char;
		}
		seq[L] = qual[L] = 0;
		const es_contig_t *c = &ref->contig[sg->contig];
		fprintf(fq, "@s%lld!%s!%lld!%c\n%s\n+\n%s\n", (long long)id, c->name, (long long)(start - c->off), strand, seq, qual);
		id++;
	}
	if (ferror(fq)) es_error("write error on the FASTQ output");
	else ret = 0;
done:
	free(src); free(read); free(seq); free(qual);
end:
	free(seg);
	return ret;
}
