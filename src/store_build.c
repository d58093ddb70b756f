/* store_build.c — `esalign index`: the windows of a reference, their embeddings (threaded, in batches of 256), int8
 * vectors, the approximate-search codes (sign bits, or PQ centroids and codes), the inverted lists, then the file
 * (store_file.c). Every parallel step goes through es_for on fixed items, so the file is the same for any -t. */
#include "store_priv.h"
#include "ivf.h"
#include "thread.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <unistd.h>

void es_index_opt_init(es_index_opt_t *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->encoder_spec = "transformer";   /* the learned encoder: the one that maps divergent reads (docs/encoder.md) */
	opt->w = 0;        /* auto: 150 for kmer, 100 for a learned encoder (docs/store.md, "One index for 100-250 bp") */
	opt->stride = 0;   /* auto: 25 for kmer, 20 for a learned encoder */
	opt->code_kind = ES_CODE_PQ6;
	opt->pq_m = 16;
	opt->code_bits = 128;
	opt->code_step = 0;   /* auto: 2 for kmer (5,000 mason reads per length, chrX 70 Mb: same accuracy, 22-28% faster),
	                       * 1 for a learned encoder (its lists scan a fraction anyway; step 2 lost 0.8 points of
	                       * recall at 35 Mb) -- docs/store.md */
	opt->ivf_lists = -1;
	opt->ivf_groups = -1;
	opt->vec_bits = 8;
	opt->max_n_frac = 0.5;
	opt->n_threads = 1;
	opt->progress = 0;
}

/* The resolved options of one build. */
typedef struct {
	const es_encoder_t *enc;
	const char *spec, *path;
	int learned;                  /* a trained encoder, not the k-mer sketch */
	int W, S, kind, M, K, code_bits, nw, step, dim, n_threads, progress, vec_bits;
	double max_n_frac, t0;
} plan_t;

/* What the build makes; freed by build_free. */
typedef struct {
	wrun_t *wrun;                 /* [n_wrun] the window table (store_priv.h) */
	int64_t n_wrun, n_win, n_codes, *cend;
	float *R;                     /* sign: projection [code_bits][dim]; PQ: centroids [M][K][dim/M] */
	size_t nproj;                 /* floats in R */
	int vfd;                      /* the int8 vectors [n_win][dim]: a scratch file (unlinked when made), written as
	                               * they are embedded and read back for PQ, lists and the file (open_scratch) */
	atomic_int io_failed;         /* a read or write of the scratch file failed, with io_errno */
	int io_errno;
	float *scale;                 /* [n_win] int8 scales (what PQ and lists are trained on) */
	uint16_t *scale16;            /* [n_win] 4-bit vectors' scales (vec_bits 4; those vectors follow the int8 ones in
	                               * the scratch file) */
	uint64_t *codes;              /* sign: nw planes of n_codes words; PQ: 64-code blocks (slot order with lists) */
	size_t code_bytes;
	int C;                        /* inverted lists */
	int G;                        /* groups of lists the build assigned through (0: flat), not stored */
	float *ivf_cent;
	ivf_list_t *ivf_list;
	uint32_t *ivf_ids;
	void *lowc;                   /* the low-complexity seed table's section (lowc.h), lowc_size bytes */
	size_t lowc_size;
	int64_t n_pos;                /* code slots */
} build_t;

#define BUILD_BATCH 256     /* windows embedded per es_for item (the encoder sees the same batches for any -t) */
#define PQ_ITEM     4096    /* codes encoded per es_for item */
#define PQ_SAMPLE   65536   /* windows the PQ centroids are trained on */
#define IVF_SAMPLE  262144  /* most windows the list centroids are trained on */
#define IVF_ITERS   10
#define IVF_FLAT_MAX 4096       /* more lists than this: two levels (groups of lists) for training and assignment */
#define IVF_SAMPLE2 (1 << 21)   /* most windows two-level lists are trained on (at least 32 per list below it) */

/* ---------------- options ---------------- */

static int plan_codes(plan_t *P, const es_index_opt_t *opt)
{
	const char *path = P->path;
	int kind = opt->code_kind;
	if (kind != ES_CODE_SIGN && kind != ES_CODE_PQ4 && kind != ES_CODE_PQ6)
		return es_error("%s: unknown code kind %d", path, kind);
	if (kind == ES_CODE_SIGN && (opt->code_bits < 64 || opt->code_bits > 512 || opt->code_bits % 64))
		return es_error("%s: code bits %d must be 64, 128, ..., 512", path, opt->code_bits);
	if (kind != ES_CODE_SIGN && (opt->pq_m < 2 || opt->pq_m > 64 || opt->pq_m % 2 || P->dim % opt->pq_m))
		return es_error("%s: PQ subspaces %d must be even, at most 64, and divide the dimension %d", path, opt->pq_m,
		                P->dim);
	if (opt->code_step < 0 || opt->code_step > 64)
		return es_error("%s: code step %d out of range 1..64 (0: auto)", path, opt->code_step);
	if (opt->ivf_lists < -1 || opt->ivf_lists > ES_INDEX_MAX_LISTS)
		return es_error("%s: list count %d out of range 0..%d", path, opt->ivf_lists, ES_INDEX_MAX_LISTS);
	if (opt->ivf_lists > 0 && kind != ES_CODE_PQ6)
		return es_error("%s: inverted lists need PQ6 codes", path);
	P->kind = kind;
	P->M = opt->pq_m;
	P->K = es_pq_centroids(kind);
	P->code_bits = kind == ES_CODE_PQ4 ? 4 * P->M : kind == ES_CODE_PQ6 ? 6 * P->M : opt->code_bits;
	P->nw = kind == ES_CODE_SIGN ? opt->code_bits / 64 : 0;
	P->step = opt->code_step > 0 ? opt->code_step : P->learned ? 1 : 2;
	return 0;
}

