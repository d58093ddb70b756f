/* test_pair.c — the paired-end model (pair.c): orientations and distances for all four orientations, the insert-size
 * estimate against known normal data, -I, the pair choice in a repeat, rescue windows that hold the true mate, MAPQ
 * and TLEN signs (SAM spec) for ordinary, dovetailed and equal-start pairs. */
#include "test.h"
#include "pair.h"
#include "util.h"
#include <stdlib.h>

#define L 100000   /* reference length of the constructed cases */

static es_pe_aln_t aln(int64_t beg, int64_t end, int strand, int score)
{
	es_pe_aln_t a = { beg, end, 0, strand, score };
	return a;
}

TEST(pe_dir_all_four_orientations)
{
	int64_t d;
	es_pe_aln_t f1 = aln(1000, 1150, 0, 150), r2 = aln(1250, 1400, 1, 150);
	CHECK_EQ_INT(es_pe_dir(L, &f1, &r2, &d), ES_PE_FR);
	CHECK_EQ_INT(d, 399);   /* mate's last base minus the first's first base (bwa's insert) */
	CHECK_EQ_INT(es_pe_dir(L, &r2, &f1, &d), ES_PE_FR);   /* the same fragment seen from the other mate */
	CHECK_EQ_INT(d, 399);
	es_pe_aln_t f2 = aln(1250, 1400, 0, 150), r1 = aln(1000, 1150, 1, 150);
	CHECK_EQ_INT(es_pe_dir(L, &f2, &r1, &d), ES_PE_RF);
	es_pe_aln_t f3 = aln(1250, 1400, 0, 150);
	CHECK_EQ_INT(es_pe_dir(L, &f1, &f3, &d), ES_PE_FF);
	CHECK_EQ_INT(d, 250);
	es_pe_aln_t r3 = aln(1000, 1150, 1, 150);
	CHECK_EQ_INT(es_pe_dir(L, &r2, &r3, &d), ES_PE_FF);   /* both reverse, the first to the right: FF in its frame */
	CHECK_EQ_INT(es_pe_dir(L, &f3, &f1, &d), ES_PE_RR);
}

TEST(pe_estimate_recovers_a_normal_insert)
{
	enum { N = 4000 };
	int dir[N];
	int64_t dist[N];
	es_rng_t rng;
	es_rng_seed(&rng, 5);
	for (int i = 0; i < N; i++) {
		dir[i] = ES_PE_FR;
		dist[i] = (int64_t)(400 + 60 * es_rng_normal(&rng) + 0.5);
	}
	for (int i = 0; i < 40; i++) dist[i] = 5000 + i;   /* outliers (chimeras) */
	for (int i = 40; i < 45; i++) dir[i] = ES_PE_RF;   /* too few RF pairs to model */
	es_pe_model_t m;
	es_pe_model_estimate(&m, N, dir, dist);
	CHECK(es_pe_model_usable(&m));
	const es_pe_orient_t *o = &m.o[ES_PE_FR];
	CHECK(!o->failed);
	CHECK_NEAR(o->mean, 400, 5);
	CHECK_NEAR(o->sd, 60, 5);
	CHECK(o->low <= 400 - 3 * 60 && o->low >= 400 - 5 * 60);
	CHECK(o->high >= 400 + 3 * 60 && o->high <= 400 + 5 * 60 && o->high < 5000);
	CHECK(m.o[ES_PE_RF].failed);
	CHECK(m.o[ES_PE_FF].failed && m.o[ES_PE_RR].failed);
	char buf[512];
	es_pe_model_format(&m, buf, sizeof buf);
	CHECKF(strstr(buf, "FR: 3995 pairs") && strstr(buf, "RF: 5 pairs, too few"), "%s", buf);
	/* too few pairs anywhere: a stated fallback, no orientation */
	es_pe_model_estimate(&m, 5, dir + 100, dist + 100);
	CHECK(!es_pe_model_usable(&m));
	es_pe_model_estimate(&m, 0, dir, dist);
	CHECK(!es_pe_model_usable(&m));
}

TEST(pe_model_parse)
{
	es_pe_model_t m;
	CHECK_EQ_INT(es_pe_model_parse(&m, "500,50"), 0);
	CHECK(m.from_user && !m.o[ES_PE_FR].failed && m.o[ES_PE_RF].failed);
	CHECK_NEAR(m.o[ES_PE_FR].mean, 500, 1e-9);
	CHECK_EQ_INT(m.o[ES_PE_FR].low, 300);
	CHECK_EQ_INT(m.o[ES_PE_FR].high, 700);
	CHECK_EQ_INT(es_pe_model_parse(&m, "500,50,900,100"), 0);
	CHECK_EQ_INT(m.o[ES_PE_FR].low, 100);
	CHECK_EQ_INT(m.o[ES_PE_FR].high, 900);
	CHECK_EQ_INT(es_pe_model_parse(&m, "abc"), -1);
	CHECKF(strstr(es_last_error(), "-I") != NULL, "%s", es_last_error());
	CHECK_EQ_INT(es_pe_model_parse(&m, "500,-3"), -1);
	CHECK_EQ_INT(es_pe_model_parse(&m, "500,50,100,900"), -1);
}

