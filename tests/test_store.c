/* test_store.c — the vector store on a small random genome with repeats, N runs and a contig shorter than a window:
 * window runs, index round trip, refusal of damaged and of crafted files (checksums recomputed), approximate vs
 * exact recall, candidate loci, and the SIMD scan kernels against their scalar twins. */
#include "test.h"
#include "store_priv.h"   /* the header layout, to craft files; ann.h for the kernels */
#include "simulate.h"
#include "util.h"
#include "thread.h"
#include "topk.h"
#include <stdlib.h>
#include <unistd.h>

#define TW 150   /* window and stride of the test index */
#define TS 25

/* A genome: c1 (200 kb, a 4 kb N run, a 1 kb region 60% N, a 2 kb segment repeated 3 times with 2% divergence),
 * c2 (60 kb), c3 (90 bp, shorter than a window). */
static const char *make_genome(void)
{
	static char path[512];
	if (path[0]) return path;
	snprintf(path, sizeof path, "%s/store_genome.fa", es_test_tmpdir());
	es_rng_t rng;
	es_rng_seed(&rng, 42);
	int n1 = 200000, n2 = 60000;
	char *s = malloc(n1 + 1);
	for (int i = 0; i < n1; i++) s[i] = "ACGT"[es_rng_below(&rng, 4)];
	for (int i = 50000; i < 54000; i++) s[i] = 'N';
	for (int i = 80000; i < 81000; i++) if (es_rng_uniform(&rng) < 0.6) s[i] = 'N';
	for (int r = 1; r <= 3; r++)
		for (int i = 0; i < 2000; i++) {
			char c = s[100000 + i];
			if (es_rng_uniform(&rng) < 0.02) c = "ACGT"[es_rng_below(&rng, 4)];
			s[100000 + r * 20000 + i] = c;
		}
	s[n1] = 0;
	FILE *fp = fopen(path, "w");
	fprintf(fp, ">c1\n");
	for (int i = 0; i < n1; i += 70) fprintf(fp, "%.70s\n", s + i);
	fprintf(fp, ">c2 second\n");
	for (int i = 0; i < n2; i++) { fputc("ACGT"[es_rng_below(&rng, 4)], fp); if (i % 80 == 79) fputc('\n', fp); }
	fprintf(fp, "\n>c3\n");
	for (int i = 0; i < 90; i++) fputc("ACGT"[es_rng_below(&rng, 4)], fp);
	fputc('\n', fp);
	fclose(fp);
	free(s);
	return path;
}

/* The build options of the test genome's indexes: the kmer encoder, windows TW at stride TS, the rest default. */
static void kmer_opt(es_index_opt_t *opt)
{
	es_index_opt_init(opt);
	opt->encoder_spec = "kmer";
	opt->w = TW;
	opt->stride = TS;
}

/* Build (once) and return the index path; kind ES_CODE_SIGN, ES_CODE_PQ4 or ES_CODE_PQ6 (the default). */
static const char *make_index(int kind)
{
	static char path[4][512];
	char *p = path[kind];
	if (p[0]) return p;
	snprintf(p, 512, "%s/store_%d.esi", es_test_tmpdir(), kind);
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_opt_t opt;
	kmer_opt(&opt);
	opt.n_threads = 2;
	opt.code_kind = kind;
	int64_t st[2];
	int ret = es_index_build(ref, enc, &opt, p, st);
	if (ret != 0) fprintf(stderr, "    build failed: %s\n", es_last_error());
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
	return p;
}

TEST(store_windows)
{
	es_index_t *idx = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx != NULL);
	if (!idx) return;
	const es_ref_t *ref = es_index_ref(idx);
	CHECK_EQ_INT(ref->n_contig, 3);
	CHECK_EQ_INT(es_index_w(idx), TW);
	CHECK_EQ_INT(es_index_stride(idx), TS);
	int64_t n = es_index_n_windows(idx), prev = -1;
	int bad_span = 0, bad_len = 0, bad_n = 0, in_nrun = 0, last_at_end[3] = { 0, 0, 0 }, c3 = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t b, e;
		es_index_window(idx, i, &b, &e);
		int c = es_ref_contig_at(ref, b);
		int64_t cend = ref->contig[c].off + ref->contig[c].len;
		if (e > cend || b < prev) bad_span++;
		if (e - b != (ref->contig[c].len < TW ? ref->contig[c].len : TW)) bad_len++;
		if (2 * es_ref_count_n(ref, b, e) > e - b) bad_n++;
		if (b >= 50000 && e <= 54000) in_nrun++;
		if (e == cend) last_at_end[c] = 1;
		if (c == 2) c3++;
		prev = b;
	}
	CHECK_EQ_INT(bad_span, 0);
	CHECK_EQ_INT(bad_len, 0);
	CHECK_EQ_INT(bad_n, 0);
	CHECK_EQ_INT(in_nrun, 0);
	CHECK(last_at_end[0] && last_at_end[1] && last_at_end[2]);
	CHECK_EQ_INT(c3, 1);   /* a contig shorter than W is one window */
	/* about (len - W)/S + 1 windows per contig, fewer the N-covered ones */
	CHECK(n > (200000 - 5000) / TS && n < 260000 / TS + 10);
	es_index_destroy(idx);
}

TEST(store_roundtrip)
{
	const char *ip = make_index(ES_CODE_PQ6);
	es_index_t *a = es_index_load(ip), *b = es_index_load(ip);
	CHECK(a && b);
	if (!a || !b) {
		es_index_destroy(a);
		es_index_destroy(b);
		return;
	}
	es_ref_t *fa = es_ref_load_fasta(make_genome());
	const es_ref_t *r = es_index_ref(a);
	CHECK_EQ_INT(r->len, fa->len);
	CHECK_EQ_INT(r->n_nrun, fa->n_nrun);
	CHECK_EQ_INT(r->owns_pac, 0);
	for (int c = 0; c < fa->n_contig; c++) {
		CHECK_STR(r->contig[c].name, fa->contig[c].name);
		CHECK_EQ_INT(r->contig[c].off, fa->contig[c].off);
	}
	uint8_t *x = malloc(fa->len), *y = malloc(fa->len);
	es_ref_get(fa, 0, fa->len, x);
	es_ref_get(r, 0, r->len, y);
	CHECK(memcmp(x, y, fa->len) == 0);
	CHECK_STR(es_index_encoder_spec(a), "kmer");
	es_encoder_t *enc = es_index_open_encoder(a);
	CHECK(enc != NULL);
	if (enc) CHECK(es_index_encoder_checksum(a) == es_encoder_checksum(enc));
	CHECK(strlen(es_index_scan_kernel(a)) > 0);
	/* the same queries give the same answers from both mappings, and the prefix form of the path loads too */
	int nq = 40, k = 16, dim = es_index_dim(a);
	const uint8_t *seqs[40];
	int lens[40];
	for (int i = 0; i < nq; i++) { seqs[i] = x + 1000 + i * 4000; lens[i] = 150; }
	float *q = malloc(nq * dim * sizeof(float));
	int64_t *ia = malloc(nq * k * sizeof(int64_t)), *ib = malloc(nq * k * sizeof(int64_t));
	float *sa = malloc(nq * k * sizeof(float)), *sb = malloc(nq * k * sizeof(float));
	if (enc) {
		es_encoder_embed(enc, nq, seqs, lens, q);
		CHECK(es_index_search(a, nq, q, k, 0, ia, sa) == 0);
		CHECK(es_index_search(b, nq, q, k, 0, ib, sb) == 0);
		CHECK(memcmp(ia, ib, nq * k * sizeof(int64_t)) == 0);
		CHECK(memcmp(sa, sb, nq * k * sizeof(float)) == 0);
		/* every query is an exact window sequence at a window start: its own window is the best hit */
		int own = 0, valid = 0;
		for (int i = 0; i < nq; i++) {
			if (ia[i * k] < 0) continue;   /* a query inside the N run embeds to zero: no hits */
			int64_t wb, we;
			es_index_window(a, ia[i * k], &wb, &we);
			own += wb == 1000 + i * 4000;
			valid++;
		}
		CHECK(valid >= nq - 2);
		CHECK(own >= valid - 2);
		/* scores best first */
		int sorted = 1;
		for (int i = 0; i < nq; i++)
			for (int j = 1; j < k; j++)
				if (ia[i * k + j] >= 0 && sa[i * k + j] > sa[i * k + j - 1])
					sorted = 0;
		CHECK(sorted);
	}
	char prefix[512];
	snprintf(prefix, sizeof prefix, "%s", ip);
	prefix[strlen(prefix) - 4] = 0;
	es_index_t *c = es_index_load(prefix);
	CHECK(c != NULL);
	es_index_destroy(c);
	free(q);
	free(ia);
	free(ib);
	free(sa);
	free(sb);
	free(x);
	free(y);
	es_encoder_destroy(enc);
	es_ref_destroy(fa);
	es_index_destroy(a);
	es_index_destroy(b);
}

static void copy_file(const char *from, const char *to, long keep, long flip)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	int ch;
	for (long i = 0; (ch = fgetc(in)) != EOF && (keep < 0 || i < keep); i++) fputc(i == flip ? ch ^ 0x10 : ch, out);
	fclose(in);
	fclose(out);
}

