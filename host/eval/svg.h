/* A few SVG primitives for the report's charts, written straight to a
 * FILE. Every text from data goes through reel_xml_escape, so names with
 * & < > " stay well-formed XML inside HTML. */
#ifndef REEL_SVG_H
#define REEL_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Writes s with & < > " ' escaped and control characters made spaces. */
void reel_xml_escape(FILE *fp, const char *s);
/* s cut to at most max_chars characters (UTF-8 aware), "..." marking a
 * cut, into buf of n bytes (n >= 4 * max_chars + 4 keeps every cut whole). */
void svg_shorten(char *buf, size_t n, const char *s, size_t max_chars);

/* Characters (UTF-8 code points) in s. */
size_t svg_chars(const char *s);
/* A rough width of a text in pixels (no font metrics here). */
double svg_text_width(const char *s, double font_size);

void svg_begin(FILE *fp, double width, double height, const char *label);
void svg_end(FILE *fp);

/* anchor: "start", "middle" or "end"; rotate in degrees around (x, y);
 * cls: a CSS class or NULL. The text is escaped. */
void svg_text(FILE *fp, double x, double y, const char *anchor, double rotate, const char *cls,
              const char *text);
/* dash: NULL for a solid line, else a stroke-dasharray such as "6 4". */
void svg_line(FILE *fp, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash);
/* tooltip: a <title> shown on hover, or NULL. */
void svg_rect(FILE *fp, double x, double y, double w, double h, const char *fill, const char *tooltip);

/* The colour of v in [0, 1] on a light-to-dark blue-green scale (values
 * outside are clamped, NaN is grey); out gets "#rrggbb". */
void svg_scale_color(double v, char out[8]);
/* Whether text on that colour should be white for contrast. */
int svg_scale_dark(double v);

#endif
