/* test_map.c — the whole pipeline on a small synthetic genome: accuracy, determinism across thread counts and batch
 * sizes, reverse strand, reads spanning two contigs, reads in N runs, MD/NM recomputed independently, SAM/BAM
 * validity, options refused before any output. */
#include "test.h"
#include "map.h"
#include "store.h"
#include "simulate.h"
#include "eval.h"
#include "seqio.h"
#include "util.h"
#include "thread.h"
#include "pipeline.h"
#include <htslib/sam.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

static char g_fa[512], g_idx[512], g_fq[512];
static char *g_seq[2];          /* contig sequences as ASCII */
static const int64_t g_len[2] = { 160000, 90000 };
/* reads of the test set: more than two mapping chunks, so that two threads map chunks side by side */
#define N_READS (2 * ES_MAP_CHUNK + 200)
static int g_ready;

/* Random genome: two contigs, an N run inside c1, a 3 kb segment of c1 copied into c2 (an exact repeat). */
static int setup(void)
{
	if (g_ready) return g_ready > 0;
	g_ready = -1;
	es_rng_t rng;
	es_rng_seed(&rng, 42);
	for (int c = 0; c < 2; c++) {
		g_seq[c] = malloc(g_len[c] + 1);
		for (int64_t i = 0; i < g_len[c]; i++) g_seq[c][i] = "ACGT"[es_rng_below(&rng, 4)];
		g_seq[c][g_len[c]] = 0;
	}
	memset(g_seq[0] + 50000, 'N', 4000);
	memcpy(g_seq[1] + 30000, g_seq[0] + 100000, 3000);
	snprintf(g_fa, sizeof g_fa, "%s/map.fa", es_test_tmpdir());
	snprintf(g_idx, sizeof g_idx, "%s/map.esi", es_test_tmpdir());
	snprintf(g_fq, sizeof g_fq, "%s/map.fq", es_test_tmpdir());
	FILE *fp = fopen(g_fa, "w");
	for (int c = 0; c < 2; c++) {
		fprintf(fp, ">c%d\n", c + 1);
		for (int64_t i = 0; i < g_len[c]; i += 70) fprintf(fp, "%.70s\n", g_seq[c] + i);
	}
	fclose(fp);
	es_ref_t *ref = es_ref_load_fasta(g_fa);
	if (!ref) return 0;
	int ok = es_test_index_kmer(ref, g_idx) == 0;
	es_sim_opt_t so;
	es_sim_opt_init(&so);
	so.n_reads = N_READS;
	so.read_len = 150;
	so.seed = 7;
	fp = fopen(g_fq, "w");
	ok = ok && es_sim_reads(ref, &so, fp) == 0;
	fclose(fp);
	es_ref_destroy(ref);
	if (ok) g_ready = 1;
	return ok;
}

static int map_to_batch(const char *fq, const char *out, int threads, int batch_size)
{
	es_map_opt_t o;
	es_map_opt_init(&o);
	o.n_threads = threads;
	o.batch_size = batch_size;
	return es_test_map_quiet(g_idx, fq, out, &o);
}

static int map_to(const char *fq, const char *out, int threads)
{
	return map_to_batch(fq, out, threads, ES_MAP_CHUNK + 33);   /* several batches, uneven chunks */
}