TEST(store_refuses_damaged_files)
{
	const char *ip = make_index(ES_CODE_PQ6);
	char p[600];
	const char *dir = es_test_tmpdir();
	struct { const char *name; long keep, flip; const char *msg; } cases[] = {
		{ "trunc.esi", 100000, -1, "truncated" },
		{ "trunc_hdr.esi", 2000, -1, "truncated" },
		{ "flip_sec.esi", -1, 300000, "checksum mismatch" },
		{ "flip_last.esi", -1, -2, "checksum mismatch" },
		{ "flip_hdr.esi", -1, 100, "corrupt index header" },
		{ "magic.esi", -1, 0, "not an esalign index" },
		{ "version.esi", -1, 8, "version" },
	};
	FILE *fp = fopen(ip, "rb");
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fclose(fp);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, cases[i].name);
		copy_file(ip, p, cases[i].keep, cases[i].flip == -2 ? size - 200 : cases[i].flip);
		es_index_t *idx = es_index_load(p);
		CHECKF(idx == NULL, "%s accepted", cases[i].name);
		CHECKF(strstr(es_last_error(), p) != NULL, "error does not name the file: %s", es_last_error());
		CHECKF(strstr(es_last_error(), cases[i].msg) != NULL, "%s: '%s' lacks '%s'", cases[i].name, es_last_error(),
		       cases[i].msg);
		es_index_destroy(idx);
	}
	snprintf(p, sizeof p, "%s/empty.esi", dir);
	fclose(fopen(p, "w"));
	CHECK(es_index_load(p) == NULL);
	CHECK(strstr(es_last_error(), p) != NULL);
	CHECK(es_index_load("/nonexistent/idx") == NULL);
	CHECK(strstr(es_last_error(), "/nonexistent/idx") && strstr(es_last_error(), "/nonexistent/idx.esi"));
	/* a FASTA is not an index */
	CHECK(es_index_load(make_genome()) == NULL);
	CHECK(strstr(es_last_error(), "not an esalign index") != NULL);
	/* another encoder is refused */
	es_index_t *idx = es_index_load(ip);
	es_encoder_t *other = es_encoder_open("kmer:13:64");
	CHECK(idx && other && es_index_check_encoder(idx, other) == -1);
	CHECK(strstr(es_last_error(), "kmer(k=13") != NULL);
	if (idx && other) {
		es_locus_t l[4];
		int nl;
		const uint8_t *s = (const uint8_t *)"\0\1\2\3\0\1\2\3\0\1\2\3\0\1\2\3\0\1\2\3";
		int len = 20;
		CHECK(es_index_candidates(idx, other, 1, &s, &len, 4, l, &nl, 0) == -1);
	}
	es_encoder_destroy(other);
	es_index_destroy(idx);
}

/* A whole index file in memory, to craft bad ones from a good one. */
typedef struct { uint8_t *b; long n; } fbuf_t;
static fbuf_t slurp(const char *path)
{
	fbuf_t f = { NULL, 0 };
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return f;
	fseek(fp, 0, SEEK_END);
	f.n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f.b = malloc(f.n);
	if (fread(f.b, 1, f.n, fp) != (size_t)f.n)
		f.n = 0;
	fclose(fp);
	return f;
}
static hdr_t *fhdr(fbuf_t *f) { return (hdr_t *)(void *)f->b; }
static void *fsec(fbuf_t *f, int s) { return f->b + fhdr(f)->sec[s].off; }

/* What an attacker does: every section checksum and the header checksum recomputed exactly as the loader verifies
 * them (es_fast_checksum with the section id as seed; the header block with hdr_ck zero), then written out. */
static void reseal_write(fbuf_t *f, const char *path)
{
	hdr_t *h = fhdr(f);
	for (int i = 0; i < N_SEC; i++)
		h->sec[i].ck = es_fast_checksum(f->b + h->sec[i].off, h->sec[i].size, (uint64_t)i);
	h->hdr_ck = es_index_hdr_checksum(f->b);
	FILE *fp = fopen(path, "wb");
	fwrite(f->b, 1, f->n, fp);
	fclose(fp);
}

/* The load of f (crafted by the caller, resealed here) is refused with a message holding want (NULL: accepted). */
static void check_crafted(fbuf_t *f, const char *name, const char *want)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", es_test_tmpdir(), name);
	reseal_write(f, p);
	es_index_t *idx = es_index_load(p);
	if (!want) {
		CHECKF(idx != NULL, "%s refused: %s", name, es_last_error());
	} else {
		CHECKF(idx == NULL, "%s accepted", name);
		CHECKF(strstr(es_last_error(), want) != NULL, "%s: '%s' lacks '%s'", name, es_last_error(), want);
		CHECKF(strstr(es_last_error(), p) != NULL, "%s: the message does not name the file", name);
	}
	es_index_destroy(idx);
}

TEST(store_refuses_crafted_files)
{
	fbuf_t good = slurp(make_index(ES_CODE_PQ6)), f = slurp(make_index(ES_CODE_PQ6));
	CHECK(good.n > HDR_SIZE && f.n == good.n);
	if (good.n <= HDR_SIZE || f.n != good.n)
		return;
	check_crafted(&f, "resealed.esi", NULL);   /* resealing alone changes nothing: the crafting is right */
	/* 2^60 N runs: n_nrun * sizeof wraps in a multiplication */
	fhdr(&f)->n_nrun = (int64_t)1 << 60;
	check_crafted(&f, "nrun_count.esi", "section 'N runs' holds");
	memcpy(f.b, good.b, f.n);
	/* a contig whose off + len overflows int64 */
	disk_contig_t *dc = fsec(&f, SEC_CONTIG);
	dc[1].len = INT64_MAX - 5;
	check_crafted(&f, "contig_wrap.esi", "contig c2 length");
	memcpy(f.b, good.b, f.n);
	/* a reversed N run (es_ref_get would memset a negative size) */
	es_nrun_t *nr = fsec(&f, SEC_NRUN);
	CHECK(fhdr(&f)->n_nrun > 0);
	int64_t t = nr[0].beg;
	nr[0].beg = nr[0].end;
	nr[0].end = t;
	check_crafted(&f, "nrun_reversed.esi", "N run 0");
	memcpy(f.b, good.b, f.n);
	/* an N run past the reference */
	nr[fhdr(&f)->n_nrun - 1].end = fhdr(&f)->ref_len + 1000;
	check_crafted(&f, "nrun_outside.esi", "not inside one contig");
	memcpy(f.b, good.b, f.n);
	/* n_windows near 2^62, the counts that follow from it consistent */
	hdr_t *h = fhdr(&f);
	h->n_windows = (int64_t)1 << 62;
	h->n_codes = (h->n_windows + h->code_step - 1) / h->code_step;
	h->n_pos = h->n_codes;
	check_crafted(&f, "nwin.esi", "n_windows=4611686018427387904");
	memcpy(f.b, good.b, f.n);
	/* the window table is implicit (runs of regular windows): one run per contig, its end-aligned last window, and
	 * one per N gap skipped */
	wrun_t *wr = fsec(&f, SEC_WRUN), *wr0 = fsec(&good, SEC_WRUN);
	int64_t c2 = dc[1].off, i = 0, nwr = h->n_wrun;
	CHECKF(nwr >= 4 && nwr < h->n_windows / 10, "%lld window runs for %lld windows", (long long)nwr,
	       (long long)h->n_windows);
	/* a window that runs past its contig's end (c1's last run moved to 10 bases before c2) */
	while (i + 1 < nwr && wr[i + 1].beg < c2)
		i++;
	wr[i].beg = c2 - 10 - (wr[i].n - 1) * h->stride;
	check_crafted(&f, "win_contig.esi", "outside its contig c1");
	memcpy(f.b, good.b, f.n);
	/* a window start beyond the reference */
	wr[nwr - 1].beg = h->ref_len;
	check_crafted(&f, "win_ref.esi", "outside");
	memcpy(f.b, good.b, f.n);
	/* window runs out of order */
	wr[1].beg = wr0[0].beg;
	wr[0].beg = wr0[1].beg;
	check_crafted(&f, "win_order.esi", "window run 1 starts");
	memcpy(f.b, good.b, f.n);
	/* runs that skip a window, or hold more than n_windows */
	wr[1].first++;
	check_crafted(&f, "win_gap.esi", "window run 1 holds windows");
	memcpy(f.b, good.b, f.n);
	wr[0].n--;   /* and every later run one window earlier: consistent, but a window short */
	for (int64_t j = 1; j < nwr; j++)
		wr[j].first--;
	check_crafted(&f, "win_short.esi", "the window runs hold");
	memcpy(f.b, good.b, f.n);
	wr[nwr - 1].n += 2;
	check_crafted(&f, "win_long.esi", "window run");
	memcpy(f.b, good.b, f.n);
	fhdr(&f)->n_wrun = 0;
	check_crafted(&f, "nwrun.esi", "n_wrun=0");
	memcpy(f.b, good.b, f.n);
	/* a header field out of range, named with its value */
	fhdr(&f)->code_step = 70;
	check_crafted(&f, "step.esi", "code_step=70");
	free(good.b);
	free(f.b);
}

