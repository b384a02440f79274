/* reel compare: train every chosen model on the same split, score each on
 * the test rows, print a leaderboard (or JSON), optionally write
 * metrics.json and predictions_<model>.csv under --out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/params_file.h"
#include "dist/dist.h"
#include "eval/report.h"
#include "eval/run.h"
#include "io/predictions.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/interrupt.h"
#include "util/outputs.h"

static const char *USAGE = "[data options] [--models a,b,...] [--params FILE] [--out DIR] [--format table|json] "
                           "[--epochs N] [--batch-size N] [--lr X]";

/* Models compared when --models is not given: definitions marked
 * "default_compare". */
static char *default_models(void)
{
    static char buf[1024];
    size_t n = 0;
    for (const char *const *name = reel_model_names(); *name; name++) {
        const cJSON *def = reel_model_def(*name);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "default_compare")))
            n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, "%s%s", n ? "," : "", *name);
    }
    return buf;
}

/* --epochs/--batch-size/--lr over the params file, for every model that
 * has the parameter (the nets); an error when none of them has it. */
static int apply_net_overrides(cJSON **params, char *const *names, size_t n, const reel_net_opts *net,
                               reel_error *err)
{
    const struct {
        const char *flag, *key;
        int set;
        double value;
    } o[] = {{"--epochs", "epochs", net->epochs != REEL_OPT_UNSET, net->epochs},
             {"--batch-size", "batch_size", net->batch != REEL_OPT_UNSET, net->batch},
             {"--lr", "lr", !isnan(net->lr), net->lr}};
    for (size_t k = 0; k < sizeof o / sizeof *o; k++)
        if (o[k].set && o[k].value <= 0)
            return reel_fail(err, "reel compare: --epochs, --batch-size and --lr must be positive");
    for (size_t k = 0; k < sizeof o / sizeof *o; k++) {
        if (!o[k].set)
            continue;
        if (!*params)
            *params = cJSON_CreateObject();
        int applied = 0;
        for (size_t i = 0; i < n; i++) {
            cJSON *mp = cJSON_GetObjectItemCaseSensitive(*params, names[i]);
            if (!mp)
                mp = cJSON_AddObjectToObject(*params, names[i]);
            applied += reel_params_override(mp, names[i], o[k].key, o[k].value);
        }
        if (!applied)
            return reel_fail(err, "reel compare: %s applies to the nets, and --models names none", o[k].flag);
    }
    return 0;
}

static int by_samples_f1(const void *a, const void *b)
{
    const reel_run *ra = *(const reel_run *const *)a, *rb = *(const reel_run *const *)b;
    double x = ra->metrics.samples_f1, y = rb->metrics.samples_f1;
    if (x != y)
        return (x < y) - (x > y);
    return (ra > rb) - (ra < rb); /* ties keep the run order */
}

/* The rule's thresholds or calibration in words; "" when it cuts at the
 * model's own thresholds. */
static const char *rule_detail(const reel_model *m, char *const *labels, char *buf, size_t size)
{
    const reel_decision *r = &m->rule;
    buf[0] = 0;
    if (r->kind == REEL_RULE_EXPECTED_F1) {
        if (r->calibrated)
            snprintf(buf, size, "probabilities calibrated per label (Platt) on the validation rows");
        return buf;
    }
    int same = 1;
    for (size_t k = 0; k < m->L; k++)
        same &= r->threshold[k] == m->threshold[k];
    if (same)
        return buf;
    if (r->kind == REEL_RULE_TUNED_GLOBAL) {
        snprintf(buf, size, "threshold %.4g for every label", (double)r->threshold[0]);
        return buf;
    }
    size_t n = 0;
    for (size_t k = 0; k < m->L && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s %.3g", k ? ", " : "thresholds ", labels[k],
                              (double)r->threshold[k]);
    return buf;
}

static int by_accuracy(const void *a, const void *b)
{
    const reel_run *ra = *(const reel_run *const *)a, *rb = *(const reel_run *const *)b;
    double x = ra->metrics.accuracy, y = rb->metrics.accuracy;
    if (x != y)
        return (x < y) - (x > y);
    return (ra > rb) - (ra < rb);
}

