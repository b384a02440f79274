/* A dataset from in-memory columns (the C API's and so Python's way in):
 * the same reel_dataset a CSV gives, so the same values train and predict
 * exactly as they would from the file. */
#ifndef REEL_ARRAYS_H
#define REEL_ARRAYS_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

typedef struct {
    size_t n;                      /* rows */
    size_t d;                      /* numeric columns */
    const double *X;               /* n x d row-major; NaN is missing */
    const char *const *num_names;  /* d */
    size_t t;                      /* text columns */
    const char *const *text;       /* n x t row-major; NULL (or a missing token such as "NA") is missing */
    const char *const *text_names; /* t */
    size_t L;                      /* labels (0: data to predict on) */
    const uint8_t *Y;              /* n x L of 0/1 */
    const char *const *label_names;
} reel_arrays;

/* Copies everything. Every row is kept (no unlabeled-row dropping: the
 * caller chose the rows). Errors name the column and row. */
int reel_dataset_from_arrays(reel_dataset *ds, const reel_arrays *a, reel_error *err);

#endif
