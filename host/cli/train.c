/* reel train: fit one model, score it on the test rows, optionally save it
 * as a model file (safetensors + metadata). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/params_file.h"
#include "eval/run.h"
#include "models/params.h"
#include "io/predictions.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/interrupt.h"
#include "util/outputs.h"

static const char *USAGE = "--model NAME [data options] [--params FILE] [--save FILE] [--out DIR] "
                           "[--format table|json] [--epochs N] [--batch-size N] [--lr X]";

/* --epochs/--batch-size/--lr override the params of models that have them. */
static int apply_overrides(cJSON *params, const char *model, const reel_net_opts *n, reel_error *err)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(reel_model_def(model), "params");
    struct {
        const char *flag, *key;
        int set;
        double value;
    } o[] = {{"--epochs", "epochs", n->epochs != REEL_OPT_UNSET, n->epochs},
             {"--batch-size", "batch_size", n->batch != REEL_OPT_UNSET, n->batch},
             {"--lr", "lr", !isnan(n->lr), n->lr}};
    for (size_t i = 0; i < 3; i++) {
        if (!o[i].set)
            continue;
        if (!cJSON_GetObjectItemCaseSensitive(spec, o[i].key))
            return reel_fail(err, "reel train: %s does not apply to model '%s' (it has no '%s' parameter)",
                             o[i].flag, model, o[i].key);
        /* checked against the model's range here, as a usage error naming the flag */
        cJSON *one = cJSON_CreateObject();
        cJSON_AddNumberToObject(one, o[i].key, o[i].value);
        reel_error e;
        cJSON *ok = reel_params_resolve(model, spec, one, &e);
        cJSON_Delete(one);
        cJSON_Delete(ok);
        if (!ok) {
            const char *why = strstr(e.msg, " must be ");
            return reel_fail(err, "reel train: %s%s", o[i].flag, why ? why : e.msg);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(params, o[i].key);
        cJSON_AddNumberToObject(params, o[i].key, o[i].value);
    }
    return 0;
}

static void print_result(const reel_run *r, const reel_prepared *p)
{
    const reel_metrics *m = &r->metrics;
    printf("model %s on %zu test rows (fit %.3f s, predict %.3f s, %s)\n", r->model.name, p->test.n,
           r->fit_seconds, r->predict_seconds, reel_model_device(&r->model));
    if (p->test.n == 0) {
        printf("no test rows: nothing measured\n");
        return;
    }
    printf("samples  P %.4f  R %.4f  F1 %.4f\n", m->samples_precision, m->samples_recall, m->samples_f1);
    printf("micro    P %.4f  R %.4f  F1 %.4f\n", m->micro_precision, m->micro_recall, m->micro_f1);
    printf("macro    P %.4f  R %.4f  F1 %.4f\n", m->macro_precision, m->macro_recall, m->macro_f1);
    printf("hamming accuracy %.4f, subset accuracy %.4f\n", m->hamming_accuracy, m->subset_accuracy);
    char rule[64];
    printf("decision rule %s (chosen on the validation rows); at the model's own thresholds: samples-F1 %.4f\n\n",
           reel_decision_name(&r->model.rule, rule, sizeof rule), r->untuned.samples_f1);
    int cut = r->model.rule.kind != REEL_RULE_EXPECTED_F1;
    printf("%-16s %9s %9s %9s %8s %9s%s\n", "label", "precision", "recall", "F1", "support", "own t",
           cut ? "    rule t" : "");
    for (size_t k = 0; k < p->L; k++) {
        printf("%-16s %9.4f %9.4f %9.4f %8zu %9.4g", p->ds.labels[k], m->label_precision[k], m->label_recall[k],
               m->label_f1[k], m->support[k], (double)r->model.threshold[k]);
        if (cut)
            printf(" %9.4g", (double)r->model.rule.threshold[k]);
        printf("\n");
    }
}

/* The model file, with what predict and info read besides the model: the
 * training summary and the dataset's shape, id and label column. */
static int save_model(const char *path, const reel_run *run, const reel_prepared *p, const reel_common_opts *c,
                      const cJSON *test_metrics, reel_error *err)
{
    cJSON *training = cJSON_CreateObject();
    cJSON_AddNumberToObject(training, "fit_seconds", run->fit_seconds);
    char seed[24]; /* a string: a JSON number would round seeds of 2^53 and more */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->prep.split.seed);
    cJSON_AddStringToObject(training, "seed", seed);
    cJSON_AddItemToObject(training, "test_metrics", cJSON_Duplicate(test_metrics, 1));
    cJSON *dataset = reel_dataset_json(p);
    cJSON_DeleteItemFromObject(dataset, "features");
    if (p->ds.id_col >= 0)
        cJSON_AddStringToObject(dataset, "id", p->ds.table.cols[p->ds.id_col].name);
    if (c->prep.data.label_column) { /* predict reads the labels the same way to score new rows */
        cJSON_AddStringToObject(dataset, "label_column", c->prep.data.label_column);
        cJSON_AddStringToObject(dataset, "label_sep", c->prep.data.label_sep ? c->prep.data.label_sep : "|");
    }
    int rc = reel_model_file_save(path, &run->model, &p->pre, p->ds.labels, training, dataset, err);
    cJSON_Delete(training);
    cJSON_Delete(dataset);
    return rc;
}

