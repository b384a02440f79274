/* The nets' kernels, one source for every device: compiled as OpenCL C 1.2
 * at run time (host/nn/runtime_opencl.c embeds this file after
 * rk_portable.h and nn_math.h) and as CUDA by nvcc (kernels/nn_cuda.cu).
 * Only the words of rk_portable.h differ between the two. The host driver
 * (host/nn/device_driver.c) launches them through a runtime.
 *
 * The layered training step, one launch per stage:
 *   rk_gather_rows        the batch's rows, picked through the row order
 *   (a product)           per layer: H = A W^T (the runtime's GEMM)
 *   rk_bias_act           per layer: H = act(H + b)
 *   rk_dropout            per layer with dropout: D = H * its mask
 *   rk_head_rows          per row: loss, d(loss)/d(logits), probabilities
 *   rk_act_backward_bias  per layer: dZ = dH * act'(H), db = column sums
 *   (products)            per layer: dW = dZ^T A; but the first: dA = dZ W
 *   rk_dropout            after dA, where A had dropout: dA * its mask
 *   rk_finish_step        one group: the batch loss, the non-finite check
 *   rk_adamw              the update, skipped once a step was bad
 * The products are the runtime's (cuBLAS on CUDA); OpenCL runs them with
 * the dot and sum kernels below, tiled (rk_gemm_dot, rk_gemm_rows) or one
 * output per work-item (rk_dot_one, rk_sum_one: the reference,
 * REEL_NO_TILES=1), which sum as the CPU backend does.
 *
 * Every sum runs in a fixed order (no atomics, fixed reduction trees), so
 * the same inputs give the same bits on a device run after run; on OpenCL
 * the dot products, weight and input gradients and bias sums are the CPU
 * backend's own sums in its order, so with ReLU they equal the CPU's bit
 * for bit. Layers find their weights and gradients in the flat buffers by
 * offset (an OpenCL buffer cannot be passed at an offset). Element loops
 * are 64-bit and stride over the launch (RK_FOR_EACH), so batch x width
 * may pass 2^31. */
#ifndef __OPENCL_VERSION__
#include "rk_portable.h"
#include "nn_math.h"
#include "nn_layout.h" /* RK_REDUCE, the tiles, the fused kernels' tables */
#endif

/* Every element i < total of this work-item: 64-bit, striding over the launch. */
#define RK_FOR_EACH(i, total)                                                                                 \
    for (rk_u64 i = (rk_u64)RK_GROUP * (rk_u64)RK_LSIZE + (rk_u64)RK_LID; i < (rk_u64)(total);                \
         i += (rk_u64)RK_NGROUPS * (rk_u64)RK_LSIZE)

RK_KERNEL void rk_gather_rows(RK_GLOBAL const float *X, RK_GLOBAL const float *Y, RK_GLOBAL const rk_u32 *order,
                              rk_u64 start, int n, int d, int L, RK_GLOBAL float *xb, RK_GLOBAL float *yb)
{
    rk_u64 w = (rk_u64)d + (rk_u64)L, ud = (rk_u64)d, uL = (rk_u64)L;
    RK_FOR_EACH(i, (rk_u64)n * w)
    {
        rk_u64 r = i / w, c = i % w;
        rk_u64 row = (rk_u64)order[start + r];
        if (c < ud)
            xb[r * ud + c] = X[row * ud + c];
        else
            yb[r * uL + (c - ud)] = Y[row * uL + (c - ud)];
    }
}

/* H (n x out) = act(H + b), in place: the forward's bias and activation
 * after its product (rk_dot_one, rk_gemm_dot or a BLAS). */
RK_KERNEL void rk_bias_act(RK_GLOBAL float *H, int n, int out, RK_GLOBAL const float *params, rk_u64 b_off, int act)
{
    RK_GLOBAL const float *b = params + b_off;
    rk_u64 uout = (rk_u64)out;
    RK_FOR_EACH(e, (rk_u64)n * uout)
    H[e] = rk_activate(act, RK_FADD(H[e], b[e % uout]));
}

/* Dropout (nn_math.h's masks), dst[q] = src[q] * the scale of unit q of
 * the batch, for q < total: in the forward D = H * mask (src H, dst D),
 * in the backward dD becomes dH * mask in place (src = dst), as the CPU
 * backend multiplies both by its mask. */
RK_KERNEL void rk_dropout(RK_GLOBAL const float *src, RK_GLOBAL float *dst, rk_u64 total, rk_u64 key, int cut,
                          float kept)
{
    RK_FOR_EACH(q, total)
    dst[q] = RK_FMUL(src[q], rk_dropout_scale(key, q, (rk_u32)cut, kept));
}

/* The head, one row per work-item: rowloss[i] (when not null) is the row's
 * summed loss; G and P as rk_head_row writes them. */
RK_KERNEL void rk_head_rows(RK_GLOBAL const float *Z, RK_GLOBAL const float *Y, int n, int L, int head,
                            float scale, RK_GLOBAL float *G, RK_GLOBAL float *P, RK_GLOBAL double *rowloss)
{
    rk_u64 uL = (rk_u64)L;
    RK_FOR_EACH(i, n)
    {
        double s = rk_head_row(head, Z + i * uL, Y ? Y + i * uL : RK_NULL, L, scale, G ? G + i * uL : RK_NULL,
                               P ? P + i * uL : RK_NULL);
        if (rowloss)
            rowloss[i] = s;
    }
}

/* dH (n x out) becomes dZ = dH * act'(H); db[j] = the column's sum over
 * rows in order (one work-item per column, as the CPU sums it). */
