/* cli_train.c — 'esalign train': train the learned encoder on a FASTA (see train.h), or with --recall measure any
 * encoder's held-out exact-search recall (the table in docs/encoder.md). */
#include "cli.h"
#include "train.h"
#include "model.h"
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
	"  -t INT             threads (deterministic for a given count) [%d]\n"
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
	o->warmup, o->max_sub, o->hard, o->hard_pool, o->hard_every, o->nthreads, (unsigned long long)o->seed,
	o->log_every, o->eval_every, o->eval_reads, o->ckpt_secs);
	return fp == stdout ? 0 : 1;
}

static int num(const char *s, double lo, double hi, double *out, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == 0 || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "esalign train: %s must be a number in %g..%g, not '%s'\n", what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}
#define INTOPT(field, lo, hi, name) do { double _v; if (num(optarg, lo, hi, &_v, name) < 0) return 1; field = (int)_v; } while (0)
#define DBLOPT(field, lo, hi, name) do { double _v; if (num(optarg, lo, hi, &_v, name) < 0) return 1; field = _v; } while (0)

static int run_recall(const char *spec, const char *fa, const char *region, es_recall_opt_t *ro)
{
	es_encoder_t *e = es_encoder_open(spec);
	if (!e) return es_cli_fail("train");
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref) { es_encoder_destroy(e); return es_cli_fail("train"); }
	int ret = 1;
	int64_t b, en;
	if (es_train_region(ref, region, &b, &en) == 0) {
		ro->beg = b; ro->end = en;
		double rec[ES_RECALL_MAX_SET][4], sp[ES_RECALL_MAX_SET + 1];
		double t0 = es_time();
		if (es_recall_eval(e, ref, ro, rec, sp) == 0) {
			for (int k = 0; k < ro->n_set; k++)
				printf("recall\tencoder=%s\tregion=%s\tW=%d\tstride=%d\tread_len=%d\tsub=%g\treads=%d\t@1=%.4f\t@4=%.4f\t@16=%.4f\t@64=%.4f\twindows_per_cpu_s=%.0f\treads_per_cpu_s=%.0f\tthreads=%d\tsecs=%.1f\n",
				       e->name, region, ro->W, ro->stride, ro->read_len[k], ro->sub[k], ro->n_reads, rec[k][0], rec[k][1], rec[k][2],
				       rec[k][3], sp[0], sp[1 + k], ro->nthreads, es_time() - t0);
			ret = 0;
		}
	}
	es_ref_destroy(ref);
	es_encoder_destroy(e);
	return ret ? es_cli_fail("train") : 0;
}

