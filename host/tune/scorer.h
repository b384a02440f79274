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
    int together; /* reel_scorer_together */
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
/* One fold of one (params, mask) among many scored together. */
typedef struct {
    const cJSON *params;
    const uint8_t *mask; /* NULL: every feature */
    int fold;
    double value;  /* out: the metric, the bits reel_score_fold gives */
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

/* Fits on the training rows and scores the test rows: the one final look
 * at the test split, after tuning. */
int reel_score_test(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads, reel_metrics *out,
                    reel_error *err);

/* Whether a metric name is known. */
int reel_metric_known(const char *name);

#endif
