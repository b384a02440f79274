/* The tree kind against the hand-checked oracles of reference.md and
 * against scikit-learn's DecisionTreeClassifier (fixtures/tree.json). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"
#include "eval/metrics.h"
#include "tree_fixture.h"

/* reference.md: X = [[0],[1],[2],[3]], Y = [[0,1],[0,1],[1,0],[1,1]]. */
static const float OX[] = {0, 1, 2, 3};
static const uint8_t OY[] = {0, 1, 0, 1, 1, 0, 1, 1};

static const reel_tree *tree_of(const reel_model *m) { return &((const reel_trees *)m->state)->trees[0]; }

static void fit_oracle(reel_model *m, const char *params)
{
    reel_fit_ctx ctx = fit_ctx(OX, OY, 4, 1, 2, 1, 1);
    fit_model(m, "tree", params, &ctx);
}

/* Weighted impurity decrease of node i over the whole training weight. */
static double improvement(const reel_tree *t, int32_t i)
{
    int32_t l = t->left[i], r = t->right[i];
    return (t->weight[i] * t->impurity[i] - t->weight[l] * t->impurity[l] - t->weight[r] * t->impurity[r]) /
           t->weight[0];
}

Test(tree, oracle_gini_depth_one)
{
    reel_model m;
    fit_oracle(&m, "{\"max_depth\": 1}");
    const reel_tree *t = tree_of(&m);
    cr_assert_eq(t->n_nodes, 3);
    cr_expect_float_eq(t->impurity[0], 0.4375, 1e-12);
    cr_expect_eq(t->feature[0], 0);
    cr_expect_float_eq(t->threshold[0], 1.5, 1e-12);
    cr_expect_float_eq(improvement(t, 0), 0.3125, 1e-12);
    float right[2]; /* only leaves hold values */
    reel_tree_leaf_values(t, (size_t)t->right[0], right);
    cr_expect_float_eq(right[0], 1.0, 1e-7);
    cr_expect_float_eq(right[1], 0.5, 1e-7);
    float *P = predict(&m, OX, 4);
    uint8_t pred[8];
    reel_threshold(P, m.threshold, 4, 2, pred);
    const uint8_t want[] = {0, 1, 0, 1, 1, 0, 1, 0};
    cr_expect_arr_eq(pred, want, 8);
    free(P);
    reel_model_free(&m);
}

Test(tree, oracle_entropy)
{
    reel_model m;
    fit_oracle(&m, "{\"max_depth\": 1, \"criterion\": \"entropy\"}");
    const reel_tree *t = tree_of(&m);
    cr_assert_eq(t->n_nodes, 3);
    cr_expect_float_eq(t->impurity[0], 0.905639, 1e-6);
    cr_expect_float_eq(t->threshold[0], 1.5, 1e-12);
    cr_expect_float_eq(t->impurity[t->right[0]], 0.5, 1e-12);
    cr_expect_float_eq(t->impurity[t->left[0]], 0.0, 1e-12);
    reel_model_free(&m);
}

Test(tree, oracle_full_tree_and_pruning_path)
{
    reel_model m;
    fit_oracle(&m, NULL);
    const reel_tree *t = tree_of(&m);
    cr_expect_eq(t->n_nodes, 5);
    double *alphas, *imps;
    size_t count;
    reel_error err;
    cr_assert_eq(reel_tree_pruning_path(t, &alphas, &imps, &count, &err), 0, "%s", err.msg);
    cr_assert_eq(count, 3);
    cr_expect_float_eq(alphas[0], 0.0, 1e-12);
    cr_expect_float_eq(alphas[1], 0.125, 1e-12);
    cr_expect_float_eq(alphas[2], 0.3125, 1e-12);
    cr_expect_float_eq(imps[0], 0.0, 1e-12);
    cr_expect_float_eq(imps[2], 0.4375, 1e-12);
    free(alphas);
    free(imps);
    reel_model_free(&m);
}

Test(tree, oracle_ccp_alpha_node_counts)
{
    const struct {
        const char *params;
        size_t nodes;
    } cases[] = {
        {"{\"ccp_alpha\": 0.1249}", 5},
        {"{\"ccp_alpha\": 0.125}", 3},
        {"{\"ccp_alpha\": 0.3125}", 1},
    };
    for (size_t i = 0; i < 3; i++) {
        reel_model m;
        fit_oracle(&m, cases[i].params);
        cr_expect_eq(tree_of(&m)->n_nodes, cases[i].nodes, "%s: %zu nodes, want %zu", cases[i].params,
                     tree_of(&m)->n_nodes, cases[i].nodes);
        reel_model_free(&m);
    }
}

