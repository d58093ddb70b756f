/* util.h — small shared helpers: error reporting, logging, random numbers, timing, atomic output files.
 * The library never exits: functions report failures through es_error() and return codes; only main.c exits. */
#ifndef ES_UTIL_H
#define ES_UTIL_H
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "esalign.h"   /* ES_VERSION, es_last_error */

/* Record the last error of this thread (printf-style). Returns -1 so callers can `return es_error(...)`. */
int es_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Verbosity for es_log: 0 quiet, 1 errors+warnings, 2 info (default), 3 debug. */
extern int es_verbose;
/* Log a line to stderr with a stage prefix, e.g. es_log(2, "index", "%d windows", n). */
void es_log(int level, const char *stage, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Allocation that never returns NULL: on out-of-memory one line names the calling function and the size, and the
 * process exits with status 1 (no recovery is possible). The macros pass the caller's name. */
void *es_malloc_at(size_t n, const char *what);
void *es_calloc_at(size_t n, size_t sz, const char *what);
void *es_realloc_at(void *p, size_t n, const char *what);
char *es_strdup_at(const char *s, const char *what);
#define es_malloc(n) es_malloc_at((n), __func__)
/* n bytes (rounded up to 64) on a 64-byte cache line; free with free(). Dies like es_malloc. */
void *es_malloc64_at(size_t n, const char *what);
#define es_malloc64(n) es_malloc64_at((n), __func__)
#define es_calloc(n, sz) es_calloc_at((n), (sz), __func__)
#define es_realloc(p, n) es_realloc_at((p), (n), __func__)
#define es_strdup(s) es_strdup_at((s), __func__)

/* Wall-clock seconds since an arbitrary epoch; CPU seconds of the process; peak resident set in bytes. */
double es_time(void);
double es_cputime(void);
double es_thread_cputime(void);   /* CPU seconds of the calling thread (CLOCK_THREAD_CPUTIME_ID) */
double es_process_cputime(void);  /* CPU seconds of the whole process, all threads (CLOCK_PROCESS_CPUTIME_ID) */
/* Process-wide CPU seconds per mapping stage (ES_STAGE_*): added by the stage's code on any thread, read (and
 * cleared) by es_map_file. One mapping run per process at a time is measured correctly. */
void es_stage_add(int stage, double cpu_seconds);
void es_stage_take(double out[]);   /* ES_N_STAGES values; clears them */
int64_t es_peak_rss(void);

/* Deterministic random numbers: xoshiro256** seeded through splitmix64. */
typedef struct { uint64_t s[4]; } es_rng_t;
void es_rng_seed(es_rng_t *r, uint64_t seed);
uint64_t es_rng_next(es_rng_t *r);
double es_rng_uniform(es_rng_t *r);             /* [0,1) */
uint64_t es_rng_below(es_rng_t *r, uint64_t n);  /* [0,n), n>0 */
double es_rng_normal(es_rng_t *r);               /* N(0,1) */
/* a good 64-bit mixer (splitmix64 finaliser); inline: the load's list check hashes every code id (48.9 M at 1 Gb) */
static inline uint64_t es_hash64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Atomic output. The temporary name a file is written under before being renamed to path: "<path>.tmp.<pid>"
 * (malloc'ed); NULL when path is written in place: "-" (stdout), or an existing file that is not a regular file
 * (/dev/null, /dev/full, a FIFO), which a rename would replace. */
char *es_tmp_name(const char *path);
/* Rename tmp to path: 0, or -1 with es_error set and tmp removed. */
int es_tmp_commit(const char *tmp, const char *path);
/* End an atomic output whose writes returned ret: 0 renames tmp to path (es_tmp_commit), an error removes tmp; a NULL
 * tmp (written in place) is left alone. Returns ret, or -1 when the rename fails. */
int es_tmp_finish(const char *tmp, const char *path, int ret);

/* All n bytes at offset off of fd (retrying short and interrupted transfers): 0, or -1 with errno set (EIO for a
 * file that ends early). */
int es_pread_full(int fd, void *buf, size_t n, int64_t off);
int es_pwrite_full(int fd, const void *buf, size_t n, int64_t off);

/* Atomic stdio output: write to es_tmp_name(path), rename to path on es_ofile_commit, delete on es_ofile_abort.
 * path "-" means stdout. tmp is NULL when the file is written in place. */
typedef struct {
	FILE *fp;
	char *path, *tmp;
	int is_stdout;
} es_ofile_t;
int es_ofile_open(es_ofile_t *of, const char *path, const char *mode);  /* 0 ok, -1 error (es_error set) */
int es_ofile_commit(es_ofile_t *of);  /* flush, close, rename; 0 ok, -1 error (es_error names the file) */
void es_ofile_abort(es_ofile_t *of);  /* close and remove the temporary */

/* CRC-free 64-bit checksum of a byte buffer (FNV-1a 64, then mixed); used for model identity and file checks. */
uint64_t es_checksum(const void *buf, size_t n, uint64_t seed);
#endif
