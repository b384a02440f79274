/* reel_task: the commands as functions (reel.h). A task keeps its options
 * (JSON), optional rows in memory, and what its run made: the JSON
 * document and, for train, the model. Each task's run reads its options
 * with the helpers of api/task.h. */
#include "api/task.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"

static const struct {
    const char *name;
    int (*run)(reel_task *t, reel_error *err);
} tasks[] = {
    {"train", task_train},
    {"export", task_export},
    {"info", task_info},
    {"decide", task_decide},
    {"predict", task_predict},
    {"search", task_search},
    {"select", task_select},
    {"compare", task_compare},
};

reel_task *reel_task_new(const char *name, const char *options_json)
{
    reel_error err;
    size_t k = 0;
    while (k < sizeof tasks / sizeof *tasks && !(name && strcmp(name, tasks[k].name) == 0))
        k++;
    if (k == sizeof tasks / sizeof *tasks) {
        char list[256] = "";
        for (size_t i = 0, n = 0; i < sizeof tasks / sizeof *tasks; i++)
            n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", i ? ", " : "",
                                  tasks[i].name);
        reel_fail(&err, "unknown task '%s'; valid tasks: %s", name ? name : "(null)", list);
        api_fail(&err);
        return NULL;
    }
    reel_task *t = calloc(1, sizeof *t);
    if (!t) {
        api_fail(&(reel_error){"out of memory"});
        return NULL;
    }
    t->run = tasks[k].run;
    t->name = tasks[k].name;
    if (!(t->options = api_parse_object(options_json, "options", &err))) {
        free(t);
        api_fail(&err);
        return NULL;
    }
    return t;
}

int reel_task_set_data(reel_task *t, const reel_data *data)
{
    if (!t)
        return api_bad_arg("reel_task_set_data", "the task is NULL");
    t->data = data;
    return 0;
}

int reel_task_name_flags(reel_task *t, int on)
{
    if (!t)
        return api_bad_arg("reel_task_name_flags", "the task is NULL");
    t->flag_names = on != 0;
    return 0;
}

/* What a run made, gone before the next run and with the task. */
static void clear_results(reel_task *t)
{
    free(t->result);
    t->result = NULL;
    reel_classifier_free(t->classifier);
    t->classifier = NULL;
    for (size_t i = 0; t->ids && i < t->rows; i++)
        free(t->ids[i]);
    free(t->ids);
    free(t->P);
    free(t->pred);
    t->ids = NULL;
    t->P = NULL;
    t->pred = NULL;
    t->rows = 0;
}

int reel_task_run(reel_task *t)
{
    if (!t)
        return api_bad_arg("reel_task_run", "the task is NULL");
    reel_error err = {{0}};
    clear_results(t);
    int rc = t->run(t, &err);
    if (rc) {
        api_fail(&err);
        return rc == API_REFUSED ? REEL_TASK_REFUSED : -1;
    }
    return 0;
}

const char *reel_task_result(const reel_task *t)
{
    if (!t)
        api_bad_arg("reel_task_result", "the task is NULL");
    return t ? t->result : NULL;
}

reel_classifier *reel_task_take_classifier(reel_task *t)
{
    if (!t) {
        api_bad_arg("reel_task_take_classifier", "the task is NULL");
        return NULL;
    }
    reel_classifier *c = t->classifier;
    t->classifier = NULL;
    return c;
}

size_t reel_task_rows(const reel_task *t)
{
    return t ? t->rows : (api_bad_arg("reel_task_rows", "the task is NULL"), 0);
}

const char *reel_task_row_id(const reel_task *t, size_t i)
{
    if (!t || !t->ids || i >= t->rows) {
        api_bad_arg("reel_task_row_id", !t ? "the task is NULL" : "i is past the last row");
        return NULL;
    }
    return t->ids[i];
}

const float *reel_task_probabilities(const reel_task *t)
{
    return t && t->ids ? t->P : NULL;
}

const unsigned char *reel_task_decisions(const reel_task *t)
{
    return t && t->ids ? t->pred : NULL;
}

void reel_task_free(reel_task *t)
{
    if (!t)
        return;
    clear_results(t);
    cJSON_Delete(t->options);
    free(t);
}

/* ---- reading a task's options ---- */

int task_check_keys(const reel_task *t, const char *const *keys, reel_error *err)
{
    for (const cJSON *it = t->options->child; it; it = it->next) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], it->string))
            k++;
        if (keys[k])
            continue;
        char list[1024] = "";
        size_t n = 0;
        for (k = 0; keys[k]; k++)
            n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", k ? ", " : "", keys[k]);
        return reel_fail(err, "options: unknown key '%s'; valid keys: %s", it->string, list);
    }
    return 0;
}

