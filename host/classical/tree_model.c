/* The `tree` kind: one multi-output CART tree for all labels, as
 * scikit-learn's DecisionTreeClassifier. */
#include "classical/tree.h"

static int tree_check(const cJSON *params, reel_error *err) { return reel_tree_params_check(params, "tree", err); }

static void *tree_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    reel_tree_params p;
    if (reel_tree_params_get(params, ctx->n, ctx->d, ctx->seed, &p, err))
        return NULL;
    p.multiclass = ctx->target == REEL_TARGET_MULTICLASS;
    reel_tree_data td;
    if (reel_tree_data_init(&td, ctx->X, ctx->Y, ctx->n, ctx->d, ctx->L, reel_tree_layout_for(&p, ctx->d, 1), err))
        return NULL;
    reel_rng rng;
    reel_rng_seed_stream(&rng, p.seed, 0);
    reel_trees *f = reel_trees_new(1, ctx->d, ctx->L, ctx->threads);
    if (!f)
        reel_fail(err, "out of memory");
    else if (reel_tree_fit(&f->trees[0], &td, NULL, &p, &rng, err)) {
        reel_trees_free(f);
        f = NULL;
    }
    reel_tree_data_free(&td);
    return f;
}

static int tree_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    return reel_trees_predict(state, X, n, P, err);
}

static int tree_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)meta;
    return reel_trees_save(state, out, err);
}

static void *tree_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                       const cJSON *meta, reel_error *err)
{
    (void)params;
    (void)meta;
    reel_trees *f = reel_trees_load(d, L, threads, in, err);
    if (f && f->n_trees != 1) {
        reel_fail(err, "tree model: the file holds %zu trees, a tree model has 1", f->n_trees);
        reel_trees_free(f);
        return NULL;
    }
    return f;
}

static void tree_free(void *state) { reel_trees_free(state); }

const reel_model_kind reel_kind_tree = {
    .name = "tree",
    .check = tree_check,
    .fit = tree_fit,
    .predict_proba = tree_predict,
    .save = tree_save,
    .load = tree_load,
    .free = tree_free,
};
