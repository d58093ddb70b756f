/* model.h — the learned DNA encoder: configuration, parameters in one allocation, forward/backward for one sequence
 * (one strand), and the model file. Architecture (per strand):
 *   codes (T) -> embedding conv k1 over one-hot, a gather (T1 = T-k1+1, d0) -> act
 *   -> n_conv x [conv k2 stride s2 (Ti, d) -> act] -> n_block x pre-LN Transformer block (MHSA + GELU MLP, residuals)
 *   -> mean pool (d) -> linear (D).
 * The encoder output is L2norm(f(x) + f(revcomp x)), so a sequence and its reverse complement embed identically.
 * 0 conv layers and 0 blocks are both valid (then d must equal d0). */
#ifndef ES_MODEL_H
#define ES_MODEL_H
#include <stdint.h>
#include <stddef.h>
#include "encoder.h"
#include "util.h"

#define ES_MODEL_MAX_CONV 8
#define ES_MODEL_MAX_BLOCK 8

typedef struct {
	int32_t k1;       /* embedding kernel (bases), 1..31 */
	int32_t d0;       /* embedding width */
	int32_t n_conv;   /* conv layers after the embedding, 0..ES_MODEL_MAX_CONV */
	int32_t k2, s2;   /* their kernel and stride */
	int32_t d;        /* model width (conv output, Transformer blocks); == d0 when n_conv == 0 */
	int32_t n_block;  /* Transformer blocks, 0..ES_MODEL_MAX_BLOCK */
	int32_t n_head;   /* attention heads (d % n_head == 0) */
	int32_t D;        /* output dimension */
	int32_t act;      /* activation after the convs: 0 ReLU, 1 GELU */
} es_model_cfg_t;

/* Default: the conv-only encoder chosen by measurement, k1=9 d0=32, one conv k2=9 to d=64, D=64 (docs/encoder.md). */
void es_model_cfg_default(es_model_cfg_t *c);
/* 0 if the configuration is valid, else -1 with es_error set (names the field). */
int es_model_cfg_check(const es_model_cfg_t *c);
/* Parse "key=value,..." overrides (keys k1,d0,nconv,k2,s2,d,blocks,heads,D,act) into c. 0 ok, -1 error. */
int es_model_cfg_parse(es_model_cfg_t *c, const char *s);
/* One-line description in the form es_model_cfg_parse reads, e.g.
 * "k1=9,d0=32,nconv=1,k2=9,s2=1,d=64,blocks=0,heads=4,D=64,act=0". */
void es_model_cfg_str(const es_model_cfg_t *c, char *buf, size_t n);

/* Where each tensor lives inside the one parameter block (offsets in floats). */
typedef struct {
	size_t emb_w, emb_b;                                  /* (k1,4,d0), (d0) */
	size_t conv_w[ES_MODEL_MAX_CONV], conv_b[ES_MODEL_MAX_CONV];  /* (k2*Cin, d), (d) */
	size_t ln1_w[ES_MODEL_MAX_BLOCK], ln1_b[ES_MODEL_MAX_BLOCK];  /* (d) */
	size_t qkv_w[ES_MODEL_MAX_BLOCK], qkv_b[ES_MODEL_MAX_BLOCK];  /* (d,3d), (3d) */
	size_t ao_w[ES_MODEL_MAX_BLOCK], ao_b[ES_MODEL_MAX_BLOCK];    /* (d,d), (d) */
	size_t ln2_w[ES_MODEL_MAX_BLOCK], ln2_b[ES_MODEL_MAX_BLOCK];  /* (d) */
	size_t fc_w[ES_MODEL_MAX_BLOCK], fc_b[ES_MODEL_MAX_BLOCK];    /* (d,4d), (4d) */
	size_t fp_w[ES_MODEL_MAX_BLOCK], fp_b[ES_MODEL_MAX_BLOCK];    /* (4d,d), (d) */
	size_t proj_w, proj_b;                                /* (d,D), (D) */
	size_t n;                                             /* total floats */
} es_model_layout_t;
void es_model_layout(const es_model_cfg_t *c, es_model_layout_t *L);

