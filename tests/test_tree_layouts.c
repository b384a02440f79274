/* The three ways a tree gets its nodes' rows sorted (tree.h's
 * reel_tree_layout) grow the same tree, bit for bit: sorting only the
 * drawn features on demand must give what partitioning every feature's
 * presorted list at every node (the slow reference) gives. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/tree.h"

enum { N = 400, D = 40, L = 3 };

/* Features with many ties (few levels), a constant one, signed zeros, and
 * labels that depend on a few of them, so trees grow deep. */
static void make_data(float *X, uint8_t *Y)
{
    reel_rng rng;
    reel_rng_seed(&rng, 7);
    for (size_t i = 0; i < N; i++) {
        for (size_t f = 0; f < D; f++) {
            double u = reel_rng_uniform(&rng);
            float v = f % 5 == 0 ? (float)(int)(u * 4) : f % 5 == 1 ? (float)(u * 1000) : (float)(int)(u * 30) - 15;
            if (f == 3)
                v = 2.5f;
            if (f == 4 && v == 0)
                v = i % 2 ? -0.0f : 0.0f;
            X[i * D + f] = v;
        }
        const float *x = X + i * D;
        Y[i * L + 0] = x[1] + 10 * x[7] > 500;
        Y[i * L + 1] = x[0] >= 2 || reel_rng_uniform(&rng) < 0.2;
        Y[i * L + 2] = (x[12] > 0) != (x[21] > 300);
    }
}

/* Grows one tree with layout and returns its bytes. */
static unsigned char *grow(const float *X, const uint8_t *Y, reel_tree_layout layout, const uint32_t *w,
                           const reel_tree_params *p, size_t *len, size_t *nodes)
{
    reel_tree_data td;
    reel_error err;
    cr_assert_eq(reel_tree_data_init(&td, X, Y, N, D, L, layout, &err), 0, "%s", err.msg);
    reel_rng rng;
    reel_rng_seed_stream(&rng, p->seed, 3);
    reel_tree t;
    cr_assert_eq(reel_tree_fit(&t, &td, w, p, &rng, &err), 0, "%s", err.msg);
    *nodes = t.n_nodes;
    unsigned char *bytes = reel_tree_to_bytes(&t, len);
    cr_assert_not_null(bytes);
    reel_tree_free(&t);
    reel_tree_data_free(&td);
    return bytes;
}

Test(tree_layouts, on_demand_grows_the_presorted_tree)
{
    float *X = malloc(sizeof(float) * N * D);
    uint8_t *Y = malloc(N * L);
    uint32_t *w = calloc(N, sizeof *w);
    cr_assert(X && Y && w);
    make_data(X, Y);
    reel_rng rng;
    reel_rng_seed(&rng, 11);
    for (size_t j = 0; j < N; j++) /* a bootstrap draw: many rows twice, many left out */
        w[reel_rng_below(&rng, N)]++;
    const long max_features[] = {1, 3, 9, D};
    size_t cases = 0;
    for (int c = 0; c < 64; c++) {
        reel_tree_params p = {
            .criterion = c & 1 ? REEL_TREE_ENTROPY : REEL_TREE_GINI,
            .random_splits = (c >> 1) & 1,
            .max_depth = (c >> 2) & 1 ? 6 : 0,
            .min_samples_split = 2,
            .min_samples_leaf = (c >> 3) & 1 ? 3 : 1,
            .max_features = max_features[(c >> 4) & 3],
            .max_leaf_nodes = c % 3 == 0 ? 25 : 0,
            .ccp_alpha = c % 5 == 0 ? 0.002 : 0,
            .seed = 100 + (uint64_t)c,
        };
        const uint32_t *weight = (c / 7) % 2 ? w : NULL;
        size_t len_ref, len_od, len_once, nodes_ref, nodes_od, nodes_once;
        unsigned char *ref = grow(X, Y, REEL_TREE_PRESORTED, weight, &p, &len_ref, &nodes_ref);
        unsigned char *od = grow(X, Y, REEL_TREE_ON_DEMAND, weight, &p, &len_od, &nodes_od);
        unsigned char *once = grow(X, Y, REEL_TREE_SORT_ONCE, weight, &p, &len_once, &nodes_once);
        cr_expect_gt(nodes_ref, 8, "case %d: the tree should split a few times", c);
        cr_expect_eq(nodes_od, nodes_ref, "case %d: %zu nodes on demand, %zu presorted", c, nodes_od, nodes_ref);
        cr_expect(len_od == len_ref && memcmp(od, ref, len_ref) == 0, "case %d: on demand differs from presorted",
                  c);
        cr_expect(len_once == len_ref && memcmp(once, ref, len_ref) == 0, "case %d: sort-once differs", c);
        free(ref);
        free(od);
        free(once);
        cases++;
    }
    cr_expect_eq(cases, 64);
    free(X);
    free(Y);
    free(w);
}