static es_index_t *lists_index(const es_ref_t *ref, const es_encoder_t *enc, const char *name);

TEST(store_refuses_crafted_lists)
{
	/* the list members of an index with lists, resealed: each code once, in order within a list, in range */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_t *idx = lists_index(ref, enc, "lists_good.esi");
	es_index_destroy(idx);
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
	char path[600];
	snprintf(path, sizeof path, "%s/lists_good.esi", es_test_tmpdir());
	fbuf_t good = slurp(path), f = slurp(path);
	CHECK(good.n > HDR_SIZE && f.n == good.n && fhdr(&good)->ivf_lists == 32);
	if (good.n <= HDR_SIZE || f.n != good.n || fhdr(&good)->ivf_lists != 32) {
		free(good.b);
		free(f.b);
		return;
	}
	check_crafted(&f, "lists_resealed.esi", NULL);
	const ivf_list_t *L = fsec(&good, SEC_IVF_LIST);
	uint32_t *ids = fsec(&f, SEC_IVF_IDS);
	const uint32_t *gid = fsec(&good, SEC_IVF_IDS);
	/* a code of list b put in list a's slot j, between its neighbours: in order, in range, as many, but twice */
	int found = 0;
	for (int a = 0; a < 32 && !found; a++)
		for (int64_t j = L[a].beg + 1; j + 1 < L[a].beg + L[a].len && !found; j++)
			for (int b = 0; b < 32 && !found; b++)
				for (int64_t p = L[b].beg; b != a && p < L[b].beg + L[b].len && !found; p++)
					if (gid[p] > gid[j - 1] && gid[p] < gid[j + 1]) {
						ids[j] = gid[p];
						found = 1;
					}
	CHECK(found);
	check_crafted(&f, "lists_twice.esi", "a code twice");
	memcpy(f.b, good.b, f.n);
	int64_t j = L[0].beg + 1;   /* two members swapped */
	ids[j] = gid[j - 1];
	ids[j - 1] = gid[j];
	check_crafted(&f, "lists_order.esi", "out of order");
	memcpy(f.b, good.b, f.n);
	ids[L[0].beg] = (uint32_t)fhdr(&f)->n_codes;
	check_crafted(&f, "lists_range.esi", "out of range");
	free(good.b);
	free(f.b);
}

TEST(store_load_fasta_path_like_bwa)
{
	/* `esalign index ref.fa` writes ref.fa.esi; loading "ref.fa" (a FASTA, no magic) then loads ref.fa.esi */
	char fa[600], esi[700];
	snprintf(fa, sizeof fa, "%s/bwa.fa", es_test_tmpdir());
	snprintf(esi, sizeof esi, "%s.esi", fa);
	fbuf_t g = slurp(make_genome()), x = slurp(make_index(ES_CODE_PQ6));
	FILE *fp = fopen(fa, "wb");
	fwrite(g.b, 1, g.n, fp);
	fclose(fp);
	CHECK(es_index_load(fa) == NULL);   /* no bwa.fa.esi yet: the FASTA itself is refused */
	CHECK(strstr(es_last_error(), "not an esalign index") != NULL);
	fp = fopen(esi, "wb");
	fwrite(x.b, 1, x.n, fp);
	fclose(fp);
	es_index_t *idx = es_index_load(fa);
	CHECKF(idx != NULL, "%s", es_last_error());
	if (idx)
		CHECK_STR(es_index_path(idx), esi);
	es_index_destroy(idx);
	free(g.b);
	free(x.b);
}

/* Simulated reads from the test genome: n reads of len bases with 1% substitutions and 0.1% indels, both strands. */
typedef struct { uint8_t **seq; int *len; int64_t *beg, *end; int n; } reads_t;
static reads_t sim_reads(const es_ref_t *ref, int n, int len, uint64_t seed)
{
	reads_t r = { malloc(n * sizeof(uint8_t *)), malloc(n * sizeof(int)), malloc(n * sizeof(int64_t)),
		malloc(n * sizeof(int64_t)), n };
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	es_sim_err_t err = { 0.01, 0.0005, 0.0005, ES_SIM_INDEL_EXT };
	int srcn = len + len / 8 + 32;
	uint8_t *src = malloc(srcn);
	for (int i = 0; i < n;) {
		int64_t pos = (int64_t)es_rng_below(&rng, (uint64_t)ref->len);
		int c = es_ref_contig_at(ref, pos);
		if (pos + srcn > ref->contig[c].off + ref->contig[c].len || es_ref_count_n(ref, pos, pos + srcn)) continue;
		es_ref_get(ref, pos, pos + srcn, src);
		r.seq[i] = malloc(len);
		int used;
		if (es_sim_mutate(src, srcn, len, &err, &rng, r.seq[i], &used) != 0) {
			free(r.seq[i]);
			continue;
		}
		if (es_rng_below(&rng, 2)) es_revcomp(r.seq[i], len);
		r.len[i] = len;
		r.beg[i] = pos;
		r.end[i] = pos + used;
		i++;
	}
	free(src);
	return r;
}
static void reads_free(reads_t *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->seq[i]);
	free(r->seq);
	free(r->len);
	free(r->beg);
	free(r->end);
}

/* percent of reads with a locus among the first K overlapping the true origin */
static double locus_recall(const es_index_t *idx, const es_encoder_t *enc, reads_t *r, int K, int flags, int *bad_loci)
{
	es_locus_t *l = malloc((size_t)r->n * K * sizeof *l);
	int *nl = malloc(r->n * sizeof(int)), hit = 0;
	CHECK(es_index_candidates(idx, enc, r->n, (const uint8_t *const *)r->seq, r->len, K, l, nl, flags) == 0);
	const es_ref_t *ref = es_index_ref(idx);
	*bad_loci = 0;
	for (int i = 0; i < r->n; i++) {
		int found = 0;
		for (int j = 0; j < nl[i]; j++) {
			es_locus_t *x = &l[(size_t)i * K + j];
			if (x->beg < r->end[i] && r->beg[i] < x->end) found = 1;
			int c = es_ref_contig_at(ref, x->beg);
			if (x->end > ref->contig[c].off + ref->contig[c].len || x->end <= x->beg) (*bad_loci)++;
			if (j && x->score > l[(size_t)i * K + j - 1].score) (*bad_loci)++;
		}
		hit += found;
	}
	free(l);
	free(nl);
	return 100.0 * hit / r->n;
}

TEST(store_recall_approx_vs_exact)
{
	/* Bound: on this genome the approximate search (each code kind, 256 re-ranked) finds the true locus for at least
	 * as many reads as exact search minus 1 point, and exact search at least 97% of 150 bp reads. */
	for (int kind = ES_CODE_SIGN; kind <= ES_CODE_PQ6; kind++) {
		es_index_t *idx = es_index_load(make_index(kind));
		CHECK(idx != NULL);
		if (!idx) return;
		es_encoder_t *enc = es_index_open_encoder(idx);
		reads_t r = sim_reads(es_index_ref(idx), 300, 150, 5);
		int bad1, bad2;
		double ra = locus_recall(idx, enc, &r, 16, 0, &bad1), rx = locus_recall(idx, enc, &r, 16, ES_SEARCH_EXACT, &bad2);
		CHECKF(rx >= 97.0, "exact recall %.1f", rx);
		const char *kn = kind == ES_CODE_PQ4 ? "pq4" : kind == ES_CODE_PQ6 ? "pq6" : "sign";
		CHECKF(ra >= rx - 1.0, "%s: approximate %.1f vs exact %.1f", kn, ra, rx);
		CHECK_EQ_INT(bad1 + bad2, 0);
		reads_free(&r);
		es_encoder_destroy(enc);
		es_index_destroy(idx);
	}
}

/* ES_SEARCH_DEEP re-ranks es_index_deep_rerank codes (ES_DEEP_RERANK times the index's on this small one), with
 * ES_SEARCH_LOOK as well es_index_look_rerank (ES_LOOK_RERANK times that: the last look's wide pass), ES_SEARCH_LOOK
 * alone the index's count: each the same hits as an index set to re-rank that many, each flag not ignored, and a
 * best hit never worse than with fewer codes. */
