/* test_eval.c — the accuracy evaluator on hand-made SAMs with known answers: soft clips, reverse strand, secondary and
 * supplementary records ignored, absent reads unmapped, wrong contig, 19 vs 21 bp off, clipped starts, the MAPQ
 * table, regions, BAM input and truth-SAM mode (mason/ART style names with /1). */
#include "test.h"
#include "eval.h"
#include "util.h"
#include <stdlib.h>
#include <htslib/sam.h>

static const char *write_sam(const char *name, const char *text)
{
	static char path[4][512];
	static int k;
	k = (k + 1) & 3;
	snprintf(path[k], sizeof path[k], "%s/%s", es_test_tmpdir(), name);
	FILE *fp = fopen(path[k], "w"); fputs(text, fp); fclose(fp);
	return path[k];
}

static const char *hdr = "@HD\tVN:1.6\n@SQ\tSN:c1\tLN:10000\n@SQ\tSN:c2\tLN:5000\n";

/* truth in the names; SAM POS is 1-based, the truth 0-based */
static const char *recs =
	"s0!c1!100!+\t0\tc1\t101\t60\t100M\t*\t0\t0\t*\t*\n"            /* exact: correct */
	"s1!c1!200!-\t16\tc1\t220\t30\t100M\t*\t0\t0\t*\t*\n"           /* reverse, 19 bp off: correct */
	"s2!c1!300!+\t0\tc1\t322\t20\t100M\t*\t0\t0\t*\t*\n"            /* 21 bp off: wrong */
	"s3!c1!400!+\t0\tc2\t401\t0\t100M\t*\t0\t0\t*\t*\n"             /* wrong contig: wrong */
	"s3!c1!400!+\t256\tc1\t401\t0\t100M\t*\t0\t0\t*\t*\n"           /* secondary at the truth: ignored */
	"s4!c1!500!+\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n"                   /* unmapped */
	"s4!c1!500!+\t2048\tc1\t501\t60\t50M50H\t*\t0\t0\t*\t*\n"      /* supplementary: ignored */
	"s6!c2!50!+\t0\tc2\t56\t10\t5S95M\t*\t0\t0\t*\t*\n"             /* soft clip shifts POS by 5: correct */
	"s7!c1!0!-\t16\tc1\t1\t1\t100M\t*\t0\t0\t*\t*\n";               /* correct, MAPQ 1 */
/* s5 is absent: unmapped */

static int eval_text(const char *name, const char *body, const char *truth, const char *region, int max_dist,
                     es_eval_t *ev)
{
	char *buf = es_malloc(strlen(hdr) + strlen(body) + 1);
	strcpy(buf, hdr); strcat(buf, body);
	const char *p = write_sam(name, buf);
	free(buf);
	es_eval_opt_t opt; es_eval_opt_init(&opt);
	opt.region = region;
	if (max_dist >= 0) opt.max_dist = max_dist;
	return es_eval_sam(p, truth, &opt, ev);
}