RK_KERNEL void rk_act_backward_bias(RK_GLOBAL float *dH, RK_GLOBAL const float *H, int n, int out, int act,
                                    RK_GLOBAL float *grads, rk_u64 b_off)
{
    RK_GLOBAL float *db = grads + b_off;
    rk_u64 uout = (rk_u64)out;
    RK_FOR_EACH(j, out)
    {
        float s = 0.0f;
        for (rk_u64 i = 0; i < (rk_u64)n; i++) {
            rk_u64 at = i * uout + j;
            float g = rk_act_grad(act, H[at], dH[at]);
            dH[at] = g;
            s = RK_FADD(s, g);
        }
        db[j] = s;
    }
}

/* The products of the layered step, in two forms, as the OpenCL runtime
 * runs a product descriptor (nn/gemm_desc.h; host/nn/runtime_opencl.c
 * says which form takes which), each a one-output kernel (the reference,
 * REEL_NO_TILES=1) and a tiled one, with the same sums in the same order:
 *   dot   C[r][c] = A row r . B row c (rows K long, lda and ldb apart), in
 *         8 partial sums added as the CPU backend's dot() adds them
 *   sum   C[m][n] = sum over k in order of A(m, k) B(k, n), A(m, k) at
 *         A[m * sam + k * sak], B(k, n) at B[k * sbk + n]
 * C is row-major with leading dimension ldc; every operand comes with its
 * offset (an OpenCL buffer cannot be passed at an offset). */

/* The dot product of a and b (k values) in 8 partial sums, as dot(). */
RK_FN float rk_dot8(RK_GLOBAL const float *a, RK_GLOBAL const float *b, int K)
{
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int k = 0;
    for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; l++)
            acc[l] = RK_FADD(acc[l], RK_FMUL(a[k + l], b[k + l]));
    for (int l = 0; k < K; k++, l++)
        acc[l] = RK_FADD(acc[l], RK_FMUL(a[k], b[k]));
    return RK_FADD(RK_FADD(RK_FADD(acc[0], acc[1]), RK_FADD(acc[2], acc[3])),
                   RK_FADD(RK_FADD(acc[4], acc[5]), RK_FADD(acc[6], acc[7])));
}

RK_KERNEL void rk_dot_one(int M, int N, int K, RK_GLOBAL const float *A, rk_u64 a_off, rk_u64 lda,
                          RK_GLOBAL const float *B, rk_u64 b_off, rk_u64 ldb, RK_GLOBAL float *C, rk_u64 c_off,
                          rk_u64 ldc)
{
    rk_u64 uN = (rk_u64)N;
    RK_FOR_EACH(e, (rk_u64)M * uN)
    {
        rk_u64 r = e / uN, c = e % uN;
        C[c_off + r * ldc + c] = rk_dot8(A + a_off + r * lda, B + b_off + c * ldb, K);
    }
}

RK_KERNEL void rk_sum_one(int M, int N, int K, RK_GLOBAL const float *A, rk_u64 a_off, rk_u64 sam, rk_u64 sak,
                          RK_GLOBAL const float *B, rk_u64 b_off, rk_u64 sbk, RK_GLOBAL float *C, rk_u64 c_off,
                          rk_u64 ldc)
{
    rk_u64 uN = (rk_u64)N;
    RK_FOR_EACH(e, (rk_u64)M * uN)
    {
        rk_u64 m = e / uN, n = e % uN;
        float acc = 0.0f;
        for (rk_u64 k = 0; k < (rk_u64)K; k++)
            acc = RK_FADD(acc, RK_FMUL(A[a_off + m * sam + k * sak], B[b_off + k * sbk + n]));
        C[c_off + m * ldc + n] = acc;
    }
}

/* ------------------------------------------- tiled products (layered path) */

/* The layered step's three products, tiled in registers: each work-item
 * computes a tile of outputs (RK_TM x RK_TN of the gradients' products,
 * RK_FWD_M x RK_FWD_N of the forward), reading for each k a panel of A and one of
 * B once and using each value for a whole row or column of its tile. No
 * work-group memory and no barriers: on a GPU a loaded value serves 2 to 8
 * outputs; PoCL, which runs a group's work-items as a loop, keeps the tile
 * in vector registers. Work-items stride over the tiles (RK_FOR_EACH).
 *
 * The sums keep the one-output kernels' order above, so the bits do not
 * change: the gradients sum over k in order in one accumulator; the
 * forward's dot product runs in 8 partial sums (partial u takes k = u,
 * u + 8, ..., in order) added as the CPU's dot() adds them. Only the
 * tile's last rows or columns past M or N read clamped (valid) addresses,
 * and their results are not stored: nothing is added past K. */

/* C[m * ldc + n] = sum over k in order of A(m, k) B(k, n), with A(m, k) at
 * A[m * sam + k * sak] and B(k, n) at B[k * sbk + n] (rows of B are
 * contiguous, as both callers' are). A tile wholly inside C reads its B
 * panel as RK_TN neighbours, which the compiler keeps in one vector. */
