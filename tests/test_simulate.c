/* test_simulate.c — the read simulator: every read is re-derived from the truth in its name (reverse-complemented
 * back for '-', then an edit-distance DP against the reference at POS); error rates, determinism, regions, N runs. */
#include "test.h"
#include "simulate.h"
#include "region.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>

/* edit distance of read r[0,m) against a prefix of g[0,n) (both anchored at their starts; g's end free) */
static int prefix_edit(const uint8_t *r, int m, const uint8_t *g, int n)
{
	int *prev = es_malloc((n + 1) * sizeof(int)), *cur = es_malloc((n + 1) * sizeof(int));
	for (int j = 0; j <= n; j++) prev[j] = j;
	for (int i = 1; i <= m; i++) {
		cur[0] = i;
		for (int j = 1; j <= n; j++) {
			int d = prev[j - 1] + (r[i - 1] != g[j - 1]);
			if (prev[j] + 1 < d) d = prev[j] + 1;
			if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
			cur[j] = d;
		}
		int *t = prev; prev = cur; cur = t;
	}
	int best = prev[0];
	for (int j = 1; j <= n; j++) if (prev[j] < best) best = prev[j];
	free(prev); free(cur);
	return best;
}

static void rand_codes(es_rng_t *rng, uint8_t *s, int n) { for (int i = 0; i < n; i++) s[i] = (uint8_t)es_rng_below(rng, 4); }

TEST(sim_mutate_exact_and_short)
{
	es_rng_t rng; es_rng_seed(&rng, 1);
	uint8_t src[300], out[300];
	rand_codes(&rng, src, 300);
	src[7] = 4;  /* an N is copied as N */
	es_sim_err_t zero = { 0, 0, 0, ES_SIM_INDEL_EXT };
	int used = -1;
	CHECK_EQ_INT(es_sim_mutate(src, 300, 250, &zero, &rng, out, &used), 0);
	CHECK_EQ_INT(used, 250);
	CHECK(memcmp(src, out, 250) == 0);
	CHECK_EQ_INT(es_sim_mutate(src, 300, 300, &zero, &rng, out, &used), 0);
	CHECK_EQ_INT(es_sim_mutate(src, 299, 300, &zero, &rng, out, &used), -1);
	/* substitutions only: same span, every substituted base differs */
	es_sim_err_t allsub = { 1.0, 0, 0, ES_SIM_INDEL_EXT };
	CHECK_EQ_INT(es_sim_mutate(src, 300, 250, &allsub, &rng, out, &used), 0);
	CHECK_EQ_INT(used, 250);
	int same = 0;
	for (int i = 0; i < 250; i++) same += out[i] == src[i] || out[i] > 3;
	CHECK_EQ_INT(same, 0);
	/* deletions need a longer source: fail on an exact-length one, succeed with a margin */
	es_sim_err_t dels = { 0, 0, 0.1, ES_SIM_INDEL_EXT };
	CHECK_EQ_INT(es_sim_mutate(src, 100, 100, &dels, &rng, out, &used), -1);
	CHECK_EQ_INT(es_sim_mutate(src, 300, 100, &dels, &rng, out, &used), 0);
	CHECK(used > 100 && used <= 300);
	CHECK(out[0] == src[0]);  /* no indel before the first base */
	es_sim_err_t ins = { 0, 0.1, 0, ES_SIM_INDEL_EXT };
	CHECK_EQ_INT(es_sim_mutate(src, 300, 100, &ins, &rng, out, &used), 0);
	CHECK(used < 100);
	CHECK(out[0] == src[0]);
}

TEST(sim_mutate_pure_and_rates)
{
	es_rng_t rng; es_rng_seed(&rng, 2);
	enum { L = 150, T = 400 };
	uint8_t src[L + L / 8 + 32], out[L], out2[L];
	es_sim_err_t err = { 0.02, 0.005, 0.005, ES_SIM_INDEL_EXT };
	/* same rng state -> same read */
	rand_codes(&rng, src, sizeof src);
	es_rng_t a = rng, b = rng;
	int u1, u2;
	CHECK_EQ_INT(es_sim_mutate(src, sizeof src, L, &err, &a, out, &u1), 0);
	CHECK_EQ_INT(es_sim_mutate(src, sizeof src, L, &err, &b, out2, &u2), 0);
	CHECK(memcmp(out, out2, L) == 0 && u1 == u2);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	/* mean edit distance close to the expected number of events: sub + 1.5 (ins + del) per base */
	double sum = 0, sum_used = 0;
	for (int t = 0; t < T; t++) {
		rand_codes(&rng, src, sizeof src);
		int used;
		CHECK_EQ_INT(es_sim_mutate(src, sizeof src, L, &err, &rng, out, &used), 0);
		sum += prefix_edit(out, L, src, sizeof src);
		sum_used += used;
	}
	double want = L * (err.sub + 1.5 * (err.ins + err.del));  /* 4.2; random coincidences make it a little less */
	CHECKF(sum / T > 0.8 * want && sum / T < 1.1 * want, "mean edits %.2f, expected about %.2f", sum / T, want);
	CHECK_NEAR(sum_used / T, L, 1.0);  /* as many bases inserted as deleted on average */
}

