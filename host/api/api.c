/* The library-wide part of the C API: version, last error, log, options. */
#include "api/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"
#include "eval/decision.h"
#include "eval/oof.h"
#include "nn/device.h"
#include "util/threads.h"


static _Thread_local char last_error[1024];

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static reel_log process_log;

const char *reel_version(void) { return REEL_VERSION; }

const char *reel_last_error(void) { return last_error; }

void reel_free(void *p) { free(p); }

void reel_set_log(reel_log_fn fn, void *user, reel_log_level min_level)
{
    pthread_mutex_lock(&log_lock);
    process_log = (reel_log){.fn = fn, .user = user, .min_level = min_level};
    pthread_mutex_unlock(&log_lock);
}

reel_log api_log(void)
{
    pthread_mutex_lock(&log_lock);
    reel_log l = process_log;
    pthread_mutex_unlock(&log_lock);
    return l;
}

int api_fail(const reel_error *err)
{
    snprintf(last_error, sizeof last_error, "%s", err->msg);
    return -1;
}

int api_bad_arg(const char *fn, const char *why)
{
    snprintf(last_error, sizeof last_error, "%s: %s", fn, why);
    return -1;
}

cJSON *api_parse_object(const char *json, const char *what, reel_error *err)
{
    if (!json || !*json)
        return cJSON_CreateObject();
    cJSON *doc = cJSON_Parse(json);
    if (!cJSON_IsObject(doc)) {
        const char *at = cJSON_GetErrorPtr();
        reel_fail(err, "%s: not a JSON object%s%.40s", what, doc || !at ? "" : " near: ", doc || !at ? "" : at);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

char *api_print(const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    char *out = text ? strdup(text) : NULL; /* freed with reel_free, whatever cJSON's allocator */
    cJSON_free(text);
    return out;
}

static const char *const OPTION_KEYS =
    "seed, threads, device, valid_fraction, test_fraction, top_categories, decision, decision_rows, folds, metric, "
    "budget";

static int number(const cJSON *v, const char *key, double lo, double hi, double *out, reel_error *err)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
        return reel_fail(err, "options: key '%s' must be a number >= %g and <= %g", key, lo, hi);
    *out = v->valuedouble;
    return 0;
}

/* The ranges are the CLI's for every front end: fractions in [0, 1),
 * top_categories >= 1. */
int api_opts_parse_named(api_opts *o, const char *json, double test_fraction, int flag_names, reel_error *err)
{
    *o = (api_opts){.seed = 42, .device = "auto", .valid_fraction = 0.1, .test_fraction = test_fraction,
                    .top_k = 10, .metric = "samples-f1"};
    if (!(o->doc = api_parse_object(json, "options", err)))
        return -1;
    char what[64];
    for (const cJSON *it = o->doc->child; it; it = it->next) {
        const char *k = it->string;
        double v = 0;
        if (strcmp(k, "seed") == 0) {
            if (number(it, k, 0, 18446744073709549568.0, &v, err))
                return -1;
            o->seed = (uint64_t)v;
        } else if (strcmp(k, "threads") == 0) {
            if (flag_names && cJSON_IsNumber(it)) /* the flag's range, its message */
                v = it->valuedouble >= -1e9 && it->valuedouble <= 1e9 ? it->valuedouble : -1;
            else if (number(it, k, 0, REEL_THREADS_MAX, &v, err))
                return -1;
            if (flag_names && reel_threads_check("--threads", (long long)v, err))
                return -1;
            o->threads = (int)v;
        } else if (strcmp(k, "valid_fraction") == 0 || strcmp(k, "test_fraction") == 0) {
            api_option_subject(flag_names, k, what, sizeof what);
            if (!cJSON_IsNumber(it))
                return reel_fail(err, "%s must be a number", what);
            v = it->valuedouble;
            if (!(v >= 0 && v < 1))
                return reel_fail(err, "%s must be in [0, 1), got %g", what, v);
            *(k[0] == 'v' ? &o->valid_fraction : &o->test_fraction) = v;
        } else if (strcmp(k, "top_categories") == 0) {
            api_option_subject(flag_names, k, what, sizeof what);
            if (!cJSON_IsNumber(it))
                return reel_fail(err, "%s must be a number", what);
            v = it->valuedouble;
            if (!(v >= 1 && v <= 1e6))
                return reel_fail(err, "%s must be >= 1, got %g", what, v);
            o->top_k = (int)v;
        } else if (strcmp(k, "folds") == 0 || strcmp(k, "budget") == 0) {
            if (number(it, k, 0, 1e6, &v, err))
                return -1;
            *(k[0] == 'f' ? &o->folds : &o->budget) = (int)v;
        } else if (strcmp(k, "decision_rows") == 0) {
            api_option_subject(flag_names, k, what, sizeof what);
            if (!cJSON_IsString(it))
                return reel_fail(err, "%s must be auto or oof", what);
            if (!reel_decision_rows_known(it->valuestring))
                return reel_fail(err, "%s must be auto or oof, got '%s'", what, it->valuestring);
            o->decision_rows = it->valuestring;
        } else if (strcmp(k, "device") == 0 || strcmp(k, "decision") == 0 || strcmp(k, "metric") == 0) {
            if (cJSON_IsNull(it) && strcmp(k, "decision") == 0)
                continue;
            if (!cJSON_IsString(it))
                return reel_fail(err, "options: key '%s' must be a string", k);
            *(strcmp(k, "device") == 0 ? &o->device : k[0] == 'd' ? &o->decision : &o->metric) = it->valuestring;
        } else {
            return reel_fail(err, "options: unknown key '%s'; valid keys: %s", k, OPTION_KEYS);
        }
    }
    if (reel_nn_device_check(o->device, err))
        return -1;
    if (o->decision && reel_decision_check_spec(o->decision, err)) {
        reel_error inner = *err;
        return flag_names ? reel_fail(err, "--decision: %s", inner.msg) : -1;
    }
    if (o->folds == 1)
        return reel_fail(err, "options: folds must be >= 2 (or 0 for the validation split)");
    /* as the CLI's --threads: OpenMP and BLAS, for the whole process */
    if (reel_threads_set(flag_names ? "--threads" : "options: key 'threads'", o->threads, &o->threads, err))
        return -1;
    return 0;
}

int api_opts_parse(api_opts *o, const char *json, double test_fraction, reel_error *err)
{
    return api_opts_parse_named(o, json, test_fraction, 0, err);
}

void api_opts_free(api_opts *o)
{
    cJSON_Delete(o->doc);
    o->doc = NULL;
}

const char *api_option_name(int flag_names, const char *key)
{
    static const struct {
        const char *key, *flag;
    } names[] = {{"data", "--data"},         {"features", "--features"},     {"params_file", "--params"},
                 {"save", "--save"},         {"out", "--out"},               {"checkpoint", "--checkpoint"},
                 {"epochs", "--epochs"},     {"batch_size", "--batch-size"}, {"lr", "--lr"},
                 {"model_file", "--model-file"}, {"net_only", "--net-only"},
                 {"labels", "--labels"},     {"decision", "--decision"},
                 {"decision_rows", "--decision-rows"},
                 {"id", "--id"},             {"missing_columns", "--missing-columns"},
                 {"model", "--model"},       {"metric", "--metric"},         {"folds", "--folds"},
                 {"grid_file", "--grid"},    {"strategy", "--strategy"},     {"budget", "--budget"},
                 {"journal", "--journal"},   {"resume", "--resume"},         {"method", "--method"},
                 {"models", "--models"},     {"device", "--device"},
                 {"threads", "--threads"},   {"test_fraction", "--test-fraction"},
                 {"valid_fraction", "--valid-fraction"}, {"top_categories", "--top-categories"},
                 {"mixed_columns", "--mixed-columns"},   {"encoding", "--encoding"},
                 {"sep", "--sep"}};
    for (size_t i = 0; flag_names && i < sizeof names / sizeof *names; i++)
        if (strcmp(names[i].key, key) == 0)
            return names[i].flag;
    return key;
}

const char *api_option_subject(int flag_names, const char *key, char *buf, size_t size)
{
    if (flag_names)
        snprintf(buf, size, "%s", api_option_name(1, key));
    else
        snprintf(buf, size, "options: key '%s'", key);
    return buf;
}