/* A binary or multiclass target's leaderboard (docs/targets.md), best accuracy first. */
static int print_class_table(const reel_run *runs, size_t n, reel_target_kind target)
{
    const reel_run **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        order[i] = &runs[i];
    qsort(order, n, sizeof *order, by_accuracy);
    int bin = target == REEL_TARGET_BINARY;
    printf("%-14s %9s %9s %9s", "model", "accuracy", "macro-F1", "log-loss");
    if (bin)
        printf(" %9s %9s", "F1", "ROC-AUC");
    printf(" %9s %10s  %-16s %s\n", "fit s", "predict s", "rule", "device");
    for (size_t i = 0; i < n; i++) {
        const reel_run *r = order[i];
        const reel_metrics *m = &r->metrics;
        char rule[64];
        if (m->n == 0) {
            printf("%-14s %9s %9s %9s%s", r->model.name, "-", "-", "-", bin ? "         -         -" : "");
        } else {
            printf("%-14s %9.4f %9.4f %9.4f", r->model.name, m->accuracy, m->class_macro_f1, m->log_loss);
            if (bin)
                printf(" %9.4f %9.4f", m->f1, m->roc_auc);
        }
        printf(" %9.3f %10.3f  %-16s %s\n", r->fit_seconds, r->predict_seconds,
               reel_decision_name(&r->model.rule, rule, sizeof rule), reel_run_device(r));
    }
    printf("\n%s target: best accuracy first; macro-F1 averages the classes' F1.\n", reel_target_name(target));
    free(order);
    return 0;
}

/* The leaderboard, best samples-F1 first. */
static int print_table(const reel_run *runs, size_t n, char *const *labels)
{
    const reel_run **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        order[i] = &runs[i];
    qsort(order, n, sizeof *order, by_samples_f1);
    printf("%-14s %10s %10s %10s %9s %9s %9s %9s %9s %10s  %-28s %s\n", "model", "samples-F1", "precision",
           "recall", "micro-F1", "macro-F1", "hamming", "F1 @0.5", "fit s", "predict s", "rule", "device");
    for (size_t i = 0; i < n; i++) {
        const reel_run *r = order[i];
        const reel_metrics *m = &r->metrics;
        char rule[64];
        if (m->n == 0) { /* no test rows: nothing measured, no zeros that read as scores */
            printf("%-14s %10s %10s %10s %9s %9s %9s %9s %9.3f %10.3f  %-28s %s\n", r->model.name, "-", "-", "-",
                   "-", "-", "-", "-", r->fit_seconds, r->predict_seconds,
                   reel_decision_name(&r->model.rule, rule, sizeof rule), reel_run_device(r));
            continue;
        }
        printf("%-14s %10.4f %10.4f %10.4f %9.4f %9.4f %9.4f %9.4f %9.3f %10.3f  %-28s %s\n", r->model.name,
               m->samples_f1, m->samples_precision, m->samples_recall, m->micro_f1, m->macro_f1,
               m->hamming_accuracy, r->untuned.samples_f1, r->fit_seconds, r->predict_seconds,
               reel_decision_name(&r->model.rule, rule, sizeof rule), reel_run_device(r));
    }
    printf("\nF1 @0.5: samples-F1 at the model's own thresholds (0.5 unless its params or kind set them).\n");
    for (size_t i = 0; i < n; i++) {
        char detail[2048];
        if (*rule_detail(&order[i]->model, labels, detail, sizeof detail))
            printf("%-14s %s\n", order[i]->model.name, detail);
    }
    free(order);
    return 0;
}

