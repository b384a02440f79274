/* Growing one CART tree as scikit-learn's BestSplitter / RandomSplitter
 * with its depth-first and best-first builders do.
 *
 * Speed comes from sorting each feature once (reel_tree_data.order): the
 * builder keeps, for every feature, the tree's rows in a list sorted by
 * that feature, and every node owns one range [start, end) of all those
 * lists. Searching a feature is then one left-to-right sweep over its range
 * with running label counts; splitting a node partitions each list's range
 * stably into the left rows then the right rows, which keeps both halves
 * sorted.
 *
 * Splitting every list at every node costs all d features even when a
 * node tries only a few of them (a forest's sqrt(d)). The on-demand layout
 * (REEL_TREE_ON_DEMAND) instead keeps one list of the node's rows and
 * sorts them, for each feature the node draws, by their precomputed rank
 * in that feature's sorted order: the same order as the presorted list
 * (value, then row id), so the same tree. The node's list stays in row id
 * order (a split partitions it stably), so gathering a feature's cells
 * walks its column forwards. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"
#include "classical/tree_sort.h"
#include "util/interrupt.h"

/* Values closer than this are one value (scikit-learn's FEATURE_THRESHOLD). */
#define FEATURE_THRESHOLD 1e-7

/* One row in a feature's sorted list, with its value there (read in
 * order by the sweeps instead of fetched from X). */
typedef struct {
    float x;
    int32_t row;
} entry;

typedef struct {
    int32_t feature, pos; /* pos: rows going left */
    double threshold, improvement, impurity_left, impurity_right;
} split;

/* A grown node waiting to be expanded (or to stay a leaf). */
typedef struct {
    int32_t node, start, end, depth;
    int expandable;
    split s;
} pending;

typedef struct {
    const reel_tree_data *td;
    const reel_tree_params *p;
    const uint32_t *w;
    reel_rng *rng;
    size_t n, d, L, m; /* m: rows in the tree (weight > 0) */
    long mtry;         /* features to try per node */
    entry *idx;        /* d x m: per feature, the rows sorted within each node's range (presorted) */
    entry *tmp;        /* m: partition buffer (presorted) */
    /* on demand: */
    int32_t *rows;            /* m: each node's rows in its range [start, end), by row id */
    entry *cur, *best;        /* m: the drawn feature's sorted rows; the best split's so far */
    float *xg;                /* m: the node's values of the drawn feature, in rows' order */
    uint64_t *keys, *kbuf;    /* m: rank << 32 | place in the node, radix sorted */
    int32_t *slot;            /* n: rank -> place in the node, -1 when free */
    int32_t *rtmp;            /* m: partition buffer */
    int32_t *perm;     /* d: feature draw order, the identity between nodes */
    int32_t *drawn_at; /* d: where each draw of a node swapped from, to undo them */
    uint8_t *goes_left; /* n, by row id */
    double *C, *cl;    /* L: node positives; left positives in a sweep */
    double W_root;
    reel_tree t; /* nodes in creation order, without label values while growing */
    int32_t *where; /* 3 per node: start, end and the feature whose list holds its rows (presorted) */
    size_t cap;
    pending *fr; /* frontier: a stack (depth-first) or a max-heap (best-first) */
    size_t n_fr, cap_fr;
} builder;

static double xlog2x(const builder *b, double c) { return b->td->xlog2x[(size_t)c]; }

/* Mean over labels of the gini or entropy of a node holding weight W with
 * C[k] positives of label k (scikit-learn's node_impurity); a multiclass
 * target's over its class frequencies C[k] / W. */
static double impurity(const builder *b, const double *C, double W)
{
    double sum = 0;
    if (b->p->multiclass) {
        for (size_t k = 0; k < b->L; k++) {
            double p = C[k] / W;
            sum += b->p->criterion == REEL_TREE_GINI ? p * p : p > 0 ? -p * log2(p) : 0.0;
        }
        return b->p->criterion == REEL_TREE_GINI ? 1.0 - sum : sum;
    }
    for (size_t k = 0; k < b->L; k++) {
        double p1 = C[k] / W, p0 = (W - C[k]) / W;
        if (b->p->criterion == REEL_TREE_GINI) {
            sum += 1.0 - (p1 * p1 + p0 * p0);
        } else {
            if (p1 > 0)
                sum -= p1 * log2(p1);
            if (p0 > 0)
                sum -= p0 * log2(p0);
        }
    }
    return sum / (double)b->L;
}

