/* lowc.c — the low-complexity seed table (lowc.h): which stretches of the reference are low-complexity, their
 * 16-mers sorted into a table with a directory, and a read's seed loci by the votes of its 16-mers. */
#include "lowc.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <htslib/ksort.h>

#define REP_K 12       /* a base "repeats" when the 12-mer ending there occurred within the last REP_SPAN bases */
#define REP_SPAN 100   /* the window the stretches are judged in: the shortest read the aligner is tuned for */
#define REP_FRAC 0.2   /* a window is low-complexity when at least this fraction of its 12-mers repeat in it (the
                        * read's test: fewer than 80% of its 12-mers distinct) */
#define FLANK 250      /* bases added on each side of a stretch: a read overlapping it lies inside the padded one */
#define SEED_STEP 3    /* seeds at every third reference position: a read's 16-mers are all looked up, so each of
                        * its exact matches of 18 bases or more still hits, at a third of the table (~5 votes per
                        * defect instead of 16). 1 Gb, 20,000 reads each, correct % at 100 / 150 / 250 bp: every
                        * position 98.37 / 99.195 / 99.73, every other 98.37 / 99.20 / 99.72, every third 98.385 /
                        * 99.21 / 99.725; an index of 3.1 Gb with 4-bit vectors stays under 3 bytes per base */
#define SEED_LINK 4    /* seeds whose diagonals lie this close are one placement (a small indel shifts the diagonal);
                        * not wider: in the other arrays of a motif the read's defect k-mers hit at scattered
                        * diagonals, and a wide chain of those outvoted the read's own diagonal (tests/test_lowc.c) */

/* ---------------- building ---------------- */

typedef struct {
	uint64_t *e;        /* key << 32 | position */
	size_t n, m;
	uint64_t bases;
} entries_t;

static void push(entries_t *E, uint64_t x)
{
	if (E->n == E->m) {
		E->m = E->m ? 2 * E->m : 1 << 16;
		E->e = es_realloc(E->e, E->m * sizeof *E->e);
	}
	E->e[E->n++] = x;
}

/* The 16-mers starting in [b, e) of a contig's codes c (global offset off) into E. */
static void stretch_kmers(const uint8_t *c, int64_t b, int64_t e, int64_t off, entries_t *E)
{
	uint32_t x = 0;
	int l = 0;
	E->bases += (uint64_t)(e - b);
	for (int64_t j = b; j < e; j++) {
		if (c[j] > 3) {
			l = 0;
			continue;
		}
		x = x << 2 | c[j];
		int64_t p = off + j - ES_LOWC_K + 1;
		if (++l >= ES_LOWC_K && p % SEED_STEP == 0)
			push(E, (uint64_t)x << 32 | (uint64_t)p);
	}
}

/* One contig (codes c[0,len), global offset off): mark its low-complexity windows (last: the global position + 1 of
 * each 12-mer's last occurrence, shared by all contigs: positions of two contigs lie further apart than REP_SPAN
 * unless the contigs are short, and a 12-mer of a short neighbour is still a repeat of this sequence), merge them
 * with FLANK on each side and collect their 16-mers. */
static void contig_stretches(const uint8_t *c, int64_t len, int64_t off, uint32_t *last, uint8_t *rep, entries_t *E)
{
	const uint32_t mask = (1u << 2 * REP_K) - 1;
	const int need = (int)(REP_FRAC * (REP_SPAN - REP_K + 1) + 0.5);
	uint32_t x = 0;
	int l = 0, cnt = 0;
	int64_t sb = -1, se = -1;   /* the stretch being grown, [sb, se) with its flanks */
	for (int64_t j = 0; j < len; j++) {
		rep[j] = 0;
		if (c[j] > 3)
			l = 0;
		else {
			x = (x << 2 | c[j]) & mask;
			if (++l >= REP_K) {
				uint32_t g = (uint32_t)(off + j);
				rep[j] = last[x] != 0 && g - (last[x] - 1) <= REP_SPAN - REP_K;
				last[x] = g + 1;
			}
		}
		cnt += rep[j];
		if (j >= REP_SPAN - REP_K + 1)
			cnt -= rep[j - (REP_SPAN - REP_K + 1)];
		if (cnt < need)
			continue;
		int64_t wb = j - REP_SPAN + 1 - FLANK, we = j + 1 + FLANK;   /* the window [j-99, j] and its flanks */
		wb = wb > 0 ? wb : 0;
		we = we < len ? we : len;
		if (sb >= 0 && wb <= se) {
			se = we;
			continue;
		}
		if (sb >= 0)
			stretch_kmers(c, sb, se, off, E);
		sb = wb;
		se = we;
	}
	if (sb >= 0)
		stretch_kmers(c, sb, se, off, E);
}

