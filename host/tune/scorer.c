#include "tune/scorer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classical/ridge.h"
#include "data/split.h"
#include "eval/decision.h"
#include "eval/metrics.h"
#include "eval/run.h"
#include "models/model.h"
#include "util/interrupt.h"

int reel_metric_known(const char *name)
{
    return strcmp(name, "samples-f1") == 0 || strcmp(name, "micro-f1") == 0 || strcmp(name, "macro-f1") == 0 ||
           strcmp(name, "accuracy") == 0 || strcmp(name, "f1") == 0 || strcmp(name, "roc-auc") == 0;
}

int reel_metric_fits(const char *name, reel_target_kind target, reel_error *err)
{
    int single = strcmp(name, "accuracy") == 0, binary = strcmp(name, "f1") == 0 || strcmp(name, "roc-auc") == 0;
    if (target == REEL_TARGET_MULTILABEL && (single || binary))
        return reel_fail(err, "--metric %s is for binary and multi-class targets; a multi-label one takes "
                         "samples-f1, micro-f1 or macro-f1", name);
    if (target == REEL_TARGET_MULTICLASS && binary)
        return reel_fail(err, "--metric %s is for a binary target; a multi-class one takes accuracy or macro-f1",
                         name);
    return 0;
}

void reel_scorer_unshare(reel_scorer *s)
{
    int k = reel_scorer_folds(s);
    for (int f = 0; s->gram && f < k; f++)
        reel_ridge_gram_free(s->gram[f]);
    for (int f = 0; s->gram_X && f < k; f++) {
        free(s->gram_X[f]);
        free(s->gram_Y[f]);
    }
    free(s->gram);
    free(s->gram_X);
    free(s->gram_Y);
    s->gram = NULL;
    s->gram_X = NULL;
    s->gram_Y = NULL;
    s->shared_params = NULL;
}

void reel_scorer_free(reel_scorer *s)
{
    reel_scorer_unshare(s);
    free(s->pool.X[0]);
    free(s->pool.X[1]);
    free(s->pool.Y);
    free(s->fold);
    free(s->said);
    memset(s, 0, sizeof *s);
}

reel_log reel_scorer_quiet(const reel_scorer *s, reel_log_once *self)
{
    return reel_log_warnings_once(s->log, s->said, self);
}

int reel_scorer_init(reel_scorer *s, reel_prepared *p, const char *model, const char *metric, int folds,
                     uint64_t seed, const char *device, reel_error *err)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->model = model;
    s->metric = metric;
    s->folds = folds;
    s->seed = seed;
    s->device = device;
    if (!reel_metric_known(metric))
        return reel_fail(err, "--metric must be samples-f1, micro-f1 or macro-f1 (binary and multi-class targets: "
                         "accuracy, macro-f1; binary also f1, roc-auc), got '%s'", metric);
    if (reel_metric_fits(metric, p->ds.target, err))
        return -1;
    if (!(s->said = calloc(1, sizeof *s->said)))
        return reel_fail(err, "out of memory");
    s->together = reel_model_fits_together(model, NULL, device);
    /* Trials run in parallel and read the matrices: make them all now. */
    if (reel_prepared_standardize(p, err)) {
        reel_scorer_free(s);
        return -1;
    }
    if (folds == 0) {
        if (p->valid.n == 0) {
            reel_scorer_free(s);
            return reel_fail(err, "no validation rows to score on: use --valid-fraction > 0 or --folds K");
        }
        return 0;
    }
    /* The pool: training rows then validation rows. */
    size_t n = p->train.n + p->valid.n, d = p->d, L = p->L;
    s->pool.n = n;
    for (int k = 0; k < 2; k++) {
        s->pool.X[k] = malloc(n * d * sizeof(float));
        memcpy(s->pool.X[k], p->train.X[k], p->train.n * d * sizeof(float));
        memcpy(s->pool.X[k] + p->train.n * d, p->valid.X[k], p->valid.n * d * sizeof(float));
    }
    s->pool.Y = malloc(n * L);
    memcpy(s->pool.Y, p->train.Y, p->train.n * L);
    memcpy(s->pool.Y + p->train.n * L, p->valid.Y, p->valid.n * L);
    s->fold = malloc(n * sizeof *s->fold);
    if (reel_kfold(n, folds, seed, s->fold, err)) {
        reel_scorer_free(s);
        return -1;
    }
    return 0;
}

