#include "nn/cpu_ops.h"

#include "nn_math.h"

#include <math.h>
#include <omp.h>
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

/* The products are written on vectors of VW floats (GCC's vector
 * extension: one AVX2 register, half an AVX-512 one, two SSE ones,
 * whichever the clone below has), each lane its own sum: every output is
 * one sum over its terms in order, whatever the blocking, the vector width
 * or the thread that computes it. Loads and stores may be unaligned. With
 * 16 floats a vector, AVX2's 16 registers could not hold a tile of 4 rows
 * x 2 vectors of sums: it spilled to the stack on every term, and the
 * products ran 10 to 20 times slower than at 8. */
#define VW 8
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi" /* the vector helpers are always inlined: no ABI is crossed */
#endif
typedef float vf __attribute__((vector_size(VW * sizeof(float)), aligned(sizeof(float))));
typedef int vi __attribute__((vector_size(VW * sizeof(int)), aligned(sizeof(int))));

static inline size_t padded(size_t n) { return (n + VW - 1) / VW * VW; }

/* Compiled for AVX-512, AVX2 and plain x86-64, picked at run time. The
 * results are the same on each: no reassociation, no fused multiply-add
 * (cpu_ops.c is built with -ffp-contract=off). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REEL_CLONES
#endif
#define INLINE static inline __attribute__((always_inline))

size_t reel_cpu_packed_floats(size_t in, size_t out) { return (in + 1) * padded(out); }

/* P = W^T (in x padded(out), zeros past out) with b as one more row: input
 * k's weights for every output side by side, so the forward's vectors run
 * over outputs. */
#define PACK_TILE 32 /* a tile of W's rows and P's rows that stays in cache while transposed */

void reel_cpu_pack_layer(const float *W, const float *b, size_t in, size_t out, float *P)
{
    size_t ld = padded(out);
    for (size_t k = 0; k < in; k++)
        memset(P + k * ld + out, 0, (ld - out) * sizeof *P);
    for (size_t j0 = 0; j0 < out; j0 += PACK_TILE) {
        size_t j1 = out - j0 < PACK_TILE ? out : j0 + PACK_TILE;
        for (size_t k0 = 0; k0 < in; k0 += PACK_TILE) {
            size_t k1 = in - k0 < PACK_TILE ? in : k0 + PACK_TILE;
            for (size_t k = k0; k < k1; k++)
                for (size_t j = j0; j < j1; j++)
                    P[k * ld + j] = W[j * in + k];
        }
    }
    memcpy(P + in * ld, b, out * sizeof *P);
    memset(P + in * ld + out, 0, (ld - out) * sizeof *P);
}

/* Lanes [0, m) of v into dst. */
INLINE void store_lanes(float *dst, vf v, size_t m)
{
    if (m >= VW)
        *(vf *)dst = v;
    else
        for (size_t l = 0; l < m; l++)
            dst[l] = v[l];
}

/* Lanes [0, m) from src, zeros after. */
INLINE vf load_lanes(const float *src, size_t m)
{
    if (m >= VW)
        return *(const vf *)src;
    vf v = {0};
    for (size_t l = 0; l < m; l++)
        v[l] = src[l];
    return v;
}

INLINE vf activate_v(reel_nn_act act, vf z)
{
    if (act == REEL_ACT_RELU) {
        vf zero = {0};
        return (vf)((vi)z & (z > zero)); /* rk_activate's z > 0 ? z : 0, NaN included */
    }
    if (act != REEL_ACT_NONE)
        for (int l = 0; l < VW; l++)
            z[l] = rk_activate((int)act, z[l]);
    return z;
}

/* Rows i..i+R of the forward, outputs j..j+JB*VW: H = act(sum over k in
 * order of A[., k] P[k, .] + b), each sum starting at 0. */
#define FWD_KERNEL(NAME, R, JB)                                                                                \
    INLINE void NAME(const float *A, size_t i, size_t in, const float *P, size_t ld, size_t out, size_t j,      \
                     reel_nn_act act, float *H)                                                                \
    {                                                                                                          \
        vf acc[R][JB];                                                                                         \
        for (int r = 0; r < R; r++)                                                                            \
            for (int q = 0; q < JB; q++)                                                                       \
                acc[r][q] = (vf){0};                                                                           \
        const float *a = A + i * in;                                                                           \
        for (size_t k = 0; k < in; k++) {                                                                      \
            const float *w = P + k * ld + j;                                                                   \
            for (int q = 0; q < JB; q++) {                                                                     \
                vf wq = *(const vf *)(w + q * VW);                                                             \
                for (int r = 0; r < R; r++)                                                                    \
                    acc[r][q] += a[r * in + k] * wq;                                                           \
            }                                                                                                  \
        }                                                                                                      \
        const float *b = P + in * ld + j;                                                                      \
        for (int r = 0; r < R; r++)                                                                            \
            for (int q = 0; q < JB; q++) {                                                                     \
                size_t at = j + (size_t)q * VW;                                                                \
                vf z = activate_v(act, acc[r][q] + *(const vf *)(b + q * VW));                                 \
                store_lanes(H + (i + r) * out + at, z, out - at);                                              \
            }                                                                                                  \
    }
