/* test_lowc.c — the low-complexity seed table (lowc.c) on a random genome holding arrays of one microsatellite
 * motif, each with its own defects: the read test, the table against the reference it was built from, the lookup
 * against a linear scan of the table (its scalar twin), the loci of array reads, the checks of a damaged section,
 * and the mapping of array reads with and without the seeds. */
#include "test.h"
#include "../src/lowc.c"
#include "store.h"
#include "store_priv.h"
#include <htslib/sam.h>
#include <stdlib.h>

#define G_LEN 300000
#define N_ARR 24
#define ARR_LEN 400

typedef struct {
	char *s;             /* ACGT, NUL-terminated */
	int64_t arr[N_ARR];  /* each array's start */
} genome_t;

/* Random bases with N_ARR arrays of (CA)n, each with 12 random substitutions (its defects: a 150 bp read of an
 * array holds ~4, and their combination is its own) */
static genome_t make_arrays(uint64_t seed)
{
	genome_t g;
	es_rng_t rng;
	es_rng_seed(&rng, seed);
	g.s = malloc(G_LEN + 1);
	for (int i = 0; i < G_LEN; i++)
		g.s[i] = "ACGT"[es_rng_below(&rng, 4)];
	g.s[G_LEN] = 0;
	for (int a = 0; a < N_ARR; a++) {
		int64_t b = 2000 + (int64_t)a * (G_LEN - 4000) / N_ARR + es_rng_below(&rng, 2000);
		g.arr[a] = b;
		for (int j = 0; j < ARR_LEN; j++)
			g.s[b + j] = "CA"[j & 1];
		for (int d = 0; d < 12; d++) {
			int j = 20 + es_rng_below(&rng, ARR_LEN - 40);
			g.s[b + j] = g.s[b + j] == 'A' ? "CGT"[es_rng_below(&rng, 3)] : "AGT"[es_rng_below(&rng, 3)];
		}
	}
	return g;
}

static es_ref_t *write_ref(const genome_t *g, const char *name, char *fa, size_t sz)
{
	snprintf(fa, sz, "%s/%s.fa", es_test_tmpdir(), name);
	FILE *fp = fopen(fa, "w");
	if (!fp)
		return NULL;
	fprintf(fp, ">arr\n%s\n", g->s);
	fclose(fp);
	return es_ref_load_fasta(fa);
}

static char comp(char c)
{
	return c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A';
}

static uint8_t code(char c)
{
	return c == 'A' ? 0 : c == 'C' ? 1 : c == 'G' ? 2 : c == 'T' ? 3 : 4;
}

static void to_codes(const char *s, int n, uint8_t *fw, uint8_t *rc)
{
	for (int i = 0; i < n; i++) {
		fw[i] = code(s[i]);
		rc[n - 1 - i] = fw[i] > 3 ? 4 : 3 - fw[i];
	}
}

