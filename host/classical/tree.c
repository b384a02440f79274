/* A fitted tree's node arrays: prediction, cost-complexity pruning,
 * feature importances, and sets of trees as tensors. */
#include "classical/tree.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

void reel_tree_free(reel_tree *t)
{
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->leaf);
    free(t->vstart);
    free(t->vlabel);
    free(t->value);
    free(t->impurity);
    free(t->n_samples);
    free(t->weight);
    memset(t, 0, sizeof *t);
}

/* Arrays for n_nodes nodes; sparse: n_leaves leaves holding nnz values in
 * all, else n_nodes x L values (leaf, vstart, vlabel NULL). */
static int tree_alloc(reel_tree *t, size_t n_nodes, int sparse, size_t n_leaves, size_t nnz, size_t L)
{
    memset(t, 0, sizeof *t);
    size_t n = n_nodes ? n_nodes : 1, n_values = sparse ? nnz : n_nodes * L;
    t->n_nodes = n_nodes;
    t->n_leaves = n_leaves;
    t->L = L;
    t->feature = malloc(n * sizeof *t->feature);
    t->threshold = malloc(n * sizeof *t->threshold);
    t->left = malloc(n * sizeof *t->left);
    t->right = malloc(n * sizeof *t->right);
    t->value = malloc((n_values ? n_values : 1) * sizeof *t->value);
    t->impurity = malloc(n * sizeof *t->impurity);
    t->n_samples = malloc(n * sizeof *t->n_samples);
    t->weight = malloc(n * sizeof *t->weight);
    int ok = t->feature && t->threshold && t->left && t->right && t->value && t->impurity && t->n_samples &&
             t->weight;
    if (sparse) {
        t->leaf = malloc(n * sizeof *t->leaf);
        t->vstart = malloc((n_leaves + 1) * sizeof *t->vstart);
        t->vlabel = malloc(nnz ? nnz : 1);
        ok = ok && t->leaf && t->vstart && t->vlabel;
    }
    if (!ok) {
        reel_tree_free(t);
        return -1;
    }
    return 0;
}

void reel_tree_leaf_values(const reel_tree *t, size_t node, float *out)
{
    if (!t->leaf) {
        memcpy(out, t->value + node * t->L, t->L * sizeof *out);
        return;
    }
    memset(out, 0, t->L * sizeof *out);
    int32_t j = t->leaf[node];
    for (uint32_t q = j >= 0 ? t->vstart[j] : 0; j >= 0 && q < t->vstart[j + 1]; q++)
        out[t->vlabel[q]] = t->value[q];
}

void reel_tree_node_values(const reel_tree *t, float *out)
{
    size_t L = t->L;
    if (!t->leaf) {
        memcpy(out, t->value, t->n_nodes * L * sizeof *out);
        return;
    }
    /* first each node's positives (whole numbers, exact in a float below
     * 2^24): children come after their parent, so a backwards pass adds
     * them up */
    for (size_t i = t->n_nodes; i-- > 0;) {
        float *o = out + i * L;
        if (t->left[i] < 0) {
            reel_tree_leaf_values(t, i, o);
            for (size_t k = 0; k < L; k++)
                o[k] = (float)nearbyint((double)o[k] * t->weight[i]);
        } else {
            const float *a = out + (size_t)t->left[i] * L, *b = out + (size_t)t->right[i] * L;
            for (size_t k = 0; k < L; k++)
                o[k] = a[k] + b[k];
        }
    }
    /* then the fractions, as the builder computes them */
    for (size_t i = 0; i < t->n_nodes; i++) {
        float *o = out + i * L;
        if (t->left[i] < 0)
            reel_tree_leaf_values(t, i, o);
        else
            for (size_t k = 0; k < L; k++)
                o[k] = (float)((double)o[k] / t->weight[i]);
    }
}

/* The node arrays in a fixed order, with each one's bytes per node; the
 * leaves' values follow them. */
#define TREE_ARRAYS(t)                                                                                     \
    {(void *)(t)->feature, sizeof *(t)->feature}, {(void *)(t)->threshold, sizeof *(t)->threshold},        \
        {(void *)(t)->left, sizeof *(t)->left}, {(void *)(t)->right, sizeof *(t)->right},                  \
        {(void *)(t)->impurity, sizeof *(t)->impurity}, {(void *)(t)->n_samples, sizeof *(t)->n_samples},  \
        {(void *)(t)->weight, sizeof *(t)->weight}

