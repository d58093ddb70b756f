/* test_pair_map.c — paired-end mapping end to end on a synthetic genome (fragments 400 +- 90): a mate in an exact
 * repeat placed at the right copy by its unique partner (MAPQ > 0), a mate too divergent for its own search rescued
 * next to its partner, a random (unmappable) mate placed at its partner's position as SAM asks, FR pair fields
 * (flags, RNEXT, PNEXT, TLEN, MC, MQ), the insert-size model, byte-identical output for 1 and 3 threads, and the
 * rescue-instead-of-search path of the pairs after the insert estimate's block. */
#include "test.h"
#include "map.h"
#include "pipeline.h"   /* ES_MAP_CHUNK */
#include "store.h"
#include "seqio.h"
#include "util.h"
#include <htslib/sam.h>
#include <stdlib.h>

#define GLEN 120000
#define REP_A 20000     /* a 3 kb segment at [REP_A, REP_A+3000) is copied to [REP_B, REP_B+3000) */
#define REP_B 80000
/* pairs: more than two mapping chunks of mates, so that threads map chunks side by side */
#define N_PAIRS (ES_MAP_CHUNK + 300)
#define FRAG 400
#define RLEN 150

static char g_fa[512], g_idx[512], g_r1[512], g_r2[512];
static char *g_seq;
static int g_ready;

typedef struct { int64_t pos1, pos2; int frag; } truth_t;   /* each mate's leftmost true base; fragment length */
static truth_t g_truth[N_PAIRS];

