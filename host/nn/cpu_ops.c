#include "nn/cpu_ops.h"

#include "nn_math.h"

#include <math.h>
#include <string.h>

_Static_assert(REEL_ACT_NONE == RK_ACT_NONE && REEL_ACT_RELU == RK_ACT_RELU && REEL_ACT_TANH == RK_ACT_TANH,
               "kernels/nn_math.h numbers the activations as nn/spec.h does");
_Static_assert(REEL_HEAD_SIGMOID == RK_HEAD_SIGMOID && REEL_HEAD_SOFTMAX == RK_HEAD_SOFTMAX,
               "kernels/nn_math.h numbers the heads as nn/spec.h does");
#if defined(__SSE__)
#include <xmmintrin.h>
/* The caller's floating-point mode (the training step flushes denormals to
 * zero) must hold in every OpenMP worker too, or the workers' rows would
 * round differently and results would depend on the thread count. */
#define CSR_GET() _mm_getcsr()
#define CSR_SET(x) _mm_setcsr(x)
#else
#define CSR_GET() 0u
#define CSR_SET(x) ((void)(x))
#endif

/* Dot product with 8 independent partial sums: the compiler turns the
 * inner loop into vector code without reordering any one sum, so the
 * result is the same on every run. */
static float dot(const float *a, const float *w, size_t n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += a[k + l] * w[k + l];
    for (int l = 0; k < n; k++, l++)
        acc[l] += a[k] * w[k];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static float activate(reel_nn_act act, float z) { return rk_activate((int)act, z); }

/* The same sums as dot(), for two rows a0, a1 against four weight rows at
 * once: every output gets exactly dot()'s partial sums and reduction, so
 * the result does not depend on the blocking; the block shares each load
 * of A and W between 8 products. out[r][q] = a_r . w_q. */
static void dot_2x4(const float *a0, const float *a1, const float *const w[4], size_t n, float out[2][4])
{
    float acc[2][4][8] = {{{0}}};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int q = 0; q < 4; q++)
            for (int l = 0; l < 8; l++) {
                acc[0][q][l] += a0[k + l] * w[q][k + l];
                acc[1][q][l] += a1[k + l] * w[q][k + l];
            }
    for (int l = 0; k < n; k++, l++)
        for (int q = 0; q < 4; q++) {
            acc[0][q][l] += a0[k] * w[q][k];
            acc[1][q][l] += a1[k] * w[q][k];
        }
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++) {
            const float *c = acc[r][q];
            out[r][q] = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
        }
}

/* Compiled for AVX-512, AVX2 and plain x86-64, picked at run time. The
 * results are the same on each: no reassociation, no fused multiply-add
 * (cpu_ops.c is built with -ffp-contract=off). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REEL_CLONES
#endif

/* Rows i and i+1 of the forward. */
static inline __attribute__((always_inline)) void forward_pair(const float *A, size_t i, size_t in, const float *W,
                                                               const float *b, size_t out, reel_nn_act act, float *H)
{
    size_t j = 0;
    for (; j + 4 <= out; j += 4) {
        const float *w[4] = {W + j * in, W + (j + 1) * in, W + (j + 2) * in, W + (j + 3) * in};
        float z[2][4];
        dot_2x4(A + i * in, A + (i + 1) * in, w, in, z);
        for (int r = 0; r < 2; r++)
            for (int q = 0; q < 4; q++)
                H[(i + r) * out + j + q] = activate(act, z[r][q] + b[j + q]);
    }
    for (; j < out; j++)
        for (size_t r = i; r < i + 2; r++)
            H[r * out + j] = activate(act, dot(A + r * in, W + j * in, in) + b[j]);
}

REEL_CLONES
void reel_cpu_linear_forward(const float *A, size_t n, size_t in, const float *W, const float *b, size_t out,
                             reel_nn_act act, float *H, int threads)
{
    size_t pairs = n / 2;
    if (threads > 1 && n >= REEL_CPU_PAR_ROWS) {
        unsigned csr = CSR_GET();
#pragma omp parallel num_threads(threads)
        {
            unsigned mine = CSR_GET();
            CSR_SET(csr);
#pragma omp for schedule(static)
            for (size_t p = 0; p < pairs; p++)
                forward_pair(A, 2 * p, in, W, b, out, act, H);
            CSR_SET(mine);
        }
    } else { /* no OpenMP call at all: at batch 10 its overhead would show */
        for (size_t p = 0; p < pairs; p++)
            forward_pair(A, 2 * p, in, W, b, out, act, H);
    }
    for (size_t i = 2 * pairs; i < n; i++)
        for (size_t j = 0; j < out; j++)
            H[i * out + j] = activate(act, dot(A + i * in, W + j * in, in) + b[j]);
}

