/* The neighbour search past one cache tile of training rows (64 features:
 * a tile is 1,024 rows): exact neighbours and the lower index first on
 * ties, against a plain double scan, for every metric, with queries in
 * several superblocks and one group of huge values that takes the plain
 * loops beside filtered groups. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "classical/knn_search.h"

enum { N = 3000, D = 64, M = 150, K = 9 };

static double reduced(const char *metric, const float *x, const float *q)
{
    double s = 0;
    for (size_t j = 0; j < D; j++) {
        double v = fabs((double)x[j] - (double)q[j]);
        if (metric[0] == 'e')
            s += v * v;
        else if (metric[0] == 'm')
            s += v;
        else if (v > s)
            s = v;
    }
    return s;
}

Test(knn_tiles, exact_neighbours_and_tie_order_past_the_tile)
{
    float *X = malloc(N * D * sizeof *X), *Q = malloc(M * D * sizeof *Q);
    cr_assert(X && Q);
    unsigned s = 11;
    /* coarse values (many equal distances) and every 7th row a copy of an
     * earlier one: ties that the index must break */
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++)
            X[i * D + j] = i % 7 == 6 ? X[(i / 3) * D + j] : (float)((s = s * 1103515245u + 12345u) >> 16 & 3);
    for (size_t a = 0; a < M; a++)
        for (size_t j = 0; j < D; j++)
            Q[a * D + j] = a % 5 == 0 ? X[(a * 19 % N) * D + j] : (float)((s = s * 1103515245u + 12345u) >> 16 & 3);
    for (size_t j = 0; j < D; j++) /* queries 40..47: one group beyond the float filter's range */
        Q[43 * D + j] = 3e20f;
    const char *metrics[] = {"euclidean", "manhattan", "chebyshev"};
    int32_t *idx = malloc(M * K * sizeof *idx), *idx1 = malloc(M * K * sizeof *idx1);
    double *dist = malloc(M * K * sizeof *dist), *dist1 = malloc(M * K * sizeof *dist1), *r = malloc(N * sizeof *r);
    for (size_t mi = 0; mi < 3; mi++) {
        reel_knn_index ix;
        reel_error err;
        cr_assert_eq(reel_knn_index_init(&ix, X, N, D, metrics[mi], 2, &err), 0, "%s", err.msg);
        cr_assert_not_null(ix.XP, "the filter is in use");
        cr_assert_eq(reel_knn_search(&ix, Q, M, K, 2, idx, dist, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_knn_search(&ix, Q, M, K, 1, idx1, dist1, &err), 0, "%s", err.msg);
        for (size_t a = 0; a < M; a++) {
            for (size_t t = 0; t < N; t++)
                r[t] = reduced(metrics[mi], X + t * D, Q + a * D);
            for (size_t j = 0; j < K; j++) { /* the j-th smallest by (r, index) */
                size_t best = 0;
                for (size_t t = 1; t < N; t++)
                    if (r[t] < r[best])
                        best = t;
                double want = metrics[mi][0] == 'e' ? sqrt(r[best]) : r[best];
                cr_expect_eq(idx[a * K + j], (int32_t)best, "%s query %zu neighbour %zu: %d, want %zu", metrics[mi],
                             a, j, idx[a * K + j], best);
                cr_expect_eq(dist[a * K + j], want, "%s query %zu neighbour %zu", metrics[mi], a, j);
                cr_expect_eq(idx1[a * K + j], idx[a * K + j], "one thread differs: %s query %zu", metrics[mi], a);
                r[best] = INFINITY;
            }
        }
        reel_knn_index_free(&ix);
    }
    free(X);
    free(Q);
    free(idx);
    free(idx1);
    free(dist);
    free(dist1);
    free(r);
}
