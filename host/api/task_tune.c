/* The "search" and "select" tasks: `reel search` and `reel select` as
 * functions. Both tune a model without the test rows (tune/scorer.h), then
 * score the choice once on the test split. They share reading the options,
 * the data, the check of every input and output before the first fit, the
 * ranks' agreement under mpirun and the --out folder; search adds its
 * journal (resume). Their documents are what --format json prints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/task.h"
#include "dist/dist.h"
#include "store/params_file.h"
#include "tune/journal.h"
#include "tune/search.h"
#include "tune/select.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/outputs.h"

/* The keys both take: the data options, the run's, and the tuning's. */
#define TUNE_KEYS                                                                                                  \
    "data", "labels", "label_column", "label_sep", "target", "id", "split_column", "keep_unlabeled", "features",    \
        "mixed_columns", "column_types", "encoding", "sep", "top_categories", "seed", "test_fraction",             \
        "valid_fraction", "threads", "device", "decision", "decision_rows", "quiet", "model", "params",            \
        "params_file", "folds", "metric", "out"

static const char *const SEARCH_KEYS[] = {TUNE_KEYS, "grid", "grid_file", "strategy", "budget", "journal", "resume",
                                          NULL};
static const char *const SELECT_KEYS[] = {TUNE_KEYS, "method", NULL};
/* Those task_run_opts reads; folds, metric and budget are read here, so
 * that their messages name the CLI's flags. */
static const char *const RUN_KEYS[] = {"seed", "threads", "valid_fraction", "test_fraction", "top_categories",
                                       "decision", "decision_rows", NULL};

/* What a run holds (tune_end frees it). */
typedef struct {
    reel_task *t;
    const char *cmd; /* "search" or "select" */
    api_opts o;
    reel_data_opts data;
    const char *model, *params_file, *out, *metric;
    const cJSON *params_given; /* the option "params" (NULL: params_file's, else the defaults) */
    int folds, quiet;
    reel_log log;
    reel_prepared p;
    reel_scorer sc;
    reel_test_score ts;
    reel_run_files rf;
    reel_outdir od;
    int have_p, have_sc;
} tune_job;

static const char *flag(const tune_job *j, const char *key)
{
    return api_option_name(j->t->flag_names, key);
}

/* The decision option as given ("auto" unless given). */
static const char *decision(const tune_job *j)
{
    return j->o.decision ? j->o.decision : "auto";
}

/* An integer option, left as it is when absent. */
static int int_option(const tune_job *j, const char *key, int *out, reel_error *err)
{
    double v = NAN;
    if (task_number(j->t, key, &v, err))
        return -1;
    if (isnan(v))
        return 0;
    if (v != floor(v) || fabs(v) > 1e9)
        return reel_fail(err, "%s must be an integer, got %g", flag(j, key), v);
    *out = (int)v;
    return 0;
}

/* The options both share, checked before any work (API_REFUSED). */
static int tune_begin(tune_job *j, reel_task *t, const char *cmd, const char *const *keys, reel_error *err)
{
    memset(j, 0, sizeof *j);
    j->t = t;
    j->cmd = cmd;
    j->metric = "samples-f1";
    j->log = api_log();
    reel_run_files_init(&j->rf, &j->log);
    if (task_check_keys(t, keys, err) || task_run_opts(t, RUN_KEYS, 0.2, &j->o, &j->o.device, err) ||
        task_data_opts(t, &j->data, err) || task_string(t, "model", &j->model, err) ||
        task_string(t, "params_file", &j->params_file, err) || task_string(t, "out", &j->out, err) ||
        task_string(t, "metric", &j->metric, err) || int_option(j, "folds", &j->folds, err) ||
        task_bool(t, "quiet", &j->quiet, err))
        return API_REFUSED;
    if (!j->model)
        return reel_fail(err, "%s is required; valid models: %s", flag(j, "model"), reel_model_name_list()),
               API_REFUSED;
    if (!reel_model_def(j->model))
        return reel_fail(err, "unknown model '%s'; valid models: %s", j->model, reel_model_name_list()), API_REFUSED;
    if (!reel_metric_known(j->metric))
        return reel_fail(err, "%s must be samples-f1, micro-f1 or macro-f1 (binary and multi-class targets: "
                         "accuracy, macro-f1; binary also f1, roc-auc), got '%s'", flag(j, "metric"), j->metric),
               API_REFUSED;
    if (j->folds == 1 || j->folds < 0)
        return reel_fail(err, "%s must be >= 2 (or 0 for the validation split)", flag(j, "folds")), API_REFUSED;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(t->options, "params");
    if (params && !cJSON_IsNull(params)) {
        if (!cJSON_IsObject(params))
            return reel_fail(err, "options: key 'params' must be a JSON object"), API_REFUSED;
        if (j->params_file)
            return reel_fail(err, "options: give params or params_file, not both"), API_REFUSED;
        j->params_given = params;
    }
    if (t->data && reel_data_labels(t->data) == 0)
        return reel_fail(err, "%s needs data with labels", cmd), API_REFUSED;
    return api_device_check(&j->model, 1, j->o.device, t->flag_names, err) ? API_REFUSED : 0;
}

