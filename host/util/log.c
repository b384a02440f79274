#include "util/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"

static void emit(const reel_log *log, reel_log_level level, const reel_progress *p, const char *fmt, va_list ap)
{
    if (!log || !log->fn || level < log->min_level)
        return;
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    /* parallel trials and fits report from several threads */
#pragma omp critical(reel_log)
    log->fn(log->user, level, text, p);
}

void reel_log_msg(const reel_log *log, reel_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, level, NULL, fmt, ap);
    va_end(ap);
}

void reel_log_progress(const reel_log *log, const reel_progress *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(log, REEL_LOG_INFO, p, fmt, ap);
    va_end(ap);
}

reel_log reel_log_warnings_only(const reel_log *log)
{
    reel_log q = {0};
    if (log) {
        q = *log;
        if (q.min_level < REEL_LOG_WARNING)
            q.min_level = REEL_LOG_WARNING;
    }
    return q;
}

/* The sink of reel_log_progress_and_warnings: user is the log it feeds. */
static void progress_and_warnings(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    const reel_log *to = user;
    if ((p || level >= REEL_LOG_WARNING) && level >= to->min_level)
        to->fn(to->user, level, message, p);
}

reel_log reel_log_progress_and_warnings(const reel_log *log)
{
    if (!log || !log->fn)
        return (reel_log){.fn = NULL, .user = NULL, .min_level = REEL_LOG_WARNING};
    return (reel_log){.fn = progress_and_warnings, .user = (void *)log, .min_level = REEL_LOG_INFO};
}

/* The sink of reel_log_warnings_once. It runs inside emit's critical
 * section, so the shared list changes under one thread at a time. */
static void warnings_once(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    reel_log_once *self = user;
    const reel_log *to = self->to;
    if (p || level < REEL_LOG_WARNING || level < to->min_level)
        return;
    reel_log_seen *seen = self->seen;
    uint64_t h = reel_fnv1a(REEL_FNV_START, message, strlen(message));
    for (size_t i = 0; i < seen->n; i++)
        if (seen->hash[i] == h)
            return;
    if (seen->n < REEL_LOG_SEEN)
        seen->hash[seen->n++] = h;
    to->fn(to->user, level, message, NULL);
}

reel_log reel_log_warnings_once(const reel_log *log, reel_log_seen *seen, reel_log_once *self)
{
    if (!log || !log->fn || !seen)
        return reel_log_warnings_only(log);
    *self = (reel_log_once){.to = log, .seen = seen};
    return (reel_log){.fn = warnings_once, .user = self, .min_level = REEL_LOG_WARNING};
}

reel_progress reel_progress_blank(reel_progress_kind kind, const char *model)
{
    return (reel_progress){.kind = kind, .model = model, .loss = NAN, .valid_loss = NAN, .valid_f1 = NAN,
                           .score = NAN, .samples_per_s = NAN, .elapsed_s = NAN, .eta_s = NAN};
}