TEST(map_accuracy_and_determinism)
{
	CHECK(setup());
	if (g_ready <= 0) return;
	char o1[600], o2[600];
	snprintf(o1, sizeof o1, "%s/t1.sam", es_test_tmpdir());
	snprintf(o2, sizeof o2, "%s/t2.sam", es_test_tmpdir());
	CHECK_EQ_INT(map_to(g_fq, o1, 1), 0);
	CHECK_EQ_INT(map_to(g_fq, o2, 2), 0);
	size_t n1, n2;
	char *b1 = es_test_slurp(o1, &n1), *b2 = es_test_slurp(o2, &n2);
	CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
	CHECK(b1 && strstr(b1, "@HD\tVN:1.6\tSO:unsorted\tGO:query"));
	CHECK(b1 && strstr(b1, "@SQ\tSN:c2\tLN:90000") && strstr(b1, "@PG\tID:esalign"));
	free(b1);
	free(b2);
	es_eval_opt_t eo;
	es_eval_opt_init(&eo);
	es_eval_t ev;
	CHECK_EQ_INT(es_eval_sam(o1, NULL, &eo, &ev), 0);
	CHECK_EQ_INT(ev.n_reads, N_READS);
	CHECKF(ev.correct_pct >= 98.0, "correct %.2f%%", ev.correct_pct);
	CHECKF(ev.mapq_err_pct[3] <= 1.0, "error at MAPQ>=20 %.2f%%", ev.mapq_err_pct[3]);
	/* every read exactly once as primary; reverse-strand reads exist and are right; MD/NM/AS present */
	samFile *fp = sam_open(o1, "r");
	sam_hdr_t *h = sam_hdr_read(fp);
	bam1_t *b = bam_init1();
	int n_prim = 0, n_rev = 0, n_md = 0, repeat_q0 = 0, n_repeat = 0;
	while (sam_read1(fp, h, b) >= 0) {
		if (b->core.flag & 0x900) continue;
		n_prim++;
		if (b->core.flag & 4) continue;
		if (b->core.flag & 16) n_rev++;
		if (bam_aux_get(b, "MD") && bam_aux_get(b, "NM") && bam_aux_get(b, "AS")) n_md++;
		/* reads from the exact repeat must not be given a confident MAPQ */
		const char *ctg;
		int cl;
		int64_t pos;
		char strand;
		if (es_sim_name_parse(bam_get_qname(b), &ctg, &cl, &pos, &strand) == 0) {
			int in_rep = (cl == 2 && !strncmp(ctg, "c1", 2) && pos >= 100000 && pos + 150 <= 103000) ||
			             (cl == 2 && !strncmp(ctg, "c2", 2) && pos >= 30000 && pos + 150 <= 33000);
			if (in_rep) {
				n_repeat++;
				repeat_q0 += b->core.qual == 0;
			}
		}
	}
	CHECK_EQ_INT(n_prim, N_READS);
	CHECK(n_rev > N_READS / 3 && n_rev < 2 * N_READS / 3);
	CHECK(n_md > N_READS * 11 / 12);
	CHECK_EQ_INT(repeat_q0, n_repeat);
	bam_destroy1(b);
	sam_hdr_destroy(h);
	sam_close(fp);
}

/* NM and MD recomputed from CIGAR, SEQ and the reference, independently of the aligner's code. */
TEST(map_md_nm_independent)
{
	CHECK(setup());
	if (g_ready <= 0) return;
	char o1[600];
	snprintf(o1, sizeof o1, "%s/md.sam", es_test_tmpdir());
	CHECK_EQ_INT(map_to(g_fq, o1, 2), 0);
	samFile *fp = sam_open(o1, "r");
	sam_hdr_t *h = sam_hdr_read(fp);
	bam1_t *b = bam_init1();
	int checked = 0, bad = 0;
	while (sam_read1(fp, h, b) >= 0) {
		if (b->core.flag & 4) continue;
		const char *ctg = sam_hdr_tid2name(h, b->core.tid);
		const char *ref = g_seq[ctg[1] - '1'] + b->core.pos;
		const uint32_t *cig = bam_get_cigar(b);
		const uint8_t *sq = bam_get_seq(b);
		char md[2048];
		int ml = 0, run = 0, nm = 0, qi = 0, ri = 0;
		for (uint32_t k = 0; k < b->core.n_cigar; k++) {
			int op = bam_cigar_op(cig[k]), len = bam_cigar_oplen(cig[k]);
			if (op == BAM_CSOFT_CLIP) {
				qi += len;
				continue;
			}
			if (op == BAM_CINS) {
				qi += len;
				nm += len;
				continue;
			}
			if (op == BAM_CDEL) {
				ml += sprintf(md + ml, "%d^", run);
				run = 0;
				for (int j = 0; j < len; j++) md[ml++] = ref[ri++];
				nm += len;
				continue;
			}
			for (int j = 0; j < len; j++, qi++, ri++) {
				char qc = seq_nt16_str[bam_seqi(sq, qi)];
				if (qc == ref[ri] && qc != 'N') run++;
				else {
					ml += sprintf(md + ml, "%d%c", run, ref[ri]);
					run = 0;
					nm++;
				}
			}
		}
		sprintf(md + ml, "%d", run);
		uint8_t *pmd = bam_aux_get(b, "MD"), *pnm = bam_aux_get(b, "NM");
		if (!pmd || !pnm || strcmp(bam_aux2Z(pmd), md) != 0 || bam_aux2i(pnm) != nm || qi != b->core.l_qseq) {
			if (bad < 3)
				fprintf(stderr, "    %s: MD %s vs %s, NM %lld vs %d\n", bam_get_qname(b), pmd ? bam_aux2Z(pmd) : "-",
				        md, pnm ? (long long)bam_aux2i(pnm) : -1LL, nm);
			bad++;
		}
		checked++;
	}
	CHECK(checked > 500);
	CHECK_EQ_INT(bad, 0);
	bam_destroy1(b);
	sam_hdr_destroy(h);
	sam_close(fp);
}

