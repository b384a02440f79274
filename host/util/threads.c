/* The thread count's bound and setter (see threads.h). */
#include "util/threads.h"

#include <cblas.h>
#include <omp.h>

int reel_threads_check(const char *what, long long n, reel_error *err)
{
    if (n < 1 || n > REEL_THREADS_MAX)
        return reel_fail(err, "%s must be 1 to %d (this machine has %d cores), got %lld", what, REEL_THREADS_MAX,
                         omp_get_num_procs(), n);
    return 0;
}

int reel_threads_default(void)
{
    int n = omp_get_num_procs();
    return n < 1 ? 1 : n > REEL_THREADS_MAX ? REEL_THREADS_MAX : n;
}

int reel_threads_set(const char *what, long long n, int *used, reel_error *err)
{
    if (n == 0)
        n = reel_threads_default();
    if (reel_threads_check(what, n, err))
        return -1;
    omp_set_num_threads((int)n);
    openblas_set_num_threads((int)n);
    if (used)
        *used = (int)n;
    return 0;
}
