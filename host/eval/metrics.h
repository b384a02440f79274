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

#include "data/target.h"

typedef struct {
    size_t n, L;
    double samples_precision, samples_recall, samples_f1;
    double micro_precision, micro_recall, micro_f1;
    double macro_precision, macro_recall, macro_f1;
    double hamming_accuracy, subset_accuracy;
    double *label_precision, *label_recall, *label_f1; /* L each */
    size_t *support;                                    /* true positives per label */
    /* A binary or multiclass target (reel_metrics_add_classes; else
     * multilabel and these are 0), with scikit-learn's definitions:
     * accuracy, macro_f1 (F1 averaged over the classes in the true or
     * predicted rows), log_loss (natural log of the class probability,
     * clipped to [eps, 1 - eps], eps = FLT_EPSILON as scikit-learn's for
     * float32), and for binary f1 (class 1) and roc_auc (NaN when the rows
     * hold one class). Per class: precision, recall, f1, support (K each). */
    reel_target_kind target;
    size_t K;
    double accuracy, class_macro_f1, log_loss, f1, roc_auc;
    double *class_precision, *class_recall, *class_f1;
    size_t *class_support;
    char **class_names; /* K, copied: the JSON names them */
} reel_metrics;

/* Y and P are n x L 0/1 matrices (true and predicted). */
int reel_metrics_compute(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L);
void reel_metrics_free(reel_metrics *m);
/* Adds a binary or multiclass target's metrics to m (computed by
 * reel_metrics_compute on the same rows) from the true outputs Y, the
 * model's outputs P and the decisions pred (each n x L, data/target.h);
 * nothing for multilabel. -1: out of memory. */
int reel_metrics_add_classes(reel_metrics *m, reel_target_kind target, char *const *classes, const uint8_t *Y,
                             const float *P, const uint8_t *pred, size_t n, size_t L);

/* Scores the rows train and compare score: those with at least one true
 * label, unless the model was trained keeping unlabeled rows
 * (keep_unlabeled), when every row counts. *left_out: the rows not scored.
 * m->n is the rows scored; with none, m is zeroed and the call fails. */
int reel_metrics_compute_labelled(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L,
                                  int keep_unlabeled, size_t *left_out);

/* {"samples_f1", "samples_precision", "samples_recall", "micro_f1", ...,
 *  "per_label": [{"label", "precision", "recall", "f1", "support"}]};
 * a binary or multiclass target's: {"accuracy", "macro_f1", "log_loss",
 * "f1"?, "roc_auc"? (binary), "per_class": [{"class", ...}]}, named by the
 * classes it was given (labels unused). */
cJSON *reel_metrics_to_json(const reel_metrics *m, char *const *labels);

/* Predictions from probabilities: P[i,k] > threshold[k] (ties to 0). */
void reel_threshold(const float *prob, const float *threshold, size_t n, size_t L, uint8_t *pred);

/* The metric named "samples-f1", "micro-f1" or "macro-f1"; -1 when unknown.
 * A binary or multiclass target's: "accuracy" (also what "samples-f1",
 * the default, and "micro-f1" mean there: one class per row), "macro-f1",
 * and for binary "f1", "roc-auc". */
double reel_metric_by_name(const reel_metrics *m, const char *name);

#endif
