/* The matrix products the CUDA runtime hands to cuBLAS (nn/gemm_desc.h),
 * executed here by a plain loop with cuBLAS's conventions (column-major,
 * op(M) = M^T when transposed, leading dimensions) on the same row-major
 * buffers, and compared with the CPU backend's forward and backward
 * (nn/cpu_ops.h). A descriptor with a wrong transpose, size or stride
 * fails here, on any machine, rather than on the first GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cpu_ops.h"
#include "nn/gemm_desc.h"

/* cuBLAS's sgemm as written in its documentation, in double sums. */
static void sgemm_colmajor(const reel_gemm *g, const float *A, const float *B, float *C)
{
    for (int j = 0; j < g->n; j++)
        for (int i = 0; i < g->m; i++) {
            double s = 0.0;
            for (int p = 0; p < g->k; p++) {
                float a = g->trans_a ? A[p + (size_t)i * g->lda] : A[i + (size_t)p * g->lda];
                float b = g->trans_b ? B[j + (size_t)p * g->ldb] : B[p + (size_t)j * g->ldb];
                s += (double)a * b;
            }
            float *c = &C[i + (size_t)j * g->ldc];
            *c = (float)(g->alpha * s + (g->beta != 0.0f ? g->beta * *c : 0.0));
        }
}

static void fill(float *x, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        x[i] = (float)((*seed >> 8) % 2001) / 1000.0f - 1.0f;
    }
}

/* Largest |a - b| relative to the largest |b|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0.0, m = 1e-30;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

/* One layer of `in` inputs and `out` outputs over `rows` rows. */
static void check_layer(int rows, int in, int out, unsigned seed)
{
    size_t ni = (size_t)rows * in, no = (size_t)rows * out, nw = (size_t)out * in;
    float *X = malloc(ni * sizeof *X), *W = malloc(nw * sizeof *W), *b = calloc((size_t)out, sizeof *b);
    float *dZ = malloc(no * sizeof *dZ), *ones = malloc((size_t)rows * sizeof *ones);
    float *P = malloc(reel_cpu_packed_floats((size_t)in, (size_t)out) * sizeof *P);
    float *H_cpu = malloc(no * sizeof *H_cpu), *H = malloc(no * sizeof *H);
    float *dW_cpu = malloc(nw * sizeof *dW_cpu), *dW = malloc(nw * sizeof *dW);
    float *db_cpu = malloc((size_t)out * sizeof *db_cpu), *db = malloc((size_t)out * sizeof *db);
    float *dX_cpu = malloc(ni * sizeof *dX_cpu), *dX = malloc(ni * sizeof *dX);
    fill(X, ni, &seed);
    fill(W, nw, &seed);
    fill(dZ, no, &seed);
    for (int i = 0; i < rows; i++)
        ones[i] = 1.0f;
    /* the CPU backend: H = X W^T (+ b = 0, no activation), dW, db, dX */
    reel_cpu_pack_layer(W, b, (size_t)in, (size_t)out, P);
    reel_cpu_linear_forward(X, (size_t)rows, (size_t)in, P, (size_t)out, REEL_ACT_NONE, H_cpu, 1);
    reel_cpu_linear_backward(X, (size_t)rows, (size_t)in, W, (size_t)out, dZ, dW_cpu, db_cpu, dX_cpu, 1);
    /* the descriptors, each operand the buffer its role names */
    const float *by_role[] = {W, X, dZ, ones};
    struct {
        reel_gemm_product p;
        float *C, *want;
        size_t n;
        const char *what;
    } checks[] = {{REEL_GEMM_FORWARD, H, H_cpu, no, "H = X W^T"},
                  {REEL_GEMM_WEIGHT_GRAD, dW, dW_cpu, nw, "dW = dZ^T X"},
                  {REEL_GEMM_BIAS_GRAD, db, db_cpu, (size_t)out, "db = dZ^T 1"},
                  {REEL_GEMM_INPUT_GRAD, dX, dX_cpu, ni, "dX = dZ W"}};
    for (size_t c = 0; c < sizeof checks / sizeof *checks; c++) {
        reel_gemm g = reel_gemm_layer(checks[c].p, rows, in, out);
        /* cuBLAS's own rules: op(A) m x k, op(B) k x n, leading dimensions at least the rows stored */
        cr_assert(g.lda >= (g.trans_a ? g.k : g.m) && g.ldb >= (g.trans_b ? g.n : g.k) && g.ldc >= g.m,
                  "%s: leading dimensions %d %d %d too small", checks[c].what, g.lda, g.ldb, g.ldc);
        cr_assert_eq((size_t)g.m * (size_t)g.n, checks[c].n, "%s: the result is %d x %d", checks[c].what, g.m, g.n);
        memset(checks[c].C, 0xff, checks[c].n * sizeof(float)); /* NaN: every value must be written */
        sgemm_colmajor(&g, by_role[g.a], by_role[g.b], checks[c].C);
        double d = rel_diff(checks[c].C, checks[c].want, checks[c].n);
        cr_expect(d < 1e-5, "%s (rows %d, in %d, out %d): differs from the CPU backend by %.3g", checks[c].what, rows,
                  in, out, d);
    }
    float *all[] = {X, W, b, dZ, ones, P, H_cpu, H, dW_cpu, dW, db_cpu, db, dX_cpu, dX};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]);
}

Test(gemm_desc, every_product_matches_the_cpu_backend)
{
    /* odd and unequal sizes, so that a swapped dimension or stride shows */
    int shapes[][3] = {{7, 13, 5}, {1, 3, 2}, {10, 1, 9}, {33, 17, 1}, {64, 40, 24}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        check_layer(shapes[i][0], shapes[i][1], shapes[i][2], 11u + (unsigned)i);
}
