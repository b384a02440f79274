#include "data/csv_chunk.h"

#include <stdlib.h>
#include <string.h>

#include "data/cell.h"

/* Room for one more record of ncols cells; 0 when out of memory. */
static int room_for_row(reel_csv_piece *p)
{
    if (p->nrows < p->cap_rows)
        return 1;
    size_t cap = p->cap_rows ? p->cap_rows * 2 : 1024, cells = cap * (p->ncols ? p->ncols : 1);
    double *val = realloc(p->val, cells * sizeof *val);
    if (val)
        p->val = val;
    uint8_t *kind = realloc(p->kind, cells);
    if (kind)
        p->kind = kind;
    uint32_t *off = realloc(p->off, cells * sizeof *off);
    if (off)
        p->off = off;
    uint32_t *len = realloc(p->len, cells * sizeof *len);
    if (len)
        p->len = len;
    size_t *line = realloc(p->line, cap * sizeof *line);
    if (line)
        p->line = line;
    if (!val || !kind || !off || !len || !line)
        return 0;
    p->cap_rows = cap;
    return 1;
}

/* n bytes of room at the arena's end; NULL when out of memory. */
static char *arena_room(reel_csv_piece *p, size_t n)
{
    if (p->arena_len + n > p->arena_cap) {
        size_t cap = p->arena_cap ? p->arena_cap : 4096;
        while (cap < p->arena_len + n)
            cap *= 2;
        char *a = realloc(p->arena, cap);
        if (!a)
            return NULL;
        p->arena = a;
        p->arena_cap = cap;
    }
    return p->arena + p->arena_len;
}

/* Whether n bytes hold one 0x80-0xFF, eight at a time. */
static int any_high(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            return 1;
    }
    for (; i < n; i++)
        if (s[i] & 0x80)
            return 1;
    return 0;
}

/* State of the record being read. */
typedef struct {
    size_t line;      /* its first line (from the piece's start) */
    int high;         /* latin1: a cell held bytes 0x80-0xFF ... */
    int high_invalid; /* ... that are not valid UTF-8 */
    size_t utf8_field; /* not latin1: the first field whose bytes are not UTF-8 (0: none) ... */
    unsigned char utf8_byte; /* ... and the byte */
} record;

/* Stores field f's text (s, n; `escaped`: holds "" for each quote) as a
 * classified cell of the current row. 0 when out of memory. */
static int store_cell(reel_csv_piece *p, record *r, size_t f, const unsigned char *s, size_t n, int escaped)
{
    size_t cell = p->nrows * p->ncols + f;
    uint8_t where = 0;
    if (!escaped && reel_cell_fast_number((const char *)s, n, &p->val[cell])) { /* the common case: ASCII digits */
        p->off[cell] = (uint32_t)(s - p->buf);
        p->len[cell] = (uint32_t)n;
        p->kind[cell] = REEL_CELL_NUMBER;
        return 1;
    }
    if (escaped) { /* "" inside quotes is one quote */
        char *d = arena_room(p, n);
        if (!d)
            return 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            d[k++] = (char)s[i];
            i += s[i] == '"';
        }
        s = (const unsigned char *)d;
        n = k;
        p->off[cell] = (uint32_t)p->arena_len;
        p->arena_len += n;
        where = REEL_CELL_IN_ARENA;
    } else {
        p->off[cell] = (uint32_t)(s - p->buf);
    }
    if (any_high(s, n)) {
        int valid = 1;
        for (size_t i = 0; i < n && valid;) {
            size_t k = s[i] < 0x80 ? 1 : reel_utf8_len(s + i, n - i);
            if (k == 0 && !p->latin1 && !r->utf8_field) {
                r->utf8_field = f + 1;
                r->utf8_byte = s[i];
            }
            valid = k != 0;
            i += k;
        }
        if (p->latin1) { /* each byte 0x80-0xFF to its two UTF-8 bytes */
            r->high = 1;
            r->high_invalid |= !valid;
            size_t hi = 0;
            for (size_t i = 0; i < n; i++)
                hi += s[i] >= 0x80;
            size_t at = where ? p->off[cell] : p->arena_len; /* unescaped text is converted where it lies */
            unsigned char *tmp = NULL;
            if (where) { /* the source is in the arena: copy it out first */
                if (!(tmp = malloc(n)))
                    return 0;
                memcpy(tmp, s, n);
                s = tmp;
                p->arena_len = at;
            }
            char *d = arena_room(p, n + hi);
            if (!d) {
                free(tmp);
                return 0;
            }
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (s[i] >= 0x80) {
                    d[k++] = (char)(0xC0 | (s[i] >> 6));
                    d[k++] = (char)(0x80 | (s[i] & 0x3F));
                } else {
                    d[k++] = (char)s[i];
                }
            }
            free(tmp);
            s = (const unsigned char *)d;
            n = k;
            p->off[cell] = (uint32_t)at;
            p->arena_len = at + n;
            where = REEL_CELL_IN_ARENA;
        }
    }
    p->len[cell] = (uint32_t)n;
    const char *t = (const char *)s;
    double v;
    uint8_t kind = REEL_CELL_OTHER;
    if (reel_cell_fast_number(t, n, &v)) { /* the common case: a plain number */
        kind = REEL_CELL_NUMBER;
    } else if (reel_cell_missing(t, n)) {
        kind = REEL_CELL_MISSING;
    } else if (n < 64) { /* other numbers strtod reads; longer cells are left to the reader */
        char z[64];
        memcpy(z, t, n);
        z[n] = '\0';
        int parsed = reel_cell_number(z, &v);
        if (parsed && !reel_cell_number_why(parsed, v))
            kind = REEL_CELL_NUMBER;
    }
    p->val[cell] = kind == REEL_CELL_NUMBER ? v : 0.0;
    p->kind[cell] = kind | where;
    return 1;
}

