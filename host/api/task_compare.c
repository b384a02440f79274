/* The "compare" task: `reel compare` as a function. Every chosen model is
 * trained on one split and scored on its test rows (eval/compare.h); the
 * document is the leaderboard; "out" gets metrics.json, the predictions,
 * the nets' histories and the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/task.h"
#include "dist/dist.h"
#include "eval/compare.h"
#include "io/predictions.h"
#include "store/params_file.h"
#include "tune/scorer.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/outputs.h"

static const char *const KEYS[] = {
    "data", "labels", "label_column", "label_sep", "target", "id", "split_column", "keep_unlabeled", "features",
    "mixed_columns", "column_types", "encoding", "sep", "top_categories", "seed", "test_fraction",
    "valid_fraction", "threads", "device", "decision", "decision_rows", "quiet", "models", "params", "params_file",
    "epochs", "batch_size", "lr", "out", "checkpoint", "metric", "command", NULL};

typedef struct {
    api_opts o;
    reel_data_opts data;
    const char *models, *params_file, *out, *checkpoint, *metric, *command;
    int quiet, names_flags;
    double net[3]; /* epochs, batch_size, lr; NaN: not given */
    char *list;    /* models, split at the commas into names */
    char **names;
    size_t n;
    cJSON *params; /* {"model": {params}} */
    reel_prepared p;
    int have_p;
    reel_compare_results res;
} compare_job;

/* The models named (NULL: the definitions marked "default_compare"), each
 * checked before any work. */
static int model_list(compare_job *j, reel_error *err)
{
    size_t cap = 1;
    for (const char *const *n = reel_model_names(); *n; n++)
        cap += strlen(*n) + 1;
    j->list = j->models ? strdup(j->models) : calloc(cap, 1);
    if (j->list && !j->models)
        for (const char *const *n = reel_model_names(); *n; n++)
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reel_model_def(*n), "default_compare")))
                strcat(strcat(j->list, *j->list ? "," : ""), *n);
    if (!j->list || !(j->names = calloc(strlen(j->list) / 2 + 1, sizeof *j->names)))
        return reel_fail(err, "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(j->list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!reel_model_def(tok))
            return reel_fail(err, "unknown model '%s'; valid models: %s", tok, reel_model_name_list());
        j->names[j->n++] = tok;
    }
    if (j->n == 0)
        return reel_fail(err, "%s names no model", api_option_name(j->names_flags, "models"));
    return 0;
}

/* epochs, batch_size and lr over the params, for every model that has the
 * parameter (the nets); refused when none of them has it. */
static int net_overrides(compare_job *j, reel_error *err)
{
    static const char *const key[] = {"epochs", "batch_size", "lr"};
    int f = j->names_flags;
    for (size_t k = 0; k < 3; k++)
        if (!isnan(j->net[k]) && j->net[k] <= 0)
            return reel_fail(err, "%s, %s and %s must be positive", api_option_name(f, "epochs"),
                             api_option_name(f, "batch_size"), api_option_name(f, "lr"));
    for (size_t k = 0; k < 3; k++) {
        if (isnan(j->net[k]))
            continue;
        int applied = 0;
        for (size_t i = 0; i < j->n; i++) {
            cJSON *mp = cJSON_GetObjectItemCaseSensitive(j->params, j->names[i]);
            if (!mp)
                mp = cJSON_AddObjectToObject(j->params, j->names[i]);
            applied += reel_params_override(mp, j->names[i], key[k], j->net[k]);
        }
        if (!applied)
            return reel_fail(err, "%s applies to the nets, and %s names none", api_option_name(f, key[k]),
                             api_option_name(f, "models"));
    }
    return 0;
}

