/* test_map_repeat.c — repeats the verification must see: a second copy inside one candidate locus (an inverted
 * duplication), a tandem array whose copies the votes cannot tell apart, and a repeat family with more copies than
 * the candidate list holds (es_index_candidates_wide). */
#include "test.h"
#include "map.h"
#include "store.h"
#include "seqio.h"
#include "util.h"
#include "pipeline.h"
#include <htslib/sam.h>
#include <stdlib.h>

static char comp(char c)
{
	return c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A';
}

static char *random_seq(es_rng_t *rng, int64_t n)
{
	char *s = malloc(n + 1);
	for (int64_t i = 0; i < n; i++) s[i] = "ACGT"[es_rng_below(rng, 4)];
	s[n] = 0;
	return s;
}

/* One contig g into DIR/NAME.fa, its kmer index into DIR/NAME.esi (idx gets that path); 1 on success. */
static int write_and_index(const char *name, const char *g, char *fa, char *idx, size_t sz)
{
	snprintf(fa, sz, "%s/%s.fa", es_test_tmpdir(), name);
	snprintf(idx, sz, "%s/%s.esi", es_test_tmpdir(), name);
	FILE *fp = fopen(fa, "w");
	if (!fp) return 0;
	fprintf(fp, ">r\n%s\n", g);
	fclose(fp);
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref) return 0;
	int ok = es_test_index_kmer(ref, idx) == 0;
	es_ref_destroy(ref);
	return ok;
}

/* Map the one read seq against idx with options o (NULL: the defaults); its primary's POS, FLAG, MAPQ, XS (-1: none)
 * and AS (-1: none) into out[5]. 1 on success. */
static int map_one_read_opt(const char *idx, const char *name, const char *seq, const es_map_opt_t *o, int out[5])
{
	char fq[600], sam[600];
	snprintf(fq, sizeof fq, "%s/%s.fq", es_test_tmpdir(), name);
	snprintf(sam, sizeof sam, "%s/%s.sam", es_test_tmpdir(), name);
	FILE *fp = fopen(fq, "w");
	if (!fp) return 0;
	fprintf(fp, "@%s\n%s\n+\n", name, seq);
	for (size_t j = 0; seq[j]; j++) fputc('I', fp);
	fputc('\n', fp);
	fclose(fp);
	if (es_test_map_quiet(idx, fq, sam, o) != 0) return 0;
	samFile *in = sam_open(sam, "r");
	sam_hdr_t *h = in ? sam_hdr_read(in) : NULL;
	bam1_t *b = bam_init1();
	int got = 0;
	while (h && sam_read1(in, h, b) >= 0)
		if (!(b->core.flag & 0x900)) {
			uint8_t *xs = bam_aux_get(b, "XS");
			out[0] = (int)b->core.pos;
			out[1] = b->core.flag;
			out[2] = b->core.qual;
			out[3] = xs ? (int)bam_aux2i(xs) : -1;
			uint8_t *as = bam_aux_get(b, "AS");
			out[4] = as ? (int)bam_aux2i(as) : -1;
			got++;
		}
	bam_destroy1(b);
	if (h) sam_hdr_destroy(h);
	if (in) sam_close(in);
	return got == 1;
}

static int map_one_read(const char *idx, const char *name, const char *seq, int out[4])
{
	int r[5];
	int ok = map_one_read_opt(idx, name, seq, NULL, r);
	memcpy(out, r, 4 * sizeof *out);
	return ok;
}

/* One read of len bases copied from src, mapped through es_map_read_hits against ref with loci the test gives (the
 * mapper's index ix may be NULL); the fields the call needs. Not to be moved once initialised (m.opt points into it). */
typedef struct {
	es_map_opt_t o;
	es_mapper_t m;
	es_map_buf_t *b;
	char name[16], seq[256];
	es_read_t r;
	uint8_t fw[256], rc[256];
} hand_read_t;

