/* Train one model on a prepared dataset and score it: the one fit,
 * predict, decide, score path of compare, train, search and select. */
#ifndef REEL_RUN_H
#define REEL_RUN_H

#include <cjson/cJSON.h>

#include "data/prepared.h"
#include "eval/metrics.h"
#include "models/model.h"

typedef struct {
    uint64_t seed;
    int threads;
    const char *device;
    const reel_log *log; /* NULL: silent */
    const char *out_dir; /* may be NULL */
    const char *decision; /* decision rule (eval/decision.h), chosen on the validation rows (a model's
                             out-of-fold rows when it kept them, run.c); NULL: "auto" */
    const char *checkpoint;      /* nets: see reel_fit_ctx (NULL: none) */
    /* what the rule is chosen on: "auto" (NULL: the validation rows, or the
     * out-of-fold rows of a model that kept them) or "oof" (out-of-fold
     * probabilities of every training and validation row, from refits when
     * the model kept none: eval/oof.h) */
    const char *decision_rows;
} reel_run_opts;

typedef struct {
    reel_model model;
    float *P;       /* test probabilities: n_test x L */
    uint8_t *pred;  /* test predictions */
    reel_metrics metrics;
    reel_metrics untuned; /* with the model's own thresholds (0.5 unless its params or kind say otherwise) */
    double fit_seconds, predict_seconds;
    /* A run computed on another MPI rank (eval/run_pack.c) has no model
     * state: where it ran and its history come with it. */
    char *device;
    reel_history history;
    size_t shared; /* nets: how many trained in its launch (reel_run_models_together; 0: alone) */
    /* What the decision rule was chosen on: "validation" (the validation
     * rows' predictions) or "out-of-fold" (every training and validation
     * row, from a model that did not train on it), and how many rows
     * (static; NULL for a run from another rank). */
    const char *rule_from;
    size_t rule_rows;
} reel_run;

int reel_run_model(reel_run *r, reel_prepared *p, const char *name, const cJSON *user_params,
                   const reel_run_opts *o, reel_error *err);
/* Models of one kind fitted together (reel_model_fit_many: the nets on a
 * device in one launch per epoch), then each scored as reel_run_model
 * does; each fit_seconds is its share of the fit's wall time. The first
 * failure fails them all (runs are then empty). */
int reel_run_models_together(reel_run *runs, reel_prepared *p, char *const *names, const cJSON *const *user_params,
                             size_t n, const reel_run_opts *o, reel_error *err);
/* compare's nets: the models of names[0..n) that train together on
 * o->device (reel_model_fits_together; none with a checkpoint), when two
 * or more do, fitted and scored together into runs[i], done[i] = 1 (the
 * others: done[i] = 0, for the caller to run one by one). -1 when the joint
 * fit failed (then none is done). */
int reel_run_nets_first(reel_prepared *p, char *const *names, const cJSON *const *user_params, size_t n,
                        const reel_run_opts *o, reel_run *runs, int *done, reel_error *err);
void reel_run_free(reel_run *r);

/* Where the run's model trained, and its per-epoch history (NULL: none). */
const char *reel_run_device(const reel_run *r);
const reel_history *reel_run_history(const reel_run *r);

/* A finished run as bytes and back (P, thresholds, timings, device,
 * history), for compare over MPI ranks; unpack recomputes the metrics from
 * P on the test rows of p. */
unsigned char *reel_run_pack(const reel_run *r, size_t *len);
int reel_run_unpack(reel_run *r, const reel_prepared *p, const char *name, const cJSON *user_params,
                    const unsigned char *buf, size_t len, reel_error *err);

/* The fit context for training rows `train` with validation `valid`
 * (valid may be NULL); a caller fitting on fewer columns sets d and
 * feature_names after. */
reel_fit_ctx reel_fit_ctx_for(const reel_prepared *p, const reel_model *m, const reel_part *train,
                              const reel_part *valid, const reel_run_opts *o);

/* The feature matrix of `part` that model m reads (standardised or not). */
const float *reel_part_X(const reel_part *part, const reel_model *m);

/* Predicts the n rows of X with fitted model m into P (n x L), decides
 * with the model's own thresholds into pred and scores pred against Y
 * into met (freed by the caller). seconds, when not NULL, gets the time
 * the prediction took. */
int reel_predict_score(const reel_model *m, const float *X, const uint8_t *Y, size_t n, float *P, uint8_t *pred,
                       reel_metrics *met, double *seconds, reel_error *err);

/* The scoring half of reel_predict_score, on probabilities P (n x L) of
 * model m already made. */
int reel_score_probs(const reel_model *m, const float *P, const uint8_t *Y, size_t n, uint8_t *pred,
                     reel_metrics *met, reel_error *err);

/* {"name", "params", "device", "metrics", ..., "fit_seconds", "predict_seconds", "nets_per_launch"} */
cJSON *reel_run_to_json(const reel_run *r, char *const *labels);

/* {"path", "rows", "train", "valid", "test", "dropped_unlabeled", "features", "labels"} */
cJSON *reel_dataset_json(const reel_prepared *p);

#endif