/* The params: the option's, the file's entry for the model, or none (the
 * defaults). NULL on error. */
static cJSON *tune_params(const tune_job *j, reel_error *err)
{
    if (j->params_given)
        return cJSON_Duplicate(j->params_given, 1);
    return j->params_file ? reel_read_params_for(j->params_file, j->model, err) : cJSON_CreateObject();
}

/* The data, read or borrowed, split and preprocessed; its files are the
 * run's first inputs. */
static int tune_prepare(tune_job *j, reel_error *err)
{
    reel_prepare_opts po = {.data = j->data,
                            .split = {.seed = j->o.seed, .test_fraction = j->o.test_fraction,
                                      .valid_fraction = j->o.valid_fraction},
                            .top_k = j->o.top_k};
    po.data.log = &j->log;
    const reel_data *mem = j->t->data;
    if (mem ? reel_prepare_borrowed(&j->p, &mem->ds, &po, err) : reel_prepare(&j->p, &po, err))
        return -1;
    j->have_p = 1;
    if (!j->quiet)
        reel_prepared_warn(&j->p, &j->log);
    return reel_run_input(&j->rf, flag(j, "data"), mem ? NULL : j->data.data, err) ||
                   reel_run_input(&j->rf, flag(j, "data"), mem ? NULL : j->p.ds.csv_path, err) ||
                   reel_run_input(&j->rf, flag(j, "features"), mem ? NULL : j->data.features, err) ||
                   reel_run_input(&j->rf, flag(j, "params_file"), j->params_file, err)
               ? -1
               : 0;
}

/* After the other outputs: the --out folder, staged; then the scorer. */
static int tune_scorer(tune_job *j, reel_error *err)
{
    if (j->out && reel_outdir_begin(&j->od, &j->rf, j->out, err))
        return -1;
    if (reel_scorer_init(&j->sc, &j->p, j->model, j->metric, j->folds, j->o.seed, j->o.device, err))
        return -1;
    j->have_sc = 1;
    j->sc.log = &j->log;
    j->sc.decision = j->o.decision;
    j->sc.decision_rows = j->o.decision_rows;
    return 0;
}

/* What decides a trial's score, with the contents of the input files (not
 * the grid's: trials are known by their params, and the grid may grow):
 * the search journal's identity, and what the ranks agree on. */
static cJSON *tune_identity(const tune_job *j, const cJSON *base, reel_error *err)
{
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "model", j->model);
    cJSON_AddItemToObject(id, "dataset", reel_dataset_json(&j->p));
    cJSON_AddNumberToObject(id, "seed", (double)j->o.seed);
    cJSON_AddNumberToObject(id, "test_fraction", j->o.test_fraction);
    cJSON_AddNumberToObject(id, "valid_fraction", j->o.valid_fraction);
    cJSON_AddNumberToObject(id, "folds", j->folds);
    cJSON_AddStringToObject(id, "metric", j->metric);
    cJSON_AddStringToObject(id, "decision", decision(j));
    cJSON_AddItemToObject(id, "base_params", cJSON_Duplicate(base, 1));
    const char *keys[] = {"data", "csv", "params", "features"};
    const reel_data *mem = j->t->data;
    const char *paths[] = {mem ? NULL : j->data.data, mem ? NULL : j->p.ds.csv_path, j->params_file,
                           mem ? NULL : j->data.features};
    if (reel_journal_identity_files(id, keys, paths, 4, err)) {
        cJSON_Delete(id);
        return NULL;
    }
    return id;
}

