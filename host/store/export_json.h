/* Any model file as one JSON document, for reading a model outside reel:
 *
 *   {"format": "reel-model-json", "format_version": 1,
 *    "metadata": {...},   every __metadata__ entry, decoded from its JSON
 *                         string (params, preprocessing, features, labels,
 *                         thresholds, kind_state, training, dataset, ...)
 *    "tensors": [{"name", "dtype": "F32"|"F64"|"I32"|"U8", "shape": [...],
 *                 "values": [...]}, ...]}   in file order
 *
 * "values" is the tensor flattened row-major. F32 values are written with 9
 * significant digits and F64 with 17, so parsing them back gives the same
 * bits; a non-finite value is the string "NaN", "Infinity" or "-Infinity". */
#ifndef REEL_EXPORT_JSON_H
#define REEL_EXPORT_JSON_H

#include "util/error.h"

/* Reads the model file at model_path (it must load as a reel model) and
 * writes the JSON document atomically to out_path. */
int reel_export_json(const char *model_path, const char *out_path, reel_error *err);

#endif
