/* Model parameters: each models/<name>.json declares its parameters
 * ({"type", "default", "min", "max", "values", "help"}); user params are
 * checked against that spec and merged over the defaults. Errors name the
 * bad key and what is allowed, as liblinear's check_parameter does. */
#ifndef REEL_PARAMS_H
#define REEL_PARAMS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

/* Checks `user` (an object, or NULL) against `spec` (the "params" object of
 * a model definition) and returns defaults overlaid with user values, or
 * NULL with err set ("params for MODEL: key 'k': ..."). */
cJSON *reel_params_resolve(const char *model, const cJSON *spec, const cJSON *user, reel_error *err);

/* Checks resolved params against `limits`, the params spec of the kind's
 * built-in definition: a value of a type the limits list must meet their
 * range and values, so a definition from --models-dir can narrow a kind's
 * limits but never widen them. */
int reel_params_within(const char *model, const char *kind, const cJSON *limits, const cJSON *params,
                       reel_error *err);

/* Reading resolved params, once per fit or load, into the kind's own
 * struct (classical/tree_params.c, nn/mlp_params.c): open a reader, get
 * each key, then reel_params_read_end. A getter asked for a key the
 * definition does not declare (a typo in C), or for a type its value does
 * not have, reads as 0 and the first such miss makes reel_params_read_end
 * fail naming the key, so nothing is silently 0. */
typedef struct {
    const cJSON *params; /* resolved: every declared key is present */
    const char *model;   /* for the message */
    char miss[160];      /* the first miss, "" while none */
} reel_params_reader;

void reel_params_read_begin(reel_params_reader *r, const cJSON *params, const char *model);
int reel_params_read_end(const reel_params_reader *r, reel_error *err);

int reel_param_is_null(reel_params_reader *r, const char *key);
double reel_param_num(reel_params_reader *r, const char *key);
long reel_param_int(reel_params_reader *r, const char *key);
int reel_param_bool(reel_params_reader *r, const char *key);
/* NULL when the value is not a string (a key that takes several types). */
const char *reel_param_str(reel_params_reader *r, const char *key);
/* params' "seed" when set (not null), else fallback. */
uint64_t reel_param_seed(reel_params_reader *r, uint64_t fallback);

#endif
