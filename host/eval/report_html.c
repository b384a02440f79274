/* report.html: one self-contained page (inline CSS, inline SVG, no scripts,
 * no fonts or images from elsewhere), written as well-formed XHTML-style
 * markup: every element closed and every text from the data escaped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/calibration.h"
#include "eval/charts.h"
#include "eval/report_view.h"
#include "eval/svg.h"

#define esc reel_xml_escape

static const char *STYLE =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
    "font-size:15px;line-height:1.45;color:#222;background:#fff;max-width:1240px;margin:24px auto;"
    "padding:0 20px}\n"
    "h1{font-size:26px;margin:0 0 12px}\n"
    "h2{font-size:20px;margin:36px 0 10px;padding-bottom:4px;border-bottom:1px solid #ddd}\n"
    "h3{font-size:16px;margin:18px 0 4px}\n"
    "p.note{color:#555;margin:4px 0 10px}\n"
    "table{border-collapse:collapse;margin:8px 0;font-size:14px}\n"
    "th,td{padding:5px 10px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}\n"
    "th{background:#f4f4f4;font-weight:600}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.best td{background:#eaf5ea}\n"
    "tr.baseline td{color:#666;font-style:italic}\n"
    "table.meta td:first-child{color:#555;padding-left:0}\n"
    "table.meta td{border:none;padding:2px 14px 2px 0}\n"
    ".scroll{overflow-x:auto}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}\n"
    "svg{font-family:inherit;display:block}\n"
    "svg .ax{font-size:12px;fill:#333}\n"
    "svg .lab{font-size:13px;fill:#222}\n"
    "svg .ttl{font-size:14px;font-weight:600;fill:#222}\n"
    "svg .leg{font-size:12.5px;fill:#222}\n"
    "svg .cell{font-size:12px;fill:#111}\n"
    "svg .cell.dark{fill:#fff}\n"
    ".ok{color:#11711a;font-weight:600;white-space:nowrap}\n"
    ".bad{color:#b3001b;text-decoration:line-through;white-space:nowrap}\n"
    ".none{color:#999}\n"
    "td.name{max-width:16em;overflow-wrap:break-word}\n"
    "td.rule{white-space:nowrap}\n"
    "td.device{white-space:nowrap}\n"
    "table.examples{font-size:13.5px}\n"
    "table.examples th{white-space:nowrap}\n"
    "table.examples td,table.examples th{padding:5px 7px}\n"
    "table.examples td:first-child{min-width:170px}\n"
    "td.probs{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    "code{font-size:13px;background:#f4f4f4;padding:1px 4px;border-radius:3px}\n"
    "footer{margin:40px 0 20px;color:#888;font-size:13px}\n";

static void html_head_close(FILE *fp, const report_col *cols, size_t n)
{
    (void)cols;
    (void)n;
    fputs("</tr>\n", fp);
}

static void html_row_open(FILE *fp, const char *cls)
{
    if (cls)
        fprintf(fp, "<tr class=\"%s\">", cls);
    else
        fputs("<tr>", fp);
}

/* A cell with a class (styles) and a title (shown on hover). */
static void html_cell_open(FILE *fp, const char *cls, const char *title)
{
    fputs("<td", fp);
    if (cls)
        fprintf(fp, " class=\"%s\"", cls);
    if (title) {
        fputs(" title=\"", fp);
        esc(fp, title);
        fputs("\"", fp);
    }
    fputs(">", fp);
}

static void html_text(FILE *fp, const char *s) { esc(fp, s); }

static void page_open(FILE *fp, const report_view *v)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
          fp);
    esc(fp, v->r->title ? v->r->title : "reel compare");
    fprintf(fp, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", STYLE);
}

/* After the header's lines and the params: the features, folded. */
static void meta_end(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    if (r->d > 0 && r->features) {
        fprintf(fp, "<details><summary>The %zu features</summary><p>", r->d);
        for (size_t j = 0; j < r->d; j++) {
            fputs(j ? ", " : "", fp);
            esc(fp, r->features[j]);
        }
        fputs("</p></details>\n", fp);
    }
}

