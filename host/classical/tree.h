/* CART decision trees as scikit-learn grows them, for the `tree` kind (one
 * multi-output tree) and the `forest` kind (bagged trees).
 *
 * One tree serves every label at once: the impurity of a node is the mean
 * over labels of each label's gini or entropy, and a leaf holds the
 * fraction of (weighted) positives of each label. Splits follow
 * scikit-learn: candidate thresholds are midpoints between consecutive
 * distinct values (values closer than 1e-7 count as one), rows go left when
 * x <= threshold, and the split with the largest weighted impurity decrease
 * wins. Rows carry integer weights (bootstrap counts); a row of weight 0 is
 * not in the tree.
 *
 *   tree_build.c  growing a tree (presorted features, depth- or best-first)
 *   tree.c        node arrays, prediction, cost-complexity pruning,
 *                 importances, and sets of trees saved as tensors
 *   tree_params.c the JSON params of both kinds, decoded once */
#ifndef REEL_TREE_H
#define REEL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "io/tensors.h"
#include "models/model.h"
#include "util/error.h"
#include "util/rng.h"

typedef enum { REEL_TREE_GINI, REEL_TREE_ENTROPY } reel_tree_criterion;

/* Growth settings with fractions already turned into counts. */
typedef struct {
    reel_tree_criterion criterion;
    int random_splits;            /* splitter "random": one random threshold per feature */
    long max_depth;               /* 0: unlimited */
    long min_samples_split;       /* >= 2 */
    long min_samples_leaf;        /* >= 1 */
    long max_features;            /* features drawn per node; >= d: all */
    long max_leaf_nodes;          /* 0: unlimited (depth-first); else best-first growth */
    double min_impurity_decrease; /* >= 0 */
    double ccp_alpha;             /* > 0: prune after growth */
    uint64_t seed;                /* params' seed, else the run's */
    /* The labels are a multiclass target's one-hot classes (set by the
     * fit from its context): a node's impurity is then the multi-class
     * gini 1 - sum p_k^2 or entropy -sum p_k log2 p_k over its class
     * frequencies p_k, as scikit-learn's for one output, not the mean of
     * per-label binary ones. */
    int multiclass;
} reel_tree_params;

/* A forest: its trees' growth settings and the bagging. */
typedef struct {
    reel_tree_params tree;
    size_t n_trees;
    int bootstrap;
    size_t n_boot; /* rows drawn per tree */
} reel_forest_params;

/* One fitted tree. Nodes are in pre-order: the root is 0 and every child
 * comes after its parent. Label values (fractions of positives): a grown
 * tree keeps its leaves' nonzero ones only, leaf j's at [vstart[j],
 * vstart[j + 1]) of vlabel and value (an inner node's, which files keep,
 * follow from its leaves: reel_tree_node_values); a loaded tree keeps
 * every node's as the file has them (leaf, vstart, vlabel NULL; value
 * n_nodes x L). */
typedef struct {
    size_t n_nodes, L, n_leaves;
    int32_t *feature;     /* split feature; -1 at leaves */
    double *threshold;    /* go left when x <= threshold; 0 at leaves */
    int32_t *left, *right; /* children; -1 at leaves */
    int32_t *leaf;        /* n_nodes: a leaf's number in node order, -1 inside */
    uint32_t *vstart;     /* n_leaves + 1 */
    uint8_t *vlabel;      /* each value's label */
    float *value;
    double *impurity;     /* mean over labels */
    int32_t *n_samples;   /* distinct training rows in the node */
    double *weight;       /* their total weight */
} reel_tree;

/* The L values of a leaf (of any node in a loaded tree) into out. */
void reel_tree_leaf_values(const reel_tree *t, size_t node, float *out);
/* Every node's values (n_nodes x L into out), inner ones from their
 * leaves: a leaf's positives are value x weight, whole numbers, so the
 * sums give the values the builder had, bit for bit (below 2^23 rows). */
void reel_tree_node_values(const reel_tree *t, float *out);

/* How a tree finds each node's rows sorted by a feature; every layout
 * grows the same tree. */
typedef enum {
    REEL_TREE_SORT_ONCE, /* one tree: sorts each column of X straight into its own lists */
    REEL_TREE_PRESORTED, /* shared: every tree copies all sorted lists and splits each of them at
                          * every node (best when a node tries most features) */
    REEL_TREE_ON_DEMAND, /* shared: each row's rank in every feature; a node sorts only the
                          * features it draws, so a tree costs the features it looks at */
} reel_tree_layout;

/* The layout for trees grown with p on d features (single: one tree). */
reel_tree_layout reel_tree_layout_for(const reel_tree_params *p, size_t d, int single);

/* A row's value of a feature and its place in the feature's stable sort
 * (read together: one cache line when a node gathers its rows). */
typedef struct {
    uint32_t rank;
    float x;
} reel_tree_cell;

/* The training rows in the form every tree grows from; built once and
 * shared read-only by all trees of a forest. */