int main_train(int argc, char *argv[])
{
	es_train_opt_t o;
	es_train_opt_init(&o);
	const char *recall = NULL, *region = "X:35000000-45000000";
	es_recall_opt_t ro = { 0, 0, 250, 25, 1, {250}, {0.01}, 2000, 100, 1 };
	const char *lens_s = NULL, *subs_s = NULL;
	static const struct option lopts[] = {
		{ "resume", 1, NULL, 1 }, { "model", 1, NULL, 2 }, { "windows", 1, NULL, 3 }, { "train-region", 1, NULL, 4 },
		{ "eval-region", 1, NULL, 5 }, { "lr", 1, NULL, 6 }, { "wd", 1, NULL, 7 }, { "tau", 1, NULL, 8 },
		{ "clip", 1, NULL, 9 }, { "warmup", 1, NULL, 10 }, { "max-sub", 1, NULL, 11 }, { "hard", 1, NULL, 12 },
		{ "hard-pool", 1, NULL, 13 }, { "hard-every", 1, NULL, 14 }, { "log-every", 1, NULL, 15 },
		{ "eval-every", 1, NULL, 16 }, { "eval-reads", 1, NULL, 17 }, { "ckpt-secs", 1, NULL, 18 },
		{ "max-secs", 1, NULL, 19 }, { "recall", 1, NULL, 20 }, { "region", 1, NULL, 21 }, { "W", 1, NULL, 22 },
		{ "stride", 1, NULL, 23 }, { "read-len", 1, NULL, 24 }, { "sub", 1, NULL, 25 }, { "reads", 1, NULL, 26 },
		{ "seed", 1, NULL, 27 }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "o:b:n:t:s:v:h", lopts, NULL)) >= 0) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'b': INTOPT(o.batch, 2, 65536, "-b"); break;
		case 'n': { double v; if (num(optarg, 1, 1e12, &v, "-n") < 0) return 1; o.steps = (int64_t)v; break; }
		case 't': INTOPT(o.nthreads, 1, 256, "-t"); ro.nthreads = o.nthreads; break;
		case 's': { double v; if (num(optarg, 0, 1e18, &v, "-s") < 0) return 1; o.seed = (uint64_t)v; break; }
		case 'v': INTOPT(es_verbose, 0, 3, "-v"); break;
		case 1: o.resume = optarg; break;
		case 2: if (es_model_cfg_parse(&o.cfg, optarg) < 0 || es_model_cfg_check(&o.cfg) < 0) return es_cli_fail("train"); break;
		case 3: {
			o.n_windows = 0;
			for (char *p = optarg; *p && o.n_windows < 4; ) {
				long v = strtol(p, &p, 10);
				if (v < 20 || v > 100000) { fprintf(stderr, "esalign train: --windows wants lengths in 20..100000, not '%s'\n", optarg); return 1; }
				o.windows[o.n_windows++] = (int)v;
				if (*p == ',') p++; else if (*p) { fprintf(stderr, "esalign train: bad --windows '%s'\n", optarg); return 1; }
			}
			if (o.n_windows == 0) { fprintf(stderr, "esalign train: empty --windows\n"); return 1; }
			break;
		}
		case 4: o.train_region = optarg; break;
		case 5: o.eval_region = optarg; break;
		case 6: DBLOPT(o.lr, 0, 1, "--lr"); break;
		case 7: DBLOPT(o.wd, 0, 10, "--wd"); break;
		case 8: DBLOPT(o.tau, 1e-4, 10, "--tau"); break;
		case 9: DBLOPT(o.clip, 0, 1e9, "--clip"); break;
		case 10: INTOPT(o.warmup, 1, 1e9, "--warmup"); break;
		case 11: DBLOPT(o.max_sub, 0, 0.5, "--max-sub"); break;
		case 12: INTOPT(o.hard, 0, 65536, "--hard"); break;
		case 13: INTOPT(o.hard_pool, 1, 1 << 24, "--hard-pool"); break;
		case 14: INTOPT(o.hard_every, 1, 1e9, "--hard-every"); break;
		case 15: INTOPT(o.log_every, 1, 1e9, "--log-every"); break;
		case 16: INTOPT(o.eval_every, 0, 1e9, "--eval-every"); break;
		case 17: INTOPT(o.eval_reads, 1, 1e7, "--eval-reads"); break;
		case 18: DBLOPT(o.ckpt_secs, 0, 1e9, "--ckpt-secs"); break;
		case 19: DBLOPT(o.max_secs, 0, 1e9, "--max-secs"); break;
		case 20: recall = optarg; break;
		case 21: region = optarg; break;
		case 22: INTOPT(ro.W, 10, 100000, "--W"); break;
		case 23: INTOPT(ro.stride, 1, 100000, "--stride"); break;
		case 24: lens_s = optarg; break;
		case 25: subs_s = optarg; break;
		case 26: INTOPT(ro.n_reads, 1, 1e7, "--reads"); break;
		case 27: { double v; if (num(optarg, 0, 1e18, &v, "--seed") < 0) return 1; ro.seed = (uint64_t)v; break; }
		case 'h': return usage(stdout, &o);
		default: return usage(stderr, &o);
		}
	}
	if (argc - optind != 1) return usage(stderr, &o);
	if (recall && (lens_s || subs_s)) {
		/* --read-len and --sub are comma-separated lists of the same length (or one of them a single value) */
		int nl = 0, ns = 0, L[ES_RECALL_MAX_SET];
		double S[ES_RECALL_MAX_SET];
		char *p = (char *)(lens_s ? lens_s : "250");
		while (*p && nl < ES_RECALL_MAX_SET) { double v = strtod(p, &p); if (v < 10 || v > 100000) break; L[nl++] = (int)v; if (*p == ',') p++; else break; }
		if (*p) { fprintf(stderr, "esalign train: bad --read-len '%s'\n", lens_s); return 1; }
		p = (char *)(subs_s ? subs_s : "0.01");
		while (*p && ns < ES_RECALL_MAX_SET) { double v = strtod(p, &p); if (v < 0 || v > 0.5) break; S[ns++] = v; if (*p == ',') p++; else break; }
		if (*p) { fprintf(stderr, "esalign train: bad --sub '%s'\n", subs_s); return 1; }
		if (nl != ns && nl != 1 && ns != 1) { fprintf(stderr, "esalign train: --read-len and --sub lists differ in length\n"); return 1; }
		ro.n_set = nl > ns ? nl : ns;
		for (int k = 0; k < ro.n_set; k++) { ro.read_len[k] = L[nl == 1 ? 0 : k]; ro.sub[k] = S[ns == 1 ? 0 : k]; }
	}
	if (recall) return run_recall(recall, argv[optind], region, &ro);
	o.ref_fn = argv[optind];
	if (es_train_run(&o) < 0) return es_cli_fail("train");
	return 0;
}
