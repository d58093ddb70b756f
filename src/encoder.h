/* encoder.h — the DNA encoder interface: a DNA string -> a unit vector of dimension dim, the same for a sequence and
 * its reverse complement (strand-invariant), so a read needs one query whatever strand it came from.
 * Two encoders: "kmer" (hashed canonical k-mer sketch, not learned) and "transformer" (a trained model file). */
#ifndef ES_ENCODER_H
#define ES_ENCODER_H
#include <stdint.h>
#include "esalign.h"   /* es_encoder_t, es_encoder_open/embed/destroy and the accessors */

typedef enum { ES_ENC_KMER = 1, ES_ENC_TRANSFORMER = 2 } es_enc_kind_t;

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
	/* Optional: embed n windows [beg[i], beg[i]+len[i]) of one sequence x (T bases) with one pass over x, each row
	 * identical to embedding the window alone. NULL: es_encoder_embed_spans embeds the windows one by one. */
	int (*embed_spans)(const es_encoder_t *e, const uint8_t *x, int T, int n, const int *beg, const int *len,
	                   float *out);
	void (*destroy)(es_encoder_t *e);
	void *impl;            /* encoder-specific state */
};

/* The k-mer sketch: canonical k-mers (1 <= k <= 31), each hashed to one of dim dimensions with a random sign. */
es_encoder_t *es_encoder_kmer_new(int k, int dim);
/* Load a transformer model file (implemented in model.c). NULL with es_error set on a missing, truncated or foreign
 * file. */
es_encoder_t *es_encoder_transformer_load(const char *path);

/* Accessors: code outside encoder.c and model.c reads an encoder only through these and the public ones of
 * esalign.h (es_encoder_dim, _max_len, _name, _checksum; the struct is to become private). */
es_enc_kind_t es_encoder_kind(const es_encoder_t *e);
#endif
