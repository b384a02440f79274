/* The ridge kind against reference.md's hand-checked oracle and scikit-learn
 * fixtures (fixtures/ridge.json from tests/fixtures/make_ridge.py):
 * coefficients, intercepts, positive coefficients, the exact decision rule
 * of the sigmoid output, softmax output and its default threshold,
 * save/load, bad params and edge cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "models/model.h"
#include "util/fileio.h"

static reel_fit_ctx ctx_of(const float *X, const uint8_t *Y, size_t n, size_t d, size_t L)
{
    reel_fit_ctx c = {.d = d, .L = L, .X = X, .Y = Y, .n = n, .seed = 42, .threads = 2, 
                      .device = "cpu", .name = "ridge"};
    return c;
}

static void fit_ridge(reel_model *m, const char *params, const reel_fit_ctx *c)
{
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse(params);
    cr_assert_not_null(p, "bad test params %s", params);
    cr_assert_eq(reel_model_init(m, "ridge", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
}

/* The fitted coef (L x d) and intercept (L), through save. */
static void saved(const reel_model *m, double *coef, double *intercept)
{
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    reel_error err;
    cr_assert_eq(m->kind->save(m->state, &t, meta, &err), 0, "%s", err.msg);
    const reel_tensor *c = reel_tensors_get(&t, "coef", REEL_F64, m->L * m->d, &err);
    const reel_tensor *b = reel_tensors_get(&t, "intercept", REEL_F64, m->L, &err);
    cr_assert(c && b, "%s", err.msg);
    cr_expect(c->ndim == 2 && c->shape[0] == m->L && c->shape[1] == m->d, "coef is not L x d");
    memcpy(coef, c->data, c->nbytes);
    memcpy(intercept, b->data, b->nbytes);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
}

Test(ridge, reference_oracle)
{
    const float X[] = {0, 1, 2, 3}, q[] = {1.5f};
    const uint8_t Y[] = {0, 1, 0, 1, 1, 0, 1, 1};
    reel_fit_ctx c = ctx_of(X, Y, 4, 1, 2);
    reel_model m;
    fit_ridge(&m, "{\"alpha\": 1}", &c);
    double coef[2], b[2];
    saved(&m, coef, b);
    cr_expect_float_eq(coef[0], 2.0 / 3.0, 1e-12, "coef0 %.17g", coef[0]);
    cr_expect_float_eq(coef[1], -1.0 / 6.0, 1e-12, "coef1 %.17g", coef[1]);
    cr_expect_float_eq(b[0], -1.0, 1e-12, "intercept0 %.17g", b[0]);
    cr_expect_float_eq(b[1], 0.75, 1e-12, "intercept1 %.17g", b[1]);
    cr_expect_float_eq(coef[0] * 1.5 + b[0], 0.0, 1e-12);
    cr_expect_float_eq(coef[1] * 1.5 + b[1], 0.5, 1e-12);
    float P[2];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, q, 1, P, &err), 0, "%s", err.msg);
    cr_expect(!(P[0] > m.threshold[0]), "genre0 predicted at decision 0 (P %.9g)", P[0]);
    cr_expect(P[1] > m.threshold[1], "genre1 not predicted (P %.9g)", P[1]);
    cr_expect_float_eq(P[1], 1.0 / (1.0 + exp(-0.5)), 1e-6);
    reel_model_free(&m);
}

/* ---- scikit-learn fixtures ---- */

static float *floats(const cJSON *rows, size_t *n, size_t *d)
{
    *n = (size_t)cJSON_GetArraySize(rows);
    *d = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    float *m = malloc(*n * *d * sizeof *m + 1);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(v, r) m[i++] = (float)v->valuedouble;
    return m;
}

static double num(const cJSON *a, size_t i, size_t j)
{
    return cJSON_GetArrayItem(cJSON_GetArrayItem(a, (int)i), (int)j)->valuedouble;
}

/* ||Y~ - X coef^T - b||^2 + alpha ||coef||^2 with Y~ = +1/-1. */
static double objective(const float *X, const uint8_t *Y, size_t n, size_t d, size_t L, const double *coef,
                        const double *b, double alpha)
{
    double f = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < L; l++) {
            double r = (Y[i * L + l] ? 1.0 : -1.0) - b[l];
            for (size_t j = 0; j < d; j++)
                r -= coef[l * d + j] * X[i * d + j];
            f += r * r;
        }
    for (size_t k = 0; k < L * d; k++)
        f += alpha * coef[k] * coef[k];
    return f;
}

