/* The baselines every model must beat.
 *  random: each label independently with probability p (the original's
 *          random baseline); P is 0 or 1, drawn from (seed, row) so a row's
 *          prediction does not depend on the batch it came in. A multiclass
 *          target's (data/target.h): one class drawn uniformly per row.
 *  prior:  each label with its training frequency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/params.h"
#include "util/json_exact.h"
#include "util/rng.h"

typedef struct {
    size_t L;
    uint64_t seed;
    double p;
    int one_class; /* a multiclass target: one class per row */
} random_state;

static void *random_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    random_state *s = malloc(sizeof *s);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    s->L = ctx->L;
    s->one_class = ctx->target == REEL_TARGET_MULTICLASS;
    reel_params_reader r;
    reel_params_read_begin(&r, params, "random");
    s->seed = reel_param_seed(&r, ctx->seed);
    s->p = reel_param_num(&r, "p");
    if (reel_params_read_end(&r, err)) {
        free(s);
        return NULL;
    }
    return s;
}

static int random_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    (void)X;
    (void)err;
    const random_state *s = state;
    for (size_t i = 0; i < n; i++) {
        reel_rng rng;
        reel_rng_seed_stream(&rng, s->seed, i);
        if (s->one_class) {
            size_t c = (size_t)reel_rng_below(&rng, s->L);
            for (size_t k = 0; k < s->L; k++)
                P[i * s->L + k] = k == c ? 1.0f : 0.0f;
            continue;
        }
        for (size_t k = 0; k < s->L; k++)
            P[i * s->L + k] = reel_rng_uniform(&rng) < s->p ? 1.0f : 0.0f;
    }
    return 0;
}

static int random_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)out;
    (void)err;
    /* a string: a JSON number is a double and would lose seeds of 2^53 and more */
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)((const random_state *)state)->seed);
    cJSON_AddStringToObject(meta, "seed", buf);
    if (((const random_state *)state)->one_class)
        cJSON_AddTrueToObject(meta, "one_class");
    return 0;
}

static void *random_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                         const cJSON *meta, reel_error *err)
{
    (void)threads;
    (void)d;
    (void)in;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "seed");
    uint64_t value;
    if (reel_json_u64(seed, &value)) {
        reel_fail(err, "random model: metadata 'seed' must be a 64-bit unsigned integer");
        return NULL;
    }
    reel_params_reader r;
    reel_params_read_begin(&r, params, "random");
    double p = reel_param_num(&r, "p");
    if (reel_params_read_end(&r, err))
        return NULL;
    random_state *s = malloc(sizeof *s);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    s->L = L;
    s->seed = value;
    s->p = p;
    s->one_class = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "one_class"));
    return s;
}

const reel_model_kind reel_kind_random = {
    .name = "random",
    .is_baseline = 1,
    .fit = random_fit,
    .predict_proba = random_predict,
    .save = random_save,
    .load = random_load,
    .free = free,
};

typedef struct {
    size_t L;
    float *prior;
} prior_state;

static void prior_free(void *state)
{
    prior_state *s = state;
    if (s)
        free(s->prior);
    free(s);
}

static void *prior_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    (void)params;
    prior_state *s = calloc(1, sizeof *s);
    if (!s || !(s->prior = calloc(ctx->L ? ctx->L : 1, sizeof *s->prior))) {
        prior_free(s);
        reel_fail(err, "out of memory");
        return NULL;
    }
    s->L = ctx->L;
    for (size_t k = 0; k < ctx->L; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < ctx->n; i++)
            pos += ctx->Y[i * ctx->L + k];
        s->prior[k] = (float)((double)pos / (double)ctx->n);
    }
    return s;
}

static int prior_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    (void)X;
    (void)err;
    const prior_state *s = state;
    for (size_t i = 0; i < n; i++)
        memcpy(P + i * s->L, s->prior, s->L * sizeof *P);
    return 0;
}

static int prior_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)meta;
    const prior_state *s = state;
    return reel_tensors_add(out, "prior", REEL_F32, 1, &s->L, s->prior, err);
}

static void *prior_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                        const cJSON *meta, reel_error *err)
{
    (void)threads;
    (void)params;
    (void)d;
    (void)meta;
    const reel_tensor *t = reel_tensors_get(in, "prior", REEL_F32, L, err);
    if (!t)
        return NULL;
    for (size_t k = 0; k < L; k++) { /* a label's share of positive rows */
        float v = ((const float *)t->data)[k];
        if (!(v >= 0.0f && v <= 1.0f)) {
            reel_fail(err, "prior model: tensor 'prior' holds %g for label %zu; it is a share in [0, 1]", (double)v,
                      k + 1);
            return NULL;
        }
    }
    prior_state *s = calloc(1, sizeof *s);
    s->L = L;
    s->prior = malloc(t->nbytes ? t->nbytes : 1);
    memcpy(s->prior, t->data, t->nbytes);
    return s;
}

const reel_model_kind reel_kind_prior = {
    .name = "prior",
    .is_baseline = 1,
    .fit = prior_fit,
    .predict_proba = prior_predict,
    .save = prior_save,
    .load = prior_load,
    .free = prior_free,
};
