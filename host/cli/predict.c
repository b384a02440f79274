/* reel predict: a saved model on new rows, with the training preprocessing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "eval/metrics.h"
#include "io/predictions.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/outputs.h"

static const char *USAGE = "--model-file FILE --data new.csv [--id COL] [--out preds.csv] [--top K] "
                           "[--format table|csv|json]";

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
        if (reel_preproc_transform_range(&mf->pre, t, NULL, n, k0, k1, X, err))
            return -1;
        int j = reel_table_find(t, src);
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

/* True labels (n x L), when the new data has every label column as 0/1;
 * else NULL. */
static uint8_t *true_labels(const reel_model_file *mf, const reel_table *t)
{
    size_t n = t->nrows, L = mf->model.L;
    uint8_t *Y = malloc((n ? n : 1) * L);
    for (size_t k = 0; k < L && Y; k++) {
        int j = reel_table_find(t, mf->labels[k]);
        for (size_t i = 0; Y && i < n; i++) {
            double v = (j >= 0 && t->cols[j].type == REEL_COL_NUMERIC) ? t->cols[j].num[i] : NAN;
            if (v == 0.0 || v == 1.0)
                Y[i * L + k] = (uint8_t)v;
            else {
                free(Y);
                Y = NULL;
            }
        }
    }
    return Y;
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

static void print_csv(const reel_model_file *mf, const reel_table *t, int id_col, const float *P,
                      const uint8_t *pred)
{
    size_t n = t->nrows, L = mf->model.L;
    char buf[64];
    printf("id,predicted");
    for (size_t k = 0; k < L; k++)
        printf(",p_%s", mf->labels[k]);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        reel_csv_write_field(stdout, row_id(t, id_col, i, buf, sizeof buf));
        printf(",\"");
        for (size_t k = 0, first = 1; k < L; k++)
            if (pred[i * L + k]) {
                printf("%s%s", first ? "" : "|", mf->labels[k]);
                first = 0;
            }
        printf("\"");
        for (size_t k = 0; k < L; k++)
            printf(",%.6g", (double)P[i * L + k]);
        printf("\n");
    }
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
    const char *model_file = NULL, *data = NULL, *id = NULL, *out = NULL, *format = NULL;
    int top = 0, quiet = 0, threads = REEL_OPT_UNSET;
    reel_optset s = {0};
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "a model saved by reel train --save");
    reel_optset_add(&s, "data", OPT_STR, &data, "FILE", "CSV of new rows with the training columns");
    reel_optset_add(&s, "id", OPT_STR, &id, "COL", "id column (default: the training one, when present)");
    reel_optset_add(&s, "out", OPT_STR, &out, "FILE", "write predictions as CSV here");
    reel_optset_add(&s, "top", OPT_INT, &top, "K", "also list the K most probable labels per row");
    reel_optset_add(&s, "format", OPT_STR, &format, "table|csv|json",
                    "stdout format (table; with --out, only a summary unless given)");
    reel_optset_add(&s, "threads", OPT_INT, &threads, "N", "CPU threads");
    reel_optset_add(&s, "quiet", OPT_FLAG, &quiet, NULL, "no progress on stderr");
    reel_error err = {{0}};
    int r = reel_parse("predict", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!model_file || !data))
        r = reel_fail(&err, "reel predict: --model-file and --data are required");
    if (r == 0 && format && strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        r = reel_fail(&err, "reel predict: --format must be table, csv or json, got '%s'", format);
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
    if (reel_common_apply(&c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    const char *inputs[] = {model_file, data};
    if (out && reel_check_output_file("--out", out, inputs, 2, &err)) {
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
    if (reel_table_read_csv(&t, data, &err)) {
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
    if (reel_preproc_check_columns(&mf.pre, &t, &err))
        goto done;
    if (features(&mf, &t, id_col, X, &err))
        goto done;
    if (reel_model_predict_proba(&mf.model, X, n, P, &err))
        goto done;
    reel_decision_apply(&mf.model.rule, P, n, pred);

    Y = true_labels(&mf, &t);
    if (out) {
        reel_dataset view = {.table = t, .n = n, .L = L, .labels = mf.labels, .id_col = id_col};
        size_t *rows = malloc((n ? n : 1) * sizeof *rows);
        if (!rows) {
            reel_fail(&err, "out of memory for %zu rows", n);
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            rows[i] = i;
        int bad = reel_write_predictions(out, &view, rows, n, Y, pred, P, &err);
        free(rows);
        if (bad)
            goto done;
    }
    if (!format && out)
        print_summary(out, pred, n, L);
    else if (format && strcmp(format, "json") == 0)
        print_json(&mf, &t, id_col, P, pred);
    else if (format && strcmp(format, "csv") == 0)
        print_csv(&mf, &t, id_col, P, pred);
    else if (print_table(&mf, &t, id_col, P, pred, (size_t)top)) {
        reel_fail(&err, "out of memory");
        goto done;
    }
    if (!quiet && Y) {
        reel_metrics m;
        reel_metrics_compute(&m, Y, pred, n, L);
        fprintf(stderr, "reel: %zu rows with labels: samples-F1 %.4f, micro-F1 %.4f, hamming accuracy %.4f\n", n,
                m.samples_f1, m.micro_f1, m.hamming_accuracy);
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
