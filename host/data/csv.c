#include "data/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/cell.h"
#include "util/fileio.h"

enum { CHUNK = 1 << 16 };

struct reel_csv {
    FILE *fp;
    char *path;
    unsigned char buf[CHUNK]; /* raw bytes from the file */
    size_t pos, len;
    int eof;
    size_t line;        /* current physical line (1-based) */
    size_t record_line; /* line where the current record began */
    char sep;           /* the field separator (',' unless set) */
    int latin1;         /* the file is Latin-1: each record converted to UTF-8 */
    size_t utf8_line;   /* latin1: the first line whose bytes read as UTF-8 with non-ASCII text ... */
    int not_utf8;       /* ... unless some record is not UTF-8 (then the file is Latin-1 indeed) */
    char *text;         /* the record's fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *start; /* offset of each field in text */
    size_t nfields, fields_cap;
};

reel_csv *reel_csv_open(const char *path, reel_error *err)
{
    FILE *fp = reel_open_read(path, "CSV", err);
    if (!fp)
        return NULL;
    reel_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->path = malloc(strlen(path) + 1))) {
        free(c);
        fclose(fp);
        reel_fail(err, "%s: out of memory", path);
        return NULL;
    }
    strcpy(c->path, path);
    c->fp = fp;
    c->line = 1;
    c->sep = ',';
    /* Skip a UTF-8 byte order mark. */
    c->len = fread(c->buf, 1, CHUNK, fp);
    if (c->len >= 3 && c->buf[0] == 0xEF && c->buf[1] == 0xBB && c->buf[2] == 0xBF)
        c->pos = 3;
    /* UTF-16 (a byte order mark, or ASCII with every other byte NUL) is named as such. */
    int utf16 = c->len >= 2 && ((c->buf[0] == 0xFF && c->buf[1] == 0xFE) ||
                                (c->buf[0] == 0xFE && c->buf[1] == 0xFF));
    if (!utf16 && c->len >= 4 && c->buf[0] && !c->buf[1] && c->buf[2] && !c->buf[3])
        utf16 = 1;
    if (!utf16 && c->len >= 4 && !c->buf[0] && c->buf[1] && !c->buf[2] && c->buf[3])
        utf16 = 1;
    if (utf16) {
        reel_fail(err, "%s: the file is UTF-16 text; reel reads UTF-8 (convert it, e.g. iconv -f UTF-16 -t UTF-8)",
                  path);
        reel_csv_close(c);
        return NULL;
    }
    return c;
}

void reel_csv_close(reel_csv *c)
{
    if (!c)
        return;
    if (c->fp)
        fclose(c->fp);
    free(c->path);
    free(c->text);
    free(c->start);
    free(c);
}

/* Next byte or -1 at end of file (-2 on a read error). */
static int getbyte(reel_csv *c)
{
    if (c->pos == c->len) {
        if (c->eof)
            return -1;
        c->len = fread(c->buf, 1, CHUNK, c->fp);
        c->pos = 0;
        if (c->len == 0) {
            c->eof = 1;
            return ferror(c->fp) ? -2 : -1;
        }
    }
    return c->buf[c->pos++];
}

static int peekbyte(reel_csv *c)
{
    int b = getbyte(c);
    if (b >= 0)
        c->pos--; /* getbyte just read it from buf, so it can be put back */
    return b;
}

static int put(reel_csv *c, char ch)
{
    if (c->text_len == c->text_cap) {
        size_t cap = c->text_cap ? c->text_cap * 2 : 256;
        char *t = realloc(c->text, cap);
        if (!t)
            return -1;
        c->text = t;
        c->text_cap = cap;
    }
    c->text[c->text_len++] = ch;
    return 0;
}

static int begin_field(reel_csv *c)
{
    if (c->nfields == c->fields_cap) {
        size_t cap = c->fields_cap ? c->fields_cap * 2 : 16;
        size_t *s = realloc(c->start, cap * sizeof *s);
        if (!s)
            return -1;
        c->start = s;
        c->fields_cap = cap;
    }
    c->start[c->nfields++] = c->text_len;
    return 0;
}

