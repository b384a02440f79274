/* The "predict" task: `reel predict` as a function. A saved model on new
 * rows, with the training preprocessing. Options: "model_file", "data",
 * "id" (default: the training one, when present), "out" (a predictions
 * CSV), "missing_columns" (error or impute), "threads", "encoding", "csv"
 * (true: the document holds the predictions CSV as "csv"). The rows' ids,
 * probabilities and decisions are the task's (reel_task_rows and after);
 * the document: {"rows", "labels", "with_labels", "scores" (when the data
 * has the labels: rows, samples_f1, micro_f1, hamming_accuracy),
 * "left_out", "no_scores" (why labels there could not be read),
 * "mixed_columns" (text cells read as missing), "csv"}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/task.h"
#include "eval/decision.h"
#include "eval/metrics.h"
#include "io/predictions.h"
#include "store/model_file.h"
#include "util/outputs.h"
#include "util/threads.h"

static const char *const KEYS[] = {"model_file", "data", "id", "out", "missing_columns", "threads", "encoding",
                                   "sep", "csv", NULL};

static const char *row_id(const reel_table *t, int id_col, size_t i, char *buf, size_t n)
{
    if (id_col >= 0)
        return reel_table_cell(t, (size_t)id_col, i, buf, n);
    snprintf(buf, n, "%zu", t->line[i]);
    return buf;
}

/* True labels when the data has them: the training's 0/1 label columns,
 * or its --label-column. NULL with why set when labels are there but
 * cannot be read (why stays "" when the data has none). */
static uint8_t *read_labels(const reel_model_file *mf, const reel_table *t, char *why, size_t size)
{
    size_t n = t->nrows, L = mf->model.L;
    const cJSON *dsm = cJSON_GetObjectItemCaseSensitive(mf->meta, "dataset");
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(dsm, "label_column");
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(dsm, "label_sep");
    const char *sep = cJSON_IsString(ls) && *ls->valuestring ? ls->valuestring : "|";
    int list_col = cJSON_IsString(lc) ? reel_table_find(t, lc->valuestring) : -1;
    uint8_t *Y = calloc(n * L + 1, 1);
    char buf[64];
    if (list_col >= 0) { /* one column listing label names, as in training */
        for (size_t i = 0; i < n; i++) {
            char *cell = strdup(reel_table_cell(t, (size_t)list_col, i, buf, sizeof buf));
            for (char *p = cell, *q; p; p = q) {
                if ((q = strstr(p, sep))) {
                    *q = '\0';
                    q += strlen(sep);
                }
                while (*p == ' ')
                    p++;
                size_t len = strlen(p);
                while (len && p[len - 1] == ' ')
                    p[--len] = '\0';
                size_t k = 0;
                while (k < L && strcmp(mf->labels[k], p) != 0)
                    k++;
                if (*p && k == L) {
                    snprintf(why, size, "line %zu: '%s' in column '%s' is not one of the model's labels", t->line[i],
                             p, lc->valuestring);
                    free(cell);
                    free(Y);
                    return NULL;
                }
                if (*p)
                    Y[i * L + k] = 1;
            }
            free(cell);
        }
        return Y;
    }
    size_t present = 0;
    const char *absent = NULL;
    for (size_t k = 0; k < L; k++) {
        int j = reel_table_find(t, mf->labels[k]);
        if (j < 0) {
            absent = absent ? absent : mf->labels[k];
            continue;
        }
        present++;
        for (size_t i = 0; i < n && Y; i++) {
            double v = t->cols[j].type == REEL_COL_NUMERIC ? t->cols[j].num[i] : NAN;
            if (v == 0.0 || v == 1.0) {
                Y[i * L + k] = (uint8_t)v;
                continue;
            }
            snprintf(why, size, "line %zu: label column '%s' holds '%s', not 0 or 1", t->line[i], mf->labels[k],
                     reel_table_cell(t, (size_t)j, i, buf, sizeof buf));
            free(Y);
            Y = NULL;
        }
    }
    if (Y && present == L)
        return Y;
    free(Y);
    if (present == 0 && cJSON_IsString(lc))
        snprintf(why, size, "the model was trained with --label-column %s, which the data lacks", lc->valuestring);
    else if (present && !why[0])
        snprintf(why, size, "the data has %zu of the %zu label columns (no '%s')", present, L, absent);
    return NULL;
}

