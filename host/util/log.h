/* The one log sink of the library layers: they never print, they report
 * messages and progress records here, and the caller decides (the CLI
 * prints each as a line; the C API passes them to the caller's callback).
 * A NULL sink, or a level below min_level, drops the message. */
#ifndef REEL_LOG_H
#define REEL_LOG_H

#include "reel.h"

typedef struct reel_log {
    reel_log_fn fn;
    void *user;
    reel_log_level min_level; /* messages below it are dropped */
} reel_log;

void reel_log_msg(const reel_log *log, reel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Progress is INFO; p's kind says what it is. */
void reel_log_progress(const reel_log *log, const reel_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same sink keeping only warnings: for the many inner fits of search
 * and select, whose own progress would drown theirs. */
reel_log reel_log_warnings_only(const reel_log *log);
/* Warnings and progress records only, passed on to `log` (which must
 * outlive it): for an ensemble's members past the first, whose epochs
 * count but whose notes would repeat the first's. */
reel_log reel_log_progress_and_warnings(const reel_log *log);
/* A record of `kind` with every number NaN. */
reel_progress reel_progress_blank(reel_progress_kind kind, const char *model);

#endif
