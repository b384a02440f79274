/* A layer's matrix products as one descriptor each, in a BLAS's
 * column-major conventions (cuBLAS's sgemm): the CUDA runtime hands these to
 * cuBLAS, and tests/test_gemm_desc.c executes the same descriptors with a
 * plain column-major loop on the CPU and compares them with the CPU
 * backend, so a transposed or mis-strided product fails in CI, not on the
 * first GPU.
 *
 * The nets' matrices are row-major; a row-major r x c matrix is the
 * column-major c x r matrix, its transpose, with leading dimension c. So
 * the row-major H = X W^T is computed as the column-major H^T = W^T' X^T
 * with W's storage read transposed, and so on below. Header only: the CUDA
 * plugin links nothing of the host library. */
#ifndef REEL_NN_GEMM_DESC_H
#define REEL_NN_GEMM_DESC_H

/* The matrices a layer's products read, all row-major: its weights W
 * (out x in), its input X (n x in), the gradient at its output dZ
 * (n x out), and a vector of n ones. */
typedef enum { REEL_GEMM_W, REEL_GEMM_X, REEL_GEMM_DZ, REEL_GEMM_ONES } reel_gemm_operand;

/* The products: H = X W^T (n x out), dW = dZ^T X (out x in), db = dZ^T 1
 * (out), dX = dZ W (n x in). */
typedef enum { REEL_GEMM_FORWARD, REEL_GEMM_WEIGHT_GRAD, REEL_GEMM_BIAS_GRAD, REEL_GEMM_INPUT_GRAD } reel_gemm_product;

/* C (m x n, column-major, leading dimension ldc) = alpha op(A) op(B) +
 * beta C, where op(M) is M, or M^T when trans_*; op(A) is m x k, op(B)
 * k x n. a and b say which of the layer's matrices A and B are. */
typedef struct {
    int trans_a, trans_b;
    int m, n, k;
    int lda, ldb, ldc;
    float alpha, beta;
    reel_gemm_operand a, b;
} reel_gemm;

/* Product p of a layer with `in` inputs and `out` outputs over `rows` rows. */
static inline reel_gemm reel_gemm_layer(reel_gemm_product p, int rows, int in, int out)
{
    reel_gemm g = {0, 0, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, REEL_GEMM_W, REEL_GEMM_X};
    switch (p) {
    case REEL_GEMM_FORWARD: /* H^T (out x rows) = (W^T stored, read as T) X^T */
        g.trans_a = 1;
        g.m = out, g.n = rows, g.k = in;
        g.lda = in, g.ldb = in, g.ldc = out;
        g.a = REEL_GEMM_W, g.b = REEL_GEMM_X;
        break;
    case REEL_GEMM_WEIGHT_GRAD: /* dW^T (in x out) = X^T (dZ^T stored, read as T) */
        g.trans_b = 1;
        g.m = in, g.n = out, g.k = rows;
        g.lda = in, g.ldb = out, g.ldc = in;
        g.a = REEL_GEMM_X, g.b = REEL_GEMM_DZ;
        break;
    case REEL_GEMM_BIAS_GRAD: /* db (out x 1) = dZ^T 1 */
        g.m = out, g.n = 1, g.k = rows;
        g.lda = out, g.ldb = rows, g.ldc = out;
        g.a = REEL_GEMM_DZ, g.b = REEL_GEMM_ONES;
        break;
    case REEL_GEMM_INPUT_GRAD: /* dX^T (in x rows) = W^T dZ^T */
        g.m = in, g.n = rows, g.k = out;
        g.lda = in, g.ldb = out, g.ldc = in;
        g.a = REEL_GEMM_W, g.b = REEL_GEMM_DZ;
        break;
    }
    return g;
}

#endif