typedef struct {
	es_model_cfg_t cfg;
	es_model_layout_t L;
	float *p;          /* L.n parameters, owned */
	struct es_qconv_s *qconv;  /* int8 weights of the conv layer for inference (qconv.h), set by es_encoder_from_model
	                            * for the configs it suits, else NULL; es_model_forward and training never use it */
} es_model_t;

/* New model with parameters drawn from a seeded initialiser. NULL with es_error on a bad config. Free with
 * es_model_destroy. */
es_model_t *es_model_new(const es_model_cfg_t *c, uint64_t seed);
void es_model_destroy(es_model_t *m);
/* Identity of the parameters and config (es_checksum). */
uint64_t es_model_checksum(const es_model_t *m);
/* Shortest input giving at least one pooled position; shorter sequences embed to a zero row. */
int es_model_min_len(const es_model_cfg_t *c);
/* Longest input the encoder accepts (attention memory grows as T^2). */
int es_model_max_len(const es_model_cfg_t *c);

/* Activation scratch for one strand of length T: es_model_act_size floats (0 if T < min_len). */
size_t es_model_act_size(const es_model_cfg_t *c, int T);
/* Forward one strand: y (D) = f(x). act holds es_model_act_size(T) floats, kept for backward. Requires
 * min_len <= T. */
void es_model_forward(const es_model_t *m, const uint8_t *x, int T, float *act, float *y);
/* Backward one strand after es_model_forward with the same act: grad (L.n floats) += d f / d params * dy.
 * scratch holds es_model_act_size(T) floats (overwritten). */
void es_model_backward(const es_model_t *m, const uint8_t *x, int T, const float *act, const float *dy,
                       float *grad, float *scratch);
/* Strand-invariant embedding before normalisation: y = f(x) + f(revcomp x). rcbuf holds T bytes, act as above.
 * Runs the conv layer in int8 when m->qconv is set. Returns 0, or 1 if x is too short or all N (y is then zero). */
int es_model_embed_raw(const es_model_t *m, const uint8_t *x, int T, uint8_t *rcbuf, float *act, float *y);
/* Whether es_model_embed_spans can pool windows from one pass (conv-only, stride 1; attention sees the whole input). */
int es_model_spans_exact(const es_model_cfg_t *c);
/* The normalised embeddings of n windows [beg[i], beg[i]+len[i]) of x (T) into out (n, D), with one pass of the network
 * per strand over x: bit-identical to embedding each window alone (es_model_embed_raw, then L2 norm). Requires
 * es_model_spans_exact and windows inside [0, T). Returns 0. */
int es_model_embed_spans(const es_model_t *m, const uint8_t *x, int T, int n, const int *beg, const int *len,
                         float *out);

/* Model file: magic "ESALNMDL", version, config, parameter count, checksum, parameters (little-endian float32).
 * Save writes atomically; returns 0 or -1 (es_error names the file). Load returns a new model or NULL with es_error
 * naming the file and the problem (missing, not a model file, other version, bad config, truncated, checksum). */
int es_model_save(const es_model_t *m, const char *path);
es_model_t *es_model_load(const char *path);
/* Wrap a model as an encoder (takes ownership of m; es_encoder_destroy frees it). The conv layer of a conv-only
 * ReLU model (nconv=1, blocks=0, k2*d0 % 4 == 0, d % 16 == 0; the shipped one) runs in int8 (m->qconv, prepared
 * here; its checksum and name then say so), unless ESALIGN_ENCODER_FLOAT=1 is set. */
es_encoder_t *es_encoder_from_model(es_model_t *m);
/* An encoder view of m that does not own it (es_encoder_destroy frees the view only), for embedding while m is
 * trained (always float); es_encoder_model_changed recomputes its checksum after m's parameters changed. */
es_encoder_t *es_encoder_borrow_model(es_model_t *m);
void es_encoder_model_changed(es_encoder_t *e);
#endif
