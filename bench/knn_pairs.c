/* bench/knn_pairs.py's driver: the exact neighbour search alone
 * (reel_knn_search, classical/knn_search.c), one thread, timed in CPU
 * seconds, so that its cost per (query, training row) pair can be read
 * without the CSV reader, the decision rule and the rest of `reel train`.
 *
 *   knn_pairs DATA K REPEAT
 *
 * DATA: int64 n, m, d, then the training rows X (n x d float32) and the
 * queries Q (m x d float32). Prints one JSON object: n, m, d, k, the CPU
 * seconds of each repeat, and a checksum of the neighbour indices (equal
 * across builds that find the same neighbours). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "classical/knn_search.h"

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: knn_pairs DATA K REPEAT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    int64_t h[3];
    if (!f || fread(h, sizeof h, 1, f) != 1 || h[0] < 1 || h[1] < 1 || h[2] < 1) {
        fprintf(stderr, "knn_pairs: cannot read %s\n", argv[1]);
        return 1;
    }
    size_t n = (size_t)h[0], m = (size_t)h[1], d = (size_t)h[2], k = (size_t)atol(argv[2]);
    int repeat = atoi(argv[3]);
    float *X = malloc(n * d * sizeof *X), *Q = malloc(m * d * sizeof *Q);
    int32_t *idx = malloc(m * k * sizeof *idx);
    double *dist = malloc(m * k * sizeof *dist);
    if (!X || !Q || !idx || !dist || fread(X, sizeof *X, n * d, f) != n * d || fread(Q, sizeof *Q, m * d, f) != m * d) {
        fprintf(stderr, "knn_pairs: %s is short or memory ran out\n", argv[1]);
        return 1;
    }
    fclose(f);
    reel_knn_index ix;
    reel_error err;
    if (reel_knn_index_init(&ix, X, n, d, "euclidean", 2.0, &err)) {
        fprintf(stderr, "knn_pairs: %s\n", err.msg);
        return 1;
    }
    printf("{\"n\": %zu, \"m\": %zu, \"d\": %zu, \"k\": %zu, \"cpu\": [", n, m, d, k);
    uint64_t sum = 0;
    for (int r = 0; r < repeat; r++) {
        double c0 = cpu_seconds();
        if (reel_knn_search(&ix, Q, m, k, 1, idx, dist, &err)) {
            fprintf(stderr, "knn_pairs: %s\n", err.msg);
            return 1;
        }
        printf("%s%.4f", r ? ", " : "", cpu_seconds() - c0);
        fflush(stdout);
    }
    for (size_t i = 0; i < m * k; i++)
        sum = sum * 1000003u + (uint64_t)idx[i];
    printf("], \"checksum\": \"%016llx\"}\n", (unsigned long long)sum);
    reel_knn_index_free(&ix);
    free(X);
    free(Q);
    free(idx);
    free(dist);
    return 0;
}
