/* cli_train.c — 'esalign train': train the learned encoder on a FASTA (see train.h), or with --recall measure any
 * encoder's held-out exact-search recall (the table in docs/encoder.md). */
#include "cli.h"
#include "train.h"
#include "model.h"
#include "region.h"
#include "thread.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *fp, const es_train_opt_t *o)
{
	char cfg[256];
	es_model_cfg_str(&o->cfg, cfg, sizeof cfg);
	fprintf(fp,
	"Usage: esalign train [options] ref.fa[.gz]\n"
	"       esalign train --recall ENCODER [recall options] ref.fa[.gz]\n"
	"Train the learned DNA encoder with in-batch InfoNCE on (window, simulated read) pairs from ref.fa; writes\n"
	"PREFIX.model (the encoder, usable as --encoder PREFIX.model) and PREFIX.state (optimizer, for --resume).\n\n"
	"Training options:\n"
	"  -o PREFIX          output prefix [%s]\n"
	"  --resume PREFIX    continue from PREFIX.model and PREFIX.state (same data and options)\n"
	"  --model CFG        architecture, key=value,... of k1,d0,nconv,k2,s2,d,blocks,heads,D,act (0 relu, 1 gelu)\n"
	"                     [%s]\n"
	"  --windows LIST     window lengths sampled per pair, comma-separated [250]\n"
	"  --train-region R   CONTIG or CONTIG:BEG-END, 0-based half-open [%s]\n"
	"  --eval-region R    held-out region for the progress recall [%s]\n"
	"  -b INT             pairs per step [%d]\n"
	"  -n INT             total steps (including resumed ones) [%lld]\n"
	"  --lr FLOAT         peak learning rate (AdamW; warmup, then cosine to 10%%) [%g]\n"
	"  --wd FLOAT         weight decay [%g]\n"
	"  --tau FLOAT        InfoNCE temperature [%g]\n"
	"  --clip FLOAT       gradient norm clip [%g]\n"
	"  --warmup INT       warmup steps [%d]\n"
	"  --max-sub FLOAT    read substitution rate ~ U(0,max); indels at a tenth [%g]\n"
	"  --hard INT         hard negatives per step, mined from a pool ranked by the model [%d]\n"
	"  --hard-pool INT    pool size [%d];  --hard-every INT  pool refresh period in steps [%d]\n"
	"  -t INT             threads, 1..%d (deterministic for a given count) [%d]\n"
	"  -s INT             seed [%llu]\n"
	"  --log-every INT    progress line period in steps [%d]\n"
	"  --eval-every INT   held-out recall period in steps, 0 never [%d]\n"
	"  --eval-reads INT   reads in the progress recall [%d]\n"
	"  --ckpt-secs FLOAT  checkpoint period in seconds [%g]\n"
	"  --max-secs FLOAT   stop (with a checkpoint) after this many seconds, 0 no limit [0]\n\n"
	"Recall options (with --recall kmer|kmer:K:D|transformer|MODEL):\n"
	"  --region R         windows and reads come from R [X:35000000-45000000]\n"
	"  --W INT --stride INT   windows [250, 25]\n"
	"  --read-len LIST --sub LIST   read settings, comma-separated, paired up (one value applies to all) [250, 0.01]\n"
	"  --reads INT --seed INT       reads per setting, seed [2000, 100]; indels at sub/10\n",
	o->out, cfg, o->train_region, o->eval_region, o->batch, (long long)o->steps, o->lr, o->wd, o->tau, o->clip,
	o->warmup, o->max_sub, o->hard, o->hard_pool, o->hard_every, ES_MAX_THREADS, o->nthreads, (unsigned long long)o->seed,
	o->log_every, o->eval_every, o->eval_reads, o->ckpt_secs);
	return fp == stdout ? 0 : 1;
}

/* the parsed command line: training options, or with recall the encoder to measure and its settings */
typedef struct {
	es_train_opt_t o;
	const char *recall, *region;      /* --recall ENCODER, --region R */
	es_recall_opt_t ro;
	int lens[ES_RECALL_MAX_SET], n_lens;      /* --read-len */
	double subs[ES_RECALL_MAX_SET];           /* --sub */
	int n_subs;
} train_args_t;

