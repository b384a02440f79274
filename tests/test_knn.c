/* The knn kind against reference.md's hand-checked oracle and scikit-learn
 * fixtures (fixtures/knn.json from tests/fixtures/make_knn.py): exact
 * neighbour lists, distances, predict_proba; plus ties, save/load, bad
 * params and edge cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "classical/knn_search.h"
#include "models/model.h"
#include "util/fileio.h"

static reel_fit_ctx ctx_of(const float *X, const uint8_t *Y, size_t n, size_t d, size_t L, int threads)
{
    reel_fit_ctx c = {.d = d, .L = L, .X = X, .Y = Y, .n = n, .seed = 42, .threads = threads, 
                      .device = "cpu", .name = "knn"};
    return c;
}

/* A trained knn model for params given as JSON text; fails the test on error. */
static void fit_knn(reel_model *m, const char *params, const reel_fit_ctx *c)
{
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse(params);
    cr_assert_not_null(p, "bad test params %s", params);
    cr_assert_eq(reel_model_init(m, "knn", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
}

Test(knn, reference_oracle_distance_weights)
{
    const float X[] = {0, 1, 2, 3}, q[] = {2.2f};
    const uint8_t Y[] = {0, 1, 0, 1, 1, 0, 1, 1};
    reel_fit_ctx c = ctx_of(X, Y, 4, 1, 2, 1);
    reel_model m;
    fit_knn(&m, "{\"n_neighbors\": 3, \"weights\": \"distance\"}", &c);
    float P[2];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, q, 1, P, &err), 0, "%s", err.msg);
    cr_expect_float_eq(P[0], 0.88235, 1e-5, "genre0 P %f", P[0]);
    cr_expect_float_eq(P[1], 0.29412, 1e-5, "genre1 P %f", P[1]);
    reel_model_free(&m);
}