/* Copies the rows (where take[i] == want, or all when take is NULL) and the
 * masked columns of a part. */
static void subset(const reel_part *src, const int *take, int want, int invert, const uint8_t *mask, size_t d,
                   size_t d_out, size_t L, reel_part *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < src->n; i++)
        n += !take || ((take[i] == want) != invert);
    dst->n = n;
    dst->X[0] = malloc((n ? n : 1) * (d_out ? d_out : 1) * sizeof(float));
    dst->X[1] = malloc((n ? n : 1) * (d_out ? d_out : 1) * sizeof(float));
    dst->Y = malloc((n ? n : 1) * L);
    size_t r = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (take && (take[i] == want) == invert)
            continue;
        for (int k = 0; k < 2; k++)
            for (size_t j = 0, c = 0; j < d; j++)
                if (!mask || mask[j])
                    dst->X[k][r * d_out + c++] = src->X[k][i * d + j];
        memcpy(dst->Y + r * L, src->Y + i * L, L);
        r++;
    }
}

static void part_free(reel_part *x)
{
    free(x->X[0]);
    free(x->X[1]);
    free(x->Y);
}

/* Cross-fitting of the rule on a validation part: this many pieces. */
enum { RULE_PIECES = 5 };

const char *reel_scorer_rule(const reel_scorer *s)
{
    reel_error ignored; /* a rule the target refuses fails where it is chosen (rule_score, reel_run_model) */
    const char *spec = reel_decision_spec_for(s->p->ds.target, s->decision, &ignored);
    return spec ? spec : s->decision;
}

cJSON *reel_scorer_json(const reel_scorer *s, const char *step_key, const char *step)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "model", s->model);
    cJSON_AddStringToObject(doc, step_key, step);
    cJSON_AddStringToObject(doc, "metric", s->metric);
    cJSON_AddNumberToObject(doc, "folds", s->folds);
    cJSON_AddStringToObject(doc, "decision", reel_scorer_rule(s));
    cJSON_AddStringToObject(doc, "scored_under", "score: under the decision rule, chosen on each validation part "
                            "(the split's or the fold's) and scored there by 5-fold cross-fitting; "
                            "score_at_model_thresholds: at the model's own thresholds");
    return doc;
}

/* The rule spec `how` asks for on P (n x L) against Y (scorer.h): with
 * choose and auto, the rule auto chooses on all n rows, named in
 * how->chosen. NULL when the target refuses the scorer's rule. */
static const char *rule_for(const reel_scorer *s, reel_fold_rule *how, const float *threshold, const float *P,
                            const uint8_t *Y, size_t n, reel_error *err)
{
    const char *spec = reel_decision_spec_for(s->p->ds.target, s->decision, err);
    if (!spec || !how)
        return spec;
    if (!how->choose)
        return how->under ? how->under : spec;
    if (strcmp(spec, "auto") != 0) {
        snprintf(how->chosen, sizeof how->chosen, "%s", spec);
        return spec;
    }
    reel_decision r;
    if (reel_decision_choose(&r, spec, P, Y, n, s->p->L, threshold, s->seed, err))
        return NULL;
    reel_decision_name(&r, how->chosen, sizeof how->chosen);
    reel_decision_free(&r);
    return how->chosen;
}

/* The metric of P (n x L) against Y under rule `spec`, cross-fitted: the
 * rows fall into 5 seeded pieces and the rule chosen (auto) or fitted on
 * the other pieces decides each piece (under 2 rows: the rule chosen on
 * them). */