/* Check the options and fill in the automatic ones. 0, or -1 with es_error naming the option and its range. */
static int plan_build(const es_encoder_t *enc, const es_index_opt_t *opt, const char *path, plan_t *P)
{
	memset(P, 0, sizeof *P);
	P->enc = enc;
	P->path = path;
	P->learned = strncmp(es_encoder_name(enc), "kmer", 4) != 0;
	P->dim = es_encoder_dim(enc);
	P->W = opt->w > 0 ? opt->w : P->learned ? 100 : 150;
	P->S = opt->stride > 0 ? opt->stride : P->learned ? 20 : 25;
	if (P->W < 16 || P->W > 100000)
		return es_error("%s: window length %d out of range 16..100000", path, P->W);
	if (P->S < 1 || P->S > P->W)
		return es_error("%s: stride %d out of range 1..%d", path, P->S, P->W);
	if (P->dim < 1 || P->dim > ES_INDEX_MAX_DIM)
		return es_error("%s: encoder dimension %d out of range 1..%d", path, P->dim, ES_INDEX_MAX_DIM);
	if (opt->n_threads < 1 || opt->n_threads > ES_MAX_THREADS)
		return es_error("%s: thread count %d out of range 1..%d", path, opt->n_threads, ES_MAX_THREADS);
	P->spec = opt->encoder_spec ? opt->encoder_spec : "transformer";
	/* the spec is what the aligner reopens: one that names the other kind of encoder would make an unusable index */
	if ((strncmp(P->spec, "kmer", 4) != 0) != P->learned)
		return es_error("%s: encoder spec '%s' does not name the encoder given (%s)", path, P->spec,
		                es_encoder_name(enc));
	if (strlen(P->spec) >= sizeof(((hdr_t *)0)->enc_spec))
		return es_error("%s: encoder spec longer than %zu bytes", path, sizeof(((hdr_t *)0)->enc_spec) - 1);
	if (opt->vec_bits != 8 && (opt->vec_bits != 4 || P->dim % 2))
		return es_error("%s: vector bits %d must be 8, or 4 with an even dimension (%d)", path, opt->vec_bits, P->dim);
	P->vec_bits = opt->vec_bits;
	P->n_threads = opt->n_threads;
	P->progress = opt->progress;
	P->max_n_frac = opt->max_n_frac;
	P->t0 = es_time();
	return plan_codes(P, opt);
}

/* ---------------- windows ---------------- */

/* Windows of w at stride s inside each contig, the last one ending at the contig's end; a contig shorter than w
 * is one window; windows with more than max_n_frac N are skipped. Returns the count; *out holds the window runs
 * (malloc'ed, *n_run of them): a run is extended while the next window is s further in the same contig. */
static int64_t make_windows(const es_ref_t *ref, int w, int s, double max_n_frac, wrun_t **out, int64_t *n_run)
{
	int64_t n = 0, nr = 0, m = 64;
	wrun_t *a = es_malloc(m * sizeof *a);
	for (int c = 0; c < ref->n_contig; c++) {
		int64_t off = ref->contig[c].off, len = ref->contig[c].len, end = off + len;
		int64_t last = len <= w ? off : end - w, first_run = nr;
		for (int64_t b = off;; b += s) {
			if (b > last)
				b = last;
			int64_t e = b + w < end ? b + w : end;
			if ((double)es_ref_count_n(ref, b, e) <= max_n_frac * (double)(e - b)) {
				if (nr > first_run && a[nr - 1].beg + a[nr - 1].n * s == b) {
					a[nr - 1].n++;
				} else {
					if (nr == m) {
						m *= 2;
						a = es_realloc(a, m * sizeof *a);
					}
					a[nr++] = (wrun_t){ .first = n, .beg = b, .n = 1 };
				}
				n++;
			}
			if (b == last)
				break;
		}
	}
	*out = a;
	*n_run = nr;
	return n;
}

