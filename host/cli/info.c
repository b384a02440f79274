/* reel info: version, build options, BLAS, threads, GPU. */
#include <omp.h>
#include <stdio.h>

#include <cblas.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "util/gpu.h"

int reel_cmd_info(int argc, char **argv)
{
    reel_optset s = {0};
    reel_error err;
    int r = reel_parse("info", "", &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    printf("reel %s\n", REEL_VERSION);
    printf("build: %s, C11", REEL_BUILD_TYPE);
#ifdef REEL_HAVE_CUDA
    printf(", CUDA backend compiled in");
#else
    printf(", CUDA backend not compiled (CPU only)");
#endif
#ifdef REEL_SANITIZE
    printf(", sanitizers on");
#endif
    printf("\n");
    printf("blas: %s (%d threads)\n", openblas_get_config(), openblas_get_num_threads());
    printf("openmp: %d threads (%d processors)\n", omp_get_max_threads(), omp_get_num_procs());
    reel_gpu_info g;
    if (reel_gpu_query(&g) == 0)
        printf("gpu: %s, compute capability %d.%d, %.1f GiB, driver %d.%d, runtime %d.%d\n", g.name, g.major,
               g.minor, (double)g.total_memory / (1024.0 * 1024.0 * 1024.0), g.driver_version / 1000,
               (g.driver_version % 1000) / 10, g.runtime_version / 1000, (g.runtime_version % 1000) / 10);
    else
        printf("gpu: none (%s); nets will run on the CPU\n", reel_gpu_absent_reason());
    return REEL_EXIT_OK;
}
