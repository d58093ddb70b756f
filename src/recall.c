/* recall.c — the recall benches (recall.h): one read rule, one parallel embedding, the held-out exact-search recall
 * of an encoder and the approximate-search bench of an index. Both draw their reads through draw_reads, so a bench
 * reproduces its reads for a seed. */
#include "recall.h"
#include "pipeline.h"
#include "simulate.h"
#include "store.h"
#include "thread.h"
#include "topk.h"
#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int es_read_draw(const es_ref_t *ref, int64_t pos, int len, double sub, es_rng_t *rng, uint8_t *src, uint8_t *out,
                 int *used)
{
	int slen = ES_READ_SRC_LEN(len);
	es_ref_get(ref, pos, pos + slen, src);
	es_sim_err_t err = { sub, sub / 20, sub / 20, ES_SIM_INDEL_EXT };
	return es_sim_mutate(src, slen, len, &err, rng, out, used) < 0 ? -1 : 0;
}

/* The first error of a parallel loop, carried from a worker's thread to the caller's (es_error is per thread). */
typedef struct {
	atomic_int set;
	char msg[512];
} first_err_t;

static void first_err_keep(first_err_t *fe)
{
	if (atomic_exchange(&fe->set, 1) == 0) snprintf(fe->msg, sizeof fe->msg, "%s", es_last_error());
}

/* ---------------- reads of a bench ---------------- */
typedef struct {
	int64_t beg, n_pos;   /* origins: beg + U[0, n_pos), global */
	int len;              /* read length */
	double sub;           /* substitution rate (indels at sub/20 each) */
	int rc_below_half;    /* the strand coin u reverse-complements when u < 0.5 (1) or when u >= 0.5 (0): kept as each
	                       * bench drew it, so its reads (and recall) stay those of earlier runs */
} read_set_t;

/* n reads into seq (n * len codes) with their forward spans [tb[i], te[i]); a span crossing a contig end or holding N
 * is drawn again. Returns 0, or -1 with es_error set after 10,000 failed draws in a row. */
static int draw_reads(const es_ref_t *ref, const read_set_t *rs, int n, es_rng_t *rng, uint8_t *seq, int64_t *tb,
                      int64_t *te)
{
	int L = rs->len, slen = ES_READ_SRC_LEN(L), rc = 0;
	uint8_t *src = es_malloc(slen);
	for (int i = 0; i < n && rc == 0; i++) {
		uint8_t *out = seq + (size_t)i * L;
		for (int tries = 0;; tries++) {
			int64_t p = rs->beg + (int64_t)es_rng_below(rng, (uint64_t)rs->n_pos);
			const es_contig_t *c = &ref->contig[es_ref_contig_at(ref, p)];
			int used;
			int ok = p + slen <= c->off + c->len && es_ref_count_n(ref, p, p + slen) == 0
			         && es_read_draw(ref, p, L, rs->sub, rng, src, out, &used) == 0;
			if (ok) {
				int heads = es_rng_uniform(rng) < 0.5;
				if (heads == rs->rc_below_half) es_revcomp(out, L);
				tb[i] = p;
				te[i] = p + used;
				break;
			}
			if (tries > 10000) {
				rc = es_error("recall: cannot place %d-base reads in the region (too many N)", L);
				break;
			}
		}
	}
	free(src);
	return rc;
}

/* ---------------- embedding many sequences, in parallel ---------------- */
typedef struct {
	const es_encoder_t *e;
	int n;
	const uint8_t *const *seq;
	const int *len;
	float *out;
	first_err_t err;
} emb_ctx_t;

static void emb_item(void *vc, int64_t it, int tid)
{
	(void)tid;
	emb_ctx_t *c = vc;
	int a = (int)it * 64, k = c->n - a < 64 ? c->n - a : 64;
	if (atomic_load(&c->err.set)) return;
	float *out = c->out + (size_t)a * es_encoder_dim(c->e);
	if (es_encoder_embed(c->e, k, c->seq + a, c->len + a, out) < 0) first_err_keep(&c->err);
}

int es_embed_many(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out,
                  int n_threads)
{
	emb_ctx_t c = { e, n, seqs, lens, out, { 0, "" } };
	if (es_for(n_threads, emb_item, &c, (n + 63) / 64) < 0) return -1;
	if (atomic_load(&c.err.set)) return es_error("%s", c.err.msg);
	return 0;
}

