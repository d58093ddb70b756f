/* pair.c — the paired-end model and decisions (pair.h): insert-size estimation per orientation, the best pair, the
 * mate-rescue windows, pair MAPQ and TLEN. The rules and constants are bwa mem's (bwamem_pair.c), so a bwa user's
 * expectations carry over; differences are said where they are. */
#include "pair.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const es_pe_dir_name[4] = { "FF", "FR", "RF", "RR" };

#define OUTLIER_BOUND 2.0  /* IQRs beyond the quartiles: outliers, left out of the mean and sd */
#define MAPPING_BOUND 3.0  /* IQRs beyond the quartiles: the proper-pair bounds ... */
#define MAX_STDDEV 4.0     /* ... widened to at least this many sd around the mean */
#define SD_FLOOR 0.02      /* the sd is taken as at least this fraction of the mean (not in bwa) */

/* bwa's bidirectional coordinate of an alignment's start: forward [0, L), reverse strand reflected into [L, 2L). */
static int64_t bidir(int64_t ref_len, const es_pe_aln_t *a)
{
	return a->strand ? 2 * ref_len - a->end : a->beg;
}

int es_pe_dir(int64_t ref_len, const es_pe_aln_t *a, const es_pe_aln_t *b, int64_t *dist)
{
	int64_t b1 = bidir(ref_len, a), b2 = bidir(ref_len, b);
	int r1 = a->strand, r2 = b->strand;
	int64_t p2 = r1 == r2 ? b2 : 2 * ref_len - 1 - b2;   /* b's position on a's strand */
	*dist = p2 > b1 ? p2 - b1 : b1 - p2;
	return (r1 == r2 ? 0 : 1) ^ (p2 > b1 ? 0 : 3);
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

/* One orientation's estimate from its n sorted distances (bwa's mem_pestat). */
static void estimate_dir(es_pe_orient_t *o, const int64_t *q, int64_t n)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	if (n < ES_PE_MIN_DIR_CNT) {
		o->failed = 1;
		return;
	}
	o->p25 = (int)q[(int64_t)(.25 * n + .499) < n ? (int64_t)(.25 * n + .499) : n - 1];
	o->p50 = (int)q[(int64_t)(.50 * n + .499) < n ? (int64_t)(.50 * n + .499) : n - 1];
	o->p75 = (int)q[(int64_t)(.75 * n + .499) < n ? (int64_t)(.75 * n + .499) : n - 1];
	double iqr = o->p75 - o->p25;
	double lo = o->p25 - OUTLIER_BOUND * iqr, hi = o->p75 + OUTLIER_BOUND * iqr;
	if (lo < 1) lo = 1;
	double s = 0, ss = 0;
	int64_t k = 0;
	for (int64_t i = 0; i < n; i++) {
		if (q[i] < lo || q[i] > hi) continue;
		s += (double)q[i];
		k++;
	}
	o->mean = k ? s / k : o->p50;
	for (int64_t i = 0; i < n; i++) {
		if (q[i] < lo || q[i] > hi) continue;
		ss += (q[i] - o->mean) * (q[i] - o->mean);
	}
	o->sd = k ? sqrt(ss / k) : 0;
	if (o->sd < SD_FLOOR * o->mean)   /* one fragment length (amplicons): still allow the bases clipping moves */
		o->sd = SD_FLOOR * o->mean;
	double low = o->p25 - MAPPING_BOUND * iqr, high = o->p75 + MAPPING_BOUND * iqr;
	if (low > o->mean - MAX_STDDEV * o->sd) low = o->mean - MAX_STDDEV * o->sd;
	if (high < o->mean + MAX_STDDEV * o->sd) high = o->mean + MAX_STDDEV * o->sd;
	o->low = low < 1 ? 1 : (int)(low + .499);
	o->high = (int)(high + .499);
}

void es_pe_model_estimate(es_pe_model_t *m, int n, const int *dir, const int64_t *dist)
{
	memset(m, 0, sizeof *m);
	int64_t *q = es_malloc((size_t)(n + 1) * sizeof *q);
	int64_t max_n = 0;
	for (int d = 0; d < 4; d++) {
		int64_t k = 0;
		for (int i = 0; i < n; i++)
			if (dir[i] == d && dist[i] <= ES_PE_MAX_INS) q[k++] = dist[i];
		qsort(q, k, sizeof *q, cmp_i64);
		estimate_dir(&m->o[d], q, k);
		if (k > max_n) max_n = k;
	}
	free(q);
	for (int d = 0; d < 4; d++)
		if (!m->o[d].failed && m->o[d].n < max_n * ES_PE_MIN_DIR_RATIO) m->o[d].failed = 1;
}