static void hand_read_init(hand_read_t *t, const char *name, const es_index_t *ix, const es_ref_t *ref, const char *src,
                           int len)
{
	es_map_opt_init(&t->o);
	t->m = (es_mapper_t){ .idx = ix, .ref = ref, .enc = NULL, .opt = &t->o, .rg_id = NULL };
	t->b = es_map_buf_init(&t->o);
	snprintf(t->name, sizeof t->name, "%s", name);
	memcpy(t->seq, src, len);
	t->seq[len] = 0;
	t->r = (es_read_t){ .name = t->name, .comment = "", .seq = t->seq, .qual = NULL, .len = len, .id = 0 };
	for (int i = 0; i < len; i++) t->fw[i] = es_nt4[(uint8_t)t->seq[i]];
	memcpy(t->rc, t->fw, len);
	es_revcomp(t->rc, len);
}

/* A read of copy A whose inverted copy B (3 substitutions) lies 10 bp after it: the two copies are one candidate
 * locus, A's votes the densest placement in it. B must be aligned too (XS = its score, 150 - 3 x (1 + 4)), as it
 * would be were it a locus of its own; before, a locus's second placement was never aligned. */
TEST(map_second_copy_inside_a_locus_is_aligned)
{
	es_rng_t rng;
	es_rng_seed(&rng, 11);
	const int n = 20000, a = 5000, len = 150, b = a + len + 10;
	char *g = random_seq(&rng, n);
	for (int i = 0; i < len; i++) g[b + i] = comp(g[a + len - 1 - i]);
	const int subs[3] = { 40, 75, 110 };   /* read positions of A whose copy in B differs */
	for (int k = 0; k < 3; k++) {
		char *c = &g[b + len - 1 - subs[k]];
		*c = *c == 'A' ? 'C' : 'A';
	}
	char fa[600], idx[600], read[151];
	CHECK(write_and_index("copy2", g, fa, idx, sizeof fa));
	memcpy(read, g + a, len);
	read[len] = 0;
	int r[4] = { 0 };
	CHECK(map_one_read(idx, "copyA", read, r));
	CHECK_EQ_INT(r[0], a);
	CHECK_EQ_INT(r[1], 0);
	CHECK_EQ_INT(r[3], 150 - 3 * 5);
	CHECK(r[2] < 60);
	free(g);
}

/* A family of 40 copies of a 150 bp segment F at the window grid (stride 25), 38 of them with one substitution
 * near an end, F itself at copy 0, and a second exact copy of F off the grid by 8 bp (so its windows score below
 * the family's). The read is F: a list of 16 loci is full of family copies and misses the off-grid copy; the wide
 * search finds it, and the read is a tie (MAPQ 0, XS = AS), as bwa mem reports it. */
/* A tandem array D1 D2 T of a 150 bp unit: the read is the unit; D1 and D2 lack three of its bases (1 bp deletions,
 * 12 read k-mers lost each: 103 votes, alignment 147 - 3 x 7 = 126), T has four substitutions (91 votes, 150 - 4 x 5
 * = 130). The two banded placements are D1 and D2, as well supported as each other; the read's copy is T, which only
 * the alignment of the whole locus finds (before, the read went to a D at 126). */
TEST(map_tandem_copies_the_votes_cannot_tell_apart)
{
	es_rng_t rng;
	es_rng_seed(&rng, 23);
	const int n = 20000, a = 5000, len = 150;
	char *g = random_seq(&rng, n), *unit = random_seq(&rng, len);
	const int dels[3] = { 35, 75, 115 }, subs[4] = { 20, 50, 85, 120 };
	int p = a;
	for (int c = 0; c < 2; c++)   /* D1, D2 */
		for (int i = 0, k = 0; i < len; i++) {
			if (k < 3 && i == dels[k]) {
				k++;
				continue;
			}
			g[p++] = unit[i];
		}
	const int t = p;
	memcpy(g + t, unit, len);
	for (int k = 0; k < 4; k++)
		g[t + subs[k]] = unit[subs[k]] == 'A' ? 'C' : 'A';
	char fa[600], idx[600];
	CHECK(write_and_index("tandem", g, fa, idx, sizeof fa));
	int r[4] = { 0 };
	CHECK(map_one_read(idx, "tandem", unit, r));
	CHECKF(r[0] == t, "placed at %d (the read's copy T at %d, D1 %d, D2 %d)", r[0], t, a, a + len - 3);
	CHECK_EQ_INT(r[1], 0);
	CHECK_EQ_INT(r[3], len - 3 - 3 * 7);
	free(g);
	free(unit);
}