/* A binary or multiclass model's true classes, when the data has its
 * target column: Y in the model's output layout (binary: class 1 or not;
 * multiclass: one-hot), keep[i] 0 for a row with no target (not scored,
 * as training drops it). NULL with why set when a value is not a class;
 * why stays "" when the column is absent. */
static uint8_t *read_classes(const reel_model_file *mf, const reel_table *t, uint8_t **keep, char *why, size_t size)
{
    const reel_model *m = &mf->model;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mf->meta, "dataset"),
                                                       "target_column");
    int j = cJSON_IsString(tc) ? reel_table_find(t, tc->valuestring) : -1;
    if (j < 0)
        return NULL;
    size_t n = t->nrows, L = m->L;
    const reel_column *c = &t->cols[j];
    uint8_t *Y = calloc(n * L + 1, 1);
    *keep = calloc(n + 1, 1);
    if (!Y || !*keep) {
        snprintf(why, size, "out of memory for %zu rows", n);
        goto fail;
    }
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        if (c->type == REEL_COL_NUMERIC ? c->num[i] != c->num[i] : c->code[i] < 0)
            continue; /* a missing target */
        const char *cell = reel_table_cell(t, (size_t)j, i, buf, sizeof buf);
        size_t k = 0;
        for (; k < m->K; k++) { /* numbers by value, as training named them; text by bytes */
            char *end;
            double v = c->type == REEL_COL_NUMERIC ? strtod(m->classes[k], &end) : 0;
            if (c->type == REEL_COL_NUMERIC ? *end == '\0' && v == c->num[i] : strcmp(m->classes[k], cell) == 0)
                break;
        }
        if (k == m->K) {
            snprintf(why, size, "line %zu: '%s' in target column '%s' is not one of the model's classes", t->line[i],
                     cell, c->name);
            goto fail;
        }
        (*keep)[i] = 1;
        if (m->target == REEL_TARGET_BINARY)
            Y[i] = k == 1;
        else
            Y[i * L + k] = 1;
    }
    return Y;
fail:
    free(Y);
    free(*keep);
    *keep = NULL;
    return NULL;
}

/* The document's scores of a binary or multiclass model on the rows with a
 * target (scikit-learn's metrics, as train reports them). */
static int add_class_scores(cJSON *doc, const reel_model *m, const uint8_t *Y, const uint8_t *keep, const float *P,
                            const uint8_t *pred, size_t n)
{
    size_t L = m->L, kept = 0;
    uint8_t *y = malloc(n * L + 1), *d = malloc(n * L + 1);
    float *p = malloc((n * L + 1) * sizeof *p);
    int rc = -1;
    if (!y || !d || !p)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) {
            memcpy(y + kept * L, Y + i * L, L);
            memcpy(d + kept * L, pred + i * L, L);
            memcpy(p + kept * L, P + i * L, L * sizeof *p);
            kept++;
        }
    reel_metrics met;
    memset(&met, 0, sizeof met);
    if (kept && (reel_metrics_compute(&met, y, d, kept, L) ||
                 reel_metrics_add_classes(&met, m->target, m->classes, y, p, d, kept, L))) {
        reel_metrics_free(&met);
        goto done;
    }
    if (kept) {
        cJSON *s = cJSON_AddObjectToObject(doc, "scores");
        cJSON_AddNumberToObject(s, "rows", (double)kept);
        cJSON_AddNumberToObject(s, "accuracy", met.accuracy);
        cJSON_AddNumberToObject(s, "macro_f1", met.class_macro_f1);
        cJSON_AddNumberToObject(s, "log_loss", met.log_loss);
        if (m->target == REEL_TARGET_BINARY) {
            cJSON_AddNumberToObject(s, "f1", met.f1);
            if (met.roc_auc == met.roc_auc)
                cJSON_AddNumberToObject(s, "roc_auc", met.roc_auc);
        }
    }
    cJSON_AddNumberToObject(doc, "left_out", (double)(n - kept));
    reel_metrics_free(&met);
    rc = 0;
done:
    free(y);
    free(d);
    free(p);
    return rc;
}

/* A binary or multiclass model's rows as its classes: P and pred (n x L
 * outputs) become n x K (binary: [1 - p, p] and [not, decided]); so do the
 * true classes Y when given. */
