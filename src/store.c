/* store.c — the index file: build (windows, threaded embedding, int8 vectors, sign-bit codes, checksummed sections),
 * load by mmap with every check a damaged or foreign file needs, exact and approximate top-k search, and the
 * read -> candidate loci step the aligner calls. Format and design figures: docs/store.md. */
#include "store.h"
#include "util.h"
#include "ivf.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* ---------------- on-disk layout ----------------
 * [header 4096 bytes][sections, each starting on a 64-byte boundary]. All integers little-endian (x86-64 native). */
enum { SEC_CONTIG, SEC_NAMES, SEC_NRUN, SEC_PAC, SEC_WBEG, SEC_CODES, SEC_VEC, SEC_SCALE, SEC_PROJ,
	SEC_IVF_CENT, SEC_IVF_LIST, SEC_IVF_IDS, N_SEC };
static const char *sec_name[N_SEC] = { "contigs", "contig names", "N runs", "2-bit reference", "window table",
	"binary codes", "int8 vectors", "vector scales", "projection", "list centroids", "list table", "list members" };
#define HDR_SIZE 4096

typedef struct { uint64_t off, size, ck; } sec_t;
typedef struct {
	char magic[8];
	uint32_t version, hdr_size;
	uint32_t w, stride, dim, code_bits;
	int32_t n_contig;
	uint32_t code_step;       /* window c*code_step has code c: codes cover every code_step-th window */
	uint32_t code_kind, pq_m; /* ES_CODE_SIGN (code_bits sign bits), ES_CODE_PQ4/PQ6 (pq_m subspaces, code_bits = 4 or 6 * pq_m) */
	int64_t ref_len, n_nrun, n_windows, n_codes, file_size;
	uint32_t ivf_lists, ivf_pad; /* inverted lists (PQ6 only; 0: none, the codes are in code order) */
	int64_t n_pos;            /* code slots in the codes section: n_codes, or with lists their 64-aligned total */
	uint64_t enc_checksum;
	char enc_spec[512];
	char enc_name[128];
	sec_t sec[N_SEC];
	uint64_t hdr_ck;          /* es_fast_checksum of the header bytes with this field zero */
} hdr_t;
_Static_assert(sizeof(hdr_t) <= HDR_SIZE, "the header struct must fit the header block");
typedef struct { int64_t len, off, name_off; } disk_contig_t;   /* contig covers global [off, off+len) */
typedef struct { int64_t beg, len; } ivf_list_t;   /* a list's code slots [beg, beg+len) */

struct es_index_s {
	char *path;
	uint8_t *map;
	size_t map_size;
	hdr_t hdr;
	es_ref_t ref;              /* arrays point into the map except contig[] (names point into the map) */
	const int64_t *wbeg;       /* [n_windows] global start of each window */
	const uint64_t *codes;     /* nw planes of n_codes words */
	const int8_t *vec;         /* [n_windows][dim] */
	const float *scale;        /* [n_windows] */
	const float *proj;         /* sign: [code_bits][dim] projection; pq: [pq_m][K][dim/pq_m] centroids */
	const uint8_t *pq;         /* pq codes, 64-window blocks (store.h); with lists, slot order */
	const float *ivf_cent;     /* [ivf_lists][dim] unit centroids */
	const ivf_list_t *ivf_list;/* [ivf_lists] slots [beg, beg+len) of each list, beg a multiple of 64 */
	const uint32_t *ivf_ids;   /* [n_pos] code index of each slot (increasing inside a list), UINT32_MAX for padding */
	int nprobe;
	int64_t *contig_end;       /* [n_contig] off+len, to clip windows */
	int rerank;
};

void es_index_opt_init(es_index_opt_t *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->encoder_spec = "kmer";
	opt->w = 0;        /* auto: 150 for kmer, 100 for a learned encoder (docs/store.md, "One index for 100-250 bp") */
	opt->stride = 0;   /* auto: 25 for kmer, 20 for a learned encoder */
	opt->code_kind = ES_CODE_PQ6;
	opt->pq_m = 16;
	opt->code_bits = 128;
	opt->code_step = 0;   /* auto: 2 for kmer (5,000 mason reads per length, chrX 70 Mb: same accuracy, 22-28% faster),
	                       * 1 for a learned encoder (its lists scan a fraction anyway; step 2 lost 0.8 points of
	                       * recall at 35 Mb) -- docs/store.md */
	opt->ivf_lists = -1;
	opt->max_n_frac = 0.5;
	opt->n_threads = 1;
	opt->progress = 0;
}

/* The projection for the sign-bit codes: Gaussian rows, fixed seed (stored in the index anyway). */
static float *make_projection(int code_bits, int dim)
{
	float *R = es_malloc((size_t)code_bits * dim * sizeof(float));
	es_rng_t rng;
	es_rng_seed(&rng, 0xc0de5eedULL + (uint64_t)code_bits * 1000 + (uint64_t)dim);
	for (size_t i = 0; i < (size_t)code_bits * dim; i++) R[i] = (float)es_rng_normal(&rng);
	return R;
}

/* ---------------- windows ---------------- */

/* Windows of w at stride s inside each contig, the last one ending at the contig's end; a contig shorter than w
 * is one window; windows with more than max_n_frac N are skipped. Returns the count; *out is malloc'ed. */
static int64_t make_windows(const es_ref_t *ref, int w, int s, double max_n_frac, int64_t **out)
{
	int64_t n = 0, m = 1024;
	int64_t *a = es_malloc(m * sizeof(int64_t));
	for (int c = 0; c < ref->n_contig; c++) {
		int64_t off = ref->contig[c].off, len = ref->contig[c].len, end = off + len;
		int64_t last = len <= w ? off : end - w;
		for (int64_t b = off;; b += s) {
			if (b > last) b = last;
			int64_t e = b + w < end ? b + w : end;
			if ((double)es_ref_count_n(ref, b, e) <= max_n_frac * (double)(e - b)) {
				if (n == m) { m *= 2; a = es_realloc(a, m * sizeof(int64_t)); }
				a[n++] = b;
			}
			if (b == last) break;
		}
	}
	*out = a;
	return n;
}

/* ---------------- build ---------------- */

typedef struct {
	const es_ref_t *ref;
	const es_encoder_t *enc;
	const int64_t *wbeg;
	int64_t n_win, *cend;
	int w, dim, code_bits, code_step, code_kind;
	int64_t n_codes;
	const float *R;
	int8_t *vec;
	float *scale;
	uint64_t *codes;
	atomic_llong next, done;
	atomic_int failed;
	char err[512];
	pthread_mutex_t lock;
} build_t;

#define BUILD_BATCH 256

static int64_t window_end(const int64_t *cend, int n_contig, const es_ref_t *ref, int64_t b, int w)
{
	(void)n_contig;
	int c = es_ref_contig_at(ref, b);
	int64_t e = b + w;
	return e < cend[c] ? e : cend[c];
}

/* Quantise a unit vector to int8 with a per-vector scale (max |x| -> 127): ranking keeps its order to ~1e-3. */
static void quantise(const float *x, int dim, int8_t *q, float *scale)
{
	float mx = 0;
	for (int i = 0; i < dim; i++) if (fabsf(x[i]) > mx) mx = fabsf(x[i]);
	if (mx == 0) { memset(q, 0, dim); *scale = 0; return; }
	float f = 127.0f / mx;
	for (int i = 0; i < dim; i++) { long v = lrintf(x[i] * f); q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v); }
	*scale = mx / 127.0f;
}