TEST(store_search_deep_and_look_rerank_more)
{
	es_index_t *idx = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx != NULL);
	if (!idx) return;
	es_encoder_t *enc = es_index_open_encoder(idx);
	reads_t r = sim_reads(es_index_ref(idx), 50, 150, 9);
	int dim = es_encoder_dim(enc), k = 8, rr = 8;   /* few codes re-ranked: more must change some hits */
	size_t nk = (size_t)r.n * k;
	es_index_set_rerank(idx, rr);
	CHECK_EQ_INT(es_index_deep_rerank(idx), ES_DEEP_RERANK * rr);
	CHECK_EQ_INT(es_index_look_rerank(idx), ES_LOOK_RERANK * ES_DEEP_RERANK * rr);
	const int flags[4] = { 0, ES_SEARCH_DEEP, ES_SEARCH_DEEP | ES_SEARCH_LOOK, ES_SEARCH_LOOK };
	const int want[4] = { rr, es_index_deep_rerank(idx), es_index_look_rerank(idx), rr };
	float *q = malloc((size_t)r.n * dim * sizeof(float)), *s[4], *sr = malloc(nk * sizeof(float));
	int64_t *id[4], *ir = malloc(nk * sizeof(int64_t));
	CHECK_EQ_INT(es_encoder_embed(enc, r.n, (const uint8_t *const *)r.seq, r.len, q), 0);
	for (int j = 0; j < 4; j++) {
		s[j] = malloc(nk * sizeof(float));
		id[j] = malloc(nk * sizeof(int64_t));
		es_index_set_rerank(idx, rr);
		CHECK_EQ_INT(es_index_search(idx, r.n, q, k, flags[j], id[j], s[j]), 0);
		es_index_set_rerank(idx, want[j]);
		CHECK_EQ_INT(es_index_search(idx, r.n, q, k, 0, ir, sr), 0);
		CHECKF(memcmp(id[j], ir, nk * sizeof(int64_t)) == 0 && memcmp(s[j], sr, nk * sizeof(float)) == 0,
		       "flags %d: not the hits of %d codes re-ranked", flags[j], want[j]);
	}
	for (int j = 1; j < 3; j++) {
		CHECKF(memcmp(id[j - 1], id[j], nk * sizeof(int64_t)) != 0, "flags %d: ignored", flags[j]);
		for (int i = 0; i < r.n; i++)
			CHECKF(s[j][(size_t)i * k] >= s[j - 1][(size_t)i * k], "flags %d, read %d: best %g < %g", flags[j], i,
			       s[j][(size_t)i * k], s[j - 1][(size_t)i * k]);
	}
	es_index_set_rerank(idx, ES_INDEX_MAX_RERANK);   /* the counts never pass the most a query re-ranks */
	CHECK_EQ_INT(es_index_deep_rerank(idx), ES_INDEX_MAX_RERANK);
	CHECK_EQ_INT(es_index_look_rerank(idx), ES_INDEX_MAX_RERANK);
	for (int j = 0; j < 4; j++) {
		free(s[j]);
		free(id[j]);
	}
	free(q);
	free(sr);
	free(ir);
	reads_free(&r);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
}

TEST(store_deep_rerank_grows_with_the_index)
{
	/* 2 x up to ES_DEEP_SCALE_WINDOWS windows (chrX 70 Mb: 3.3 M), one more step per as many, at most 8 steps
	 * (1 Gb: 48.9 M windows, 16 x), and never past ES_INDEX_MAX_RERANK */
	CHECK_EQ_INT(es_deep_rerank_count(256, 1000), 2 * 256);
	CHECK_EQ_INT(es_deep_rerank_count(256, 3300000), 2 * 256);
	CHECK_EQ_INT(es_deep_rerank_count(256, 14500000), 2 * 4 * 256);
	CHECK_EQ_INT(es_deep_rerank_count(256, 48900000), 2 * 8 * 256);
	CHECK_EQ_INT(es_deep_rerank_count(256, 151900000), 2 * 8 * 256);
	CHECK_EQ_INT(es_deep_rerank_count(60000, 48900000), ES_INDEX_MAX_RERANK);
}

TEST(store_candidates_read_lengths)
{
	/* reads of 100 (shorter than W), 150 (= W) and 250 bp (two chunks that vote) all find their origin */
	es_index_t *idx = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx != NULL);
	if (!idx) return;
	es_encoder_t *enc = es_index_open_encoder(idx);
	int L[3] = { 100, 150, 250 };
	double want[3] = { 90.0, 97.0, 98.0 };
	for (int t = 0; t < 3; t++) {
		reads_t r = sim_reads(es_index_ref(idx), 200, L[t], 9 + t);
		int bad;
		double rc = locus_recall(idx, enc, &r, 16, 0, &bad);
		CHECKF(rc >= want[t], "%d bp: recall@16 %.1f < %.1f", L[t], rc, want[t]);
		CHECK_EQ_INT(bad, 0);
		reads_free(&r);
	}
	/* too short and all-N reads get no loci, without error */
	uint8_t nn[200];
	memset(nn, 4, sizeof nn);
	const uint8_t *s[2] = { nn, nn };
	int lens[2] = { 200, 10 }, nl[2] = { -1, -1 };
	es_locus_t l[2 * 4];
	CHECK(es_index_candidates(idx, enc, 2, s, lens, 4, l, nl, 0) == 0);
	CHECK(nl[0] == 0 && nl[1] == 0);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
}

/* ---- kernels against their scalar twins ---- */
static int same_state(const es_hamq_t *a, const es_hamq_t *b)
{
	return a->n == b->n && a->thr == b->thr && !memcmp(a->id, b->id, a->n * 4) && !memcmp(a->dist, b->dist, a->n * 2);
}

TEST(store_hamq_keep_avx2_matches_scalar)
{
	/* random buffers of 0..300 entries over few distances (many ties), every cut d and tie count, into separate
	 * arrays, in place, and without distances: the AVX2 compaction gives the scalar twin's count and entries */
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2")) {
		fprintf(stderr, "    (no AVX2 on this CPU: skipped)\n");
		return;
	}
	es_rng_t rng;
	es_rng_seed(&rng, 41);
	enum { N = 300 };
	uint32_t id[N], ia[N + ES_HAMQ_KEEP_PAD], ib[N + ES_HAMQ_KEEP_PAD], ip[N];
	uint16_t dist[N], da[N + ES_HAMQ_KEEP_PAD], db[N + ES_HAMQ_KEEP_PAD], dp[N];
	int bad = 0, runs = 0;
	for (int trial = 0; trial < 60; trial++) {
		int n = trial < 10 ? trial : (int)es_rng_below(&rng, N + 1), span = 1 + (int)es_rng_below(&rng, 12);
		for (int i = 0; i < n; i++) {
			id[i] = (uint32_t)es_rng_next(&rng);
			dist[i] = (uint16_t)(es_rng_below(&rng, span) + (trial & 1 ? 500 : 0));
		}
		es_hamq_t st = { 513, 40, n, N, id, dist };
		for (int d = (trial & 1 ? 499 : 0); d <= span + (trial & 1 ? 501 : 1); d++)
			for (int ties = -1; ties <= n + 1; ties += 1 + n / 7) {
				int ka = es_hamq_keep_scalar(&st, d, ties, ia, da);
				int kb = es_hamq_keep_avx2(&st, d, ties, ib, db);
				int kc = es_hamq_keep_avx2(&st, d, ties, ib, NULL);
				bad += ka != kb || ka != kc || memcmp(ia, ib, ka * sizeof *ia) || memcmp(da, db, ka * sizeof *da);
				memcpy(ip, id, n * sizeof *id);   /* in place, as es_hamq_shrink compacts */
				memcpy(dp, dist, n * sizeof *dist);
				es_hamq_t sp = { 513, 40, n, N, ip, dp };
				int kp = es_hamq_keep_avx2(&sp, d, ties, ip, dp);
				bad += kp != ka || memcmp(ip, ia, ka * sizeof *ia) || memcmp(dp, da, ka * sizeof *da);
				runs++;
			}
	}
	CHECKF(bad == 0, "%d of %d compactions differ from the scalar twin", bad, runs);
}

