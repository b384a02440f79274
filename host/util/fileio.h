/* Outputs are written to a temporary file beside the target, flushed,
 * fsync'ed and renamed, so a reader never sees a half-written file. Under
 * mpirun only rank 0 writes: the other ranks' outputs go to /dev/null. */
#ifndef REEL_FILEIO_H
#define REEL_FILEIO_H

#include <stdio.h>

#include "util/error.h"

typedef struct {
    FILE *fp;
    char *path;     /* final name */
    char *tmp_path; /* where it is written first */
} reel_outfile;

int reel_outfile_open(reel_outfile *f, const char *path, reel_error *err);
/* Flushes, syncs and renames into place; on any error removes the temp file. */
int reel_outfile_commit(reel_outfile *f, reel_error *err);
/* Abandons the write: the temporary file is removed, the target untouched. */
void reel_outfile_abort(reel_outfile *f);

/* Writes a whole string atomically. */
int reel_write_file_atomic(const char *path, const char *text, reel_error *err);
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
/* mkdir -p for one or more levels; ok when it exists. */
int reel_mkdir_p(const char *dir, reel_error *err);
/* dir + "/" + name, malloc'ed. */
char *reel_path_join(const char *dir, const char *name);

#endif
