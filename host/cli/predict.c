/* reel predict: a saved model on new rows, with the training preprocessing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "eval/decision.h"
#include "eval/metrics.h"
#include "io/predictions.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/outputs.h"

static const char *USAGE = "--model-file FILE --data new.csv [--id COL] [--out preds.csv] [--top K] "
                           "[--format table|csv|json] [--missing-columns error|impute]";

typedef struct {
    size_t k;
    float p;
} ranked;

static int by_p(const void *a, const void *b)
{
    float x = ((const ranked *)a)->p, y = ((const ranked *)b)->p;
    if (x != y)
        return x < y ? 1 : -1;
    return (((const ranked *)a)->k > ((const ranked *)b)->k) - (((const ranked *)a)->k < ((const ranked *)b)->k);
}

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

/* With --out and no --format: one line. */
static void print_summary(const char *out, const uint8_t *pred, size_t n, size_t L)
{
    size_t any = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < L; k++)
            if (pred[i * L + k]) {
                any++;
                break;
            }
    printf("wrote %s: %zu rows, %zu with at least one predicted label\n", out, n, any);
}

static void print_json(const reel_model_file *mf, const reel_table *t, int id_col, const float *P,
                       const uint8_t *pred)
{
    size_t n = t->nrows, L = mf->model.L;
    char buf[64];
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", row_id(t, id_col, i, buf, sizeof buf));
        cJSON *pl = cJSON_AddArrayToObject(o, "predicted");
        cJSON *pr = cJSON_AddObjectToObject(o, "probabilities");
        for (size_t k = 0; k < L; k++) {
            if (pred[i * L + k])
                cJSON_AddItemToArray(pl, cJSON_CreateString(mf->labels[k]));
            cJSON_AddNumberToObject(pr, mf->labels[k], P[i * L + k]);
        }
        cJSON_AddItemToArray(arr, o);
    }
    char *js = cJSON_Print(arr);
    printf("%s\n", js);
    cJSON_free(js);
    cJSON_Delete(arr);
}

/* One line per row: its id, its labels, and with top > 0 the top most
 * probable labels. */
static int print_table(const reel_model_file *mf, const reel_table *t, int id_col, const float *P,
                       const uint8_t *pred, size_t top)
{
    size_t n = t->nrows, L = mf->model.L;
    char buf[64];
    ranked *rk = malloc((L ? L : 1) * sizeof *rk);
    if (!rk)
        return -1;
    for (size_t i = 0; i < n; i++) {
        printf("%-40.40s ", row_id(t, id_col, i, buf, sizeof buf));
        int any = 0;
        for (size_t k = 0; k < L; k++)
            if (pred[i * L + k]) {
                printf("%s%s", any ? "|" : "", mf->labels[k]);
                any = 1;
            }
        if (!any)
            printf("(none)");
        if (top > 0) {
            for (size_t k = 0; k < L; k++)
                rk[k] = (ranked){k, P[i * L + k]};
            qsort(rk, L, sizeof *rk, by_p);
            printf("   top:");
            for (size_t q = 0; q < top && q < L; q++)
                printf(" %s %.2f", mf->labels[rk[q].k], (double)rk[q].p);
        }
        printf("\n");
    }
    free(rk);
    return 0;
}

