/* encoder.h — the DNA encoder interface: a DNA string -> a unit vector of dimension dim, the same for a sequence and
 * its reverse complement (strand-invariant), so a read needs one query whatever strand it came from.
 * Two encoders: "kmer" (hashed canonical k-mer sketch, not learned) and "transformer" (a trained model file). */
#ifndef ES_ENCODER_H
#define ES_ENCODER_H
#include <stdint.h>

typedef enum { ES_ENC_KMER = 1, ES_ENC_TRANSFORMER = 2 } es_enc_kind_t;

typedef struct es_encoder_s es_encoder_t;
/* The implementation table: every encoder fills one (see encoder.c for kmer, model.c for transformer). */
struct es_encoder_s {
	es_enc_kind_t kind;
	int dim;               /* output dimension */
	int max_len;           /* longest input accepted (bases) */
	char name[128];        /* human-readable identity, e.g. "kmer(k=15,dim=64)" */
	uint64_t checksum;     /* identity of the parameters: an index records it and refuses another encoder */
	/* Embed n sequences (codes 0..4, N=4) into out (n*dim floats, each row L2-normalised; an all-N or too-short
	 * sequence gives a zero row). Thread-safe: may be called from several threads at once. Returns 0, or -1 on error. */
	int (*embed)(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out);
	void (*destroy)(es_encoder_t *e);
	void *impl;            /* encoder-specific state */
};

/* The k-mer sketch: canonical k-mers (1 <= k <= 31), each hashed to one of dim dimensions with a random sign. */
es_encoder_t *es_encoder_kmer_new(int k, int dim);
/* Open an encoder from a spec: "kmer" (k=15, dim=64), "kmer:K:DIM", "transformer" (the shipped model, found through
 * $ESALIGN_MODEL or models/esalign.model beside the binary), or a path to a model file.
 * Returns NULL with es_error set (naming the file) on failure. */
es_encoder_t *es_encoder_open(const char *spec);
/* Load a transformer model file (implemented in model.c). NULL with es_error set on a missing/truncated/foreign file. */
es_encoder_t *es_encoder_transformer_load(const char *path);
/* Run e->embed (see the struct): n sequences into out (n*dim floats). Returns 0, or -1 with es_error set. */
int es_encoder_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out);
void es_encoder_destroy(es_encoder_t *e);

/* Accessors: code outside encoder.c and model.c reads an encoder only through these (the struct is to become
 * private). */
int es_encoder_dim(const es_encoder_t *e);            /* output dimension */
int es_encoder_max_len(const es_encoder_t *e);        /* longest input accepted (bases) */
const char *es_encoder_name(const es_encoder_t *e);   /* e.g. "kmer(k=15,dim=64)" */
uint64_t es_encoder_checksum(const es_encoder_t *e);  /* identity of the parameters */
es_enc_kind_t es_encoder_kind(const es_encoder_t *e);
#endif
