/* cli_demo.c — 'esalign demo': the whole Embed-Search-Align loop in one command, through the library:
 * index a genome, simulate reads with known origins, align them, print the accuracy. Work files go to a temp dir. */
#include "cli.h"
#include "map.h"
#include "store.h"
#include "simulate.h"
#include "eval.h"
#include "seqio.h"
#include "thread.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

static const char *default_genomes[] = { "data/genomes/ecoli.fa.gz", "data/genomes/lambda.fa.gz" };

typedef struct {
	int n_reads, len, threads;
	int64_t seed;
	const char *fa;      /* the genome; NULL: the first of default_genomes present */
} demo_opt_t;

typedef struct {
	char dir[32];        /* the temp dir holding the three work files */
	char idx[128], fq[128], sam[128];
} demo_files_t;

static int usage(FILE *fp, const demo_opt_t *o)
{
	fprintf(fp, "Usage: esalign demo [-n reads %d] [-l length %d] [-t threads %d] [-s seed] [ref.fa[.gz]]\n"
	        "Index the genome (default: %s, fetched by scripts/fetch-genomes.sh), simulate reads with 1%% "
	        "substitutions\nand 0.1%% indels on both strands, align them with the default (learned) encoder and print the "
	        "accuracy.\n",
	        o->n_reads, o->len, o->threads, default_genomes[0]);
	return fp == stdout ? 0 : 1;
}

/* Options into o: 0 go on, 1 help asked for, 2 a bad option (usage to stderr), -1 a bad value (es_error set). */
static int parse(int argc, char *argv[], demo_opt_t *o)
{
	static const struct option lopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int c;
	int r = 0;
	while (r == 0 && (c = getopt_long(argc, argv, "n:l:t:s:h", lopts, NULL)) >= 0) {
		if (c == 'n')
			r = es_opt_int("-n", optarg, 1, 100000000, &o->n_reads);
		else if (c == 'l')
			r = es_opt_int("-l", optarg, 30, 1000, &o->len);
		else if (c == 't')
			r = es_opt_int("-t", optarg, 1, ES_MAX_THREADS, &o->threads);
		else if (c == 's')
			r = es_opt_int64("-s", optarg, 0, INT64_MAX, &o->seed);
		else
			return c == 'h' ? 1 : 2;
	}
	if (r < 0)
		return -1;
	o->fa = optind < argc ? argv[optind] : NULL;
	for (size_t i = 0; !o->fa && i < sizeof default_genomes / sizeof *default_genomes; i++)
		if (access(default_genomes[i], R_OK) == 0)
			o->fa = default_genomes[i];
	if (!o->fa)
		return es_error("no genome given and none in data/genomes/ (run scripts/fetch-genomes.sh ecoli)");
	return 0;
}

static int files_init(demo_files_t *f)
{
	snprintf(f->dir, sizeof f->dir, "/tmp/esalign-demo.XXXXXX");
	if (!mkdtemp(f->dir))
		return es_error("mkdtemp: %s", strerror(errno));
	snprintf(f->idx, sizeof f->idx, "%s/ref.esi", f->dir);
	snprintf(f->fq, sizeof f->fq, "%s/reads.fq", f->dir);
	snprintf(f->sam, sizeof f->sam, "%s/aln.sam", f->dir);
	return 0;
}

static void files_remove(const demo_files_t *f)
{
	unlink(f->idx);
	unlink(f->fq);
	unlink(f->sam);
	rmdir(f->dir);
}

static int build_index(const demo_opt_t *o, const es_ref_t *ref, const char *idx, double t0)
{
	es_index_opt_t io;
	es_index_opt_init(&io);   /* the default index: the learned encoder */
	es_encoder_t *enc = es_encoder_open(io.encoder_spec);
	if (!enc)
		return -1;
	io.n_threads = o->threads;
	int64_t ist[2];
	int r = es_index_build(ref, enc, &io, idx, ist);
	es_encoder_destroy(enc);
	if (r < 0)
		return -1;
	printf("index    %lld windows, %.1f MB, %.1f s\n", (long long)ist[0], ist[1] / 1e6, es_time() - t0);
	return 0;
}

static int simulate(const demo_opt_t *o, const es_ref_t *ref, const char *fq_path)
{
	es_sim_opt_t so;
	es_sim_opt_init(&so);
	so.n_reads = o->n_reads;
	so.read_len = o->len;
	so.seed = (uint64_t)o->seed;
	so.err.sub = 0.01;
	so.err.ins = 0.0005;
	so.err.del = 0.0005;
	FILE *fq = fopen(fq_path, "w");
	if (!fq)
		return es_error("%s: cannot create", fq_path);
	int sr = es_sim_reads(ref, &so, fq);
	fclose(fq);
	if (sr < 0)
		return -1;
	printf("reads    %d x %d bp, 1%% substitutions, 0.1%% indels, both strands\n", o->n_reads, o->len);
	return 0;
}

static int align_and_eval(const demo_opt_t *o, const demo_files_t *f)
{
	es_map_opt_t mo;
	es_map_opt_init(&mo);
	mo.n_threads = o->threads;
	es_map_stats_t ms;
	if (es_map_file(f->idx, f->fq, f->sam, &mo, "esalign demo", &ms) < 0)
		return -1;
	double secs = ms.seconds > 0 ? ms.seconds : 1;
	printf("align    %.2f s, %.0f reads/s with %d threads\n\n", ms.seconds, ms.n_reads / secs, o->threads);
	es_eval_opt_t eo;
	es_eval_opt_init(&eo);
	es_eval_t ev;
	if (es_eval_sam(f->sam, NULL, &eo, &ev) < 0)
		return -1;
	es_eval_print(stdout, &ev, 0);
	return 0;
}

static int run(const demo_opt_t *o, const demo_files_t *f)
{
	double t0 = es_time();
	es_ref_t *ref = es_ref_load_fasta(o->fa);
	if (!ref)
		return -1;
	printf("genome   %s: %d contig(s), %lld bp\n", o->fa, ref->n_contig, (long long)ref->len);
	int r = build_index(o, ref, f->idx, t0);
	if (r == 0)
		r = simulate(o, ref, f->fq);
	es_ref_destroy(ref);
	return r < 0 ? -1 : align_and_eval(o, f);
}

int main_demo(int argc, char *argv[])
{
	demo_opt_t o = { 10000, 150, 2, 11, NULL };
	int p = parse(argc, argv, &o);
	if (p == 1)
		return usage(stdout, &o);
	if (p == 2)
		return usage(stderr, &o);
	if (p < 0)
		return es_cli_fail("demo");
	demo_files_t f;
	if (files_init(&f) < 0)
		return es_cli_fail("demo");
	int r = run(&o, &f);
	files_remove(&f);
	return r < 0 ? es_cli_fail("demo") : 0;
}
