/* Train one model on a prepared dataset and score it on the test rows:
 * the unit of work of compare, train and search. */
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
    const char *decision; /* decision rule (eval/decision.h), chosen on the validation rows; NULL: "auto" */
    const char *checkpoint;      /* nets: see reel_fit_ctx (NULL: none) */
} reel_run_opts;

typedef struct {
    reel_model model;
    float *P;       /* test probabilities: n_test x L */
    uint8_t *pred;  /* test predictions */
    reel_metrics metrics;
    reel_metrics untuned; /* with the model's own thresholds (0.5 unless its params or kind say otherwise) */
    double fit_seconds, predict_seconds;
} reel_run;

int reel_run_model(reel_run *r, reel_prepared *p, const char *name, const cJSON *user_params,
                   const reel_run_opts *o, reel_error *err);
void reel_run_free(reel_run *r);

/* The fit context for training rows `train` with validation `valid`. */
reel_fit_ctx reel_fit_ctx_for(const reel_prepared *p, const reel_model *m, const reel_part *train,
                              const reel_part *valid, const reel_run_opts *o);

/* {"name", "params", "device", "metrics", "fit_seconds", "predict_seconds"} */
cJSON *reel_run_to_json(const reel_run *r, char *const *labels);

/* {"path", "rows", "train", "valid", "test", "dropped_unlabeled", "features", "labels"} */
cJSON *reel_dataset_json(const reel_prepared *p);

#endif