/* A genome of `ncopy` copies of a random 150 bp read f, 1,500 bp apart from position 2000 on the window grid, each
 * but the first (or every one, when all_mutated) with its second base substituted, and the last copy, exact, 8 bp
 * off the grid at off; written and indexed as NAME, the index loaded with its encoder, and the read's codes. */
#define FAMILY_LEN 150
#define FAMILY_FIRST 2000
typedef struct {
	char *g, *f;               /* the genome and the read (ASCII, malloc'ed) */
	int off;                   /* the off-grid exact copy */
	char idx[600];             /* the index path */
	es_index_t *ix;            /* NULL when it could not be built or loaded (a CHECK failed) */
	es_encoder_t *enc;
	uint8_t code[FAMILY_LEN];  /* the read's codes */
} family_t;

static int family_open(family_t *fm, const char *name, uint64_t seed, int ncopy, int all_mutated)
{
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	const int len = FAMILY_LEN, step = 1500, first = FAMILY_FIRST;
	const int n = first + ncopy * step + 2000;
	memset(fm, 0, sizeof *fm);
	fm->off = first + (ncopy - 1) * step + 8;
	fm->g = random_seq(&rng, n);
	fm->f = random_seq(&rng, len);
	for (int j = 0; j < ncopy - 1; j++) {
		char *c = fm->g + first + j * step;
		memcpy(c, fm->f, len);
		if (j > 0 || all_mutated) c[1] = c[1] == 'A' ? 'C' : 'A';
	}
	memcpy(fm->g + fm->off, fm->f, len);
	char fa[600];
	CHECK(write_and_index(name, fm->g, fa, fm->idx, sizeof fm->idx));
	fm->ix = es_index_load(fm->idx);
	CHECK(fm->ix != NULL);
	if (fm->ix)
		fm->enc = es_index_open_encoder(fm->ix);
	for (int i = 0; i < len; i++) fm->code[i] = es_nt4[(uint8_t)fm->f[i]];
	return fm->ix != NULL;
}

static void family_close(family_t *fm)
{
	es_encoder_destroy(fm->enc);
	es_index_destroy(fm->ix);
	free(fm->g);
	free(fm->f);
}

TEST(map_repeat_family_wide_search_finds_the_other_copy)
{
	const int len = FAMILY_LEN, first = FAMILY_FIRST;
	family_t fm;
	if (!family_open(&fm, "family", 12, 40, 0)) { family_close(&fm); return; }
	const int off = fm.off;
	const uint8_t *seqs[1] = { fm.code };
	int lens[1] = { len }, nl = 0, nw = 0, has = 0, has_wide = 0;
	es_locus_t loci[64], wide[64];
	CHECK_EQ_INT(es_index_candidates(fm.ix, fm.enc, 1, seqs, lens, 16, loci, &nl, 0), 0);
	CHECK_EQ_INT(es_index_candidates_wide(fm.ix, fm.enc, 1, seqs, lens, 16, 64, wide, &nw, 0), 0);
	for (int i = 0; i < nl; i++) has += loci[i].beg <= off && loci[i].end >= off + len;
	for (int i = 0; i < nw; i++) has_wide += wide[i].beg <= off && wide[i].end >= off + len;
	CHECK_EQ_INT(nl, 16);
	CHECK_EQ_INT(has, 0);        /* the premise: 16 loci miss the off-grid copy */
	CHECK(nw > 16);
	CHECK_EQ_INT(has_wide, 1);
	/* the first 16 are the narrow list's loci (wider, as more of their neighbouring windows are retrieved) */
	for (int i = 0; i < 16 && i < nw; i++)
		CHECK(wide[i].score == loci[i].score && wide[i].beg <= loci[i].beg && wide[i].end >= loci[i].end);
	int r[4] = { 0 };
	CHECK(map_one_read(fm.idx, "family", fm.f, r));
	CHECK(r[0] == first || r[0] == off);
	CHECK_EQ_INT(r[2], 0);
	CHECK_EQ_INT(r[3], 150);
	family_close(&fm);
}

