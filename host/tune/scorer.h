/* Scores model params without touching the test rows: on the validation
 * split, or by K-fold cross-validation over the training + validation rows.
 * A feature mask restricts the columns (feature selection). Shared by
 * search and select. */
#ifndef REEL_SCORER_H
#define REEL_SCORER_H

#include <cjson/cJSON.h>

#include "data/prepared.h"
#include "eval/metrics.h"
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
    /* K-fold: the pool of train + valid rows and each row's fold. */
    reel_part pool;
    int *fold;
} reel_scorer;

int reel_scorer_init(reel_scorer *s, reel_prepared *p, const char *model, const char *metric, int folds,
                     uint64_t seed, const char *device, reel_error *err);
void reel_scorer_free(reel_scorer *s);

/* Mean and std (over folds; 0 for one split) of the metric for params,
 * using only the features where mask[k] (mask NULL: all). */
int reel_score(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads, double *mean,
               double *std, reel_error *err);

/* The metric of one fold (fold 0 alone when scoring on the validation
 * split): the unit of work that tune/spread.c hands out. */
int reel_score_fold(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int fold, int threads,
                    double *value, reel_error *err);
/* Folds per score: K, or 1 for the validation split. */
int reel_scorer_folds(const reel_scorer *s);
/* Mean and std of the folds' values (in fold order), as reel_score gives. */
void reel_score_combine(const reel_scorer *s, const double *values, double *mean, double *std);

/* Fits on the training rows and scores the test rows: the one final look
 * at the test split, after tuning. */
int reel_score_test(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads, reel_metrics *out,
                    reel_error *err);

/* Whether a metric name is known. */
int reel_metric_known(const char *name);

#endif
