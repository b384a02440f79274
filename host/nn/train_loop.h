/* Inside the training loop (nn/train.c): the state of one net's run,
 * shared with what resumes and checkpoints it (nn/train_resume.c) and with
 * the loop over many nets in one launch (nn/train_many.c). Not for use
 * outside nn/train*.c: reel_nn_train and reel_nn_train_many (nn/train.h)
 * are the interface. */
#ifndef REEL_NN_TRAIN_LOOP_H
#define REEL_NN_TRAIN_LOOP_H

#include <stdint.h>

#include "nn/train.h"
#include "nn/train_history.h"
#include "util/rng.h"

/* The moving average of the weights. The backend keeps the sums beside
 * the weights (on a GPU: on the device, with no wait for it); they take
 * the live weights every EMA_EVERY steps and at the end of each epoch,
 * weighted with decay^(steps since the last update), which is the per-step
 * average of weights held between updates at a tenth of the cost. */
#define EMA_EVERY 10

typedef struct {
    double decay;     /* > 0: averaging is on */
    double weight;    /* 1 - decay^steps: what the sum would be for weights all 1 */
    long last_step;
    float *live, *avg; /* scratch: the live weights, the bias-corrected average */
} reel_nn_weight_avg;

/* Where the loop is: everything besides the weights that one epoch hands
 * to the next (a checkpoint saves it). */
typedef struct {
    long epoch; /* completed */
    long step;
    long wait; /* epochs without progress */
    double ref_loss;
    int stopped; /* early stopping has decided */
    reel_rng rng;
} reel_nn_progress;

/* One run of the loop: the net, what it was asked, and the training state
 * that lives outside the backend, with the buffers every epoch reuses. */
typedef struct {
    const reel_nn_net *net;
    const reel_nn_train_opts *o;
    const reel_fit_ctx *ctx;
    const char *name;
    reel_nn_train_result *res;
    reel_nn_progress at;
    reel_nn_weight_avg w;
    float *best;
    reel_nn_history_csv h;
    cJSON *run;
    float *ck[3];   /* checkpoint scratch: live weights, AdamW's m and v */
    double *ck_avg; /* and the moving average's sums (with ema) */
    float *Y, *Yv;  /* labels as floats */
    float *Pv;      /* validation probabilities */
    uint8_t *pred;  /* validation predictions */
    size_t *idx;    /* the shuffle */
    uint32_t *order;
    int resumed;    /* from a checkpoint */
    double t_start;
    long first_epoch;
    double *avg_a; /* an epoch's averaging schedule, handed over whole */
    float *Y_shared; /* labels as floats, made by the caller for several nets (not freed here) */
    reel_adamw opt;  /* AdamW's settings for the current epoch (its learning rate) */
    const float *X_all; /* with Y_shared: a block of n_all rows shared by several nets, this net's */
    size_t n_all, row0; /* training rows being [row0, row0 + ctx->n) of it (NULL: ctx->X alone) */
    const void *share; /* an earlier net's backend state on the same data: its device copy is this one's */
} reel_nn_loop;

/* The training targets: the labels as floats, smoothed towards 1/2 by eps. */
float *reel_nn_targets(const uint8_t *Y, size_t count, double eps);

/* train.c: buffers, data into the backend, the history, and the
 * checkpoint's run (resumed from when the file is there). */
int reel_nn_loop_open(reel_nn_loop *lp, reel_error *err);
/* The epoch's row order into the backend. */
int reel_nn_loop_shuffle(reel_nn_loop *lp, reel_error *err);
/* The moving average's schedule for an epoch handed over whole. */
int reel_nn_loop_avg_schedule(reel_nn_loop *lp, reel_error *err);
/* After an epoch handed over whole (r: what the backend said): the step
 * count and the bad step. */
int reel_nn_loop_epoch_done(reel_nn_loop *lp, int r, long *bad, reel_error *err);
/* The epoch's mean loss and, when not known yet, its first bad step. */
int reel_nn_loop_epoch_loss(reel_nn_loop *lp, double *train_loss, long *bad, reel_error *err);
/* After an epoch's training: validate, keep the best, report, write the
 * history and the checkpoint; *stop = 1 when training ends after a bad step. */
int reel_nn_loop_finish_epoch(reel_nn_loop *lp, long epoch, double t0, double train_loss, long bad, int *stop,
                              reel_error *err);
/* Ctrl-C in `epoch` at `row`: the error that says what was kept. */
int reel_nn_loop_interrupted(reel_nn_loop *lp, long epoch, size_t row, reel_error *err);
/* The weights to keep into the backend; the history to the result. */
int reel_nn_loop_finish(reel_nn_loop *lp, reel_error *err);
void reel_nn_loop_close(reel_nn_loop *lp);

/* train_resume.c: with o->checkpoint, the run's identity and, when the
 * file exists, its state (lp->resumed = 1); a fresh start checks that the
 * checkpoint can be written. */
int reel_nn_loop_resume(reel_nn_loop *lp, reel_error *err);
/* Writes the checkpoint after an epoch. */
int reel_nn_loop_save(reel_nn_loop *lp, reel_error *err);

#endif
