/* The nets' elementwise maths, written once for every device: the CPU
 * backend (host/nn/cpu_ops.c, cpu_backend.c) and the kernels
 * (kernels/nn_kernels.cl, compiled as CUDA and as OpenCL C) include this
 * file, so activations, the sigmoid and softmax heads with their loss and
 * gradient, AdamW and the weights' moving average cannot drift apart.
 *
 * Every float operation of AdamW and the moving average is rounded on its
 * own (rk_portable.h): the same inputs give the same bits on the CPU and on
 * a GPU. exp, tanh and log may differ by an ulp or so between the maths
 * libraries of the devices. */
#ifndef REEL_NN_MATH_H
#define REEL_NN_MATH_H

#ifndef __OPENCL_VERSION__
#include "rk_portable.h"
#endif

/* nn/spec.h's reel_nn_act and reel_nn_head, as numbers the kernels know
 * (host/nn/cpu_ops.c checks that they agree). */
#define RK_ACT_NONE 0
#define RK_ACT_RELU 1
#define RK_ACT_TANH 2
#define RK_HEAD_SIGMOID 0
#define RK_HEAD_SOFTMAX 1

RK_FN float rk_activate(int act, float z)
{
    if (act == RK_ACT_RELU)
        return z > 0.0f ? z : 0.0f;
    if (act == RK_ACT_TANH)
        return RK_TANHF(z);
    return z;
}

/* d(loss)/dz from d(loss)/dh, where h = act(z) is the layer's output. */
RK_FN float rk_act_grad(int act, float h, float g)
{
    if (act == RK_ACT_RELU)
        return h > 0.0f ? g : 0.0f;
    if (act == RK_ACT_TANH)
        return RK_FMUL(g, 1.0f - RK_FMUL(h, h));
    return g;
}

/* Dropout's masks, one counter-based hash for every device, so a kernel
 * computes any unit's mask where it needs it, with no state to carry and
 * the CPU backend's bits: in training step `step`, unit q (row * width +
 * column, of the batch) of layer `layer` is kept, scaled by `kept`
 * (1 / (1 - p) as a float), when the top 24 bits of mix(key ^ q) are at
 * least cut = ceil(p * 2^24), key = mix(mix(mix(seed) ^ step) ^ layer);
 * mix is splitmix64's finaliser. A dropped unit is scaled by 0. */
