/* Exact k-nearest-neighbour search by brute force, for the knn model kind.
 *
 * "Exact" means: the k training rows with the smallest distance computed in
 * double precision from the float32 inputs, ties broken by the lower
 * training index, whatever the thread count. The fast path (float32 sums
 * over a transposed copy of X, vectorised) only ever prunes rows that a
 * proven rounding bound shows cannot be among the k best; every surviving
 * candidate is measured in double. */
#ifndef REEL_KNN_SEARCH_H
#define REEL_KNN_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum {
    REEL_KNN_EUCLIDEAN,
    REEL_KNN_MANHATTAN,
    REEL_KNN_CHEBYSHEV,
    REEL_KNN_MINKOWSKI, /* general p (p = 1 and 2 are mapped to the above) */
} reel_knn_metric;

/* The training rows and what the search precomputes from them. */
typedef struct {
    const float *X; /* n x d, row-major; borrowed, must outlive the index */
    size_t n, d;
    reel_knn_metric metric;
    double p;       /* minkowski power (REEL_KNN_MINKOWSKI only) */
    int p_whole;    /* p = p_whole, or p_whole + 1/2 when p_half: products (and a sqrt), not pow */
    int p_half;
    double p_floor; /* minkowski: sum |v|^p >= p_floor * (sum v^2)^(p/2), for the euclidean filter */
    float *XP;      /* the filter's copy: panels of 16 rows, each d x 16; NULL: plain loops only */
} reel_knn_index;

/* metric: "euclidean", "manhattan", "chebyshev" or "minkowski" (with p >= 1;
 * p 1 and 2 become manhattan and euclidean, as in scikit-learn). */
int reel_knn_index_init(reel_knn_index *ix, const float *X, size_t n, size_t d, const char *metric, double p,
                        reel_error *err);
void reel_knn_index_free(reel_knn_index *ix);

/* For each of the m query rows Q (m x d): the k nearest training rows,
 * nearest first, as indices idx (m x k) and distances dist (m x k, the
 * metric's true distance, not squared). k must be 1..n. threads >= 1. */
int reel_knn_search(const reel_knn_index *ix, const float *Q, size_t m, size_t k, int threads, int32_t *idx,
                    double *dist, reel_error *err);

#endif