/* Text is UTF-8: anything else (Latin-1, a damaged file) would reach JSON
 * outputs and model files, which must be UTF-8. 1 when valid. */
static int check_utf8(const reel_csv *c, reel_error *err)
{
    const unsigned char *t = (const unsigned char *)c->text;
    size_t field = 0;
    for (size_t i = 0; i < c->text_len;) {
        if (t[i] < 0x80) {
            field += t[i] == '\0';
            i++;
            continue;
        }
        size_t k = reel_utf8_len(t + i, c->text_len - i);
        if (k == 0)
            return reel_fail(err, "%s:%zu: column %zu: byte 0x%02X is not UTF-8 text; reel reads UTF-8: a Latin-1 "
                             "file needs --encoding latin-1 (or convert it: iconv -f latin1 -t utf-8)", c->path,
                             c->record_line, field + 1, t[i]);
        i += k;
    }
    return 1;
}

void reel_csv_set_latin1(reel_csv *c) { c->latin1 = 1; }

void reel_csv_set_sep(reel_csv *c, char sep) { c->sep = sep; }

char reel_csv_guess_sep(const reel_csv *c)
{
    static const char cand[] = {',', ';', '\t', '|'};
    size_t count[sizeof cand] = {0};
    int in_quotes = 0;
    size_t i = c->pos;
    while (i < c->len && (c->buf[i] == '\n' || c->buf[i] == '\r'))
        i++; /* empty lines before the header are skipped */
    for (; i < c->len; i++) {
        unsigned char b = c->buf[i];
        if (b == '"')
            in_quotes = !in_quotes; /* "" inside quotes toggles twice: no change */
        else if (!in_quotes && (b == '\n' || b == '\r'))
            break;
        else if (!in_quotes)
            for (size_t k = 0; k < sizeof cand; k++)
                count[k] += b == (unsigned char)cand[k];
    }
    size_t best = 0;
    for (size_t k = 1; k < sizeof cand; k++)
        if (count[k] > count[best])
            best = k;
    return cand[best];
}

size_t reel_csv_latin1_looks_utf8(const reel_csv *c) { return c->latin1 && !c->not_utf8 ? c->utf8_line : 0; }

/* A Latin-1 record to UTF-8: each byte 0x80-0xFF is the code point of that
 * value, two bytes in UTF-8; the field offsets move with the text. */
static int from_latin1(reel_csv *c, reel_error *err)
{
    const unsigned char *t = (const unsigned char *)c->text;
    size_t hi = 0;
    for (size_t i = 0; i < c->text_len; i++)
        hi += t[i] >= 0x80;
    if (hi == 0)
        return 1;
    /* Valid UTF-8 read as Latin-1 turns "é" into "Ã©": noted for a warning. */
    for (size_t i = 0; i < c->text_len && !c->not_utf8;) {
        size_t k = t[i] < 0x80 ? 1 : reel_utf8_len(t + i, c->text_len - i);
        c->not_utf8 = k == 0;
        i += k ? k : 1;
    }
    if (!c->utf8_line)
        c->utf8_line = c->record_line;
    size_t cap = c->text_len + hi;
    unsigned char *u = malloc(cap);
    if (!u)
        return reel_fail(err, "%s:%zu: out of memory", c->path, c->record_line);
    size_t k = 0, f = 0;
    for (size_t i = 0; i < c->text_len; i++) {
        while (f < c->nfields && c->start[f] == i)
            c->start[f++] = k;
        if (t[i] >= 0x80) {
            u[k++] = (unsigned char)(0xC0 | (t[i] >> 6));
            u[k++] = (unsigned char)(0x80 | (t[i] & 0x3F));
        } else {
            u[k++] = t[i];
        }
    }
    free(c->text);
    c->text = (char *)u;
    c->text_len = k;
    c->text_cap = cap;
    return 1;
}