static char comp(char c) { return c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A'; }

/* Mate 1 forward at f, mate 2 reverse ending at f + frag; kind 1 mutates mate 2 at 15%, kind 2 makes it random. */
static void write_pair(FILE *f1, FILE *f2, int i, int64_t f, int frag, int kind, es_rng_t *rng)
{
	char m1[RLEN + 1], m2[RLEN + 1], q[RLEN + 1];
	memcpy(m1, g_seq + f, RLEN);
	for (int j = 0; j < RLEN; j++) m2[j] = comp(g_seq[f + frag - 1 - j]);
	for (int j = 0; j < RLEN && kind == 1; j++)
		if (es_rng_uniform(rng) < 0.15) m2[j] = "ACGT"[(strchr("ACGT", m2[j]) - "ACGT" + 1 + es_rng_below(rng, 3)) % 4];
	for (int j = 0; j < RLEN && kind == 2; j++) m2[j] = "ACGT"[es_rng_below(rng, 4)];
	m1[RLEN] = m2[RLEN] = 0;
	memset(q, 'I', RLEN);
	q[RLEN] = 0;
	fprintf(f1, "@p%d/1\n%s\n+\n%s\n", i, m1, q);
	fprintf(f2, "@p%d/2\n%s\n+\n%s\n", i, m2, q);
	g_truth[i].pos1 = f;
	g_truth[i].pos2 = f + frag - RLEN;
	g_truth[i].frag = frag;
}

static int setup(void)
{
	if (g_ready) return g_ready > 0;
	g_ready = -1;
	es_rng_t rng;
	es_rng_seed(&rng, 77);
	g_seq = malloc(GLEN + 1);
	for (int64_t i = 0; i < GLEN; i++) g_seq[i] = "ACGT"[es_rng_below(&rng, 4)];
	g_seq[GLEN] = 0;
	memcpy(g_seq + REP_B, g_seq + REP_A, 3000);
	const char *d = es_test_tmpdir();
	snprintf(g_fa, sizeof g_fa, "%s/pe.fa", d);
	snprintf(g_idx, sizeof g_idx, "%s/pe.esi", d);
	snprintf(g_r1, sizeof g_r1, "%s/pe_1.fq", d);
	snprintf(g_r2, sizeof g_r2, "%s/pe_2.fq", d);
	FILE *fp = fopen(g_fa, "w");
	fprintf(fp, ">chr\n");
	for (int64_t i = 0; i < GLEN; i += 70) fprintf(fp, "%.70s\n", g_seq + i);
	fclose(fp);
	FILE *f1 = fopen(g_r1, "w"), *f2 = fopen(g_r2, "w");
	for (int i = 0; i < N_PAIRS; i++) {
		/* pairs 0..9: mate 1 inside the second repeat copy, mate 2 at least 30 bases past its end (unique);
		 * 10..19: mate 2 at 15% divergence; 20..24: mate 2 random; the rest ordinary */
		int frag = i < 10 ? FRAG : FRAG - 90 + (int)es_rng_below(&rng, 181);   /* 400 +- 90 */
		int64_t f = i < 10 ? REP_B + 2630 + 20 * i : 1000 + (int64_t)es_rng_below(&rng, GLEN - 2000 - FRAG);
		while (i >= 10 && ((f > REP_A - FRAG - 90 && f < REP_A + 3000) ||
		                   (f > REP_B - FRAG - 90 && f < REP_B + 3000)))
			f = 1000 + (int64_t)es_rng_below(&rng, GLEN - 2000 - FRAG);
		write_pair(f1, f2, i, f, frag, i >= 10 && i < 20 ? 1 : i >= 20 && i < 25 ? 2 : 0, &rng);
	}
	fclose(f1);
	fclose(f2);
	es_ref_t *ref = es_ref_load_fasta(g_fa);
	int ok = ref && es_test_index_kmer(ref, g_idx) == 0;
	es_ref_destroy(ref);
	if (ok) g_ready = 1;
	return ok;
}

static int map_pairs(const char *out, int threads, int batch)
{
	es_map_opt_t o;
	es_map_opt_init(&o);
	o.n_threads = threads;
	o.batch_size = batch;
	o.mate_path = g_r2;
	return es_test_map_quiet(g_idx, g_r1, out, &o);
}

/* The SAM at path without its @PG line (its CL: differs between runs). */
static char *slurp(const char *path)
{
	char *s = es_test_slurp(path, NULL);
	if (!s)
		return NULL;
	char *pg = strstr(s, "\n@PG");   /* its CL: differs between runs: drop that line */
	char *eol = pg ? strchr(pg + 1, '\n') : NULL;
	if (eol)
		memmove(pg, eol, strlen(eol) + 1);
	return s;
}

/* Map at batch size `batch` with 1 and 3 threads, compare, and check the placements. */
static void check_pairs(int batch)
{
	CHECK(setup());
	char out[512], out3[512];
	snprintf(out, sizeof out, "%s/pe.%d.sam", es_test_tmpdir(), batch);
	snprintf(out3, sizeof out3, "%s/pe3.%d.sam", es_test_tmpdir(), batch);
	CHECK_EQ_INT(map_pairs(out, 1, batch), 0);
	CHECK_EQ_INT(map_pairs(out3, 3, batch), 0);
	char *a = slurp(out), *b = slurp(out3);
	CHECK(a && b && strcmp(a, b) == 0);   /* the whole SAM but @PG */
	free(a);
	free(b);
	samFile *fp = sam_open(out, "r"), *fp3 = sam_open(out3, "r");
	sam_hdr_t *h = sam_hdr_read(fp), *h3 = sam_hdr_read(fp3);
	bam1_t *r = bam_init1(), *r3 = bam_init1();
	int n = 0, same = 0, correct = 0, repeat_ok = 0, rescued = 0, placed_at_mate = 0, proper = 0, bad_fields = 0;
	while (sam_read1(fp, h, r) >= 0 && sam_read1(fp3, h3, r3) >= 0) {
		same += r->l_data == r3->l_data && memcmp(r->data, r3->data, r->l_data) == 0 &&
		        r->core.flag == r3->core.flag && r->core.pos == r3->core.pos && r->core.isize == r3->core.isize;
		int i = atoi(bam_get_qname(r) + 1), mate2 = (r->core.flag & 0x80) != 0;
		int64_t want = mate2 ? g_truth[i].pos2 : g_truth[i].pos1;
		int mapped = !(r->core.flag & 4);
		const uint32_t *cig = bam_get_cigar(r);   /* the unclipped start, as esalign eval scores */
		int64_t start = r->core.pos - (r->core.n_cigar && bam_cigar_op(cig[0]) == BAM_CSOFT_CLIP ?
		                               bam_cigar_oplen(cig[0]) : 0);
		int ok = mapped && llabs(start - want) <= 20;
		correct += ok;
		proper += (r->core.flag & 2) != 0;
		if (i < 10 && !mate2) repeat_ok += ok && r->core.qual > 0;
		if (i >= 10 && i < 20 && mate2) rescued += ok;
		if ((i < 10 && !mate2 && !(ok && r->core.qual > 0)) || (i >= 10 && i < 20 && mate2 && !ok))
			fprintf(stderr, "    %s/%d: flag %d pos %lld MAPQ %d, true pos %lld\n", bam_get_qname(r), mate2 + 1,
			        r->core.flag, (long long)r->core.pos, r->core.qual, (long long)want);
		if (i >= 20 && i < 25 && mate2)
			placed_at_mate += !mapped && (r->core.flag & 1) && r->core.pos == g_truth[i].pos1 &&
			                  r->core.mpos == g_truth[i].pos1 && r->core.tid == 0;
		/* an ordinary FR pair: mate 1 forward, mate 2 reverse, TLEN +-FRAG, RNEXT/PNEXT the mate, MC and MQ */
		if (i >= 25 && ok) {
			int want_flag = mate2 ? (1 | 2 | 16 | 0x80) : (1 | 2 | 32 | 0x40);
			int64_t want_tlen = mate2 ? -g_truth[i].frag : g_truth[i].frag;
			int64_t want_mpos = mate2 ? g_truth[i].pos1 : g_truth[i].pos2;
			bad_fields += r->core.flag != want_flag || r->core.isize != want_tlen || r->core.mtid != 0 ||
			              r->core.mpos != want_mpos || !bam_aux_get(r, "MC") || !bam_aux_get(r, "MQ");
		}
		n++;
	}
	CHECK_EQ_INT(n, 2 * N_PAIRS);
	CHECK_EQ_INT(same, 2 * N_PAIRS);
	CHECKF(correct >= 2 * N_PAIRS - 10, "%d of %d mates correct", correct, 2 * N_PAIRS);
	CHECKF(repeat_ok == 10, "repeat mates at the right copy with MAPQ > 0: %d of 10", repeat_ok);
	CHECKF(rescued >= 9, "15%%-divergent mates rescued at their place: %d of 10", rescued);
	CHECKF(placed_at_mate == 5, "random mates placed at their partner: %d of 5", placed_at_mate);
	CHECKF(bad_fields == 0, "%d ordinary mates with wrong pair fields", bad_fields);
	CHECKF(proper >= 2 * N_PAIRS - 20, "%d of %d mates in proper pairs", proper, 2 * N_PAIRS);
	bam_destroy1(r);
	bam_destroy1(r3);
	sam_hdr_destroy(h);
	sam_hdr_destroy(h3);
	sam_close(fp);
	sam_close(fp3);
}

/* One batch: every pair's mates searched; the insert model from all the pairs. */
TEST(pe_map_repeat_rescue_fields_and_determinism)
{
	check_pairs(20000);
}

/* Batches of 100 pairs: the model from the first 100, and every later pair searches mate 1 only and places mate 2
 * by rescue where that aligns it almost whole (its search skipped), else searches it too. */
TEST(pe_map_later_batches_rescue_instead_of_search)
{
	check_pairs(200);
}

TEST(pe_map_same_output_for_another_batch_size)
{
	CHECK(setup());
	char out[512], outb[512];
	snprintf(out, sizeof out, "%s/pe_b1.sam", es_test_tmpdir());
	snprintf(outb, sizeof outb, "%s/pe_b2.sam", es_test_tmpdir());
	/* the insert model comes from the first batch: any batch holding all the pairs gives the same file */
	CHECK_EQ_INT(map_pairs(out, 2, 2 * N_PAIRS), 0);
	CHECK_EQ_INT(map_pairs(outb, 2, 100000), 0);
	char *a = slurp(out), *b = slurp(outb);
	CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
}
