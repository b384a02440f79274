/* reel search and reel select: tuning without the test rows, then one
 * final score of the chosen settings on the test split. The work is
 * reel.h's "search" and "select" tasks; this file reads the flags and
 * prints their documents. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

/* Options both commands share. */
typedef struct {
    reel_common_opts c;
    const char *model, *params_file, *metric, *out, *format;
    int folds;
} tune_opts;

static void add_tune_opts(reel_optset *s, tune_opts *t)
{
    reel_optset_add(s, "model", OPT_STR, &t->model, "NAME", "the model to tune");
    reel_add_data_opts(s, &t->c);
    reel_optset_add(s, "params", OPT_STR, &t->params_file, "FILE", "base params (default: the model's defaults)");
    reel_optset_add(s, "folds", OPT_INT, &t->folds, "K", "K-fold cross-validation over the training rows "
                    "(default: score on the validation split)");
    reel_optset_add(s, "metric", OPT_STR, &t->metric, "NAME", "samples-f1 (default), micro-f1 or macro-f1");
    reel_optset_add(s, "out", OPT_STR, &t->out, "DIR", "write the result JSON (and best params) here");
    reel_optset_add(s, "format", OPT_STR, &t->format, "table|json", "result format on stdout (table)");
    reel_add_run_opts(s, &t->c);
}

/* Parses and checks what the task does not (the task checks the rest);
 * returns -1 on usage error (printed), 1 for --help. */
