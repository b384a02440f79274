/* JSON numbers that survive a round trip. cJSON prints doubles with 15
 * significant digits when they compare equal within a relative epsilon, so
 * the last bits can be lost, and a double cannot hold every 64-bit integer.
 * These print every double with the fewest digits (up to 17) that read back
 * to the same bits, and carry 64-bit integers as decimal strings. */
#ifndef REEL_JSON_EXACT_H
#define REEL_JSON_EXACT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

/* Prints v (unformatted) with exact numbers; cJSON_free the result. */
char *reel_json_print_exact(const cJSON *v);
/* A 64-bit unsigned integer from a decimal string, or from a JSON number
 * that is a whole number in [0, 2^53] (files written before seeds were
 * strings). */
int reel_json_u64(const cJSON *v, uint64_t *out);

/* Reads a JSON file strictly: at most REEL_MAX_JSON_FILE bytes, errors
 * naming the line and column, numbers beyond a double's range or below its
 * smallest refused, and a key repeated in an object refused (naming it). */
cJSON *reel_json_read_file(const char *path, const char *what, reel_error *err);

#endif
