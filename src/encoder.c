/* encoder.c — the encoder interface and the "kmer" encoder: a hashed canonical k-mer sketch (count sketch).
 * Canonical k-mers make the vector identical for a sequence and its reverse complement. */
#include "encoder.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <unistd.h>
#include <limits.h>

typedef struct {
	int k;
	uint64_t seed;
} kmer_impl_t;

/* Scale v[0,dim) to unit length (a zero vector stays zero). */
static void normalize(float *v, int dim)
{
	double s = 0;
	for (int d = 0; d < dim; d++)
		s += (double)v[d] * v[d];
	if (s <= 0)
		return;
	float inv = (float)(1.0 / sqrt(s));
	for (int d = 0; d < dim; d++)
		v[d] *= inv;
}

static int kmer_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out)
{
	const kmer_impl_t *km = e->impl;
	int k = km->k;
	int dim = e->dim;
	uint64_t mask = k < 32 ? (1ULL << (2 * k)) - 1 : ~0ULL;
	uint64_t shift = 2 * (k - 1);
	for (int i = 0; i < n; i++) {
		float *v = out + (size_t)i * dim;
		memset(v, 0, dim * sizeof(float));
		uint64_t fw = 0;
		uint64_t rv = 0;
		int l = 0;
		for (int j = 0; j < lens[i]; j++) {
			int c = seqs[i][j];
			if (c > 3) {  /* an N breaks the k-mer */
				l = 0;
				continue;
			}
			fw = ((fw << 2) | c) & mask;
			rv = (rv >> 2) | ((uint64_t)(3 - c) << shift);
			if (++l < k)
				continue;
			uint64_t h = es_hash64((fw < rv ? fw : rv) ^ km->seed);
			v[(h >> 1) % dim] += (h & 1) ? 1.0f : -1.0f;
		}
		normalize(v, dim);
	}
	return 0;
}

static void kmer_destroy(es_encoder_t *e)
{
	free(e->impl);
	free(e);
}

es_encoder_t *es_encoder_kmer_new(int k, int dim)
{
	if (k < 1 || k > 31) {
		es_error("kmer encoder: k=%d out of range 1..31", k);
		return NULL;
	}
	if (dim < 2 || dim > 4096) {
		es_error("kmer encoder: dim=%d out of range 2..4096", dim);
		return NULL;
	}
	es_encoder_t *e = es_calloc(1, sizeof *e);
	kmer_impl_t *km = es_calloc(1, sizeof *km);
	km->k = k;
	km->seed = 0x5eed0000ULL + (uint64_t)k;
	e->kind = ES_ENC_KMER;
	e->dim = dim;
	e->max_len = INT_MAX;
	snprintf(e->name, sizeof e->name, "kmer(k=%d,dim=%d)", k, dim);
	e->checksum = es_hash64(es_hash64(((uint64_t)k << 32) | (uint64_t)dim) ^ km->seed);
	e->embed = kmer_embed;
	e->destroy = kmer_destroy;
	e->impl = km;
	return e;
}

/* Where the shipped model lives: $ESALIGN_MODEL, else models/esalign.model next to the binary or one level up. */
static int find_shipped_model(char *buf, size_t n)
{
	const char *env = getenv("ESALIGN_MODEL");
	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (l > 0) {
		exe[l] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		const char *rel[] = { "/models/esalign.model", "/../models/esalign.model",
		                      "/../share/esalign/esalign.model" };
		for (int i = 0; i < 3; i++) {
			snprintf(buf, n, "%s%s", exe, rel[i]);
			if (access(buf, R_OK) == 0)
				return 0;
		}
	}
	snprintf(buf, n, "models/esalign.model");
	return 0;
}

es_encoder_t *es_encoder_open(const char *spec)
{
	if (strcmp(spec, "kmer") == 0)
		return es_encoder_kmer_new(15, 64);
	if (strncmp(spec, "kmer:", 5) == 0) {
		int k;
		int dim;
		if (sscanf(spec + 5, "%d:%d", &k, &dim) != 2) {
			es_error("encoder '%s': expected kmer:K:DIM", spec);
			return NULL;
		}
		return es_encoder_kmer_new(k, dim);
	}
	if (strcmp(spec, "transformer") == 0) {
		char path[PATH_MAX + 64];
		find_shipped_model(path, sizeof path);
		return es_encoder_transformer_load(path);
	}
	return es_encoder_transformer_load(spec);
}

int es_encoder_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out)
{
	return e->embed(e, n, seqs, lens, out);
}

int es_encoder_embed_spans(const es_encoder_t *e, const uint8_t *x, int T, int n, const int *beg, const int *len,
                           float *out)
{
	for (int i = 0; i < n; i++)
		if (beg[i] < 0 || len[i] < 0 || beg[i] > T - len[i])
			return es_error("%s: window %d [%d,%d) is not inside the sequence of %d bases", e->name, i, beg[i],
			                beg[i] + len[i], T);
	if (e->embed_spans)
		return e->embed_spans(e, x, T, n, beg, len, out);
	const uint8_t **seqs = es_malloc(((size_t)n + 1) * sizeof *seqs);
	for (int i = 0; i < n; i++)
		seqs[i] = x + beg[i];
	int ret = e->embed(e, n, seqs, len, out);
	free(seqs);
	return ret;
}

void es_encoder_destroy(es_encoder_t *e)
{
	if (e)
		e->destroy(e);
}

int es_encoder_dim(const es_encoder_t *e)
{
	return e->dim;
}

int es_encoder_max_len(const es_encoder_t *e)
{
	return e->max_len;
}

const char *es_encoder_name(const es_encoder_t *e)
{
	return e->name;
}

uint64_t es_encoder_checksum(const es_encoder_t *e)
{
	return e->checksum;
}

es_enc_kind_t es_encoder_kind(const es_encoder_t *e)
{
	return e->kind;
}