static void *build_worker(void *arg)
{
	build_t *B = arg;
	int dim = B->dim, nw = B->code_bits / 64;
	uint8_t *buf = es_malloc((size_t)BUILD_BATCH * B->w);
	const uint8_t *seqs[BUILD_BATCH];
	int lens[BUILD_BATCH];
	float *emb = es_malloc((size_t)BUILD_BATCH * dim * sizeof(float));
	uint64_t code[8];
	for (;;) {
		int64_t s = atomic_fetch_add(&B->next, BUILD_BATCH);
		if (s >= B->n_win || atomic_load(&B->failed)) break;
		int64_t e = s + BUILD_BATCH < B->n_win ? s + BUILD_BATCH : B->n_win;
		int n = (int)(e - s);
		for (int i = 0; i < n; i++) {
			int64_t b = B->wbeg[s + i], we = window_end(B->cend, B->ref->n_contig, B->ref, b, B->w);
			es_ref_get(B->ref, b, we, buf + (size_t)i * B->w);
			seqs[i] = buf + (size_t)i * B->w;
			lens[i] = (int)(we - b);
		}
		if (es_encoder_embed(B->enc, n, seqs, lens, emb) != 0) {
			pthread_mutex_lock(&B->lock);
			if (!atomic_load(&B->failed)) snprintf(B->err, sizeof B->err, "%s", es_last_error());
			atomic_store(&B->failed, 1);
			pthread_mutex_unlock(&B->lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			int64_t id = s + i;
			const float *x = emb + (size_t)i * dim;
			quantise(x, dim, B->vec + id * dim, &B->scale[id]);
			if (id % B->code_step || B->code_kind != ES_CODE_SIGN) continue;
			es_code_make(B->R, B->code_bits, dim, x, code);
			for (int j = 0; j < nw; j++) B->codes[(int64_t)j * B->n_codes + id / B->code_step] = code[j];
		}
		atomic_fetch_add(&B->done, n);
	}
	free(buf); free(emb);
	return NULL;
}

/* Progress lines (every 2 s: percent, elapsed, ETA) from the calling thread while workers advance *done towards
 * total; returns when done + slack >= total (the workers' counts lag by up to slack). */
static void wait_progress(const es_index_opt_t *opt, atomic_llong *done, int64_t total, int64_t slack,
                          const char *what, double t0)
{
	double t1 = es_time(), last = t1;
	while (opt->progress) {
		int64_t d = atomic_load(done);
		if (d + slack >= total) break;
		usleep(50000);
		double now = es_time();
		if (now - last >= 2.0) {
			last = now;
			double f = (double)d / total;
			es_log(2, "index", "%s %5.1f%%  %.0f s elapsed, ETA %.0f s", what, 100 * f, now - t0, f > 0 ? (now - t1) * (1 - f) / f : 0);
		}
	}
}

/* Window w's int8 vector times its scale, back to dim floats (what PQ and list training and encoding see). */
static void dequant(const build_t *B, int64_t w, float *x)
{
	for (int t = 0; t < B->dim; t++) x[t] = B->vec[w * B->dim + t] * B->scale[w];
}

/* PQ: train the centroids on up to 65,536 windows spread evenly over the genome (their int8 vectors, dequantised),
 * then encode every coded window, in parallel. */
typedef struct { build_t *B; int M, K; const float *cb; int64_t beg, end; } pq_job_t;
static void *pq_encode_worker(void *arg)
{
	pq_job_t *j = arg;
	build_t *B = j->B;
	float *x = es_malloc(B->dim * sizeof(float));
	uint8_t nib[64];
	for (int64_t c = j->beg; c < j->end; c++) {
		dequant(B, c * B->code_step, x);
		es_pq_encode(j->cb, B->dim, j->M, j->K, x, nib);
		if (j->K == 16) es_pq_store((uint8_t *)B->codes, j->M, c, nib);
		else es_pq6_store((uint8_t *)B->codes, j->M, c, nib);
		if ((c - j->beg) % 4096 == 4095) atomic_fetch_add(&B->done, 4096);
	}
	free(x);
	return NULL;
}

static void pq_build(build_t *B, int M, int K, float *cb, const es_index_opt_t *opt, double t0)
{
	int dim = B->dim;
	int64_t ns = B->n_win < 65536 ? B->n_win : 65536;
	float *x = es_malloc((size_t)ns * dim * sizeof(float));
	for (int64_t i = 0; i < ns; i++) dequant(B, i * B->n_win / ns, x + i * dim);
	if (opt->progress) es_log(2, "index", "training PQ%d centroids (%d subspaces x %d) on %lld windows (%.0f s elapsed)", K == 16 ? 4 : 6, M, K, (long long)ns, es_time() - t0);
	es_pq_train(x, ns, dim, M, K, 0x9a4eedULL, cb);
	free(x);
	if (opt->progress) es_log(2, "index", "PQ%d centroids trained (%.0f s elapsed); encoding", K == 16 ? 4 : 6, es_time() - t0);
	int nt = opt->n_threads < 1 ? 1 : opt->n_threads > 64 ? 64 : opt->n_threads;
	pq_job_t job[64];
	pthread_t th[64];
	int ok[64], started = 0;
	atomic_store(&B->done, 0);
	for (int t = 0; t < nt; t++) {
		job[t] = (pq_job_t){ B, M, K, cb, B->n_codes * t / nt, B->n_codes * (t + 1) / nt };
		ok[t] = pthread_create(&th[t], NULL, pq_encode_worker, &job[t]) == 0;
		if (!ok[t]) pq_encode_worker(&job[t]);
		started += ok[t];
	}
	if (started) wait_progress(opt, &B->done, B->n_codes, 4096 * nt, "PQ encoding", t0);
	for (int t = 0; t < nt; t++) if (ok[t]) pthread_join(th[t], NULL);
}

/* IVF: spherical k-means centroids trained on a sample of the coded windows, then every code goes to the list of its
 * nearest centroid. Lists are laid out one after another, each starting on a 64-slot block, so the PQ6 scan kernel
 * runs on a list unchanged; slots keep the codes' order inside a list. */
#define IVF_ITERS 10
static int ivf_auto_lists(int64_t n_codes)
{
	/* measured on the 70 Mb chrX (docs/store.md): about 1,024 codes per list (1,024 lists beat 4,096 there at the
	 * same fraction scanned); a small genome is scanned whole */
	if (n_codes < 32768) return 0;
	double target = n_codes / 1024.0;
	int C = 32;
	while (C < 65536 && C * 2 <= target * 1.4142) C *= 2;   /* the power of two nearest the target */
	return C;
}

typedef struct { build_t *B; const float *cent; int C; int32_t *lab; atomic_llong next; } ivf_job_t;
static void *ivf_assign_worker(void *arg)
{
	ivf_job_t *j = arg;
	build_t *B = j->B;
	float *x = es_malloc((size_t)ES_IVF_ASSIGN_BLOCK * B->dim * sizeof(float));
	float *scr = es_malloc((size_t)ES_IVF_ASSIGN_BLOCK * j->C * sizeof(float));
	for (;;) {
		int64_t s = atomic_fetch_add(&j->next, ES_IVF_ASSIGN_BLOCK);
		if (s >= B->n_codes) break;
		int m = B->n_codes - s < ES_IVF_ASSIGN_BLOCK ? (int)(B->n_codes - s) : ES_IVF_ASSIGN_BLOCK;
		for (int i = 0; i < m; i++) dequant(B, (s + i) * B->code_step, x + (size_t)i * B->dim);
		es_ivf_assign(j->cent, j->C, B->dim, x, m, scr, j->lab + s);
		atomic_fetch_add(&B->done, m);
	}
	free(x); free(scr);
	return NULL;
}

/* Returns the codes in slot order (replacing B->codes' content layout) and fills the list table and slot ids. */
static void ivf_build(build_t *B, int M, int C, const es_index_opt_t *opt, double t0, float **cent_out,
                      ivf_list_t **list_out, uint32_t **ids_out, uint8_t **codes_out, int64_t *n_pos_out)
{
	int dim = B->dim;
	int64_t ns = B->n_codes < (int64_t)64 * C ? B->n_codes : (int64_t)64 * C;
	if (ns > 262144) ns = 262144;
	float *x = es_malloc((size_t)ns * dim * sizeof(float)), *cent = es_malloc((size_t)C * dim * sizeof(float));
	for (int64_t i = 0; i < ns; i++) dequant(B, (i * B->n_codes / ns) * B->code_step, x + i * dim);
	if (opt->progress) es_log(2, "index", "training %d list centroids on %lld windows (%.0f s elapsed)", C, (long long)ns, es_time() - t0);
	es_ivf_train(x, ns, dim, C, IVF_ITERS, opt->n_threads, 0x1f5eedULL, cent);
	free(x);
	if (opt->progress) es_log(2, "index", "list centroids trained (%.0f s elapsed); assigning windows to lists", es_time() - t0);
	int32_t *lab = es_malloc((size_t)B->n_codes * sizeof(int32_t));
	ivf_job_t job = { B, cent, C, lab, 0 };
	atomic_init(&job.next, 0);
	atomic_store(&B->done, 0);
	int nt = opt->n_threads < 1 ? 1 : opt->n_threads > 64 ? 64 : opt->n_threads;
	pthread_t th[64];
	int ok[64], started = 0;
	for (int t = 0; t < nt; t++) { ok[t] = pthread_create(&th[t], NULL, ivf_assign_worker, &job) == 0; started += ok[t]; }
	if (!started) ivf_assign_worker(&job);
	else wait_progress(opt, &B->done, B->n_codes, 0, "list assignment", t0);
	for (int t = 0; t < nt; t++) if (ok[t]) pthread_join(th[t], NULL);
	ivf_list_t *L = es_calloc(C, sizeof *L);
	for (int64_t c = 0; c < B->n_codes; c++) L[lab[c]].len++;
	int64_t pos = 0;
	for (int l = 0; l < C; l++) { L[l].beg = pos; pos += (L[l].len + 63) & ~(int64_t)63; }
	uint32_t *ids = es_malloc((size_t)pos * sizeof(uint32_t));
	memset(ids, 0xff, (size_t)pos * sizeof(uint32_t));
	uint8_t *codes = es_calloc((size_t)(pos / 64) * M * 64, 1);
	const uint8_t *src = (const uint8_t *)B->codes;
	int64_t *fill = es_calloc(C, sizeof(int64_t));
	for (int64_t c = 0; c < B->n_codes; c++) {
		int l = lab[c];
		int64_t p = L[l].beg + fill[l]++;
		ids[p] = (uint32_t)c;
		for (int j = 0; j < M; j++) codes[(p / 64) * M * 64 + j * 64 + p % 64] = src[(c / 64) * M * 64 + j * 64 + c % 64];
	}
	free(fill); free(lab);
	*cent_out = cent; *list_out = L; *ids_out = ids; *codes_out = codes; *n_pos_out = pos;
}

static int write_all(FILE *fp, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, fp) == n ? 0 : -1; }