/* Under mpirun: every rank runs this task (the identity, the command and
 * what else it takes: grid, strategy...) on inputs of the same contents;
 * paths and devices may differ. Takes extra. */
static int ranks_agree(const tune_job *j, const cJSON *id, cJSON *extra, reel_error *err)
{
    if (reel_dist_size() <= 1) {
        cJSON_Delete(extra);
        return 0;
    }
    cJSON *task = cJSON_Duplicate(id, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(task, "dataset"), "path");
    cJSON_AddStringToObject(task, "command", j->cmd);
    if (extra)
        cJSON_AddItemToObject(task, "options", extra);
    int rc = reel_dist_agree(task, err);
    cJSON_Delete(task);
    return rc;
}

static int write_json(const char *dir, const char *name, const cJSON *doc, reel_error *err)
{
    char *path = reel_path_join(dir, name);
    int rc = path ? reel_write_json_file(path, doc, err) : reel_fail(err, "out of memory");
    free(path);
    return rc;
}

/* The document kept as the task's result, then --out written (doc and
 * extra, a second file, under their names) and put in place: a run that
 * fails wrote nothing. */
static int tune_finish(tune_job *j, const cJSON *doc, const char *name, const cJSON *extra, const char *extra_name,
                       reel_error *err)
{
    if (task_finish(j->t, doc, err))
        return -1;
    if (!j->out)
        return 0;
    if (reel_mkdir_p(j->od.stage, err) || write_json(j->od.stage, name, doc, err) ||
        (extra && write_json(j->od.stage, extra_name, extra, err)) || reel_outdir_commit(&j->od, err)) {
        free(j->t->result);
        j->t->result = NULL;
        return -1;
    }
    return 0;
}

static int tune_end(tune_job *j, int rc)
{
    reel_outdir_abort(&j->od);
    reel_run_files_free(&j->rf);
    reel_test_score_free(&j->ts);
    if (j->have_sc)
        reel_scorer_free(&j->sc);
    if (j->have_p)
        reel_prepared_free(&j->p);
    api_opts_free(&j->o);
    return rc;
}

