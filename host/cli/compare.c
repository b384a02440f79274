/* reel compare: train every chosen model on the same split, score each on
 * the test rows, print a leaderboard (or JSON), optionally write
 * metrics.json, predictions_<model>.csv and the report under --out. The
 * work is reel.h's "compare" task; this file reads the flags and prints
 * the result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *USAGE = "[data options] [--models a,b,...] [--params FILE] [--out DIR] [--format table|json] "
                           "[--metric NAME] [--epochs N] [--batch-size N] [--lr X]";

/* A number of the document (NaN when null: not measured). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double val(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A string of the document ("" when absent); key NULL: o itself. */
static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = key ? cJSON_GetObjectItemCaseSensitive(o, key) : o;
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The document's models in the order of its "ranking" (best first). */
static const cJSON **ranked(const cJSON *doc, size_t *n)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(doc, "models"), *name;
    const cJSON **order = calloc((size_t)cJSON_GetArraySize(models) + 1, sizeof *order);
    *n = 0;
    if (!order)
        return NULL;
    cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(doc, "ranking"))
    {
        const cJSON *m;
        cJSON_ArrayForEach(m, models)
        if (strcmp(str(m, "name"), name->valuestring) == 0) {
            order[(*n)++] = m;
            break;
        }
    }
    return order;
}

/* The rule's thresholds or calibration in words; "" when it cuts at the
 * model's own thresholds. */
static const char *rule_detail(const cJSON *m, const cJSON *labels, char *buf, size_t size)
{
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(m, "decision");
    const cJSON *cuts = cJSON_GetObjectItemCaseSensitive(rule, "thresholds");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(m, "thresholds");
    buf[0] = 0;
    if (strcmp(str(rule, "rule"), "expected-f1") == 0) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rule, "calibrated")))
            snprintf(buf, size, "probabilities calibrated per label (Platt) on the validation rows");
        return buf;
    }
    int L = cJSON_GetArraySize(own), same = 1;
    for (int k = 0; k < L; k++)
        same &= val(cJSON_GetArrayItem(cuts, k)) == val(cJSON_GetArrayItem(own, k));
    if (same)
        return buf;
    if (strcmp(str(rule, "rule"), "tuned-global") == 0) {
        snprintf(buf, size, "threshold %.4g for every label", val(cJSON_GetArrayItem(cuts, 0)));
        return buf;
    }
    size_t n = 0;
    for (int k = 0; k < L && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s %.3g", k ? ", " : "thresholds ",
                              str(cJSON_GetArrayItem(labels, k), NULL), val(cJSON_GetArrayItem(cuts, k)));
    return buf;
}

/* A binary or multiclass target's leaderboard (docs/targets.md). */
static int print_class_table(const cJSON *doc, int tested)
{
    size_t n;
    const cJSON **order = ranked(doc, &n);
    if (!order)
        return -1;
    int bin = n && cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(order[0], "metrics"), "f1");
    printf("%-14s %9s %9s %9s", "model", "accuracy", "macro-F1", "log-loss");
    if (bin)
        printf(" %9s %9s", "F1", "ROC-AUC");
    printf(" %9s %10s  %-16s %s\n", "fit s", "predict s", "rule", "device");
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = order[i], *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        if (!tested) {
            printf("%-14s %9s %9s %9s%s", str(r, "name"), "-", "-", "-", bin ? "         -         -" : "");
        } else {
            printf("%-14s %9.4f %9.4f %9.4f", str(r, "name"), num(m, "accuracy"), num(m, "macro_f1"),
                   num(m, "log_loss"));
            if (bin)
                printf(" %9.4f %9.4f", num(m, "f1"), num(m, "roc_auc"));
        }
        printf(" %9.3f %10.3f  %-16s %s\n", num(r, "fit_seconds"), num(r, "predict_seconds"),
               str(r, "decision_rule"), str(r, "device"));
    }
    printf("\n%s target: best %s first; macro-F1 averages the classes' F1.\n", bin ? "binary" : "multiclass",
           str(doc, "ranked_by"));
    free(order);
    return 0;
}

/* The leaderboard of a multi-label target. */
static int print_table(const cJSON *doc, int tested)
{
    size_t n;
    const cJSON **order = ranked(doc, &n);
    if (!order)
        return -1;
    printf("%-14s %10s %10s %10s %9s %9s %9s %9s %9s %10s  %-28s %s\n", "model", "samples-F1", "precision",
           "recall", "micro-F1", "macro-F1", "hamming", "F1 @0.5", "fit s", "predict s", "rule", "device");
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = order[i], *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        if (!tested) /* no test rows: nothing measured, no zeros that read as scores */
            printf("%-14s %10s %10s %10s %9s %9s %9s %9s", str(r, "name"), "-", "-", "-", "-", "-", "-", "-");
        else
            printf("%-14s %10.4f %10.4f %10.4f %9.4f %9.4f %9.4f %9.4f", str(r, "name"), num(m, "samples_f1"),
                   num(m, "samples_precision"), num(m, "samples_recall"), num(m, "micro_f1"), num(m, "macro_f1"),
                   num(m, "hamming_accuracy"),
                   num(cJSON_GetObjectItemCaseSensitive(r, "metrics_untuned"), "samples_f1"));
        printf(" %9.3f %10.3f  %-28s %s\n", num(r, "fit_seconds"), num(r, "predict_seconds"),
               str(r, "decision_rule"), str(r, "device"));
    }
    printf("\nF1 @0.5: samples-F1 at the model's own thresholds (0.5 unless its params or kind set them).\n");
    if (strcmp(str(doc, "ranked_by"), "samples-f1") != 0)
        printf("Ranked by %s, best first.\n", str(doc, "ranked_by"));
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "dataset"), "labels");
    for (size_t i = 0; i < n; i++) {
        char detail[2048];
        if (*rule_detail(order[i], labels, detail, sizeof detail))
            printf("%-14s %s\n", str(order[i], "name"), detail);
    }
    free(order);
    return 0;
}

