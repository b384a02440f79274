/* api_train: fit one model, score it on the test rows, save it, write an
 * --out folder. `reel train` and reel_fit both come here (api/train.h). */
#include "api/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/predictions.h"
#include "models/params.h"
#include "nn/device.h"
#include "store/model_file.h"
#include "store/params_file.h"
#include "util/fileio.h"
#include "util/outputs.h"

/* epochs, batch_size and lr override the params of the models that have
 * them, each checked against the model's range. */
static int apply_overrides(const api_train_job *j, cJSON *params, reel_error *err)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(reel_model_def(j->model), "params");
    const struct {
        const char *key;
        double value;
    } o[] = {{"epochs", j->epochs}, {"batch_size", j->batch_size}, {"lr", j->lr}};
    for (size_t i = 0; i < 3; i++) {
        if (isnan(o[i].value))
            continue;
        const char *name = api_option_name(j->flag_names, o[i].key);
        if (!cJSON_GetObjectItemCaseSensitive(spec, o[i].key))
            return reel_fail(err, "%s does not apply to model '%s' (it has no '%s' parameter)", name, j->model,
                             o[i].key);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddNumberToObject(one, o[i].key, o[i].value);
        reel_error e;
        cJSON *ok = reel_params_resolve(j->model, spec, one, &e);
        cJSON_Delete(one);
        cJSON_Delete(ok);
        if (!ok) {
            const char *why = strstr(e.msg, " must be ");
            return reel_fail(err, "%s%s", name, why ? why : e.msg);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(params, o[i].key);
        cJSON_AddNumberToObject(params, o[i].key, o[i].value);
    }
    return 0;
}

/* The options that refuse the run before any work: the model, --checkpoint
 * for a model that cannot resume, the device of a model that trains on one. */
static int check_options(const api_train_job *j, reel_error *err)
{
    if (!j->model || !reel_model_def(j->model))
        return reel_fail(err, "unknown model '%s'; valid models: %s", j->model ? j->model : "(null)",
                         reel_model_name_list());
    const reel_model_kind *kind = reel_model_def_kind(j->model);
    if (j->checkpoint && !(kind && kind->resumable))
        return reel_fail(err, "%s is for the nets (a %s model trains in one go)",
                         api_option_name(j->flag_names, "checkpoint"), j->model);
    return api_device_check(&j->model, 1, j->o.device, j->flag_names, err);
}

int api_device_check(const char *const *models, size_t n, const char *device, int flag_names, reel_error *err)
{
    reel_dev_kind dk;
    const reel_nn_runtime *rt;
    int index;
    if (reel_nn_device_parse(device, &dk, &rt, &index, err))
        return -1;
    if (strcmp(device, "auto") == 0 || strcmp(device, "cpu") == 0)
        return 0;
    char on[512] = "", off[512] = "";
    size_t non = 0, noff = 0;
    for (size_t i = 0; i < n; i++) {
        const reel_model_kind *kind = reel_model_def_kind(models[i]);
        int dev = kind && kind->device; /* only kinds that report a device train on one */
        char *buf = dev ? on : off;
        size_t *len = dev ? &non : &noff;
        *len += (size_t)snprintf(buf + *len, *len < 512 ? 512 - *len : 0, "%s%s", *len ? ", " : "", models[i]);
    }
    if (non && reel_nn_device_check(device, err))
        return -1;
    if (noff) {
        reel_log log = api_log();
        reel_log_msg(&log, REEL_LOG_INFO, "%s %s applies to the nets%s%s; ignored for %s (CPU only)",
                     api_option_name(flag_names, "device"), device, non ? ": " : "", on, off);
    }
    return 0;
}

/* The model file's "training" and "dataset": what predict and info read
 * besides the model. */
static void describe(api_train_job *j)
{
    j->training = cJSON_CreateObject();
    cJSON_AddNumberToObject(j->training, "fit_seconds", j->run.fit_seconds);
    char seed[24]; /* a string: a JSON number would round seeds of 2^53 and more */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)j->o.seed);
    cJSON_AddStringToObject(j->training, "seed", seed);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(j->doc, "model");
    cJSON_AddItemToObject(j->training, "test_metrics",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(model, "metrics"), 1));
    const reel_prepared *p = &j->p;
    j->dataset = reel_dataset_json(p);
    cJSON_DeleteItemFromObject(j->dataset, "features");
    if (p->ds.id_col >= 0)
        cJSON_AddStringToObject(j->dataset, "id", p->ds.table.cols[p->ds.id_col].name);
    if (j->data.target) /* predict reads the classes from the same column to score new rows */
        cJSON_AddStringToObject(j->dataset, "target_column", j->data.target);
    if (j->data.label_column) { /* predict reads the labels the same way to score new rows */
        cJSON_AddStringToObject(j->dataset, "label_column", j->data.label_column);
        cJSON_AddStringToObject(j->dataset, "label_sep", j->data.label_sep ? j->data.label_sep : "|");
    }
}

/* --out: metrics.json and predictions.csv into the staged folder, then
 * the folder into place. */