typedef struct {
    void *p;
    size_t per_node;
} tree_array;

/* Bytes of the node arrays per node. */
static size_t node_bytes(void)
{
    reel_tree z = {0};
    tree_array a[] = {TREE_ARRAYS(&z)};
    size_t per = 0;
    for (size_t k = 0; k < sizeof a / sizeof *a; k++)
        per += a[k].per_node;
    return per;
}

/* After the node arrays: vstart (n_leaves + 1), vlabel, value. */
unsigned char *reel_tree_to_bytes(const reel_tree *t, size_t *len)
{
    if (!t->leaf) /* only grown trees travel */
        return NULL;
    tree_array a[] = {TREE_ARRAYS(t)};
    uint64_t head[2] = {t->n_nodes, t->L};
    size_t nnz = t->vstart[t->n_leaves], sbytes = (t->n_leaves + 1) * sizeof *t->vstart;
    size_t total = sizeof head + node_bytes() * t->n_nodes + sbytes + nnz * (1 + sizeof *t->value);
    unsigned char *buf = malloc(total), *at = buf;
    if (!buf)
        return NULL;
    memcpy(at, head, sizeof head);
    at += sizeof head;
    for (size_t k = 0; k < sizeof a / sizeof *a; k++) {
        memcpy(at, a[k].p, a[k].per_node * t->n_nodes);
        at += a[k].per_node * t->n_nodes;
    }
    memcpy(at, t->vstart, sbytes);
    memcpy(at + sbytes, t->vlabel, nnz);
    memcpy(at + sbytes + nnz, t->value, nnz * sizeof *t->value);
    *len = total;
    return buf;
}

int reel_tree_from_bytes(reel_tree *t, const unsigned char *buf, size_t len, reel_error *err)
{
    uint64_t head[2];
    if (len < sizeof head)
        return reel_fail(err, "a tree of %zu bytes is too short", len);
    memcpy(head, buf, sizeof head);
    if (head[1] == 0 || head[1] > 255 || head[0] == 0 || head[0] > len || sizeof head + node_bytes() * head[0] > len)
        return reel_fail(err, "a tree's header is damaged");
    size_t n = (size_t)head[0], L = (size_t)head[1];
    /* the leaves are the nodes whose left child is -1 */
    const unsigned char *lefts = buf + sizeof head + n * (sizeof(int32_t) + sizeof(double));
    size_t leaves = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t l;
        memcpy(&l, lefts + i * sizeof l, sizeof l);
        leaves += l < 0;
    }
    size_t at = sizeof head + node_bytes() * n, sbytes = (leaves + 1) * sizeof(uint32_t);
    uint32_t nnz = 0;
    if (at + sbytes <= len)
        memcpy(&nnz, buf + at + sbytes - sizeof nnz, sizeof nnz);
    size_t total = at + sbytes + (size_t)nnz * (1 + sizeof(float));
    if (at + sbytes > len || total != len)
        return reel_fail(err, "a tree of %zu nodes and %zu leaves does not fit its %zu bytes", n, leaves, len);
    if (tree_alloc(t, n, 1, leaves, nnz, L))
        return reel_fail(err, "out of memory for a tree of %zu nodes", n);
    tree_array a[] = {TREE_ARRAYS(t)};
    const unsigned char *p = buf + sizeof head;
    for (size_t k = 0; k < sizeof a / sizeof *a; k++) {
        memcpy(a[k].p, p, a[k].per_node * n);
        p += a[k].per_node * n;
    }
    memcpy(t->vstart, p, sbytes);
    memcpy(t->vlabel, p + sbytes, nnz);
    memcpy(t->value, p + sbytes + nnz, nnz * sizeof *t->value);
    int ok = t->vstart[0] == 0;
    for (size_t j = 0; j < leaves; j++)
        ok = ok && t->vstart[j] <= t->vstart[j + 1];
    for (size_t q = 0; q < nnz; q++)
        ok = ok && t->vlabel[q] < L;
    for (size_t i = 0, k = 0; i < n; i++)
        t->leaf[i] = t->left[i] < 0 ? (int32_t)k++ : -1;
    if (!ok) {
        reel_tree_free(t);
        return reel_fail(err, "a tree's leaf values are damaged");
    }
    return 0;
}

