/* cli_index.c — 'esalign index': build the vector store of a reference FASTA; 'esalign index --bench' measures
 * locus recall@K of approximate vs exact search and ms per read on reads simulated from an index's own reference. */
#include "cli.h"
#include "store.h"
#include "recall.h"
#include "thread.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

static const char *code_name(int kind)
{
	return kind == ES_CODE_PQ4 ? "pq4" : kind == ES_CODE_PQ6 ? "pq6" : "sign";
}

static void usage(FILE *fp)
{
	es_index_opt_t o;
	es_index_opt_init(&o);
	es_bench_opt_t b;
	es_bench_opt_init(&b);
	fprintf(fp,
		"Usage: esalign index [options] <ref.fa[.gz]>\n"
		"       esalign index --bench [options] <index>\n\n"
		"Build options:\n"
		"  -o PREFIX      write PREFIX%s [<ref.fa[.gz]>%s]\n"
		"  --encoder E    kmer | kmer:K:DIM | transformer | MODEL_FILE [%s]\n"
		"  -w INT         window length in bases; 0: 150 for kmer, 100 for a learned encoder [%d]\n"
		"  -s INT         window stride in bases; 0: 25 for kmer, 20 for a learned encoder [%d]\n"
		"  --codes KIND   pq6 / pq4 (product quantisation, 6 or 4 bits per subspace) or sign (sign bits) [%s]\n"
		"  --pq-m INT     pq: subspaces (even, divides the dimension) [%d]\n"
		"  --bits INT     sign: bits per window, 64..512, multiple of 64 [%d]\n"
		"  --code-step INT  codes for every INT-th window only; its neighbours are re-ranked with it;\n"
		"                 0: 2 for kmer, 1 for a learned encoder [%d]\n"
		"  --lists INT    pq6: inverted lists (a query scans the ones nearest to it); 0 none,\n"
		"                 -1: about one per 1,024 codes for a learned encoder, none for kmer [%d]\n"
		"  --list-groups INT  train and assign the lists in two levels through INT groups; 0 flat,\n"
		"                 -1: flat up to 4,096 lists, else about sqrt(lists) groups [%d]\n"
		"  --vec-bits INT  bits per dimension of the stored vectors (re-rank, exact search): 8, or 4 for\n"
		"                 half the bytes [%d]\n"
		"  --max-n FLOAT  skip windows with more than this fraction of N [%.2f]\n"
		"  -t INT         threads, 1..%d [%d]\n"
		"  -v INT         verbosity 0..3 [%d]\n",
		ES_INDEX_SUFFIX, ES_INDEX_SUFFIX, o.encoder_spec, o.w, o.stride, code_name(o.code_kind), o.pq_m,
		o.code_bits, o.code_step, o.ivf_lists, o.ivf_groups, o.vec_bits, o.max_n_frac, ES_MAX_THREADS, o.n_threads, es_verbose);
	fprintf(fp,
		"Bench options (reads simulated from the index's reference; recall = a locus overlaps the true origin):\n"
		"  -n INT         reads [%d]\n"
		"  -l INT         read length [%d]\n"
		"  -e FLOAT       substitution rate (indels a tenth) [%g]\n"
		"  -K INT         loci per read [%d]\n"
		"  --rerank INT   codes re-ranked exactly per query [384; 256 with lists]\n"
		"  --nprobe INT   lists scanned per query (index with lists) [sqrt(lists); fewer per chunk of a long read]\n"
		"  --probe-gap FLOAT  skip a query's lists scoring this far below its best, keeping 16; 0 none [0.15]\n"
		"  --probe-groups INT  rank the lists in two levels through INT groups; 0 every list;\n"
		"                 -1: every list up to 4,096 lists, else about sqrt(lists) groups [-1]\n"
		"  --exact        also run exact search and compare\n"
		"  --whole        one query per read, no chunks\n"
		"  --seed INT     [%llu]\n",
		b.n, b.len, b.sub, b.K, (unsigned long long)b.seed);
}

/* the parsed command line: build options, or with --bench the bench's */
typedef struct {
	es_index_opt_t opt;
	es_bench_opt_t bench;
	const char *prefix;   /* -o */
	int do_bench;
} index_args_t;