/* The last look (es_map_opt_t.look_mapq): a family of 120 on-grid copies with one substitution each, whose windows
 * line up with the read's and outscore its own exact copy, placed off the window grid. 16 loci and the wide pass's
 * 64 miss that copy, and the read lands at MAPQ 0 on a look-alike (AS 145); the last look (64 loci, a wide pass of
 * up to 256, verified with 64 alignments) finds it and the read takes its whole alignment (AS 150). */
TEST(map_last_look_finds_the_copy_the_wide_pass_missed)
{
	const int len = FAMILY_LEN;
	family_t fm;
	if (!family_open(&fm, "lastlook", 13, 121, 1)) { family_close(&fm); return; }
	const int off = fm.off;
	const uint8_t *seqs[1] = { fm.code };
	int lens[1] = { len }, nw = 0, has_wide = 0;
	es_locus_t wide[64];
	CHECK_EQ_INT(es_index_candidates_wide(fm.ix, fm.enc, 1, seqs, lens, 16, 64, wide, &nw, 0), 0);
	for (int i = 0; i < nw; i++) has_wide += wide[i].beg <= off && wide[i].end >= off + len;
	CHECK_EQ_INT(has_wide, 0);   /* the premise: the wide pass misses the exact copy */
	es_map_opt_t o;
	es_map_opt_init(&o);
	o.look_mapq = -1;
	int r[5] = { 0 };
	CHECK(map_one_read_opt(fm.idx, "lastlook", fm.f, &o, r));
	CHECK(r[0] != off);
	CHECK_EQ_INT(r[4], 145);
	CHECK(r[2] <= 3);
	CHECK(map_one_read_opt(fm.idx, "lastlook", fm.f, NULL, r));
	CHECK_EQ_INT(r[0], off);
	CHECK_EQ_INT(r[4], 150);
	CHECK_EQ_INT(r[3], 145);     /* the look-alikes are aligned too: the runner-up */
	family_close(&fm);
}

/* A read holding a (CA)15 microsatellite, given two loci: its own and a look-alike holding a 200 bp (CA)n. The
 * look-alike's k-mers vote many times for the same few read positions; counted once per read position its support
 * is a few votes, and the read is unique (no runner-up, MAPQ >= 30). Counting votes, the look-alike outvoted the
 * read's own locus and the read had MAPQ 17. */
TEST(map_microsatellite_look_alike_does_not_outvote)
{
	es_rng_t rng;
	es_rng_seed(&rng, 13);
	const int n = 30000, at = 5000, dec = 15000, len = 100;
	char *g = random_seq(&rng, n);
	for (int i = 0; i < 30; i++) g[at + 35 + i] = "CA"[i & 1];
	for (int i = 0; i < 200; i++) g[dec + i] = "CA"[i & 1];
	char fa[600], idx[600];
	CHECK(write_and_index("msat", g, fa, idx, sizeof fa));
	es_ref_t *ref = es_ref_load_fasta(fa);
	CHECK(ref != NULL);
	if (!ref) { free(g); return; }
	hand_read_t t;
	hand_read_init(&t, "msat", NULL, ref, g + at, len);
	es_locus_t loci[2] = { { at - 50, at + len + 50, 1.0f }, { dec - 50, dec + 250, 0.9f } };
	es_map_hit_t *h = NULL;
	int cap = 0;
	int nh = es_map_read_hits(&t.m, t.b, &t.r, t.fw, t.rc, loci, 2, &h, &cap);
	CHECK_EQ_INT(nh, 1);
	if (nh >= 1) {
		CHECK_EQ_INT(h[0].gpos, at);
		CHECK_EQ_INT(h[0].score, len);
		CHECK(h[0].mapq >= 30);
	}
	for (int j = 0; j < nh; j++) es_aln_free(&h[j].aln);
	free(h);
	es_map_buf_destroy(t.b);
	es_ref_destroy(ref);
	free(g);
}

/* The loci of a one-query read whose best locus is as similar as an ordinary read's: one under 0.9 of it is not
 * verified (a look-alike), one as similar is; with the best locus under 0.9 (a diverged read's), both are. The
 * look-alike is the read with 3 substitutions (alignment 85, the runner-up when verified). */
