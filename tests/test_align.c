/* test_align.c — es_align against an independent naive DP of the same objective, the SIMD kernels against the scalar
 * twin, CIGAR validity and re-scoring, NM/MD against an MD-driven reconstruction of the target, and edge cases.
 * Set ESALIGN_BENCH_ALN=1 to also print alignments per second (test align_bench). */
#include "test.h"
#include "align_kern.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

/* ---- an independent naive DP: Gotoh with explicit M/I/D states (no scaling, no floor trick) ---- */
/* Best objective of an alignment that starts and ends with an aligned pair, where starting at query base 0 earns
 * sb*clip_pen and ending at the last query base earns eb*clip_pen; 0 if nothing is positive. */
static int naive_obj(const uint8_t *q, int ql, const uint8_t *t, int tl, const es_score_t *sc, int sb, int eb)
{
	const int NEG = -1000000, oe = sc->gap_open + sc->gap_ext;
	int *M = malloc(sizeof(int) * ql * tl), *I = malloc(sizeof(int) * ql * tl), *D = malloc(sizeof(int) * ql * tl);
#define AT(X, i, j) X[(i) * tl + (j)]
	int best = 0;
	for (int i = 0; i < ql; i++)
		for (int j = 0; j < tl; j++) {
			int s = q[i] == 4 || t[j] == 4 ? sc->n_score : q[i] == t[j] ? sc->match : -sc->mismatch;
			int pre = i == 0 ? sb * sc->clip_pen : 0;  /* start here */
			if (i > 0 && j > 0) {
				int a = AT(M, i - 1, j - 1), b = AT(I, i - 1, j - 1), c = AT(D, i - 1, j - 1);
				if (a > pre) pre = a;
				if (b > pre) pre = b;
				if (c > pre) pre = c;
			}
			AT(M, i, j) = pre + s;
			int v = NEG;  /* I: q[i] inserted after column j */
			if (i > 0) {
				int a = AT(M, i - 1, j) - oe, b = AT(D, i - 1, j) - oe, c = AT(I, i - 1, j) - sc->gap_ext;
				v = a > b ? a : b; if (c > v) v = c;
			}
			AT(I, i, j) = v;
			v = NEG;  /* D: t[j] deleted after row i */
			if (j > 0) {
				int a = AT(M, i, j - 1) - oe, b = AT(I, i, j - 1) - oe, c = AT(D, i, j - 1) - sc->gap_ext;
				v = a > b ? a : b; if (c > v) v = c;
			}
			AT(D, i, j) = v;
			int o = AT(M, i, j) + (i == ql - 1 ? eb * sc->clip_pen : 0);
			if (o > best) best = o;
		}
#undef AT
	free(M); free(I); free(D);
	return best;
}

/* Re-score a CIGAR (no bonuses); also checks its shape. Returns 0 and sets *score, or -1 if malformed. */
static int rescore(const es_aln_t *a, const uint8_t *q, int ql, const uint8_t *t, int tl, const es_score_t *sc, int *score)
{
	int x = 0, y = a->tbeg, s = 0, n = a->n_cigar;
	if (n < 1) return -1;
	int first = 0, last = n - 1;
	if ((a->cigar[0] & 0xf) == 4) { if ((int)(a->cigar[0] >> 4) != a->qbeg) return -1; x = a->qbeg; first = 1; }
	else if (a->qbeg != 0) return -1;
	if (last >= first && (a->cigar[last] & 0xf) == 4) { if ((int)(a->cigar[last] >> 4) != ql - a->qend) return -1; last--; }
	else if (a->qend != ql) return -1;
	if (first > last) return -1;
	if ((a->cigar[first] & 0xf) != 0 || (a->cigar[last] & 0xf) != 0) return -1;  /* starts and ends with M */
	for (int k = first; k <= last; k++) {
		int op = a->cigar[k] & 0xf, len = a->cigar[k] >> 4;
		if (len < 1 || op > 2) return -1;
		if (k > first && (a->cigar[k - 1] & 0xf) == (uint32_t)op) return -1;  /* adjacent same ops */
		if (op == 0) {
			for (int l = 0; l < len; l++, x++, y++) {
				if (x >= ql || y >= tl) return -1;
				s += q[x] == 4 || t[y] == 4 ? sc->n_score : q[x] == t[y] ? sc->match : -sc->mismatch;
			}
		} else if (op == 1) { x += len; s -= sc->gap_open + len * sc->gap_ext; }
		else { y += len; s -= sc->gap_open + len * sc->gap_ext; }
	}
	if (x != a->qend || y != a->tend || a->tbeg < 0 || a->tend > tl || a->qbeg < 0 || a->qend > ql) return -1;
	*score = s;
	return 0;
}