Test(ridge, coefficients_match_scikit_learn)
{
    char *text = reel_read_file(test_fixture("ridge.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run tests/fixtures/make_ridge.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    int cases = 0, positives = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "datasets"),
                                                cJSON_GetObjectItem(c, "data")->valuestring);
        const cJSON *params = cJSON_GetObjectItem(c, "params");
        char *ptext = cJSON_PrintUnformatted(params);
        int positive = cJSON_IsTrue(cJSON_GetObjectItem(params, "positive"));
        double alpha = cJSON_GetObjectItem(params, "alpha")->valuedouble;
        size_t n, d, m, d2, n2, L;
        float *X = floats(cJSON_GetObjectItem(data, "X"), &n, &d);
        float *Q = floats(cJSON_GetObjectItem(data, "Q"), &m, &d2);
        float *Yf = floats(cJSON_GetObjectItem(data, "Y"), &n2, &L);
        uint8_t *Y = malloc(n * L);
        for (size_t i = 0; i < n * L; i++)
            Y[i] = Yf[i] != 0.0f;
        reel_fit_ctx ctx = ctx_of(X, Y, n, d, L);
        reel_model model;
        fit_ridge(&model, ptext, &ctx);
        double *coef = malloc(L * d * sizeof *coef), *b = malloc(L * sizeof *b),
               *want_coef = malloc(L * d * sizeof *coef), *want_b = malloc(L * sizeof *b);
        saved(&model, coef, b);

        const cJSON *wc = cJSON_GetObjectItem(c, "coef"), *wb = cJSON_GetObjectItem(c, "intercept");
        double scale = 1;
        for (size_t l = 0; l < L; l++) {
            want_b[l] = cJSON_GetArrayItem(wb, (int)l)->valuedouble;
            for (size_t j = 0; j < d; j++) {
                want_coef[l * d + j] = num(wc, l, j);
                scale = fmax(scale, fabs(want_coef[l * d + j]));
            }
        }
        double tol = (positive ? 1e-4 : 1e-6) * scale;
        for (size_t l = 0; l < L; l++) {
            cr_expect(fabs(b[l] - want_b[l]) <= tol, "%s on %s: intercept %zu %.10g, want %.10g", ptext,
                      cJSON_GetObjectItem(c, "data")->valuestring, l, b[l], want_b[l]);
            for (size_t j = 0; j < d; j++)
                cr_expect(fabs(coef[l * d + j] - want_coef[l * d + j]) <= tol,
                          "%s on %s: coef[%zu][%zu] %.10g, want %.10g (%s)", ptext,
                          cJSON_GetObjectItem(c, "data")->valuestring, l, j, coef[l * d + j], want_coef[l * d + j],
                          cJSON_GetObjectItem(c, "source")->valuestring);
        }
        if (positive) {
            for (size_t k = 0; k < L * d; k++)
                cr_expect_geq(coef[k], 0.0, "%s: negative coefficient", ptext);
            double f = objective(X, Y, n, d, L, coef, b, alpha);
            double want = cJSON_GetObjectItem(c, "objective")->valuedouble;
            cr_expect_leq(f, want * (1 + 1e-9) + 1e-9, "%s: objective %.12g above scikit-learn's %.12g", ptext, f,
                          want);
            positives++;
        }

        /* Decisions on the query rows, through P = sigmoid(D). */
        float *P = malloc(m * L * sizeof *P);
        reel_error err;
        cr_assert_eq(reel_model_predict_proba(&model, Q, m, P, &err), 0, "%s", err.msg);
        const cJSON *dec = cJSON_GetObjectItem(c, "decision");
        for (size_t q = 0; q < m; q++)
            for (size_t l = 0; l < L; l++) {
                double D = num(dec, q, l);
                cr_expect_float_eq(P[q * L + l], 1.0 / (1.0 + exp(-D)), positive ? 1e-4 : 1e-6,
                                   "%s: P[%zu][%zu] %g for decision %g", ptext, q, l, P[q * L + l], D);
                if (fabs(D) > 1e-6 * scale)
                    cr_expect_eq(P[q * L + l] > 0.5f, D > 0, "%s: decision %g but P %.9g", ptext, D, P[q * L + l]);
            }
        reel_model_free(&model);
        free(P);
        free(X);
        free(Q);
        free(Yf);
        free(Y);
        free(coef);
        free(b);
        free(want_coef);
        free(want_b);
        cJSON_free(ptext);
        cases++;
    }
    cr_expect_geq(cases, 40);
    cr_expect_geq(positives, 12);
    cJSON_Delete(doc);
}

/* ---- outputs and thresholds ---- */