static int windows_step(const plan_t *P, const es_ref_t *ref, build_t *B)
{
	B->n_win = make_windows(ref, P->W, P->S, P->max_n_frac, &B->wrun, &B->n_wrun);
	if (B->n_win == 0)
		return es_error("%s: the reference has no window with at most %.0f%% N", P->path, P->max_n_frac * 100);
	if (B->n_win > ES_INDEX_MAX_WINDOWS)
		return es_error("%s: %lld windows exceed the limit of %lld (window ids are 32-bit); use a larger stride",
		                P->path, (long long)B->n_win, ES_INDEX_MAX_WINDOWS);
	B->n_codes = (B->n_win + P->step - 1) / P->step;
	B->n_pos = B->n_codes;
	B->cend = es_malloc(ref->n_contig * sizeof(int64_t));
	for (int c = 0; c < ref->n_contig; c++)
		B->cend[c] = ref->contig[c].off + ref->contig[c].len;
	if (P->progress) {
		int st = P->step;
		const char *kind = P->kind == ES_CODE_PQ4 ? "PQ4" : P->kind == ES_CODE_PQ6 ? "PQ6" : "sign-bit";
		const char *th = st == 1 ? "st" : st == 2 ? "nd" : st == 3 ? "rd" : "th";
		es_log(2, "index", "%lld windows of %d bp at stride %d, encoder %s, %d-bit %s codes of every %d%s window, "
		       "%d thread(s)", (long long)B->n_win, P->W, P->S, es_encoder_name(P->enc), P->code_bits, kind, st, th,
		       P->n_threads);
	}
	return 0;
}

/* The projection for the sign-bit codes: Gaussian rows, fixed seed (stored in the index anyway). */
static float *make_projection(int code_bits, int dim)
{
	float *R = es_malloc((size_t)code_bits * dim * sizeof(float));
	es_rng_t rng;
	es_rng_seed(&rng, 0xc0de5eedULL + (uint64_t)code_bits * 1000 + (uint64_t)dim);
	for (size_t i = 0; i < (size_t)code_bits * dim; i++)
		R[i] = (float)es_rng_normal(&rng);
	return R;
}

static void alloc_outputs(const plan_t *P, build_t *B)
{
	int sign = P->kind == ES_CODE_SIGN;
	B->nproj = sign ? (size_t)P->code_bits * P->dim : (size_t)P->K * P->dim;
	B->R = sign ? make_projection(P->code_bits, P->dim) : es_calloc(B->nproj, sizeof(float));
	B->scale = es_malloc((size_t)B->n_win * sizeof(float));
	B->scale16 = P->vec_bits == 4 ? es_malloc((size_t)B->n_win * sizeof(uint16_t)) : NULL;
	size_t block = (size_t)(P->kind == ES_CODE_PQ4 ? P->M / 2 : P->M) * 64;
	B->code_bytes = sign ? (size_t)B->n_codes * P->nw * sizeof(uint64_t) : (size_t)((B->n_codes + 63) / 64) * block;
	B->codes = es_calloc(B->code_bytes, 1);
}

/* The vectors' scratch file: beside the output (the same disk the index goes to), or in $TMPDIR (else /tmp) for an
 * output written in place (a device); unlinked at once, so nothing is left behind whatever ends the build. At
 * 3.1 Gb the vectors are 9.5 GB, the largest part of the index: they stay out of memory (docs/store.md). */
static int open_scratch(const plan_t *P, build_t *B)
{
	char *tmp = es_tmp_name(P->path);
	const char *dir = getenv("TMPDIR");
	size_t n = strlen(P->path) + (dir ? strlen(dir) : 4) + 32;
	char *name = es_malloc(n);
	if (tmp)
		snprintf(name, n, "%s.vec.XXXXXX", P->path);
	else
		snprintf(name, n, "%s/esalign.vec.XXXXXX", dir && *dir ? dir : "/tmp");
	free(tmp);
	B->vfd = mkstemp(name);
	int ret = 0;
	if (B->vfd < 0)
		ret = es_error("%s: cannot create the build's vector scratch file %s: %s", P->path, name, strerror(errno));
	else
		unlink(name);
	free(name);
	return ret;
}

/* A failed read or write of the scratch file, seen by an es_for item: the first one's errno is kept. */
static void io_fail(build_t *B)
{
	int e = errno;
	if (atomic_exchange(&B->io_failed, 1) == 0)
		B->io_errno = e;
}

/* 0, or -1 with es_error naming the step when an item's scratch I/O failed. */
static int io_check(const plan_t *P, build_t *B, const char *what)
{
	if (!atomic_load(&B->io_failed))
		return 0;
	return es_error("%s: %s: the vector scratch file beside it: %s", P->path, what, strerror(B->io_errno));
}

/* ---------------- embedding ---------------- */