RK_FN void rk_gemm_sum(int M, int N, int K, RK_GLOBAL const float *A, rk_u64 sam, rk_u64 sak,
                       RK_GLOBAL const float *B, rk_u64 sbk, RK_GLOBAL float *C, rk_u64 ldc)
{
    rk_u64 tn = (rk_u64)((N + RK_TN - 1) / RK_TN), tiles = (rk_u64)((M + RK_TM - 1) / RK_TM) * tn;
    RK_FOR_EACH(tile, tiles)
    {
        int m0 = (int)(tile / tn) * RK_TM, n0 = (int)(tile % tn) * RK_TN;
        RK_GLOBAL const float *ra[RK_TM];
        for (int i = 0; i < RK_TM; i++)
            ra[i] = A + (rk_u64)(m0 + i < M ? m0 + i : M - 1) * sam;
        float acc[RK_TM][RK_TN];
        for (int i = 0; i < RK_TM; i++)
            for (int j = 0; j < RK_TN; j++)
                acc[i][j] = 0.0f;
        if (n0 + RK_TN <= N) {
            for (int k = 0; k < K; k++) {
                RK_GLOBAL const float *b = B + (rk_u64)k * sbk + (rk_u64)n0;
                for (int i = 0; i < RK_TM; i++) {
                    float a = ra[i][(rk_u64)k * sak];
                    for (int j = 0; j < RK_TN; j++)
                        acc[i][j] = RK_FADD(acc[i][j], RK_FMUL(a, b[j]));
                }
            }
        } else { /* the last columns: clamped reads, their results not stored */
            for (int k = 0; k < K; k++) {
                RK_GLOBAL const float *b = B + (rk_u64)k * sbk;
                for (int i = 0; i < RK_TM; i++) {
                    float a = ra[i][(rk_u64)k * sak];
                    for (int j = 0; j < RK_TN; j++)
                        acc[i][j] = RK_FADD(acc[i][j], RK_FMUL(a, b[n0 + j < N ? n0 + j : N - 1]));
                }
            }
        }
        for (int i = 0; i < RK_TM; i++)
            for (int j = 0; j < RK_TN; j++)
                if (m0 + i < M && n0 + j < N)
                    C[(rk_u64)(m0 + i) * ldc + (rk_u64)(n0 + j)] = acc[i][j];
    }
}

/* The tiled sum form (rk_sum_one's sums). */
RK_KERNEL void rk_gemm_rows(int M, int N, int K, RK_GLOBAL const float *A, rk_u64 a_off, rk_u64 sam, rk_u64 sak,
                            RK_GLOBAL const float *B, rk_u64 b_off, rk_u64 sbk, RK_GLOBAL float *C, rk_u64 c_off,
                            rk_u64 ldc)
{
    rk_gemm_sum(M, N, K, A + a_off, sam, sak, B + b_off, sbk, C + c_off, ldc);
}

/* The tiled dot form (rk_dot_one's sums): a tile of RK_FWD_M rows of A x
 * RK_FWD_N rows of B, each output in its 8 partial sums. */
RK_KERNEL void rk_gemm_dot(int M, int N, int K, RK_GLOBAL const float *A, rk_u64 a_off, rk_u64 lda,
                           RK_GLOBAL const float *B, rk_u64 b_off, rk_u64 ldb, RK_GLOBAL float *C, rk_u64 c_off,
                           rk_u64 ldc)
{
    rk_u64 tn = (rk_u64)((N + RK_FWD_N - 1) / RK_FWD_N);
    rk_u64 tiles = (rk_u64)((M + RK_FWD_M - 1) / RK_FWD_M) * tn;
    RK_FOR_EACH(tile, tiles)
    {
        int r0 = (int)(tile / tn) * RK_FWD_M, j0 = (int)(tile % tn) * RK_FWD_N;
        RK_GLOBAL const float *a[RK_FWD_M];
        RK_GLOBAL const float *w[RK_FWD_N];
        for (int i = 0; i < RK_FWD_M; i++)
            a[i] = A + a_off + (rk_u64)(r0 + i < M ? r0 + i : M - 1) * lda;
        for (int j = 0; j < RK_FWD_N; j++)
            w[j] = B + b_off + (rk_u64)(j0 + j < N ? j0 + j : N - 1) * ldb;
        float acc[RK_FWD_M][RK_FWD_N][8];
        for (int i = 0; i < RK_FWD_M; i++)
            for (int j = 0; j < RK_FWD_N; j++)
                for (int u = 0; u < 8; u++)
                    acc[i][j][u] = 0.0f;
        int k = 0;
        for (; k + 8 <= K; k += 8)
            for (int i = 0; i < RK_FWD_M; i++)
                for (int j = 0; j < RK_FWD_N; j++)
                    for (int u = 0; u < 8; u++)
                        acc[i][j][u] = RK_FADD(acc[i][j][u], RK_FMUL(a[i][k + u], w[j][k + u]));
        for (int u = 0; k < K; k++, u++) /* the tail: partials 0 .. K % 8 - 1 */
            for (int i = 0; i < RK_FWD_M; i++)
                for (int j = 0; j < RK_FWD_N; j++)
                    acc[i][j][u] = RK_FADD(acc[i][j][u], RK_FMUL(a[i][k], w[j][k]));
        for (int i = 0; i < RK_FWD_M; i++)
            for (int j = 0; j < RK_FWD_N; j++)
                if (r0 + i < M && j0 + j < N)
                    C[c_off + (rk_u64)(r0 + i) * ldc + (rk_u64)(j0 + j)] =
                        RK_FADD(RK_FADD(RK_FADD(acc[i][j][0], acc[i][j][1]), RK_FADD(acc[i][j][2], acc[i][j][3])),
                                RK_FADD(RK_FADD(acc[i][j][4], acc[i][j][5]), RK_FADD(acc[i][j][6], acc[i][j][7])));
    }
}

/* One work-group of a power-of-two size <= RK_REDUCE: part[0] becomes the
 * sum of part[0..size) in a fixed tree. */
#define RK_TREE_SUM(part, flag)                                                                               \
    do {                                                                                                      \
        RK_BARRIER();                                                                                         \
        for (int w_ = RK_LSIZE / 2; w_ > 0; w_ /= 2) {                                                        \
            if (RK_LID < w_) {                                                                                \
                part[RK_LID] += part[RK_LID + w_];                                                            \
                flag[RK_LID] |= flag[RK_LID + w_];                                                            \
            }                                                                                                 \
            RK_BARRIER();                                                                                     \
        }                                                                                                     \
    } while (0)

/* RK_TREE_SUM without a flag: part[0] becomes the sum of part[0..size)
 * in the same fixed tree. */