/* Independent NM/MD check: NM from the CIGAR, MD parsed (grammar [0-9]+(([A-Z]|\^[A-Z]+)[0-9]+)*) and used with the
 * query to rebuild the aligned target, which must equal the real one; mismatches must be real ones. */
static int check_nm_md(const es_aln_t *a, const uint8_t *q, const uint8_t *t)
{
	int nm = 0, x = 0, y = a->tbeg;
	int span = a->tend - a->tbeg;
	char *rebuilt = calloc(span + 1, 1);  /* target bases as MD tells them (matches copied from the query) */
	int *qpos = malloc(sizeof(int) * (span + 1));  /* query base aligned to each target base, -1 if deleted */
	for (int k = 0; k < a->n_cigar; k++) {
		int op = a->cigar[k] & 0xf, len = a->cigar[k] >> 4;
		if (op == 4 || op == 1) { if (op == 1) nm += len; x += len; continue; }
		for (int l = 0; l < len; l++) {
			if (op == 0) { if (q[x] != t[y] || q[x] == 4) nm++; qpos[y - a->tbeg] = x++; }
			else { nm++; qpos[y - a->tbeg] = -1; }
			y++;
		}
	}
	int ok = nm == a->nm;
	const char *p = a->md;
	int r = 0;  /* position in rebuilt */
	if (!p || !(*p >= '0' && *p <= '9')) ok = 0;
	while (ok && *p) {
		if (!(*p >= '0' && *p <= '9')) { ok = 0; break; }
		int num = (int)strtol(p, (char **)&p, 10);
		for (int l = 0; l < num && ok; l++, r++) {
			if (r >= span || qpos[r] < 0) { ok = 0; break; }
			int b = q[qpos[r]];
			if (b != t[a->tbeg + r] || b == 4) ok = 0;  /* a "match" must be real */
			rebuilt[r] = "ACGTN"[b];
		}
		if (!*p) break;
		if (*p == '^') {
			p++;
			if (!(*p >= 'A' && *p <= 'Z')) ok = 0;
			while (ok && *p >= 'A' && *p <= 'Z') {
				if (r >= span || qpos[r] >= 0) { ok = 0; break; }
				rebuilt[r++] = *p++;
			}
		} else if (*p >= 'A' && *p <= 'Z') {
			if (r >= span || qpos[r] < 0) { ok = 0; break; }
			int b = q[qpos[r]], tb = t[a->tbeg + r];
			if (b == tb && b < 4) ok = 0;  /* a "mismatch" must be real */
			rebuilt[r++] = *p++;
		} else ok = 0;
		if (ok && !(*p >= '0' && *p <= '9')) ok = 0;  /* every item is followed by a number */
	}
	if (r != span) ok = 0;
	for (int k = 0; ok && k < span; k++) if (rebuilt[k] != "ACGTN"[t[a->tbeg + k]]) ok = 0;
	free(rebuilt); free(qpos);
	return ok;
}

static int same_aln(const es_aln_t *a, const es_aln_t *b)
{
	if (a->score != b->score || a->qbeg != b->qbeg || a->qend != b->qend || a->tbeg != b->tbeg || a->tend != b->tend ||
	    a->n_cigar != b->n_cigar || a->nm != b->nm || strcmp(a->md, b->md) != 0) return 0;
	return memcmp(a->cigar, b->cigar, sizeof(uint32_t) * a->n_cigar) == 0;
}

static void cigar_str(const es_aln_t *a, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < a->n_cigar && k + 16 < n; i++) k += sprintf(buf + k, "%u%c", a->cigar[i] >> 4, "MIDNSHP=X"[a->cigar[i] & 0xf]);
}

static void enc(const char *s, uint8_t *out) { for (; *s; s++) *out++ = es_nt4[(uint8_t)*s]; }