static void heading(FILE *fp, const char *id, const char *text)
{
    fprintf(fp, "<h2 id=\"%s\">", id);
    esc(fp, text);
    fputs("</h2>\n", fp);
}

static void table_open(FILE *fp, const char *cls)
{
    if (cls)
        fprintf(fp, "<div class=\"scroll\"><table class=\"%s\">\n", cls);
    else
        fputs("<div class=\"scroll\"><table>\n", fp);
}

/* Samples-F1, precision and recall per model; a class target's accuracy and macro-F1. */
static void score_chart(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    int classes = v->target != REEL_TARGET_MULTILABEL;
    size_t n = r->n_models;
    const char **names = malloc(n * sizeof *names);
    double *f1 = malloc(n * sizeof *f1), *prec = malloc(n * sizeof *prec), *rec = malloc(n * sizeof *rec);
    if (names && f1 && prec && rec) {
        const reel_report_model *base = NULL;
        for (size_t k = 0; k < n; k++) {
            const reel_report_model *m = &r->models[v->order[k]];
            names[k] = m->name;
            f1[k] = classes ? m->metrics->accuracy : m->metrics->samples_f1;
            prec[k] = classes ? m->metrics->class_macro_f1 : m->metrics->samples_precision;
            rec[k] = m->metrics->samples_recall;
            if (r->baseline && strcmp(r->baseline, m->name) == 0)
                base = m;
        }
        chart_series series[3] = {{classes ? "accuracy" : "samples-F1", CHART_BLUE, f1, 0},
                                  {classes ? "macro-F1" : "samples precision", CHART_ORANGE, prec, 0},
                                  {"samples recall", CHART_GREEN, rec, 0}};
        char label[160];
        chart_refline ref = {0, label};
        if (base) {
            ref.value = classes ? base->metrics->accuracy : base->metrics->samples_f1;
            snprintf(label, sizeof label, classes ? "%s accuracy" : "%s F1", base->name);
        }
        fputs("<div class=\"scroll\">\n", fp);
        chart_grouped_bars(fp, classes ? "Scores per model" : "Samples scores per model", names, n, series,
                           classes ? 2 : 3, base ? &ref : NULL, "model", "score");
        fputs("</div>\n", fp);
        if (base) {
            fprintf(fp, "<p class=\"note\">The dashed line is the %s of the ", classes ? "accuracy" : "samples-F1");
            esc(fp, base->name);
            fputs(" baseline: a model below it has learnt nothing useful. Baselines are in grey italics in "
                  "the tables.</p>\n",
                  fp);
        }
    }
    free(names);
    free(f1);
    free(prec);
    free(rec);
}

/* One model's training curves (report_walk.c writes the heading first). */
static void training_curves(FILE *fp, const reel_report_model *m)
{
    fputs("<h3>", fp);
    esc(fp, m->name);
    fprintf(fp, "</h3>\n<p class=\"note\">%zu epochs", m->epochs);
    if (m->valid_f1) {
        size_t at = report_best_valid_epoch(m);
        fprintf(fp, "; best validation F1 %.4f at epoch %zu", m->valid_f1[at], at + 1);
    }
    if (m->kept_epoch > 0)
        fprintf(fp, "; the model keeps the %sweights of epoch %ld (the dotted line)",
                m->kept_average ? "averaged " : "", m->kept_epoch);
    fputs(".</p>\n<div class=\"charts\">\n", fp);
    chart_series loss[2] = {{"train loss", CHART_BLUE, m->train_loss, 0},
                            {"validation loss", CHART_VERMILION, m->valid_loss, 1}};
    size_t n_loss = 0;
    chart_series use[2];
    for (int s = 0; s < 2; s++)
        if (loss[s].values)
            use[n_loss++] = loss[s];
    if (n_loss)
        chart_lines(fp, "Loss", m->epochs, use, n_loss, "epoch", "loss", (size_t)m->kept_epoch);
    if (m->valid_f1) {
        chart_series f1 = {"validation samples-F1", CHART_GREEN, m->valid_f1, 0};
        chart_lines(fp, "Validation F1", m->epochs, &f1, 1, "epoch", "samples-F1", (size_t)m->kept_epoch);
    }
    fputs("</div>\n", fp);
}