/* Quantise a unit vector to int8 with a per-vector scale (max |x| -> 127): ranking keeps its order to ~1e-3. */
static void quantise(const float *x, int dim, int8_t *q, float *scale)
{
	float mx = 0;
	for (int i = 0; i < dim; i++)
		if (fabsf(x[i]) > mx)
			mx = fabsf(x[i]);
	if (mx == 0) {
		memset(q, 0, dim);
		*scale = 0;
		return;
	}
	float f = 127.0f / mx;
	for (int i = 0; i < dim; i++) {
		long v = lrintf(x[i] * f);
		q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	*scale = mx / 127.0f;
}

typedef struct {
	const plan_t *P;
	const es_ref_t *ref;
	build_t *B;
	uint8_t **buf;      /* [n_threads] BUILD_BATCH * W bases */
	float **emb;        /* [n_threads] BUILD_BATCH * dim floats */
	int8_t **q;         /* [n_threads] BUILD_BATCH * dim int8, then BUILD_BATCH * dim / 2 bytes of 4-bit vectors */
	es_progress_t prog;
	atomic_int failed;
	pthread_mutex_t lock;
	char err[512];      /* the first embedding failure */
} embed_job_t;

/* Window id's int8 vector (into q) and scale, its 4-bit vector (into q4) when asked for, and its sign code when it
 * has one. */
static void store_window(const plan_t *P, build_t *B, int64_t id, const float *x, int8_t *q, uint8_t *q4)
{
	quantise(x, P->dim, q, &B->scale[id]);
	if (P->vec_bits == 4)
		es_quantise4(x, P->dim, q4, &B->scale16[id]);
	if (id % P->step || P->kind != ES_CODE_SIGN)
		return;
	uint64_t code[8];
	es_code_make(B->R, P->code_bits, P->dim, x, code);
	for (int j = 0; j < P->nw; j++)
		B->codes[(int64_t)j * B->n_codes + id / P->step] = code[j];
}

/* Embed the run of windows from s on that overlap one another (consecutive windows inside one contig, before e)
 * with one es_encoder_embed_spans over the reference they cover, into J->emb[tid] from row s - s0. Returns the first
 * window after the run, or -1. */
static int64_t embed_run(embed_job_t *J, int tid, int64_t s0, int64_t s, int64_t e)
{
	const plan_t *P = J->P;
	build_t *B = J->B;
	int beg[BUILD_BATCH], len[BUILD_BATCH];
	int64_t rb = es_wrun_start(B->wrun, B->n_wrun, P->S, s), re = rb, q = s;
	for (; q < e; q++) {
		int64_t wb = es_wrun_start(B->wrun, B->n_wrun, P->S, q);
		if (q > s && wb >= re)
			break;
		int64_t we = es_window_end(J->ref, B->cend, wb, P->W);
		beg[q - s] = (int)(wb - rb);
		len[q - s] = (int)(we - wb);
		re = we > re ? we : re;
	}
	es_ref_get(J->ref, rb, re, J->buf[tid]);
	int ret = es_encoder_embed_spans(P->enc, J->buf[tid], (int)(re - rb), (int)(q - s), beg, len,
	                                 J->emb[tid] + (size_t)(s - s0) * P->dim);
	return ret == 0 ? q : -1;
}

/* es_for item: embed windows [i*BUILD_BATCH, ...), each run of overlapping windows with one pass over its bases
 * (the same vectors as one window at a time: es_encoder_embed_spans), and store them. */
static void embed_batch(void *ctx, int64_t i, int tid)
{
	embed_job_t *J = ctx;
	const plan_t *P = J->P;
	build_t *B = J->B;
	if (atomic_load(&J->failed))
		return;
	int64_t s = i * BUILD_BATCH, e = s + BUILD_BATCH < B->n_win ? s + BUILD_BATCH : B->n_win;
	int64_t r = s;
	while (r >= 0 && r < e)
		r = embed_run(J, tid, s, r, e);
	if (r < 0) {
		pthread_mutex_lock(&J->lock);
		if (!atomic_load(&J->failed))
			snprintf(J->err, sizeof J->err, "%s", es_last_error());
		atomic_store(&J->failed, 1);
		pthread_mutex_unlock(&J->lock);
		return;
	}
	int8_t *q = J->q[tid];
	uint8_t *q4 = (uint8_t *)q + (size_t)BUILD_BATCH * P->dim;
	for (int64_t j = s; j < e; j++)
		store_window(P, B, j, J->emb[tid] + (size_t)(j - s) * P->dim, q + (size_t)(j - s) * P->dim,
		             q4 + (size_t)(j - s) * (P->dim / 2));
	if (es_pwrite_full(B->vfd, q, (size_t)(e - s) * P->dim, s * P->dim) != 0)
		io_fail(B);
	if (P->vec_bits == 4 && es_pwrite_full(B->vfd, q4, (size_t)(e - s) * (P->dim / 2),
	                                       B->n_win * P->dim + s * (P->dim / 2)) != 0)
		io_fail(B);
	es_progress_add(&J->prog, (int)(e - s));
}

static int embed_windows(const plan_t *P, const es_ref_t *ref, build_t *B)
{
	embed_job_t J = { .P = P, .ref = ref, .B = B };
	int nt = P->n_threads;
	J.buf = es_malloc((size_t)nt * sizeof *J.buf);
	J.emb = es_malloc((size_t)nt * sizeof *J.emb);
	J.q = es_malloc((size_t)nt * sizeof *J.q);
	for (int t = 0; t < nt; t++) {
		J.buf[t] = es_malloc((size_t)BUILD_BATCH * P->W);
		J.emb[t] = es_malloc((size_t)BUILD_BATCH * P->dim * sizeof(float));
		J.q[t] = es_malloc((size_t)BUILD_BATCH * P->dim * 3 / 2);
	}
	atomic_init(&J.failed, 0);
	pthread_mutex_init(&J.lock, NULL);
	es_progress_init(&J.prog, "index", "embedding", B->n_win, P->t0, P->progress);
	int ret = es_for(nt, embed_batch, &J, (B->n_win + BUILD_BATCH - 1) / BUILD_BATCH);
	if (ret != 0)
		ret = es_error("%s: embedding: %.400s", P->path, es_last_error());
	else if (atomic_load(&J.failed))
		ret = es_error("%s: embedding failed: %s", P->path, J.err);
	else
		ret = io_check(P, B, "embedding");
	pthread_mutex_destroy(&J.lock);
	for (int t = 0; t < nt; t++) {
		free(J.buf[t]);
		free(J.emb[t]);
		free(J.q[t]);
	}
	free(J.buf);
	free(J.emb);
	free(J.q);
	return ret;
}

/* Windows w0, w0 + step, ... (n of them): their int8 vectors times their scales, as n rows of dim floats (what PQ and
 * list training and encoding see), read from the scratch file in one piece. 0, or -1 (io_fail called). */
static int read_rows(build_t *B, int dim, int64_t w0, int64_t step, int n, float *x)
{
	size_t span = (size_t)((n - 1) * step + 1) * dim;
	int8_t *v = es_malloc(span);
	int ret = es_pread_full(B->vfd, v, span, w0 * dim);
	if (ret != 0)
		io_fail(B);
	for (int i = 0; i < n && ret == 0; i++)
		for (int t = 0; t < dim; t++)
			x[(size_t)i * dim + t] = v[(size_t)i * step * dim + t] * B->scale[w0 + i * step];
	free(v);
	return ret;
}

/* A sample of ns of the windows c * step (0 <= c < n), spread evenly, into x[ns][dim]: one read per row. */
static int read_sample(const plan_t *P, build_t *B, int64_t n, int step, int64_t ns, float *x)
{
	for (int64_t i = 0; i < ns; i++)
		if (read_rows(B, P->dim, (i * n / ns) * step, 1, 1, x + i * P->dim) != 0)
			return io_check(P, B, "reading a training sample");
	return 0;
}

/* Per-thread scratch of n floats each, for an es_for job. */
static float **scratch_new(int nt, size_t n)
{
	float **s = es_malloc((size_t)nt * sizeof *s);
	for (int t = 0; t < nt; t++)
		s[t] = es_malloc(n * sizeof(float));
	return s;
}

static void scratch_free(float **s, int nt)
{
	for (int t = 0; t < nt; t++)
		free(s[t]);
	free(s);
}

/* ---------------- PQ ---------------- */

typedef struct {
	const plan_t *P;
	build_t *B;
	float **x;          /* [n_threads] PQ_ITEM * dim floats */
	es_progress_t prog;
} pq_job_t;

/* es_for item: encode codes [i*PQ_ITEM, ...). */
static void pq_encode_item(void *ctx, int64_t i, int tid)
{
	pq_job_t *J = ctx;
	const plan_t *P = J->P;
	build_t *B = J->B;
	int64_t s = i * PQ_ITEM, e = s + PQ_ITEM < B->n_codes ? s + PQ_ITEM : B->n_codes;
	uint8_t nib[64];
	if (read_rows(B, P->dim, s * P->step, P->step, (int)(e - s), J->x[tid]) != 0)
		return;
	for (int64_t c = s; c < e; c++) {
		es_pq_encode(B->R, P->dim, P->M, P->K, J->x[tid] + (size_t)(c - s) * P->dim, nib);
		if (P->K == 16)
			es_pq_store((uint8_t *)B->codes, P->M, c, nib);
		else
			es_pq6_store((uint8_t *)B->codes, P->M, c, nib);
	}
	es_progress_add(&J->prog, e - s);
}

/* PQ: train the centroids on up to PQ_SAMPLE windows spread evenly over the genome (their int8 vectors,
 * dequantised), then encode every coded window. */
static int pq_build(const plan_t *P, build_t *B)
{
	int dim = P->dim, bits = P->K == 16 ? 4 : 6;
	int64_t ns = B->n_win < PQ_SAMPLE ? B->n_win : PQ_SAMPLE;
	float *x = es_malloc((size_t)ns * dim * sizeof(float));
	if (read_sample(P, B, B->n_win, 1, ns, x) != 0) {
		free(x);
		return -1;
	}
	if (P->progress)
		es_log(2, "index", "training PQ%d centroids (%d subspaces x %d) on %lld windows (%.0f s elapsed)", bits, P->M,
		       P->K, (long long)ns, es_time() - P->t0);
	es_pq_train(x, ns, dim, P->M, P->K, 0x9a4eedULL, B->R);
	free(x);
	if (P->progress)
		es_log(2, "index", "PQ%d centroids trained (%.0f s elapsed); encoding", bits, es_time() - P->t0);
	pq_job_t J = { .P = P, .B = B, .x = scratch_new(P->n_threads, (size_t)PQ_ITEM * dim) };
	es_progress_init(&J.prog, "index", "PQ encoding", B->n_codes, P->t0, P->progress);
	int ret = es_for(P->n_threads, pq_encode_item, &J, (B->n_codes + PQ_ITEM - 1) / PQ_ITEM);
	if (ret != 0)
		ret = es_error("%s: PQ encoding: %.400s", P->path, es_last_error());
	else
		ret = io_check(P, B, "PQ encoding");
	scratch_free(J.x, P->n_threads);
	return ret;
}

/* ---------------- inverted lists ---------------- */

/* Measured on the 70 Mb chrX (docs/store.md): about 1,024 codes per list (1,024 lists beat 4,096 there at the
 * same fraction scanned); a small genome is scanned whole. */
static int ivf_auto_lists(int64_t n_codes)
{
	if (n_codes < 32768)
		return 0;
	double target = n_codes / 1024.0;
	int C = 32;
	while (C < ES_INDEX_MAX_LISTS && C * 2 <= target * 1.4142)   /* the power of two nearest the target */
		C *= 2;
	return C;
}

/* Lists for a learned encoder only, unless asked for. Its true pairs sit far above the background, so a query's
 * coarse centroids point at the right lists; the kmer sketch is near-orthogonal noise apart from the shared k-mers
 * and lost 1-2 points of recall even scanning an eighth of the lists (docs/store.md). */
static int list_count(const plan_t *P, const es_index_opt_t *opt, int64_t n_codes)
{
	int C = P->kind != ES_CODE_PQ6 ? 0 : opt->ivf_lists >= 0 ? opt->ivf_lists : P->learned ? ivf_auto_lists(n_codes)
	                                                                                         : 0;
	return C > n_codes ? (int)n_codes : C;
}

/* Groups of lists: -1 auto (none up to IVF_FLAT_MAX lists, else the power of two nearest sqrt(C)), 0 none. */
static int group_count(const es_index_opt_t *opt, int C)
{
	if (opt->ivf_groups >= 0)
		return opt->ivf_groups < C ? opt->ivf_groups : C;
	if (C <= IVF_FLAT_MAX)
		return 0;
	int G = 1;
	while ((int64_t)G * G * 2 < C)
		G *= 2;
	return G;
}

typedef struct {
	const plan_t *P;
	build_t *B;
	const float *cent, *gcent;
	const int *lbeg;              /* two levels: group g's lists [lbeg[g], lbeg[g+1]) */
	int32_t *lab;
	float **x, **scr;   /* [n_threads] ES_IVF_ASSIGN_BLOCK rows of dim / the assignment's scratch */
	es_progress_t prog;
} ivf_job_t;

/* es_for item: the nearest list of codes [i*ES_IVF_ASSIGN_BLOCK, ...), a fixed block (see ivf.h). */
static void ivf_assign_item(void *ctx, int64_t i, int tid)
{
	ivf_job_t *J = ctx;
	build_t *B = J->B;
	int dim = J->P->dim;
	int64_t s = i * ES_IVF_ASSIGN_BLOCK;
	int m = B->n_codes - s < ES_IVF_ASSIGN_BLOCK ? (int)(B->n_codes - s) : ES_IVF_ASSIGN_BLOCK;
	if (read_rows(B, dim, s * J->P->step, J->P->step, m, J->x[tid]) != 0)
		return;
	if (B->G > 0)
		es_ivf_assign2(J->gcent, B->G, J->cent, J->lbeg, dim, J->x[tid], m, J->scr[tid], J->lab + s);
	else
		es_ivf_assign(J->cent, B->C, dim, J->x[tid], m, J->scr[tid], J->lab + s);
	es_progress_add(&J->prog, m);
}

/* The list centroids, on a sample of the coded windows spread over the genome: flat spherical k-means, or with
 * groups the two-level training of ivf.h (group centroids into gcent, group g's lists at lbeg[g]). */
static int ivf_train(const plan_t *P, build_t *B, float *gcent, int *lbeg)
{
	int dim = P->dim, C = B->C;
	int64_t ns = B->n_codes < (int64_t)(B->G ? 32 : 64) * C ? B->n_codes : (int64_t)(B->G ? 32 : 64) * C;
	if (ns > (B->G ? IVF_SAMPLE2 : IVF_SAMPLE))
		ns = B->G ? IVF_SAMPLE2 : IVF_SAMPLE;
	float *x = es_malloc((size_t)ns * dim * sizeof(float));
	if (read_sample(P, B, B->n_codes, P->step, ns, x) != 0) {
		free(x);
		return -1;
	}
	if (P->progress)
		es_log(2, "index", "training %d list centroids%s on %lld windows (%.0f s elapsed)", C,
		       B->G ? " in two levels" : "", (long long)ns, es_time() - P->t0);
	int ret = B->G ? es_ivf_train2(x, ns, dim, C, B->G, IVF_ITERS, P->n_threads, 0x1f5eedULL, gcent, lbeg,
	                               B->ivf_cent)
	               : es_ivf_train(x, ns, dim, C, IVF_ITERS, P->n_threads, 0x1f5eedULL, B->ivf_cent);
	free(x);
	if (ret != 0)
		return es_error("%s: list training: %.400s", P->path, es_last_error());
	if (P->progress && B->G)
		es_log(2, "index", "%d groups of 1-%d lists", B->G, es_ivf_group_max(lbeg, B->G));
	return 0;
}

/* The list centroids (ivf_train), then every code's list into lab[n_codes]. */
static int ivf_train_assign(const plan_t *P, build_t *B, int32_t *lab)
{
	int dim = P->dim, nt = P->n_threads, G = B->G;
	B->ivf_cent = es_malloc((size_t)B->C * dim * sizeof(float));
	float *gcent = G ? es_malloc((size_t)G * dim * sizeof(float)) : NULL;
	int *lbeg = G ? es_malloc(((size_t)G + 1) * sizeof(int)) : NULL;
	int ret = ivf_train(P, B, gcent, lbeg);
	if (ret == 0) {
		if (P->progress)
			es_log(2, "index", "list centroids trained (%.0f s elapsed); assigning windows to lists",
			       es_time() - P->t0);
		ivf_job_t J = { .P = P, .B = B, .cent = B->ivf_cent, .gcent = gcent, .lbeg = lbeg, .lab = lab };
		J.x = scratch_new(nt, (size_t)ES_IVF_ASSIGN_BLOCK * dim);
		J.scr = scratch_new(nt, G ? es_ivf_assign2_scratch(G, lbeg, dim) : (size_t)ES_IVF_ASSIGN_BLOCK * B->C);
		es_progress_init(&J.prog, "index", "list assignment", B->n_codes, P->t0, P->progress);
		ret = es_for(nt, ivf_assign_item, &J, (B->n_codes + ES_IVF_ASSIGN_BLOCK - 1) / ES_IVF_ASSIGN_BLOCK);
		if (ret != 0)
			ret = es_error("%s: list assignment: %.400s", P->path, es_last_error());
		else
			ret = io_check(P, B, "list assignment");
		scratch_free(J.x, nt);
		scratch_free(J.scr, nt);
	}
	free(gcent);
	free(lbeg);
	return ret;
}

/* Lists one after another, each starting on a 64-slot block so the PQ6 scan kernel runs on a list unchanged;
 * slots keep the codes' order inside a list. Replaces B->codes by the codes in slot order. */
static void ivf_layout(const plan_t *P, build_t *B, const int32_t *lab)
{
	int M = P->M, C = B->C;
	ivf_list_t *L = es_calloc(C, sizeof *L);
	for (int64_t c = 0; c < B->n_codes; c++)
		L[lab[c]].len++;
	int64_t pos = 0;
	for (int l = 0; l < C; l++) {
		L[l].beg = pos;
		pos += (L[l].len + 63) & ~(int64_t)63;
	}
	uint32_t *ids = es_malloc((size_t)pos * sizeof(uint32_t));
	memset(ids, 0xff, (size_t)pos * sizeof(uint32_t));
	uint8_t *codes = es_calloc((size_t)(pos / 64) * M * 64, 1);
	const uint8_t *src = (const uint8_t *)B->codes;
	int64_t *fill = es_calloc(C, sizeof(int64_t));
	for (int64_t c = 0; c < B->n_codes; c++) {
		int l = lab[c];
		int64_t p = L[l].beg + fill[l]++;
		ids[p] = (uint32_t)c;
		for (int j = 0; j < M; j++)
			codes[(p / 64) * M * 64 + j * 64 + p % 64] = src[(c / 64) * M * 64 + j * 64 + c % 64];
	}
	free(fill);
	free(B->codes);
	B->codes = (uint64_t *)(void *)codes;
	B->code_bytes = (size_t)(pos / 64) * M * 64;
	B->ivf_list = L;
	B->ivf_ids = ids;
	B->n_pos = pos;
}

static int ivf_build(const plan_t *P, build_t *B)
{
	int32_t *lab = es_malloc((size_t)B->n_codes * sizeof(int32_t));
	int ret = ivf_train_assign(P, B, lab);
	if (ret == 0)
		ivf_layout(P, B, lab);
	free(lab);
	return ret;
}

/* ---------------- the file ---------------- */

/* The header's fields (memset first: the struct's bytes are written and checksummed as they are). */
static void fill_header(const plan_t *P, const es_ref_t *ref, const build_t *B, hdr_t *h)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, ES_INDEX_MAGIC, 8);
	h->version = ES_INDEX_VERSION;
	h->hdr_size = HDR_SIZE;
	h->w = (uint32_t)P->W;
	h->stride = (uint32_t)P->S;
	h->dim = (uint32_t)P->dim;
	h->code_bits = (uint32_t)P->code_bits;
	h->code_kind = (uint32_t)P->kind;
	h->pq_m = P->kind != ES_CODE_SIGN ? (uint32_t)P->M : 0;
	h->n_contig = ref->n_contig;
	h->ref_len = ref->len;
	h->n_nrun = ref->n_nrun;
	h->n_windows = B->n_win;
	h->code_step = (uint32_t)P->step;
	h->n_codes = B->n_codes;
	h->ivf_lists = (uint32_t)B->C;
	h->n_pos = B->n_pos;
	h->n_wrun = B->n_wrun;
	h->vec_bits = (uint32_t)P->vec_bits;
	h->enc_checksum = es_encoder_checksum(P->enc);
	snprintf(h->enc_spec, sizeof h->enc_spec, "%s", P->spec);
	snprintf(h->enc_name, sizeof h->enc_name, "%s", es_encoder_name(P->enc));
}

