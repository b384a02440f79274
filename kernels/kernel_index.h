/* The index arithmetic of the device kernels (kernels/nn_cuda.cu), in a
 * header plain C includes too, so that tests/test_kernel_index.c checks it
 * on the CPU past 2^31 elements. A batch x width product passes int's range
 * on a GPU with enough memory, so every element index is 64-bit and every
 * kernel walks its elements in a grid-stride loop over a capped grid. */
#ifndef REEL_KERNEL_INDEX_H
#define REEL_KERNEL_INDEX_H

#ifdef __CUDACC__
#define REEL_KI __host__ __device__ static inline
#else
#define REEL_KI static inline
#endif

typedef unsigned long long reel_kidx;

/* The grid's cap; a grid-stride loop covers any n beyond it. */
#define REEL_KERNEL_MAX_BLOCKS 65535u

/* Blocks for n elements at `threads` per block: one element per thread up
 * to the cap (at least one block, so a launch is always valid). */
REEL_KI unsigned reel_kernel_blocks(reel_kidx n, unsigned threads)
{
    reel_kidx b = (n + threads - 1) / threads;
    return b == 0 ? 1u : b > REEL_KERNEL_MAX_BLOCKS ? REEL_KERNEL_MAX_BLOCKS : (unsigned)b;
}

/* A thread's first element and the grid's stride. */
REEL_KI reel_kidx reel_kernel_first(unsigned block, unsigned block_dim, unsigned thread)
{
    return (reel_kidx)block * block_dim + thread;
}

REEL_KI reel_kidx reel_kernel_stride(unsigned grid_dim, unsigned block_dim)
{
    return (reel_kidx)grid_dim * block_dim;
}

/* Element i of a batch gather of rows with d inputs and L labels (i runs
 * over batch rows x (d + L)): its batch row and its column (< d: input
 * column c, else label column c - d). */
REEL_KI void reel_gather_split(reel_kidx i, reel_kidx d, reel_kidx L, reel_kidx *row, reel_kidx *col)
{
    *row = i / (d + L);
    *col = i % (d + L);
}

/* Offset of column k of row r in a row-major matrix `width` wide. */
REEL_KI reel_kidx reel_at(reel_kidx r, reel_kidx width, reel_kidx k) { return r * width + k; }

#endif
