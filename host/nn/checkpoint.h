/* A net's training checkpoint: everything the training loop carries from
 * one epoch to the next, so that a run resumed from it continues exactly
 * as the uninterrupted run would have (same shuffles, same AdamW state,
 * same moving average, same early-stopping counters, same history).
 *
 * The file is a safetensors file (written atomically after every epoch):
 *   params, adam_m, adam_v, best   F32 [n_params]  live weights, AdamW's
 *                                  moments, the best epoch's weights
 *   ema_sum                        F64 [n_params]  (only with ema > 0)
 *   history                        F64 [epochs, 3] train loss, val loss, val F1
 *   rng                            U8 [32]         the shuffle PRNG's state
 *   scalars                        F64 [3]         ref_loss, best_val_loss, ema_weight
 * and metadata strings: "reel_checkpoint" (format version), "run" (a JSON
 * object saying which run it belongs to: model, params but epochs, data
 * shape and checksum, seed), "backend", and the counters (epoch, step,
 * wait, best_epoch, ema_last_step, stopped), "history_csv". */
#ifndef REEL_NN_CHECKPOINT_H
#define REEL_NN_CHECKPOINT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "models/model.h"
#include "util/error.h"
#include "util/rng.h"

#define REEL_CHECKPOINT_VERSION 1

typedef struct {
    cJSON *run;          /* which run this is (owned) */
    const char *backend; /* "cpu", "cuda" (static or owned by the reader) */
    char backend_buf[16];
    long epoch;          /* epochs completed */
    long step;           /* AdamW steps taken */
    long wait;           /* epochs without progress (early stopping) */
    long best_epoch;     /* 0: none yet */
    int stopped;         /* training had ended (early stopping) */
    double ref_loss, best_val_loss;
    reel_rng rng;
    size_t n_params;
    float *params, *m, *v, *best; /* n_params each */
    double *ema_sum;              /* n_params, or NULL without a moving average */
    double ema_weight;
    long ema_last_step;
    reel_history history;
    char *history_csv; /* the history CSV written so far, or NULL */
} reel_nn_checkpoint;

/* Writes c to path atomically. */
int reel_nn_checkpoint_write(const char *path, const reel_nn_checkpoint *c, reel_error *err);

/* Reads path into c (allocating its buffers): n_params and whether a
 * moving average is expected must match, every size is checked. */
int reel_nn_checkpoint_read(const char *path, size_t n_params, int with_ema, reel_nn_checkpoint *c,
                            reel_error *err);

/* Reads only the "run" object of a checkpoint (to say whose it is before
 * checking that its sizes fit). */
int reel_nn_checkpoint_read_run(const char *path, cJSON **run, reel_error *err);

/* Writes to buf the first key in which two "run" objects differ
 * ("params.lr", "data", ...) and returns buf; NULL when they agree. */
const char *reel_nn_checkpoint_run_diff(const cJSON *saved, const cJSON *now, char *buf, size_t n);

/* Frees what read allocated (not the caller's buffers for write). */
void reel_nn_checkpoint_free(reel_nn_checkpoint *c);

#endif
