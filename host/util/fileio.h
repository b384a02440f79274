/* Reading whole files, bounded. Writing is util/outfile.h's. */
#ifndef REEL_FILEIO_H
#define REEL_FILEIO_H

#include <stdio.h>

#include "util/error.h"
#include "util/paths.h"

/* Opens a file for reading, refusing a folder: "PATH: is a folder, not a
 * WHAT file" (what may be NULL: "not a file"). */
FILE *reel_open_read(const char *path, const char *what, reel_error *err);
/* Reads a whole file into a NUL-terminated malloc'ed buffer. */
char *reel_read_file(const char *path, size_t *len, reel_error *err);
/* The same, refusing a file of more than max bytes (checked before reading
 * a regular file, while reading a pipe or device); `what` names the kind of
 * file in the message ("params"). */
char *reel_read_file_capped(const char *path, size_t *len, size_t max, const char *what, reel_error *err);

/* Caps no real file of each kind reaches: a runaway input (/dev/zero, a
 * wrong path) is refused with a message instead of filling memory. */
#define REEL_MAX_JSON_FILE ((size_t)16 << 20) /* params, grids, feature lists, descriptors */
#define REEL_MAX_MODEL_FILE ((size_t)16 << 30) /* model files and checkpoints (regular files only) */

#endif