/* Stable LSD radix sort of e[0,n) by the key (the high 32 bits), 16 bits a pass; tmp: n more. */
static void sort_by_key(uint64_t *e, uint64_t *tmp, size_t n)
{
	size_t *cnt = es_malloc(((size_t)1 << 16) * sizeof *cnt);
	for (int shift = 32; shift < 64; shift += 16) {
		memset(cnt, 0, ((size_t)1 << 16) * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[e[i] >> shift & 0xffff]++;
		size_t s = 0;
		for (size_t b = 0; b < (size_t)1 << 16; b++) {
			size_t c = cnt[b];
			cnt[b] = s;
			s += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[e[i] >> shift & 0xffff]++] = e[i];
		memcpy(e, tmp, n * sizeof *e);
	}
	free(cnt);
}

/* Keys occurring at most ES_LOWC_MAX_OCC times kept, in order; returns their entries' count. */
static size_t drop_frequent(uint64_t *e, size_t n)
{
	size_t o = 0;
	for (size_t a = 0; a < n;) {
		size_t z = a + 1;
		while (z < n && e[z] >> 32 == e[a] >> 32)
			z++;
		if (z - a <= ES_LOWC_MAX_OCC)
			for (size_t i = a; i < z; i++)
				e[o++] = e[i];
		a = z;
	}
	return o;
}

/* At least 16, so that a key's low 32 - D bits fit the uint16 the table keeps of it. */
static uint32_t dir_bits_for(uint64_t n)
{
	uint32_t d = 16;
	while (d < 24 && ((uint64_t)1 << (d + 2)) < n)   /* ~4 entries per directory slot */
		d++;
	return d;
}

int es_lowc_build(const es_ref_t *ref, int progress, void **out, size_t *size)
{
	entries_t E = { 0 };
	double t0 = es_time();
	if (ref->len < (int64_t)UINT32_MAX) {
		uint32_t *last = es_calloc((size_t)1 << 2 * REP_K, sizeof *last);
		int64_t maxlen = 0;
		for (int c = 0; c < ref->n_contig; c++)
			maxlen = ref->contig[c].len > maxlen ? ref->contig[c].len : maxlen;
		uint8_t *codes = es_malloc((size_t)maxlen + 1), *rep = es_malloc((size_t)maxlen + 1);
		for (int c = 0; c < ref->n_contig; c++) {
			const es_contig_t *ct = &ref->contig[c];
			es_ref_get(ref, ct->off, ct->off + ct->len, codes);
			contig_stretches(codes, ct->len, ct->off, last, rep, &E);
		}
		free(codes);
		free(rep);
		free(last);
	}
	size_t n = E.n;
	if (n > 0) {
		uint64_t *tmp = es_malloc(n * sizeof *tmp);
		sort_by_key(E.e, tmp, n);
		free(tmp);
		n = drop_frequent(E.e, n);
	}
	uint32_t D = dir_bits_for(n);
	size_t nd = ((size_t)1 << D) + 1;
	*size = sizeof(es_lowc_hdr_t) + nd * 4 + n * 6;
	uint8_t *p = es_calloc(*size, 1);
	es_lowc_hdr_t *h = (es_lowc_hdr_t *)(void *)p;
	*h = (es_lowc_hdr_t){ .k = ES_LOWC_K, .dir_bits = D, .max_occ = ES_LOWC_MAX_OCC, .pad = FLANK, .n = n,
		                  .bases = E.bases };
	uint32_t *dir = (uint32_t *)(void *)(p + sizeof *h), *pos = dir + nd;
	uint16_t *rem = (uint16_t *)(void *)(pos + n);
	size_t b = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(E.e[i] >> 32);
		for (; b <= (size_t)(k >> (32 - D)); b++)
			dir[b] = (uint32_t)i;
		rem[i] = (uint16_t)(k & ((1u << (32 - D)) - 1));
		pos[i] = (uint32_t)E.e[i];
	}
	for (; b < nd; b++)
		dir[b] = (uint32_t)n;
	free(E.e);
	if (progress)
		es_log(2, "index", "low-complexity seeds: %llu bases in stretches (%.2f%% of the reference), %llu seeds "
		       "(%.1f MB) in %.1f s", (unsigned long long)h->bases, ref->len ? 100.0 * h->bases / ref->len : 0.0,
		       (unsigned long long)n, *size / 1e6, es_time() - t0);
	*out = p;
	return 0;
}

