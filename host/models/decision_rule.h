/* The decision rule a model stores (saved in its file, applied by
 * predict): its kind, modifiers, per-label thresholds and Platt pairs;
 * how it is named, copied, freed and written as JSON. Choosing a rule on
 * validation rows and applying it: eval/decision.h. */
#ifndef REEL_MODELS_DECISION_RULE_H
#define REEL_MODELS_DECISION_RULE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/error.h"

typedef enum {
    REEL_RULE_THRESHOLD,
    REEL_RULE_TUNED_GLOBAL,
    REEL_RULE_TUNED_PER_LABEL,
    REEL_RULE_EXPECTED_F1,
    REEL_RULE_ARGMAX, /* the most probable output (a multiclass target's rule) */
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

/* The rule kind's name ("threshold", "tuned-global", ...), and back (-1:
 * not a kind). */
const char *reel_rule_kind_name(reel_rule_kind kind);
int reel_rule_kind_by_name(const char *name);

/* The threshold rule at t (L cuts; NULL: 0.5 each). */
int reel_decision_threshold(reel_decision *r, size_t L, const float *t, reel_error *err);

/* "tuned-per-label+at-least-one" and the like, written into buf. */
const char *reel_decision_name(const reel_decision *r, char *buf, size_t size);

/* {"rule", "at_least_one", "calibrated", "thresholds", "platt"?, "auto"?} */
cJSON *reel_decision_to_json(const reel_decision *r);
/* From that JSON; err names the bad key. */
int reel_decision_from_json(reel_decision *r, const cJSON *j, size_t L, reel_error *err);

int reel_decision_copy(reel_decision *dst, const reel_decision *src);
void reel_decision_free(reel_decision *r);

#endif
