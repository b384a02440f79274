/* The recipe's layer kinds beyond the gradients (test_nn_grad.c): dropout
 * masks keep 1 - p of the units and are a function of (seed, step, layer,
 * position) alone; a net with PLR and dropout trains to the same bits on
 * 1 and 3 threads, saves and loads to the same predictions, and trains
 * on a device backend, with no note about a missing kind. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "models/model.h"
#include "nn/backend.h"
#include "nn/cpu_plr.h"
#include "nn/device.h"
#include "nn/spec.h"
#include "util/rng.h"

Test(nn_layers, dropout_mask_rate_and_key)
{
    size_t n = 300, w = 400;
    float *a = malloc(n * w * sizeof *a), *b = malloc(n * w * sizeof *b);
    reel_cpu_dropout_mask(7, 3, 1, n, w, 0.25f, a);
    size_t kept = 0;
    for (size_t q = 0; q < n * w; q++) {
        cr_assert(a[q] == 0.0f || a[q] == (float)(1.0 / 0.75), "scale %g", a[q]);
        kept += a[q] != 0;
    }
    double rate = (double)kept / (double)(n * w); /* 120,000 draws: sd 0.0013 */
    cr_expect(fabs(rate - 0.75) < 0.006, "kept %.4f of the units, expected 0.75", rate);
    reel_cpu_dropout_mask(7, 3, 1, n, w, 0.25f, b);
    cr_expect_eq(memcmp(a, b, n * w * sizeof *a), 0, "the same key, another mask");
    const uint64_t seeds[] = {8, 7, 7};
    const long steps[] = {3, 4, 3};
    const size_t layers[] = {1, 1, 2};
    for (int v = 0; v < 3; v++) {
        reel_cpu_dropout_mask(seeds[v], steps[v], layers[v], n, w, 0.25f, b);
        size_t same = 0;
        for (size_t q = 0; q < n * w; q++)
            same += (a[q] != 0) == (b[q] != 0);
        cr_expect(same < n * w * 7 / 10, "variant %d: %zu of %zu units agree (independent masks: ~62%%)", v, same,
                  n * w);
    }
    reel_cpu_dropout_mask(7, 3, 1, n, w, 0.0f, b);
    for (size_t q = 0; q < n * w; q++)
        cr_assert_eq(b[q], 1.0f, "p = 0 keeps every unit");
    free(a);
    free(b);
}

/* 600 rows: two continuous columns drive the labels, one 0/1 column. */
typedef struct {
    float X[600 * 3];
    uint8_t Y[600 * 2];
} rows;

static void make_rows(rows *t)
{
    reel_rng rng;
    reel_rng_seed(&rng, 4);
    for (size_t i = 0; i < 600; i++) {
        double u = reel_rng_uniform(&rng), v = reel_rng_uniform(&rng);
        t->X[i * 3 + 0] = (float)(10 * u);
        t->X[i * 3 + 1] = (float)exp(6 * v);
        t->X[i * 3 + 2] = reel_rng_uniform(&rng) < 0.3 ? 1.0f : 0.0f;
        t->Y[i * 2 + 0] = sin(6 * u) > 0;
        t->Y[i * 2 + 1] = v > 0.5 && t->X[i * 3 + 2] == 0;
    }
}

static reel_fit_ctx ctx_of(const rows *t, int threads, const char *device, const reel_log *log)
{
    reel_fit_ctx c = {.d = 3, .L = 2, .X = t->X, .Y = t->Y, .n = 500, .Xv = t->X + 500 * 3, .Yv = t->Y + 500 * 2,
                      .nv = 100, .seed = 5, .threads = threads, .device = device, .name = "net", .log = log};
    return c;
}

#define RECIPE                                                                                                   \
    "{\"epochs\": 4, \"batch_size\": 300, \"ensemble\": 2, \"input\": \"robust\", \"lr\": 0.01, \"layers\": "     \
    "[{\"kind\": \"plr\", \"frequencies\": 4, \"sigma\": 0.5, \"width\": 6}, {\"width\": 32, \"dropout\": 0.2}, "  \
    "{\"width\": 32, \"dropout\": 0.1}]}"

/* RECIPE without dropout. */
#define PLR_ONLY                                                                                                 \
    "{\"epochs\": 4, \"batch_size\": 30, \"ensemble\": 2, \"input\": \"robust\", \"lr\": 0.01, \"layers\": "      \
    "[{\"kind\": \"plr\", \"frequencies\": 4, \"sigma\": 0.5, \"width\": 6}, {\"width\": 32}, {\"width\": 32}]}"

