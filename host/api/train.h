/* The one training path of reel: `reel train` (through the "train" task)
 * and reel_fit both call api_train, so the same rows, params and seed give
 * the same model, bit for bit. Only host/api/ includes it. */
#ifndef REEL_API_TRAIN_H
#define REEL_API_TRAIN_H

#include <cjson/cJSON.h>

#include "api/api.h"
#include "data/prepared.h"
#include "eval/run.h"

/* api_train's return when the options were refused before any work (the
 * CLI's usage error, exit 2); other failures return -1. */
enum { API_REFUSED = -2 };

typedef struct {
    /* set by the caller */
    api_opts o;               /* seed, threads, device, fractions, top_k, decision */
    reel_data_opts data;      /* the file to read, when ds is NULL */
    const reel_dataset *ds;   /* rows in memory (reel_fit); NULL: read data */
    const char *model;
    const cJSON *params;      /* the model's params; NULL: params_file's, else the defaults */
    const char *params_file;  /* a --params file (one model's params, or keyed by model) */
    const char *save, *out, *checkpoint; /* outputs; NULL: none */
    double epochs, batch_size, lr;       /* nets' overrides of params; NaN: not given */
    int quiet;      /* no data summary, no data warnings (the CLI's --quiet) */
    int fit_only;   /* reel_fit: every row trains; no test rows is no warning */
    int flag_names; /* messages name options as the CLI's flags (--batch-size, --params) */
    int keep;       /* the train task: shell and result made before any output is written */
    /* made by api_train (api_train_free frees them) */
    reel_prepared p;
    reel_run run;
    int have_p, have_run;
    cJSON *doc;      /* {"dataset", "model"}: what `reel train --format json` prints */
    cJSON *training; /* the model file's "training" (fit seconds, seed, test metrics) */
    cJSON *dataset;  /* and its "dataset" (shape, labels, id and label column) */
    reel_classifier *shell; /* keep: the classifier's allocations (api_classifier_fill) */
    char *result;           /* keep: doc printed */
} api_train_job;

/* Checks j's options, reads the data, checks every output path against the
 * inputs and each other, fits j->model, scores it on the test rows, and
 * writes save and out (each whole or not at all). 0, -1, or API_REFUSED;
 * the message in err. */
int api_train(api_train_job *j, reel_error *err);
/* The device option for the models (known ones): well-formed, and present
 * when one of them trains on a device; that the others ignore it is logged. */
int api_device_check(const char *const *models, size_t n, const char *device, int flag_names, reel_error *err);
void api_train_free(api_train_job *j);

/* A classifier (reel.h) made of a finished job's model, preprocessing and
 * metadata, which it takes over; NULL when out of memory. It is
 * api_classifier_shell (every allocation) then api_classifier_fill (none),
 * so that the train task can allocate before it writes its outputs: a run
 * that fails after writing them would report failure beside new files. */
reel_classifier *api_classifier_take(api_train_job *j, reel_error *err);
reel_classifier *api_classifier_shell(const api_train_job *j, reel_error *err);
void api_classifier_fill(reel_classifier *c, api_train_job *j);
void api_classifier_shell_free(reel_classifier *c, size_t L);

#endif