static int to_classes(const reel_model *m, size_t n, float **P, uint8_t **pred, uint8_t **Y)
{
    size_t K = m->K, L = m->L;
    float *Pc = malloc((n * K + 1) * sizeof *Pc);
    uint8_t *dc = malloc(n * K + 1), *yc = *Y ? malloc(n * K + 1) : NULL;
    if (!Pc || !dc || (*Y && !yc)) {
        free(Pc);
        free(dc);
        free(yc);
        return -1;
    }
    reel_target_class_proba(m->target, *P, n, L, Pc);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++) {
            int binary = m->target == REEL_TARGET_BINARY;
            dc[i * K + k] = binary ? (k == 1) == ((*pred)[i] != 0) : (*pred)[i * L + k];
            if (yc)
                yc[i * K + k] = binary ? (k == 1) == ((*Y)[i] != 0) : (*Y)[i * L + k];
        }
    free(*P);
    free(*pred);
    free(*Y);
    *P = Pc;
    *pred = dc;
    *Y = yc;
    return 0;
}

/* The model's features of every row of t into X (n x d), as in training:
 * a source column at a time, each freed once transformed (unless it is the
 * id or a label), so memory stays near one copy of the data. */
static int features(const reel_model_file *mf, reel_table *t, int id_col, float *X, reel_error *err)
{
    size_t n = t->nrows, d = mf->pre.d, L = mf->model.L;
    for (size_t k0 = 0, k1; k0 < d; k0 = k1) {
        const char *src = mf->pre.f[k0].source;
        for (k1 = k0 + 1; k1 < d && strcmp(mf->pre.f[k1].source, src) == 0; k1++)
            ;
        int j = reel_table_find(t, src);
        /* a column the model one-hot encodes is text here too, each cell its own text even when all are
         * numbers ("02134", not 2134 re-rendered) */
        for (size_t k = k0; k < k1 && j >= 0; k++)
            if ((mf->pre.f[k].kind == REEL_FEAT_ONEHOT || mf->pre.f[k].kind == REEL_FEAT_OTHER) &&
                reel_table_as_text(t, (size_t)j, err))
                return -1;
        if (reel_preproc_transform_range(&mf->pre, t, NULL, n, k0, k1, X, err))
            return -1;
        int is_label = 0;
        for (size_t k = 0; k < L; k++)
            is_label |= strcmp(mf->labels[k], src) == 0;
        if (j != id_col && !is_label)
            reel_table_release(t, (size_t)j);
    }
    if (mf->model.kind->standardize)
        reel_preproc_standardize(&mf->pre, X, n);
    return 0;
}

/* The predictions CSV (as --out writes it) as text. */
static char *csv_text(const reel_dataset *view, size_t n, const uint8_t *Y, const uint8_t *pred, const float *P)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp)
        return NULL;
    reel_predictions_csv(fp, view, NULL, n, Y, pred, P);
    if (fclose(fp)) {
        free(text);
        return NULL;
    }
    return text;
}

/* The document's scores, when the data has the labels. */
static void add_scores(cJSON *doc, const reel_model_file *mf, const uint8_t *Y, const uint8_t *pred, size_t n)
{
    const cJSON *keep = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mf->meta, "dataset"),
                                                         "keep_unlabeled");
    reel_metrics m;
    size_t left_out = 0;
    if (reel_metrics_compute_labelled(&m, Y, pred, n, mf->model.L, cJSON_IsTrue(keep), &left_out) == 0) {
        cJSON *s = cJSON_AddObjectToObject(doc, "scores");
        cJSON_AddNumberToObject(s, "rows", (double)m.n);
        cJSON_AddNumberToObject(s, "samples_f1", m.samples_f1);
        cJSON_AddNumberToObject(s, "micro_f1", m.micro_f1);
        cJSON_AddNumberToObject(s, "hamming_accuracy", m.hamming_accuracy);
    }
    cJSON_AddNumberToObject(doc, "left_out", (double)left_out);
    reel_metrics_free(&m);
}

/* The ids of every row, kept by the task. */
static int keep_ids(reel_task *t, const reel_table *tab, int id_col, size_t n)
{
    if (!(t->ids = calloc(n ? n : 1, sizeof *t->ids)))
        return -1;
    char buf[64];
    for (size_t i = 0; i < n; i++)
        if (!(t->ids[i] = strdup(row_id(tab, id_col, i, buf, sizeof buf))))
            return -1;
    return 0;
}

