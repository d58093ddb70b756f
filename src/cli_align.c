/* cli_align.c — 'esalign align': options to es_map_opt_t, then es_map_file(). */
#include "cli.h"
#include "map.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *fp, const es_map_opt_t *o)
{
	fprintf(fp,
	"Usage: esalign align [options] INDEX reads.fq[.gz]|-\n"
	"Align single-end reads to an index built by 'esalign index'; SAM to stdout (or BAM with -o x.bam).\n\n"
	"Options:\n"
	"  -o FILE         output SAM, or BAM if FILE ends in .bam [stdout]\n"
	"  -t INT          threads [%d]\n"
	"  -K INT          candidate loci retrieved per read [%d]\n"
	"  -A INT          at most this many loci verified by alignment per read [%d]\n"
	"  -T INT          minimum alignment score to report a read as mapped [%d]\n"
	"  -R STR          read group header line, e.g. '@RG\\tID:x\\tSM:y' (RG:Z on every record) [none]\n"
	"  --secondary INT output up to INT secondary alignments (FLAG 0x100) [%d]\n"
	"  --exact         exact (brute-force) vector search instead of the approximate index (slow; for checks)\n"
	"  --nprobe INT    inverted lists scanned per query, for an index that has them [4 sqrt(lists)]\n"
	"  --encoder SPEC  encoder to embed reads with; must be the index's [the index's]\n"
	"  -v INT          verbosity: 0 quiet, 1 warnings, 2 info, 3 debug [%d]\n",
	o->n_threads, o->max_loci, o->max_align, o->min_score, o->n_secondary, es_verbose);
	return fp == stdout ? 0 : 1;
}

static int parse_int(const char *s, int lo, int hi, int *out, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end || v < lo || v > hi) {
		fprintf(stderr, "esalign align: %s must be an integer in %d..%d, not '%s'\n", what, lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int main_align(int argc, char *argv[])
{
	es_map_opt_t o;
	es_map_opt_init(&o);
	const char *out = "-";
	static const struct option lopts[] = {
		{ "secondary", required_argument, NULL, 1 }, { "exact", no_argument, NULL, 2 },
		{ "encoder", required_argument, NULL, 3 }, { "nprobe", required_argument, NULL, 4 },
		{ "mapq-features", no_argument, NULL, 5 }, /* hidden: XF:Z tags for scripts/fit-mapq.sh */ { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "o:t:K:A:T:R:v:h", lopts, NULL)) >= 0) {
		int bad = 0;
		switch (c) {
		case 'o': out = optarg; break;
		case 't': bad = parse_int(optarg, 1, 256, &o.n_threads, "-t"); break;
		case 'K': bad = parse_int(optarg, 1, 256, &o.max_loci, "-K"); break;
		case 'A': bad = parse_int(optarg, 1, 256, &o.max_align, "-A"); break;
		case 'T': bad = parse_int(optarg, 0, 100000, &o.min_score, "-T"); break;
		case 'R': o.rg_line = optarg; break;
		case 'v': bad = parse_int(optarg, 0, 3, &es_verbose, "-v"); break;
		case 1: bad = parse_int(optarg, 0, 100, &o.n_secondary, "--secondary"); break;
		case 2: o.exact = 1; break;
		case 3: o.encoder_spec = optarg; break;
		case 4: bad = parse_int(optarg, 1, 65536, &o.nprobe, "--nprobe"); break;
		case 5: o.mapq_features = 1; break;
		case 'h': return usage(stdout, &o);
		default: return usage(stderr, &o);
		}
		if (bad) return 1;
	}
	if (argc - optind != 2) return usage(stderr, &o);
	char *cl = es_cli_cmdline();
	es_map_stats_t st;
	int ret = es_map_file(argv[optind], argv[optind + 1], out, &o, cl, &st);
	free(cl);
	if (ret < 0) return es_cli_fail("align");
	es_log(2, "align", "%lld reads, %lld mapped, %.2f s, %.0f reads/s, peak memory %.1f MB", (long long)st.n_reads,
	       (long long)st.n_mapped, st.seconds, st.seconds > 0 ? st.n_reads / st.seconds : 0.0, es_peak_rss() / 1048576.0);
	return 0;
}
