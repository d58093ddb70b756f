/* cli_index.c — 'esalign index': build the vector store of a reference FASTA; 'esalign index --bench' measures
 * locus recall@K of approximate vs exact search and ms per read on reads simulated from an index's own reference. */
#include "cli.h"
#include "store.h"
#include "simulate.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <pthread.h>

static void usage(FILE *fp)
{
	es_index_opt_t o;
	es_index_opt_init(&o);
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
		"  --max-n FLOAT  skip windows with more than this fraction of N [%.2f]\n"
		"  -t INT         threads [%d]\n"
		"  -v INT         verbosity 0..3 [%d]\n"
		"Bench options (reads simulated from the index's reference; recall = a locus overlaps the true origin):\n"
		"  -n INT         reads [1000]\n  -l INT         read length [250]\n  -e FLOAT       substitution rate (indels a tenth) [0.01]\n"
		"  -K INT         loci per read [16]\n  --rerank INT   codes re-ranked exactly per query [384; 256 with lists]\n"
		"  --nprobe INT   lists scanned per query (index with lists) [4 sqrt(lists)]\n"
		"  --exact        also run exact search and compare\n  --whole        one query per read, no chunks\n  --seed INT     [7]\n",
		ES_INDEX_SUFFIX, ES_INDEX_SUFFIX, o.encoder_spec, o.w, o.stride, o.code_kind == ES_CODE_PQ4 ? "pq4" : o.code_kind == ES_CODE_PQ6 ? "pq6" : "sign", o.pq_m, o.code_bits, o.code_step, o.ivf_lists, o.max_n_frac, o.n_threads, es_verbose);
}

/* ---- bench ---- */
typedef struct {
	const es_index_t *idx;
	const es_encoder_t *enc;
	int n, K, flags, nt, tid;
	uint8_t **seqs;
	int *lens;
	es_locus_t *loci;
	int *nl;
	int ret;
	double cpu;   /* thread CPU seconds: robust to other processes sharing the cores */
	double times[3];   /* of those, embedding and searching, and queries searched (es_index_thread_times) */
} bench_job_t;

static void *bench_worker(void *arg)
{
	bench_job_t *j = arg;
	double c0 = es_thread_cputime();
	es_index_thread_times(j->times, 1);
	/* reads in batches of 64, interleaved over threads */
	for (int b = j->tid * 64; b < j->n && j->ret == 0; b += 64 * j->nt) {
		int m = j->n - b < 64 ? j->n - b : 64;
		j->ret = es_index_candidates(j->idx, j->enc, m, (const uint8_t *const *)j->seqs + b, j->lens + b, j->K,
			j->loci + (size_t)b * j->K, j->nl + b, j->flags);
	}
	j->cpu = es_thread_cputime() - c0;
	es_index_thread_times(j->times, 1);
	return NULL;
}

static double run_bench(const es_index_t *idx, const es_encoder_t *enc, int n, uint8_t **seqs, int *lens, int K, int flags,
                        int nt, es_locus_t *loci, int *nl, double *cpu, double times[3])
{
	bench_job_t job[64];
	pthread_t th[64];
	double t0 = es_time();
	for (int t = 0; t < nt; t++) {
		job[t] = (bench_job_t){ idx, enc, n, K, flags, nt, t, seqs, lens, loci, nl, 0, 0, { 0, 0, 0 } };
		pthread_create(&th[t], NULL, bench_worker, &job[t]);
	}
	int ret = 0;
	*cpu = 0;
	times[0] = times[1] = times[2] = 0;
	for (int t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		if (job[t].ret) ret = -1;
		*cpu += job[t].cpu;
		for (int a = 0; a < 3; a++) times[a] += job[t].times[a];
	}
	return ret ? -1 : es_time() - t0;
}

