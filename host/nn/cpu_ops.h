/* The CPU backend's maths, one function per operation, in plain C loops.
 * At batch 10 the matrices are tiny (10 x 64 x 64), where a BLAS call costs
 * more in setup than in arithmetic, so the products are written out as
 * register-blocked loops on vectors (cpu_ops.c): each output value is one
 * sum over its terms in order. Every sum runs in a fixed order, so results
 * do not depend on the thread count: with threads > 1 and at least
 * REEL_CPU_PAR_ROWS rows, the forward and dA split the rows and dW/db split
 * the outputs between threads, each value still summed by one thread in
 * the same order. */
#ifndef REEL_NN_CPU_OPS_H
#define REEL_NN_CPU_OPS_H

#include <stddef.h>

#include "nn/backend.h"
#include "nn/spec.h"
#include "nn_math.h" /* kernels/: the maths every device shares */

#define REEL_CPU_PAR_ROWS 256 /* below this a batch is not worth waking threads for */

/* A layer's W (out x in, torch layout) and b packed for the forward:
 * reel_cpu_packed_floats(in, out) floats at P. */
size_t reel_cpu_packed_floats(size_t in, size_t out);
void reel_cpu_pack_layer(const float *W, const float *b, size_t in, size_t out, float *P);

/* H (n x out) = act(A W^T + b); A is n x in, P the layer packed as above. */
void reel_cpu_linear_forward(const float *A, size_t n, size_t in, const float *P, size_t out, reel_nn_act act,
                             float *H, int threads);

/* dH (count values) becomes dZ = dH * act'(.), using the layer output H. */
void reel_cpu_act_backward(reel_nn_act act, const float *H, float *dH, size_t count);

/* From dZ (n x out): dW = dZ^T A (out x in), db = column sums of dZ, and,
 * when dA is not NULL, dA = dZ W (n x in). */
void reel_cpu_linear_backward(const float *A, size_t n, size_t in, const float *W, size_t out,
                              const float *dZ, float *dW, float *db, float *dA, int threads);

/* The head on logits Z (n x L) against targets Y (0/1 floats, may be NULL
 * when only P is wanted). Returns the summed loss (over cells for sigmoid,
 * over rows for softmax; see reel_cpu_head_count); writes G = d(mean
 * loss)/dZ when G is not NULL and the probabilities when P is not NULL. */
double reel_cpu_head(reel_nn_head head, const float *Z, const float *Y, size_t n, size_t L, float *G, float *P);
/* The sigmoid head with per-label positive weights w (L of them; the CPU
 * backend's alone): each cell's loss is w*y*softplus(-z) + (1-y)*softplus(z),
 * written as torch's BCEWithLogitsLoss(pos_weight) computes it,
 * (1 - y)*z + (1 + (w - 1)*y)*(log(1 + exp(-|z|)) + max(-z, 0)), and
 * G = (p*(1 + (w - 1)*y) - w*y) / (n*L). */
double reel_cpu_head_weighted(const float *Z, const float *Y, size_t n, size_t L, const float *w, float *G, float *P);
/* What the summed loss is divided by for the mean: n*L or n. */
double reel_cpu_head_count(reel_nn_head head, size_t n, size_t L);

/* torch.optim.AdamW's update on n values, step >= 1. */
void reel_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, const reel_adamw *o, long step);

/* Whether x[0..n) holds no NaN or infinity. */
int reel_cpu_all_finite(const float *x, size_t n);

#endif