/* A score that orders splits as scikit-learn's proxy improvement
 * -(W_left * imp_left + W_right * imp_right) does; counts are integers, so
 * every sum below is exact. gini: sum_k (cl^2 + (wl-cl)^2) / wl + the same
 * for the right; entropy: uses W*H = W log W - c log c - (W-c) log (W-c). */
static double split_score(const builder *b, const double *cl, double wl, double W)
{
    double wr = W - wl, sl = 0, sr = 0;
    const double *C = b->C;
    int mc = b->p->multiclass; /* classes: sum_k c_k^2 / w, and W H = W log W - sum_k c_k log c_k */
    if (b->p->criterion == REEL_TREE_GINI) {
        for (size_t k = 0; k < b->L; k++) {
            double cr = C[k] - cl[k];
            sl += cl[k] * cl[k] + (mc ? 0.0 : (wl - cl[k]) * (wl - cl[k]));
            sr += cr * cr + (mc ? 0.0 : (wr - cr) * (wr - cr));
        }
        return sl / wl + sr / wr;
    }
    for (size_t k = 0; k < b->L; k++) {
        double cr = C[k] - cl[k];
        sl += mc ? xlog2x(b, cl[k]) + xlog2x(b, cr)
                 : xlog2x(b, cl[k]) + xlog2x(b, wl - cl[k]) + xlog2x(b, cr) + xlog2x(b, wr - cr);
    }
    return sl / (mc ? 1.0 : (double)b->L) - xlog2x(b, wl) - xlog2x(b, wr);
}

static void add_row(const builder *b, double *cl, int32_t row, double u)
{
    const reel_tree_data *td = b->td;
    for (int32_t j = td->pos_start[row]; j < td->pos_start[row + 1]; j++)
        cl[td->pos_label[j]] += u;
}

static double row_weight(const builder *b, int32_t row) { return b->w ? (double)b->w[row] : 1.0; }

/* The node's rows (from start) sorted by the feature being tried: its
 * presorted list, or what sort_node() just wrote. */
static const entry *node_list(const builder *b, int32_t f, int32_t start)
{
    return b->rows ? b->cur : b->idx + (size_t)f * b->m + start;
}

/* Sorts keys[0..s) (rank offsets << 32 | place) by rank, 8 bits a pass
 * over the bits that vary (ranks are distinct, so any sort is the sort). */
static void radix_by_rank(uint64_t *keys, uint64_t *buf, int32_t s, uint32_t span)
{
    if (s <= 32) { /* insertion sort: small nodes */
        for (int32_t i = 1; i < s; i++) {
            uint64_t v = keys[i];
            int32_t j = i;
            for (; j > 0 && keys[j - 1] > v; j--)
                keys[j] = keys[j - 1];
            keys[j] = v;
        }
        return;
    }
    for (int shift = 32; shift < 64 && (span >> (shift - 32)) > 0; shift += 8) {
        int32_t count[257] = {0};
        for (int32_t i = 0; i < s; i++)
            count[((keys[i] >> shift) & 0xff) + 1]++;
        for (int c = 0; c < 256; c++)
            count[c + 1] += count[c];
        for (int32_t i = 0; i < s; i++)
            buf[count[(keys[i] >> shift) & 0xff]++] = keys[i];
        memcpy(keys, buf, (size_t)s * sizeof *keys);
    }
}

/* On demand: b->cur = the rows of [start, end) sorted by feature f as its
 * presorted list holds them (by rank). Returns 0, sorting nothing, when f
 * is constant there (as sweep_best and try_random would find). */
static int sort_node(builder *b, int32_t f, int32_t start, int32_t end)
{
    const int32_t *rows = b->rows + start;
    const reel_tree_cell *cell = b->td->cell[f];
    int32_t s = end - start, lo = 0, hi = 0;
    uint32_t rlo = UINT32_MAX, rhi = 0;
    for (int32_t i = 0; i < s; i++) {
        if (i + 16 < s) /* rows far apart miss the cache: ask early */
            __builtin_prefetch(cell + rows[i + 16]);
        reel_tree_cell c = cell[rows[i]];
        uint32_t r = c.rank;
        b->xg[i] = c.x;
        b->keys[i] = (uint64_t)r << 32 | (uint32_t)i;
        if (r < rlo) {
            rlo = r;
            lo = i;
        }
        if (r >= rhi) {
            rhi = r;
            hi = i;
        }
    }
    /* the smallest and largest ranks hold the first and last values */
    if ((double)b->xg[hi] <= (double)b->xg[lo] + FEATURE_THRESHOLD)
        return 0;
    entry *out = b->cur;
    uint32_t span = rhi - rlo;
    if ((size_t)span < 4 * (size_t)s) { /* dense ranks: one sweep over them */
        for (int32_t i = 0; i < s; i++)
            b->slot[(b->keys[i] >> 32) - rlo] = i;
        int32_t k = 0;
        for (uint32_t r = 0; r <= span; r++) {
            int32_t i = b->slot[r];
            if (i >= 0) {
                out[k++] = (entry){b->xg[i], rows[i]};
                b->slot[r] = -1;
            }
        }
        return 1;
    }
    for (int32_t i = 0; i < s; i++)
        b->keys[i] -= (uint64_t)rlo << 32;
    radix_by_rank(b->keys, b->kbuf, s, span);
    for (int32_t i = 0; i < s; i++) {
        uint32_t at = (uint32_t)b->keys[i];
        out[i] = (entry){b->xg[at], rows[at]};
    }
    return 1;
}

