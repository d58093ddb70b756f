/* cli_demo.c — 'esalign demo': the whole Embed-Search-Align loop in one command, through the library:
 * index a genome, simulate reads with known origins, align them, print the accuracy. Work files go to a temp dir. */
#include "cli.h"
#include "map.h"
#include "store.h"
#include "simulate.h"
#include "eval.h"
#include "seqio.h"
#include "util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *default_genomes[] = { "data/genomes/ecoli.fa.gz", "data/genomes/lambda.fa.gz" };

int main_demo(int argc, char *argv[])
{
	int n_reads = 10000, len = 150, threads = 2, c;
	uint64_t seed = 11;
	for (int i = 1; i < argc; i++) if (!strcmp(argv[i], "--help")) argv[i] = "-h";
	while ((c = getopt(argc, argv, "n:l:t:s:h")) >= 0) {
		switch (c) {
		case 'n': n_reads = atoi(optarg); break;
		case 'l': len = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
			        "Usage: esalign demo [-n reads %d] [-l length %d] [-t threads %d] [-s seed] [ref.fa[.gz]]\n"
			        "Index the genome (default: %s, fetched by scripts/fetch-genomes.sh), simulate reads with 1%% substitutions\n"
			        "and 0.1%% indels on both strands, align them with the kmer encoder and print the accuracy.\n",
			        n_reads, len, threads, default_genomes[0]);
			return c == 'h' ? 0 : 1;
		}
	}
	if (n_reads < 1 || len < 30 || len > 1000 || threads < 1) { fprintf(stderr, "esalign demo: bad -n, -l or -t\n"); return 1; }
	const char *fa = optind < argc ? argv[optind] : NULL;
	for (size_t i = 0; !fa && i < sizeof default_genomes / sizeof *default_genomes; i++)
		if (access(default_genomes[i], R_OK) == 0) fa = default_genomes[i];
	if (!fa) { fprintf(stderr, "esalign demo: no genome given and none in data/genomes/ (run scripts/fetch-genomes.sh ecoli)\n"); return 1; }
	char dir[] = "/tmp/esalign-demo.XXXXXX";
	if (!mkdtemp(dir)) { perror("esalign demo: mkdtemp"); return 1; }
	char idx_path[128], fq_path[128], sam_path[128];
	snprintf(idx_path, sizeof idx_path, "%s/ref.esi", dir);
	snprintf(fq_path, sizeof fq_path, "%s/reads.fq", dir);
	snprintf(sam_path, sizeof sam_path, "%s/aln.sam", dir);
	int ret = 1;
	es_ref_t *ref = NULL;
	es_encoder_t *enc = NULL;
	double t0 = es_time();
	if (!(ref = es_ref_load_fasta(fa))) goto done;
	printf("genome   %s: %d contig(s), %lld bp\n", fa, ref->n_contig, (long long)ref->len);
	if (!(enc = es_encoder_open("kmer"))) goto done;
	es_index_opt_t io;
	es_index_opt_init(&io);
	io.encoder_spec = "kmer"; io.n_threads = threads;
	int64_t ist[2];
	if (es_index_build(ref, enc, &io, idx_path, ist) < 0) goto done;
	printf("index    %lld windows, %.1f MB, %.1f s\n", (long long)ist[0], ist[1] / 1e6, es_time() - t0);
	es_sim_opt_t so;
	es_sim_opt_init(&so);
	so.n_reads = n_reads; so.read_len = len; so.seed = seed;
	so.err.sub = 0.01; so.err.ins = so.err.del = 0.0005;
	FILE *fq = fopen(fq_path, "w");
	if (!fq) { es_error("%s: cannot create", fq_path); goto done; }
	int sr = es_sim_reads(ref, &so, fq);
	fclose(fq);
	if (sr < 0) goto done;
	printf("reads    %d x %d bp, 1%% substitutions, 0.1%% indels, both strands\n", n_reads, len);
	es_map_opt_t mo;
	es_map_opt_init(&mo);
	mo.n_threads = threads;
	es_map_stats_t ms;
	if (es_map_file(idx_path, fq_path, sam_path, &mo, "esalign demo", &ms) < 0) goto done;
	printf("align    %.2f s, %.0f reads/s with %d threads\n\n", ms.seconds, ms.n_reads / (ms.seconds > 0 ? ms.seconds : 1), threads);
	es_eval_opt_t eo;
	es_eval_opt_init(&eo);
	es_eval_t ev;
	if (es_eval_sam(sam_path, NULL, &eo, &ev) < 0) goto done;
	es_eval_print(stdout, &ev, 0);
	ret = 0;
done:
	if (ret) es_cli_fail("demo");
	es_encoder_destroy(enc);
	es_ref_destroy(ref);
	unlink(idx_path); unlink(fq_path); unlink(sam_path); rmdir(dir);
	return ret;
}