int es_lowc_open(const void *p, size_t size, int64_t ref_len, const char *fn, es_lowc_t *t)
{
	memset(t, 0, sizeof *t);
	const es_lowc_hdr_t *h = p;
	if (size < sizeof *h || h->k != ES_LOWC_K || h->dir_bits < 16 || h->dir_bits > 24)
		return es_error("%s: corrupt index: low-complexity seeds: bad header", fn);
	size_t nd = ((size_t)1 << h->dir_bits) + 1;
	if (h->n > UINT32_MAX || size != sizeof *h + nd * 4 + h->n * 6)
		return es_error("%s: corrupt index: low-complexity seeds: %zu bytes do not hold %llu seeds", fn, size,
		                (unsigned long long)h->n);
	const uint32_t *dir = (const uint32_t *)(const void *)((const uint8_t *)p + sizeof *h);
	for (size_t b = 0; b + 1 < nd; b++)
		if (dir[b] > dir[b + 1])
			return es_error("%s: corrupt index: low-complexity seeds: directory out of order", fn);
	if (dir[0] != 0 || dir[nd - 1] != h->n || (h->n > 0 && ref_len >= (int64_t)UINT32_MAX))
		return es_error("%s: corrupt index: low-complexity seeds: directory does not cover the seeds", fn);
	t->h = h;
	t->dir = dir;
	t->pos = dir + nd;
	t->rem = (const uint16_t *)(const void *)(t->pos + h->n);
	t->n = h->n;
	return 0;
}

/* ---------------- reads ---------------- */

int es_lowc_read(es_lowc_buf_t *b, const uint8_t *fw, int qlen)
{
	int size = 64;
	while (size < 2 * qlen)
		size <<= 1;
	if (size > b->m_set) {
		free(b->set);
		b->m_set = size;
		b->set = es_malloc((size_t)size * sizeof *b->set);
	}
	memset(b->set, 0, (size_t)size * sizeof *b->set);
	const uint32_t mask = (1u << 2 * REP_K) - 1;
	uint32_t x = 0;
	int l = 0, n = 0, distinct = 0;
	for (int i = 0; i < qlen; i++) {
		if (fw[i] > 3) {
			l = 0;
			continue;
		}
		x = (x << 2 | fw[i]) & mask;
		if (++l < REP_K)
			continue;
		n++;
		uint32_t h = (uint32_t)((x * 0x9E3779B97F4A7C15ULL) >> 40) & (size - 1);
		while (b->set[h] && b->set[h] != x + 1)
			h = (h + 1) & (size - 1);
		if (!b->set[h]) {
			b->set[h] = x + 1;
			distinct++;
		}
	}
	return n > 0 && distinct * 5 < n * 4;
}

/* The entries of key k: [*lo, *hi). */
static void lookup(const es_lowc_t *t, uint32_t k, uint32_t *lo, uint32_t *hi)
{
	uint32_t d = k >> (32 - t->h->dir_bits), a = t->dir[d], z = t->dir[d + 1];
	uint16_t r = (uint16_t)(k & ((1u << (32 - t->h->dir_bits)) - 1));
	while (a < z) {   /* first entry >= r */
		uint32_t mid = a + (z - a) / 2;
		if (t->rem[mid] < r)
			a = mid + 1;
		else
			z = mid;
	}
	*lo = a;
	z = t->dir[d + 1];
	while (a < z && t->rem[a] == r)
		a++;
	*hi = a;
}

