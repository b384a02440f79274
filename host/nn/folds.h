/* The rows of cross-fitted members ("members": "cross-fit", nn/mlp.c):
 * the pooled training + validation rows split into K folds
 * (reel_mlp_folds); member k trains on every fold but k and early-stops on
 * fold k, so each pooled row is held out from exactly one member, whose
 * prediction of it is its out-of-fold probability. */
#ifndef REEL_NN_FOLDS_H
#define REEL_NN_FOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    float *X, *Xv;   /* its training rows (n x d) and its held-out fold (nv x d) */
    uint8_t *Y, *Yv; /* their labels (n x L, nv x L) */
    size_t n, nv;
    size_t *held; /* nv: each held-out row's index among the pooled rows */
} reel_nn_fold;

/* The K members' rows of n pooled rows X (n x d) and Y (n x L), fold[i]
 * being row i's fold 0..K-1, each member's rows in pooled order. f holds
 * K; on failure nothing is left to free. */
int reel_nn_folds_make(reel_nn_fold *f, size_t K, const int *fold, const float *X, const uint8_t *Y, size_t n,
                       size_t d, size_t L, reel_error *err);
void reel_nn_folds_free(reel_nn_fold *f, size_t K);

#endif
