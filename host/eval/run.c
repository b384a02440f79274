#include "eval/run.h"

#include <stdlib.h>
#include <string.h>

#include "eval/decision.h"
#include "eval/oof.h"
#include "util/timer.h"

reel_fit_ctx reel_fit_ctx_for(const reel_prepared *p, const reel_model *m, const reel_part *train,
                              const reel_part *valid, const reel_run_opts *o)
{
    reel_fit_ctx c = {
        .d = p->d,
        .L = p->L,
        .feature_names = p->feature_names,
        .label_names = p->ds.labels,
        .X = reel_part_X(train, m),
        .Y = train->Y,
        .n = train->n,
        .Xv = valid ? reel_part_X(valid, m) : NULL,
        .Yv = valid ? valid->Y : NULL,
        .nv = valid ? valid->n : 0,
        .seed = o->seed,
        .threads = o->threads,
        .log = o->log,
        .device = o->device,
        .out_dir = o->out_dir,
        .name = m->name,
        .checkpoint = o->checkpoint,
        .target = p->ds.target,
        .K = p->ds.K,
        .classes = p->ds.classes,
    };
    return c;
}

const float *reel_part_X(const reel_part *part, const reel_model *m)
{
    return part->X[m->kind->standardize ? 1 : 0];
}

int reel_predict_score(const reel_model *m, const float *X, const uint8_t *Y, size_t n, float *P, uint8_t *pred,
                       reel_metrics *met, double *seconds, reel_error *err)
{
    double t0 = reel_now();
    if (reel_model_predict_proba(m, X, n, P, err))
        return -1;
    if (seconds)
        *seconds = reel_now() - t0;
    return reel_score_probs(m, P, Y, n, pred, met, err);
}

int reel_score_probs(const reel_model *m, const float *P, const uint8_t *Y, size_t n, uint8_t *pred,
                     reel_metrics *met, reel_error *err)
{
    if (m->target == REEL_TARGET_MULTICLASS)
        reel_decision_argmax(P, n, m->L, pred);
    else
        reel_threshold(P, m->threshold, n, m->L, pred);
    if (reel_metrics_compute(met, Y, pred, n, m->L) || reel_metrics_add_classes(met, m->target, m->classes, Y, P, pred, n, m->L))
        return reel_fail(err, "out of memory computing metrics");
    return 0;
}

void reel_run_free(reel_run *r)
{
    reel_model_free(&r->model);
    free(r->P);
    free(r->pred);
    reel_metrics_free(&r->metrics);
    reel_metrics_free(&r->untuned);
    free(r->device);
    reel_history_free(&r->history);
    memset(r, 0, sizeof *r);
}

/* The probabilities the rule is chosen on, into *P and *Y (n x L, the
 * caller frees both): out-of-fold probabilities of every training and
 * validation row when the model kept them (a cross-fitted net) or
 * o->decision_rows asks for them (refits, eval/oof.h), else the model's
 * predictions of the validation rows. */
static int rule_rows(reel_run *r, const reel_prepared *p, const reel_run_opts *o, float **P, uint8_t **Y,
                     size_t *n, reel_error *err)
{
    size_t L = p->L, n_oof;
    const float *oof = reel_model_oof(&r->model, &n_oof);
    int refit = !oof && o->decision_rows && strcmp(o->decision_rows, "oof") == 0;
    *n = oof ? n_oof : refit ? p->train.n + p->valid.n : p->valid.n;
    *P = malloc((*n ? *n : 1) * L * sizeof **P);
    *Y = malloc((*n ? *n : 1) * L);
    if (!*P || !*Y)
        return reel_fail(err, "out of memory for %zu rows' probabilities", *n);
    if (refit) {
        reel_log_msg(o->log, REEL_LOG_INFO, "%s: the decision rule is chosen on out-of-fold probabilities of the "
                     "%zu training and validation rows (%d more fits)", r->model.name, *n, REEL_OOF_FOLDS);
        if (reel_oof_refit(&r->model, p, o, *P, err))
            return -1;
    } else if (oof) {
        if (n_oof != p->train.n + p->valid.n)
            return reel_fail(err, "%s: %zu out-of-fold rows for %zu training and validation rows", r->model.name,
                             n_oof, p->train.n + p->valid.n);
        memcpy(*P, oof, n_oof * L * sizeof **P);
    } else {
        if (*n)
            memcpy(*Y, p->valid.Y, *n * L);
        if (*n && reel_model_predict_proba(&r->model, reel_part_X(&p->valid, &r->model), *n, *P, err))
            return -1;
    }
    if (oof || refit) {
        memcpy(*Y, p->train.Y, p->train.n * L);
        if (p->valid.n)
            memcpy(*Y + p->train.n * L, p->valid.Y, p->valid.n * L);
    }
    r->rule_from = oof || refit ? "out-of-fold" : "validation";
    r->rule_rows = *n;
    return 0;
}

/* Chooses the model's decision rule on the validation rows, or on the
 * out-of-fold rows (rule_rows). */
