/* Turns table columns into a float32 feature matrix, with every statistic
 * fitted on training rows only and kept, so new data gets exactly the same
 * transform:
 *  - numeric column: the value; missing -> training median, plus a
 *    "<col>_missing" 0/1 indicator when the training rows had missing cells;
 *  - text column: one-hot over the top_k most frequent training values plus
 *    "<col>=other" (missing cells are all zeros);
 *  - standardisation (training mean, population std, constant -> scale 1)
 *    for the models that ask for it. */
#ifndef REEL_PREPROCESS_H
#define REEL_PREPROCESS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "data/dataset.h"
#include "util/error.h"

typedef enum { REEL_FEAT_NUMERIC, REEL_FEAT_MISSING, REEL_FEAT_ONEHOT, REEL_FEAT_OTHER } reel_feat_kind;

typedef struct {
    char *name;     /* output feature name */
    char *source;   /* table column it comes from */
    reel_feat_kind kind;
    double impute;  /* NUMERIC: training median */
    char *category; /* ONEHOT: the value; OTHER: NULL */
} reel_feature;

typedef struct {
    size_t d;
    reel_feature *f;
    double *mean, *scale; /* d each */
    int top_k;
} reel_preproc;

/* Fits on rows[0..n) of ds's feature columns. */
int reel_preproc_fit(reel_preproc *p, const reel_dataset *ds, const size_t *rows, size_t n, int top_k,
                     reel_error *err);
/* Fails unless t holds every source column, naming all that are missing. */
int reel_preproc_check_columns(const reel_preproc *p, const reel_table *t, reel_error *err);
/* Adds each source column t lacks as a column of missing cells, so that the
 * features impute them as in training; *added counts them and list (size
 * bytes) names them. */
int reel_preproc_add_missing_columns(const reel_preproc *p, reel_table *t, size_t *added, char *list, size_t size,
                                     reel_error *err);
/* X (n x d, row-major) for rows[0..n) of any table holding the source
 * columns (looked up by name; a missing column is an error). rows == NULL
 * means rows 0..n-1. */
int reel_preproc_transform(const reel_preproc *p, const reel_table *t, const size_t *rows, size_t n,
                           int standardize, float *X, reel_error *err);
/* Only output features [k0, k1) into their columns of X (row stride d),
 * raw: lets a caller transform column by column and free what it read. */
int reel_preproc_transform_range(const reel_preproc *p, const reel_table *t, const size_t *rows, size_t n,
                                 size_t k0, size_t k1, float *X, reel_error *err);
/* Warns, per one-hot column of t, when most of its values are none of the
 * categories the model was trained on (they all read as "other"). */
void reel_preproc_warn_unseen(const reel_preproc *p, const reel_table *t, const reel_log *log);
/* In place: x = (x - mean) / scale, for a matrix already transformed raw. */
void reel_preproc_standardize(const reel_preproc *p, float *X, size_t n);
void reel_preproc_free(reel_preproc *p);

/* The whole transform as JSON (for model files) and back. */
cJSON *reel_preproc_to_json(const reel_preproc *p);
int reel_preproc_from_json(reel_preproc *p, const cJSON *j, reel_error *err);

#endif
