#include "eval/metrics.h"

#include <stdlib.h>
#include <string.h>

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

void reel_metrics_free(reel_metrics *m)
{
    free(m->label_precision);
    free(m->label_recall);
    free(m->label_f1);
    free(m->support);
    free(m->class_precision);
    free(m->class_recall);
    free(m->class_f1);
    free(m->class_support);
    for (size_t c = 0; m->class_names && c < m->K; c++)
        free(m->class_names[c]);
    free(m->class_names);
    memset(m, 0, sizeof *m);
}

int reel_metrics_compute(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->L = L;
    size_t Ls = L ? L : 1;
    m->label_precision = calloc(Ls, sizeof(double));
    m->label_recall = calloc(Ls, sizeof(double));
    m->label_f1 = calloc(Ls, sizeof(double));
    m->support = calloc(Ls, sizeof(size_t));
    size_t *tp = calloc(Ls, sizeof *tp), *fp = calloc(Ls, sizeof *fp), *fn = calloc(Ls, sizeof *fn);
    if (!m->label_precision || !m->label_recall || !m->label_f1 || !m->support || !tp || !fp || !fn) {
        free(tp);
        free(fp);
        free(fn);
        reel_metrics_free(m);
        return -1;
    }
    size_t correct_cells = 0, exact_rows = 0;
    double sp = 0, sr = 0, sf = 0;
    for (size_t i = 0; i < n; i++) {
        size_t rtp = 0, rfp = 0, rfn = 0;
        for (size_t k = 0; k < L; k++) {
            int y = Y[i * L + k] != 0, p = P[i * L + k] != 0;
            rtp += y && p;
            rfp += !y && p;
            rfn += y && !p;
            tp[k] += y && p;
            fp[k] += !y && p;
            fn[k] += y && !p;
        }
        correct_cells += L - rfp - rfn;
        exact_rows += rfp + rfn == 0;
        sp += ratio((double)rtp, (double)(rtp + rfp));
        sr += ratio((double)rtp, (double)(rtp + rfn));
        sf += ratio(2.0 * (double)rtp, (double)(2 * rtp + rfp + rfn));
    }
    m->samples_precision = ratio(sp, (double)n);
    m->samples_recall = ratio(sr, (double)n);
    m->samples_f1 = ratio(sf, (double)n);
    m->hamming_accuracy = ratio((double)correct_cells, (double)n * (double)L);
    m->subset_accuracy = ratio((double)exact_rows, (double)n);
    size_t TP = 0, FP = 0, FN = 0;
    for (size_t k = 0; k < L; k++) {
        TP += tp[k];
        FP += fp[k];
        FN += fn[k];
        m->support[k] = tp[k] + fn[k];
        m->label_precision[k] = ratio((double)tp[k], (double)(tp[k] + fp[k]));
        m->label_recall[k] = ratio((double)tp[k], (double)(tp[k] + fn[k]));
        m->label_f1[k] = ratio(2.0 * (double)tp[k], (double)(2 * tp[k] + fp[k] + fn[k]));
        m->macro_precision += m->label_precision[k];
        m->macro_recall += m->label_recall[k];
        m->macro_f1 += m->label_f1[k];
    }
    m->macro_precision = ratio(m->macro_precision, (double)L);
    m->macro_recall = ratio(m->macro_recall, (double)L);
    m->macro_f1 = ratio(m->macro_f1, (double)L);
    m->micro_precision = ratio((double)TP, (double)(TP + FP));
    m->micro_recall = ratio((double)TP, (double)(TP + FN));
    m->micro_f1 = ratio(2.0 * (double)TP, (double)(2 * TP + FP + FN));
    free(tp);
    free(fp);
    free(fn);
    return 0;
}

/* A metric over no rows was not measured: null, never a 0 a reader would take for a score. */
static void add_measured(cJSON *j, const char *key, double v, size_t n)
{
    if (n)
        cJSON_AddNumberToObject(j, key, v);
    else
        cJSON_AddNullToObject(j, key);
}