/* a reference: c1 3000 bases with an N run [1000,1200), c2 500 bases, c3 50 bases (shorter than the reads) */
static es_ref_t *make_ref(uint8_t **codes_out)
{
	es_rng_t rng; es_rng_seed(&rng, 77);
	int len[3] = { 3000, 500, 50 };
	char path[512];
	snprintf(path, sizeof path, "%s/simref.fa", es_test_tmpdir());
	FILE *fp = fopen(path, "w");
	uint8_t *codes = es_malloc(3550);
	int k = 0;
	for (int c = 0; c < 3; c++) {
		fprintf(fp, ">c%d\n", c + 1);
		for (int i = 0; i < len[c]; i++) {
			uint8_t b = c == 0 && i >= 1000 && i < 1200 ? 4 : (uint8_t)es_rng_below(&rng, 4);
			codes[k++] = b;
			fputc("acgtN"[b], fp);
			if (i % 70 == 69) fputc('\n', fp);
		}
		fputc('\n', fp);
	}
	fclose(fp);
	*codes_out = codes;
	return es_ref_load_fasta(path);
}

typedef struct { int n, n_minus, bad_name, bad_span, has_n, max_edit, c3; double sum_edit; int64_t min_pos, max_end; } simstat_t;

/* simulate to a file, then read each read back and re-derive it from its name */
static simstat_t run_sim(const es_ref_t *ref, const uint8_t *codes, const es_sim_opt_t *opt, const char *fname)
{
	simstat_t st = { 0 };
	st.min_pos = INT64_MAX;
	char path[512];
	snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), fname);
	FILE *fp = fopen(path, "w");
	CHECK_EQ_INT(es_sim_reads(ref, opt, fp), 0);
	fclose(fp);
	es_reader_t *rd = es_reader_open(path);
	CHECK(rd != NULL);
	if (!rd) return st;
	es_read_t r = { 0 };
	int L = opt->read_len;
	uint8_t *rc = es_malloc(L);
	while (es_reader_next(rd, &r) > 0) {
		const char *cn; int cl; int64_t pos; char strand;
		char want_id[32]; snprintf(want_id, sizeof want_id, "s%d!", st.n);
		st.n++;
		if (es_sim_name_parse(r.name, &cn, &cl, &pos, &strand) < 0 || strncmp(r.name, want_id, strlen(want_id)) != 0) { st.bad_name++; continue; }
		char cname[64]; snprintf(cname, sizeof cname, "%.*s", cl, cn);
		int ci = es_ref_contig_by_name(ref, cname);
		if (ci < 0 || r.len != L || strlen(r.qual) != (size_t)L) { st.bad_name++; continue; }
		if (ci == 2) st.c3++;
		st.n_minus += strand == '-';
		for (int i = 0; i < L; i++) rc[i] = es_nt4[(uint8_t)r.seq[i]];
		if (strand == '-') es_revcomp(rc, L);
		int64_t g = ref->contig[ci].off + pos, avail = ref->contig[ci].len - pos;
		if (pos < 0 || avail <= 0) { st.bad_span++; continue; }
		int n = (int)(avail < L + L / 4 + 16 ? avail : L + L / 4 + 16);
		int e = prefix_edit(rc, L, codes + g, n);
		st.sum_edit += e;
		if (e > st.max_edit) st.max_edit = e;
		if (pos < st.min_pos) st.min_pos = pos;
		if (pos + L > st.max_end) st.max_end = pos + L;
		for (int i = 0; i < L; i++) st.has_n += rc[i] == 4;
	}
	free(rc);
	es_read_free(&r);
	es_reader_close(rd);
	return st;
}

TEST(sim_reads_exact_truth)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	CHECK(ref != NULL);
	if (!ref) { free(codes); return; }
	es_sim_opt_t opt; es_sim_opt_init(&opt);
	opt.n_reads = 600; opt.read_len = 100;
	opt.err.sub = opt.err.ins = opt.err.del = 0;
	simstat_t st = run_sim(ref, codes, &opt, "exact.fq");
	CHECK_EQ_INT(st.n, 600);
	CHECK_EQ_INT(st.bad_name, 0);
	CHECK_EQ_INT(st.bad_span, 0);
	CHECK_EQ_INT(st.max_edit, 0);   /* every read is exactly the reference at its POS (after revcomp for '-') */
	CHECK_EQ_INT(st.has_n, 0);      /* no origin overlaps the N run */
	CHECK_EQ_INT(st.c3, 0);         /* c3 is shorter than a read */
	CHECKF(st.n_minus > 240 && st.n_minus < 360, "%d of 600 reads on '-'", st.n_minus);
	es_ref_destroy(ref); free(codes);
}

