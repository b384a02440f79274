/* The CPU backend's PLR numeric embedding and dropout masks (nn/spec.h
 * says what they compute). Every value is computed by one thread in a
 * fixed order (the forward splits rows, the backward splits columns, each
 * column's gradients summed over rows in row order), so results do not
 * depend on the thread count. */
#ifndef REEL_NN_CPU_PLR_H
#define REEL_NN_CPU_PLR_H

#include <stddef.h>
#include <stdint.h>

#include "nn/spec.h"

typedef struct {
    size_t d, n_num, k, width; /* input columns, numeric ones, frequencies, embedding width */
    size_t *num, *pass;        /* the numeric columns, then the others, in column order (owned) */
} reel_cpu_plr;

/* From the spec (its numeric flags, or every column); -1 when out of memory. */
int reel_cpu_plr_init(reel_cpu_plr *p, const reel_nn_spec *s);
void reel_cpu_plr_free(reel_cpu_plr *p);
/* The embedding's output width: n_num * width + (d - n_num). */
size_t reel_cpu_plr_out(const reel_cpu_plr *p);

/* E (n x out) from X (n x d); params is the net's whole buffer (spec's
 * offsets). F (n x n_num x 2k), when not NULL, keeps [sin v, cos v] for
 * the backward. */
void reel_cpu_plr_forward(const reel_cpu_plr *p, const reel_nn_spec *s, const float *params, const float *X,
                          size_t n, float *E, float *F, int threads);
/* From dE (n x out), the gradients of the frequencies, weights and biases
 * (written, not added, at the spec's offsets in grads). */
void reel_cpu_plr_backward(const reel_cpu_plr *p, const reel_nn_spec *s, const float *params, const float *X,
                           const float *F, const float *E, const float *dE, size_t n, float *grads, int threads);

/* Dropout with probability p on n rows x width units of layer `layer` at
 * training step `step`: scale[i * width + j] = 1 / (1 - p) where the unit
 * is kept, else 0; the mask is a hash of (seed, step, layer, i, j), the
 * kernels' own (kernels/nn_math.h). */
void reel_cpu_dropout_mask(uint64_t seed, long step, size_t layer, size_t n, size_t width, float p, float *scale);

#endif
