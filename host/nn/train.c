/* One net's training loop: shuffle, steps (or the whole epoch in one
 * call), the moving average, validation, early stopping, progress records
 * and the weights kept at the end. Resuming and checkpoints:
 * nn/train_resume.c; the history file: nn/train_history.c; many nets in one
 * launch: nn/train_many.c. */
#include "nn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "nn/train_loop.h"
#include "util/interrupt.h"
#include "util/rng.h"
#include "util/timer.h"

static void format_eta(double s, char *buf, size_t n)
{
    if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%.0fs", s);
}

/* Validation: loss and samples-F1 (etc.) at the decision threshold. */
static int validate(const reel_nn_net *net, const reel_fit_ctx *ctx, const float *Yv, float *Pv, uint8_t *pred,
                    float threshold, double *loss, reel_metrics *m, reel_error *err)
{
    if (net->be->eval_loss(net->b, ctx->Xv, Yv, ctx->nv, loss, Pv, err))
        return -1;
    for (size_t c = 0; c < ctx->nv * ctx->L; c++)
        pred[c] = Pv[c] > threshold;
    if (reel_metrics_compute(m, ctx->Yv, pred, ctx->nv, ctx->L))
        return reel_fail(err, "out of memory computing validation metrics");
    return 0;
}

static int avg_update(reel_nn_weight_avg *w, const reel_nn_net *net, long step, reel_error *err)
{
    double a = pow(w->decay, (double)(step - w->last_step));
    if (net->be->avg_update(net->b, a, err))
        return -1;
    w->weight = a * w->weight + (1 - a);
    w->last_step = step;
    return 0;
}

/* w->avg = the average so far. */
static int avg_compute(reel_nn_weight_avg *w, const reel_nn_net *net, reel_error *err)
{
    return net->be->get_avg(net->b, w->weight, w->avg, err);
}

static float *to_float(const uint8_t *Y, size_t count)
{
    float *f = malloc((count ? count : 1) * sizeof *f);
    if (f)
        for (size_t i = 0; i < count; i++)
            f[i] = Y[i] ? 1.0f : 0.0f;
    return f;
}

float *reel_nn_targets(const uint8_t *Y, size_t count, double eps)
{
    float *f = to_float(Y, count);
    if (f && eps > 0) {
        float hi = (float)(1.0 - eps / 2), lo = (float)(eps / 2);
        for (size_t i = 0; i < count; i++)
            f[i] = f[i] > 0 ? hi : lo;
    }
    return f;
}

double reel_nn_epoch_lr(const reel_nn_train_opts *o, long epoch)
{
    double lr = o->opt.lr;
    long w = o->warmup_epochs > 0 ? o->warmup_epochs : 0;
    if (epoch <= w)
        return lr * (double)epoch / (double)w;
    if (o->cosine && o->epochs > w)
        return lr * (1.0 + cos(3.14159265358979323846 * (double)(epoch - w - 1) / (double)(o->epochs - w))) / 2.0;
    return lr;
}

/* The loss was not finite in `epoch` (at step `bad` when the backend saw
 * it, and then it applied no update from that step on). Keeps the best
 * epoch's weights, else the last good ones; fails only when none are known
 * to be good. */
static int diverged(reel_nn_loop *lp, long epoch, long bad, double loss, reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    reel_nn_train_result *res = lp->res;
    const char *name = lp->name;
    const reel_log *log = lp->ctx->log;
    char where[96];
    if (bad)
        snprintf(where, sizeof where, "at step %ld in epoch %ld", bad, epoch);
    else
        snprintf(where, sizeof where, "in epoch %ld (loss %g)", epoch, loss);
    res->stopped_early = 1;
    res->diverged = epoch;
    res->bad_step = bad;
    if (lp->ctx->nv && o->restore_best && res->best_epoch > 0) {
        reel_log_msg(log, REEL_LOG_WARNING, "%s: training diverged %s (the loss was not finite): stopped, keeping "
                     "the weights of epoch %ld; a smaller lr (now %g) should help", name, where, res->best_epoch,
                     o->opt.lr);
        return 0;
    }
    if (bad) {
        reel_log_msg(log, REEL_LOG_WARNING, "%s: training diverged %s (the loss was not finite): stopped, keeping "
                     "the weights from before that step; a smaller lr (now %g) should help", name, where, o->opt.lr);
        return 0;
    }
    return reel_fail(err, "%s: training diverged %s with no good epoch to fall back on; try a smaller lr (now %g)",
                     name, where, o->opt.lr);
}