static int rule_score(const reel_scorer *s, const char *spec, const float *threshold, const float *P,
                      const uint8_t *Y, size_t n, double *value, reel_error *err)
{
    size_t L = s->p->L, cells = (n ? n : 1) * L;
    int k = n < RULE_PIECES ? (int)n : RULE_PIECES;
    int *piece = calloc(n ? n : 1, sizeof *piece);
    float *Pa = malloc(cells * sizeof *Pa), *Pb = malloc(cells * sizeof *Pb);
    uint8_t *Ya = malloc(cells), *pb = malloc(cells), *pred = malloc(cells);
    int rc = -1;
    if (!piece || !Pa || !Pb || !Ya || !pb || !pred) {
        reel_fail(err, "out of memory for %zu validation predictions", n);
        goto done;
    }
    if (k >= 2 && reel_kfold(n, k, s->seed ^ 0x72756c65ULL, piece, err))
        goto done;
    if (k < 2)
        k = 1;
    for (int f = 0; f < k; f++) {
        size_t na = 0, nb = 0;
        for (size_t i = 0; i < n; i++) {
            if (piece[i] != f || k == 1) {
                memcpy(Pa + na * L, P + i * L, L * sizeof *P);
                memcpy(Ya + na++ * L, Y + i * L, L);
            }
            if (piece[i] == f)
                memcpy(Pb + nb++ * L, P + i * L, L * sizeof *P);
        }
        reel_decision rule;
        if (reel_decision_choose(&rule, spec, Pa, Ya, na, L, threshold, s->seed, err))
            goto done;
        int bad = reel_decision_apply(&rule, Pb, nb, pb);
        reel_decision_free(&rule);
        if (bad) {
            reel_fail(err, "out of memory deciding %zu validation rows", nb);
            goto done;
        }
        for (size_t i = 0, j = 0; i < n; i++)
            if (piece[i] == f)
                memcpy(pred + i * L, pb + j++ * L, L);
    }
    reel_metrics met;
    if (reel_metrics_compute(&met, Y, pred, n, L) || reel_metrics_add_classes(&met, s->p->ds.target, s->p->ds.classes, Y, P, pred, n, L)) {
        reel_fail(err, "out of memory computing metrics");
        goto done;
    }
    *value = reel_metric_by_name(&met, s->metric);
    reel_metrics_free(&met);
    rc = 0;
done:
    free(piece);
    free(Pa);
    free(Pb);
    free(Ya);
    free(pb);
    free(pred);
    return rc;
}

/* The scores of probabilities P (n x L) of model m against Y: at the
 * model's thresholds (plain) and under the rule, cross-fitted (value). */
static int score_probs(const reel_scorer *s, const reel_model *m, const float *P, const uint8_t *Y, size_t n,
                       reel_fold_rule *how, double *value, double *plain, reel_error *err)
{
    uint8_t *pred = malloc((n ? n : 1) * s->p->L);
    reel_metrics met;
    int rc = -1;
    if (!pred) {
        reel_fail(err, "out of memory for %zu predictions", n);
    } else if (reel_score_probs(m, P, Y, n, pred, &met, err) == 0) {
        *plain = reel_metric_by_name(&met, s->metric);
        reel_metrics_free(&met);
        const char *spec = rule_for(s, how, m->threshold, P, Y, n, err);
        rc = spec ? rule_score(s, spec, m->threshold, P, Y, n, value, err) : -1;
    }
    free(pred);
    return rc;
}

int reel_score_rows(const reel_scorer *s, const reel_model *m, const float *X, const uint8_t *Y, size_t n,
                    reel_fold_rule *how, double *value, double *plain, reel_error *err)
{
    float *P = malloc((n ? n : 1) * s->p->L * sizeof *P);
    int rc = -1;
    if (!P)
        reel_fail(err, "out of memory for %zu predictions", n);
    else if (reel_model_predict_proba(m, X, n, P, err) == 0)
        rc = score_probs(s, m, P, Y, n, how, value, plain, err);
    free(P);
    return rc;
}

/* A model fitted with valid as its validation part scored there. A
 * cross-fitted net trained on those rows (all but one of its members did):
 * it is scored on its out-of-fold probabilities of them, the last of the
 * rows it kept (training, then validation). */
static int score_valid(const reel_scorer *s, const reel_model *m, const reel_part *valid, reel_fold_rule *how,
                       double *value, double *plain, reel_error *err)
{
    size_t n_oof;
    const float *oof = reel_model_oof(m, &n_oof);
    if (oof && n_oof >= valid->n)
        return score_probs(s, m, oof + (n_oof - valid->n) * s->p->L, valid->Y, valid->n, how, value, plain, err);
    return reel_score_rows(s, m, reel_part_X(valid, m), valid->Y, valid->n, how, value, plain, err);
}

/* Fits on train, scores on valid. */
static int fit_score(const reel_scorer *s, const cJSON *params, const reel_part *train, const reel_part *valid,
                     size_t d, char *const *names, int threads, reel_fold_rule *how, double *value, double *plain,
                     reel_error *err)
{
    reel_log_once once;
    reel_log quiet = reel_scorer_quiet(s, &once);
    if (reel_interrupted()) /* Ctrl-C: no new fits; the run ends without output */
        return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
    reel_model m;
    if (reel_model_init(&m, s->model, params, err))
        return -1;
    reel_run_opts o = {.seed = s->seed, .threads = threads, .device = s->device, .log = &quiet};
    reel_fit_ctx c = reel_fit_ctx_for(s->p, &m, train, valid, &o);
    c.d = d;
    c.feature_names = names;
    int rc = reel_model_fit(&m, &c, err) ? -1 : score_valid(s, &m, valid, how, value, plain, err);
    reel_model_free(&m);
    return rc;
}