TEST(store_kernels_match_scalar)
{
	__builtin_cpu_init();
	int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")
	             && __builtin_cpu_supports("avx512bw");
	int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
	es_rng_t rng;
	es_rng_seed(&rng, 3);
	int64_t n = 5000;
	uint64_t *codes = malloc(n * 4 * sizeof(uint64_t));
	for (int64_t i = 0; i < n * 4; i++) codes[i] = es_rng_next(&rng);
	/* plant near-duplicates of the query so the buffer fills and shrinks */
	uint64_t q[4] = { es_rng_next(&rng), es_rng_next(&rng), es_rng_next(&rng), es_rng_next(&rng) };
	for (int i = 0; i < 300; i++)
		for (int j = 0; j < 4; j++)
			codes[j * n + i * 13] = q[j] ^ (1ULL << es_rng_below(&rng, 64));
	uint32_t id[3][200];
	uint16_t dist[3][200];
	int ranges[][2] = { { 0, 5000 }, { 3, 4999 }, { 17, 18 }, { 4992, 5000 }, { 100, 101 } };
	int mism = 0, runs = 0;
	for (int nw = 1; nw <= 4; nw *= 2)
		for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
			es_hamq_t st[3];
			for (int v = 0; v < 3; v++) st[v] = (es_hamq_t){ 64 * nw + 1, 40, 0, 200, id[v], dist[v] };
			es_hamscan_scalar(codes, n, nw, ranges[r][0], ranges[r][1], q, &st[0]);
			if (has2) {
				es_hamscan_avx2(codes, n, nw, ranges[r][0], ranges[r][1], q, &st[1]);
				mism += !same_state(&st[0], &st[1]);
				runs++;
			}
			if (has512) {
				es_hamscan_avx512(codes, n, nw, ranges[r][0], ranges[r][1], q, &st[2]);
				mism += !same_state(&st[0], &st[2]);
				runs++;
			}
		}
	CHECK_EQ_INT(mism, 0);
	/* PQ4 fast scan: random codes and tables, M = 8, 16, 32 */
	int64_t nb = (n + 63) / 64;
	uint8_t *pq = malloc(nb * 16 * 64);
	for (int64_t i = 0; i < nb * 16 * 64; i++) pq[i] = (uint8_t)es_rng_next(&rng);
	uint8_t lut[32 * 16];
	int pranges[][2] = { { 0, 5000 }, { 64, 4990 }, { 128, 130 }, { 4992, 5000 }, { 100, 170 }, { 40, 45 } };
	for (int M = 8; M <= 32; M *= 2) {
		for (int i = 0; i < M * 16; i++) lut[i] = (uint8_t)es_rng_below(&rng, 255 / M + 1);
		for (size_t r = 0; r < sizeof pranges / sizeof pranges[0]; r++) {
			es_hamq_t st[3];
			for (int v = 0; v < 3; v++) st[v] = (es_hamq_t){ 256, 40, 0, 200, id[v], dist[v] };
			es_pqscan_scalar(pq, M, pranges[r][0], pranges[r][1], lut, &st[0]);
			if (has2) {
				es_pqscan_avx2(pq, M, pranges[r][0], pranges[r][1], lut, &st[1]);
				mism += !same_state(&st[0], &st[1]);
				runs++;
			}
			if (has512) {
				es_pqscan_avx512(pq, M, pranges[r][0], pranges[r][1], lut, &st[2]);
				mism += !same_state(&st[0], &st[2]);
				runs++;
			}
			CHECK(st[0].n > 0);
		}
	}
	CHECK_EQ_INT(mism, 0);
	/* PQ6 (one byte per subspace, 64-entry tables), AVX2 and AVX-512 VBMI against scalar */
	int has_vbmi = has512 && __builtin_cpu_supports("avx512vbmi");
	uint8_t *pq6 = malloc(nb * 16 * 64), lut6[16 * 64];
	for (int64_t i = 0; i < nb * 16 * 64; i++) pq6[i] = (uint8_t)(es_rng_next(&rng) & 63);
	for (int M = 8; M <= 16; M *= 2) {
		for (int i = 0; i < M * 64; i++) lut6[i] = (uint8_t)es_rng_below(&rng, 255 / M + 1);
		for (size_t r = 0; r < sizeof pranges / sizeof pranges[0]; r++) {
			es_hamq_t st[3];
			for (int v = 0; v < 3; v++) st[v] = (es_hamq_t){ 256, 40, 0, 200, id[v], dist[v] };
			es_pq6scan_scalar(pq6, M, pranges[r][0], pranges[r][1], lut6, &st[0]);
			if (has2) {
				es_pq6scan_avx2(pq6, M, pranges[r][0], pranges[r][1], lut6, &st[2]);
				mism += !same_state(&st[0], &st[2]);
				runs++;
			}
			if (has_vbmi) {
				es_pq6scan_avx512(pq6, M, pranges[r][0], pranges[r][1], lut6, &st[1]);
				mism += !same_state(&st[0], &st[1]);
				runs++;
			}
			CHECK(st[0].n > 0);
		}
	}
	CHECK_EQ_INT(mism, 0);
	/* the same with a buffer that never fills: every code is kept, so each appended id and distance is compared
	 * (the AVX2 scans append a half of 32 survivors at once while there is room) */
	{
		enum { BIG = 5120 };
		uint32_t *bid[3];
		uint16_t *bdist[3];
		for (int v = 0; v < 3; v++) {
			bid[v] = malloc(BIG * sizeof(uint32_t));
			bdist[v] = malloc(BIG * sizeof(uint16_t));
		}
		for (size_t r = 0; r < sizeof pranges / sizeof pranges[0]; r++)
			for (int k = 0; k < 2; k++) {   /* PQ4 M = 16, PQ6 M = 16 */
				es_hamq_t st[3];
				for (int v = 0; v < 3; v++) st[v] = (es_hamq_t){ 256, 40, 0, BIG, bid[v], bdist[v] };
				if (k == 0)
					es_pqscan_scalar(pq, 16, pranges[r][0], pranges[r][1], lut, &st[0]);
				else
					es_pq6scan_scalar(pq6, 16, pranges[r][0], pranges[r][1], lut6, &st[0]);
				CHECK_EQ_INT(st[0].n, pranges[r][1] - pranges[r][0]);
				if (has2) {
					if (k == 0)
						es_pqscan_avx2(pq, 16, pranges[r][0], pranges[r][1], lut, &st[1]);
					else
						es_pq6scan_avx2(pq6, 16, pranges[r][0], pranges[r][1], lut6, &st[1]);
					mism += !same_state(&st[0], &st[1]);
					runs++;
				}
			}
		for (int v = 0; v < 3; v++) {
			free(bid[v]);
			free(bdist[v]);
		}
	}
	CHECK_EQ_INT(mism, 0);
	free(pq6);
	if (!has2 && !has512) fprintf(stderr, "    (no AVX2/AVX-512 on this CPU: only the scalar kernels ran)\n");
	/* the scalar scan keeps the true nearest: every planted neighbour (distance <= 4 on 256 bits) survives */
	es_hamq_t s0 = { 257, 40, 0, 200, id[0], dist[0] };
	es_hamscan_scalar(codes, n, 4, 0, n, q, &s0);
	int planted = 0;
	for (int i = 0; i < s0.n; i++) planted += s0.dist[i] <= 4;
	CHECK(planted >= 40);
	free(codes);
	free(pq);
}

/* es_pq_lut against the plain formula it implements: entry = clamp(lrintf((max_k d - d) * lmax / range), 0, lmax)
 * with d the inner product of the query's subvector with each centroid (its rounding is done without a call per
 * entry), on random codebooks and queries, a zero query included; and es_pq_lut_t, the search's, from the
 * transposed codebook: the same bytes. */
TEST(store_pq_lut_matches_formula)
{
	enum { M = 16, DIM = 64 };
	es_rng_t rng;
	es_rng_seed(&rng, 31);
	static float cb[M * 64 * (DIM / M)];
	float q[DIM], bad[M * 64];
	uint8_t lut[M * 64];
	int wrong = 0, wrong_t = 0;
	for (int it = 0; it < 400; it++) {
		int K = it & 1 ? 64 : 16, ds = DIM / M, lmax = 255 / M;
		for (int i = 0; i < M * K * ds; i++) cb[i] = (float)(es_rng_uniform(&rng) - 0.5) * (1 + it % 7) * 0.3f;
		for (int i = 0; i < DIM; i++) q[i] = it % 100 == 0 ? 0 : (float)(es_rng_uniform(&rng) - 0.5) * (1 + it % 5) * 0.2f;
		es_pq_lut(cb, DIM, M, K, q, lut);
		static float cbt[M * 64 * (DIM / M)];
		uint8_t lut_t[M * 64];
		es_pq_transpose(cb, DIM, M, K, cbt);
		es_pq_lut_t(cbt, DIM, M, K, q, lut_t);
		wrong_t += memcmp(lut, lut_t, (size_t)M * K) != 0;
		float range = 0;
		for (int j = 0; j < M; j++) {
			float d[64], mx = -INFINITY;
			for (int k = 0; k < K; k++) {
				d[k] = 0;
				for (int t = 0; t < ds; t++) d[k] += q[j * ds + t] * cb[((size_t)j * K + k) * ds + t];
				mx = d[k] > mx ? d[k] : mx;
			}
			for (int k = 0; k < K; k++) {
				bad[j * K + k] = mx - d[k];
				range = bad[j * K + k] > range ? bad[j * K + k] : range;
			}
		}
		float sc = range > 0 ? lmax / range : 0;
		for (int i = 0; i < M * K; i++) {
			long v = lrintf(bad[i] * sc);
			wrong += lut[i] != (uint8_t)(v > lmax ? lmax : v < 0 ? 0 : v);
		}
	}
	CHECK_EQ_INT(wrong, 0);
	CHECK_EQ_INT(wrong_t, 0);
}

TEST(store_search_simd_equals_scalar)
{
	/* whole searches agree whichever kernel the dispatcher picks */
	es_index_t *idx = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx != NULL);
	if (!idx) return;
	es_encoder_t *enc = es_index_open_encoder(idx);
	reads_t r = sim_reads(es_index_ref(idx), 50, 150, 77);
	int dim = es_index_dim(idx), k = 8;
	float *q = malloc(50 * dim * sizeof(float));
	es_encoder_embed(enc, 50, (const uint8_t *const *)r.seq, r.len, q);
	int64_t a[50 * 8], b[50 * 8];
	es_index_search(idx, 50, q, k, 0, a, NULL);
	setenv("ES_SIMD", "scalar", 1);
	es_index_search(idx, 50, q, k, 0, b, NULL);
	unsetenv("ES_SIMD");
	CHECK(memcmp(a, b, sizeof a) == 0);
	free(q);
	reads_free(&r);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
}