/* The options, checked before any work (API_REFUSED), and the params. */
static int read_options(reel_task *t, compare_job *j, reel_error *err)
{
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(t->options, "params");
    if (task_check_keys(t, KEYS, err) || task_run_opts(t, KEYS, 0.2, &j->o, &j->o.device, err) ||
        task_data_opts(t, &j->data, err) || task_string(t, "models", &j->models, err) ||
        task_string(t, "params_file", &j->params_file, err) || task_string(t, "out", &j->out, err) ||
        task_string(t, "checkpoint", &j->checkpoint, err) || task_string(t, "metric", &j->metric, err) ||
        task_string(t, "command", &j->command, err) || task_bool(t, "quiet", &j->quiet, err) ||
        task_number(t, "epochs", &j->net[0], err) || task_number(t, "batch_size", &j->net[1], err) ||
        task_number(t, "lr", &j->net[2], err))
        return API_REFUSED;
    if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
        return reel_fail(err, "options: key 'params' must be a JSON object"), API_REFUSED;
    if (t->data && reel_data_labels(t->data) == 0)
        return reel_fail(err, "compare needs data with labels"), API_REFUSED;
    if (model_list(j, err))
        return API_REFUSED;
    if (j->metric && !reel_metric_known(j->metric))
        return reel_fail(err, "%s must be samples-f1, micro-f1 or macro-f1 (binary and multi-class targets: "
                         "accuracy, macro-f1; binary also f1, roc-auc), got '%s'",
                         api_option_name(j->names_flags, "metric"), j->metric), API_REFUSED;
    if (api_device_check((const char *const *)j->names, j->n, j->o.device, j->names_flags, err))
        return API_REFUSED;
    j->params = params && cJSON_IsObject(params) ? cJSON_Duplicate(params, 1)
                : j->params_file                   ? reel_read_params_by_model(j->params_file, err)
                                                   : cJSON_CreateObject();
    if (!j->params)
        return -1;
    if (net_overrides(j, err))
        return API_REFUSED;
    if (j->checkpoint && reel_dist_size() > 1)
        return reel_fail(err, "%s works in one process; run it without mpirun",
                         api_option_name(j->names_flags, "checkpoint")), API_REFUSED;
    return 0;
}

/* The data: read (and reported) or borrowed, split, preprocessed. */
static int prepare(reel_task *t, compare_job *j, const reel_log *log, reel_error *err)
{
    reel_prepare_opts po = {.data = j->data,
                            .split = {.seed = j->o.seed, .test_fraction = j->o.test_fraction,
                                      .valid_fraction = j->o.valid_fraction},
                            .top_k = j->o.top_k};
    po.data.log = log;
    if (t->data ? reel_prepare_borrowed(&j->p, &t->data->ds, &po, err) : reel_prepare(&j->p, &po, err))
        return -1;
    j->have_p = 1;
    const reel_prepared *p = &j->p;
    if (!j->quiet) {
        if (!t->data)
            reel_log_msg(log, REEL_LOG_INFO, "%s: %zu rows (%zu train, %zu valid, %zu test), %zu feature columns "
                         "(%zu inputs once encoded), %zu labels; loaded in %.2f s", p->ds.csv_path, p->ds.n,
                         p->train.n, p->valid.n, p->test.n, p->ds.n_features, p->d, p->L, p->load_seconds);
        reel_prepared_warn(p, log);
    }
    reel_prepared_warn_untested(p, log);
    return 0;
}

/* The out folder's files, into its stage: metrics.json (the document),
 * predictions_<model>.csv, history_<model>.csv of the nets trained on
 * other ranks (the others wrote theirs as they trained), the report. */
static int write_out(const char *dir, const compare_job *j, const cJSON *doc, reel_error *err)
{
    const reel_prepared *p = &j->p;
    const reel_compare_results *r = &j->res;
    char *path = reel_path_join(dir, "metrics.json");
    int rc = path ? reel_write_json_file(path, doc, err) : reel_fail(err, "out of memory");
    free(path);
    for (size_t i = 0; i < r->done && rc == 0; i++) {
        char name[256];
        snprintf(name, sizeof name, "predictions_%s.csv", r->runs[i].model.name);
        path = reel_path_join(dir, name);
        rc = path ? reel_write_predictions(path, &p->ds, p->test.rows, p->test.n, p->test.Y, r->runs[i].pred,
                                           r->runs[i].P, err)
                  : reel_fail(err, "out of memory");
        free(path);
    }
    for (size_t i = 0; i < r->done && rc == 0; i++) {
        if (r->runs[i].model.state || !r->runs[i].history.csv)
            continue;
        char name[256];
        snprintf(name, sizeof name, "history_%s.csv", r->runs[i].model.name);
        path = reel_path_join(dir, name);
        rc = path ? reel_write_file_atomic(path, r->runs[i].history.csv, err) : reel_fail(err, "out of memory");
        free(path);
    }
    if (rc == 0 && p->test.n > 0)
        rc = reel_compare_report(dir, p, r, j->o.seed, j->command, err);
    return rc;
}

