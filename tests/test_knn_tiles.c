/* The neighbour search past one cache tile of training rows: exact
 * neighbours and the lower index first on ties, against a plain double
 * scan, for every metric, with queries in several superblocks and one
 * group of huge values that takes the plain loops beside filtered groups;
 * then near-ties (rows a float ulp apart) and duplicates spread over many
 * panels and tiles. */
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

/* The k-th smallest of r[0..n) by (value, index), marking each taken. */
static size_t take_nearest(double *r, size_t n)
{
    size_t best = 0;
    for (size_t t = 1; t < n; t++)
        if (r[t] < r[best])
            best = t;
    return best;
}

/* Rows that tie exactly (copies of 40 centres, each copy 40 rows apart, so
 * in other 16-row panels and, at 21 features, other cache tiles of 192
 * rows) or nearly (a copy with one or two features moved by one float ulp:
 * the float sums can tie where the double distances do not). Queries on a
 * centre, an ulp off one, or halfway between two (equal distances to rows
 * of both). N is not a multiple of 16: the last panel is partial. Against
 * a double scan computed as the library defines the distance, for k = 1,
 * 7 and 60 (past the 25 copies of a centre), 1 and 2 threads. */
Test(knn_tiles, near_ties_and_copies_across_panels_and_tiles)
{
    enum { NT = 1000, DT = 21, C = 40, MT = 90 };
    float *X = malloc(NT * DT * sizeof *X), *Q = malloc(MT * DT * sizeof *Q), cen[C * DT];
    double *r = malloc(NT * sizeof *r);
    cr_assert(X && Q && r);
    unsigned s = 5;
    for (size_t i = 0; i < C * DT; i++)
        cen[i] = 1.0f + (float)((s = s * 1103515245u + 12345u) >> 16 & 3);
    for (size_t i = 0; i < NT; i++) {
        const float *c = cen + i % C * DT;
        for (size_t j = 0; j < DT; j++)
            X[i * DT + j] = c[j];
        if (i % 4 >= 1) /* one ulp up or down in one feature, or up in two */
            X[i * DT + i % DT] = nextafterf(c[i % DT], i % 4 == 2 ? 0.0f : 10.0f);
        if (i % 4 == 3)
            X[i * DT + (i + 5) % DT] = nextafterf(c[(i + 5) % DT], 10.0f);
    }
    for (size_t a = 0; a < MT; a++)
        for (size_t j = 0; j < DT; j++) {
            const float *c = cen + a % C * DT, *c2 = cen + (a * 7 + 3) % C * DT;
            Q[a * DT + j] = a % 3 == 0 ? c[j] : a % 3 == 1 ? (j == a % DT ? nextafterf(c[j], 0.0f) : c[j])
                                                           : (c[j] + c2[j]) / 2; /* exact: halves */
        }
    const char *metrics[] = {"euclidean", "manhattan", "chebyshev", "minkowski"};
    const size_t ks[] = {1, 7, 60};
    int32_t *idx = malloc(MT * 60 * sizeof *idx);
    double *dist = malloc(MT * 60 * sizeof *dist);
    cr_assert(idx && dist);
    for (size_t mi = 0; mi < 4; mi++) {
        reel_knn_index ix;
        reel_error err;
        cr_assert_eq(reel_knn_index_init(&ix, X, NT, DT, metrics[mi], 3.0, &err), 0, "%s", err.msg);
        cr_assert_not_null(ix.XP, "the filter is in use");
        for (size_t ki = 0; ki < 3; ki++)
            for (int threads = 1; threads <= 2; threads++) {
                size_t k = ks[ki];
                cr_assert_eq(reel_knn_search(&ix, Q, MT, k, threads, idx, dist, &err), 0, "%s", err.msg);
                for (size_t a = 0; a < MT; a++) {
                    for (size_t t = 0; t < NT; t++) { /* as knn_search.c defines it (p = 3: products) */
                        double sum = 0;
                        for (size_t j = 0; j < DT; j++) {
                            double v = fabs((double)X[t * DT + j] - (double)Q[a * DT + j]);
                            if (mi == 0)
                                sum += v * v;
                            else if (mi == 1)
                                sum += v;
                            else if (mi == 2)
                                sum = v > sum ? v : sum;
                            else
                                sum += v * v * v;
                        }
                        r[t] = sum;
                    }
                    for (size_t j = 0; j < k; j++) {
                        size_t best = take_nearest(r, NT);
                        double want = mi == 0 ? sqrt(r[best]) : mi == 3 ? pow(r[best], 1.0 / 3.0) : r[best];
                        cr_expect_eq(idx[a * k + j], (int32_t)best, "%s k %zu threads %d query %zu neighbour %zu: %d, want %zu",
                                     metrics[mi], k, threads, a, j, idx[a * k + j], best);
                        cr_expect_eq(dist[a * k + j], want, "%s k %zu query %zu neighbour %zu", metrics[mi], k, a, j);
                        r[best] = INFINITY;
                    }
                }
            }
        reel_knn_index_free(&ix);
    }
    free(X);
    free(Q);
    free(r);
    free(idx);
    free(dist);
}
