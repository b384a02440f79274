/* The net's own input transform, fitted on the training rows and saved with
 * the model, applied to every matrix the net sees (training, validation,
 * predict). The mlp kind asks reel for the raw features (imputed, one-hot,
 * not standardised) and makes them ready here:
 *
 *   "standard": z = (x - mean) / sd, as the shared preprocessing does;
 *   "auto":     a continuous column (more than two distinct training values)
 *               whose training skewness is above REEL_NN_INPUT_SKEW, and
 *               that signed log1p makes less skewed, first becomes
 *               sign(x) * log1p(|x|); then every column is standardised, and
 *               continuous columns have z clipped to +-REEL_NN_INPUT_CLIP;
 *   "robust":   a continuous column becomes z = (x - median) / s, s the
 *               interquartile range / 1.349 (the sd of a normal column; the
 *               population sd when the quartiles meet, 1 when that is 0
 *               too), then is smoothly clipped: z / sqrt(1 + (z / 3)^2),
 *               near z for |z| < 1 and bounded by +-3 (RealMLP's robust
 *               scaling; Holzmueller et al. 2024); 0/1 columns are
 *               standardised as in "standard".
 *
 * Heavy-tailed counts (votes, budget, runtime) otherwise give a few rows
 * z-scores of 40-100 and squeeze every other row into a sliver of the
 * input range; the log spreads them out and the clip bounds what is left.
 * The statistics are doubles (mean and population sd, a constant column
 * gets sd 1) and the arithmetic is the same in fit and predict, so a saved
 * and loaded model transforms bit-identically. */
#ifndef REEL_NN_INPUT_H
#define REEL_NN_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

#define REEL_NN_INPUT_SKEW 2.0
#define REEL_NN_INPUT_CLIP 5.0
#define REEL_NN_INPUT_SMOOTH 3.0 /* "robust": the smooth clip's bound */

typedef enum { REEL_INPUT_STANDARD, REEL_INPUT_AUTO, REEL_INPUT_ROBUST } reel_nn_input_mode;

typedef struct {
    size_t d;
    reel_nn_input_mode mode;
    uint8_t *log;          /* d: 1 = signed log1p first */
    uint8_t *clip;         /* d: 1 = clip z to +-clip_at ("robust": smoothly) */
    double *center, *scale; /* d: z = (x' - center) / scale */
    uint8_t *numeric;      /* d: 1 = continuous (more than two distinct training values): what a PLR
                              embedding takes; NULL when read from a file that predates it */
    double clip_at;
} reel_nn_input;

/* "standard" | "auto" | "robust" -> mode; -1 for anything else. */
int reel_nn_input_mode_parse(const char *s, reel_nn_input_mode *mode);

/* Fits on X (n x d, row-major, raw features). */
int reel_nn_input_fit(reel_nn_input *t, reel_nn_input_mode mode, const float *X, size_t n, size_t d,
                      reel_error *err);
/* The smooth clip of "robust": z / sqrt(1 + (z / bound)^2). */
double reel_nn_smooth_clip(double z, double bound);
/* out (n x d) = the transform of X (n x d); out may be X. */
void reel_nn_input_apply(const reel_nn_input *t, const float *X, size_t n, float *out);
void reel_nn_input_free(reel_nn_input *t);

/* As JSON ({"mode", "log", "clip", "clip_at", "center", "scale",
 * "numeric"}) for the model file's kind state, and back (checked against
 * d: errors name the key; "numeric" may be absent in older files). */
cJSON *reel_nn_input_to_json(const reel_nn_input *t);
int reel_nn_input_from_json(reel_nn_input *t, const cJSON *j, size_t d, reel_error *err);

#endif
