#include "eval/charts.h"

#include <math.h>
#include <string.h>

#include "eval/svg.h"

#define TICK_FONT 12.0
#define PI 3.14159265358979323846
#define NAME_CHARS 28 /* longer model names are cut in charts (the tables keep them whole) */

/* Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a
 * power of ten, about `target` of them. */
typedef struct {
    double lo, hi, step;
    int count, decimals;
} ticks;

static ticks nice_ticks(double lo, double hi, int target)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (!(hi > lo)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    ticks t;
    t.step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    t.lo = floor(lo / t.step + 1e-9) * t.step;
    t.hi = ceil(hi / t.step - 1e-9) * t.step;
    t.count = (int)lround((t.hi - t.lo) / t.step) + 1;
    t.decimals = t.step >= 1 ? 0 : (int)ceil(-log10(t.step) - 1e-9);
    return t;
}

static void tick_label(char *buf, size_t n, double v, int decimals)
{
    snprintf(buf, n, "%.*f", decimals, v + 0.0); /* + 0.0 turns -0 into 0 */
}

/* A chart's title at the top left. */
static void title_at(FILE *fp, const char *title, double x)
{
    if (title)
        svg_text(fp, x, 20, "start", 0, "ttl", title);
}

/* Legend items in one row from (x, y); returns the x after the last. */
static double legend_row(FILE *fp, double x, double y, const chart_series *series, size_t n)
{
    for (size_t s = 0; s < n; s++) {
        if (series[s].dashed)
            svg_line(fp, x, y - 4, x + 18, y - 4, series[s].color, 2.5, "5 3");
        else
            svg_rect(fp, x + 3, y - 10, 12, 12, series[s].color, NULL);
        svg_text(fp, x + 24, y, "start", 0, "leg", series[s].name);
        x += 24 + svg_text_width(series[s].name, 12.5) + 20;
    }
    return x;
}

static double legend_width(const chart_series *series, size_t n)
{
    double w = 0;
    for (size_t s = 0; s < n; s++)
        w += 24 + svg_text_width(series[s].name, 12.5) + 20;
    return w;
}

/* Horizontal grid lines with tick labels on the left of a plot area. */
static void y_axis(FILE *fp, ticks t, double x0, double y0, double w, double h, const char *label)
{
    char buf[32];
    for (int k = 0; k < t.count; k++) {
        double v = t.lo + k * t.step;
        double y = y0 + h - (v - t.lo) / (t.hi - t.lo) * h;
        svg_line(fp, x0, y, x0 + w, y, k == 0 ? "#555555" : "#e3e3e3", 1, NULL);
        tick_label(buf, sizeof buf, v, t.decimals);
        svg_text(fp, x0 - 6, y + 4, "end", 0, "ax", buf);
    }
    if (label)
        svg_text(fp, 16, y0 + h / 2, "middle", -90, "lab", label);
}

/* The name as it appears in a chart: cut to NAME_CHARS. */
static void short_name(char *buf, size_t n, const char *name)
{
    svg_shorten(buf, n, name, NAME_CHARS);
}