static void genre_heatmap(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    size_t n = r->n_models, L = r->L;
    const char **names = malloc(n * sizeof *names);
    double *f1 = malloc(n * L * sizeof *f1);
    if (names && f1) {
        for (size_t k = 0; k < n; k++) {
            const reel_report_model *m = &r->models[v->order[k]];
            names[k] = m->name;
            memcpy(f1 + k * L, m->metrics->label_f1, L * sizeof *f1);
        }
        fputs("<h2 id=\"genres\">F1 per genre</h2>\n<p class=\"note\">Darker is better. Models in "
              "leaderboard order.</p>\n<div class=\"scroll\">\n",
              fp);
        chart_heatmap(fp, "F1 per genre and model", names, n, (const char *const *)r->labels, L, f1);
        fputs("</div>\n", fp);
    }
    free(names);
    free(f1);
}

/* Models drawn in each reliability diagram: the best few, so the lines stay apart. */
#define CAL_CURVES 4

static void calibration(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    size_t n = r->n_models, L = r->L;
    reel_calibration *cal = malloc((n ? n : 1) * (L ? L : 1) * sizeof *cal);
    if (!cal)
        return;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < L; j++)
            reel_calibration_compute(&cal[k * L + j], r->models[v->order[k]].P, r->Y, r->n_test, L, j);
    fputs("<h2 id=\"calibration\">Calibration per genre</h2>\n<p class=\"note\">Whether a model's "
          "probabilities mean what they say, on the test rows. Brier score: the mean squared gap between "
          "probability and truth (lower is better; predicting the genre's share for every film scores "
          "share &#215; (1 &#8722; share)). Reliability: films binned by predicted probability (ten equal "
          "bins, empty ones left out); a calibrated model follows the diagonal.</p>\n<div class=\"scroll\">"
          "<table>\n",
          fp);
    report_table_brier(fp, v, &REPORT_HTML);
    fputs("</table></div>\n", fp);
    size_t shown = n < CAL_CURVES ? n : CAL_CURVES;
    fprintf(fp, "<p class=\"note\">Reliability of the %zu best model%s by samples-F1.</p>\n", shown,
            shown == 1 ? "" : "s");
    static const char *const colors[CAL_CURVES] = {CHART_BLUE, CHART_VERMILION, CHART_GREEN, CHART_PURPLE};
    chart_xy legend[CAL_CURVES]; /* one legend for every panel */
    for (size_t k = 0; k < shown; k++)
        legend[k] = (chart_xy){r->models[v->order[k]].name, colors[k], NULL, NULL, 0, k % 2 == 1};
    chart_line_legend(fp, "Reliability legend", legend, shown);
    fputs("<div class=\"charts\">\n", fp);
    for (size_t j = 0; j < L; j++) {
        chart_xy xy[CAL_CURVES];
        for (size_t k = 0; k < shown; k++)
            xy[k] = (chart_xy){r->models[v->order[k]].name, colors[k], cal[k * L + j].mean_p,
                               cal[k * L + j].frac_pos, REEL_CAL_BINS, k % 2 == 1};
        chart_reliability(fp, r->labels[j], xy, shown);
    }
    fputs("</div>\n", fp);
    free(cal);
}

