/* What the report shows, worked out once from a reel_report (report_view.c)
 * and then written twice, as HTML (report_html.c) and as Markdown
 * (report_md.c); the tables both hold are walked once (report_tables.c)
 * with each format's markup. */
#ifndef REEL_REPORT_VIEW_H
#define REEL_REPORT_VIEW_H

#include <stdio.h>

#include "eval/report.h"

typedef struct report_view report_view;
#define REPORT_EXAMPLES 10
#define REPORT_PAIRS 10
#define REPORT_TOP_PROBS 3

/* Label a true but not predicted while b predicted but not true, in
 * `count` test rows of the best model. */
typedef struct {
    size_t a, b, count;
    size_t support_a; /* test rows where a is true */
} report_pair;

struct report_view {
    const reel_report *r;
    size_t *order;                     /* model indices by samples-F1, best first */
    const reel_report_model *best;     /* models[order[0]], NULL without models */
    report_pair pairs[REPORT_PAIRS];   /* most frequent first */
    size_t n_pairs;
    size_t examples[REPORT_EXAMPLES];  /* test rows, ascending */
    size_t n_examples;
    /* A binary or multiclass target (the models' metrics say which; all
     * agree): its K classes, each test row's true class, each model's
     * (models in the report's order, n_test each) and the best model's
     * class probabilities (n_test x K). NULL for multilabel. */
    reel_target_kind target;
    size_t K;
    char *const *classes;
    size_t *truth, *predicted;
    float *best_proba;
};

/* Ranks the models, finds the confusions and picks the examples;
 * report_view_free releases what it holds (also after a failure). */
int report_view_init(report_view *v, const reel_report *r, reel_error *err);
void report_view_free(report_view *v);

/* Whether model m is the random baseline the report marks. */
int report_is_baseline(const report_view *v, const reel_report_model *m);
/* The film's id, or "row N" when the report has no ids (buf holds it). */
const char *report_row_name(const report_view *v, size_t row, char *buf, size_t n);
/* The REPORT_TOP_PROBS of p's L entries with the highest values, best
 * first (ties: the first); returns how many. */
size_t report_top(const float *p, size_t L, size_t out[REPORT_TOP_PROBS]);
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

typedef struct report_markup report_markup;
typedef void (*report_section)(FILE *fp, const report_view *v);

struct report_markup {
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

    /* The page around the tables (report_walk.c walks it once): */
    void (*page_open)(FILE *fp, const report_view *v); /* what comes before the title */
    const char *page_close;
    report_tag title;
    const char *meta_open;   /* a header line's opening, printf format of its key (%s) */
    const char *meta_close;
    const char *rows_format; /* the Rows line: all, train, validation, test (%zu each) */
    const char *labels_open; /* the Labels line's opening (%zu: how many) */
    report_tag code, strong;
    /* Each model's params: around the list when a model has them (else
     * no_params), and before, between and after a name and its params. */
    report_tag params;
    const char *no_params;
    const char *param[3];
    report_section meta_end; /* what follows them */
    void (*heading)(FILE *fp, const char *id, const char *text); /* a section's */
    report_tag note;         /* a paragraph under a heading */
    void (*table_open)(FILE *fp, const char *cls);
    const char *table_close;
    const char *no_models;
    /* A multi-label report: the leaderboard's note and what follows its
     * table (NULL: nothing), the scores drawn (NULL: none), the training
     * of each model that has a history under one heading, then the
     * sections drawn each format's way. */
    const char *leaderboard_note;
    report_section leaderboard_end, scores;
    const char *training_heading;
    void (*trained)(FILE *fp, const reel_report_model *m);
    const report_section *sections; /* NULL-terminated */
    const char *examples_probs;     /* the examples' note when they show probabilities */
};

/* The formats, and the walk that writes a report in one of them. */
extern const report_markup REPORT_HTML, REPORT_MD;
void report_write(FILE *fp, const report_view *v, const report_markup *mk);


/* A table's header row, and a body cell: text from the data, a number
 * (printf format), a count. */
void report_head_row(FILE *fp, const report_markup *mk, const report_col *cols, size_t n);
void report_cell(FILE *fp, const report_markup *mk, const char *cls, const char *text);
void report_cell_num(FILE *fp, const report_markup *mk, const char *fmt, double x);
void report_cell_count(FILE *fp, const report_markup *mk, size_t n);
/* A leaderboard's row k (leaderboard order) opened, its rank and its
 * model's name written (the best and the baselines marked). */
void report_leader_row(FILE *fp, const report_view *v, const report_markup *mk, size_t k);
/* The example rows' header: the row, its truth, the best model's
 * probabilities (when probs), each model; -1: out of memory. */
int report_examples_head(FILE *fp, const report_view *v, const report_markup *mk, const char *row,
                         const char *truth, int probs);

/* The tables, header row and body (what surrounds them is the format's):
 * the leaderboard; the Brier score per model and label; the best model's
 * confusions (share_heading: the last column's heading, which each format
 * words its own way); the example films. */
void report_table_leaderboard(FILE *fp, const report_view *v, const report_markup *mk);
void report_table_brier(FILE *fp, const report_view *v, const report_markup *mk);
void report_table_confusion(FILE *fp, const report_view *v, const report_markup *mk, const char *share_heading);
void report_table_examples(FILE *fp, const report_view *v, const report_markup *mk);
/* A binary or multiclass target's (report_classes.c): the leaderboard
 * (accuracy, macro-F1, log-loss; binary F1 and ROC-AUC), each class's
 * scores, the best model's confusion matrix and the example films. */
void report_class_header(FILE *fp, const report_view *v, const report_markup *mk);
void report_class_leaderboard(FILE *fp, const report_view *v, const report_markup *mk);
void report_class_sections(FILE *fp, const report_view *v, const report_markup *mk);
void report_class_examples(FILE *fp, const report_view *v, const report_markup *mk);


#endif
