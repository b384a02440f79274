/* The tables both reports hold, walked once: which rows and cells, in what
 * order, with what numbers. How a row, a cell or a mark looks is the
 * format's (report_markup: report_html.c, report_md.c). */
#include <math.h>
#include <stdlib.h>

#include "eval/calibration.h"
#include "eval/report_view.h"

size_t report_best_valid_epoch(const reel_report_model *m)
{
    size_t at = 0;
    for (size_t e = 1; e < m->epochs; e++)
        if (m->valid_f1[e] > m->valid_f1[at] || isnan(m->valid_f1[at]))
            at = e;
    return at;
}

void report_head_row(FILE *fp, const report_markup *mk, const report_col *cols, size_t n)
{
    mk->row_open(fp, NULL);
    for (size_t c = 0; c < n; c++) {
        const report_tag *t = cols[c].right ? &mk->head_right : &mk->head_left;
        fputs(t->open, fp);
        if (cols[c].escape)
            mk->text(fp, cols[c].text);
        else
            fputs(cols[c].text, fp);
        fputs(cols[c].suffix ? cols[c].suffix : "", fp);
        fputs(t->close, fp);
    }
    mk->head_close(fp, cols, n);
}

void report_cell(FILE *fp, const report_markup *mk, const char *cls, const char *text)
{
    mk->cell_open(fp, cls, NULL);
    mk->text(fp, text);
    fputs(mk->cell_close, fp);
}

void report_cell_num(FILE *fp, const report_markup *mk, const char *fmt, double x)
{
    mk->cell_open(fp, "num", NULL);
    fprintf(fp, fmt, x);
    fputs(mk->cell_close, fp);
}

void report_cell_count(FILE *fp, const report_markup *mk, size_t n)
{
    mk->cell_open(fp, "num", NULL);
    fprintf(fp, "%zu", n);
    fputs(mk->cell_close, fp);
}

void report_leader_row(FILE *fp, const report_view *v, const report_markup *mk, size_t k)
{
    const reel_report_model *m = &v->r->models[v->order[k]];
    int baseline = report_is_baseline(v, m);
    mk->row_open(fp, k == 0 ? "best" : baseline ? "baseline" : NULL);
    report_cell_count(fp, mk, k + 1);
    mk->cell_open(fp, "name", NULL);
    mk->text(fp, m->name);
    if (baseline)
        fputs(mk->baseline_suffix, fp);
    fputs(mk->cell_close, fp);
}

void report_table_leaderboard(FILE *fp, const report_view *v, const report_markup *mk)
{
    static const report_col cols[] = {
        {"#", NULL, 0, 1},           {"model", NULL, 0, 0},      {"samples-F1", NULL, 0, 1},
        {"precision", NULL, 0, 1},   {"recall", NULL, 0, 1},     {"micro-F1", NULL, 0, 1},
        {"macro-F1", NULL, 0, 1},    {"Hamming acc.", NULL, 0, 1}, {"subset acc.", NULL, 0, 1},
        {"F1 @0.5", NULL, 0, 1},     {"rule", NULL, 0, 0},       {"fit s", NULL, 0, 1},
        {"predict s", NULL, 0, 1},   {"device", NULL, 0, 0},
    };
    const reel_report *r = v->r;
    report_head_row(fp, mk, cols, sizeof cols / sizeof *cols);
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        const reel_metrics *s = m->metrics;
        report_leader_row(fp, v, mk, k);
        const double scores[] = {s->samples_f1,       s->samples_precision, s->samples_recall,
                                 s->micro_f1,         s->macro_f1,          s->hamming_accuracy,
                                 s->subset_accuracy,  m->samples_f1_untuned};
        for (size_t c = 0; c < sizeof scores / sizeof *scores; c++)
            report_cell_num(fp, mk, "%.4f", scores[c]);
        mk->cell_open(fp, "rule", m->rule_detail && *m->rule_detail ? m->rule_detail : NULL);
        mk->text(fp, m->rule ? m->rule : "");
        fputs(mk->cell_close, fp);
        report_cell_num(fp, mk, "%.3f", m->fit_seconds);
        report_cell_num(fp, mk, "%.3f", m->predict_seconds);
        report_cell(fp, mk, "device", m->device ? m->device : "");
        fputs(mk->row_close, fp);
    }
}

void report_table_brier(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    size_t L = r->L;
    report_col *cols = malloc((L + 2) * sizeof *cols);
    if (!cols)
        return;
    cols[0] = (report_col){"model", NULL, 0, 0};
    for (size_t j = 0; j < L; j++)
        cols[j + 1] = (report_col){r->labels[j], NULL, 1, 1};
    cols[L + 1] = (report_col){"mean", NULL, 0, 1};
    report_head_row(fp, mk, cols, L + 2);
    free(cols);
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        mk->row_open(fp, NULL);
        report_cell(fp, mk, "name", m->name);
        double sum = 0;
        for (size_t j = 0; j < L; j++) {
            reel_calibration c;
            reel_calibration_compute(&c, m->P, r->Y, r->n_test, L, j);
            report_cell_num(fp, mk, "%.4f", c.brier);
            sum += c.brier;
        }
        report_cell_num(fp, mk, "%.4f", L ? sum / (double)L : NAN);
        fputs(mk->row_close, fp);
    }
}