int es_pe_model_parse(es_pe_model_t *m, const char *arg)
{
	double v[4] = { 0, 0, 0, 0 };
	int n = 0;
	const char *p = arg;
	while (n < 4) {
		char *end;
		v[n] = strtod(p, &end);
		if (end == p || (*end && *end != ',') || !(v[n] > 0) || v[n] > 1e9)
			return es_error("-I: expected MEAN[,SD[,MAX[,MIN]]] with positive numbers, got '%s'", arg);
		n++;
		if (!*end) break;
		p = end + 1;
	}
	if (*p && n == 4 && strchr(p, ','))
		return es_error("-I: at most four values (MEAN,SD,MAX,MIN), got '%s'", arg);
	memset(m, 0, sizeof *m);
	m->from_user = 1;
	for (int d = 0; d < 4; d++) m->o[d].failed = 1;
	es_pe_orient_t *o = &m->o[ES_PE_FR];
	o->failed = 0;
	o->mean = v[0];
	o->sd = n > 1 ? v[1] : v[0] * 0.1;
	o->high = (int)(n > 2 ? v[2] : o->mean + MAX_STDDEV * o->sd + .499);
	double low = n > 3 ? v[3] : o->mean - MAX_STDDEV * o->sd;
	o->low = low < 1 ? 1 : (int)(low + .499);
	if (o->low > o->high)
		return es_error("-I: the minimum insert %d exceeds the maximum %d ('%s')", o->low, o->high, arg);
	return 0;
}

int es_pe_model_usable(const es_pe_model_t *m)
{
	for (int d = 0; d < 4; d++)
		if (!m->o[d].failed) return 1;
	return 0;
}

void es_pe_model_format(const es_pe_model_t *m, char *buf, int size)
{
	int len = 0;
	buf[0] = 0;
	for (int d = 0; d < 4 && len < size; d++) {
		const es_pe_orient_t *o = &m->o[d];
		const char *sep = len ? "\n" : "";
		if (m->from_user && o->failed) continue;
		if (m->from_user)
			len += snprintf(buf + len, size - len, "%s%s: from -I, mean %.1f, sd %.1f, proper [%d, %d]", sep,
			                es_pe_dir_name[d], o->mean, o->sd, o->low, o->high);
		else if (o->failed)
			len += snprintf(buf + len, size - len, "%s%s: %lld pairs, too few: not modelled", sep, es_pe_dir_name[d],
			                (long long)o->n);
		else
			len += snprintf(buf + len, size - len,
			                "%s%s: %lld pairs, mean %.1f, sd %.1f, percentiles (25/50/75) %d/%d/%d, proper [%d, %d]",
			                sep, es_pe_dir_name[d], (long long)o->n, o->mean, o->sd, o->p25, o->p50, o->p75, o->low,
			                o->high);
	}
}

/* The pair score of a with b if the model accepts their insert, else -1 (and *dir_out its orientation). */
static int pair_score(const es_pe_model_t *m, int64_t ref_len, int match, const es_pe_aln_t *a,
                      const es_pe_aln_t *b, int *dir_out)
{
	if (a->tid != b->tid) return -1;
	int64_t dist;
	int d = es_pe_dir(ref_len, a, b, &dist);
	const es_pe_orient_t *o = &m->o[d];
	*dir_out = d;
	if (o->failed || dist < o->low || dist > o->high) return -1;
	double z = o->sd > 0 ? (dist - o->mean) / o->sd : 0;
	double ll = .721 * log(2. * erfc(fabs(z) * M_SQRT1_2)) * match;
	int q = (int)(a->score + b->score + ll + .499);
	return q < 0 ? 0 : q;
}

