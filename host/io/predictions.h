/* predictions_<model>.csv: id, true labels, predicted labels (each as
 * "A|B"), then one probability column per label. Written atomically. */
#ifndef REEL_PREDICTIONS_H
#define REEL_PREDICTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "util/error.h"

/* The one predictions CSV: the id column under its own name ("line", the
 * source line, without one), "true" only when Y is given (NULL: no true
 * labels known), "predicted", then p_<label>. rows: dataset rows of the n
 * predictions (NULL: rows 0..n-1). */
void reel_predictions_csv(FILE *fp, const reel_dataset *ds, const size_t *rows, size_t n, const uint8_t *Y,
                          const uint8_t *pred, const float *P);
/* The same CSV written atomically to path. */
int reel_write_predictions(const char *path, const reel_dataset *ds, const size_t *rows, size_t n,
                           const uint8_t *Y, const uint8_t *pred, const float *P, reel_error *err);

/* Writes s as one CSV field, quoted when it needs to be. */
void reel_csv_write_field(FILE *fp, const char *s);
/* The header field p_<label>, quoted as one field when needed. */
void reel_csv_write_prob_header(FILE *fp, const char *label);

#endif