static void write_fq(const char *path, int n, const char *const *names, const char *const *seqs)
{
	FILE *fp = fopen(path, "w");
	for (int i = 0; i < n; i++) {
		fprintf(fp, "@%s\n%s\n+\n", names[i], seqs[i]);
		for (size_t j = 0; j < strlen(seqs[i]); j++) fputc('I', fp);
		fputc('\n', fp);
	}
	fclose(fp);
}

TEST(map_edge_reads)
{
	CHECK(setup());
	if (g_ready <= 0) return;
	char fq[600], out[600];
	snprintf(fq, sizeof fq, "%s/edge.fq", es_test_tmpdir());
	snprintf(out, sizeof out, "%s/edge.sam", es_test_tmpdir());
	char span[201], inn[151], shortr[21], fwd[151], rev[151];
	memcpy(span, g_seq[0] + g_len[0] - 100, 100); memcpy(span + 100, g_seq[1], 100); span[200] = 0;  /* spans c1|c2 */
	memcpy(inn, g_seq[0] + 51000, 150); inn[150] = 0;                                                /* all N */
	memcpy(shortr, g_seq[0] + 7000, 20); shortr[20] = 0;                                             /* too short */
	memcpy(fwd, g_seq[1] + 60000, 150);
	fwd[150] = 0;
	for (int i = 0; i < 150; i++) {
		char c = g_seq[1][60000 + 149 - i];
		rev[i] = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A';
	}
	rev[150] = 0;
	const char *names[] = { "span", "inN", "short", "fwd", "rev" };
	const char *seqs[] = { span, inn, shortr, fwd, rev };
	write_fq(fq, 5, names, seqs);
	CHECK_EQ_INT(map_to(fq, out, 2), 0);
	samFile *fp = sam_open(out, "r");
	sam_hdr_t *h = sam_hdr_read(fp);
	bam1_t *b = bam_init1();
	int seen = 0;
	while (sam_read1(fp, h, b) >= 0) {
		const char *q = bam_get_qname(b);
		seen++;
		if (!strcmp(q, "span")) {
			CHECK(!(b->core.flag & 4));
			const uint32_t *cig = bam_get_cigar(b);
			CHECK(bam_cigar_op(cig[0]) == BAM_CSOFT_CLIP || bam_cigar_op(cig[b->core.n_cigar - 1]) == BAM_CSOFT_CLIP);
			int64_t end = bam_endpos(b);
			CHECK(end <= sam_hdr_tid2len(h, b->core.tid));
		} else if (!strcmp(q, "inN") || !strcmp(q, "short")) {
			CHECK(b->core.flag & 4);
			CHECK_EQ_INT(b->core.tid, -1);
		} else if (!strcmp(q, "fwd")) {
			CHECK_EQ_INT(b->core.flag, 0);
			CHECK_EQ_INT(b->core.tid, 1);
			CHECK_EQ_INT(b->core.pos, 60000);
			CHECK_EQ_INT(b->core.qual, 60);
		} else if (!strcmp(q, "rev")) {
			CHECK_EQ_INT(b->core.flag, 16);
			CHECK_EQ_INT(b->core.tid, 1);
			CHECK_EQ_INT(b->core.pos, 60000);
			/* SEQ is shown on the forward strand */
			CHECK_EQ_INT(seq_nt16_str[bam_seqi(bam_get_seq(b), 0)], fwd[0]);
		}
	}
	CHECK_EQ_INT(seen, 5);
	bam_destroy1(b);
	sam_hdr_destroy(h);
	sam_close(fp);
}

