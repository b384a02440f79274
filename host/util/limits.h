/* The process's resource limits, checked at start so that a limit too
 * small ends in a clear message instead of a hang or a crash inside a
 * library (OpenBLAS retries a failed buffer mmap forever; PoCL's device
 * probe recurses deeper than a 64 KiB stack). */
#ifndef REEL_LIMITS_H
#define REEL_LIMITS_H

#include "util/error.h"

/* Raises a small soft stack limit towards 8 MiB (and the default thread
 * stack with it) where the hard limit allows; fails when the stack stays
 * below 1 MiB, or when the address-space limit (ulimit -v) is below what
 * reel needs to start: its mapped size now and a BLAS buffer per BLAS
 * thread. A failure means "exit now, with _exit": OpenBLAS's exit handler
 * may wait on a thread retrying an mmap that cannot succeed. */
int reel_limits_check(reel_error *err);

/* Bytes this process may use: the least of physical memory, the
 * address-space limit and the cgroup's memory.max (0: unknown). */
double reel_memory_budget(void);

#endif