int reel_metrics_compute_labelled(reel_metrics *m, const uint8_t *Y, const uint8_t *P, size_t n, size_t L,
                                  int keep_unlabeled, size_t *left_out)
{
    memset(m, 0, sizeof *m);
    size_t Ls = L ? L : 1, kept = 0;
    uint8_t *y = malloc(n * Ls + 1), *p = malloc(n * Ls + 1);
    if (!y || !p) {
        free(y);
        free(p);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int any = keep_unlabeled;
        for (size_t k = 0; k < L && !any; k++)
            any = Y[i * L + k] != 0;
        if (!any)
            continue;
        memcpy(y + kept * L, Y + i * L, L);
        memcpy(p + kept * L, P + i * L, L);
        kept++;
    }
    *left_out = n - kept;
    int rc = kept ? reel_metrics_compute(m, y, p, kept, L) : -1;
    free(y);
    free(p);
    return rc;
}

/* j[key]: one {name_key, "precision", "recall", "f1", "support"} per entry
 * (a label, or a class). */
static void add_per_entry(cJSON *j, const char *key, const char *name_key, char *const *names, size_t count,
                          const double *precision, const double *recall, const double *f1, const size_t *support,
                          size_t n)
{
    cJSON *per = cJSON_AddArrayToObject(j, key);
    for (size_t k = 0; k < count; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, name_key, names[k]);
        add_measured(o, "precision", precision[k], n);
        add_measured(o, "recall", recall[k], n);
        add_measured(o, "f1", f1[k], n);
        cJSON_AddNumberToObject(o, "support", (double)support[k]);
        cJSON_AddItemToArray(per, o);
    }
}

static cJSON *class_metrics_json(const reel_metrics *m)
{
    char *const *classes = m->class_names;
    cJSON *j = cJSON_CreateObject();
    size_t n = m->n;
    add_measured(j, "accuracy", m->accuracy, n);
    add_measured(j, "macro_f1", m->class_macro_f1, n);
    add_measured(j, "log_loss", m->log_loss, n);
    if (m->target == REEL_TARGET_BINARY) {
        add_measured(j, "f1", m->f1, n);
        add_measured(j, "roc_auc", m->roc_auc, n && m->roc_auc == m->roc_auc);
    }
    add_per_entry(j, "per_class", "class", classes, m->K, m->class_precision, m->class_recall, m->class_f1,
                  m->class_support, n);
    return j;
}

cJSON *reel_metrics_to_json(const reel_metrics *m, char *const *labels)
{
    if (m->target != REEL_TARGET_MULTILABEL && m->K)
        return class_metrics_json(m);
    cJSON *j = cJSON_CreateObject();
    size_t n = m->n;
    add_measured(j, "samples_f1", m->samples_f1, n);
    add_measured(j, "samples_precision", m->samples_precision, n);
    add_measured(j, "samples_recall", m->samples_recall, n);
    add_measured(j, "micro_f1", m->micro_f1, n);
    add_measured(j, "micro_precision", m->micro_precision, n);
    add_measured(j, "micro_recall", m->micro_recall, n);
    add_measured(j, "macro_f1", m->macro_f1, n);
    add_measured(j, "macro_precision", m->macro_precision, n);
    add_measured(j, "macro_recall", m->macro_recall, n);
    add_measured(j, "hamming_accuracy", m->hamming_accuracy, n);
    add_measured(j, "subset_accuracy", m->subset_accuracy, n);
    add_per_entry(j, "per_label", "label", labels, m->L, m->label_precision, m->label_recall, m->label_f1,
                  m->support, n);
    return j;
}

void reel_threshold(const float *prob, const float *threshold, size_t n, size_t L, uint8_t *pred)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < L; k++)
            pred[i * L + k] = prob[i * L + k] > threshold[k];
}

double reel_metric_by_name(const reel_metrics *m, const char *name)
{
    if (m->target != REEL_TARGET_MULTILABEL) {
        if (strcmp(name, "accuracy") == 0 || strcmp(name, "samples-f1") == 0 || strcmp(name, "micro-f1") == 0)
            return m->accuracy;
        if (strcmp(name, "macro-f1") == 0)
            return m->class_macro_f1;
        if (m->target == REEL_TARGET_BINARY && strcmp(name, "f1") == 0)
            return m->f1;
        if (m->target == REEL_TARGET_BINARY && strcmp(name, "roc-auc") == 0)
            return m->roc_auc;
        return -1;
    }
    if (strcmp(name, "samples-f1") == 0)
        return m->samples_f1;
    if (strcmp(name, "micro-f1") == 0)
        return m->micro_f1;
    if (strcmp(name, "macro-f1") == 0)
        return m->macro_f1;
    return -1;
}
