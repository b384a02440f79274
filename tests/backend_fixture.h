/* Backends side by side (tests/test_nn_devices.c, tests/test_nn_backend.c):
 * random data for a net, the box and U layer lists, a comparison that
 * prints its largest difference, and the starting point of the resumed
 * steps the checkpoint check runs on every backend. */
#ifndef REEL_TEST_BACKEND_FIXTURE_H
#define REEL_TEST_BACKEND_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/spec.h"
#include "util/rng.h"

/* Largest |a-b| - rtol*|b| over n values, reported; returns whether all
 * are within atol + rtol*|b|. */
static inline int close_all(const char *what, const float *a, const float *b, size_t n, double atol, double rtol)
{
    double worst = 0, worst_abs = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        double r = e / (atol + rtol * fabs((double)b[i]));
        worst_abs = fmax(worst_abs, e);
        if (r > worst || isnan(r)) {
            worst = r;
            at = i;
        }
    }
    printf("backends %s: largest difference %.3g (worst at %zu: %.9g vs %.9g, %.3g of tolerance)\n", what,
           worst_abs, at, a[at], b[at], worst);
    return worst <= 1.0;
}

typedef struct {
    reel_nn_spec spec;
    float *X, *Y, *params;
    size_t n;
    uint32_t *order;
} setup;

static inline void make(setup *s, const char *layers_json, const char *head, size_t d, size_t L, size_t n, uint64_t seed)
{
    reel_error err;
    cJSON *layers = cJSON_Parse(layers_json);
    cr_assert_eq(reel_nn_spec_build(&s->spec, layers, head, d, L, &err), 0, "%s", err.msg);
    cJSON_Delete(layers);
    s->n = n;
    s->X = malloc(n * d * sizeof(float));
    s->Y = malloc(n * L * sizeof(float));
    s->params = malloc(s->spec.n_params * sizeof(float));
    s->order = malloc(n * sizeof(uint32_t));
    reel_rng rng;
    reel_rng_seed(&rng, seed);
    for (size_t i = 0; i < n * d; i++)
        s->X[i] = (float)(2 * reel_rng_uniform(&rng) - 1);
    for (size_t i = 0; i < n * L; i++) /* labels that depend on the inputs, so training moves */
        s->Y[i] = s->X[(i / L) * d + (i % L) % d] > 0.2f ? 1.0f : 0.0f;
    for (size_t i = 0; i < n; i++)
        s->order[i] = (uint32_t)((i * 7919) % n);
    reel_nn_init_params(&s->spec, seed, s->params);
}

static inline void unmake(setup *s)
{
    free(s->X);
    free(s->Y);
    free(s->params);
    free(s->order);
}

#define BOX                                                                                                   \
    "[{\"width\":64,\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"},{\"width\":64,"            \
    "\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"},"  \
    "{\"width\":64,\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"},{\"width\":64,"             \
    "\"activation\":\"relu\"}]"
#define U                                                                                                     \
    "[{\"width\":64,\"activation\":\"none\"},{\"width\":32,\"activation\":\"relu\"},{\"width\":16,"            \
    "\"activation\":\"relu\"},{\"width\":8,\"activation\":\"relu\"},{\"width\":16,\"activation\":\"relu\"},"   \
    "{\"width\":32,\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"},{\"width\":128,"            \
    "\"activation\":\"relu\"},{\"width\":64,\"activation\":\"relu\"}]"


/* AdamW's moments for steps resumed after step 100: v > 0 everywhere and
 * |m| small against sqrt(v), as training leaves them, so each weight moves
 * by about lr per step. (m != 0 with v = 0 moves a weight by lr * m / eps,
 * about 10^3: the net then diverges and any other rounding of its sums
 * flips ReLUs, so two backends could not be compared.) */
static inline void resume_moments(size_t np, float *m, float *v)
{
    for (size_t i = 0; i < np; i++) {
        m[i] = ((float)(i % 13) - 6.0f) * 2e-5f;
        v[i] = (float)(1 + i % 7) * 1e-6f;
    }
}

#define RESUME_STEPS 5
static const reel_adamw resume_opt = {1e-3, 0.9, 0.999, 1e-8, 1e-3};

/* On one backend: params and data X (with s's labels and order), moments
 * m, v set after set_data and read back unchanged, then RESUME_STEPS steps
 * of 10 rows numbered 101.. (as if resumed after step 100); the weights come
 * back in out, the step losses in losses. */
static inline void resume_run(const reel_nn_backend *be, int device, const setup *s, const float *params,
                              const float *X, const float *m, const float *v, float *losses, float *out)
{
    reel_error err;
    size_t np = s->spec.n_params;
    float *m2 = malloc(np * sizeof *m2), *v2 = malloc(np * sizeof *v2);
    void *b = be->create(&s->spec, device, 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(be->set_params(b, params, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_data(b, X, s->Y, s->n, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_moments(b, m, v, &err), 0, "%s", err.msg);
    cr_assert_eq(be->get_moments(b, m2, v2, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(m, m2, np * sizeof *m), 0, "%s: m", be->name);
    cr_expect_eq(memcmp(v, v2, np * sizeof *v), 0, "%s: v", be->name);
    cr_assert_eq(be->set_order(b, s->order, s->n, &err), 0, "%s", err.msg);
    for (long k = 0; k < RESUME_STEPS; k++)
        cr_assert_geq(be->train_step(b, (size_t)k * 10, 10, &resume_opt, 101 + k, &losses[k], &err), 0, "%s",
                      err.msg);
    cr_assert_eq(be->get_params(b, out, &err), 0, "%s", err.msg);
    be->destroy(b);
    free(m2);
    free(v2);
}

#endif
