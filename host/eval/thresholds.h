/* Decision thresholds chosen on validation data (never the test rows). */
#ifndef REEL_THRESHOLDS_H
#define REEL_THRESHOLDS_H

#include <stddef.h>
#include <stdint.h>

/* t[k] maximises label k's F1 when predicting P > t[k]; the cut lies
 * midway between two distinct probabilities. */
void reel_tune_thresholds_per_label(const float *P, const uint8_t *Y, size_t n, size_t L, float *t);
/* One threshold for every label, maximising samples-F1. */
float reel_tune_threshold_global(const float *P, const uint8_t *Y, size_t n, size_t L);

#endif
