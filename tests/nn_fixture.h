/* A small learnable problem for the nets' tests: 4 features uniform in
 * [-1, 1), 3 labels, label k on when feature k + feature k+1 > 0, and the
 * fit context that trains on the first n_train rows and validates on the
 * rest. */
#ifndef REEL_TEST_NN_FIXTURE_H
#define REEL_TEST_NN_FIXTURE_H

#include <stdlib.h>

#include "models/model.h"
#include "util/rng.h"

typedef struct {
    float *X;
    uint8_t *Y;
    size_t n, d, L;
} data;

static inline data make_data(size_t n, uint64_t seed)
{
    data t = {malloc(n * 4 * sizeof(float)), malloc(n * 3), n, 4, 3};
    reel_rng rng;
    reel_rng_seed(&rng, seed);
    for (size_t i = 0; i < n * 4; i++)
        t.X[i] = (float)(2 * reel_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 3; k++)
            t.Y[i * 3 + k] = t.X[i * 4 + k] + t.X[i * 4 + k + 1] > 0;
    return t;
}

static inline reel_fit_ctx ctx_for(const data *t, size_t n_train, int threads)
{
    reel_fit_ctx c = {.d = t->d, .L = t->L, .X = t->X, .Y = t->Y, .n = n_train,
                      .Xv = t->X + n_train * t->d, .Yv = t->Y + n_train * t->L, .nv = t->n - n_train,
                      .seed = 5, .threads = threads, .device = "cpu", .name = "t"};
    return c;
}

#endif