void chart_grouped_bars(FILE *fp, const char *title, const char *const *groups, size_t n_groups,
                        const chart_series *series, size_t n_series, const chart_refline *ref,
                        const char *x_label, const char *y_label)
{
    const double bar_w = n_groups > 12 ? 12 : 18, gap = 22, plot_h = 280;
    const double group_w = (double)n_series * bar_w + gap;
    char name[128], buf[512];

    /* Model names go under their bars, slanted when they do not fit. */
    double name_w = 0, first_w = 0;
    for (size_t g = 0; g < n_groups; g++) {
        short_name(name, sizeof name, groups[g]);
        double w = svg_text_width(name, TICK_FONT);
        name_w = w > name_w ? w : name_w;
        if (g == 0)
            first_w = w;
    }
    int slant = name_w > group_w - 6;
    const double angle = 35, c = cos(angle * PI / 180), s = sin(angle * PI / 180);
    double left = 64;
    if (slant && first_w * c - group_w / 2 + 8 > left)
        left = first_w * c - group_w / 2 + 8;
    double ref_w = 0;
    char ref_text[160] = "";
    if (ref) {
        short_name(name, sizeof name, ref->label);
        snprintf(ref_text, sizeof ref_text, "%s %.3f", name, ref->value);
        ref_w = svg_text_width(ref_text, TICK_FONT) + 14;
    }
    const double top = 62, plot_w = (double)n_groups * group_w;
    double names_h = slant ? name_w * s + TICK_FONT * c + 14 : 22;
    double width = left + plot_w + (ref_w > 20 ? ref_w : 20);
    double lw = 8 + legend_width(series, n_series) + 8;
    width = width < lw ? lw : width;
    double height = top + plot_h + names_h + (x_label ? 24 : 4);

    svg_begin(fp, width, height, title);
    title_at(fp, title, 8);
    legend_row(fp, 8, 46, series, n_series);
    /* The axis spans the values (and the reference line) with some room,
     * not 0 to 1: close scores then look different. */
    double vmin = INFINITY, vmax = -INFINITY;
    for (size_t g = 0; g < n_groups; g++)
        for (size_t k = 0; k < n_series; k++)
            if (!isnan(series[k].values[g])) {
                vmin = fmin(vmin, series[k].values[g]);
                vmax = fmax(vmax, series[k].values[g]);
            }
    if (ref && !isnan(ref->value)) {
        vmin = fmin(vmin, ref->value);
        vmax = fmax(vmax, ref->value);
    }
    if (!(vmax >= vmin)) {
        vmin = 0;
        vmax = 1;
    }
    double pad = vmax > vmin ? (vmax - vmin) * 0.15 : 0.05;
    ticks t = nice_ticks(fmax(0, vmin - pad), fmin(1, vmax + pad), 5);
    t.lo = fmax(t.lo, 0);
    t.count = (int)lround((t.hi - t.lo) / t.step) + 1;
    y_axis(fp, t, left, top, plot_w, plot_h, y_label);
#define BAR_H(v) (((v) < t.lo ? 0 : (v) > t.hi ? t.hi - t.lo : (v) - t.lo) / (t.hi - t.lo) * plot_h)

    for (size_t g = 0; g < n_groups; g++) {
        double gx = left + (double)g * group_w + gap / 2;
        for (size_t k = 0; k < n_series; k++) {
            double v = series[k].values[g];
            if (isnan(v))
                continue;
            snprintf(buf, sizeof buf, "%s: %s %.4f", groups[g], series[k].name, v);
            svg_rect(fp, gx + (double)k * bar_w, top + plot_h - BAR_H(v), bar_w - 1, BAR_H(v), series[k].color,
                     buf);
        }
        short_name(name, sizeof name, groups[g]);
        double cx = gx + (double)n_series * bar_w / 2;
        if (slant)
            svg_text(fp, cx + 4, top + plot_h + 14, "end", -angle, "ax", name);
        else
            svg_text(fp, cx, top + plot_h + 17, "middle", 0, "ax", name);
    }
    if (ref && !isnan(ref->value)) {
        double y = top + plot_h - BAR_H(ref->value);
        svg_line(fp, left, y, left + plot_w, y, "#333333", 1.5, "6 4");
        svg_text(fp, left + plot_w + 6, y + 4, "start", 0, "ax", ref_text);
    }
#undef BAR_H
    if (x_label)
        svg_text(fp, left + plot_w / 2, height - 8, "middle", 0, "lab", x_label);
    svg_end(fp);
}

void chart_lines(FILE *fp, const char *title, size_t n, const chart_series *series, size_t n_series,
                 const char *x_label, const char *y_label, size_t mark)
{
    const double width = 440, height = 270, left = 62, right = 18, top = 54, bottom = 46;
    const double plot_w = width - left - right, plot_h = height - top - bottom;

    double lo = INFINITY, hi = -INFINITY;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < n && series[s].values; i++) {
            double v = series[s].values[i];
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    ticks ty = nice_ticks(lo, hi, 4);
    /* x runs over epochs 1..n; a single epoch sits in the middle. */
    double x_lo = n > 1 ? 1 : 0, x_hi = n > 1 ? (double)n : 2;
    ticks tx = nice_ticks(1, n > 1 ? (double)n : 2, 6);
    if (tx.step < 1)
        tx.step = 1;

    svg_begin(fp, width, height, title);
    title_at(fp, title, 8);
    legend_row(fp, 8, 42, series, n_series);
    y_axis(fp, ty, left, top, plot_w, plot_h, y_label);
#define X_OF(e) (left + ((e) - x_lo) / (x_hi - x_lo) * plot_w)
#define Y_OF(v) (top + plot_h - ((v) - ty.lo) / (ty.hi - ty.lo) * plot_h)
    char buf[32];
    for (double e = tx.step; e <= (double)n + 1e-9; e += tx.step) {
        snprintf(buf, sizeof buf, "%.0f", e);
        svg_line(fp, X_OF(e), top + plot_h, X_OF(e), top + plot_h + 4, "#555555", 1, NULL);
        svg_text(fp, X_OF(e), top + plot_h + 17, "middle", 0, "ax", buf);
    }
    if (tx.step > 1) { /* epoch 1 always gets a tick */
        svg_line(fp, X_OF(1), top + plot_h, X_OF(1), top + plot_h + 4, "#555555", 1, NULL);
        svg_text(fp, X_OF(1), top + plot_h + 17, "middle", 0, "ax", "1");
    }
    if (mark >= 1 && mark <= n) { /* the epoch whose weights were kept */
        fprintf(fp, "<line class=\"kept\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n",
                X_OF((double)mark), top, X_OF((double)mark), top + plot_h);
        svg_text(fp, X_OF((double)mark), top - 4, "middle", 0, "ax", "kept");
    }
    for (size_t s = 0; s < n_series; s++) {
        const double *v = series[s].values;
        if (!v)
            continue;
        /* A path that restarts (M) after every missing value. */
        fprintf(fp, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", series[s].color,
                series[s].dashed ? " stroke-dasharray=\"6 3\"" : "");
        int pen = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(v[i])) {
                pen = 0;
                continue;
            }
            fprintf(fp, "%s%.1f %.1f ", pen ? "L" : "M", X_OF((double)(i + 1)), Y_OF(v[i]));
            pen = 1;
        }
        fputs("\"/>\n", fp);
        if (n <= 40)
            for (size_t i = 0; i < n; i++)
                if (isfinite(v[i]))
                    fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", X_OF((double)(i + 1)),
                            Y_OF(v[i]), series[s].color);
    }
