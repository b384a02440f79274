#include "eval/svg.h"

#include <math.h>
#include <string.h>

static void escape_n(FILE *fp, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default:
            /* XML 1.0 forbids most control characters even escaped. */
            fputc(c < 0x20 || c == 0x7f ? ' ' : (int)c, fp);
        }
    }
}

void reel_xml_escape(FILE *fp, const char *s)
{
    if (s)
        escape_n(fp, s, strlen(s));
}

/* Continuation bytes of UTF-8 look like 10xxxxxx. */
static int utf8_cont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

size_t svg_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += !utf8_cont((unsigned char)*s);
    return n;
}

void svg_shorten(char *buf, size_t n, const char *s, size_t max_chars)
{
    size_t total = svg_chars(s), keep = total > max_chars && max_chars > 3 ? max_chars - 3 : total;
    size_t chars = 0, i = 0;
    for (; s[i] && i + 4 < n; i++) {
        if (!utf8_cont((unsigned char)s[i]) && chars++ == keep)
            break;
    }
    while (i > 0 && utf8_cont((unsigned char)s[i])) /* never split a character */
        i--;
    memcpy(buf, s, i);
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
}

double svg_text_width(const char *s, double font_size)
{
    /* Average glyph of a sans-serif font is a little over half its size. */
    return 0.58 * font_size * (double)svg_chars(s);
}

void svg_begin(FILE *fp, double width, double height, const char *label)
{
    fprintf(fp,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
            width, height, width, height);
    reel_xml_escape(fp, label);
    fputs("\">\n", fp);
}

void svg_end(FILE *fp)
{
    fputs("</svg>\n", fp);
}

void svg_text(FILE *fp, double x, double y, const char *anchor, double rotate, const char *cls,
              const char *text)
{
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y, anchor);
    if (rotate != 0)
        fprintf(fp, " transform=\"rotate(%.0f %.1f %.1f)\"", rotate, x, y);
    if (cls)
        fprintf(fp, " class=\"%s\"", cls);
    fputs(">", fp);
    reel_xml_escape(fp, text);
    fputs("</text>\n", fp);
}

void svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash)
{
    fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"",
            x1, y1, x2, y2, stroke, width);
    if (dash)
        fprintf(fp, " stroke-dasharray=\"%s\"", dash);
    fputs("/>\n", fp);
}

void svg_rect(FILE *fp, double x, double y, double w, double h, const char *fill, const char *tooltip)
{
    fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y, w < 0 ? 0 : w,
            h < 0 ? 0 : h, fill);
    if (!tooltip) {
        fputs("/>\n", fp);
        return;
    }
    fputs("><title>", fp);
    reel_xml_escape(fp, tooltip);
    fputs("</title></rect>\n", fp);
}

/* Stops of the colour scale, light yellow through green to dark blue, so
 * that darker means a higher F1 on screen and in grey print. */
static const double STOPS[][3] = {
    {255, 255, 217}, {199, 233, 180}, {127, 205, 187}, {65, 182, 196}, {29, 145, 192}, {34, 94, 168}, {12, 44, 132},
};

void svg_scale_color(double v, char out[8])
{
    if (isnan(v)) {
        strcpy(out, "#cccccc");
        return;
    }
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    size_t last = sizeof STOPS / sizeof STOPS[0] - 1;
    double pos = v * (double)last;
    size_t k = (size_t)pos;
    if (k >= last)
        k = last - 1;
    double t = pos - (double)k;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(STOPS[k][c] + t * (STOPS[k + 1][c] - STOPS[k][c]));
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

int svg_scale_dark(double v)
{
    return !isnan(v) && v > 0.55;
}
