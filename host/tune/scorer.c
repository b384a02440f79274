#include "tune/scorer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/split.h"
#include "eval/metrics.h"
#include "eval/run.h"
#include "models/model.h"
#include "util/interrupt.h"

int reel_metric_known(const char *name)
{
    return strcmp(name, "samples-f1") == 0 || strcmp(name, "micro-f1") == 0 || strcmp(name, "macro-f1") == 0;
}

void reel_scorer_free(reel_scorer *s)
{
    free(s->pool.X[0]);
    free(s->pool.X[1]);
    free(s->pool.Y);
    free(s->fold);
    memset(s, 0, sizeof *s);
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
        return reel_fail(err, "--metric must be samples-f1, micro-f1 or macro-f1, got '%s'", metric);
    s->together = reel_model_fits_together(model, device);
    /* Trials run in parallel and read the matrices: make them all now. */
    if (reel_prepared_standardize(p, err))
        return -1;
    if (folds == 0) {
        if (p->valid.n == 0)
            return reel_fail(err, "no validation rows to score on: use --valid-fraction > 0 or --folds K");
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

/* Fits on train, scores on valid (the metric, and all metrics in *all when given). */
static int fit_score(const reel_scorer *s, const cJSON *params, const reel_part *train, const reel_part *valid,
                     size_t d, char *const *names, int threads, double *score, reel_metrics *all,
                     reel_error *err)
{
    const reel_prepared *p = s->p;
    reel_log quiet = reel_log_warnings_only(s->log);
    if (reel_interrupted()) /* Ctrl-C: no new fits; the run ends without output */
        return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
    reel_model m;
    if (reel_model_init(&m, s->model, params, err))
        return -1;
    reel_run_opts o = {.seed = s->seed, .threads = threads, .device = s->device, .log = &quiet};
    reel_fit_ctx c = reel_fit_ctx_for(p, &m, train, valid, &o);
    c.d = d;
    c.feature_names = names;
    float *P = malloc((valid->n ? valid->n : 1) * p->L * sizeof *P);
    uint8_t *pred = malloc((valid->n ? valid->n : 1) * p->L);
    reel_metrics met;
    int rc = -1;
    if (!P || !pred)
        reel_fail(err, "out of memory for %zu predictions", valid->n);
    else if (reel_model_fit(&m, &c, err) == 0 &&
             reel_predict_score(&m, reel_part_X(valid, &m), valid->Y, valid->n, P, pred, &met, NULL, err) == 0) {
        *score = reel_metric_by_name(&met, s->metric);
        if (all)
            *all = met;
        else
            reel_metrics_free(&met);
        rc = 0;
    }
    free(P);
    free(pred);
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

int reel_score_fold(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int fold, int threads,
                    double *value, reel_error *err)
{
    const reel_prepared *p = s->p;
    size_t d = p->d, d_out = 0;
    for (size_t j = 0; j < d; j++)
        d_out += !mask || mask[j];
    if (d_out == 0)
        return reel_fail(err, "no features left to train on");
    char **names = malloc(d_out * sizeof *names);
    for (size_t j = 0, c = 0; j < d; j++)
        if (!mask || mask[j])
            names[c++] = p->feature_names[j];
    int rc;
    if (s->folds == 0 && !mask) {
        rc = fit_score(s, params, &p->train, &p->valid, d, names, threads, value, NULL, err);
    } else {
        reel_part tr, va;
        if (s->folds == 0) {
            subset(&p->train, NULL, 0, 0, mask, d, d_out, p->L, &tr);
            subset(&p->valid, NULL, 0, 0, mask, d, d_out, p->L, &va);
        } else {
            subset(&s->pool, s->fold, fold, 1, mask, d, d_out, p->L, &tr);
            subset(&s->pool, s->fold, fold, 0, mask, d, d_out, p->L, &va);
        }
        rc = fit_score(s, params, &tr, &va, d_out, names, threads, value, NULL, err);
        part_free(&tr);
        part_free(&va);
    }
    free(names);
    return rc;
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
    reel_log quiet = reel_log_warnings_only(s->log);
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
        const reel_part *valid = views[view_of[i]].vap;
        float *P = malloc((valid->n ? valid->n : 1) * p->L * sizeof *P);
        uint8_t *pred = malloc((valid->n ? valid->n : 1) * p->L);
        reel_metrics met;
        if (!P || !pred)
            rc = reel_fail(err, "out of memory for %zu predictions", valid->n);
        else if (reel_predict_score(&ms[i], reel_part_X(valid, &ms[i]), valid->Y, valid->n, P, pred, &met, NULL,
                                    err) == 0) {
            items[i].value = reel_metric_by_name(&met, s->metric);
            items[i].shared = shared[i];
            reel_metrics_free(&met);
        } else {
            rc = -1;
        }
        free(P);
        free(pred);
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

int reel_score(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads, double *mean,
               double *std, reel_error *err)
{
    int k = reel_scorer_folds(s);
    double *v = malloc((size_t)k * sizeof *v);
    for (int f = 0; f < k; f++)
        if (reel_score_fold(s, params, mask, f, threads, &v[f], err)) {
            free(v);
            return -1;
        }
    reel_score_combine(s, v, mean, std);
    free(v);
    return 0;
}

int reel_score_test(const reel_scorer *s, const cJSON *params, const uint8_t *mask, int threads, reel_metrics *out,
                    reel_error *err)
{
    const reel_prepared *p = s->p;
    size_t d = p->d, d_out = 0;
    for (size_t j = 0; j < d; j++)
        d_out += !mask || mask[j];
    char **names = malloc((d_out ? d_out : 1) * sizeof *names);
    for (size_t j = 0, c = 0; j < d; j++)
        if (!mask || mask[j])
            names[c++] = p->feature_names[j];
    reel_part tr, te;
    subset(&p->train, NULL, 0, 0, mask, d, d_out, p->L, &tr);
    subset(&p->test, NULL, 0, 0, mask, d, d_out, p->L, &te);
    double v;
    int rc = fit_score(s, params, &tr, &te, d_out, names, threads, &v, out, err);
    part_free(&tr);
    part_free(&te);
    free(names);
    return rc;
}
