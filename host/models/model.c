#include "models/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_defs.h"
#include "models/params.h"
#include "util/timer.h"

/* Parsed definitions: the embedded ones, built once on first use, then any
 * added at run time (cli/model_dirs.c), which replace one of the same name. */
#define MAX_DEFS 64
static cJSON *defs_parsed[MAX_DEFS];
static char *def_names[MAX_DEFS + 1];
static char name_list[1024];
static int defs_ready;
/* The embedded definitions again, never replaced: a kind's hard limits. */
static cJSON *builtin[MAX_DEFS];
static const char *builtin_names[MAX_DEFS + 1];

static void rebuild_name_list(void)
{
    size_t len = 0;
    name_list[0] = 0;
    for (size_t k = 0; def_names[k]; k++)
        len += (size_t)snprintf(name_list + len, len < sizeof name_list ? sizeof name_list - len : 0, "%s%s",
                                k ? ", " : "", def_names[k]);
}

static void load_defs(void)
{
    if (defs_ready)
        return;
    size_t k = 0;
    for (size_t i = 0; reel_model_sources[i].name && k < MAX_DEFS; i++) {
        cJSON *d = cJSON_Parse(reel_model_sources[i].json);
        if (!d)
            continue; /* tests/test_params.c checks every definition parses */
        defs_parsed[k] = d;
        builtin[k] = cJSON_Duplicate(d, 1);
        def_names[k] = (char *)reel_model_sources[i].name;
        builtin_names[k] = reel_model_sources[i].name;
        k++;
    }
    def_names[k] = NULL;
    defs_ready = 1;
    rebuild_name_list();
}

int reel_model_add_def(const char *name, cJSON *def, reel_error *err)
{
    load_defs();
    size_t k = 0;
    for (; def_names[k]; k++)
        if (strcmp(def_names[k], name) == 0)
            break;
    if (!def_names[k] && k >= MAX_DEFS) {
        cJSON_Delete(def);
        return reel_fail(err, "too many model definitions (at most %d)", MAX_DEFS);
    }
    if (def_names[k]) {
        cJSON_Delete(defs_parsed[k]); /* the name string stays: static or leaked-once */
    } else {
        def_names[k] = strdup(name);
        def_names[k + 1] = NULL;
    }
    defs_parsed[k] = def;
    rebuild_name_list();
    return 0;
}

const char *const *reel_model_names(void)
{
    load_defs();
    return (const char *const *)def_names;
}

const char *reel_model_name_list(void)
{
    load_defs();
    return name_list;
}

const cJSON *reel_model_def(const char *name)
{
    load_defs();
    for (size_t k = 0; def_names[k]; k++)
        if (strcmp(def_names[k], name) == 0)
            return defs_parsed[k];
    return NULL;
}

static const char *def_kind_name(const cJSON *def, const char *name)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(def, "kind");
    return cJSON_IsString(kind) ? kind->valuestring : name;
}

/* The params spec a kind's values must always meet: that of its built-in
 * definition (models/<kind>.json, or the first built-in one of that kind,
 * box for mlp). A definition from --models-dir may narrow these limits,
 * never widen them: its values are checked against both. */
static const cJSON *kind_limits(const char *kind_name)
{
    load_defs();
    const cJSON *first = NULL;
    for (size_t k = 0; builtin_names[k]; k++) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(builtin[k], "kind");
        const char *kn = cJSON_IsString(kind) ? kind->valuestring : builtin_names[k];
        if (strcmp(kn, kind_name) != 0)
            continue;
        if (strcmp(builtin_names[k], kind_name) == 0)
            return cJSON_GetObjectItemCaseSensitive(builtin[k], "params");
        if (!first)
            first = cJSON_GetObjectItemCaseSensitive(builtin[k], "params");
    }
    return first;
}

const reel_model_kind *reel_model_def_kind(const char *name)
{
    const cJSON *def = reel_model_def(name);
    return def ? reel_kind_find(def_kind_name(def, name)) : NULL;
}

int reel_model_init(reel_model *m, const char *name, const cJSON *user_params, reel_error *err)
{
    memset(m, 0, sizeof *m);
    const cJSON *def = reel_model_def(name);
    if (!def)
        return reel_fail(err, "unknown model '%s'; valid models: %s", name, reel_model_name_list());
    const char *kind_name = def_kind_name(def, name);
    m->kind = reel_kind_find(kind_name);
    if (!m->kind)
        return reel_fail(err, "model '%s': kind '%s' is not built into this reel", name, kind_name);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(def, "params"), *limits = kind_limits(kind_name);
    m->params = reel_params_resolve(name, spec, user_params, err);
    if (!m->params)
        return -1;
    if (limits && limits != spec && reel_params_within(name, kind_name, limits, m->params, err)) {
        cJSON_Delete(m->params);
        m->params = NULL;
        return -1;
    }
    if (m->kind->check && m->kind->check(m->params, err)) {
        cJSON_Delete(m->params);
        m->params = NULL;
        return -1;
    }
    m->name = strdup(name);
    return 0;
}

