/* Many nets trained together: one epoch of each of K nets of one backend
 * per call. A device backend that can (OpenCL) trains them in one launch
 * over one copy of the data, one work-group per net; any other (the CPU
 * backend, the oracle) trains them one after another. Either way each net
 * ends exactly as the backend's train_epoch (or its steps) leaves it alone. */
#ifndef REEL_NN_MULTI_H
#define REEL_NN_MULTI_H

#include <stddef.h>

#include "nn/backend.h"
#include "util/error.h"

/* One net's epoch: its backend state (set_data and set_order done), the
 * length of that row order (its fold's rows), its batch size, AdamW settings, the number of the step before its first
 * one, and its averaging decays per step (as train_epoch's; NULL: none). */
typedef struct {
    void *b;
    size_t rows;
    size_t batch;
    const reel_adamw *opt;
    long first_step;
    const double *avg_a;
    int bad; /* out: 1 when a step was bad (first_bad_step says which) */
} reel_nn_epoch_job;

/* Trains jobs[0..K) on backend be; *shared (when not NULL) is how many of
 * them shared one launch (0 when the backend trains them one by one). */
int reel_nn_train_epochs(const reel_nn_backend *be, reel_nn_epoch_job *jobs, size_t K, size_t *shared,
                         reel_error *err);

#endif
