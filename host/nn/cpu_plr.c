#include "nn/cpu_plr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cpu_ops.h"
#include "nn_layout.h" /* kernels/: the dropout masks every device computes */

int reel_cpu_plr_init(reel_cpu_plr *p, const reel_nn_spec *s)
{
    memset(p, 0, sizeof *p);
    p->d = s->d;
    p->k = s->plr.k;
    p->width = s->plr.width;
    p->num = malloc((s->d ? s->d : 1) * sizeof *p->num);
    p->pass = malloc((s->d ? s->d : 1) * sizeof *p->pass);
    if (!p->num || !p->pass) {
        reel_cpu_plr_free(p);
        return -1;
    }
    size_t np = 0;
    for (size_t j = 0; j < s->d; j++) {
        if (!s->plr.numeric || s->plr.numeric[j])
            p->num[p->n_num++] = j;
        else
            p->pass[np++] = j;
    }
    return 0;
}

void reel_cpu_plr_free(reel_cpu_plr *p)
{
    free(p->num);
    free(p->pass);
    memset(p, 0, sizeof *p);
}

size_t reel_cpu_plr_out(const reel_cpu_plr *p) { return p->n_num * p->width + (p->d - p->n_num); }

void reel_cpu_plr_forward(const reel_cpu_plr *p, const reel_nn_spec *s, const float *params, const float *X,
                          size_t n, float *E, float *F, int threads)
{
    const float *c = params + s->plr.c_off, *W = params + s->plr.w_off, *b = params + s->plr.b_off;
    size_t k = p->k, e = p->width, out = reel_cpu_plr_out(p), k2 = 2 * k;
#pragma omp parallel num_threads(threads) if (threads > 1 && n >= REEL_CPU_PAR_ROWS)
    {
        float *f = malloc((k2 ? k2 : 1) * sizeof *f); /* one column's [sin v, cos v] */
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float *x = X + i * p->d;
            float *y = E + i * out;
            for (size_t q = 0; q < p->n_num; q++) {
                double xv = x[p->num[q]];
                float *fq = F ? F + (i * p->n_num + q) * k2 : f;
                for (size_t t = 0; t < k; t++) {
                    double v = REEL_NN_TWO_PI * (double)c[q * k + t] * xv;
                    fq[t] = (float)sin(v);
                    fq[k + t] = (float)cos(v);
                }
                for (size_t o = 0; o < e; o++) {
                    const float *w = W + (q * e + o) * k2;
                    float z = b[q * e + o];
                    for (size_t t = 0; t < k2; t++)
                        z += w[t] * fq[t];
                    y[q * e + o] = z > 0 ? z : 0;
                }
            }
            for (size_t r = 0; r < p->d - p->n_num; r++)
                y[p->n_num * e + r] = x[p->pass[r]];
        }
        free(f);
    }
}

void reel_cpu_plr_backward(const reel_cpu_plr *p, const reel_nn_spec *s, const float *params, const float *X,
                           const float *F, const float *E, const float *dE, size_t n, float *grads, int threads)
{
    const float *W = params + s->plr.w_off;
    float *dc = grads + s->plr.c_off, *dW = grads + s->plr.w_off, *db = grads + s->plr.b_off;
    size_t k = p->k, e = p->width, out = reel_cpu_plr_out(p), k2 = 2 * k;
    memset(dc, 0, p->n_num * k * sizeof *dc);
    memset(dW, 0, p->n_num * e * k2 * sizeof *dW);
    memset(db, 0, p->n_num * e * sizeof *db);
#pragma omp parallel num_threads(threads) if (threads > 1 && n >= REEL_CPU_PAR_ROWS)
    {
        float *df = malloc((k2 ? k2 : 1) * sizeof *df); /* d loss / d [sin v, cos v] of one row */
#pragma omp for schedule(static)
        for (size_t q = 0; q < p->n_num; q++) {
            for (size_t i = 0; i < n; i++) {
                const float *fq = F + (i * p->n_num + q) * k2;
                memset(df, 0, k2 * sizeof *df);
                for (size_t o = 0; o < e; o++) {
                    size_t at = i * out + q * e + o;
                    float g = E[at] > 0 ? dE[at] : 0.0f; /* through the ReLU */
                    if (g == 0.0f)
                        continue;
                    const float *w = W + (q * e + o) * k2;
                    float *gw = dW + (q * e + o) * k2;
                    db[q * e + o] += g;
                    for (size_t t = 0; t < k2; t++) {
                        gw[t] += g * fq[t];
                        df[t] += g * w[t];
                    }
                }
                /* d sin(v) / dc = cos(v) 2 pi x; d cos(v) / dc = -sin(v) 2 pi x */
                float xs = (float)(REEL_NN_TWO_PI * X[i * p->d + p->num[q]]);
                for (size_t t = 0; t < k; t++)
                    dc[q * k + t] += (df[t] * fq[k + t] - df[k + t] * fq[t]) * xs;
            }
        }
        free(df);
    }
}

void reel_cpu_dropout_mask(uint64_t seed, long step, size_t layer, size_t n, size_t width, float p, float *scale)
{
    uint64_t key = rk_dropout_key(seed, step, layer);
    rk_u32 cut = rk_dropout_cut(p);
    float kept = rk_dropout_kept(p);
    for (size_t q = 0; q < n * width; q++)
        scale[q] = rk_dropout_scale(key, q, cut, kept);
}