static int set_thresholds(reel_model *m, reel_error *err)
{
    free(m->threshold);
    m->threshold = malloc((m->L ? m->L : 1) * sizeof *m->threshold);
    if (!m->threshold)
        return reel_fail(err, "out of memory");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m->params, "threshold");
    /* a kind's own default is for label sets; one class column cuts at 0.5, as scikit-learn */
    float v = cJSON_IsNumber(t)                                   ? (float)t->valuedouble
              : m->kind->default_threshold && !m->target ? m->kind->default_threshold(m->params, m->L)
                                                                  : 0.5f;
    for (size_t k = 0; k < m->L; k++)
        m->threshold[k] = v;
    reel_decision_free(&m->rule);
    return reel_decision_threshold(&m->rule, m->L, m->threshold, err);
}

int reel_model_fit(reel_model *m, const reel_fit_ctx *ctx, reel_error *err)
{
    if (m->state) {
        m->kind->free(m->state);
        m->state = NULL;
    }
    m->d = ctx->d;
    m->L = ctx->L;
    if (reel_model_set_target(m, ctx->target, ctx->K, ctx->classes, err) || set_thresholds(m, err))
        return -1;
    m->state = m->kind->fit(m->params, ctx, err);
    return m->state ? 0 : -1;
}

int reel_model_adopt(reel_model *m, size_t d, size_t L, void *state, reel_error *err)
{
    if (m->state)
        m->kind->free(m->state);
    m->state = NULL;
    m->d = d;
    m->L = L;
    if (set_thresholds(m, err)) {
        m->kind->free(state);
        return -1;
    }
    m->state = state;
    return 0;
}

int reel_model_fit_many(reel_model *const *m, const reel_fit_ctx *const *ctx, size_t K, size_t *shared,
                        reel_error *err)
{
    if (shared)
        memset(shared, 0, K * sizeof *shared);
    if (K == 0)
        return 0;
    const reel_model_kind *kind = m[0]->kind;
    for (size_t i = 0; i < K; i++)
        if (m[i]->kind != kind)
            return reel_fail(err, "models fitted together must be of one kind (%s, not %s)", kind->name,
                             m[i]->kind->name);
    if (!kind->fit_many) {
        for (size_t i = 0; i < K; i++)
            if (reel_model_fit(m[i], ctx[i], err))
                return -1;
        return 0;
    }
    const cJSON **params = malloc(K * sizeof *params);
    void **states = calloc(K, sizeof *states);
    int rc = 0;
    if (!params || !states)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < K; i++) {
        if (m[i]->state) {
            kind->free(m[i]->state);
            m[i]->state = NULL;
        }
        m[i]->d = ctx[i]->d;
        m[i]->L = ctx[i]->L;
        params[i] = m[i]->params;
        if (reel_model_set_target(m[i], ctx[i]->target, ctx[i]->K, ctx[i]->classes, err) || set_thresholds(m[i], err))
            rc = -1;
    }
    if (rc == 0 && kind->fit_many(params, ctx, K, states, shared, err))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < K; i++)
        m[i]->state = states[i];
    free(params);
    free(states);
    return rc;
}

int reel_model_fits_together(const char *name, const cJSON *params, const char *device)
{
    const char *alone = getenv("REEL_NETS_ALONE"); /* for comparisons: one at a time */
    if (alone && *alone && strcmp(alone, "0") != 0)
        return 0;
    const reel_model_kind *kind = reel_model_def_kind(name);
    return kind && kind->fit_many && kind->fits_together && kind->fits_together(params, device);
}

/* Rows per call when a predict may report progress: row-independent CPU
 * kinds only, so the chunks change no bit (a device's kernels may depend
 * on the batch's shape). */
enum { PROGRESS_CHUNK = 4096 };
#define PROGRESS_AFTER_S 2.0

/* A probability that is not one (NaN, infinite, outside [0, 1]) is an error,
 * never a score: a metric would count it as some decision. A rounding
 * step past 0 or 1 (a mean of floats) is clamped. */