TEST(sim_reads_error_rates)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	if (!ref) { free(codes); CHECK(0); return; }
	es_sim_opt_t opt; es_sim_opt_init(&opt);
	opt.n_reads = 500; opt.read_len = 100;
	opt.err.sub = 0.03; opt.err.ins = opt.err.del = 0.005;
	simstat_t st = run_sim(ref, codes, &opt, "err.fq");
	CHECK_EQ_INT(st.bad_name, 0);
	double want = 100 * (0.03 + 1.5 * 0.01);  /* 4.5 events per read */
	CHECKF(st.sum_edit / st.n > 0.8 * want && st.sum_edit / st.n < 1.1 * want, "mean edits %.2f, expected about %.2f", st.sum_edit / st.n, want);
	CHECK(st.max_edit < 20);
	es_ref_destroy(ref); free(codes);
}

static char *slurp(const char *fname)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), fname);
	return es_test_slurp(path, NULL);
}

TEST(sim_reads_deterministic)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	if (!ref) { free(codes); CHECK(0); return; }
	es_sim_opt_t opt; es_sim_opt_init(&opt);
	opt.n_reads = 200; opt.read_len = 80; opt.seed = 42;
	run_sim(ref, codes, &opt, "d1.fq");
	run_sim(ref, codes, &opt, "d2.fq");
	opt.seed = 43;
	run_sim(ref, codes, &opt, "d3.fq");
	char *a = slurp("d1.fq"), *b = slurp("d2.fq"), *c = slurp("d3.fq");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK(strlen(a) > 200 * 160);
		CHECK(strcmp(a, b) == 0);
		CHECK(strcmp(a, c) != 0);
	}
	free(a); free(b); free(c);
	es_ref_destroy(ref); free(codes);
}

TEST(sim_reads_region)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	if (!ref) { free(codes); CHECK(0); return; }
	es_sim_opt_t opt; es_sim_opt_init(&opt);
	opt.n_reads = 300; opt.read_len = 100;
	opt.err.sub = opt.err.ins = opt.err.del = 0;
	opt.region = "c1:1,500-2,500";
	simstat_t st = run_sim(ref, codes, &opt, "reg.fq");
	CHECK_EQ_INT(st.bad_name + st.bad_span + st.max_edit, 0);
	CHECK(st.min_pos >= 1500 && st.max_end <= 2500);
	CHECK(st.min_pos < 1550 && st.max_end > 2450);  /* the whole region is used */
	opt.region = "c2";
	char path[512]; snprintf(path, sizeof path, "%s/reg2.fq", es_test_tmpdir());
	st = run_sim(ref, codes, &opt, "reg2.fq");
	CHECK_EQ_INT(st.bad_name + st.bad_span + st.max_edit, 0);
	char *txt = slurp("reg2.fq");
	CHECK(txt && strstr(txt, "!c1!") == NULL && strstr(txt, "!c2!") != NULL);
	free(txt);
	/* errors */
	FILE *fp = fopen(path, "w");
	const char *bad[][2] = {
		{ "c9:0-1000", "no contig" }, { "c1:0-3001", "past the end" }, { "c1:500-400", "less than" },
		{ "c1:0-99", "shorter" }, { "c1:1000-1200", "N" }, { "c3", "shorter" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		opt.region = bad[i][0];
		CHECKF(es_sim_reads(ref, &opt, fp) == -1, "region %s accepted", bad[i][0]);
		CHECKF(strstr(es_last_error(), bad[i][1]) != NULL, "region %s: %s", bad[i][0], es_last_error());
	}
	fclose(fp);
	es_ref_destroy(ref); free(codes);
}

TEST(sim_reads_n_fraction)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	if (!ref) { free(codes); CHECK(0); return; }
	es_sim_opt_t opt; es_sim_opt_init(&opt);
	opt.n_reads = 300; opt.read_len = 100;
	opt.err.sub = opt.err.ins = opt.err.del = 0;
	opt.region = "c1:900-1300";   /* around the N run [1000,1200) */
	opt.max_n_frac = 0.1;
	simstat_t st = run_sim(ref, codes, &opt, "nfrac.fq");
	CHECK_EQ_INT(st.n, 300);
	CHECK(st.has_n > 0);            /* some reads overlap the run by up to 10 bases */
	CHECK(st.has_n <= 300 * 10);
	CHECK_EQ_INT(st.max_edit, 0);   /* N in the read matches N in the reference */
	es_ref_destroy(ref); free(codes);
}