Test(knn, huge_values_take_the_plain_path_with_the_same_answer)
{
    /* The oracle scaled by 1e20: float sums would overflow, so the search
     * falls back to double loops; the vote shares do not change. */
    const float X[] = {0, 1e20f, 2e20f, 3e20f}, q[] = {2.2e20f};
    const uint8_t Y[] = {0, 1, 0, 1, 1, 0, 1, 1};
    const char *metrics[] = {"euclidean", "manhattan", "chebyshev"};
    for (int i = 0; i < 3; i++) {
        reel_fit_ctx c = ctx_of(X, Y, 4, 1, 2, 1);
        reel_model m;
        char params[128];
        snprintf(params, sizeof params, "{\"n_neighbors\": 3, \"weights\": \"distance\", \"metric\": \"%s\"}",
                 metrics[i]);
        fit_knn(&m, params, &c);
        float P[2];
        reel_error err;
        cr_assert_eq(reel_model_predict_proba(&m, q, 1, P, &err), 0, "%s", err.msg);
        cr_expect_float_eq(P[0], 0.88235, 1e-5, "%s: genre0 P %f", metrics[i], P[0]);
        cr_expect_float_eq(P[1], 0.29412, 1e-5, "%s: genre1 P %f", metrics[i], P[1]);
        reel_model_free(&m);
    }
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

static uint8_t *bytes(const cJSON *rows)
{
    size_t n = (size_t)cJSON_GetArraySize(rows), L = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    uint8_t *m = malloc(n * L + 1);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(v, r) m[i++] = (uint8_t)v->valueint;
    return m;
}

static cJSON *fixture(void)
{
    char *text = reel_read_file(test_fixture("knn.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run tests/fixtures/make_knn.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    return doc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

Test(knn, neighbours_and_proba_match_scikit_learn)
{
    cJSON *doc = fixture();
    int cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "datasets"),
                                                cJSON_GetObjectItem(c, "data")->valuestring);
        const cJSON *params = cJSON_GetObjectItem(c, "params");
        char *ptext = cJSON_PrintUnformatted(params);
        size_t n, d, m, d2, k, L, mk, one;
        float *X = floats(cJSON_GetObjectItem(data, "X"), &n, &d);
        float *Q = floats(cJSON_GetObjectItem(data, "Q"), &m, &d2);
        uint8_t *Y = bytes(cJSON_GetObjectItem(data, "Y"));
        L = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItem(data, "Y"), 0));
        float *want_dist_f = floats(cJSON_GetObjectItem(c, "dist"), &mk, &k);
        float *want_idx_f = floats(cJSON_GetObjectItem(c, "idx"), &mk, &k);
        float *want_P = floats(cJSON_GetObjectItem(c, "proba"), &mk, &one);
        int ordered = cJSON_IsTrue(cJSON_GetObjectItem(c, "ordered"));

        /* The search itself, with 1 and 2 threads. */
        reel_knn_index ix;
        reel_error err;
        const char *metric = cJSON_GetObjectItem(params, "metric")->valuestring;
        cr_assert_eq(reel_knn_index_init(&ix, X, n, d, metric, cJSON_GetObjectItem(params, "p")->valuedouble, &err),
                     0, "%s", err.msg);
        int32_t *idx = malloc(m * k * sizeof *idx), *idx2 = malloc(m * k * sizeof *idx2);
        double *dist = malloc(m * k * sizeof *dist), *dist2 = malloc(m * k * sizeof *dist2);
        cr_assert_eq(reel_knn_search(&ix, Q, m, k, 1, idx, dist, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_knn_search(&ix, Q, m, k, 2, idx2, dist2, &err), 0, "%s", err.msg);
        cr_expect_eq(memcmp(idx, idx2, m * k * sizeof *idx), 0, "%s: threads change the neighbours", ptext);
        cr_expect_eq(memcmp(dist, dist2, m * k * sizeof *dist), 0, "%s: threads change the distances", ptext);
        for (size_t q = 0; q < m; q++) {
            int32_t want[256], got[256];
            cr_assert_leq(k, 256u);
            for (size_t j = 0; j < k; j++) {
                want[j] = (int32_t)want_idx_f[q * k + j];
                got[j] = idx[q * k + j];
                double wd = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "dist"), (int)q), (int)j)
                                ->valuedouble;
                cr_expect(fabs(dist[q * k + j] - wd) <= 1e-9 * (1 + wd), "%s q%zu n%zu: dist %.17g, sklearn %.17g",
                          ptext, q, j, dist[q * k + j], wd);
            }
            if (!ordered) {
                qsort(want, k, sizeof *want, cmp_i32);
                qsort(got, k, sizeof *got, cmp_i32);
            }
            for (size_t j = 0; j < k; j++)
                cr_expect_eq(got[j], want[j], "%s query %zu neighbour %zu: %d, sklearn %d", ptext, q, j, got[j],
                             want[j]);
        }

        /* The model: predict_proba and the P > 0.5 decision. */
        reel_fit_ctx ctx = ctx_of(X, Y, n, d, L, 2);
        reel_model model;
        fit_knn(&model, ptext, &ctx);
        float *P = malloc(m * L * sizeof *P);
        cr_assert_eq(reel_model_predict_proba(&model, Q, m, P, &err), 0, "%s", err.msg);
        const cJSON *pred = cJSON_GetObjectItem(c, "predict");
        for (size_t q = 0; q < m; q++)
            for (size_t l = 0; l < L; l++) {
                cr_expect_float_eq(P[q * L + l], want_P[q * L + l], 1e-6, "%s q%zu label %zu: P %g, sklearn %g",
                                   ptext, q, l, P[q * L + l], want_P[q * L + l]);
                int want_pred = cJSON_GetArrayItem(cJSON_GetArrayItem(pred, (int)q), (int)l)->valueint;
                cr_expect_eq(P[q * L + l] > 0.5f, want_pred, "%s q%zu label %zu: prediction differs", ptext, q, l);
            }
        reel_model_free(&model);
        reel_knn_index_free(&ix);
        free(P);
        free(idx);
        free(idx2);
        free(dist);
        free(dist2);
        free(X);
        free(Q);
        free(Y);
        free(want_dist_f);
        free(want_idx_f);
        free(want_P);
        cJSON_free(ptext);
        cases++;
    }
    cr_expect_geq(cases, 15);
    cJSON_Delete(doc);
}

/* ---- ties, round trip, errors, edges ---- */

Test(knn, ties_go_to_the_lower_training_index)
{
    /* Rows 0..2999 all identical except row 1500: every distance ties, across tiles. */
    enum { N = 3000, D = 3 };
    float *X = calloc(N * D, sizeof *X), q[2 * D] = {1, 1, 1, -1, -1, -1};
    for (size_t j = 0; j < D; j++)
        X[1500 * D + j] = 1.0f;
    const char *metrics[] = {"euclidean", "manhattan", "chebyshev", "minkowski"};
    for (int mi = 0; mi < 4; mi++) {
        reel_knn_index ix;
        reel_error err;
        cr_assert_eq(reel_knn_index_init(&ix, X, N, D, metrics[mi], 3.0, &err), 0, "%s", err.msg);
        int32_t idx[2 * 6];
        double dist[2 * 6];
        cr_assert_eq(reel_knn_search(&ix, q, 2, 6, 2, idx, dist, &err), 0, "%s", err.msg);
        const int32_t want0[6] = {1500, 0, 1, 2, 3, 4};
        for (int j = 0; j < 6; j++) {
            cr_expect_eq(idx[j], want0[j], "%s: query 0 neighbour %d is %d", metrics[mi], j, idx[j]);
            cr_expect_eq(idx[6 + j], j, "%s: query 1 neighbour %d is %d", metrics[mi], j, idx[6 + j]);
        }
        cr_expect_eq(dist[0], 0.0);
        reel_knn_index_free(&ix);
    }
    free(X);
}

