/* The one log sink of the library layers: they never print, they report
 * messages and progress records here, and the caller decides (the CLI
 * prints each as a line; the C API passes them to the caller's callback).
 * A NULL sink, or a level below min_level, drops the message. */
#ifndef REEL_LOG_H
#define REEL_LOG_H

#include <stddef.h>
#include <stdint.h>

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
/* Warnings only, each text passed on once: the many fits of search and
 * select would repeat the same note (a layer kind trained on the CPU
 * instead of the device) for every trial and fold. `seen` (zeroed by the
 * caller) holds what was said and is shared by every sink made from it;
 * `self` is this sink's own (on the caller's stack), and both, like `log`,
 * must outlive it. Past REEL_LOG_SEEN distinct texts, every warning passes. */
#define REEL_LOG_SEEN 32
typedef struct {
    uint64_t hash[REEL_LOG_SEEN];
    size_t n;
} reel_log_seen;
typedef struct {
    const reel_log *to;
    reel_log_seen *seen;
} reel_log_once;
reel_log reel_log_warnings_once(const reel_log *log, reel_log_seen *seen, reel_log_once *self);
/* A record of `kind` with every number NaN. */
reel_progress reel_progress_blank(reel_progress_kind kind, const char *model);

#endif