/* The moving average's schedule for an epoch handed over whole (every
 * EMA_EVERY steps and after the last), worked out as the step loop below
 * would do it; lp->avg_a is NULL without averaging. */
int reel_nn_loop_avg_schedule(reel_nn_loop *lp, reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    size_t n = lp->ctx->n, batch = (size_t)o->batch_size, steps = (n + batch - 1) / batch;
    free(lp->avg_a);
    lp->avg_a = NULL;
    if (o->ema <= 0)
        return 0;
    if (!(lp->avg_a = malloc((steps ? steps : 1) * sizeof *lp->avg_a)))
        return reel_fail(err, "out of memory");
    for (size_t k = 0; k < steps; k++) {
        long step = lp->at.step + (long)k + 1;
        lp->avg_a[k] = -1.0;
        if (step - lp->w.last_step >= EMA_EVERY || k + 1 == steps) {
            lp->avg_a[k] = pow(lp->w.decay, (double)(step - lp->w.last_step));
            lp->w.weight = lp->avg_a[k] * lp->w.weight + (1 - lp->avg_a[k]);
            lp->w.last_step = step;
        }
    }
    return 0;
}

/* After an epoch handed over whole: the step count, and the bad step when
 * the backend said there was one (r > 0). */
int reel_nn_loop_epoch_done(reel_nn_loop *lp, int r, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    size_t n = lp->ctx->n, batch = (size_t)lp->o->batch_size;
    free(lp->avg_a);
    lp->avg_a = NULL;
    if (r < 0)
        return -1;
    lp->at.step += (long)((n + batch - 1) / batch);
    if (r > 0) {
        if (net->be->first_bad_step(net->b, bad, err))
            return -1;
        if (*bad)
            lp->at.step = *bad;
    }
    return 0;
}

/* One epoch through the backend's train_epoch. */
static int epoch_at_once(reel_nn_loop *lp, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    if (reel_nn_loop_avg_schedule(lp, err))
        return -1;
    int r = net->be->train_epoch(net->b, (size_t)o->batch_size, &lp->opt, lp->at.step, lp->avg_a, err);
    return reel_nn_loop_epoch_done(lp, r, bad, err);
}

/* Ctrl-C during an epoch: says where it stopped and what was kept. */
int reel_nn_loop_interrupted(reel_nn_loop *lp, long epoch, size_t row, reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    char saved[600] = "nothing was saved";
    if (o->checkpoint && lp->at.epoch > 0)
        snprintf(saved, sizeof saved, "checkpoint %s holds epoch %ld: run the same command to resume", o->checkpoint,
                 lp->at.epoch);
    else if (o->checkpoint)
        snprintf(saved, sizeof saved, "no epoch had finished, so checkpoint %s was not written", o->checkpoint);
    return reel_fail(err, "%s: interrupted in epoch %ld at row %zu of %zu (step %ld); %s", lp->name, epoch, row,
                     lp->ctx->n, lp->at.step, saved);
}

/* The epoch's steps, one call each, averaging the weights every EMA_EVERY
 * steps and after the last; *bad is the first bad step when one was. */
