/* cli_align.c — 'esalign align': options to es_map_opt_t, then es_map_file(). */
#include "cli.h"
#include "map.h"
#include "thread.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *fp, const es_map_opt_t *o)
{
	fprintf(fp,
	"Usage: esalign align [options] INDEX reads.fq[.gz]|- [mates.fq[.gz]]\n"
	"Align reads to an index built by 'esalign index' (INDEX: the .esi file, or the reference it was built from);\n"
	"single-end, or paired-end from two files (mate i of each is a pair) or one interleaved file (-p).\n"
	"SAM to stdout (or BAM with -o x.bam).\n\n"
	"Options:\n"
	"  -o FILE         output SAM, or BAM if FILE ends in .bam [stdout]\n"
	"  -t INT          threads, 1..%d [%d]\n"
	"  -K INT          candidate loci retrieved per read [%d]\n"
	"  -A INT          at most this many loci verified by alignment per read [%d]\n"
	"  -T INT          minimum alignment score to report a read as mapped [%d]\n"
	"  -R STR          read group header line, e.g. '@RG\\tID:x\\tSM:y' (RG:Z on every record) [none]\n"
	"  -p              paired-end, interleaved: mate 1 and mate 2 alternate in the one reads file\n"
	"  -I MEAN[,SD[,MAX[,MIN]]]  paired-end insert size (FR) [estimated from the first batch of pairs]\n"
	"  --secondary INT output up to INT secondary alignments (FLAG 0x100) [%d]\n"
	"  --exact         exact (brute-force) vector search instead of the approximate index (slow; for checks)\n"
	"  --nprobe INT    inverted lists scanned per query, for an index that has them [4 sqrt(lists)]\n"
	"  --encoder SPEC  encoder to embed reads with; must be the index's [the index's]\n"
	"  -v INT          verbosity: 0 quiet, 1 warnings, 2 info, 3 debug [%d]\n"
	"  -h, --help      print this help\n",
	ES_MAX_THREADS, o->n_threads, o->max_loci, o->max_align, o->min_score, o->n_secondary, es_verbose);
	return fp == stdout ? 0 : 1;
}

enum { OPT_SECONDARY = 1, OPT_EXACT, OPT_ENCODER, OPT_NPROBE, OPT_MAPQ_FEATURES };

/* One option into o: 0 ok, -1 with es_error set. */
static int set_opt(es_map_opt_t *o, int c, const char *arg, const char **out)
{
	switch (c) {
	case 'o':
		*out = arg;
		return 0;
	case 't':
		return es_opt_int("-t", arg, 1, ES_MAX_THREADS, &o->n_threads);
	case 'K':
		return es_opt_int("-K", arg, 1, 256, &o->max_loci);
	case 'A':
		return es_opt_int("-A", arg, 1, 256, &o->max_align);
	case 'T':
		return es_opt_int("-T", arg, 0, 100000, &o->min_score);
	case 'R':
		o->rg_line = arg;
		return 0;
	case 'p':
		o->interleaved = 1;
		return 0;
	case 'I':
		o->insert_arg = arg;
		return 0;
	case 'v':
		return es_opt_int("-v", arg, 0, 3, &es_verbose);
	case OPT_SECONDARY:
		return es_opt_int("--secondary", arg, 0, 100, &o->n_secondary);
	case OPT_EXACT:
		o->exact = 1;
		return 0;
	case OPT_ENCODER:
		o->encoder_spec = arg;
		return 0;
	case OPT_NPROBE:
		return es_opt_int("--nprobe", arg, 1, 65536, &o->nprobe);
	case OPT_MAPQ_FEATURES:
		o->mapq_features = 1;
		return 0;
	default:
		return es_error("option code %d has no handler", c);
	}
}

int main_align(int argc, char *argv[])
{
	es_map_opt_t o;
	es_map_opt_init(&o);
	const char *out = "-";
	static const struct option lopts[] = {
		{ "secondary", required_argument, NULL, OPT_SECONDARY },
		{ "exact", no_argument, NULL, OPT_EXACT },
		{ "encoder", required_argument, NULL, OPT_ENCODER },
		{ "nprobe", required_argument, NULL, OPT_NPROBE },
		{ "mapq-features", no_argument, NULL, OPT_MAPQ_FEATURES },   /* hidden: XF:Z tags for scripts/fit-mapq.sh */
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "o:t:K:A:T:R:v:hpI:", lopts, NULL)) >= 0) {
		if (c == 'h')
			return usage(stdout, &o);
		if (c == '?' || c == ':')
			return usage(stderr, &o);
		if (set_opt(&o, c, optarg, &out) < 0)
			return es_cli_fail("align");
	}
	if (argc - optind != 2 && argc - optind != 3)
		return usage(stderr, &o);
	if (argc - optind == 3)
		o.mate_path = argv[optind + 2];
	char *cl = es_cli_cmdline();
	es_map_stats_t st;
	int ret = es_map_file(argv[optind], argv[optind + 1], out, &o, cl, &st);
	free(cl);
	if (ret < 0)
		return es_cli_fail("align");
	double rate = st.seconds > 0 ? st.n_reads / st.seconds : 0.0;
	es_log(2, "align", "%lld reads, %lld mapped, %.2f s, %.0f reads/s, peak memory %.1f MB", (long long)st.n_reads,
	       (long long)st.n_mapped, st.seconds, rate, es_peak_rss() / 1048576.0);
	return 0;
}
