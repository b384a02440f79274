#include "util/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

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

reel_progress reel_progress_blank(reel_progress_kind kind, const char *model)
{
    return (reel_progress){.kind = kind, .model = model, .loss = NAN, .valid_loss = NAN, .valid_f1 = NAN,
                           .score = NAN, .samples_per_s = NAN, .elapsed_s = NAN, .eta_s = NAN};
}