static int epoch_by_steps(reel_nn_loop *lp, long epoch, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    size_t n = lp->ctx->n, batch = (size_t)o->batch_size;
    for (size_t start = 0; start < n; start += batch) {
        size_t m = n - start < batch ? n - start : batch;
        if (reel_interrupted())
            return reel_nn_loop_interrupted(lp, epoch, start, err);
        int r = net->be->train_step(net->b, start, m, &lp->opt, ++lp->at.step, NULL, err);
        if (r < 0)
            return -1;
        if (r > 0) { /* this step or an earlier one was bad: no update since */
            if (net->be->first_bad_step(net->b, bad, err))
                return -1;
            if (!*bad) /* a backend that said so must also say which */
                *bad = lp->at.step;
            return 0;
        }
        if (o->ema > 0 && (lp->at.step - lp->w.last_step >= EMA_EVERY || start + m >= n) &&
            avg_update(&lp->w, net, lp->at.step, err))
            return -1;
    }
    return 0;
}

/* The epoch's row order into the backend. */
int reel_nn_loop_shuffle(reel_nn_loop *lp, reel_error *err)
{
    size_t n = lp->ctx->n;
    for (size_t i = 0; i < n; i++)
        lp->idx[i] = i;
    reel_rng_shuffle(&lp->at.rng, lp->idx, n);
    for (size_t i = 0; i < n; i++)
        lp->order[i] = (uint32_t)(lp->row0 + lp->idx[i]);
    return lp->net->be->set_order(lp->net->b, lp->order, n, err);
}

/* The epoch's mean loss and, when not known yet, its first bad step. */
int reel_nn_loop_epoch_loss(reel_nn_loop *lp, double *train_loss, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    double loss_sum;
    if (net->be->take_loss_sum(net->b, &loss_sum, err) || (!*bad && net->be->first_bad_step(net->b, bad, err)))
        return -1;
    *train_loss = loss_sum / (double)lp->ctx->n;
    return 0;
}

/* Shuffles the rows and trains one epoch on them; *train_loss is its mean
 * loss and *bad the first bad step, or 0. */
static int train_epoch(reel_nn_loop *lp, long epoch, double *train_loss, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    if (reel_nn_loop_shuffle(lp, err))
        return -1;
    lp->opt.lr = reel_nn_epoch_lr(lp->o, epoch);
    *bad = 0;
    if (net->be->train_epoch && !reel_interrupted()) { /* the whole epoch in one call */
        if (epoch_at_once(lp, bad, err))
            return -1;
    } else if (epoch_by_steps(lp, epoch, bad, err)) {
        return -1;
    }
    return reel_nn_loop_epoch_loss(lp, train_loss, bad, err);
}

/* Validates the moving average when there is one (the live weights go
 * back after), else the live weights. */
static int validate_epoch(reel_nn_loop *lp, double *val_loss, reel_metrics *vm, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    if (o->ema > 0 && (net->be->get_params(net->b, lp->w.live, err) || avg_compute(&lp->w, net, err) ||
                       net->be->set_params(net->b, lp->w.avg, err)))
        return -1;
    if (validate(net, lp->ctx, lp->Yv, lp->Pv, lp->pred, o->threshold, val_loss, vm, err))
        return -1;
    if (o->ema > 0 && net->be->set_params(net->b, lp->w.live, err)) {
        reel_metrics_free(vm);
        return -1;
    }
    return 0;
}

/* Keeps the best epoch's weights and decides on early stopping. */
static int track_best(reel_nn_loop *lp, long epoch, double val_loss, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    reel_nn_train_result *res = lp->res;
    if (val_loss < res->best_val_loss) {
        res->best_val_loss = val_loss;
        res->best_epoch = epoch;
        if (o->restore_best && o->ema > 0)
            memcpy(lp->best, lp->w.avg, net->spec->n_params * sizeof *lp->best);
        else if (o->restore_best && net->be->get_params(net->b, lp->best, err))
            return -1;
    }
    if (val_loss < lp->at.ref_loss - o->min_delta) {
        lp->at.ref_loss = val_loss;
        lp->at.wait = 0;
    } else {
        lp->at.wait++;
    }
    if (o->patience_from_best && res->best_epoch == epoch)
        lp->at.wait = 0;
    lp->at.stopped = lp->at.wait >= o->patience;
    return 0;
}

