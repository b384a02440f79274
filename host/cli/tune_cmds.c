/* reel search and reel select: tuning without the test rows, then one
 * final score of the chosen settings on the test split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/params_file.h"
#include "dist/dist.h"
#include "eval/run.h"
#include "tune/journal.h"
#include "tune/search.h"
#include "tune/select.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/interrupt.h"
#include "util/outputs.h"

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

/* Parses and checks; returns -1 on usage error (printed), 1 for --help. */
static int parse_tune(const char *cmd, const char *usage, reel_optset *s, tune_opts *t, int argc, char **argv)
{
    reel_error err = {{0}};
    int r = reel_parse(cmd, usage, s, argc, argv, &err);
    if (r == 1) {
        reel_print_models(stdout);
        return 1;
    }
    if (r == 0 && !t->model)
        r = reel_fail(&err, "reel %s: --model is required; valid models: %s", cmd, reel_model_name_list());
    if (r == 0 && !reel_model_def(t->model))
        r = reel_fail(&err, "reel %s: unknown model '%s'; valid models: %s", cmd, t->model, reel_model_name_list());
    if (r == 0 && !reel_metric_known(t->metric))
        r = reel_fail(&err, "reel %s: --metric must be samples-f1, micro-f1 or macro-f1, got '%s'", cmd, t->metric);
    if (r == 0 && strcmp(t->format, "table") && strcmp(t->format, "json"))
        r = reel_fail(&err, "reel %s: --format must be table or json, got '%s'", cmd, t->format);
    if (r == 0 && (t->folds == 1 || t->folds < 0))
        r = reel_fail(&err, "reel %s: --folds must be >= 2 (or 0 for the validation split)", cmd);
    if (r == 0)
        r = reel_common_apply(cmd, &t->c, &err);
    if (r == 0)
        r = reel_device_for_models(cmd, &t->c, (char *const *)&t->model, 1, &err);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int write_json(const char *dir, const char *name, const cJSON *doc, reel_error *err)
{
    if (reel_mkdir_p(dir, err))
        return -1;
    char *path = reel_path_join(dir, name);
    int rc = path ? reel_write_json_file(path, doc, err) : reel_fail(err, "out of memory");
    free(path);
    return rc;
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
    const reel_trial *x = *(reel_trial *const *)a, *y = *(reel_trial *const *)b;
    return (x->score < y->score) - (x->score > y->score);
}

/* What decides a trial's score, for the journal; the grid and strategy
 * may change between runs. */
static cJSON *journal_identity(const tune_opts *t, const reel_prepared *p, const cJSON *base)
{
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "model", t->model);
    cJSON_AddItemToObject(id, "dataset", reel_dataset_json(p));
    cJSON_AddNumberToObject(id, "seed", (double)t->c.prep.split.seed);
    cJSON_AddNumberToObject(id, "test_fraction", t->c.prep.split.test_fraction);
    cJSON_AddNumberToObject(id, "valid_fraction", t->c.prep.split.valid_fraction);
    cJSON_AddNumberToObject(id, "folds", t->folds);
    cJSON_AddStringToObject(id, "metric", t->metric);
    cJSON_AddStringToObject(id, "decision", t->c.decision);
    cJSON_AddItemToObject(id, "base_params", cJSON_Duplicate(base, 1));
    return id;
}

/* The identity with the contents of the input files (not the grid's:
 * trials are known by their params, and the grid may grow). */
static cJSON *task_identity(const tune_opts *t, const reel_prepared *p, const cJSON *base, reel_error *err)
{
    cJSON *id = journal_identity(t, p, base);
    const char *flags[] = {"data", "csv", "params", "features"};
    const char *paths[] = {t->c.prep.data.data, p->ds.csv_path, t->params_file, t->c.prep.data.features};
    if (reel_journal_identity_files(id, flags, paths, 4, err)) {
        cJSON_Delete(id);
        return NULL;
    }
    return id;
}

/* Under mpirun: every rank runs this task (the identity, the command and
 * what else it takes: grid, strategy...) on inputs of the same contents;
 * paths and devices may differ. Takes extra. */
static int ranks_agree(const cJSON *id, const char *cmd, cJSON *extra, reel_error *err)
{
    if (reel_dist_size() <= 1) {
        cJSON_Delete(extra);
        return 0;
    }
    cJSON *task = cJSON_Duplicate(id, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(task, "dataset"), "path");
    cJSON_AddStringToObject(task, "command", cmd);
    if (extra)
        cJSON_AddItemToObject(task, "options", extra);
    int rc = reel_dist_agree(task, err);
    cJSON_Delete(task);
    return rc;
}

