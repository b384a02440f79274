/* The "decide" task: `reel decide` as a function. A decision rule chosen
 * on another model's validation probabilities and applied to its test
 * probabilities, so any model (a scikit-learn or LightGBM one in bench/) is
 * decided exactly as reel's models are. Options: "valid" and "test" (CSVs
 * with p_<label> columns, and the 0/1 label columns: required in valid,
 * optional in test, which are then scored), "labels" ("A,B,C"),
 * "decision" (auto), "seed" (auto's cross-fitting folds), "threshold" (the
 * model's own, 0.5). Its document: the rule, the scores, each test row's
 * labels.
 *
 * A class model's (option "target": the column of true classes, "labels"
 * its classes in the model's order, with p_<class> columns): a multiclass
 * one (3 or more classes) is decided by its most probable class (argmax,
 * the only rule there); a binary one by P(second class) under a threshold
 * rule (auto: 0.5, as scikit-learn; the tuned rules by name). The document
 * then names the target and classes, scores as the target's metrics and
 * gives each test row's class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/task.h"
#include "data/dataset.h"
#include "data/table.h"
#include "eval/decision.h"
#include "eval/metrics.h"

static const char *const KEYS[] = {"valid", "test", "labels", "decision", "seed", "threshold", "target", NULL};

/* P (and Y, unless Y is NULL) from table t; *Y stays NULL when a label
 * column is absent and !need_y. */
static int read_probs(const reel_table *t, char **labels, size_t L, int need_y, float **P, uint8_t **Y,
                      reel_error *err)
{
    size_t n = t->nrows;
    *P = malloc((n ? n : 1) * L * sizeof **P);
    if (Y && !(*Y = malloc((n ? n : 1) * L)))
        return reel_fail(err, "%s: out of memory", t->path);
    if (!*P)
        return reel_fail(err, "%s: out of memory", t->path);
    for (size_t k = 0; k < L; k++) {
        char name[300];
        snprintf(name, sizeof name, "p_%s", labels[k]);
        int jp = reel_table_find(t, name), jy = reel_table_find(t, labels[k]);
        if (jp < 0 || t->cols[jp].type != REEL_COL_NUMERIC)
            return reel_fail(err, "%s: no numeric column %s", t->path, name);
        for (size_t i = 0; i < n; i++) {
            double v = t->cols[jp].num[i];
            if (!(v >= 0 && v <= 1))
                return reel_fail(err, "%s, line %zu, column %s: a probability in [0, 1] expected", t->path,
                                 t->line[i], name);
            (*P)[i * L + k] = (float)v;
        }
        if (!Y)
            continue;
        if (jy < 0 && !need_y) {
            if (k > 0 && *Y) /* the first k labels were there: scores of a part of the labels would mislead */
                return reel_fail(err, "%s: label column %s is missing, though %s is there; give every label "
                                 "column to score the decisions, or none", t->path, labels[k], labels[0]);
            free(*Y);
            *Y = NULL;
            continue;
        }
        if (!*Y) /* an earlier label column was missing, this one is there */
            return reel_fail(err, "%s: label column %s is missing, though %s is there; give every label column to "
                             "score the decisions, or none", t->path, labels[0], labels[k]);
        if (jy < 0)
            return reel_fail(err, "%s: no label column %s", t->path, labels[k]);
        for (size_t i = 0; *Y && i < n; i++) {
            double v = t->cols[jy].type == REEL_COL_NUMERIC ? t->cols[jy].num[i] : NAN;
            if (v != 0.0 && v != 1.0)
                return reel_fail(err, "%s, line %zu, column %s: 0 or 1 expected", t->path, t->line[i], labels[k]);
            (*Y)[i * L + k] = (uint8_t)v;
        }
    }
    return 0;
}

/* Whether cell i of column c is the class `name`: text by bytes, a number
 * column by value (as --target sorted them). */
static int is_class(const reel_column *c, size_t i, const char *name)
{
    if (c->type != REEL_COL_NUMERIC)
        return c->code[i] >= 0 && strcmp(c->dict.strs[c->code[i]], name) == 0;
    char *end;
    double v = strtod(name, &end);
    return *name && !*end && v == c->num[i];
}

/* Each row's class (an index into classes) from column `target` of t;
 * *cls stays NULL when the column is absent and !need. */
static int read_classes(const reel_table *t, const char *target, char **classes, size_t K, int need, size_t **cls,
                        reel_error *err)
{
    int j = reel_table_find(t, target);
    *cls = NULL;
    if (j < 0)
        return need ? reel_fail(err, "%s: no target column %s", t->path, target) : 0;
    if (!(*cls = malloc((t->nrows ? t->nrows : 1) * sizeof **cls)))
        return reel_fail(err, "%s: out of memory", t->path);
    const reel_column *c = &t->cols[j];
    for (size_t i = 0; i < t->nrows; i++) {
        size_t k = 0;
        while (k < K && !is_class(c, i, classes[k]))
            k++;
        if (c->type == REEL_COL_NUMERIC ? c->num[i] != c->num[i] : c->code[i] < 0)
            return reel_fail(err, "%s, line %zu, column %s: no class (an empty cell); every row needs its true class "
                             "here", t->path, t->line[i], target);
        if (k == K) {
            char buf[64];
            return reel_fail(err, "%s, line %zu, column %s: '%s' is not one of the %zu classes of --labels",
                             t->path, t->line[i], target, reel_table_cell(t, (size_t)j, i, buf, sizeof buf), K);
        }
        (*cls)[i] = k;
    }
    return 0;
}