TEST(pe_best_pair_resolves_a_repeat)
{
	es_pe_model_t m;
	CHECK_EQ_INT(es_pe_model_parse(&m, "400,50"), 0);
	/* mate 1 sits in a two-copy repeat (equal scores at 10,000 and 50,000); mate 2 is unique near the second copy */
	es_pe_aln_t a[2] = { aln(10000, 10150, 0, 150), aln(50000, 50150, 0, 150) };
	es_pe_aln_t b[1] = { aln(50250, 50400, 1, 148) };
	es_pe_choice_t c;
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 2, b, 1, 0, &c), 1);
	CHECK_EQ_INT(c.i, 1);
	CHECK_EQ_INT(c.j, 0);
	CHECK_EQ_INT(c.dir, ES_PE_FR);
	CHECK_EQ_INT(c.sub, 0);
	int q_pe = es_pe_pair_mapq(1, &c, 150 + 148 - ES_PE_UNPAIRED_PEN);
	CHECKF(q_pe >= 60, "q_pe %d", q_pe);
	CHECK_EQ_INT(es_pe_mate_mapq(0, q_pe), 40);   /* a repeat mate is raised by at most 40 */
	CHECK_EQ_INT(es_pe_mate_mapq(55, q_pe), 60);
	/* both copies paired equally (a repeat longer than the fragment): MAPQ 0 */
	es_pe_aln_t b2[2] = { aln(10250, 10400, 1, 148), aln(50250, 50400, 1, 148) };
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 2, b2, 2, 0, &c), 1);
	CHECK_EQ_INT(c.i, 0);   /* tie 0: the first of the equal pairs */
	CHECK_EQ_INT(c.sub, c.score);
	CHECK_EQ_INT(es_pe_pair_mapq(1, &c, 281), 0);
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 2, b2, 2, 1, &c), 1);
	CHECK(c.i == 1 && c.j == 1);   /* tie 1: the second, a consistent pair again */
	/* no consistent pair: wrong orientation, too far, other contig */
	es_pe_aln_t far[1] = { aln(70000, 70150, 1, 150) };
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 2, far, 1, 0, &c), 0);
	es_pe_aln_t same[1] = { aln(10250, 10400, 0, 150) };
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 1, same, 1, 0, &c), 0);
	es_pe_aln_t other[1] = { aln(10250, 10400, 1, 150) };
	other[0].tid = 1;
	CHECK_EQ_INT(es_pe_best_pair(&m, L, 1, 4, a, 1, other, 1, 0, &c), 0);
	CHECK(!es_pe_is_proper(&m, L, &a[0], &other[0]));
	CHECK(es_pe_is_proper(&m, L, &a[1], &b[0]));
}

TEST(pe_rescue_windows_hold_the_mate)
{
	es_pe_model_t m;
	CHECK_EQ_INT(es_pe_model_parse(&m, "400,50"), 0);
	int64_t win[4][2];
	int strand[4];
	/* mate 1 forward at 1000: its mate is reverse, ending 1201..1601 */
	es_pe_aln_t a = aln(1000, 1150, 0, 150);
	CHECK_EQ_INT(es_pe_rescue_windows(&m, L, &a, 150, 0, L, win, strand), 1);
	CHECK_EQ_INT(strand[0], 1);
	CHECK(win[0][0] <= 1250 && win[0][1] >= 1400);   /* the mate of a 400 bp fragment: [1250,1400) */
	/* mate 1 reverse at [1250,1400): its mate is forward, starting 799..1199 */
	es_pe_aln_t r = aln(1250, 1400, 1, 150);
	CHECK_EQ_INT(es_pe_rescue_windows(&m, L, &r, 150, 0, L, win, strand), 1);
	CHECK_EQ_INT(strand[0], 0);
	CHECK(win[0][0] <= 1000 && win[0][1] >= 1150);
	CHECK(win[0][0] >= 790 && win[0][1] <= 1360);
	/* clipped to the contig [0, 2000): near its start the window shrinks, past its end it vanishes */
	es_pe_aln_t edge = aln(50, 200, 1, 150);
	CHECK_EQ_INT(es_pe_rescue_windows(&m, L, &edge, 150, 0, 2000, win, strand), 1);
	CHECK(win[0][0] == 0 && win[0][1] <= 200);
	es_pe_aln_t end = aln(1900, 2000, 0, 100);
	CHECK_EQ_INT(es_pe_rescue_windows(&m, L, &end, 150, 0, 2000, win, strand), 0);
}

TEST(pe_tlen_signs)
{
	es_pe_aln_t f = aln(1000, 1150, 0, 150), r = aln(1250, 1400, 1, 150);
	CHECK_EQ_INT(es_pe_tlen(&f, &r, 1), 400);
	CHECK_EQ_INT(es_pe_tlen(&r, &f, 0), -400);
	CHECK_EQ_INT(es_pe_tlen(&r, &f, 1), -400);   /* the sign follows position, not mate number */
	/* overlapping mates (fragment shorter than a read): leftmost to rightmost mapped base */
	es_pe_aln_t o1 = aln(1000, 1150, 0, 150), o2 = aln(1020, 1140, 1, 120);
	CHECK_EQ_INT(es_pe_tlen(&o1, &o2, 1), 150);
	CHECK_EQ_INT(es_pe_tlen(&o2, &o1, 0), -150);
	/* the same start: opposite signs, + for the first mate */
	es_pe_aln_t s1 = aln(1000, 1150, 0, 150), s2 = aln(1000, 1100, 1, 100);
	CHECK_EQ_INT(es_pe_tlen(&s1, &s2, 1), 150);
	CHECK_EQ_INT(es_pe_tlen(&s2, &s1, 0), -150);
}
