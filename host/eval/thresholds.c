#include "eval/thresholds.h"

#include <stdlib.h>
#include <string.h>

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

/* Candidates: 199 evenly spaced values in (0, 1) plus 0.5 itself, tried
 * in this order (the first of equal scores wins). */
#define N_GLOBAL 201
static float global_candidate(int c) { return c == N_GLOBAL - 1 ? 0.5f : (float)(c + 1) / 201.0f; }

float reel_tune_threshold_global(const float *P, const uint8_t *Y, size_t n, size_t L)
{
    /* One pass over the cells instead of one per candidate: each row's
     * probabilities fall into the gaps between the sorted candidates, and
     * the labels a candidate predicts (P > t) are those in the gaps above
     * it. Each candidate's row F1s are summed in row order, as scoring
     * every candidate's predictions with reel_metrics_compute would. */
    float s[N_GLOBAL];
    int idx[N_GLOBAL];
    for (int c = 0; c < N_GLOBAL; c++) { /* insertion sort, ascending */
        int j = c;
        while (j > 0 && s[j - 1] > global_candidate(c)) {
            s[j] = s[j - 1];
            idx[j] = idx[j - 1];
            j--;
        }
        s[j] = global_candidate(c);
        idx[j] = c;
    }
    double sf[N_GLOBAL] = {0};
    size_t cnt[N_GLOBAL + 1], tp[N_GLOBAL + 1];
    for (size_t i = 0; i < n; i++) {
        memset(cnt, 0, sizeof cnt);
        memset(tp, 0, sizeof tp);
        size_t pos = 0;
        for (size_t k = 0; k < L; k++) {
            float p = P[i * L + k];
            size_t lo = 0, hi = N_GLOBAL; /* gap: how many candidates p exceeds */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (p > s[mid])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int y = Y[i * L + k] != 0;
            cnt[lo]++;
            tp[lo] += (size_t)y;
            pos += (size_t)y;
        }
        size_t npred = 0, rtp = 0;
        for (size_t j = N_GLOBAL; j-- > 0;) { /* candidate s[j] predicts the gaps above j */
            npred += cnt[j + 1];
            rtp += tp[j + 1];
            double den = (double)(npred + pos); /* 2 tp + fp + fn */
            sf[idx[j]] += den > 0 ? 2.0 * (double)rtp / den : 0.0;
        }
    }
    float best_t = 0.5f;
    double best = -1;
    for (int c = 0; c < N_GLOBAL; c++) {
        double f1 = n > 0 ? sf[c] / (double)n : 0.0;
        if (f1 > best) {
            best = f1;
            best_t = global_candidate(c);
        }
    }
    return best_t;
}