static int n_with_op[5];  /* how many checked alignments had each CIGAR op (so the random test covers them) */

/* Everything we check about one pair; returns the number of failed checks (and prints the first). */
static int check_pair(const uint8_t *q, int ql, const uint8_t *t, int tl, const es_score_t *sc, int heavy)
{
	int bad = 0;
	es_aln_t ref = { 0 };
	if (es_align_with(0, q, ql, t, tl, sc, &ref) < 0) { fprintf(stderr, "    scalar failed: %s\n", es_last_error()); return 1; }
	char cs[4096];
	cigar_str(&ref, cs, sizeof cs);
	int seen[5] = { 0 };
	for (int k = 0; k < ref.n_cigar; k++) seen[ref.cigar[k] & 0xf] = 1;
	for (int k = 0; k < 5; k++) n_with_op[k] += seen[k];
	int O = naive_obj(q, ql, t, tl, sc, 1, 1);
	int nb = (ref.qbeg == 0) + (ref.qend == ql);
	if (O == 0) {  /* nothing positive: all clipped */
		if (!(ref.qbeg == ref.qend && ref.n_cigar == 1 && ref.score == 0)) bad++, fprintf(stderr, "    expected no alignment, got %s\n", cs);
	} else {
		int s;
		if (rescore(&ref, q, ql, t, tl, sc, &s) < 0) bad++, fprintf(stderr, "    malformed CIGAR %s (q %d-%d t %d-%d)\n", cs, ref.qbeg, ref.qend, ref.tbeg, ref.tend);
		else if (s != ref.score) bad++, fprintf(stderr, "    CIGAR %s rescores to %d, reported %d\n", cs, s, ref.score);
		if (ref.score + sc->clip_pen * nb != O) bad++, fprintf(stderr, "    objective %d+%d*%d != naive %d (%s)\n", ref.score, sc->clip_pen, nb, O, cs);
		/* bwa-style AS: best contiguous stretch of the path, by brute force over all stretches of columns */
		{
			int ncol = 0, cap = ref.qend - ref.qbeg + ref.tend - ref.tbeg + 1, x = ref.qbeg, y = ref.tbeg;
			int *col = malloc(sizeof(int) * cap);
			for (int k = 0; k < ref.n_cigar; k++) {
				int op = ref.cigar[k] & 0xf, len = ref.cigar[k] >> 4;
				if (op == 4) continue;
				for (int l = 0; l < len; l++)
					col[ncol++] = op == 0 ? (x++, y++, q[x - 1] == 4 || t[y - 1] == 4 ? sc->n_score : q[x - 1] == t[y - 1] ? sc->match : -sc->mismatch)
					            : (op == 1 ? x++ : y++, -sc->gap_ext - (l == 0 ? sc->gap_open : 0));
			}
			int bestseg = 0;
			for (int a0 = 0; a0 < ncol; a0++) {
				if (ncol > 400 && a0 > 0 && col[a0 - 1] >= 0) continue;  /* keep it quadratic only on short paths */
				int acc = 0;
				for (int b0 = a0; b0 < ncol; b0++) { acc += col[b0]; if (acc > bestseg) bestseg = acc; }
			}
			int ls = es_aln_local_score(&ref, q, t, sc);
			if (ls != bestseg) bad++, fprintf(stderr, "    local score %d != brute force %d (%s)\n", ls, bestseg, cs);
			if (ref.score >= 0 && ls < ref.score) bad++, fprintf(stderr, "    local score %d < score %d\n", ls, ref.score);
			free(col);
		}
		if (!check_nm_md(&ref, q, t)) bad++, fprintf(stderr, "    NM %d / MD %s wrong for %s\n", ref.nm, ref.md, cs);
		if (heavy && sc->clip_pen > 0) {  /* fewest bonuses among the optimal alignments */
			if (nb == 2 && (naive_obj(q, ql, t, tl, sc, 0, 1) >= O || naive_obj(q, ql, t, tl, sc, 1, 0) >= O)) bad++, fprintf(stderr, "    an optimum with fewer bonuses exists (%s)\n", cs);
			if (nb == 1 && naive_obj(q, ql, t, tl, sc, 0, 0) >= O) bad++, fprintf(stderr, "    an optimum without bonus exists (%s)\n", cs);
		}
	}
	for (int k = 0; k <= 2; k++) {
		if (!es_align_has_kernel(k)) continue;
		es_aln_t a = { 0 };
		if (k > 0) {
			if (es_align_with(k, q, ql, t, tl, sc, &a) < 0) { bad++; fprintf(stderr, "    kernel %d failed: %s\n", k, es_last_error()); continue; }
			if (!same_aln(&a, &ref)) {
				char c2[4096]; cigar_str(&a, c2, sizeof c2);
				bad++, fprintf(stderr, "    kernel %d: %d %s t%d vs scalar %d %s t%d\n", k, a.score, c2, a.tbeg, ref.score, cs, ref.tbeg);
			}
			es_aln_free(&a);
		}
		int s = -99, te = -99;
		if (es_align_score_with(k, q, ql, t, tl, sc, &s, &te) < 0 || s != ref.score || te != ref.tend)
			bad++, fprintf(stderr, "    kernel %d score-only %d tend %d vs %d %d\n", k, s, te, ref.score, ref.tend);
	}
	es_aln_free(&ref);
	return bad;
}

