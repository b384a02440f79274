/* The report's charts as inline SVG: grouped bars, line charts, a heatmap
 * and horizontal bars. Each writes one complete <svg> element with width,
 * height and viewBox; text styles come from the CSS classes ax (ticks),
 * lab (axis labels), ttl (titles), leg (legends), cell (heatmap numbers)
 * that the page defines. */
#ifndef REEL_CHARTS_H
#define REEL_CHARTS_H

#include <stddef.h>
#include <stdio.h>

/* Okabe-Ito colours: distinguishable with the common colour blindnesses. */
#define CHART_BLUE "#0072B2"
#define CHART_ORANGE "#E69F00"
#define CHART_GREEN "#009E73"
#define CHART_VERMILION "#D55E00"
#define CHART_PURPLE "#CC79A7"
#define CHART_SKY "#56B4E9"

typedef struct {
    const char *name;     /* legend text */
    const char *color;
    const double *values; /* one per group / point; NaN leaves a gap */
    int dashed;
} chart_series;

/* A labelled horizontal reference line (the random baseline). */
typedef struct {
    double value;
    const char *label;
} chart_refline;

/* Bars of every series side by side for each group, y from 0 to 1. */
void chart_grouped_bars(FILE *fp, const char *title, const char *const *groups, size_t n_groups,
                        const chart_series *series, size_t n_series, const chart_refline *ref,
                        const char *x_label, const char *y_label);

/* Series over x = 1..n (epochs); y range from the data with round ticks;
 * mark in 1..n draws a dotted vertical line there labelled "kept" (0: none). */
void chart_lines(FILE *fp, const char *title, size_t n, const chart_series *series, size_t n_series,
                 const char *x_label, const char *y_label, size_t mark);

/* values: n_rows x n_cols in [0, 1], each cell coloured and printed. */
void chart_heatmap(FILE *fp, const char *title, const char *const *rows, size_t n_rows,
                   const char *const *cols, size_t n_cols, const double *values);

/* Points (x[i], y[i]) in [0, 1]^2 of one series, NaN skipped. */
typedef struct {
    const char *name;
    const char *color;
    const double *x, *y;
    size_t n;
    int dashed;
} chart_xy;

/* A reliability diagram: mean predicted probability against the observed
 * frequency, the diagonal marking perfect calibration. */
void chart_reliability(FILE *fp, const char *title, const chart_xy *series, size_t n_series);
/* The reliability diagrams' legend, drawn once above them: a line sample
 * and the name of each series, in one row. */
void chart_line_legend(FILE *fp, const char *title, const chart_xy *series, size_t n_series);

/* One bar per name with its count written at the end. */
void chart_hbars(FILE *fp, const char *title, const char *const *names, const double *values, size_t n,
                 const char *color, const char *x_label);

#endif
