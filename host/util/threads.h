/* The process's CPU thread count: one bound and one place that sets it.
 * Every entry point (CLI --threads, the C API's "threads" option) goes
 * through reel_threads_set, so a count outside 1..REEL_THREADS_MAX is the
 * same error everywhere instead of a crash deep inside OpenMP. */
#ifndef REEL_THREADS_H
#define REEL_THREADS_H

#include "util/error.h"

/* libgomp cannot create far more threads than this and a stack per thread
 * must fit; no machine reel targets has more cores. */
#define REEL_THREADS_MAX 4096

/* 0 when 1 <= n <= REEL_THREADS_MAX; otherwise -1 with "WHAT must be 1 to
 * 4096 (this machine has N cores), got n". */
int reel_threads_check(const char *what, long long n, reel_error *err);

/* The machine's core count, capped at REEL_THREADS_MAX. */
int reel_threads_default(void);

/* Checks n (0: reel_threads_default()), then sets it for OpenMP and BLAS,
 * for the whole process; *used receives the count set. */
int reel_threads_set(const char *what, long long n, int *used, reel_error *err);

#endif
