/* The tree kind on a multiclass target (data/target.h) against
 * scikit-learn's DecisionTreeClassifier on one multi-class output
 * (fixtures/tree_multiclass.json, made by fixtures/make_tree_multiclass.py):
 * the impurity is the multi-class gini or entropy, not the mean of the
 * one-hot labels' binary ones, which changes the root impurity, the
 * min_impurity_decrease and ccp_alpha cases and every entropy split. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "classical/tree.h"
#include "helpers.h"
#include "util/fileio.h"

static cJSON *load(void)
{
    char *text = reel_read_file(test_fixture("tree_multiclass.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run /usr/bin/python3 tests/fixtures/make_tree_multiclass.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    return doc;
}

Test(tree_multiclass, agrees_with_scikit_learn)
{
    cJSON *doc = load();
    const cJSON *rows = cJSON_GetObjectItem(doc, "X_thousandths"), *y = cJSON_GetObjectItem(doc, "y");
    size_t n_all = (size_t)cJSON_GetArraySize(rows), d = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    size_t n = (size_t)cJSON_GetArraySize(y), K = (size_t)cJSON_GetObjectItem(doc, "classes")->valueint;
    float *X = malloc(n_all * d * sizeof *X);
    uint8_t *Y = calloc(n * K, 1);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(v, r) X[i++] = (float)(v->valuedouble / 1000.0);
    i = 0;
    cJSON_ArrayForEach(v, y) Y[K * i++ + (size_t)v->valueint] = 1; /* one-hot, as reel_dataset_set_classes makes it */
    char *classes[] = {"0", "1", "2", "3"};
    reel_fit_ctx ctx = {.d = d, .L = K, .X = X, .Y = Y, .n = n, .seed = 3, .threads = 1, .device = "cpu",
                        .name = "test", .target = REEL_TARGET_MULTICLASS, .K = K, .classes = classes};
    int cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        cJSON *p = cJSON_Duplicate(cJSON_GetObjectItem(c, "params"), 1);
        if (!cJSON_GetObjectItem(p, "max_depth")) /* scikit-learn's defaults where reel's differ */
            cJSON_AddNullToObject(p, "max_depth");
        if (!cJSON_GetObjectItem(p, "min_samples_leaf"))
            cJSON_AddNumberToObject(p, "min_samples_leaf", 1);
        char *params = cJSON_PrintUnformatted(p);
        reel_model m;
        reel_error err = {{0}};
        cr_assert_eq(reel_model_init(&m, "tree", p, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_model_fit(&m, &ctx, &err), 0, "%s", err.msg);
        const reel_tree *t = &((const reel_trees *)m.state)->trees[0];
        cr_expect_eq(t->n_nodes, (size_t)cJSON_GetObjectItem(c, "node_count")->valueint,
                     "%s: %zu nodes, sklearn %d", params, t->n_nodes, cJSON_GetObjectItem(c, "node_count")->valueint);
        cr_expect(fabs(t->impurity[0] - cJSON_GetObjectItem(c, "root_impurity")->valuedouble) <= 1e-12,
                  "%s: root impurity %.12g, sklearn %.12g", params, t->impurity[0],
                  cJSON_GetObjectItem(c, "root_impurity")->valuedouble);
        float *P = malloc(n_all * K * sizeof *P);
        cr_assert_eq(reel_model_predict_proba(&m, X, n_all, P, &err), 0, "%s", err.msg);
        double worst = 0;
        i = 0;
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(c, "proba")) cJSON_ArrayForEach(v, r)
        {
            double diff = fabs(P[i++] - v->valuedouble);
            worst = diff > worst ? diff : worst;
        }
        cr_expect_eq(i, n_all * K);
        cr_expect(worst <= 1e-6, "%s: class frequencies differ from scikit-learn's by %g", params, worst);
        const cJSON *want = cJSON_GetObjectItem(c, "ccp_alphas");
        if (want) {
            double *alphas, *imps;
            size_t count;
            cr_assert_eq(reel_tree_pruning_path(t, &alphas, &imps, &count, &err), 0);
            cr_expect_eq(count, (size_t)cJSON_GetArraySize(want), "%s: path of %zu steps, sklearn %d", params, count,
                         cJSON_GetArraySize(want));
            for (size_t k = 0; k < count && k < (size_t)cJSON_GetArraySize(want); k++)
                cr_expect(fabs(alphas[k] - cJSON_GetArrayItem(want, (int)k)->valuedouble) <= 1e-9, "%s: alpha %zu",
                          params, k);
            free(alphas);
            free(imps);
        }
        free(P);
        cJSON_free(params);
        cJSON_Delete(p);
        reel_model_free(&m);
        cases++;
    }
    cr_expect_geq(cases, 7);
    free(X);
    free(Y);
    cJSON_Delete(doc);
}