/* An unquoted field at *at that is [-+]digits[.digits], 15 significant
 * digits at most (19 in all), followed by the separator or a line end:
 * stored as a number, read in the same pass that finds its end, as
 * reel_cell_fast_number would read it (m over 10^frac, exact and correctly
 * rounded); *at moves to its end. 0 for any other field (nothing stored). */
static int plain_number(reel_csv_piece *p, size_t f, size_t *at)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                   1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    const unsigned char *buf = p->buf;
    size_t q = *at, end = p->end;
    int neg = 0;
    if (q < end && (buf[q] == '-' || buf[q] == '+'))
        neg = buf[q++] == '-';
    uint64_t m = 0;
    size_t d0 = q;
    for (; q < end && (unsigned)(buf[q] - '0') < 10; q++)
        m = m * 10 + (uint64_t)(buf[q] - '0');
    size_t ndig = q - d0, frac = 0;
    if (q < end && buf[q] == '.') {
        size_t f0 = ++q;
        for (; q < end && (unsigned)(buf[q] - '0') < 10; q++)
            m = m * 10 + (uint64_t)(buf[q] - '0');
        frac = q - f0;
        ndig += frac;
    }
    if (ndig == 0 || ndig > 19 || m >= 1000000000000000ull || q == end ||
        (buf[q] != (unsigned char)p->sep && buf[q] != '\n' && buf[q] != '\r'))
        return 0;
    double x = frac ? (double)m / pow10[frac] : (double)m;
    size_t cell = p->nrows * p->ncols + f;
    p->val[cell] = neg ? -x : x;
    p->off[cell] = (uint32_t)*at;
    p->len[cell] = (uint32_t)(q - *at);
    p->kind[cell] = REEL_CELL_NUMBER;
    *at = q;
    return 1;
}

static void fail_at(reel_csv_piece *p, int code, size_t line, size_t field, unsigned char byte)
{
    p->error = code;
    p->err_line = line;
    p->err_field = field;
    p->err_byte = byte;
}

/* Byte classes of an unquoted field: 1 ends it or needs a look (the
 * separator, a line end, NUL). */
static void classes(unsigned char cls[256], char sep)
{
    memset(cls, 0, 256);
    cls[(unsigned char)sep] = cls['\n'] = cls['\r'] = cls[0] = 1;
}

