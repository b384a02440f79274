/* A piece of a CSV block: whole records tokenized and each cell classified
 * (data/cell.h) on one thread, so table.c can cut a block of the file into
 * pieces parsed in parallel, as Arrow's and DuckDB's readers do.
 *
 * A piece starts after a line end, where a record is supposed to start;
 * whether one truly does (the line end was not inside a quoted field) is
 * known only once the piece before it has stopped there: the caller checks
 * and parses the piece again from the right place when not. Nothing is
 * written to the block, so pieces that overlap that way do not race. Lines
 * count from the piece's start, and an error is kept as a code until the
 * caller, knowing the line the piece starts on, makes it a message. */
#ifndef REEL_CSV_CHUNK_H
#define REEL_CSV_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* A cell's kind; REEL_CELL_IN_ARENA marks text held in the piece's arena
 * (unescaped quotes, Latin-1 converted) rather than in the block. */
enum { REEL_CELL_NUMBER = 0, /* a number a feature can hold, in val */
       REEL_CELL_MISSING = 1,
       REEL_CELL_OTHER = 2,  /* text, or a number with a fault: the reader decides */
       REEL_CELL_IN_ARENA = 0x80 };

enum { REEL_PIECE_OK, REEL_PIECE_UNTERMINATED, REEL_PIECE_AFTER_QUOTE, REEL_PIECE_NUL, REEL_PIECE_UTF8,
       REEL_PIECE_FIELDS, REEL_PIECE_OOM };

typedef struct {
    /* in */
    const unsigned char *buf; /* the block */
    size_t begin;             /* parse from here ... */
    size_t limit;             /* ... until a record would start at or after this */
    size_t end;               /* the block's bytes end here */
    int at_eof;               /* end is the file's end (else a record reaching it is incomplete) */
    size_t ncols;
    char sep;
    int latin1;
    /* out: cells row-major, nrows x ncols */
    size_t nrows;
    double *val;
    uint8_t *kind;
    uint32_t *off, *len; /* the cell's text: buf + off, or arena + off (REEL_CELL_IN_ARENA) */
    size_t *line;        /* each record's line, counted from the piece's start (0: its first) */
    char *arena;
    size_t arena_len;
    size_t stop;    /* where parsing stopped: the next record's start */
    size_t lines;   /* line ends from begin to stop */
    int incomplete; /* a record reached end (not the file's): it starts at stop */
    /* latin1: the first record holding bytes 0x80-0xFF (has_high), and whether
     * some such record is not valid UTF-8 */
    int has_high, not_utf8;
    size_t high_line;
    /* the first error: code, line, field (1-based), the byte, the line its quote opened on */
    int error;
    size_t err_line, err_field, err_quote_line;
    unsigned char err_byte;
    size_t cap_rows, arena_cap; /* storage kept from piece to piece */
} reel_csv_piece;

/* Parses p->begin .. per the in fields; resets the out fields. */
void reel_csv_piece_parse(reel_csv_piece *p);
/* The error as the one-record reader words it; line0: the line the piece
 * starts on. REEL_PIECE_FIELDS is the caller's (it knows the header). */
int reel_csv_piece_fail(const reel_csv_piece *p, const char *path, size_t line0, reel_error *err);
/* A cell's text (not NUL-terminated) and its length. */
static inline const char *reel_csv_piece_text(const reel_csv_piece *p, size_t cell, size_t *n)
{
    *n = p->len[cell];
    return p->kind[cell] & REEL_CELL_IN_ARENA ? p->arena + p->off[cell] : (const char *)p->buf + p->off[cell];
}
void reel_csv_piece_free(reel_csv_piece *p);

#endif