RK_FN void rk_tree_sum(RK_LOCAL_PTR double *part)
{
    RK_BARRIER();
    for (int w = RK_LSIZE / 2; w > 0; w /= 2) {
        if (RK_LID < w)
            part[RK_LID] += part[RK_LID + w];
        RK_BARRIER();
    }
}

/* After a step's backward, one work-group: the batch loss = (sum of the
 * row losses) / count, acc += batch loss * n; a loss or gradient value
 * that is not finite marks the step bad (the first such step is kept),
 * and from then on rk_adamw updates nothing. */
RK_KERNEL void rk_finish_step(RK_GLOBAL const double *rowloss, int n, double count, RK_GLOBAL const float *grads,
                              rk_u64 n_params, rk_i64 step, RK_GLOBAL float *batch_loss, RK_GLOBAL double *acc,
                              RK_GLOBAL rk_i64 *bad_step)
{
    RK_LOCAL double part[RK_REDUCE];
    RK_LOCAL int bad[RK_REDUCE];
    int t = RK_LID;
    double s = 0.0;
    int b = 0;
    for (int i = t; i < n; i += RK_LSIZE)
        s += rowloss[i];
    for (rk_u64 i = (rk_u64)t; i < n_params; i += (rk_u64)RK_LSIZE)
        b |= !RK_ISFINITE(grads[i]);
    part[t] = s;
    bad[t] = b;
    RK_TREE_SUM(part, bad);
    if (t == 0) {
        float mean = (float)(part[0] / count);
        *batch_loss = mean;
        *acc += (double)mean * (double)n;
        if (*bad_step == 0 && (bad[0] || !RK_ISFINITE(mean)))
            *bad_step = step;
    }
}

/* Evaluation, one work-group: acc += the sum of the row losses. */
RK_KERNEL void rk_sum_rows(RK_GLOBAL const double *rowloss, int n, RK_GLOBAL double *acc)
{
    RK_LOCAL double part[RK_REDUCE];
    int t = RK_LID;
    double s = 0.0;
    for (int i = t; i < n; i += RK_LSIZE)
        s += rowloss[i];
    part[t] = s;
    rk_tree_sum(part);
    if (t == 0)
        *acc += part[0];
}

/* AdamW (nn_math.h) on this work-item's share of the flat buffer. */
RK_FN void rk_adamw_all(RK_GLOBAL float *p, RK_GLOBAL const float *g, RK_GLOBAL float *m, RK_GLOBAL float *v,
                        rk_u64 n, const rk_adamw_k *k)
{
    RK_FOR_EACH(i, n)
    {
        float mi = m[i], vi = v[i];
        p[i] = rk_adamw_one(p[i], g[i], &mi, &vi, k);
        m[i] = mi;
        v[i] = vi;
    }
}

/* AdamW over the flat buffer, unless a step was bad. */
RK_KERNEL void rk_adamw(RK_GLOBAL float *p, RK_GLOBAL const float *g, RK_GLOBAL float *m, RK_GLOBAL float *v,
                        rk_u64 n, float decay, float b1, float c1, float b2, float c2, float step_size,
                        float bc2_sqrt, float eps, RK_GLOBAL const rk_i64 *bad_step)
{
    if (*bad_step)
        return;
    rk_adamw_k k = {decay, b1, c1, b2, c2, step_size, bc2_sqrt, eps};
    rk_adamw_all(p, g, m, v, n, &k);
}

/* The weights' moving average (nn_math.h): sum = a * sum + (1 - a) * p. */
RK_KERNEL void rk_avg_update(RK_GLOBAL double *sum, RK_GLOBAL const float *p, rk_u64 n, double a)
{
    RK_FOR_EACH(i, n)
    sum[i] = rk_avg_step(sum[i], p[i], a);
}

RK_KERNEL void rk_avg_get(RK_GLOBAL const double *sum, rk_u64 n, double weight, RK_GLOBAL float *out)
{
    RK_FOR_EACH(i, n)
    out[i] = rk_avg_value(sum[i], weight);
}

/* ------------------------------------------------ the PLR embedding */

/* The PLR embedding (nn/spec.h), as the CPU backend computes it
 * (host/nn/cpu_plr.c), defined once per address space of the batch, the
 * embedding and its gradient (RK_PLR_FUNCS(suffix, SPACE): device memory
 * in the layered step, work-group memory in the fused kernel); the
 * features F (rows x numeric x 2k: [sin v, cos v] per numeric column) and
 * the parameters are always in device memory. cols lists the input
 * columns, the n_num numeric ones first, then the others.
 *
 * rk_plr_feature: element f = (row, q, t) of rows x n_num x k: v = 2 pi
 *   c[q][t] x in double, its sin and cos rounded to float.
 * rk_plr_embed: output column col of a row (out wide): a numeric column's
 *   ReLU(b + sum over t in order of W[t] F[t]), or a column passed through.
 * rk_plr_grad: the gradient of parameter p of the block (frequencies,
 *   then W, then b), summed over the rows in order as the CPU sums it: a
 *   weight's or bias's sum of g F or g, g = dE where E > 0 (zeros skipped,
 *   as there); a frequency's sum of (df_t cos v_t - df_k+t sin v_t)
 *   (float)(2 pi x), df summed over the column's outputs in order. */