TEST(eval_known_answers)
{
	es_eval_t ev;
	CHECK_EQ_INT(eval_text("a.sam", recs, NULL, NULL, -1, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 8);
	CHECK_EQ_INT(ev.n_mapped, 6);
	CHECK_EQ_INT(ev.n_correct, 4);
	CHECK_EQ_INT(ev.n_wrong, 2);
	CHECK_EQ_INT(ev.n_unmapped, 2);
	CHECK_EQ_INT(ev.n_absent, 1);
	CHECK_EQ_INT(ev.n_secondary, 1);
	CHECK_EQ_INT(ev.n_supplementary, 1);
	CHECK_NEAR(ev.mapped_pct, 75.0, 1e-9);
	CHECK_NEAR(ev.correct_pct, 50.0, 1e-9);
	CHECK_NEAR(ev.wrong_pct, 25.0, 1e-9);
	CHECK_NEAR(ev.unmapped_pct, 25.0, 1e-9);
	/* MAPQ of the mapped: s0 60 ok, s1 30 ok, s2 20 wrong, s3 0 wrong, s6 10 ok, s7 1 ok */
	static const int64_t want_m[ES_EVAL_N_MAPQ] = { 6, 5, 4, 3, 2, 1 }, want_w[ES_EVAL_N_MAPQ] = { 2, 1, 1, 1, 0, 0 };
	for (int i = 0; i < ES_EVAL_N_MAPQ; i++) {
		CHECK_EQ_INT(ev.mapq_mapped[i], want_m[i]);
		CHECK_EQ_INT(ev.mapq_wrong[i], want_w[i]);
		CHECK_NEAR(ev.mapq_mapped_pct[i], 100.0 * want_m[i] / 8, 1e-9);
		CHECK_NEAR(ev.mapq_err_pct[i], 100.0 * want_w[i] / want_m[i], 1e-9);
	}
	/* --max-dist 21 makes s2 correct; at 0 the soft-clipped s6 stays correct through its unclipped start */
	CHECK_EQ_INT(eval_text("a21.sam", recs, NULL, NULL, 21, &ev), 0);
	CHECK_EQ_INT(ev.n_correct, 5);
	CHECK_EQ_INT(eval_text("a0.sam", recs, NULL, NULL, 0, &ev), 0);
	CHECK_EQ_INT(ev.n_correct, 3);  /* s0, s6, s7 */
	/* a 30-base clip puts POS 30 bp right of the truth but the unclipped start on it; a leading clip that
	 * overshoots (POS itself right) is also correct; a hard clip counts like a soft one */
	CHECK_EQ_INT(eval_text("clip.sam",
		"s0!c1!1000!+\t0\tc1\t1031\t60\t30S70M\t*\t0\t0\t*\t*\n"
		"s1!c1!2000!-\t16\tc1\t2001\t60\t40S60M\t*\t0\t0\t*\t*\n"
		"s2!c1!3000!+\t0\tc1\t3031\t60\t30H70M\t*\t0\t0\t*\t*\n"
		"s3!c1!4000!+\t0\tc1\t4031\t60\t5S65M30S\t*\t0\t0\t*\t*\n", NULL, NULL, 20, &ev), 0);
	CHECK_EQ_INT(ev.n_correct, 3);
	CHECK_EQ_INT(ev.n_wrong, 1);    /* s3: unclipped start 4025, POS 4030: both > 20 bp off */
}

TEST(eval_region)
{
	es_eval_t ev;
	/* true origins c1:100, 200, 300, 0 are in [0,350); 400 and 500 and c2 are outside; absent s5 has no known origin */
	CHECK_EQ_INT(eval_text("r.sam", recs, NULL, "c1:0-350", -1, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 4);
	CHECK_EQ_INT(ev.n_correct, 3);
	CHECK_EQ_INT(ev.n_wrong, 1);
	CHECK_EQ_INT(ev.n_outside, 3);
	CHECK_EQ_INT(eval_text("r2.sam", recs, NULL, "c1:300-301", -1, &ev), 0);  /* half-open: 300 in, 301 not */
	CHECK_EQ_INT(ev.n_reads, 1);
	CHECK_EQ_INT(ev.n_wrong, 1);
	CHECK_EQ_INT(eval_text("r3.sam", recs, NULL, "c2", -1, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 1);
	CHECK_EQ_INT(ev.n_correct, 1);
	CHECK_EQ_INT(eval_text("r4.sam", recs, NULL, "c1:9-5", -1, &ev), -1);
}

TEST(eval_errors)
{
	es_eval_t ev;
	CHECK_EQ_INT(eval_text("e1.sam", "read7\t0\tc1\t1\t60\t10M\t*\t0\t0\t*\t*\n", NULL, NULL, -1, &ev), -1);
	CHECK(strstr(es_last_error(), "read7") && strstr(es_last_error(), "e1.sam") && strstr(es_last_error(), "--truth"));
	CHECK_EQ_INT(eval_text("e2.sam", "s0!c1!5!+\t0\tc1\t6\t60\t10M\t*\t0\t0\t*\t*\n"
	                       "s0!c1!5!+\t0\tc1\t6\t60\t10M\t*\t0\t0\t*\t*\n", NULL, NULL, -1, &ev), -1);
	CHECK(strstr(es_last_error(), "two primary") != NULL);
	CHECK_EQ_INT(eval_text("e3.sam", "s0!c1!5!+\t0\tc1\tnotanumber\t60\t10M\t*\t0\t0\t*\t*\n", NULL, NULL, -1, &ev), -1);
	CHECK(strstr(es_last_error(), "e3.sam") != NULL);
	es_eval_opt_t opt; es_eval_opt_init(&opt);
	char missing[512]; snprintf(missing, sizeof missing, "%s/nope.sam", es_test_tmpdir());
	CHECK_EQ_INT(es_eval_sam(missing, NULL, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), missing) != NULL);
	CHECK_EQ_INT(es_eval_sam(write_sam("ok.sam", "@SQ\tSN:c1\tLN:100\n"), missing, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), missing) != NULL);
	/* an empty SAM is zero reads, not an error */
	CHECK_EQ_INT(es_eval_sam(write_sam("empty.sam", "@SQ\tSN:c1\tLN:100\n"), NULL, &opt, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 0);
	CHECK_NEAR(ev.mapq_err_pct[0], 0, 0);
}

TEST(eval_bam_input)
{
	/* the same records as BAM give the same answer */
	char *buf = es_malloc(strlen(hdr) + strlen(recs) + 1);
	strcpy(buf, hdr); strcat(buf, recs);
	const char *sp = write_sam("b.sam", buf);
	free(buf);
	char bp[512]; snprintf(bp, sizeof bp, "%s/b.bam", es_test_tmpdir());
	samFile *in = sam_open(sp, "r"), *out = sam_open(bp, "wb");
	sam_hdr_t *h = sam_hdr_read(in);
	CHECK(sam_hdr_write(out, h) == 0);
	bam1_t *b = bam_init1();
	while (sam_read1(in, h, b) >= 0) CHECK(sam_write1(out, h, b) >= 0);
	bam_destroy1(b); sam_hdr_destroy(h); sam_close(in); sam_close(out);
	es_eval_opt_t opt; es_eval_opt_init(&opt);
	es_eval_t ev;
	CHECK_EQ_INT(es_eval_sam(bp, NULL, &opt, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 8);
	CHECK_EQ_INT(ev.n_correct, 4);
	CHECK_EQ_INT(ev.mapq_mapped[3], 3);
}

TEST(eval_truth_sam)
{
	/* truth as written by a simulator: ART-style names with /1, a reverse-strand read, an unplaced read, and a read
	 * the aligner did not report */
	const char *truth = write_sam("truth.sam",
		"@SQ\tSN:c1\tLN:10000\n@SQ\tSN:c2\tLN:5000\n"
		"c1-1/1\t0\tc1\t1001\t99\t100M\t*\t0\t0\t*\t*\n"
		"c1-2/1\t16\tc1\t2001\t99\t100M\t*\t0\t0\t*\t*\n"
		"c2-3/1\t0\tc2\t301\t99\t100M\t*\t0\t0\t*\t*\n"
		"c2-3/1\t256\tc1\t1\t99\t100M\t*\t0\t0\t*\t*\n"    /* secondary truth record: ignored */
		"c2-4/1\t0\tc2\t3001\t99\t100M\t*\t0\t0\t*\t*\n"
		"u-5/1\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n");
	char tp[512]; snprintf(tp, sizeof tp, "%s", truth);
	es_eval_t ev;
	/* aligner names without /1; contig order differs from the truth's header */
	const char *aln_hdr = "@SQ\tSN:c2\tLN:5000\n@SQ\tSN:c1\tLN:10000\n";
	char body[2048];
	snprintf(body, sizeof body, "%s%s", aln_hdr,
		"c1-1\t0\tc1\t1001\t60\t100M\t*\t0\t0\t*\t*\n"      /* correct */
		"c1-2\t16\tc1\t2030\t60\t100M\t*\t0\t0\t*\t*\n"     /* 29 off: wrong */
		"c2-3\t0\tc2\t310\t5\t100M\t*\t0\t0\t*\t*\n"        /* correct, MAPQ 5 */
		"u-5\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n");             /* unplaced in the truth: not scored */
	es_eval_opt_t opt; es_eval_opt_init(&opt);
	CHECK_EQ_INT(es_eval_sam(write_sam("t_aln.sam", body), tp, &opt, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 4);
	CHECK_EQ_INT(ev.n_correct, 2);
	CHECK_EQ_INT(ev.n_wrong, 1);
	CHECK_EQ_INT(ev.n_unmapped, 1);   /* c2-4 absent */
	CHECK_EQ_INT(ev.n_absent, 1);
	CHECK_EQ_INT(ev.n_no_truth, 1);
	CHECK_EQ_INT(ev.mapq_mapped[2], 2);
	CHECK_EQ_INT(ev.mapq_wrong[2], 1);
	opt.region = "c2:0-1000";
	CHECK_EQ_INT(es_eval_sam(write_sam("t_aln2.sam", body), tp, &opt, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 1);
	CHECK_EQ_INT(ev.n_correct, 1);
	opt.region = NULL;
	/* a read not in the truth is an error naming it */
	snprintf(body, sizeof body, "%s%s", aln_hdr, "stray\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n");
	CHECK_EQ_INT(es_eval_sam(write_sam("t_aln3.sam", body), tp, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), "stray") != NULL);
}

TEST(eval_print_tsv)
{
	es_eval_t ev;
	CHECK_EQ_INT(eval_text("p.sam", recs, NULL, NULL, -1, &ev), 0);
	char path[512]; snprintf(path, sizeof path, "%s/p.tsv", es_test_tmpdir());
	FILE *fp = fopen(path, "w");
	es_eval_print(fp, &ev, 1);
	fclose(fp);
	fp = fopen(path, "r");
	char l1[2048] = "", l2[2048] = "", l3[16] = "";
	CHECK(fgets(l1, sizeof l1, fp) != NULL);
	CHECK(fgets(l2, sizeof l2, fp) != NULL);
	CHECK(fgets(l3, sizeof l3, fp) == NULL);  /* exactly two lines */
	fclose(fp);
	CHECK_STR(l1, "reads\tmapped_pct\tcorrect_pct\twrong_pct\tunmapped_pct\tmapq0_mapped_pct\tmapq0_err_pct\t"
	              "mapq1_mapped_pct\tmapq1_err_pct\tmapq10_mapped_pct\tmapq10_err_pct\tmapq20_mapped_pct\t"
	              "mapq20_err_pct\tmapq30_mapped_pct\t"
	              "mapq30_err_pct\tmapq60_mapped_pct\tmapq60_err_pct\n");
	CHECK(strncmp(l2, "8\t75.0000\t50.0000\t25.0000\t25.0000\t75.0000\t33.3333\t62.5000\t20.0000", 62) == 0);
	int tabs = 0; for (char *p = l2; *p; p++) tabs += *p == '\t';
	CHECK_EQ_INT(tabs, 16);
	/* streaming API gives the same numbers */
	es_eval_t s; es_eval_init(&s);
	es_eval_add(&s, 1, 1, 60); es_eval_add(&s, 1, 0, 0); es_eval_add(&s, 0, 0, 0); es_eval_add(&s, 1, 1, 25);
	es_eval_finish(&s);
	CHECK_NEAR(s.mapped_pct, 75, 1e-9);
	CHECK_NEAR(s.mapq_err_pct[0], 100.0 / 3, 1e-9);
	CHECK_NEAR(s.mapq_mapped_pct[3], 50, 1e-9);
	CHECK_NEAR(s.mapq_err_pct[3], 0, 1e-9);
}

/* Fuzzing found (issue 16): an @SQ line with a bad LN is skipped when htslib reads the header but counted once the
 * first record makes it parse the header again, so records then carry a contig index past the header's count. Each
 * site that indexes by it (the scored file in both modes, the truth file) refuses the record instead of overflowing. */
TEST(eval_contig_index_past_header)
{
	static const char *bad_hdr = "@SQ\tSN:c0\tLN:-5\n@SQ\tSN:c1\tLN:100\n";
	char body[1024];
	snprintf(body, sizeof body, "%ss0!c1!5!+\t0\tc1\t6\t60\t10M\t*\t0\t0\t*\t*\n"
	         "s1!c0!5!+\t0\tc0\t6\t60\t10M\t*\t0\t0\t*\t*\n", bad_hdr);
	const char *p = write_sam("badsq.sam", body);
	char sam[512];
	snprintf(sam, sizeof sam, "%s", p);
	es_eval_opt_t opt;
	es_eval_opt_init(&opt);
	es_eval_t ev;
	CHECK_EQ_INT(es_eval_sam(sam, NULL, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), "badsq.sam: record 2") && strstr(es_last_error(), "contig index 1"));
	/* the same file as the scored file against a good truth, and as the truth itself */
	const char *good = write_sam("goodtruth.sam", "@SQ\tSN:c0\tLN:100\n@SQ\tSN:c1\tLN:100\n"
	                             "s0!c1!5!+\t0\tc1\t6\t60\t10M\t*\t0\t0\t*\t*\n"
	                             "s1!c0!5!+\t0\tc0\t6\t60\t10M\t*\t0\t0\t*\t*\n");
	char truth[512];
	snprintf(truth, sizeof truth, "%s", good);
	CHECK_EQ_INT(es_eval_sam(sam, truth, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), "badsq.sam: record 2") && strstr(es_last_error(), "contig index 1"));
	CHECK_EQ_INT(es_eval_sam(truth, sam, &opt, &ev), -1);
	CHECK(strstr(es_last_error(), "badsq.sam: record 2") && strstr(es_last_error(), "contig index 1"));
}

/* Fuzzing found (issue 16): one read named s17179869184!... made eval allocate and zero 32 GiB. IDs above
 * ES_EVAL_MAX_READ_ID are refused; below it the bitmap grows to the ID met, and the IDs missing below it are absent. */
TEST(eval_read_id_bound)
{
	es_eval_t ev;
	CHECK_EQ_INT(eval_text("bigid.sam", "s17179869184!c1!1!+\t0\tc1\t2\t60\t10M\t*\t0\t0\t*\t*\n", NULL, NULL, -1, &ev),
	             -1);
	CHECK(strstr(es_last_error(), "bigid.sam: record 1") && strstr(es_last_error(), "large ID"));
	CHECK_EQ_INT(eval_text("hugeid.sam", "s99999999999999999999999!c1!1!+\t0\tc1\t2\t60\t10M\t*\t0\t0\t*\t*\n", NULL,
	                       NULL, -1, &ev), -1);
	CHECK(strstr(es_last_error(), "large ID") != NULL);
	CHECK_EQ_INT(eval_text("midid.sam", "s1000000!c1!1!+\t0\tc1\t2\t60\t10M\t*\t0\t0\t*\t*\n"
	                       "s70!c1!1!+\t0\tc1\t2\t60\t10M\t*\t0\t0\t*\t*\n", NULL, NULL, -1, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, 1000001);
	CHECK_EQ_INT(ev.n_correct, 2);
	CHECK_EQ_INT(ev.n_absent, 999999);
	CHECK_EQ_INT(ev.n_unmapped, 999999);
}