/* The epoch's progress record and its history line. An ensemble's members
 * report under its name, each saying which it is. */
static void report_epoch(reel_nn_loop *lp, long epoch, double train_loss, double val_loss, const reel_metrics *vm,
                         double secs)
{
    const reel_nn_train_opts *o = lp->o;
    size_t nv = lp->ctx->nv;
    int ensemble = o->members > 1 && o->ensemble;
    const char *name = ensemble ? o->ensemble : lp->name;
    reel_progress pr = reel_progress_blank(REEL_PROGRESS_EPOCH, name);
    pr.done = epoch;
    pr.total = o->epochs;
    pr.member = ensemble ? o->member + 1 : 1;
    pr.members = ensemble ? o->members : 1;
    pr.loss = train_loss;
    pr.valid_loss = val_loss;
    pr.valid_f1 = nv ? vm->samples_f1 : NAN;
    pr.samples_per_s = (double)lp->ctx->n / secs;
    pr.elapsed_s = reel_now() - lp->t_start;
    /* early stopping ends the member here: nothing is left */
    pr.eta_s = lp->at.stopped ? 0 : pr.elapsed_s / (double)(epoch - lp->first_epoch + 1) * (double)(o->epochs - epoch);
    char eta[32], who[48] = "";
    format_eta(pr.eta_s, eta, sizeof eta);
    if (ensemble)
        snprintf(who, sizeof who, "member %ld/%ld  ", pr.member, pr.members);
    if (nv)
        reel_log_progress(lp->ctx->log, &pr, "%s: %sepoch %ld/%ld  loss %.4f  val loss %.4f  val F1 %.4f  %.0f "
                          "samples/s  ETA %s", name, who, epoch, o->epochs, train_loss, val_loss, vm->samples_f1,
                          pr.samples_per_s, eta);
    else
        reel_log_progress(lp->ctx->log, &pr, "%s: %sepoch %ld/%ld  loss %.4f  %.0f samples/s  ETA %s", name, who,
                          epoch, o->epochs, train_loss, pr.samples_per_s, eta);
    reel_history_add(&lp->res->history, train_loss, val_loss, nv ? vm->samples_f1 : NAN);
    reel_nn_history_csv_epoch(&lp->h, epoch, train_loss, val_loss, nv ? vm : NULL, secs);
}

static void note_early_stop(reel_nn_loop *lp, long epoch)
{
    const reel_nn_train_opts *o = lp->o;
    const reel_nn_train_result *res = lp->res;
    if (o->patience_from_best)
        reel_log_msg(lp->ctx->log, REEL_LOG_INFO, "%s: early stopping after epoch %ld: validation loss has not gone "
                     "below %.4f (epoch %ld) for %ld epochs", lp->name, epoch, res->best_val_loss, res->best_epoch,
                     o->patience);
    else
        reel_log_msg(lp->ctx->log, REEL_LOG_INFO, "%s: early stopping after epoch %ld: validation loss has not gone "
                     "below %.4f - %g for %ld epochs", lp->name, epoch, lp->at.ref_loss, o->min_delta, o->patience);
}

/* After an epoch's training: validate, keep the best, report, write the
 * history and the checkpoint. *stop = 1 when training ends here after a
 * bad step. */