int es_index_build(const es_ref_t *ref, const es_encoder_t *enc, const es_index_opt_t *opt, const char *path,
                   int64_t stats[2])
{
	int learned = strncmp(enc->name, "kmer", 4) != 0;   /* a trained encoder, not the k-mer sketch */
	int W = opt->w > 0 ? opt->w : learned ? 100 : 150, S = opt->stride > 0 ? opt->stride : learned ? 20 : 25;
	if (W < 16 || W > 100000) return es_error("%s: window length %d out of range 16..100000", path, W);
	if (S < 1 || S > W) return es_error("%s: stride %d out of range 1..%d", path, S, W);
	int kind = opt->code_kind, M = opt->pq_m, K = kind == ES_CODE_PQ6 ? 64 : 16;
	int code_bits = kind == ES_CODE_PQ4 ? 4 * M : kind == ES_CODE_PQ6 ? 6 * M : opt->code_bits;
	if (kind != ES_CODE_SIGN && kind != ES_CODE_PQ4 && kind != ES_CODE_PQ6) return es_error("%s: unknown code kind %d", path, kind);
	if (kind == ES_CODE_SIGN && (opt->code_bits < 64 || opt->code_bits > 512 || opt->code_bits % 64))
		return es_error("%s: code bits %d must be 64, 128, ..., 512", path, opt->code_bits);
	if (kind != ES_CODE_SIGN && (M < 2 || M > 64 || M % 2 || enc->dim % M))
		return es_error("%s: PQ subspaces %d must be even, at most 64, and divide the dimension %d", path, M, enc->dim);
	if (opt->code_step < 0 || opt->code_step > 64) return es_error("%s: code step %d out of range 1..64 (0: auto)", path, opt->code_step);
	int step = opt->code_step > 0 ? opt->code_step : learned ? 1 : 2;
	if (opt->ivf_lists < -1 || opt->ivf_lists > 65536) return es_error("%s: list count %d out of range 0..65536", path, opt->ivf_lists);
	if (opt->ivf_lists > 0 && kind != ES_CODE_PQ6) return es_error("%s: inverted lists need PQ6 codes", path);
	const char *spec = opt->encoder_spec ? opt->encoder_spec : "kmer";
	if (strlen(spec) >= sizeof(((hdr_t *)0)->enc_spec)) return es_error("%s: encoder spec too long", path);
	double t0 = es_time();
	int dim = enc->dim, nw = kind == ES_CODE_SIGN ? opt->code_bits / 64 : 0;
	int64_t *wbeg = NULL;
	int64_t n_win = make_windows(ref, W, S, opt->max_n_frac, &wbeg);
	if (n_win == 0) { free(wbeg); return es_error("%s: the reference has no window with at most %.0f%% N", path, opt->max_n_frac * 100); }
	if (n_win > (int64_t)UINT32_MAX) { free(wbeg); return es_error("%s: %lld windows exceed the 2^32 limit; use a larger stride", path, (long long)n_win); }
	if (opt->progress) es_log(2, "index", "%lld windows of %d bp at stride %d, encoder %s, %d-bit %s codes of every %d%s window, %d thread(s)",
		(long long)n_win, W, S, enc->name, code_bits, kind == ES_CODE_PQ4 ? "PQ4" : kind == ES_CODE_PQ6 ? "PQ6" : "sign-bit", step, step == 1 ? "st" : step == 2 ? "nd" : step == 3 ? "rd" : "th", opt->n_threads);

	build_t B;
	memset(&B, 0, sizeof B);
	B.ref = ref; B.enc = enc; B.wbeg = wbeg; B.n_win = n_win; B.w = W; B.dim = dim; B.code_bits = code_bits; B.code_kind = kind;
	B.code_step = step; B.n_codes = (n_win + step - 1) / step;
	B.cend = es_malloc(ref->n_contig * sizeof(int64_t));
	for (int c = 0; c < ref->n_contig; c++) B.cend[c] = ref->contig[c].off + ref->contig[c].len;
	float *R = kind == ES_CODE_SIGN ? make_projection(opt->code_bits, dim) : es_calloc((size_t)K * dim, sizeof(float));
	size_t nproj = kind == ES_CODE_SIGN ? (size_t)opt->code_bits * dim : (size_t)K * dim;
	B.R = R;
	B.vec = es_malloc((size_t)n_win * dim);
	B.scale = es_malloc((size_t)n_win * sizeof(float));
	size_t code_bytes = kind == ES_CODE_SIGN ? (size_t)B.n_codes * nw * sizeof(uint64_t) : (size_t)((B.n_codes + 63) / 64) * (kind == ES_CODE_PQ4 ? M / 2 : M) * 64;
	B.codes = es_calloc(code_bytes, 1);
	atomic_init(&B.next, 0); atomic_init(&B.done, 0); atomic_init(&B.failed, 0);
	pthread_mutex_init(&B.lock, NULL);
	int nt = opt->n_threads < 1 ? 1 : opt->n_threads > 256 ? 256 : opt->n_threads;
	pthread_t tid[256];
	int started = 0;
	for (int t = 0; t < nt; t++) if (pthread_create(&tid[t], NULL, build_worker, &B) == 0) started++; else break;
	if (started == 0) build_worker(&B);
	/* progress from the calling thread while the workers run */
	double last = es_time();
	while (opt->progress && started > 0) {
		int64_t done = atomic_load(&B.done);
		if (done >= n_win || atomic_load(&B.failed)) break;
		usleep(50000);
		double now = es_time();
		if (now - last >= 2.0) {
			last = now;
			double el = now - t0, f = (double)done / n_win;
			es_log(2, "index", "embedding %5.1f%%  %lld/%lld windows  %.0f s elapsed, ETA %.0f s",
				100 * f, (long long)done, (long long)n_win, el, f > 0 ? el * (1 - f) / f : 0);
		}
	}
	for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&B.lock);
	int ret = -1;
	es_ofile_t of;
	memset(&of, 0, sizeof of);
	char *names = NULL;
	disk_contig_t *dc = NULL;
	int C = 0;                   /* inverted lists */
	float *ivf_cent = NULL;
	ivf_list_t *ivf_list = NULL;
	uint32_t *ivf_ids = NULL;
	int64_t n_pos = B.n_codes;   /* code slots */
	if (atomic_load(&B.failed)) { es_error("%s: embedding failed: %s", path, B.err); goto done; }
	if (kind != ES_CODE_SIGN) pq_build(&B, M, K, R, opt, t0);
	/* auto: lists for a learned encoder only. Its true pairs sit far above the background, so a query's coarse
	 * centroids point at the right lists; the kmer sketch is near-orthogonal noise apart from the shared k-mers and
	 * lost 1-2 points of recall even scanning an eighth of the lists (docs/store.md) */
	C = kind != ES_CODE_PQ6 ? 0 : opt->ivf_lists >= 0 ? opt->ivf_lists : learned ? ivf_auto_lists(B.n_codes) : 0;
	if (C > B.n_codes) C = (int)B.n_codes;
	if (C > 0) {
		uint8_t *slot_codes = NULL;
		ivf_build(&B, M, C, opt, t0, &ivf_cent, &ivf_list, &ivf_ids, &slot_codes, &n_pos);
		free(B.codes);
		B.codes = (uint64_t *)(void *)slot_codes;
		code_bytes = (size_t)(n_pos / 64) * M * 64;
	}

	/* sections */
	size_t names_len = 0;
	for (int c = 0; c < ref->n_contig; c++) names_len += strlen(ref->contig[c].name) + 1;
	names = es_malloc(names_len);
	dc = es_malloc(ref->n_contig * sizeof *dc);
	size_t p = 0;
	for (int c = 0; c < ref->n_contig; c++) {
		size_t l = strlen(ref->contig[c].name) + 1;
		memcpy(names + p, ref->contig[c].name, l);
		dc[c].len = ref->contig[c].len; dc[c].off = ref->contig[c].off; dc[c].name_off = (int64_t)p;
		p += l;
	}
	const void *sp[N_SEC] = { dc, names, ref->nrun, ref->pac, wbeg, B.codes, B.vec, B.scale, R, ivf_cent, ivf_list, ivf_ids };
	size_t ssz[N_SEC] = { ref->n_contig * sizeof *dc, names_len, ref->n_nrun * sizeof(es_nrun_t), (size_t)(ref->len + 3) / 4,
		n_win * sizeof(int64_t), code_bytes, (size_t)n_win * dim, n_win * sizeof(float),
		nproj * sizeof(float), (size_t)C * dim * sizeof(float), (size_t)C * sizeof(ivf_list_t),
		C ? (size_t)n_pos * sizeof(uint32_t) : 0 };
	hdr_t h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, ES_INDEX_MAGIC, 8);
	h.version = ES_INDEX_VERSION; h.hdr_size = HDR_SIZE;
	h.w = W; h.stride = S; h.dim = dim; h.code_bits = code_bits; h.code_kind = kind; h.pq_m = kind != ES_CODE_SIGN ? M : 0;
	h.n_contig = ref->n_contig; h.ref_len = ref->len; h.n_nrun = ref->n_nrun; h.n_windows = n_win;
	h.code_step = step; h.n_codes = B.n_codes;
	h.ivf_lists = (uint32_t)C; h.n_pos = n_pos;
	h.enc_checksum = enc->checksum;
	snprintf(h.enc_spec, sizeof h.enc_spec, "%s", spec);
	snprintf(h.enc_name, sizeof h.enc_name, "%s", enc->name);
	uint64_t off = HDR_SIZE;
	for (int i = 0; i < N_SEC; i++) {
		h.sec[i].off = off; h.sec[i].size = ssz[i];
		h.sec[i].ck = es_fast_checksum(sp[i], ssz[i], (uint64_t)i);
		off = (off + ssz[i] + 63) & ~(uint64_t)63;
	}
	h.file_size = (int64_t)off;
	h.hdr_ck = 0;
	uint8_t hbuf[HDR_SIZE];
	memset(hbuf, 0, sizeof hbuf);
	memcpy(hbuf, &h, sizeof h);
	h.hdr_ck = es_fast_checksum(hbuf, HDR_SIZE, 0x4844);
	memcpy(hbuf, &h, sizeof h);
	if (es_ofile_open(&of, path, "wb") != 0) goto done;
	static const uint8_t zero[64];
	int werr = write_all(of.fp, hbuf, HDR_SIZE);
	uint64_t pos = HDR_SIZE;
	for (int i = 0; i < N_SEC && !werr; i++) {
		werr |= write_all(of.fp, zero, h.sec[i].off - pos);
		werr |= write_all(of.fp, sp[i], ssz[i]);
		pos = h.sec[i].off + ssz[i];
	}
	if (!werr) werr |= write_all(of.fp, zero, (uint64_t)h.file_size - pos);
	if (werr) { es_error("%s: write failed: %s", path, strerror(errno)); es_ofile_abort(&of); goto done; }
	if (es_ofile_commit(&of) != 0) goto done;
	if (stats) { stats[0] = n_win; stats[1] = h.file_size; }
	ret = 0;
