/* cli_embed.c — 'esalign embed': print one line per sequence, its name then its embedding vector, for any encoder
 * (kmer, kmer:K:D, transformer, or a model file). Useful for checking an encoder by hand. */
#include "cli.h"
#include "encoder.h"
#include "seqio.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *fp)
{
	fprintf(fp,
	"Usage: esalign embed [options] seqs.fa|seqs.fq[.gz]|-\n"
	"Print each sequence's name and its unit embedding vector (tab-separated) to stdout.\n\n"
	"Options:\n"
	"  --encoder SPEC  kmer (k=15, D=64), kmer:K:D, transformer (the shipped model), or a model file [kmer]\n"
	"  -v INT          verbosity: 0 quiet, 1 warnings, 2 info, 3 debug [%d]\n"
	"  -h, --help      print this help\n", es_verbose);
	return fp == stdout ? 0 : 1;
}

/* Embed and print every record of rd, counting them in *n. Returns 0, or -1 with es_error set. */
static int embed_all(const es_encoder_t *e, es_reader_t *rd, int *n)
{
	int dim = es_encoder_dim(e);
	es_read_t r = {0};
	float *v = es_malloc(dim * sizeof(float));
	uint8_t *codes = NULL;
	int cap = 0;
	int ret;
	while ((ret = es_reader_next(rd, &r)) > 0) {
		if (r.len + 1 > cap) {
			cap = r.len + 1;
			codes = es_realloc(codes, cap);
		}
		for (int i = 0; i < r.len; i++)
			codes[i] = es_nt4[(uint8_t)r.seq[i]];
		const uint8_t *s = codes;
		if (es_encoder_embed(e, 1, &s, &r.len, v) < 0) {
			ret = -1;
			break;
		}
		fputs(r.name, stdout);
		for (int i = 0; i < dim; i++)
			printf("\t%.6f", v[i]);
		putchar('\n');
		(*n)++;
	}
	free(v);
	free(codes);
	es_read_free(&r);
	return ret < 0 ? -1 : 0;
}

int main_embed(int argc, char *argv[])
{
	const char *spec = "kmer";
	static const struct option lopts[] = {
		{ "encoder", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "v:h", lopts, NULL)) >= 0) {
		switch (c) {
		case 1:
			spec = optarg;
			break;
		case 'v':
			if (es_opt_int("-v", optarg, 0, 3, &es_verbose) < 0)
				return es_cli_fail("embed");
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (argc - optind != 1)
		return usage(stderr);
	es_encoder_t *e = es_encoder_open(spec);
	if (!e)
		return es_cli_fail("embed");
	es_reader_t *rd = es_reader_open(argv[optind]);
	if (!rd) {
		es_encoder_destroy(e);
		return es_cli_fail("embed");
	}
	int n = 0;
	int ret = embed_all(e, rd, &n);
	es_log(2, "embed", "%d sequences embedded with %s", n, es_encoder_name(e));
	es_reader_close(rd);
	es_encoder_destroy(e);
	return ret < 0 ? es_cli_fail("embed") : 0;
}