/* Every output checked before the first fit (not an input, not another
 * output; out is staged), the models run, the document made and out
 * written. A model that failed fails the run after the others' results
 * are kept and written. */
static int run(reel_task *t, compare_job *j, reel_error *err)
{
    reel_log log = api_log();
    if (prepare(t, j, &log, err))
        return -1;
    const char *metric = j->metric ? j->metric : reel_compare_default_metric(j->p.ds.target);
    if (reel_metric_fits(metric, j->p.ds.target, err))
        return API_REFUSED;
    int f = j->names_flags, rc = -1;
    reel_run_files rf;
    reel_outdir od = {0};
    reel_run_files_init(&rf, &log);
    if (reel_run_input(&rf, api_option_name(f, "data"), t->data ? NULL : j->data.data, err) ||
        reel_run_input(&rf, api_option_name(f, "data"), t->data ? NULL : j->p.ds.csv_path, err) ||
        reel_run_input(&rf, api_option_name(f, "features"), t->data ? NULL : j->data.features, err) ||
        reel_run_input(&rf, api_option_name(f, "params_file"), j->params_file, err) ||
        reel_run_output_folder(&rf, api_option_name(f, "checkpoint"), j->checkpoint, err) ||
        (j->out && reel_outdir_begin(&od, &rf, j->out, err)))
        goto done;
    reel_compare_job cj = {j->names, j->n, j->params,
                           {j->o.seed, j->o.threads, j->o.device, &log, od.stage, j->o.decision, j->checkpoint,
                            j->o.decision_rows},
                           j->quiet};
    if (reel_compare_run(&j->p, &cj, &j->res, err))
        goto done;
    if (j->res.done == 0) {
        reel_fail(err, "every model failed");
        goto done;
    }
    cJSON *doc = reel_compare_json(&j->p, &j->res, metric);
    if (!doc || task_finish(t, doc, err) ||
        (j->out && (write_out(od.stage, j, doc, err) || reel_outdir_commit(&od, err)))) {
        cJSON_Delete(doc);
        free(t->result); /* nothing half-made: no document beside a failed --out */
        t->result = NULL;
        if (!doc)
            reel_fail(err, "out of memory");
        goto done;
    }
    cJSON_Delete(doc);
    if (j->out)
        reel_log_msg(&log, REEL_LOG_INFO, "wrote %s/metrics.json, report.html, report.md and %zu prediction files",
                     j->out, j->res.done);
    if (j->res.n_failed) { /* the document stays: the models that worked, and the failed */
        if (f)
            reel_fail(err, "%zu of %zu models failed (see above)", j->res.n_failed, j->n);
        else
            reel_fail(err, "%zu of %zu models failed; %s: %s", j->res.n_failed, j->n, j->res.failed[0],
                      j->res.failed_msg[0] ? j->res.failed_msg[0] : "out of memory");
        goto done;
    }
    rc = 0;
done:
    reel_outdir_abort(&od); /* on success the stage is already in place */
    reel_run_files_free(&rf);
    return rc;
}

int task_compare(reel_task *t, reel_error *err)
{
    compare_job j = {.net = {NAN, NAN, NAN}, .names_flags = t->flag_names};
    int rc = read_options(t, &j, err);
    if (rc == 0)
        rc = run(t, &j, err);
    reel_compare_results_free(&j.res);
    if (j.have_p)
        reel_prepared_free(&j.p);
    cJSON_Delete(j.params);
    free(j.names);
    free(j.list);
    api_opts_free(&j.o);
    return rc;
}