/* Every kept setting of make_tree.py: probabilities on train and test rows,
 * node count, importances and the pruning path as scikit-learn's. */
Test(tree, agrees_with_scikit_learn)
{
    cJSON *doc = fixture_load();
    const cJSON *fx = cJSON_GetObjectItem(doc, "tree");
    size_t n_all, d, n, L;
    float *X = fixture_X(cJSON_GetObjectItem(fx, "X_thousandths"), &n_all, &d);
    uint8_t *Y = fixture_Y(cJSON_GetObjectItem(fx, "Y"), &n, &L);
    reel_fit_ctx ctx = fit_ctx(X, Y, n, d, L, 3, 1);
    int cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases"))
    {
        char *params = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "params"));
        reel_model m;
        fit_model(&m, "tree", params, &ctx);
        const reel_tree *t = tree_of(&m);
        cr_expect_eq(t->n_nodes, (size_t)cJSON_GetObjectItem(c, "node_count")->valueint, "%s: %zu nodes, sklearn %d",
                     params, t->n_nodes, cJSON_GetObjectItem(c, "node_count")->valueint);
        float *P = predict(&m, X, n_all);
        double worst = 0;
        size_t i = 0;
        const cJSON *row, *v;
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(c, "proba")) cJSON_ArrayForEach(v, row)
        {
            double diff = fabs(P[i++] - v->valuedouble);
            worst = diff > worst ? diff : worst;
        }
        cr_expect_eq(i, n_all * L);
        cr_expect(worst <= 1e-6, "%s: probabilities differ from scikit-learn by %g", params, worst);
        double imp[16];
        reel_tree_importances(t, d, imp);
        i = 0;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "importances"))
        {
            cr_expect(fabs(imp[i] - v->valuedouble) <= 1e-9, "%s: importance %zu %.12g, sklearn %.12g", params, i,
                      imp[i], v->valuedouble);
            i++;
        }
        const cJSON *want_alphas = cJSON_GetObjectItem(c, "ccp_alphas");
        if (want_alphas) {
            double *alphas, *imps;
            size_t count;
            reel_error err;
            cr_assert_eq(reel_tree_pruning_path(t, &alphas, &imps, &count, &err), 0);
            cr_expect_eq(count, (size_t)cJSON_GetArraySize(want_alphas), "%s: path of %zu steps, sklearn %d",
                         params, count, cJSON_GetArraySize(want_alphas));
            const cJSON *want_imps = cJSON_GetObjectItem(c, "ccp_impurities");
            for (size_t k = 0; k < count && k < (size_t)cJSON_GetArraySize(want_alphas); k++) {
                cr_expect(fabs(alphas[k] - cJSON_GetArrayItem(want_alphas, (int)k)->valuedouble) <= 1e-9,
                          "%s: alpha %zu", params, k);
                cr_expect(fabs(imps[k] - cJSON_GetArrayItem(want_imps, (int)k)->valuedouble) <= 1e-9,
                          "%s: impurity %zu", params, k);
            }
            free(alphas);
            free(imps);
        }
        free(P);
        cJSON_free(params);
        reel_model_free(&m);
        cases++;
    }
    cr_expect_geq(cases, 10);
    free(X);
    free(Y);
    cJSON_Delete(doc);
}

Test(tree, save_load_round_trip)
{
    cJSON *doc = fixture_load();
    const cJSON *fx = cJSON_GetObjectItem(doc, "tree");
    size_t n_all, d, n, L;
    float *X = fixture_X(cJSON_GetObjectItem(fx, "X_thousandths"), &n_all, &d);
    uint8_t *Y = fixture_Y(cJSON_GetObjectItem(fx, "Y"), &n, &L);
    reel_fit_ctx ctx = fit_ctx(X, Y, n, d, L, 3, 1);
    reel_model m;
    fit_model(&m, "tree", "{\"min_samples_leaf\": 2, \"max_features\": \"sqrt\"}", &ctx);
    float *P = predict(&m, X, n_all), *P2 = malloc(n_all * L * sizeof *P2);
    void *back = save_load(&m);
    reel_error err;
    cr_assert_eq(m.kind->predict_proba(back, X, n_all, P2, &err), 0);
    cr_expect_arr_eq(P, P2, n_all * L * sizeof *P);
    double a[16], b[16];
    reel_tree_importances(tree_of(&m), d, a);
    reel_tree_importances(&((reel_trees *)back)->trees[0], d, b);
    cr_expect_arr_eq(a, b, d * sizeof *a);
    m.kind->free(back);
    free(P);
    free(P2);
    free(X);
    free(Y);
    reel_model_free(&m);
    cJSON_Delete(doc);
}