/* Best threshold of feature f over the node's rows (BestSplitter): returns
 * 0 when the feature is constant there. */
static int sweep_best(builder *b, int32_t f, int32_t start, int32_t end, double W, double *best_score, split *best)
{
    const entry *e = node_list(b, f, start);
    int32_t n = end - start;
    long msl = b->p->min_samples_leaf;
    if ((double)e[n - 1].x <= (double)e[0].x + FEATURE_THRESHOLD)
        return 0;
    const double *C = b->C;
    double *cl = b->cl, Ld = (double)b->L;
    memset(cl, 0, b->L * sizeof *cl);
    /* gini keeps sum_k cl^2, sum_k cl and sum_k C cl running, so a
     * threshold costs O(1) however many labels there are */
    int gini = b->p->criterion == REEL_TREE_GINI;
    double SC = 0, SC2 = 0, sl2 = 0, sumcl = 0, dot = 0, wl = 0;
    for (size_t k = 0; k < b->L; k++) {
        SC += C[k];
        SC2 += C[k] * C[k];
    }
    const reel_tree_data *td = b->td;
    for (int32_t p = 0; p + 1 < n; p++) {
        int32_t row = e[p].row;
        double u = row_weight(b, row);
        wl += u;
        for (int32_t j = td->pos_start[row]; j < td->pos_start[row + 1]; j++) {
            uint8_t k = td->pos_label[j];
            sl2 += u * (2 * cl[k] + u);
            dot += u * C[k];
            cl[k] += u;
        }
        sumcl += u * (double)(td->pos_start[row + 1] - td->pos_start[row]);
        if (p + 1 < msl)
            continue;
        if (n - (p + 1) < msl)
            break;
        double xv = e[p].x, xn = e[p + 1].x;
        if (xn <= xv + FEATURE_THRESHOLD)
            continue;
        double score;
        if (gini && b->p->multiclass) { /* sum_k cl^2 / wl + sum_k cr^2 / wr */
            double wr = W - wl;
            score = sl2 / wl + (SC2 - 2 * dot + sl2) / wr;
        } else if (gini) {
            double wr = W - wl;
            double sl = 2 * sl2 - 2 * wl * sumcl + Ld * wl * wl;
            double sr2 = SC2 - 2 * dot + sl2, sumcr = SC - sumcl;
            double sr = 2 * sr2 - 2 * wr * sumcr + Ld * wr * wr;
            score = sl / wl + sr / wr;
        } else {
            score = split_score(b, cl, wl, W);
        }
        if (score > *best_score) {
            *best_score = score;
            best->feature = f;
            best->pos = p + 1;
            best->threshold = xv / 2.0 + xn / 2.0;
            if (best->threshold == xn) /* no double strictly between */
                best->threshold = xv;
        }
    }
    return 1;
}

/* One uniform random threshold for feature f (RandomSplitter); 0 when the
 * feature is constant in the node. */
static int try_random(builder *b, int32_t f, int32_t start, int32_t end, double W, double *best_score, split *best)
{
    const entry *e = node_list(b, f, start);
    int32_t n = end - start;
    double lo = e[0].x, hi = e[n - 1].x;
    if (hi <= lo + FEATURE_THRESHOLD)
        return 0;
    double thr = (hi - lo) * reel_rng_uniform(b->rng) + lo;
    if (thr == hi)
        thr = lo;
    /* rows with x <= thr form a prefix of the sorted list */
    int32_t a = 0, z = n;
    while (a < z) {
        int32_t mid = a + (z - a) / 2;
        if ((double)e[mid].x <= thr)
            a = mid + 1;
        else
            z = mid;
    }
    int32_t pos = a;
    if (pos < b->p->min_samples_leaf || n - pos < b->p->min_samples_leaf)
        return 1;
    double *cl = b->cl, wl = 0;
    memset(cl, 0, b->L * sizeof *cl);
    for (int32_t p = 0; p < pos; p++) {
        double u = row_weight(b, e[p].row);
        wl += u;
        add_row(b, cl, e[p].row, u);
    }
    double score = split_score(b, cl, wl, W);
    if (score > *best_score) {
        *best_score = score;
        best->feature = f;
        best->pos = pos;
        best->threshold = thr;
    }
    return 1;
}

