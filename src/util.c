/* util.c — error reporting, logging, allocation, timing, RNG and atomic output files shared by every module.
 * The temporary-name rule of atomic output lives here once: es_ofile (stdio) and sam.c (htslib) both use it. */
#include "util.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <time.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

static _Thread_local char es_errbuf[1024];
int es_verbose = 2;

int es_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(es_errbuf, sizeof es_errbuf, fmt, ap);
	va_end(ap);
	return -1;
}

const char *es_last_error(void)
{
	return es_errbuf;
}

void es_log(int level, const char *stage, const char *fmt, ...)
{
	if (level > es_verbose)
		return;
	va_list ap;
	char buf[2048];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "[esalign %s] %s\n", stage, buf);
}

/* No recovery is possible: one line naming the function that asked and the size, then exit status 1 (_Exit: other
 * threads may hold locks; temporaries are left under their .tmp. names, never renamed into place). */
static void oom(size_t n, const char *what)
{
	fprintf(stderr, "esalign: out of memory: %zu bytes (%.1f MiB) for %s\n", n, n / 1048576.0, what);
	fflush(stderr);
	_Exit(1);
}

void *es_malloc_at(size_t n, const char *what)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n, what);
	return p;
}

void *es_malloc64_at(size_t n, const char *what)
{
	size_t nb = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, nb ? nb : 64);
	if (!p)
		oom(n, what);
	return p;
}

void *es_calloc_at(size_t n, size_t sz, const char *what)
{
	if (sz && n > SIZE_MAX / sz)
		oom(SIZE_MAX, what);
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom(n * sz, what);
	return p;
}

void *es_realloc_at(void *p, size_t n, const char *what)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n, what);
	return q;
}

char *es_strdup_at(const char *s, const char *what)
{
	size_t n = strlen(s) + 1;
	char *p = es_malloc_at(n, what);
	memcpy(p, s, n);
	return p;
}

static double clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double es_time(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

double es_cputime(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

double es_thread_cputime(void)
{
	return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

double es_process_cputime(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static _Atomic long long stage_ns[ES_N_STAGES];   /* nanoseconds: an integer adds atomically everywhere */

void es_stage_add(int stage, double cpu_seconds)
{
	atomic_fetch_add(&stage_ns[stage], (long long)(cpu_seconds * 1e9));
}

void es_stage_take(double out[])
{
	for (int i = 0; i < ES_N_STAGES; i++)
		out[i] = atomic_exchange(&stage_ns[i], 0) * 1e-9;
}

int64_t es_peak_rss(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (int64_t)r.ru_maxrss * 1024;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void es_rng_seed(es_rng_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		seed = es_hash64(seed);
		r->s[i] = seed;
	}
}

uint64_t es_rng_next(es_rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double es_rng_uniform(es_rng_t *r)
{
	return (es_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t es_rng_below(es_rng_t *r, uint64_t n)
{
	return (uint64_t)(es_rng_uniform(r) * (double)n) % n;
}

double es_rng_normal(es_rng_t *r)
{
	double u1 = es_rng_uniform(r);
	double u2 = es_rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A rename would replace a device or a FIFO with a regular file (as root, /dev/null itself): such paths, and
 * stdout, are written in place. */
char *es_tmp_name(const char *path)
{
	struct stat st;
	if (strcmp(path, "-") == 0)
		return NULL;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return NULL;
	size_t n = strlen(path) + 32;
	char *tmp = es_malloc(n);
	snprintf(tmp, n, "%s.tmp.%d", path, (int)getpid());
	return tmp;
}

int es_tmp_commit(const char *tmp, const char *path)
{
	if (rename(tmp, path) == 0)
		return 0;
	int e = errno;
	unlink(tmp);
	return es_error("%s: cannot rename from %s: %s", path, tmp, strerror(e));
}

int es_tmp_finish(const char *tmp, const char *path, int ret)
{
	if (!tmp)
		return ret;
	if (ret == 0)
		return es_tmp_commit(tmp, path);
	unlink(tmp);
	return ret;
}

static void ofile_clear(es_ofile_t *of)
{
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof *of);
}

int es_ofile_open(es_ofile_t *of, const char *path, const char *mode)
{
	memset(of, 0, sizeof *of);
	of->path = es_strdup(path);
	if (strcmp(path, "-") == 0) {
		of->fp = stdout;
		of->is_stdout = 1;
		return 0;
	}
	of->tmp = es_tmp_name(path);
	of->fp = fopen(of->tmp ? of->tmp : path, mode);
	if (!of->fp) {
		int e = errno;
		ofile_clear(of);
		return es_error("%s: cannot create output: %s", path, strerror(e));
	}
	return 0;
}

int es_ofile_commit(es_ofile_t *of)
{
	const char *name = of->is_stdout ? "stdout" : of->path;
	int ret = 0;
	if (fflush(of->fp) != 0 || ferror(of->fp))
		ret = es_error("%s: write failed: %s", name, strerror(errno));
	if (!of->is_stdout && fclose(of->fp) != 0 && ret == 0)
		ret = es_error("%s: close failed: %s", name, strerror(errno));
	ret = es_tmp_finish(of->tmp, of->path, ret);
	ofile_clear(of);
	return ret;
}

void es_ofile_abort(es_ofile_t *of)
{
	if (!of->is_stdout && of->fp)
		fclose(of->fp);
	if (of->tmp)
		unlink(of->tmp);
	ofile_clear(of);
}

uint64_t es_checksum(const void *buf, size_t n, uint64_t seed)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL ^ es_hash64(seed);
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return es_hash64(h);
}

int es_pread_full(int fd, void *buf, size_t n, int64_t off)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;   /* the file ends before what was written there: report it as an I/O error */
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

int es_pwrite_full(int fd, const void *buf, size_t n, int64_t off)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}
