/* A binary or multiclass target's metrics (eval/metrics.h), as
 * scikit-learn's accuracy_score, f1_score (average macro and binary),
 * log_loss and roc_auc_score compute them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

/* ROC AUC from the positive class's scores: the Mann-Whitney statistic,
 * tied scores sharing their mean rank. NaN when one class is absent. */
typedef struct {
    float s;
    uint8_t y;
} scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

static int roc_auc(const float *score, const size_t *cls, size_t n, double *auc)
{
    scored *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = cls[i] == 1;
        pos += v[i].y;
    }
    qsort(v, n, sizeof *v, by_score);
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s)
            j++;
        double mean_rank = ((double)i + 1 + (double)j) / 2.0; /* ranks i+1..j */
        for (size_t k = i; k < j; k++)
            rank_sum += v[k].y ? mean_rank : 0.0;
        i = j;
    }
    free(v);
    size_t neg = n - pos;
    *auc = pos && neg ? (rank_sum - (double)pos * ((double)pos + 1) / 2.0) / ((double)pos * (double)neg) : NAN;
    return 0;
}

int reel_metrics_add_classes(reel_metrics *m, reel_target_kind target, char *const *classes, const uint8_t *Y,
                             const float *P, const uint8_t *pred, size_t n, size_t L)
{
    m->target = target;
    if (target == REEL_TARGET_MULTILABEL)
        return 0;
    size_t K = reel_target_columns(target, L), Ks = K ? K : 1, ns = n ? n : 1;
    m->K = K;
    m->class_precision = calloc(Ks, sizeof(double));
    m->class_recall = calloc(Ks, sizeof(double));
    m->class_f1 = calloc(Ks, sizeof(double));
    m->class_support = calloc(Ks, sizeof(size_t));
    m->class_names = calloc(Ks, sizeof(char *));
    size_t *truth = malloc(ns * sizeof *truth), *guess = malloc(ns * sizeof *guess);
    size_t *tp = calloc(Ks, sizeof *tp), *fp = calloc(Ks, sizeof *fp), *fn = calloc(Ks, sizeof *fn);
    float *Pc = malloc(ns * Ks * sizeof *Pc);
    int rc = -1;
    if (!m->class_precision || !m->class_recall || !m->class_f1 || !m->class_support || !m->class_names || !truth ||
        !guess || !tp || !fp || !fn || !Pc)
        goto done;
    for (size_t c = 0; c < K; c++) { /* classes NULL (a model fitted without names): their numbers */
        char num[24];
        snprintf(num, sizeof num, "%zu", c);
        if (!(m->class_names[c] = strdup(classes ? classes[c] : num)))
            goto done;
    }
    reel_target_class_of_rows(target, Y, n, L, truth);
    reel_target_class_of_rows(target, pred, n, L, guess);
    reel_target_class_proba(target, P, n, L, Pc);
    size_t right = 0;
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t t = truth[i], g = guess[i];
        right += t == g;
        tp[t] += t == g;
        fn[t] += t != g;
        fp[g] += t != g;
        double p = Pc[i * K + t];
        p = p < FLT_EPSILON ? FLT_EPSILON : p > 1.0 - FLT_EPSILON ? 1.0 - FLT_EPSILON : p;
        loss -= log(p);
    }
    size_t present = 0;
    double f1_sum = 0.0;
    for (size_t c = 0; c < K; c++) {
        m->class_support[c] = tp[c] + fn[c];
        m->class_precision[c] = ratio((double)tp[c], (double)(tp[c] + fp[c]));
        m->class_recall[c] = ratio((double)tp[c], (double)(tp[c] + fn[c]));
        m->class_f1[c] = ratio(2.0 * (double)tp[c], (double)(2 * tp[c] + fp[c] + fn[c]));
        if (tp[c] + fp[c] + fn[c]) { /* scikit-learn averages over the classes seen in either */
            present++;
            f1_sum += m->class_f1[c];
        }
    }
    m->accuracy = ratio((double)right, (double)n);
    m->class_macro_f1 = ratio(f1_sum, (double)present);
    m->log_loss = ratio(loss, (double)n);
    m->f1 = K == 2 ? m->class_f1[1] : 0.0;
    m->roc_auc = NAN;
    if (target == REEL_TARGET_BINARY && roc_auc(P, truth, n, &m->roc_auc))
        goto done;
    rc = 0;
done:
    free(truth);
    free(guess);
    free(tp);
    free(fp);
    free(fn);
    free(Pc);
    return rc;
}