/* The best split of a node over max_features drawn features, as
 * scikit-learn draws them: features found constant still count as tried,
 * but drawing goes on until one non-constant feature was tried. Returns 0
 * when no split is allowed. */
static int find_split(builder *b, int32_t start, int32_t end, double W, double imp, split *s)
{
    double best_score = -INFINITY;
    s->feature = -1;
    size_t d = b->d, i = 0;
    long visited = 0, constant = 0;
    for (; i < d; i++) {
        if (visited >= b->mtry && visited > constant)
            break;
        size_t j = i + (size_t)reel_rng_below(b->rng, d - i);
        b->drawn_at[i] = (int32_t)j;
        int32_t f = b->perm[j];
        b->perm[j] = b->perm[i];
        b->perm[i] = f;
        visited++;
        int varies = !b->rows || sort_node(b, f, start, end);
        if (varies)
            varies = b->p->random_splits ? try_random(b, f, start, end, W, &best_score, s)
                                         : sweep_best(b, f, start, end, W, &best_score, s);
        if (!varies)
            constant++;
        if (b->rows && s->feature == f) { /* keep the leader's sorted rows */
            entry *t = b->cur;
            b->cur = b->best;
            b->best = t;
        }
    }
    /* undo the swaps, last first: the next node starts from the identity
     * again without a pass over all d features */
    while (i-- > 0) {
        int32_t t = b->perm[i];
        b->perm[i] = b->perm[b->drawn_at[i]];
        b->perm[b->drawn_at[i]] = t;
    }
    if (s->feature < 0)
        return 0;
    /* on demand, the node's list splits stably into left rows then right */
    if (b->rows) {
        for (int32_t p = 0; p < end - start; p++)
            b->goes_left[b->best[p].row] = p < s->pos;
        int32_t nl = start, nr = 0;
        for (int32_t p = start; p < end; p++) {
            int32_t row = b->rows[p];
            int left = b->goes_left[row];
            b->rows[nl] = row;
            b->rtmp[nr] = row;
            nl += left;
            nr += !left;
        }
        memcpy(b->rows + nl, b->rtmp, (size_t)nr * sizeof *b->rows);
    }
    /* impurities of the two children from the winner's left rows */
    const entry *e = b->rows ? b->best : b->idx + (size_t)s->feature * b->m + start;
    double *cl = b->cl, wl = 0;
    memset(cl, 0, b->L * sizeof *cl);
    for (int32_t p = 0; p < s->pos; p++) {
        double u = row_weight(b, e[p].row);
        wl += u;
        add_row(b, cl, e[p].row, u);
    }
    double wr = W - wl;
    s->impurity_left = impurity(b, cl, wl);
    for (size_t k = 0; k < b->L; k++)
        cl[k] = b->C[k] - cl[k];
    s->impurity_right = impurity(b, cl, wr);
    s->improvement = W / b->W_root * (imp - wr / W * s->impurity_right - wl / W * s->impurity_left);
    return 1;
}

static int grow_nodes(builder *b)
{
    if (b->t.n_nodes < b->cap)
        return 0;
    size_t cap = b->cap ? 2 * b->cap : 64;
    reel_tree *t = &b->t;
#define GROW(field, count)                                                                                        \
    do {                                                                                                          \
        void *q = realloc(t->field, (count) * sizeof *t->field);                                                  \
        if (!q)                                                                                                   \
            return -1;                                                                                            \
        t->field = q;                                                                                             \
    } while (0)
    GROW(feature, cap);
    GROW(threshold, cap);
    GROW(left, cap);
    GROW(right, cap);
    GROW(impurity, cap);
    GROW(n_samples, cap);
    GROW(weight, cap);
#undef GROW
    int32_t *w = realloc(b->where, 3 * cap * sizeof *w);
    if (!w)
        return -1;
    b->where = w;
    b->cap = cap;
    return 0;
}

static int frontier_push(builder *b, const pending *it);