done:
	free(ivf_cent); free(ivf_list); free(ivf_ids);
	free(names); free(dc); free(R); free(B.vec); free(B.scale); free(B.codes); free(B.cend); free(wbeg);
	return ret;
}

/* ---------------- load ---------------- */

/* Lists probed per query unless set: measured on the 70 Mb chrX (docs/store.md). */
static int default_nprobe(int C)
{
	/* 4 sqrt(C): measured to stay within 0.5 points of exact search with 64 of 512, 128 of 1,024 and 256 of 4,096
	 * lists; the needed fraction falls as lists grow, and a fixed fraction would make the search linear again */
	int n = (int)lrint(4.0 * sqrt((double)C));
	return n < 1 ? 1 : n > C ? C : n;
}

/* The list table of a mapped index: lists in slot order, 64-aligned, members increasing and in range, no code twice
 * and every code in a list (counted), padding marked, so that the scan may trust it. 0, or -1 with es_error. */
static int check_lists(const es_index_t *idx, const char *fn)
{
	const hdr_t *h = &idx->hdr;
	int64_t prev_end = 0, members = 0;
	uint8_t *seen = es_calloc((size_t)(h->n_codes + 7) / 8, 1);
	const char *bad = NULL;
	for (uint32_t l = 0; l < h->ivf_lists && !bad; l++) {
		const ivf_list_t *L = &idx->ivf_list[l];
		if (L->beg < prev_end || L->beg % 64 || L->len < 0 || L->len > h->n_pos - L->beg) { bad = "list table"; break; }
		for (int64_t p = L->beg; p < L->beg + L->len && !bad; p++) {
			uint32_t c = idx->ivf_ids[p];
			if (c >= h->n_codes || (p > L->beg && c <= idx->ivf_ids[p - 1]) || (seen[c >> 3] >> (c & 7) & 1)) bad = "list members";
			else seen[c >> 3] |= (uint8_t)(1u << (c & 7));
		}
		for (int64_t p = L->beg + L->len; p < ((L->beg + L->len + 63) & ~(int64_t)63) && !bad; p++)
			if (idx->ivf_ids[p] != UINT32_MAX) bad = "list members";
		members += L->len;
		prev_end = L->beg + L->len;
	}
	free(seen);
	if (bad) return es_error("%s: corrupt index: %s", fn, bad);
	if (members != h->n_codes)
		return es_error("%s: corrupt index: lists hold %lld codes, not %lld", fn, (long long)members, (long long)h->n_codes);
	return 0;
}

