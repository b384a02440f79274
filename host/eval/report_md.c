/* report.md: the report's tables in Markdown (the charts are in
 * report.html). Text from the data is backslash-escaped so that a title
 * with | or * or < cannot break a table or turn into markup. */
#include <math.h>
#include <string.h>

#include "eval/calibration.h"
#include "eval/report_view.h"

/* Markdown text: punctuation that could start markup gets a backslash,
 * line breaks become spaces (a table row is one line). */
static void md(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (strchr("\\`*_[]<>|~&#!", c))
            fputc('\\', fp);
        fputc(c < 0x20 ? ' ' : (int)c, fp);
    }
}

/* Under the header row, the alignment row: "|---|--:|". */
static void md_head_close(FILE *fp, const report_col *cols, size_t n)
{
    fputs("\n|", fp);
    for (size_t c = 0; c < n; c++)
        fputs(cols[c].right ? "--:|" : "---|", fp);
    fputc('\n', fp);
}

static void md_row_open(FILE *fp, const char *cls)
{
    (void)cls;
    fputc('|', fp);
}

static void md_cell_open(FILE *fp, const char *cls, const char *title)
{
    (void)cls;
    (void)title; /* rule details follow the leaderboard instead */
    fputc(' ', fp);
}

/* After the header's lines and the params (the features are in
 * report.html only). */
static void meta_end(FILE *fp, const report_view *v)
{
    fprintf(fp, "\n\nThe charts (scores, training curves%s) are in report.html.\n",
            v->target == REEL_TARGET_MULTILABEL ? ", F1 per genre" : "");
}

static void page_open(FILE *fp, const report_view *v)
{
    (void)fp;
    (void)v;
}

static void heading(FILE *fp, const char *id, const char *text)
{
    (void)id;
    fputs("\n## ", fp);
    md(fp, text);
    fputs("\n\n", fp);
}

static void table_open(FILE *fp, const char *cls)
{
    (void)fp;
    (void)cls;
}

/* Rule details follow the leaderboard (report.html shows them on hover). */
static void leaderboard_end(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    int any = 0;
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        if (!m->rule_detail || !*m->rule_detail)
            continue;
        fputs(any ? "- " : "\nRule details (where a rule does not cut at the model's own thresholds):\n\n- ", fp);
        md(fp, m->name);
        fputs(": ", fp);
        md(fp, m->rule_detail);
        fputs("\n", fp);
        any = 1;
    }
}

/* One model's row of the training table (report_walk.c writes its head first). */
static void training(FILE *fp, const reel_report_model *m)
{
    size_t last = m->epochs - 1;
    fputs("| ", fp);
    md(fp, m->name);
    fprintf(fp, " | %zu | ", m->epochs);
    if (m->train_loss)
        fprintf(fp, "%.4f", m->train_loss[last]);
    fputs(" | ", fp);
    if (m->valid_loss)
        fprintf(fp, "%.4f", m->valid_loss[last]);
    fputs(" | ", fp);
    if (m->valid_f1) {
        size_t at = report_best_valid_epoch(m);
        fprintf(fp, "%.4f | %zu | ", m->valid_f1[at], at + 1);
    } else {
        fputs(" |  | ", fp);
    }
    if (m->kept_epoch > 0)
        fprintf(fp, "%ld%s", m->kept_epoch, m->kept_average ? " (averaged)" : "");
    fputs(" |\n", fp);
}

/* The rest of a table's header after "| model |": a numeric column per
 * genre, then `last` when given, and the alignment row. */
static void genre_columns(FILE *fp, const reel_report *r, const char *last)
{
    for (size_t j = 0; j < r->L; j++) {
        fputc(' ', fp);
        md(fp, r->labels[j]);
        fputs(" |", fp);
    }
    if (last)
        fprintf(fp, " %s |", last);
    fputs("\n|---|", fp);
    for (size_t j = 0; j < r->L + (last != NULL); j++)
        fputs("--:|", fp);
    fputc('\n', fp);
}