#define RK_PLR_FUNCS(SUF, SPACE)                                                                              \
    RK_FN void rk_plr_feature##SUF(rk_u64 f, SPACE const float *X, int d, RK_GLOBAL const int *cols, int n_num, \
                                   int k, RK_GLOBAL const float *c, RK_GLOBAL float *F)                       \
    {                                                                                                          \
        rk_u64 uk = (rk_u64)k, i = f / ((rk_u64)n_num * uk), q = (f / uk) % (rk_u64)n_num, t = f % uk;         \
        double v = RK_DMUL(RK_DMUL(RK_TWO_PI, (double)c[q * uk + t]), (double)X[i * (rk_u64)d + (rk_u64)cols[q]]); \
        RK_GLOBAL float *fq = F + (i * (rk_u64)n_num + q) * 2 * uk;                                           \
        fq[t] = (float)sin(v);                                                                                 \
        fq[uk + t] = (float)cos(v);                                                                            \
    }                                                                                                          \
                                                                                                               \
    RK_FN float rk_plr_embed##SUF(rk_u64 i, int col, SPACE const float *X, int d, RK_GLOBAL const int *cols,   \
                                  int n_num, int k, int e, RK_GLOBAL const float *params, rk_u64 c_off,       \
                                  RK_GLOBAL const float *F)                                                    \
    {                                                                                                          \
        rk_u64 k2 = 2 * (rk_u64)k, ne = (rk_u64)n_num * (rk_u64)e;                                            \
        if ((rk_u64)col >= ne)                                                                                 \
            return X[i * (rk_u64)d + (rk_u64)cols[(rk_u64)n_num + (rk_u64)col - ne]];                         \
        rk_u64 q = (rk_u64)col / (rk_u64)e;                                                                    \
        RK_GLOBAL const float *w = params + c_off + (rk_u64)n_num * (rk_u64)k + (rk_u64)col * k2;             \
        RK_GLOBAL const float *fq = F + (i * (rk_u64)n_num + q) * k2;                                          \
        float z = params[c_off + (rk_u64)n_num * (rk_u64)k + ne * k2 + (rk_u64)col];                          \
        for (rk_u64 t = 0; t < k2; t++)                                                                        \
            z = RK_FADD(z, RK_FMUL(w[t], fq[t]));                                                              \
        return z > 0.0f ? z : 0.0f;                                                                            \
    }                                                                                                          \
                                                                                                               \
    RK_FN float rk_plr_grad##SUF(rk_u64 p, int n, SPACE const float *X, int d, RK_GLOBAL const int *cols,      \
                                 int n_num, int k, int e, int out, RK_GLOBAL const float *params, rk_u64 c_off, \
                                 RK_GLOBAL const float *F, SPACE const float *E, SPACE const float *dE)        \
    {                                                                                                          \
        rk_u64 uk = (rk_u64)k, k2 = 2 * uk, ue = (rk_u64)e, uo = (rk_u64)out, un = (rk_u64)n_num;              \
        rk_u64 nc = un * uk, nw = un * ue * k2;                                                                \
        float s = 0.0f;                                                                                        \
        if (p < nc) { /* a frequency */                                                                        \
            rk_u64 q = p / uk, t = p % uk;                                                                     \
            RK_GLOBAL const float *W = params + c_off + nc + q * ue * k2;                                      \
            for (rk_u64 i = 0; i < (rk_u64)n; i++) {                                                           \
                float ds = 0.0f, dc = 0.0f;                                                                    \
                for (rk_u64 o = 0; o < ue; o++) {                                                              \
                    rk_u64 at = i * uo + q * ue + o;                                                           \
                    float g = E[at] > 0.0f ? dE[at] : 0.0f;                                                    \
                    if (g == 0.0f)                                                                             \
                        continue;                                                                              \
                    ds = RK_FADD(ds, RK_FMUL(g, W[o * k2 + t]));                                               \
                    dc = RK_FADD(dc, RK_FMUL(g, W[o * k2 + uk + t]));                                          \
                }                                                                                              \
                RK_GLOBAL const float *fq = F + (i * un + q) * k2;                                             \
                float xs = (float)RK_DMUL(RK_TWO_PI, (double)X[i * (rk_u64)d + (rk_u64)cols[q]]);             \
                s = RK_FADD(s, RK_FMUL(RK_FADD(RK_FMUL(ds, fq[uk + t]), -RK_FMUL(dc, fq[t])), xs));            \
            }                                                                                                  \
            return s;                                                                                          \
        }                                                                                                      \
        rk_u64 j = p < nc + nw ? (p - nc) / k2 : p - nc - nw; /* the output (q, o) */                          \
        rk_u64 q = j / ue, t = (p - nc) % k2;                                                                  \
        for (rk_u64 i = 0; i < (rk_u64)n; i++) {                                                               \
            rk_u64 at = i * uo + j;                                                                            \
            float g = E[at] > 0.0f ? dE[at] : 0.0f;                                                            \
            if (g == 0.0f)                                                                                     \
                continue;                                                                                      \
            s = RK_FADD(s, p < nc + nw ? RK_FMUL(g, F[(i * un + q) * k2 + t]) : g);                            \
        }                                                                                                      \
        return s;                                                                                              \
    }

RK_PLR_FUNCS(, RK_GLOBAL)
RK_PLR_FUNCS(_local, RK_LOCAL_PTR)

/* The layered step's PLR stages: the features F of n rows of X, then the
 * embedding E (n x out), and in the backward the block's gradients from
 * dE, at c_off in grads. */
RK_KERNEL void rk_plr_features(RK_GLOBAL const float *X, int n, int d, RK_GLOBAL const int *cols, int n_num, int k,
                               RK_GLOBAL const float *params, rk_u64 c_off, RK_GLOBAL float *F)
{
    RK_FOR_EACH(f, (rk_u64)n * (rk_u64)n_num * (rk_u64)k)
    rk_plr_feature(f, X, d, cols, n_num, k, params + c_off, F);
}