static void mutate_read(es_rng_t *r, const uint8_t *src, int n, uint8_t *dst, int *dn, int cap, double sub, double indel, double pn)
{
	int m = 0;
	for (int i = 0; i < n && m < cap; i++) {
		double u = es_rng_uniform(r);
		if (u < indel / 2) continue;  /* deletion from the read */
		if (u < indel) { dst[m++] = es_rng_below(r, 4); if (m >= cap) break; }  /* insertion */
		uint8_t b = src[i];
		if (es_rng_uniform(r) < sub) b = (b + 1 + es_rng_below(r, 3)) & 3;
		if (es_rng_uniform(r) < pn) b = 4;
		dst[m++] = b;
	}
	*dn = m;
}

TEST(align_default_scoring)
{
	es_score_t s = es_score_default();
	CHECK_EQ_INT(s.match, 1); CHECK_EQ_INT(s.mismatch, 4); CHECK_EQ_INT(s.gap_open, 6);
	CHECK_EQ_INT(s.gap_ext, 1); CHECK_EQ_INT(s.n_score, -1); CHECK_EQ_INT(s.clip_pen, 5);
}

/* Known answers, written out by hand. */
TEST(align_known_cases)
{
	es_score_t sc = es_score_default();
	const char *T = "TTGACCGATTACAGGCATTCGATCGGATCCATGCAAGTCCGTAGCTAGGCTTAACGGATCGATTGCAGT";  /* 69 bp */
	uint8_t t[128], q[128];
	enc(T, t);
	int tl = (int)strlen(T);
	char cs[256];
	struct { const char *q; const char *cigar; int score, tbeg, nm; const char *md; } cases[] = {
		/* exact substring [11,51) */
		{ "CAGGCATTCGATCGGATCCATGCAAGTCCGTAGCTAGGCT", "40M", 40, 11, 0, "40" },
		/* one mismatch in the middle (t[31]=T -> A) */
		{ "CAGGCATTCGATCGGATCCAAGCAAGTCCGTAGCTAGGCT", "40M", 35, 11, 1, "20T19" },
		/* mismatch at the last base: reaching the end (-4 + bonus 5) beats clipping */
		{ "CAGGCATTCGATCGGATCCATGCAAGTCCGTAGCTAGGCA", "40M", 35, 11, 1, "39T0" },
		/* two mismatches then 3 matches at the end: tail worth -5, a tie, which clips (bwa) */
		{ "CAGGCATTCGATCGGATCCATGCAAGTCCGTAGCTGAGCT", "35M5S", 35, 11, 0, "35" },
		/* two mismatches at the start: clipped */
		{ "GTGGCATTCGATCGGATCCATGCAAGTCCGTAGCTAGGCT", "2S38M", 38, 13, 0, "38" },
		/* a 2 bp deletion (t[31..33) "TG" missing from the read) */
		{ "CAGGCATTCGATCGGATCCACAAGTCCGTAGCTAGGCT", "20M2D18M", 30, 11, 2, "20^TG18" },
		/* a 1 bp insertion after read base 20 */
		{ "CAGGCATTCGATCGGATCCAGTGCAAGTCCGTAGCTAGGCT", "20M1I20M", 33, 11, 1, "40" },
		/* an N in the read scores -1 and is an NM mismatch (samtools calmd) */
		{ "CAGGCATTCGATCGGATCCANGCAAGTCCGTAGCTAGGCT", "40M", 38, 11, 1, "20T19" },
		/* the whole target */
		{ T, "69M", 69, 0, 0, "69" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int ql = (int)strlen(cases[k].q);
		enc(cases[k].q, q);
		for (int kern = 0; kern <= 2; kern++) {
			if (!es_align_has_kernel(kern)) continue;
			es_aln_t a = { 0 };
			CHECK(es_align_with(kern, q, ql, t, tl, &sc, &a) == 0);
			cigar_str(&a, cs, sizeof cs);
			CHECKF(strcmp(cs, cases[k].cigar) == 0, "case %zu kernel %d: %s != %s", k, kern, cs, cases[k].cigar);
			CHECKF(a.score == cases[k].score, "case %zu: score %d != %d", k, a.score, cases[k].score);
			CHECKF(a.tbeg == cases[k].tbeg, "case %zu: tbeg %d != %d", k, a.tbeg, cases[k].tbeg);
			CHECKF(a.nm == cases[k].nm, "case %zu: NM %d != %d", k, a.nm, cases[k].nm);
			CHECKF(a.md && strcmp(a.md, cases[k].md) == 0, "case %zu: MD %s != %s", k, a.md ? a.md : "(null)", cases[k].md);
			if (k == 2) CHECK_EQ_INT(es_aln_local_score(&a, q, t, &sc), 39);  /* bwa's AS: the stretch before the mismatch */
			CHECK_EQ_INT(check_pair(q, ql, t, tl, &sc, 1), 0);
			es_aln_free(&a);
		}
	}
}

TEST(align_nm_md_direct)
{
	/* query ACGTA / target ACCTA with 2S before, 1I, and a deletion: 2S 2M 1I 2M 2D 1M */
	uint8_t q[16], t[16];
	enc("GGACTGTC", q);    /* GG clipped, AC, inserted T, GT, then C */
	enc("ACGTTAC", t);     /* AC, GT, deleted TA, C */
	uint32_t cig[] = { 2 << 4 | 4, 2 << 4 | 0, 1 << 4 | 1, 2 << 4 | 0, 2 << 4 | 2, 1 << 4 | 0 };
	int nm = -1; char *md = NULL;
	CHECK(es_aln_nm_md(cig, 6, q, t, &nm, &md) == 0);
	CHECK_EQ_INT(nm, 3);
	CHECK_STR(md, "4^TA1");
	free(md);
	/* deletion followed by a mismatch, and a mismatch at both ends */
	enc("TCGA", q);
	enc("ACAGG", t);
	uint32_t c2[] = { 2 << 4 | 0, 1 << 4 | 2, 2 << 4 | 0 };  /* T/A C/C ^A G/G A/G */
	CHECK(es_aln_nm_md(c2, 3, q, t, &nm, &md) == 0);
	CHECK_EQ_INT(nm, 3);
	CHECK_STR(md, "0A1^A1G0");
	free(md);
	uint32_t c3[] = { 3 << 4 | 9 };
	CHECK(es_aln_nm_md(c3, 1, q, t, &nm, NULL) == -1);
	CHECK(strstr(es_last_error(), "CIGAR") != NULL);
}

TEST(align_bad_arguments)
{
	es_score_t sc = es_score_default();
	uint8_t q[4] = { 0, 1, 2, 3 }, t[4] = { 0, 1, 2, 3 }, bad[2] = { 0, 7 };
	es_aln_t a = { 0 };
	int s;
	CHECK(es_align(q, 0, t, 4, &sc, &a) == -1);
	CHECK(strstr(es_last_error(), "empty") != NULL);
	CHECK(es_align(q, 4, t, 0, &sc, &a) == -1);
	CHECK(es_align(NULL, 4, t, 4, &sc, &a) == -1);
	CHECK(es_align(bad, 2, t, 4, &sc, &a) == -1);
	CHECK(strstr(es_last_error(), "code 7") != NULL);
	CHECK(es_align_score(q, 4, bad, 2, &sc, &s, NULL) == -1);
	es_score_t sb = sc; sb.gap_ext = 0;
	CHECK(es_align(q, 4, t, 4, &sb, &a) == -1);
	CHECK(strstr(es_last_error(), "scoring") != NULL);
	CHECK(a.cigar == NULL && a.md == NULL);
	/* a score past 2^30/K cannot be held even by the 32-bit kernel */
	es_score_t big = sc; big.match = 1000; big.n_score = 0;
	uint8_t *lq = calloc(300000, 1);
	CHECK(es_align(lq, 300000, t, 4, &big, &a) == -1);
	CHECK(strstr(es_last_error(), "too large") != NULL);
	free(lq);
}

TEST(align_edge_cases)
{
	es_score_t sc = es_score_default();
	es_rng_t r; es_rng_seed(&r, 7);
	uint8_t t[400], q[400];
	int bad = 0;
	for (int i = 0; i < 400; i++) t[i] = es_rng_below(&r, 4);
	/* read == target, at the very start, at the very end */
	bad += check_pair(t, 200, t, 200, &sc, 1);
	bad += check_pair(t, 150, t, 300, &sc, 1);
	bad += check_pair(t + 150, 150, t, 300, &sc, 1);
	/* read longer than the target (target inside the read) */
	bad += check_pair(t, 300, t + 100, 80, &sc, 1);
	/* qlen 1, tlen 1, both 1; all mismatches */
	uint8_t a1 = 2, c1 = 1, nn = 4;
	bad += check_pair(&a1, 1, t, 100, &sc, 1);
	bad += check_pair(t, 100, &a1, 1, &sc, 1);
	bad += check_pair(&a1, 1, &a1, 1, &sc, 1);
	bad += check_pair(&a1, 1, &c1, 1, &sc, 1);
	bad += check_pair(&nn, 1, &nn, 1, &sc, 1);
	for (int i = 0; i < 60; i++) q[i] = 0;
	uint8_t tc[80]; for (int i = 0; i < 80; i++) tc[i] = 1 + i % 3;
	bad += check_pair(q, 60, tc, 80, &sc, 1);
	/* all N */
	uint8_t qn[50]; memset(qn, 4, 50);
	bad += check_pair(qn, 50, t, 100, &sc, 1);
	/* indels one to four bases from either read end */
	for (int d = 1; d <= 4; d++) {
		memcpy(q, t + 50, 100);
		int ql = 100;
		memmove(q + d + 1, q + d, ql - d); q[d] = (q[d] + 1) & 3; ql++;  /* insertion near the start */
		bad += check_pair(q, ql, t, 250, &sc, 1);
		memcpy(q, t + 50, 100); ql = 100;
		memmove(q + ql - d - 2, q + ql - d, d); ql -= 2;  /* deletion near the end */
		bad += check_pair(q, ql, t, 250, &sc, 1);
	}
	/* a clip_pen of 0 (pure local) and a large one (never clip) */
	es_score_t s0 = sc; s0.clip_pen = 0;
	es_score_t s9 = sc; s9.clip_pen = 100;
	memcpy(q, t + 20, 80); q[0] ^= 1; q[1] ^= 2; q[78] ^= 3;
	bad += check_pair(q, 80, t, 200, &s0, 1);
	bad += check_pair(q, 80, t, 200, &s9, 1);
	bad += check_pair(&a1, 1, &c1, 1, &s0, 1);
	CHECK_EQ_INT(bad, 0);
}

/* Hundreds of random pairs: reads drawn from the target with substitutions, indels, Ns, junk ends, reverse
 * complements, or unrelated; various scorings. */
TEST(align_random_vs_naive)
{
	es_rng_t r; es_rng_seed(&r, 12345);
	uint8_t t[500], q[700], src[400];
	int bad = 0, n = 0;
	es_score_t scs[4] = { es_score_default(), es_score_default(), es_score_default(), es_score_default() };
	scs[1].clip_pen = 0;
	scs[2] = (es_score_t){ .match = 2, .mismatch = 3, .gap_open = 5, .gap_ext = 2, .n_score = -1, .clip_pen = 9 };
	scs[3] = (es_score_t){ .match = 1, .mismatch = 9, .gap_open = 1, .gap_ext = 1, .n_score = 0, .clip_pen = 3 };
	for (int it = 0; it < 1500 && bad < 5; it++) {
		es_score_t rnd = { .match = 1 + (int)es_rng_below(&r, 3), .mismatch = (int)es_rng_below(&r, 7),
		                   .gap_open = (int)es_rng_below(&r, 9), .gap_ext = 1 + (int)es_rng_below(&r, 3),
		                   .n_score = -(int)es_rng_below(&r, 3), .clip_pen = (int)es_rng_below(&r, 11) };
		const es_score_t *sc = it % 5 == 4 ? &rnd : &scs[it % 4];
		int tl = 1 + (int)es_rng_below(&r, it % 10 == 0 ? 20 : 420);
		double pn = es_rng_uniform(&r) < 0.2 ? 0.02 : 0;
		for (int j = 0; j < tl; j++) t[j] = es_rng_uniform(&r) < pn ? 4 : es_rng_below(&r, 4);
		int ql;
		int kind = (int)es_rng_below(&r, 6);
		if (kind == 5) {  /* unrelated */
			ql = 1 + (int)es_rng_below(&r, 300);
			for (int i = 0; i < ql; i++) q[i] = es_rng_below(&r, 4);
		} else {
			int len = 1 + (int)es_rng_below(&r, tl < 300 ? tl : 300);
			int beg = (int)es_rng_below(&r, tl - len + 1);
			memcpy(src, t + beg, len);
			double sub = es_rng_uniform(&r) * 0.1, indel = es_rng_uniform(&r) * 0.03;
			int m = 0, off = 0;
			if (kind == 3) { off = (int)es_rng_below(&r, 20); for (int i = 0; i < off; i++) q[i] = es_rng_below(&r, 4); }
			mutate_read(&r, src, len, q + off, &m, 340 - off, sub, indel, pn);
			ql = off + m;
			if (kind == 3) { int e = (int)es_rng_below(&r, 20); for (int i = 0; i < e && ql < 360; i++) q[ql++] = es_rng_below(&r, 4); }
			if (kind == 4) es_revcomp(q, ql);
			if (ql == 0) q[ql++] = 0;
		}
		bad += check_pair(q, ql, t, tl, sc, ql * tl < 60000);
		n++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(n >= 1500);
	CHECKF(n_with_op[1] >= 40 && n_with_op[2] >= 40 && n_with_op[4] >= 100, "I %d D %d S %d", n_with_op[1], n_with_op[2], n_with_op[4]);
}

/* Several threads at once give the same alignments as one (no shared scratch state). */
#include <pthread.h>
typedef struct { const uint8_t *t, *q; int tl, ql[32]; int score[32], tbeg[32], ncig[32]; } mt_job_t;
static void *mt_worker(void *arg)
{
	mt_job_t *j = arg;
	es_score_t sc = es_score_default();
	for (int rep = 0; rep < 20; rep++)
		for (int k = 0; k < 32; k++) {
			es_aln_t a = { 0 };
			if (es_align(j->q + k * 300, j->ql[k], j->t + k * 400, j->tl, &sc, &a) < 0) { j->score[k] = -9999; continue; }
			if (rep == 0) { j->score[k] = a.score; j->tbeg[k] = a.tbeg; j->ncig[k] = a.n_cigar; }
			else if (a.score != j->score[k] || a.tbeg != j->tbeg[k] || a.n_cigar != j->ncig[k]) j->score[k] = -9999;
			es_aln_free(&a);
		}
	return NULL;
}

TEST(align_threads)
{
	es_rng_t r; es_rng_seed(&r, 77);
	uint8_t *t = malloc(32 * 400), *q = malloc(32 * 300);
	mt_job_t jobs[3];
	jobs[0].t = t; jobs[0].q = q; jobs[0].tl = 400;
	for (int k = 0; k < 32; k++) {
		for (int j = 0; j < 400; j++) t[k * 400 + j] = es_rng_below(&r, 4);
		mutate_read(&r, t + k * 400 + 60, 250, q + k * 300, &jobs[0].ql[k], 300, 0.02, 0.01, 0.01);
	}
	jobs[1] = jobs[0]; jobs[2] = jobs[0];
	mt_worker(&jobs[0]);  /* the single-thread answer */
	pthread_t th[2];
	for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, mt_worker, &jobs[i + 1]);
	for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
	for (int i = 1; i < 3; i++)
		for (int k = 0; k < 32; k++) CHECK(jobs[i].score[k] == jobs[0].score[k] && jobs[i].tbeg[k] == jobs[0].tbeg[k] && jobs[0].score[k] > 0);
	free(t); free(q);
}

/* Reads longer than the kernels' on-stack scratch (qlen > 512) take the heap path. */
TEST(align_long_read)
{
	es_score_t sc = es_score_default();
	es_rng_t r; es_rng_seed(&r, 5);
	enum { TL = 900 };
	uint8_t *t = malloc(TL), *q = malloc(TL);
	for (int j = 0; j < TL; j++) t[j] = es_rng_below(&r, 4);
	int m;
	mutate_read(&r, t + 100, 700, q, &m, TL, 0.03, 0.01, 0.005);
	CHECK_EQ_INT(check_pair(q, m, t, TL, &sc, 0), 0);
	free(t); free(q);
}

/* Scores past the 16-bit kernels' range fall back to 32 bits and still agree with the naive DP. */
TEST(align_large_scores)
{
	es_score_t sc = { .match = 100, .mismatch = 300, .gap_open = 400, .gap_ext = 100, .n_score = -100, .clip_pen = 500 };
	es_rng_t r; es_rng_seed(&r, 3);
	uint8_t t[300], q[300];
	for (int j = 0; j < 300; j++) t[j] = es_rng_below(&r, 4);
	int m;
	mutate_read(&r, t + 30, 250, q, &m, 300, 0.02, 0.01, 0);
	CHECK_EQ_INT(check_pair(q, m, t, 300, &sc, 0), 0);
}

/* Alignments per second, one thread: a read of L bp drawn with 1% errors (0.8% substitutions, 0.2% indels) from the
 * middle of a target of L+80 bp (40 bp margins). */
TEST(align_bench)
{
	if (!getenv("ESALIGN_BENCH_ALN")) return;
	es_score_t sc = es_score_default();
	es_rng_t r; es_rng_seed(&r, 99);
	static const int lens[] = { 100, 150, 250 };
	enum { NP = 64 };
	for (size_t li = 0; li < 3; li++) {
		int L = lens[li], tl = L + 80;
		uint8_t *t = malloc((size_t)NP * tl), *q = malloc((size_t)NP * (L + 20));
		int ql[NP];
		for (int k = 0; k < NP; k++) {
			for (int j = 0; j < tl; j++) t[k * tl + j] = es_rng_below(&r, 4);
			mutate_read(&r, t + k * tl + 40, L, q + k * (L + 20), &ql[k], L + 20, 0.008, 0.002, 0);
		}
		for (int kern = 0; kern <= 2; kern++) {
			if (!es_align_has_kernel(kern)) continue;
			for (int mode = 0; mode < 2; mode++) {
				int iters = kern == 0 ? 100 : 4000;
				double dt = 1e30;
				long sum = 0;
				for (int rep = 0; rep < 5; rep++) {  /* best of 5: the machine may be shared */
					double t0 = es_cputime();
					sum = 0;
					for (int it = 0; it < iters; it++) {
						int k = it % NP;
						if (mode == 0) {
							es_aln_t a = { 0 };
							es_align_with(kern, q + k * (L + 20), ql[k], t + k * tl, tl, &sc, &a);
							sum += a.score;
							es_aln_free(&a);
						} else {
							int s;
							es_align_score_with(kern, q + k * (L + 20), ql[k], t + k * tl, tl, &sc, &s, NULL);
							sum += s;
						}
					}
					double d = es_cputime() - t0;
					if (d < dt) dt = d;
				}
				fprintf(stderr, "    bench %3d bp vs %3d bp, %-6s %-10s: %8.0f aln/s, %6.2f us/aln (score sum %ld)\n", L, tl,
				        kern == 0 ? "scalar" : kern == 1 ? "avx2" : "avx512", mode ? "score-only" : "full", iters / dt,
				        dt / iters * 1e6, sum);
			}
		}
		free(t); free(q);
	}
}
