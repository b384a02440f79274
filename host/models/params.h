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

/* Getters for resolved params (the key must exist in the spec). */
int reel_param_is_null(const cJSON *p, const char *key);
double reel_param_num(const cJSON *p, const char *key);
long reel_param_int(const cJSON *p, const char *key);
int reel_param_bool(const cJSON *p, const char *key);
const char *reel_param_str(const cJSON *p, const char *key); /* NULL when not a string */
/* params' "seed" when set (not null), else fallback. */
uint64_t reel_param_seed(const cJSON *p, uint64_t fallback);

#endif
