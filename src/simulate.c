/* simulate.c — read simulation: a pure mutation function (substitutions, geometric-length indels) shared with the
 * trainer, and a FASTQ writer whose read names carry the true origin (s<ID>!<CONTIG>!<POS>!<STRAND>) for eval.c. */
#include "simulate.h"
#include "region.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>
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
	int i = 0;  /* next src base */
	int j = 0;  /* next read base */
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
		if (i >= src_len) {
			if (src_used) *src_used = src_len;
			return -1;
		}
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

/* kept for eval.c and older callers: the parse-only half of the one region rule (region.h) */
int es_sim_region_parse(const char *s, char **contig, int64_t *beg, int64_t *end)
{
	return es_region_parse(s, contig, beg, end);
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

/* The segments reads start in (the region, or every contig) with their counts of valid starts; *total receives the
 * sum. Returns the number of segments, or -1 with es_error set. */
static int make_segs(const es_ref_t *ref, const char *region, int L, seg_t *seg, int64_t *total)
{
	int n_seg = 0;
	if (region) {
		int64_t b, e;
		if (es_ref_region(ref, region, &b, &e) < 0) return -1;
		seg[n_seg++] = (seg_t){ b, e, 0, 0, es_ref_contig_at(ref, b) };
	} else {
		for (int i = 0; i < ref->n_contig; i++)
			seg[n_seg++] = (seg_t){ ref->contig[i].off, ref->contig[i].off + ref->contig[i].len, 0, 0, i };
	}
	*total = 0;
	for (int i = 0; i < n_seg; i++) {
		seg[i].n_start = seg[i].end - seg[i].beg >= L ? seg[i].end - seg[i].beg - L + 1 : 0;
		seg[i].cum = *total;
		*total += seg[i].n_start;
	}
	if (*total == 0)
		return es_error("%s is shorter than the read length %d",
		                region ? "the region" : "every contig of the reference", L);
	return n_seg;
}

/* the segment holding start number u (binary search on the cumulative counts) */
static const seg_t *seg_of(const seg_t *seg, int n_seg, int64_t u)
{
	int lo = 0, hi = n_seg - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (seg[mid].cum <= u) lo = mid;
		else hi = mid - 1;
	}
	return &seg[lo];
}

static void write_fastq(FILE *fq, int64_t id, const es_contig_t *c, int64_t start, char strand, const uint8_t *read,
                        int L, char qual_char, char *seq, char *qual)
{
	for (int i = 0; i < L; i++) {
		seq[i] = es_code2nt[read[i]];
		qual[i] = read[i] == 4 ? '#' : i % 17 == 16 ? '?' : qual_char;
	}
	seq[L] = 0;
	qual[L] = 0;
	fprintf(fq, "@s%lld!%s!%lld!%c\n%s\n+\n%s\n", (long long)id, c->name, (long long)(start - c->off), strand, seq, qual);
}

int es_sim_reads(const es_ref_t *ref, const es_sim_opt_t *opt, FILE *fq)
{
	int L = opt->read_len, ret = -1;
	if (L <= 0) return es_error("read length must be positive (got %d)", L);
	if (opt->n_reads < 0) return es_error("number of reads must be >= 0");
	seg_t *seg = es_calloc(ref->n_contig, sizeof(seg_t));
	int64_t total;
	int n_seg = make_segs(ref, opt->region, L, seg, &total);
	if (n_seg < 0) {
		free(seg);
		return -1;
	}
	int src_max = L + L / 8 + 32;
	uint8_t *src = es_malloc(src_max), *read = es_malloc(L);
	char *seq = es_malloc(L + 1), *qual = es_malloc(L + 1);
	es_rng_t rng;
	es_rng_seed(&rng, opt->seed);
	int fails = 0;
	for (int64_t id = 0; id < opt->n_reads;) {
		/* draw an origin uniformly over the valid starts */
		int64_t u = (int64_t)es_rng_below(&rng, (uint64_t)total);
		const seg_t *sg = seg_of(seg, n_seg, u);
		int64_t start = sg->beg + (u - sg->cum);
		char strand = es_rng_uniform(&rng) < 0.5 ? '+' : '-';
		int avail = (int)(sg->end - start < src_max ? sg->end - start : src_max), used;
		es_ref_get(ref, start, start + avail, src);
		int ok = es_sim_mutate(src, avail, L, &opt->err, &rng, read, &used) == 0;
		/* a read's span never has more than max_n_frac N (0: none) */
		if (ok) ok = es_ref_count_n(ref, start, start + used) <= (int64_t)(opt->max_n_frac * used);
		if (!ok && ++fails > 100000) {
			es_error("cannot place reads: the %s is mostly N or too short for %d-base reads",
			         opt->region ? "region" : "reference", L);
			goto done;
		}
		if (!ok) continue;
		fails = 0;
		if (strand == '-') es_revcomp(read, L);
		write_fastq(fq, id, &ref->contig[sg->contig], start, strand, read, L, opt->qual_char, seq, qual);
		id++;
	}
	if (ferror(fq))
		es_error("%s", strerror(errno ? errno : EIO));
	else
		ret = 0;
done:
	free(src);
	free(read);
	free(seq);
	free(qual);
	free(seg);
	return ret;
}