#undef X_OF
#undef Y_OF
    if (x_label)
        svg_text(fp, left + plot_w / 2, height - 8, "middle", 0, "lab", x_label);
    svg_end(fp);
}

void chart_heatmap(FILE *fp, const char *title, const char *const *rows, size_t n_rows,
                   const char *const *cols, size_t n_cols, const double *values)
{
    char name[128], buf[512], color[8];
    double row_w = 0, col_w = 0, last_col_w = 0;
    for (size_t i = 0; i < n_rows; i++) {
        short_name(name, sizeof name, rows[i]);
        double w = svg_text_width(name, TICK_FONT);
        row_w = w > row_w ? w : row_w;
    }
    for (size_t j = 0; j < n_cols; j++) {
        short_name(name, sizeof name, cols[j]);
        double w = svg_text_width(name, TICK_FONT);
        col_w = w > col_w ? w : col_w;
        last_col_w = w;
    }
    const double left = row_w + 18, cell_h = 30;
    double cell_w = n_cols ? (900 - left) / (double)n_cols : 60;
    cell_w = cell_w < 40 ? 40 : cell_w > 76 ? 76 : cell_w;
    /* Column names slant up to the right when they do not fit a cell. */
    int slant = col_w > cell_w - 6;
    const double angle = 40, c = cos(angle * PI / 180), s = sin(angle * PI / 180);
    double top = 34 + (slant ? col_w * s + 12 : 22);
    double grid_w = (double)n_cols * cell_w, grid_h = (double)n_rows * cell_h;
    double legend_h = grid_h > 120 ? grid_h : 120;
    double right = 80;
    if (slant && last_col_w * c - cell_w / 2 + 8 > right)
        right = last_col_w * c - cell_w / 2 + 8;
    double width = left + grid_w + right, height = top + legend_h + 12;

    svg_begin(fp, width, height, title);
    title_at(fp, title, 8);
    for (size_t j = 0; j < n_cols; j++) {
        short_name(name, sizeof name, cols[j]);
        double cx = left + ((double)j + 0.5) * cell_w;
        if (slant)
            svg_text(fp, cx - 4, top - 8, "start", -angle, "ax", name);
        else
            svg_text(fp, cx, top - 8, "middle", 0, "ax", name);
    }
    for (size_t i = 0; i < n_rows; i++) {
        short_name(name, sizeof name, rows[i]);
        double y = top + (double)i * cell_h;
        svg_text(fp, left - 8, y + cell_h / 2 + 4, "end", 0, "ax", name);
        for (size_t j = 0; j < n_cols; j++) {
            double v = values[i * n_cols + j];
            double x = left + (double)j * cell_w;
            svg_scale_color(v, color);
            snprintf(buf, sizeof buf, "%s, %s: F1 %.4f", rows[i], cols[j], v);
            svg_rect(fp, x, y, cell_w - 2, cell_h - 2, color, buf);
            if (isnan(v))
                snprintf(buf, sizeof buf, "n/a");
            else
                snprintf(buf, sizeof buf, "%.2f", v);
            svg_text(fp, x + (cell_w - 2) / 2, y + cell_h / 2 + 3, "middle", 0,
                     svg_scale_dark(v) ? "cell dark" : "cell", buf);
        }
    }
    /* The colour scale: a bar from 0 at the bottom to 1 at the top. */
    const double lx = left + grid_w + 16, steps = 50;
    for (int k = 0; k < steps; k++) {
        svg_scale_color((k + 0.5) / steps, color);
        double y0 = top + legend_h - (k + 1) * legend_h / steps;
        svg_rect(fp, lx, y0, 14, legend_h / steps + 0.6, color, NULL);
    }
    for (int k = 0; k <= 4; k++) {
        double y = top + legend_h - k * legend_h / 4;
        snprintf(buf, sizeof buf, "%.2f", k / 4.0);
        svg_line(fp, lx + 14, y, lx + 18, y, "#555555", 1, NULL);
        svg_text(fp, lx + 21, y + 4, "start", 0, "ax", buf);
    }
    svg_text(fp, lx, top - 8, "start", 0, "ax", "F1");
    svg_end(fp);
}

