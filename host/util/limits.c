#define _GNU_SOURCE /* pthread_setattr_default_np */
#include "util/limits.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/threads.h"

enum { MIB = 1 << 20 };
/* OpenBLAS's buffer per thread (BUFFER_SIZE of its x86-64 builds: 128 MiB
 * in the versions that hang; smaller ones only make the check generous). */
static const double blas_buffer = 128.0 * MIB;

/* The bytes mapped now (/proc/self/statm's first field, in pages). */
static double mapped_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (double)pages * (double)sysconf(_SC_PAGE_SIZE);
}

static int check_stack(reel_error *err)
{
    struct rlimit r;
    const rlim_t want = 8 * (rlim_t)MIB, least = 1 * (rlim_t)MIB;
    if (getrlimit(RLIMIT_STACK, &r) != 0 || r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= want)
        return 0;
    rlim_t raised = r.rlim_max == RLIM_INFINITY || r.rlim_max >= want ? want : r.rlim_max;
    if (raised > r.rlim_cur) {
        struct rlimit up = {raised, r.rlim_max};
        if (setrlimit(RLIMIT_STACK, &up) == 0)
            r.rlim_cur = raised;
    }
    /* threads started from here on (OpenMP's, the device probe's) get it too */
    pthread_attr_t a;
    if (pthread_attr_init(&a) == 0) {
        if (pthread_attr_setstacksize(&a, r.rlim_cur > least ? r.rlim_cur : least) == 0)
            pthread_setattr_default_np(&a);
        pthread_attr_destroy(&a);
    }
    if (r.rlim_cur < least)
        return reel_fail(err, "the stack limit (ulimit -s) is %lu KiB, below the %lu KiB reel needs (the device "
                         "libraries recurse deeply); raise it", (unsigned long)(r.rlim_cur / 1024),
                         (unsigned long)(least / 1024));
    return 0;
}

static int check_address_space(reel_error *err)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY)
        return 0;
    /* the commands set BLAS to --threads (default: every core) */
    int threads = openblas_get_num_threads(), later = reel_threads_default();
    threads = threads > later ? threads : later;
    /* a buffer for every thread, though the main thread's may be mapped
     * by now: what is mapped varies run to run, and a hang is worse than
     * a refusal a little early */
    double need = mapped_now() + (double)threads * blas_buffer + 16.0 * MIB;
    if ((double)r.rlim_cur >= need)
        return 0;
    return reel_fail(err, "out of memory: the address-space limit (ulimit -v) is %.0f MiB, below the %.0f MiB reel "
                     "needs to start (its libraries, and a %.0f MiB BLAS buffer for each of its %d BLAS threads); "
                     "raise it", (double)r.rlim_cur / MIB, need / MIB, blas_buffer / MIB, threads);
}

int reel_limits_check(reel_error *err) { return check_stack(err) || check_address_space(err); }

/* memory.max of this process's cgroup (v2), or 0 when none applies. */
static double cgroup_limit(void)
{
    char path[600] = "/sys/fs/cgroup", line[512];
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (line[0] == '0' && line[1] == ':' && line[2] == ':') { /* "0::/path" */
                line[strcspn(line, "\n")] = '\0';
                snprintf(path, sizeof path, "/sys/fs/cgroup%s", line + 3);
            }
        fclose(f);
    }
    char file[700];
    snprintf(file, sizeof file, "%s/memory.max", path);
    double v = 0;
    if ((f = fopen(file, "r"))) {
        if (fscanf(f, "%lf", &v) != 1) /* "max": no limit */
            v = 0;
        fclose(f);
    }
    return v;
}

double reel_memory_budget(void)
{
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (double)r.rlim_cur < have)
        have = (double)r.rlim_cur;
    double cg = cgroup_limit();
    if (cg > 0 && cg < have)
        have = cg;
    return have > 0 ? have : 0;
}