Test(tree_layouts, forests_sort_on_demand_when_nodes_try_few_features)
{
    reel_tree_params p = {.max_features = 32};
    cr_expect_eq(reel_tree_layout_for(&p, 1024, 0), REEL_TREE_ON_DEMAND);
    p.max_features = 10; /* the measured switch: 10 features drawn of 100 or more */
    cr_expect_eq(reel_tree_layout_for(&p, 100, 0), REEL_TREE_ON_DEMAND);
    cr_expect_eq(reel_tree_layout_for(&p, 99, 0), REEL_TREE_PRESORTED);
    p.max_features = 0; /* all features */
    cr_expect_eq(reel_tree_layout_for(&p, 1024, 0), REEL_TREE_PRESORTED);
    cr_expect_eq(reel_tree_layout_for(&p, 1024, 1), REEL_TREE_SORT_ONCE);
}

/* Orders (value, row) as a stable sort by value does, -0 before +0 (the
 * order the trees have always used). */
static const float *cmp_col;
static int by_value_then_row(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    float x = cmp_col[i], y = cmp_col[j];
    int sx = signbit(x) != 0, sy = signbit(y) != 0;
    if (x != y)
        return x < y ? -1 : 1;
    if (sx != sy) /* -0 and +0 */
        return sx ? -1 : 1;
    return (i > j) - (i < j);
}

/* The shared lists every layout builds from (columns read in blocks,
 * radix sorted) against a comparison sort: many rows so every radix
 * digit varies in some column and not in others, a column count that
 * leaves a partial block, ties, signed zeros, negatives and huge values. */
Test(tree_layouts, columns_sort_as_a_comparison_sort)
{
    enum { ROWS = 5000, COLS = 37 };
    float *X = malloc(sizeof(float) * ROWS * COLS), *col = malloc(sizeof(float) * ROWS);
    uint8_t *Y = calloc(ROWS, 1);
    int32_t *want = malloc(sizeof(int32_t) * ROWS);
    cr_assert(X && col && Y && want);
    reel_rng rng;
    reel_rng_seed(&rng, 23);
    for (size_t i = 0; i < ROWS; i++)
        for (size_t f = 0; f < COLS; f++) {
            double u = reel_rng_uniform(&rng);
            float v = f % 4 == 0   ? (float)(int)(u * 7) - 3                  /* ties across zero */
                      : f % 4 == 1 ? (float)((u - 0.5) * 1e30)                /* every exponent bit */
                      : f % 4 == 2 ? 1.0f + (float)u * 1e-3f                 /* only low bits vary */
                      : u < 0.3    ? -0.0f
                      : u < 0.6    ? 0.0f
                                   : (float)(int)(u * 5) - 2; /* signed zeros among ties */
            X[i * COLS + f] = v;
        }
    reel_error err;
    for (int layout = 0; layout < 2; layout++) {
        reel_tree_data td;
        cr_assert_eq(reel_tree_data_init(&td, X, Y, ROWS, COLS, 1, layout ? REEL_TREE_PRESORTED : REEL_TREE_ON_DEMAND,
                                         &err),
                     0, "%s", err.msg);
        for (size_t f = 0; f < COLS; f++) {
            for (int32_t i = 0; i < ROWS; i++) {
                col[i] = X[(size_t)i * COLS + f];
                want[i] = i;
            }
            cmp_col = col;
            qsort(want, ROWS, sizeof *want, by_value_then_row);
            for (int32_t k = 0; k < ROWS; k++) {
                int32_t row = want[k];
                if (layout) {
                    cr_assert_eq(td.order[f][k], row, "presorted column %zu, place %d", f, k);
                    cr_assert(memcmp(&td.Xt[f][row], &col[row], sizeof(float)) == 0, "column %zu row %d", f, row);
                } else {
                    cr_assert_eq(td.cell[f][row].rank, (uint32_t)k, "column %zu row %d", f, row);
                    cr_assert(memcmp(&td.cell[f][row].x, &col[row], sizeof(float)) == 0, "column %zu row %d", f,
                              row);
                }
            }
        }
        reel_tree_data_free(&td);
    }
    free(X);
    free(col);
    free(Y);
    free(want);
}
