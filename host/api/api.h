/* What the C API's files share: the handles' insides, the options every
 * call takes, the last error and the log sink. Only host/api/ includes it. */
#ifndef REEL_API_INTERNAL_H
#define REEL_API_INTERNAL_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/dataset.h"
#include "data/preprocess.h"
#include "models/model.h"
#include "util/error.h"
#include "util/log.h"

struct reel_data {
    reel_dataset ds;
};

struct reel_classifier {
    reel_model model;
    reel_preproc pre;
    char **labels;     /* model.L */
    cJSON *training;   /* what the model file's "training" holds */
    cJSON *dataset;    /* and its "dataset" */
    char rule_name[64]; /* the decision rule's name */
};

/* The options of reel_fit and the tasks, decoded from JSON. */
typedef struct {
    uint64_t seed;
    int threads;
    const char *device;
    double valid_fraction, test_fraction;
    int top_k;
    const char *decision; /* a decision rule or "auto" (eval/decision.h); NULL: auto */
    const char *decision_rows; /* what the rule is chosen on: "auto" or "oof" (eval/run.h); NULL: auto */
    int folds, budget;
    const char *metric;
    cJSON *doc; /* holds the strings */
} api_opts;

/* Parses options_json over the defaults (test_fraction as given: 0 for a
 * fit, 0.2 for the tasks) and applies the thread count. Unknown keys fail,
 * naming the valid ones. */
int api_opts_parse(api_opts *o, const char *json, double test_fraction, reel_error *err);
/* The same, its messages naming the CLI's flags when flag_names (then a
 * thread count of 0 is refused too: the CLI leaves the key out instead). */
int api_opts_parse_named(api_opts *o, const char *json, double test_fraction, int flag_names, reel_error *err);
void api_opts_free(api_opts *o);

/* Records err as this thread's last error; returns -1. */
int api_fail(const reel_error *err);
/* A getter's bad argument: "FN: WHY" as the last error (returns -1), so
 * its 0 or NULL is never a silent answer. */
int api_bad_arg(const char *fn, const char *why);
/* The process's log sink (a copy, so a call keeps the one it started with). */
reel_log api_log(void);
/* A JSON text parsed into an object (NULL text: an empty one); NULL on error. */
cJSON *api_parse_object(const char *json, const char *what, reel_error *err);
/* An option's name in messages: the CLI's flag ("--batch-size") when
 * flag_names, else the JSON key ("batch_size"). */
const char *api_option_name(int flag_names, const char *key);
/* The subject of a message about an option: "--test-fraction" when
 * flag_names, else "options: key 'test_fraction'" (in buf). */
const char *api_option_subject(int flag_names, const char *key, char *buf, size_t size);
/* A JSON document as a string for the caller (reel_free). */
char *api_print(const cJSON *doc);

#endif