size_t reel_tree_leaf(const reel_tree *t, const float *x)
{
    int32_t node = 0;
    while (t->left[node] >= 0)
        node = (double)x[t->feature[node]] <= t->threshold[node] ? t->left[node] : t->right[node];
    return (size_t)node;
}

/* The L values of old node i as the compacted tree's leaf: from `full`
 * when given, else the node's own (into buf). */
static const float *leaf_row(const reel_tree *t, const float *full, size_t i, float *buf)
{
    if (full)
        return full + i * t->L;
    reel_tree_leaf_values(t, i, buf);
    return buf;
}

int reel_tree_compact(reel_tree *t, const uint8_t *cut, reel_error *err)
{
    size_t n = t->n_nodes, L = t->L;
    /* the nodes that stay and how many of them are leaves (a parent comes
     * before its children, in pre-order as in the builder's order) */
    uint8_t *keep = calloc(n ? n : 1, 1);
    float *row = malloc(L * sizeof *row);
    size_t kept = 0, leaves = 0;
    int cut_inner = 0;
    if (keep && n) {
        keep[0] = 1;
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            kept++;
            if (t->left[i] < 0 || (cut && cut[i])) {
                leaves++;
                cut_inner |= t->left[i] >= 0;
            } else {
                keep[t->left[i]] = keep[t->right[i]] = 1;
            }
        }
    }
    /* an inner node cut into a leaf needs its values: from its leaves when
     * only those hold theirs */
    float *full = cut_inner && t->leaf ? malloc(n * L * sizeof *full) : NULL;
    int32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    int32_t *parent_slot = malloc((n ? n : 1) * sizeof *parent_slot);
    int oom = !keep || !row || !stack || !parent_slot || (cut_inner && t->leaf && !full);
    if (full && !oom)
        reel_tree_node_values(t, full);
    /* the new leaves keep their nonzero values only */
    size_t nnz = 0;
    for (size_t i = 0; i < n && !oom; i++)
        if (keep[i] && (t->left[i] < 0 || (cut && cut[i]))) {
            const float *v = leaf_row(t, full, i, row);
            for (size_t k = 0; k < L; k++)
                nnz += v[k] != 0;
        }
    reel_tree out;
    if (oom || nnz > UINT32_MAX || tree_alloc(&out, kept, 1, leaves, nnz, L)) {
        free(keep);
        free(row);
        free(full);
        free(stack);
        free(parent_slot);
        return reel_fail(err, "tree: out of memory renumbering %zu nodes", n);
    }
    size_t top = 0, k = 0, nl = 0, q = 0;
    if (n) {
        stack[top] = 0;
        parent_slot[top++] = -1;
    }
    /* stack of (old node, new parent slot to fill); parent_slot: -1 root,
     * 2*p for the left child of new node p, 2*p+1 right */
    while (top) {
        top--;
        int32_t old = stack[top], slot = parent_slot[top];
        int32_t id = (int32_t)k++;
        if (slot >= 0) {
            if (slot % 2 == 0)
                out.left[slot / 2] = id;
            else
                out.right[slot / 2] = id;
        }
        int leaf = t->left[old] < 0 || (cut && cut[old]);
        out.feature[id] = leaf ? -1 : t->feature[old];
        out.threshold[id] = leaf ? 0 : t->threshold[old];
        out.left[id] = out.right[id] = -1;
        out.leaf[id] = leaf ? (int32_t)nl : -1;
        if (leaf) {
            const float *v = leaf_row(t, full, (size_t)old, row);
            out.vstart[nl++] = (uint32_t)q;
            for (size_t j = 0; j < L; j++)
                if (v[j] != 0) {
                    out.vlabel[q] = (uint8_t)j;
                    out.value[q++] = v[j];
                }
        }
        out.impurity[id] = t->impurity[old];
        out.n_samples[id] = t->n_samples[old];
        out.weight[id] = t->weight[old];
        if (!leaf) { /* right below left so the left subtree comes out first */
            stack[top] = t->right[old];
            parent_slot[top++] = 2 * id + 1;
            stack[top] = t->left[old];
            parent_slot[top++] = 2 * id;
        }
    }
    out.vstart[nl] = (uint32_t)q;
    free(keep);
    free(row);
    free(full);
    free(stack);
    free(parent_slot);
    reel_tree_free(t);
    *t = out;
    return 0;
}

