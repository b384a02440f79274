/* What a CSV cell's text is: missing, a number (and whether a feature can
 * hold it), or text. One place for these rules, so the one-record reader
 * and the parallel block reader (data/csv_chunk.c) classify alike. */
#ifndef REEL_CELL_H
#define REEL_CELL_H

#include <stddef.h>

/* Whether a cell's text means "missing": empty, NA, N/A, NaN or null in any
 * case, spaces and tabs around allowed. reel_cell_missing takes n bytes. */
int reel_is_missing_token(const char *s);
int reel_cell_missing(const char *s, size_t n);

/* Clinger's fast path over n bytes: a plain decimal ([-+]digits[.digits]
 * [e[-+]digits]) of at most 19 digits, 15 of them significant, and a power
 * of ten within 1e22 is exactly (double)mantissa times or over 10^k,
 * correctly rounded as strtod would. 1 with *v set, or 0 to let
 * reel_cell_number decide (which gives the same double where both apply). */
int reel_cell_fast_number(const char *s, size_t n, double *v);

/* Any number strtod reads, spaces and tabs around allowed, no hex: 1 (in
 * *v, maybe not finite), 2 for a non-zero number below the smallest double
 * (*v is 0), 0 for text. s is NUL-terminated. */
int reel_cell_number(const char *s, double *v);

/* Why a number cannot be a feature value (features are float32: a value
 * beyond its range, or one so small it would read as 0, would silently
 * become another), or NULL. NaN is a missing value, not checked here. */
const char *reel_feature_number_why(double v);
/* The same for reel_cell_number's result (parsed 2: below a double's range). */
const char *reel_cell_number_why(int parsed, double v);

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
size_t reel_utf8_len(const unsigned char *p, size_t n);

#endif
