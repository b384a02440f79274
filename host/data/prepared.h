/* A dataset made ready for models: loaded, split, preprocessing fitted on
 * the training rows, and float32 matrices for each split, raw (for trees)
 * and standardised (for knn, ridge, nets). */
#ifndef REEL_PREPARED_H
#define REEL_PREPARED_H

#include "data/dataset.h"
#include "data/preprocess.h"
#include "data/split.h"

typedef struct {
    float *X[2];  /* [0] raw, [1] standardised (made on demand): n x d */
    uint8_t *Y;   /* n x L */
    size_t n;
    const size_t *rows; /* dataset rows */
} reel_part;

typedef struct {
    reel_dataset ds;
    reel_split split;
    reel_preproc pre;
    size_t d, L;
    char **feature_names; /* d, points into pre */
    reel_part train, valid, test;
    double load_seconds;
    int ds_borrowed; /* ds belongs to the caller (reel_prepare_borrowed) */
} reel_prepared;

typedef struct {
    reel_data_opts data;
    reel_split_opts split;
    int top_k; /* categories one-hot encoded per text column */
    int keep_table; /* keep the feature columns' cells (by default freed once transformed) */
} reel_prepare_opts;

/* Loads, splits, fits the preprocessing and makes the raw matrices. To
 * bound memory, each feature column of the table is freed as soon as it is
 * transformed (unless keep_table), and the standardised matrices are only
 * made by reel_prepared_standardize. */
int reel_prepare(reel_prepared *p, const reel_prepare_opts *o, reel_error *err);
/* The same from a dataset already in memory (o->data is not used): p only
 * reads ds, which must outlive p; every column is kept. */
int reel_prepare_borrowed(reel_prepared *p, const reel_dataset *ds, const reel_prepare_opts *o, reel_error *err);
/* Makes X[1] of every part, once. */
int reel_prepared_standardize(reel_prepared *p, reel_error *err);
void reel_prepared_free(reel_prepared *p);

/* Warns (to log) about labels never positive in the training rows. */
void reel_prepared_warn(const reel_prepared *p, const reel_log *log);
/* For the commands that score on the test rows: a warning when there are
 * none (their metrics are then null, never 0). */
void reel_prepared_warn_untested(const reel_prepared *p, const reel_log *log);

#endif