static int try_open(const char *path, char **used)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0) { *used = es_strdup(path); return fd; }
	int e = errno;
	size_t n = strlen(path) + sizeof ES_INDEX_SUFFIX;
	char *alt = es_malloc(n);
	snprintf(alt, n, "%s%s", path, ES_INDEX_SUFFIX);
	fd = open(alt, O_RDONLY);
	if (fd >= 0) { *used = alt; return fd; }
	es_error("%s: cannot open index (also tried %s): %s", path, alt, strerror(e));
	free(alt);
	return -1;
}

es_index_t *es_index_load(const char *path)
{
	char *fn = NULL;
	int fd = try_open(path, &fn);
	if (fd < 0) return NULL;
	es_index_t *idx = es_calloc(1, sizeof *idx);
	idx->path = fn;
	struct stat st;
	if (fstat(fd, &st) != 0) { es_error("%s: cannot stat: %s", fn, strerror(errno)); close(fd); goto fail; }
	size_t size = (size_t)st.st_size;
	if (size == 0) { es_error("%s: empty file, not an esalign index", fn); close(fd); goto fail; }
	idx->map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (idx->map == MAP_FAILED) { idx->map = NULL; es_error("%s: cannot map: %s", fn, strerror(errno)); goto fail; }
	idx->map_size = size;
	if (memcmp(idx->map, ES_INDEX_MAGIC, size < 8 ? size : 8) != 0) { es_error("%s: not an esalign index (bad magic)", fn); goto fail; }
	if (size < HDR_SIZE) { es_error("%s: truncated index (%zu bytes, smaller than the header)", fn, size); goto fail; }
	hdr_t *h = &idx->hdr;
	memcpy(h, idx->map, sizeof *h);
	if (h->version != ES_INDEX_VERSION) {
		es_error("%s: index format version %u, this esalign reads version %d (rebuild it with 'esalign index')", fn, h->version, ES_INDEX_VERSION);
		goto fail;
	}
	{
		uint8_t hbuf[HDR_SIZE];
		memcpy(hbuf, idx->map, HDR_SIZE);
		hdr_t *hc = (hdr_t *)(void *)hbuf;
		hc->hdr_ck = 0;
		if (es_fast_checksum(hbuf, HDR_SIZE, 0x4844) != h->hdr_ck) { es_error("%s: corrupt index header (checksum mismatch)", fn); goto fail; }
	}
	if ((uint64_t)h->file_size != size) {
		es_error("%s: %s index (%zu bytes, the header says %lld)", fn, size < (size_t)h->file_size ? "truncated" : "oversized", size, (long long)h->file_size);
		goto fail;
	}
	if (h->dim < 1 || h->n_windows < 1 || h->n_contig < 1
		|| (h->code_kind == ES_CODE_SIGN && (h->code_bits < 64 || h->code_bits > 512 || h->code_bits % 64))
		|| (h->code_kind == ES_CODE_PQ4 && (h->pq_m < 2 || h->pq_m > 64 || h->pq_m % 2 || h->dim % h->pq_m || h->code_bits != 4 * h->pq_m))
		|| (h->code_kind == ES_CODE_PQ6 && (h->pq_m < 2 || h->pq_m > 64 || h->pq_m % 2 || h->dim % h->pq_m || h->code_bits != 6 * h->pq_m))
		|| (h->code_kind != ES_CODE_SIGN && h->code_kind != ES_CODE_PQ4 && h->code_kind != ES_CODE_PQ6)
		|| h->code_step < 1 || h->code_step > 64 || h->n_codes != (h->n_windows + h->code_step - 1) / h->code_step
		|| h->ivf_lists > 65536 || (h->ivf_lists && (h->code_kind != ES_CODE_PQ6 || h->ivf_lists > h->n_codes))
		|| (!h->ivf_lists && h->n_pos != h->n_codes)
		|| (h->ivf_lists && (h->n_pos % 64 || h->n_pos < h->n_codes || h->n_pos > h->n_codes + 64 * (int64_t)h->ivf_lists))) {
		es_error("%s: corrupt index header (bad dimensions)", fn); goto fail;
	}
	for (int i = 0; i < N_SEC; i++) {
		if (h->sec[i].off > size || h->sec[i].size > size - h->sec[i].off || h->sec[i].off % 8) {
			es_error("%s: corrupt index: section '%s' out of bounds", fn, sec_name[i]); goto fail;
		}
		if (es_fast_checksum(idx->map + h->sec[i].off, h->sec[i].size, (uint64_t)i) != h->sec[i].ck) {
			es_error("%s: corrupt index: checksum mismatch in section '%s'", fn, sec_name[i]); goto fail;
		}
		/* the alignment padding after a section must be zero, so that every byte of the file is checked */
		uint64_t pe = i + 1 < N_SEC ? h->sec[i + 1].off : size;
		for (uint64_t o = h->sec[i].off + h->sec[i].size; o < pe && o < size; o++)
			if (idx->map[o]) { es_error("%s: corrupt index: checksum mismatch in padding after section '%s'", fn, sec_name[i]); goto fail; }
	}
	h->enc_spec[sizeof h->enc_spec - 1] = 0;
	h->enc_name[sizeof h->enc_name - 1] = 0;
	int nw = h->code_bits / 64;
	uint64_t code_bytes = h->code_kind == ES_CODE_SIGN ? h->n_codes * nw * sizeof(uint64_t) : (uint64_t)((h->n_pos + 63) / 64) * (h->code_kind == ES_CODE_PQ4 ? h->pq_m / 2 : h->pq_m) * 64;
	uint64_t nproj = h->code_kind == ES_CODE_SIGN ? (uint64_t)h->code_bits * h->dim : (uint64_t)(h->code_kind == ES_CODE_PQ6 ? 64 : 16) * h->dim;
	if (h->sec[SEC_CONTIG].size != h->n_contig * sizeof(disk_contig_t) || h->sec[SEC_NRUN].size != h->n_nrun * sizeof(es_nrun_t)
		|| h->sec[SEC_PAC].size != (uint64_t)(h->ref_len + 3) / 4 || h->sec[SEC_WBEG].size != h->n_windows * sizeof(int64_t)
		|| h->sec[SEC_CODES].size != code_bytes || h->sec[SEC_VEC].size != (uint64_t)h->n_windows * h->dim
		|| h->sec[SEC_SCALE].size != h->n_windows * sizeof(float) || h->sec[SEC_PROJ].size != nproj * sizeof(float)
		|| h->sec[SEC_IVF_CENT].size != (uint64_t)h->ivf_lists * h->dim * sizeof(float)
		|| h->sec[SEC_IVF_LIST].size != (uint64_t)h->ivf_lists * sizeof(ivf_list_t)
		|| h->sec[SEC_IVF_IDS].size != (h->ivf_lists ? (uint64_t)h->n_pos * sizeof(uint32_t) : 0)) {
		es_error("%s: corrupt index: section sizes disagree with the header", fn); goto fail;
	}
	/* the reference, pointing into the map */
	const disk_contig_t *dc = (const disk_contig_t *)(idx->map + h->sec[SEC_CONTIG].off);
	const char *names = (const char *)(idx->map + h->sec[SEC_NAMES].off);
	size_t names_len = h->sec[SEC_NAMES].size;
	if (names_len == 0 || names[names_len - 1] != 0) { es_error("%s: corrupt index: contig names", fn); goto fail; }
	idx->ref.n_contig = h->n_contig;
	idx->ref.contig = es_calloc(h->n_contig, sizeof(es_contig_t));
	idx->contig_end = es_malloc(h->n_contig * sizeof(int64_t));
	for (int c = 0; c < h->n_contig; c++) {
		if (dc[c].name_off < 0 || (size_t)dc[c].name_off >= names_len || dc[c].off < 0 || dc[c].len < 1 || dc[c].off + dc[c].len > h->ref_len) {
			es_error("%s: corrupt index: contig table", fn); goto fail;
		}
		idx->ref.contig[c].name = (char *)names + dc[c].name_off;
		idx->ref.contig[c].len = dc[c].len; idx->ref.contig[c].off = dc[c].off;
		idx->contig_end[c] = dc[c].off + dc[c].len;
	}
	idx->ref.len = h->ref_len;
	idx->ref.pac = idx->map + h->sec[SEC_PAC].off;
	idx->ref.n_nrun = h->n_nrun;
	idx->ref.nrun = (es_nrun_t *)(void *)(idx->map + h->sec[SEC_NRUN].off);
	idx->ref.owns_pac = 0;
	idx->wbeg = (const int64_t *)(const void *)(idx->map + h->sec[SEC_WBEG].off);
	idx->codes = (const uint64_t *)(const void *)(idx->map + h->sec[SEC_CODES].off);
	idx->pq = idx->map + h->sec[SEC_CODES].off;
	idx->vec = (const int8_t *)(idx->map + h->sec[SEC_VEC].off);
	idx->scale = (const float *)(const void *)(idx->map + h->sec[SEC_SCALE].off);
	idx->proj = (const float *)(const void *)(idx->map + h->sec[SEC_PROJ].off);
	for (int64_t i = 0; i < h->n_windows; i++)
		if (idx->wbeg[i] < 0 || idx->wbeg[i] >= h->ref_len || (i && idx->wbeg[i] < idx->wbeg[i - 1])) {
			es_error("%s: corrupt index: window table", fn); goto fail;
		}
	if (h->ivf_lists) {
		idx->ivf_cent = (const float *)(const void *)(idx->map + h->sec[SEC_IVF_CENT].off);
		idx->ivf_list = (const ivf_list_t *)(const void *)(idx->map + h->sec[SEC_IVF_LIST].off);
		idx->ivf_ids = (const uint32_t *)(const void *)(idx->map + h->sec[SEC_IVF_IDS].off);
		if (check_lists(idx, fn) != 0) goto fail;
		idx->nprobe = default_nprobe((int)h->ivf_lists);
	}
	/* re-ranked per query: 384 for a flat scan (kmer, docs/store.md); 256 with lists, whose learned encoder ranks
	 * better (70 Mb, 1,000 reads: the same recall within 0.1 point, 0.20 instead of 0.24 ms per query) */
	idx->rerank = h->ivf_lists ? 256 : 384;
	return idx;
fail:
	es_index_destroy(idx);
	return NULL;
}

