/* Where a net's maths runs. A backend works at the level of "one training
 * step on a batch" and "predict a batch", so the GPU side is free to keep
 * everything on the device and fuse what it likes; the CPU backend
 * (nn/cpu_backend.c) is the readable oracle the GPU one is tested against.
 *
 * A backend holds the flat parameter buffer (see nn/spec.h), its gradient
 * and AdamW's two moment buffers, all of length spec->n_params.
 *
 * Training data is handed over once (set_data) and each epoch's row order
 * once (set_order); a step then names a slice of that order, so a GPU
 * backend copies the data to the device once per run and needs no host
 * round trip per step. Losses are means over the batch (BCE: over batch and
 * labels; softmax cross-entropy: over rows). */
#ifndef REEL_NN_BACKEND_H
#define REEL_NN_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nn/spec.h"
#include "nn_layout.h" /* kernels/: rk_adamw_scalars */
#include "util/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torch.optim.AdamW's settings (decoupled weight decay on every parameter). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
} reel_adamw;

/* AdamW's scalars for step `step` (>= 1), rounded to float once on the host
 * for every device. */
static inline rk_adamw_k reel_adamw_scalars(const reel_adamw *o, long step)
{
    return rk_adamw_scalars(o->lr, o->beta1, o->beta2, o->eps, o->weight_decay, step);
}

/* Floats an evaluation pass's buffers may take (64 MB): a wide net (a PLR
 * embedding over many columns: rows x columns x 2 x frequencies of
 * features) evaluates fewer rows at a time. */
#define REEL_NN_EVAL_FLOATS ((size_t)1 << 24)

/* The rows of one evaluation pass of a net whose pass buffers take
 * floats_per_row floats a row: `most` (a power of two: the rows whose
 * head and loss are computed together), or the largest power of two
 * below it whose buffers stay within REEL_NN_EVAL_FLOATS (or within
 * REEL_EVAL_FLOATS from the environment: tests); at least 1. A pass only
 * splits the layers' forward, whose rows are independent; the head and
 * the loss's sums keep their groups of `most` rows, so the results have
 * the same bits at any pass size (where the products' sums do not depend
 * on the rows: the CPU's and OpenCL's; cuBLAS may pick another order). */
static inline size_t reel_nn_eval_rows(size_t most, size_t floats_per_row)
{
    size_t bound = REEL_NN_EVAL_FLOATS;
    const char *env = getenv("REEL_EVAL_FLOATS");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end == '\0' && v > 0)
            bound = (size_t)v;
    }
    size_t rows = most;
    while (rows > 1 && rows * floats_per_row > bound)
        rows /= 2;
    return rows;
}

