/* The model definitions (models/NAME.json) compiled into the binary by
 * scripts/embed_models.cmake. */
#ifndef REEL_MODEL_DEFS_H
#define REEL_MODEL_DEFS_H

#include <stddef.h>

typedef struct {
    const char *name; /* file name without .json */
    const char *json; /* its text */
} reel_model_source;

extern const reel_model_source reel_model_sources[]; /* ends with {NULL, NULL} */

#endif
