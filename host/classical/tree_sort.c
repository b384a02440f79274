/* Sorting X's columns for the trees: see tree_sort.h. */
#include "classical/tree_sort.h"

#include <stdlib.h>

/* 11-bit digits: three passes over a 32-bit key, each histogram (2,048
 * counts) small enough for the first-level cache. */
#define DIGIT_BITS 11
#define DIGITS 3
#define BUCKETS (1u << DIGIT_BITS)
/* rows ahead that read_block asks for */
#define READ_AHEAD 16

/* Float bits mapped so unsigned order is numeric order. */
static uint32_t sort_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

int reel_tree_sorter_init(reel_tree_sorter *s, size_t n, size_t d)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->block = d < REEL_TREE_SORT_BLOCK ? (d ? d : 1) : REEL_TREE_SORT_BLOCK;
    s->keys = malloc(s->block * n * sizeof *s->keys);
    s->a = malloc(n * sizeof *s->a);
    s->b = malloc(n * sizeof *s->b);
    if (s->keys && s->a && s->b)
        return 0;
    reel_tree_sorter_free(s);
    return -1;
}

void reel_tree_sorter_free(reel_tree_sorter *s)
{
    free(s->keys);
    free(s->a);
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* keys = columns f0 .. f0 + count of X, one row's cache line at a time. */
static void read_block(reel_tree_sorter *s, const float *X, size_t d, size_t f0)
{
    size_t n = s->n, count = d - f0 < s->block ? d - f0 : s->block;
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * d + f0;
        /* each row's line is a page away from the last at many columns: the
         * hardware does not guess it, so ask for it well ahead */
        if (i + READ_AHEAD < n)
            __builtin_prefetch(x + READ_AHEAD * d);
        for (size_t c = 0; c < count; c++)
            s->keys[c * n + i] = sort_key(x[c]);
    }
    s->f0 = f0;
    s->count = count;
}

const uint64_t *reel_tree_sort_column(reel_tree_sorter *s, const float *X, size_t d, size_t f)
{
    if (!s->count || f < s->f0 || f >= s->f0 + s->count)
        read_block(s, X, d, f - f % s->block);
    size_t n = s->n;
    const uint32_t *key = s->keys + (f - s->f0) * n;
    /* every digit's counts in one pass; the items start in row order, and
     * each pass is stable, so ties stay by row id */
    _Static_assert(DIGIT_BITS * DIGITS >= 32, "the digits cover the key");
    uint32_t count[DIGITS][BUCKETS];
    memset(count, 0, sizeof count);
    uint64_t *in = s->a, *out = s->b;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = key[i];
        in[i] = (uint64_t)k << 32 | (uint32_t)i;
        for (int g = 0; g < DIGITS; g++)
            count[g][(k >> (g * DIGIT_BITS)) & (BUCKETS - 1)]++;
    }
    for (int g = 0; g < DIGITS; g++) {
        int shift = 32 + g * DIGIT_BITS;
        if (count[g][(in[0] >> shift) & (BUCKETS - 1)] == n)
            continue; /* every key has this digit: the pass would move nothing */
        uint32_t at = 0;
        for (uint32_t c = 0; c < BUCKETS; c++) {
            uint32_t m = count[g][c];
            count[g][c] = at;
            at += m;
        }
        for (size_t i = 0; i < n; i++)
            out[count[g][(in[i] >> shift) & (BUCKETS - 1)]++] = in[i];
        uint64_t *t = in;
        in = out;
        out = t;
    }
    return in;
}