/* Whether a node of n rows at `depth` may be split at all. */
static int may_split(const builder *b, int32_t n, int32_t depth, double imp)
{
    const reel_tree_params *p = b->p;
    return !((p->max_depth > 0 && depth >= p->max_depth) || n < p->min_samples_split ||
             n < 2 * p->min_samples_leaf || imp <= DBL_EPSILON);
}

/* Creates the node of rows [start, end) and finds its split. `sorted_by` (presorted) is
 * a feature whose list is known to hold exactly these rows; `lists_ready`
 * says every feature's list does (else the node can only be a leaf). */
static int add_node(builder *b, int32_t start, int32_t end, int32_t depth, int32_t sorted_by, int lists_ready,
                    pending *out)
{
    if (grow_nodes(b))
        return -1;
    reel_tree *t = &b->t;
    int32_t id = (int32_t)t->n_nodes++;
    const entry *e = b->rows ? NULL : b->idx + (size_t)sorted_by * b->m;
    double W = 0;
    memset(b->C, 0, b->L * sizeof *b->C);
    for (int32_t p = start; p < end; p++) {
        int32_t row = e ? e[p].row : b->rows[p];
        double u = row_weight(b, row);
        W += u;
        add_row(b, b->C, row, u);
    }
    double imp = impurity(b, b->C, W);
    b->where[3 * id] = start;
    b->where[3 * id + 1] = end;
    b->where[3 * id + 2] = sorted_by;
    t->feature[id] = -1;
    t->threshold[id] = 0;
    t->left[id] = t->right[id] = -1;
    t->impurity[id] = imp;
    t->n_samples[id] = end - start;
    t->weight[id] = W;
    if (id == 0)
        b->W_root = W;
    memset(out, 0, sizeof *out);
    out->node = id;
    out->start = start;
    out->end = end;
    out->depth = depth;
    out->expandable = lists_ready && may_split(b, end - start, depth, imp) &&
                      find_split(b, start, end, W, imp, &out->s) &&
                      !(out->s.improvement + DBL_EPSILON < b->p->min_impurity_decrease);
    return frontier_push(b, out);
}

/* Moves each feature's rows of [start, end) that go left (x <= threshold
 * of feature f) before those that go right, keeping both sorted. */
static void partition(builder *b, int32_t f, int32_t start, int32_t pos, int32_t end)
{
    const entry *split_rows = b->idx + (size_t)f * b->m;
    for (int32_t p = start; p < end; p++)
        b->goes_left[split_rows[p].row] = p < pos;
    for (size_t g = 0; g < b->d; g++) {
        if ((int32_t)g == f)
            continue;
        entry *e = b->idx + g * b->m;
        int32_t nl = start, nr = 0;
        for (int32_t p = start; p < end; p++) {
            entry v = e[p];
            int left = b->goes_left[v.row];
            e[nl] = v;
            b->tmp[nr] = v;
            nl += left;
            nr += !left;
        }
        memcpy(e + nl, b->tmp, (size_t)nr * sizeof *e);
    }
}

static int expand(builder *b, const pending *it)
{
    const split *s = &it->s;
    int32_t pos = it->start + s->pos;
    b->t.feature[it->node] = s->feature;
    b->t.threshold[it->node] = s->threshold;
    /* children that must be leaves need no sorted lists: skip the partition
     * when both are (most nodes of the last level) */
    int lists_ready = b->rows || may_split(b, s->pos, it->depth + 1, s->impurity_left) ||
                      may_split(b, it->end - pos, it->depth + 1, s->impurity_right);
    if (lists_ready && !b->rows) /* on demand, find_split arranged the node's rows */
        partition(b, s->feature, it->start, pos, it->end);
    pending l, r;
    if (add_node(b, it->start, pos, it->depth + 1, s->feature, lists_ready, &l) ||
        add_node(b, pos, it->end, it->depth + 1, s->feature, lists_ready, &r))
        return -1;
    b->t.left[it->node] = l.node;
    b->t.right[it->node] = r.node;
    return 0;
}

/* ---- the frontier: LIFO for depth-first, max-heap on improvement for best-first ---- */

static int heap_before(const pending *a, const pending *c)
{
    double ia = a->expandable ? a->s.improvement : -INFINITY, ic = c->expandable ? c->s.improvement : -INFINITY;
    return ia > ic || (ia == ic && a->node < c->node);
}