/* report.html and report.md from the runs. */
static int write_report(const char *dir, const reel_prepared *p, const reel_run *runs, size_t n, uint64_t seed,
                        const char *command, reel_error *err)
{
    reel_report_model *rm = calloc(n ? n : 1, sizeof *rm);
    char **ids = calloc(p->test.n ? p->test.n : 1, sizeof *ids);
    char(*rules)[64] = calloc(n ? n : 1, sizeof *rules), (*details)[2048] = calloc(n ? n : 1, sizeof *details);
    char **params = calloc(n ? n : 1, sizeof *params);
    if (!rm || !ids || !rules || !details || !params) {
        free(rm);
        free(ids);
        free(rules);
        free(details);
        free(params);
        return reel_fail(err, "report: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        params[i] = runs[i].model.params ? cJSON_PrintUnformatted(runs[i].model.params) : NULL;
    char buf[64];
    for (size_t i = 0; i < p->test.n; i++) {
        const reel_dataset *ds = &p->ds;
        size_t row = p->test.rows[i];
        if (ds->id_col >= 0)
            ids[i] = strdup(reel_table_cell(&ds->table, (size_t)ds->id_col, row, buf, sizeof buf));
        else {
            snprintf(buf, sizeof buf, "line %zu", ds->table.line[row]);
            ids[i] = strdup(buf);
        }
    }
    const char *baseline = NULL;
    double baseline_f1 = 0;
    for (size_t i = 0; i < n; i++) {
        const reel_run *r = &runs[i];
        const reel_history *h = reel_run_history(r);
        rm[i] = (reel_report_model){
            .name = r->model.name, .device = reel_run_device(r), .metrics = &r->metrics, .P = r->P,
            .pred = r->pred, .fit_seconds = r->fit_seconds, .predict_seconds = r->predict_seconds,
            .epochs = h ? h->epochs : 0, .train_loss = h ? h->train_loss : NULL,
            .valid_loss = h ? h->valid_loss : NULL, .valid_f1 = h ? h->valid_f1 : NULL,
            .rule = reel_decision_name(&r->model.rule, rules[i], sizeof rules[i]),
            .rule_detail = rule_detail(&r->model, p->ds.labels, details[i], sizeof details[i]),
            .samples_f1_untuned = r->untuned.samples_f1,
            .kept_epoch = h ? h->kept_epoch : 0, .kept_average = h ? h->kept_average : 0,
            .is_baseline = r->model.kind->is_baseline, .params = params[i],
        };
        /* the chart's line: the lowest-scoring baseline (chance, for random) */
        if (r->model.kind->is_baseline && (!baseline || r->metrics.samples_f1 < baseline_f1)) {
            baseline = r->model.name;
            baseline_f1 = r->metrics.samples_f1;
        }
    }
    char title[512], date[16];
    snprintf(title, sizeof title, "reel compare: %s", p->ds.csv_path);
    time_t now = time(NULL);
    const struct tm *utc = gmtime(&now);
    if (!utc || !strftime(date, sizeof date, "%Y-%m-%d", utc))
        strcpy(date, "unknown");
    reel_report rep = {
        .title = title, .dataset_path = p->ds.csv_path, .n_rows = p->ds.n, .n_train = p->train.n,
        .n_valid = p->valid.n, .n_test = p->test.n, .L = p->L, .labels = p->ds.labels, .d = p->d, .n_columns = p->ds.n_features,
        .features = p->feature_names, .Y = p->test.Y, .ids = ids, .n_models = n, .models = rm,
        .baseline = baseline, .seed = seed, .command = command, .date = date,
    };
    int rc = reel_report_write(dir, &rep, err);
    for (size_t i = 0; i < n; i++)
        cJSON_free(params[i]);
    free(params);
    for (size_t i = 0; i < p->test.n; i++)
        free(ids[i]);
    free(ids);
    free(rm);
    free(rules);
    free(details);
    return rc;
}

static int write_outputs(const char *dir, const reel_prepared *p, const reel_run *runs, size_t n,
                         const cJSON *doc, uint64_t seed, const char *command, reel_error *err)
{
    if (reel_mkdir_p(dir, err))
        return -1;
    char *path = reel_path_join(dir, "metrics.json");
    int rc = path ? reel_write_json_file(path, doc, err) : reel_fail(err, "out of memory");
    free(path);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char name[256];
        snprintf(name, sizeof name, "predictions_%s.csv", runs[i].model.name);
        path = reel_path_join(dir, name);
        rc = reel_write_predictions(path, &p->ds, p->test.rows, p->test.n, p->test.Y, runs[i].pred, runs[i].P,
                                    err);
        free(path);
    }
    for (size_t i = 0; i < n && rc == 0; i++) { /* nets trained on MPI ranks: their history comes with them */
        if (runs[i].model.state || !runs[i].history.csv)
            continue;
        char name[256];
        snprintf(name, sizeof name, "history_%s.csv", runs[i].model.name);
        path = reel_path_join(dir, name);
        rc = reel_write_file_atomic(path, runs[i].history.csv, err);
        free(path);
    }
    if (rc == 0 && p->test.n > 0)
        rc = write_report(dir, p, runs, n, seed, command, err);
    return rc;
}

/* Splits --models at the commas into names (at most 64, pointing into
 * *list), checking every name before any work. */
static int model_list(const char *models, char **list, char *names[64], size_t *n, reel_error *err)
{
    char *save = NULL;
    *n = 0;
    if (!(*list = strdup(models)))
        return reel_fail(err, "out of memory");
    for (char *tok = strtok_r(*list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!reel_model_def(tok))
            return reel_fail(err, "reel compare: unknown model '%s'; valid models: %s", tok, reel_model_name_list());
        if (*n < 64)
            names[(*n)++] = tok;
    }
    if (*n == 0)
        return reel_fail(err, "reel compare: --models names no model");
    return 0;
}

/* What the fits gave: the runs that worked, in order, and the models that
 * failed with their messages. */
typedef struct {
    reel_run *runs;
    size_t done;
    char **failed, **failed_msg;
    size_t n_failed;
} compare_results;

static int results_init(compare_results *r, size_t n_models)
{
    memset(r, 0, sizeof *r);
    r->runs = calloc(n_models, sizeof *r->runs);
    r->failed = calloc(n_models, sizeof *r->failed);
    r->failed_msg = calloc(n_models, sizeof *r->failed_msg);
    return r->runs && r->failed && r->failed_msg ? 0 : -1;
}

static void results_free(compare_results *r)
{
    for (size_t i = 0; i < r->n_failed; i++)
        free(r->failed_msg[i]);
    free(r->failed);
    free(r->failed_msg);
    for (size_t i = 0; i < r->done; i++)
        reel_run_free(&r->runs[i]);
    free(r->runs);
}

/* The models one after another in this process; a model that fails is
 * reported and skipped. Returns REEL_EXIT_INTERRUPTED on Ctrl-C, else OK. */
static int run_here(reel_prepared *p, char **names, size_t n_models, const cJSON *params, reel_run_opts ro,
                    const char *ck_dir, int quiet, compare_results *r, reel_error *err)
{
    reel_run *runs_t = calloc(n_models ? n_models : 1, sizeof *runs_t);
    int *together = calloc(n_models ? n_models : 1, sizeof *together);
    if (!runs_t || !together) {
        free(runs_t);
        free(together);
        reel_fail(err, "out of memory");
        return REEL_EXIT_RUNTIME;
    }
    /* the nets that train together on the device first (not with
     * --checkpoint: one file per net); when that fails, one at a time */
    const cJSON *pp[64];
    for (size_t i = 0; i < n_models; i++)
        pp[i] = cJSON_GetObjectItemCaseSensitive(params, names[i]);
    reel_run_opts rt = ro;
    rt.checkpoint = ck_dir;
    reel_error e;
    if (reel_run_nets_first(p, names, pp, n_models, &rt, runs_t, together, &e))
        fprintf(stderr, "reel compare: training the nets together failed (%s); training them one at a time\n",
                e.msg);
    int rc = REEL_EXIT_OK;
    for (size_t i = 0; i < n_models; i++) {
        if (reel_interrupted()) {
            fprintf(stderr, "reel compare: interrupted after %zu of %zu models; nothing written\n", i, n_models);
            rc = REEL_EXIT_INTERRUPTED;
            break;
        }
        if (!quiet)
            fprintf(stderr, "reel: [%zu/%zu] %s ...\n", i + 1, n_models, names[i]);
        const cJSON *mp = cJSON_GetObjectItemCaseSensitive(params, names[i]);
        char *ck = NULL;
        const reel_model_kind *kind = reel_model_def_kind(names[i]);
        if (ck_dir && kind && kind->resumable) {
            char file[300];
            snprintf(file, sizeof file, "checkpoint_%s.safetensors", names[i]);
            ck = reel_path_join(ck_dir, file);
        }
        ro.checkpoint = ck;
        int bad = 0;
        if (together[i]) {
            r->runs[r->done] = runs_t[i];
            together[i] = 0;
        } else {
            bad = reel_run_model(&r->runs[r->done], p, names[i], mp, &ro, err);
        }
        free(ck);
        if (bad && reel_interrupted()) { /* stopped, not failed: nothing is written */
            rc = REEL_EXIT_INTERRUPTED;
            break;
        }
        if (bad) {
            fprintf(stderr, "reel compare: %s failed: %s\n", names[i], err->msg);
            r->failed[r->n_failed] = names[i];
            r->failed_msg[r->n_failed++] = strdup(err->msg);
            continue;
        }
        const reel_run *done = &r->runs[r->done];
        char shared[48] = "";
        if (done->shared)
            snprintf(shared, sizeof shared, " (%zu nets per launch)", done->shared);
        if (!quiet)
            fprintf(stderr, "reel: [%zu/%zu] %s: samples-F1 %.4f, fit %.3f s%s\n", i + 1, n_models, names[i],
                    done->metrics.samples_f1, done->fit_seconds, shared);
        r->done++;
    }
    for (size_t i = 0; i < n_models; i++)
        if (together[i])
            reel_run_free(&runs_t[i]);
    free(runs_t);
    free(together);
    return rc;
}

/* The JSON document: dataset, models, and the failed ones. */
static cJSON *results_json(const reel_prepared *p, const compare_results *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "dataset", reel_dataset_json(p));
    cJSON *arr = cJSON_AddArrayToObject(doc, "models");
    for (size_t i = 0; i < r->done; i++)
        cJSON_AddItemToArray(arr, reel_run_to_json(&r->runs[i], p->ds.labels));
    if (r->n_failed) {
        cJSON *fa = cJSON_AddArrayToObject(doc, "failed");
        for (size_t i = 0; i < r->n_failed; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", r->failed[i]);
            cJSON_AddStringToObject(o, "error", r->failed_msg[i]);
            cJSON_AddItemToArray(fa, o);
        }
    }
    return doc;
}

