/* The `forest` kind: scikit-learn's RandomForestClassifier. Each tree grows
 * on a bootstrap sample (drawn as integer row weights) trying max_features
 * random features per node; P is the mean of the trees' leaf values.
 * Tree t draws everything from its own stream reel_rng_seed_stream(seed, t),
 * so the forest is the same on any number of threads or MPI ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"
#include "dist/dist.h"

static int forest_check(const cJSON *params, reel_error *err)
{
    return reel_tree_params_check(params, "forest", err);
}

/* What every tree of one fit shares. */
typedef struct {
    reel_tree_data *td;
    const reel_forest_params *fp;
    size_t n;
} grow_ctx;

/* Grows tree t (an item of host/dist: trees spread over MPI ranks or
 * threads) and returns it as bytes. */
static int grow_tree(void *ctx, size_t t, int threads, reel_blob *out, reel_error *err)
{
    const grow_ctx *g = ctx;
    (void)threads;
    uint32_t *w = NULL;
    if (g->fp->bootstrap && !(w = calloc(g->n, sizeof *w)))
        return reel_fail(err, "out of memory for bootstrap weights");
    reel_rng rng;
    reel_rng_seed_stream(&rng, g->fp->tree.seed, t);
    if (g->fp->bootstrap)
        for (size_t j = 0; j < g->fp->n_boot; j++)
            w[reel_rng_below(&rng, g->n)]++;
    reel_tree tree;
    int rc = reel_tree_fit(&tree, g->td, w, &g->fp->tree, &rng, err);
    free(w);
    if (rc)
        return -1;
    out->data = reel_tree_to_bytes(&tree, &out->len);
    reel_tree_free(&tree);
    return out->data ? 0 : reel_fail(err, "out of memory for a tree");
}

static void tree_label(void *ctx, size_t t, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "forest tree %zu", t + 1);
}

static void *forest_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    size_t n = ctx->n;
    reel_forest_params fp;
    if (reel_forest_params_get(params, n, ctx->d, ctx->seed, &fp, err))
        return NULL;
    fp.tree.multiclass = ctx->target == REEL_TARGET_MULTICLASS;
    size_t n_trees = fp.n_trees;
    reel_tree_data td;
    if (reel_tree_data_init(&td, ctx->X, ctx->Y, n, ctx->d, ctx->L, reel_tree_layout_for(&fp.tree, ctx->d, 0), err))
        return NULL;
    reel_trees *f = reel_trees_new(n_trees, ctx->d, ctx->L, ctx->threads);
    reel_blob *grown = calloc(n_trees ? n_trees : 1, sizeof *grown);
    if (!f || !grown) {
        reel_tree_data_free(&td);
        reel_trees_free(f);
        free(grown);
        reel_fail(err, "out of memory for %zu trees", n_trees);
        return NULL;
    }
    grow_ctx g = {&td, &fp, n};
    reel_dist_job job = {.n = n_trees, .threads = ctx->threads, .run = grow_tree, .label = tree_label, .ctx = &g};
    int rc = reel_dist_map(&job, grown, err);
    reel_tree_data_free(&td);
    for (size_t t = 0; t < n_trees && rc == 0; t++) {
        rc = reel_tree_from_bytes(&f->trees[t], grown[t].data, grown[t].len, err);
        reel_blobs_free(&grown[t], 1);
    }
    reel_blobs_free(grown, n_trees);
    free(grown);
    if (rc) {
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
