/* Where a run writes, checked before any work: no output is the same file
 * as an input (device and inode, so links count), every output place is
 * writable, and an --out folder always holds the files of one run. */
#ifndef REEL_OUTPUTS_H
#define REEL_OUTPUTS_H

#include <stddef.h>

#include "util/error.h"

/* 1 when both paths exist and name the same file. */
int reel_same_file(const char *a, const char *b);

/* An output file named by `flag` (e.g. "--save"): refused when it is one of
 * the inputs (NULL entries skipped) or a folder; its folder must take a new
 * file (a probe file is made and removed). */
int reel_check_output_file(const char *flag, const char *path, const char *const *inputs, size_t n_inputs,
                           reel_error *err);

/* An --out folder. The run writes into `stage`, a fresh folder beside
 * `target`; commit swaps it in with one rename (the old folder is kept until
 * then, then removed), so a reader finds the files of one run, never a mix. */
typedef struct {
    char *target;
    char *stage;
} reel_outdir;

/* Checks the target (new, empty, or written by an earlier reel run: only
 * reel's file names), that no input lies in it, removes stage folders of
 * dead runs, and makes the stage folder. */
int reel_outdir_begin(reel_outdir *o, const char *target, const char *const *inputs, size_t n_inputs,
                      reel_error *err);
int reel_outdir_commit(reel_outdir *o, reel_error *err);
/* Removes the stage folder and what the run wrote there; the target is untouched. */
void reel_outdir_abort(reel_outdir *o);

/* Removes `path.tmp.PID` files beside path left by runs that are gone. */
void reel_remove_stale_temps(const char *path);

#endif
