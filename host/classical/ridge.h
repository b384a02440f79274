/* Ridge fits that share one pass over the training rows, for feature
 * selection: the normal equations with every feature once, then each fit
 * without some features from their rows and columns.
 *
 * On the Cholesky path the factor of the whole system is computed once and
 * a fit without some columns deletes them from it (Givens rotations on the
 * rows below the first deleted column: the factor of the principal
 * submatrix), then checks it as a fit does (LAPACK's condition estimate
 * against DBL_EPSILON) and falls back to the SVD of the kept columns where
 * that check fails, as a fit does. The positive and svd paths are not
 * shared (reel_ridge_gram_new gives NULL). */
#ifndef REEL_RIDGE_H
#define REEL_RIDGE_H

#include <stdint.h>

#include "models/model.h"

typedef struct reel_ridge_gram reel_ridge_gram;

/* From ctx's training rows (kept by pointer: they must outlive it) under
 * ridge params `params`. *out NULL when the params do not take the
 * Cholesky path; -1 on failure (err). */
int reel_ridge_gram_new(const cJSON *params, const reel_fit_ctx *ctx, reel_ridge_gram **out, reel_error *err);
/* The fitted state of the ridge kind (reel_kind_ridge.fit's) on the
 * features where mask[j] (NULL: all), in their order; NULL on failure. */
void *reel_ridge_gram_fit(const reel_ridge_gram *g, const uint8_t *mask, int threads, reel_error *err);
void reel_ridge_gram_free(reel_ridge_gram *g);

#endif
