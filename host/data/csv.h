/* A streaming RFC 4180 reader: quoted fields with commas, quotes and
 * newlines inside, CRLF or LF line ends, a UTF-8 BOM. It holds one record at
 * a time, so a file of any size is read in constant memory. */
#ifndef REEL_CSV_H
#define REEL_CSV_H

#include <stddef.h>

#include "util/error.h"

typedef struct reel_csv reel_csv;

reel_csv *reel_csv_open(const char *path, reel_error *err);
void reel_csv_close(reel_csv *c);
/* Reads the file as Latin-1 (--encoding latin-1): every record converted to UTF-8. */
void reel_csv_set_latin1(reel_csv *c);
/* Fields are separated by sep (default ','; --sep). */
void reel_csv_set_sep(reel_csv *c, char sep);
/* The separator the header line uses, called before the first record: the
 * one of , ; tab | found most often outside quotes in its first 64 KB
 * (',' on a tie, or when none is found: a file of one column). */
char reel_csv_guess_sep(const reel_csv *c);
/* Read as Latin-1 so far, yet every non-ASCII byte is part of valid UTF-8:
 * the first line holding such text (likely a UTF-8 file), else 0. */
size_t reel_csv_latin1_looks_utf8(const reel_csv *c);

/* Reads the next record: 1 when one was read, 0 at end of file, -1 on a
 * malformed file (err names the file, line and column). Lines that are
 * completely empty are skipped. */
int reel_csv_next(reel_csv *c, reel_error *err);

/* The bytes after the last record read, for a reader of whole blocks
 * (table.c): up to cap of them into dst, the count returned (-1 on a read
 * error, in err); *eof once the file has no more. */
long reel_csv_read_raw(reel_csv *c, unsigned char *dst, size_t cap, int *eof, reel_error *err);
/* The line the next record would start on (after reel_csv_next). */
size_t reel_csv_next_line(const reel_csv *c);
/* latin1: the first line of a record holding bytes 0x80-0xFF (0: none yet),
 * and whether some such record was not valid UTF-8. */
void reel_csv_latin1_state(const reel_csv *c, size_t *first_high_line, int *not_utf8);

size_t reel_csv_nfields(const reel_csv *c);
/* Field i of the current record, NUL-terminated (fields cannot hold NUL). */
const char *reel_csv_field(const reel_csv *c, size_t i);
size_t reel_csv_field_len(const reel_csv *c, size_t i);
/* 1-based line on which the current record starts. */
size_t reel_csv_line(const reel_csv *c);
const char *reel_csv_path(const reel_csv *c);

#endif
