/* A small table-driven option parser shared by every subcommand:
 * "--name value" or "--name=value"; errors list the valid options. */
#ifndef REEL_ARGS_H
#define REEL_ARGS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli/fail.h"
#include "cli/tasks.h"

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
               cli_error *err);
void reel_print_help(FILE *fp, const char *cmd, const char *usage, const reel_optset *s);

/* reel_parse for the commands that take --model: --help lists every
 * model definition with its one-line "brief" after the flags. */
int reel_parse_with_models(const char *cmd, const char *usage, const reel_optset *s, int argc, char **argv,
                           cli_error *err);

/* Options every command that reads data shares: what the flags say, as
 * given (the task checks them, its messages naming the flags). */
typedef struct {
    const char *data, *labels, *label_column, *label_sep, *target, *id, *split_column, *features;
    const char *column_types; /* --column-type */
    int keep_unlabeled;
    uint64_t seed;
    double test_fraction, valid_fraction;
    int top_k;   /* --top-categories */
    int threads; /* REEL_OPT_UNSET: not given */
    const char *device;
    int quiet;
    int verbose; /* progress as plain lines on a terminal too (cli/progress.h) */
    const char *decision;        /* a decision rule or "auto" */
    const char *decision_rows;   /* NULL, auto or oof: what the rule is chosen on */
    const char *tune_thresholds; /* NULL, per-label or global: the older spelling of --decision tuned-* */
    const char *mixed_columns;   /* --mixed-columns; NULL: missing */
    const char *encoding;        /* --encoding utf-8|latin-1; NULL: utf-8 */
    const char *sep;             /* --sep; NULL: found from the header line */
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
/* Applies what the CLI itself does with them: --tune-thresholds onto
 * --decision, the log (reel_set_log; quiet on ranks past 0 under mpirun)
 * and the progress display. The task checks the rest. Errors start
 * "reel CMD: ". */
int reel_common_apply(const char *cmd, reel_common_opts *c, cli_error *err);
/* The options of a task (reel.h) the common options make, after
 * reel_common_apply: the data options, seed, fractions, threads (when
 * given), device, decision and quiet. */
cJSON *reel_common_options(const reel_common_opts *c);
#endif
