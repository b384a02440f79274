/* The whole-dataset tasks of the C API (compare, search, select): the
 * CLI's commands without the printing, returning their JSON documents. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "data/prepared.h"
#include "eval/run.h"
#include "reel.h"
#include "tune/search.h"
#include "tune/select.h"

/* Options, the split and the preprocessing shared by the three. */
typedef struct {
    api_opts o;
    reel_prepared p;
    int have_p;
    reel_log log;
    reel_scorer sc; /* search and select: scores without the test rows */
    int have_sc;
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
    if (t->have_sc)
        reel_scorer_free(&t->sc);
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

/* task_begin, then the scorer of model over the task's data (validation
 * split or folds). */
static int task_begin_scored(task *t, const reel_data *data, const char *options_json, const char *model,
                             reel_error *err)
{
    if (task_begin(t, data, options_json, err) || check_model(model, err))
        return -1;
    if (!reel_metric_known(t->o.metric))
        return reel_fail(err, "options: metric must be samples-f1, micro-f1 or macro-f1 (binary and multi-class "
                         "targets: accuracy, macro-f1; binary also f1, roc-auc), got '%s'", t->o.metric);
    if (reel_scorer_init(&t->sc, &t->p, model, t->o.metric, t->o.folds, t->o.seed, t->o.device, err))
        return -1;
    t->have_sc = 1;
    t->sc.log = &t->log;
    t->sc.decision = t->o.decision;
    return 0;
}

char *reel_search_params(const reel_data *data, const char *model, const char *grid_json, const char *strategy,
                         const char *params_json, const char *options_json)
{
    reel_error err = {{0}};
    task t;
    cJSON *doc = NULL, *base = NULL, *grid = NULL;
    reel_search_result res = {0};
    strategy = strategy ? strategy : "one-at-a-time";
    if (task_begin_scored(&t, data, options_json, model, &err))
        goto done;
    if (!reel_strategy_known(strategy) || (strcmp(strategy, "random") == 0 && t.o.budget <= 0)) {
        reel_fail(&err, "strategy must be one-at-a-time, coordinate, grid or random (random needs the option "
                  "budget > 0), got '%s'", strategy);
        goto done;
    }
    if (!(base = api_parse_object(params_json, "params", &err)))
        goto done;
    grid = grid_json ? api_parse_object(grid_json, "grid", &err)
                     : cJSON_Duplicate(cJSON_GetObjectItem(reel_model_def(model), "grid"), 1);
    if (!grid)
        goto done;
    reel_search_opts so = {strategy, t.o.budget, t.o.threads, &t.log, NULL};
    if (reel_search(&t.sc, grid, base, &so, &res, &err))
        goto done;
    /* the best params, fitted on the training rows, scored once on the test rows */
    reel_test_score ts;
    if (reel_score_test(&t.sc, res.trials[res.best].params, NULL, t.o.threads, &ts, &err))
        goto done;
    doc = reel_search_json(&res, &t.sc, strategy, &ts);
    reel_test_score_free(&ts);
done:
    reel_search_result_free(&res);
    cJSON_Delete(base);
    cJSON_Delete(grid);
    return task_end(&t, doc, &err);
}

char *reel_select_features(const reel_data *data, const char *model, const char *method, const char *params_json,
                           const char *options_json)
{
    reel_error err = {{0}};
    task t;
    cJSON *doc = NULL, *params = NULL;
    reel_select_result res = {0};
    method = method ? method : "single-pass";
    if (task_begin_scored(&t, data, options_json, model, &err))
        goto done;
    if (!(params = api_parse_object(params_json, "params", &err)))
        goto done;
    if (reel_select(&t.sc, params, method, t.o.threads, &t.log, &res, &err))
        goto done;
    reel_test_score ts;
    if (reel_score_test(&t.sc, params, res.mask, t.o.threads, &ts, &err))
        goto done;
    doc = reel_select_json(&res, &t.sc, method, &ts);
    reel_test_score_free(&ts);
done:
    reel_select_result_free(&res);
    cJSON_Delete(params);
    return task_end(&t, doc, &err);
}
