#include "data/table.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/cell.h"
#include "data/csv.h"
#include "data/csv_chunk.h"

/* The one-record reader's names for data/cell.h's rules. */
static int parse_fast(const char *s, double *v) { return reel_cell_fast_number(s, strlen(s), v); }
static int parse_number(const char *s, double *v) { return reel_cell_number(s, v); }
static const char *bad_number_why(int parsed, double v) { return reel_cell_number_why(parsed, v); }

static void column_free(reel_column *c)
{
    free(c->name);
    free(c->num);
    free(c->code);
    free(c->bad_number);
    free(c->first_text);
    reel_strdict_free(&c->dict);
}

/* A separator as messages show it: 'x', or tab. */
static const char *sep_name(char sep, char buf[8])
{
    if (sep == '\t')
        return "tab";
    snprintf(buf, 8, "'%c'", sep);
    return buf;
}

int reel_sep_parse(const char *s, char *sep, const char *where, reel_error *err)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0) {
        *sep = '\t';
        return 0;
    }
    unsigned char b = (unsigned char)s[0];
    if (!b || s[1] || b == '"' || b == '\n' || b == '\r' || b >= 0x80 || (b >= '0' && b <= '9') ||
        ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') || b == '.' || b == '-' || b == '+')
        return reel_fail(err, "%s must be one character such as , ; | or tab, not a quote, letter, digit, "
                         "'.', '-' or '+' (which numbers use); got '%s'", where, s);
    *sep = (char)b;
    return 0;
}

void reel_table_warn_encoding(const reel_table *t, const reel_log *log)
{
    if (t->sep_found && t->sep != ',')
        reel_log_msg(log, REEL_LOG_INFO, "%s: fields separated by %s (found in the header line; --sep sets it)",
                     t->path, sep_name(t->sep, (char[8]){0}));
    if (t->utf8_line)
        reel_log_msg(log, REEL_LOG_WARNING, "%s is read as Latin-1 (--encoding latin-1), but its bytes are valid "
                     "UTF-8 with non-ASCII text (first on line %zu), which Latin-1 garbles ('Ã©' for 'é'); a UTF-8 "
                     "file needs no --encoding", t->path, t->utf8_line);
}

void reel_table_free(reel_table *t)
{
    for (size_t j = 0; j < t->ncols; j++)
        column_free(&t->cols[j]);
    free(t->cols);
    free(t->line);
    free(t->path);
    reel_strdict_free(&t->names);
    memset(t, 0, sizeof *t);
}

int reel_table_find(const reel_table *t, const char *name)
{
    if (t->names.n == t->ncols) /* a table read from a file: hashed */
        return (int)reel_strdict_find(&t->names, name);
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->cols[j].name, name) == 0)
            return (int)j;
    return -1;
}

int reel_table_add_missing(reel_table *t, const char *name, reel_coltype type, reel_error *err)
{
    reel_column *cols = realloc(t->cols, (t->ncols + 1) * sizeof *cols);
    if (!cols)
        return reel_fail(err, "out of memory");
    t->cols = cols;
    reel_column *c = &cols[t->ncols];
    memset(c, 0, sizeof *c);
    c->type = type;
    c->name = strdup(name);
    c->n_missing = t->nrows;
    reel_strdict_init(&c->dict);
    size_t n = t->nrows ? t->nrows : 1;
    if (type == REEL_COL_NUMERIC) {
        if ((c->num = malloc(n * sizeof *c->num)))
            for (size_t i = 0; i < t->nrows; i++)
                c->num[i] = NAN;
    } else if ((c->code = malloc(n * sizeof *c->code)))
        for (size_t i = 0; i < t->nrows; i++)
            c->code[i] = -1;
    int hashed = t->names.n == t->ncols;
    t->ncols++;
    if (!c->name || (!c->num && !c->code) || (hashed && reel_strdict_intern(&t->names, name) < 0))
        return reel_fail(err, "out of memory");
    return 0;
}

void reel_table_release(reel_table *t, size_t col)
{
    reel_column *c = &t->cols[col];
    free(c->num);
    free(c->code);
    c->num = NULL;
    c->code = NULL;
    c->released = 1;
}