/* --out: metrics.json and predictions.csv into the staged folder, then
 * the folder into place. */
static int write_out(reel_outdir *od, const cJSON *doc, const reel_run *run, const reel_prepared *p,
                     reel_error *err)
{
    char *path = reel_path_join(od->stage, "metrics.json"), *pp = reel_path_join(od->stage, "predictions.csv");
    int rc = !path || !pp ? reel_fail(err, "out of memory")
                          : reel_write_json_file(path, doc, err) ||
                                reel_write_predictions(pp, &p->ds, p->test.rows, p->test.n, p->test.Y, run->pred,
                                                       run->P, err) ||
                                reel_outdir_commit(od, err);
    free(path);
    free(pp);
    return rc ? -1 : 0;
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
    reel_error err = {{0}};
    int r = reel_parse("train", USAGE, &s, argc, argv, &err);
    if (r == 1) {
        reel_print_models(stdout);
        return REEL_EXIT_OK;
    }
    if (r == 0 && !model)
        r = reel_fail(&err, "reel train: --model is required; valid models: %s", reel_model_name_list());
    if (r == 0 && !reel_model_def(model))
        r = reel_fail(&err, "reel train: unknown model '%s'; valid models: %s", model, reel_model_name_list());
    const reel_model_kind *kind = r == 0 ? reel_model_def_kind(model) : NULL;
    if (r == 0 && checkpoint && !(kind && kind->resumable))
        r = reel_fail(&err, "reel train: --checkpoint is for the nets (a %s model trains in one go)", model);
    if (r == 0 && strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        r = reel_fail(&err, "reel train: --format must be table or json, got '%s'", format);
    if (r == 0)
        r = reel_common_apply(&c, &err);
    if (r == 0)
        r = reel_device_for_models("train", &c, (char *const *)&model, 1, &err);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *params = params_file ? reel_read_params_for(params_file, model, &err) : cJSON_CreateObject();
    if (!params || apply_overrides(params, model, &net, &err)) {
        cJSON_Delete(params);
        fprintf(stderr, "%s\n", err.msg);
        return params ? REEL_EXIT_USAGE : REEL_EXIT_RUNTIME;
    }
    reel_prepared p;
    if (reel_prepare(&p, &c.prep, &err)) {
        cJSON_Delete(params);
        fprintf(stderr, "reel train: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    if (!c.quiet) {
        fprintf(stderr, "reel: %s: %zu rows (%zu train, %zu valid, %zu test), %zu feature columns (%zu inputs once "
                "encoded), %zu labels\n", p.ds.csv_path, p.ds.n, p.train.n, p.valid.n, p.test.n, p.ds.n_features, p.d,
                p.L);
        reel_prepared_warn(&p, &c.log);
    }
    reel_prepared_warn_untested(&p, &c.log);
    reel_run run;
    int rc = REEL_EXIT_RUNTIME;
    /* Every output is checked before the fit: not an input or another output, writable; --out is staged. */
    reel_run_files rf;
    reel_outdir od = {0};
    if (reel_run_files_begin(&rf, &c, p.ds.csv_path, params_file, &err) ||
        reel_run_output_mkdir(&rf, "--checkpoint", checkpoint, &err) || reel_run_output(&rf, "--save", save, &err) ||
        (out && reel_outdir_begin(&od, &rf, out, &err)))
        goto done_prepared;
    reel_run_opts ro = {c.prep.split.seed, c.threads, c.device, &c.log, od.stage, c.decision, checkpoint};
    if (reel_run_model(&run, &p, model, params, &ro, &err))
        goto done_prepared;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "dataset", reel_dataset_json(&p));
    cJSON *mj = reel_run_to_json(&run, p.ds.labels);
    cJSON_AddItemToObject(doc, "model", mj);
    if (save) {
        if (save_model(save, &run, &p, &c, cJSON_GetObjectItem(mj, "metrics"), &err)) {
            cJSON_Delete(doc);
            goto done_run;
        }
        if (!c.quiet)
            fprintf(stderr, "reel: saved %s\n", save);
    }
    if (!out || write_out(&od, doc, &run, &p, &err) == 0) {
        if (strcmp(format, "json") == 0) {
            char *json = cJSON_Print(doc);
            printf("%s\n", json);
            cJSON_free(json);
        } else {
            print_result(&run, &p);
        }
        rc = REEL_EXIT_OK;
    }
    cJSON_Delete(doc);
done_run:
    reel_run_free(&run);
done_prepared:
    reel_outdir_abort(&od);
    reel_run_files_free(&rf);
    reel_prepared_free(&p);
    cJSON_Delete(params);
    if (rc != REEL_EXIT_OK)
        fprintf(stderr, "reel train: %s\n", err.msg);
    return rc;
}