int reel_scorer_together(const reel_scorer *s) { return s->together; }

int reel_scorer_folds(const reel_scorer *s) { return s->folds ? s->folds : 1; }

void reel_score_combine(const reel_scorer *s, const double *values, double *mean, double *std)
{
    if (s->folds == 0) {
        *mean = values[0];
        *std = 0;
        return;
    }
    double sum = 0, sum2 = 0;
    for (int f = 0; f < s->folds; f++) {
        sum += values[f];
        sum2 += values[f] * values[f];
    }
    *mean = sum / s->folds;
    double var = sum2 / s->folds - *mean * *mean;
    *std = var > 0 ? sqrt(var) : 0;
}

/* The rows and columns one (mask, fold) scores on, shared by the items
 * that name it. */
typedef struct {
    const uint8_t *mask;
    int fold;
    size_t d_out;
    char **names;
    reel_part tr, va;
    const reel_part *trp, *vap; /* tr and va, or the prepared parts themselves */
} fold_view;

static int same_mask(const uint8_t *a, const uint8_t *b, size_t d)
{
    if (!a || !b)
        return a == b;
    return memcmp(a, b, d) == 0;
}

static int view_make(const reel_scorer *s, const uint8_t *mask, int fold, fold_view *v, reel_error *err)
{
    const reel_prepared *p = s->p;
    size_t d = p->d;
    memset(v, 0, sizeof *v);
    v->mask = mask;
    v->fold = fold;
    for (size_t j = 0; j < d; j++)
        v->d_out += !mask || mask[j];
    if (v->d_out == 0)
        return reel_fail(err, "no features left to train on");
    if (!(v->names = malloc(v->d_out * sizeof *v->names)))
        return reel_fail(err, "out of memory");
    for (size_t j = 0, c = 0; j < d; j++)
        if (!mask || mask[j])
            v->names[c++] = p->feature_names[j];
    if (s->folds == 0 && !mask) {
        v->trp = &p->train;
        v->vap = &p->valid;
        return 0;
    }
    if (s->folds == 0) {
        subset(&p->train, NULL, 0, 0, mask, d, v->d_out, p->L, &v->tr);
        subset(&p->valid, NULL, 0, 0, mask, d, v->d_out, p->L, &v->va);
    } else {
        subset(&s->pool, s->fold, fold, 1, mask, d, v->d_out, p->L, &v->tr);
        subset(&s->pool, s->fold, fold, 0, mask, d, v->d_out, p->L, &v->va);
    }
    v->trp = &v->tr;
    v->vap = &v->va;
    return 0;
}

static void view_free(fold_view *v)
{
    if (v->trp == &v->tr) {
        part_free(&v->tr);
        part_free(&v->va);
    }
    free(v->names);
}

int reel_scorer_share_fits(reel_scorer *s, const cJSON *params, reel_error *err)
{
    reel_scorer_unshare(s);
    reel_model m;
    if (reel_model_init(&m, s->model, params, err))
        return -1;
    int rc = 0, k = reel_scorer_folds(s);
    if (strcmp(m.kind->name, "ridge") != 0)
        goto done;
    const reel_prepared *p = s->p;
    size_t d = p->d, L = p->L;
    int x = m.kind->standardize ? 1 : 0; /* the X the kind fits on (reel_part_X) */
    s->gram = calloc((size_t)k, sizeof *s->gram);
    s->gram_X = s->folds ? calloc((size_t)k, sizeof *s->gram_X) : NULL;
    s->gram_Y = s->folds ? calloc((size_t)k, sizeof *s->gram_Y) : NULL;
    if (!s->gram || (s->folds && (!s->gram_X || !s->gram_Y))) {
        rc = reel_fail(err, "out of memory");
        goto done;
    }
    reel_run_opts o = {.seed = s->seed, .threads = 1, .device = s->device};
    for (int f = 0; f < k; f++) {
        reel_part tr = p->train;
        if (s->folds) { /* the fold's training rows: every row of the pool outside it */
            size_t n = 0;
            for (size_t i = 0; i < s->pool.n; i++)
                n += s->fold[i] != f;
            s->gram_X[f] = malloc((n ? n : 1) * d * sizeof(float));
            s->gram_Y[f] = malloc((n ? n : 1) * L);
            if (!s->gram_X[f] || !s->gram_Y[f]) {
                rc = reel_fail(err, "out of memory");
                goto done;
            }
            for (size_t i = 0, r = 0; i < s->pool.n; i++) {
                if (s->fold[i] == f)
                    continue;
                memcpy(s->gram_X[f] + r * d, s->pool.X[x] + i * d, d * sizeof(float));
                memcpy(s->gram_Y[f] + r++ * L, s->pool.Y + i * L, L);
            }
            tr = (reel_part){.n = n, .X = {s->gram_X[f], s->gram_X[f]}, .Y = s->gram_Y[f]};
        }
        reel_fit_ctx c = reel_fit_ctx_for(p, &m, &tr, NULL, &o);
        if (reel_ridge_gram_new(m.params, &c, &s->gram[f], err)) {
            rc = -1;
            goto done;
        }
        if (!s->gram[f]) /* another solver: nothing to share */
            goto done;
    }
    s->shared_params = params;
done:
    if (rc || !s->shared_params)
        reel_scorer_unshare(s);
    reel_model_free(&m);
    return rc;
}

