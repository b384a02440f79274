/* The comparison report: report.html (one self-contained file, SVG charts
 * drawn by reel, no network) and report.md, written under --out by
 * `reel compare`. */
#ifndef REEL_REPORT_H
#define REEL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "eval/metrics.h"
#include "util/error.h"

/* One model's results on the test rows. */
typedef struct {
    const char *name;
    const char *device;
    const reel_metrics *metrics;
    const float *P;       /* n x L probabilities */
    const uint8_t *pred;  /* n x L predictions */
    double fit_seconds, predict_seconds;
    const char *rule;          /* decision rule name (eval/decision.h); NULL: not shown */
    const char *rule_detail;   /* its thresholds or calibration, in words ("" when the model's own) */
    double samples_f1_untuned; /* at the model's own thresholds (0.5 unless set) */
    /* Per-epoch training history of nets (NULL/0 for other models). */
    size_t epochs;
    const double *train_loss, *valid_loss, *valid_f1; /* epochs each */
    long kept_epoch;  /* 1-based: the epoch whose weights the model kept (0: not known) */
    int kept_average; /* those weights are the moving average of the weights */
    int is_baseline;  /* a baseline (random, prior): marked alike in every table */
    const char *params; /* its params as JSON, to reproduce it (NULL: not shown) */
} reel_report_model;

typedef struct {
    const char *title;          /* e.g. "reel compare: data/movies.csv" */
    const char *dataset_path;
    size_t n_rows, n_train, n_valid, n_test;
    size_t L;
    char *const *labels;        /* L */
    size_t d;                   /* the model's inputs, once encoded (one-hot text, missing flags) */
    char *const *features;      /* d */
    size_t n_columns;           /* the data's feature columns, as the CLI counts them (0: not shown) */
    const uint8_t *Y;           /* n_test x L true labels */
    char *const *ids;           /* n_test row ids (titles) */
    size_t n_models;
    const reel_report_model *models;
    const char *baseline;       /* the baseline whose samples-F1 the bar chart marks (the lowest), or NULL */
    uint64_t seed;              /* the run's seed; also picks the example films */
    /* To reproduce it (each NULL: not shown), with reel's version: */
    const char *command;        /* the command line that made the report */
    const char *date;           /* when, e.g. "2026-12-07" (a date only: the same run the same day, the same page) */
} reel_report;

/* Writes dir/report.html and dir/report.md atomically. */
int reel_report_write(const char *dir, const reel_report *r, reel_error *err);

#endif