/* compare under mpirun: the models spread over the ranks, one at a time
 * per rank on all its threads (as one process runs them), each coming
 * back as bytes (eval/run_pack.c). A model that fails is reported, as in
 * one process; its message travels in place of the run. */
typedef struct {
    reel_prepared *p;
    char **names;
    const cJSON *params;
    reel_run_opts ro;
} spread_models;

static int model_item(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err)
{
    spread_models *sm = ctx;
    if (reel_interrupted())
        return reel_fail(err, "interrupted: stopped before the next model; nothing was written");
    reel_run_opts ro = sm->ro;
    ro.threads = threads;
    ro.out_dir = NULL; /* rank 0 writes every output, the nets' histories too */
    reel_run r;
    reel_error e;
    unsigned char *body = NULL;
    size_t len = 0;
    int ok = reel_run_model(&r, sm->p, sm->names[i], cJSON_GetObjectItemCaseSensitive(sm->params, sm->names[i]),
                            &ro, &e) == 0;
    if (ok) {
        body = reel_run_pack(&r, &len);
        reel_run_free(&r);
        if (!body)
            return reel_fail(err, "%s: out of memory packing the result", sm->names[i]);
    } else {
        len = strlen(e.msg) + 1;
        body = (unsigned char *)strdup(e.msg);
    }
    out->data = malloc(len + 1);
    ((unsigned char *)out->data)[0] = (unsigned char)ok;
    memcpy((unsigned char *)out->data + 1, body, len);
    out->len = len + 1;
    free(body);
    return 0;
}