TEST(map_bad_input)
{
	CHECK(setup());
	if (g_ready <= 0) return;
	char fq[600], out[600];
	snprintf(fq, sizeof fq, "%s/bad.fq", es_test_tmpdir());
	snprintf(out, sizeof out, "%s/bad.sam", es_test_tmpdir());
	FILE *fp = fopen(fq, "w");
	fprintf(fp, "@r1\nACGTACGTACGTACGTACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII\n");
	fprintf(fp, "@r2\nACGT\n+\nII\n");   /* quality shorter than the sequence */
	fclose(fp);
	CHECK(map_to(fq, out, 2) < 0);
	CHECK(strstr(es_last_error(), "bad.fq") != NULL);
	CHECK(access(out, F_OK) != 0);   /* nothing half-written */
	/* an empty read file gives a header-only SAM */
	fp = fopen(fq, "w");
	fclose(fp);
	CHECK_EQ_INT(map_to(fq, out, 1), 0);
	size_t n;
	char *b = es_test_slurp(out, &n);
	int n_body = 0;
	for (char *p = b; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) n_body += *p != '@';
	CHECK(b && strstr(b, "@PG\tID:esalign"));
	CHECK_EQ_INT(n_body, 0);
	free(b);
	/* a read longer than supported */
	fp = fopen(fq, "w");
	fprintf(fp, ">long\n");
	for (int i = 0; i < 1200; i++) fputc("ACGT"[i % 4], fp);
	fputc('\n', fp);
	fclose(fp);
	CHECK(map_to(fq, out, 1) < 0);
	CHECK(strstr(es_last_error(), "longer than") != NULL);
	/* not an index */
	es_map_opt_t o;
	es_map_opt_init(&o);
	es_map_stats_t st;
	CHECK(es_map_file(g_fa, g_fq, out, &o, "x", &st) < 0);
	CHECK(strstr(es_last_error(), "map.fa") != NULL);
	/* read groups */
	char *id = NULL, *line = es_map_parse_rg("@RG\\tID:grp1\\tSM:s", &id);
	CHECK(line && !strcmp(line, "@RG\tID:grp1\tSM:s") && id && !strcmp(id, "grp1"));
	free(line);
	free(id);
	id = NULL;
	CHECK(es_map_parse_rg("@RG\\tSM:s", &id) == NULL);
	CHECK(es_map_parse_rg("RG\\tID:x", &id) == NULL);
}

/* Batch boundaries do not change a byte: one batch, batches of 97, batches of one read, on 1 to 3 threads. */
TEST(map_batches_do_not_matter)
{
	CHECK(setup());
	if (g_ready <= 0)
		return;
	const int batch[] = { N_READS, 97, 1 };
	const int threads[] = { 2, 3, 1 };
	char *first = NULL;
	size_t n_first = 0;
	for (int k = 0; k < 3; k++) {
		char out[600];
		snprintf(out, sizeof out, "%s/batch%d.sam", es_test_tmpdir(), k);
		CHECK_EQ_INT(map_to_batch(g_fq, out, threads[k], batch[k]), 0);
		size_t n;
		char *b = es_test_slurp(out, &n);
		if (!first) {
			first = b;
			n_first = n;
			continue;
		}
		CHECKF(b && n == n_first && memcmp(b, first, n) == 0, "batch size %d differs from batch size %d", batch[k], N_READS);
		free(b);
	}
	free(first);
}

