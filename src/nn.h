/* nn.h — neural-network layers for the DNA encoder, llm.c style: each layer is a forward/backward pair over plain
 * float arrays, shapes in comments as (rows, cols) row-major. One sequence at a time (T positions, no batch axis):
 * sequences of different lengths need no padding or masks. Backward functions ACCUMULATE (+=) into every gradient
 * they write (dinp, dw, db), so callers zero gradients once per step. Nothing here allocates or fails. */
#ifndef ES_NN_H
#define ES_NN_H
#include <stdint.h>
#include <stddef.h>

/* ---- token embedding: a valid 1-D convolution (kernel k) over the one-hot of DNA codes, done as a gather ----
 * out (T-k+1, C): out[t] = b + sum_{j<k} w[j][x[t+j]], codes 0..3; N (4) contributes nothing (its one-hot is 0).
 * w (k, 4, C), b (C). Requires T >= k. */
void es_nn_embconv_forward(float *out, const uint8_t *x, int T, const float *w, const float *b, int k, int C);
void es_nn_embconv_backward(float *dw, float *db, const float *dout, const uint8_t *x, int T, int k, int C);

/* ---- 1-D valid convolution with stride s, as im2col + one GEMM ----
 * inp (T, C) -> out (To, OC), To = (T-k)/s + 1 (requires T >= k). w (k*C, OC): row j*C+c holds tap j, channel c.
 * col (To, k*C) is scratch written by forward and read by backward (keep it between the two).
 * backward: dinp (T, C) +=, dw +=, db +=; dcol (To, k*C) is scratch. */
static inline int es_nn_conv_outlen(int T, int k, int s) { return T < k ? 0 : (T - k) / s + 1; }
void es_nn_conv_forward(float *out, float *col, const float *inp, const float *w, const float *b,
                        int T, int C, int OC, int k, int s);
void es_nn_conv_backward(float *dinp, float *dw, float *db, float *dcol, const float *dout, const float *col,
                         const float *w, int T, int C, int OC, int k, int s);
/* Slow scalar twin of es_nn_conv_forward (direct loops, no BLAS), for tests. */
void es_nn_conv_forward_ref(float *out, const float *inp, const float *w, const float *b, int T, int C, int OC, int k,
                            int s);

/* ---- linear: out (T, OC) = inp (T, C) @ w (C, OC) + b (OC); b may be NULL ---- */
void es_nn_linear_forward(float *out, const float *inp, const float *w, const float *b, int T, int C, int OC);
void es_nn_linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                           int T, int C, int OC);  /* dinp or db may be NULL (not wanted) */

/* ---- elementwise activations over n values (out may equal inp for forward; backward needs the input) ---- */
void es_nn_relu_forward(float *out, const float *inp, size_t n);
void es_nn_relu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void es_nn_gelu_forward(float *out, const float *inp, size_t n);   /* tanh approximation, as GPT-2/llm.c */
void es_nn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);

/* ---- layer normalisation over C for each of T rows: out (T,C); mean, rstd (T) saved for backward ---- */
void es_nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                             int T, int C);
void es_nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                              const float *w, const float *mean, const float *rstd, int T, int C);

/* ---- multi-head self-attention core (no mask: every position sees every position) ----
 * qkv (T, 3C) = [q | k | v], NH heads of C/NH; out (T, C); att (NH, T, T) softmax probabilities, saved for backward.
 * backward: dqkv (T, 3C) +=; datt (NH, T, T) scratch. */
void es_nn_attention_forward(float *out, float *att, const float *qkv, int T, int C, int NH);
void es_nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                              int T, int C, int NH);

/* ---- mean pooling over T rows: inp (T, C) -> out (C) ---- */
void es_nn_meanpool_forward(float *out, const float *inp, int T, int C);
void es_nn_meanpool_backward(float *dinp, const float *dout, int T, int C);

/* ---- L2 normalisation of n rows: inp (n, D) -> out (n, D); norm (n) saved (a zero row stays zero) ---- */
void es_nn_l2norm_forward(float *out, float *norm, const float *inp, int n, int D);
void es_nn_l2norm_backward(float *dinp, const float *dout, const float *out, const float *norm, int n, int D);

/* ---- symmetric in-batch InfoNCE ----
 * q (B, D) query rows (reads), w (M, D) key rows (windows), M >= B: rows 0..B-1 of w are the positives of q's rows,
 * rows B..M-1 are extra (hard) negatives. logits = q w^T / tau. Loss = mean over i<B of
 * ( CE(row i of logits over all M keys, target i) + CE(column i over the B queries, target i) ) / 2.
 * Returns the loss; dq (B, D) and dw (M, D) += its gradient (either may be NULL). Also counts into *n_top1 (may be
 * NULL) the queries whose best key is their positive. scratch: at least 2*B*M floats. */
double es_nn_infonce(float *dq, float *dw, const float *q, const float *w, int B, int M, int D, float tau,
                     float *scratch, int *n_top1);
#endif