int es_pe_best_pair(const es_pe_model_t *m, int64_t ref_len, int match, int mismatch, const es_pe_aln_t *a, int na,
                    const es_pe_aln_t *b, int nb, uint64_t tie, es_pe_choice_t *c)
{
	memset(c, 0, sizeof *c);
	c->i = c->j = -1;
	int best = -1, second = -1, n_best = 0;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++) {
			int d, q = pair_score(m, ref_len, match, &a[i], &b[j], &d);
			if (q < 0) continue;
			if (q > best) {
				second = best;
				best = q;
				n_best = 1;
			} else if (q == best) {
				second = q;
				n_best++;
			} else if (q > second) {
				second = q;
			}
		}
	if (best < 0) return 0;
	/* equally good pairs (a repeat longer than the fragment): the (tie mod n)-th, so that the pairs of a repeat
	 * spread over its copies as single reads do (map.c) */
	int pick = (int)(tie % (uint64_t)n_best), k = 0;
	for (int i = 0; i < na && c->i < 0; i++)
		for (int j = 0; j < nb; j++) {
			int d, q = pair_score(m, ref_len, match, &a[i], &b[j], &d);
			if (q != best || k++ != pick) continue;
			c->i = i;
			c->j = j;
			c->dir = d;
			break;
		}
	c->score = best;
	c->sub = second > 0 ? second : 0;
	for (int i = 0; i < na; i++)   /* near-equal alternatives make the pair less certain */
		for (int j = 0; j < nb; j++) {
			int d, q = pair_score(m, ref_len, match, &a[i], &b[j], &d);
			if (q >= 0 && (i != c->i || j != c->j) && best - q <= match + mismatch) c->n_sub++;
		}
	return 1;
}

int es_pe_is_proper(const es_pe_model_t *m, int64_t ref_len, const es_pe_aln_t *a, const es_pe_aln_t *b)
{
	int d;
	return pair_score(m, ref_len, 1, a, b, &d) >= 0;
}

int es_pe_rescue_windows(const es_pe_model_t *m, int64_t ref_len, const es_pe_aln_t *a, int mate_len, int64_t cbeg,
                         int64_t cend, int64_t win[4][2], int strand[4])
{
	int64_t b = bidir(ref_len, a);
	int k = 0;
	for (int r = 0; r < 4; r++) {
		const es_pe_orient_t *o = &m->o[r];
		if (o->failed) continue;
		int is_rev = (r >> 1) != (r & 1);   /* the mate is on the other strand of a's frame */
		int is_larger = !(r >> 1);          /* the mate lies at larger coordinates in a's frame */
		int64_t rb, re;
		if (!is_rev) {
			rb = is_larger ? b + o->low : b - o->high;
			re = (is_larger ? b + o->high : b - o->low) + mate_len;
		} else {
			rb = (is_larger ? b + o->low : b - o->high) - mate_len;
			re = is_larger ? b + o->high : b - o->low;
		}
		if (a->strand) {   /* a's frame is the reverse strand: back to forward coordinates */
			int64_t t = rb;
			rb = 2 * ref_len - re;
			re = 2 * ref_len - t;
		}
		if (rb < cbeg) rb = cbeg;
		if (re > cend) re = cend;
		if (re - rb < mate_len / 2 || re - rb < 16) continue;
		win[k][0] = rb;
		win[k][1] = re;
		strand[k] = a->strand ^ is_rev;
		k++;
	}
	return k;
}

static int raw_mapq(int diff, int match)
{
	return (int)(6.02 * diff / match + .499);
}

int es_pe_pair_mapq(int match, const es_pe_choice_t *c, int score_un)
{
	int subo = c->sub > score_un ? c->sub : score_un;
	int q = raw_mapq(c->score - subo, match);
	if (c->n_sub > 0) q -= (int)(4.343 * log(c->n_sub + 1) + .499);
	return q < 0 ? 0 : q > 60 ? 60 : q;
}

int es_pe_mate_mapq(int q_se, int q_pe)
{
	if (q_se >= q_pe) return q_se;
	return q_pe < q_se + 40 ? q_pe : q_se + 40;
}

int64_t es_pe_tlen(const es_pe_aln_t *self, const es_pe_aln_t *mate, int self_is_first)
{
	int64_t lo = self->beg < mate->beg ? self->beg : mate->beg;
	int64_t hi = self->end > mate->end ? self->end : mate->end;
	int leftmost = self->beg < mate->beg || (self->beg == mate->beg && self_is_first);
	return leftmost ? hi - lo : -(hi - lo);
}
