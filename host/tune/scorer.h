/* Scores model params without touching the test rows: on the validation
 * split, or by K-fold cross-validation over the training + validation rows.
 * A feature mask restricts the columns (feature selection). Shared by
 * search and select.
 *
 * A score is the metric under the decision rule the final model will use
 * (`decision`, eval/decision.h): the rule is fitted on the validation part
 * (the split's, or the fold's), as `reel train` fits it, and scored there
 * by 5-fold cross-fitting, so that no row is scored by a rule fitted on
 * it. Beside it, the plain score: the metric at the model's own thresholds
 * (0.5 unless its params or kind say otherwise). */
#ifndef REEL_SCORER_H
#define REEL_SCORER_H

#include <cjson/cJSON.h>

#include "data/prepared.h"
#include "eval/metrics.h"
#include "models/model.h"
#include "util/error.h"
#include "util/log.h"

typedef struct {
    const reel_prepared *p;
    const char *model;
    const char *metric; /* samples-f1, micro-f1, macro-f1 */
    int folds;          /* 0: the validation split */
    uint64_t seed;
    const char *device;
    const reel_log *log; /* the fits report only warnings here (NULL: none) */
    reel_log_seen *said; /* the fits' warnings said so far: each once (reel_scorer_quiet) */
    const char *decision; /* the rule scores are taken under (NULL: "auto", as reel_run_opts) */
    const char *decision_rows; /* what the final model's rule is chosen on (reel_run_opts; NULL: "auto") */
    /* K-fold: the pool of train + valid rows and each row's fold. */
    reel_part pool;
    int *fold;
    int together; /* reel_scorer_together */
    /* reel_scorer_share_fits: fits of shared_params on any columns start
     * from one pass over each fold's training rows (ridge's normal
     * equations, classical/ridge.h); else NULL. */
    const cJSON *shared_params;
    struct reel_ridge_gram **gram; /* folds (1 on the validation split) */
    float **gram_X;                /* K-fold: each fold's training rows, which gram[f] reads */
    uint8_t **gram_Y;
} reel_scorer;

int reel_scorer_init(reel_scorer *s, reel_prepared *p, const char *model, const char *metric, int folds,
                     uint64_t seed, const char *device, reel_error *err);
void reel_scorer_free(reel_scorer *s);
/* The sink for one fit of the scorer: s->log, warnings only, each text
 * once per scorer (self: the caller's, outliving the sink). */
reel_log reel_scorer_quiet(const reel_scorer *s, reel_log_once *self);

/* Feature selection: later scores of `params` (the same pointer) on any
 * mask share one pass over the training rows, when the model can (ridge
 * on its Cholesky path; otherwise nothing changes). Call before scoring
 * from several threads; reel_scorer_unshare (or _free) releases it. */
int reel_scorer_share_fits(reel_scorer *s, const cJSON *params, reel_error *err);
void reel_scorer_unshare(reel_scorer *s);

/* The rule's name as scores are taken under it: "auto" when unset. */
const char *reel_scorer_rule(const reel_scorer *s);
/* The head of search's and select's JSON: {"model", step_key: step,
 * "metric", "folds", "decision", "scored_under"}. */
cJSON *reel_scorer_json(const reel_scorer *s, const char *step_key, const char *step);

/* The rule one fold's score is taken under. NULL where a function takes
 * it, or under NULL and choose 0: the scorer's rule as it is ("auto"
 * chooses among its rules in every piece of the cross-fitting: search).
 * select scores a step's reference with choose (auto chosen once on the
 * fold's whole validation part, scored under what it chose) and the
 * step's candidates under that rule: one rule fitted per piece, no choice
 * among rules per candidate. */
typedef char reel_rule_name[128]; /* a rule spec's longest (eval/decision.c refuses longer) */
typedef struct {
    const char *under;     /* in: the rule to fit and score under (NULL: the scorer's) */
    int choose;            /* in: choose the scorer's rule on the validation part first */
    reel_rule_name chosen; /* out with choose: "tuned-per-label+at-least-one" (not auto: the scorer's rule) */
} reel_fold_rule;

/* The metric of one fold (fold 0 alone when scoring on the validation
 * split) for params, on the features where mask[k] (mask NULL: all):
 * under the rule (value; how: above) and at the model's thresholds
 * (plain). The unit of work that tune/spread.c hands out. */
int reel_score_fold(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int fold, int threads,
                    reel_fold_rule *how, double *value, double *plain, reel_error *err);
/* Scores fitted model m on n rows X (its own features) with labels Y:
 * under the rule, cross-fitted on these rows (value), and at the model's
 * thresholds (plain). */
int reel_score_rows(const reel_scorer *s, const reel_model *m, const float *X, const uint8_t *Y, size_t n,
                    reel_fold_rule *how, double *value, double *plain, reel_error *err);

/* One fold of one (params, mask) among many scored together. */
typedef struct {
    const cJSON *params;
    const uint8_t *mask; /* NULL: every feature */
    int fold;
    reel_fold_rule rule; /* in and out, as reel_score_fold's how */
    double value, plain; /* out: the metric under the rule and at the model's thresholds, as reel_score_fold */
    size_t shared; /* out: how many fits shared its training launch (0: it trained alone) */
} reel_fold_item;

/* Scores items[0..n) with their fits made together (reel_model_fit_many:
 * the nets on a device in one launch per epoch); items on the same mask and
 * fold share their rows. */
int reel_score_folds_together(const reel_scorer *s, reel_fold_item *items, size_t n, int threads,
                              reel_error *err);
/* Whether the scorer's fits train together (reel_model_fits_together). */
int reel_scorer_together(const reel_scorer *s);

/* Folds per score: K, or 1 for the validation split. */
int reel_scorer_folds(const reel_scorer *s);
/* Mean and std of the folds' values (in fold order), as reel_score gives. */
void reel_score_combine(const reel_scorer *s, const double *values, double *mean, double *std);

/* The one final look at the test split, after tuning. */
typedef struct {
    reel_metrics metrics; /* under the rule chosen on the validation rows */
    reel_metrics plain;   /* at the model's own thresholds */
    char rule[64];        /* the rule chosen: "tuned-per-label+at-least-one" */
} reel_test_score;

/* Fits params on the training rows (the validation rows for early
 * stopping), chooses the scorer's rule on the validation rows and scores
 * the test rows: the steps and bits of reel_run_model, on the features
 * where mask[k] (mask NULL: all). Without test rows it warns on s->log
 * (the metrics are then not measured: null in the JSON). */
int reel_score_test(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads,
                    reel_test_score *out, reel_error *err);
void reel_test_score_free(reel_test_score *t);
/* Adds "test_metrics", "test_metrics_at_model_thresholds" and
 * "test_decision_rule" to doc. */
void reel_test_score_to_json(const reel_test_score *t, char *const *labels, cJSON *doc);

/* Whether a metric name is known. */
int reel_metric_known(const char *name);
/* Whether a target is scored by it (eval/metrics.h, reel_metric_by_name):
 * accuracy for binary and multi-class, f1 and roc-auc for binary only. */
int reel_metric_fits(const char *name, reel_target_kind target, reel_error *err);

#endif