/* Out-of-range options are refused before any output exists; devices are written in place, never renamed over. */
TEST(map_refuses_before_writing)
{
	CHECK(setup());
	if (g_ready <= 0)
		return;
	char out[600];
	snprintf(out, sizeof out, "%s/t65.sam", es_test_tmpdir());
	CHECK(map_to(g_fq, out, ES_MAX_THREADS + 1) < 0);
	CHECKF(strstr(es_last_error(), "1..64") != NULL, "message: %s", es_last_error());
	CHECK(access(out, F_OK) != 0);
	CHECK(map_to(g_fq, out, 0) < 0);
	CHECK(map_to_batch(g_fq, out, 1, 0) < 0);
	CHECK(strstr(es_last_error(), "batch size") != NULL);
	CHECK(access(out, F_OK) != 0);
	CHECK(es_tmp_name("-") == NULL);
	char *t = es_tmp_name(out);
	CHECK(t && strncmp(t, out, strlen(out)) == 0 && strstr(t, ".tmp.") != NULL);
	free(t);
	t = es_tmp_name("/dev/null");
	CHECK(t == NULL);
	if (t)   /* never rename over the device (as root it would be replaced) */
		return;
	CHECK_EQ_INT(map_to(g_fq, "/dev/null", 2), 0);
	struct stat st;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
}

/* A thread that cannot be created (the pipeline's, or a mapping worker's) stops the run with one error and leaves
 * no output and no temporary behind. */
TEST(map_thread_creation_failure)
{
	CHECK(setup());
	if (g_ready <= 0)
		return;
	char out[600];
	snprintf(out, sizeof out, "%s/nothread.sam", es_test_tmpdir());
	for (int k = 0; k < 3; k++) {   /* 0, 1: pipeline steps; 2: the first mapping worker */
		atomic_store(&es_thread_fail_after, k);
		CHECKF(map_to(g_fq, out, 2) < 0, "failure at thread creation %d not reported", k);
		atomic_store(&es_thread_fail_after, -1);
		CHECKF(strstr(es_last_error(), "cannot create") != NULL, "message: %s", es_last_error());
		CHECK(access(out, F_OK) != 0);
		char cmd[800];
		snprintf(cmd, sizeof cmd, "ls '%s' | grep -q 'nothread.sam.tmp'", es_test_tmpdir());
		CHECK(system(cmd) != 0);
	}
	CHECK_EQ_INT(map_to(g_fq, out, 2), 0);
}

/* The locate step's vote sort (a counting sort where the keys are dense) against klib's introsort: dense runs of
 * equal diagonals (a copy of the read), sparse keys (the introsort path), both strands, negative diagonals, and the
 * sizes at the switch (64 votes). */
TEST(map_vote_sort_matches_introsort)
{
	es_rng_t rng;
	es_rng_seed(&rng, 77);
	static int diag[20000], strand[20000];
	const int sizes[] = { 0, 1, 63, 64, 65, 200, 1000, 20000 };
	for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
		for (int mode = 0; mode < 4; mode++) {
			int n = sizes[si];
			for (int i = 0; i < n; i++) {
				uint64_t r = es_rng_next(&rng);
				strand[i] = (int)(r & 1);
				switch (mode) {
				case 0: diag[i] = (int)(r >> 8 & 3) - 100; break;                     /* a copy: 4 diagonals */
				case 1: diag[i] = (int)((r >> 8) % 700) - 250; break;                /* a locus region */
				case 2: diag[i] = (int)(r >> 8 & 0xffffff) - 0x800000; break;        /* sparse: introsort */
				default: diag[i] = (i & 1) ? 5 : (int)(r >> 8 & 63) - 30; break;    /* half on one diagonal */
				}
			}
			CHECKF(es_map_vote_sort_check(n, diag, strand), "n %d mode %d", n, mode);
		}
	}
}
