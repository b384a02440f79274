/* Multi-label metrics with scikit-learn's definitions (zero_division=0):
 * P = tp/(tp+fp), R = tp/(tp+fn), F1 = 2tp/(2tp+fp+fn), 0 when the
 * denominator is 0. "samples" averages per row (a row with no true and no
 * predicted label scores 0), "micro" pools the counts, "macro" averages the
 * per-label scores. Hamming accuracy = correct cells / all cells. */
#ifndef REEL_METRICS_H
#define REEL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct {
    size_t n, L;
    double samples_precision, samples_recall, samples_f1;
    double micro_precision, micro_recall, micro_f1;
    double macro_precision, macro_recall, macro_f1;
    double hamming_accuracy, subset_accuracy;
    double *label_precision, *label_recall, *label_f1; /* L each */
    size_t *support;                                    /* true positives per label */
} reel_metrics;

/* Y and P are n x L 0/1 matrices (true and predicted). */
int reel_metrics_compute(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L);
void reel_metrics_free(reel_metrics *m);

/* Scores the rows train and compare score: those with at least one true
 * label, unless the model was trained keeping unlabeled rows
 * (keep_unlabeled), when every row counts. *left_out: the rows not scored.
 * m->n is the rows scored; with none, m is zeroed and the call fails. */
int reel_metrics_compute_labelled(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L,
                                  int keep_unlabeled, size_t *left_out);

/* {"samples_f1", "samples_precision", "samples_recall", "micro_f1", ...,
 *  "per_label": [{"label", "precision", "recall", "f1", "support"}]} */
cJSON *reel_metrics_to_json(const reel_metrics *m, char *const *labels);

/* Predictions from probabilities: P[i,k] > threshold[k] (ties to 0). */
void reel_threshold(const float *prob, const float *threshold, size_t n, size_t L, uint8_t *pred);

/* The metric named "samples-f1", "micro-f1" or "macro-f1"; -1 when unknown. */
double reel_metric_by_name(const reel_metrics *m, const char *name);

#endif