/* A model with one feature whose coef/intercept are given, through load. */
static void *loaded(const reel_model *m, size_t L, const double *coef, const double *b)
{
    reel_tensors t = {0};
    reel_error err;
    size_t cs[2] = {L, 1};
    cr_assert_eq(reel_tensors_add(&t, "coef", REEL_F64, 2, cs, coef, &err), 0);
    cr_assert_eq(reel_tensors_add(&t, "intercept", REEL_F64, 1, &L, b, &err), 0);
    void *s = m->kind->load(m->params, 1, L, 1, &t, NULL, &err);
    cr_assert_not_null(s, "%s", err.msg);
    reel_tensors_free(&t);
    return s;
}

static void init_ridge(reel_model *m, const char *params)
{
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse(params);
    cr_assert_eq(reel_model_init(m, "ridge", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
}

Test(ridge, sigmoid_probability_is_above_half_exactly_when_decision_is_positive)
{
    reel_model m;
    init_ridge(&m, "{}");
    const double coef[] = {1.0}, b[] = {0.0};
    void *s = loaded(&m, 1, coef, b);
    /* sigmoid(1e-20) rounds to 0.5 in float and even in double. */
    const float X[] = {1e-20f, -1e-20f, 0.0f, 1e-30f, 40.0f, -200.0f};
    float P[6];
    reel_error err;
    cr_assert_eq(m.kind->predict_proba(s, X, 6, P, &err), 0);
    cr_expect(P[0] > 0.5f, "D = 1e-20 gives P %.9g", P[0]);
    cr_expect(P[0] < 0.5001f);
    cr_expect(P[1] <= 0.5f, "D = -1e-20 gives P %.9g", P[1]);
    cr_expect(P[2] <= 0.5f, "D = 0 gives P %.9g", P[2]);
    cr_expect(P[3] > 0.5f, "D = 1e-30 gives P %.9g", P[3]);
    cr_expect(P[4] > 0.5f && P[4] <= 1.0f);
    cr_expect(P[5] >= 0.0f && P[5] < 0.5f);
    m.kind->free(s);
    reel_model_free(&m);
}

Test(ridge, softmax_output_and_its_default_threshold)
{
    reel_model m;
    init_ridge(&m, "{\"output\": \"softmax\"}");
    const double coef[] = {0.0, 0.0, 0.0}, b[] = {1.0, 2.0, 3.0};
    void *s = loaded(&m, 3, coef, b);
    const float X[] = {0.5f};
    float P[3];
    reel_error err;
    cr_assert_eq(m.kind->predict_proba(s, X, 1, P, &err), 0);
    double z = exp(1.0) + exp(2.0) + exp(3.0);
    for (int l = 0; l < 3; l++)
        cr_expect_float_eq(P[l], exp(l + 1.0) / z, 1e-6, "softmax[%d] %g", l, P[l]);
    m.kind->free(s);
    reel_model_free(&m);

    /* Thresholds are set at fit: 0.03 for softmax, 0.5 for decision, or the user's. */
    const float Xf[] = {0, 1, 2, 3};
    const uint8_t Y[] = {0, 1, 0, 1, 1, 0, 1, 1};
    reel_fit_ctx c = ctx_of(Xf, Y, 4, 1, 2);
    const char *params[] = {"{\"output\": \"softmax\"}", "{}", "{\"output\": \"softmax\", \"threshold\": 0.2}",
                            "{\"threshold\": 0.7}"};
    const float want[] = {0.03f, 0.5f, 0.2f, 0.7f};
    for (int i = 0; i < 4; i++) {
        fit_ridge(&m, params[i], &c);
        cr_expect_eq(m.threshold[0], want[i], "%s: threshold %g", params[i], m.threshold[0]);
        cr_expect_eq(m.threshold[1], want[i]);
        reel_model_free(&m);
    }
}

Test(ridge, save_load_round_trip_gives_identical_predictions)
{
    enum { N = 200, D = 6, L = 3, M = 40 };
    float X[N * D], Q[M * D];
    uint8_t Y[N * L];
    unsigned s = 7;
    for (size_t i = 0; i < N * D; i++)
        X[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 8192.0f - 2.0f;
    for (size_t i = 0; i < M * D; i++)
        Q[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 8192.0f - 2.0f;
    for (size_t i = 0; i < N * L; i++)
        Y[i] = X[(i / L) * D + i % L] + X[(i / L) * D + 3] > 0;
    reel_fit_ctx c = ctx_of(X, Y, N, D, L);
    const char *params[] = {"{\"alpha\": 3}", "{\"positive\": true, \"output\": \"softmax\"}"};
    for (int k = 0; k < 2; k++) {
        reel_model m;
        fit_ridge(&m, params[k], &c);
        float P1[M * L], P2[M * L];
        reel_error err;
        cr_assert_eq(reel_model_predict_proba(&m, Q, M, P1, &err), 0, "%s", err.msg);
        reel_tensors t = {0};
        cJSON *meta = cJSON_CreateObject();
        cr_assert_eq(m.kind->save(m.state, &t, meta, &err), 0, "%s", err.msg);
        void *back = m.kind->load(m.params, D, L, 1, &t, meta, &err);
        cr_assert_not_null(back, "%s", err.msg);
        cr_assert_eq(m.kind->predict_proba(back, Q, M, P2, &err), 0, "%s", err.msg);
        cr_expect_eq(memcmp(P1, P2, sizeof P1), 0, "%s: loaded model predicts differently", params[k]);
        cr_expect_null(m.kind->load(m.params, D + 1, L, 1, &t, meta, &err), "wrong width accepted");
        cr_expect_not_null(strstr(err.msg, "coef"), "%s", err.msg);
        m.kind->free(back);
        reel_tensors_free(&t);
        cJSON_Delete(meta);
        reel_model_free(&m);
    }
}

static void expect_bad(const char *params, const char *key)
{
    reel_model m;
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse(params);
    cr_assert_not_null(p);
    cr_expect_neq(reel_model_init(&m, "ridge", p, &err), 0, "%s accepted", params);
    cr_expect_not_null(strstr(err.msg, key), "%s: message '%s' does not name %s", params, err.msg, key);
    cJSON_Delete(p);
}

Test(ridge, bad_params_name_the_key)
{
    expect_bad("{\"alpha\": -1}", "'alpha'");
    expect_bad("{\"alpha\": \"big\"}", "'alpha'");
    expect_bad("{\"fit_intercept\": \"yes\"}", "'fit_intercept'");
    expect_bad("{\"solver\": \"qr\"}", "'solver'");
    expect_bad("{\"positive\": 1}", "'positive'");
    expect_bad("{\"output\": \"probability\"}", "'output'");
    expect_bad("{\"threshold\": 1.5}", "'threshold'");
    expect_bad("{\"l2\": 1}", "'l2'");
}

Test(ridge, edge_cases_do_not_crash)
{
    reel_error err;
    double coef[4], b[2];
    float P[4];
    /* One training row, alpha 0 (singular): intercept = its targets. */
    {
        const float X[] = {1, 2};
        const uint8_t Y[] = {1, 0};
        reel_fit_ctx c = ctx_of(X, Y, 1, 2, 2);
        const char *params[] = {"{\"alpha\": 0}", "{\"alpha\": 0, \"solver\": \"svd\"}", "{\"alpha\": 2}",
                                "{\"alpha\": 0, \"positive\": true}"};
        for (int k = 0; k < 4; k++) {
            reel_model m;
            fit_ridge(&m, params[k], &c);
            saved(&m, coef, b);
            for (int j = 0; j < 4; j++)
                cr_expect_eq(coef[j], 0.0, "%s: coef %g", params[k], coef[j]);
            cr_expect_float_eq(b[0], 1.0, 1e-12);
            cr_expect_float_eq(b[1], -1.0, 1e-12);
            cr_assert_eq(reel_model_predict_proba(&m, X, 1, P, &err), 0);
            cr_expect(P[0] > 0.5f && P[1] < 0.5f);
            reel_model_free(&m);
        }
    }
    /* A constant feature, duplicated rows, a constant label, alpha 0. */
    {
        const float X[] = {5, 0, 5, 1, 5, 1, 5, 3};
        const uint8_t Y[] = {0, 0, 0, 1, 0, 1, 0, 1};
        reel_fit_ctx c = ctx_of(X, Y, 4, 2, 2);
        reel_model m;
        fit_ridge(&m, "{\"alpha\": 0}", &c);
        saved(&m, coef, b);
        /* Label 0 is never set: coef 0, intercept -1. The constant feature gets 0. */
        cr_expect_float_eq(coef[0], 0.0, 1e-12);
        cr_expect_float_eq(coef[1], 0.0, 1e-12);
        cr_expect_float_eq(b[0], -1.0, 1e-12);
        cr_expect_float_eq(coef[2], 0.0, 1e-12, "constant feature coef %g", coef[2]);
        for (int j = 0; j < 4; j++)
            cr_expect(isfinite(coef[j]));
        reel_model_free(&m);
    }
}