/* Rows of classes as the model's outputs: binary one 0/1 column (the
 * second class), multiclass one-hot. */
static uint8_t *class_rows(const size_t *cls, size_t n, reel_target_kind kind, size_t L)
{
    uint8_t *Y = calloc((n ? n : 1) * L, 1);
    for (size_t i = 0; Y && i < n; i++)
        Y[i * L + (kind == REEL_TARGET_BINARY ? 0 : cls[i])] = kind == REEL_TARGET_BINARY ? cls[i] == 1 : 1;
    return Y;
}

/* A class model's decisions: `classes` (K) in the model's order; its
 * outputs are P(classes[1]) for binary, the K probabilities else; own:
 * the model's thresholds (K, the first for binary). */
static cJSON *decide_classes(const reel_table *tv, const reel_table *tt, const char *target, char **classes,
                             size_t K, const char *decision, uint64_t seed, const float *own, reel_error *err)
{
    reel_target_kind kind = reel_target_of_classes(K);
    size_t L = kind == REEL_TARGET_BINARY ? 1 : K, n = tt->nrows;
    char **outputs = kind == REEL_TARGET_BINARY ? classes + 1 : classes;
    float *Pv = NULL, *Pt = NULL;
    size_t *cv = NULL, *ct = NULL;
    uint8_t *Yv = NULL, *Yt = NULL, *pred = NULL;
    reel_decision rule = {0};
    cJSON *doc = NULL;
    const char *spec = reel_decision_spec_for(kind, decision, err);
    if (!spec || read_probs(tv, outputs, L, 1, &Pv, NULL, err) || read_probs(tt, outputs, L, 0, &Pt, NULL, err) ||
        read_classes(tv, target, classes, K, 1, &cv, err) || read_classes(tt, target, classes, K, 0, &ct, err))
        goto done;
    if (!(Yv = class_rows(cv, tv->nrows, kind, L)) || (ct && !(Yt = class_rows(ct, n, kind, L)))) {
        reel_fail(err, "out of memory");
        goto done;
    }
    if (reel_decision_choose(&rule, spec, Pv, Yv, tv->nrows, L, own, seed, err))
        goto done;
    if (!(pred = malloc((n ? n : 1) * L)) || !(doc = cJSON_CreateObject()))
        goto out_of_memory;
    char name[64];
    cJSON_AddStringToObject(doc, "target", reel_target_name(kind));
    cJSON *names = cJSON_AddArrayToObject(doc, "classes");
    for (size_t k = 0; k < K; k++)
        cJSON_AddItemToArray(names, cJSON_CreateString(classes[k]));
    cJSON_AddStringToObject(doc, "decision_rule", reel_decision_name(&rule, name, sizeof name));
    cJSON_AddItemToObject(doc, "decision", reel_decision_to_json(&rule));
    cJSON_AddStringToObject(doc, "decision_note",
                            kind == REEL_TARGET_MULTICLASS
                                ? "a multiclass model predicts its most probable class (argmax), the only rule"
                                : "a binary model predicts the second class where its probability passes the "
                                  "rule's cut (threshold: the model's own, 0.5 unless given)");
    cJSON_AddNumberToObject(doc, "valid_rows", (double)tv->nrows);
    cJSON_AddNumberToObject(doc, "test_rows", (double)n);
    if (reel_decision_apply(&rule, Pt, n, pred))
        goto out_of_memory;
    if (Yt) {
        reel_metrics m;
        if (reel_metrics_compute(&m, Yt, pred, n, L))
            goto out_of_memory;
        if (reel_metrics_add_classes(&m, kind, classes, Yt, Pt, pred, n, L)) {
            reel_metrics_free(&m);
            goto out_of_memory;
        }
        cJSON_AddItemToObject(doc, "metrics", reel_metrics_to_json(&m, outputs));
        reel_metrics_free(&m);
    }
    size_t *cls = malloc((n ? n : 1) * sizeof *cls);
    if (!cls)
        goto out_of_memory;
    reel_target_class_of_rows(kind, pred, n, L, cls);
    cJSON *rows = cJSON_AddArrayToObject(doc, "predicted");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(rows, cJSON_CreateString(classes[cls[i]]));
    free(cls);
    goto done;
out_of_memory:
    reel_fail(err, "out of memory deciding %zu rows", n);
    cJSON_Delete(doc);
    doc = NULL;
done:
    reel_decision_free(&rule);
    free(Pv);
    free(Pt);
    free(cv);
    free(ct);
    free(Yv);
    free(Yt);
    free(pred);
    return doc;
}