static int parse_tune(const char *cmd, const char *usage, reel_optset *s, tune_opts *t, int argc, char **argv)
{
    cli_error err = {{0}};
    int r = reel_parse_with_models(cmd, usage, s, argc, argv, &err);
    if (r == 1)
        return 1;
    if (r == 0 && !t->model)
        r = cli_fail(&err, "reel %s: --model is required; valid models: %s", cmd, reel_cli_model_names());
    char *def = r == 0 ? reel_model_definition(t->model) : NULL;
    if (r == 0 && !def)
        r = cli_fail(&err, "reel %s: %s", cmd, reel_last_error());
    reel_free(def);
    if (r == 0 && strcmp(t->format, "table") && strcmp(t->format, "json"))
        r = cli_fail(&err, "reel %s: --format must be table or json, got '%s'", cmd, t->format);
    if (r == 0)
        r = reel_common_apply(cmd, &t->c, &err);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The task's options from the flags both commands share. */
static cJSON *tune_options(const tune_opts *t)
{
    cJSON *o = reel_common_options(&t->c);
    cJSON_AddStringToObject(o, "model", t->model);
    if (t->params_file)
        cJSON_AddStringToObject(o, "params_file", t->params_file);
    cJSON_AddNumberToObject(o, "folds", t->folds);
    cJSON_AddStringToObject(o, "metric", t->metric);
    if (t->out)
        cJSON_AddStringToObject(o, "out", t->out);
    return o;
}

/* Runs task cmd with options o (taken): --format json prints its document
 * as it is; a table gets it parsed. NULL when there is no table to print,
 * *rc the exit code (a failure said on stderr). */
static cJSON *run_task(const char *cmd, cJSON *o, const char *format, int *rc)
{
    reel_task *task = reel_cli_task(cmd, o);
    cJSON_Delete(o);
    if ((*rc = reel_cli_run(task, cmd)))
        return NULL;
    cJSON *doc = NULL;
    if (strcmp(format, "json") == 0)
        printf("%s\n", reel_task_result(task));
    else if (!(doc = cJSON_Parse(reel_task_result(task)))) {
        fprintf(stderr, "reel %s: out of memory\n", cmd);
        *rc = REEL_EXIT_RUNTIME;
    }
    reel_task_free(task);
    return doc;
}

static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A number of the document (null, for what was not measured: NaN). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = item(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The metric's value among a document's metrics: a binary or multiclass
 * target's ("accuracy" for samples-f1 and micro-f1) or the labels'. */
static double metric_value(const cJSON *m, const char *metric)
{
    if (item(m, "accuracy") && (strcmp(metric, "samples-f1") == 0 || strcmp(metric, "micro-f1") == 0))
        metric = "accuracy";
    char key[32];
    snprintf(key, sizeof key, "%s", metric);
    for (char *c = key; *c; c++)
        *c = *c == '-' ? '_' : *c;
    return num(m, key);
}

/* The test score line of search and select: under the rule, and at the
 * model's thresholds beside. */
static void print_test(const tune_opts *t, const char *what, const cJSON *doc)
{
    const cJSON *m = item(doc, "test_metrics"), *rule = item(doc, "test_decision_rule");
    if (!cJSON_IsNumber(item(m, "samples_f1")) && !cJSON_IsNumber(item(m, "accuracy"))) {
        /* warned: nothing measured, no zeros that read as scores */
        printf("test %s %s: not measured (no test rows)\n", t->metric, what);
        return;
    }
    printf("test %s %s: %.4f under its rule %s (%.4f at the model's own thresholds)\n", t->metric, what,
           metric_value(m, t->metric), cJSON_IsString(rule) ? rule->valuestring : "",
           metric_value(item(doc, "test_metrics_at_model_thresholds"), t->metric));
}

/* On a device: each round's fits in one launch; the most nets that
 * shared one, round by round. */
static void print_rounds(const cJSON *doc, const char *lead)
{
    const cJSON *rounds = item(doc, "rounds"), *r;
    double together = 0;
    cJSON_ArrayForEach(r, rounds)
        together += num(r, "nets_per_launch");
    if (!(together > 0))
        return;
    cJSON_ArrayForEach(r, rounds)
        printf("%s%zu%s", r == rounds->child ? lead : ", ", (size_t)num(r, "nets_per_launch"), r->next ? "" : "\n");
}

/* Keys of b that differ from the base a: a short label for a trial; the
 * base itself is "(base_name)". */
static char *diff_label(const cJSON *defaults, const cJSON *b, const char *base_name)
{
    cJSON *d = cJSON_CreateObject();
    for (const cJSON *it = b->child; it; it = it->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(defaults, it->string);
        if (!v || !cJSON_Compare(v, it, 1))
            cJSON_AddItemToObject(d, it->string, cJSON_Duplicate(it, 1));
    }
    char *s = NULL;
    if (d->child)
        s = cJSON_PrintUnformatted(d);
    else if ((s = malloc(strlen(base_name) + 3)))
        sprintf(s, "(%s)", base_name);
    cJSON_Delete(d);
    return s;
}

static int by_score(const void *a, const void *b)
{
    double x = num(*(const cJSON *const *)a, "score"), y = num(*(const cJSON *const *)b, "score");
    return (x < y) - (x > y);
}

/* The trials best first, each by what it changes from the base (the first
 * trial), then the best and its test score. */
static int print_search(const tune_opts *t, const cJSON *doc)
{
    const char *base_name = t->params_file ? "your --params" : "defaults";
    const cJSON *trials = item(doc, "trials"), *best = item(doc, "best");
    const cJSON *base = item(cJSON_GetArrayItem(trials, 0), "params");
    size_t n = (size_t)cJSON_GetArraySize(trials), i = 0;
    const cJSON **order = malloc((n ? n : 1) * sizeof *order), *tr;
    if (!order)
        return -1;
    cJSON_ArrayForEach(tr, trials)
        order[i++] = tr;
    qsort(order, n, sizeof *order, by_score);
    printf("%s under --decision %s (chosen on each validation part, cross-fitted there); at thr.: at the "
           "model's own thresholds\n", t->metric, t->c.decision);
    printf("%4s %10s %8s %8s %8s  %s\n", "rank", t->metric, "std", "at thr.", "seconds",
           "params (changes from the base)");
    for (i = 0; i < n; i++) {
        char *lab = diff_label(base, item(order[i], "params"), base_name);
        printf("%4zu %10.4f %8.4f %8.4f %8.2f  %s\n", i + 1, num(order[i], "score"), num(order[i], "score_std"),
               num(order[i], "score_at_model_thresholds"), num(order[i], "seconds"), lab);
        free(lab);
    }
    free(order);
    print_rounds(doc, "\nnets per launch, round by round: ");
    char *bp = cJSON_PrintUnformatted(item(best, "params"));
    printf("\nbest %s %.4f under --decision %s (%s %.4f) with %s\n", t->metric, num(best, "score"), t->c.decision,
           base_name, num(doc, "default_score"), bp);
    cJSON_free(bp);
    print_test(t, "of the best", doc);
    if (t->out)
        printf("wrote %s/search.json and %s/best_params.json (reel train/compare --params accept it)\n", t->out,
               t->out);
    return 0;
}

/* Each feature's deltas and what became of it, the scores with every
 * feature and with the kept ones, and the test score. */
static void print_select(const tune_opts *t, const char *method, const cJSON *doc)
{
    const cJSON *rejected = item(doc, "rejected"), *f;
    double reference = num(doc, "reference_score");
    const char *under = cJSON_GetStringValue(item(doc, "scored_under"));
    printf("deltas of %s (at thr.: at the model's own thresholds); scored under: %s\n", t->metric, under);
    printf("%-28s %10s %10s  %s\n", "feature", "delta", "at thr.", "");
    cJSON_ArrayForEach(f, item(doc, "features"))
    {
        const char *name = item(f, "name")->valuestring;
        int was_rejected = 0; /* the method dropped it, but the set without scored below every feature */
        const cJSON *r;
        cJSON_ArrayForEach(r, item(rejected, "dropped"))
            was_rejected |= strcmp(r->valuestring, name) == 0;
        printf("%-28s %+10.4f %+10.4f  %s\n", name, num(f, "delta"), num(f, "delta_at_model_thresholds"),
               cJSON_IsTrue(item(f, "dropped")) ? "dropped"
               : was_rejected                   ? "kept (dropping it was rejected)"
                                                : "kept");
    }
    printf("\n%s %s: %.4f with every feature, %.4f with the %d kept (scored under: %s)\n", method, t->metric,
           reference, num(doc, "selected_score"), cJSON_GetArraySize(item(doc, "kept")), under);
    print_test(t, "with the kept features", doc);
    if (cJSON_IsObject(rejected))
        printf("(%s chose to drop %d features, which scored %.4f on the validation rows, below every "
               "feature's %.4f: all are kept)\n", method, cJSON_GetArraySize(item(rejected, "dropped")),
               num(rejected, "score"), reference);
    print_rounds(doc, "nets per launch, round by round: ");
    if (t->out)
        printf("wrote %s/selection.json (use it with --features)\n", t->out);
}

int reel_cmd_search(int argc, char **argv)
{
    tune_opts t = {.metric = "samples-f1", .format = "table"};
    reel_common_defaults(&t.c);
    const char *grid_file = NULL, *strategy = "one-at-a-time";
    int budget = REEL_OPT_UNSET;
    reel_optset s = {0};
    add_tune_opts(&s, &t);
    reel_optset_add(&s, "grid", OPT_STR, &grid_file, "FILE", "JSON {param: [values]} (default: the model's grid)");
    reel_optset_add(&s, "strategy", OPT_STR, &strategy, "NAME", "one-at-a-time (default), coordinate, grid, random");
    reel_optset_add(&s, "budget", OPT_INT, &budget, "N", "random: number of trials");
    const char *journal_file = NULL;
    int resume = 0;
    reel_optset_add(&s, "journal", OPT_STR, &journal_file, "FILE",
                    "write every finished trial here (atomically, after each one)");
    reel_optset_add(&s, "resume", OPT_FLAG, &resume, NULL,
                    "take the trials --journal FILE already holds instead of fitting them again");
    int r = parse_tune("search", "--model NAME [data options] [--grid FILE] [--strategy S] [--budget N] "
                       "[--folds K] [--metric M] [--out DIR] [--journal FILE [--resume]] [--format table|json]",
                       &s, &t, argc, argv);
    if (r)
        return r == 1 ? REEL_EXIT_OK : REEL_EXIT_USAGE;
    cJSON *o = tune_options(&t);
    cJSON_AddStringToObject(o, "strategy", strategy);
    if (grid_file)
        cJSON_AddStringToObject(o, "grid_file", grid_file);
    if (budget != REEL_OPT_UNSET)
        cJSON_AddNumberToObject(o, "budget", budget);
    if (journal_file)
        cJSON_AddStringToObject(o, "journal", journal_file);
    if (resume)
        cJSON_AddTrueToObject(o, "resume");
    int rc;
    cJSON *doc = run_task("search", o, t.format, &rc);
    if (doc && print_search(&t, doc)) {
        fprintf(stderr, "reel search: out of memory\n");
        rc = REEL_EXIT_RUNTIME;
    }
    cJSON_Delete(doc);
    return rc;
}

int reel_cmd_select(int argc, char **argv)
{
    tune_opts t = {.metric = "samples-f1", .format = "table"};
    reel_common_defaults(&t.c);
    const char *method = "single-pass";
    reel_optset s = {0};
    add_tune_opts(&s, &t);
    reel_optset_add(&s, "method", OPT_STR, &method, "NAME", "single-pass (default), backward, permutation");
    int r = parse_tune("select", "--model NAME [data options] [--method M] [--folds K] [--params FILE] "
                       "[--metric M] [--out DIR] [--format table|json]", &s, &t, argc, argv);
    if (r)
        return r == 1 ? REEL_EXIT_OK : REEL_EXIT_USAGE;
    cJSON *o = tune_options(&t);
    cJSON_AddStringToObject(o, "method", method);
    int rc;
    cJSON *doc = run_task("select", o, t.format, &rc);
    if (doc)
        print_select(&t, method, doc);
    cJSON_Delete(doc);
    return rc;
}