RK_FN rk_u64 rk_mix64(rk_u64 z)
{
    z += RK_U64C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * RK_U64C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * RK_U64C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

RK_FN rk_u64 rk_dropout_key(rk_u64 seed, rk_i64 step, rk_u64 layer)
{
    return rk_mix64(rk_mix64(rk_mix64(seed) ^ (rk_u64)step) ^ layer);
}

RK_FN float rk_dropout_scale(rk_u64 key, rk_u64 q, rk_u32 cut, float kept)
{
    return (rk_mix64(key ^ q) >> 40) >= (rk_u64)cut ? kept : 0.0f;
}

/* What the summed loss is divided by for the mean: cells for the sigmoid
 * head (BCE over batch and labels), rows for the softmax head. */
/* 2 pi, as nn/spec.h's REEL_NN_TWO_PI: a PLR feature is sin or cos of 2 pi c x. */
#define RK_TWO_PI 6.283185307179586476925

RK_FN double rk_head_count(int head, double n, double L) { return head == RK_HEAD_SIGMOID ? n * L : n; }

/* The heads, defined once per address space their rows live in
 * (RK_HEAD_FUNCS(suffix, SPACE)): device memory everywhere, and work-group
 * memory in the fused kernel (nn_kernels.cl). On the host both are plain
 * pointers.
 *
 * rk_sigmoid_cells: the sigmoid head over `count` cells of logits z (a row,
 * or a whole batch on the CPU): binary cross-entropy on logits as torch's
 * BCEWithLogitsLoss computes it, max(z,0) - z*y + log(1 + exp(-|z|)),
 * stable for any z. Returns the summed loss (0 without targets y);
 * g = (p - y) * scale and the probabilities p are written when not null.
 *
 * rk_softmax_row: the softmax head on one row of L logits, the
 * cross-entropy of softmax(z) against the row's labels normalised to sum 1
 * (torch's CrossEntropyLoss with probability targets). A row without any
 * label has no target: it adds 0 to the loss and gets a zero gradient.
 *
 * rk_head_row: one row of either head (L cells). */
#define RK_HEAD_FUNCS(SUF, SPACE)                                                                              \
    RK_FN double rk_sigmoid_cells##SUF(SPACE const float *z, SPACE const float *y, rk_u64 count, float scale,  \
                                       SPACE float *g, SPACE float *p)                                         \
    {                                                                                                          \
        double sum = 0.0;                                                                                      \
        for (rk_u64 c = 0; c < count; c++) {                                                                   \
            float q = 1.0f / (1.0f + RK_EXPF(-z[c]));                                                          \
            if (p)                                                                                             \
                p[c] = q;                                                                                      \
            if (!y)                                                                                            \
                continue;                                                                                      \
            double zd = z[c];                                                                                  \
            sum += (zd > 0 ? zd : 0) - zd * y[c] + log1p(exp(-fabs(zd)));                                      \
            if (g)                                                                                             \
                g[c] = RK_FMUL(q - y[c], scale);                                                               \
        }                                                                                                      \
        return sum;                                                                                            \
    }                                                                                                          \
                                                                                                               \
    RK_FN double rk_softmax_row##SUF(SPACE const float *z, SPACE const float *y, int L, float scale,           \
                                     SPACE float *g, SPACE float *p)                                           \
    {                                                                                                          \
        float zmax = z[0];                                                                                     \
        for (int k = 1; k < L; k++)                                                                            \
            zmax = z[k] > zmax ? z[k] : zmax;                                                                  \
        double se = 0.0;                                                                                       \
        for (int k = 0; k < L; k++)                                                                            \
            se += exp((double)z[k] - zmax);                                                                    \
        double lse = zmax + log(se);                                                                           \
        if (p)                                                                                                 \
            for (int k = 0; k < L; k++)                                                                        \
                p[k] = (float)exp((double)z[k] - lse);                                                         \
        if (!y)                                                                                                \
            return 0.0;                                                                                        \
        double s = 0.0, sum = 0.0;                                                                             \
        for (int k = 0; k < L; k++)                                                                            \
            s += y[k];                                                                                         \
        for (int k = 0; k < L; k++) {                                                                          \
            double t = s > 0 ? y[k] / s : 0.0;                                                                 \
            sum += t * (lse - z[k]);                                                                           \
            if (g)                                                                                             \
                g[k] = s > 0 ? RK_FMUL((float)(exp((double)z[k] - lse) - t), scale) : 0.0f;                    \
        }                                                                                                      \
        return sum;                                                                                            \
    }                                                                                                          \
                                                                                                               \
    RK_FN double rk_head_row##SUF(int head, SPACE const float *z, SPACE const float *y, int L, float scale,    \
                                  SPACE float *g, SPACE float *p)                                              \
    {                                                                                                          \
        return head == RK_HEAD_SIGMOID ? rk_sigmoid_cells##SUF(z, y, (rk_u64)L, scale, g, p)                   \
                                       : rk_softmax_row##SUF(z, y, L, scale, g, p);                            \
    }

RK_HEAD_FUNCS(, RK_GLOBAL)

/* torch.optim.AdamW's scalars for one step, rounded to float (the host
 * works them out in double: rk_adamw_scalars in nn/cpu_ops.h). */
typedef struct {
    float decay;          /* 1 - lr * weight_decay */
    float b1, c1, b2, c2; /* beta1, 1 - beta1, beta2, 1 - beta2 */
    float step_size;      /* lr / (1 - beta1^t) */
    float bc2_sqrt;       /* sqrt(1 - beta2^t) */
    float eps;
} rk_adamw_k;

/* One parameter's AdamW update in torch's order; returns the new value
 * and updates its moments m and v:
 *   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps) */
RK_FN float rk_adamw_one(float p, float g, float *m, float *v, const rk_adamw_k *k)
{
    p = RK_FMUL(p, k->decay);
    float mi = RK_FADD(RK_FMUL(*m, k->b1), RK_FMUL(g, k->c1));
    float vi = RK_FADD(RK_FMUL(*v, k->b2), RK_FMUL(RK_FMUL(g, g), k->c2));
    *m = mi;
    *v = vi;
    return p - RK_FMUL(k->step_size, mi / RK_FADD(RK_SQRTF(vi) / k->bc2_sqrt, k->eps));
}

/* The weights' moving average, kept as sums in double:
 * sum = a * sum + (1 - a) * p; the average is sum / weight. */
RK_FN double rk_avg_step(double sum, float p, double a)
{
    return RK_DADD(RK_DMUL(a, sum), RK_DMUL(RK_DADD(1.0, -a), (double)p));
}

RK_FN float rk_avg_value(double sum, double weight) { return (float)(sum / weight); }

#endif
