/* cli_simulate.c — 'esalign simulate': reads with substitutions and indels drawn uniformly from a reference FASTA,
 * their true origin in the read name (s<ID>!<CONTIG>!<POS>!<STRAND>, POS 0-based), written as FASTQ. */
#include "cli.h"
#include "simulate.h"
#include "seqio.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>

static int usage(FILE *fp)
{
	es_sim_opt_t d;
	es_sim_opt_init(&d);
	fprintf(fp,
	        "Usage: esalign simulate [options] <ref.fa[.gz]>\n\n"
	        "Simulate single-end reads; each read name is s<ID>!<CONTIG>!<POS>!<STRAND> with POS the 0-based leftmost\n"
	        "reference position of the read's alignment (either strand). Output is FASTQ.\n\n"
	        "Options:\n"
	        "  -n INT    number of reads [%lld]\n"
	        "  -l INT    read length [%d]\n"
	        "  -e FLOAT  substitution rate per base [%g]\n"
	        "  -i FLOAT  indel rate per base, half insertions and half deletions; mean indel length 1.5 [%g]\n"
	        "  -s INT    random seed; the same seed gives the same reads [%llu]\n"
	        "  -r STR    region CONTIG or CONTIG:BEG-END, 0-based half-open [whole reference]\n"
	        "  -N FLOAT  largest fraction of N in a read's reference span [%g]\n"
	        "  -o FILE   output FASTQ, written atomically [stdout]\n"
	        "  -h, --help  print this help\n",
	        (long long)d.n_reads, d.read_len, d.err.sub, d.err.ins + d.err.del, (unsigned long long)d.seed,
	        d.max_n_frac);
	return fp == stdout ? 0 : 1;
}

/* One option into opt: 0 ok, -1 with es_error set. */
static int set_opt(es_sim_opt_t *opt, int c, const char *arg, const char **out)
{
	double x;
	int64_t seed;
	switch (c) {
	case 'n':
		return es_opt_int64("-n", arg, 0, 1000000000000LL, &opt->n_reads);
	case 'l':
		return es_opt_int("-l", arg, 1, 1000000, &opt->read_len);
	case 'e':
		return es_opt_double("-e", arg, 0, 0.75, &opt->err.sub);
	case 'i':
		if (es_opt_double("-i", arg, 0, 0.5, &x) < 0)
			return -1;
		opt->err.ins = x / 2;
		opt->err.del = x / 2;
		return 0;
	case 's':
		if (es_opt_int64("-s", arg, 0, INT64_MAX, &seed) < 0)
			return -1;
		opt->seed = (uint64_t)seed;
		return 0;
	case 'r':
		opt->region = arg;
		return 0;
	case 'N':
		return es_opt_double("-N", arg, 0, 1, &opt->max_n_frac);
	case 'o':
		*out = arg;
		return 0;
	default:
		return es_error("option code %d has no handler", c);
	}
}

/* Simulate into out, atomically: 0 ok, -1 with es_error set (naming the reference). */
static int simulate(const char *fa, const char *out, const es_sim_opt_t *opt)
{
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref)
		return -1;
	es_ofile_t of;
	if (es_ofile_open(&of, out, "w") < 0) {
		es_ref_destroy(ref);
		return -1;
	}
	if (es_sim_reads(ref, opt, of.fp) < 0) {
		char msg[1100];
		if (ferror(of.fp))   /* the output failed, not the reference */
			snprintf(msg, sizeof msg, "%s: write failed: %s", strcmp(out, "-") ? out : "stdout", es_last_error());
		else
			snprintf(msg, sizeof msg, "%s: %s", fa, es_last_error());
		es_ofile_abort(&of);
		es_ref_destroy(ref);
		return es_error("%s", msg);
	}
	es_ref_destroy(ref);
	return es_ofile_commit(&of);
}

int main_simulate(int argc, char *argv[])
{
	static const struct option lopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	es_sim_opt_t opt;
	es_sim_opt_init(&opt);
	const char *out = "-";
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:l:e:i:s:r:N:o:h", lopts, NULL)) >= 0) {
		if (c == 'h')
			return usage(stdout);
		if (c == '?' || c == ':') {
			fprintf(stderr, "esalign simulate: unknown option or missing argument: %s\n", argv[optind - 1]);
			return usage(stderr);
		}
		if (set_opt(&opt, c, optarg, &out) < 0)
			return es_cli_fail("simulate");
	}
	if (optind != argc - 1)
		return usage(stderr);
	double t0 = es_time();
	if (simulate(argv[optind], out, &opt) < 0)
		return es_cli_fail("simulate");
	es_log(2, "simulate", "%lld reads of %d bp in %.2f s", (long long)opt.n_reads, opt.read_len, es_time() - t0);
	return 0;
}
