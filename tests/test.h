/* test.h — a tiny unit-test harness. Each TEST registers itself at load time (no central list to edit);
 * a test passes when none of its CHECKs failed. The runner prints "N passed, N failed" and exits non-zero on failure.
 * Tests may #include a module's .c to reach its static functions (htslib style). */
#ifndef ES_TEST_H
#define ES_TEST_H
#include <stdio.h>
#include <string.h>
#include <math.h>
#include "esalign.h"   /* es_map_opt_t, es_ref_t of the helpers below */

void es_test_register(const char *name, const char *file, void (*fn)(void));
extern int es_test_cur_failed;   /* CHECK failures in the running test */
/* A scratch directory for the running test process (created by the runner, removed at the end). */
const char *es_test_tmpdir(void);
/* es_map_file(idx, fq, sam) with options o (NULL: the defaults) and no progress lines (verbosity 1): its return
 * value. */
int es_test_map_quiet(const char *idx, const char *fq, const char *sam, const es_map_opt_t *o);
/* The kmer index of ref (an es_ref_t) written to idx with the default index options: es_index_build's return value,
 * or -1 when the encoder cannot be opened. */
int es_test_index_kmer(const es_ref_t *ref, const char *idx);
/* The whole file at path, NUL-terminated, malloc'ed (free it); its length into *n when n is not NULL. NULL when it
 * cannot be read. */
char *es_test_slurp(const char *path, size_t *n);
/* Path to the built esalign binary (for tests that run the command line). */
const char *es_test_bin(void);

#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void es_reg_##name(void) { es_test_register(#name, __FILE__, name); } \
	static void name(void)

#define CHECK(cond) do { if (!(cond)) { es_test_cur_failed++; \
	fprintf(stderr, "    CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) { es_test_cur_failed++; \
	fprintf(stderr, "    CHECK failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	CHECKF(_a == _b, "%lld != %lld", _a, _b); } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	CHECKF(_a && _b && strcmp(_a, _b) == 0, "\"%s\" != \"%s\"", _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define CHECK_NEAR(a, b, tol) do { double _a = (a), _b = (b); \
	CHECKF(fabs(_a - _b) <= (tol), "%g vs %g (tol %g)", _a, _b, (double)(tol)); } while (0)
#endif