typedef struct reel_nn_backend {
    const char *name; /* "cpu", "cuda" */
    /* A backend for this net on device number `device` of its runtime
     * (nn/device.h; the CPU has only 0); threads is a hint (CPU:
     * predict/eval only). Parameters start at zero: call set_params. */
    void *(*create)(const reel_nn_spec *spec, int device, int threads, reel_error *err);
    int (*set_params)(void *b, const float *params, reel_error *err);
    int (*get_params)(void *b, float *params, reel_error *err);
    /* The gradient of the last train_step (for tests). */
    int (*get_grads)(void *b, float *grads, reel_error *err);
    /* Training rows: X n x d, Y n x L (0/1 as float). The CPU backend keeps
     * the pointers (they must outlive training); the GPU copies them. Also
     * resets AdamW's moments and clears the row order (set_order follows). */
    int (*set_data)(void *b, const float *X, const float *Y, size_t n, reel_error *err);
    /* The row order of the coming steps: order[0..n) indexes the data. */
    int (*set_order)(void *b, const uint32_t *order, size_t n, reel_error *err);
    /* One step on rows order[start .. start+n): forward, loss, backward and
     * AdamW update number `step` (1-based, for the bias correction). The
     * batch's mean loss times n is added to an accumulator; when loss is not
     * NULL the batch loss is also returned (on a GPU that waits for it).
     * A step whose loss is not finite (CPU: or whose gradient is not)
     * updates nothing, and neither does any later step until set_data: the
     * parameters stay the last good ones. Returns 1 when the backend knows
     * by now that this step, or one before it since set_data, was such a
     * step (CPU: this step, at once; GPU: when the loss is asked for, or
     * once the device's flag has reached the host), so the caller can stop
     * the epoch and ask first_bad_step which; else 0, or -1 (error). */
    int (*train_step)(void *b, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                      reel_error *err);
    /* Returns and clears the accumulator: sum over steps of n * batch loss. */
    int (*take_loss_sum)(void *b, double *sum, reel_error *err);
    /* The number of the first step since set_data whose loss was not
     * finite, or 0. The GPU keeps it on the device and reads it here (a
     * sync: call it once per epoch, after take_loss_sum). */
    int (*first_bad_step)(void *b, long *step, reel_error *err);
    /* AdamW's two moment buffers (n_params each), for checkpoints: set
     * them after set_data, which clears them. */
    int (*get_moments)(void *b, float *m, float *v, reel_error *err);
    int (*set_moments)(void *b, const float *m, const float *v, reel_error *err);
    /* A moving average of the parameters kept beside them, in double, so
     * that averaging needs no copy to the host: avg_update does
     * sum = a * sum + (1 - a) * params (sum starts at 0 and set_data resets
     * it); get_avg writes (float)(sum / weight); get_avg_sum and
     * set_avg_sum move the sums themselves (checkpoints). */
    int (*avg_update)(void *b, double a, reel_error *err);
    int (*get_avg)(void *b, double weight, float *out, reel_error *err);
    int (*get_avg_sum)(void *b, double *sum, reel_error *err);
    int (*set_avg_sum)(void *b, const double *sum, reel_error *err);
    /* P (n x L) = head outputs (sigmoid or softmax probabilities). */
    int (*predict)(void *b, const float *X, size_t n, float *P, reel_error *err);
    /* Mean loss over n rows (no update); P filled as predict when not NULL. */
    int (*eval_loss)(void *b, const float *X, const float *Y, size_t n, double *loss, float *P,
                     reel_error *err);
    void (*destroy)(void *b);
    /* Optional (NULL: the training loop calls train_step): every step of an
     * epoch over the whole row order at once, in batches of `batch` rows (the
     * last one shorter), numbered first_step + 1, ...; after step k of the
     * epoch, avg_a[k] >= 0 (when avg_a is not NULL) asks for avg_update with
     * that decay, as the loop would. A bad step stops the epoch there (then
     * no update and no average after it). Returns 1 when a step was bad
     * (first_bad_step says which), 0, or -1. The loop checks for Ctrl-C
     * between epochs only. */
    int (*train_epoch)(void *b, size_t batch, const reel_adamw *opt, long first_step, const double *avg_a,
                       reel_error *err);
    /* Optional (NULL: train_epoch, or train_step, net by net; see
     * nn/multi.h): one epoch of each of K nets of this backend, each set up
     * as for train_epoch and taking its own batch size, AdamW settings,
     * first step and averaging decays (avg_a NULL, or avg_a[i] NULL: none),
     * together where the backend can (OpenCL: one launch over one copy of
     * the data for the nets given the same data that the fused kernel
     * takes). Each net ends with the bits train_epoch gives it alone;
     * bad[i] is its train_epoch result and *shared how many nets shared
     * the launch. Returns 0 or -1. */
    int (*train_epochs)(void *const *b, size_t K, const size_t *batch, const reel_adamw *const *opt,
                        const long *first_step, const double *const *avg_a, int *bad, size_t *shared,
                        reel_error *err);
    /* Optional (NULL: set_data with the same arrays): what set_data does,
     * with the data net `from` (of this backend, on the same device, with
     * as many features and labels) was given, sharing its device copy
     * rather than making one more (reel_nn_train_many: one copy per launch
     * group). */
    int (*share_data)(void *b, const void *from, reel_error *err);
    /* Optional (NULL: the backend has none, and training with them is
     * refused): per-label positive weights w[0..L) of the sigmoid head's
     * loss, for train_step and eval_loss (nn/cpu_ops.h,
     * reel_cpu_head_weighted); NULL clears them. */
    int (*set_pos_weight)(void *b, const float *w, reel_error *err);
    /* The rows one evaluation pass of predict and eval_loss takes on this
     * net (reel_nn_eval_rows: fewer than the backend's usual for a wide
     * net), fixed when the net is made; for tests. */
    size_t (*eval_rows)(void *b);
} reel_nn_backend;

extern const reel_nn_backend reel_nn_cpu_backend;

#ifdef __cplusplus
}
#endif

#endif