void es_index_destroy(es_index_t *idx)
{
	if (!idx) return;
	if (idx->map) munmap(idx->map, idx->map_size);
	free(idx->ref.contig); free(idx->contig_end); free(idx->path);
	free(idx);
}

const es_ref_t *es_index_ref(const es_index_t *idx) { return &idx->ref; }
const char *es_index_encoder_spec(const es_index_t *idx) { return idx->hdr.enc_spec; }
const char *es_index_encoder_name(const es_index_t *idx) { return idx->hdr.enc_name; }
uint64_t es_index_encoder_checksum(const es_index_t *idx) { return idx->hdr.enc_checksum; }
const char *es_index_path(const es_index_t *idx) { return idx->path; }
int es_index_w(const es_index_t *idx) { return (int)idx->hdr.w; }
int es_index_stride(const es_index_t *idx) { return (int)idx->hdr.stride; }
int es_index_dim(const es_index_t *idx) { return (int)idx->hdr.dim; }
int es_index_code_bits(const es_index_t *idx) { return (int)idx->hdr.code_bits; }
int es_index_code_step(const es_index_t *idx) { return (int)idx->hdr.code_step; }
int es_index_code_kind(const es_index_t *idx) { return (int)idx->hdr.code_kind; }
int64_t es_index_n_windows(const es_index_t *idx) { return idx->hdr.n_windows; }
int es_index_ivf_lists(const es_index_t *idx) { return (int)idx->hdr.ivf_lists; }
void es_index_set_nprobe(es_index_t *idx, int n)
{
	int C = (int)idx->hdr.ivf_lists;
	idx->nprobe = n < 1 ? 1 : n > C ? C : n;
}
int es_index_get_nprobe(const es_index_t *idx) { return idx->nprobe; }
void es_index_set_rerank(es_index_t *idx, int n) { idx->rerank = n < 1 ? 1 : n > 65536 ? 65536 : n; }
int es_index_get_rerank(const es_index_t *idx) { return idx->rerank; }

void es_index_window(const es_index_t *idx, int64_t i, int64_t *beg, int64_t *end)
{
	int64_t b = idx->wbeg[i];
	*beg = b;
	*end = window_end(idx->contig_end, idx->ref.n_contig, &idx->ref, b, (int)idx->hdr.w);
}

int es_index_check_encoder(const es_index_t *idx, const es_encoder_t *enc)
{
	if (enc->checksum != idx->hdr.enc_checksum || enc->dim != (int)idx->hdr.dim) {
		if (strcmp(enc->name, idx->hdr.enc_name) == 0)   /* same architecture, other weights: the model file changed */
			return es_error("%s: index built with other weights of encoder %s (spec '%s', checksum %016llx, now %016llx): the model file changed since; rebuild the index",
				idx->path, enc->name, idx->hdr.enc_spec, (unsigned long long)idx->hdr.enc_checksum, (unsigned long long)enc->checksum);
		return es_error("%s: index built with encoder %s (spec '%s', checksum %016llx), not with %s (checksum %016llx); rebuild the index or use its encoder",
			idx->path, idx->hdr.enc_name, idx->hdr.enc_spec, (unsigned long long)idx->hdr.enc_checksum, enc->name, (unsigned long long)enc->checksum);
	}
	return 0;
}

es_encoder_t *es_index_open_encoder(const es_index_t *idx)
{
	es_encoder_t *e = es_encoder_open(idx->hdr.enc_spec);
	if (!e) { char m[1024]; snprintf(m, sizeof m, "%s", es_last_error()); es_error("%s: cannot open the index's encoder '%s': %s", idx->path, idx->hdr.enc_spec, m); return NULL; }
	if (es_index_check_encoder(idx, e) != 0) { es_encoder_destroy(e); return NULL; }
	return e;
}

/* ---------------- search ---------------- */

typedef struct { float s; uint32_t id; } hit_t;
/* a is better than b: higher score, then lower window index */
static inline int hit_better(const hit_t *a, const hit_t *b) { return a->s > b->s || (a->s == b->s && a->id < b->id); }
static int hit_cmp(const void *pa, const void *pb)
{
	const hit_t *a = pa, *b = pb;
	return hit_better(a, b) ? -1 : hit_better(b, a) ? 1 : 0;
}

/* Keep the k best of a stream in a heap whose root is the worst kept. */
static void heap_offer(hit_t *h, int *n, int k, hit_t x)
{
	if (*n < k) {
		int i = (*n)++;
		while (i > 0) { int p = (i - 1) / 2; if (!hit_better(&h[p], &x)) break; h[i] = h[p]; i = p; }
		h[i] = x;
		return;
	}
	if (!hit_better(&x, &h[0])) return;
	int i = 0;
	for (;;) {
		int l = 2 * i + 1, r = l + 1, w = i;
		hit_t *wv = &x;
		if (l < k && hit_better(wv, &h[l])) { w = l; wv = &h[l]; }
		if (r < k && hit_better(wv, &h[r])) { w = r; }
		if (w == i) break;
		h[i] = h[w]; i = w;
	}
	h[i] = x;
}

static void emit(hit_t *h, int n, int k, int64_t *ids, float *scores)
{
	qsort(h, n, sizeof *h, hit_cmp);
	for (int j = 0; j < k; j++) {
		ids[j] = j < n ? (int64_t)h[j].id : -1;
		if (scores) scores[j] = j < n ? h[j].s : 0;
	}
}

/* Window w scored exactly against query q (the one score exact search and every re-rank use). */
static inline hit_t window_hit(const es_index_t *idx, const float *q, uint32_t w)
{
	int dim = (int)idx->hdr.dim;
	return (hit_t){ es_dot_f32_i8(q, idx->vec + (int64_t)w * dim, idx->scale[w], dim), w };
}

static int is_zero(const float *q, int dim) { for (int i = 0; i < dim; i++) if (q[i] != 0) return 0; return 1; }