static int write_index(const plan_t *P, const es_ref_t *ref, const build_t *B, int64_t stats[2])
{
	size_t names_len = 0;
	for (int c = 0; c < ref->n_contig; c++)
		names_len += strlen(ref->contig[c].name) + 1;
	char *names = es_malloc(names_len);
	disk_contig_t *dc = es_malloc(ref->n_contig * sizeof *dc);
	size_t p = 0;
	for (int c = 0; c < ref->n_contig; c++) {
		size_t l = strlen(ref->contig[c].name) + 1;
		memcpy(names + p, ref->contig[c].name, l);
		dc[c] = (disk_contig_t){ .len = ref->contig[c].len, .off = ref->contig[c].off, .name_off = (int64_t)p };
		p += l;
	}
	const void *scale = P->vec_bits == 4 ? (const void *)B->scale16 : (const void *)B->scale;
	const void *sp[N_SEC] = { dc, names, ref->nrun, ref->pac, B->wrun, B->codes, NULL, scale, B->R,
		B->ivf_cent, B->ivf_list, B->ivf_ids, B->lowc };
	size_t ssz[N_SEC] = { ref->n_contig * sizeof *dc, names_len, ref->n_nrun * sizeof(es_nrun_t),
		(size_t)(ref->len + 3) / 4, B->n_wrun * sizeof(wrun_t), B->code_bytes,
		(size_t)B->n_win * P->dim * P->vec_bits / 8, B->n_win * (P->vec_bits == 4 ? 2 : 4), B->nproj * sizeof(float), (size_t)B->C * P->dim * sizeof(float),
		(size_t)B->C * sizeof(ivf_list_t), B->C ? (size_t)B->n_pos * sizeof(uint32_t) : 0, B->lowc_size };
	hdr_t h;
	fill_header(P, ref, B, &h);
	for (int i = 0; i < N_SEC; i++)
		h.sec[i].size = ssz[i];
	int ret = es_index_write(P->path, &h, sp, B->vfd, P->vec_bits == 4 ? B->n_win * P->dim : 0);
	if (ret == 0 && stats) {
		stats[0] = B->n_win;
		stats[1] = h.file_size;
	}
	free(names);
	free(dc);
	return ret;
}