TEST(store_checksum)
{
	uint8_t buf[1000];
	for (int i = 0; i < 1000; i++) buf[i] = (uint8_t)(i * 7);
	uint64_t h = es_fast_checksum(buf, 1000, 1);
	int same = 0;
	for (int i = 0; i < 1000; i += 37) { buf[i] ^= 1; same += es_fast_checksum(buf, 1000, 1) == h; buf[i] ^= 1; }
	CHECK_EQ_INT(same, 0);
	CHECK(es_fast_checksum(buf, 999, 1) != h);
	CHECK(es_fast_checksum(buf, 1000, 2) != h);
}

/* Build the test genome's index with opt at 1 and at 3 threads into NAME1.esi / NAME3.esi; 1 if the files are equal. */
static int builds_equal(const es_ref_t *ref, const es_encoder_t *enc, es_index_opt_t *opt, const char *name,
                        char *p1, char *p3)
{
	snprintf(p1, 600, "%s/%s1.esi", es_test_tmpdir(), name);
	snprintf(p3, 600, "%s/%s3.esi", es_test_tmpdir(), name);
	opt->n_threads = 1;
	CHECK(es_index_build(ref, enc, opt, p1, NULL) == 0);
	opt->n_threads = 3;
	CHECK(es_index_build(ref, enc, opt, p3, NULL) == 0);
	FILE *a = fopen(p1, "rb"), *b = fopen(p3, "rb");
	int same = a && b;
	for (int x = 0, y = 0; same && x != EOF;) {
		x = fgetc(a);
		y = fgetc(b);
		same = x == y;
	}
	if (a) fclose(a);
	if (b) fclose(b);
	return same;
}

TEST(store_checksum_in_pieces)
{
	/* the section checksum over pieces (the build streams the vectors from a file) equals the one-piece checksum */
	uint8_t buf[5000];
	for (int i = 0; i < 5000; i++) buf[i] = (uint8_t)(i * 13 + 5);
	for (int n = 0; n <= 5000; n += 997) {
		es_cksum_t c;
		es_cksum_init(&c, 3);
		int piece = 32 * (1 + n % 7), off = 0;
		for (; off + piece < n; off += piece)
			es_cksum_add(&c, buf + off, piece);
		es_cksum_add(&c, buf + off, n - off);
		CHECKF(es_cksum_final(&c) == es_fast_checksum(buf, n, 3), "%d bytes in pieces of %d", n, piece);
	}
}

TEST(store_dot_i8_avx2_matches_scalar)
{
	/* the re-rank's int8 inner product: the AVX2 twin gives the scalar's float bit for bit, for every dimension
	 * count from 1 to 80 (tails included), extreme values and unit vectors alike */
	if (!__builtin_cpu_supports("avx2"))
		return;
	es_rng_t rng;
	es_rng_seed(&rng, 23);
	float q[80];
	int8_t v[80];
	int mism = 0, runs = 0;
	for (int dim = 1; dim <= 80; dim++)
		for (int t = 0; t < 50; t++) {
			for (int i = 0; i < dim; i++) {
				q[i] = (float)es_rng_normal(&rng) * (t % 3 ? 0.125f : 1e3f);
				v[i] = (int8_t)(t % 5 == 0 ? (i & 1 ? 127 : -128) : (int)es_rng_below(&rng, 256) - 128);
			}
			float scale = t % 2 ? 1.0f / 127 : 0.37f, a = es_dot_f32_i8(q, v, scale, dim);
			float b = es_dot_f32_i8_avx2(q, v, scale, dim);
			mism += memcmp(&a, &b, sizeof a) != 0;
			runs++;
		}
	CHECKF(mism == 0, "%d of %d inner products differ from the scalar one", mism, runs);
	const char *name = NULL;
	CHECK(es_dot_i8_best(&name) == es_dot_f32_i8_avx2 && strcmp(name, "avx2") == 0);
}

TEST(store_int4_dot)
{
	/* 4-bit vectors: es_dot_f32_i4 is the exact inner product of q with the dequantised vector (against a double
	 * reference from the nibbles), every dimension within half a step of x, and the score off the float inner
	 * product by 0.02 rms, 0.08 at most, for unit vectors of 64 dimensions (a step is max |x| / 7, ~0.05) */
	es_rng_t rng;
	es_rng_seed(&rng, 17);
	float x[64], q[64];
	uint8_t v[32];
	double worst = 0, worst_dim = 0, se = 0;
	int bad = 0;
	for (int t = 0; t < 200; t++) {
		double sx = 0, sq = 0;
		for (int i = 0; i < 64; i++) { x[i] = (float)es_rng_normal(&rng); q[i] = (float)es_rng_normal(&rng); }
		for (int i = 0; i < 64; i++) { sx += (double)x[i] * x[i]; sq += (double)q[i] * q[i]; }
		for (int i = 0; i < 64; i++) { x[i] = (float)(x[i] / sqrt(sx)); q[i] = (float)(q[i] / sqrt(sq)); }
		if (t % 2) for (int i = 0; i < 64; i++) q[i] = 0.8f * x[i] + 0.2f * q[i];   /* near pairs too */
		uint16_t m16;
		es_quantise4(x, 64, v, &m16);
		double step = m16 / 65535.0 / 7, ref = 0, fl = 0;
		for (int i = 0; i < 64; i++) {
			int nib = (v[i / 2] >> (4 * (i & 1))) & 15, val = nib >= 8 ? nib - 16 : nib;
			bad += val < -7 || val > 7;
			ref += (double)q[i] * val * step;
			fl += (double)q[i] * x[i];
			double d = fabs(val * step - x[i]);
			worst_dim = d / step > worst_dim ? d / step : worst_dim;
		}
		float got = es_dot_f32_i4(q, v, m16, 64);
		bad += fabs(got - ref) > 1e-5;
		worst = fabs(got - fl) > worst ? fabs(got - fl) : worst;
		se += (got - fl) * (got - fl);
	}
	CHECK_EQ_INT(bad, 0);
	CHECKF(worst_dim <= 0.5001, "a dimension %.3f steps from x", worst_dim);
	CHECKF(worst < 0.08 && sqrt(se / 200) < 0.02, "4-bit score %.4f at most, %.4f rms, from the float inner product",
	       worst, sqrt(se / 200));
}

TEST(store_int4_vectors)
{
	/* --vec-bits 4: half the vector bytes, the same file for 1 and 3 threads, approximate recall within a point of
	 * the int8 index's on the same reads; a crafted vec_bits is refused */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_opt_t opt;
	kmer_opt(&opt);
	opt.vec_bits = 4;
	char p1[600], p3[600];
	CHECK(builds_equal(ref, enc, &opt, "v4", p1, p3));
	es_index_t *i4 = es_index_load(p1), *i8 = es_index_load(make_index(ES_CODE_PQ6));
	CHECKF(i4 && i8, "%s", es_last_error());
	if (i4 && i8) {
		const hdr_t *h4 = &i4->hdr, *h8 = &i8->hdr;
		CHECK(h4->sec[SEC_VEC].size * 2 == h8->sec[SEC_VEC].size && h4->sec[SEC_SCALE].size * 2 == h8->sec[SEC_SCALE].size);
		reads_t r = sim_reads(es_index_ref(i8), 300, 150, 5);
		int bad1, bad2;
		double r4 = locus_recall(i4, enc, &r, 16, 0, &bad1), r8 = locus_recall(i8, enc, &r, 16, 0, &bad2);
		CHECKF(r4 >= r8 - 1.0 && r8 >= 97.0, "recall@16 with 4-bit vectors %.1f, int8 %.1f", r4, r8);
		reads_free(&r);
	}
	es_index_destroy(i4);
	es_index_destroy(i8);
	fbuf_t f = slurp(p1);
	fhdr(&f)->vec_bits = 5;
	check_crafted(&f, "vecbits.esi", "vec_bits=5");
	free(f.b);
	opt.vec_bits = 6;
	CHECK(es_index_build(ref, enc, &opt, p1, NULL) == -1 && strstr(es_last_error(), "vector bits 6"));
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
}

TEST(store_build_is_deterministic)
{
	/* the same file whatever the thread count */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_opt_t opt;
	kmer_opt(&opt);
	char p1[600], p3[600];
	CHECK(builds_equal(ref, enc, &opt, "det", p1, p3));
	/* no temporary file is left behind */
	char tmp[700];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", p1, (int)getpid());
	CHECK(access(tmp, F_OK) != 0);
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
}

