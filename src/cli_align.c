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
	"  -B INT          mismatch penalty [%d]\n"
	"  -O INT          gap open penalty (a gap of length L costs O + L*E) [%d]\n"
	"  -E INT          gap extension penalty [%d]\n"
	"  -x STR          preset, applied before the other options whatever its place [none]:\n"
	"                    divergent: reads of a sample 5-20%% diverged from the reference (-B 2 -O 4 -E 1 -K 32\n"
	"                    -A 32; README: when to use it)\n"
	"  -R STR          read group header line, e.g. '@RG\\tID:x\\tSM:y' (RG:Z on every record) [none]\n"
	"  -p              paired-end, interleaved: mate 1 and mate 2 alternate in the one reads file\n"
	"  -I MEAN[,SD[,MAX[,MIN]]]  paired-end insert size (FR) [estimated from the first batch of pairs]\n"
	"  --secondary INT output up to INT secondary alignments (FLAG 0x100) [%d]\n"
	"  --exact         exact (brute-force) vector search instead of the approximate index (slow; for checks)\n"
	"  --nprobe INT    inverted lists scanned per query of a one-query read, for an index that has them\n"
	"                  (a read of several chunks scans fewer per chunk) [sqrt(lists)]\n"
	"  --encoder SPEC  encoder to embed reads with; must be the index's [the index's]\n"
	"  --last-look INT single-end: a read placed at this MAPQ or lower, or left unmapped, is searched again\n"
	"                  for W x the loci and verified with W x the alignments; the better one is kept; -1: never [%d]\n"
	"  --look-widen INT W of the last look, 1..16 (16 cost 1.44x the CPU of 4 at 1 Gb, 150 bp reads);\n"
	"                  0: by the index, 4 up to 3 M windows (70 Mb), 16 from 12 M on (0.25 Gb) [0]\n"
	"  --no-lowc-seeds low-complexity reads (microsatellites) get no loci from the exact seeds of the\n"
	"                  reference's low-complexity stretches, only the vector search's (for comparison)\n"
	"  -v INT          verbosity: 0 quiet, 1 warnings, 2 info, 3 debug [%d]\n"
	"  -h, --help      print this help\n",
	ES_MAX_THREADS, o->n_threads, o->max_loci, o->max_align, o->min_score, o->sc.mismatch, o->sc.gap_open,
	o->sc.gap_ext, o->n_secondary, o->look_mapq, es_verbose);
	return fp == stdout ? 0 : 1;
}

enum { OPT_SECONDARY = 1, OPT_EXACT, OPT_ENCODER, OPT_NPROBE, OPT_MAPQ_FEATURES, OPT_LOOK, OPT_LOOK_WIDEN, OPT_NO_LOWC };

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
	case 'B':
		return es_opt_int("-B", arg, 0, 1000, &o->sc.mismatch);
	case 'O':
		return es_opt_int("-O", arg, 0, 1000, &o->sc.gap_open);
	case 'E':
		return es_opt_int("-E", arg, 1, 1000, &o->sc.gap_ext);
	case 'x':
		return 0;   /* applied by apply_preset before the other options */
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
	case OPT_LOOK:
		return es_opt_int("--last-look", arg, -1, 60, &o->look_mapq);
	case OPT_LOOK_WIDEN:
		return es_opt_int("--look-widen", arg, 0, 16, &o->look_widen);
	case OPT_NO_LOWC:
		o->no_lowc = 1;
		return 0;
	default:
		return es_error("option code %d has no handler", c);
	}
}

/* -x NAME: the preset's values into o, before every other option so that those override it (bwa mem -x, minimap2
 * -x). The divergent preset's values were chosen by measurement (docs/pipeline.md, "Divergent samples"). */
static int apply_preset(es_map_opt_t *o, int argc, char *argv[], const char *optstr, const struct option *lopts)
{
	/* a first getopt pass finds -x as the real pass reads the line ("-o -x" is an output named -x); it reports
	 * nothing, the real pass reports bad options, and optind = 0 makes GNU getopt start that pass afresh */
	const char *name = NULL;
	int c, err = opterr;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstr, lopts, NULL)) >= 0)
		if (c == 'x')
			name = optarg;
	opterr = err;
	optind = 0;
	if (!name)
		return 0;
	if (strcmp(name, "divergent") != 0)
		return es_error("-x: unknown preset '%s' (known: divergent)", name);
	o->sc.mismatch = 2;
	o->sc.gap_open = 4;
	o->sc.gap_ext = 1;
	o->max_loci = 32;
	o->max_align = 32;
	return 0;
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
		{ "last-look", required_argument, NULL, OPT_LOOK },
		{ "look-widen", required_argument, NULL, OPT_LOOK_WIDEN },
		{ "no-lowc-seeds", no_argument, NULL, OPT_NO_LOWC },
		{ "mapq-features", no_argument, NULL, OPT_MAPQ_FEATURES },   /* hidden: XF:Z tags for scripts/fit-mapq.sh */
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char optstr[] = "o:t:K:A:T:R:v:hpI:B:O:E:x:";
	if (apply_preset(&o, argc, argv, optstr, lopts) < 0)
		return es_cli_fail("align");
	int c;
	while ((c = getopt_long(argc, argv, optstr, lopts, NULL)) >= 0) {
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
	if (st.n_low > 0)
		es_log(2, "align", "deeper search: %lld reads of low score, %lld of them in full (the others aligned >= 80%% "
		       "at their first loci: a light one)", (long long)st.n_low, (long long)st.n_deep);
	if (st.n_looked > 0)
		es_log(2, "align", "last look: %lld reads (MAPQ <= %d or unmapped), %lld of them aligned better",
		       (long long)st.n_looked, o.look_mapq, (long long)st.n_look_better);
	double us = st.n_reads > 0 ? 1e6 / st.n_reads : 0;
	const double *sc = st.stage_cpu;
	es_log(2, "align", "CPU per read (us, all threads): parse %.1f, embed %.1f, search %.1f, verify %.1f, format %.1f",
	       sc[ES_STAGE_PARSE] * us, sc[ES_STAGE_EMBED] * us, sc[ES_STAGE_SEARCH] * us, sc[ES_STAGE_VERIFY] * us,
	       sc[ES_STAGE_FORMAT] * us);
	return 0;
}
