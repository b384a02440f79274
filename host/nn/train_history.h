/* The per-epoch history of one net's training as CSV text: kept in memory
 * (a checkpoint carries it, and compare ships it to rank 0) and, with an
 * output folder, rewritten atomically after every epoch so that a long run
 * can be followed in <out_dir>/history_<name>.csv. */
#ifndef REEL_NN_TRAIN_HISTORY_H
#define REEL_NN_TRAIN_HISTORY_H

#include <stddef.h>

#include "eval/metrics.h"
#include "util/error.h"

typedef struct {
    char *text;
    size_t len, cap;
    char *path; /* NULL: not written */
} reel_nn_history_csv;

/* The header line; with out_dir (made when missing) the file's path. */
int reel_nn_history_csv_begin(reel_nn_history_csv *h, const char *out_dir, const char *name, reel_error *err);

/* One epoch's line; vm NULL (no validation rows) leaves the validation
 * columns empty. */
void reel_nn_history_csv_epoch(reel_nn_history_csv *h, long epoch, double train_loss, double val_loss,
                               const reel_metrics *vm, double secs);

/* Rewrites the file (atomically) when there is one. */
int reel_nn_history_csv_write(const reel_nn_history_csv *h, reel_error *err);

/* The text so far becomes `csv` (a checkpoint's; h owns it now). */
void reel_nn_history_csv_adopt(reel_nn_history_csv *h, char *csv);

/* Hands the text to the caller (who frees it); h keeps none. */
char *reel_nn_history_csv_take(reel_nn_history_csv *h);

void reel_nn_history_csv_free(reel_nn_history_csv *h);

#endif
