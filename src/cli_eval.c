/* cli_eval.c — 'esalign eval': score a SAM/BAM against the true read origins (from simulated read names or a truth
 * SAM/BAM) and print correct/wrong/unmapped percentages and a MAPQ table, human-readable or as two TSV lines. */
#include "cli.h"
#include "eval.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

static int usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: esalign eval [options] <aln.sam|aln.bam|->\n\n"
	        "Score single-end alignments against the reads' true origins. A read is correct when its primary\n"
	        "alignment is on the true contig with SAM POS, or its unclipped start (POS less a leading clip), within\n"
	        "--max-dist bp of the true leftmost position. Secondary (0x100) and supplementary (0x800) records are\n"
	        "ignored; reads of the truth with no record count as unmapped.\n\n"
	        "Options:\n"
	        "  --truth FILE       truth SAM/BAM (mason_simulator -oa, art_illumina -sam) "
	        "[truth from 'esalign simulate' names]\n"
	        "  --region STR       score only reads whose true origin is in CONTIG or CONTIG:BEG-END "
	        "(0-based half-open)\n"
	        "  --max-dist INT     largest distance in bp from the true position still counted correct [20]\n"
	        "  --tsv              print two tab-separated lines (header, values) instead of the report\n"
	        "  -h, --help         print this help\n");
	return fp == stdout ? 0 : 1;
}

int main_eval(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "truth", required_argument, 0, 't' },
		{ "region", required_argument, 0, 'r' },
		{ "max-dist", required_argument, 0, 'd' },
		{ "tsv", no_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	es_eval_opt_t opt;
	es_eval_opt_init(&opt);
	const char *truth = NULL;
	int tsv = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) >= 0) {
		switch (c) {
		case 't':
			truth = optarg;
			break;
		case 'r':
			opt.region = optarg;
			break;
		case 'd':
			if (es_opt_int("--max-dist", optarg, 0, 1000000000, &opt.max_dist) < 0)
				return es_cli_fail("eval");
			break;
		case 'T':
			tsv = 1;
			break;
		case 'h':
			return usage(stdout);
		default:
			fprintf(stderr, "esalign eval: unknown option or missing argument: %s\n", argv[optind - 1]);
			return usage(stderr);
		}
	}
	if (optind != argc - 1)
		return usage(stderr);
	es_eval_t ev;
	if (es_eval_sam(argv[optind], truth, &opt, &ev) < 0)
		return es_cli_fail("eval");
	es_eval_print(stdout, &ev, tsv);
	if (fflush(stdout) != 0) {
		es_error("stdout: write failed");
		return es_cli_fail("eval");
	}
	return 0;
}