/* scikit-learn's _cost_complexity_prune: collapses the weakest link while
 * its alpha_eff <= ccp_alpha (ccp_alpha = +inf: down to the root). Marks
 * collapsed nodes in cut; records each step's alpha and total leaf R when
 * alphas is not NULL. */
static int weakest_links(const reel_tree *t, double ccp_alpha, uint8_t *cut, double *alphas, double *impurities,
                         size_t *count)
{
    size_t n = t->n_nodes;
    double *r_node = malloc(n * sizeof *r_node), *r_branch = malloc(n * sizeof *r_branch);
    int32_t *leaves = malloc(n * sizeof *leaves), *parent = malloc(n * sizeof *parent);
    int32_t *size = malloc(n * sizeof *size);
    uint8_t *gone = calloc(n, 1); /* below a collapsed node */
    if (!r_node || !r_branch || !leaves || !parent || !size || !gone) {
        free(r_node);
        free(r_branch);
        free(leaves);
        free(parent);
        free(size);
        free(gone);
        return -1;
    }
    memset(cut, 0, n);
    parent[0] = -1;
    for (size_t i = 0; i < n; i++) {
        r_node[i] = t->weight[i] / t->weight[0] * t->impurity[i];
        if (t->left[i] >= 0)
            parent[t->left[i]] = parent[t->right[i]] = (int32_t)i;
    }
    /* children come after parents: a backwards pass sums subtrees */
    for (size_t i = n; i-- > 0;) {
        if (t->left[i] < 0) {
            r_branch[i] = r_node[i];
            leaves[i] = size[i] = 1;
        } else {
            r_branch[i] = r_branch[t->left[i]] + r_branch[t->right[i]];
            leaves[i] = leaves[t->left[i]] + leaves[t->right[i]];
            size[i] = 1 + size[t->left[i]] + size[t->right[i]];
        }
    }
    size_t k = 0;
    if (alphas) {
        alphas[k] = 0;
        impurities[k++] = r_branch[0];
    }
    while (leaves[0] > 1) {
        double best = DBL_MAX;
        size_t weakest = 0;
        for (size_t i = 0; i < n; i++) {
            if (gone[i] || leaves[i] <= 1)
                continue;
            double a = (r_node[i] - r_branch[i]) / (leaves[i] - 1);
            if (a < best) {
                best = a;
                weakest = i;
            }
        }
        if (ccp_alpha < best)
            break;
        cut[weakest] = 1;
        /* everything below the collapsed node leaves the tree: in pre-order
         * its subtree is the run of nodes that follows it */
        for (size_t j = weakest + 1; j < weakest + (size_t)size[weakest]; j++)
            gone[j] = 1;
        int32_t dropped = leaves[weakest] - 1;
        double r_diff = r_node[weakest] - r_branch[weakest];
        leaves[weakest] = 1;
        r_branch[weakest] = r_node[weakest];
        for (int32_t a = parent[weakest]; a >= 0; a = parent[a]) {
            leaves[a] -= dropped;
            r_branch[a] += r_diff;
        }
        if (alphas) {
            alphas[k] = best;
            impurities[k++] = r_branch[0];
        }
    }
    if (count)
        *count = k;
    free(r_node);
    free(r_branch);
    free(leaves);
    free(parent);
    free(size);
    free(gone);
    return 0;
}

int reel_tree_prune(reel_tree *t, double ccp_alpha, reel_error *err)
{
    uint8_t *cut = malloc(t->n_nodes ? t->n_nodes : 1);
    if (!cut || weakest_links(t, ccp_alpha, cut, NULL, NULL, NULL)) {
        free(cut);
        return reel_fail(err, "tree: out of memory pruning");
    }
    int rc = reel_tree_compact(t, cut, err);
    free(cut);
    return rc;
}