FWD_KERNEL(fwd_4x2, 4, 2)
FWD_KERNEL(fwd_4x1, 4, 1)
FWD_KERNEL(fwd_1x2, 1, 2)
FWD_KERNEL(fwd_1x1, 1, 1)

INLINE void forward_rows(const float *A, size_t i0, size_t i1, size_t in, const float *P, size_t out,
                         reel_nn_act act, float *H)
{
    size_t ld = padded(out), i = i0;
    for (; i + 4 <= i1; i += 4) {
        size_t j = 0;
        for (; j + 2 * VW <= ld; j += 2 * VW)
            fwd_4x2(A, i, in, P, ld, out, j, act, H);
        if (j < ld)
            fwd_4x1(A, i, in, P, ld, out, j, act, H);
    }
    for (; i < i1; i++) {
        size_t j = 0;
        for (; j + 2 * VW <= ld; j += 2 * VW)
            fwd_1x2(A, i, in, P, ld, out, j, act, H);
        if (j < ld)
            fwd_1x1(A, i, in, P, ld, out, j, act, H);
    }
}

#define ROW_GROUP 16 /* rows per parallel work item */

REEL_CLONES
void reel_cpu_linear_forward(const float *A, size_t n, size_t in, const float *P, size_t out, reel_nn_act act,
                             float *H, int threads)
{
    if (threads > 1 && n >= REEL_CPU_PAR_ROWS) {
        size_t groups = (n + ROW_GROUP - 1) / ROW_GROUP;
        unsigned csr = CSR_GET();
#pragma omp parallel num_threads(threads)
        {
            unsigned mine = CSR_GET();
            CSR_SET(csr);
#pragma omp for schedule(static)
            for (size_t g = 0; g < groups; g++) {
                size_t i0 = g * ROW_GROUP, i1 = n - i0 < ROW_GROUP ? n : i0 + ROW_GROUP;
                forward_rows(A, i0, i1, in, P, out, act, H);
            }
            CSR_SET(mine);
        }
    } else { /* no OpenMP call at all: at batch 10 its overhead would show */
        forward_rows(A, 0, n, in, P, out, act, H);
    }
}

void reel_cpu_act_backward(reel_nn_act act, const float *H, float *dH, size_t count)
{
    if (act == REEL_ACT_NONE)
        return;
    for (size_t i = 0; i < count; i++)
        dH[i] = rk_act_grad((int)act, H[i], dH[i]);
}

/* The backward, vectors over the input columns k:
 *   dW[j][k] = sum over rows i in order of dZ[i][j] A[i][k], db likewise;
 *   dA[i][k] = sum over outputs j in order of dZ[i][j] W[j][k].
 * A column block narrower than a vector (in % VW) is copied into a
 * zero-padded strip first, so that no load runs past a row. */
#define ROW_BLOCK 64 /* rows of A and dZ that stay in cache while dW's outputs sweep them */

/* A tile of the backward kernels: acc[r][u] into row r of dst (row stride
 * cols), columns k + u * VW on; lanes at or past column `cols` are left alone. */
#define STORE_TILE(dst, acc, ROWS, KB, k, cols)                                                                \
    do {                                                                                                       \
        for (int r_ = 0; r_ < (ROWS); r_++)                                                                    \
            for (int u_ = 0; u_ < (KB); u_++) {                                                                \
                size_t at_ = (k) + (size_t)u_ * VW;                                                            \
                if (at_ < (cols))                                                                              \
                    store_lanes((dst) + (size_t)r_ * (cols) + at_, acc[r_][u_], (cols) - at_);                 \
            }                                                                                                  \
    } while (0)

/* dW rows j..j+JB, columns k..k+KB*VW, over rows i0..i1 of A (row stride
 * lda, column k at a + k), on top of what dW holds. */