static void confusion(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    fputs("<h2 id=\"confusion\">Genre confusion</h2>\n<p class=\"note\">For the best model, <strong>", fp);
    esc(fp, v->best->name);
    fputs("</strong>: test films where the first genre is true but missed while the second is predicted "
          "but wrong.</p>\n",
          fp);
    if (v->n_pairs == 0) {
        fputs("<p>No such films: the best model never swapped one genre for another.</p>\n", fp);
        return;
    }
    fputs("<div class=\"charts\">\n<table>\n", fp);
    report_table_confusion(fp, v, &REPORT_HTML, "share of the<br/>true genre's films");
    fputs("</table>\n", fp);
    char *names[REPORT_PAIRS];
    double counts[REPORT_PAIRS];
    for (size_t k = 0; k < v->n_pairs; k++) {
        const report_pair *p = &v->pairs[k];
        size_t len = strlen(r->labels[p->a]) + strlen(r->labels[p->b]) + 8;
        names[k] = malloc(len);
        if (names[k])
            snprintf(names[k], len, "%s \xe2\x86\x92 %s", r->labels[p->a], r->labels[p->b]); /* an arrow */
        counts[k] = (double)p->count;
    }
    int ok = 1;
    for (size_t k = 0; k < v->n_pairs; k++)
        ok = ok && names[k];
    if (ok)
        chart_hbars(fp, "Films per confusion (true \xe2\x86\x92 predicted)", (const char *const *)names, counts,
                    v->n_pairs, CHART_VERMILION, "films");
    for (size_t k = 0; k < v->n_pairs; k++)
        free(names[k]);
    fputs("</div>\n", fp);
}

static const report_section SECTIONS[] = {genre_heatmap, calibration, confusion,
                                          NULL};

/* Predicted labels: right ones green, wrong ones struck; the baseline's
 * row is grey (a class), not named. */
const report_markup REPORT_HTML = {
    .text = html_text,
    .row_open = html_row_open,
    .row_close = "</tr>\n",
    .cell_open = html_cell_open,
    .cell_close = "</td>",
    .head_left = {"<th>", "</th>"},
    .head_right = {"<th class=\"num\">", "</th>"},
    .head_close = html_head_close,
    .right = {"<span class=\"ok\">", "</span>"},
    .wrong = {"<del class=\"bad\">", "</del>"},
    .none = "<span class=\"none\">none</span>",
    .prob_sep = "<br/>",
    .baseline_suffix = "",
    .page_open = page_open,
    .page_close = "<footer>Written by reel " REEL_VERSION ". Markdown version: report.md.</footer>\n</body>\n"
                  "</html>\n",
    .title = {"<h1>", "</h1>\n<table class=\"meta\">\n"},
    .meta_open = "<tr><td>%s</td><td>",
    .meta_close = "</td></tr>\n",
    .rows_format = "%zu: %zu train, %zu validation, %zu test",
    .labels_open = "<tr><td>Labels</td><td>%zu: ",
    .code = {"<code>", "</code>"},
    .strong = {"<strong>", "</strong>"},
    .params = {"</table>\n<details><summary>Each model's params</summary><table class=\"meta\">\n",
               "</table></details>\n"},
    .no_params = "</table>\n",
    .param = {"<tr><td>", "</td><td><code>", "</code></td></tr>\n"},
    .meta_end = meta_end,
    .heading = heading,
    .note = {"<p class=\"note\">", "</p>\n"},
    .table_open = table_open,
    .table_close = "</table></div>\n",
    .no_models = "<p>No models were compared.</p>\n",
    .leaderboard_note = "Scores on the test rows, best samples-F1 first. Samples scores average over films, "
                        "micro over all (film, genre) cells, macro over genres. Each model decides under the "
                        "rule chosen on the validation rows (rule; hover for its thresholds); F1 @0.5 is its "
                        "samples-F1 at its own thresholds (0.5 unless its params or kind set them).",
    .scores = score_chart,
    .training_heading = "<h2 id=\"training\">Training curves</h2>\n<p class=\"note\">Per epoch: the loss on the "
                        "training and validation rows, and samples-F1 on the validation rows.</p>\n",
    .trained = training_curves,
    .sections = SECTIONS,
    .examples_probs = " The third column gives the best model's highest probabilities.",
};
