/* The whole-dataset calls of the C API (compare, search, select): the
 * CLI's commands without the printing, returning their JSON documents.
 * search and select run their tasks (api/task_tune.c), as the CLI does. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "data/prepared.h"
#include "eval/run.h"
#include "reel.h"

/* Options, the split and the preprocessing shared by the three. */
typedef struct {
    api_opts o;
    reel_prepared p;
    int have_p;
    reel_log log;
} task;

static int task_begin(task *t, const reel_data *data, const char *options_json, reel_error *err)
{
    memset(t, 0, sizeof *t);
    t->log = api_log();
    if (api_opts_parse(&t->o, options_json, 0.2, err))
        return -1;
    if (!data || data->ds.L == 0)
        return reel_fail(err, "this task needs data with labels");
    reel_prepare_opts po = {.split = {.seed = t->o.seed, .test_fraction = t->o.test_fraction,
                                      .valid_fraction = t->o.valid_fraction},
                            .top_k = t->o.top_k};
    if (reel_prepare_borrowed(&t->p, &data->ds, &po, err))
        return -1;
    t->have_p = 1;
    reel_prepared_warn(&t->p, &t->log);
    return 0;
}

static char *task_end(task *t, cJSON *doc, const reel_error *err)
{
    if (t->have_p)
        reel_prepared_free(&t->p);
    api_opts_free(&t->o);
    if (!doc) {
        api_fail(err);
        return NULL;
    }
    char *s = api_print(doc);
    cJSON_Delete(doc);
    return s;
}

static int check_model(const char *model, reel_error *err)
{
    if (!model || !reel_model_def(model))
        return reel_fail(err, "unknown model '%s'; valid models: %s", model ? model : "(null)",
                         reel_model_name_list());
    return 0;
}

char *reel_compare_models(const reel_data *data, const char *models, const char *params_json,
                          const char *options_json)
{
    reel_error err = {{0}};
    task t;
    cJSON *doc = NULL, *params = NULL;
    char *list = NULL, **names = NULL;
    const cJSON **pp = NULL;
    reel_run *runs = NULL;
    int *done = NULL;
    size_t n = 0;
    if (task_begin(&t, data, options_json, &err) || !(params = api_parse_object(params_json, "params", &err)))
        goto done;
    reel_prepared_warn_untested(&t.p, &t.log); /* search and select warn as they score the test rows */
    if (models) {
        list = strdup(models);
    } else { /* the definitions marked for the default compare */
        size_t cap = 1;
        for (const char *const *n = reel_model_names(); *n; n++)
            cap += strlen(*n) + 1;
        if ((list = calloc(cap, 1)))
            for (const char *const *n = reel_model_names(); *n; n++)
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reel_model_def(*n), "default_compare")))
                    strcat(strcat(list, *list ? "," : ""), *n);
    }
    if (!list) {
        reel_fail(&err, "out of memory");
        goto done;
    }
    size_t total = strlen(list);
    char *save = NULL;
    for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (check_model(m, &err))
            goto done;
    doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "dataset", reel_dataset_json(&t.p));
    cJSON *arr = cJSON_AddArrayToObject(doc, "models");
    reel_run_opts ro = {t.o.seed, t.o.threads, t.o.device, &t.log, NULL, t.o.decision, NULL};
    size_t k = total + 1;
    names = calloc(k, sizeof *names);
    pp = calloc(k, sizeof *pp);
    runs = calloc(k, sizeof *runs);
    done = calloc(k, sizeof *done);
    if (!names || !pp || !runs || !done) {
        reel_fail(&err, "out of memory");
        goto fail;
    }
    for (char *m = list; m < list + total; m += strlen(m) + 1)
        if (*m) { /* not between two commas */
            names[n] = m;
            pp[n++] = cJSON_GetObjectItemCaseSensitive(params, m);
        }
    /* the nets that train together on a device first, as the CLI's compare */
    if (reel_run_nets_first(&t.p, names, pp, n, &ro, runs, done, &err))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!done[i] && reel_run_model(&runs[i], &t.p, names[i], pp[i], &ro, &err))
            goto fail;
        done[i] = 1;
        cJSON_AddItemToArray(arr, reel_run_to_json(&runs[i], t.p.ds.labels));
    }
    goto done;
fail:
    cJSON_Delete(doc);
    doc = NULL;
done:
    for (size_t i = 0; runs && i < n; i++)
        if (done[i])
            reel_run_free(&runs[i]);
    free(names);
    free(pp);
    free(runs);
    free(done);
    free(list);
    cJSON_Delete(params);
    return task_end(&t, doc, &err);
}

/* The task `name` (reel search or select, api/task_tune.c) on data with
 * options_json and the call's own options (own, taken): its document for
 * the caller (reel_free), or NULL. */
static char *run_task(const char *name, const reel_data *data, const char *options_json, cJSON *own)
{
    reel_error err = {{0}};
    cJSON *o = api_parse_object(options_json, "options", &err);
    char *text = NULL, *doc = NULL;
    if (o && !data)
        reel_fail(&err, "this task needs data with labels");
    for (cJSON *it = o && data ? own->child : NULL; it; it = it->next)
        if (!cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(o, it->string);
            cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
        }
    if (o && data && !(text = cJSON_PrintUnformatted(o)))
        reel_fail(&err, "out of memory");
    cJSON_Delete(o);
    cJSON_Delete(own);
    if (!text) {
        api_fail(&err);
        return NULL;
    }
    reel_task *t = reel_task_new(name, text);
    cJSON_free(text);
    if (t && reel_task_set_data(t, data) == 0 && reel_task_run(t) == 0 && !(doc = strdup(reel_task_result(t))))
        api_fail(&(reel_error){"out of memory"});
    reel_task_free(t);
    return doc;
}

/* A JSON argument as an option (NULL: absent); on a parse error, null
 * with the message in err. */
static void add_json(cJSON *own, const char *key, const char *json, reel_error *err)
{
    cJSON *v = json ? api_parse_object(json, key, err) : NULL;
    cJSON_AddItemToObject(own, key, v ? v : cJSON_CreateNull());
}

char *reel_search_params(const reel_data *data, const char *model, const char *grid_json, const char *strategy,
                         const char *params_json, const char *options_json)
{
    reel_error err = {{0}};
    cJSON *own = cJSON_CreateObject();
    cJSON_AddItemToObject(own, "model", model ? cJSON_CreateString(model) : cJSON_CreateNull());
    cJSON_AddItemToObject(own, "strategy", strategy ? cJSON_CreateString(strategy) : cJSON_CreateNull());
    add_json(own, "grid", grid_json, &err);
    add_json(own, "params", params_json, &err);
    if (err.msg[0]) {
        cJSON_Delete(own);
        api_fail(&err);
        return NULL;
    }
    return run_task("search", data, options_json, own);
}

char *reel_select_features(const reel_data *data, const char *model, const char *method, const char *params_json,
                           const char *options_json)
{
    reel_error err = {{0}};
    cJSON *own = cJSON_CreateObject();
    cJSON_AddItemToObject(own, "model", model ? cJSON_CreateString(model) : cJSON_CreateNull());
    cJSON_AddItemToObject(own, "method", method ? cJSON_CreateString(method) : cJSON_CreateNull());
    add_json(own, "params", params_json, &err);
    if (err.msg[0]) {
        cJSON_Delete(own);
        api_fail(&err);
        return NULL;
    }
    return run_task("select", data, options_json, own);
}
