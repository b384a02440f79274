/* The "info" task: `reel info` as a function. Without options, the build
 * and the machine: {"version", "build_type", "cuda_compiled", "sanitizers",
 * "blas": {"config", "threads"}, "openmp": {"threads", "processors"},
 * "mpi": {"library" (null: not built in), "ranks"}, "devices" (as
 * reel_device_list)}. With "model_file", what the file holds: {"path",
 * "format_version", "model", "kind", "description" (null: none), "params",
 * "features", "labels", "decision_rule", "thresholds" (null for the
 * expected-F1 rules, which use none), "reel_version", "training",
 * "dataset"}. */
#include <omp.h>
#include <stdlib.h>

#include <cblas.h>

#include "api/task.h"
#include "dist/dist.h"
#include "store/model_file.h"

static const char *const KEYS[] = {"model_file", NULL};

static cJSON *build_info(void)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "version", REEL_VERSION);
    cJSON_AddStringToObject(j, "build_type", REEL_BUILD_TYPE);
#ifdef REEL_HAVE_CUDA
    cJSON_AddTrueToObject(j, "cuda_compiled");
#else
    cJSON_AddFalseToObject(j, "cuda_compiled");
#endif
#ifdef REEL_SANITIZE
    cJSON_AddTrueToObject(j, "sanitizers");
#else
    cJSON_AddFalseToObject(j, "sanitizers");
#endif
    cJSON *blas = cJSON_AddObjectToObject(j, "blas");
    cJSON_AddStringToObject(blas, "config", openblas_get_config());
    cJSON_AddNumberToObject(blas, "threads", openblas_get_num_threads());
    cJSON *omp = cJSON_AddObjectToObject(j, "openmp");
    cJSON_AddNumberToObject(omp, "threads", omp_get_max_threads());
    cJSON_AddNumberToObject(omp, "processors", omp_get_num_procs());
    cJSON *mpi = cJSON_AddObjectToObject(j, "mpi");
    if (reel_dist_library())
        cJSON_AddStringToObject(mpi, "library", reel_dist_library());
    else
        cJSON_AddNullToObject(mpi, "library");
    cJSON_AddNumberToObject(mpi, "ranks", reel_dist_size());
    char *devices = reel_device_list();
    cJSON_AddItemToObject(j, "devices", devices ? cJSON_Parse(devices) : cJSON_CreateArray());
    free(devices);
    return j;
}

static cJSON *file_info(const char *path, reel_error *err)
{
    reel_model_file f;
    if (reel_model_file_load(&f, path, 1, err))
        return NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "path", path);
    cJSON_AddNumberToObject(j, "format_version", REEL_MODEL_FORMAT_VERSION);
    cJSON_AddStringToObject(j, "model", f.model.name);
    cJSON_AddStringToObject(j, "kind", f.model.kind->name);
    char what[1024];
    if (f.model.kind->describe && f.model.kind->describe(f.model.params, f.pre.d, f.model.L, what, sizeof what) == 0)
        cJSON_AddStringToObject(j, "description", what);
    else
        cJSON_AddNullToObject(j, "description");
    cJSON_AddItemToObject(j, "params", cJSON_Duplicate(f.model.params, 1));
    cJSON *feat = cJSON_AddArrayToObject(j, "features");
    for (size_t k = 0; k < f.pre.d; k++)
        cJSON_AddItemToArray(feat, cJSON_CreateString(f.pre.f[k].name));
    cJSON_AddItemToObject(j, "labels", cJSON_CreateStringArray((const char *const *)f.labels, (int)f.model.L));
    char rule[64];
    const reel_decision *dr = &f.model.rule;
    cJSON_AddStringToObject(j, "decision_rule", reel_decision_name(dr, rule, sizeof rule));
    if (dr->kind == REEL_RULE_EXPECTED_F1) {
        cJSON_AddNullToObject(j, "thresholds");
    } else {
        cJSON *th = cJSON_AddArrayToObject(j, "thresholds");
        for (size_t k = 0; k < f.model.L; k++)
            cJSON_AddItemToArray(th, cJSON_CreateNumber((double)dr->threshold[k]));
    }
    const char *keys[] = {"reel_version", "training", "dataset"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(f.meta, keys[k]);
        if (v)
            cJSON_AddItemToObject(j, keys[k], cJSON_Duplicate(v, 1));
    }
    reel_model_file_free(&f);
    return j;
}

int task_info(reel_task *t, reel_error *err)
{
    const char *model_file = NULL;
    if (task_check_keys(t, KEYS, err) || task_string(t, "model_file", &model_file, err))
        return API_REFUSED;
    cJSON *doc = model_file ? file_info(model_file, err) : build_info();
    if (!doc)
        return -1;
    int rc = task_finish(t, doc, err);
    cJSON_Delete(doc);
    return rc;
}