static void recall(const es_locus_t *loci, const int *nl, int K, int n, const int64_t *tb, const int64_t *te, double r[3])
{
	int at[3] = { 1, 4, 16 }, hit[3] = { 0, 0, 0 };
	for (int i = 0; i < n; i++) {
		int first = -1;
		for (int j = 0; j < nl[i]; j++) {
			const es_locus_t *l = &loci[(size_t)i * K + j];
			if (l->beg < te[i] && tb[i] < l->end) { first = j; break; }
		}
		for (int a = 0; a < 3; a++) if (first >= 0 && first < at[a]) hit[a]++;
	}
	for (int a = 0; a < 3; a++) r[a] = 100.0 * hit[a] / n;
}

static int bench(const char *path, int n, int len, double sub, int K, int rerank, int nprobe, int exact, int nt, uint64_t seed)
{
	es_index_t *idx = es_index_load(path);
	if (!idx) return es_cli_fail("index");
	es_encoder_t *enc = es_index_open_encoder(idx);
	if (!enc) { es_index_destroy(idx); return es_cli_fail("index"); }
	if (rerank > 0) es_index_set_rerank(idx, rerank);
	if (nprobe > 0 && es_index_ivf_lists(idx)) es_index_set_nprobe(idx, nprobe);
	const es_ref_t *ref = es_index_ref(idx);
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	es_sim_err_t err = { sub, sub / 20, sub / 20, ES_SIM_INDEL_EXT };
	uint8_t **seqs = es_malloc(n * sizeof *seqs);
	int *lens = es_malloc(n * sizeof(int));
	int64_t *tb = es_malloc(n * sizeof(int64_t)), *te = es_malloc(n * sizeof(int64_t));
	int srcn = len + len / 8 + 32;
	uint8_t *src = es_malloc(srcn);
	for (int i = 0; i < n;) {
		int64_t pos = (int64_t)es_rng_below(&rng, (uint64_t)ref->len);
		int c = es_ref_contig_at(ref, pos);
		int64_t cend = ref->contig[c].off + ref->contig[c].len;
		if (pos + srcn > cend || es_ref_count_n(ref, pos, pos + srcn) > 0) continue;
		es_ref_get(ref, pos, pos + srcn, src);
		seqs[i] = es_malloc(len);
		int used = 0;
		if (es_sim_mutate(src, srcn, len, &err, &rng, seqs[i], &used) != 0) { free(seqs[i]); continue; }
		if (es_rng_below(&rng, 2)) es_revcomp(seqs[i], len);
		lens[i] = len; tb[i] = pos; te[i] = pos + used;
		i++;
	}
	es_locus_t *loci = es_malloc((size_t)n * K * sizeof *loci);
	int *nl = es_malloc(n * sizeof(int));
	int ret = 0;
	int whole = exact & ES_CAND_WHOLE;
	exact &= ES_SEARCH_EXACT;
	double cpu, cpux, tm[3], tmx[3], t = run_bench(idx, enc, n, seqs, lens, K, whole, nt, loci, nl, &cpu, tm), r[3];
	if (t < 0) { ret = es_cli_fail("index"); goto done; }
	recall(loci, nl, K, n, tb, te, r);
	const char *kern;
	es_hamscan_best(&kern);
	printf("approx\tW=%d\tS=%d\t%s%d\tstep=%d\tlists=%d\tnprobe=%d\trerank=%d\tlen=%d\tsub=%.3f\tn=%d\trecall@1=%.2f\t@4=%.2f\t@16=%.2f\tcpu_ms/read=%.4f\twall_ms/read/thread=%.4f\tsearch_ms/query=%.4f\tembed_ms/query=%.4f\tthreads=%d\tkernel=%s\twindows=%lld\n",
		es_index_w(idx), es_index_stride(idx), es_index_code_kind(idx) == ES_CODE_PQ4 ? "pq4bits=" : es_index_code_kind(idx) == ES_CODE_PQ6 ? "pq6bits=" : "signbits=", es_index_code_bits(idx), es_index_code_step(idx), es_index_ivf_lists(idx), es_index_ivf_lists(idx) ? es_index_get_nprobe(idx) : 0, es_index_get_rerank(idx), len, sub, n, r[0], r[1], r[2],
		1000.0 * cpu / n, 1000.0 * t * nt / n, 1000.0 * tm[1] / (tm[2] > 0 ? tm[2] : 1), 1000.0 * tm[0] / (tm[2] > 0 ? tm[2] : 1), nt, kern, (long long)es_index_n_windows(idx));
	if (exact) {
		es_locus_t *lx = es_malloc((size_t)n * K * sizeof *lx);
		int *nx = es_malloc(n * sizeof(int));
		double tx = run_bench(idx, enc, n, seqs, lens, K, ES_SEARCH_EXACT | whole, nt, lx, nx, &cpux, tmx), rx[3];
		if (tx < 0) { ret = es_cli_fail("index"); free(lx); free(nx); goto done; }
		recall(lx, nx, K, n, tb, te, rx);
		/* how often the approximate top locus equals the exact one */
		int same = 0;
		for (int i = 0; i < n; i++) same += nl[i] == nx[i] && (nl[i] == 0 || (loci[(size_t)i * K].beg < lx[(size_t)i * K].end && lx[(size_t)i * K].beg < loci[(size_t)i * K].end));
		printf("exact\tW=%d\tS=%d\tlen=%d\tsub=%.3f\tn=%d\trecall@1=%.2f\t@4=%.2f\t@16=%.2f\tcpu_ms/read=%.4f\tsearch_ms/query=%.4f\tsame_top=%.2f%%\n",
			es_index_w(idx), es_index_stride(idx), len, sub, n, rx[0], rx[1], rx[2], 1000.0 * cpux / n, 1000.0 * tmx[1] / (tmx[2] > 0 ? tmx[2] : 1), 100.0 * same / n);
		free(lx); free(nx);
	}
done:
	for (int i = 0; i < n; i++) free(seqs[i]);
	free(seqs); free(lens); free(tb); free(te); free(src); free(loci); free(nl);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	return ret;
}