/* The test score line of search and select: under the rule, and at the
 * model's thresholds beside. */
static void print_test(const tune_opts *t, const char *what, const reel_test_score *ts)
{
    if (ts->metrics.n == 0) { /* warned: nothing measured, no zeros that read as scores */
        printf("test %s %s: not measured (no test rows)\n", t->metric, what);
        return;
    }
    printf("test %s %s: %.4f under its rule %s (%.4f at the model's own thresholds)\n", t->metric, what,
           reel_metric_by_name(&ts->metrics, t->metric), ts->rule, reel_metric_by_name(&ts->plain, t->metric));
}

/* The trials best first, each by what it changes from the base, then the
 * best and its test score. */
static int print_trials(const tune_opts *t, const reel_search_result *res, const cJSON *base,
                        const reel_test_score *ts)
{
    const char *base_name = t->params_file ? "your --params" : "defaults";
    const reel_trial *best = &res->trials[res->best];
    reel_trial **order = malloc((res->n ? res->n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < res->n; i++)
        order[i] = &res->trials[i];
    qsort(order, res->n, sizeof *order, by_score);
    printf("%s under --decision %s (chosen on each validation part, cross-fitted there); at thr.: at the "
           "model's own thresholds\n", t->metric, t->c.decision);
    printf("%4s %10s %8s %8s %8s  %s\n", "rank", t->metric, "std", "at thr.", "seconds",
           "params (changes from the base)");
    for (size_t i = 0; i < res->n; i++) {
        char *lab = diff_label(base, order[i]->params, base_name);
        printf("%4zu %10.4f %8.4f %8.4f %8.2f  %s\n", i + 1, order[i]->score, order[i]->score_std, order[i]->plain,
               order[i]->seconds, lab);
        free(lab);
    }
    free(order);
    size_t together = 0; /* on a device: each round's fits in one launch */
    for (size_t i = 0; i < res->n_rounds; i++)
        together += res->rounds[i].shared;
    for (size_t i = 0; together && i < res->n_rounds; i++)
        printf("%s%zu%s", i == 0 ? "\nnets per launch, round by round: " : ", ", res->rounds[i].shared,
               i + 1 == res->n_rounds ? "\n" : "");
    char *bp = cJSON_PrintUnformatted(best->params);
    printf("\nbest %s %.4f under --decision %s (%s %.4f) with %s\n", t->metric, best->score, t->c.decision,
           base_name, res->trials[res->base].score, bp);
    cJSON_free(bp);
    print_test(t, "of the best", ts);
    if (t->out)
        printf("wrote %s/search.json and %s/best_params.json (reel train/compare --params accept it)\n", t->out,
               t->out);
    return 0;
}

/* What both commands hold while they run: the prepared data, the scorer,
 * the test score and the staged --out folder (tune_end frees them). */
typedef struct {
    reel_prepared p;
    reel_scorer sc;
    reel_test_score ts;
    reel_outdir od;
    int have_p, have_sc;
} tune_run;

/* The scorer on the prepared rows, under the command's metric, folds and
 * --decision. */
static int tune_scorer(tune_run *tr, tune_opts *t, reel_error *err)
{
    if (reel_scorer_init(&tr->sc, &tr->p, t->model, t->metric, t->folds, t->c.prep.split.seed, t->c.device, err))
        return -1;
    tr->have_sc = 1;
    tr->sc.log = &t->c.log;
    tr->sc.decision = t->c.decision;
    return 0;
}

/* Says what failed (rc not OK), drops a staged --out, frees the run;
 * returns rc. */
static int tune_end(tune_run *tr, const char *cmd, int rc, const reel_error *err)
{
    if (rc != REEL_EXIT_OK)
        fprintf(stderr, "reel %s: %s\n", cmd, err->msg);
    reel_outdir_abort(&tr->od);
    reel_test_score_free(&tr->ts);
    if (tr->have_sc)
        reel_scorer_free(&tr->sc);
    if (tr->have_p)
        reel_prepared_free(&tr->p);
    return rc;
}

static void print_json(const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (text)
        printf("%s\n", text);
    cJSON_free(text);
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
    if (resume && !journal_file) {
        fprintf(stderr, "reel search: --resume needs --journal FILE (the journal of the run to resume)\n");
        return REEL_EXIT_USAGE;
    }
    reel_error err = {{0}};
    if (budget != REEL_OPT_UNSET && budget < 1) {
        fprintf(stderr, "reel search: --budget must be >= 1 (trials of --strategy random), got %d\n", budget);
        return REEL_EXIT_USAGE;
    }
    if (budget == REEL_OPT_UNSET)
        budget = 0;
    if (!reel_strategy_known(strategy) || (strcmp(strategy, "random") == 0 && budget <= 0)) {
        fprintf(stderr, "reel search: --strategy must be one-at-a-time, coordinate, grid or random (random needs "
                "--budget N)\n");
        return REEL_EXIT_USAGE;
    }
    cJSON *base = t.params_file ? reel_read_params_for(t.params_file, t.model, &err) : cJSON_CreateObject();
    cJSON *grid = grid_file ? reel_read_json_object(grid_file, &err)
                            : cJSON_Duplicate(cJSON_GetObjectItem(reel_model_def(t.model), "grid"), 1);
    int rc = REEL_EXIT_RUNTIME;
    tune_run tr = {0};
    reel_search_result res = {0};
    reel_journal journal;
    int have_journal = 0;
    if (!base || !grid)
        goto done;
    if (reel_prepare(&tr.p, &t.c.prep, &err))
        goto done;
    tr.have_p = 1;
    /* Every output is checked before the first fit; --out is staged. */
    reel_run_files rf;
    int bad_out = reel_run_files_begin(&rf, &t.c, tr.p.ds.csv_path, t.params_file, &err) ||
                  reel_run_input(&rf, "--grid", grid_file, &err) ||
                  reel_run_output(&rf, "--journal", journal_file, &err) ||
                  (t.out && reel_outdir_begin(&tr.od, &rf, t.out, &err));
    reel_run_files_free(&rf);
    if (bad_out || tune_scorer(&tr, &t, &err))
        goto done;
    reel_search_opts so = {strategy, budget, t.c.threads, &t.c.log, NULL};
    cJSON *id = journal_file || reel_dist_size() > 1 ? task_identity(&t, &tr.p, base, &err) : NULL;
    if ((journal_file || reel_dist_size() > 1) && !id)
        goto done;
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddItemToObject(extra, "grid", cJSON_Duplicate(grid, 1));
    cJSON_AddStringToObject(extra, "strategy", strategy);
    cJSON_AddNumberToObject(extra, "budget", budget);
    cJSON_AddBoolToObject(extra, "resume", resume);
    if (ranks_agree(id, "search", extra, &err)) {
        cJSON_Delete(id);
        goto done;
    }
    if (journal_file) {
        if (reel_journal_open(&journal, journal_file, id, resume, &err))
            goto done;
        have_journal = 1;
        so.journal = &journal;
        if (resume && !t.c.quiet)
            fprintf(stderr, "reel search: resuming: %zu finished trials in %s\n", journal.resumed, journal_file);
    } else {
        cJSON_Delete(id);
    }
    if (!t.c.quiet)
        fprintf(stderr, "reel search: %s, %s over %s, scored by %s under --decision %s on %s\n", t.model, strategy,
                grid_file ? grid_file : "the model's grid", t.metric, t.c.decision,
                t.folds ? "k-fold cross-validation of the training rows" : "the validation split");
    if (reel_search(&tr.sc, grid, base, &so, &res, &err))
        goto done;
    const reel_trial *best = &res.trials[res.best];
    if (reel_score_test(&tr.sc, best->params, NULL, t.c.threads, &tr.ts, &err))
        goto done;
    cJSON *doc = reel_search_json(&res, &tr.sc, strategy, &tr.ts);
    int bad = 0;
    if (t.out) {
        cJSON *bp = cJSON_CreateObject();
        cJSON_AddItemToObject(bp, t.model, cJSON_Duplicate(best->params, 1));
        bad = write_json(tr.od.stage, "search.json", doc, &err) ||
              write_json(tr.od.stage, "best_params.json", bp, &err) || reel_outdir_commit(&tr.od, &err);
        cJSON_Delete(bp);
    }
    if (!bad && strcmp(t.format, "json") == 0) {
        print_json(doc);
    } else if (!bad && print_trials(&t, &res, base, &tr.ts)) {
        reel_fail(&err, "out of memory");
        bad = 1;
    }
    cJSON_Delete(doc);
    rc = bad ? REEL_EXIT_RUNTIME : REEL_EXIT_OK;
done:
    reel_search_result_free(&res);
    if (have_journal)
        reel_journal_free(&journal);
    cJSON_Delete(base);
    cJSON_Delete(grid);
    return tune_end(&tr, "search", rc, &err);
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
    if (!reel_select_method_known(method)) {
        fprintf(stderr, "reel select: --method must be single-pass, backward or permutation, got '%s'\n", method);
        return REEL_EXIT_USAGE;
    }
    reel_error err = {{0}};
    cJSON *params = t.params_file ? reel_read_params_for(t.params_file, t.model, &err) : cJSON_CreateObject();
    int rc = REEL_EXIT_RUNTIME;
    tune_run tr = {0};
    reel_select_result res = {0};
    if (!params || reel_prepare(&tr.p, &t.c.prep, &err))
        goto done;
    tr.have_p = 1;
    reel_run_files rf;
    int bad_out = reel_run_files_begin(&rf, &t.c, tr.p.ds.csv_path, t.params_file, &err) ||
                  (t.out && reel_outdir_begin(&tr.od, &rf, t.out, &err));
    reel_run_files_free(&rf);
    if (bad_out || tune_scorer(&tr, &t, &err))
        goto done;
    if (reel_dist_size() > 1) {
        cJSON *id = task_identity(&t, &tr.p, params, &err), *extra = id ? cJSON_CreateObject() : NULL;
        cJSON_AddStringToObject(extra, "method", method);
        int differ = !id || ranks_agree(id, "select", extra, &err);
        cJSON_Delete(id);
        if (differ)
            goto done;
    }
    if (reel_select(&tr.sc, params, method, t.c.threads, &t.c.log, &res, &err))
        goto done;
    /* The model on the kept features, scored once on the test rows. */
    if (reel_score_test(&tr.sc, params, res.mask, t.c.threads, &tr.ts, &err))
        goto done;
    cJSON *doc = reel_select_json(&res, &tr.sc, method, &tr.ts);
    int n_kept = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "kept"));
    int bad = t.out && (write_json(tr.od.stage, "selection.json", doc, &err) || reel_outdir_commit(&tr.od, &err));
    if (!bad && strcmp(t.format, "json") == 0) {
        print_json(doc);
    } else if (!bad) {
        printf("deltas of %s under --decision %s (chosen on each validation part, cross-fitted there); at thr.: at "
               "the model's own thresholds\n", t.metric, t.c.decision);
        printf("%-28s %10s %10s  %s\n", "feature", "delta", "at thr.", "");
        for (size_t g = 0; g < res.n; g++)
            printf("%-28s %+10.4f %+10.4f  %s\n", res.f[g].name, res.f[g].delta, res.f[g].delta_plain,
                   res.f[g].dropped ? "dropped" : res.f[g].rejected ? "kept (dropping it was rejected)" : "kept");
        printf("\n%s %s under --decision %s: %.4f with every feature, %.4f with the %d kept\n", method, t.metric,
               t.c.decision, res.reference, res.final_score, n_kept);
        print_test(&t, "with the kept features", &tr.ts);
        if (cJSON_IsObject(cJSON_GetObjectItem(doc, "rejected")))
            printf("(%s chose to drop %d features, which scored %.4f on the validation rows, below every "
                   "feature's %.4f: all are kept)\n", method,
                   cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "rejected"), "dropped")),
                   res.rejected_score, res.reference);
        size_t together = 0; /* on a device: each round's fits in one launch per input width */
        for (size_t i = 0; i < res.n_rounds; i++)
            together += res.rounds[i].shared;
        for (size_t i = 0; together && i < res.n_rounds; i++)
            printf("%s%zu%s", i == 0 ? "nets per launch, round by round: " : ", ", res.rounds[i].shared,
                   i + 1 == res.n_rounds ? "\n" : "");
        if (t.out)
            printf("wrote %s/selection.json (use it with --features)\n", t.out);
    }
    cJSON_Delete(doc);
    rc = bad ? REEL_EXIT_RUNTIME : REEL_EXIT_OK;
done:
    reel_select_result_free(&res);
    cJSON_Delete(params);
    return tune_end(&tr, "select", rc, &err);
}