#define DW_KERNEL(NAME, JB, KB)                                                                                \
    INLINE void NAME(const float *a, size_t lda, const float *dZ, size_t i0, size_t i1, size_t out, size_t j,   \
                     size_t k, float *dW, size_t in)                                                           \
    {                                                                                                          \
        vf acc[JB][KB];                                                                                        \
        for (int q = 0; q < JB; q++)                                                                           \
            for (int u = 0; u < KB; u++) {                                                                     \
                size_t at = k + (size_t)u * VW;                                                                \
                acc[q][u] = at < in ? load_lanes(dW + (j + q) * in + at, in - at) : (vf){0};                   \
            }                                                                                                  \
        for (size_t i = i0; i < i1; i++) {                                                                     \
            vf x[KB];                                                                                          \
            for (int u = 0; u < KB; u++)                                                                       \
                x[u] = *(const vf *)(a + i * lda + u * VW);                                                    \
            for (int q = 0; q < JB; q++) {                                                                     \
                float g = dZ[i * out + j + q];                                                                 \
                for (int u = 0; u < KB; u++)                                                                   \
                    acc[q][u] += g * x[u];                                                                     \
            }                                                                                                  \
        }                                                                                                      \
        STORE_TILE(dW + j * in, acc, JB, KB, k, in);                                                           \
    }
DW_KERNEL(dw_4x2, 4, 2)
DW_KERNEL(dw_4x1, 4, 1)
DW_KERNEL(dw_1x2, 1, 2)
DW_KERNEL(dw_1x1, 1, 1)

/* dW rows j..j+JB (JB = 4 or 1) over rows i0..i1. strip:
 * ROW_BLOCK x VW floats for the columns past the last full vector. */
INLINE void dw_rows(const float *A, const float *dZ, size_t i0, size_t i1, size_t in, size_t out, size_t j,
                    int four, float *dW, float *strip)
{
    size_t k = 0;
    for (; k + 2 * VW <= in; k += 2 * VW)
        four ? dw_4x2(A + k, in, dZ, i0, i1, out, j, k, dW, in) : dw_1x2(A + k, in, dZ, i0, i1, out, j, k, dW, in);
    for (; k + VW <= in; k += VW)
        four ? dw_4x1(A + k, in, dZ, i0, i1, out, j, k, dW, in) : dw_1x1(A + k, in, dZ, i0, i1, out, j, k, dW, in);
    if (k < in) {
        for (size_t i = i0; i < i1; i++) { /* row i of the strip is row i - i0 */
            memcpy(strip + (i - i0) * VW, A + i * in + k, (in - k) * sizeof *strip);
            memset(strip + (i - i0) * VW + (in - k), 0, (VW - (in - k)) * sizeof *strip);
        }
        const float *a = strip - i0 * VW; /* row i at a + i * VW */
        four ? dw_4x1(a, VW, dZ, i0, i1, out, j, k, dW, in) : dw_1x1(a, VW, dZ, i0, i1, out, j, k, dW, in);
    }
}

/* db[j0..j1) = column sums of dZ, rows in order; lanes are outputs, four
 * vectors at a time so that their sums overlap. */
INLINE void db_range(const float *dZ, size_t n, size_t out, size_t j0, size_t j1, float *db)
{
    for (size_t j = j0; j < j1; j += 4 * VW) {
        size_t m = j1 - j;
        vf acc[4] = {{0}, {0}, {0}, {0}};
        if (m >= 4 * VW) {
            for (size_t i = 0; i < n; i++)
                for (int u = 0; u < 4; u++)
                    acc[u] += *(const vf *)(dZ + i * out + j + u * VW);
        } else {
            for (size_t i = 0; i < n; i++)
                for (int u = 0; u < 4; u++)
                    if ((size_t)u * VW < m)
                        acc[u] += load_lanes(dZ + i * out + j + u * VW, m - u * VW);
        }
        for (int u = 0; u < 4; u++)
            if ((size_t)u * VW < m)
                store_lanes(db + j + u * VW, acc[u], m - u * VW);
    }
}

/* Output blocks b0..b1 (blocks of 4 outputs, then single ones) over all
 * rows, row block by row block. */
INLINE void dw_blocks(const float *A, const float *dZ, size_t n, size_t in, size_t out, size_t b0, size_t b1,
                      float *dW, float *db, float *strip)
{
    size_t fours = out / 4;
    size_t j0 = b0 < fours ? b0 * 4 : fours * 4 + (b0 - fours), j1 = b1 < fours ? b1 * 4 : fours * 4 + (b1 - fours);
    db_range(dZ, n, out, j0, j1, db);
    for (size_t i0 = 0; i0 < n; i0 += ROW_BLOCK) {
        size_t i1 = n - i0 < ROW_BLOCK ? n : i0 + ROW_BLOCK;
        for (size_t blk = b0; blk < b1; blk++) {
            int four = blk < fours;
            size_t j = four ? blk * 4 : fours * 4 + (blk - fours);
            dw_rows(A, dZ, i0, i1, in, out, j, four, dW, strip);
        }
    }
}