static int frontier_push(builder *b, const pending *it)
{
    if (b->n_fr == b->cap_fr) {
        size_t cap = b->cap_fr ? 2 * b->cap_fr : 64;
        pending *q = realloc(b->fr, cap * sizeof *q);
        if (!q)
            return -1;
        b->fr = q;
        b->cap_fr = cap;
    }
    size_t i = b->n_fr++;
    b->fr[i] = *it;
    if (b->p->max_leaf_nodes > 0) {
        while (i > 0 && heap_before(&b->fr[i], &b->fr[(i - 1) / 2])) {
            pending t = b->fr[i];
            b->fr[i] = b->fr[(i - 1) / 2];
            b->fr[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    }
    return 0;
}

static pending frontier_pop(builder *b)
{
    if (b->p->max_leaf_nodes <= 0)
        return b->fr[--b->n_fr];
    pending top = b->fr[0];
    b->fr[0] = b->fr[--b->n_fr];
    size_t i = 0, n = b->n_fr;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_before(&b->fr[l], &b->fr[m]))
            m = l;
        if (r < n && heap_before(&b->fr[r], &b->fr[m]))
            m = r;
        if (m == i)
            break;
        pending t = b->fr[i];
        b->fr[i] = b->fr[m];
        b->fr[m] = t;
        i = m;
    }
    return top;
}

/* Grows the tree: depth-first (children of the last expanded node first)
 * or, with max_leaf_nodes, best-first on improvement. */
static int grow(builder *b)
{
    pending root;
    if (add_node(b, 0, (int32_t)b->m, 0, 0, 1, &root))
        return -1;
    /* depth-first pops the newest node (ids are renumbered into pre-order
     * afterwards); best-first spends a budget of max_leaf_nodes - 1 splits */
    long splits_left = b->p->max_leaf_nodes > 0 ? b->p->max_leaf_nodes - 1 : -1;
    for (unsigned long k = 0; b->n_fr; k++) {
        if ((k & 255) == 255 && reel_interrupted()) /* a deep tree on many rows takes a while */
            return 1;
        pending it = frontier_pop(b);
        if (!it.expandable || splits_left == 0)
            continue;
        if (splits_left > 0)
            splits_left--;
        if (expand(b, &it))
            return -1;
    }
    return 0;
}

/* The grown tree's leaves' nonzero label values (fractions of positives),
 * from the rows each leaf's range holds: a node's range keeps its rows
 * (a split only reorders them), in the rows list on demand, else in the
 * list of the feature recorded for it. Nothing L-sized is kept per node
 * while growing. */
static int leaf_values(builder *b)
{
    reel_tree *t = &b->t;
    size_t L = b->L, leaves = 0, nnz = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            t->n_leaves = leaves;
            t->leaf = malloc((t->n_nodes ? t->n_nodes : 1) * sizeof *t->leaf);
            t->vstart = malloc((leaves + 1) * sizeof *t->vstart);
            t->vlabel = malloc(nnz ? nnz : 1);
            t->value = malloc((nnz ? nnz : 1) * sizeof *t->value);
            if (!t->leaf || !t->vstart || !t->vlabel || !t->value)
                return -1;
            leaves = nnz = 0;
        }
        for (size_t i = 0; i < t->n_nodes; i++) {
            if (pass == 1)
                t->leaf[i] = t->left[i] < 0 ? (int32_t)leaves : -1;
            if (t->left[i] >= 0)
                continue;
            const int32_t *at = b->where + 3 * i;
            const entry *e = b->rows ? NULL : b->idx + (size_t)at[2] * b->m;
            memset(b->C, 0, L * sizeof *b->C);
            for (int32_t p = at[0]; p < at[1]; p++) {
                int32_t row = e ? e[p].row : b->rows[p];
                add_row(b, b->C, row, row_weight(b, row));
            }
            if (pass == 1)
                t->vstart[leaves] = (uint32_t)nnz;
            for (size_t k = 0; k < L; k++)
                if (b->C[k] != 0) {
                    if (pass == 1) {
                        t->vlabel[nnz] = (uint8_t)k;
                        t->value[nnz] = (float)(b->C[k] / t->weight[i]);
                    }
                    nnz++;
                }
            leaves++;
        }
        if (nnz > UINT32_MAX)
            return -1;
    }
    t->vstart[leaves] = (uint32_t)nnz;
    return 0;
}

static void builder_free(builder *b)
{
    free(b->idx);
    free(b->tmp);
    free(b->rows);
    free(b->cur);
    free(b->best);
    free(b->xg);
    free(b->keys);
    free(b->kbuf);
    free(b->slot);
    free(b->rtmp);
    free(b->perm);
    free(b->drawn_at);
    free(b->goes_left);
    free(b->C);
    free(b->cl);
    free(b->fr);
    free(b->where);
}

