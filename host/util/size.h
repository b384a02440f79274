/* Size arithmetic that cannot wrap: a count from a caller or a file times
 * an element size must fail, not allocate a small block that is then
 * written past (n = 2^61 rows of 8-byte values is 0 bytes after wrapping). */
#ifndef REEL_SIZE_H
#define REEL_SIZE_H

#include <stddef.h>
#include <stdlib.h>

/* 1 with *out = a * b, or 0 when the product does not fit in size_t. */
static inline int reel_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* malloc of n elements of `size` bytes (at least 1 byte), or NULL when
 * n * size overflows or memory is short. */
static inline void *reel_malloc_n(size_t n, size_t size)
{
    size_t bytes;
    if (!reel_size_mul(n, size, &bytes))
        return NULL;
    return malloc(bytes ? bytes : 1);
}

#endif