static void search_exact(const es_index_t *idx, const float *q, int k, int64_t *ids, float *scores)
{
	int dim = (int)idx->hdr.dim, n = 0;
	hit_t *h = es_malloc((size_t)k * sizeof *h);
	if (!is_zero(q, dim))
		for (int64_t i = 0; i < idx->hdr.n_windows; i++) heap_offer(h, &n, k, window_hit(idx, q, (uint32_t)i));
	emit(h, n, k, ids, scores);
	free(h);
}

#define SCAN_L1 16384   /* bytes of codes per block: stays in L1 while a batch of queries scans it */
#define SCAN_BATCH 64    /* queries scanned against one block */

/* The T nearest codes of a scan, in code order: entries are already in code order (appends and compaction keep
 * it), so a histogram finds the cut and ties at the cut go to the lower index. Returns the count. */
static int select_nearest(const es_hamq_t *st, int T, uint32_t *out)
{
	int hist[260];
	memset(hist, 0, sizeof hist);
	for (int i = 0; i < st->n; i++) hist[st->dist[i]]++;
	int cum = 0, d = 0;
	for (; d < 259; d++) { if (cum + hist[d] >= T) break; cum += hist[d]; }
	int room = T - cum, m = 0;   /* all entries below d, plus the first `room` at d */
	for (int i = 0; i < st->n; i++)
		if (st->dist[i] < d || (st->dist[i] == d && room-- > 0)) out[m++] = st->id[i];
	return m;
}

static int u32_cmp(const void *a, const void *b) { uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b; return (x > y) - (x < y); }

static void search_approx(const es_index_t *idx, int n, const float *q, int k, int64_t *ids, float *scores)
{
	int dim = (int)idx->hdr.dim, nw = (int)idx->hdr.code_bits / 64, step = (int)idx->hdr.code_step;
	int pq = idx->hdr.code_kind != ES_CODE_SIGN, M = (int)idx->hdr.pq_m, K = idx->hdr.code_kind == ES_CODE_PQ6 ? 64 : 16;
	int64_t N = idx->hdr.n_windows, NC = idx->hdr.n_codes;
	int T = idx->rerank > k ? idx->rerank : k;
	int cap = 8 * T + 64;   /* room above T: distances are small integers with many ties, so a larger buffer shrinks less often */
	/* a block of codes stays in L1 while the batch of queries scans it; PQ blocks are whole 64-window groups */
	int64_t blk = pq ? (SCAN_L1 / (K == 16 ? 32 * M : 64 * M)) * 64 : SCAN_L1 / (8 * nw);
	es_hamscan_fn scan = es_hamscan_best(NULL);
	es_pqscan_fn pqscan = K == 16 ? es_pqscan_best(NULL) : es_pq6scan_best(NULL);
	uint8_t *lut = es_malloc((size_t)SCAN_BATCH * K * (M > 0 ? M : 1));
	es_hamq_t *st = es_malloc(SCAN_BATCH * sizeof *st);
	uint64_t *qc = es_malloc((size_t)SCAN_BATCH * nw * sizeof(uint64_t));
	uint32_t *idbuf = es_malloc((size_t)SCAN_BATCH * cap * sizeof(uint32_t));
	uint16_t *dbuf = es_malloc((size_t)SCAN_BATCH * cap * sizeof(uint16_t));
	uint32_t *near = es_malloc((size_t)T * sizeof(uint32_t)), *cand = es_malloc((size_t)(k + 1) * 2 * step * sizeof(uint32_t));
	hit_t *code_hit = es_malloc((size_t)T * sizeof *code_hit);
	hit_t *heap = es_malloc((size_t)k * sizeof *heap);
	/* inverted lists: each query's probed lists, then (list, query) pairs grouped by list so that the queries of a
	 * batch that probe one list scan it while it is in L1; each query still sees its lists in increasing order */
	int C = (int)idx->hdr.ivf_lists, np = C ? idx->nprobe : 0;
	int32_t *probe = C ? es_malloc((size_t)SCAN_BATCH * np * sizeof(int32_t)) : NULL;
	float *pscr = C ? es_malloc((size_t)SCAN_BATCH * C * sizeof(float)) : NULL;
	int32_t *lstart = C ? es_malloc((size_t)(C + 1) * sizeof(int32_t)) : NULL;
	uint8_t *pair_q = C ? es_malloc((size_t)SCAN_BATCH * np) : NULL;
	for (int b0 = 0; b0 < n; b0 += SCAN_BATCH) {
		int nb = n - b0 < SCAN_BATCH ? n - b0 : SCAN_BATCH;
		int active[SCAN_BATCH], na = 0;
		for (int i = 0; i < nb; i++) {
			const float *x = q + (size_t)(b0 + i) * dim;
			st[i].thr = pq ? 256 : (int)idx->hdr.code_bits + 1;
			st[i].keep = T; st[i].n = 0; st[i].cap = cap;
			st[i].id = idbuf + (size_t)i * cap; st[i].dist = dbuf + (size_t)i * cap;
			if (is_zero(x, dim)) continue;
			if (pq) es_pq_lut(idx->proj, dim, M, K, x, lut + (size_t)i * K * M);
			else es_code_make(idx->proj, (int)idx->hdr.code_bits, dim, x, qc + (size_t)i * nw);
			active[na++] = i;
		}
		if (C) {
			es_ivf_probe(idx->ivf_cent, C, dim, q + (size_t)b0 * dim, nb, np, pscr, probe);
			memset(lstart, 0, (size_t)(C + 1) * sizeof(int32_t));
			for (int a = 0; a < na; a++) for (int j = 0; j < np; j++) lstart[probe[(size_t)active[a] * np + j] + 1]++;
			for (int l = 0; l < C; l++) lstart[l + 1] += lstart[l];
			for (int a = 0; a < na; a++) for (int j = 0; j < np; j++) pair_q[lstart[probe[(size_t)active[a] * np + j]]++] = (uint8_t)active[a];
			/* lstart[l] is now the end of list l's pairs; they begin at lstart[l-1] */
			for (int l = 0, pb = 0; l < C; pb = lstart[l], l++) {
				const ivf_list_t *L = &idx->ivf_list[l];
				if (L->len == 0) continue;
				for (int p = pb; p < lstart[l]; p++)
					pqscan(idx->pq, M, L->beg, L->beg + L->len, lut + (size_t)pair_q[p] * K * M, &st[pair_q[p]]);
			}
		}
		else for (int64_t s = 0; s < NC; s += blk) {
			int64_t e = s + blk < NC ? s + blk : NC;
			if (pq) for (int a = 0; a < na; a++) pqscan(idx->pq, M, s, e, lut + (size_t)active[a] * K * M, &st[active[a]]);
			else for (int a = 0; a < na; a++) scan(idx->codes, NC, nw, s, e, qc + (size_t)active[a] * nw, &st[active[a]]);
		}
		for (int i = 0; i < nb; i++) {
			const float *x = q + (size_t)(b0 + i) * dim;
			/* The T nearest codes by code distance; the exact inner product ranks their windows. Each code also
			 * stands for the step-1 windows on either side (near-duplicates at stride S): those of the k best code
			 * windows are ranked too (stage 2), since the true locus's code window is among them. */
			int m = select_nearest(&st[i], T, near), nh = 0, nc = 0;
			if (C) for (int j = 0; j < m; j++) near[j] = idx->ivf_ids[near[j]];   /* slots -> code indices */
			/* the rows are scattered over the file: ask for them all before the first is needed */
			for (int j = 0; j < m; j++) {
				int64_t w = (int64_t)near[j] * step;
				__builtin_prefetch(idx->vec + w * dim);
				__builtin_prefetch(idx->scale + w);
			}
			for (int j = 0; j < m; j++) {
				code_hit[j] = window_hit(idx, x, near[j] * (uint32_t)step);
			}
			/* the k best code windows (a heap: only they can reach the final top k), then their neighbours */
			for (int j = 0; j < m; j++) heap_offer(heap, &nh, k, code_hit[j]);
			if (step > 1) {
				for (int j = 0; j < nh; j++) {
					int64_t c = heap[j].id;
					for (int64_t w = c - (step - 1); w <= c + step - 1; w++)
						if (w != c && w >= 0 && w < N) cand[nc++] = (uint32_t)w;
				}
				qsort(cand, nc, sizeof *cand, u32_cmp);   /* neighbours of two codes may coincide */
				int u = 0;
				for (int j = 0; j < nc; j++) if (u == 0 || cand[j] != cand[u - 1]) cand[u++] = cand[j];
				nc = u;
				for (int j = 0; j < nc; j++) {
					__builtin_prefetch(idx->vec + (int64_t)cand[j] * dim);
					__builtin_prefetch(idx->scale + cand[j]);
				}
			}
			for (int j = 0; j < nc; j++) {
				heap_offer(heap, &nh, k, window_hit(idx, x, cand[j]));
			}
			emit(heap, nh, k, ids + (size_t)(b0 + i) * k, scores ? scores + (size_t)(b0 + i) * k : NULL);
		}
	}
	free(probe); free(pscr); free(lstart); free(pair_q);
	free(st); free(qc); free(idbuf); free(dbuf); free(near); free(cand); free(code_hit); free(heap); free(lut);
}