/* ---- the lists each tree grows from ---- */

/* Presorted: this tree's rows in every feature's sorted order (a lone
 * tree sorts each column here, into scratch reused from column to column). */
static int presorted_lists(builder *b)
{
    const reel_tree_data *td = b->td;
    b->idx = malloc(td->d * b->m * sizeof *b->idx);
    b->tmp = malloc(b->m * sizeof *b->tmp);
    b->goes_left = malloc(td->n);
    reel_tree_sorter so = {0};
    if (!b->idx || !b->tmp || !b->goes_left || (td->X && reel_tree_sorter_init(&so, td->n, td->d)))
        return -1;
    for (size_t f = 0; f < td->d; f++) {
        entry *e = b->idx + f * b->m;
        size_t k = 0;
        if (td->X) {
            const uint64_t *item = reel_tree_sort_column(&so, td->X, td->d, f);
            for (size_t i = 0; i < td->n; i++) {
                int32_t row = reel_tree_item_row(item[i]);
                if (!b->w || b->w[row])
                    e[k++] = (entry){reel_tree_item_value(item[i]), row};
            }
            continue;
        }
        const int32_t *order = td->order[f];
        for (size_t i = 0; i < td->n; i++)
            if (!b->w || b->w[order[i]])
                e[k++] = (entry){td->Xt[f][order[i]], order[i]};
    }
    reel_tree_sorter_free(&so);
    return 0;
}

/* On demand: one list of the tree's rows, and scratch to sort a node's. */
static int on_demand_lists(builder *b)
{
    size_t m = b->m, n = b->td->n;
    b->rows = malloc(m * sizeof *b->rows);
    b->cur = malloc(m * sizeof *b->cur);
    b->best = malloc(m * sizeof *b->best);
    b->xg = malloc(m * sizeof *b->xg);
    b->keys = malloc(m * sizeof *b->keys);
    b->kbuf = malloc(m * sizeof *b->kbuf);
    b->slot = malloc(n * sizeof *b->slot);
    b->rtmp = malloc(m * sizeof *b->rtmp);
    b->goes_left = malloc(n);
    if (!b->rows || !b->cur || !b->best || !b->xg || !b->keys || !b->kbuf || !b->slot || !b->rtmp || !b->goes_left)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        b->slot[i] = -1;
        if (!b->w || b->w[i])
            b->rows[k++] = (int32_t)i;
    }
    return 0;
}

int reel_tree_fit(reel_tree *t, reel_tree_data *td, const uint32_t *weight, const reel_tree_params *p,
                  reel_rng *rng, reel_error *err)
{
    memset(t, 0, sizeof *t);
    builder b = {.td = td, .p = p, .w = weight, .rng = rng, .n = td->n, .d = td->d, .L = td->L};
    b.mtry = p->max_features > 0 && (size_t)p->max_features < td->d ? p->max_features : (long)td->d;
    size_t total = 0;
    for (size_t i = 0; i < td->n; i++) {
        uint32_t u = weight ? weight[i] : 1;
        b.m += u > 0;
        total += u;
    }
    if (b.m == 0 || td->d == 0)
        return reel_fail(err, "tree: no training rows with positive weight, or no features");
    if (total > td->n)
        return reel_fail(err, "tree: row weights sum to %zu, more than the %zu rows", total, td->n);
    b.perm = malloc(td->d * sizeof *b.perm);
    b.drawn_at = malloc(td->d * sizeof *b.drawn_at);
    b.C = malloc(td->L * sizeof *b.C);
    b.cl = malloc(td->L * sizeof *b.cl);
    if (!b.perm || !b.drawn_at || !b.C || !b.cl || (td->cell ? on_demand_lists(&b) : presorted_lists(&b))) {
        builder_free(&b);
        return reel_fail(err, "tree: out of memory for %zu rows x %zu features", b.m, td->d);
    }
    for (size_t f = 0; f < td->d; f++)
        b.perm[f] = (int32_t)f;
    b.t.L = td->L;
    int rc = grow(&b);
    if (rc == 0)
        rc = leaf_values(&b);
    builder_free(&b);
    *t = b.t;
    if (rc) {
        reel_tree_free(t);
        return rc > 0 ? reel_fail(err, "tree: %s while growing the tree", reel_interrupt_name())
                      : reel_fail(err, "tree: out of memory growing the tree");
    }
    if (reel_tree_compact(t, NULL, err) || (p->ccp_alpha > 0 && reel_tree_prune(t, p->ccp_alpha, err))) {
        reel_tree_free(t);
        return -1;
    }
    return 0;
}

