/* The CPU backend against PyTorch: fixtures/nn_golden.json, written by
 * tests/fixtures/make_nn_golden.py, holds for box, U and two small nets
 * (relu, tanh, none; sigmoid and softmax heads) torch's probabilities at
 * reel's initial weights, the loss and every gradient of one batch, the
 * losses of 10 AdamW steps and the weights after them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "nn/backend.h"
#include "nn/spec.h"
#include "util/fileio.h"

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* base64 of little-endian float32 -> n floats (checked). */
static float *b64_floats(const cJSON *item, size_t n)
{
    cr_assert(cJSON_IsString(item));
    const char *s = item->valuestring;
    size_t len = strlen(s), nbytes = 0;
    unsigned char *bytes = malloc(len);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int v = b64_value(s[i]);
        cr_assert(v >= 0, "bad base64 in fixture");
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes[nbytes++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    cr_assert_eq(nbytes, n * 4, "fixture array has %zu bytes, expected %zu", nbytes, n * 4);
    float *f = malloc(n * sizeof *f);
    memcpy(f, bytes, nbytes); /* x86 and ARM are little-endian */
    free(bytes);
    return f;
}

static float *matrix(const cJSON *rows, size_t n, size_t m)
{
    cr_assert_eq((size_t)cJSON_GetArraySize(rows), n);
    float *a = malloc(n * m * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetArrayItem(rows, (int)i);
        cr_assert_eq((size_t)cJSON_GetArraySize(r), m);
        for (size_t k = 0; k < m; k++)
            a[i * m + k] = (float)cJSON_GetArrayItem(r, (int)k)->valuedouble;
    }
    return a;
}

static double num(const cJSON *o, const char *key) { return cJSON_GetObjectItem(o, key)->valuedouble; }

static cJSON *load_golden(void)
{
    char *text = reel_read_file(test_fixture("nn_golden.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run tests/fixtures/make_nn_golden.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    return doc;
}

/* Largest |a-b| / (|b| + floor) over n values; floor keeps values near zero
 * (a gradient that cancels to ~0) from dominating. */
static double max_rel(const float *a, const float *b, size_t n, double floor, size_t *where)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + floor);
        if (r > worst || isnan(r)) {
            worst = r;
            *where = i;
        }
    }
    return worst;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)a[i]) > m ? fabs((double)a[i]) : m;
    return m;
}