static int write_out(reel_outdir *od, const api_train_job *j, reel_error *err)
{
    const reel_prepared *p = &j->p;
    char *path = reel_path_join(od->stage, "metrics.json"), *pp = reel_path_join(od->stage, "predictions.csv");
    int rc = !path || !pp ? reel_fail(err, "out of memory")
                          : reel_write_json_file(path, j->doc, err) ||
                                reel_write_predictions(pp, &p->ds, p->test.rows, p->test.n, p->test.Y, j->run.pred,
                                                       j->run.P, err) ||
                                reel_outdir_commit(od, err);
    free(path);
    free(pp);
    return rc ? -1 : 0;
}

/* The data: read (and reported) or borrowed, split, preprocessed. */
static int prepare(api_train_job *j, const reel_log *log, reel_error *err)
{
    reel_prepare_opts po = {.data = j->data,
                            .split = {.seed = j->o.seed, .test_fraction = j->o.test_fraction,
                                      .valid_fraction = j->o.valid_fraction},
                            .top_k = j->o.top_k};
    po.data.log = log;
    if (j->ds ? reel_prepare_borrowed(&j->p, j->ds, &po, err) : reel_prepare(&j->p, &po, err))
        return -1;
    j->have_p = 1;
    const reel_prepared *p = &j->p;
    if (!j->quiet) {
        if (!j->ds)
            reel_log_msg(log, REEL_LOG_INFO, "%s: %zu rows (%zu train, %zu valid, %zu test), %zu feature columns "
                         "(%zu inputs once encoded), %zu labels", p->ds.csv_path, p->ds.n, p->train.n, p->valid.n,
                         p->test.n, p->ds.n_features, p->d, p->L);
        reel_prepared_warn(p, log);
    }
    if (!j->fit_only)
        reel_prepared_warn_untested(p, log);
    return 0;
}

int api_train(api_train_job *j, reel_error *err)
{
    reel_log log = api_log();
    cJSON *params = NULL;
    if (check_options(j, err))
        return API_REFUSED;
    params = j->params ? cJSON_Duplicate(j->params, 1)
             : j->params_file ? reel_read_params_for(j->params_file, j->model, err)
                              : cJSON_CreateObject();
    if (!params)
        return -1;
    if (apply_overrides(j, params, err)) {
        cJSON_Delete(params);
        return API_REFUSED;
    }
    int rc = -1;
    /* Every output is checked before the fit: not an input or another output, writable; --out is staged. */
    reel_run_files rf;
    reel_outdir od = {0};
    reel_run_files_init(&rf, &log);
    if (prepare(j, &log, err))
        goto done;
    int names = j->flag_names;
    if (reel_run_input(&rf, api_option_name(names, "data"), j->ds ? NULL : j->data.data, err) ||
        reel_run_input(&rf, api_option_name(names, "data"), j->ds ? NULL : j->p.ds.csv_path, err) ||
        reel_run_input(&rf, api_option_name(names, "features"), j->ds ? NULL : j->data.features, err) ||
        reel_run_input(&rf, api_option_name(names, "params_file"), j->params_file, err) ||
        reel_run_output_mkdir(&rf, api_option_name(names, "checkpoint"), j->checkpoint, err) ||
        reel_run_output(&rf, api_option_name(names, "save"), j->save, err) ||
        (j->out && reel_outdir_begin(&od, &rf, j->out, err)))
        goto done;
    reel_run_opts ro = {j->o.seed,      j->o.threads,   j->o.device,       &log, od.stage,
                        j->o.decision,  j->checkpoint,  j->o.decision_rows};
    if (reel_run_model(&j->run, &j->p, j->model, params, &ro, err))
        goto done;
    j->have_run = 1;
    j->doc = cJSON_CreateObject();
    cJSON_AddItemToObject(j->doc, "dataset", reel_dataset_json(&j->p));
    cJSON_AddItemToObject(j->doc, "model", reel_run_to_json(&j->run, j->p.ds.labels));
    describe(j);
    if (j->keep) { /* what the caller keeps, made before any output is written */
        if (!(j->shell = api_classifier_shell(j, err)))
            goto done;
        if (!(j->result = api_print(j->doc))) {
            reel_fail(err, "out of memory");
            goto done;
        }
    }
    if (j->save) {
        if (reel_model_file_save(j->save, &j->run.model, &j->p.pre, j->p.ds.labels, j->training, j->dataset, err))
            goto done;
        reel_log_msg(&log, REEL_LOG_INFO, "saved %s", j->save);
    }
    if (j->out && write_out(&od, j, err))
        goto done;
    rc = 0;
done:
    reel_outdir_abort(&od);
    reel_run_files_free(&rf);
    cJSON_Delete(params);
    return rc;
}

void api_train_free(api_train_job *j)
{
    api_classifier_shell_free(j->shell, j->p.L); /* before p, which holds the count */
    free(j->result);
    j->shell = NULL;
    j->result = NULL;
    if (j->have_run)
        reel_run_free(&j->run);
    if (j->have_p)
        reel_prepared_free(&j->p);
    cJSON_Delete(j->doc);
    cJSON_Delete(j->training);
    cJSON_Delete(j->dataset);
    j->have_run = j->have_p = 0;
    j->doc = j->training = j->dataset = NULL;
}