/* The rule and what it decides, as the document. */
static cJSON *decide(const reel_table *tv, const reel_table *tt, char **labels, size_t L, const char *decision,
                     uint64_t seed, const float *own, reel_error *err)
{
    float *Pv = NULL, *Pt = NULL;
    uint8_t *Yv = NULL, *Yt = NULL, *pred = NULL;
    reel_decision rule = {0};
    cJSON *doc = NULL;
    size_t n = tt->nrows;
    if (read_probs(tv, labels, L, 1, &Pv, &Yv, err) || read_probs(tt, labels, L, 0, &Pt, &Yt, err) ||
        reel_decision_choose(&rule, decision, Pv, Yv, tv->nrows, L, own, seed, err))
        goto done;
    if (!(pred = malloc((n ? n : 1) * L)) || !(doc = cJSON_CreateObject())) {
        reel_fail(err, "out of memory");
        goto done;
    }
    char name[64];
    cJSON_AddStringToObject(doc, "decision_rule", reel_decision_name(&rule, name, sizeof name));
    cJSON_AddItemToObject(doc, "decision", reel_decision_to_json(&rule));
    cJSON_AddNumberToObject(doc, "valid_rows", (double)tv->nrows);
    cJSON_AddNumberToObject(doc, "test_rows", (double)n);
    reel_metrics m;
    if (Yt) {
        reel_threshold(Pt, own, n, L, pred);
        if (reel_metrics_compute(&m, Yt, pred, n, L))
            goto out_of_memory;
        cJSON_AddItemToObject(doc, "metrics_untuned", reel_metrics_to_json(&m, labels));
        reel_metrics_free(&m);
    }
    if (reel_decision_apply(&rule, Pt, n, pred))
        goto out_of_memory;
    if (Yt) {
        if (reel_metrics_compute(&m, Yt, pred, n, L))
            goto out_of_memory;
        cJSON_AddItemToObject(doc, "metrics", reel_metrics_to_json(&m, labels));
        reel_metrics_free(&m);
    }
    cJSON *rows = cJSON_AddArrayToObject(doc, "predicted");
    for (size_t i = 0; i < n; i++) {
        char buf[4096];
        size_t len = 0;
        buf[0] = 0;
        for (size_t k = 0; k < L && len < sizeof buf; k++)
            if (pred[i * L + k])
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "|" : "", labels[k]);
        cJSON_AddItemToArray(rows, cJSON_CreateString(buf));
    }
    goto done;
out_of_memory: /* nothing half-made: no document */
    reel_fail(err, "out of memory deciding %zu rows", n);
    cJSON_Delete(doc);
    doc = NULL;
done:
    reel_decision_free(&rule);
    free(Pv);
    free(Pt);
    free(Yv);
    free(Yt);
    free(pred);
    return doc;
}

int task_decide(reel_task *t, reel_error *err)
{
    const char *valid = NULL, *test = NULL, *labels_arg = NULL, *decision = "auto", *target = NULL;
    double threshold = 0.5;
    uint64_t seed = 42;
    if (task_check_keys(t, KEYS, err) || task_string(t, "valid", &valid, err) ||
        task_string(t, "test", &test, err) || task_string(t, "labels", &labels_arg, err) ||
        task_string(t, "decision", &decision, err) || task_number(t, "threshold", &threshold, err) ||
        task_string(t, "target", &target, err) ||
        task_seed(t, &seed, err))
        return API_REFUSED;
    if (!valid || !test || !labels_arg)
        return reel_fail(err, "options: valid, test and labels are required"), API_REFUSED;
    if (!(threshold >= 0 && threshold <= 1))
        return reel_fail(err, "options: threshold must be in [0, 1]"), API_REFUSED;
    if (reel_decision_check_spec(decision, err)) {
        reel_error inner = *err;
        return reel_fail(err, "%s: %s", api_option_name(t->flag_names, "decision"), inner.msg), API_REFUSED;
    }
    char **labels = NULL;
    size_t L = 0;
    if (reel_label_list_parse(labels_arg, api_option_name(t->flag_names, "labels"), &labels, &L, err))
        return API_REFUSED;
    reel_table tv = {0}, tt = {0};
    float *own = malloc((L ? L : 1) * sizeof *own);
    cJSON *doc = NULL;
    int rc = -1;
    if (!own) {
        reel_fail(err, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < L; k++)
        own[k] = (float)threshold;
    if (L == 0) {
        reel_fail(err, "%s names no label", api_option_name(t->flag_names, "labels"));
        goto done;
    }
    if (target && reel_class_names_check(labels, L, api_option_name(t->flag_names, "labels"), err))
        goto done;
    if (reel_table_read_csv(&tv, valid, err) || reel_table_read_csv(&tt, test, err))
        goto done;
    doc = target ? decide_classes(&tv, &tt, target, labels, L, decision, seed, own, err)
                 : decide(&tv, &tt, labels, L, decision, seed, own, err);
    if (!doc)
        goto done;
    rc = task_finish(t, doc, err);
done:
    cJSON_Delete(doc);
    reel_table_free(&tv);
    reel_table_free(&tt);
    free(own);
    reel_label_list_free(labels, L);
    return rc;
}
