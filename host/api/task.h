/* What the tasks of reel.h share: the handle's insides and the readers of
 * its options. Each task is a function of its own file (task_train.c, ...).
 * Only host/api/ includes it. */
#ifndef REEL_API_TASK_H
#define REEL_API_TASK_H

#include "api/api.h"
#include "api/train.h"

struct reel_task {
    const char *name;
    int (*run)(struct reel_task *t, reel_error *err); /* 0, -1 or API_REFUSED */
    cJSON *options;
    const reel_data *data; /* rows in memory (reel_task_set_data); NULL: the option "data" */
    int flag_names;
    char *result;                /* the run's JSON document */
    reel_classifier *classifier; /* train: the model, until taken */
    size_t rows;                 /* predict: the rows, their ids, probabilities and decisions */
    char **ids;
    float *P;
    unsigned char *pred;
};

/* The tasks. */
int task_train(reel_task *t, reel_error *err);
int task_export(reel_task *t, reel_error *err);
int task_info(reel_task *t, reel_error *err);
int task_decide(reel_task *t, reel_error *err);
int task_predict(reel_task *t, reel_error *err);
int task_search(reel_task *t, reel_error *err);
int task_select(reel_task *t, reel_error *err);
int task_compare(reel_task *t, reel_error *err);

/* Fails naming the first key of the options not in keys (NULL-ended). */
int task_check_keys(const reel_task *t, const char *const *keys, reel_error *err);
/* An option (left as it is when absent or null); fails on another type. */
int task_string(const reel_task *t, const char *key, const char **out, reel_error *err);
int task_bool(const reel_task *t, const char *key, int *out, reel_error *err);
int task_number(const reel_task *t, const char *key, double *out, reel_error *err);
/* "seed": a number, or a decimal string (seeds past 2^53); left as it is when absent. */
int task_seed(const reel_task *t, uint64_t *seed, reel_error *err);
/* The options every task shares (api_opts_parse) among those in keys; the
 * seed may be a decimal string too. The device is not checked here: the
 * task knows whether its models train on one. */
int task_run_opts(const reel_task *t, const char *const *keys, double test_fraction, api_opts *o,
                  const char **device, reel_error *err);
/* The data options (reel.h's list; those of the CLI's --data and friends). */
int task_data_opts(const reel_task *t, reel_data_opts *d, reel_error *err);
/* The encoding option: NULL, utf-8 or latin-1. */
int task_encoding(const reel_task *t, const char *encoding, reel_error *err);
/* Keeps doc, printed, as the task's result. */
int task_finish(reel_task *t, const cJSON *doc, reel_error *err);

#endif
