/* The `forest` kind: scikit-learn's RandomForestClassifier. Each tree grows
 * on a bootstrap sample (drawn as integer row weights) trying max_features
 * random features per node; P is the mean of the trees' leaf values.
 * Tree t draws everything from its own stream reel_rng_seed_stream(seed, t),
 * so the forest is the same on any number of threads. */
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"

static int forest_check(const cJSON *params, reel_error *err)
{
    return reel_tree_params_check(params, "forest", err);
}

static void *forest_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    size_t n = ctx->n;
    reel_forest_params fp;
    if (reel_forest_params_get(params, n, ctx->d, ctx->seed, &fp, err))
        return NULL;
    size_t n_trees = fp.n_trees, n_boot = fp.n_boot;
    int bootstrap = fp.bootstrap;
    const reel_tree_params *p = &fp.tree;
    reel_tree_data td;
    if (reel_tree_data_init(&td, ctx->X, ctx->Y, n, ctx->d, ctx->L, 0, err))
        return NULL;
    reel_trees *f = reel_trees_new(n_trees, ctx->d, ctx->L, ctx->threads);
    if (!f) {
        reel_tree_data_free(&td);
        reel_fail(err, "out of memory for %zu trees", n_trees);
        return NULL;
    }
    int failed = 0;
#pragma omp parallel num_threads(ctx->threads)
    {
        uint32_t *w = bootstrap ? malloc(n * sizeof *w) : NULL;
        reel_error e;
        if (bootstrap && !w) {
#pragma omp critical(forest_error)
            if (!failed) {
                failed = 1;
                reel_fail(err, "out of memory for bootstrap weights");
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < n_trees; t++) {
            if (failed)
                continue;
            reel_rng rng;
            reel_rng_seed_stream(&rng, p->seed, t);
            if (bootstrap) {
                memset(w, 0, n * sizeof *w);
                for (size_t j = 0; j < n_boot; j++)
                    w[reel_rng_below(&rng, n)]++;
            }
            if (reel_tree_fit(&f->trees[t], &td, w, p, &rng, &e)) {
#pragma omp critical(forest_error)
                if (!failed) {
                    failed = 1;
                    *err = e;
                }
            }
        }
        free(w);
    }
    reel_tree_data_free(&td);
    if (failed) {
        reel_trees_free(f);
        return NULL;
    }
    return f;
}

static int forest_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    return reel_trees_predict(state, X, n, P, err);
}

static int forest_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)meta;
    return reel_trees_save(state, out, err);
}

static void *forest_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                         const cJSON *meta, reel_error *err)
{
    (void)params;
    (void)meta;
    return reel_trees_load(d, L, threads, in, err);
}

static void forest_free(void *state) { reel_trees_free(state); }

const reel_model_kind reel_kind_forest = {
    .name = "forest",
    .check = forest_check,
    .fit = forest_fit,
    .predict_proba = forest_predict,
    .save = forest_save,
    .load = forest_load,
    .free = forest_free,
};
