/* The files of one run, checked before any work: every output (a model,
 * a checkpoint, a journal, predictions, an export, an --out folder) is
 * refused when it is one of the run's inputs or another of its outputs
 * (device and inode of where the name leads, so hard links and symbolic
 * links count, and names not yet written compare by folder and name), when
 * it lies in an --out folder (which is replaced whole), or when it cannot
 * be written (util/outfile.h says what may be). An --out folder always holds
 * the files of one run. */
#ifndef REEL_OUTPUTS_H
#define REEL_OUTPUTS_H

#include <stddef.h>

#include "util/error.h"
#include "util/log.h"
#include "util/paths.h"

enum { REEL_RUN_FILES_MAX = 24 };

typedef struct {
    const char *flag; /* "--save", "--data": how the user named it */
    char *path;
    reel_file_key key;
    int keyed;  /* key could be made (the file or its folder exists) */
    int folder; /* an --out folder: replaced whole, nothing else may be in it */
} reel_run_file;

typedef struct {
    reel_run_file in[REEL_RUN_FILES_MAX], out[REEL_RUN_FILES_MAX];
    size_t n_in, n_out;
    const reel_log *log; /* notes (a hard link detached); may be NULL */
} reel_run_files;

void reel_run_files_init(reel_run_files *rf, const reel_log *log);
void reel_run_files_free(reel_run_files *rf);
/* An input of the run (a NULL path is skipped). */
int reel_run_input(reel_run_files *rf, const char *flag, const char *path, reel_error *err);
/* An output file of the run (a NULL path is skipped): checked against the
 * inputs and outputs named so far and those named later. A file that reel
 * reads back before replacing it (--checkpoint, --journal with --resume)
 * is an output too. A file with other hard links is noted: they keep the
 * old contents. Messages start with the flag and the name. */
int reel_run_output(reel_run_files *rf, const char *flag, const char *path, reel_error *err);
/* The same, making the file's folder when missing (--checkpoint). */
int reel_run_output_mkdir(reel_run_files *rf, const char *flag, const char *path, reel_error *err);
/* A folder the run writes files into (not replaced): not an input, not in
 * an --out folder; made when missing. */
int reel_run_output_folder(reel_run_files *rf, const char *flag, const char *path, reel_error *err);

/* 1 when both paths exist and name the same file. */
int reel_same_file(const char *a, const char *b);

/* An --out folder. The run writes into `stage`, a fresh folder beside
 * the folder; commit swaps it in with one rename (the old folder is kept
 * until then, then removed), so a reader finds the files of one run, never
 * a mix. When `target` is a symbolic link, the folder it leads to is the one
 * replaced and the link is kept. Messages about files in the stage name
 * them in the target. */
typedef struct {
    char *target; /* as given, for messages */
    char *path;   /* the folder: target with its links followed */
    char *stage;
} reel_outdir;

/* Checks the target (new, empty, or written by an earlier reel run: only
 * reel's file names), that no input or other output of rf lies in it (and
 * adds it to rf's outputs), removes stage folders of dead runs, and makes
 * the stage folder. */
int reel_outdir_begin(reel_outdir *o, reel_run_files *rf, const char *target, reel_error *err);
/* Refused after an interrupt (util/interrupt.h): the target is untouched. */
int reel_outdir_commit(reel_outdir *o, reel_error *err);
/* Removes the stage folder and what the run wrote there; the target is untouched. */
void reel_outdir_abort(reel_outdir *o);

#endif
