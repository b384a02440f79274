/* JSON files: reading --params files, and writing the JSON outputs. */
#ifndef REEL_PARAMS_FILE_H
#define REEL_PARAMS_FILE_H

#include <cjson/cJSON.h>

#include "util/error.h"

/* Parses a JSON object from path; errors give the line of a syntax error. */
cJSON *reel_read_json_object(const char *path, reel_error *err);
/* A file for several models: an object keyed by model name (checked). */
cJSON *reel_read_params_by_model(const char *path, reel_error *err);
/* Params for one model: the file is either that model's params object or
 * an object keyed by model name holding it. Returns a new object. */
cJSON *reel_read_params_for(const char *path, const char *model, reel_error *err);
/* Writes doc, indented, plus a newline to path atomically. */
int reel_write_json_file(const char *path, const cJSON *doc, reel_error *err);

/* Sets key to value in params when model's definition has that parameter
 * (--epochs and the like); returns 1 when set, 0 when the model has no
 * such parameter. */
int reel_params_override(cJSON *params, const char *model, const char *key, double value);

#endif
