/* A CSV file as typed columns. A column is numeric while every non-missing
 * cell parses as a finite number; the first other cell makes it text (its
 * cells become codes into a dictionary). Missing cells (empty, NA, N/A, NaN,
 * null in any case) are NaN in numeric columns and -1 in text columns. */
#ifndef REEL_TABLE_H
#define REEL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "data/cell.h" /* reel_is_missing_token, reel_feature_number_why */
#include "util/error.h"
#include "util/log.h"
#include "util/strdict.h"

typedef enum { REEL_COL_NUMERIC, REEL_COL_TEXT } reel_coltype;

typedef struct {
    char *name;
    reel_coltype type;
    double *num;    /* numeric: n values, NaN when missing */
    int32_t *code;  /* text: n codes into dict, -1 when missing */
    reel_strdict dict;
    size_t n_missing;
    int released;           /* storage freed once consumed (cells read as missing) */
    size_t bad_number_line; /* first line with inf / overflow (0: none) */
    size_t n_numbers, n_texts; /* non-missing cells that parse as numbers / that do not */
    size_t first_text_line;    /* the first cell that is not a number (0: none) ... */
    char *first_text;          /* ... and its text */
    size_t mixed_as_missing;   /* text cells of a mostly numeric column read as missing */
    size_t mixed_as_text;      /* number cells of a column read as text (a mixed column; 0: none) */
    int mixed_why;             /* why it is text: reel_mixed_why */
    int forced;                /* reel_force: a type the user forced (--column-type) */
    char *bad_number;       /* its text */
    const char *bad_number_why; /* what is wrong with it */
} reel_column;

typedef struct {
    char *path;
    size_t nrows, ncols;
    reel_column *cols;
    size_t *line; /* source line of each row, for error messages */
    reel_strdict names; /* column names, hashed: code j is column j */
    int latin1;         /* read as Latin-1 (and so re-read) */
    char sep;           /* the field separator ... */
    int sep_found;      /* ... found from the header line (not given) */
    size_t utf8_line;   /* latin1, yet valid UTF-8 with non-ASCII text from this line (0: no) */
} reel_table;

/* A column of numbers with a few text cells (at most 1 in 20 of its
 * non-missing cells): the text cells are read as missing (the column keeps
 * mixed_as_missing, first_text_line and first_text for a warning), make it
 * an error, or make the column text. A column mostly of text is text; its
 * cells keep their original text ("02134" stays "02134"). */
typedef enum { REEL_MIXED_MISSING, REEL_MIXED_ERROR, REEL_MIXED_TEXT } reel_mixed_mode;
/* Why a column holding numbers was read as text (for the warning). */
typedef enum { REEL_WHY_SHARE = 1,  /* more than 1 in 20 of its cells are text */
               REEL_WHY_MODE,       /* --mixed-columns text */
               REEL_WHY_TRAIN_ROWS  /* its training rows hold no number */
} reel_mixed_why;

/* Reads a CSV with a header row. Errors name the file, line and column. */
int reel_table_read_csv(reel_table *t, const char *path, reel_error *err);
int reel_table_read_csv_mode(reel_table *t, const char *path, reel_mixed_mode mixed, reel_error *err);
/* Column types forced by the user: "COL=number|text[,COL=...]" (--column-type).
 * A column forced to text keeps every cell's text; one forced to number
 * reads its text cells as missing (an error with REEL_MIXED_ERROR). A name
 * that is not a column is an error unless REEL_READ_ABSENT_OK (predict: a column the
 * model does not use). types may be NULL. */
typedef enum { REEL_FORCE_NONE, REEL_FORCE_NUMBER, REEL_FORCE_TEXT } reel_force;
enum { REEL_READ_ABSENT_OK = 1, /* a forced name that is not a column is no error */
       REEL_READ_DEFER = 2,      /* columns not forced: mixed ones stay text (reel_table_settle_on_rows) */
       REEL_READ_LATIN1 = 4,     /* the file is Latin-1 (converted to UTF-8) */
       REEL_READ_SERIAL = 8 };   /* one record at a time on one thread: the reference the block reader,
                                    which parses pieces of the file on OpenMP's threads, is tested against */
int reel_table_read_csv_typed(reel_table *t, const char *path, reel_mixed_mode mixed, const char *types,
                              int flags, reel_error *err);
/* All the reading options; the functions above are this one with sep 0. */
typedef struct {
    reel_mixed_mode mixed;
    const char *types; /* --column-type, or NULL */
    int flags;         /* REEL_READ_* */
    char sep;          /* the field separator (--sep); 0: found from the header line (reel_csv_guess_sep) */
    size_t block_bytes; /* bytes per thread of each block read (0: 2 MB, 32 MB a block at most); tests use tiny ones */
} reel_read_opts;
int reel_table_read(reel_table *t, const char *path, const reel_read_opts *o, reel_error *err);
/* A --sep value: one character other than a quote, a line end, a letter or
 * a digit, or "tab" ("\t" too) for a tab. `where` starts the message. */
int reel_sep_parse(const char *s, char *sep, const char *where, reel_error *err);
/* Decides again, from the given rows only (the training rows), the type of
 * each column read as text though some of its cells are numbers (read with
 * REEL_MIXED_TEXT to defer the decision): a text cell outside those rows
 * never makes a column text; it is read as missing (counted in
 * mixed_as_missing), or refused with REEL_MIXED_ERROR. */
int reel_table_settle_on_rows(reel_table *t, const size_t *rows, size_t n, reel_mixed_mode mixed, reel_error *err);
/* Checks the syntax of a --column-type list (column names are checked on reading). */
int reel_column_types_check(const char *types, reel_error *err);
/* --mixed-columns missing|error|text as a reel_mixed_mode; -1 when unknown. */
int reel_mixed_mode_parse(const char *s, int *mode);
/* Makes a numeric column text, each cell its original text from the file
 * (predict: a column the model one-hot encodes, though all numbers here). */
int reel_table_as_text(reel_table *t, size_t col, reel_error *err);
void reel_table_free(reel_table *t);
/* Notes a separator other than ',' found from the header line (INFO), and
 * warns when a file read as Latin-1 is valid UTF-8 with non-ASCII text
 * (its text then reads garbled: "Ã©" for "é"). */
void reel_table_warn_encoding(const reel_table *t, const reel_log *log);

/* Index of the column named `name`, or -1. */
int reel_table_find(const reel_table *t, const char *name);
/* Text of a cell (numeric cells are formatted); buf is used when needed.
 * Returns "" for a missing cell. */
const char *reel_table_cell(const reel_table *t, size_t col, size_t row, char *buf, size_t bufsz);
/* The text of a cell as the file wrote it ("6.4", not the double's
 * 6.4000000000000004), read again from the file for a message; a missing
 * cell is "". When the file no longer holds that row, the number's shortest
 * form that reads back as the same double. */
const char *reel_table_source_cell(const reel_table *t, size_t col, size_t row, char *buf, size_t bufsz);
/* Frees a column's cells (the name stays); later reads see missing cells. */
void reel_table_release(reel_table *t, size_t col);
/* Keeps only the rows where keep[row] is non-zero, in order. */
void reel_table_filter_rows(reel_table *t, const uint8_t *keep);

/* Appends a column of n missing cells (numeric or text). */
int reel_table_add_missing(reel_table *t, const char *name, reel_coltype type, reel_error *err);

#endif