static void check_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    size_t d = (size_t)num(c, "d"), L = (size_t)num(c, "L"), bs = (size_t)num(c, "batch_size");
    const cJSON *xs = cJSON_GetObjectItem(c, "X");
    size_t n = (size_t)cJSON_GetArraySize(xs);
    reel_nn_spec spec;
    reel_error err;
    cr_assert_eq(reel_nn_spec_build(&spec, cJSON_GetObjectItem(c, "layers"),
                                    cJSON_GetObjectItem(c, "head")->valuestring, d, L, &err),
                 0, "%s: %s", name, err.msg);
    cr_assert_eq(spec.n_params, (size_t)num(c, "n_params"), "%s: parameter count", name);

    /* reel's init, recomputed by the script from the same PRNG */
    float *params = malloc(spec.n_params * sizeof *params);
    reel_nn_init_params(&spec, (uint64_t)num(c, "seed"), params);
    const cJSON *first = cJSON_GetObjectItem(c, "init_first");
    for (int i = 0; i < cJSON_GetArraySize(first); i++)
        cr_assert_eq(params[i], (float)cJSON_GetArrayItem(first, i)->valuedouble, "%s: init value %d", name, i);
    double sum = 0;
    for (size_t i = 0; i < spec.n_params; i++)
        sum += params[i];
    cr_assert(fabs(sum - num(c, "init_sum")) < 1e-9, "%s: init sum %.12g vs %.12g", name, sum,
              num(c, "init_sum"));

    float *X = matrix(xs, n, d), *Y = matrix(cJSON_GetObjectItem(c, "Y"), n, L);
    float *P0 = matrix(cJSON_GetObjectItem(c, "probs0"), n, L);
    const reel_nn_backend *be = &reel_nn_cpu_backend;
    void *b = be->create(&spec, 0, 2, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(be->set_params(b, params, &err), 0);

    float *P = malloc(n * L * sizeof *P);
    cr_assert_eq(be->predict(b, X, n, P, &err), 0);
    size_t at = 0;
    double dp = max_rel(P, P0, n * L, 1.0, &at);
    printf("nn_golden %s: probabilities largest diff %.3g\n", name, dp);
    cr_expect(dp < 1e-6, "%s: probability %zu: %.9g vs torch %.9g", name, at, P[at], P0[at]);

    const cJSON *ad = cJSON_GetObjectItem(c, "adamw");
    reel_adamw opt = {num(ad, "lr"), num(ad, "beta1"), num(ad, "beta2"), num(ad, "eps"), num(ad, "weight_decay")};
    uint32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    cr_assert_eq(be->set_data(b, X, Y, n, &err), 0);
    cr_assert_eq(be->set_order(b, order, n, &err), 0);

    const cJSON *losses = cJSON_GetObjectItem(c, "step_losses");
    float *grads = malloc(spec.n_params * sizeof *grads), *g0 = b64_floats(cJSON_GetObjectItem(c, "grads0"), spec.n_params);
    double worst_loss = 0;
    for (int step = 1; step <= cJSON_GetArraySize(losses); step++) {
        float loss;
        size_t start = ((size_t)(step - 1) * bs) % n;
        cr_assert_eq(be->train_step(b, start, bs, &opt, step, &loss, &err), 0, "%s", err.msg);
        double ref = cJSON_GetArrayItem(losses, step - 1)->valuedouble;
        worst_loss = fmax(worst_loss, fabs(loss - ref));
        cr_expect(fabs(loss - ref) <= 1e-5, "%s: step %d loss %.9g vs torch %.9g", name, step, loss, ref);
        if (step == 1) {
            /* Gradients: relative error 1e-4, measured against the value or,
             * for values that cancel to near zero, 1e-3 of the largest. */
            cr_assert_eq(be->get_grads(b, grads, &err), 0);
            double r = max_rel(grads, g0, spec.n_params, 1e-3 * max_abs(g0, spec.n_params), &at);
            printf("nn_golden %s: gradients largest relative diff %.3g (at %zu: %.9g vs %.9g)\n", name, r, at,
                   grads[at], g0[at]);
            cr_expect(r < 1e-4, "%s: gradient %zu: %.9g vs torch %.9g", name, at, grads[at], g0[at]);
        }
    }
    printf("nn_golden %s: step losses largest diff %.3g\n", name, worst_loss);

    /* After 10 steps each weight has moved by up to 10 * lr = 1e-2; AdamW's
     * normalised steps carry float rounding of the gradients through, so
     * allow 1e-6 + 1e-5 relative. */
    float *p10 = b64_floats(cJSON_GetObjectItem(c, "params10"), spec.n_params);
    cr_assert_eq(be->get_params(b, params, &err), 0);
    double worst = 0;
    for (size_t i = 0; i < spec.n_params; i++) {
        double e = fabs((double)params[i] - p10[i]) / (1e-6 + 1e-5 * fabs((double)p10[i]));
        if (e > worst) {
            worst = e;
            at = i;
        }
    }
    printf("nn_golden %s: weights after 10 steps: worst error %.3g of tolerance (at %zu: %.9g vs %.9g)\n", name,
           worst, at, params[at], p10[at]);
    cr_expect(worst <= 1.0, "%s: weight %zu after 10 steps: %.9g vs torch %.9g", name, at, params[at], p10[at]);

    be->destroy(b);
    free(params);
    free(X);
    free(Y);
    free(P0);
    free(P);
    free(order);
    free(grads);
    free(g0);
    free(p10);
}

static void run_case(const char *want)
{
    cJSON *doc = load_golden();
    const cJSON *c;
    int found = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, want) == 0) {
            check_case(c);
            found = 1;
        }
    }
    cJSON_Delete(doc);
    cr_assert(found, "case %s missing from the fixture", want);
}

Test(nn_golden, box_sigmoid) { run_case("box_sigmoid"); }
Test(nn_golden, u_softmax) { run_case("u_softmax"); }
Test(nn_golden, mixed_sigmoid) { run_case("mixed_sigmoid"); }
Test(nn_golden, mixed_softmax) { run_case("mixed_softmax"); }