TEST(map_clear_read_skips_far_loci)
{
	es_rng_t rng;
	es_rng_seed(&rng, 29);
	const int n = 30000, at = 5000, dec = 15000, len = 100;
	char *g = random_seq(&rng, n);
	memcpy(g + dec, g + at, len);
	for (int k = 0; k < 3; k++)
		g[dec + 20 + 30 * k] = g[at + 20 + 30 * k] == 'A' ? 'C' : 'A';
	char fa[600], idx[600];
	CHECK(write_and_index("clear", g, fa, idx, sizeof fa));
	es_ref_t *ref = es_ref_load_fasta(fa);
	es_index_t *ix = es_index_load(idx);
	CHECK(ref != NULL && ix != NULL);
	if (!ref || !ix) { free(g); return; }
	CHECK_EQ_INT(es_index_read_queries(ix, len, 0), 1);
	hand_read_t t;
	hand_read_init(&t, "clear", ix, ref, g + at, len);
	/* locus 2 (the first two are always verified) holds the look-alike: similarity s2 against a best of s0 */
	const float cases[3][3] = { { 0.98f, 0.85f, 1 }, { 0.98f, 0.95f, 2 }, { 0.85f, 0.70f, 2 } };
	for (int c = 0; c < 3; c++) {
		es_locus_t loci[3] = { { at - 50, at + len + 50, cases[c][0] }, { 25000, 25300, cases[c][1] },
		                       { dec - 50, dec + len + 50, cases[c][1] } };
		es_map_hit_t *h = NULL;
		int cap = 0;
		int nh = es_map_read_hits(&t.m, t.b, &t.r, t.fw, t.rc, loci, 3, &h, &cap);
		CHECKF(nh == (int)cases[c][2], "best %.2f, look-alike %.2f: %d hits", cases[c][0], cases[c][1], nh);
		if (nh >= 1)
			CHECK_EQ_INT(h[0].gpos, at);
		if (nh >= 2)
			CHECK_EQ_INT(h[1].score, len - 3 * 5);
		for (int j = 0; j < nh; j++) es_aln_free(&h[j].aln);
		free(h);
	}
	es_map_buf_destroy(t.b);
	es_index_destroy(ix);
	es_ref_destroy(ref);
	free(g);
}

TEST(map_look_widens_with_the_index)
{
	/* 4 x up to ES_DEEP_SCALE_WINDOWS windows (chrX 70 Mb: 3.3 M), one more step per as many, at most 4 steps (1 Gb:
	 * 48.9 M windows, 16 x); the options scale loci and alignments alike, the rest untouched */
	CHECK_EQ_INT(es_map_look_widen(1000), ES_MAP_WIDEN);
	CHECK_EQ_INT(es_map_look_widen(3300000), ES_MAP_WIDEN);
	CHECK_EQ_INT(es_map_look_widen(6000000), 2 * ES_MAP_WIDEN);
	CHECK_EQ_INT(es_map_look_widen(14500000), 4 * ES_MAP_WIDEN);
	CHECK_EQ_INT(es_map_look_widen(48900000), 4 * ES_MAP_WIDEN);
	es_map_opt_t o, r;
	es_map_opt_init(&o);
	o.max_loci = 16;
	o.max_align = 12;
	es_map_look_opt(&o, 3300000, &r);
	CHECK_EQ_INT(r.max_loci, 64);
	CHECK_EQ_INT(r.max_align, 48);
	es_map_look_opt(&o, 48900000, &r);
	CHECK_EQ_INT(r.max_loci, 256);
	CHECK_EQ_INT(r.max_align, 192);
	CHECK_EQ_INT(r.look_mapq, o.look_mapq);
	CHECK_EQ_INT(es_map_loci_stride(&r), ES_MAP_WIDEN * 256);
	o.look_widen = 4;   /* --look-widen: the user's factor whatever the index */
	es_map_look_opt(&o, 48900000, &r);
	CHECK_EQ_INT(r.max_loci, 64);
	CHECK_EQ_INT(r.max_align, 48);
}