int task_string(const reel_task *t, const char *key, const char **out, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->options, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return reel_fail(err, "options: key '%s' must be a string", key);
    *out = v->valuestring;
    return 0;
}

int task_bool(const reel_task *t, const char *key, int *out, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->options, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return reel_fail(err, "options: key '%s' must be true or false", key);
    *out = cJSON_IsTrue(v);
    return 0;
}

int task_number(const reel_task *t, const char *key, double *out, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->options, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return reel_fail(err, "options: key '%s' must be a number", key);
    *out = v->valuedouble;
    return 0;
}

int task_seed(const reel_task *t, uint64_t *seed, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->options, "seed");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 18446744073709549568.0) {
        *seed = (uint64_t)v->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(v))
        return v ? reel_fail(err, "options: key 'seed' must be a non-negative integer") : 0;
    const char *s = v->valuestring;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno)
        return reel_fail(err, "options: key 'seed' must be a non-negative integer, got '%s'", s);
    *seed = (uint64_t)n;
    return 0;
}

int task_run_opts(const reel_task *t, const char *const *keys, double test_fraction, api_opts *o,
                  const char **device, reel_error *err)
{
    /* api_opts_parse reads the keys every call shares; the seed may be a
     * string (past 2^53) and the device is checked by the task. */
    static const char *const shared[] = {"seed", "threads", "valid_fraction", "test_fraction", "top_categories",
                                         "decision", "decision_rows", "folds", "metric", "budget", NULL};
    cJSON *common = cJSON_CreateObject();
    for (const cJSON *it = t->options->child; it; it = it->next)
        for (size_t k = 0; keys[k]; k++)
            for (size_t i = 0; shared[i]; i++)
                if (strcmp(keys[k], it->string) == 0 && strcmp(shared[i], it->string) == 0 &&
                    !(strcmp(it->string, "seed") == 0 && cJSON_IsString(it)))
                    cJSON_AddItemToObject(common, it->string, cJSON_Duplicate(it, 1));
    char *text = cJSON_PrintUnformatted(common);
    cJSON_Delete(common);
    int rc = text ? api_opts_parse_named(o, text, test_fraction, t->flag_names, err) : reel_fail(err, "out of memory");
    cJSON_free(text);
    if (rc)
        return -1;
    if (task_seed(t, &o->seed, err))
        return -1;
    *device = "auto";
    return task_string(t, "device", device, err);
}

int task_encoding(const reel_task *t, const char *encoding, reel_error *err)
{
    char what[64];
    if (encoding && strcmp(encoding, "utf-8") && strcmp(encoding, "latin-1"))
        return reel_fail(err, "%s must be utf-8 or latin-1, got '%s'",
                         api_option_subject(t->flag_names, "encoding", what, sizeof what), encoding);
    return 0;
}

int task_data_opts(const reel_task *t, reel_data_opts *d, reel_error *err)
{
    memset(d, 0, sizeof *d);
    const char *mixed = NULL, *encoding = NULL, *sep = NULL;
    if (task_string(t, "data", &d->data, err) || task_string(t, "labels", (const char **)&d->labels, err) ||
        task_string(t, "label_column", (const char **)&d->label_column, err) ||
        task_string(t, "label_sep", (const char **)&d->label_sep, err) || task_string(t, "target", &d->target, err) ||
        task_string(t, "id", (const char **)&d->id, err) ||
        task_string(t, "split_column", (const char **)&d->split_column, err) ||
        task_string(t, "features", &d->features, err) || task_string(t, "mixed_columns", &mixed, err) ||
        task_string(t, "column_types", &d->column_types, err) || task_string(t, "encoding", &encoding, err) ||
        task_string(t, "sep", &sep, err) || task_bool(t, "keep_unlabeled", &d->keep_unlabeled, err))
        return -1;
    char what[64];
    if (mixed && reel_mixed_mode_parse(mixed, &d->mixed))
        return reel_fail(err, "%s must be missing, error or text, got '%s'",
                         api_option_subject(t->flag_names, "mixed_columns", what, sizeof what), mixed);
    if (task_encoding(t, encoding, err))
        return -1;
    if (sep && reel_sep_parse(sep, &d->sep, api_option_subject(t->flag_names, "sep", what, sizeof what), err))
        return -1;
    d->latin1 = encoding && strcmp(encoding, "latin-1") == 0;
    if (d->column_types && reel_column_types_check(d->column_types, err))
        return -1;
    return 0;
}

int task_finish(reel_task *t, const cJSON *doc, reel_error *err)
{
    if (!(t->result = api_print(doc)))
        return reel_fail(err, "out of memory");
    return 0;
}
