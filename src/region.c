/* region.c — region strings ("CONTIG" or "CONTIG:BEG-END", 0-based half-open) and their resolution against a
 * reference: one rule for every command that takes a region (region.h). */
#include "region.h"
#include "util.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* a non-negative decimal with optional commas over [s,e); -1 if malformed */
static int64_t parse_num(const char *s, const char *e)
{
	int64_t v = 0;
	int nd = 0;
	for (; s < e; s++) {
		if (*s == ',') continue;
		if (!isdigit((unsigned char)*s) || v > (INT64_MAX - 9) / 10) return -1;
		v = v * 10 + (*s - '0');
		nd++;
	}
	return nd ? v : -1;
}

/* 1 when the text after the colon is digits and commas around one '-' */
static int is_range(const char *p, const char *dash)
{
	if (!dash) return 0;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != ',' && p != dash) return 0;
	return 1;
}

int es_region_parse(const char *s, char **contig, int64_t *beg, int64_t *end)
{
	*contig = NULL;
	*beg = 0;
	*end = -1;
	if (!s || !*s) return es_error("empty region");
	const char *colon = strrchr(s, ':');
	size_t name_len = strlen(s);
	if (colon && is_range(colon + 1, strchr(colon + 1, '-'))) {
		const char *dash = strchr(colon + 1, '-');
		int64_t b = parse_num(colon + 1, dash), e = parse_num(dash + 1, colon + strlen(colon));
		if (b < 0 || e < 0) return es_error("region '%s': malformed BEG-END (want CONTIG:BEG-END, 0-based half-open)", s);
		if (b >= e) return es_error("region '%s': BEG must be less than END (0-based half-open [BEG,END))", s);
		*beg = b;
		*end = e;
		name_len = (size_t)(colon - s);
	}   /* otherwise the ':' belongs to the contig name (e.g. HLA-A*01:01) */
	if (name_len == 0) return es_error("region '%s': empty contig name", s);
	*contig = es_malloc(name_len + 1);
	memcpy(*contig, s, name_len);
	(*contig)[name_len] = 0;
	return 0;
}

int es_ref_region(const es_ref_t *ref, const char *s, int64_t *beg, int64_t *end)
{
	char *name;
	int64_t b, e;
	if (es_region_parse(s, &name, &b, &e) < 0) return -1;
	int ci = es_ref_contig_by_name(ref, name);
	if (ci < 0) {
		es_error("region '%s': no contig named '%s' in the reference", s, name);
		free(name);
		return -1;
	}
	free(name);
	const es_contig_t *c = &ref->contig[ci];
	if (e < 0) e = c->len;
	if (e > c->len)
		return es_error("region '%s': END %lld is past the end of contig '%s' (length %lld)", s, (long long)e, c->name,
		                (long long)c->len);
	if (b >= e) return es_error("region '%s' is empty: contig '%s' has length %lld", s, c->name, (long long)c->len);
	*beg = c->off + b;
	*end = c->off + e;
	return 0;
}