TEST(store_ivf_lists)
{
	/* inverted lists (asked for explicitly: kmer gets none by default): the same file for 1 and 3 threads; probing
	 * every list finds what the flat scan finds; probing a quarter stays near exact search on this genome */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_opt_t opt;
	kmer_opt(&opt);
	opt.ivf_lists = 32;
	char p1[600], p3[600];
	CHECK(builds_equal(ref, enc, &opt, "ivf", p1, p3));
	/* lists need PQ6 codes; the count is bounded */
	opt.code_kind = ES_CODE_SIGN;
	CHECK(es_index_build(ref, enc, &opt, p3, NULL) == -1 && strstr(es_last_error(), "PQ6"));
	opt.code_kind = ES_CODE_PQ6;
	opt.ivf_lists = 70000;
	CHECK(es_index_build(ref, enc, &opt, p3, NULL) == -1 && strstr(es_last_error(), "list count"));
	opt.ivf_lists = 32;
	opt.n_threads = ES_MAX_THREADS + 1;
	CHECK(es_index_build(ref, enc, &opt, p3, NULL) == -1 && strstr(es_last_error(), "thread count 65"));
	opt.n_threads = 1;
	/* a spec that names the other kind of encoder would give an index the aligner cannot reopen */
	opt.encoder_spec = "transformer";
	CHECK(es_index_build(ref, enc, &opt, p3, NULL) == -1 && strstr(es_last_error(), "does not name the encoder"));
	opt.encoder_spec = "kmer";
	es_index_t *idx = es_index_load(p1), *flat = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx && flat);
	if (idx && flat) {
		CHECK_EQ_INT(es_index_ivf_lists(idx), 32);
		CHECK_EQ_INT(es_index_ivf_lists(flat), 0);
		CHECK_EQ_INT(es_index_get_rerank(idx), 256);
		CHECK_EQ_INT(es_index_get_rerank(flat), 384);
		CHECK_EQ_INT(es_index_get_nprobe(idx), 6);   /* default: sqrt(lists) */
		es_index_set_nprobe(idx, 1000);
		CHECK_EQ_INT(es_index_get_nprobe(idx), 32);
		reads_t r = sim_reads(es_index_ref(idx), 400, 150, 17);
		int bad[4];
		double rall = locus_recall(idx, enc, &r, 16, 0, &bad[0]), rflat = locus_recall(flat, enc, &r, 16, 0, &bad[1]);
		double rx = locus_recall(flat, enc, &r, 16, ES_SEARCH_EXACT, &bad[2]);
		es_index_set_nprobe(idx, 8);
		double rq = locus_recall(idx, enc, &r, 16, 0, &bad[3]);
		CHECKF(fabs(rall - rflat) <= 0.5, "every list %.2f vs flat scan %.2f", rall, rflat);
		CHECKF(rq >= rx - 2.0, "a quarter of the lists %.2f vs exact %.2f", rq, rx);
		CHECKF(rq < rall || rq <= rx, "probing fewer lists cannot beat probing all: %.2f vs %.2f", rq, rall);
		CHECK_EQ_INT(bad[0] + bad[1] + bad[2] + bad[3], 0);
		/* nearest windows: probing every list returns the flat scan's top window for almost every query */
		int n = 200, k = 8, agree = 0;
		float *q = malloc(sizeof(float) * n * es_index_dim(idx));
		CHECK(es_encoder_embed(enc, n, (const uint8_t *const *)r.seq, r.len, q) == 0);
		int64_t *i1 = malloc(sizeof(int64_t) * n * k), *i2 = malloc(sizeof(int64_t) * n * k);
		es_index_set_nprobe(idx, 32);
		CHECK(es_index_search(idx, n, q, k, 0, i1, NULL) == 0);
		CHECK(es_index_search(flat, n, q, k, 0, i2, NULL) == 0);
		for (int i = 0; i < n; i++) agree += i1[(size_t)i * k] == i2[(size_t)i * k];
		CHECKF(agree >= n * 98 / 100, "%d of %d top windows agree", agree, n);
		free(q);
		free(i1);
		free(i2);
		reads_free(&r);
	}
	es_index_destroy(idx);
	es_index_destroy(flat);
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
}

/* Reads sel[0,ns) of seqs/lens through pass (1: es_index_candidates_retry, else _widen) as pipeline.c gathers them:
 * side by side, their loci and sat copied in and out of loci (stride wide), their first pass's vectors given. */
static int gathered_pass(const es_index_t *idx, const es_encoder_t *enc, int pass, const int *sel, int ns,
                         uint8_t *const *seqs, const int *lens, int max_loci, int wide, es_locus_t *loci, int *nl,
                         uint8_t *sat, float *const *vec)
{
	const uint8_t **gs = malloc((ns + 1) * sizeof *gs);
	const float **gv = malloc((ns + 1) * sizeof *gv);
	int *gl = malloc((ns + 1) * sizeof(int)), *gn = malloc((ns + 1) * sizeof(int));
	es_locus_t *g = malloc(((size_t)ns + 1) * wide * sizeof *g);
	uint8_t *gsat = malloc(ns + 1);
	for (int j = 0; j < ns; j++) {
		gs[j] = seqs[sel[j]];
		gv[j] = vec[sel[j]];
		gl[j] = lens[sel[j]];
		gn[j] = nl[sel[j]];
		memcpy(g + (size_t)j * wide, loci + (size_t)sel[j] * wide, gn[j] * sizeof *g);
	}
	int ret = pass == 1 ? es_index_candidates_retry(idx, enc, ns, gs, gl, max_loci, wide, 0, g, gn, gsat, gv, 0)
	                    : es_index_candidates_widen(idx, enc, ns, gs, gl, max_loci, wide, g, gn, gv, 0);
	for (int j = 0; j < ns && ret == 0; j++) {
		nl[sel[j]] = gn[j];
		memcpy(loci + (size_t)sel[j] * wide, g + (size_t)j * wide, gn[j] * sizeof *g);
		sat[sel[j]] = pass == 1 ? gsat[j] : 0;
	}
	free(gs);
	free(gv);
	free(gl);
	free(gn);
	free(g);
	free(gsat);
	return ret;
}

/* A kmer index of ref with 32 inverted lists (the deeper search needs lists), built as NAME in the test directory;
 * NULL when it cannot be loaded. */
static es_index_t *lists_index(const es_ref_t *ref, const es_encoder_t *enc, const char *name)
{
	es_index_opt_t opt;
	kmer_opt(&opt);
	opt.ivf_lists = 32;
	char path[600];
	snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), name);
	CHECK(es_index_build(ref, enc, &opt, path, NULL) == 0);
	es_index_t *idx = es_index_load(path);
	CHECK(idx != NULL);
	return idx;
}

/* Every `every`-th read of r with each base substituted at `rate` (seeded). */
static void diverge(reads_t *r, int every, double rate, uint64_t seed)
{
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	for (int i = 0; i < r->n; i += every)
		for (int j = 0; j < r->len[i]; j++)
			if (es_rng_uniform(&rng) < rate) r->seq[i][j] = (uint8_t)((r->seq[i][j] + 1 + es_rng_below(&rng, 3)) & 3);
}

TEST(store_candidates_passes_give_the_wide_call)
{
	/* the first search, the deeper search of the reads of low score and the wide pass of the saturated reads, each
	 * on the reads gathered apart (pipeline.c), give exactly the loci of es_index_candidates_wide: an index with
	 * lists (the deeper search needs them), a third of the reads 15% diverged, 2 loci a read (the 4-copy repeat
	 * of the test genome fills that list) */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_t *idx = lists_index(ref, enc, "passes.esi");
	if (!idx) { es_encoder_destroy(enc); es_ref_destroy(ref); return; }
	const int n = 300, K = 2, W = 8;
	reads_t r = sim_reads(ref, n, 150, 77);
	diverge(&r, 3, 0.15, 78);
	es_locus_t *l0 = calloc((size_t)n * W, sizeof *l0), *l1 = calloc((size_t)n * W, sizeof *l1);
	int n0[300], n1[300], sel[300], n_retry = 0, n_wide = 0;
	uint8_t sat[300];
	float *vec[300] = { 0 };
	const uint8_t *const *seqs = (const uint8_t *const *)r.seq;
	CHECK(es_index_candidates_wide(idx, enc, n, seqs, r.len, K, W, l0, n0, 0) == 0);
	CHECK(es_index_candidates_first(idx, enc, n, seqs, r.len, K, W, l1, n1, sat, vec, 0) == 0);
	int n_vec = 0;
	for (int i = 0; i < n; i++) n_vec += (vec[i] != NULL) == (sat[i] != 0);
	CHECK_EQ_INT(n_vec, n);   /* vectors kept for the reads of the later passes only */
	for (int i = 0; i < n; i++)
		if (sat[i] == ES_CAND_RETRY) sel[n_retry++] = i;
	CHECK(gathered_pass(idx, enc, 1, sel, n_retry, r.seq, r.len, K, W, l1, n1, sat, vec) == 0);
	for (int i = 0; i < n; i++)
		if (sat[i] == 1) sel[n_wide++] = i;
	CHECK(gathered_pass(idx, enc, 2, sel, n_wide, r.seq, r.len, K, W, l1, n1, sat, vec) == 0);
	CHECKF(n_retry >= 20 && n_wide >= 5, "%d reads searched deeper, %d widened: the test needs both", n_retry, n_wide);
	int diff = 0;
	for (int i = 0; i < n; i++) {
		diff += n0[i] != n1[i];
		for (int j = 0; j < n0[i] && j < n1[i]; j++) {
			const es_locus_t *a = &l0[(size_t)i * W + j], *b = &l1[(size_t)i * W + j];
			diff += a->beg != b->beg || a->end != b->end || a->score != b->score;
		}
	}
	CHECK_EQ_INT(diff, 0);
	/* without lists there is no deeper search: no read is left for it */
	es_index_t *flat = es_index_load(make_index(ES_CODE_PQ6));
	for (int i = 0; i < n; i++) free(vec[i]);
	CHECK(flat && es_index_candidates_first(flat, enc, n, seqs, r.len, K, W, l1, n1, sat, NULL, 0) == 0);
	n_retry = 0;
	for (int i = 0; flat && i < n; i++) n_retry += sat[i] == ES_CAND_RETRY;
	CHECK_EQ_INT(n_retry, 0);
	es_index_destroy(flat);
	free(l0);
	free(l1);
	reads_free(&r);
	es_index_destroy(idx);
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
}

