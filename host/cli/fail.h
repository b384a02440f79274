/* The CLI's error: one message line ("reel CMD: why") for stderr. The
 * library has its own (reel_last_error); the CLI keeps to reel.h. */
#ifndef REEL_CLI_FAIL_H
#define REEL_CLI_FAIL_H

typedef struct {
    char msg[1024];
} cli_error;

/* Formats the message into err (when err is not NULL) and returns -1. */
int cli_fail(cli_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
