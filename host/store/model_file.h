/* A trained model as one safetensors file: the model's tensors, plus in
 * __metadata__ (JSON strings) everything needed to use it on new data:
 * format and reel versions, model name, kind and params, the whole
 * preprocessing, feature and label names, thresholds, a training summary
 * and the dataset's fingerprint. */
#ifndef REEL_MODEL_FILE_H
#define REEL_MODEL_FILE_H

#include <cjson/cJSON.h>

#include "data/preprocess.h"
#include "models/model.h"
#include "util/error.h"

#define REEL_MODEL_FORMAT_VERSION 2 /* 2: with a checksum */

typedef struct {
    reel_model model;
    reel_preproc pre;
    char **labels;  /* model.L names */
    cJSON *meta;    /* the decoded metadata: every value parsed as JSON where it is JSON */
} reel_model_file;

/* training and dataset may be NULL. */
int reel_model_file_save(const char *path, const reel_model *m, const reel_preproc *pre, char *const *labels,
                         const cJSON *training, const cJSON *dataset, reel_error *err);
/* The model predicts on `threads` threads (>= 1). */
int reel_model_file_load(reel_model_file *f, const char *path, int threads, reel_error *err);
void reel_model_file_free(reel_model_file *f);

#endif
