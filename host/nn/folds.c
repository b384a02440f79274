#include "nn/folds.h"

#include <stdlib.h>
#include <string.h>

void reel_nn_folds_free(reel_nn_fold *f, size_t K)
{
    for (size_t k = 0; f && k < K; k++) {
        free(f[k].X);
        free(f[k].Xv);
        free(f[k].Y);
        free(f[k].Yv);
        free(f[k].held);
        memset(&f[k], 0, sizeof f[k]);
    }
}

int reel_nn_folds_make(reel_nn_fold *f, size_t K, const int *fold, const float *X, const uint8_t *Y, size_t n,
                       size_t d, size_t L, reel_error *err)
{
    memset(f, 0, K * sizeof *f);
    for (size_t k = 0; k < K; k++) {
        reel_nn_fold *m = &f[k];
        for (size_t i = 0; i < n; i++)
            m->nv += (size_t)fold[i] == k;
        m->n = n - m->nv;
        /* at least one of each, so an empty part is not a failed malloc */
        m->X = malloc((m->n ? m->n : 1) * d * sizeof *m->X);
        m->Xv = malloc((m->nv ? m->nv : 1) * d * sizeof *m->Xv);
        m->Y = malloc((m->n ? m->n : 1) * L);
        m->Yv = malloc((m->nv ? m->nv : 1) * L);
        m->held = malloc((m->nv ? m->nv : 1) * sizeof *m->held);
        if (!m->X || !m->Xv || !m->Y || !m->Yv || !m->held) {
            reel_nn_folds_free(f, K);
            return reel_fail(err, "out of memory for the cross-fitted members' rows (%zu x %zu)", n, d);
        }
        for (size_t i = 0, a = 0, b = 0; i < n; i++) {
            if ((size_t)fold[i] == k) {
                memcpy(m->Xv + b * d, X + i * d, d * sizeof *X);
                memcpy(m->Yv + b * L, Y + i * L, L);
                m->held[b++] = i;
            } else {
                memcpy(m->X + a * d, X + i * d, d * sizeof *X);
                memcpy(m->Y + a++ * L, Y + i * L, L);
            }
        }
    }
    return 0;
}