RK_KERNEL void rk_plr_embed_rows(RK_GLOBAL const float *X, int n, int d, RK_GLOBAL const int *cols, int n_num,
                                 int k, int e, int out, RK_GLOBAL const float *params, rk_u64 c_off,
                                 RK_GLOBAL const float *F, RK_GLOBAL float *E)
{
    rk_u64 uo = (rk_u64)out;
    RK_FOR_EACH(x, (rk_u64)n * uo)
    E[x] = rk_plr_embed(x / uo, (int)(x % uo), X, d, cols, n_num, k, e, params, c_off, F);
}

RK_KERNEL void rk_plr_backward(RK_GLOBAL const float *X, int n, int d, RK_GLOBAL const int *cols, int n_num, int k,
                               int e, int out, RK_GLOBAL const float *params, rk_u64 c_off, RK_GLOBAL const float *F,
                               RK_GLOBAL const float *E, RK_GLOBAL const float *dE, RK_GLOBAL float *grads)
{
    rk_u64 un = (rk_u64)n_num, total = un * (rk_u64)k + un * (rk_u64)e * (2 * (rk_u64)k + 1);
    RK_FOR_EACH(p, total)
    grads[c_off + p] = rk_plr_grad(p, n, X, d, cols, n_num, k, e, out, params, c_off, F, E, dE);
}

/* ------------------------------------------------------ the fused epoch */

RK_HEAD_FUNCS(_local, RK_LOCAL_PTR)


/* Every step of an epoch for one net, by one work-group: the batch,
 * every layer's output (and a dropout layer's after its mask) and both
 * gradient buffers stay in work-group memory (the scratch: batch x (d +
 * the layers' widths, twice with dropout, + L + 2 x the widest)),
 * the weights, gradients and AdamW's moments in device memory. Steps k =
 * 0.. take rows order[k*batch ..) (the last batch shorter) and are numbered
 * first_step + k + 1; step_f holds AdamW's two per-step scalars (the
 * steps' step_size, then their bc2_sqrt); after step k, when avg_sum is not
 * null and avg_a[k] >= 0, the moving average takes the weights with that
 * decay. Dropout's masks (seed: the net's) are rk_dropout's, computed where
 * they are used. The sums are those of the layered kernels above (the
 * CPU's, in its order), and the loss, the non-finite check and the bad-step rule are
 * rk_finish_step's: once a step is bad the epoch stops, updating nothing
 * more. With a PLR embedding (plr: its table, nn_layout.h; else null) the
 * batch goes through it first: its features in plr_f (device memory), the
 * embedding in the scratch (at plr[RK_PL_AT]), the layered kernels' sums.
 * rl, flag and stop are the caller's work-group arrays. */
