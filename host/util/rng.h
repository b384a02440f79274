/* reel's own PRNG (xoshiro256**, seeded through splitmix64): the same stream
 * on every machine, compiler and thread count, so a seed fixes splits,
 * initialisation and shuffles everywhere. */
#ifndef REEL_RNG_H
#define REEL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} reel_rng;

void reel_rng_seed(reel_rng *r, uint64_t seed);
/* An independent stream for sub-task `stream` (a tree, a fold, a net). */
void reel_rng_seed_stream(reel_rng *r, uint64_t seed, uint64_t stream);
uint64_t reel_rng_next(reel_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double reel_rng_uniform(reel_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t reel_rng_below(reel_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void reel_rng_shuffle(reel_rng *r, size_t *idx, size_t n);

#endif