int reel_nn_loop_finish_epoch(reel_nn_loop *lp, long epoch, double t0, double train_loss, long bad, int *stop,
                              reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    reel_nn_train_result *res = lp->res;
    size_t nv = lp->ctx->nv;
    if (bad || !isfinite(train_loss)) {
        *stop = 1;
        return diverged(lp, epoch, bad, train_loss, err);
    }
    double val_loss = NAN;
    reel_metrics vm = {0};
    if (nv && validate_epoch(lp, &val_loss, &vm, err))
        return -1;
    double secs = reel_now() - t0;
    res->epochs_run = epoch;
    lp->at.epoch = epoch;
    if (nv && track_best(lp, epoch, val_loss, err)) {
        reel_metrics_free(&vm);
        return -1;
    }
    report_epoch(lp, epoch, train_loss, val_loss, &vm, secs);
    reel_metrics_free(&vm);
    if (reel_nn_history_csv_write(&lp->h, err))
        return -1;
    if (o->checkpoint && reel_nn_loop_save(lp, err))
        return -1;
    if (lp->at.stopped && epoch < o->epochs) {
        res->stopped_early = 1;
        note_early_stop(lp, epoch);
    }
    return 0;
}

/* One epoch: train, then finish_epoch. */
static int run_epoch(reel_nn_loop *lp, long epoch, int *stop, reel_error *err)
{
    double t0 = reel_now(), train_loss;
    long bad;
    if (train_epoch(lp, epoch, &train_loss, &bad, err))
        return -1;
    return reel_nn_loop_finish_epoch(lp, epoch, t0, train_loss, bad, stop, err);
}

/* Buffers, data into the backend, the history, and the checkpoint's run
 * (resumed from when the file is there). */
int reel_nn_loop_open(reel_nn_loop *lp, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    const reel_fit_ctx *ctx = lp->ctx;
    size_t n = ctx->n, L = ctx->L, nv = ctx->nv, np = net->spec->n_params;
    lp->w.decay = o->ema > 0 ? o->ema : 0;
    lp->opt = o->opt;
    lp->Y = lp->Y_shared ? lp->Y_shared : reel_nn_targets(ctx->Y, n * L, o->label_smoothing);
    lp->Yv = to_float(ctx->Yv, nv * L);
    lp->Pv = malloc((nv ? nv : 1) * L * sizeof *lp->Pv);
    lp->pred = malloc((nv ? nv : 1) * L);
    lp->idx = malloc(n * sizeof *lp->idx);
    lp->order = malloc(n * sizeof *lp->order);
    int oom = !lp->Y || !lp->Yv || !lp->Pv || !lp->pred || !lp->idx || !lp->order;
    oom |= !(lp->best = calloc(np, sizeof *lp->best));
    if (o->ema > 0) {
        oom |= !(lp->w.live = malloc(np * sizeof *lp->w.live));
        oom |= !(lp->w.avg = malloc(np * sizeof *lp->w.avg));
    }
    if (o->checkpoint) {
        for (int k = 0; k < 3; k++)
            oom |= !(lp->ck[k] = malloc(np * sizeof(float)));
        if (o->ema > 0)
            oom |= !(lp->ck_avg = malloc(np * sizeof *lp->ck_avg));
    }
    if (oom)
        return reel_fail(err, "%s: out of memory for training", lp->name);
    if (lp->share ? net->be->share_data(net->b, lp->share, err)
        : lp->X_all ? net->be->set_data(net->b, lp->X_all, lp->Y, lp->n_all, err)
                    : net->be->set_data(net->b, ctx->X, lp->Y, n, err))
        return -1;
    if (o->pos_weight && !net->be->set_pos_weight)
        return reel_fail(err, "%s: params key 'pos_weight': the %s backend does not implement per-label positive "
                         "weights; train with --device cpu, or set pos_weight to null", lp->name, net->be->name);
    if (o->pos_weight && net->be->set_pos_weight(net->b, o->pos_weight, err))
        return -1;
    /* The history CSV is always kept (a checkpoint carries it); it is
     * written only with an output directory. */
    if (reel_nn_history_csv_begin(&lp->h, ctx->out_dir, lp->name, err))
        return -1;
    lp->at.ref_loss = INFINITY;
    lp->res->best_val_loss = INFINITY;
    reel_rng_seed_stream(&lp->at.rng, o->seed, 1);
    if (o->checkpoint && reel_nn_loop_resume(lp, err))
        return -1;
    if (nv == 0)
        reel_log_msg(ctx->log, REEL_LOG_INFO, "%s: no validation rows: training all %ld epochs without early "
                     "stopping", lp->name, o->epochs);
    return 0;
}

