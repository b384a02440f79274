/* Decision thresholds chosen on validation data (never the test rows). */
#ifndef REEL_THRESHOLDS_H
#define REEL_THRESHOLDS_H

#include <stddef.h>
#include <stdint.h>

/* t[k] maximises label k's F1 when predicting P > t[k]; the cut lies
 * midway between two distinct probabilities. -1: out of memory (t as it
 * was: a failure, never a silent 0.5). */
int reel_tune_thresholds_per_label(const float *P, const uint8_t *Y, size_t n, size_t L, float *t);
/* The per-label cuts of many subsets of the same n rows (auto's
 * cross-fitting): each label's rows sorted once. NULL: out of memory. */
typedef struct reel_label_sort reel_label_sort;
reel_label_sort *reel_label_sort_new(const float *P, const uint8_t *Y, size_t n, size_t L);
/* reel_tune_thresholds_per_label on the rows i with keep[i], taken in
 * increasing i: the same cuts, from one pass per label. */
void reel_label_sort_tune(reel_label_sort *ls, const uint8_t *keep, float *t);
void reel_label_sort_free(reel_label_sort *ls);
/* One threshold for every label, maximising samples-F1, into *t. -1: out
 * of memory. */
int reel_tune_threshold_global(const float *P, const uint8_t *Y, size_t n, size_t L, float *t);

#endif