static int choose_rule(reel_run *r, const reel_prepared *p, const reel_run_opts *o, reel_error *err)
{
    size_t n, L = p->L;
    float *P = NULL;
    uint8_t *Y = NULL;
    if (rule_rows(r, p, o, &P, &Y, &n, err)) {
        free(P);
        free(Y);
        return -1;
    }
    reel_decision rule;
    const char *spec = reel_decision_spec_for(r->model.target, o->decision, err);
    int rc = !spec || reel_decision_choose(&rule, spec, P, Y, n, L, r->model.threshold, o->seed, err);
    free(P);
    free(Y);
    if (rc)
        return -1;
    /* a rule fitted on the validation rows (cuts, or a calibration) needs some of them */
    enum { FEW_VALID_ROWS = 20 };
    if (n < FEW_VALID_ROWS && (rule.calibrated || rule.kind == REEL_RULE_TUNED_GLOBAL ||
                               rule.kind == REEL_RULE_TUNED_PER_LABEL)) {
        char name[64];
        reel_log_msg(o->log, REEL_LOG_WARNING, "%s: decision rule %s is fitted on only %zu %s row%s, too "
                     "few to trust (a larger --valid-fraction, or --decision threshold)", r->model.name,
                     reel_decision_name(&rule, name, sizeof name), n, r->rule_from, n == 1 ? "" : "s");
    }
    reel_decision_free(&r->model.rule);
    r->model.rule = rule;
    return 0;
}

/* After the fit: test predictions, the decision rule, the metrics. */
static int run_finish(reel_run *r, reel_prepared *p, const reel_run_opts *o, reel_error *err)
{
    size_t n = p->test.n, L = p->L;
    r->P = malloc((n ? n : 1) * L * sizeof *r->P);
    r->pred = malloc((n ? n : 1) * L);
    if (!r->P || !r->pred)
        return reel_fail(err, "out of memory for %zu test predictions", n);
    r->model.progress = o->log; /* for this call's predicts only: the log may not outlive it */
    int bad = reel_predict_score(&r->model, reel_part_X(&p->test, &r->model), p->test.Y, n, r->P, r->pred,
                                 &r->untuned, &r->predict_seconds, err) ||
              choose_rule(r, p, o, err);
    r->model.progress = NULL;
    if (bad)
        return -1;
    if (reel_decision_apply(&r->model.rule, r->P, n, r->pred))
        return reel_fail(err, "out of memory deciding %zu test rows", n);
    if (reel_metrics_compute(&r->metrics, p->test.Y, r->pred, n, L) ||
        reel_metrics_add_classes(&r->metrics, r->model.target, r->model.classes, p->test.Y, r->P, r->pred, n, L))
        return reel_fail(err, "out of memory computing metrics");
    return 0;
}

int reel_run_model(reel_run *r, reel_prepared *p, const char *name, const cJSON *user_params,
                   const reel_run_opts *o, reel_error *err)
{
    memset(r, 0, sizeof *r);
    if (reel_model_init(&r->model, name, user_params, err))
        return -1;
    if (r->model.kind->standardize && reel_prepared_standardize(p, err)) {
        reel_model_free(&r->model);
        return -1;
    }
    reel_fit_ctx ctx = reel_fit_ctx_for(p, &r->model, &p->train, &p->valid, o);
    double t0 = reel_now();
    if (reel_model_fit(&r->model, &ctx, err))
        goto fail;
    r->fit_seconds = reel_now() - t0;
    if (run_finish(r, p, o, err))
        goto fail;
    return 0;
fail:
    reel_run_free(r);
    return -1;
}

int reel_run_models_together(reel_run *runs, reel_prepared *p, char *const *names, const cJSON *const *user_params,
                             size_t n, const reel_run_opts *o, reel_error *err)
{
    memset(runs, 0, n * sizeof *runs);
    size_t made = 0, k = n ? n : 1;
    reel_model **ms = calloc(k, sizeof *ms);
    reel_fit_ctx *cs = calloc(k, sizeof *cs);
    const reel_fit_ctx **cp = calloc(k, sizeof *cp);
    size_t *shared = calloc(k, sizeof *shared);
    int rc = 0;
    if (!ms || !cs || !cp || !shared)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (reel_model_init(&runs[i].model, names[i], user_params[i], err)) {
            rc = -1;
            break;
        }
        made = i + 1;
        if (runs[i].model.kind->standardize && reel_prepared_standardize(p, err))
            rc = -1;
        ms[i] = &runs[i].model;
        cs[i] = reel_fit_ctx_for(p, &runs[i].model, &p->train, &p->valid, o);
        cp[i] = &cs[i];
    }
    double t0 = reel_now();
    if (rc == 0 && reel_model_fit_many(ms, cp, n, shared, err))
        rc = -1;
    double share = (reel_now() - t0) / (double)k;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        runs[i].fit_seconds = share;
        runs[i].shared = shared[i];
        if (run_finish(&runs[i], p, o, err))
            rc = -1;
    }
    if (rc)
        for (size_t i = 0; i < made; i++)
            reel_run_free(&runs[i]);
    free(ms);
    free(cs);
    free(cp);
    free(shared);
    return rc;
}

