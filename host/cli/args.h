/* A small table-driven option parser shared by every subcommand:
 * "--name value" or "--name=value"; errors list the valid options. */
#ifndef REEL_ARGS_H
#define REEL_ARGS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli/tasks.h"
#include "data/prepared.h"
#include "util/error.h"

/* An int option the user did not give (so that 0 given is an error, not the default). */
#define REEL_OPT_UNSET INT_MIN


typedef enum { OPT_FLAG, OPT_STR, OPT_INT, OPT_DOUBLE, OPT_U64 } reel_opt_type;

typedef struct {
    const char *name; /* without the leading "--" */
    reel_opt_type type;
    void *dest;       /* int* for FLAG/INT, const char** for STR, double*, uint64_t* */
    const char *metavar;
    const char *help;
} reel_opt;

typedef struct {
    reel_opt opts[64];
    size_t n;
} reel_optset;

void reel_optset_add(reel_optset *s, const char *name, reel_opt_type type, void *dest, const char *metavar,
                     const char *help);
/* Parses argv[0..argc) (after the subcommand). Returns 0, 1 when --help was
 * given (help printed), or -1 (usage error in err). --version is main's. */
int reel_parse(const char *cmd, const char *usage, const reel_optset *s, int argc, char **argv,
               reel_error *err);
void reel_print_help(FILE *fp, const char *cmd, const char *usage, const reel_optset *s);

/* Every model definition with its one-line "brief", after a command's
 * --help. */
void reel_print_models(FILE *fp);

/* Options every command that reads data shares. */
typedef struct {
    reel_prepare_opts prep;
    int threads;
    const char *device;
    int quiet;
    int verbose; /* progress as plain lines on a terminal too (cli/progress.h) */
    const char *decision;        /* a decision rule or "auto" (eval/decision.h) */
    const char *tune_thresholds; /* NULL, per-label or global: the older spelling of --decision tuned-* */
    const char *mixed_columns;   /* --mixed-columns; NULL: missing */
    const char *encoding;        /* --encoding utf-8|latin-1; NULL: utf-8 */
    const char *sep;             /* --sep; NULL: found from the header line */
    reel_log log; /* set by reel_common_apply: stderr, warnings only with --quiet */
} reel_common_opts;

void reel_common_defaults(reel_common_opts *c);
void reel_add_data_opts(reel_optset *s, reel_common_opts *c);
void reel_add_run_opts(reel_optset *s, reel_common_opts *c);
/* The nets' training flags that compare and train share. */
typedef struct {
    int epochs, batch; /* REEL_OPT_UNSET: not given */
    double lr;         /* NAN: not given */
} reel_net_opts;
/* Sets them unset and adds --epochs, --batch-size and --lr. */
void reel_add_net_opts(reel_optset *s, reel_net_opts *n);
/* Those given, as a task's options "epochs", "batch_size" and "lr". */
void reel_net_options(cJSON *o, const reel_net_opts *n);
/* The CLI's log sink: each message a line on stderr ("reel: ...",
 * "reel: warning: ..."); quiet keeps only the warnings. */
reel_log reel_cli_log(int quiet);
/* Validates and applies (thread counts for OpenMP and BLAS; the log, the
 * CLI's and the library's: reel_set_log). Errors start "reel CMD: ". */
int reel_common_apply(const char *cmd, reel_common_opts *c, reel_error *err);
/* The options of a task (reel.h) the common options make, after
 * reel_common_apply: the data options, seed, fractions, threads, device,
 * decision and quiet. */
cJSON *reel_common_options(const reel_common_opts *c);
/* --device for the models a command runs (after reel_common_apply): the
 * device must be there when one of them trains on a device; the others
 * ignore it, which is logged. Errors start "reel CMD: ". */
int reel_device_for_models(const char *cmd, const reel_common_opts *c, char *const *models, size_t n,
                           reel_error *err);

#endif