const char *reel_table_cell(const reel_table *t, size_t col, size_t row, char *buf, size_t bufsz)
{
    const reel_column *c = &t->cols[col];
    if (c->released)
        return "";
    if (c->type == REEL_COL_TEXT)
        return c->code[row] < 0 ? "" : c->dict.strs[c->code[row]];
    if (isnan(c->num[row]))
        return "";
    snprintf(buf, bufsz, "%.17g", c->num[row]);
    return buf;
}

/* The shortest %.*g that reads back as v (6.4, not 6.4000000000000004). */
static void format_shortest(double v, char *buf, size_t bufsz)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, bufsz, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

const char *reel_table_source_cell(const reel_table *t, size_t col, size_t row, char *buf, size_t bufsz)
{
    const reel_column *c = &t->cols[col];
    if (c->released || c->type == REEL_COL_TEXT || bufsz == 0)
        return reel_table_cell(t, col, row, buf, bufsz);
    if (isnan(c->num[row]))
        return "";
    format_shortest(c->num[row], buf, bufsz); /* unless the file still holds the row */
    reel_error err;
    reel_csv *csv = reel_csv_open(t->path, &err);
    if (!csv)
        return buf;
    reel_csv_set_sep(csv, t->sep);
    if (t->latin1)
        reel_csv_set_latin1(csv);
    while (reel_csv_next(csv, &err) == 1 && reel_csv_line(csv) <= t->line[row])
        if (reel_csv_line(csv) == t->line[row] && col < reel_csv_nfields(csv)) {
            double v;
            const char *s = reel_csv_field(csv, col);
            if (parse_number(s, &v) == 1 && v == c->num[row]) /* the same cell still */
                snprintf(buf, bufsz, "%s", s);
            break;
        }
    reel_csv_close(csv);
    return buf;
}

/* Turns a numeric column into a text column (the first n rows are filled). */
static int make_text(reel_column *c, size_t n, size_t cap)
{
    c->code = malloc(cap * sizeof *c->code);
    if (!c->code)
        return -1;
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        if (isnan(c->num[i])) {
            c->code[i] = -1;
            continue;
        }
        snprintf(buf, sizeof buf, "%.17g", c->num[i]);
        if ((c->code[i] = reel_strdict_intern(&c->dict, buf)) < 0)
            return -1;
    }
    free(c->num);
    c->num = NULL;
    c->type = REEL_COL_TEXT;
    return 0;
}

static int grow_rows(reel_table *t, size_t cap)
{
    size_t *line = realloc(t->line, cap * sizeof *line);
    if (!line)
        return -1;
    t->line = line;
    for (size_t j = 0; j < t->ncols; j++) {
        reel_column *c = &t->cols[j];
        if (c->type == REEL_COL_NUMERIC) {
            double *p = realloc(c->num, cap * sizeof *p);
            if (!p)
                return -1;
            c->num = p;
        } else {
            int32_t *p = realloc(c->code, cap * sizeof *p);
            if (!p)
                return -1;
            c->code = p;
        }
    }
    return 0;
}

