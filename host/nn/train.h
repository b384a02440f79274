/* The training loop every backend shares: shuffle, steps, validation,
 * early stopping, progress and history. */
#ifndef REEL_NN_TRAIN_H
#define REEL_NN_TRAIN_H

#include "models/model.h"
#include "nn/backend.h"
#include "nn/spec.h"

/* A net in a backend: the backend's table, its state (which holds the
 * parameters) and the layer list, handed around as one. */
typedef struct {
    const reel_nn_backend *be;
    void *b;
    const reel_nn_spec *spec;
} reel_nn_net;

typedef struct {
    reel_adamw opt;
    long batch_size, epochs;
    /* Early stopping: stop after `patience` epochs in a row without a
     * validation loss below (reference - min_delta), where the reference is
     * the last loss that did beat it; with patience_from_best a new lowest
     * validation loss also starts the count again (so min_delta no longer
     * decides when to stop). restore_best puts back the weights of the
     * epoch with the lowest validation loss seen. */
    long patience;
    double min_delta;
    int patience_from_best;
    int restore_best;
    /* > 0: validation, early stopping, restore and the final net use an
     * exponential moving average of the weights with this decay per step
     * (Polyak averaging), bias-corrected as AdamW's moments are; the
     * optimiser itself runs on the live weights. 0: the live weights. */
    double ema;
    /* The training targets y become y * (1 - label_smoothing) +
     * label_smoothing / 2 (0: the labels as they are); validation, early
     * stopping and the reported losses use the labels as they are. */
    double label_smoothing;
    /* Per-label positive weights of the loss (L floats; NULL: none). Only
     * a backend with set_pos_weight (the CPU's) trains with them. */
    const float *pos_weight;
    /* The learning rate of epoch e (1-based): opt.lr * e / warmup_epochs for
     * e <= warmup_epochs; after that opt.lr, or with cosine
     * opt.lr * (1 + cos(pi * (e - warmup_epochs - 1) / (epochs - warmup_epochs))) / 2. */
    int cosine;
    long warmup_epochs;
    float threshold; /* for the validation F1 */
    uint64_t seed;   /* the shuffles are drawn from stream 1 of this seed */
    /* A checkpoint file (NULL: none): written after every epoch; when it
     * exists at the start, training resumes from it (see nn/checkpoint.h),
     * provided it belongs to the same run: `run` (model name and params, but
     * epochs) plus what the loop adds (data shape and checksum, seed). */
    const char *checkpoint;
    const cJSON *run;
    /* An ensemble's member `member` (0-based) of `members` (0: a plain
     * net), reporting its epochs under `ensemble` (the model's name). */
    long member, members;
    const char *ensemble;
} reel_nn_train_opts;

/* The learning rate of `epoch` under o's schedule (see above). */
double reel_nn_epoch_lr(const reel_nn_train_opts *o, long epoch);

typedef struct {
    long epochs_run;
    long best_epoch; /* 1-based; 0 without validation */
    double best_val_loss;
    int stopped_early;
    long diverged; /* the epoch whose loss was not finite (then the best weights were kept), or 0 */
    long bad_step; /* the step whose loss was not finite, when the backend knew it, or 0 */
    long resumed_at; /* the epoch a checkpoint had reached, 0: trained from the start */
    reel_history history; /* per epoch; freed by the owner with reel_history_free (empty after a failure) */
} reel_nn_train_result;

/* Trains the net (its parameters already set) on ctx's
 * training rows, validating on ctx's validation rows when there are any.
 * Messages and per-epoch progress records go to ctx->log; with ctx->out_dir the
 * per-epoch history is written to <out_dir>/history_<name>.csv. */
int reel_nn_train(const reel_nn_net *net, const reel_nn_train_opts *o, const reel_fit_ctx *ctx,
                  reel_nn_train_result *res, reel_error *err);

/* Where a net's training rows lie in a block of data several nets share
 * (so that a device holds one copy and trains them in one launch): X (n_all
 * x d) and Y (n_all x L) hold the block, the net's rows (ctx->X and ctx->Y,
 * ctx->n of them) are its rows row0 .. row0 + ctx->n. Folds of a
 * cross-validation, each transformed its own way, go one after another. */
typedef struct {
    const float *X;
    const uint8_t *Y;
    size_t n_all, row0;
} reel_nn_rows;

/* K nets of one backend trained together, epoch by epoch: each epoch of
 * every net still training is one call of reel_nn_train_epochs (nn/multi.h:
 * on OpenCL one launch), and each net ends as reel_nn_train leaves it alone
 * (the same bits: the test suite checks it). rows (NULL: each net's data
 * is its ctx's, nets with the same ctx->X and ctx->Y sharing it) places
 * each net's rows in a shared block. The first failure of any net fails
 * them all. *shared_max (when not NULL): the most nets that shared a launch
 * (0: the backend trained them one by one). */
int reel_nn_train_many(const reel_nn_net *nets, const reel_nn_train_opts *const *o, const reel_fit_ctx *const *ctx,
                       const reel_nn_rows *rows, reel_nn_train_result *res, size_t K, size_t *shared_max,
                       reel_error *err);

#endif
