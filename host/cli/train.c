/* reel train: fit one model, score it on the test rows, optionally save it
 * as a model file (safetensors + metadata). The work is reel.h's "train"
 * task; this file reads the flags and prints the result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *USAGE = "--model NAME [data options] [--params FILE] [--save FILE] [--out DIR] "
                           "[--format table|json] [--epochs N] [--batch-size N] [--lr X]";

/* A number of the result (null, for a metric not measured: NaN). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The table: the test metrics, overall and per label, from the task's document. */
static void print_result(const cJSON *doc)
{
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(doc, "dataset");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "model");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
    size_t test = (size_t)num(ds, "test");
    printf("model %s on %zu test rows (fit %.3f s, predict %.3f s, %s)\n", str(r, "name"), test,
           num(r, "fit_seconds"), num(r, "predict_seconds"), str(r, "device"));
    if (test == 0) {
        printf("no test rows: nothing measured\n");
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(m, "per_class")) { /* a binary or multiclass target (docs/targets.md) */
        printf("accuracy %.4f  macro-F1 %.4f  log-loss %.4f", num(m, "accuracy"), num(m, "macro_f1"),
               num(m, "log_loss"));
        if (cJSON_GetObjectItemCaseSensitive(m, "roc_auc"))
            printf("  F1 %.4f  ROC-AUC %.4f", num(m, "f1"), num(m, "roc_auc"));
        printf("\ndecision rule %s\n\n%-16s %9s %9s %9s %8s\n", str(r, "decision_rule"), "class", "precision",
               "recall", "F1", "support");
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "per_class"))
        printf("%-16s %9.4f %9.4f %9.4f %8zu\n", str(c, "class"), num(c, "precision"), num(c, "recall"),
               num(c, "f1"), (size_t)num(c, "support"));
        return;
    }
    printf("samples  P %.4f  R %.4f  F1 %.4f\n", num(m, "samples_precision"), num(m, "samples_recall"),
           num(m, "samples_f1"));
    printf("micro    P %.4f  R %.4f  F1 %.4f\n", num(m, "micro_precision"), num(m, "micro_recall"),
           num(m, "micro_f1"));
    printf("macro    P %.4f  R %.4f  F1 %.4f\n", num(m, "macro_precision"), num(m, "macro_recall"),
           num(m, "macro_f1"));
    printf("hamming accuracy %.4f, subset accuracy %.4f\n", num(m, "hamming_accuracy"), num(m, "subset_accuracy"));
    const char *rule = str(r, "decision_rule");
    printf("decision rule %s (chosen on the validation rows); at the model's own thresholds: samples-F1 %.4f\n\n",
           rule, num(cJSON_GetObjectItemCaseSensitive(r, "metrics_untuned"), "samples_f1"));
    int cut = strncmp(rule, "expected-f1", 11) != 0; /* the expected-F1 rules decide per row, without cuts */
    printf("%-16s %9s %9s %9s %8s %9s%s\n", "label", "precision", "recall", "F1", "support", "own t",
           cut ? "    rule t" : "");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(r, "thresholds");
    const cJSON *cuts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "decision"), "thresholds");
    const cJSON *lab;
    int k = 0;
    cJSON_ArrayForEach(lab, cJSON_GetObjectItemCaseSensitive(m, "per_label"))
    {
        printf("%-16s %9.4f %9.4f %9.4f %8zu %9.4g", str(lab, "label"), num(lab, "precision"), num(lab, "recall"),
               num(lab, "f1"), (size_t)num(lab, "support"), cJSON_GetArrayItem(own, k)->valuedouble);
        if (cut)
            printf(" %9.4g", cJSON_GetArrayItem(cuts, k)->valuedouble);
        printf("\n");
        k++;
    }
}

/* The task's options: the common ones and train's own. */
static cJSON *task_options(const reel_common_opts *c, const char *model, const char *params_file, const char *save,
                           const char *out, const char *checkpoint, const reel_net_opts *net)
{
    cJSON *o = reel_common_options(c);
    cJSON_AddStringToObject(o, "model", model);
    const char *const files[][2] = {{"params_file", params_file}, {"save", save}, {"out", out},
                                    {"checkpoint", checkpoint}};
    for (size_t i = 0; i < 4; i++)
        if (files[i][1])
            cJSON_AddStringToObject(o, files[i][0], files[i][1]);
    reel_net_options(o, net);
    return o;
}

int reel_cmd_train(int argc, char **argv)
{
    reel_common_opts c;
    reel_common_defaults(&c);
    const char *model = NULL, *params_file = NULL, *save = NULL, *out = NULL, *format = "table", *checkpoint = NULL;
    reel_net_opts net;
    reel_optset s = {0};
    reel_optset_add(&s, "model", OPT_STR, &model, "NAME", "the model to train (see reel compare --help)");
    reel_add_data_opts(&s, &c);
    reel_optset_add(&s, "params", OPT_STR, &params_file, "FILE", "JSON params for the model");
    reel_optset_add(&s, "save", OPT_STR, &save, "FILE", "write the trained model (safetensors)");
    reel_optset_add(&s, "out", OPT_STR, &out, "DIR", "write metrics.json and predictions here");
    reel_optset_add(&s, "format", OPT_STR, &format, "table|json", "result format on stdout (table)");
    reel_add_net_opts(&s, &net);
    reel_optset_add(&s, "checkpoint", OPT_STR, &checkpoint, "FILE",
                    "nets: save the training state here after every epoch; if FILE exists, resume from it "
                    "(same data and params; --epochs may be raised)");
    reel_add_run_opts(&s, &c);
    cli_error err = {{0}};
    int r = reel_parse_with_models("train", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && !model)
        r = cli_fail(&err, "reel train: --model is required; valid models: %s", reel_cli_model_names());
    char *def = r == 0 ? reel_model_definition(model) : NULL;
    if (r == 0 && !def)
        r = cli_fail(&err, "reel train: %s", reel_last_error());
    reel_free(def);
    if (r == 0 && strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        r = cli_fail(&err, "reel train: --format must be table or json, got '%s'", format);
    if (r == 0)
        r = reel_common_apply("train", &c, &err);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *o = task_options(&c, model, params_file, save, out, checkpoint, &net);
    reel_task *t = reel_cli_task("train", o);
    cJSON_Delete(o);
    if ((r = reel_cli_run(t, "train")))
        return r;
    const char *json = reel_task_result(t);
    if (strcmp(format, "json") == 0) {
        printf("%s\n", json);
    } else {
        cJSON *doc = cJSON_Parse(json);
        print_result(doc);
        cJSON_Delete(doc);
    }
    reel_task_free(t);
    return REEL_EXIT_OK;
}