TEST(sim_region_parse)
{
	char *c; int64_t b, e;
	CHECK_EQ_INT(es_sim_region_parse("chr1:100-200", &c, &b, &e), 0);
	CHECK_STR(c, "chr1"); CHECK_EQ_INT(b, 100); CHECK_EQ_INT(e, 200); free(c);
	CHECK_EQ_INT(es_sim_region_parse("X:35,000,000-70,000,000", &c, &b, &e), 0);
	CHECK_STR(c, "X"); CHECK_EQ_INT(b, 35000000); CHECK_EQ_INT(e, 70000000); free(c);
	CHECK_EQ_INT(es_sim_region_parse("chrM", &c, &b, &e), 0);
	CHECK_STR(c, "chrM"); CHECK_EQ_INT(b, 0); CHECK_EQ_INT(e, -1); free(c);
	CHECK_EQ_INT(es_sim_region_parse("HLA-A*01:01", &c, &b, &e), 0);
	CHECK_STR(c, "HLA-A*01:01"); CHECK_EQ_INT(e, -1); free(c);
	CHECK_EQ_INT(es_sim_region_parse("a:b:5-9", &c, &b, &e), 0);
	CHECK_STR(c, "a:b"); CHECK_EQ_INT(b, 5); CHECK_EQ_INT(e, 9); free(c);
	const char *bad[] = { "", ":1-5", "c:5-5", "c:9-5", "c:-5", "c:5-" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = (char *)1;
		CHECKF(es_sim_region_parse(bad[i], &c, &b, &e) == -1, "'%s' accepted", bad[i]);
		CHECK(c == NULL);
	}
}

/* the one region rule (region.h): global [beg,end) in one contig; an END past the contig is refused, not clipped */
TEST(ref_region)
{
	uint8_t *codes;
	es_ref_t *ref = make_ref(&codes);
	if (!ref) {
		free(codes);
		CHECK(0);
		return;
	}
	int64_t b = -1, e = -1;
	CHECK_EQ_INT(es_ref_region(ref, "c1:100-200", &b, &e), 0);
	CHECK_EQ_INT(b, 100);
	CHECK_EQ_INT(e, 200);
	CHECK_EQ_INT(es_ref_region(ref, "c2", &b, &e), 0);
	CHECK_EQ_INT(b, 3000);
	CHECK_EQ_INT(e, 3500);
	CHECK_EQ_INT(es_ref_region(ref, "c2:0-500", &b, &e), 0);   /* END at the contig's end */
	CHECK_EQ_INT(e, 3500);
	CHECK_EQ_INT(es_ref_region(ref, "c3:1,0-2,0", &b, &e), 0);
	CHECK_EQ_INT(b, 3510);
	CHECK_EQ_INT(e, 3520);
	const char *bad[][2] = {
		{ "c2:0-501", "END 501 is past the end of contig 'c2' (length 500)" },
		{ "c3:40-5000", "past the end of contig 'c3' (length 50)" },
		{ "c9:0-10", "no contig named 'c9'" },
		{ "c1:20-10", "BEG must be less than END" },
		{ "", "empty region" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = e = -7;
		CHECKF(es_ref_region(ref, bad[i][0], &b, &e) == -1, "region '%s' accepted", bad[i][0]);
		CHECKF(strstr(es_last_error(), bad[i][1]) != NULL, "region '%s': %s", bad[i][0], es_last_error());
		CHECK(b == -7 && e == -7);
	}
	es_ref_destroy(ref);
	free(codes);
}

TEST(sim_name_parse)
{
	const char *c; int cl; int64_t p; char s;
	CHECK_EQ_INT(es_sim_name_parse("s0!chr1!12345!+", &c, &cl, &p, &s), 0);
	CHECK(cl == 4 && strncmp(c, "chr1", 4) == 0 && p == 12345 && s == '+');
	CHECK_EQ_INT(es_sim_name_parse("s17!gi|9626243|ref|NC_001416.1|!0!-/1", &c, &cl, &p, &s), 0);
	CHECK(cl == 27 && strncmp(c, "gi|9626243|ref|NC_001416.1|", 27) == 0 && p == 0 && s == '-');
	CHECK_EQ_INT(es_sim_name_parse("s3!we!ird!7!+", &c, &cl, &p, &s), 0);   /* '!' inside the contig: parsed from the right */
	CHECK(cl == 6 && strncmp(c, "we!ird", 6) == 0 && p == 7);
	const char *bad[] = { "read1", "s!c!5!+", "s1!c!x!+", "s1!c!5!*", "s1!!5!+", "s1!c!!+", "s1!c!5+", "x1!c!5!+", "s1c!5!+" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(es_sim_name_parse(bad[i], &c, &cl, &p, &s) == -1, "'%s' accepted", bad[i]);
}
