/* reel info: version, build options, BLAS, threads, GPU. */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "nn/device.h"
#include "nn/gpu.h"
#include "nn/opencl.h"
#include "store/model_file.h"

/* Every device on every runtime, one line each. */
static void print_devices(void)
{
    reel_gpu_info g;
    int nc = reel_gpu_count();
    if (nc > 0 && reel_gpu_query(&g) == 0)
        printf("gpu: cuda:0 %s, compute capability %d.%d, %.1f GiB, driver %d.%d, runtime %d.%d%s\n", g.name,
               g.major, g.minor, (double)g.total_memory / (1024.0 * 1024.0 * 1024.0), g.driver_version / 1000,
               (g.driver_version % 1000) / 10, g.runtime_version / 1000, (g.runtime_version % 1000) / 10,
               nc > 1 ? " (and more CUDA devices)" : "");
    else
        printf("gpu: no CUDA device: %s\n", reel_gpu_absent_reason());
    int no = reel_opencl_count();
    if (no == 0)
        printf("opencl: no device (%s)\n", reel_opencl_absent_reason());
    for (int i = 0; i < no; i++) {
        reel_opencl_info o;
        if (reel_opencl_info_get(i, &o))
            continue;
        printf("opencl: opencl:%d %s (%s; %s, %s, %.1f GiB%s%s)\n", i, o.name, o.platform, o.version,
               o.is_gpu ? "GPU" : "not a GPU", (double)o.memory / (1024.0 * 1024.0 * 1024.0),
               o.fp64 ? "" : ", no double precision: not usable", o.is_pocl ? ", used only when asked" : "");
    }
    printf("nets: --device auto trains on %s\n",
           nc > 0 ? "cuda:0" : reel_opencl_auto_gpu() >= 0 ? "an OpenCL GPU" : "the CPU");
}

/* What a model file holds: the metadata, then each tensor's dtype and shape. */
static int describe_model_file(const char *path)
{
    reel_model_file f;
    reel_error err;
    if (reel_model_file_load(&f, path, 1, &err)) {
        fprintf(stderr, "reel info: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    printf("%s: reel model, format %d\n", path, REEL_MODEL_FORMAT_VERSION);
    printf("model: %s (kind %s), %zu features -> %zu labels\n", f.model.name, f.model.kind->name, f.pre.d,
           f.model.L);
    char *params = cJSON_PrintUnformatted(f.model.params);
    printf("params: %s\n", params);
    cJSON_free(params);
    char what[1024];
    if (f.model.kind->describe && f.model.kind->describe(f.model.params, f.pre.d, f.model.L, what, sizeof what) == 0)
        printf("%s\n", what);
    char rule[64];
    const reel_decision *dr = &f.model.rule;
    printf("decision rule: %s\nlabels:", reel_decision_name(dr, rule, sizeof rule));
    for (size_t k = 0; k < f.model.L; k++)
        printf(dr->kind == REEL_RULE_EXPECTED_F1 ? " %s" : " %s (threshold %g)", f.labels[k],
               (double)dr->threshold[k]);
    printf("\nfeatures:");
    for (size_t k = 0; k < f.pre.d; k++)
        printf(" %s", f.pre.f[k].name);
    printf("\n");
    const char *keys[] = {"reel_version", "training", "dataset"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(f.meta, keys[k]);
        if (!v)
            continue;
        char *s = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
        printf("%s: %s\n", keys[k], s ? s : v->valuestring);
        cJSON_free(s);
    }
    reel_model_file_free(&f);
    return REEL_EXIT_OK;
}

int reel_cmd_info(int argc, char **argv)
{
    reel_optset s = {0};
    reel_error err;
    const char *model_file = NULL;
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "describe a saved model instead");
    int r = reel_parse("info", "[--model-file FILE]", &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    if (model_file)
        return describe_model_file(model_file);
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
    if (reel_dist_library())
        printf("mpi: built in (%s); %d rank%s%s\n", reel_dist_library(), reel_dist_size(),
               reel_dist_size() == 1 ? "" : "s", reel_dist_size() > 1 ? " under mpirun" : " (not under mpirun)");
    else
        printf("mpi: not built in (cmake -DREEL_MPI=ON with Open MPI installed)\n");
    print_devices();
    return REEL_EXIT_OK;
}