/* ---------------- held-out exact-search recall ---------------- */
/* The N-free windows of W at stride over [beg,end): starts into *wst, embeddings into *wv (both malloc'ed).
 * Returns the number of windows, or -1 with es_error set. */
static int64_t recall_windows(const es_encoder_t *e, const es_ref_t *ref, const es_recall_opt_t *o, int64_t **wst,
                              float **wv, double *speed)
{
	int W = o->W;
	int64_t nw = 0;
	*wst = es_malloc(((o->end - o->beg) / o->stride + 1) * sizeof(int64_t));
	*wv = NULL;
	for (int64_t s = o->beg; s + W <= o->end; s += o->stride)
		if (es_ref_count_n(ref, s, s + W) == 0) (*wst)[nw++] = s;
	if (nw == 0) return es_error("recall: no N-free window in the region");
	uint8_t *wseq = es_malloc((size_t)nw * W);
	const uint8_t **wp = es_malloc(nw * sizeof *wp);
	int *wl = es_malloc(nw * sizeof(int));
	for (int64_t i = 0; i < nw; i++) {
		es_ref_get(ref, (*wst)[i], (*wst)[i] + W, wseq + (size_t)i * W);
		wp[i] = wseq + (size_t)i * W;
		wl[i] = W;
	}
	*wv = es_malloc((size_t)nw * es_encoder_dim(e) * sizeof(float));
	double t0 = es_cputime();
	int rc = es_embed_many(e, (int)nw, wp, wl, *wv, o->nthreads);
	if (speed) speed[0] = nw / (es_cputime() - t0 + 1e-9);
	free(wseq);
	free(wp);
	free(wl);
	return rc < 0 ? -1 : nw;
}

#define RECALL_K 64   /* the deepest rank reported (recall@64) */

/* Brute force: the RECALL_K best windows of each of nr read embeddings rv, in blocks of windows through sgemm.
 * h holds nr * RECALL_K hits, nh nr counts; each read's hits come back sorted best first. */
static void exact_topk(const float *rv, int nr, const float *wv, int64_t nw, int D, es_hit_t *h, int *nh)
{
	const int BW = 8192;
	float *S = es_malloc((size_t)nr * BW * sizeof(float));
	memset(nh, 0, nr * sizeof(int));
	for (int64_t a = 0; a < nw; a += BW) {
		int nb = (int)(nw - a < BW ? nw - a : BW);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nb, D, 1.0f, rv, D, wv + (size_t)a * D, D, 0.0f,
		            S, nb);
		for (int i = 0; i < nr; i++)
			for (int j = 0; j < nb; j++)
				es_topk_offer(h + (size_t)i * RECALL_K, &nh[i], RECALL_K, (es_hit_t){ S[(size_t)i * nb + j], a + j });
	}
	for (int i = 0; i < nr; i++) es_topk_sort(h + (size_t)i * RECALL_K, nh[i]);
	free(S);
}

/* Recall of read setting set against the embedded windows: rec[0..3] = recall@1, @4, @16, @64. */
static int recall_setting(const es_encoder_t *e, const es_ref_t *ref, const es_recall_opt_t *o, int set,
                          const int64_t *wst, const float *wv, int64_t nw, double rec[4], double *speed)
{
	const int Ks[4] = { 1, 4, 16, 64 };
	int nr = o->n_reads, L = o->read_len[set], D = es_encoder_dim(e), W = o->W;
	read_set_t rs = { o->beg, o->end - o->beg - ES_READ_SRC_LEN(L), L, o->sub[set], 1 };
	es_rng_t rng;
	es_rng_seed(&rng, o->seed + (uint64_t)set);
	uint8_t *rseq = es_malloc((size_t)nr * L);
	const uint8_t **rp = es_malloc(nr * sizeof *rp);
	int *rl = es_malloc(nr * sizeof(int)), *nh = es_malloc(nr * sizeof(int));
	int64_t *rpos = es_malloc(nr * sizeof(int64_t)), *rend = es_malloc(nr * sizeof(int64_t));
	float *rv = es_malloc((size_t)nr * D * sizeof(float));
	es_hit_t *h = es_malloc((size_t)nr * RECALL_K * sizeof *h);
	int rc = draw_reads(ref, &rs, nr, &rng, rseq, rpos, rend);
	for (int i = 0; i < nr; i++) {
		rp[i] = rseq + (size_t)i * L;
		rl[i] = L;
	}
	double t0 = es_cputime();
	if (rc == 0) rc = es_embed_many(e, nr, rp, rl, rv, o->nthreads);
	if (rc == 0 && speed) speed[1 + set] = nr / (es_cputime() - t0 + 1e-9);
	if (rc == 0) exact_topk(rv, nr, wv, nw, D, h, nh);
	int hit[4] = { 0, 0, 0, 0 };
	for (int i = 0; i < nr && rc == 0; i++) {
		int first = RECALL_K;
		for (int k = 0; k < nh[i]; k++) {
			if (llabs(wst[h[(size_t)i * RECALL_K + k].id] - rpos[i]) < W / 2) {
				first = k;
				break;
			}
		}
		for (int q = 0; q < 4; q++) hit[q] += first < Ks[q];
	}
	for (int q = 0; q < 4; q++) rec[q] = (double)hit[q] / nr;
	free(rseq);
	free(rp);
	free(rl);
	free(nh);
	free(rpos);
	free(rend);
	free(rv);
	free(h);
	return rc;
}