void reel_csv_piece_parse(reel_csv_piece *p)
{
    const unsigned char *buf = p->buf;
    const size_t end = p->end;
    unsigned char cls[256];
    classes(cls, p->sep);
    p->nrows = p->arena_len = p->lines = 0;
    p->incomplete = p->has_high = p->not_utf8 = p->error = 0;
    size_t at = p->begin, lines = 0;
    for (;;) {
        if (at >= p->limit || at >= end)
            break;
        unsigned char b = buf[at];
        if (b == '\n' || b == '\r') { /* an empty line: skipped */
            if (b == '\r' && at + 1 == end && !p->at_eof) {
                p->incomplete = 1; /* CR then LF, or a lone CR? The next block says */
                break;
            }
            at += b == '\r' && at + 1 < end && buf[at + 1] == '\n' ? 2 : 1;
            lines++;
            continue;
        }
        if (!room_for_row(p)) {
            fail_at(p, REEL_PIECE_OOM, lines, 0, 0);
            break;
        }
        record r = {.line = lines};
        size_t q = at, f = 0, arena0 = p->arena_len;
        int done = 0;
        while (!done) { /* one field per turn */
            const unsigned char *s;
            size_t n;
            int escaped = 0;
            f++;
            if (q < end && buf[q] == '"') {
                size_t quote_line = lines;
                size_t from = ++q;
                for (;;) {
                    if (q == end) {
                        if (p->at_eof) {
                            fail_at(p, REEL_PIECE_UNTERMINATED, lines, f, 0);
                            p->err_quote_line = quote_line;
                        } else {
                            p->incomplete = 1;
                        }
                        goto stop;
                    }
                    unsigned char c = buf[q];
                    if (c == '"') {
                        if (q + 1 == end && !p->at_eof) {
                            p->incomplete = 1;
                            goto stop;
                        }
                        if (q + 1 < end && buf[q + 1] == '"') {
                            escaped = 1;
                            q += 2;
                            continue;
                        }
                        break;
                    }
                    if (c == '\0') {
                        fail_at(p, REEL_PIECE_NUL, lines, f, 0);
                        goto stop;
                    }
                    lines += c == '\n';
                    q++;
                }
                s = buf + from;
                n = q - from;
                q++; /* the closing quote */
                if (q < end && !cls[buf[q]]) {
                    fail_at(p, REEL_PIECE_AFTER_QUOTE, lines, f, buf[q]);
                    goto stop;
                }
                if (q < end && buf[q] == '\0') {
                    fail_at(p, REEL_PIECE_AFTER_QUOTE, lines, f, 0);
                    goto stop;
                }
            } else {
                size_t from = q;
                if (f <= p->ncols && plain_number(p, f - 1, &q)) /* read once: the common case */
                    goto field_end;
                while (q < end && !cls[buf[q]])
                    q++;
                if (q < end && buf[q] == '\0') {
                    fail_at(p, REEL_PIECE_NUL, lines, f, 0);
                    goto stop;
                }
                s = buf + from;
                n = q - from;
            }
            if (q == end && !p->at_eof) {
                p->incomplete = 1;
                goto stop;
            }
            if (f <= p->ncols && !store_cell(p, &r, f - 1, s, n, escaped)) {
                fail_at(p, REEL_PIECE_OOM, lines, f, 0);
                goto stop;
            }
            if (f > p->ncols && !p->latin1 && !r.utf8_field) /* a field too many: still named if not UTF-8 */
                for (size_t i = 0, k; i < n; i += k ? k : 1)
                    if (!(k = s[i] < 0x80 ? 1 : reel_utf8_len(s + i, n - i)) && !r.utf8_field) {
                        r.utf8_field = f;
                        r.utf8_byte = s[i];
                    }
        field_end:
            if (q == end) { /* the file ends the record */
                done = 1;
            } else if (buf[q] == (unsigned char)p->sep) {
                q++;
            } else { /* a line end */
                if (buf[q] == '\r' && q + 1 == end && !p->at_eof) {
                    p->incomplete = 1;
                    goto stop;
                }
                q += buf[q] == '\r' && q + 1 < end && buf[q + 1] == '\n' ? 2 : 1;
                lines++;
                done = 1;
            }
        }
        if (r.utf8_field) {
            fail_at(p, REEL_PIECE_UTF8, r.line, r.utf8_field, r.utf8_byte);
            break;
        }
        if (f != p->ncols) {
            fail_at(p, REEL_PIECE_FIELDS, r.line, f, 0);
            break;
        }
        if (r.high && !p->has_high) {
            p->has_high = 1;
            p->high_line = r.line;
        }
        p->not_utf8 |= r.high_invalid;
        p->line[p->nrows++] = r.line;
        at = q;
        continue;
    stop:
        p->arena_len = arena0;
        if (p->incomplete)
            lines = r.line; /* the record starts again in the next block */
        break;
    }
    p->stop = at;
    p->lines = lines;
}

int reel_csv_piece_fail(const reel_csv_piece *p, const char *path, size_t line0, reel_error *err)
{
    size_t line = line0 + p->err_line;
    switch (p->error) {
    case REEL_PIECE_UNTERMINATED:
        return reel_fail(err, "%s:%zu: column %zu: unterminated quoted field (opened on line %zu)", path, line,
                         p->err_field, line0 + p->err_quote_line);
    case REEL_PIECE_AFTER_QUOTE:
        return reel_fail(err, "%s:%zu: column %zu: unexpected character '%c' after a closing quote", path, line,
                         p->err_field, p->err_byte);
    case REEL_PIECE_NUL:
        return reel_fail(err, "%s:%zu: column %zu: NUL byte in field (not a text CSV file?)", path, line,
                         p->err_field);
    case REEL_PIECE_UTF8:
        return reel_fail(err, "%s:%zu: column %zu: byte 0x%02X is not UTF-8 text; reel reads UTF-8: a Latin-1 "
                         "file needs --encoding latin-1 (or convert it: iconv -f latin1 -t utf-8)", path, line,
                         p->err_field, p->err_byte);
    default:
        return reel_fail(err, "%s:%zu: out of memory", path, line);
    }
}

void reel_csv_piece_free(reel_csv_piece *p)
{
    free(p->val);
    free(p->kind);
    free(p->off);
    free(p->len);
    free(p->line);
    free(p->arena);
    memset(p, 0, sizeof *p);
}
