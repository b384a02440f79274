/* The report's view: the ranking, the genre confusions and the example
 * films, worked out once from a reel_report, and the small lookups both
 * writers (report_html.c, report_md.c) share. */
#include "eval/report_view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

int report_is_baseline(const report_view *v, const reel_report_model *m)
{
    return m->is_baseline || (v->r->baseline && m->name && strcmp(v->r->baseline, m->name) == 0);
}

const char *report_row_name(const report_view *v, size_t row, char *buf, size_t n)
{
    if (v->r->ids && v->r->ids[row])
        return v->r->ids[row];
    snprintf(buf, n, "row %zu", row + 1);
    return buf;
}

size_t report_top(const float *p, size_t L, size_t out[REPORT_TOP_PROBS])
{
    size_t k = 0;
    /* Insertion into a short sorted list; ties keep the label order. */
    for (size_t j = 0; j < L; j++) {
        size_t at = k;
        while (at > 0 && p[j] > p[out[at - 1]])
            at--;
        if (at >= REPORT_TOP_PROBS)
            continue;
        size_t last = k < REPORT_TOP_PROBS ? k : REPORT_TOP_PROBS - 1;
        for (size_t t = last; t > at; t--)
            out[t] = out[t - 1];
        out[at] = j;
        if (k < REPORT_TOP_PROBS)
            k++;
    }
    return k;
}

size_t report_top_labels(const report_view *v, const reel_report_model *m, size_t row,
                         size_t out[REPORT_TOP_PROBS])
{
    size_t L = v->r->L;
    return m->P ? report_top(m->P + row * L, L, out) : 0;
}

/* NaN scores rank last; a class target ranks by accuracy. */
static double rank_score(const reel_report_model *m)
{
    double f = m->metrics->target == REEL_TARGET_MULTILABEL ? m->metrics->samples_f1 : m->metrics->accuracy;
    return isnan(f) ? -INFINITY : f;
}

/* Best samples-F1 first; equal scores keep the order they were given. */
static void rank_models(const reel_report *r, size_t *order)
{
    for (size_t i = 0; i < r->n_models; i++) {
        size_t at = i;
        while (at > 0 && rank_score(&r->models[i]) > rank_score(&r->models[order[at - 1]])) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
}

static int pair_before(const report_pair *x, const report_pair *y)
{
    if (x->count != y->count)
        return x->count > y->count;
    return x->a != y->a ? x->a < y->a : x->b < y->b;
}

static int find_pairs(report_view *v, reel_error *err)
{
    const reel_report *r = v->r;
    size_t L = r->L;
    size_t *count = calloc(L * L, sizeof *count);
    if (!count)
        return reel_fail(err, "report: out of memory");
    const uint8_t *pred = v->best->pred;
    for (size_t i = 0; i < r->n_test; i++) {
        const uint8_t *y = r->Y + i * L, *p = pred + i * L;
        for (size_t a = 0; a < L; a++) {
            if (!y[a] || p[a])
                continue;
            for (size_t b = 0; b < L; b++)
                if (p[b] && !y[b])
                    count[a * L + b]++;
        }
    }
    v->n_pairs = 0;
    for (size_t a = 0; a < L; a++)
        for (size_t b = 0; b < L; b++) {
            report_pair c = {a, b, count[a * L + b], 0};
            if (c.count == 0)
                continue;
            size_t at = v->n_pairs;
            while (at > 0 && pair_before(&c, &v->pairs[at - 1]))
                at--;
            if (at >= REPORT_PAIRS)
                continue;
            size_t last = v->n_pairs < REPORT_PAIRS ? v->n_pairs : REPORT_PAIRS - 1;
            for (size_t t = last; t > at; t--)
                v->pairs[t] = v->pairs[t - 1];
            v->pairs[at] = c;
            if (v->n_pairs < REPORT_PAIRS)
                v->n_pairs++;
        }
    free(count);
    for (size_t k = 0; k < v->n_pairs; k++)
        for (size_t i = 0; i < r->n_test; i++)
            v->pairs[k].support_a += r->Y[i * L + v->pairs[k].a] != 0;
    return 0;
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

/* The example films: a seeded shuffle of the test rows, first ten, shown
 * in row order. */
static int pick_examples(report_view *v, reel_error *err)
{
    size_t n = v->r->n_test;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return reel_fail(err, "report: out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    reel_rng rng;
    reel_rng_seed_stream(&rng, v->r->seed, 0x7265706f7274ULL); /* "report" */
    reel_rng_shuffle(&rng, idx, n);
    v->n_examples = n < REPORT_EXAMPLES ? n : REPORT_EXAMPLES;
    memcpy(v->examples, idx, v->n_examples * sizeof *idx);
    qsort(v->examples, v->n_examples, sizeof *idx, cmp_size);
    free(idx);
    return 0;
}

/* A class target's classes of each row, and the best model's class probabilities. */
static int class_view(report_view *v, reel_error *err)
{
    const reel_report *r = v->r;
    const reel_metrics *m = v->best->metrics;
    size_t n = r->n_test ? r->n_test : 1;
    v->target = m->target;
    v->K = m->K;
    v->classes = m->class_names;
    v->truth = malloc(n * sizeof *v->truth);
    v->predicted = malloc(n * r->n_models * sizeof *v->predicted);
    v->best_proba = v->best->P ? malloc(n * v->K * sizeof *v->best_proba) : NULL;
    if (!v->truth || !v->predicted || (v->best->P && !v->best_proba))
        return reel_fail(err, "report: out of memory");
    reel_target_class_of_rows(v->target, r->Y, r->n_test, r->L, v->truth);
    for (size_t k = 0; k < r->n_models; k++)
        reel_target_class_of_rows(v->target, r->models[k].pred, r->n_test, r->L, v->predicted + k * n);
    if (v->best_proba)
        reel_target_class_proba(v->target, v->best->P, r->n_test, r->L, v->best_proba);
    return 0;
}

int report_view_init(report_view *v, const reel_report *r, reel_error *err)
{
    memset(v, 0, sizeof *v);
    v->r = r;
    v->order = malloc((r->n_models ? r->n_models : 1) * sizeof *v->order);
    if (!v->order)
        return reel_fail(err, "report: out of memory");
    rank_models(r, v->order);
    v->best = r->n_models ? &r->models[v->order[0]] : NULL;
    int rc = pick_examples(v, err);
    if (rc == 0 && v->best)
        rc = v->best->metrics->target == REEL_TARGET_MULTILABEL ? find_pairs(v, err) : class_view(v, err);
    return rc;
}

void report_view_free(report_view *v)
{
    free(v->order);
    free(v->truth);
    free(v->predicted);
    free(v->best_proba);
    v->order = NULL;
    v->truth = v->predicted = NULL;
    v->best_proba = NULL;
}

const char *report_features(const reel_report *r, char *buf, size_t n)
{
    if (r->n_columns)
        snprintf(buf, n, "%zu column%s (%zu input%s once encoded)", r->n_columns, r->n_columns == 1 ? "" : "s", r->d,
                 r->d == 1 ? "" : "s");
    else
        snprintf(buf, n, "%zu input%s", r->d, r->d == 1 ? "" : "s");
    return buf;
}