static void fit_recipe(reel_model *m, const char *recipe, const rows *t, int threads, const char *device,
                       const reel_log *log)
{
    reel_error err;
    cJSON *p = cJSON_Parse(recipe);
    cr_assert_eq(reel_model_init(m, "box", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    reel_fit_ctx c = ctx_of(t, threads, device, log);
    cr_assert_eq(reel_model_fit(m, &c, &err), 0, "%s", err.msg);
}

static void fit(reel_model *m, const rows *t, int threads, const char *device, const reel_log *log)
{
    fit_recipe(m, RECIPE, t, threads, device, log);
}

static void predict(const reel_model *m, const rows *t, float *P)
{
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(m, t->X + 500 * 3, 100, P, &err), 0, "%s", err.msg);
}

/* Batch 300 is past REEL_CPU_PAR_ROWS: the steps use the threads. */
Test(nn_layers, plr_dropout_same_bits_at_any_thread_count)
{
    static rows t;
    make_rows(&t);
    reel_model a, b;
    fit(&a, &t, 1, "cpu", NULL);
    fit(&b, &t, 3, "cpu", NULL);
    float P[200], Q[200];
    predict(&a, &t, P);
    predict(&b, &t, Q);
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "1 and 3 threads differ");
    double spread = 0;
    for (int i = 0; i < 200; i++)
        spread = fmax(spread, fabs(P[i] - P[0]));
    cr_expect_gt(spread, 0.05, "the net learned nothing: the comparison has no teeth");
    reel_model_free(&a);
    reel_model_free(&b);
}

Test(nn_layers, plr_net_saves_and_loads)
{
    static rows t;
    make_rows(&t);
    reel_model m;
    fit(&m, &t, 1, "cpu", NULL);
    reel_tensors bag = {0};
    cJSON *meta = cJSON_CreateObject();
    reel_error err;
    cr_assert_eq(m.kind->save(m.state, &bag, meta, &err), 0, "%s", err.msg);
    cr_expect_not_null(reel_tensors_get(&bag, "0.frequencies", REEL_F32, 2 * 4, &err), "%s", err.msg);
    cr_expect_not_null(reel_tensors_get(&bag, "ensemble.1.0.weight", REEL_F32, 2 * 6 * 8, &err), "%s", err.msg);
    cr_expect_not_null(reel_tensors_get(&bag, "1.weight", REEL_F32, 32 * (2 * 6 + 1), &err), "%s", err.msg);
    void *back = m.kind->load(m.params, 3, 2, 2, &bag, meta, &err);
    cr_assert_not_null(back, "%s", err.msg);
    float P[200], Q[200];
    predict(&m, &t, P);
    cr_assert_eq(m.kind->predict_proba(back, t.X + 500 * 3, 100, Q, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "the loaded net predicts differently");
    /* a file without the numeric flags cannot place the embedding */
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(meta, "input"), "numeric");
    cr_expect_null(m.kind->load(m.params, 3, 2, 1, &bag, meta, &err));
    cr_expect(strstr(err.msg, "'numeric'"), "%s", err.msg);
    m.kind->free(back);
    reel_tensors_free(&bag);
    cJSON_Delete(meta);
    reel_model_free(&m);
}

typedef struct {
    char text[4][512];
    int n;
} captured;

static void capture(void *user, reel_log_level level, const char *message, const reel_progress *progress)
{
    captured *c = user;
    (void)level;
    if (!progress && c->n < 4)
        snprintf(c->text[c->n++], sizeof c->text[0], "%s", message);
}

/* The device backends have PLR and dropout: the recipe (batch 300: the
 * layered step) and PLR alone (batch 30: the fused epoch) train there,
 * without a note about a missing kind, and predict close to the same net
 * trained on the CPU (the bits differ where sin, cos or exp do). */
Test(nn_layers, plr_trains_on_the_device_without_a_note)
{
    reel_error err;
    if (reel_nn_device_check("opencl", &err))
        REEL_SKIP("no OpenCL device here: %s", err.msg);
    static rows t;
    make_rows(&t);
    const char *recipes[2] = {RECIPE, PLR_ONLY};
    for (int r = 0; r < 2; r++) {
        captured notes = {0};
        reel_log log = {capture, &notes, REEL_LOG_INFO};
        reel_model a, b;
        fit_recipe(&a, recipes[r], &t, 1, "opencl", &log);
        fit_recipe(&b, recipes[r], &t, 1, "cpu", NULL);
        for (int i = 0; i < notes.n; i++)
            cr_expect(!strstr(notes.text[i], "layer kind"), "a note: %s", notes.text[i]);
        cr_expect_eq(strncmp(a.kind->device(a.state), "opencl", 6), 0, "trained on %s", a.kind->device(a.state));
        float P[200], Q[200];
        predict(&a, &t, P);
        predict(&b, &t, Q);
        double worst = 0;
        for (int i = 0; i < 200; i++)
            worst = fmax(worst, fabs(P[i] - Q[i]));
        printf("nn_layers: recipe %d on opencl vs cpu, largest probability difference %.3g\n", r, worst);
        cr_expect_lt(worst, 1e-3);
        reel_model_free(&a);
        reel_model_free(&b);
    }
}
