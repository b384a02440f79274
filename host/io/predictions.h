/* predictions_<model>.csv: id, true labels, predicted labels (each as
 * "A|B"), then one probability column per label. Written atomically. */
#ifndef REEL_PREDICTIONS_H
#define REEL_PREDICTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "util/error.h"

/* rows: dataset rows of the n predictions (for ids); Y may be NULL (no
 * true labels known). */
int reel_write_predictions(const char *path, const reel_dataset *ds, const size_t *rows, size_t n,
                           const uint8_t *Y, const uint8_t *pred, const float *P, reel_error *err);

/* Writes s as one CSV field, quoted when it needs to be. */
void reel_csv_write_field(FILE *fp, const char *s);
/* The header field p_<label>, quoted as one field when needed. */
void reel_csv_write_prob_header(FILE *fp, const char *label);

#endif
