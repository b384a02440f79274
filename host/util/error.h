/* One error type for the whole library: a message a person can act on.
 * Functions that can fail return 0 on success and -1 after filling *err. */
#ifndef REEL_ERROR_H
#define REEL_ERROR_H

typedef struct {
    char msg[1024];
} reel_error;

/* Formats the message into err (when err is not NULL) and returns -1. */
int reel_fail(reel_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