int es_index_search(const es_index_t *idx, int n, const float *q, int k, int flags, int64_t *ids, float *scores)
{
	if (n < 0 || k < 1) return es_error("%s: search: bad arguments (n=%d, k=%d)", idx->path, n, k);
	if (flags & ES_SEARCH_EXACT) {
		for (int i = 0; i < n; i++)
			search_exact(idx, q + (size_t)i * idx->hdr.dim, k, ids + (size_t)i * k, scores ? scores + (size_t)i * k : NULL);
		return 0;
	}
	search_approx(idx, n, q, k, ids, scores);
	return 0;
}

/* ---------------- reads -> candidate loci ---------------- */

typedef struct { int64_t beg, end; float s; int chunk; } ival_t;
static int ival_cmp(const void *pa, const void *pb)
{
	const ival_t *a = pa, *b = pb;
	return a->beg < b->beg ? -1 : a->beg > b->beg ? 1 : a->end < b->end ? -1 : a->end > b->end;
}
static int locus_cmp(const void *pa, const void *pb)
{
	const es_locus_t *a = pa, *b = pb;
	if (a->score != b->score) return a->score > b->score ? -1 : 1;
	return a->beg < b->beg ? -1 : a->beg > b->beg;
}

/* CPU seconds of this thread spent embedding and searching in es_index_candidates, and queries searched */
static _Thread_local double tl_times[3];
void es_index_thread_times(double t[3], int reset)
{
	memcpy(t, tl_times, sizeof tl_times);
	if (reset) memset(tl_times, 0, sizeof tl_times);
}

/* How a read of len bases is cut: one query up to 5/4 of W (or always with ES_CAND_WHOLE), else chunks of W evenly
 * spread over the read. */
static int n_chunks(int len, int w, int flags)
{
	if (len * 4 <= w * 5 || (flags & ES_CAND_WHOLE)) return 1;
	int step = w * 3 / 4;   /* chunks overlap by a quarter */
	return 1 + (len - w + step - 1) / step;
}

int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags)
{
	if (es_index_check_encoder(idx, enc) != 0) return -1;
	if (max_loci < 1) return es_error("%s: candidates: max_loci must be >= 1", idx->path);
	int w = (int)idx->hdr.w, S = (int)idx->hdr.stride, dim = enc->dim;
	int kw = 4 * max_loci + 16;   /* windows per query: a locus usually holds several overlapping windows */
	/* lay out the queries */
	int nq = 0;
	int *qbeg = es_malloc((size_t)(n + 1) * sizeof(int));
	for (int i = 0; i < n; i++) {
		qbeg[i] = nq;
		int nn = 0;
		for (int j = 0; j < lens[i]; j++) nn += seqs[i][j] > 3;
		if (lens[i] >= 16 && 2 * nn <= lens[i]) nq += n_chunks(lens[i], w, flags);
	}
	qbeg[n] = nq;
	const uint8_t **qs = es_malloc((size_t)(nq + 1) * sizeof *qs);
	int *ql = es_malloc((size_t)(nq + 1) * sizeof(int));
	for (int i = 0; i < n; i++) {
		int nc = qbeg[i + 1] - qbeg[i];
		for (int c = 0; c < nc; c++) {
			int off = nc == 1 ? 0 : (int)((int64_t)c * (lens[i] - w) / (nc - 1));
			qs[qbeg[i] + c] = seqs[i] + off;
			ql[qbeg[i] + c] = nc == 1 ? lens[i] : w;
		}
	}
	float *emb = es_malloc((size_t)(nq + 1) * dim * sizeof(float));
	int64_t *ids = es_malloc((size_t)(nq + 1) * kw * sizeof(int64_t));
	float *sc = es_malloc((size_t)(nq + 1) * kw * sizeof(float));
	int ret = 0;
	if (nq > 0) {
		double c0 = es_thread_cputime();
		if (es_encoder_embed(enc, nq, qs, ql, emb) != 0) ret = -1;
		double c1 = es_thread_cputime();
		if (ret == 0 && es_index_search(idx, nq, emb, kw, flags, ids, sc) != 0) ret = -1;
		double c2 = es_thread_cputime();
		tl_times[0] += c1 - c0; tl_times[1] += c2 - c1; tl_times[2] += nq;
	}
	ival_t *iv = NULL;
	int m_iv = 0;
	es_locus_t *tmp = NULL;
	int m_tmp = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		int nc = qbeg[i + 1] - qbeg[i], niv = 0, len = lens[i];
		n_loci[i] = 0;
		if (nc == 0) continue;
		int64_t pad = (len > w ? len - w : 0) + S;
		if (m_iv < nc * kw) { m_iv = nc * kw; iv = es_realloc(iv, m_iv * sizeof *iv); }
		for (int c = 0; c < nc; c++)
			for (int j = 0; j < kw; j++) {
				int64_t id = ids[(size_t)(qbeg[i] + c) * kw + j];
				if (id < 0) break;
				int64_t b = idx->wbeg[id];
				int ci = es_ref_contig_at(&idx->ref, b);
				int64_t e = window_end(idx->contig_end, idx->ref.n_contig, &idx->ref, b, w);
				ival_t *x = &iv[niv++];
				x->beg = b - pad > idx->ref.contig[ci].off ? b - pad : idx->ref.contig[ci].off;
				x->end = e + pad < idx->contig_end[ci] ? e + pad : idx->contig_end[ci];
				x->s = sc[(size_t)(qbeg[i] + c) * kw + j];
				x->chunk = c;
			}
		qsort(iv, niv, sizeof *iv, ival_cmp);
		/* merge overlapping intervals (they never merge across contigs: clipped intervals of two contigs are disjoint);
		 * a locus scores the sum over chunks of each chunk's best window inside it */
		if (m_tmp < niv) { m_tmp = niv; tmp = es_realloc(tmp, m_tmp * sizeof *tmp); }
		int nl = 0;
		float best[64];
		for (int a = 0; a < niv;) {
			int64_t b = iv[a].beg, e = iv[a].end;
			for (int c = 0; c < nc && c < 64; c++) best[c] = -INFINITY;
			int z = a;
			for (; z < niv && iv[z].beg < e; z++) {
				if (iv[z].end > e) e = iv[z].end;
				if (iv[z].chunk < 64 && iv[z].s > best[iv[z].chunk]) best[iv[z].chunk] = iv[z].s;
			}
			float s = 0;
			for (int c = 0; c < nc && c < 64; c++) if (best[c] > -INFINITY) s += best[c];
			tmp[nl].beg = b; tmp[nl].end = e; tmp[nl].score = s; nl++;
			a = z;
		}
		qsort(tmp, nl, sizeof *tmp, locus_cmp);
		if (nl > max_loci) nl = max_loci;
		memcpy(loci + (size_t)i * max_loci, tmp, nl * sizeof *tmp);
		n_loci[i] = nl;
	}
	free(iv); free(tmp); free(qbeg); free(qs); free(ql); free(emb); free(ids); free(sc);
	return ret;
}