/* ---- the shared training data ---- */

/* A node that tries mtry of d features pays d list partitions presorted
 * and mtry gathers and sorts on demand; measured (10-tree forests on
 * bench/scale.py's cols series, 59k rows), a gather and sort costs about
 * ten partitions: on demand took 0.98 of presorted's CPU at 96 columns
 * (d = 10.7 mtry), 0.93 at 128, 0.79 at 160 and 192, and 1.1 to 1.25 at
 * 64 (d = 8 mtry). */
reel_tree_layout reel_tree_layout_for(const reel_tree_params *p, size_t d, int single)
{
    size_t mtry = p->max_features > 0 && (size_t)p->max_features < d ? (size_t)p->max_features : d;
    if (d >= 10 * mtry)
        return REEL_TREE_ON_DEMAND;
    return single ? REEL_TREE_SORT_ONCE : REEL_TREE_PRESORTED;
}

int reel_tree_data_init(reel_tree_data *td, const float *X, const uint8_t *Y, size_t n, size_t d, size_t L,
                        reel_tree_layout layout, reel_error *err)
{
    memset(td, 0, sizeof *td);
    if (n == 0 || n > INT32_MAX / 2 || L == 0 || L > 255)
        return reel_fail(err, "tree: needs 1 to %d rows and 1 to 255 labels (got %zu rows, %zu labels)",
                         INT32_MAX / 2, n, L);
    td->n = n;
    td->d = d;
    td->L = L;
    size_t npos = 0;
    for (size_t i = 0; i < n * L; i++)
        npos += Y[i] != 0;
    td->pos_start = malloc((n + 1) * sizeof *td->pos_start);
    td->pos_label = malloc(npos ? npos : 1);
    td->xlog2x = malloc((n + 1) * sizeof *td->xlog2x);
    if (!td->pos_start || !td->pos_label || !td->xlog2x) {
        reel_tree_data_free(td);
        return reel_fail(err, "tree: out of memory for %zu rows", n);
    }
    if (layout == REEL_TREE_SORT_ONCE) {
        td->X = X;
    } else {
        int ranked = layout == REEL_TREE_ON_DEMAND;
        if (ranked) {
            td->cell = calloc(d ? d : 1, sizeof *td->cell);
        } else {
            td->Xt = calloc(d ? d : 1, sizeof *td->Xt);
            td->order = calloc(d ? d : 1, sizeof *td->order);
        }
        reel_tree_sorter so = {0};
        int oom = !(td->cell || (td->Xt && td->order)) || reel_tree_sorter_init(&so, n, d);
        for (size_t f = 0; f < d && !oom; f++) {
            oom = ranked ? !(td->cell[f] = malloc(n * sizeof **td->cell))
                         : !(td->Xt[f] = malloc(n * sizeof **td->Xt)) || !(td->order[f] = malloc(n * sizeof **td->order));
            if (oom)
                break;
            const uint64_t *item = reel_tree_sort_column(&so, X, d, f);
            for (size_t i = 0; i < n; i++) {
                int32_t row = reel_tree_item_row(item[i]);
                float x = reel_tree_item_value(item[i]);
                if (ranked) {
                    td->cell[f][row] = (reel_tree_cell){(uint32_t)i, x};
                } else {
                    td->order[f][i] = row;
                    td->Xt[f][row] = x;
                }
            }
        }
        reel_tree_sorter_free(&so);
        if (oom) {
            reel_tree_data_free(td);
            return reel_fail(err, "tree: out of memory for %zu rows x %zu features", n, d);
        }
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        td->pos_start[i] = (int32_t)j;
        for (size_t k = 0; k < L; k++)
            if (Y[i * L + k])
                td->pos_label[j++] = (uint8_t)k;
    }
    td->pos_start[n] = (int32_t)j;
    td->xlog2x[0] = 0;
    for (size_t c = 1; c <= n; c++)
        td->xlog2x[c] = (double)c * log2((double)c);
    return 0;
}

void reel_tree_data_free(reel_tree_data *td)
{
    for (size_t f = 0; f < td->d; f++) {
        if (td->Xt)
            free(td->Xt[f]);
        if (td->order)
            free(td->order[f]);
        if (td->cell)
            free(td->cell[f]);
    }
    free(td->Xt);
    free(td->order);
    free(td->cell);
    free(td->pos_start);
    free(td->pos_label);
    free(td->xlog2x);
    memset(td, 0, sizeof *td);
}
