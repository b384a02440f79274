/* compare's work: every chosen model trained on one split and scored on
 * its test rows (here, or spread over MPI ranks), a model that fails
 * reported and skipped; the leaderboard ranked by one metric; the report.
 * The "compare" task (api/task_compare.c) runs it for every front end. */
#ifndef REEL_EVAL_COMPARE_H
#define REEL_EVAL_COMPARE_H

#include <cjson/cJSON.h>

#include "eval/run.h"

/* What the fits gave: the runs that worked, in order, and the models that
 * failed with their messages. */
typedef struct {
    reel_run *runs;
    size_t done;
    const char **failed; /* the job's names */
    char **failed_msg;
    size_t n_failed;
} reel_compare_results;

typedef struct {
    char *const *names; /* the models, in order */
    size_t n;
    const cJSON *params; /* {"model": {params}}; may be NULL */
    reel_run_opts ro;    /* out_dir: where the nets' histories go; checkpoint: a folder (one file per net) */
    int quiet;           /* no "[i/n] model ..." lines */
} reel_compare_job;

/* Runs every model of job on p into r (reel_compare_results_free): the
 * nets that train together on a device first, then the others one at a
 * time; under mpirun, the models spread over the ranks. A model that fails
 * is logged and kept in r->failed. -1 when the run itself stops (Ctrl-C:
 * nothing is written; a rank's failure; out of memory). */
int reel_compare_run(reel_prepared *p, const reel_compare_job *job, reel_compare_results *r, reel_error *err);
void reel_compare_results_free(reel_compare_results *r);

/* The metric a leaderboard of this target ranks by when none is named:
 * samples-f1 (multi-label), accuracy (binary, multi-class). */
const char *reel_compare_default_metric(reel_target_kind target);
/* The document: {"dataset", "models" (in run order), "ranked_by",
 * "ranking" (the names, best metric first; ties keep the run order),
 * "failed" (when any: name and error)}. */
cJSON *reel_compare_json(const reel_prepared *p, const reel_compare_results *r, const char *metric);
/* report.html and report.md in dir (command: the line that made it; may be NULL). */
int reel_compare_report(const char *dir, const reel_prepared *p, const reel_compare_results *r, uint64_t seed,
                        const char *command, reel_error *err);

#endif