/* Whether the model at these params trains together on the device: a
 * net with a layer kind the device lacks trains on the CPU instead. A bad
 * params is not (its own fit reports it). */
static int fits_together(const char *name, const cJSON *user_params, const char *device)
{
    reel_model m;
    reel_error ignored;
    if (reel_model_init(&m, name, user_params, &ignored))
        return 0;
    int together = reel_model_fits_together(name, m.params, device);
    reel_model_free(&m);
    return together;
}

int reel_run_nets_first(reel_prepared *p, char *const *names, const cJSON *const *user_params, size_t n,
                        const reel_run_opts *o, reel_run *runs, int *done, reel_error *err)
{
    memset(done, 0, n * sizeof *done);
    size_t m = 0, k = n ? n : 1;
    char **pick = calloc(k, sizeof *pick);
    const cJSON **pp = calloc(k, sizeof *pp);
    size_t *at = calloc(k, sizeof *at);
    reel_run *r = calloc(k, sizeof *r);
    int rc = 0;
    if (!pick || !pp || !at || !r)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n && !o->checkpoint; i++)
        if (fits_together(names[i], user_params[i], o->device)) {
            pick[m] = names[i];
            pp[m] = user_params[i];
            at[m++] = i;
        }
    if (rc == 0 && m >= 2) {
        reel_log_msg(o->log, REEL_LOG_INFO, "%zu nets train together on --device %s, in one launch per epoch", m,
                     o->device);
        rc = reel_run_models_together(r, p, pick, pp, m, o, err);
        for (size_t j = 0; rc == 0 && j < m; j++) {
            runs[at[j]] = r[j];
            done[at[j]] = 1;
        }
    }
    free(pick);
    free(pp);
    free(at);
    free(r);
    return rc;
}

const char *reel_run_device(const reel_run *r) { return r->device ? r->device : reel_model_device(&r->model); }

const reel_history *reel_run_history(const reel_run *r)
{
    if (!r->model.state)
        return r->history.epochs ? &r->history : NULL;
    return r->model.kind->history ? r->model.kind->history(r->model.state) : NULL;
}

cJSON *reel_run_to_json(const reel_run *r, char *const *labels)
{
    /* a binary or multiclass target's metrics name its K classes, not its outputs */
    char *const *names = r->model.target != REEL_TARGET_MULTILABEL && r->model.classes ? r->model.classes : labels;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", r->model.name);
    cJSON_AddItemToObject(j, "params", cJSON_Duplicate(r->model.params, 1));
    cJSON_AddStringToObject(j, "device", reel_run_device(r));
    cJSON_AddItemToObject(j, "metrics", reel_metrics_to_json(&r->metrics, names));
    char name[64];
    cJSON_AddStringToObject(j, "decision_rule", reel_decision_name(&r->model.rule, name, sizeof name));
    cJSON_AddItemToObject(j, "decision", reel_decision_to_json(&r->model.rule));
    if (r->rule_from) { /* what the rule was chosen on */
        cJSON *dr = cJSON_AddObjectToObject(j, "decision_rows");
        cJSON_AddStringToObject(dr, "from", r->rule_from);
        cJSON_AddNumberToObject(dr, "rows", (double)r->rule_rows);
    }
    cJSON *th = cJSON_AddArrayToObject(j, "thresholds"); /* the model's own, behind metrics_untuned */
    for (size_t k = 0; k < r->model.L; k++)
        cJSON_AddItemToArray(th, cJSON_CreateNumber(r->model.threshold[k]));
    cJSON_AddItemToObject(j, "metrics_untuned", reel_metrics_to_json(&r->untuned, names));
    cJSON_AddNumberToObject(j, "fit_seconds", r->fit_seconds);
    cJSON_AddNumberToObject(j, "predict_seconds", r->predict_seconds);
    cJSON_AddNumberToObject(j, "nets_per_launch", (double)r->shared);
    return j;
}

cJSON *reel_dataset_json(const reel_prepared *p)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "path", p->ds.csv_path);
    cJSON_AddNumberToObject(d, "rows", (double)p->ds.n);
    cJSON_AddNumberToObject(d, "train", (double)p->train.n);
    cJSON_AddNumberToObject(d, "valid", (double)p->valid.n);
    cJSON_AddNumberToObject(d, "test", (double)p->test.n);
    cJSON_AddNumberToObject(d, "dropped_unlabeled", (double)p->ds.n_dropped_unlabeled);
    if (p->ds.kept_unlabeled) /* predict then scores every row, as training did */
        cJSON_AddTrueToObject(d, "keep_unlabeled");
    if (p->ds.column_types) /* predict reads these columns the same way */
        cJSON_AddStringToObject(d, "column_types", p->ds.column_types);
    cJSON_AddItemToObject(d, "features", cJSON_CreateStringArray((const char *const *)p->feature_names,
                                                                 (int)p->d));
    cJSON_AddItemToObject(d, "labels", cJSON_CreateStringArray((const char *const *)p->ds.labels, (int)p->L));
    if (p->ds.class_dtype) /* the caller's own type of its classes, for it to read them back */
        cJSON_AddStringToObject(d, "class_dtype", p->ds.class_dtype);
    return d;
}