/* How many of reads sel[0,ns) have a locus (stride W, nl of them) over their true interval. */
static int loci_hit(const reads_t *r, const int *sel, int ns, const es_locus_t *l, const int *nl, int W)
{
	int hit = 0;
	for (int j = 0; j < ns; j++) {
		int i = sel[j], h = 0;
		for (int k = 0; k < nl[i]; k++)
			h |= l[(size_t)i * W + k].beg < r->end[i] && l[(size_t)i * W + k].end > r->beg[i];
		hit += h;
	}
	return hit;
}

TEST(store_candidates_retry_depth_probes_more_lists)
{
	/* the deeper search's depth (pipeline.c: the full one for reads that aligned poorly, a light one for the others):
	 * 0 is ES_DEEP_PROBE (8) exactly; depth 1 probes the index's nprobe lists (6 of 32) and depth 8 all of them, so the
	 * deeper finds the true locus of 8%-diverged reads (all of low score with the kmer sketch) more often (79 / 68 of
	 * 300 when written), and its loci are not depth 1's */
	es_ref_t *ref = es_ref_load_fasta(make_genome());
	es_encoder_t *enc = es_encoder_open("kmer");
	es_index_t *idx = lists_index(ref, enc, "depth.esi");
	if (!idx) { es_encoder_destroy(enc); es_ref_destroy(ref); return; }
	enum { N = 300, K = 4 };
	reads_t r = sim_reads(ref, N, 150, 91);
	diverge(&r, 1, 0.08, 92);
	es_locus_t *l[3];
	int nl[3][N], sel[N], ns = 0;
	uint8_t sat[N];
	float *vec[N] = { 0 };
	const uint8_t *const *seqs = (const uint8_t *const *)r.seq;
	for (int d = 0; d < 3; d++) l[d] = calloc((size_t)N * K, sizeof *l[d]);
	CHECK(es_index_candidates_first(idx, enc, N, seqs, r.len, K, K, l[0], nl[0], sat, vec, 0) == 0);
	for (int i = 0; i < N; i++)
		if (sat[i] == ES_CAND_RETRY) sel[ns++] = i;
	const uint8_t *gs[N];
	const float *gv[N];
	int gl[N];
	for (int j = 0; j < ns; j++) {
		gs[j] = seqs[sel[j]];
		gl[j] = r.len[sel[j]];
		gv[j] = vec[sel[j]];
	}
	const int depth[3] = { 0, ES_DEEP_PROBE, 1 };
	int gn[3][N];
	es_locus_t *g[3];
	for (int d = 0; d < 3; d++) {
		g[d] = calloc((size_t)N * K, sizeof *g[d]);
		CHECK(es_index_candidates_retry(idx, enc, ns, gs, gl, K, K, depth[d], g[d], gn[d], sat, gv, 0) == 0);
		for (int j = 0; j < ns; j++) {
			nl[d][sel[j]] = gn[d][j];
			memcpy(l[d] + (size_t)sel[j] * K, g[d] + (size_t)j * K, gn[d][j] * sizeof *g[d]);
		}
	}
	int same08 = 1, diff18 = 0;
	for (int j = 0; j < ns; j++) {
		int i = sel[j];
		same08 &= nl[0][i] == nl[1][i] && memcmp(l[0] + (size_t)i * K, l[1] + (size_t)i * K, nl[0][i] * sizeof *l[0]) == 0;
		diff18 += nl[2][i] != nl[1][i] || memcmp(l[2] + (size_t)i * K, l[1] + (size_t)i * K, nl[1][i] * sizeof *l[1]) != 0;
	}
	int h8 = loci_hit(&r, sel, ns, l[1], nl[1], K), h1 = loci_hit(&r, sel, ns, l[2], nl[2], K);
	CHECKF(ns >= 30, "%d reads of low score: the test needs more", ns);
	CHECK(same08);
	CHECKF(diff18 > 0, "depth 1 and depth %d gave the same loci for all %d reads", ES_DEEP_PROBE, ns);
	fprintf(stderr,"ns %d h8 %d h1 %d diff %d\n",ns,h8,h1,diff18);
	CHECKF(h8 > h1, "true locus found %d times at depth %d, %d at depth 1", h8, ES_DEEP_PROBE, h1);
	for (int d = 0; d < 3; d++) {
		free(l[d]);
		free(g[d]);
	}
	for (int i = 0; i < N; i++) free(vec[i]);
	reads_free(&r);
	es_index_destroy(idx);
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
}

#include <pthread.h>
typedef struct {
	const es_index_t *idx;
	const es_encoder_t *enc;
	reads_t *r;
	es_locus_t *l;
	int *nl;
	int ret;
} cand_job_t;
static void *cand_thread(void *arg)
{
	cand_job_t *j = arg;
	j->ret = es_index_candidates(j->idx, j->enc, j->r->n, (const uint8_t *const *)j->r->seq, j->r->len, 8, j->l, j->nl, 0);
	return NULL;
}

TEST(store_candidates_thread_safe)
{
	/* two threads on one index get exactly the single-threaded answer */
	es_index_t *idx = es_index_load(make_index(ES_CODE_PQ6));
	CHECK(idx != NULL);
	if (!idx) return;
	es_encoder_t *enc = es_index_open_encoder(idx);
	reads_t r = sim_reads(es_index_ref(idx), 100, 250, 31);
	es_locus_t *l0 = calloc(100 * 8, sizeof *l0), *l1 = calloc(100 * 8, sizeof *l1), *l2 = calloc(100 * 8, sizeof *l2);
	int n0[100], n1[100], n2[100];
	CHECK(es_index_candidates(idx, enc, 100, (const uint8_t *const *)r.seq, r.len, 8, l0, n0, 0) == 0);
	cand_job_t j1 = { idx, enc, &r, l1, n1, -1 }, j2 = { idx, enc, &r, l2, n2, -1 };
	pthread_t t1, t2;
	pthread_create(&t1, NULL, cand_thread, &j1);
	pthread_create(&t2, NULL, cand_thread, &j2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(j1.ret == 0 && j2.ret == 0);
	CHECK(memcmp(n0, n1, sizeof n0) == 0 && memcmp(n0, n2, sizeof n0) == 0);
	int diff = 0;
	for (int i = 0; i < 100; i++)
		for (int j = 0; j < n0[i]; j++) {
			es_locus_t *a = &l0[i * 8 + j], *b = &l1[i * 8 + j], *c = &l2[i * 8 + j];
			diff += a->beg != b->beg || a->end != b->end || a->score != b->score;
			diff += a->beg != c->beg || a->end != c->end || a->score != c->score;
		}
	CHECK_EQ_INT(diff, 0);
	free(l0);
	free(l1);
	free(l2);
	reads_free(&r);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
}

/* es_topk_select (the re-rank's selection) against its twin, es_topk_offer's bounded heap: the same k best (score,
 * then the lower id) in the same order once sorted, for n below, at and above k, many tied scores, k = 1 and k = 0. */
TEST(topk_select_matches_the_heap)
{
	es_rng_t rng;
	es_rng_seed(&rng, 5);
	static es_hit_t all[3000], heap[400], sel[3000];
	const int ns[] = { 0, 1, 7, 80, 81, 256, 3000 }, ks[] = { 0, 1, 16, 80, 400 };
	for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
		for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
			for (int ties = 0; ties < 2; ties++) {
				int n = ns[a], k = ks[b], nh = 0;
				for (int i = 0; i < n; i++) {   /* ids in no order; with ties, scores from 8 values */
					uint64_t r = es_rng_next(&rng);
					all[i] = (es_hit_t){ ties ? (float)(r % 8) : (float)es_rng_uniform(&rng), (int64_t)((i * 7919L) % 100003) };
				}
				for (int i = 0; i < n && k > 0; i++)
					es_topk_offer(heap, &nh, k, all[i]);
				memcpy(sel, all, (size_t)n * sizeof *all);
				int ns_ = es_topk_select(sel, n, k);
				CHECKF(ns_ == nh, "n %d k %d ties %d: %d kept, the heap %d", n, k, ties, ns_, nh);
				es_topk_sort(heap, nh);
				es_topk_sort(sel, ns_);
				int same = ns_ == nh;
				for (int i = 0; i < nh && same; i++)
					same = heap[i].s == sel[i].s && heap[i].id == sel[i].id;
				CHECKF(same, "n %d k %d ties %d: other items", n, k, ties);
			}
}
