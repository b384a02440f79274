/* Train / validation / test row sets, and k-fold partitions of the
 * training rows. All seeded with reel's own PRNG. */
#ifndef REEL_SPLIT_H
#define REEL_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "util/error.h"

typedef struct {
    size_t *train, *valid, *test; /* row indices, ascending */
    size_t n_train, n_valid, n_test;
} reel_split;

typedef struct {
    uint64_t seed;        /* default 42 */
    double test_fraction; /* default 0.2 */
    double valid_fraction;/* of the training rows; default 0.1; 0 = none */
} reel_split_opts;

/* Without a split column: a seeded shuffle, the first ceil(test_fraction*n)
 * rows are test, then ceil(valid_fraction*rest) valid, the rest train.
 * With one (ds->split): its marks; when no row is marked valid, a seeded
 * valid_fraction of the train rows become validation. */
int reel_split_make(reel_split *s, const reel_dataset *ds, const reel_split_opts *o, reel_error *err);
void reel_split_free(reel_split *s);

/* Assigns each of n rows a fold 0..k-1 (sizes differ by at most one),
 * shuffled with seed. fold must hold n ints. */
int reel_kfold(size_t n, int k, uint64_t seed, int *fold, reel_error *err);

#endif
