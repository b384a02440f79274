/* What the report shows, worked out once from a reel_report (report_view.c)
 * and then written twice, as HTML (report_html.c) and as Markdown
 * (report_md.c). */
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

void report_write_html(FILE *fp, const report_view *v);
void report_write_md(FILE *fp, const report_view *v);

#endif
