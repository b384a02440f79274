/* reel info: version, build options, BLAS, threads, GPU; or what a model
 * file holds. The facts come from reel.h's "info" task; this file prints
 * them. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Every device on every runtime, one line each, and where --device auto trains. */
static void print_devices(const cJSON *list)
{
    const char *auto_dev = "cpu";
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        const char *dev = str(d, "device"), *rt = str(d, "runtime"), *detail = str(d, "detail");
        int usable = cJSON_IsTrue(cJSON_GetObjectItem(d, "usable"));
        if (cJSON_IsTrue(cJSON_GetObjectItem(d, "auto")))
            auto_dev = dev;
        if (strcmp(rt, "cpu") == 0)
            continue;
        if (strcmp(dev, rt) == 0) /* a runtime without devices */
            printf("%s: no device: %s\n", rt, detail);
        else
            printf("%s: %s %s (%s%s)\n", rt, dev, str(d, "name"), detail, usable ? "" : ": not usable");
    }
    printf("nets: --device auto trains on %s\n", auto_dev);
}

static void print_build(const cJSON *j)
{
    printf("reel %s\n", str(j, "version"));
    printf("build: %s, C11", str(j, "build_type"));
    printf(cJSON_IsTrue(cJSON_GetObjectItem(j, "cuda_compiled")) ? ", CUDA backend compiled in"
                                                                 : ", CUDA backend not compiled (CPU only)");
    if (cJSON_IsTrue(cJSON_GetObjectItem(j, "sanitizers")))
        printf(", sanitizers on");
    printf("\n");
    const cJSON *blas = cJSON_GetObjectItem(j, "blas"), *omp = cJSON_GetObjectItem(j, "openmp");
    const cJSON *mpi = cJSON_GetObjectItem(j, "mpi");
    printf("blas: %s (%d threads)\n", str(blas, "config"), (int)num(blas, "threads"));
    printf("openmp: %d threads (%d processors)\n", (int)num(omp, "threads"), (int)num(omp, "processors"));
    int ranks = (int)num(mpi, "ranks");
    if (cJSON_IsString(cJSON_GetObjectItem(mpi, "library")))
        printf("mpi: built in (%s); %d rank%s%s\n", str(mpi, "library"), ranks, ranks == 1 ? "" : "s",
               ranks > 1 ? " under mpirun" : " (not under mpirun)");
    else
        printf("mpi: not built in (cmake -DREEL_MPI=ON with Open MPI installed)\n");
    print_devices(cJSON_GetObjectItem(j, "devices"));
}

/* A scalar as a person reads it: text bare, numbers to 6 digits unless
 * exact (params are shown as stored, to be typed back). */
static void print_scalar(const cJSON *v, int exact)
{
    if (cJSON_IsString(v))
        fputs(v->valuestring, stdout);
    else if (cJSON_IsNumber(v) && !exact)
        printf("%.6g", v->valuedouble);
    else {
        char *s = cJSON_PrintUnformatted(v);
        fputs(s ? s : "?", stdout);
        cJSON_free(s);
    }
}

static int is_scalar(const cJSON *v) { return !cJSON_IsObject(v) && !cJSON_IsArray(v); }

/* An object or array flattened to "k v, k v" (an array: "a, b") on one line. */
static void print_inline(const cJSON *v, int exact)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (it != v->child)
            fputs(", ", stdout);
        if (cJSON_IsObject(v))
            printf("%s ", it->string);
        if (is_scalar(it))
            print_scalar(it, exact);
        else {
            fputs(cJSON_IsArray(it) ? "[" : "{", stdout);
            print_inline(it, exact);
            fputs(cJSON_IsArray(it) ? "]" : "}", stdout);
        }
    }
}

/* "key:" then the object's members one a line, indented by depth; a list
 * of scalars on one line; a list of objects one item a line. */
static void print_block(const char *key, const cJSON *v, int depth, int exact)
{
    printf("%*s%s:", 2 * depth, "", key);
    if (is_scalar(v)) {
        putchar(' ');
        print_scalar(v, exact);
        putchar('\n');
        return;
    }
    int flat = cJSON_IsArray(v);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) flat = flat && is_scalar(it);
    if (flat) {
        putchar(' ');
        print_inline(v, exact);
        putchar('\n');
        return;
    }
    putchar('\n');
    cJSON_ArrayForEach(it, v)
    {
        if (cJSON_IsObject(v)) {
            print_block(it->string, it, depth + 1, exact);
            continue;
        }
        printf("%*s- ", 2 * depth + 2, "");
        if (is_scalar(it))
            print_scalar(it, exact);
        else
            print_inline(it, exact);
        putchar('\n');
    }
}

/* What a model file holds: the metadata, then each label and feature. */
static void print_model_file(const cJSON *j)
{
    const cJSON *features = cJSON_GetObjectItem(j, "features"), *labels = cJSON_GetObjectItem(j, "labels");
    printf("%s: reel model, format %d\n", str(j, "path"), (int)num(j, "format_version"));
    printf("model: %s (kind %s), %d features -> %d labels\n", str(j, "model"), str(j, "kind"),
           cJSON_GetArraySize(features), cJSON_GetArraySize(labels));
    print_block("params", cJSON_GetObjectItem(j, "params"), 0, 1);
    if (cJSON_IsString(cJSON_GetObjectItem(j, "description")))
        printf("%s\n", str(j, "description"));
    printf("decision rule: %s\nlabels:", str(j, "decision_rule"));
    const cJSON *th = cJSON_GetObjectItem(j, "thresholds"), *it;
    int k = 0;
    cJSON_ArrayForEach(it, labels)
    {
        if (cJSON_IsArray(th)) /* the expected-F1 rules have no cuts */
            printf(" %s (threshold %g)", it->valuestring, cJSON_GetArrayItem(th, k++)->valuedouble);
        else
            printf(" %s", it->valuestring);
    }
    printf("\nfeatures:");
    cJSON_ArrayForEach(it, features)
        printf(" %s", it->valuestring);
    printf("\n");
    const char *keys[] = {"reel_version", "training", "dataset"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (!v)
            continue;
        print_block(keys[i], v, 0, 0);
    }
}

int reel_cmd_info(int argc, char **argv)
{
    reel_optset s = {0};
    cli_error err;
    const char *model_file = NULL;
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "describe a saved model instead");
    int r = reel_parse("info", "[--model-file FILE]", &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *o = cJSON_CreateObject();
    if (model_file)
        cJSON_AddStringToObject(o, "model_file", model_file);
    reel_task *t = reel_cli_task("info", o);
    cJSON_Delete(o);
    int rc = reel_cli_run(t, "info");
    if (rc)
        return rc;
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    if (model_file)
        print_model_file(doc);
    else
        print_build(doc);
    cJSON_Delete(doc);
    reel_task_free(t);
    return REEL_EXIT_OK;
}