int reel_csv_next(reel_csv *c, reel_error *err)
{
    for (;;) {
        c->nfields = 0;
        c->text_len = 0;
        c->record_line = c->line;
        int b = peekbyte(c);
        if (b == -2)
            return reel_fail(err, "%s:%zu: read error", c->path, c->line);
        if (b == -1)
            return 0;
        if (b == '\n' || b == '\r') { /* an empty line: skip it */
            getbyte(c);
            if (b == '\r' && peekbyte(c) == '\n')
                getbyte(c);
            c->line++;
            continue;
        }
        break;
    }
    if (begin_field(c))
        goto oom;
    int quoted = 0, in_quotes = 0, after_quote = 0;
    size_t quote_line = 0;
    for (;;) {
        int b = getbyte(c);
        if (b == -2)
            return reel_fail(err, "%s:%zu: read error", c->path, c->line);
        if (in_quotes) {
            if (b == -1)
                return reel_fail(err, "%s:%zu: column %zu: unterminated quoted field (opened on line %zu)",
                                 c->path, c->line, c->nfields, quote_line);
            if (b == '"') {
                if (peekbyte(c) == '"') { /* "" inside quotes is one quote */
                    getbyte(c);
                    if (put(c, '"'))
                        goto oom;
                } else {
                    in_quotes = 0;
                    after_quote = 1;
                }
                continue;
            }
            if (b == '\0')
                return reel_fail(err, "%s:%zu: column %zu: NUL byte in field (not a text CSV file?)", c->path,
                                 c->line, c->nfields);
            if (b == '\n')
                c->line++;
            if (put(c, (char)b))
                goto oom;
            continue;
        }
        if (b == -1 || b == '\n' || b == '\r' || b == c->sep) {
            if (put(c, '\0'))
                goto oom;
            if (b == c->sep) {
                if (begin_field(c))
                    goto oom;
                quoted = after_quote = 0;
                continue;
            }
            if (b == '\r' && peekbyte(c) == '\n')
                getbyte(c);
            if (b != -1)
                c->line++;
            return c->latin1 ? from_latin1(c, err) : check_utf8(c, err);
        }
        if (b == '"' && !quoted && c->text_len == c->start[c->nfields - 1]) {
            quoted = in_quotes = 1;
            quote_line = c->line;
            continue;
        }
        if (after_quote)
            return reel_fail(err, "%s:%zu: column %zu: unexpected character '%c' after a closing quote",
                             c->path, c->line, c->nfields, b);
        if (b == '\0')
            return reel_fail(err, "%s:%zu: column %zu: NUL byte in field (not a text CSV file?)",
                             c->path, c->line, c->nfields);
        if (put(c, (char)b))
            goto oom;
    }
oom:
    return reel_fail(err, "%s:%zu: out of memory", c->path, c->line);
}

long reel_csv_read_raw(reel_csv *c, unsigned char *dst, size_t cap, int *eof, reel_error *err)
{
    size_t n = c->len - c->pos < cap ? c->len - c->pos : cap;
    memcpy(dst, c->buf + c->pos, n); /* what the record reader had buffered first */
    c->pos += n;
    if (n < cap && !c->eof) {
        size_t want = cap - n, got = fread(dst + n, 1, want, c->fp);
        n += got;
        if (got < want) {
            c->eof = 1;
            if (ferror(c->fp))
                return reel_fail(err, "%s:%zu: read error", c->path, c->line);
        }
    }
    *eof = c->eof && c->pos == c->len;
    return (long)n;
}

size_t reel_csv_next_line(const reel_csv *c) { return c->line; }

void reel_csv_latin1_state(const reel_csv *c, size_t *first_high_line, int *not_utf8)
{
    *first_high_line = c->utf8_line;
    *not_utf8 = c->not_utf8;
}

size_t reel_csv_nfields(const reel_csv *c) { return c->nfields; }
const char *reel_csv_field(const reel_csv *c, size_t i) { return c->text + c->start[i]; }
size_t reel_csv_field_len(const reel_csv *c, size_t i)
{
    size_t end = i + 1 < c->nfields ? c->start[i + 1] : c->text_len;
    return end - c->start[i] - 1;
}
size_t reel_csv_line(const reel_csv *c) { return c->record_line; }
const char *reel_csv_path(const reel_csv *c) { return c->path; }