/* reel_score_fold from the shared normal equations: no copy of the
 * training rows, no pass over them. */
static int score_fold_shared(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int fold,
                             int threads, reel_fold_rule *how, double *value, double *plain, reel_error *err)
{
    const reel_prepared *p = s->p;
    size_t d = p->d, d_out = 0;
    for (size_t j = 0; j < d; j++)
        d_out += !mask || mask[j];
    if (d_out == 0)
        return reel_fail(err, "no features left to train on");
    if (reel_interrupted())
        return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
    reel_part va = {0};
    const reel_part *vap = &p->valid;
    if (s->folds || mask) {
        if (s->folds)
            subset(&s->pool, s->fold, fold, 0, mask, d, d_out, p->L, &va);
        else
            subset(&p->valid, NULL, 0, 0, mask, d, d_out, p->L, &va);
        vap = &va;
    }
    reel_model m;
    int rc = reel_model_init(&m, s->model, params, err);
    if (rc == 0) {
        void *state = reel_ridge_gram_fit(s->gram[s->folds ? fold : 0], mask, threads, err);
        rc = !state || reel_model_set_target(&m, p->ds.target, p->ds.K, p->ds.classes, err) ||
                     reel_model_adopt(&m, d_out, p->L, state, err)
                 ? -1
                 : score_valid(s, &m, vap, how, value, plain, err);
        reel_model_free(&m);
    }
    if (vap == &va)
        part_free(&va);
    return rc;
}

int reel_score_fold(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int fold, int threads,
                    reel_fold_rule *how, double *value, double *plain, reel_error *err)
{
    if (s->gram && params == s->shared_params)
        return score_fold_shared(s, params, mask, fold, threads, how, value, plain, err);
    fold_view v;
    int rc = view_make(s, mask, s->folds ? fold : 0, &v, err);
    if (rc == 0)
        rc = fit_score(s, params, v.trp, v.vap, v.d_out, v.names, threads, how, value, plain, err);
    view_free(&v);
    return rc;
}