static const struct option lopts[] = {
	{ "resume", 1, NULL, 1 }, { "model", 1, NULL, 2 }, { "windows", 1, NULL, 3 }, { "train-region", 1, NULL, 4 },
	{ "eval-region", 1, NULL, 5 }, { "lr", 1, NULL, 6 }, { "wd", 1, NULL, 7 }, { "tau", 1, NULL, 8 },
	{ "clip", 1, NULL, 9 }, { "warmup", 1, NULL, 10 }, { "max-sub", 1, NULL, 11 }, { "hard", 1, NULL, 12 },
	{ "hard-pool", 1, NULL, 13 }, { "hard-every", 1, NULL, 14 }, { "log-every", 1, NULL, 15 },
	{ "eval-every", 1, NULL, 16 }, { "eval-reads", 1, NULL, 17 }, { "ckpt-secs", 1, NULL, 18 },
	{ "max-secs", 1, NULL, 19 }, { "recall", 1, NULL, 20 }, { "region", 1, NULL, 21 }, { "W", 1, NULL, 22 },
	{ "stride", 1, NULL, 23 }, { "read-len", 1, NULL, 24 }, { "sub", 1, NULL, 25 }, { "reads", 1, NULL, 26 },
	{ "seed", 1, NULL, 27 }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };

#define BIG 1000000000   /* the upper bound of step and period counts */

/* One option. Returns 0, -1 with es_error set (a bad value), or 1 for an option it does not know. */
static int parse_opt(train_args_t *a, int c, const char *arg)
{
	es_train_opt_t *o = &a->o;
	es_recall_opt_t *ro = &a->ro;
	switch (c) {
	case 'o':
		o->out = arg;
		return 0;
	case 'b': return es_opt_int("-b", arg, 2, 65536, &o->batch);
	case 'n': return es_opt_int64("-n", arg, 1, 1000000000000LL, &o->steps);
	case 't': return es_opt_int("-t", arg, 1, ES_MAX_THREADS, &o->nthreads);
	case 's': return es_opt_int64("-s", arg, 0, 1000000000000000000LL, (int64_t *)&o->seed);
	case 'v': return es_opt_int("-v", arg, 0, 3, &es_verbose);
	case 1:
		o->resume = arg;
		return 0;
	case 2: return es_model_cfg_parse(&o->cfg, arg) < 0 ? -1 : es_model_cfg_check(&o->cfg);
	case 3: return es_opt_int_list("--windows", arg, 20, 100000, 4, o->windows, &o->n_windows);
	case 4:
		o->train_region = arg;
		return 0;
	case 5:
		o->eval_region = arg;
		return 0;
	case 6: return es_opt_double("--lr", arg, 0, 1, &o->lr);
	case 7: return es_opt_double("--wd", arg, 0, 10, &o->wd);
	case 8: return es_opt_double("--tau", arg, 1e-4, 10, &o->tau);
	case 9: return es_opt_double("--clip", arg, 0, 1e9, &o->clip);
	case 10: return es_opt_int("--warmup", arg, 1, BIG, &o->warmup);
	case 11: return es_opt_double("--max-sub", arg, 0, 0.5, &o->max_sub);
	case 12: return es_opt_int("--hard", arg, 0, 65536, &o->hard);
	case 13: return es_opt_int("--hard-pool", arg, 1, 1 << 24, &o->hard_pool);
	case 14: return es_opt_int("--hard-every", arg, 1, BIG, &o->hard_every);
	case 15: return es_opt_int("--log-every", arg, 1, BIG, &o->log_every);
	case 16: return es_opt_int("--eval-every", arg, 0, BIG, &o->eval_every);
	case 17: return es_opt_int("--eval-reads", arg, 1, 10000000, &o->eval_reads);
	case 18: return es_opt_double("--ckpt-secs", arg, 0, 1e9, &o->ckpt_secs);
	case 19: return es_opt_double("--max-secs", arg, 0, 1e9, &o->max_secs);
	case 20:
		a->recall = arg;
		return 0;
	case 21:
		a->region = arg;
		return 0;
	case 22: return es_opt_int("--W", arg, 10, 100000, &ro->W);
	case 23: return es_opt_int("--stride", arg, 1, 100000, &ro->stride);
	case 24: return es_opt_int_list("--read-len", arg, 10, 100000, ES_RECALL_MAX_SET, a->lens, &a->n_lens);
	case 25: return es_opt_double_list("--sub", arg, 0, 0.5, ES_RECALL_MAX_SET, a->subs, &a->n_subs);
	case 26: return es_opt_int("--reads", arg, 1, 10000000, &ro->n_reads);
	case 27: return es_opt_int64("--seed", arg, 0, 1000000000000000000LL, (int64_t *)&ro->seed);
	default: return 1;
	}
}