static void model_label(void *ctx, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "model %s", ((spread_models *)ctx)->names[i]);
}

static void model_done(void *ctx, size_t i, const reel_blob *b)
{
    spread_models *sm = ctx;
    reel_log_msg(sm->ro.log, REEL_LOG_INFO, "%s %s", sm->names[i], ((unsigned char *)b->data)[0] ? "done" : "failed");
}

/* Fills runs[0..*done) and the failures as the one-process loop does. */
static int compare_spread(reel_prepared *p, char **names, size_t n_models, const cJSON *params,
                          const reel_run_opts *ro, reel_run *runs, size_t *done, char **failed, char **failed_msg,
                          size_t *n_failed, reel_error *err)
{
    if (reel_prepared_standardize(p, err)) /* before the items share p */
        return -1;
    spread_models sm = {p, names, params, *ro};
    reel_blob *res = calloc(n_models, sizeof *res);
    reel_dist_job job = {.n = n_models, .threads = ro->threads, .whole = 1, .run = model_item,
                         .label = model_label, .done = model_done, .ctx = &sm};
    int rc = reel_dist_map(&job, res, err);
    for (size_t i = 0; i < n_models && rc == 0; i++) {
        const unsigned char *b = res[i].data;
        if (!b[0]) {
            fprintf(stderr, "reel compare: %s failed: %s\n", names[i], (const char *)b + 1);
            failed[*n_failed] = names[i];
            failed_msg[(*n_failed)++] = strdup((const char *)b + 1);
            continue;
        }
        rc = reel_run_unpack(&runs[*done], p, names[i], cJSON_GetObjectItemCaseSensitive(params, names[i]), b + 1,
                             res[i].len - 1, err);
        if (rc == 0)
            (*done)++;
    }
    reel_blobs_free(res, n_models);
    free(res);
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
    const char *models = NULL, *out = NULL, *format = "table", *params_file = NULL, *ck_dir = NULL;
    reel_optset s = {0};
    reel_add_data_opts(&s, &c);
    reel_optset_add(&s, "models", OPT_STR, &models, "A,B", "models to compare (default: all marked default)");
    reel_optset_add(&s, "params", OPT_STR, &params_file, "FILE",
                    "JSON object of params keyed by model name; {\"NEW\": {\"base\": \"box\", ...}} names a variant");
    reel_optset_add(&s, "out", OPT_STR, &out, "DIR", "write the report (report.html, report.md), metrics.json and predictions_<model>.csv here");
    reel_optset_add(&s, "format", OPT_STR, &format, "table|json", "leaderboard format on stdout (table)");
    reel_net_opts net;
    reel_add_net_opts(&s, &net);
    reel_optset_add(&s, "checkpoint", OPT_STR, &ck_dir, "DIR",
                    "nets: keep each net's training state in DIR/checkpoint_<model>.safetensors and resume "
                    "from it (see reel train --checkpoint)");
    reel_add_run_opts(&s, &c);
    reel_error err = {{0}};
    int r = reel_parse("compare", USAGE, &s, argc, argv, &err);
    if (r == 1)
        reel_print_models(stdout);
    if (r)
        goto usage_or_help;
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        reel_fail(&err, "reel compare: --format must be table or json, got '%s'", format);
        goto usage;
    }
    if (!models)
        models = default_models();
    char *list = NULL, *names[64];
    size_t n_models = 0;
    if (model_list(models, &list, names, &n_models, &err)) {
        free(list);
        goto usage;
    }
    if (reel_common_apply("compare", &c, &err) || reel_device_for_models("compare", &c, names, n_models, &err)) {
        free(list);
        goto usage;
    }
    cJSON *params = NULL;
    if (params_file && !(params = reel_read_params_by_model(params_file, &err))) {
        free(list);
        goto runtime;
    }
    if (apply_net_overrides(&params, names, n_models, &net, &err)) {
        cJSON_Delete(params);
        free(list);
        goto usage;
    }

    if (ck_dir && reel_dist_size() > 1) {
        reel_fail(&err, "reel compare: --checkpoint works in one process; run it without mpirun");
        free(list);
        goto usage;
    }
    reel_prepared p;
    if (reel_prepare(&p, &c.prep, &err)) {
        cJSON_Delete(params);
        free(list);
        goto runtime;
    }
    if (!c.quiet) {
        fprintf(stderr, "reel: %s: %zu rows (%zu train, %zu valid, %zu test), %zu feature columns (%zu inputs once "
                "encoded), %zu labels; loaded in %.2f s\n", p.ds.csv_path, p.ds.n, p.train.n, p.valid.n, p.test.n,
                p.ds.n_features, p.d, p.L, p.load_seconds);
        reel_prepared_warn(&p, &c.log);
    }
    reel_prepared_warn_untested(&p, &c.log);
    /* Every output is checked before the first fit; --out is staged. */
    reel_run_files rf;
    reel_outdir od = {0};
    int bad_out = reel_run_files_begin(&rf, &c, p.ds.csv_path, params_file, &err) ||
                  reel_run_output_folder(&rf, "--checkpoint", ck_dir, &err) ||
                  (out && reel_outdir_begin(&od, &rf, out, &err));
    reel_run_files_free(&rf);
    if (bad_out) {
        reel_prepared_free(&p);
        cJSON_Delete(params);
        free(list);
        goto runtime;
    }

    /* A model that fails is reported and skipped; the others still run. */
    compare_results res;
    reel_run_opts ro = {c.prep.split.seed, c.threads, c.device, &c.log, od.stage, c.decision, NULL};
    int rc = REEL_EXIT_OK;
    if (results_init(&res, n_models)) {
        reel_fail(&err, "out of memory");
        rc = REEL_EXIT_RUNTIME;
    } else if (reel_dist_size() > 1) {
        if (compare_spread(&p, names, n_models, params, &ro, res.runs, &res.done, res.failed, res.failed_msg,
                           &res.n_failed, &err)) {
            rc = reel_interrupted() ? REEL_EXIT_INTERRUPTED : REEL_EXIT_RUNTIME;
            if (rc == REEL_EXIT_INTERRUPTED)
                fprintf(stderr, "reel compare: %s\n", err.msg);
        }
    } else {
        rc = run_here(&p, names, n_models, params, ro, ck_dir, c.quiet, &res, &err);
    }
    if (rc == REEL_EXIT_OK && res.done == 0) {
        reel_fail(&err, "every model failed");
        rc = REEL_EXIT_RUNTIME;
    }
    if (rc == REEL_EXIT_OK) {
        cJSON *doc = results_json(&p, &res);
        if (out && (write_outputs(od.stage, &p, res.runs, res.done, doc, c.prep.split.seed, command, &err) ||
                    reel_outdir_commit(&od, &err)))
            rc = REEL_EXIT_RUNTIME;
        else if (strcmp(format, "json") == 0) {
            char *json = cJSON_Print(doc);
            printf("%s\n", json);
            cJSON_free(json);
        } else if (p.ds.target != REEL_TARGET_MULTILABEL ? print_class_table(res.runs, res.done, p.ds.target)
                                                          : print_table(res.runs, res.done, p.ds.labels)) {
            reel_fail(&err, "out of memory");
            rc = REEL_EXIT_RUNTIME;
        }
        if (rc == REEL_EXIT_OK && out && !c.quiet)
            fprintf(stderr, "reel: wrote %s/metrics.json, report.html, report.md and %zu prediction files\n", out,
                    res.done);
        if (rc == REEL_EXIT_OK && res.n_failed) {
            reel_fail(&err, "%zu of %zu models failed (see above)", res.n_failed, n_models);
            rc = REEL_EXIT_RUNTIME;
        }
        cJSON_Delete(doc);
    }
    reel_outdir_abort(&od); /* on success the stage is already in place */
    results_free(&res);
    reel_prepared_free(&p);
    cJSON_Delete(params);
    free(list);
    if (rc == REEL_EXIT_RUNTIME)
        fprintf(stderr, "reel compare: %s\n", err.msg);
    return rc;

usage_or_help:
    if (r == 1)
        return REEL_EXIT_OK;
usage:
    fprintf(stderr, "%s\n", err.msg);
    return REEL_EXIT_USAGE;
runtime:
    fprintf(stderr, "reel compare: %s\n", err.msg);
    return REEL_EXIT_RUNTIME;
}
