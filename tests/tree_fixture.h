/* Shared by test_tree.c and test_forest.c: reading fixtures/tree.json
 * (made by fixtures/make_tree.py) and fitting a model through the model
 * interface. Header-only: each suite is its own executable. */
#ifndef REEL_TREE_FIXTURE_H
#define REEL_TREE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "models/model.h"
#include "util/fileio.h"

static cJSON *fixture_load(void)
{
    char *text = reel_read_file(test_fixture("tree.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run /usr/bin/python3 tests/fixtures/make_tree.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc, "tree.json does not parse");
    return doc;
}

/* Rows of integer thousandths as float32, computed as make_tree.py does. */
static float *fixture_X(const cJSON *rows, size_t *n, size_t *d)
{
    *n = (size_t)cJSON_GetArraySize(rows);
    *d = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    float *X = malloc(*n * *d * sizeof *X);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(v, r) X[i++] = (float)(v->valuedouble / 1000.0);
    return X;
}

static uint8_t *fixture_Y(const cJSON *rows, size_t *n, size_t *L)
{
    *n = (size_t)cJSON_GetArraySize(rows);
    *L = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    uint8_t *Y = malloc(*n * *L);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows) cJSON_ArrayForEach(v, r) Y[i++] = (uint8_t)v->valueint;
    return Y;
}

static reel_fit_ctx fit_ctx(const float *X, const uint8_t *Y, size_t n, size_t d, size_t L, uint64_t seed,
                            int threads)
{
    reel_fit_ctx c = {.d = d, .L = L, .X = X, .Y = Y, .n = n, .seed = seed, .threads = threads, 
                      .device = "cpu", .name = "test"};
    return c;
}

/* Initialises and fits model `name` with params given as JSON text. */
static void fit_model(reel_model *m, const char *name, const char *params_json, const reel_fit_ctx *ctx)
{
    reel_error err = {{0}};
    cJSON *p = params_json ? cJSON_Parse(params_json) : cJSON_CreateObject();
    cr_assert(p, "bad test params %s", params_json);
    /* The tests compare with scikit-learn, so unset keys take its defaults
     * (reel's own defaults limit the depth and leaf size). */
    int trees = strcmp(name, "tree") == 0 || strcmp(name, "forest") == 0;
    if (trees && !cJSON_GetObjectItem(p, "max_depth"))
        cJSON_AddNullToObject(p, "max_depth");
    if (trees && !cJSON_GetObjectItem(p, "min_samples_leaf"))
        cJSON_AddNumberToObject(p, "min_samples_leaf", 1);
    cr_assert_eq(reel_model_init(m, name, p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, ctx, &err), 0, "%s", err.msg);
}

/* Probabilities of a fitted model (malloc'ed, n x L). */
static float *predict(const reel_model *m, const float *X, size_t n)
{
    reel_error err = {{0}};
    float *P = malloc((n ? n : 1) * m->L * sizeof *P);
    cr_assert_eq(reel_model_predict_proba(m, X, n, P, &err), 0, "%s", err.msg);
    return P;
}

/* The error of reel_model_init for params given as JSON text (static). */
static const char *init_error(const char *name, const char *params_json)
{
    static reel_error err;
    memset(&err, 0, sizeof err);
    cJSON *p = cJSON_Parse(params_json);
    cr_assert_not_null(p);
    reel_model m;
    int rc = reel_model_init(&m, name, p, &err);
    cJSON_Delete(p);
    if (rc == 0) {
        reel_model_free(&m);
        return NULL;
    }
    return err.msg;
}

/* Saves a fitted model's state to tensors and loads it back: the new
 * state (free with m->kind->free). */
static void *save_load(const reel_model *m)
{
    reel_error err = {{0}};
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    cr_assert_eq(m->kind->save(m->state, &t, meta, &err), 0, "%s", err.msg);
    void *state = m->kind->load(m->params, m->d, m->L, 1, &t, meta, &err);
    cr_assert_not_null(state, "%s", err.msg);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    return state;
}

#endif