typedef struct {
    size_t n, d, L;
    float **Xt;           /* d columns of n: X feature-major (presorted) */
    int32_t **order;      /* d columns of n: row ids sorted by each feature, stable (presorted) */
    reel_tree_cell **cell; /* d columns of n, by row id (on demand) */
    const float *X;     /* sort once: no Xt/order; the tree sorts X's columns itself */
    int32_t *pos_start; /* n + 1: row i's positive labels are */
    uint8_t *pos_label; /*   pos_label[pos_start[i] .. pos_start[i + 1]) */
    double *xlog2x;     /* n + 1: c * log2(c) for integer c, for entropy */
} reel_tree_data;

/* X is n x d row-major, Y n x L 0/1; needs 1 <= L <= 255. With
 * REEL_TREE_SORT_ONCE (one tree only) X is not copied and must outlive td. */
int reel_tree_data_init(reel_tree_data *td, const float *X, const uint8_t *Y, size_t n, size_t d, size_t L,
                        reel_tree_layout layout, reel_error *err);
void reel_tree_data_free(reel_tree_data *td);

/* Grows (and, when p->ccp_alpha > 0, prunes) a tree. weight: n integer row
 * weights summing to at most n, or NULL for all 1. rng draws the features
 * tried at each node and the random thresholds. */
int reel_tree_fit(reel_tree *t, reel_tree_data *td, const uint32_t *weight, const reel_tree_params *p,
                  reel_rng *rng, reel_error *err);
void reel_tree_free(reel_tree *t);

/* A tree as one byte string (the node arrays back to back), to send it
 * between MPI ranks; from_bytes checks the length against the node count. */
unsigned char *reel_tree_to_bytes(const reel_tree *t, size_t *len);
int reel_tree_from_bytes(reel_tree *t, const unsigned char *buf, size_t len, reel_error *err);

/* The leaf that row x (d values) falls into. */
size_t reel_tree_leaf(const reel_tree *t, const float *x);

/* Minimal cost-complexity pruning as scikit-learn's ccp_alpha: with
 * R(t) = weight_t / weight_root * impurity_t, repeatedly collapse the
 * internal node with the smallest alpha_eff = (R(t) - R(branch)) /
 * (leaves - 1) while alpha_eff <= ccp_alpha. Renumbers the nodes. */
int reel_tree_prune(reel_tree *t, double ccp_alpha, reel_error *err);
/* The pruning path (cost_complexity_pruning_path): alphas[0] = 0 for the
 * whole tree, then the alpha_eff of each collapse down to the root, with
 * the total leaf impurity R after each. Both arrays are malloc'ed. */
int reel_tree_pruning_path(const reel_tree *t, double **alphas, double **impurities, size_t *count,
                           reel_error *err);
/* Rewrites t in pre-order; nodes with cut[i] set become leaves and their
 * descendants go (cut may be NULL). */
int reel_tree_compact(reel_tree *t, const uint8_t *cut, reel_error *err);

/* Normalised total impurity decrease per feature (feature_importances_):
 * imp has d entries, summing to 1 unless the tree is a single leaf. */
void reel_tree_importances(const reel_tree *t, size_t d, double *imp);

/* A set of trees: the state of both kinds (the tree kind holds one). */
typedef struct {
    size_t n_trees, d, L;
    reel_tree *trees;
    int threads; /* for prediction */
} reel_trees;

reel_trees *reel_trees_new(size_t n_trees, size_t d, size_t L, int threads);
void reel_trees_free(reel_trees *f);
/* P (n x L) = mean over trees of the leaf values (parallel over rows). */
int reel_trees_predict(const reel_trees *f, const float *X, size_t n, float *P, reel_error *err);
/* Mean of the importances of the trees that split at all, normalised
 * (scikit-learn's forest feature_importances_). */
void reel_trees_importances(const reel_trees *f, double *imp);
/* Node arrays of all trees concatenated; "tree_nodes" holds each tree's count. */
int reel_trees_save(const reel_trees *f, reel_tensors *out, reel_error *err);
/* Checks every array and index (a damaged file fails with a message). */
reel_trees *reel_trees_load(size_t d, size_t L, int threads, const reel_tensors *in, reel_error *err);

/* Feature importances of a fitted `tree` or `forest` model (d entries). */
int reel_model_importances(const reel_model *m, double *imp, reel_error *err);

/* ---- params (tree_params.c) ---- */

/* Cross-key checks beyond the JSON spec: integer counts vs fractions. */
int reel_tree_params_check(const cJSON *params, const char *model, reel_error *err);
/* Settings for n training rows and d features from resolved params; seed
 * is the run's, used when params hold none. */
int reel_tree_params_get(const cJSON *params, size_t n, size_t d, uint64_t seed, reel_tree_params *p,
                         reel_error *err);
int reel_forest_params_get(const cJSON *params, size_t n, size_t d, uint64_t seed, reel_forest_params *p,
                           reel_error *err);

#endif