static int print_result(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "models"), 0);
    int tested = num(cJSON_GetObjectItemCaseSensitive(doc, "dataset"), "test") > 0;
    int classes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(first, "metrics"), "per_class") != NULL;
    int rc = !doc || !first ? -1 : classes ? print_class_table(doc, tested) : print_table(doc, tested);
    cJSON_Delete(doc);
    return rc;
}

/* "reel compare ARGS", each argument shell-quoted when it needs it, so the
 * report's command can be pasted back into a shell. */
static void command_line(int argc, char **argv, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "reel compare");
    for (int i = 0; i < argc && n + 1 < size; i++) {
        int plain = argv[i][0] != '\0';
        for (const char *c = argv[i]; *c && plain; c++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:+@%", *c) != NULL;
        n += (size_t)snprintf(buf + n, size - n, plain ? " " : " '");
        for (const char *c = argv[i]; *c && n + 5 < size; c++)
            n += (size_t)(*c == '\'' ? snprintf(buf + n, size - n, "'\\''") : snprintf(buf + n, size - n, "%c", *c));
        if (!plain && n + 1 < size)
            n += (size_t)snprintf(buf + n, size - n, "'");
    }
}

int reel_cmd_compare(int argc, char **argv)
{
    char command[4096];
    command_line(argc, argv, command, sizeof command);
    reel_common_opts c;
    reel_common_defaults(&c);
    const char *models = NULL, *out = NULL, *format = "table", *params_file = NULL, *ck_dir = NULL, *metric = NULL;
    reel_optset s = {0};
    reel_add_data_opts(&s, &c);
    reel_optset_add(&s, "models", OPT_STR, &models, "A,B", "models to compare (default: all marked default)");
    reel_optset_add(&s, "params", OPT_STR, &params_file, "FILE",
                    "JSON object of params keyed by model name; {\"NEW\": {\"base\": \"box\", ...}} names a variant");
    reel_optset_add(&s, "out", OPT_STR, &out, "DIR", "write the report (report.html, report.md), metrics.json and predictions_<model>.csv here");
    reel_optset_add(&s, "format", OPT_STR, &format, "table|json", "leaderboard format on stdout (table)");
    reel_optset_add(&s, "metric", OPT_STR, &metric, "NAME",
                    "rank the leaderboard by it: samples-f1 (default), micro-f1, macro-f1; binary and multi-class "
                    "targets: accuracy (default), macro-f1; binary also f1, roc-auc");
    reel_net_opts net;
    reel_add_net_opts(&s, &net);
    reel_optset_add(&s, "checkpoint", OPT_STR, &ck_dir, "DIR",
                    "nets: keep each net's training state in DIR/checkpoint_<model>.safetensors and resume "
                    "from it (see reel train --checkpoint)");
    reel_add_run_opts(&s, &c);
    cli_error err = {{0}};
    int r = reel_parse_with_models("compare", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        r = cli_fail(&err, "reel compare: --format must be table or json, got '%s'", format);
    if (r == 0)
        r = reel_common_apply("compare", &c, &err);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *o = reel_common_options(&c);
    const char *const strings[][2] = {{"models", models},   {"params_file", params_file}, {"out", out},
                                      {"checkpoint", ck_dir}, {"metric", metric},           {"command", command}};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        if (strings[i][1])
            cJSON_AddStringToObject(o, strings[i][0], strings[i][1]);
    reel_net_options(o, &net);
    reel_task *t = reel_cli_task("compare", o);
    cJSON_Delete(o);
    r = t ? reel_task_run(t) : -1;
    int rc = r == 0 ? REEL_EXIT_OK : r == REEL_TASK_REFUSED ? REEL_EXIT_USAGE : REEL_EXIT_RUNTIME;
    if (r)
        fprintf(stderr, "reel compare: %s\n", reel_last_error());
    /* the document, also when some models failed: those that worked */
    const char *json = t ? reel_task_result(t) : NULL;
    if (json && strcmp(format, "json") == 0) {
        printf("%s\n", json);
    } else if (json && print_result(json)) {
        fprintf(stderr, "reel compare: out of memory\n");
        rc = REEL_EXIT_RUNTIME;
    }
    reel_task_free(t);
    return rc;
}