Test(knn, uniform_votes_and_half_is_not_a_prediction)
{
    /* k = 4 with two positive neighbours: P = 0.5 exactly, not predicted. */
    const float X[] = {0, 1, 2, 3, 10}, q[] = {1.4f};
    const uint8_t Y[] = {1, 1, 0, 0, 1};
    reel_fit_ctx c = ctx_of(X, Y, 5, 1, 1, 1);
    reel_model m;
    fit_knn(&m, "{\"n_neighbors\": 4}", &c);
    float P;
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, q, 1, &P, &err), 0);
    cr_expect_eq(P, 0.5f);
    cr_expect_eq(m.threshold[0], 0.5f);
    reel_model_free(&m);
}

Test(knn, save_load_round_trip_gives_identical_predictions)
{
    enum { N = 300, D = 4, L = 3, M = 50 };
    float X[N * D], Q[M * D];
    uint8_t Y[N * L];
    unsigned s = 1;
    for (size_t i = 0; i < N * D; i++)
        X[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 4096.0f;
    for (size_t i = 0; i < M * D; i++)
        Q[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 4096.0f;
    for (size_t i = 0; i < N * L; i++)
        Y[i] = (s = s * 1103515245u + 12345u) >> 16 & 1;
    reel_fit_ctx c = ctx_of(X, Y, N, D, L, 2);
    reel_model m;
    fit_knn(&m, "{\"n_neighbors\": 7, \"weights\": \"distance\", \"metric\": \"manhattan\"}", &c);
    float P1[M * L], P2[M * L];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, Q, M, P1, &err), 0, "%s", err.msg);
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    cr_assert_eq(m.kind->save(m.state, &t, meta, &err), 0, "%s", err.msg);
    void *loaded = m.kind->load(m.params, D, L, 1, &t, meta, &err);
    cr_assert_not_null(loaded, "%s", err.msg);
    cr_assert_eq(m.kind->predict_proba(loaded, Q, M, P2, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(P1, P2, sizeof P1), 0);
    /* A file whose X has the wrong width is refused. */
    cr_expect_null(m.kind->load(m.params, D + 1, L, 1, &t, meta, &err));
    cr_expect_not_null(strstr(err.msg, "X"), "%s", err.msg);
    m.kind->free(loaded);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    reel_model_free(&m);
}

Test(knn, k_larger_than_the_training_rows_is_a_clear_error)
{
    const float X[] = {0, 1, 2};
    const uint8_t Y[] = {0, 1, 1};
    reel_fit_ctx c = ctx_of(X, Y, 3, 1, 1, 1);
    reel_model m;
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse("{\"n_neighbors\": 5}");
    cr_assert_eq(reel_model_init(&m, "knn", p, &err), 0, "%s", err.msg);
    cr_expect_neq(reel_model_fit(&m, &c, &err), 0);
    cr_expect_not_null(strstr(err.msg, "n_neighbors"), "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "(5)"), "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "(3)"), "%s", err.msg);
    cJSON_Delete(p);
    reel_model_free(&m);
}

static void expect_bad(const char *params, const char *key)
{
    reel_model m;
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse(params);
    cr_assert_not_null(p);
    cr_expect_neq(reel_model_init(&m, "knn", p, &err), 0, "%s accepted", params);
    cr_expect_not_null(strstr(err.msg, key), "%s: message '%s' does not name %s", params, err.msg, key);
    cJSON_Delete(p);
}

Test(knn, bad_params_name_the_key)
{
    expect_bad("{\"metric\": \"cosine\"}", "'metric'");
    expect_bad("{\"n_neighbors\": \"five\"}", "'n_neighbors'");
    expect_bad("{\"n_neighbors\": 0}", "'n_neighbors'");
    expect_bad("{\"n_neighbors\": 2.5}", "'n_neighbors'");
    expect_bad("{\"p\": 0.5}", "'p'");
    expect_bad("{\"weights\": \"inverse\"}", "'weights'");
    expect_bad("{\"algorithm\": \"ball_tree\"}", "'algorithm'");
    expect_bad("{\"neighbours\": 3}", "'neighbours'");
}