int reel_tree_pruning_path(const reel_tree *t, double **alphas, double **impurities, size_t *count,
                           reel_error *err)
{
    size_t n = t->n_nodes ? t->n_nodes : 1;
    uint8_t *cut = malloc(n);
    *alphas = malloc(n * sizeof **alphas);
    *impurities = malloc(n * sizeof **impurities);
    if (!cut || !*alphas || !*impurities || weakest_links(t, INFINITY, cut, *alphas, *impurities, count)) {
        free(cut);
        free(*alphas);
        free(*impurities);
        *alphas = *impurities = NULL;
        return reel_fail(err, "tree: out of memory for the pruning path");
    }
    free(cut);
    return 0;
}

void reel_tree_importances(const reel_tree *t, size_t d, double *imp)
{
    memset(imp, 0, d * sizeof *imp);
    for (size_t i = 0; i < t->n_nodes; i++) {
        if (t->left[i] < 0)
            continue;
        int32_t l = t->left[i], r = t->right[i];
        imp[t->feature[i]] += t->weight[i] * t->impurity[i] - t->weight[l] * t->impurity[l] -
                              t->weight[r] * t->impurity[r];
    }
    double sum = 0;
    for (size_t f = 0; f < d; f++) {
        imp[f] /= t->weight[0];
        sum += imp[f];
    }
    if (sum > 0)
        for (size_t f = 0; f < d; f++)
            imp[f] /= sum;
}

/* ---- sets of trees ---- */

reel_trees *reel_trees_new(size_t n_trees, size_t d, size_t L, int threads)
{
    reel_trees *f = calloc(1, sizeof *f);
    if (!f || !(f->trees = calloc(n_trees ? n_trees : 1, sizeof *f->trees))) {
        free(f);
        return NULL;
    }
    f->n_trees = n_trees;
    f->d = d;
    f->L = L;
    f->threads = threads > 0 ? threads : 1;
    return f;
}

void reel_trees_free(reel_trees *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_trees; i++)
        reel_tree_free(&f->trees[i]);
    free(f->trees);
    free(f);
}

int reel_trees_predict(const reel_trees *f, const float *X, size_t n, float *P, reel_error *err)
{
    enum { BLOCK = 256 }; /* rows walked through one tree before the next: its top stays in cache */
    size_t L = f->L, d = f->d, n_blocks = (n + BLOCK - 1) / BLOCK;
    int threads = n * f->n_trees > 100000 ? f->threads : 1; /* threads pay off past ~10^5 tree walks */
    double *acc_all = malloc((size_t)threads * BLOCK * (L ? L : 1) * sizeof *acc_all);
    if (!acc_all)
        return reel_fail(err, "out of memory predicting %zu rows", n);
#pragma omp parallel num_threads(threads)
    {
        double *acc = acc_all + (size_t)omp_get_thread_num() * BLOCK * L;
#pragma omp for schedule(dynamic, 4)
        for (size_t b = 0; b < n_blocks; b++) {
            size_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
            memset(acc, 0, BLOCK * L * sizeof *acc);
            /* every row adds the trees in the same order: the same sums on any thread count */
            for (size_t t = 0; t < f->n_trees; t++) {
                const reel_tree *tr = &f->trees[t];
                for (size_t i = lo; i < hi; i++) {
                    size_t node = reel_tree_leaf(tr, X + i * d);
                    double *a = acc + (i - lo) * L;
                    if (tr->leaf) { /* a grown tree's leaf: its nonzero values (zeros add nothing) */
                        int32_t j = tr->leaf[node];
                        for (uint32_t q = tr->vstart[j]; q < tr->vstart[j + 1]; q++)
                            a[tr->vlabel[q]] += tr->value[q];
                    } else {
                        const float *v = tr->value + node * L;
                        for (size_t k = 0; k < L; k++)
                            a[k] += v[k];
                    }
                }
            }
            for (size_t i = lo; i < hi; i++)
                for (size_t k = 0; k < L; k++)
                    P[i * L + k] = (float)(acc[(i - lo) * L + k] / (double)f->n_trees);
        }
    }
    free(acc_all);
    return 0;
}