static const struct option lopts[] = {
	{ "encoder", required_argument, 0, 'E' }, { "bits", required_argument, 0, 'B' },
	{ "max-n", required_argument, 0, 'N' }, { "code-step", required_argument, 0, 'C' },
	{ "codes", required_argument, 0, 'k' }, { "pq-m", required_argument, 0, 'M' },
	{ "bench", no_argument, 0, 'b' }, { "exact", no_argument, 0, 'x' }, { "rerank", required_argument, 0, 'r' },
	{ "lists", required_argument, 0, 'L' }, { "nprobe", required_argument, 0, 'P' },
	{ "list-groups", required_argument, 0, 'G' }, { "probe-groups", required_argument, 0, 'Q' },
	{ "probe-gap", required_argument, 0, 'g' }, { "vec-bits", required_argument, 0, 'V' },
	{ "seed", required_argument, 0, 'S' }, { "whole", no_argument, 0, 'W' }, { "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 } };

static int parse_codes(es_index_opt_t *o, const char *arg)
{
	if (!strcmp(arg, "pq4")) o->code_kind = ES_CODE_PQ4;
	else if (!strcmp(arg, "pq6")) o->code_kind = ES_CODE_PQ6;
	else if (!strcmp(arg, "sign")) o->code_kind = ES_CODE_SIGN;
	else return es_error("--codes: expected pq6, pq4 or sign, got '%s'", arg);
	return 0;
}

/* One option. Returns 0, -1 with es_error set (a bad value), or 1 for an option it does not know. */
static int parse_opt(index_args_t *a, int c, const char *arg)
{
	es_index_opt_t *o = &a->opt;
	es_bench_opt_t *b = &a->bench;
	switch (c) {
	case 'o':
		a->prefix = arg;
		return 0;
	case 'E':
		o->encoder_spec = arg;
		return 0;
	case 'w': return es_opt_int("-w", arg, 0, 100000, &o->w);
	case 's': return es_opt_int("-s", arg, 0, 100000, &o->stride);
	case 't': return es_opt_int("-t", arg, 1, ES_MAX_THREADS, &o->n_threads);
	case 'v': return es_opt_int("-v", arg, 0, 3, &es_verbose);
	case 'B': return es_opt_int("--bits", arg, 64, 512, &o->code_bits);
	case 'C': return es_opt_int("--code-step", arg, 0, 64, &o->code_step);
	case 'M': return es_opt_int("--pq-m", arg, 2, 64, &o->pq_m);
	case 'k': return parse_codes(o, arg);
	case 'N': return es_opt_double("--max-n", arg, 0, 1, &o->max_n_frac);
	case 'L': return es_opt_int("--lists", arg, -1, 65536, &o->ivf_lists);
	case 'G': return es_opt_int("--list-groups", arg, -1, 65536, &o->ivf_groups);
	case 'V':
		if (strcmp(arg, "4") && strcmp(arg, "8"))
			return es_error("--vec-bits: expected 4 or 8, got '%s'", arg);
		o->vec_bits = atoi(arg);
		return 0;
	case 'b':
		a->do_bench = 1;
		return 0;
	case 'x':
		b->exact = 1;
		return 0;
	case 'W':
		b->whole = 1;
		return 0;
	case 'r': return es_opt_int("--rerank", arg, 1, 65536, &b->rerank);
	case 'P': return es_opt_int("--nprobe", arg, 1, 65536, &b->nprobe);
	case 'Q': return es_opt_int("--probe-groups", arg, -1, 65536, &b->probe_groups);
	case 'g': return es_opt_double("--probe-gap", arg, 0, 4, &b->probe_gap);
	case 'S': return es_opt_int64("--seed", arg, 0, 1000000000000000000LL, (int64_t *)&b->seed);
	case 'n': return es_opt_int("-n", arg, 1, 10000000, &b->n);
	case 'l': return es_opt_int("-l", arg, 16, 100000, &b->len);
	case 'K': return es_opt_int("-K", arg, 1, 1000, &b->K);
	case 'e': return es_opt_double("-e", arg, 0, 0.5, &b->sub);
	default: return 1;
	}
}

/* PREFIX.esi (a prefix that already ends in .esi is taken as the file name), malloc'ed */
static char *index_path(const char *base)
{
	size_t bl = strlen(base), sl = strlen(ES_INDEX_SUFFIX), pl = bl + sl + 1;
	int has_suffix = bl > sl && strcmp(base + bl - sl, ES_INDEX_SUFFIX) == 0;
	char *path = es_malloc(pl);
	snprintf(path, pl, "%s%s", base, has_suffix ? "" : ES_INDEX_SUFFIX);
	return path;
}

static int build(const char *fa, const char *prefix, const es_index_opt_t *opt)
{
	double t0 = es_time();
	es_encoder_t *enc = es_encoder_open(opt->encoder_spec);
	if (!enc) return es_cli_fail("index");
	es_log(2, "index", "reading %s", fa);
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref) {
		es_encoder_destroy(enc);
		return es_cli_fail("index");
	}
	es_log(2, "index", "%d contig(s), %lld bases, %lld N run(s) in %.1f s", ref->n_contig, (long long)ref->len,
	       (long long)ref->n_nrun, es_time() - t0);
	char *path = index_path(prefix ? prefix : fa);
	int64_t stats[2];
	int ret = es_index_build(ref, enc, opt, path, stats);
	if (ret == 0)
		es_log(1, "index", "wrote %s: %lld windows, %lld bytes, %.1f s, peak memory %.1f MiB", path,
		       (long long)stats[0], (long long)stats[1], es_time() - t0, es_peak_rss() / 1048576.0);
	free(path);
	es_ref_destroy(ref);
	es_encoder_destroy(enc);
	return ret == 0 ? 0 : es_cli_fail("index");
}

int main_index(int argc, char *argv[])
{
	index_args_t a = { .prefix = NULL, .do_bench = 0 };
	es_index_opt_init(&a.opt);
	a.opt.progress = 1;
	es_bench_opt_init(&a.bench);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:w:s:t:v:n:l:e:K:h", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		int r = parse_opt(&a, c, optarg);
		if (r < 0) return es_cli_fail("index");
		if (r > 0) {
			usage(stderr);
			return 1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 1;
	}
	if (a.do_bench) {
		a.bench.n_threads = a.opt.n_threads;
		return es_index_bench(argv[optind], &a.bench, stdout) < 0 ? es_cli_fail("index") : 0;
	}
	if (a.opt.w > 0 && a.opt.w < 16) {
		es_error("-w: expected an integer in 16..100000 (or 0: auto), got %d", a.opt.w);
		return es_cli_fail("index");
	}
	if (a.opt.w > 0 && a.opt.stride > a.opt.w) {
		es_error("stride %d exceeds the window length %d", a.opt.stride, a.opt.w);
		return es_cli_fail("index");
	}
	return build(argv[optind], a.prefix, &a.opt);
}