Test(knn, edge_cases_do_not_crash)
{
    reel_error err;
    float P[6];
    /* A single training row. */
    {
        const float X[] = {1, 2}, q[] = {0, 0, 1, 2};
        const uint8_t Y[] = {1, 0};
        reel_fit_ctx c = ctx_of(X, Y, 1, 2, 2, 2);
        reel_model m;
        fit_knn(&m, "{\"n_neighbors\": 1, \"weights\": \"distance\"}", &c);
        cr_assert_eq(reel_model_predict_proba(&m, q, 2, P, &err), 0, "%s", err.msg);
        cr_expect(P[0] == 1.0f && P[1] == 0.0f && P[2] == 1.0f && P[3] == 0.0f);
        reel_model_free(&m);
    }
    /* Constant features (as an all-missing column becomes), duplicated
     * rows, a constant label: every distance ties. */
    {
        const float X[] = {3, 0, 3, 0, 3, 0, 3, 0}, q[] = {3, 0, 1, 1, 0, 0};
        const uint8_t Y[] = {1, 1, 1, 0, 1, 0, 1, 1};
        reel_fit_ctx c = ctx_of(X, Y, 4, 2, 2, 2);
        reel_model m;
        fit_knn(&m, "{\"n_neighbors\": 3, \"weights\": \"distance\", \"metric\": \"chebyshev\"}", &c);
        cr_assert_eq(reel_model_predict_proba(&m, q, 3, P, &err), 0, "%s", err.msg);
        /* Neighbours 0, 1, 2 (lower index wins): label 0 always, label 1 one in three. */
        for (int i = 0; i < 3; i++) {
            cr_expect_eq(P[2 * i], 1.0f);
            cr_expect_float_eq(P[2 * i + 1], 1.0f / 3.0f, 1e-6);
        }
        reel_model_free(&m);
    }
    /* A NaN in a query row gives finite probabilities, no crash. */
    {
        const float X[] = {0, 1, 2, 3}, q[] = {NAN};
        const uint8_t Y[] = {0, 1, 1, 1};
        reel_fit_ctx c = ctx_of(X, Y, 4, 1, 1, 1);
        reel_model m;
        fit_knn(&m, "{\"n_neighbors\": 2, \"weights\": \"distance\"}", &c);
        cr_assert_eq(reel_model_predict_proba(&m, q, 1, P, &err), 0, "%s", err.msg);
        cr_expect(P[0] >= 0.0f && P[0] <= 1.0f);
        reel_model_free(&m);
    }
}

/* General minkowski p goes through the euclidean filter (and products, not
 * pow, for whole and half-whole p): the same neighbours as a plain double
 * scan with pow, for p below and above 2, over several tiles. */
Test(knn, minkowski_general_p_matches_a_plain_scan)
{
    enum { N = 1500, D = 9, M = 40, K = 7 };
    float *X = malloc(N * D * sizeof *X), Q[M * D];
    unsigned s = 3;
    for (size_t i = 0; i < N * D; i++)
        X[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 3000.0f;
    for (size_t i = 0; i < M * D; i++)
        Q[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 3000.0f;
    const double ps[] = {1.5, 2.5, 2.7, 3.0, 4.0};
    for (size_t pi = 0; pi < sizeof ps / sizeof *ps; pi++) {
        reel_knn_index ix;
        reel_error err;
        cr_assert_eq(reel_knn_index_init(&ix, X, N, D, "minkowski", ps[pi], &err), 0, "%s", err.msg);
        cr_expect_not_null(ix.XP, "p %g uses the filter", ps[pi]);
        int32_t idx[M * K];
        double dist[M * K];
        cr_assert_eq(reel_knn_search(&ix, Q, M, K, 2, idx, dist, &err), 0, "%s", err.msg);
        for (size_t a = 0; a < M; a++) {
            double r[N];
            for (size_t t = 0; t < N; t++) {
                r[t] = 0;
                for (size_t j = 0; j < D; j++)
                    r[t] += pow(fabs((double)X[t * D + j] - (double)Q[a * D + j]), ps[pi]);
            }
            for (size_t j = 0; j < K; j++) { /* the j-th smallest by (r, index) */
                size_t best = 0;
                for (size_t t = 1; t < N; t++)
                    if (r[t] < r[best])
                        best = t;
                cr_expect_eq(idx[a * K + j], (int32_t)best, "p %g query %zu neighbour %zu", ps[pi], a, j);
                cr_expect_float_eq(dist[a * K + j], pow(r[best], 1.0 / ps[pi]), 1e-12);
                r[best] = INFINITY;
            }
        }
        reel_knn_index_free(&ix);
    }
    free(X);
}
