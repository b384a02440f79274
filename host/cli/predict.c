/* reel predict: a saved model on new rows, with the training preprocessing.
 * The work is reel.h's "predict" task; this file reads the flags and
 * prints the rows (a table, CSV or JSON) and the scores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *USAGE = "--model-file FILE --data new.csv [--id COL] [--out preds.csv] [--top K] "
                           "[--format table|csv|json] [--missing-columns error|impute] [--sep CHAR|tab]";

/* The task's rows and the labels they are decided over. */
typedef struct {
    const reel_task *t;
    size_t n, L;
    const char **labels;
    const float *P;
    const unsigned char *pred;
} rows;

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

/* With --out and no --format: one line. */
static void print_summary(const char *out, const rows *r)
{
    size_t any = 0;
    for (size_t i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->L; k++)
            if (r->pred[i * r->L + k]) {
                any++;
                break;
            }
    printf("wrote %s: %zu rows, %zu with at least one predicted label\n", out, r->n, any);
}

static void print_json(const rows *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", reel_task_row_id(r->t, i));
        cJSON *pl = cJSON_AddArrayToObject(o, "predicted");
        cJSON *pr = cJSON_AddObjectToObject(o, "probabilities");
        for (size_t k = 0; k < r->L; k++) {
            if (r->pred[i * r->L + k])
                cJSON_AddItemToArray(pl, cJSON_CreateString(r->labels[k]));
            cJSON_AddNumberToObject(pr, r->labels[k], r->P[i * r->L + k]);
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
static int print_table(const rows *r, size_t top)
{
    size_t L = r->L;
    ranked *rk = malloc((L ? L : 1) * sizeof *rk);
    if (!rk)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        printf("%-40.40s ", reel_task_row_id(r->t, i));
        int any = 0;
        for (size_t k = 0; k < L; k++)
            if (r->pred[i * L + k]) {
                printf("%s%s", any ? "|" : "", r->labels[k]);
                any = 1;
            }
        if (!any)
            printf("(none)");
        if (top > 0) {
            for (size_t k = 0; k < L; k++)
                rk[k] = (ranked){k, r->P[i * L + k]};
            qsort(rk, L, sizeof *rk, by_p);
            printf("   top:");
            for (size_t q = 0; q < top && q < L; q++)
                printf(" %s %.2f", r->labels[rk[q].k], (double)rk[q].p);
        }
        printf("\n");
    }
    free(rk);
    return 0;
}

/* The rows on stdout in the format asked for (or the summary line). */
static int print_rows(const reel_task *t, const cJSON *doc, const char *format, const char *out, int top)
{
    const cJSON *names = cJSON_GetObjectItem(doc, "labels"), *it;
    rows r = {t, reel_task_rows(t), (size_t)cJSON_GetArraySize(names), NULL, reel_task_probabilities(t),
              reel_task_decisions(t)};
    if (!(r.labels = malloc((r.L ? r.L : 1) * sizeof *r.labels)))
        return -1;
    size_t k = 0;
    cJSON_ArrayForEach(it, names)
        r.labels[k++] = it->valuestring;
    int rc = 0;
    if (!format && out)
        print_summary(out, &r);
    else if (format && strcmp(format, "json") == 0)
        print_json(&r);
    else if (format && strcmp(format, "csv") == 0)
        fputs(cJSON_GetObjectItem(doc, "csv")->valuestring, stdout);
    else
        rc = print_table(&r, (size_t)top);
    free(r.labels);
    return rc;
}

/* The scores, when the rows have labels (or why they could not be read). */
static void print_scores(const cJSON *doc, int quiet)
{
    const cJSON *why = cJSON_GetObjectItem(doc, "no_scores");
    if (cJSON_IsString(why))
        fprintf(stderr, "reel: warning: no scores: %s\n", why->valuestring);
    if (quiet || !cJSON_IsTrue(cJSON_GetObjectItem(doc, "with_labels")))
        return;
    const cJSON *s = cJSON_GetObjectItem(doc, "scores");
    const cJSON *target = cJSON_GetObjectItem(doc, "target");
    int classes = cJSON_IsString(target) && strcmp(target->valuestring, "multilabel") != 0;
    if (s && classes) {
        fprintf(stderr, "reel: %zu rows with a class: accuracy %.4f, macro-F1 %.4f, log-loss %.4f",
                (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "rows")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "accuracy")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "macro_f1")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "log_loss")));
        if (cJSON_GetObjectItem(s, "f1"))
            fprintf(stderr, ", F1 %.4f", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "f1")));
        if (cJSON_GetObjectItem(s, "roc_auc"))
            fprintf(stderr, ", ROC-AUC %.4f", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "roc_auc")));
        fputc('\n', stderr);
    } else if (s)
        fprintf(stderr, "reel: %zu rows with labels: samples-F1 %.4f, micro-F1 %.4f, hamming accuracy %.4f\n",
                (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "rows")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "samples_f1")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "micro_f1")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(s, "hamming_accuracy")));
    size_t left_out = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "left_out"));
    if (left_out && classes)
        fprintf(stderr, "reel: %zu row%s with no class in the target column not scored\n", left_out,
                left_out > 1 ? "s" : "");
    else if (left_out)
        fprintf(stderr, "reel: %zu row%s with no positive label not scored (training left such rows out; "
                "train with --keep-unlabeled to count them)\n", left_out, left_out > 1 ? "s" : "");
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
    const char *sep = NULL;
    reel_optset_add(&s, "sep", OPT_STR, &sep, "CHAR|tab",
                    "the CSV's field separator (default: , ; tab or |, whichever the header line holds most)");
    reel_optset_add(&s, "quiet", OPT_FLAG, &quiet, NULL, "no progress on stderr");
    cli_error err = {{0}};
    int r = reel_parse("predict", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!model_file || !data))
        r = cli_fail(&err, "reel predict: --model-file and --data are required");
    if (r == 0 && format && strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        r = cli_fail(&err, "reel predict: --format must be table, csv or json, got '%s'", format);
    if (r == 0 && strcmp(missing_columns, "error") && strcmp(missing_columns, "impute"))
        r = cli_fail(&err, "reel predict: --missing-columns must be error or impute, got '%s'", missing_columns);
    if (r == 0 && top < 0)
        r = cli_fail(&err, "reel predict: --top must be >= 0");
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    reel_common_opts c;
    reel_common_defaults(&c);
    c.threads = threads;
    c.quiet = quiet;
    c.encoding = encoding;
    if (reel_common_apply("predict", &c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_file", model_file);
    cJSON_AddStringToObject(o, "data", data);
    const char *const opt[][2] = {{"id", id}, {"out", out}, {"encoding", encoding}, {"sep", sep}};
    for (size_t i = 0; i < 4; i++)
        if (opt[i][1])
            cJSON_AddStringToObject(o, opt[i][0], opt[i][1]);
    cJSON_AddStringToObject(o, "missing_columns", missing_columns);
    if (threads != REEL_OPT_UNSET)
        cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddBoolToObject(o, "csv", format && strcmp(format, "csv") == 0);
    reel_task *t = reel_cli_task("predict", o);
    cJSON_Delete(o);
    if ((r = reel_cli_run(t, "predict")))
        return r;
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "mixed_columns"))
        if (!quiet)
            fprintf(stderr, "reel predict: warning: column '%s' holds numbers and %zu text cell(s) (first: line %zu, "
                    "'%s'), read as missing\n", cJSON_GetObjectItem(m, "column")->valuestring,
                    (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "cells")),
                    (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "line")),
                    cJSON_GetObjectItem(m, "first")->valuestring);
    int rc = REEL_EXIT_OK;
    if (print_rows(t, doc, format, out, top)) {
        fprintf(stderr, "reel predict: out of memory\n");
        rc = REEL_EXIT_RUNTIME;
    } else {
        print_scores(doc, quiet);
    }
    cJSON_Delete(doc);
    reel_task_free(t);
    return rc;
}
