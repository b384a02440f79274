/* The device kernels' index arithmetic (kernels/kernel_index.h, the same
 * functions nn_cuda.cu calls) on the CPU, past 2^31 and 2^32 elements: a
 * gather of 40 million rows of 100 inputs and 7 labels, and grid-stride
 * loops over capped grids. Exact values are checked in double (integers
 * below 2^53 are exact there), a route independent of the header's. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdint.h>

#include "kernel_index.h"

#define ROWS 50000000ull
#define D 100ull
#define L 7ull

/* Element i of the gather lands where a plain row-major layout puts it. */
static void check_gather(reel_kidx i)
{
    reel_kidx r, c;
    reel_gather_split(i, D, L, &r, &c);
    cr_assert_lt(r, ROWS, "element %llu: row %llu", i, r);
    cr_assert_lt(c, D + L, "element %llu: column %llu", i, c);
    cr_assert_eq((double)r * (double)(D + L) + (double)c, (double)i, "element %llu -> (%llu, %llu)", i, r, c);
    double dst = c < D ? (double)r * D + (double)c : (double)r * L + (double)(c - D);
    reel_kidx at = c < D ? reel_at(r, D, c) : reel_at(r, L, c - D);
    cr_assert_eq((double)at, dst, "element %llu: batch offset %llu, not %.0f", i, at, dst);
}

Test(kernel_index, gather_past_2_to_the_32_elements)
{
    reel_kidx total = ROWS * (D + L);
    cr_assert_gt(total, (reel_kidx)UINT32_MAX, "the test must pass 32-bit range");
    const reel_kidx around[] = {0, INT32_MAX, 1ull << 31, UINT32_MAX, 1ull << 32, total - 1};
    for (size_t k = 0; k < sizeof around / sizeof *around; k++)
        for (reel_kidx i = around[k] < 300 ? 0 : around[k] - 300; i <= around[k] + 300 && i < total; i++)
            check_gather(i);
    /* the very last input and label go to the last places of xb and yb */
    reel_kidx r, c;
    reel_gather_split(total - L - 1, D, L, &r, &c);
    cr_expect_eq(reel_at(r, D, c), ROWS * D - 1);
    reel_gather_split(total - 1, D, L, &r, &c);
    cr_expect_eq(reel_at(r, L, c - D), ROWS * L - 1);
    /* a source row past 2^32 / d (the row order is uint32): offsets past 2^32 */
    uint32_t row = 4000000000u;
    cr_expect_eq((double)reel_at(row, D, D - 1), 4e11 + 99.0);
    cr_expect_eq((double)reel_at(row, L, L - 1), 2.8e10 + 6.0);
}

/* A grid-stride loop over n elements with `threads` per block: the capped
 * grid's threads start at distinct elements below the stride, so each
 * element is visited by exactly one thread; their counts add up to n and no
 * loop runs past n (nor wraps). */
static void check_grid(reel_kidx n, unsigned threads)
{
    unsigned blocks = reel_kernel_blocks(n, threads);
    cr_assert(blocks >= 1 && blocks <= REEL_KERNEL_MAX_BLOCKS, "n %llu: %u blocks", n, blocks);
    reel_kidx stride = reel_kernel_stride(blocks, threads);
    cr_assert_eq((double)stride, (double)blocks * threads);
    if ((double)n <= (double)REEL_KERNEL_MAX_BLOCKS * threads)
        cr_assert_geq(stride, n, "n %llu: a grid of %u blocks is one element per thread", n, blocks);
    reel_kidx visited = 0;
    for (unsigned b = 0; b < blocks; b++)
        for (unsigned t = 0; t < threads; t++) {
            reel_kidx first = reel_kernel_first(b, threads, t);
            cr_assert_eq((double)first, (double)b * threads + t);
            cr_assert_lt(first, stride);
            if (first < n)
                visited += (n - 1 - first) / stride + 1;
        }
    cr_assert_eq(visited, n, "n %llu: %llu visits", n, visited);
    /* the grid's last thread walks the whole range in the kernels' loop */
    reel_kidx last = 0, steps = 0;
    for (reel_kidx i = reel_kernel_first(blocks - 1, threads, threads - 1); i < n; i += stride) {
        last = i;
        steps++;
    }
    reel_kidx top = stride - 1;
    if (top < n)
        cr_assert_eq(steps, (n - 1 - top) / stride + 1, "n %llu", n);
    cr_assert(last < n && (n <= top || last + stride >= n), "n %llu: last element %llu", n, last);
}

Test(kernel_index, grid_stride_loops_cover_every_element_once)
{
    check_grid(1, 256);
    check_grid(255, 256);
    check_grid(256, 256);
    check_grid(257, 256);
    check_grid(1ull << 31, 256);
    check_grid((1ull << 31) + 1, 128);
    check_grid(ROWS * (D + L), 256); /* past 2^32 */
    check_grid(ROWS * 4096ull, 256); /* a batch of 50 million rows 4096 wide: past 2^37 */
}