/* --read-len and --sub pair up element by element; a single value applies to every setting */
static int pair_settings(train_args_t *a)
{
	int nl = a->n_lens, ns = a->n_subs;
	if (nl != ns && nl != 1 && ns != 1)
		return es_error("--read-len has %d values and --sub %d: give as many, or one of them a single value", nl, ns);
	a->ro.n_set = nl > ns ? nl : ns;
	for (int k = 0; k < a->ro.n_set; k++) {
		a->ro.read_len[k] = a->lens[nl == 1 ? 0 : k];
		a->ro.sub[k] = a->subs[ns == 1 ? 0 : k];
	}
	return 0;
}

static void print_recall(const es_encoder_t *e, const char *region, const es_recall_opt_t *ro, double (*rec)[4],
                         const double *sp, double secs)
{
	for (int k = 0; k < ro->n_set; k++) {
		printf("recall\tencoder=%s\tregion=%s\tW=%d\tstride=%d\tread_len=%d\tsub=%g\treads=%d\t", es_encoder_name(e),
		       region, ro->W, ro->stride, ro->read_len[k], ro->sub[k], ro->n_reads);
		printf("@1=%.4f\t@4=%.4f\t@16=%.4f\t@64=%.4f\twindows_per_cpu_s=%.0f\treads_per_cpu_s=%.0f\tthreads=%d\tsecs=%.1f\n",
		       rec[k][0], rec[k][1], rec[k][2], rec[k][3], sp[0], sp[1 + k], ro->nthreads, secs);
	}
}

static int run_recall(const char *spec, const char *fa, const char *region, es_recall_opt_t *ro)
{
	es_encoder_t *e = es_encoder_open(spec);
	if (!e) return es_cli_fail("train");
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref) {
		es_encoder_destroy(e);
		return es_cli_fail("train");
	}
	int ret = 1;
	double rec[ES_RECALL_MAX_SET][4], sp[ES_RECALL_MAX_SET + 1];
	double t0 = es_time();
	if (es_ref_region(ref, region, &ro->beg, &ro->end) == 0 && es_recall_eval(e, ref, ro, rec, sp) == 0) {
		print_recall(e, region, ro, rec, sp, es_time() - t0);
		ret = 0;
	}
	es_ref_destroy(ref);
	es_encoder_destroy(e);
	return ret ? es_cli_fail("train") : 0;
}

int main_train(int argc, char *argv[])
{
	train_args_t a = { .region = "X:35000000-45000000", .lens = { 250 }, .n_lens = 1, .subs = { 0.01 }, .n_subs = 1 };
	es_train_opt_init(&a.o);
	es_recall_opt_t ro = { 0, 0, 250, 25, 1, { 250 }, { 0.01 }, 2000, 100, 1 };
	a.ro = ro;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:b:n:t:s:v:h", lopts, NULL)) >= 0) {
		if (c == 'h') return usage(stdout, &a.o);
		int r = parse_opt(&a, c, optarg);
		if (r < 0) return es_cli_fail("train");
		if (r > 0) return usage(stderr, &a.o);
	}
	if (argc - optind != 1) return usage(stderr, &a.o);
	a.ro.nthreads = a.o.nthreads;
	if (a.recall) {
		if (pair_settings(&a) < 0) return es_cli_fail("train");
		return run_recall(a.recall, argv[optind], a.region, &a.ro);
	}
	a.o.ref_fn = argv[optind];
	if (es_train_run(&a.o) < 0) return es_cli_fail("train");
	return 0;
}
