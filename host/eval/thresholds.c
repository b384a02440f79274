#include "eval/thresholds.h"

#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"

typedef struct {
    float p;
    uint8_t y;
} scored;

static int by_p_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x < y) - (x > y);
}

void reel_tune_thresholds_per_label(const float *P, const uint8_t *Y, size_t n, size_t L, float *t)
{
    scored *s = malloc((n ? n : 1) * sizeof *s);
    for (size_t k = 0; k < L; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            s[i] = (scored){P[i * L + k], Y[i * L + k]};
            pos += Y[i * L + k];
        }
        qsort(s, n, sizeof *s, by_p_desc);
        /* Predicting the top j rows: tp = positives among them. Only cuts
         * between distinct values are possible. */
        double best = -1;
        size_t best_j = 0, tp = 0;
        for (size_t j = 0; j <= n; j++) {
            if (j > 0)
                tp += s[j - 1].y;
            if (j > 0 && j < n && s[j].p == s[j - 1].p)
                continue;
            double f1 = (pos + j) ? 2.0 * (double)tp / (double)(pos + j) : 0.0;
            if (f1 > best) {
                best = f1;
                best_j = j;
            }
        }
        if (n == 0)
            t[k] = 0.5f;
        else if (best_j == 0)
            t[k] = s[0].p; /* predict nothing: nothing is > the maximum */
        else if (best_j == n)
            t[k] = s[n - 1].p > 0 ? s[n - 1].p * 0.5f : s[n - 1].p - 1e-6f;
        else
            t[k] = 0.5f * (s[best_j - 1].p + s[best_j].p);
    }
    free(s);
}

float reel_tune_threshold_global(const float *P, const uint8_t *Y, size_t n, size_t L)
{
    /* Candidates: 199 evenly spaced values in (0, 1) plus 0.5 itself. */
    uint8_t *pred = malloc((n ? n : 1) * (L ? L : 1));
    float best_t = 0.5f, *tl = malloc((L ? L : 1) * sizeof *tl);
    double best = -1;
    for (int c = 0; c <= 200; c++) {
        float t = c == 200 ? 0.5f : (float)(c + 1) / 201.0f;
        for (size_t k = 0; k < L; k++)
            tl[k] = t;
        reel_threshold(P, tl, n, L, pred);
        reel_metrics m;
        reel_metrics_compute(&m, Y, pred, n, L);
        if (m.samples_f1 > best) {
            best = m.samples_f1;
            best_t = t;
        }
        reel_metrics_free(&m);
    }
    free(pred);
    free(tl);
    return best_t;
}