int task_search(reel_task *t, reel_error *err)
{
    tune_job j;
    const char *strategy = "one-at-a-time", *grid_file = NULL, *journal_file = NULL;
    int budget = 0, resume = 0;
    int rc = tune_begin(&j, t, "search", SEARCH_KEYS, err);
    if (rc == 0 && (task_string(t, "strategy", &strategy, err) || task_string(t, "grid_file", &grid_file, err) ||
                    task_string(t, "journal", &journal_file, err) || task_bool(t, "resume", &resume, err) ||
                    int_option(&j, "budget", &budget, err)))
        rc = API_REFUSED;
    const cJSON *grid_given = cJSON_GetObjectItemCaseSensitive(t->options, "grid");
    if (rc == 0 && grid_given && !cJSON_IsNull(grid_given) && (!cJSON_IsObject(grid_given) || grid_file))
        rc = (reel_fail(err, grid_file ? "options: give grid or grid_file, not both"
                                       : "options: key 'grid' must be a JSON object"), API_REFUSED);
    if (rc == 0 && resume && !journal_file)
        rc = (reel_fail(err, "%s needs %s FILE (the journal of the run to resume)", flag(&j, "resume"),
                        flag(&j, "journal")), API_REFUSED);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(t->options, "budget") && budget < 1)
        rc = (reel_fail(err, "%s must be >= 1 (trials of %s random), got %d", flag(&j, "budget"),
                        flag(&j, "strategy"), budget), API_REFUSED);
    if (rc == 0 && (!reel_strategy_known(strategy) || (strcmp(strategy, "random") == 0 && budget <= 0)))
        rc = (reel_fail(err, "%s must be one-at-a-time, coordinate, grid or random (random needs %s N)",
                        flag(&j, "strategy"), flag(&j, "budget")), API_REFUSED);
    if (rc)
        return tune_end(&j, rc);
    rc = -1;
    cJSON *base = tune_params(&j, err), *grid = NULL, *doc = NULL, *best_params = NULL;
    reel_search_result res = {0};
    reel_journal journal;
    int have_journal = 0;
    if (base)
        grid = grid_given && !cJSON_IsNull(grid_given) ? cJSON_Duplicate(grid_given, 1)
               : grid_file ? reel_read_json_object(grid_file, err)
                           : cJSON_Duplicate(cJSON_GetObjectItem(reel_model_def(j.model), "grid"), 1);
    /* Every output is checked before the first fit; --out is staged. */
    if (!base || !grid || tune_prepare(&j, err) || reel_run_input(&j.rf, flag(&j, "grid_file"), grid_file, err) ||
        reel_run_output(&j.rf, flag(&j, "journal"), journal_file, err) || tune_scorer(&j, err))
        goto done;
    cJSON *id = journal_file || reel_dist_size() > 1 ? tune_identity(&j, base, err) : NULL;
    if ((journal_file || reel_dist_size() > 1) && !id)
        goto done;
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddItemToObject(extra, "grid", cJSON_Duplicate(grid, 1));
    cJSON_AddStringToObject(extra, "strategy", strategy);
    cJSON_AddNumberToObject(extra, "budget", budget);
    cJSON_AddBoolToObject(extra, "resume", resume);
    if (ranks_agree(&j, id, extra, err)) {
        cJSON_Delete(id);
        goto done;
    }
    reel_search_opts so = {strategy, budget, j.o.threads, &j.log, NULL};
    if (journal_file) {
        if (reel_journal_open(&journal, journal_file, id, resume, err))
            goto done;
        have_journal = 1;
        so.journal = &journal;
        if (resume)
            reel_log_msg(&j.log, REEL_LOG_INFO, "search: resuming: %zu finished trials in %s", journal.resumed,
                         journal_file);
    } else {
        cJSON_Delete(id);
    }
    reel_log_msg(&j.log, REEL_LOG_INFO, "search: %s, %s over %s, scored by %s under %s %s on %s", j.model, strategy,
                 grid_file ? grid_file : grid_given && !cJSON_IsNull(grid_given) ? "the grid given" : "the model's grid",
                 j.metric, flag(&j, "decision"), decision(&j),
                 j.folds ? "k-fold cross-validation of the training rows" : "the validation split");
    if (reel_search(&j.sc, grid, base, &so, &res, err))
        goto done;
    const reel_trial *best = &res.trials[res.best];
    if (reel_score_test(&j.sc, best->params, NULL, j.o.threads, &j.ts, err))
        goto done;
    doc = reel_search_json(&res, &j.sc, strategy, &j.ts);
    best_params = cJSON_CreateObject();
    cJSON_AddItemToObject(best_params, j.model, cJSON_Duplicate(best->params, 1));
    rc = tune_finish(&j, doc, "search.json", best_params, "best_params.json", err);
done:
    cJSON_Delete(doc);
    cJSON_Delete(best_params);
    reel_search_result_free(&res);
    if (have_journal)
        reel_journal_free(&journal);
    cJSON_Delete(base);
    cJSON_Delete(grid);
    return tune_end(&j, rc);
}

int task_select(reel_task *t, reel_error *err)
{
    tune_job j;
    const char *method = "single-pass";
    int rc = tune_begin(&j, t, "select", SELECT_KEYS, err);
    if (rc == 0 && task_string(t, "method", &method, err))
        rc = API_REFUSED;
    if (rc == 0 && !reel_select_method_known(method))
        rc = (reel_fail(err, "%s must be single-pass, backward or permutation, got '%s'", flag(&j, "method"),
                        method), API_REFUSED);
    if (rc)
        return tune_end(&j, rc);
    rc = -1;
    cJSON *params = tune_params(&j, err), *doc = NULL;
    reel_select_result res = {0};
    if (!params || tune_prepare(&j, err) || tune_scorer(&j, err))
        goto done;
    if (reel_dist_size() > 1) {
        cJSON *id = tune_identity(&j, params, err), *extra = id ? cJSON_CreateObject() : NULL;
        cJSON_AddStringToObject(extra, "method", method);
        int differ = !id || ranks_agree(&j, id, extra, err);
        cJSON_Delete(id);
        if (differ)
            goto done;
    }
    if (reel_select(&j.sc, params, method, j.o.threads, &j.log, &res, err))
        goto done;
    /* The model on the kept features, scored once on the test rows. */
    if (reel_score_test(&j.sc, params, res.mask, j.o.threads, &j.ts, err))
        goto done;
    doc = reel_select_json(&res, &j.sc, method, &j.ts);
    rc = tune_finish(&j, doc, "selection.json", NULL, NULL, err);
done:
    cJSON_Delete(doc);
    reel_select_result_free(&res);
    cJSON_Delete(params);
    return tune_end(&j, rc);
}