static void per_genre(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    fputs("\n## F1 per genre\n\n| model |", fp);
    genre_columns(fp, r, NULL);
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        fputs("| ", fp);
        md(fp, m->name);
        fputs(" |", fp);
        for (size_t j = 0; j < r->L; j++)
            fprintf(fp, " %.2f |", m->metrics->label_f1[j]);
        fputc('\n', fp);
    }
}

static void calibration(FILE *fp, const report_view *v)
{
    const reel_report *r = v->r;
    size_t L = r->L;
    fputs("\n## Calibration per genre\n\nBrier score per genre on the test rows (mean squared gap between "
          "probability and truth; lower is better).\n\n",
          fp);
    report_table_brier(fp, v, &REPORT_MD);
    fputs("\nReliability of the best model, ", fp);
    md(fp, v->best->name);
    fputs(": per genre, the films in each bin of predicted probability as `mean probability -> observed "
          "share (films)`.\n\n| genre | bins |\n|---|---|\n",
          fp);
    for (size_t j = 0; j < L; j++) {
        reel_calibration c;
        reel_calibration_compute(&c, v->best->P, r->Y, r->n_test, L, j);
        fputs("| ", fp);
        md(fp, r->labels[j]);
        fputs(" |", fp);
        for (size_t b = 0; b < REEL_CAL_BINS; b++)
            if (c.count[b])
                fprintf(fp, " %.2f -> %.2f (%zu);", c.mean_p[b], c.frac_pos[b], c.count[b]);
        fputs(" |\n", fp);
    }
}

static void confusion(FILE *fp, const report_view *v)
{
    fputs("\n## Genre confusion\n\nFor the best model, ", fp);
    md(fp, v->best->name);
    fputs(": test films where the first genre is true but missed while the second is predicted but "
          "wrong.\n\n",
          fp);
    if (v->n_pairs == 0) {
        fputs("No such films.\n", fp);
        return;
    }
    report_table_confusion(fp, v, &REPORT_MD, "of the films with the true genre");
}

static const report_section SECTIONS[] = {per_genre, calibration, confusion, NULL};

/* A table row is "| a | b |": each cell " text |". Predicted labels:
 * **right**, ~~wrong~~. */
const report_markup REPORT_MD = {
    .text = md, .row_open = md_row_open, .row_close = "\n", .cell_open = md_cell_open, .cell_close = " |",
    .head_left = {" ", " |"}, .head_right = {" ", " |"}, .head_close = md_head_close,
    .right = {"**", "**"}, .wrong = {"~~", "~~"}, .none = "none", .prob_sep = ", ",
    .baseline_suffix = " (baseline)",
    .page_open = page_open, .page_close = "",
    .title = {"# ", "\n"}, .meta_open = "\n- %s: ", .meta_close = "",
    .rows_format = "%zu (%zu train, %zu validation, %zu test)", .labels_open = "\n- Labels (%zu): ",
    .code = {"", ""}, .strong = {"**", "**"}, .params = {"", ""}, .no_params = "",
    .param = {"\n- Params of ", ": ", ""}, .meta_end = meta_end,
    .heading = heading, .note = {"", "\n\n"}, .table_open = table_open, .table_close = "",
    .no_models = "\nNo models were compared.\n",
    .leaderboard_note = "Scores on the test rows, best samples-F1 first, each model under the decision rule "
                        "chosen on the validation rows (rule); F1 @0.5 is its samples-F1 at its own thresholds "
                        "(0.5 unless its params or kind set them).",
    .leaderboard_end = leaderboard_end,
    .training_heading = "\n## Training\n\n| model | epochs | last train loss | last validation loss | best "
                        "validation F1 | at epoch | weights kept from epoch |\n|---|--:|--:|--:|--:|--:|--:|\n",
    .trained = training, .sections = SECTIONS, .examples_probs = "",
};