static int read_header(reel_table *t, reel_csv *csv, reel_error *err)
{
    int r = reel_csv_next(csv, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return reel_fail(err, "%s: empty file (a header row is required)", t->path);
    size_t ncols = reel_csv_nfields(csv);
    t->cols = calloc(ncols ? ncols : 1, sizeof *t->cols);
    if (!t->cols)
        return reel_fail(err, "%s: out of memory", t->path);
    t->ncols = ncols; /* only now: reel_table_free walks them */
    reel_strdict_init(&t->names);
    for (size_t j = 0; j < t->ncols; j++)
        reel_strdict_init(&t->cols[j].dict);
    /* Names are hashed as they come: the duplicate check and every later look-up are O(1). */
    for (size_t j = 0; j < t->ncols; j++) {
        const char *name = reel_csv_field(csv, j);
        char buf[32];
        int generated = !*name;
        if (generated) { /* e.g. R's unnamed row-number column */
            snprintf(buf, sizeof buf, "column%zu", j + 1);
            name = buf;
        }
        if (!(t->cols[j].name = strdup(name)))
            return reel_fail(err, "%s: out of memory", t->path);
        int32_t code = reel_strdict_intern(&t->names, name);
        if (code < 0)
            return reel_fail(err, "%s: out of memory", t->path);
        if ((size_t)code != j) {
            size_t k = (size_t)code;
            int k_generated = !*reel_csv_field(csv, k);
            if (generated || k_generated)
                return reel_fail(err, "%s:%zu: column %zu has an empty header cell, so reel names it '%s', but "
                                 "column %zu is also called '%s'; name the empty one", t->path,
                                 reel_csv_line(csv), generated ? j + 1 : k + 1, name, generated ? k + 1 : j + 1,
                                 name);
            return reel_fail(err, "%s:%zu: duplicate column name '%s' (columns %zu and %zu)", t->path,
                             reel_csv_line(csv), name, k + 1, j + 1);
        }
    }
    return 0;
}

/* Reads the file again and sets the listed columns to their original cell
 * text (rows matched by source line). */
static int restore_text(reel_table *t, const size_t *cols, size_t n, reel_error *err)
{
    reel_csv *csv = reel_csv_open(t->path, err);
    if (!csv)
        return -1;
    reel_csv_set_sep(csv, t->sep);
    if (t->latin1)
        reel_csv_set_latin1(csv);
    reel_strdict *dicts = calloc(n, sizeof *dicts);
    int32_t **codes = calloc(n, sizeof *codes);
    int rc = -1;
    if (!dicts || !codes)
        goto oom;
    for (size_t q = 0; q < n; q++) {
        reel_strdict_init(&dicts[q]);
        if (!(codes[q] = malloc((t->nrows ? t->nrows : 1) * sizeof **codes)))
            goto oom;
        for (size_t i = 0; i < t->nrows; i++)
            codes[q][i] = -1;
    }
    int r = reel_csv_next(csv, err); /* the header */
    size_t i = 0;
    while (r == 1 && (r = reel_csv_next(csv, err)) == 1 && i < t->nrows) {
        if (reel_csv_line(csv) != t->line[i])
            continue;
        for (size_t q = 0; q < n; q++) {
            const char *s = cols[q] < reel_csv_nfields(csv) ? reel_csv_field(csv, cols[q]) : "";
            if (!reel_is_missing_token(s) && (codes[q][i] = reel_strdict_intern(&dicts[q], s)) < 0)
                goto oom;
        }
        i++;
    }
    if (r < 0)
        goto done;
    if (i != t->nrows) {
        reel_fail(err, "%s: the file changed while it was read (re-reading its text cells found %zu of %zu rows)",
                  t->path, i, t->nrows);
        goto done;
    }
    for (size_t q = 0; q < n; q++) {
        reel_column *c = &t->cols[cols[q]];
        free(c->num);
        free(c->code);
        c->num = NULL;
        reel_strdict_free(&c->dict);
        c->dict = dicts[q];
        reel_strdict_init(&dicts[q]);
        c->code = codes[q];
        codes[q] = NULL;
        c->type = REEL_COL_TEXT;
    }
    rc = 0;
    goto done;
oom:
    reel_fail(err, "%s: out of memory", t->path);
done:
    for (size_t q = 0; dicts && codes && q < n; q++) {
        reel_strdict_free(&dicts[q]);
        free(codes[q]);
    }
    free(dicts);
    free(codes);
    reel_csv_close(csv);
    return rc;
}

int reel_table_as_text(reel_table *t, size_t col, reel_error *err)
{
    if (t->cols[col].type == REEL_COL_TEXT || t->cols[col].released)
        return 0;
    return restore_text(t, &col, 1, err);
}

/* A mostly numeric column back to numbers: its text cells become missing. */
static int back_to_numbers(reel_table *t, reel_column *c)
{
    double *num = malloc((t->nrows ? t->nrows : 1) * sizeof *num);
    if (!num)
        return -1;
    for (size_t i = 0; i < t->nrows; i++) {
        double v;
        if (c->code[i] < 0 || parse_number(c->dict.strs[c->code[i]], &v) != 1)
            v = NAN;
        num[i] = v;
    }
    free(c->code);
    c->code = NULL;
    reel_strdict_free(&c->dict);
    reel_strdict_init(&c->dict);
    c->num = num;
    c->type = REEL_COL_NUMERIC;
    c->mixed_as_text = 0;
    c->mixed_as_missing = c->n_texts;
    c->n_missing += c->n_texts;
    return 0;
}

/* Calls fn for each COL=TYPE of a --column-type list; -1 on a syntax error (in err). */
static int each_column_type(const char *types, int (*fn)(void *, const char *, size_t, reel_force, reel_error *),
                            void *ctx, reel_error *err)
{
    const char *p = types;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p)
            return reel_fail(err, "--column-type: '%.*s' is not COL=number or COL=text", (int)len, p);
        const char *ty = eq + 1;
        size_t tylen = len - (size_t)(ty - p);
        reel_force f = tylen == 6 && strncmp(ty, "number", 6) == 0 ? REEL_FORCE_NUMBER
                     : tylen == 4 && strncmp(ty, "text", 4) == 0   ? REEL_FORCE_TEXT
                                                                   : REEL_FORCE_NONE;
        if (f == REEL_FORCE_NONE)
            return reel_fail(err, "--column-type: unknown type '%.*s' for column '%.*s' (number or text)",
                             (int)tylen, ty, (int)(eq - p), p);
        for (const char *q = types; q < p;) { /* a column named twice: which type was meant? */
            const char *qeq = strchr(q, '=');
            if ((size_t)(qeq - q) == (size_t)(eq - p) && strncmp(q, p, (size_t)(eq - p)) == 0)
                return reel_fail(err, "--column-type: column '%.*s' is given a type twice; give it one",
                                 (int)(eq - p), p);
            q = strchr(q, ',') + 1;
        }
        if (fn && fn(ctx, p, (size_t)(eq - p), f, err))
            return -1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int reel_column_types_check(const char *types, reel_error *err)
{
    return each_column_type(types, NULL, NULL, err);
}

typedef struct {
    reel_table *t;
    int absent_ok;
} force_ctx;

static int force_one(void *vctx, const char *name, size_t len, reel_force f, reel_error *err)
{
    force_ctx *ctx = vctx;
    for (size_t j = 0; j < ctx->t->ncols; j++)
        if (strlen(ctx->t->cols[j].name) == len && strncmp(ctx->t->cols[j].name, name, len) == 0) {
            ctx->t->cols[j].forced = (int)f;
            return 0;
        }
    if (ctx->absent_ok)
        return 0;
    return reel_fail(err, "--column-type: '%.*s' is not a column of %s", (int)len, name, ctx->t->path);
}

/* Decides each column's type once, from all its cells (or as the user forced it). */
static int settle_types(reel_table *t, reel_mixed_mode mixed, int defer, reel_error *err)
{
    size_t *restore = malloc((t->ncols ? t->ncols : 1) * sizeof *restore), n_restore = 0;
    if (!restore)
        return reel_fail(err, "%s: out of memory", t->path);
    for (size_t j = 0; j < t->ncols; j++) {
        reel_column *c = &t->cols[j];
        if (c->forced == REEL_FORCE_TEXT) {
            if (c->type == REEL_COL_NUMERIC || c->n_numbers > 0)
                restore[n_restore++] = j; /* every cell its own text: "02134" stays "02134" */
            continue;
        }
        if (c->type != REEL_COL_TEXT || (c->n_numbers == 0 && c->forced != REEL_FORCE_NUMBER))
            continue; /* all numbers, or all text: nothing to decide */
        int mostly_numbers = c->n_texts * 20 <= c->n_numbers + c->n_texts || c->forced == REEL_FORCE_NUMBER;
        reel_mixed_mode mode = defer && !c->forced ? REEL_MIXED_TEXT : mixed;
        if (c->forced == REEL_FORCE_NUMBER && mode == REEL_MIXED_TEXT)
            mode = REEL_MIXED_MISSING; /* forced to number: its text cells cannot make it text */
        if (mostly_numbers && mode == REEL_MIXED_ERROR) {
            free(restore);
            return reel_fail(err, "%s:%zu: column %zu ('%s'): '%s' is text in a column of numbers (%zu of %zu "
                             "cells); fix the data, or --mixed-columns missing|text", t->path, c->first_text_line,
                             j + 1, c->name, c->first_text, c->n_texts, c->n_numbers + c->n_texts);
        }
        if (mostly_numbers && mode == REEL_MIXED_MISSING) {
            if (back_to_numbers(t, c)) {
                free(restore);
                return reel_fail(err, "%s: out of memory", t->path);
            }
            continue;
        }
        if (!c->forced) { /* a column of numbers and text read as text: the warning says why */
            c->mixed_as_text = c->n_numbers;
            c->mixed_why = mostly_numbers ? REEL_WHY_MODE : REEL_WHY_SHARE;
        }
        restore[n_restore++] = j; /* text: the numbers read before the first text cell get their own text back */
    }
    int rc = n_restore ? restore_text(t, restore, n_restore, err) : 0;
    free(restore);
    return rc;
}

int reel_table_settle_on_rows(reel_table *t, const size_t *rows, size_t n, reel_mixed_mode mixed, reel_error *err)
{
    for (size_t j = 0; j < t->ncols; j++) {
        reel_column *c = &t->cols[j];
        if (c->type != REEL_COL_TEXT || c->released || c->forced || c->n_numbers == 0)
            continue;
        size_t nums = 0, texts = 0, first = 0;
        const char *first_s = NULL;
        for (size_t ii = 0; ii < n; ii++) {
            int32_t k = c->code[rows[ii]];
            double v;
            if (k < 0)
                continue;
            if (parse_number(c->dict.strs[k], &v))
                nums++;
            else if (texts++ == 0) {
                first = t->line[rows[ii]];
                first_s = c->dict.strs[k];
            }
        }
        if (nums == 0 || texts * 20 > nums + texts) { /* text in the training rows: text */
            c->mixed_why = nums == 0 ? REEL_WHY_TRAIN_ROWS : REEL_WHY_SHARE;
            continue;
        }
        if (texts > 0 && mixed == REEL_MIXED_TEXT) {
            c->mixed_why = REEL_WHY_MODE;
            continue;
        }
        if (mixed == REEL_MIXED_ERROR) /* texts > 0 here, or the text cells are outside these rows */
            return reel_fail(err, "%s:%zu: column %zu ('%s'): '%s' is text in a column of numbers (%zu of %zu "
                             "cells%s); fix the data, or --mixed-columns missing|text", t->path,
                             texts ? first : c->first_text_line, j + 1, c->name, texts ? first_s : c->first_text,
                             texts ? texts : c->n_texts, texts ? nums + texts : c->n_numbers + c->n_texts,
                             texts ? " of the training rows" : "");
        for (size_t i = 0; i < t->nrows; i++) { /* numbers now: each must be one float32 holds */
            double v;
            int r = c->code[i] >= 0 ? parse_number(c->dict.strs[c->code[i]], &v) : 0;
            const char *why = r ? bad_number_why(r, v) : NULL;
            if (why)
                return reel_fail(err, "%s:%zu: column %zu ('%s'): '%s' %s", t->path, t->line[i], j + 1, c->name,
                                 c->dict.strs[c->code[i]], why);
        }
        if (back_to_numbers(t, c))
            return reel_fail(err, "%s: out of memory", t->path);
    }
    return 0;
}

/* The message for a record whose fields do not match the header's. */
static int fields_fail(const reel_table *t, size_t line, size_t nfields, reel_error *err)
{
    return reel_fail(err, "%s:%zu: row has %zu fields, the header has %zu (fields separated by %s, %s; --sep sets "
                     "it)", t->path, line, nfields, t->ncols, sep_name(t->sep, (char[8]){0}),
                     t->sep_found ? "found in the header line" : "as given");
}

/* Row i (room for it made) gets a cell that is neither a plain number in a
 * numeric column nor missing: a number with a fault, a number in a text
 * column, or text (which makes the column text). -1 when out of memory. */
static int add_cell(reel_column *c, size_t i, size_t cap, const char *s, size_t line)
{
    double v;
    int is_num = parse_number(s, &v);
    if (is_num)
        c->n_numbers++;
    else if (c->n_texts++ == 0) {
        c->first_text_line = line;
        if (!(c->first_text = strdup(s)))
            return -1;
    }
    const char *why = is_num ? bad_number_why(is_num, v) : NULL;
    if (why && !c->bad_number_line) {
        c->bad_number_line = line; /* an error only if the column stays numeric */
        c->bad_number_why = why;
        if (!(c->bad_number = strdup(s)))
            return -1;
    }
    if (c->type == REEL_COL_NUMERIC && is_num) {
        c->num[i] = v;
        return 0;
    }
    if (c->type == REEL_COL_NUMERIC && make_text(c, i, cap))
        return -1;
    return (c->code[i] = reel_strdict_intern(&c->dict, s)) < 0 ? -1 : 0;
}

static void add_missing(reel_column *c, size_t i)
{
    c->n_missing++;
    if (c->type == REEL_COL_NUMERIC)
        c->num[i] = NAN;
    else
        c->code[i] = -1;
}

/* Room for row t->nrows; -1 when out of memory. */
static int room_for_row(reel_table *t, size_t *cap)
{
    if (t->nrows < *cap)
        return 0;
    *cap = *cap ? *cap + *cap / 2 : 1024;
    return grow_rows(t, *cap);
}

/* The rows one record at a time (REEL_READ_SERIAL): the reference the
 * block reader is tested against. */
static int read_records(reel_table *t, reel_csv *csv, size_t *cap, reel_error *err)
{
    int r;
    while ((r = reel_csv_next(csv, err)) == 1) {
        size_t line = reel_csv_line(csv), i = t->nrows;
        if (reel_csv_nfields(csv) != t->ncols)
            return fields_fail(t, line, reel_csv_nfields(csv), err);
        if (room_for_row(t, cap))
            goto oom;
        t->line[i] = line;
        for (size_t j = 0; j < t->ncols; j++) {
            reel_column *c = &t->cols[j];
            const char *s = reel_csv_field(csv, j);
            double v;
            if (c->type == REEL_COL_NUMERIC && parse_fast(s, &v)) {
                c->num[i] = v; /* the common case: a plain number */
                c->n_numbers++;
            } else if (reel_is_missing_token(s)) {
                add_missing(c, i);
            } else if (add_cell(c, i, *cap, s, line)) {
                goto oom;
            }
        }
        t->nrows++;
    }
    if (r < 0)
        return -1;
    t->utf8_line = reel_csv_latin1_looks_utf8(csv);
    return 0;
oom:
    return reel_fail(err, "%s: out of memory after %zu rows", t->path, t->nrows);
}

/* Column j of the pieces' rows, from row n0 on, cell by cell as
 * read_records does. -1 when out of memory. */
static int add_column(reel_table *t, size_t j, const reel_csv_piece *ps, size_t np, size_t n0, size_t cap)
{
    reel_column *c = &t->cols[j];
    char *z = NULL; /* a text cell as a C string */
    size_t zcap = 0, i = n0;
    int rc = -1;
    for (size_t k = 0; k < np; k++) {
        const reel_csv_piece *p = &ps[k];
        for (size_t r = 0; r < p->nrows; r++, i++) {
            size_t cell = r * t->ncols + j, n;
            int kind = p->kind[cell] & ~REEL_CELL_IN_ARENA;
            if (kind == REEL_CELL_NUMBER && c->type == REEL_COL_NUMERIC) {
                c->num[i] = p->val[cell];
                c->n_numbers++;
                continue;
            }
            if (kind == REEL_CELL_MISSING) {
                add_missing(c, i);
                continue;
            }
            const char *s = reel_csv_piece_text(p, cell, &n);
            if (n + 1 > zcap) {
                char *nz = realloc(z, 2 * (n + 1));
                if (!nz)
                    goto done;
                z = nz;
                zcap = 2 * (n + 1);
            }
            memcpy(z, s, n);
            z[n] = '\0';
            if (add_cell(c, i, cap, z, t->line[i]))
                goto done;
        }
    }
    rc = 0;
done:
    free(z);
    return rc;
}

/* The rows of np pieces (piece k's lines counted from line0s[k]) appended:
 * their lines first, then the columns on nt threads (each column is its
 * own: its type, counts and dictionary). -1 when out of memory. */
static int add_pieces(reel_table *t, const reel_csv_piece *ps, const size_t *line0s, size_t np, size_t *cap,
                      size_t nt)
{
    size_t n0 = t->nrows, rows = 0;
    for (size_t k = 0; k < np; k++)
        rows += ps[k].nrows;
    if (n0 + rows > *cap) {
        size_t want = *cap ? *cap + *cap / 2 : 1024;
        want = want < n0 + rows ? n0 + rows : want;
        if (grow_rows(t, want))
            return -1;
        *cap = want;
    }
    size_t i = n0;
    for (size_t k = 0; k < np; k++)
        for (size_t r = 0; r < ps[k].nrows; r++)
            t->line[i++] = line0s[k] + ps[k].line[r];
    int failed = 0;
#pragma omp parallel for num_threads((int)nt) schedule(dynamic, 1) reduction(| : failed) if (nt > 1)
    for (size_t j = 0; j < t->ncols; j++)
        failed |= add_column(t, j, ps, np, n0, *cap) != 0;
    t->nrows = n0 + rows;
    return failed ? -1 : 0;
}

/* A piece of a block per thread: 2 MB, less past 16 threads, so that a
 * block and its pieces' cells (about 4 times its bytes) stay near 160 MB. */
enum { PIECE_BYTES = 1 << 21, BLOCK_BYTES_MAX = 1 << 25 };

/* Where each piece of buf[0, end) starts: after the first line end past
 * its share of the bytes (piece 0 at 0); starts[n] = end. */
static void cut_pieces(const unsigned char *buf, size_t end, size_t n, size_t *starts)
{
    starts[0] = 0;
    for (size_t k = 1; k < n; k++) {
        size_t from = end / n * k;
        from = from < starts[k - 1] ? starts[k - 1] : from;
        const unsigned char *nl = from < end ? memchr(buf + from, '\n', end - from) : NULL;
        starts[k] = nl ? (size_t)(nl - buf) + 1 : end;
    }
    starts[n] = end;
}

/* The rows a block at a time: each block cut into a piece per thread, the
 * pieces parsed in parallel (data/csv_chunk.h), then appended in order; a
 * piece that did not start where the one before it stopped (its first line
 * end was inside a quoted field) is parsed again from there. */
static int read_blocks(reel_table *t, reel_csv *csv, size_t piece_bytes, size_t *cap, reel_error *err)
{
    size_t nt = omp_in_parallel() ? 1 : (size_t)omp_get_max_threads();
    nt = nt < 1 ? 1 : nt > 64 ? 64 : nt;
    if (!piece_bytes)
        piece_bytes = PIECE_BYTES * nt <= BLOCK_BYTES_MAX ? PIECE_BYTES : BLOCK_BYTES_MAX / nt;
    size_t bufcap = piece_bytes * nt, have = 0, line0 = reel_csv_next_line(csv), starts[65];
    unsigned char *buf = malloc(bufcap);
    reel_csv_piece *ps = calloc(nt, sizeof *ps);
    int rc = -1, eof = 0, not_utf8 = 0;
    size_t high_line = 0;
    reel_csv_latin1_state(csv, &high_line, &not_utf8); /* the header's */
    if (!buf || !ps)
        goto oom;
    while (!eof) {
        if (have == bufcap) { /* one record longer than the block */
            unsigned char *nb = bufcap < ((size_t)1 << 31) ? realloc(buf, bufcap * 2) : NULL;
            if (!nb) {
                reel_fail(err, "%s:%zu: a record longer than 2 GB", t->path, line0);
                goto done;
            }
            buf = nb;
            bufcap *= 2;
        }
        long got = reel_csv_read_raw(csv, buf + have, bufcap - have, &eof, err);
        if (got < 0)
            goto done;
        size_t end = have + (size_t)got;
        cut_pieces(buf, end, nt, starts);
        for (size_t k = 0; k < nt; k++) {
            reel_csv_piece *p = &ps[k];
            p->buf = buf;
            p->begin = starts[k];
            p->limit = starts[k + 1];
            p->end = end;
            p->at_eof = eof;
            p->ncols = t->ncols;
            p->sep = t->sep;
            p->latin1 = t->latin1;
        }
#pragma omp parallel for num_threads((int)nt) schedule(static, 1) if (nt > 1)
        for (size_t k = 0; k < nt; k++)
            reel_csv_piece_parse(&ps[k]);
        size_t at = 0, np = 0, line0s[64];
        for (size_t k = 0; k < nt; k++, np++) {
            reel_csv_piece *p = &ps[k];
            if (p->begin != at) { /* it guessed wrong where a record starts */
                p->begin = at;
                reel_csv_piece_parse(p);
            }
            if (p->error == REEL_PIECE_FIELDS) {
                fields_fail(t, line0 + p->err_line, p->err_field, err);
                goto done;
            }
            if (p->error == REEL_PIECE_OOM)
                goto oom;
            if (p->error) {
                reel_csv_piece_fail(p, t->path, line0, err);
                goto done;
            }
            if (p->has_high && !high_line)
                high_line = line0 + p->high_line;
            not_utf8 |= p->not_utf8;
            line0s[k] = line0;
            line0 += p->lines;
            at = p->stop;
            if (p->incomplete) {
                np++;
                break;
            }
        }
        if (add_pieces(t, ps, line0s, np, cap, nt))
            goto oom;
        have = end - at; /* the record cut by the block's end starts the next one */
        memmove(buf, buf + at, have);
    }
    t->utf8_line = t->latin1 && !not_utf8 ? high_line : 0;
    rc = 0;
    goto done;
oom:
    reel_fail(err, "%s: out of memory after %zu rows", t->path, t->nrows);
done:
    for (size_t k = 0; ps && k < nt; k++)
        reel_csv_piece_free(&ps[k]);
    free(ps);
    free(buf);
    return rc;
}

int reel_table_read_csv(reel_table *t, const char *path, reel_error *err)
{
    return reel_table_read_csv_mode(t, path, REEL_MIXED_MISSING, err);
}

int reel_table_read_csv_mode(reel_table *t, const char *path, reel_mixed_mode mixed, reel_error *err)
{
    return reel_table_read_csv_typed(t, path, mixed, NULL, 0, err);
}

int reel_table_read_csv_typed(reel_table *t, const char *path, reel_mixed_mode mixed, const char *types,
                              int flags, reel_error *err)
{
    reel_read_opts o = {mixed, types, flags, 0, 0};
    return reel_table_read(t, path, &o, err);
}

int reel_table_read(reel_table *t, const char *path, const reel_read_opts *o, reel_error *err)
{
    reel_mixed_mode mixed = o->mixed;
    const char *types = o->types;
    int flags = o->flags;
    memset(t, 0, sizeof *t);
    if (!(t->path = strdup(path)))
        return reel_fail(err, "%s: out of memory", path);
    reel_csv *csv = reel_csv_open(path, err);
    if (!csv)
        goto fail;
    t->sep_found = !o->sep;
    t->sep = o->sep ? o->sep : reel_csv_guess_sep(csv);
    reel_csv_set_sep(csv, t->sep);
    if ((t->latin1 = (flags & REEL_READ_LATIN1) != 0))
        reel_csv_set_latin1(csv);
    if (read_header(t, csv, err))
        goto fail;
    force_ctx fctx = {t, flags & REEL_READ_ABSENT_OK};
    if (each_column_type(types, force_one, &fctx, err))
        goto fail;
    size_t cap = 0;
    int r = flags & REEL_READ_SERIAL ? read_records(t, csv, &cap, err)
                                     : read_blocks(t, csv, o->block_bytes, &cap, err);
    if (r)
        goto fail;
    if (t->nrows == 0) {
        reel_fail(err, "%s: no data rows after the header", path);
        goto fail;
    }
    if (settle_types(t, mixed, flags & REEL_READ_DEFER, err))
        goto fail;
    for (size_t j = 0; j < t->ncols; j++) {
        reel_column *c = &t->cols[j];
        if (c->type == REEL_COL_NUMERIC && c->bad_number_line) {
            reel_fail(err, "%s:%zu: column %zu ('%s'): '%s' %s", path, c->bad_number_line, j + 1, c->name,
                      c->bad_number, c->bad_number_why);
            goto fail;
        }
    }
    reel_csv_close(csv);
    return 0;
fail:
    reel_csv_close(csv);
    reel_table_free(t);
    return -1;
}

void reel_table_filter_rows(reel_table *t, const uint8_t *keep)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!keep[i])
            continue;
        t->line[k] = t->line[i];
        for (size_t j = 0; j < t->ncols; j++) {
            reel_column *c = &t->cols[j];
            if (c->released)
                continue;
            if (c->type == REEL_COL_NUMERIC)
                c->num[k] = c->num[i];
            else
                c->code[k] = c->code[i];
        }
        k++;
    }
    t->nrows = k;
}

int reel_mixed_mode_parse(const char *s, int *mode)
{
    static const char *names[] = {"missing", "error", "text"}; /* in reel_mixed_mode's order */
    for (int k = 0; k < 3; k++)
        if (strcmp(s, names[k]) == 0) {
            *mode = k;
            return 0;
        }
    return -1;
}
