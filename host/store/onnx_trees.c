/* The tree and forest models as one ONNX-ML TreeEnsembleRegressor with a
 * target per label: each leaf gives its fractions of positives, summed
 * (tree) or averaged over the trees (forest), as reel does.
 *
 * reel sends a row left when (double)x <= threshold, with x a float and
 * the threshold a double; the operator compares floats, so each threshold
 * becomes the largest float not above it, which sends every float x the
 * same way. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/onnx_pipeline.h"

/* The largest float <= t. */
static float float_at_or_below(double t)
{
    float f = (float)t;
    return (double)f > t ? nextafterf(f, -INFINITY) : f;
}

typedef struct {
    int64_t *tree, *node, *feature, *yes, *no, *t_tree, *t_node, *t_id;
    float *cut, *t_weight;
    const char **mode;
} ensemble_attrs;

static void attrs_free(ensemble_attrs *a)
{
    free(a->tree);
    free(a->node);
    free(a->feature);
    free(a->yes);
    free(a->no);
    free(a->t_tree);
    free(a->t_node);
    free(a->t_id);
    free(a->cut);
    free(a->t_weight);
    free(a->mode);
}

int reel_onnx_add_trees(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_tensors *t,
                        const char *in, const char *out, reel_error *err)
{
    size_t L = mf->model.L, d = mf->pre.d;
    reel_error e;
    const reel_tensor *counts = reel_tensors_get(t, "tree_nodes", REEL_I32, 0, &e);
    if (!counts)
        return reel_fail(err, "%s: %s", path, e.msg);
    size_t n_trees = counts->nbytes / sizeof(int32_t), total = 0;
    const int32_t *c = counts->data;
    for (size_t k = 0; k < n_trees; k++)
        total += (size_t)c[k];
    const reel_tensor *feature, *threshold, *left, *right, *value;
    if (!(feature = reel_tensors_get(t, "feature", REEL_I32, total, &e)) ||
        !(threshold = reel_tensors_get(t, "threshold", REEL_F64, total, &e)) ||
        !(left = reel_tensors_get(t, "left", REEL_I32, total, &e)) ||
        !(right = reel_tensors_get(t, "right", REEL_I32, total, &e)) ||
        !(value = reel_tensors_get(t, "value", REEL_F32, total * L, &e)))
        return reel_fail(err, "%s: %s", path, e.msg);
    const int32_t *f = feature->data, *lt = left->data, *rt = right->data;
    const double *th = threshold->data;
    const float *v = value->data;
    size_t leaves = 0;
    for (size_t i = 0; i < total; i++)
        leaves += lt[i] < 0;
    ensemble_attrs a = {0};
    size_t nt = total ? total : 1, nl = leaves * L > 0 ? leaves * L : 1;
    a.tree = malloc(nt * sizeof *a.tree), a.node = malloc(nt * sizeof *a.node);
    a.feature = malloc(nt * sizeof *a.feature), a.yes = malloc(nt * sizeof *a.yes), a.no = malloc(nt * sizeof *a.no);
    a.cut = malloc(nt * sizeof *a.cut), a.mode = malloc(nt * sizeof *a.mode);
    a.t_tree = malloc(nl * sizeof *a.t_tree), a.t_node = malloc(nl * sizeof *a.t_node);
    a.t_id = malloc(nl * sizeof *a.t_id), a.t_weight = malloc(nl * sizeof *a.t_weight);
    if (!a.tree || !a.node || !a.feature || !a.yes || !a.no || !a.cut || !a.mode || !a.t_tree || !a.t_node ||
        !a.t_id || !a.t_weight) {
        attrs_free(&a);
        return reel_fail(err, "out of memory");
    }
    size_t at = 0, q = 0;
    for (size_t k = 0; k < n_trees; k++) {
        for (size_t j = 0; j < (size_t)c[k]; j++, at++) {
            int leaf = lt[at] < 0;
            if (!leaf && (f[at] < 0 || (size_t)f[at] >= d || rt[at] < 0 || lt[at] >= c[k] || rt[at] >= c[k])) {
                attrs_free(&a);
                return reel_fail(err, "%s: tree %zu node %zu: its split does not point into the tree", path, k, j);
            }
            a.tree[at] = (int64_t)k;
            a.node[at] = (int64_t)j;
            a.feature[at] = leaf ? 0 : f[at];
            a.yes[at] = leaf ? 0 : lt[at];
            a.no[at] = leaf ? 0 : rt[at];
            a.cut[at] = leaf ? 0.0f : float_at_or_below(th[at]);
            a.mode[at] = leaf ? "LEAF" : "BRANCH_LEQ";
            for (size_t l = 0; leaf && l < L; l++, q++) {
                a.t_tree[q] = (int64_t)k;
                a.t_node[q] = (int64_t)j;
                a.t_id[q] = (int64_t)l;
                a.t_weight[q] = v[at * L + l];
            }
        }
    }
    const char *aggregate = n_trees > 1 ? "AVERAGE" : "SUM";
    reel_onnx_attr attrs[] = {
        {.name = "n_targets", .type = ATTR_INT, .i = (int64_t)L},
        {.name = "aggregate_function", .type = ATTR_STRING, .s = aggregate},
        {.name = "post_transform", .type = ATTR_STRING, .s = "NONE"},
        {.name = "nodes_treeids", .type = ATTR_INTS, .ints = a.tree, .count = total},
        {.name = "nodes_nodeids", .type = ATTR_INTS, .ints = a.node, .count = total},
        {.name = "nodes_featureids", .type = ATTR_INTS, .ints = a.feature, .count = total},
        {.name = "nodes_values", .type = ATTR_FLOATS, .floats = a.cut, .count = total},
        {.name = "nodes_modes", .type = ATTR_STRINGS, .strings = a.mode, .count = total},
        {.name = "nodes_truenodeids", .type = ATTR_INTS, .ints = a.yes, .count = total},
        {.name = "nodes_falsenodeids", .type = ATTR_INTS, .ints = a.no, .count = total},
        {.name = "target_treeids", .type = ATTR_INTS, .ints = a.t_tree, .count = q},
        {.name = "target_nodeids", .type = ATTR_INTS, .ints = a.t_node, .count = q},
        {.name = "target_ids", .type = ATTR_INTS, .ints = a.t_id, .count = q},
        {.name = "target_weights", .type = ATTR_FLOATS, .floats = a.t_weight, .count = q},
    };
    reel_onnx_node_ex(graph, "ai.onnx.ml", "TreeEnsembleRegressor", "trees", &in, 1, out, attrs,
                      sizeof attrs / sizeof *attrs);
    attrs_free(&a);
    return 0;
}
