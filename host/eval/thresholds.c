#include "eval/thresholds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float p;
    uint8_t y;
    uint32_t key; /* orders p from the largest down */
    uint32_t row; /* where it came from (reel_label_sort) */
} scored;

/* s by decreasing p: a radix sort on the float's bits (4 stable passes of
 * a byte), an order that qsort by value would give but for ties, which
 * the cuts below never split. tmp: n. */
static void sort_desc(scored *s, scored *tmp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &s[i].p, sizeof b);
        b ^= (b >> 31) ? 0xffffffffu : 0x80000000u; /* increasing with p */
        s[i].key = ~b;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((s[i].key >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(s[i].key >> shift) & 0xff]++] = s[i];
        scored *x = s;
        s = tmp;
        tmp = x;
    } /* four passes: the sorted rows are back in s */
}

/* The cut of best F1 for one label from its rows sorted by decreasing p
 * (pos: its positives). The scan looks at tp only between distinct
 * values, so the order of equal p does not matter. */
static float best_cut(const scored *s, size_t n, size_t pos)
{
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
        return 0.5f;
    if (best_j == 0)
        return s[0].p; /* predict nothing: nothing is > the maximum */
    if (best_j == n)
        return s[n - 1].p > 0 ? s[n - 1].p * 0.5f : s[n - 1].p - 1e-6f;
    return 0.5f * (s[best_j - 1].p + s[best_j].p);
}

int reel_tune_thresholds_per_label(const float *P, const uint8_t *Y, size_t n, size_t L, float *t)
{
    scored *s = malloc(2 * (n ? n : 1) * sizeof *s);
    if (!s)
        return -1;
    for (size_t k = 0; k < L; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            s[i] = (scored){P[i * L + k], Y[i * L + k], 0, (uint32_t)i};
            pos += Y[i * L + k];
        }
        sort_desc(s, s + n, n);
        t[k] = best_cut(s, n, pos);
    }
    free(s);
    return 0;
}

struct reel_label_sort {
    size_t n, L;
    scored *s;   /* L runs of n: each label's rows by decreasing p */
    scored *sub; /* n: one subset's run */
};

reel_label_sort *reel_label_sort_new(const float *P, const uint8_t *Y, size_t n, size_t L)
{
    reel_label_sort *ls = calloc(1, sizeof *ls);
    size_t cells = (n ? n : 1) * (L ? L : 1);
    if (!ls || !(ls->s = malloc(cells * sizeof *ls->s)) || !(ls->sub = malloc((n ? n : 1) * sizeof *ls->sub))) {
        reel_label_sort_free(ls);
        return NULL;
    }
    ls->n = n;
    ls->L = L;
    for (size_t k = 0; k < L; k++) {
        scored *s = ls->s + k * n;
        for (size_t i = 0; i < n; i++)
            s[i] = (scored){P[i * L + k], Y[i * L + k], 0, (uint32_t)i};
        sort_desc(s, ls->sub, n);
    }
    return ls;
}

void reel_label_sort_tune(reel_label_sort *ls, const uint8_t *keep, float *t)
{
    size_t n = ls->n;
    for (size_t k = 0; k < ls->L; k++) {
        const scored *s = ls->s + k * n;
        size_t m = 0, pos = 0;
        for (size_t i = 0; i < n; i++)
            if (keep[s[i].row]) {
                ls->sub[m++] = s[i];
                pos += s[i].y;
            }
        t[k] = best_cut(ls->sub, m, pos);
    }
}

void reel_label_sort_free(reel_label_sort *ls)
{
    if (!ls)
        return;
    free(ls->s);
    free(ls->sub);
    free(ls);
}

/* Candidates: 199 evenly spaced values in (0, 1) plus 0.5 itself, tried
 * in this order (the first of equal scores wins). */
#define N_GLOBAL 201
#define GLOBAL_PAD 256 /* a power of two above it */
static float global_candidate(int c) { return c == N_GLOBAL - 1 ? 0.5f : (float)(c + 1) / 201.0f; }

int reel_tune_threshold_global(const float *P, const uint8_t *Y, size_t n, size_t L, float *t)
{
    /* One pass over the cells instead of one per candidate: each row's
     * probabilities fall into the gaps between the sorted candidates, and
     * the labels a candidate predicts (P > t) are those in the gaps above
     * it. Each candidate's row F1s are summed in row order, as scoring
     * every candidate's predictions with reel_metrics_compute would. */
    float s[GLOBAL_PAD]; /* ascending, then +inf (never exceeded) */
    int idx[N_GLOBAL], pos_of[N_GLOBAL];
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
    for (int j = 0; j < N_GLOBAL; j++)
        pos_of[idx[j]] = j;
    for (int j = N_GLOBAL; j < GLOBAL_PAD; j++)
        s[j] = INFINITY;
    double sf[N_GLOBAL] = {0}, fr[N_GLOBAL]; /* by sorted candidate: the sums, one row's F1 */
    uint32_t cnt[N_GLOBAL + 1] = {0}, tp[N_GLOBAL + 1] = {0};
    uint64_t used[GLOBAL_PAD / 64] = {0}; /* the gaps holding labels */
    size_t *gap = malloc((L ? L : 1) * sizeof *gap);
    if (!gap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* top: the candidates from the highest gap holding a positive label
         * up predict no positive, so the row's F1 there is +0, which adds
         * nothing to a sum: only those below are filled and summed. */
        size_t pos = 0, top = 0;
        for (size_t k = 0; k < L; k++) {
            float p = P[i * L + k];
            size_t lo = 0; /* gap: how many candidates p exceeds (a search without branches) */
            for (size_t half = GLOBAL_PAD / 2; half; half /= 2) /* a mask: compilers branched on `? half : 0` */
                lo += half & (0 - (size_t)(p > s[lo + half - 1]));
            int y = Y[i * L + k] != 0;
            gap[k] = lo;
            used[lo / 64] |= 1ull << (lo % 64);
            cnt[lo]++;
            tp[lo] += (uint32_t)y;
            pos += (size_t)y;
            top = y && lo > top ? lo : top;
        }
        /* Candidate s[j] predicts the gaps above j, so its F1 changes only
         * below a gap that holds labels: walk those from the top (a bitmap
         * of them), filling the candidates between with one value. */
        size_t npred = 0, rtp = 0, hi = N_GLOBAL;
        double f = 0.0; /* no label predicted: F1 0 */
        for (int w = GLOBAL_PAD / 64 - 1; w >= 0; w--) {
            while (used[w]) {
                int b = 63 - __builtin_clzll(used[w]);
                used[w] &= ~(1ull << b);
                size_t g = (size_t)(64 * w + b);
                if (g == 0)
                    continue; /* labels no candidate exceeds */
                for (size_t j = g; j < hi && j < top; j++)
                    fr[j] = f;
                hi = g;
                npred += cnt[g];
                rtp += tp[g];
                f = 2.0 * (double)rtp / (double)(npred + pos); /* 2 tp + fp + fn > 0 */
            }
        }
        for (size_t j = 0; j < hi && j < top; j++)
            fr[j] = f;
        for (size_t j = 0; j < top; j++)
            sf[j] += fr[j];
        for (size_t k = 0; k < L; k++)
            cnt[gap[k]] = tp[gap[k]] = 0;
    }
    free(gap);
    float best_t = 0.5f;
    double best = -1;
    for (int c = 0; c < N_GLOBAL; c++) {
        double f1 = n > 0 ? sf[pos_of[c]] / (double)n : 0.0;
        if (f1 > best) {
            best = f1;
            best_t = global_candidate(c);
        }
    }
    *t = best_t;
    return 0;
}
