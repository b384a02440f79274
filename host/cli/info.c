/* reel info: version, build options, BLAS, threads, GPU. */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "nn/spec.h"
#include "store/model_file.h"
#include "util/gpu.h"

/* What a model file holds: the metadata, then each tensor's dtype and shape. */
static int describe_model_file(const char *path)
{
    reel_model_file f;
    reel_error err;
    if (reel_model_file_load(&f, path, &err)) {
        fprintf(stderr, "reel info: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    printf("%s: reel model, format %d\n", path, REEL_MODEL_FORMAT_VERSION);
    printf("model: %s (kind %s), %zu features -> %zu labels\n", f.model.name, f.model.kind->name, f.pre.d,
           f.model.L);
    char *params = cJSON_PrintUnformatted(f.model.params);
    printf("params: %s\n", params);
    cJSON_free(params);
    reel_nn_spec net;
    reel_error ignored;
    if (strcmp(f.model.kind->name, "mlp") == 0 &&
        reel_nn_spec_from_params(&net, f.model.params, f.pre.d, f.model.L, &ignored) == 0) {
        printf("net: %zu", net.d); /* the widths after "width" scaled them */
        for (size_t l = 0; l < net.n_layers; l++)
            printf(" -> %zu%s%s", net.layer[l].out, net.layer[l].act == REEL_ACT_NONE ? "" : " ",
                   net.layer[l].act == REEL_ACT_NONE ? "" : reel_nn_act_name(net.layer[l].act));
        printf(" (%s head, %zu parameters)\n", net.head == REEL_HEAD_SOFTMAX ? "softmax" : "sigmoid",
               net.n_params);
    }
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
    reel_gpu_info g;
    if (reel_gpu_query(&g) == 0)
        printf("gpu: %s, compute capability %d.%d, %.1f GiB, driver %d.%d, runtime %d.%d\n", g.name, g.major,
               g.minor, (double)g.total_memory / (1024.0 * 1024.0 * 1024.0), g.driver_version / 1000,
               (g.driver_version % 1000) / 10, g.runtime_version / 1000, (g.runtime_version % 1000) / 10);
    else
        printf("gpu: none (%s); nets will run on the CPU\n", reel_gpu_absent_reason());
    return REEL_EXIT_OK;
}
