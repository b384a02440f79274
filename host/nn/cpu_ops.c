#include "nn/cpu_ops.h"

#include <math.h>
#include <string.h>

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

/* y += g * x */
static void axpy(float g, const float *x, float *y, size_t n)
{
    for (size_t k = 0; k < n; k++)
        y[k] += g * x[k];
}

static float activate(reel_nn_act act, float z)
{
    switch (act) {
    case REEL_ACT_RELU:
        return z > 0.0f ? z : 0.0f;
    case REEL_ACT_TANH:
        return tanhf(z);
    default:
        return z;
    }
}

void reel_cpu_linear_forward(const float *A, size_t n, size_t in, const float *W, const float *b, size_t out,
                             reel_nn_act act, float *H)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < out; j++)
            H[i * out + j] = activate(act, dot(A + i * in, W + j * in, in) + b[j]);
}

void reel_cpu_act_backward(reel_nn_act act, const float *H, float *dH, size_t count)
{
    if (act == REEL_ACT_RELU) {
        for (size_t i = 0; i < count; i++)
            dH[i] = H[i] > 0.0f ? dH[i] : 0.0f;
    } else if (act == REEL_ACT_TANH) {
        for (size_t i = 0; i < count; i++)
            dH[i] *= 1.0f - H[i] * H[i];
    }
}

void reel_cpu_linear_backward(const float *A, size_t n, size_t in, const float *W, size_t out,
                              const float *dZ, float *dW, float *db, float *dA)
{
    for (size_t j = 0; j < out; j++) {
        float *row = dW + j * in;
        float s = 0.0f;
        memset(row, 0, in * sizeof *row);
        for (size_t i = 0; i < n; i++) {
            axpy(dZ[i * out + j], A + i * in, row, in);
            s += dZ[i * out + j];
        }
        db[j] = s;
    }
    if (!dA)
        return;
    for (size_t i = 0; i < n; i++) {
        float *r = dA + i * in;
        memset(r, 0, in * sizeof *r);
        for (size_t j = 0; j < out; j++)
            axpy(dZ[i * out + j], W + j * in, r, in);
    }
}

double reel_cpu_head_count(reel_nn_head head, size_t n, size_t L)
{
    return head == REEL_HEAD_SIGMOID ? (double)n * (double)L : (double)n;
}

/* Binary cross-entropy on logits, as torch's BCEWithLogitsLoss computes it:
 * max(z,0) - z*y + log(1 + exp(-|z|)), stable for any z. */
static double sigmoid_head(const float *Z, const float *Y, size_t n, size_t L, float *G, float *P)
{
    double sum = 0.0;
    float scale = (float)(1.0 / ((double)n * (double)L));
    for (size_t c = 0; c < n * L; c++) {
        float z = Z[c], p = 1.0f / (1.0f + expf(-z));
        if (P)
            P[c] = p;
        if (!Y)
            continue;
        double zd = z;
        sum += (zd > 0 ? zd : 0) - zd * Y[c] + log1p(exp(-fabs(zd)));
        if (G)
            G[c] = (p - Y[c]) * scale;
    }
    return sum;
}

/* Cross-entropy of softmax(z) against the row's labels normalised to sum 1
 * (torch's CrossEntropyLoss with probability targets). A row without any
 * label has no target: it adds 0 to the loss and gets no gradient. */
static double softmax_head(const float *Z, const float *Y, size_t n, size_t L, float *G, float *P)
{
    double sum = 0.0;
    float scale = (float)(1.0 / (double)n);
    for (size_t i = 0; i < n; i++) {
        const float *z = Z + i * L;
        float zmax = z[0];
        for (size_t k = 1; k < L; k++)
            zmax = z[k] > zmax ? z[k] : zmax;
        double se = 0.0;
        for (size_t k = 0; k < L; k++)
            se += exp((double)z[k] - zmax);
        double lse = zmax + log(se);
        if (P)
            for (size_t k = 0; k < L; k++)
                P[i * L + k] = (float)exp((double)z[k] - lse);
        if (!Y)
            continue;
        const float *y = Y + i * L;
        double s = 0.0;
        for (size_t k = 0; k < L; k++)
            s += y[k];
        for (size_t k = 0; k < L; k++) {
            double t = s > 0 ? y[k] / s : 0.0;
            sum += t * (lse - z[k]);
            if (G)
                G[i * L + k] = s > 0 ? (float)(exp((double)z[k] - lse) - t) * scale : 0.0f;
        }
    }
    return sum;
}

double reel_cpu_head(reel_nn_head head, const float *Z, const float *Y, size_t n, size_t L, float *G, float *P)
{
    return head == REEL_HEAD_SIGMOID ? sigmoid_head(Z, Y, n, L, G, P) : softmax_head(Z, Y, n, L, G, P);
}

/* In float with the scalars rounded to float, in torch's order:
 *   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps) */
void reel_cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, const reel_adamw *o, long step)
{
    float decay = (float)(1.0 - o->lr * o->weight_decay);
    float b1 = (float)o->beta1, c1 = (float)(1.0 - o->beta1);
    float b2 = (float)o->beta2, c2 = (float)(1.0 - o->beta2);
    float step_size = (float)(o->lr / (1.0 - pow(o->beta1, (double)step)));
    float bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, (double)step));
    float eps = (float)o->eps;
    for (size_t i = 0; i < n; i++) {
        p[i] *= decay;
        m[i] = m[i] * b1 + g[i] * c1;
        v[i] = v[i] * b2 + g[i] * g[i] * c2;
        p[i] -= step_size * (m[i] / (sqrtf(v[i]) / bc2_sqrt + eps));
    }
}