void reel_trees_importances(const reel_trees *f, double *imp)
{
    size_t d = f->d, used = 0;
    double *one = malloc((d ? d : 1) * sizeof *one);
    memset(imp, 0, d * sizeof *imp);
    if (!one)
        return;
    for (size_t t = 0; t < f->n_trees; t++) {
        if (f->trees[t].n_nodes <= 1)
            continue;
        reel_tree_importances(&f->trees[t], d, one);
        for (size_t j = 0; j < d; j++)
            imp[j] += one[j];
        used++;
    }
    free(one);
    double sum = 0;
    for (size_t j = 0; j < d; j++)
        sum += imp[j] /= (double)(used ? used : 1);
    if (sum > 0)
        for (size_t j = 0; j < d; j++)
            imp[j] /= sum;
}

int reel_trees_save(const reel_trees *f, reel_tensors *out, reel_error *err)
{
    size_t total = 0, L = f->L, nt = f->n_trees, vshape[2];
    for (size_t t = 0; t < nt; t++)
        total += f->trees[t].n_nodes;
    vshape[0] = total;
    vshape[1] = L;
    /* each tensor is filled in place: no copy of the whole forest on the side */
    int32_t *counts, *feature, *left, *right, *n_samples;
    double *threshold, *impurity, *weight;
    float *value;
    if (!(counts = reel_tensors_new(out, "tree_nodes", REEL_I32, 1, &nt, err)) ||
        !(feature = reel_tensors_new(out, "feature", REEL_I32, 1, &total, err)) ||
        !(threshold = reel_tensors_new(out, "threshold", REEL_F64, 1, &total, err)) ||
        !(left = reel_tensors_new(out, "left", REEL_I32, 1, &total, err)) ||
        !(right = reel_tensors_new(out, "right", REEL_I32, 1, &total, err)) ||
        !(value = reel_tensors_new(out, "value", REEL_F32, 2, vshape, err)) ||
        !(impurity = reel_tensors_new(out, "impurity", REEL_F64, 1, &total, err)) ||
        !(n_samples = reel_tensors_new(out, "n_samples", REEL_I32, 1, &total, err)) ||
        !(weight = reel_tensors_new(out, "weight", REEL_F64, 1, &total, err)))
        return -1;
    size_t at = 0;
    for (size_t t = 0; t < nt; t++) {
        const reel_tree *tr = &f->trees[t];
        size_t n = tr->n_nodes;
        counts[t] = (int32_t)n;
        memcpy(feature + at, tr->feature, n * sizeof *feature);
        memcpy(threshold + at, tr->threshold, n * sizeof *threshold);
        memcpy(left + at, tr->left, n * sizeof *left);
        memcpy(right + at, tr->right, n * sizeof *right);
        reel_tree_node_values(tr, value + at * L); /* the file keeps every node's */
        memcpy(impurity + at, tr->impurity, n * sizeof *impurity);
        memcpy(n_samples + at, tr->n_samples, n * sizeof *n_samples);
        memcpy(weight + at, tr->weight, n * sizeof *weight);
        at += n;
    }
    return 0;
}

/* Checks one loaded tree: features in range, children after their parent
 * (so walking down always ends), leaves marked on both sides. */
static int tree_valid(const reel_tree *t, size_t d)
{
    if (t->n_nodes == 0)
        return 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        int32_t l = t->left[i], r = t->right[i];
        if (l < 0 || r < 0) {
            if (l != -1 || r != -1)
                return 0;
            continue;
        }
        if ((size_t)l <= i || (size_t)r <= i || (size_t)l >= t->n_nodes || (size_t)r >= t->n_nodes ||
            t->feature[i] < 0 || (size_t)t->feature[i] >= d)
            return 0;
    }
    return 1;
}