void reel_cpu_act_backward(reel_nn_act act, const float *H, float *dH, size_t count)
{
    if (act == REEL_ACT_NONE)
        return;
    for (size_t i = 0; i < count; i++)
        dH[i] = rk_act_grad((int)act, H[i], dH[i]);
}

/* dW[j] = sum over rows i (in order) of dZ[i][j] A[i]; db[j] likewise;
 * dA[i] = sum over outputs j (in order) of dZ[i][j] W[j]. Blocked over
 * 8 columns at a time (one vector) so each sum stays in a register while
 * it runs over all rows (or outputs); every element is summed in the same
 * order as a plain loop would. */
#define ROW_BLOCK 128

/* Columns k..k+W of dW row j, summed over rows i0..i1 on top of what the
 * row holds: W independent sums (several vectors, so the additions of
 * different vectors overlap). Always inlined into the cloned callers. */
#define DW_CHUNK(name, WIDTH)                                                                                  \
    static inline __attribute__((always_inline)) void name(const float *A, const float *dZ, size_t i0,        \
                                                           size_t i1, size_t in, size_t out, size_t j,         \
                                                           size_t k, float *row)                               \
    {                                                                                                          \
        float acc[WIDTH];                                                                                      \
        memcpy(acc, row + k, sizeof acc);                                                                      \
        for (size_t i = i0; i < i1; i++) {                                                                     \
            float g = dZ[i * out + j];                                                                         \
            for (int l = 0; l < WIDTH; l++)                                                                    \
                acc[l] += g * A[i * in + k + l];                                                               \
        }                                                                                                      \
        memcpy(row + k, acc, sizeof acc);                                                                      \
    }
DW_CHUNK(dw_chunk32, 32)
DW_CHUNK(dw_chunk8, 8)

/* Columns k..k+W of dA row r = sum over outputs j (in order) of g[j] W[j]. */
#define DA_CHUNK(name, WIDTH)                                                                                  \
    static inline __attribute__((always_inline)) void name(const float *Wt, const float *g, size_t in,        \
                                                           size_t out, size_t k, float *r)                     \
    {                                                                                                          \
        float acc[WIDTH] = {0};                                                                                \
        for (size_t j = 0; j < out; j++)                                                                       \
            for (int l = 0; l < WIDTH; l++)                                                                    \
                acc[l] += g[j] * Wt[j * in + k + l];                                                           \
        memcpy(r + k, acc, sizeof acc);                                                                        \
    }
DA_CHUNK(da_chunk32, 32)
DA_CHUNK(da_chunk8, 8)

/* Output j's weight-gradient row and bias gradient over rows [i0, i1). */
static inline __attribute__((always_inline)) void dw_output(const float *A, const float *dZ, size_t i0, size_t i1,
                                                            size_t in, size_t out, size_t j, float *dW, float *db)
{
    float *row = dW + j * in;
    size_t k = 0;
    for (; k + 32 <= in; k += 32)
        dw_chunk32(A, dZ, i0, i1, in, out, j, k, row);
    for (; k + 8 <= in; k += 8)
        dw_chunk8(A, dZ, i0, i1, in, out, j, k, row);
    for (; k < in; k++) {
        float acc = row[k];
        for (size_t i = i0; i < i1; i++)
            acc += dZ[i * out + j] * A[i * in + k];
        row[k] = acc;
    }
    float s = db[j];
    for (size_t i = i0; i < i1; i++)
        s += dZ[i * out + j];
    db[j] = s;
}

/* Row i of dA. */
static inline __attribute__((always_inline)) void da_row(const float *W, const float *dZ, size_t i, size_t in,
                                                         size_t out, float *dA)
{
    float *r = dA + i * in;
    const float *g = dZ + i * out;
    size_t k = 0;
    for (; k + 32 <= in; k += 32)
        da_chunk32(W, g, in, out, k, r);
    for (; k + 8 <= in; k += 8)
        da_chunk8(W, g, in, out, k, r);
    for (; k < in; k++) {
        float acc = 0.0f;
        for (size_t j = 0; j < out; j++)
            acc += g[j] * W[j * in + k];
        r[k] = acc;
    }
}

