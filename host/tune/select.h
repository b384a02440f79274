/* Feature selection over the dataset's feature columns (a text column's
 * one-hot group counts as one feature), scored without the test rows.
 *  single-pass  the original's: drop each feature alone; every feature
 *               whose removal does not lower the score is excluded;
 *  backward     drop the feature whose removal helps most, re-score,
 *               repeat until no removal helps;
 *  permutation  permutation importance on the validation split: a
 *               feature whose shuffling does not lower the score is
 *               excluded.
 * A chosen set that scores below every feature is not returned: every
 * feature is kept, and the rejected set's score reported beside. */
#ifndef REEL_SELECT_H
#define REEL_SELECT_H

#include <cjson/cJSON.h>

#include <stdint.h>

#include "tune/scorer.h"
#include "tune/spread.h"

/* Scores are under the scorer's decision rule (tune/scorer.h); *_plain:
 * the same at the model's own thresholds, for comparison. Under "auto",
 * a step's reference (every feature, or the kept set at the step's start)
 * has auto choose its rule on each fold's validation part, and each
 * candidate of the step is scored under that fold's chosen rule, fitted
 * on the candidate's own validation part (cross-fitted there, as every
 * score): the rule's fit, not auto's choice among rules, per candidate.
 * The selected set is scored as a reference. A rule --decision names is
 * used as it is throughout. */
typedef struct {
    char *name;   /* source column */
    double delta; /* score without (or with shuffled) it, minus the reference */
    double delta_plain;
    int dropped;
    int rejected; /* the method dropped it, but the set without scored below every feature: kept */
} reel_feature_score;

/* A set scored as a reference and the rule each fold scored it under. */
typedef struct {
    char *what;           /* "every feature", "the kept features after dropping 'x'", ... */
    reel_rule_name *rule; /* per fold (reel_scorer_folds) */
} reel_select_reference;

typedef struct {
    double reference, reference_std; /* with every feature */
    double reference_plain;
    double final_score;              /* with the kept ones, never below reference */
    double final_plain;
    double rejected_score;           /* when some feature is rejected: the score of the set the method chose */
    size_t n;
    reel_feature_score *f;
    uint8_t *mask; /* d: the preprocessed features kept */
    reel_tune_round *rounds; /* each round of candidates scored at once */
    size_t n_rounds;
    reel_select_reference *refs; /* in the order scored; the selected set's last */
    size_t n_refs;
} reel_select_result;

/* Progress and messages go to log (NULL: none). Ridge's candidates share
 * one pass over the training rows (reel_scorer_share_fits). */
int reel_select(reel_scorer *s, const cJSON *params, const char *method, int threads, const reel_log *log,
                reel_select_result *r, reel_error *err);
void reel_select_result_free(reel_select_result *r);
/* The result as reel select --format json writes it, with the kept
 * features' test score (reel_score_test). */
cJSON *reel_select_json(const reel_select_result *r, const reel_scorer *s, const char *method,
                        const reel_test_score *test);
int reel_select_method_known(const char *name);

#endif
