/* The forest kind: the same forest on any thread count, scores close to
 * scikit-learn's RandomForestClassifier (fixtures/tree.json), exact
 * agreement where no randomness is left, and save/load. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"
#include "eval/metrics.h"
#include "tree_fixture.h"

typedef struct {
    cJSON *doc;
    float *X, *Xt;
    uint8_t *Y, *Yt;
    size_t n, nt, d, L;
} forest_data;

static void load_forest_data(forest_data *f)
{
    f->doc = fixture_load();
    const cJSON *fx = cJSON_GetObjectItem(f->doc, "forest");
    size_t n2, L2;
    f->X = fixture_X(cJSON_GetObjectItem(fx, "X_thousandths"), &f->n, &f->d);
    f->Xt = fixture_X(cJSON_GetObjectItem(fx, "X_test_thousandths"), &f->nt, &f->d);
    f->Y = fixture_Y(cJSON_GetObjectItem(fx, "Y"), &n2, &f->L);
    f->Yt = fixture_Y(cJSON_GetObjectItem(fx, "Y_test"), &n2, &L2);
}

static void free_forest_data(forest_data *f)
{
    free(f->X);
    free(f->Xt);
    free(f->Y);
    free(f->Yt);
    cJSON_Delete(f->doc);
}

static double samples_f1(const reel_model *m, const forest_data *f)
{
    float *P = predict(m, f->Xt, f->nt);
    uint8_t *pred = malloc(f->nt * f->L);
    reel_threshold(P, m->threshold, f->nt, f->L, pred);
    reel_metrics mt;
    cr_assert_eq(reel_metrics_compute(&mt, f->Yt, pred, f->nt, f->L), 0);
    double s = mt.samples_f1;
    reel_metrics_free(&mt);
    free(pred);
    free(P);
    return s;
}

Test(forest, same_forest_on_any_thread_count)
{
    forest_data f;
    load_forest_data(&f);
    const char *params = "{\"n_estimators\": 12, \"max_samples\": 0.7, \"criterion\": \"entropy\"}";
    reel_model m1, m2;
    reel_fit_ctx c1 = fit_ctx(f.X, f.Y, f.n, f.d, f.L, 9, 1), c2 = fit_ctx(f.X, f.Y, f.n, f.d, f.L, 9, 2);
    fit_model(&m1, "forest", params, &c1);
    fit_model(&m2, "forest", params, &c2);
    float *P1 = predict(&m1, f.Xt, f.nt), *P2 = predict(&m2, f.Xt, f.nt);
    cr_expect_arr_eq(P1, P2, f.nt * f.L * sizeof *P1, "1 and 2 threads grew different forests");
    /* another seed: another forest */
    reel_model m3;
    reel_fit_ctx c3 = fit_ctx(f.X, f.Y, f.n, f.d, f.L, 10, 2);
    fit_model(&m3, "forest", params, &c3);
    float *P3 = predict(&m3, f.Xt, f.nt);
    cr_expect(memcmp(P1, P3, f.nt * f.L * sizeof *P1) != 0, "seeds 9 and 10 grew the same forest");
    free(P1);
    free(P2);
    free(P3);
    reel_model_free(&m1);
    reel_model_free(&m2);
    reel_model_free(&m3);
    free_forest_data(&f);
}

/* Mean samples-F1 over five seeds within 0.03 of scikit-learn's mean over
 * five random_states, for each forest setting of make_tree.py. */
Test(forest, scores_like_scikit_learn)
{
    forest_data f;
    load_forest_data(&f);
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(f.doc, "forest"), "cases"))
    {
        char *params = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "params"));
        double sum = 0;
        for (uint64_t seed = 0; seed < 5; seed++) {
            reel_model m;
            reel_fit_ctx ctx = fit_ctx(f.X, f.Y, f.n, f.d, f.L, seed, 2);
            fit_model(&m, "forest", params, &ctx);
            sum += samples_f1(&m, &f);
            reel_model_free(&m);
        }
        double want = cJSON_GetObjectItem(c, "samples_f1")->valuedouble;
        cr_expect(fabs(sum / 5 - want) <= 0.03, "%s: samples-F1 %.4f, scikit-learn %.4f", params, sum / 5, want);
        cJSON_free(params);
        cases++;
    }
    cr_expect_geq(cases, 3);
    free_forest_data(&f);
}

/* Without bootstrap and with every feature tried, each tree is the one
 * deterministic CART tree, so the forest equals scikit-learn's tree. */