void report_table_confusion(FILE *fp, const report_view *v, const report_markup *mk, const char *share_heading)
{
    const reel_report *r = v->r;
    const report_col cols[] = {{"#", NULL, 0, 1},     {"true genre, missed", NULL, 0, 0},
                               {"predicted instead", NULL, 0, 0}, {"films", NULL, 0, 1},
                               {share_heading, NULL, 0, 1}};
    report_head_row(fp, mk, cols, sizeof cols / sizeof *cols);
    for (size_t k = 0; k < v->n_pairs; k++) {
        const report_pair *p = &v->pairs[k];
        mk->row_open(fp, NULL);
        report_cell_count(fp, mk, k + 1);
        report_cell(fp, mk, NULL, r->labels[p->a]);
        report_cell(fp, mk, NULL, r->labels[p->b]);
        report_cell_count(fp, mk, p->count);
        report_cell_num(fp, mk, "%.1f%%", p->support_a ? 100.0 * (double)p->count / (double)p->support_a : 0.0);
        fputs(mk->row_close, fp);
    }
}

/* The predicted labels of one film, each marked right or wrong. */
static void predicted(FILE *fp, const report_view *v, const report_markup *mk, const reel_report_model *m,
                      size_t row)
{
    size_t L = v->r->L;
    const uint8_t *y = v->r->Y + row * L, *p = m->pred + row * L;
    int any = 0;
    mk->cell_open(fp, NULL, NULL);
    for (size_t j = 0; j < L; j++) {
        if (!p[j])
            continue;
        fputs(any ? ", " : "", fp);
        fputs(y[j] ? mk->right.open : mk->wrong.open, fp);
        mk->text(fp, v->r->labels[j]);
        fputs(y[j] ? mk->right.close : mk->wrong.close, fp);
        any = 1;
    }
    if (!any)
        fputs(mk->none, fp);
    fputs(mk->cell_close, fp);
}

int report_examples_head(FILE *fp, const report_view *v, const report_markup *mk, const char *row,
                         const char *truth, int probs)
{
    const reel_report *r = v->r;
    size_t n_cols = 2 + (size_t)(probs != 0) + r->n_models;
    report_col *cols = malloc(n_cols * sizeof *cols);
    if (!cols)
        return -1;
    size_t c = 0;
    cols[c++] = (report_col){row, NULL, 0, 0};
    cols[c++] = (report_col){truth, NULL, 0, 0};
    if (probs)
        cols[c++] = (report_col){v->best->name, " probabilities", 1, 0};
    for (size_t k = 0; k < r->n_models; k++)
        cols[c++] = (report_col){r->models[v->order[k]].name, NULL, 1, 0};
    report_head_row(fp, mk, cols, n_cols);
    free(cols);
    return 0;
}

void report_table_examples(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    /* The best model's probabilities come before the model columns, so
     * that they stay in view when many models make the table scroll. */
    int probs = v->best && v->best->P;
    if (report_examples_head(fp, v, mk, "film", "true genres", probs))
        return;
    char buf[32];
    for (size_t e = 0; e < v->n_examples; e++) {
        size_t row = v->examples[e];
        mk->row_open(fp, "example");
        report_cell(fp, mk, NULL, report_row_name(v, row, buf, sizeof buf));
        mk->cell_open(fp, NULL, NULL);
        int any = 0;
        for (size_t j = 0; j < r->L; j++)
            if (r->Y[row * r->L + j]) {
                fputs(any ? ", " : "", fp);
                mk->text(fp, r->labels[j]);
                any = 1;
            }
        if (!any)
            fputs(mk->none, fp);
        fputs(mk->cell_close, fp);
        if (probs) {
            size_t top[REPORT_TOP_PROBS];
            size_t n_top = report_top_labels(v, v->best, row, top);
            mk->cell_open(fp, "probs", NULL);
            for (size_t t = 0; t < n_top; t++) {
                fputs(t ? mk->prob_sep : "", fp);
                mk->text(fp, r->labels[top[t]]);
                fprintf(fp, " %.2f", (double)v->best->P[row * r->L + top[t]]);
            }
            fputs(mk->cell_close, fp);
        }
        for (size_t k = 0; k < r->n_models; k++)
            predicted(fp, v, mk, &r->models[v->order[k]], row);
        fputs(mk->row_close, fp);
    }
}