static int check_probabilities(const reel_model *m, float *P, size_t n, size_t row0, reel_error *err)
{
    for (size_t i = 0; i < n * m->L; i++) {
        float p = P[i];
        if (p >= 0.0f && p <= 1.0f)
            continue;
        if (p >= -1e-6f && p <= 1.0f + 1e-6f) {
            P[i] = p < 0.0f ? 0.0f : 1.0f;
            continue;
        }
        return reel_fail(err, "model '%s' gave %g as the probability of label %zu for row %zu; a probability is "
                         "a number in [0, 1] (a bad parameter or model file; nothing is scored)", m->name,
                         (double)p, i % m->L + 1, row0 + i / m->L + 1);
    }
    return 0;
}

int reel_model_predict_proba(const reel_model *m, const float *X, size_t n, float *P, reel_error *err)
{
    if (!m->state)
        return reel_fail(err, "model '%s' is not trained", m->name);
    if (!m->progress || m->kind->device || n <= PROGRESS_CHUNK)
        return m->kind->predict_proba(m->state, X, n, P, err) || check_probabilities(m, P, n, 0, err) ? -1 : 0;
    double t0 = reel_now(), last = t0;
    for (size_t r0 = 0; r0 < n; r0 += PROGRESS_CHUNK) {
        size_t k = n - r0 < PROGRESS_CHUNK ? n - r0 : PROGRESS_CHUNK;
        if (m->kind->predict_proba(m->state, X + r0 * m->d, k, P + r0 * m->L, err) ||
            check_probabilities(m, P + r0 * m->L, k, r0, err))
            return -1;
        double now = reel_now();
        if (now - t0 >= PROGRESS_AFTER_S && now - last >= PROGRESS_AFTER_S && r0 + k < n) {
            last = now;
            double done = (double)(r0 + k), eta = (now - t0) / done * ((double)n - done);
            reel_progress pr = reel_progress_blank(REEL_PROGRESS_PREDICT, m->name);
            pr.done = (long)(r0 + k);
            pr.total = (long)n;
            pr.elapsed_s = now - t0;
            pr.eta_s = eta;
            reel_log_progress(m->progress, &pr, "%s: predicted %zu of %zu rows (%.0f s, about %.0f s left)",
                              m->name, r0 + k, n, now - t0, eta);
        }
    }
    return 0;
}

int reel_model_set_target(reel_model *m, reel_target_kind target, size_t K, char *const *classes, reel_error *err)
{
    for (size_t k = 0; m->classes && k < m->K; k++)
        free(m->classes[k]);
    free(m->classes);
    m->classes = NULL;
    m->K = 0;
    m->target = target;
    if (target == REEL_TARGET_MULTILABEL || !classes)
        return 0;
    if (!(m->classes = calloc(K ? K : 1, sizeof *m->classes)))
        return reel_fail(err, "out of memory");
    for (m->K = 0; m->K < K; m->K++)
        if (!(m->classes[m->K] = strdup(classes[m->K])))
            return reel_fail(err, "out of memory");
    return 0;
}

size_t reel_model_columns(const reel_model *m) { return reel_target_columns(m->target, m->L); }

const char *reel_model_device(const reel_model *m)
{
    return m->kind->device && m->state ? m->kind->device(m->state) : "cpu";
}

const float *reel_model_oof(const reel_model *m, size_t *n)
{
    *n = 0;
    return m->kind->oof_proba && m->state ? m->kind->oof_proba(m->state, n) : NULL;
}

void reel_model_free(reel_model *m)
{
    if (m->state)
        m->kind->free(m->state);
    cJSON_Delete(m->params);
    free(m->name);
    free(m->threshold);
    reel_decision_free(&m->rule);
    reel_model_set_target(m, REEL_TARGET_MULTILABEL, 0, NULL, NULL);
    memset(m, 0, sizeof *m);
}

void reel_history_add(reel_history *h, double train_loss, double valid_loss, double valid_f1)
{
    size_t n = h->epochs + 1;
    double *a = realloc(h->train_loss, n * sizeof *a), *b = realloc(h->valid_loss, n * sizeof *b),
           *c = realloc(h->valid_f1, n * sizeof *c);
    if (a)
        h->train_loss = a;
    if (b)
        h->valid_loss = b;
    if (c)
        h->valid_f1 = c;
    if (!a || !b || !c)
        return; /* out of memory: the history stops growing, training goes on */
    a[h->epochs] = train_loss;
    b[h->epochs] = valid_loss;
    c[h->epochs] = valid_f1;
    h->epochs = n;
}

void reel_history_free(reel_history *h)
{
    free(h->train_loss);
    free(h->valid_loss);
    free(h->valid_f1);
    free(h->csv);
    memset(h, 0, sizeof *h);
}
