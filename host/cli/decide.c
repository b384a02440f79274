/* reel decide: a decision rule chosen on another model's validation
 * probabilities and applied to its test probabilities, so any model (a
 * scikit-learn or LightGBM one in bench/) is decided exactly as reel's
 * models are. Input: CSVs with p_<label> columns, and the 0/1 label columns
 * (required in --valid, optional in --test: then the scores are printed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "data/table.h"
#include "eval/decision.h"
#include "eval/metrics.h"

static const char *USAGE = "--valid V.csv --test T.csv --labels A,B,... [--decision RULE] [--seed N] "
                           "[--threshold T]";

/* P (and Y when want_y) from table t; Y stays NULL when a label column is absent and !need_y. */
static int read_probs(const reel_table *t, char **labels, size_t L, int need_y, float **P, uint8_t **Y,
                      reel_error *err)
{
    size_t n = t->nrows;
    *P = malloc((n ? n : 1) * L * sizeof **P);
    *Y = malloc((n ? n : 1) * L);
    if (!*P || !*Y)
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

int reel_cmd_decide(int argc, char **argv)
{
    const char *valid = NULL, *test = NULL, *labels_arg = NULL, *decision = "auto";
    uint64_t seed = 42;
    double threshold = 0.5;
    reel_optset s = {0};
    reel_optset_add(&s, "valid", OPT_STR, &valid, "FILE", "validation rows: p_<label> and label columns");
    reel_optset_add(&s, "test", OPT_STR, &test, "FILE", "rows to decide: p_<label> (and label columns to score)");
    reel_optset_add(&s, "labels", OPT_STR, &labels_arg, "A,B,C", "the labels");
    reel_optset_add(&s, "decision", OPT_STR, &decision, "RULE", "as in reel compare --decision (auto)");
    reel_optset_add(&s, "seed", OPT_U64, &seed, "N", "seeds auto's cross-fitting folds (42)");
    reel_optset_add(&s, "threshold", OPT_DOUBLE, &threshold, "T",
                    "the model's own threshold, for the threshold rule and the untuned scores (0.5)");
    reel_error err = {{0}};
    int r = reel_parse("decide", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!valid || !test || !labels_arg))
        r = reel_fail(&err, "reel decide: --valid, --test and --labels are required");
    if (r == 0 && !(threshold >= 0 && threshold <= 1))
        r = reel_fail(&err, "reel decide: --threshold must be in [0, 1]");
    if (r == 0 && reel_decision_check_spec(decision, &err)) {
        reel_error inner = err;
        r = reel_fail(&err, "reel decide: --decision: %s", inner.msg);
    }
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    char **labels = NULL;
    size_t L = 0;
    if (reel_label_list_parse(labels_arg, "--labels", &labels, &L, &err)) {
        fprintf(stderr, "reel decide: %s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    reel_table tv = {0}, tt = {0};
    float *Pv = NULL, *Pt = NULL, *own = malloc((L ? L : 1) * sizeof *own);
    uint8_t *Yv = NULL, *Yt = NULL, *pred = NULL;
    reel_decision rule = {0};
    int rc = REEL_EXIT_RUNTIME;
    for (size_t k = 0; k < L; k++)
        own[k] = (float)threshold;
    if (L == 0) {
        reel_fail(&err, "--labels names no label");
        goto done;
    }
    if (reel_table_read_csv(&tv, valid, &err) || reel_table_read_csv(&tt, test, &err) ||
        read_probs(&tv, labels, L, 1, &Pv, &Yv, &err) || read_probs(&tt, labels, L, 0, &Pt, &Yt, &err) ||
        reel_decision_choose(&rule, decision, Pv, Yv, tv.nrows, L, own, seed, &err))
        goto done;
    size_t n = tt.nrows;
    pred = malloc((n ? n : 1) * L);
    if (!pred) {
        reel_fail(&err, "out of memory");
        goto done;
    }
    cJSON *doc = cJSON_CreateObject();
    char name[64];
    cJSON_AddStringToObject(doc, "decision_rule", reel_decision_name(&rule, name, sizeof name));
    cJSON_AddItemToObject(doc, "decision", reel_decision_to_json(&rule));
    cJSON_AddNumberToObject(doc, "valid_rows", (double)tv.nrows);
    cJSON_AddNumberToObject(doc, "test_rows", (double)n);
    if (Yt) {
        reel_metrics m;
        reel_threshold(Pt, own, n, L, pred);
        reel_metrics_compute(&m, Yt, pred, n, L);
        cJSON_AddItemToObject(doc, "metrics_untuned", reel_metrics_to_json(&m, labels));
        reel_metrics_free(&m);
    }
    reel_decision_apply(&rule, Pt, n, pred);
    if (Yt) {
        reel_metrics m;
        reel_metrics_compute(&m, Yt, pred, n, L);
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
    char *text = cJSON_Print(doc);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(doc);
    rc = REEL_EXIT_OK;
done:
    if (rc != REEL_EXIT_OK)
        fprintf(stderr, "reel decide: %s\n", err.msg);
    reel_decision_free(&rule);
    reel_table_free(&tv);
    reel_table_free(&tt);
    free(Pv);
    free(Pt);
    free(Yv);
    free(Yt);
    free(pred);
    free(own);
    reel_label_list_free(labels, L);
    return rc;
}