/* The live weights are in the backend: puts back the best ones, or the
 * final average (when it has seen a step). */
int reel_nn_loop_finish(reel_nn_loop *lp, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    reel_nn_train_result *res = lp->res;
    if (lp->resumed && lp->at.stopped && lp->at.epoch < o->epochs)
        res->stopped_early = 1;
    res->history.kept_epoch = res->epochs_run; /* the last epoch's weights, unless the best are restored */
    res->history.kept_average = o->ema > 0 && lp->w.weight > 0 && !res->bad_step;
    if (lp->ctx->nv && o->restore_best && res->best_epoch &&
        (o->ema > 0 || res->diverged || res->best_epoch != res->epochs_run)) {
        res->history.kept_epoch = res->best_epoch;
        res->history.kept_average = o->ema > 0;
        if (net->be->set_params(net->b, lp->best, err))
            return -1;
        reel_log_msg(lp->ctx->log, REEL_LOG_INFO, "%s: restored the %sweights of epoch %ld (val loss %.4f)", lp->name,
                     o->ema > 0 ? "averaged " : "", res->best_epoch, res->best_val_loss);
    } else if (o->ema > 0 && lp->w.weight > 0 && !res->bad_step) { /* after a bad step: the live, last good ones */
        if (avg_compute(&lp->w, net, err) || net->be->set_params(net->b, lp->w.avg, err))
            return -1;
    }
    free(res->history.csv); /* kept: compare over MPI ranks ships it to rank 0 */
    res->history.csv = reel_nn_history_csv_take(&lp->h);
    return 0;
}

void reel_nn_loop_close(reel_nn_loop *lp)
{
    free(lp->avg_a);
    free(lp->ck_avg);
    free(lp->w.live);
    free(lp->w.avg);
    free(lp->best);
    for (int k = 0; k < 3; k++)
        free(lp->ck[k]);
    cJSON_Delete(lp->run);
    if (!lp->Y_shared)
        free(lp->Y);
    free(lp->Yv);
    free(lp->Pv);
    free(lp->pred);
    free(lp->idx);
    free(lp->order);
    reel_nn_history_csv_free(&lp->h);
}

int reel_nn_train(const reel_nn_net *net, const reel_nn_train_opts *o, const reel_fit_ctx *ctx,
                  reel_nn_train_result *res, reel_error *err)
{
    const char *name = ctx->name ? ctx->name : "net";
    memset(res, 0, sizeof *res);
    if (ctx->n == 0)
        return reel_fail(err, "%s: no training rows", name);
    if (ctx->n > UINT32_MAX)
        return reel_fail(err, "%s: %zu training rows is more than a net can index (%u)", name, ctx->n, UINT32_MAX);
    reel_nn_loop lp = {.net = net, .o = o, .ctx = ctx, .name = name, .res = res};
    int rc = reel_nn_loop_open(&lp, err);
    lp.t_start = reel_now();
    lp.first_epoch = lp.at.epoch + 1;
    int stop = 0;
    for (long epoch = lp.first_epoch; rc == 0 && !stop && !lp.at.stopped && epoch <= o->epochs; epoch++)
        rc = run_epoch(&lp, epoch, &stop, err);
    if (rc == 0)
        rc = reel_nn_loop_finish(&lp, err);
    reel_nn_loop_close(&lp);
    if (rc != 0) /* a failed run leaves its caller nothing to free */
        reel_history_free(&res->history);
    return rc;
}