RK_FN void rk_fused_run(RK_GLOBAL const float *X, RK_GLOBAL const float *Y, RK_GLOBAL const rk_u32 *order,
                        int n_rows, int batch, int d, int L, int head, int n_layers, RK_GLOBAL const int *layers,
                        int max_w, RK_GLOBAL float *params, RK_GLOBAL float *grads, RK_GLOBAL float *m,
                        RK_GLOBAL float *v, rk_u64 n_params, float decay, float b1, float c1, float b2, float c2,
                        float eps, RK_GLOBAL const float *step_f, RK_GLOBAL const double *avg_a,
                        RK_GLOBAL double *avg_sum, rk_i64 first_step, rk_u64 seed, RK_GLOBAL float *batch_loss,
                        RK_GLOBAL double *acc, RK_GLOBAL rk_i64 *bad_step, RK_GLOBAL const int *plr,
                        RK_GLOBAL float *plr_f, RK_LOCAL_PTR float *scratch, RK_LOCAL_PTR double *rl,
                        RK_LOCAL_PTR int *flag, RK_LOCAL_PTR int *stop_p)
{
    int t = RK_LID, T = RK_LSIZE;
    RK_GLOBAL const int *top = layers + RK_LY * (n_layers - 1);
    int yoff = top[RK_LY_H] + batch * top[RK_LY_OUT];
    RK_LOCAL_PTR float *xb = scratch;
    RK_LOCAL_PTR float *yb = scratch + yoff;
    RK_LOCAL_PTR float *gbuf0 = yb + batch * L;
    RK_LOCAL_PTR float *gbuf1 = gbuf0 + batch * max_w;
    /* the first Linear's input: the embedding, or the batch */
    RK_LOCAL_PTR float *emb = plr ? scratch + plr[RK_PL_AT] : xb;
    int pk = plr ? plr[RK_PL_K] : 0, pe = plr ? plr[RK_PL_E] : 0, pn = plr ? plr[RK_PL_NUM] : 0;
    rk_u64 pc = plr ? (rk_u64)plr[RK_PL_C] : 0;
    RK_GLOBAL const int *pcols = plr ? plr + RK_PL : RK_NULL;
    int pout = layers[RK_LY_IN];
    if (t == 0)
        *stop_p = *bad_step != 0;
    RK_BARRIER();
    int steps = (n_rows + batch - 1) / batch;
    for (int k = 0; k < steps && !(*stop_p); k++) {
        int start = k * batch, rows = n_rows - start < batch ? n_rows - start : batch;
        for (int e = t; e < rows * (d + L); e += T) {
            int r = e / (d + L), c = e % (d + L);
            rk_u64 row = (rk_u64)order[start + r];
            if (c < d)
                xb[r * d + c] = X[row * (rk_u64)d + (rk_u64)c];
            else
                yb[r * L + (c - d)] = Y[row * (rk_u64)L + (rk_u64)(c - d)];
        }
        RK_BARRIER();
        if (plr) { /* the embedding */
            for (int e = t; e < rows * pn * pk; e += T)
                rk_plr_feature_local((rk_u64)e, xb, d, pcols, pn, pk, params + pc, plr_f);
            RK_BARRIER();
            for (int e = t; e < rows * pout; e += T)
                emb[e] = rk_plr_embed_local((rk_u64)(e / pout), e % pout, xb, d, pcols, pn, pk, pe, params, pc, plr_f);
            RK_BARRIER();
        }
        /* forward */
        RK_LOCAL_PTR float *A = emb;
        for (int l = 0; l < n_layers; l++) {
            RK_GLOBAL const int *ly = layers + RK_LY * l;
            int in = ly[RK_LY_IN], out = ly[RK_LY_OUT], act = ly[RK_LY_ACT];
            RK_LOCAL_PTR float *H = scratch + ly[RK_LY_H];
            RK_LOCAL_PTR float *D = scratch + ly[RK_LY_D];
            RK_GLOBAL const float *W = params + ly[RK_LY_W];
            RK_GLOBAL const float *bias = params + ly[RK_LY_B];
            rk_u32 cut = (rk_u32)ly[RK_LY_CUT];
            float kept = RK_INT_AS_FLOAT(ly[RK_LY_KEPT]);
            rk_u64 key = rk_dropout_key(seed, first_step + k + 1, (rk_u64)l);
            for (int e = t; e < rows * out; e += T) {
                int r = e / out, j = e % out;
                RK_LOCAL_PTR const float *a = A + r * in;
                RK_GLOBAL const float *w = W + j * in;
                float s8[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
                int q = 0;
                for (; q + 8 <= in; q += 8)
                    for (int u = 0; u < 8; u++)
                        s8[u] = RK_FADD(s8[u], RK_FMUL(a[q + u], w[q + u]));
                for (int u = 0; q < in; q++, u++)
                    s8[u] = RK_FADD(s8[u], RK_FMUL(a[q], w[q]));
                float z = RK_FADD(RK_FADD(RK_FADD(s8[0], s8[1]), RK_FADD(s8[2], s8[3])),
                                  RK_FADD(RK_FADD(s8[4], s8[5]), RK_FADD(s8[6], s8[7])));
                float h = rk_activate(act, RK_FADD(z, bias[j]));
                H[e] = h;
                if (cut)
                    D[e] = RK_FMUL(h, rk_dropout_scale(key, (rk_u64)e, cut, kept));
            }
            RK_BARRIER();
            A = D;
        }
        /* head: each row's loss and d(loss)/d(logits) */
        double count = rk_head_count(head, (double)rows, (double)L);
        float scale = (float)(1.0 / count);
        for (int i = t; i < rows; i += T)
            rl[i] = rk_head_row_local(head, A + i * L, yb + i * L, L, scale, gbuf0 + i * L, 0);
        RK_BARRIER();
        /* backward */
        RK_LOCAL_PTR float *g = gbuf0;
        RK_LOCAL_PTR float *other = gbuf1;
        for (int l = n_layers - 1; l >= 0; l--) {
            RK_GLOBAL const int *ly = layers + RK_LY * l;
            int in = ly[RK_LY_IN], out = ly[RK_LY_OUT], act = ly[RK_LY_ACT];
            RK_LOCAL_PTR const float *H = scratch + ly[RK_LY_H];
            RK_LOCAL_PTR const float *Ain = l ? scratch + layers[RK_LY * (l - 1) + RK_LY_D] : emb;
            rk_u32 cut = (rk_u32)ly[RK_LY_CUT];
            if (act != RK_ACT_NONE || cut) { /* through the dropout mask, then the activation */
                float kept = RK_INT_AS_FLOAT(ly[RK_LY_KEPT]);
                rk_u64 key = rk_dropout_key(seed, first_step + k + 1, (rk_u64)l);
                for (int e = t; e < rows * out; e += T) {
                    float ge = cut ? RK_FMUL(g[e], rk_dropout_scale(key, (rk_u64)e, cut, kept)) : g[e];
                    g[e] = rk_act_grad(act, H[e], ge);
                }
                RK_BARRIER();
            }
            for (int j = t; j < out; j += T) {
                float s = 0.0f;
                for (int i = 0; i < rows; i++)
                    s = RK_FADD(s, g[i * out + j]);
                grads[ly[RK_LY_B] + j] = s;
            }
            for (int e = t; e < out * in; e += T) {
                int j = e / in, q = e % in;
                float s = 0.0f;
                for (int i = 0; i < rows; i++)
                    s = RK_FADD(s, RK_FMUL(g[i * out + j], Ain[i * in + q]));
                grads[ly[RK_LY_W] + e] = s;
            }
            if (l || plr) {
                RK_GLOBAL const float *W = params + ly[RK_LY_W];
                for (int e = t; e < rows * in; e += T) {
                    int r = e / in, q = e % in;
                    float s = 0.0f;
                    for (int j = 0; j < out; j++)
                        s = RK_FADD(s, RK_FMUL(g[r * out + j], W[j * in + q]));
                    other[e] = s;
                }
            }
            RK_BARRIER();
            RK_LOCAL_PTR float *swap = g;
            g = other;
            other = swap;
        }
        if (plr) { /* g holds d(loss)/d(embedding) */
            rk_u64 total = (rk_u64)pn * (rk_u64)pk + (rk_u64)pn * (rk_u64)pe * (2 * (rk_u64)pk + 1);
            for (rk_u64 q = (rk_u64)t; q < total; q += (rk_u64)T)
                grads[pc + q] = rk_plr_grad_local(q, rows, xb, d, pcols, pn, pk, pe, pout, params, pc, plr_f, emb, g);
            RK_BARRIER();
        }
        /* the batch loss and the non-finite check */
        int bad = 0;
        for (rk_u64 i = (rk_u64)t; i < n_params; i += (rk_u64)T)
            bad |= !RK_ISFINITE(grads[i]);
        flag[t] = bad;
        RK_BARRIER();
        for (int w = T / 2; w > 0; w /= 2) {
            if (t < w)
                flag[t] |= flag[t + w];
            RK_BARRIER();
        }
        if (t == 0) {
            double s = 0.0;
            for (int i = 0; i < rows; i++)
                s += rl[i];
            float mean = (float)(s / count);
            *batch_loss = mean;
            *acc += (double)mean * (double)rows;
            if (flag[0] || !RK_ISFINITE(mean)) {
                *bad_step = first_step + k + 1;
                *stop_p = 1;
            }
        }
        RK_BARRIER();
        if ((*stop_p))
            break;
        rk_adamw_k kw = {decay, b1, c1, b2, c2, step_f[k], step_f[steps + k], eps};
        double a = avg_sum ? avg_a[k] : -1.0;
        for (rk_u64 i = (rk_u64)t; i < n_params; i += (rk_u64)T) {
            float mi = m[i], vi = v[i];
            float p = rk_adamw_one(params[i], grads[i], &mi, &vi, &kw);
            params[i] = p;
            m[i] = mi;
            v[i] = vi;
            if (a >= 0.0)
                avg_sum[i] = rk_avg_step(avg_sum[i], p, a);
        }
        RK_BARRIER();
    }
}

/* One net's epoch in one launch (one work-group). */
RK_KERNEL void rk_fused_epoch(RK_GLOBAL const float *X, RK_GLOBAL const float *Y, RK_GLOBAL const rk_u32 *order,
                              int n_rows, int batch, int d, int L, int head, int n_layers,
                              RK_GLOBAL const int *layers, int max_w, RK_GLOBAL float *params,
                              RK_GLOBAL float *grads, RK_GLOBAL float *m, RK_GLOBAL float *v, rk_u64 n_params,
                              float decay, float b1, float c1, float b2, float c2, float eps,
                              RK_GLOBAL const float *step_f,
                              RK_GLOBAL const double *avg_a, RK_GLOBAL double *avg_sum, rk_i64 first_step,
                              rk_u64 seed, RK_GLOBAL float *batch_loss, RK_GLOBAL double *acc,
                              RK_GLOBAL rk_i64 *bad_step, RK_GLOBAL const int *plr,
                              RK_GLOBAL float *plr_f RK_SCRATCH_ARG(scratch))
{
    RK_SCRATCH_DECL(scratch)
    RK_LOCAL double rl[RK_FUSED_ROWS];
    RK_LOCAL int flag[RK_FUSED_T];
    RK_LOCAL int stop;
    rk_fused_run(X, Y, order, n_rows, batch, d, L, head, n_layers, layers, max_w, params, grads, m, v, n_params,
                 decay, b1, c1, b2, c2, eps, step_f, avg_a, avg_sum, first_step, seed, batch_loss, acc, bad_step,
                 plr, plr_f, scratch, rl, flag, &stop);
}


/* K nets' epochs in one launch over one copy of the data (X, Y: rows of d
 * features and L labels), work-group g training net g exactly as
 * rk_fused_epoch would train it alone: each has its own layer list (with
 * its dropout rates), row order (a subset of the rows: its fold), batch
 * size, AdamW settings, dropout seed, moving average and bad-step flag. */
RK_KERNEL void rk_fused_epochs(RK_GLOBAL const float *X, RK_GLOBAL const float *Y, int d, int L,
                               RK_GLOBAL const rk_i64 *nets, RK_GLOBAL const float *hyper,
                               RK_GLOBAL const int *layers, RK_GLOBAL const rk_u32 *orders,
                               RK_GLOBAL float *params, RK_GLOBAL float *grads, RK_GLOBAL float *m,
                               RK_GLOBAL float *v, RK_GLOBAL const float *step_f, RK_GLOBAL const double *avg_a,
                               RK_GLOBAL double *avg_sum, RK_GLOBAL float *batch_loss, RK_GLOBAL double *acc,
                               RK_GLOBAL rk_i64 *bad_step, RK_GLOBAL const int *plr,
                               RK_GLOBAL float *plr_f RK_SCRATCH_ARG(scratch))
{
    RK_SCRATCH_DECL(scratch)
    RK_LOCAL double rl[RK_FUSED_ROWS];
    RK_LOCAL int flag[RK_FUSED_T];
    RK_LOCAL int stop;
    int g = RK_GROUP;
    RK_GLOBAL const rk_i64 *nt = nets + RK_NT * g;
    RK_GLOBAL const float *hy = hyper + RK_NF * g;
    rk_i64 po = nt[RK_NT_PARAM_OFF], ao = nt[RK_NT_AVG_OFF], pl = nt[RK_NT_PLR];
    rk_fused_run(X, Y, orders + nt[RK_NT_ORDER_OFF], (int)nt[RK_NT_ROWS], (int)nt[RK_NT_BATCH], d, L,
                 (int)nt[RK_NT_HEAD], (int)nt[RK_NT_LAYERS], layers + nt[RK_NT_LAYER_OFF], (int)nt[RK_NT_MAX_W],
                 params + po, grads + po, m + po, v + po, (rk_u64)nt[RK_NT_PARAMS], hy[RK_NF_DECAY],
                 hy[RK_NF_B1], hy[RK_NF_C1], hy[RK_NF_B2], hy[RK_NF_C2], hy[RK_NF_EPS], step_f + nt[RK_NT_STEP_OFF],
                 ao >= 0 ? avg_a + nt[RK_NT_AVG_A_OFF] : avg_a, ao >= 0 ? avg_sum + ao : RK_NULL, nt[RK_NT_FIRST],
                 (rk_u64)nt[RK_NT_SEED], batch_loss + g, acc + g, bad_step + g, pl >= 0 ? plr + pl : RK_NULL,
                 pl >= 0 ? plr_f + nt[RK_NT_PLR_F] : RK_NULL, scratch, rl, flag, &stop);
}
