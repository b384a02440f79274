/* Sorting the columns of X once for the trees (tree_build.c): each
 * column's rows in the stable order of their values, as 64-bit items
 * key << 32 | row, where key is the value's bits mapped so that unsigned
 * order is numeric order (-0 before +0, as before).
 *
 * X is row-major, so one column's values lie a row apart (4 KB at 1,024
 * columns: a cache line and often a page per value). The sorter therefore
 * reads REEL_TREE_SORT_BLOCK columns at once, one cache line of each row,
 * and then sorts them one by one from its own contiguous copy. */
#ifndef REEL_TREE_SORT_H
#define REEL_TREE_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REEL_TREE_SORT_BLOCK 16 /* floats in a 64-byte cache line */

typedef struct {
    size_t n, block;  /* rows; columns read at once, min(REEL_TREE_SORT_BLOCK, d) */
    uint32_t *keys;   /* block x n: the columns read, as keys (64 bytes a row at most, less
                       * than the sorted lists the callers build from them) */
    uint64_t *a, *b;  /* n each: the radix passes' two buffers */
    size_t f0, count; /* the block read: columns f0 .. f0 + count */
} reel_tree_sorter;

int reel_tree_sorter_init(reel_tree_sorter *s, size_t n, size_t d);
void reel_tree_sorter_free(reel_tree_sorter *s);

/* Reads the block of columns that holds column f of X (n x d) unless it
 * is the one read last, and returns column f's rows sorted by value, ties
 * by row id (n items, valid until the next call). */
const uint64_t *reel_tree_sort_column(reel_tree_sorter *s, const float *X, size_t d, size_t f);

/* The value of a sorted item and its row. */
static inline float reel_tree_item_value(uint64_t item)
{
    uint32_t key = (uint32_t)(item >> 32), u = key & 0x80000000u ? key & 0x7fffffffu : ~key;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}
static inline int32_t reel_tree_item_row(uint64_t item) { return (int32_t)(uint32_t)item; }

#endif