/* The votes of one strand s's sequence q: (s << 62) | (diagonal + 2^32), diagonal = position - read offset. */
static int strand_votes(const es_lowc_t *t, const uint8_t *q, int qlen, int s, int64_t ref_len, es_lowc_buf_t *b,
                        int nv)
{
	uint32_t x = 0;
	int l = 0;
	for (int i = 0; i < qlen; i++) {
		if (q[i] > 3) {
			l = 0;
			continue;
		}
		x = x << 2 | q[i];
		if (++l < ES_LOWC_K)
			continue;
		uint32_t lo, hi;
		lookup(t, x, &lo, &hi);
		if (nv + (int)(hi - lo) > b->m_v) {
			b->m_v = 2 * (nv + (int)(hi - lo)) + 256;
			b->v = es_realloc(b->v, (size_t)b->m_v * sizeof *b->v);
		}
		int64_t qi = i - ES_LOWC_K + 1;
		for (uint32_t e = lo; e < hi; e++)
			if ((int64_t)t->pos[e] < ref_len)
				b->v[nv++] = (uint64_t)s << 62 | (uint64_t)((int64_t)t->pos[e] - qi + ((int64_t)1 << 32));
	}
	return nv;
}

#define u64_lt(a, b) ((a) < (b))
KSORT_INIT_STATIC(lowc_u64, uint64_t, u64_lt)

typedef struct {
	int support;
	uint64_t lo, hi;   /* first and last vote of the band */
} band_t;

/* b better than a: more support, then the lower vote */
static int band_better(const band_t *b, const band_t *a)
{
	return b->support != a->support ? b->support > a->support : b->lo < a->lo;
}

int es_lowc_loci(const es_lowc_t *t, const es_ref_t *ref, es_lowc_buf_t *b, const uint8_t *fw, const uint8_t *rc,
                 int qlen, es_locus_t *out, int max)
{
	if (!t || t->n == 0 || qlen < ES_LOWC_K || max < 1)
		return 0;
	max = max < ES_LOWC_MAX_LOCI ? max : ES_LOWC_MAX_LOCI;
	int nv = strand_votes(t, fw, qlen, 0, ref->len, b, 0);
	nv = strand_votes(t, rc, qlen, 1, ref->len, b, nv);
	if (nv < 2)
		return 0;
	ks_introsort(lowc_u64, (size_t)nv, b->v);
	band_t best[ES_LOWC_MAX_LOCI];
	int nb = 0;
	for (int a = 0; a < nv;) {   /* bands: runs of votes each within SEED_LINK of the one before */
		int z = a + 1;
		while (z < nv && b->v[z] - b->v[z - 1] <= SEED_LINK)
			z++;
		/* a band scores its densest stretch of 2 x SEED_LINK diagonals: the other arrays' scattered hits can chain
		 * into a long band, the read's own placement puts its seeds on one diagonal */
		band_t c = { 0, 0, 0 };
		for (int x = a, y = a; y < z; y++) {
			while (b->v[y] - b->v[x] > 2 * SEED_LINK)
				x++;
			if (y - x + 1 > c.support)
				c = (band_t){ y - x + 1, b->v[x], b->v[y] };
		}
		a = z;
		if (c.support < 2)
			continue;
		int at = nb < max ? nb++ : max;   /* insert keeping best[] sorted, best first */
		if (at == max && !band_better(&c, &best[max - 1]))
			continue;
		if (at == max)
			at = max - 1;
		while (at > 0 && band_better(&c, &best[at - 1])) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = c;
	}
	int n = 0;
	for (int k = 0; k < nb; k++) {
		int64_t dlo = (int64_t)(best[k].lo & (((uint64_t)1 << 62) - 1)) - ((int64_t)1 << 32);
		int64_t dhi = (int64_t)(best[k].hi & (((uint64_t)1 << 62) - 1)) - ((int64_t)1 << 32);
		int64_t mid = dlo + (dhi - dlo) / 2 + qlen / 2;   /* the placement's middle decides its contig */
		mid = mid < 0 ? 0 : mid >= ref->len ? ref->len - 1 : mid;
		int ci = es_ref_contig_at(ref, mid);
		int64_t cb = ref->contig[ci].off, ce = cb + ref->contig[ci].len;
		int64_t beg = dlo > cb ? dlo : cb, end = dhi + qlen < ce ? dhi + qlen : ce;
		if (end <= beg)
			continue;
		out[n++] = (es_locus_t){ .beg = beg, .end = end, .score = 0 };
	}
	return n;
}

void es_lowc_buf_free(es_lowc_buf_t *b)
{
	free(b->v);
	free(b->set);
	memset(b, 0, sizeof *b);
}
