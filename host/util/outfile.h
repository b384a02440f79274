/* The one way reel writes a file: models, checkpoints, journals,
 * predictions, reports, exports, the files of an --out folder.
 *
 * What the destination is decides how it is written, before anything is:
 *   - a new name or a regular file: written to a short temporary name in
 *     the same folder, flushed, synced and renamed over it, so a reader
 *     sees the old file or the new one, never a mix. A replaced file keeps
 *     its mode (and owner and group where the process may set them); a
 *     file the user may not write is refused, as cp does.
 *   - a character device or FIFO (/dev/null, a terminal, a pipe): no
 *     rename is possible; the bytes are kept aside (an unnamed temporary
 *     file) and streamed to it at commit.
 *   - a symbolic link: followed, and its target written as above, in the
 *     target's folder; refused where the kernel's protected_symlinks rule
 *     would refuse to follow it.
 *   - anything else (a folder, a socket, a block device): refused by name.
 * Errors name the destination the user gave, never a temporary name. An
 * interrupt (util/interrupt.h) before commit leaves the destination as it
 * was. Temporary files are removed by abort, by a second signal, and, when
 * a run was killed, by the next write in the same folder. */
#ifndef REEL_OUTFILE_H
#define REEL_OUTFILE_H

#include <stdio.h>
#include <sys/types.h>

#include "util/error.h"

/* What a destination is, decided by reel_dest_check. */
typedef enum {
    REEL_DEST_NEW,    /* nothing there yet */
    REEL_DEST_FILE,   /* a regular file, replaced */
    REEL_DEST_STREAM, /* a character device or FIFO, written through */
} reel_dest_kind;

typedef struct {
    reel_dest_kind kind;
    char *target;  /* where the bytes go: the name, or a link's target (malloc'ed) */
    mode_t mode;   /* a replaced file's mode, owner, group and link count */
    uid_t uid;
    gid_t gid;
    unsigned long nlink;
} reel_dest;

/* Decides what `path` is and whether it may be written (see above); the
 * folder of a new or replaced file must take a new file. Messages start
 * with path. Free with reel_dest_free. */
int reel_dest_check(reel_dest *d, const char *path, reel_error *err);
void reel_dest_free(reel_dest *d);

typedef struct {
    FILE *fp;        /* write here */
    char *path;      /* the name given, for messages */
    reel_dest dest;
    char *tmp_path;  /* the temporary file (NULL for a stream) */
    int fd;          /* the temporary file's descriptor */
    int err_no;      /* the first write error */
    int slot;        /* in the table of temporary files (util/outfile.c) */
} reel_outfile;

int reel_outfile_open(reel_outfile *f, const char *path, reel_error *err);
/* Flushes, syncs and renames into place (or streams to a device); on any
 * error, or after an interrupt, removes the temporary file and leaves the
 * destination as it was. */
int reel_outfile_commit(reel_outfile *f, reel_error *err);
/* Abandons the write: the temporary file is removed, the destination untouched. */
void reel_outfile_abort(reel_outfile *f);

/* Writes a whole string through an outfile. */
int reel_write_file_atomic(const char *path, const char *text, reel_error *err);

/* mkdir -p for one or more levels; ok when it exists. */
int reel_mkdir_p(const char *dir, reel_error *err);

/* This process's writes go nowhere (an MPI rank other than 0: rank 0
 * writes every output). Set once by the layer that knows (dist/). */
void reel_outputs_discard(int on);
int reel_outputs_discarded(void);

/* A folder written under another name (an --out folder's stage): messages
 * about files in `stage` name them in `shown` instead; and a second signal
 * removes the stage folder with the temporary files. Returns 0, or -1 when
 * the table (a few entries) is full. */
int reel_outputs_stage_add(const char *stage, const char *shown);
void reel_outputs_stage_remove(const char *stage);
/* `path` with a stage folder's name replaced by the name shown, in buf. */
const char *reel_outputs_shown(const char *path, char *buf, size_t size);

/* Removes a flat folder (its files, then itself); for stage folders. */
void reel_remove_flat_dir(const char *dir);
/* Removes reel's temporary files in `dir` left by processes that are gone. */
void reel_remove_stale_temps(const char *dir);
/* Removes the folders of `dir` named prefix + the pid of a process that
 * is gone (stage folders of killed runs). */
void reel_remove_stale_dirs(const char *dir, const char *prefix);
/* 1 when `name` is one of reel's temporary file names. */
int reel_temp_name(const char *name);

/* For tests (the fault-injection suite grows from it): when set, called at
 * each step of writing an output ("open", "write", "sync", "rename",
 * "stream") with the destination's name; a non-zero return is the errno
 * that step then fails with. */
extern int (*reel_outfile_fault)(const char *step, const char *dest);

#endif