REEL_CLONES
void reel_cpu_linear_backward(const float *A, size_t n, size_t in, const float *W, size_t out,
                              const float *dZ, float *dW, float *db, float *dA, int threads)
{
    memset(dW, 0, out * in * sizeof *dW);
    memset(db, 0, out * sizeof *db);
    /* Rows in blocks that stay in cache while every output sweeps them;
     * each sum carries on from block to block in row order. In parallel,
     * the outputs of a block are shared between threads and dA's rows. */
    if (threads > 1 && n >= REEL_CPU_PAR_ROWS) {
        unsigned csr = CSR_GET();
#pragma omp parallel num_threads(threads)
        {
            unsigned mine = CSR_GET();
            CSR_SET(csr);
            for (size_t i0 = 0; i0 < n; i0 += ROW_BLOCK) {
                size_t i1 = n - i0 < ROW_BLOCK ? n : i0 + ROW_BLOCK;
#pragma omp for schedule(static)
                for (size_t j = 0; j < out; j++)
                    dw_output(A, dZ, i0, i1, in, out, j, dW, db);
            }
            if (dA) {
#pragma omp for schedule(static)
                for (size_t i = 0; i < n; i++)
                    da_row(W, dZ, i, in, out, dA);
            }
            CSR_SET(mine);
        }
        return;
    }
    for (size_t i0 = 0; i0 < n; i0 += ROW_BLOCK) {
        size_t i1 = n - i0 < ROW_BLOCK ? n : i0 + ROW_BLOCK;
        for (size_t j = 0; j < out; j++)
            dw_output(A, dZ, i0, i1, in, out, j, dW, db);
    }
    if (dA)
        for (size_t i = 0; i < n; i++)
            da_row(W, dZ, i, in, out, dA);
}

double reel_cpu_head_count(reel_nn_head head, size_t n, size_t L)
{
    return rk_head_count((int)head, (double)n, (double)L);
}

/* The sigmoid head sums its cells' losses over the whole batch in order,
 * the softmax head row by row (kernels/nn_math.h). */
double reel_cpu_head(reel_nn_head head, const float *Z, const float *Y, size_t n, size_t L, float *G, float *P)
{
    if (head == REEL_HEAD_SIGMOID)
        return rk_sigmoid_cells(Z, Y, (rk_u64)n * L, (float)(1.0 / ((double)n * (double)L)), G, P);
    double sum = 0.0;
    float scale = (float)(1.0 / (double)n);
    for (size_t i = 0; i < n; i++)
        sum += rk_softmax_row(Z + i * L, Y ? Y + i * L : NULL, (int)L, scale, G ? G + i * L : NULL,
                              P ? P + i * L : NULL);
    return sum;
}

rk_adamw_k reel_adamw_scalars(const reel_adamw *o, long step)
{
    rk_adamw_k k = {
        .decay = (float)(1.0 - o->lr * o->weight_decay),
        .b1 = (float)o->beta1,
        .c1 = (float)(1.0 - o->beta1),
        .b2 = (float)o->beta2,
        .c2 = (float)(1.0 - o->beta2),
        .step_size = (float)(o->lr / (1.0 - pow(o->beta1, (double)step))),
        .bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, (double)step)),
        .eps = (float)o->eps,
    };
    return k;
}

/* Whether every value is finite: x * 0 is 0 for a finite x and NaN for an
 * infinite or NaN one; 16 lanes of such sums carry no dependency chain. */
REEL_CLONES
int reel_cpu_all_finite(const float *x, size_t n)
{
    float acc[16] = {0};
    size_t k = 0;
    for (; k + 16 <= n; k += 16)
        for (int l = 0; l < 16; l++)
            acc[l] += x[k + l] * 0.0f;
    for (int l = 0; k < n; k++, l++)
        acc[l] += x[k] * 0.0f;
    float s = 0.0f;
    for (int l = 0; l < 16; l++)
        s += acc[l];
    return s == 0.0f;
}

REEL_CLONES
void reel_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, const reel_adamw *o, long step)
{
    rk_adamw_k k = reel_adamw_scalars(o, step);
    for (size_t i = 0; i < n; i++)
        p[i] = rk_adamw_one(p[i], g[i], &m[i], &v[i], &k);
}
