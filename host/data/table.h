/* A CSV file as typed columns. A column is numeric while every non-missing
 * cell parses as a finite number; the first other cell makes it text (its
 * cells become codes into a dictionary). Missing cells (empty, NA, N/A, NaN,
 * null in any case) are NaN in numeric columns and -1 in text columns. */
#ifndef REEL_TABLE_H
#define REEL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
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
    char *bad_number;       /* its text */
    const char *bad_number_why; /* what is wrong with it */
} reel_column;

typedef struct {
    char *path;
    size_t nrows, ncols;
    reel_column *cols;
    size_t *line; /* source line of each row, for error messages */
    reel_strdict names; /* column names, hashed: code j is column j */
} reel_table;

/* Reads a CSV with a header row. Errors name the file, line and column. */
int reel_table_read_csv(reel_table *t, const char *path, reel_error *err);
void reel_table_free(reel_table *t);

/* Index of the column named `name`, or -1. */
int reel_table_find(const reel_table *t, const char *name);
/* Text of a cell (numeric cells are formatted); buf is used when needed.
 * Returns "" for a missing cell. */
const char *reel_table_cell(const reel_table *t, size_t col, size_t row, char *buf, size_t bufsz);
/* Frees a column's cells (the name stays); later reads see missing cells. */
void reel_table_release(reel_table *t, size_t col);
/* Keeps only the rows where keep[row] is non-zero, in order. */
void reel_table_filter_rows(reel_table *t, const uint8_t *keep);

/* Appends a column of n missing cells (numeric or text). */
int reel_table_add_missing(reel_table *t, const char *name, reel_coltype type, reel_error *err);

/* Whether a cell's text means "missing". */
int reel_is_missing_token(const char *s);

#endif
