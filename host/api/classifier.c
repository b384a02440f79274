/* reel_classifier: fit on every row given, predict, save and load the
 * model files the CLI writes. Fitting is api_train, the path of `reel
 * train`, so the same rows give the same bits. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/train.h"
#include "util/size.h"
#include "data/prepared.h"
#include "eval/decision.h"
#include "eval/metrics.h"
#include "eval/run.h"
#include "store/model_file.h"
#include "reel.h"

/* The names of P's columns: the labels, or a binary or multiclass target's classes. */
static char *const *column_names(const reel_classifier *c)
{
    return c->model.target == REEL_TARGET_MULTILABEL ? c->labels : c->model.classes;
}

static cJSON *info_of(const reel_classifier *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", c->model.name);
    cJSON_AddStringToObject(j, "kind", c->model.kind->name);
    cJSON_AddItemToObject(j, "params", cJSON_Duplicate(c->model.params, 1));
    cJSON *f = cJSON_AddArrayToObject(j, "features");
    for (size_t k = 0; k < c->pre.d; k++)
        cJSON_AddItemToArray(f, cJSON_CreateString(c->pre.f[k].name));
    cJSON *cols = cJSON_AddArrayToObject(j, "columns"); /* the source columns, each once */
    for (size_t k = 0; k < c->pre.d; k++)
        if (k == 0 || strcmp(c->pre.f[k].source, c->pre.f[k - 1].source) != 0)
            cJSON_AddItemToArray(cols, cJSON_CreateString(c->pre.f[k].source));
    size_t ncol = reel_model_columns(&c->model);
    cJSON_AddStringToObject(j, "target", reel_target_name(c->model.target));
    cJSON_AddItemToObject(j, "labels", cJSON_CreateStringArray((const char *const *)column_names(c), (int)ncol));
    if (c->model.target != REEL_TARGET_MULTILABEL)
        cJSON_AddItemToObject(j, "classes",
                              cJSON_CreateStringArray((const char *const *)c->model.classes, (int)c->model.K));
    cJSON *th = cJSON_AddArrayToObject(j, "thresholds");
    for (size_t k = 0; k < ncol; k++)
        cJSON_AddItemToArray(th, cJSON_CreateNumber(c->model.rule.threshold[k < c->model.L ? k : 0]));
    cJSON_AddStringToObject(j, "decision_rule", c->rule_name);
    cJSON_AddItemToObject(j, "decision", reel_decision_to_json(&c->model.rule));
    cJSON_AddStringToObject(j, "device", reel_model_device(&c->model));
    cJSON_AddItemToObject(j, "training", c->training ? cJSON_Duplicate(c->training, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "dataset", c->dataset ? cJSON_Duplicate(c->dataset, 1) : cJSON_CreateNull());
    return j;
}

static char **dup_names(char *const *names, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    for (size_t k = 0; out && k < n; k++)
        if (!(out[k] = strdup(names[k]))) {
            while (k--)
                free(out[k]);
            free(out);
            return NULL;
        }
    return out;
}

void reel_classifier_free(reel_classifier *c)
{
    if (!c)
        return;
    for (size_t k = 0; c->labels && k < c->model.L; k++)
        free(c->labels[k]);
    free(c->labels);
    reel_model_free(&c->model);
    reel_preproc_free(&c->pre);
    cJSON_Delete(c->training);
    cJSON_Delete(c->dataset);
    free(c);
}

reel_classifier *api_classifier_shell(const api_train_job *j, reel_error *err)
{
    reel_classifier *c = calloc(1, sizeof *c);
    if (!c || !(c->labels = dup_names(j->p.ds.labels, j->p.L))) {
        free(c);
        reel_fail(err, "out of memory");
        return NULL;
    }
    return c;
}

void api_classifier_shell_free(reel_classifier *c, size_t L)
{
    if (!c)
        return;
    for (size_t k = 0; c->labels && k < L; k++)
        free(c->labels[k]);
    free(c->labels);
    free(c);
}

reel_classifier *api_classifier_take(api_train_job *j, reel_error *err)
{
    reel_classifier *c = api_classifier_shell(j, err);
    if (c)
        api_classifier_fill(c, j);
    return c;
}

void api_classifier_fill(reel_classifier *c, api_train_job *j)
{
    /* the classifier takes the model, the preprocessing and the metadata over */
    c->model = j->run.model;
    memset(&j->run.model, 0, sizeof j->run.model);
    c->pre = j->p.pre;
    memset(&j->p.pre, 0, sizeof j->p.pre);
    c->training = j->training;
    c->dataset = j->dataset;
    j->training = j->dataset = NULL;
    reel_decision_name(&c->model.rule, c->rule_name, sizeof c->rule_name);
}

reel_classifier *reel_fit(const char *model, const char *params_json, const reel_data *data, const char *options_json)
{
    reel_error err = {{0}};
    api_train_job j = {.model = model, .epochs = NAN, .batch_size = NAN, .lr = NAN, .fit_only = 1};
    reel_classifier *c = NULL;
    cJSON *params = NULL;
    if (api_opts_parse(&j.o, options_json, 0.0, &err))
        goto done;
    if (!data || data->ds.L == 0) {
        reel_fail(&err, "fit needs data with labels");
        goto done;
    }
    if (!(params = api_parse_object(params_json, "params", &err)))
        goto done;
    j.ds = &data->ds;
    j.params = params;
    /* the path of `reel train` (api/train.h): the same rows give the same bits */
    if (api_train(&j, &err) == 0)
        c = api_classifier_take(&j, &err);
done:
    api_train_free(&j);
    cJSON_Delete(params);
    api_opts_free(&j.o);
    if (!c)
        api_fail(&err);
    return c;
}

int reel_predict_proba(const reel_classifier *c, const reel_data *data, float *P)
{
    reel_error err;
    if (!c || !data || !P)
        return api_fail(&(reel_error){"reel_predict_proba: a NULL argument"});
    size_t n = data->ds.n, d = c->pre.d;
    if (reel_preproc_check_columns(&c->pre, &data->ds.table, &err))
        return api_fail(&err);
    reel_log log = api_log();
    reel_preproc_warn_unseen(&c->pre, &data->ds.table, &log);
    size_t cells = 0;
    float *X = reel_size_mul(n ? n : 1, d ? d : 1, &cells) ? reel_malloc_n(cells, sizeof *X) : NULL;
    if (!X)
        return api_fail(&(reel_error){"out of memory for the features"});
    /* the model's outputs (binary: one column) go into P, then become class probabilities */
    float *out = c->model.target == REEL_TARGET_BINARY ? reel_malloc_n(n ? n : 1, sizeof *out) : P;
    if (!out) {
        free(X);
        return api_fail(&(reel_error){"out of memory for the probabilities"});
    }
    int rc = reel_preproc_transform(&c->pre, &data->ds.table, NULL, n, c->model.kind->standardize, X, &err) ||
             reel_model_predict_proba(&c->model, X, n, out, &err);
    if (rc == 0)
        reel_target_class_proba(c->model.target, out, n, c->model.L, P);
    if (out != P)
        free(out);
    free(X);
    return rc ? api_fail(&err) : 0;
}

int reel_predict(const reel_classifier *c, const reel_data *data, unsigned char *Y)
{
    if (!c || !data || !Y)
        return api_fail(&(reel_error){"reel_predict: a NULL argument"});
    size_t n = data->ds.n, cols = reel_model_columns(&c->model);
    size_t cells = 0;
    float *P = reel_size_mul(n ? n : 1, cols, &cells) ? reel_malloc_n(cells, sizeof *P) : NULL;
    if (!P)
        return api_fail(&(reel_error){"out of memory for the probabilities"});
    int rc = reel_predict_proba(c, data, P), bad = 0;
    if (rc == 0 && c->model.target == REEL_TARGET_BINARY) {
        /* the rule decides class 1 from its column; Y is one-hot over both classes */
        for (size_t i = 0; i < n; i++)
            P[i] = P[2 * i + 1];
        bad = reel_decision_apply(&c->model.rule, P, n, Y + n);
        for (size_t i = 0; !bad && i < n; i++) {
            Y[2 * i + 1] = Y[n + i];
            Y[2 * i] = !Y[2 * i + 1];
        }
    } else if (rc == 0) {
        bad = reel_decision_apply(&c->model.rule, P, n, Y);
    }
    free(P);
    return bad ? api_fail(&(reel_error){"out of memory deciding the rows"}) : rc;
}

int reel_classifier_save(const reel_classifier *c, const char *path)
{
    reel_error err;
    if (!c || !path)
        return api_fail(&(reel_error){"reel_classifier_save: a NULL argument"});
    if (reel_model_file_save(path, &c->model, &c->pre, c->labels, c->training, c->dataset, &err))
        return api_fail(&err);
    return 0;
}

reel_classifier *reel_classifier_load(const char *path)
{
    reel_error err;
    reel_model_file mf;
    if (!path) {
        api_fail(&(reel_error){"reel_classifier_load: no path"});
        return NULL;
    }
    /* No options here: predict on as many threads as OpenMP would use. */
    if (reel_model_file_load(&mf, path, omp_get_max_threads(), &err)) {
        api_fail(&err);
        return NULL;
    }
    reel_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        reel_model_file_free(&mf);
        api_fail(&(reel_error){"out of memory"});
        return NULL;
    }
    c->model = mf.model;
    c->pre = mf.pre;
    c->labels = mf.labels;
    c->training = cJSON_DetachItemFromObject(mf.meta, "training");
    c->dataset = cJSON_DetachItemFromObject(mf.meta, "dataset");
    cJSON_Delete(mf.meta);
    reel_decision_name(&c->model.rule, c->rule_name, sizeof c->rule_name);
    return c;
}