void chart_hbars(FILE *fp, const char *title, const char *const *names, const double *values, size_t n,
                 const char *color, const char *x_label)
{
    char buf[512];
    double name_w = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        double w = svg_text_width(names[i], TICK_FONT);
        name_w = w > name_w ? w : name_w;
        max = values[i] > max ? values[i] : max;
    }
    const double left = name_w + 18, bar_max = 260, row_h = 24, top = 34;
    double width = left + bar_max + 70, height = top + (double)n * row_h + (x_label ? 30 : 10);

    svg_begin(fp, width, height, title);
    title_at(fp, title, 8);
    for (size_t i = 0; i < n; i++) {
        double y = top + (double)i * row_h;
        double w = max > 0 ? values[i] / max * bar_max : 0;
        svg_text(fp, left - 8, y + row_h / 2 + 4, "end", 0, "ax", names[i]);
        snprintf(buf, sizeof buf, "%s: %.0f", names[i], values[i]);
        svg_rect(fp, left, y + 3, w, row_h - 6, color, buf);
        snprintf(buf, sizeof buf, "%.0f", values[i]);
        svg_text(fp, left + w + 6, y + row_h / 2 + 4, "start", 0, "ax", buf);
    }
    svg_line(fp, left, top, left, top + (double)n * row_h, "#555555", 1, NULL);
    if (x_label)
        svg_text(fp, left + bar_max / 2, height - 8, "middle", 0, "lab", x_label);
    svg_end(fp);
}

void chart_reliability(FILE *fp, const char *title, const chart_xy *series, size_t n_series)
{
    const double width = 300, left = 50, right = 14, plot = width - left - right, bottom = 40;
    const double top = 34, height = top + plot + bottom; /* the legend is chart_line_legend's, once */
    svg_begin(fp, width, height, title);
    title_at(fp, title, 8);
    ticks t = {0, 1, 0.2, 6, 1};
    y_axis(fp, t, left, top, plot, plot, "observed frequency");
#define X_OF(v) (left + (v) * plot)
#define Y_OF(v) (top + plot - (v) * plot)
    char buf[32];
    for (int k = 0; k <= 5; k++) {
        snprintf(buf, sizeof buf, "%.1f", k * 0.2);
        svg_line(fp, X_OF(k * 0.2), top + plot, X_OF(k * 0.2), top + plot + 4, "#555555", 1, NULL);
        svg_text(fp, X_OF(k * 0.2), top + plot + 17, "middle", 0, "ax", buf);
    }
    svg_line(fp, X_OF(0), Y_OF(0), X_OF(1), Y_OF(1), "#999999", 1, "3 3");
    for (size_t s = 0; s < n_series; s++) {
        const chart_xy *c = &series[s];
        fprintf(fp, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", c->color,
                c->dashed ? " stroke-dasharray=\"6 3\"" : "");
        int pen = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (!isfinite(c->x[i]) || !isfinite(c->y[i]))
                continue;
            fprintf(fp, "%s%.1f %.1f ", pen ? "L" : "M", X_OF(c->x[i]), Y_OF(c->y[i]));
            pen = 1;
        }
        fputs("\"/>\n", fp);
        for (size_t i = 0; i < c->n; i++)
            if (isfinite(c->x[i]) && isfinite(c->y[i]))
                fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", X_OF(c->x[i]),
                        Y_OF(c->y[i]), c->color);
    }
#undef X_OF
#undef Y_OF
    svg_text(fp, left + plot / 2, height - 8, "middle", 0, "lab", "mean predicted probability");
    svg_end(fp);
}

void chart_line_legend(FILE *fp, const char *title, const chart_xy *series, size_t n_series)
{
    char name[128];
    double width = 10;
    for (size_t s = 0; s < n_series; s++) {
        short_name(name, sizeof name, series[s].name);
        width += 24 + svg_text_width(name, 12.5) + 20;
    }
    svg_begin(fp, width, 26, title);
    double x = 10;
    for (size_t s = 0; s < n_series; s++) {
        svg_line(fp, x, 13, x + 18, 13, series[s].color, 2.5, series[s].dashed ? "5 3" : NULL);
        short_name(name, sizeof name, series[s].name);
        svg_text(fp, x + 24, 17, "start", 0, "leg", name);
        x += 24 + svg_text_width(name, 12.5) + 20;
    }
    svg_end(fp);
}
