/* What the commands share to run reel.h's tasks: making a task from the
 * options they read from the flags, and the model names for messages. */
#ifndef REEL_CLI_TASKS_H
#define REEL_CLI_TASKS_H

#include <cjson/cJSON.h>

#include "reel.h"

enum { REEL_EXIT_OK = 0, REEL_EXIT_RUNTIME = 1, REEL_EXIT_USAGE = 2, REEL_EXIT_INTERRUPTED = 130 };

/* The task `name` with these options, its messages naming the CLI's flags;
 * NULL (reel_last_error) when it cannot be made. */
reel_task *reel_cli_task(const char *name, const cJSON *options);
/* Runs t (reel_cli_task's; NULL: it could not be made): REEL_EXIT_OK, or,
 * with "reel CMD: why" on stderr and t freed, REEL_EXIT_USAGE when its
 * options were refused and REEL_EXIT_RUNTIME for any other failure. */
int reel_cli_run(reel_task *t, const char *cmd);
/* The CLI's log sink: each message a line on stderr ("reel: ...",
 * "reel: warning: ..."). reel_cli_set_log makes it the library's too
 * (quiet: warnings only). */
void reel_cli_print_log(void *user, reel_log_level level, const char *message, const reel_progress *progress);
void reel_cli_set_log(int quiet);
/* The model names, "a, b, c" (reel_model_list), for messages. */
const char *reel_cli_model_names(void);

#endif