size_t reel_classifier_labels(const reel_classifier *c)
{
    return c ? reel_model_columns(&c->model) : (api_bad_arg("reel_classifier_labels", "the classifier is NULL"), 0);
}

const char *reel_classifier_label(const reel_classifier *c, size_t k)
{
    if (!c || k >= reel_model_columns(&c->model)) {
        api_bad_arg("reel_classifier_label", !c ? "the classifier is NULL" : "k is past the last label");
        return NULL;
    }
    return column_names(c)[k];
}

const char *reel_classifier_decision_rule(const reel_classifier *c)
{
    if (!c)
        api_bad_arg("reel_classifier_decision_rule", "the classifier is NULL");
    return c ? c->rule_name : NULL;
}

int reel_classifier_thresholds(const reel_classifier *c, float *thresholds)
{
    if (!c || !thresholds)
        return api_fail(&(reel_error){"reel_classifier_thresholds: a NULL argument"});
    for (size_t k = 0, cols = reel_model_columns(&c->model); k < cols; k++)
        thresholds[k] = c->model.rule.threshold[k < c->model.L ? k : 0];
    return 0;
}

char *reel_classifier_info(const reel_classifier *c)
{
    if (!c) {
        api_bad_arg("reel_classifier_info", "the classifier is NULL");
        return NULL;
    }
    cJSON *j = info_of(c);
    char *s = api_print(j);
    cJSON_Delete(j);
    return s;
}

char *reel_model_list(void)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *const *n = reel_model_names(); *n; n++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*n));
    char *s = api_print(a);
    cJSON_Delete(a);
    return s;
}

char *reel_model_definition(const char *model)
{
    const cJSON *def = model ? reel_model_def(model) : NULL;
    if (!def) {
        reel_error err;
        reel_fail(&err, "unknown model '%s'; valid models: %s", model ? model : "(null)", reel_model_name_list());
        api_fail(&err);
        return NULL;
    }
    return api_print(def);
}
