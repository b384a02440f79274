/* A table with roles: label columns, an optional id column, an optional
 * split column; every other column is a feature. Labels become a dense 0/1
 * matrix Y (rows x labels). */
#ifndef REEL_DATASET_H
#define REEL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "data/table.h"
#include "data/target.h"
#include "util/error.h"
#include "util/log.h"

/* How to read a dataset: from command-line flags and/or a JSON descriptor. */
typedef struct {
    const char *data;         /* a CSV file or a .json descriptor */
    char *labels;             /* comma-separated 0/1 label columns ... */
    char *const *label_list;  /* ... or a list of them (names may hold commas) */
    size_t n_label_list;
    char *label_column;       /* one column listing label names ... */
    char *label_sep;          /* ... separated by this (default "|") */
    char *id;                 /* id column carried to outputs */
    char *split_column;       /* train / valid / test per row */
    int keep_unlabeled;       /* keep rows with no positive label */
    const char *features;     /* JSON file: the feature columns to keep (a list, or
                                 reel select's document with "kept") */
    const reel_log *log;      /* where the dropped-rows note goes (NULL: nowhere) */
    int mixed;                /* reel_mixed_mode (table.h): text cells in a column of numbers */
    int latin1;               /* --encoding latin-1 */
    char sep;                 /* --sep: the field separator (0: found from the header line) */
    int defer_types;          /* read mixed columns as text; reel_prepare decides them from the training rows */
    const char *column_types; /* --column-type COL=number|text,... (NULL: decided from the cells) */
    const char *target;       /* --target: one column of classes (binary or multiclass), instead of labels */
} reel_data_opts;

enum { REEL_SPLIT_NONE = -1, REEL_SPLIT_TRAIN = 0, REEL_SPLIT_VALID = 1, REEL_SPLIT_TEST = 2 };

typedef struct {
    reel_table table;
    char *csv_path;
    size_t n;       /* rows (== table.nrows) */
    size_t L;       /* labels */
    char **labels;  /* L names */
    uint8_t *Y;     /* n x L */
    int id_col;     /* table column or -1 */
    int8_t *split;  /* n marks from the split column, or NULL */
    int *features;  /* table columns that are features */
    size_t n_features;
    size_t n_dropped_unlabeled;
    int kept_unlabeled; /* --keep-unlabeled: rows with no positive label were kept */
    char *column_types; /* the forced types it was read with (NULL: none) */
    /* The target (data/target.h): multilabel (classes NULL) or one column
     * of K classes, held in labels and Y as the model's outputs. */
    reel_target_kind target;
    size_t K;
    char **classes; /* K */
    char *class_dtype; /* how the caller wrote them (reel_data_set_class_dtype), for the model file; NULL: not said */
} reel_dataset;

/* Loads the dataset named by opts (a CSV, or a descriptor whose fields fill
 * in what the flags leave unset). Reports the dropped-unlabeled count to
 * opts->log. */
int reel_dataset_load(reel_dataset *ds, const reel_data_opts *opts, reel_error *err);
void reel_dataset_free(reel_dataset *ds);

/* At most this many classes in a target column (every model, trees too, takes them). */
#define REEL_MAX_CLASSES 255

/* dataset.c's --target: column j's values become the classes (text
 * sorted by bytes, numbers numerically); rows where it is missing are
 * dropped and counted (n_dropped_unlabeled, a note to log); one class, or
 * more than REEL_MAX_CLASSES, is an error. */
int reel_dataset_target_column(reel_dataset *ds, int j, const reel_log *log, reel_error *err);

/* Makes the target one column of K classes (names in order, checked;
 * K == 2 binary, more multiclass): y[i] < K is row i's class. Replaces
 * the labels and Y (data/target.h says what they become). */
int reel_dataset_set_classes(reel_dataset *ds, size_t K, const char *const *names, const size_t *y,
                             reel_error *err);

/* Label names as every entry point takes them: each non-empty, named once,
 * and free of '|' (the separator of a row's label set in predictions).
 * `where` starts the message (a file, a flag, "label_names"). */
int reel_label_names_check(char *const *names, size_t n, const char *where, reel_error *err);
/* Splits a comma-separated list ("A,B,C", --labels) into checked names
 * (*names: n malloc'ed strings; free with reel_label_list_free). */
int reel_label_list_parse(const char *list, const char *where, char ***names, size_t *n, reel_error *err);
void reel_label_list_free(char **names, size_t n);

/* The default descriptor when no --data is given: data/movies.json in the
 * working directory, else in the source tree reel was built from. */
const char *reel_default_data(void);

#endif
