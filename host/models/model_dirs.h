/* Model definitions read at run time from folders (issue 18). */
#ifndef REEL_MODEL_DIRS_H
#define REEL_MODEL_DIRS_H

#include "util/error.h"
#include "util/log.h"

/* Reads every DIR/NAME.json as model NAME, checked as the embedded ones are;
 * one of an existing name replaces it with a note on log. A missing dir
 * is an error only when must_exist. */
int reel_models_load_dir(const char *dir, int must_exist, const reel_log *log, reel_error *err);
/* The user folder ($XDG_CONFIG_HOME/reel/models, else ~/.config/reel/models)
 * and then --models-dir DIR (NULL: none). */
int reel_models_load_runtime(const char *models_dir, const reel_log *log, reel_error *err);
/* Each entry of --params FILE with a "base" model defines a model of that
 * name: the base's definition with the entry's params as defaults. */
int reel_models_from_params(const char *path, reel_error *err);

#endif