Test(tree, damaged_file_is_refused)
{
    reel_model m;
    fit_oracle(&m, NULL);
    reel_tensors t = {0};
    reel_error err = {{0}};
    cr_assert_eq(m.kind->save(m.state, &t, NULL, &err), 0);
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.t[i].name, "left") == 0)
            ((int32_t *)t.t[i].data)[0] = 0; /* the root its own child: a loop */
    cr_expect_null(m.kind->load(m.params, 1, 2, 1, &t, NULL, &err));
    cr_expect(strstr(err.msg, "broken") != NULL, "%s", err.msg);
    reel_tensors_free(&t);
    reel_model_free(&m);
}

Test(tree, bad_params_name_the_key)
{
    const struct {
        const char *params, *key;
    } cases[] = {
        {"{\"max_depth\": -1}", "'max_depth'"},
        {"{\"max_depth\": 0}", "'max_depth'"},
        {"{\"criterion\": \"mse\"}", "'criterion'"},
        {"{\"max_depth\": \"deep\"}", "'max_depth'"},
        {"{\"splitter\": 1}", "'splitter'"},
        {"{\"min_samples_split\": 1.5}", "'min_samples_split'"},
        {"{\"min_samples_split\": 0}", "'min_samples_split'"},
        {"{\"min_samples_leaf\": 2.5}", "'min_samples_leaf'"},
        {"{\"max_features\": \"half\"}", "'max_features'"},
        {"{\"max_features\": 1.5}", "'max_features'"},
        {"{\"max_leaf_nodes\": 1}", "'max_leaf_nodes'"},
        {"{\"ccp_alpha\": -0.1}", "'ccp_alpha'"},
        {"{\"n_estimators\": 10}", "'n_estimators'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *msg = init_error("tree", cases[i].params);
        cr_expect_not_null(msg, "%s was accepted", cases[i].params);
        if (msg)
            cr_expect(strstr(msg, cases[i].key) != NULL, "%s: message '%s' does not name %s", cases[i].params, msg,
                      cases[i].key);
    }
    cr_expect_null(init_error("tree", "{\"min_samples_split\": 0.5, \"min_samples_leaf\": 0.1, "
                                      "\"max_features\": 0.5, \"max_depth\": null}"));
    cr_expect_null(init_error("tree", "{\"min_samples_split\": 1, \"max_features\": 3}"));
}

Test(tree, edge_cases_do_not_crash)
{
    /* a constant feature, a label never positive, duplicated rows */
    const float X[] = {1, 0, 1, 1, 1, 2, 1, 2, 1, 2, 1, 5};
    const uint8_t Y[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1};
    reel_fit_ctx ctx = fit_ctx(X, Y, 6, 2, 2, 1, 1);
    reel_model m;
    fit_model(&m, "tree", NULL, &ctx);
    const reel_tree *t = tree_of(&m);
    for (size_t i = 0; i < t->n_nodes; i++)
        cr_expect(t->feature[i] != 0, "split on the constant feature");
    float *P = predict(&m, X, 6);
    for (size_t i = 0; i < 6; i++)
        cr_expect_eq(P[i * 2], 0.0f);
    /* the three rows at x = 2 are duplicates with labels 1, 0, 1 */
    cr_expect_float_eq(P[2 * 2 + 1], 2.0 / 3.0, 1e-6);
    free(P);
    reel_model_free(&m);

    /* one training row: a single leaf holding its labels */
    const uint8_t y1[] = {1, 0};
    ctx = fit_ctx(X, y1, 1, 2, 2, 1, 1);
    fit_model(&m, "tree", "{\"criterion\": \"entropy\", \"max_leaf_nodes\": 4}", &ctx);
    cr_expect_eq(tree_of(&m)->n_nodes, 1);
    P = predict(&m, X, 6);
    cr_expect_float_eq(P[10], 1.0, 1e-7);
    cr_expect_float_eq(P[11], 0.0, 1e-7);
    double imp[2];
    reel_tree_importances(tree_of(&m), 2, imp);
    cr_expect_float_eq(imp[0] + imp[1], 0.0, 1e-12);
    free(P);
    reel_model_free(&m);

    /* every row the same: no split is possible */
    const float same[] = {3, 3, 3, 3, 3, 3};
    const uint8_t ys[] = {1, 0, 0, 1, 1, 1};
    ctx = fit_ctx(same, ys, 3, 2, 2, 1, 1);
    fit_model(&m, "tree", "{\"splitter\": \"random\"}", &ctx);
    cr_expect_eq(tree_of(&m)->n_nodes, 1);
    reel_model_free(&m);
}

static void fit_fixture(reel_model *m, const char *params, float **X, size_t *n_all, size_t *d, size_t *L)
{
    cJSON *doc = fixture_load();
    const cJSON *fx = cJSON_GetObjectItem(doc, "tree");
    size_t n;
    *X = fixture_X(cJSON_GetObjectItem(fx, "X_thousandths"), n_all, d);
    uint8_t *Y = fixture_Y(cJSON_GetObjectItem(fx, "Y"), &n, L);
    reel_fit_ctx ctx = fit_ctx(*X, Y, n, *d, *L, 11, 1);
    fit_model(m, "tree", params, &ctx);
    free(Y);
    cJSON_Delete(doc);
}

Test(tree, limits_hold)
{
    const char *params[] = {
        "{\"max_depth\": 3, \"splitter\": \"random\"}",
        "{\"max_leaf_nodes\": 7, \"max_features\": \"log2\"}",
        "{\"min_samples_leaf\": 17}",
    };
    for (int c = 0; c < 3; c++) {
        reel_model m;
        float *X;
        size_t n, d, L;
        fit_fixture(&m, params[c], &X, &n, &d, &L);
        const reel_tree *t = tree_of(&m);
        /* depth of every node, from the pre-order parent links */
        int depth[4096] = {0}, max_depth = 0, leaves = 0;
        cr_assert_lt(t->n_nodes, 4096);
        for (size_t i = 0; i < t->n_nodes; i++) {
            if (t->left[i] < 0) {
                leaves++;
                cr_expect_geq(t->n_samples[i], c == 2 ? 17 : 1);
                continue;
            }
            depth[t->left[i]] = depth[t->right[i]] = depth[i] + 1;
            max_depth = depth[i] + 1 > max_depth ? depth[i] + 1 : max_depth;
            cr_expect_eq(t->n_samples[i], t->n_samples[t->left[i]] + t->n_samples[t->right[i]]);
        }
        if (c == 0)
            cr_expect_leq(max_depth, 3);
        if (c == 1)
            cr_expect_eq(leaves, 7);
        float *P = predict(&m, X, n);
        for (size_t i = 0; i < n * L; i++)
            cr_expect(P[i] >= 0 && P[i] <= 1);
        free(P);
        free(X);
        reel_model_free(&m);
    }
}

Test(tree, seed_fixes_random_splits)
{
    reel_model a, b, c;
    float *X;
    size_t n, d, L;
    fit_fixture(&a, "{\"splitter\": \"random\", \"seed\": 5}", &X, &n, &d, &L);
    free(X);
    fit_fixture(&b, "{\"splitter\": \"random\", \"seed\": 5}", &X, &n, &d, &L);
    free(X);
    fit_fixture(&c, "{\"splitter\": \"random\", \"seed\": 6}", &X, &n, &d, &L);
    const reel_tree *ta = tree_of(&a), *tb = tree_of(&b), *tc = tree_of(&c);
    cr_assert_eq(ta->n_nodes, tb->n_nodes);
    cr_expect_arr_eq(ta->threshold, tb->threshold, ta->n_nodes * sizeof *ta->threshold);
    int differs = ta->n_nodes != tc->n_nodes || memcmp(ta->threshold, tc->threshold, ta->n_nodes * sizeof(double));
    cr_expect(differs, "seeds 5 and 6 grew the same random tree");
    free(X);
    reel_model_free(&a);
    reel_model_free(&b);
    reel_model_free(&c);
}

Test(tree, importances_only_for_trees)
{
    reel_model m;
    fit_oracle(&m, NULL);
    double imp[1];
    reel_error err;
    cr_assert_eq(reel_model_importances(&m, imp, &err), 0);
    cr_expect_float_eq(imp[0], 1.0, 1e-12);
    reel_model_free(&m);
    reel_fit_ctx ctx = fit_ctx(OX, OY, 4, 1, 2, 1, 1);
    fit_model(&m, "prior", NULL, &ctx);
    cr_expect_eq(reel_model_importances(&m, imp, &err), -1);
    cr_expect(strstr(err.msg, "prior") != NULL, "%s", err.msg);
    reel_model_free(&m);
}
