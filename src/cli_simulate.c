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
#include <errno.h>

static void usage(FILE *fp)
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
	        "  -o FILE   output FASTQ, written atomically [stdout]\n",
	        (long long)d.n_reads, d.read_len, d.err.sub, d.err.ins + d.err.del, (unsigned long long)d.seed, d.max_n_frac);
}

/* strict number parsing: the whole argument must be a number in [lo,hi] */
static int parse_double(const char *s, double lo, double hi, double *v, char opt)
{
	char *e;
	errno = 0;
	*v = strtod(s, &e);
	if (e == s || *e || errno || *v < lo || *v > hi) return es_error("option -%c: '%s' is not a number in [%g,%g]", opt, s, lo, hi);
	return 0;
}
static int parse_int(const char *s, long long lo, long long hi, long long *v, char opt)
{
	char *e;
	errno = 0;
	*v = strtoll(s, &e, 10);
	if (e == s || *e || errno || *v < lo || *v > hi) return es_error("option -%c: '%s' is not an integer in [%lld,%lld]", opt, s, lo, hi);
	return 0;
}

int main_simulate(int argc, char *argv[])
{
	es_sim_opt_t opt;
	es_sim_opt_init(&opt);
	const char *out = "-";
	int c;
	double x;
	long long v;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "n:l:e:i:s:r:N:o:h")) >= 0) {
		switch (c) {
		case 'n': if (parse_int(optarg, 0, (long long)1e12, &v, 'n') < 0) return es_cli_fail("simulate"); opt.n_reads = v; break;
		case 'l': if (parse_int(optarg, 1, 1000000, &v, 'l') < 0) return es_cli_fail("simulate"); opt.read_len = (int)v; break;
		case 'e': if (parse_double(optarg, 0, 0.75, &x, 'e') < 0) return es_cli_fail("simulate"); opt.err.sub = x; break;
		case 'i': if (parse_double(optarg, 0, 0.5, &x, 'i') < 0) return es_cli_fail("simulate"); opt.err.ins = opt.err.del = x / 2; break;
		case 's': if (parse_int(optarg, 0, INT64_MAX, &v, 's') < 0) return es_cli_fail("simulate"); opt.seed = (uint64_t)v; break;
		case 'r': opt.region = optarg; break;
		case 'N': if (parse_double(optarg, 0, 1, &x, 'N') < 0) return es_cli_fail("simulate"); opt.max_n_frac = x; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "esalign simulate: unknown option or missing argument: -%c\n", optopt);
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) { usage(stderr); return 1; }
	double t0 = es_time();
	es_ref_t *ref = es_ref_load_fasta(argv[optind]);
	if (!ref) return es_cli_fail("simulate");
	es_ofile_t of;
	if (es_ofile_open(&of, out, "w") < 0) { es_ref_destroy(ref); return es_cli_fail("simulate"); }
	if (es_sim_reads(ref, &opt, of.fp) < 0) {
		char msg[1100];
		snprintf(msg, sizeof msg, "%s: %s", argv[optind], es_last_error());
		es_ofile_abort(&of);
		es_ref_destroy(ref);
		es_error("%s", msg);
		return es_cli_fail("simulate");
	}
	es_ref_destroy(ref);
	if (es_ofile_commit(&of) < 0) return es_cli_fail("simulate");
	es_log(2, "simulate", "%lld reads of %d bp in %.2f s", (long long)opt.n_reads, opt.read_len, es_time() - t0);
	return 0;
}
