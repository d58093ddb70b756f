/* cli_opt.c — numeric option values for every subcommand, with one rule and one message form (cli.h). */
#include "cli.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parse one integer from [s, s+len) (the whole span). 0 ok, -1 with es_error set. */
static int span_int(const char *opt, const char *s, size_t len, long long lo, long long hi, long long *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return es_error("%s: expected an integer in %lld..%lld, got '%.*s'", opt, lo, hi, (int)len, s);
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	/* strtoll skips leading white space; refuse it as trailing white space is refused */
	if (isspace((unsigned char)buf[0]) || *end || errno == ERANGE || v < lo || v > hi)
		return es_error("%s: expected an integer in %lld..%lld, got '%s'", opt, lo, hi, buf);
	*out = v;
	return 0;
}

/* The twin of span_int for doubles: the same steps, but strtod, a NaN-refusing range test and %g messages; a shared
 * version would need a type switch in every line, so the two stay written out. */
static int span_double(const char *opt, const char *s, size_t len, double lo, double hi, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return es_error("%s: expected a number in %g..%g, got '%.*s'", opt, lo, hi, (int)len, s);
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (isspace((unsigned char)buf[0]) || *end || errno == ERANGE || !(v >= lo && v <= hi))
		return es_error("%s: expected a number in %g..%g, got '%s'", opt, lo, hi, buf);
	*out = v;
	return 0;
}

int es_opt_int64(const char *opt, const char *arg, long long lo, long long hi, int64_t *out)
{
	long long v;
	if (span_int(opt, arg, strlen(arg), lo, hi, &v) < 0) return -1;
	*out = v;
	return 0;
}

int es_opt_int(const char *opt, const char *arg, long long lo, long long hi, int *out)
{
	long long v;
	if (span_int(opt, arg, strlen(arg), lo, hi, &v) < 0) return -1;
	*out = (int)v;
	return 0;
}

int es_opt_double(const char *opt, const char *arg, double lo, double hi, double *out)
{
	return span_double(opt, arg, strlen(arg), lo, hi, out);
}

/* The elements of a comma-separated list, one callback per element. */
typedef int (*elem_fn)(const char *opt, const char *s, size_t len, void *ctx, int i);

static int each_elem(const char *opt, const char *arg, int max, int *n, elem_fn fn, void *ctx)
{
	int k = 0;
	for (const char *p = arg;; k++) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (k == max) return es_error("%s: at most %d values, got '%s'", opt, max, arg);
		if (fn(opt, p, len, ctx, k) < 0) return -1;
		if (!c) break;
		p = c + 1;
	}
	*n = k + 1;
	return 0;
}

typedef struct { long long lo, hi; int *out; } int_list_t;
static int int_elem(const char *opt, const char *s, size_t len, void *ctx, int i)
{
	int_list_t *l = ctx;
	long long v;
	if (span_int(opt, s, len, l->lo, l->hi, &v) < 0) return -1;
	l->out[i] = (int)v;
	return 0;
}

int es_opt_int_list(const char *opt, const char *arg, long long lo, long long hi, int max, int *out, int *n)
{
	int_list_t l = { lo, hi, out };
	return each_elem(opt, arg, max, n, int_elem, &l);
}

typedef struct { double lo, hi; double *out; } double_list_t;
static int double_elem(const char *opt, const char *s, size_t len, void *ctx, int i)
{
	double_list_t *l = ctx;
	return span_double(opt, s, len, l->lo, l->hi, &l->out[i]);
}

int es_opt_double_list(const char *opt, const char *arg, double lo, double hi, int max, double *out, int *n)
{
	double_list_t l = { lo, hi, out };
	return each_elem(opt, arg, max, n, double_elem, &l);
}