/* The full key of entry i: its directory slot's bits, then its remainder. */
static uint32_t entry_key(const es_lowc_t *t, uint64_t i)
{
	uint32_t lo = 0, hi = (1u << t->h->dir_bits) - 1;   /* the last slot d with dir[d] <= i */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (t->dir[mid] <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo << (32 - t->h->dir_bits) | t->rem[i];
}

/* The seed table of ref into *sec (*size bytes) and t (opened under the name fn): 0, or -1. */
static int build_table(const es_ref_t *ref, const char *fn, void **sec, size_t *size, es_lowc_t *t)
{
	if (es_lowc_build(ref, 0, sec, size) != 0)
		return -1;
	return es_lowc_open(*sec, *size, ref->len, fn, t);
}

TEST(lowc_read_test)
{
	genome_t g = make_arrays(1);
	es_lowc_buf_t b = { 0 };
	uint8_t fw[250], rc[250];
	to_codes(g.s + 100000 + 7, 150, fw, rc);   /* random bases (no array starts this early in a 12 kb slot) */
	int random_low = 0, array_low = 0;
	for (int i = 0; i < 20; i++) {
		to_codes(g.s + 1000 + i * 9000, 150, fw, rc);
		random_low += es_lowc_read(&b, fw, 150);
	}
	for (int a = 0; a < N_ARR; a++) {
		to_codes(g.s + g.arr[a] + 100, 150, fw, rc);
		array_low += es_lowc_read(&b, fw, 150);
	}
	CHECK_EQ_INT(array_low, N_ARR);
	CHECKF(random_low <= 2, "%d of 20 reads of random bases called low-complexity", random_low);
	es_lowc_buf_free(&b);
	free(g.s);
}

TEST(lowc_table_matches_the_reference)
{
	genome_t g = make_arrays(2);
	char fa[512];
	es_ref_t *ref = write_ref(&g, "lowc_tab", fa, sizeof fa);
	CHECK(ref != NULL);
	if (!ref)
		return;
	void *sec = NULL;
	size_t size = 0;
	es_lowc_t t;
	CHECK(build_table(ref, "lowc_tab", &sec, &size, &t) == 0);
	/* the stretches hold every array with its flanks, and little else */
	CHECKF(t.h->bases >= (uint64_t)N_ARR * (ARR_LEN + 2 * FLANK) * 9 / 10 && t.h->bases < G_LEN / 4,
	       "%llu bases in stretches", (unsigned long long)t.h->bases);
	CHECK(t.n > 0);
	int bad_order = 0, bad_kmer = 0, too_many = 0, odd = 0;
	uint32_t *key = malloc(t.n * sizeof *key);
	for (uint64_t i = 0; i < t.n; i++)
		key[i] = entry_key(&t, i);
	for (uint64_t i = 0; i < t.n; i++) {
		if (i > 0 && (key[i] < key[i - 1] || (key[i] == key[i - 1] && t.pos[i] <= t.pos[i - 1])))
			bad_order++;
		uint32_t x = 0;
		for (int j = 0; j < ES_LOWC_K; j++)
			x = x << 2 | code(g.s[t.pos[i] + j]);
		bad_kmer += x != key[i];
		odd += t.pos[i] % SEED_STEP != 0;
		uint64_t z = i;
		while (z < t.n && key[z] == key[i])
			z++;
		too_many += z - i > ES_LOWC_MAX_OCC;
	}
	free(key);
	CHECK_EQ_INT(odd, 0);
	CHECK_EQ_INT(bad_order, 0);
	CHECK_EQ_INT(bad_kmer, 0);
	CHECK_EQ_INT(too_many, 0);
	/* the motif's own 16-mers occur in every array: left out */
	uint32_t ca = 0, lo, hi;
	for (int j = 0; j < ES_LOWC_K; j++)
		ca = ca << 2 | code("CA"[j & 1]);
	lookup(&t, ca, &lo, &hi);
	CHECK_EQ_INT(hi - lo, 0);
	free(sec);
	es_ref_destroy(ref);
	free(g.s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The votes of a read by a linear scan of the whole table (key: every entry's full key): strand_votes' scalar twin. */
static int naive_votes(const es_lowc_t *t, const uint32_t *key, const uint8_t *q, int qlen, int s, uint64_t *v, int nv)
{
	for (int i = 0; i + ES_LOWC_K <= qlen; i++) {
		uint32_t x = 0;
		int ok = 1;
		for (int j = 0; j < ES_LOWC_K; j++) {
			ok &= q[i + j] <= 3;
			x = x << 2 | (q[i + j] & 3);
		}
		for (uint64_t e = 0; ok && e < t->n; e++)
			if (key[e] == x)
				v[nv++] = (uint64_t)s << 62 | (uint64_t)((int64_t)t->pos[e] - i + ((int64_t)1 << 32));
	}
	return nv;
}

TEST(lowc_loci_find_the_own_array)
{
	genome_t g = make_arrays(3);
	char fa[512];
	es_ref_t *ref = write_ref(&g, "lowc_loci", fa, sizeof fa);
	CHECK(ref != NULL);
	if (!ref)
		return;
	void *sec = NULL;
	size_t size = 0;
	es_lowc_t t;
	CHECK(build_table(ref, "lowc_loci", &sec, &size, &t) == 0);
	es_lowc_buf_t b = { 0 };
	uint8_t fw[200], rc[200];
	uint64_t *nv = malloc(200 * 2 * ES_LOWC_MAX_OCC * sizeof *nv);
	uint32_t *key = malloc(t.n * sizeof *key);
	for (uint64_t i = 0; i < t.n; i++)
		key[i] = entry_key(&t, i);
	int found = 0, first = 0, twin_bad = 0, n = 0, n_placeable = 0, found_placeable = 0;
	for (int a = 0; a < N_ARR; a++)
		for (int off = -60; off <= ARR_LEN - 120; off += 70) {   /* reads across a flank and inside the array */
			int64_t p = g.arr[a] + off;
			to_codes(g.s + p, 150, fw, rc);
			/* the lookup against the linear scan */
			int k = strand_votes(&t, fw, 150, 0, ref->len, &b, 0);
			k = strand_votes(&t, rc, 150, 1, ref->len, &b, k);
			int kn = naive_votes(&t, key, fw, 150, 0, nv, 0);
			kn = naive_votes(&t, key, rc, 150, 1, nv, kn);
			qsort(b.v, k, sizeof *b.v, cmp_u64);
			qsort(nv, kn, sizeof *nv, cmp_u64);
			twin_bad += k != kn || (k > 0 && memcmp(b.v, nv, k * sizeof *nv) != 0);
			es_locus_t loci[ES_LOWC_MAX_LOCI];
			int nl = es_lowc_loci(&t, ref, &b, (a & 1) ? rc : fw, (a & 1) ? fw : rc, 150, loci, ES_LOWC_MAX_LOCI);
			int hit = -1;
			for (int i = 0; i < nl && hit < 0; i++)
				if (loci[i].beg <= p + 10 && loci[i].end >= p + 140)
					hit = i;
			/* placeable: holding 2 of the array's defects or 20 bases of flank (the others are as alike as the
			 * arrays' own motif: no seed can tell them apart) */
			int n_def = 0, flank = 0;
			for (int64_t j = p; j < p + 150; j++)
				if (j < g.arr[a] || j >= g.arr[a] + ARR_LEN)
					flank++;
				else
					n_def += g.s[j] != "CA"[(j - g.arr[a]) & 1];
			int placeable = n_def >= 2 || flank >= 20;
			n_placeable += placeable;
			found_placeable += placeable && hit >= 0;
			found += hit >= 0;
			first += hit == 0;
			for (int i = 0; i < nl; i++)
				CHECK(loci[i].beg >= 0 && loci[i].end <= ref->len && loci[i].beg < loci[i].end);
			n++;
		}
	CHECK_EQ_INT(twin_bad, 0);
	CHECKF(found_placeable == n_placeable, "the own array among the seed loci of %d of %d placeable reads",
	       found_placeable, n_placeable);
	CHECKF(n_placeable * 10 >= n * 9 && found * 10 >= n * 9, "%d placeable reads, %d found, of %d", n_placeable,
	       found, n);
	CHECKF(first * 10 >= n * 9, "the own array first for %d of %d reads", first, n);
	free(nv);
	free(key);
	es_lowc_buf_free(&b);
	free(sec);
	es_ref_destroy(ref);
	free(g.s);
}

TEST(lowc_open_refuses_damaged_sections)
{
	genome_t g = make_arrays(4);
	char fa[512];
	es_ref_t *ref = write_ref(&g, "lowc_bad", fa, sizeof fa);
	CHECK(ref != NULL);
	if (!ref)
		return;
	void *sec = NULL;
	size_t size = 0;
	CHECK(es_lowc_build(ref, 0, &sec, &size) == 0);
	es_lowc_t t;
	CHECK(es_lowc_open(sec, size - 4, ref->len, "x.esi", &t) != 0);
	CHECK(strstr(es_last_error(), "x.esi") != NULL);
	es_lowc_hdr_t *h = sec;
	h->k = 12;
	CHECK(es_lowc_open(sec, size, ref->len, "x.esi", &t) != 0);
	h->k = ES_LOWC_K;
	uint32_t *dir = (uint32_t *)(void *)((uint8_t *)sec + sizeof *h);
	uint32_t save = dir[3];
	dir[3] = (uint32_t)h->n + 1;
	CHECK(es_lowc_open(sec, size, ref->len, "x.esi", &t) != 0);
	dir[3] = save;
	CHECK(es_lowc_open(sec, size, ref->len, "x.esi", &t) == 0);
	CHECK(es_lowc_open(sec, size, (int64_t)UINT32_MAX + 1, "x.esi", &t) != 0);   /* positions would not reach */
	free(sec);
	es_ref_destroy(ref);
	free(g.s);
}

/* Reads of the arrays (150 bp, inside and across their flanks, both strands, a sequencing error each) mapped with a
 * kmer index: with the seeds every one lands on its own array; without them, no more do. */
TEST(lowc_seeds_place_array_reads)
{
	genome_t g = make_arrays(5);
	char fa[512], idx[512], fq[512], sam[512];
	es_ref_t *ref = write_ref(&g, "lowc_map", fa, sizeof fa);
	CHECK(ref != NULL);
	if (!ref)
		return;
	snprintf(idx, sizeof idx, "%s/lowc_map.esi", es_test_tmpdir());
	snprintf(fq, sizeof fq, "%s/lowc_map.fq", es_test_tmpdir());
	CHECK(es_test_index_kmer(ref, idx) == 0);
	FILE *fp = fopen(fq, "w");
	CHECK(fp != NULL);
	if (!fp)
		return;
	int64_t truth[N_ARR * 8];
	int n = 0;
	es_rng_t rng;
	es_rng_seed(&rng, 55);
	for (int a = 0; a < N_ARR; a++)
		for (int off = -40; off <= ARR_LEN - 110; off += 90) {
			int64_t p = g.arr[a] + off;
			char s[151];
			memcpy(s, g.s + p, 150);
			s[150] = 0;
			int e = 5 + es_rng_below(&rng, 140);
			s[e] = s[e] == 'G' ? 'T' : 'G';
			if (n & 1)
				for (int i = 0; i < 75; i++) {   /* the reverse strand */
					char c = s[i];
					s[i] = comp(s[149 - i]);
					s[149 - i] = comp(c);
				}
			fprintf(fp, "@r%d\n%s\n+\n", n, s);
			for (int i = 0; i < 150; i++)
				fputc('I', fp);
			fputc('\n', fp);
			truth[n++] = p;
		}
	fclose(fp);
	int right[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		es_map_opt_t o;
		es_map_opt_init(&o);
		o.no_lowc = k;
		snprintf(sam, sizeof sam, "%s/lowc_map%d.sam", es_test_tmpdir(), k);
		CHECK(es_test_map_quiet(idx, fq, sam, &o) == 0);
		samFile *in = sam_open(sam, "r");
		sam_hdr_t *h = in ? sam_hdr_read(in) : NULL;
		bam1_t *b = bam_init1();
		while (h && sam_read1(in, h, b) >= 0) {
			int r = atoi(bam_get_qname(b) + 1);
			if (!(b->core.flag & 0x904) && r >= 0 && r < n && llabs(b->core.pos - truth[r]) <= 20)
				right[k]++;
		}
		bam_destroy1(b);
		if (h)
			sam_hdr_destroy(h);
		if (in)
			sam_close(in);
	}
	CHECKF(right[0] == n, "with the seeds %d of %d array reads placed right", right[0], n);
	CHECKF(right[1] <= right[0], "without them %d, with them %d", right[1], right[0]);
	es_ref_destroy(ref);
	free(g.s);
}