int reel_score_folds_together(const reel_scorer *s, reel_fold_item *items, size_t n, int threads, reel_error *err)
{
    const reel_prepared *p = s->p;
    if (reel_interrupted())
        return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
    size_t k = n ? n : 1, n_views = 0, made = 0;
    fold_view *views = calloc(k, sizeof *views);
    size_t *view_of = calloc(k, sizeof *view_of), *shared = calloc(k, sizeof *shared);
    reel_model *ms = calloc(k, sizeof *ms);
    reel_model **mp = calloc(k, sizeof *mp);
    reel_fit_ctx *cs = calloc(k, sizeof *cs);
    const reel_fit_ctx **cp = calloc(k, sizeof *cp);
    int rc = 0;
    if (!views || !view_of || !shared || !ms || !mp || !cs || !cp)
        rc = reel_fail(err, "out of memory");
    reel_log_once once;
    reel_log quiet = reel_scorer_quiet(s, &once);
    reel_run_opts o = {.seed = s->seed, .threads = threads, .device = s->device, .log = &quiet};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int fold = s->folds ? items[i].fold : 0;
        size_t v = 0;
        while (v < n_views && !(views[v].fold == fold && same_mask(views[v].mask, items[i].mask, p->d)))
            v++;
        if (v == n_views && view_make(s, items[i].mask, fold, &views[n_views++], err)) {
            rc = -1;
            break;
        }
        view_of[i] = v;
        if (reel_model_init(&ms[i], s->model, items[i].params, err)) {
            rc = -1;
            break;
        }
        made = i + 1;
        const fold_view *fv = &views[v];
        mp[i] = &ms[i];
        cs[i] = reel_fit_ctx_for(p, &ms[i], fv->trp, fv->vap, &o);
        cs[i].d = fv->d_out;
        cs[i].feature_names = fv->names;
        cp[i] = &cs[i];
    }
    if (rc == 0 && reel_model_fit_many(mp, cp, n, shared, err))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        items[i].shared = shared[i];
        rc = score_valid(s, &ms[i], views[view_of[i]].vap, &items[i].rule, &items[i].value, &items[i].plain, err);
    }
    for (size_t i = 0; i < made; i++)
        reel_model_free(&ms[i]);
    for (size_t v = 0; v < n_views; v++)
        view_free(&views[v]);
    free(views);
    free(view_of);
    free(shared);
    free(ms);
    free(mp);
    free(cs);
    free(cp);
    return rc;
}

/* The scorer's data restricted to the features where mask[k]: the parts
 * copied, the rest shared with s->p (names: the kept features' names). */
static int masked_data(const reel_scorer *s, const uint8_t *mask, reel_prepared *q, char ***names,
                       reel_error *err)
{
    const reel_prepared *p = s->p;
    size_t d_out = 0;
    for (size_t j = 0; j < p->d; j++)
        d_out += mask[j] != 0;
    if (d_out == 0)
        return reel_fail(err, "no features left to train on");
    if (!(*names = malloc(d_out * sizeof **names)))
        return reel_fail(err, "out of memory");
    for (size_t j = 0, c = 0; j < p->d; j++)
        if (mask[j])
            (*names)[c++] = p->feature_names[j];
    *q = *p;
    q->d = d_out;
    q->feature_names = *names;
    subset(&p->train, NULL, 0, 0, mask, p->d, d_out, p->L, &q->train);
    subset(&p->valid, NULL, 0, 0, mask, p->d, d_out, p->L, &q->valid);
    subset(&p->test, NULL, 0, 0, mask, p->d, d_out, p->L, &q->test);
    return 0;
}

int reel_score_test(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads,
                    reel_test_score *out, reel_error *err)
{
    memset(out, 0, sizeof *out);
    reel_prepared q;
    char **names = NULL;
    if (mask && masked_data(s, mask, &q, &names, err))
        return -1;
    reel_prepared_warn_untested(s->p, s->log); /* search and select, as train and compare */
    reel_log_once once;
    reel_log quiet = reel_scorer_quiet(s, &once);
    reel_run_opts o = {.seed = s->seed, .threads = threads, .device = s->device, .log = &quiet,
                       .decision = reel_scorer_rule(s), .decision_rows = s->decision_rows};
    reel_run run;
    /* reel_run_model: the fit, the rule and the test scores of reel train */
    int rc = reel_run_model(&run, mask ? &q : (reel_prepared *)s->p, s->model, params, &o, err);
    if (rc == 0) {
        out->metrics = run.metrics;
        out->plain = run.untuned;
        memset(&run.metrics, 0, sizeof run.metrics);
        memset(&run.untuned, 0, sizeof run.untuned);
        reel_decision_name(&run.model.rule, out->rule, sizeof out->rule);
        reel_run_free(&run);
    }
    if (mask) {
        part_free(&q.train);
        part_free(&q.valid);
        part_free(&q.test);
        free(names);
    }
    return rc;
}

void reel_test_score_free(reel_test_score *t)
{
    reel_metrics_free(&t->metrics);
    reel_metrics_free(&t->plain);
    memset(t, 0, sizeof *t);
}

void reel_test_score_to_json(const reel_test_score *t, char *const *labels, cJSON *doc)
{
    cJSON_AddItemToObject(doc, "test_metrics", reel_metrics_to_json(&t->metrics, labels));
    cJSON_AddItemToObject(doc, "test_metrics_at_model_thresholds", reel_metrics_to_json(&t->plain, labels));
    cJSON_AddStringToObject(doc, "test_decision_rule", t->rule);
}