Test(forest, no_randomness_left_equals_the_tree)
{
    cJSON *doc = fixture_load();
    const cJSON *fx = cJSON_GetObjectItem(doc, "tree");
    size_t n_all, d, n, L;
    float *X = fixture_X(cJSON_GetObjectItem(fx, "X_thousandths"), &n_all, &d);
    uint8_t *Y = fixture_Y(cJSON_GetObjectItem(fx, "Y"), &n, &L);
    const cJSON *c, *want = NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases"))
    {
        const cJSON *p = cJSON_GetObjectItem(c, "params");
        if (cJSON_GetArraySize(p) == 2 && cJSON_GetObjectItem(p, "max_depth") &&
            cJSON_GetObjectItem(p, "max_depth")->valueint == 3)
            want = cJSON_GetObjectItem(c, "proba");
    }
    cr_assert_not_null(want, "the gini max_depth 3 case is missing from tree.json");
    reel_model m;
    reel_fit_ctx ctx = fit_ctx(X, Y, n, d, L, 4, 2);
    fit_model(&m, "forest",
              "{\"n_estimators\": 5, \"bootstrap\": false, \"max_features\": null, \"max_depth\": 3}", &ctx);
    float *P = predict(&m, X, n_all);
    size_t i = 0;
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, want) cJSON_ArrayForEach(v, row)
    {
        cr_expect(fabs(P[i] - v->valuedouble) <= 1e-6, "value %zu: %g, scikit-learn %g", i, P[i], v->valuedouble);
        i++;
    }
    free(P);
    free(X);
    free(Y);
    reel_model_free(&m);
    cJSON_Delete(doc);
}

Test(forest, save_load_round_trip)
{
    forest_data f;
    load_forest_data(&f);
    reel_model m;
    reel_fit_ctx ctx = fit_ctx(f.X, f.Y, f.n, f.d, f.L, 2, 2);
    fit_model(&m, "forest", "{\"n_estimators\": 7, \"max_leaf_nodes\": 30, \"ccp_alpha\": 0.001}", &ctx);
    float *P = predict(&m, f.Xt, f.nt), *P2 = malloc(f.nt * f.L * sizeof *P2);
    void *back = save_load(&m);
    reel_error err;
    cr_assert_eq(m.kind->predict_proba(back, f.Xt, f.nt, P2, &err), 0);
    cr_expect_arr_eq(P, P2, f.nt * f.L * sizeof *P);
    double a[16], b[16], sum = 0;
    reel_trees_importances(m.state, a);
    reel_trees_importances(back, b);
    cr_expect_arr_eq(a, b, f.d * sizeof *a);
    for (size_t j = 0; j < f.d; j++)
        sum += a[j];
    cr_expect_float_eq(sum, 1.0, 1e-9);
    m.kind->free(back);
    free(P);
    free(P2);
    reel_model_free(&m);
    free_forest_data(&f);
}

Test(forest, bad_params_name_the_key)
{
    const struct {
        const char *params, *key;
    } cases[] = {
        {"{\"n_estimators\": 0}", "'n_estimators'"},
        {"{\"n_estimators\": 2.5}", "'n_estimators'"},
        {"{\"bootstrap\": \"yes\"}", "'bootstrap'"},
        {"{\"bootstrap\": false, \"max_samples\": 0.5}", "'max_samples'"},
        {"{\"max_samples\": 1.5}", "'max_samples'"},
        {"{\"max_depth\": -3}", "'max_depth'"},
        {"{\"criterion\": \"squared_error\"}", "'criterion'"},
        {"{\"splitter\": \"random\"}", "'splitter'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *msg = init_error("forest", cases[i].params);
        cr_expect_not_null(msg, "%s was accepted", cases[i].params);
        if (msg)
            cr_expect(strstr(msg, cases[i].key) != NULL, "%s: message '%s' does not name %s", cases[i].params, msg,
                      cases[i].key);
    }
    /* max_samples larger than the training rows is caught at fit */
    forest_data f;
    load_forest_data(&f);
    reel_model m;
    reel_error err = {{0}};
    cJSON *p = cJSON_Parse("{\"max_samples\": 5000}");
    cr_assert_eq(reel_model_init(&m, "forest", p, &err), 0);
    reel_fit_ctx ctx = fit_ctx(f.X, f.Y, f.n, f.d, f.L, 2, 1);
    cr_expect_eq(reel_model_fit(&m, &ctx, &err), -1);
    cr_expect(strstr(err.msg, "'max_samples'") != NULL, "%s", err.msg);
    cJSON_Delete(p);
    reel_model_free(&m);
    free_forest_data(&f);
}

Test(forest, tiny_data)
{
    const float X[] = {0, 1, 2, 3};
    const uint8_t Y[] = {0, 1, 0, 1, 1, 0, 1, 1};
    reel_model m;
    reel_fit_ctx ctx = fit_ctx(X, Y, 4, 1, 2, 1, 2);
    fit_model(&m, "forest", "{\"n_estimators\": 3}", &ctx);
    float *P = predict(&m, X, 4);
    for (size_t i = 0; i < 8; i++)
        cr_expect(P[i] >= 0 && P[i] <= 1);
    free(P);
    reel_model_free(&m);
    ctx = fit_ctx(X, Y, 1, 1, 2, 1, 2);
    fit_model(&m, "forest", "{\"n_estimators\": 4, \"max_samples\": 1}", &ctx);
    P = predict(&m, X, 1);
    cr_expect_float_eq(P[0], 0.0, 1e-7);
    cr_expect_float_eq(P[1], 1.0, 1e-7);
    free(P);
    reel_model_free(&m);
}
