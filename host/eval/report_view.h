/* What the report shows, worked out once from a reel_report (report_view.c)
 * and then written twice, as HTML (report_html.c) and as Markdown
 * (report_md.c); the tables both hold are walked once (report_tables.c)
 * with each format's markup. */
#ifndef REEL_REPORT_VIEW_H
#define REEL_REPORT_VIEW_H

#include <stdio.h>

#include "eval/report.h"

#define REPORT_EXAMPLES 10
#define REPORT_PAIRS 10
#define REPORT_TOP_PROBS 3

/* Label a true but not predicted while b predicted but not true, in
 * `count` test rows of the best model. */
typedef struct {
    size_t a, b, count;
    size_t support_a; /* test rows where a is true */
} report_pair;

typedef struct {
    const reel_report *r;
    size_t *order;                     /* model indices by samples-F1, best first */
    const reel_report_model *best;     /* models[order[0]], NULL without models */
    report_pair pairs[REPORT_PAIRS];   /* most frequent first */
    size_t n_pairs;
    size_t examples[REPORT_EXAMPLES];  /* test rows, ascending */
    size_t n_examples;
} report_view;

/* Ranks the models, finds the confusions and picks the examples;
 * report_view_free releases what it holds (also after a failure). */
int report_view_init(report_view *v, const reel_report *r, reel_error *err);
void report_view_free(report_view *v);

/* Whether model m is the random baseline the report marks. */
int report_is_baseline(const report_view *v, const reel_report_model *m);
/* The film's id, or "row N" when the report has no ids (buf holds it). */
const char *report_row_name(const report_view *v, size_t row, char *buf, size_t n);
/* The REPORT_TOP_PROBS labels of row with the highest probability under
 * model m, best first; returns how many (0 without probabilities). */
size_t report_top_labels(const report_view *v, const reel_report_model *m, size_t row,
                         size_t out[REPORT_TOP_PROBS]);

/* "16 columns (21 inputs once encoded)", as the CLI says it, into buf. */
const char *report_features(const reel_report *r, char *buf, size_t n);

/* The epoch (0-based) of m's best validation F1; m->valid_f1 is set. */
size_t report_best_valid_epoch(const reel_report_model *m);

/* How one format marks up the tables both reports hold (report_tables.c
 * walks them once; report_html.c and report_md.c fill this in). */
typedef struct {
    const char *text;   /* a header cell */
    const char *suffix; /* written after it, as it is (NULL: none) */
    int escape;         /* text comes from the data */
    int right;          /* numbers: aligned right */
} report_col;

/* What goes before and after a piece of text. */
typedef struct {
    const char *open, *close;
} report_tag;

typedef struct {
    void (*text)(FILE *fp, const char *s); /* text from the data, escaped */
    void (*row_open)(FILE *fp, const char *cls); /* cls: a class for the row, or NULL */
    const char *row_close;
    void (*cell_open)(FILE *fp, const char *cls, const char *title); /* either may be NULL */
    const char *cell_close;
    report_tag head_left, head_right; /* a header cell; right: over numbers */
    void (*head_close)(FILE *fp, const report_col *cols, size_t n); /* ends the header row */
    report_tag right, wrong; /* a predicted label that is true, and one that is not */
    const char *none;        /* an empty label set */
    const char *prob_sep;    /* between a row's top probabilities */
    const char *baseline_suffix; /* after the baseline's name on the leaderboard */
} report_markup;

/* The tables, header row and body (what surrounds them is the format's):
 * the leaderboard; the Brier score per model and label; the best model's
 * confusions (share_heading: the last column's heading, which each format
 * words its own way); the example films. */
void report_table_leaderboard(FILE *fp, const report_view *v, const report_markup *mk);
void report_table_brier(FILE *fp, const report_view *v, const report_markup *mk);
void report_table_confusion(FILE *fp, const report_view *v, const report_markup *mk, const char *share_heading);
void report_table_examples(FILE *fp, const report_view *v, const report_markup *mk);

void report_write_html(FILE *fp, const report_view *v);
void report_write_md(FILE *fp, const report_view *v);

#endif