int main_index(int argc, char *argv[])
{
	es_index_opt_t opt;
	es_index_opt_init(&opt);
	opt.progress = 1;
	const char *prefix = NULL;
	int whole = 0, do_bench = 0, n = 1000, len = 250, K = 16, rerank = 0, nprobe = 0, exact = 0;
	double sub = 0.01;
	uint64_t seed = 7;
	static const struct option lo[] = {
		{ "encoder", required_argument, 0, 'E' }, { "bits", required_argument, 0, 'B' }, { "max-n", required_argument, 0, 'N' }, { "code-step", required_argument, 0, 'C' },
		{ "codes", required_argument, 0, 'k' }, { "pq-m", required_argument, 0, 'M' },
		{ "bench", no_argument, 0, 'b' }, { "exact", no_argument, 0, 'x' }, { "rerank", required_argument, 0, 'r' },
		{ "lists", required_argument, 0, 'L' }, { "nprobe", required_argument, 0, 'P' },
		{ "seed", required_argument, 0, 'S' }, { "whole", no_argument, 0, 'W' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;
	char *end;
	optind = 1;
#define INTARG(var, lo_, hi_) do { long v_ = strtol(optarg, &end, 10); if (*end || v_ < (lo_) || v_ > (hi_)) { \
		fprintf(stderr, "esalign index: -%c: expected an integer in %ld..%ld, got '%s'\n", c, (long)(lo_), (long)(hi_), optarg); return 1; } var = (int)v_; } while (0)
	while ((c = getopt_long(argc, argv, "o:w:s:t:v:n:l:e:K:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': prefix = optarg; break;
		case 'E': opt.encoder_spec = optarg; break;
		case 'w': INTARG(opt.w, 0, 100000); break;
		case 's': INTARG(opt.stride, 0, 100000); break;
		case 't': INTARG(opt.n_threads, 1, 64); break;
		case 'v': INTARG(es_verbose, 0, 3); break;
		case 'B': INTARG(opt.code_bits, 64, 512); break;
		case 'C': INTARG(opt.code_step, 0, 64); break;
		case 'M': INTARG(opt.pq_m, 2, 64); break;
		case 'k':
			if (!strcmp(optarg, "pq4")) opt.code_kind = ES_CODE_PQ4;
			else if (!strcmp(optarg, "pq6")) opt.code_kind = ES_CODE_PQ6;
			else if (!strcmp(optarg, "sign")) opt.code_kind = ES_CODE_SIGN;
			else { fprintf(stderr, "esalign index: --codes: expected pq6, pq4 or sign, got '%s'\n", optarg); return 1; }
			break;
		case 'N': opt.max_n_frac = strtod(optarg, &end); if (*end || opt.max_n_frac < 0 || opt.max_n_frac > 1) { fprintf(stderr, "esalign index: --max-n: expected 0..1\n"); return 1; } break;
		case 'b': do_bench = 1; break;
		case 'x': exact = 1; break;
		case 'W': whole = ES_CAND_WHOLE; break;
		case 'r': INTARG(rerank, 1, 65536); break;
		case 'L': INTARG(opt.ivf_lists, -1, 65536); break;
		case 'P': INTARG(nprobe, 1, 65536); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'n': INTARG(n, 1, 10000000); break;
		case 'l': INTARG(len, 16, 100000); break;
		case 'K': INTARG(K, 1, 1000); break;
		case 'e': sub = strtod(optarg, &end); if (*end || sub < 0 || sub > 0.5) { fprintf(stderr, "esalign index: -e: expected 0..0.5\n"); return 1; } break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind + 1 != argc) { usage(stderr); return 1; }
	if (do_bench) return bench(argv[optind], n, len, sub, K, rerank, nprobe, exact | whole, opt.n_threads, seed);
	if (opt.w > 0 && opt.w < 16) { fprintf(stderr, "esalign index: -w: expected an integer in 16..100000 (or 0: auto), got %d\n", opt.w); return 1; }
	if (opt.w > 0 && opt.stride > opt.w) { fprintf(stderr, "esalign index: stride %d exceeds the window length %d\n", opt.stride, opt.w); return 1; }

	const char *fa = argv[optind];
	double t0 = es_time();
	es_encoder_t *enc = es_encoder_open(opt.encoder_spec);
	if (!enc) return es_cli_fail("index");
	es_log(2, "index", "reading %s", fa);
	es_ref_t *ref = es_ref_load_fasta(fa);
	if (!ref) { es_encoder_destroy(enc); return es_cli_fail("index"); }
	es_log(2, "index", "%d contig(s), %lld bases, %lld N run(s) in %.1f s", ref->n_contig, (long long)ref->len, (long long)ref->n_nrun, es_time() - t0);
	/* PREFIX.esi; a prefix that already ends in .esi is taken as the file name */
	const char *base = prefix ? prefix : fa;
	size_t bl = strlen(base), sl = strlen(ES_INDEX_SUFFIX), pl = bl + sl + 1;
	int has_suffix = bl > sl && strcmp(base + bl - sl, ES_INDEX_SUFFIX) == 0;
	char *path = es_malloc(pl);
	snprintf(path, pl, "%s%s", base, has_suffix ? "" : ES_INDEX_SUFFIX);
	int64_t stats[2];
	int ret = es_index_build(ref, enc, &opt, path, stats);
	if (ret == 0)
		es_log(1, "index", "wrote %s: %lld windows, %lld bytes, %.1f s, peak memory %.1f MiB",
			path, (long long)stats[0], (long long)stats[1], es_time() - t0, es_peak_rss() / 1048576.0);
	free(path);
	es_ref_destroy(ref);
	es_encoder_destroy(enc);
	return ret == 0 ? 0 : es_cli_fail("index");
}
