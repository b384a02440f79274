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
 *   argmax           the most probable output alone (first on ties): a
 *                    multiclass target's rule (data/target.h), which "auto"
 *                    means there; a binary target's "auto" is "threshold"
 *                    (0.5 unless the params say otherwise), as scikit-learn
 */
#ifndef REEL_DECISION_H
#define REEL_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "data/target.h"
#include "models/decision_rule.h"
#include "util/error.h"

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

/* The rule spec a target takes for the asked one (NULL: auto): a
 * multiclass target only argmax, a binary one's auto is threshold;
 * multilabel as asked. NULL with err set when the target refuses it. */
const char *reel_decision_spec_for(reel_target_kind target, const char *spec, reel_error *err);

/* One-hot pred (n x L) of each row's most probable output (first on ties). */
void reel_decision_argmax(const float *P, size_t n, size_t L, uint8_t *pred);

/* pred (n x L, 0/1) from P (n x L). -1: out of memory (pred undefined; never
 * another rule's decisions). */
int reel_decision_apply(const reel_decision *r, const float *P, size_t n, uint8_t *pred);

/* The pieces, exposed for tests. */
/* Best label set of one row by expected F1 (q: L probabilities); returns
 * its expected F1. min_k 1 forces at least one label. work: (L+1)^2 + L+1 doubles, order: L. */
double reel_expected_f1_row(const float *q, size_t L, size_t min_k, uint8_t *pred, double *work, size_t *order);
/* Platt scaling of one label: (a, b) minimising the log loss of
 * sigmoid(a logit(p) + b) against y with Platt's smoothed targets. */
void reel_platt_fit(const float *p, const uint8_t *y, size_t n, size_t stride, double *a, double *b);

#endif