static void build_free(build_t *B)
{
	free(B->wrun);
	free(B->cend);
	free(B->R);
	if (B->vfd >= 0)
		close(B->vfd);
	free(B->scale);
	free(B->scale16);
	free(B->codes);
	free(B->ivf_cent);
	free(B->ivf_list);
	free(B->ivf_ids);
	free(B->lowc);
}

int es_index_build(const es_ref_t *ref, const es_encoder_t *enc, const es_index_opt_t *opt, const char *path,
                   int64_t stats[2])
{
	plan_t P;
	build_t B;
	memset(&B, 0, sizeof B);
	B.vfd = -1;
	int ret = -1;
	if (plan_build(enc, opt, path, &P) != 0 || windows_step(&P, ref, &B) != 0 || open_scratch(&P, &B) != 0)
		goto done;
	alloc_outputs(&P, &B);
	if (embed_windows(&P, ref, &B) != 0)
		goto done;
	if (P.kind != ES_CODE_SIGN && pq_build(&P, &B) != 0)
		goto done;
	B.C = list_count(&P, opt, B.n_codes);
	B.G = B.C > 0 ? group_count(opt, B.C) : 0;
	if (B.C > 0 && ivf_build(&P, &B) != 0)
		goto done;
	if (es_lowc_build(ref, opt->progress, &B.lowc, &B.lowc_size) != 0)
		goto done;
	ret = write_index(&P, ref, &B, stats);
done:
	build_free(&B);
	return ret;
}
