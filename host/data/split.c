#include "data/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static size_t *copy_sorted(const size_t *src, size_t n)
{
    size_t *dst = malloc((n ? n : 1) * sizeof *dst);
    if (dst && n) {
        memcpy(dst, src, n * sizeof *dst);
        qsort(dst, n, sizeof *dst, cmp_size);
    }
    return dst;
}

void reel_split_free(reel_split *s)
{
    free(s->train);
    free(s->valid);
    free(s->test);
    memset(s, 0, sizeof *s);
}

static size_t part(double fraction, size_t n)
{
    double k = ceil(fraction * (double)n - 1e-9);
    return k < 0 ? 0 : (k > (double)n ? n : (size_t)k);
}

/* Moves a seeded valid_fraction of rows[0..n) into valid, the rest into train. */
static void draw_valid(reel_split *s, const size_t *rows, size_t n, double frac, reel_rng *rng)
{
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!perm)
        return; /* train and valid stay NULL: reel_split_make says out of memory */
    memcpy(perm, rows, n * sizeof *perm);
    qsort(perm, n, sizeof *perm, cmp_size); /* same draw whatever order rows came in */
    reel_rng_shuffle(rng, perm, n);
    s->n_valid = part(frac, n);
    if (s->n_valid >= n && n > 0) /* keep one row to train on */
        s->n_valid = n - 1;
    s->n_train = n - s->n_valid;
    s->valid = copy_sorted(perm, s->n_valid);
    s->train = copy_sorted(perm + s->n_valid, s->n_train);
    free(perm);
}

int reel_split_make(reel_split *s, const reel_dataset *ds, const reel_split_opts *o, reel_error *err)
{
    memset(s, 0, sizeof *s);
    if (!(o->test_fraction >= 0 && o->test_fraction < 1))
        return reel_fail(err, "--test-fraction must be in [0, 1), got %g", o->test_fraction);
    if (!(o->valid_fraction >= 0 && o->valid_fraction < 1))
        return reel_fail(err, "--valid-fraction must be in [0, 1), got %g", o->valid_fraction);
    reel_rng rng;
    reel_rng_seed(&rng, o->seed);
    size_t n = ds->n;
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return reel_fail(err, "out of memory splitting %zu rows", n);
    if (!ds->split) {
        for (size_t i = 0; i < n; i++)
            rows[i] = i;
        reel_rng_shuffle(&rng, rows, n);
        s->n_test = part(o->test_fraction, n);
        if (s->n_test >= n && n > 0) /* keep one row to train on */
            s->n_test = n - 1;
        s->test = copy_sorted(rows, s->n_test);
        draw_valid(s, rows + s->n_test, n - s->n_test, o->valid_fraction, &rng);
    } else {
        size_t counts[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++)
            counts[ds->split[i]]++;
        size_t *by[3];
        for (int k = 0; k < 3; k++)
            by[k] = malloc((counts[k] ? counts[k] : 1) * sizeof(size_t));
        if (!by[0] || !by[1] || !by[2]) {
            for (int k = 0; k < 3; k++)
                free(by[k]);
            free(rows);
            return reel_fail(err, "out of memory splitting %zu rows", n);
        }
        size_t fill[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++)
            by[ds->split[i]][fill[ds->split[i]]++] = i;
        s->test = by[REEL_SPLIT_TEST];
        s->n_test = counts[REEL_SPLIT_TEST];
        if (counts[REEL_SPLIT_VALID] > 0 || o->valid_fraction == 0) {
            s->train = by[REEL_SPLIT_TRAIN];
            s->n_train = counts[REEL_SPLIT_TRAIN];
            s->valid = by[REEL_SPLIT_VALID];
            s->n_valid = counts[REEL_SPLIT_VALID];
        } else {
            draw_valid(s, by[REEL_SPLIT_TRAIN], counts[REEL_SPLIT_TRAIN], o->valid_fraction, &rng);
            free(by[REEL_SPLIT_TRAIN]);
            free(by[REEL_SPLIT_VALID]);
        }
    }
    free(rows);
    if (!s->train || !s->valid || !s->test) {
        reel_split_free(s);
        return reel_fail(err, "out of memory splitting %zu rows", n);
    }
    if (s->n_train == 0) {
        reel_split_free(s);
        return reel_fail(err, "no training rows (%zu rows in all; check --test-fraction, --valid-fraction "
                         "or the split column)", n);
    }
    return 0;
}

int reel_kfold(size_t n, int k, uint64_t seed, int *fold, reel_error *err)
{
    if (k < 2 || (size_t)k > n)
        return reel_fail(err, "--folds must be between 2 and the number of training rows (%zu), got %d", n, k);
    size_t *perm = malloc(n * sizeof *perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    reel_rng rng;
    reel_rng_seed_stream(&rng, seed, 0x6b666f6c64ULL);
    reel_rng_shuffle(&rng, perm, n);
    for (size_t i = 0; i < n; i++)
        fold[perm[i]] = (int)(i % (size_t)k);
    free(perm);
    return 0;
}