reel_trees *reel_trees_load(size_t d, size_t L, int threads, const reel_tensors *in, reel_error *err)
{
    const reel_tensor *counts = reel_tensors_get(in, "tree_nodes", REEL_I32, 0, err);
    if (!counts)
        return NULL;
    size_t nt = counts->nbytes / sizeof(int32_t), total = 0;
    const int32_t *c = counts->data;
    for (size_t t = 0; t < nt; t++) {
        if (c[t] <= 0) {
            reel_fail(err, "tree model: tree %zu has %d nodes", t, (int)c[t]);
            return NULL;
        }
        total += (size_t)c[t];
    }
    const reel_tensor *feature, *threshold, *left, *right, *value, *imp, *ns, *w;
    if (!(feature = reel_tensors_get(in, "feature", REEL_I32, total, err)) ||
        !(threshold = reel_tensors_get(in, "threshold", REEL_F64, total, err)) ||
        !(left = reel_tensors_get(in, "left", REEL_I32, total, err)) ||
        !(right = reel_tensors_get(in, "right", REEL_I32, total, err)) ||
        !(value = reel_tensors_get(in, "value", REEL_F32, total * L, err)) ||
        !(imp = reel_tensors_get(in, "impurity", REEL_F64, total, err)) ||
        !(ns = reel_tensors_get(in, "n_samples", REEL_I32, total, err)) ||
        !(w = reel_tensors_get(in, "weight", REEL_F64, total, err)))
        return NULL;
    if (nt == 0) {
        reel_fail(err, "tree model: no trees");
        return NULL;
    }
    for (size_t i = 0; i < total * L; i++) { /* a leaf's value is a probability */
        float v = ((const float *)value->data)[i];
        if (!(v >= 0.0f && v <= 1.0f)) {
            reel_fail(err, "tree model: tensor 'value' holds %g at element %zu (node %zu, label %zu); a node's "
                      "value is a probability in [0, 1]", (double)v, i, i / L, i % L + 1);
            return NULL;
        }
    }
    for (size_t i = 0; i < total; i++) { /* counts and weights of rows, impurities: none negative */
        double im = ((const double *)imp->data)[i], wt = ((const double *)w->data)[i];
        int32_t rows = ((const int32_t *)ns->data)[i];
        const char *bad = !(im >= 0) ? "impurity" : !(wt >= 0) ? "weight" : rows < 0 ? "n_samples" : NULL;
        if (bad) {
            reel_fail(err, "tree model: tensor '%s' holds %g at node %zu; it is never negative", bad,
                      bad[0] == 'i' ? im : bad[0] == 'w' ? wt : (double)rows, i);
            return NULL;
        }
    }
    reel_trees *f = reel_trees_new(nt, d, L, threads);
    if (!f) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    size_t at = 0;
    for (size_t t = 0; t < nt; t++) {
        reel_tree *tr = &f->trees[t];
        size_t n = (size_t)c[t];
        /* a loaded tree keeps every node's values, as the file has them */
        if (tree_alloc(tr, n, 0, 0, 0, L)) {
            reel_trees_free(f);
            reel_fail(err, "out of memory");
            return NULL;
        }
        memcpy(tr->feature, (const int32_t *)feature->data + at, n * sizeof(int32_t));
        memcpy(tr->threshold, (const double *)threshold->data + at, n * sizeof(double));
        memcpy(tr->left, (const int32_t *)left->data + at, n * sizeof(int32_t));
        memcpy(tr->right, (const int32_t *)right->data + at, n * sizeof(int32_t));
        memcpy(tr->value, (const float *)value->data + at * L, n * L * sizeof(float));
        memcpy(tr->impurity, (const double *)imp->data + at, n * sizeof(double));
        memcpy(tr->n_samples, (const int32_t *)ns->data + at, n * sizeof(int32_t));
        memcpy(tr->weight, (const double *)w->data + at, n * sizeof(double));
        at += n;
        if (!tree_valid(tr, d)) {
            reel_trees_free(f);
            reel_fail(err, "tree model: tree %zu has a broken node structure", t);
            return NULL;
        }
    }
    return f;
}

int reel_model_importances(const reel_model *m, double *imp, reel_error *err)
{
    if (!m->kind || (strcmp(m->kind->name, "tree") != 0 && strcmp(m->kind->name, "forest") != 0))
        return reel_fail(err, "model '%s' has no feature importances (only tree and forest do)",
                         m->name ? m->name : "?");
    if (!m->state)
        return reel_fail(err, "model '%s' is not trained", m->name);
    reel_trees_importances(m->state, imp);
    return 0;
}
