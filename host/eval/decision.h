/* Decision rules: how a model's label probabilities become a label set.
 * samples-F1 scores each row, and a row with no predicted label scores 0,
 * so a fixed 0.5 cut is the wrong rule for it. Every rule is chosen on the
 * validation rows only, saved with the model and applied by predict.
 *
 *   threshold        P > t[k], t the model's own (0.5, its kind's default,
 *                    or "threshold:T" for every label)
 *   tuned-global     one t for every label, maximising samples-F1
 *   tuned-per-label  t[k] maximising label k's F1
 *   expected-f1      per row, the label set of largest expected F1 when the
 *                    labels are independent with probabilities P (exact:
 *                    the best set is the top k labels for some k; Jansche
 *                    2007, Ye et al. ICML 2012); "+calibrated" first maps
 *                    each label's P through a Platt fit on validation rows
 *   +at-least-one    with any of them: a row left empty gets its most
 *                    probable label
 *   auto             each of the above, scored by 5-fold cross-fitting on
 *                    the validation rows; the best is refitted on them all
 */
#ifndef REEL_DECISION_H
#define REEL_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

typedef enum {
    REEL_RULE_THRESHOLD,
    REEL_RULE_TUNED_GLOBAL,
    REEL_RULE_TUNED_PER_LABEL,
    REEL_RULE_EXPECTED_F1,
} reel_rule_kind;

typedef struct {
    reel_rule_kind kind;
    int at_least_one;
    int calibrated;   /* expected-f1 only */
    size_t L;
    float *threshold; /* L: the threshold rules' cuts (predict P > t) */
    double *platt;    /* 2L when calibrated: P' = sigmoid(a_k logit(P) + b_k), (a_k, b_k) pairs */
    /* Set by reel_decision_choose with "auto": each candidate's mean
     * cross-fitted samples-F1 on the validation rows (else n_tried = 0). */
    size_t n_tried;
    char tried_name[12][48];
    double tried_score[12];
} reel_decision;

/* A rule from its name (above; "auto" is not a rule but a way to choose
 * one). Thresholds are copied from `model_threshold` (L). */
int reel_decision_parse(reel_decision *r, const char *spec, size_t L, const float *model_threshold,
                        reel_error *err);
/* Checks a --decision value without building anything. */
int reel_decision_check_spec(const char *spec, reel_error *err);

/* Chooses `spec` (a rule or "auto") on validation probabilities Pv and
 * labels Yv (nv x L). Rules that need no data ignore them; tuned ones and
 * auto need nv > 0 (auto falls back to threshold when nv < 10). */
int reel_decision_choose(reel_decision *r, const char *spec, const float *Pv, const uint8_t *Yv, size_t nv,
                         size_t L, const float *model_threshold, uint64_t seed, reel_error *err);

/* pred (n x L, 0/1) from P (n x L). */
void reel_decision_apply(const reel_decision *r, const float *P, size_t n, uint8_t *pred);

/* "tuned-per-label+at-least-one" and the like, written into buf. */
const char *reel_decision_name(const reel_decision *r, char *buf, size_t size);

/* {"rule", "at_least_one", "calibrated", "thresholds", "platt"?, "auto"?} */
cJSON *reel_decision_to_json(const reel_decision *r);
/* From that JSON; err names the bad key. */
int reel_decision_from_json(reel_decision *r, const cJSON *j, size_t L, reel_error *err);

int reel_decision_copy(reel_decision *dst, const reel_decision *src);
void reel_decision_free(reel_decision *r);

/* The pieces, exposed for tests. */
/* Best label set of one row by expected F1 (q: L probabilities); returns
 * its expected F1. min_k 1 forces at least one label. work: (L+1)^2 + L+1 doubles, order: L. */
double reel_expected_f1_row(const float *q, size_t L, size_t min_k, uint8_t *pred, double *work, size_t *order);
/* Platt scaling of one label: (a, b) minimising the log loss of
 * sigmoid(a logit(p) + b) against y with Platt's smoothed targets. */
void reel_platt_fit(const float *p, const uint8_t *y, size_t n, size_t stride, double *a, double *b);

#endif