int reel_cmd_predict(int argc, char **argv)
{
    const char *model_file = NULL, *data = NULL, *id = NULL, *out = NULL, *format = NULL,
               *missing_columns = "error";
    int top = 0, quiet = 0, threads = REEL_OPT_UNSET;
    reel_optset s = {0};
    const char *encoding = NULL;
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "a model saved by reel train --save");
    reel_optset_add(&s, "data", OPT_STR, &data, "FILE", "CSV of new rows with the training columns");
    reel_optset_add(&s, "id", OPT_STR, &id, "COL", "id column (default: the training one, when present)");
    reel_optset_add(&s, "out", OPT_STR, &out, "FILE", "write predictions as CSV here");
    reel_optset_add(&s, "top", OPT_INT, &top, "K", "also list the K most probable labels per row");
    reel_optset_add(&s, "format", OPT_STR, &format, "table|csv|json",
                    "stdout format (table; with --out, only a summary unless given)");
    reel_optset_add(&s, "missing-columns", OPT_STR, &missing_columns, "error|impute",
                    "a training column the data lacks: an error (default), or treated as all missing cells "
                    "(imputed as in training, with a warning naming them)");
    reel_optset_add(&s, "threads", OPT_INT, &threads, "N", "CPU threads");
    reel_optset_add(&s, "encoding", OPT_STR, &encoding, "utf-8|latin-1",
                    "the CSV's encoding (latin-1 is converted to UTF-8 on reading)");
    reel_optset_add(&s, "quiet", OPT_FLAG, &quiet, NULL, "no progress on stderr");
    reel_error err = {{0}};
    int r = reel_parse("predict", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!model_file || !data))
        r = reel_fail(&err, "reel predict: --model-file and --data are required");
    if (r == 0 && format && strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        r = reel_fail(&err, "reel predict: --format must be table, csv or json, got '%s'", format);
    if (r == 0 && strcmp(missing_columns, "error") && strcmp(missing_columns, "impute"))
        r = reel_fail(&err, "reel predict: --missing-columns must be error or impute, got '%s'", missing_columns);
    if (r == 0 && top < 0)
        r = reel_fail(&err, "reel predict: --top must be >= 0");
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    reel_common_opts c;
    reel_common_defaults(&c);
    c.threads = threads;
    c.quiet = quiet;
    c.encoding = encoding;
    if (reel_common_apply(&c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    reel_run_files rf;
    reel_run_files_init(&rf, &c.log);
    int bad_out = reel_run_input(&rf, "--model-file", model_file, &err) || reel_run_input(&rf, "--data", data, &err) ||
                  reel_run_output(&rf, "--out", out, &err);
    reel_run_files_free(&rf);
    if (bad_out) {
        fprintf(stderr, "reel predict: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }

    reel_model_file mf;
    if (reel_model_file_load(&mf, model_file, c.threads, &err)) {
        fprintf(stderr, "reel predict: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    reel_table t;
    int rc = REEL_EXIT_RUNTIME;
    const cJSON *ctm = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mf.meta, "dataset"),
                                                        "column_types");
    if (reel_table_read_csv_typed(&t, data, REEL_MIXED_MISSING, cJSON_IsString(ctm) ? ctm->valuestring : NULL,
                                  REEL_READ_ABSENT_OK | (c.prep.data.latin1 ? REEL_READ_LATIN1 : 0),
                                  &err)) {
        reel_model_file_free(&mf);
        fprintf(stderr, "reel predict: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    size_t n = t.nrows, L = mf.model.L, d = mf.pre.d;
    float *X = malloc((n ? n : 1) * (d ? d : 1) * sizeof *X), *P = malloc((n ? n : 1) * L * sizeof *P);
    uint8_t *pred = malloc((n ? n : 1) * L), *Y = NULL;
    if (!X || !P || !pred) {
        reel_fail(&err, "out of memory for %zu rows", n);
        goto done;
    }
    if (!id) {
        const cJSON *dsm = cJSON_GetObjectItemCaseSensitive(mf.meta, "dataset");
        const cJSON *idm = cJSON_GetObjectItemCaseSensitive(dsm, "id");
        if (cJSON_IsString(idm) && reel_table_find(&t, idm->valuestring) >= 0)
            id = idm->valuestring;
    }
    int id_col = id ? reel_table_find(&t, id) : -1;
    if (id && id_col < 0) {
        reel_fail(&err, "%s: --id column '%s' does not exist", data, id);
        goto done;
    }
    if (strcmp(missing_columns, "impute") == 0) {
        char list[1024];
        size_t added;
        if (reel_preproc_add_missing_columns(&mf.pre, &t, &added, list, sizeof list, &err))
            goto done;
        if (added)
            fprintf(stderr, "reel: warning: %s lacks %zu column%s the model needs, treated as all missing: %s\n",
                    data, added, added > 1 ? "s" : "", list);
    } else if (reel_preproc_check_columns(&mf.pre, &t, &err)) {
        size_t len = strlen(err.msg);
        snprintf(err.msg + len, sizeof err.msg - len, " (--missing-columns impute treats them as all missing)");
        goto done;
    }
    reel_table_warn_encoding(&t, &c.log);
    reel_preproc_warn_unseen(&mf.pre, &t, &c.log);
    if (features(&mf, &t, id_col, X, &err))
        goto done;
    for (size_t j = 0; j < t.ncols && !quiet; j++)
        if (t.cols[j].mixed_as_missing)
            fprintf(stderr, "reel predict: warning: column '%s' holds numbers and %zu text cell(s) (first: line %zu, "
                    "'%s'), read as missing\n", t.cols[j].name, t.cols[j].mixed_as_missing, t.cols[j].first_text_line,
                    t.cols[j].first_text);
    mf.model.progress = &c.log;
    if (reel_model_predict_proba(&mf.model, X, n, P, &err))
        goto done;
    reel_decision_apply(&mf.model.rule, P, n, pred);

    char why[512] = "";
    Y = read_labels(&mf, &t, why, sizeof why);
    if (out) {
        reel_dataset view = {.table = t, .n = n, .L = L, .labels = mf.labels, .id_col = id_col};
        if (reel_write_predictions(out, &view, NULL, n, Y, pred, P, &err))
            goto done;
    }
    if (!format && out) {
        print_summary(out, pred, n, L);
    } else if (format && strcmp(format, "json") == 0) {
        print_json(&mf, &t, id_col, P, pred);
    } else if (format && strcmp(format, "csv") == 0) {
        reel_dataset view = {.table = t, .n = n, .L = L, .labels = mf.labels, .id_col = id_col};
        reel_predictions_csv(stdout, &view, NULL, n, Y, pred, P);
    } else if (print_table(&mf, &t, id_col, P, pred, (size_t)top)) {
        reel_fail(&err, "out of memory");
        goto done;
    }
    if (!Y && why[0])
        fprintf(stderr, "reel: warning: no scores: %s\n", why);
    if (!quiet && Y) {
        const cJSON *keep = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mf.meta, "dataset"),
                                                             "keep_unlabeled");
        reel_metrics m;
        size_t left_out = 0;
        if (reel_metrics_compute_labelled(&m, Y, pred, n, L, cJSON_IsTrue(keep), &left_out) == 0)
            fprintf(stderr, "reel: %zu rows with labels: samples-F1 %.4f, micro-F1 %.4f, hamming accuracy %.4f\n",
                    m.n, m.samples_f1, m.micro_f1, m.hamming_accuracy);
        if (left_out)
            fprintf(stderr, "reel: %zu row%s with no positive label not scored (training left such rows out; "
                    "train with --keep-unlabeled to count them)\n", left_out, left_out > 1 ? "s" : "");
        reel_metrics_free(&m);
    }
    rc = REEL_EXIT_OK;
done:
    if (rc != REEL_EXIT_OK)
        fprintf(stderr, "reel predict: %s\n", err.msg);
    free(X);
    free(P);
    free(pred);
    free(Y);
    reel_table_free(&t);
    reel_model_file_free(&mf);
    return rc;
}