int task_predict(reel_task *t, reel_error *err)
{
    const char *model_file = NULL, *data = NULL, *id = NULL, *out = NULL, *missing = "error", *encoding = NULL, *sep_text = NULL;
    double threads = NAN; /* NAN: not given */
    int want_csv = 0, names = t->flag_names;
    if (task_check_keys(t, KEYS, err) || task_string(t, "model_file", &model_file, err) ||
        task_string(t, "data", &data, err) || task_string(t, "id", &id, err) || task_string(t, "out", &out, err) ||
        task_string(t, "missing_columns", &missing, err) || task_number(t, "threads", &threads, err) ||
        task_string(t, "encoding", &encoding, err) || task_bool(t, "csv", &want_csv, err) ||
        task_string(t, "sep", &sep_text, err))
        return API_REFUSED;
    char sep = 0; /* 0: found from the header line, as in training */
    if (sep_text && reel_sep_parse(sep_text, &sep, names ? "--sep" : "options: key 'sep'", err))
        return API_REFUSED;
    if (!model_file || !data)
        return reel_fail(err, "options: model_file and data are required"), API_REFUSED;
    if (strcmp(missing, "error") && strcmp(missing, "impute"))
        return reel_fail(err, "options: missing_columns must be error or impute, got '%s'", missing), API_REFUSED;
    if (task_encoding(t, encoding, err))
        return API_REFUSED;
    /* as the run options' threads (api_opts_parse_named): with flag names a
     * given count is 1 or more (the CLI leaves an unset one out) */
    char what[64];
    api_option_subject(names, "threads", what, sizeof what);
    int used, given = !isnan(threads);
    if (!given)
        threads = 0;
    if (!(threads >= -1e9 && threads <= 1e9))
        threads = -1;
    if ((names && given && reel_threads_check(what, (long long)threads, err)) ||
        reel_threads_set(what, (long long)threads, &used, err))
        return API_REFUSED;
    reel_log log = api_log();
    reel_run_files rf;
    reel_run_files_init(&rf, &log);
    int bad_out = reel_run_input(&rf, api_option_name(names, "model_file"), model_file, err) ||
                  reel_run_input(&rf, api_option_name(names, "data"), data, err) ||
                  reel_run_output(&rf, api_option_name(names, "out"), out, err);
    reel_run_files_free(&rf);
    if (bad_out)
        return -1;
    reel_model_file mf;
    if (reel_model_file_load(&mf, model_file, used, err))
        return -1;
    reel_table tab;
    const cJSON *dsm = cJSON_GetObjectItemCaseSensitive(mf.meta, "dataset");
    const cJSON *ctm = cJSON_GetObjectItemCaseSensitive(dsm, "column_types");
    int latin1 = encoding && strcmp(encoding, "latin-1") == 0;
    reel_read_opts ro = {.mixed = REEL_MIXED_MISSING,
                         .types = cJSON_IsString(ctm) ? ctm->valuestring : NULL,
                         .flags = REEL_READ_ABSENT_OK | (latin1 ? REEL_READ_LATIN1 : 0),
                         .sep = sep};
    if (reel_table_read(&tab, data, &ro, err)) {
        reel_model_file_free(&mf);
        return -1;
    }
    int rc = -1;
    size_t n = tab.nrows, L = mf.model.L, d = mf.pre.d;
    float *X = malloc((n ? n : 1) * (d ? d : 1) * sizeof *X);
    uint8_t *Y = NULL;
    cJSON *doc = NULL;
    t->P = malloc((n ? n : 1) * L * sizeof *t->P);
    t->pred = malloc((n ? n : 1) * L);
    if (!X || !t->P || !t->pred) {
        reel_fail(err, "out of memory for %zu rows", n);
        goto done;
    }
    if (!id) {
        const cJSON *idm = cJSON_GetObjectItemCaseSensitive(dsm, "id");
        if (cJSON_IsString(idm) && reel_table_find(&tab, idm->valuestring) >= 0)
            id = idm->valuestring;
    }
    int id_col = id ? reel_table_find(&tab, id) : -1;
    if (id && id_col < 0) {
        reel_fail(err, "%s: %s column '%s' does not exist", data, api_option_name(names, "id"), id);
        goto done;
    }
    if (strcmp(missing, "impute") == 0) {
        char list[1024];
        size_t added;
        if (reel_preproc_add_missing_columns(&mf.pre, &tab, &added, list, sizeof list, err))
            goto done;
        if (added)
            reel_log_msg(&log, REEL_LOG_WARNING, "%s lacks %zu column%s the model needs, treated as all missing: %s",
                         data, added, added > 1 ? "s" : "", list);
    } else if (reel_preproc_check_columns(&mf.pre, &tab, err)) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, " (%s impute treats them as all missing)",
                 api_option_name(names, "missing_columns"));
        goto done;
    }
    reel_table_warn_encoding(&tab, &log);
    reel_preproc_warn_unseen(&mf.pre, &tab, &log);
    if (features(&mf, &tab, id_col, X, err))
        goto done;
    doc = cJSON_CreateObject();
    cJSON *mixed = cJSON_AddArrayToObject(doc, "mixed_columns"); /* the caller warns (the CLI unless --quiet) */
    for (size_t j = 0; j < tab.ncols; j++)
        if (tab.cols[j].mixed_as_missing) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "column", tab.cols[j].name);
            cJSON_AddNumberToObject(c, "cells", (double)tab.cols[j].mixed_as_missing);
            cJSON_AddNumberToObject(c, "line", (double)tab.cols[j].first_text_line);
            cJSON_AddStringToObject(c, "first", tab.cols[j].first_text ? tab.cols[j].first_text : "");
            cJSON_AddItemToArray(mixed, c);
        }
    mf.model.progress = &log;
    if (reel_model_predict_proba(&mf.model, X, n, t->P, err))
        goto done;
    if (reel_decision_apply(&mf.model.rule, t->P, n, t->pred)) {
        reel_fail(err, "out of memory deciding %zu rows", n);
        goto done;
    }
    char why[512] = "";
    char **out_names = mf.labels;
    cJSON *scores = cJSON_CreateObject(); /* filled here, added after the rows and names */
    if (!scores) {
        reel_fail(err, "out of memory");
        goto done;
    }
    if (mf.model.target != REEL_TARGET_MULTILABEL) { /* the rows come out as classes, each one decided */
        uint8_t *keep = NULL;
        Y = read_classes(&mf, &tab, &keep, why, sizeof why);
        int bad = (Y && add_class_scores(scores, &mf.model, Y, keep, t->P, t->pred, n)) ||
                  to_classes(&mf.model, n, &t->P, &t->pred, &Y);
        free(keep);
        if (bad) {
            cJSON_Delete(scores);
            reel_fail(err, "out of memory for %zu rows", n);
            goto done;
        }
        L = mf.model.K;
        out_names = mf.model.classes;
    } else if ((Y = read_labels(&mf, &tab, why, sizeof why)))
        add_scores(scores, &mf, Y, t->pred, n);
    reel_dataset view = {.table = tab, .n = n, .L = L, .labels = out_names, .id_col = id_col};
    if (out && reel_write_predictions(out, &view, NULL, n, Y, t->pred, t->P, err)) {
        cJSON_Delete(scores);
        goto done;
    }
    cJSON_AddNumberToObject(doc, "rows", (double)n);
    cJSON_AddItemToObject(doc, "labels", cJSON_CreateStringArray((const char *const *)out_names, (int)L));
    cJSON_AddStringToObject(doc, "target", reel_target_name(mf.model.target));
    cJSON_AddBoolToObject(doc, "with_labels", Y != NULL);
    cJSON *item = scores->child;
    while (item) { /* "scores" and "left_out" into the document */
        cJSON *next = item->next;
        cJSON_AddItemToObject(doc, item->string, cJSON_DetachItemViaPointer(scores, item));
        item = next;
    }
    cJSON_Delete(scores);
    if (!Y && why[0])
        cJSON_AddStringToObject(doc, "no_scores", why);
    char *csv = want_csv ? csv_text(&view, n, Y, t->pred, t->P) : NULL;
    if (want_csv && !csv) {
        reel_fail(err, "out of memory for the predictions CSV");
        goto done;
    }
    if (csv)
        cJSON_AddStringToObject(doc, "csv", csv);
    free(csv);
    if (keep_ids(t, &tab, id_col, n)) {
        reel_fail(err, "out of memory for %zu rows", n);
        goto done;
    }
    t->rows = n;
    rc = task_finish(t, doc, err);
done:
    cJSON_Delete(doc);
    free(X);
    free(Y);
    reel_table_free(&tab);
    reel_model_file_free(&mf);
    return rc;
}
