#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int reel_fail(reel_error *err, const char *fmt, ...)
{
    if (err) {
        /* Through a copy: callers may prefix err's own message ("%s: %s", err->msg). */
        char msg[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        memcpy(err->msg, msg, sizeof msg);
    }
    return -1;
}
