/* reel info: version, build options, BLAS, threads, GPU. */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "reel.h"
#include "store/model_file.h"

/* Every device on every runtime, one line each (reel_device_list), and
 * where --device auto trains. */
static void print_devices(void)
{
    char *text = reel_device_list();
    cJSON *list = text ? cJSON_Parse(text) : NULL;
    reel_free(text);
    const char *auto_dev = "cpu";
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        const char *dev = cJSON_GetObjectItem(d, "device")->valuestring;
        const char *rt = cJSON_GetObjectItem(d, "runtime")->valuestring;
        const char *detail = cJSON_GetObjectItem(d, "detail")->valuestring;
        int usable = cJSON_IsTrue(cJSON_GetObjectItem(d, "usable"));
        if (cJSON_IsTrue(cJSON_GetObjectItem(d, "auto")))
            auto_dev = dev;
        if (strcmp(rt, "cpu") == 0)
            continue;
        if (strcmp(dev, rt) == 0) /* a runtime without devices */
            printf("%s: no device: %s\n", rt, detail);
        else
            printf("%s: %s %s (%s%s)\n", rt, dev, cJSON_GetObjectItem(d, "name")->valuestring, detail,
                   usable ? "" : ": not usable");
    }
    printf("nets: --device auto trains on %s\n", auto_dev);
    cJSON_Delete(list);
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