int es_recall_eval(const es_encoder_t *e, const es_ref_t *ref, const es_recall_opt_t *o, double (*recall)[4],
                   double *speed)
{
	int maxL = 0;
	if (o->n_set < 1 || o->n_set > ES_RECALL_MAX_SET)
		return es_error("recall: %d read settings, expected 1..%d", o->n_set, ES_RECALL_MAX_SET);
	for (int s = 0; s < o->n_set; s++)
		if (o->read_len[s] > maxL) maxL = o->read_len[s];
	if (o->beg < 0 || o->end > ref->len)
		return es_error("recall: region [%lld,%lld) is outside the reference of %lld bases", (long long)o->beg,
		                (long long)o->end, (long long)ref->len);
	if (o->end - o->beg < o->W + 2 * maxL + 100)
		return es_error("recall: region [%lld,%lld) of %lld bases is shorter than W + 2 x read length + 100 = %d",
		                (long long)o->beg, (long long)o->end, (long long)(o->end - o->beg), o->W + 2 * maxL + 100);
	int64_t *wst;
	float *wv;
	int64_t nw = recall_windows(e, ref, o, &wst, &wv, speed);
	int rc = nw < 0 ? -1 : 0;
	for (int set = 0; set < o->n_set && rc == 0; set++)
		rc = recall_setting(e, ref, o, set, wst, wv, nw, recall[set], speed);
	free(wst);
	free(wv);
	return rc;
}

/* ---------------- the index bench ---------------- */
void es_bench_opt_init(es_bench_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n = 1000;
	o->len = 250;
	o->sub = 0.01;
	o->K = 16;
	o->n_threads = 1;
	o->seed = 7;
	o->probe_groups = -1;
	o->probe_gap = -1;
}

/* one search run over the bench reads: loci, and per-thread CPU times summed over the threads */
typedef struct {
	const es_index_t *idx;
	const es_encoder_t *enc;
	int n, K, flags;
	const uint8_t *const *seqs;
	const int *lens;
	es_locus_t *loci;
	int *nl;
	first_err_t err;
	double cpu[ES_MAX_THREADS];        /* thread CPU seconds: robust to other processes sharing the cores */
	double times[ES_MAX_THREADS][3];   /* of those, embedding and searching, and queries (es_index_thread_times) */
} bench_run_t;

/* item b: reads [64b, 64b+64) */
static void bench_item(void *vc, int64_t b, int tid)
{
	bench_run_t *r = vc;
	if (atomic_load(&r->err.set)) return;
	int a = (int)b * ES_MAP_CHUNK, m = r->n - a < ES_MAP_CHUNK ? r->n - a : ES_MAP_CHUNK;
	double c0 = es_thread_cputime(), t[3];
	es_index_thread_times(t, 1);
	int rc = es_index_candidates(r->idx, r->enc, m, r->seqs + a, r->lens + a, r->K, r->loci + (size_t)a * r->K,
	                             r->nl + a, r->flags);
	if (rc != 0) first_err_keep(&r->err);
	r->cpu[tid] += es_thread_cputime() - c0;
	es_index_thread_times(t, 1);
	for (int k = 0; k < 3; k++) r->times[tid][k] += t[k];
}