/* dA rows i..i+R, columns k..k+KB*VW (W's rows at w + j * ldw). */
#define DA_KERNEL(NAME, R, KB)                                                                                 \
    INLINE void NAME(const float *w, size_t ldw, const float *dZ, size_t i, size_t out, size_t k, float *dA,    \
                     size_t in)                                                                                \
    {                                                                                                          \
        vf acc[R][KB];                                                                                         \
        for (int r = 0; r < R; r++)                                                                            \
            for (int u = 0; u < KB; u++)                                                                       \
                acc[r][u] = (vf){0};                                                                           \
        for (size_t j = 0; j < out; j++) {                                                                     \
            for (int u = 0; u < KB; u++) {                                                                     \
                vf wu = *(const vf *)(w + j * ldw + u * VW);                                                   \
                for (int r = 0; r < R; r++)                                                                    \
                    acc[r][u] += dZ[(i + r) * out + j] * wu;                                                   \
            }                                                                                                  \
        }                                                                                                      \
        STORE_TILE(dA + i * in, acc, R, KB, k, in);                                                            \
    }
DA_KERNEL(da_4x2, 4, 2)
DA_KERNEL(da_4x1, 4, 1)
DA_KERNEL(da_1x2, 1, 2)
DA_KERNEL(da_1x1, 1, 1)

/* dA's columns past the last full vector, one sum per value. */
INLINE void da_tail(const float *W, const float *dZ, size_t i, size_t in, size_t out, size_t k, float *dA)
{
    for (; k < in; k++) {
        float acc = 0.0f;
        for (size_t j = 0; j < out; j++)
            acc += dZ[i * out + j] * W[j * in + k];
        dA[i * in + k] = acc;
    }
}

/* dA rows i0..i1. */
INLINE void da_rows(const float *W, const float *dZ, size_t i0, size_t i1, size_t in, size_t out, float *dA)
{
    size_t i = i0;
    for (; i + 4 <= i1; i += 4) {
        size_t k = 0;
        for (; k + 2 * VW <= in; k += 2 * VW)
            da_4x2(W + k, in, dZ, i, out, k, dA, in);
        for (; k + VW <= in; k += VW)
            da_4x1(W + k, in, dZ, i, out, k, dA, in);
        for (size_t r = i; r < i + 4; r++)
            da_tail(W, dZ, r, in, out, k, dA);
    }
    for (; i < i1; i++) {
        size_t k = 0;
        for (; k + 2 * VW <= in; k += 2 * VW)
            da_1x2(W + k, in, dZ, i, out, k, dA, in);
        for (; k + VW <= in; k += VW)
            da_1x1(W + k, in, dZ, i, out, k, dA, in);
        da_tail(W, dZ, i, in, out, k, dA);
    }
}

REEL_CLONES
void reel_cpu_linear_backward(const float *A, size_t n, size_t in, const float *W, size_t out, const float *dZ,
                              float *dW, float *db, float *dA, int threads)
{
    memset(dW, 0, out * in * sizeof *dW);
    memset(db, 0, out * sizeof *db);
    size_t blocks = out / 4 + out % 4;
    if (threads > 1 && n >= REEL_CPU_PAR_ROWS) {
        /* dW/db: each thread takes a range of output blocks over all rows;
         * dA: row groups. Every value is still one sum in one order. */
        unsigned csr = CSR_GET();
#pragma omp parallel num_threads(threads)
        {
            unsigned mine = CSR_GET();
            CSR_SET(csr);
            float strip[ROW_BLOCK * VW];
            size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
            dw_blocks(A, dZ, n, in, out, blocks * t / nt, blocks * (t + 1) / nt, dW, db, strip);
            if (dA) {
                size_t groups = (n + ROW_GROUP - 1) / ROW_GROUP;
#pragma omp for schedule(static)
                for (size_t g = 0; g < groups; g++) {
                    size_t i0 = g * ROW_GROUP, i1 = n - i0 < ROW_GROUP ? n : i0 + ROW_GROUP;
                    da_rows(W, dZ, i0, i1, in, out, dA);
                }
            }
            CSR_SET(mine);
        }
    } else {
        float strip[ROW_BLOCK * VW];
        dw_blocks(A, dZ, n, in, out, 0, blocks, dW, db, strip);
        if (dA)
            da_rows(W, dZ, 0, n, in, out, dA);
    }
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

double reel_cpu_head_weighted(const float *Z, const float *Y, size_t n, size_t L, const float *w, float *G, float *P)
{
    float scale = (float)(1.0 / ((double)n * (double)L));
    double sum = 0.0;
    for (size_t c = 0; c < n * L; c++) {
        float q = 1.0f / (1.0f + expf(-Z[c]));
        if (P)
            P[c] = q;
        if (!Y)
            continue;
        float wk = w[c % L], y = Y[c], l = 1.0f + (wk - 1.0f) * y;
        double z = Z[c];
        sum += (1.0 - y) * z + l * (log1p(exp(-fabs(z))) + (z < 0 ? -z : 0.0));
        if (G)
            G[c] = (q * l - wk * y) * scale;
    }
    return sum;
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