/* Run the search; *cpu and times[3] receive the sums over threads. Returns the wall seconds, or -1 (es_error). */
static double bench_run(bench_run_t *r, int nt, double *cpu, double times[3])
{
	double t0 = es_time();
	if (es_for(nt, bench_item, r, (r->n + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK) < 0) return -1;
	if (atomic_load(&r->err.set)) return es_error("%s", r->err.msg);
	double wall = es_time() - t0;
	*cpu = 0;
	times[0] = times[1] = times[2] = 0;
	for (int t = 0; t < nt; t++) {
		*cpu += r->cpu[t];
		for (int k = 0; k < 3; k++) times[k] += r->times[t][k];
	}
	return wall;
}

/* r[0..2] = % of reads whose first locus overlapping the true span [tb,te) is among the first 1, 4, 16 */
static void locus_recall(const es_locus_t *loci, const int *nl, int K, int n, const int64_t *tb, const int64_t *te,
                         double r[3])
{
	int at[3] = { 1, 4, 16 }, hit[3] = { 0, 0, 0 };
	for (int i = 0; i < n; i++) {
		int first = -1;
		for (int j = 0; j < nl[i]; j++) {
			const es_locus_t *l = &loci[(size_t)i * K + j];
			if (l->beg < te[i] && tb[i] < l->end) {
				first = j;
				break;
			}
		}
		for (int a = 0; a < 3; a++)
			if (first >= 0 && first < at[a]) hit[a]++;
	}
	for (int a = 0; a < 3; a++) r[a] = 100.0 * hit[a] / n;
}

/* the bench reads and the two runs' results */
typedef struct {
	uint8_t *seq;
	const uint8_t **sp;
	int *lens;
	int64_t *tb, *te;
	bench_run_t *run[2];   /* approximate, exact */
} bench_t;

static void print_approx(FILE *out, const es_index_t *idx, const es_bench_opt_t *o, const double r[3], double cpu,
                         double wall, const double tm[3])
{
	const char *kern = es_index_scan_kernel(idx);
	int kind = es_index_code_kind(idx), lists = es_index_ivf_lists(idx);
	double nq = tm[2] > 0 ? tm[2] : 1;
	fprintf(out, "approx\tW=%d\tS=%d\t%s%d\tstep=%d\tlists=%d\tgroups=%d\tnprobe=%d\tgap=%.2f\trerank=%d\tlen=%d\tsub=%.3f"
	        "\tn=%d\t",
	        es_index_w(idx), es_index_stride(idx),
	        kind == ES_CODE_PQ4 ? "pq4bits=" : kind == ES_CODE_PQ6 ? "pq6bits=" : "signbits=", es_index_code_bits(idx),
	        es_index_code_step(idx), lists, es_index_get_probe_groups(idx), lists ? es_index_get_nprobe(idx) : 0,
	        lists ? es_index_get_probe_gap(idx) : 0, es_index_get_rerank(idx), o->len,
	        o->sub, o->n);
	fprintf(out, "recall@1=%.2f\t@4=%.2f\t@16=%.2f\tcpu_ms/read=%.4f\twall_ms/read/thread=%.4f\t", r[0], r[1], r[2],
	        1000.0 * cpu / o->n, 1000.0 * wall * o->n_threads / o->n);
	fprintf(out, "search_ms/query=%.4f\tembed_ms/query=%.4f\tthreads=%d\tkernel=%s\twindows=%lld\n",
	        1000.0 * tm[1] / nq, 1000.0 * tm[0] / nq, o->n_threads, kern, (long long)es_index_n_windows(idx));
}

/* how often the approximate top locus overlaps the exact one (or both runs found none), in % */
static double same_top(const bench_run_t *a, const bench_run_t *x)
{
	int same = 0, K = a->K;
	for (int i = 0; i < a->n; i++) {
		const es_locus_t *la = &a->loci[(size_t)i * K], *lx = &x->loci[(size_t)i * K];
		if (a->nl[i] != x->nl[i]) continue;
		same += a->nl[i] == 0 || (la->beg < lx->end && lx->beg < la->end);
	}
	return 100.0 * same / a->n;
}

static void print_exact(FILE *out, const es_index_t *idx, const es_bench_opt_t *o, const double r[3], double cpu,
                        const double tm[3], double same)
{
	fprintf(out, "exact\tW=%d\tS=%d\tlen=%d\tsub=%.3f\tn=%d\trecall@1=%.2f\t@4=%.2f\t@16=%.2f\tcpu_ms/read=%.4f\t",
	        es_index_w(idx), es_index_stride(idx), o->len, o->sub, o->n, r[0], r[1], r[2], 1000.0 * cpu / o->n);
	fprintf(out, "search_ms/query=%.4f\tsame_top=%.2f%%\n", 1000.0 * tm[1] / (tm[2] > 0 ? tm[2] : 1), same);
}

static bench_run_t *bench_run_new(const es_index_t *idx, const es_encoder_t *enc, const es_bench_opt_t *o,
                                  const bench_t *b, int flags)
{
	bench_run_t *r = es_calloc(1, sizeof *r);
	r->idx = idx;
	r->enc = enc;
	r->n = o->n;
	r->K = o->K;
	r->flags = flags;
	r->seqs = b->sp;
	r->lens = b->lens;
	r->loci = es_malloc((size_t)o->n * o->K * sizeof *r->loci);
	r->nl = es_malloc(o->n * sizeof(int));
	return r;
}

static void bench_free(bench_t *b)
{
	for (int k = 0; k < 2; k++) {
		if (!b->run[k]) continue;
		free(b->run[k]->loci);
		free(b->run[k]->nl);
		free(b->run[k]);
	}
	free(b->seq);
	free(b->sp);
	free(b->lens);
	free(b->tb);
	free(b->te);
}

/* The reads, then the approximate run and, with o->exact, the exact run; the result lines to out. */
static int bench_index(const es_index_t *idx, const es_encoder_t *enc, const es_bench_opt_t *o, FILE *out)
{
	const es_ref_t *ref = es_index_ref(idx);
	int n = o->n, whole = o->whole ? ES_CAND_WHOLE : 0, ret = -1;
	bench_t b = { es_malloc((size_t)n * o->len), es_malloc(n * sizeof *b.sp), es_malloc(n * sizeof(int)),
	              es_malloc(n * sizeof(int64_t)), es_malloc(n * sizeof(int64_t)), { NULL, NULL } };
	read_set_t rs = { 0, ref->len, o->len, o->sub, 0 };
	es_rng_t rng;
	es_rng_seed(&rng, o->seed);
	if (draw_reads(ref, &rs, n, &rng, b.seq, b.tb, b.te) < 0) goto done;
	for (int i = 0; i < n; i++) {
		b.sp[i] = b.seq + (size_t)i * o->len;
		b.lens[i] = o->len;
	}
	double cpu, tm[3], r[3];
	b.run[0] = bench_run_new(idx, enc, o, &b, whole);
	double wall = bench_run(b.run[0], o->n_threads, &cpu, tm);
	if (wall < 0) goto done;
	locus_recall(b.run[0]->loci, b.run[0]->nl, o->K, n, b.tb, b.te, r);
	print_approx(out, idx, o, r, cpu, wall, tm);
	if (o->exact) {
		b.run[1] = bench_run_new(idx, enc, o, &b, ES_SEARCH_EXACT | whole);
		if (bench_run(b.run[1], o->n_threads, &cpu, tm) < 0) goto done;
		locus_recall(b.run[1]->loci, b.run[1]->nl, o->K, n, b.tb, b.te, r);
		print_exact(out, idx, o, r, cpu, tm, same_top(b.run[0], b.run[1]));
	}
	ret = 0;
done:
	bench_free(&b);
	return ret;
}

int es_index_bench(const char *path, const es_bench_opt_t *o, FILE *out)
{
	es_index_t *idx = es_index_load(path);
	if (!idx) return -1;
	es_encoder_t *enc = es_index_open_encoder(idx);
	if (!enc) {
		es_index_destroy(idx);
		return -1;
	}
	if (o->rerank > 0) es_index_set_rerank(idx, o->rerank);
	if (o->nprobe > 0 && es_index_ivf_lists(idx)) es_index_set_nprobe(idx, o->nprobe);
	if (o->probe_gap >= 0) es_index_set_probe_gap(idx, (float)o->probe_gap);
	int rc = o->probe_groups >= 0 ? es_index_set_probe_groups(idx, o->probe_groups) : 0;
	if (rc == 0)
		rc = bench_index(idx, enc, o, out);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	return rc;
}
