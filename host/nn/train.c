#include "nn/train.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/metrics.h"
#include "nn/checkpoint.h"
#include "nn/multi.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/rng.h"
#include "util/timer.h"

/* The per-epoch history, kept as CSV text and rewritten atomically after
 * every epoch so a long run can be followed. */
typedef struct {
    char *text;
    size_t len, cap;
    char *path; /* NULL: not written */
} history;

static void history_add(history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void history_add(history *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (h->len + (size_t)need + 1 > h->cap) {
        size_t cap = (h->len + (size_t)need + 1) * 2;
        char *t = realloc(h->text, cap);
        if (!t)
            return;
        h->text = t;
        h->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(h->text + h->len, h->cap - h->len, fmt, ap);
    va_end(ap);
    h->len += (size_t)need;
}

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
} weight_avg;

static int avg_update(weight_avg *w, const reel_nn_net *net, long step, reel_error *err)
{
    double a = pow(w->decay, (double)(step - w->last_step));
    if (net->be->avg_update(net->b, a, err))
        return -1;
    w->weight = a * w->weight + (1 - a);
    w->last_step = step;
    return 0;
}

/* w->avg = the average so far. */
static int avg_compute(weight_avg *w, const reel_nn_net *net, reel_error *err)
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

/* The training targets: the labels, smoothed towards 1/2 by eps. */
static float *targets(const uint8_t *Y, size_t count, double eps)
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

/* Where the loop is: everything besides the weights that one epoch hands
 * to the next (a checkpoint saves it). */
typedef struct {
    long epoch; /* completed */
    long step;
    long wait; /* epochs without progress */
    double ref_loss;
    int stopped; /* early stopping has decided */
    reel_rng rng;
} progress;

/* FNV-1a over bytes: a checksum of the data a checkpoint was made on. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* Which run a checkpoint belongs to: the caller's description (model and
 * params) without "epochs", which a resumed run may raise, plus the data's
 * shape and checksum, the batch order's seed and the validation threshold. */
static cJSON *run_identity(const reel_nn_train_opts *o, const reel_fit_ctx *ctx, const float *Y, const float *Yv)
{
    cJSON *r = o->run ? cJSON_Duplicate(o->run, 1) : cJSON_CreateObject();
    if (!r)
        return NULL;
    cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "params");
    if (params)
        cJSON_DeleteItemFromObjectCaseSensitive(params, "epochs");
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, ctx->X, ctx->n * ctx->d * sizeof(float));
    h = fnv1a(h, Y, ctx->n * ctx->L * sizeof(float));
    h = fnv1a(h, ctx->Xv, ctx->nv * ctx->d * sizeof(float));
    h = fnv1a(h, Yv, ctx->nv * ctx->L * sizeof(float));
    char hex[32], seed[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    snprintf(seed, sizeof seed, "%" PRIu64, o->seed);
    cJSON_AddNumberToObject(r, "rows", (double)ctx->n);
    cJSON_AddNumberToObject(r, "valid_rows", (double)ctx->nv);
    cJSON_AddNumberToObject(r, "features", (double)ctx->d);
    cJSON_AddNumberToObject(r, "labels", (double)ctx->L);
    cJSON_AddStringToObject(r, "data", hex);
    cJSON_AddStringToObject(r, "shuffle_seed", seed);
    return r;
}

/* One run of the loop: the net, what it was asked, and the training state
 * that lives outside the backend, with the buffers every epoch reuses. */
typedef struct {
    const reel_nn_net *net;
    const reel_nn_train_opts *o;
    const reel_fit_ctx *ctx;
    const char *name;
    reel_nn_train_result *res;
    progress at;
    weight_avg w;
    float *best;
    history h;
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
} loop;

static int save_checkpoint(loop *lp, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    if (net->be->get_params(net->b, lp->ck[0], err) || net->be->get_moments(net->b, lp->ck[1], lp->ck[2], err) ||
        (lp->ck_avg && net->be->get_avg_sum(net->b, lp->ck_avg, err)))
        return -1;
    reel_nn_checkpoint c = {
        .run = lp->run,
        .backend = net->be->name,
        .epoch = lp->at.epoch,
        .step = lp->at.step,
        .wait = lp->at.wait,
        .best_epoch = lp->res->best_epoch,
        .stopped = lp->at.stopped,
        .ref_loss = lp->at.ref_loss,
        .best_val_loss = lp->res->best_val_loss,
        .rng = lp->at.rng,
        .n_params = net->spec->n_params,
        .params = lp->ck[0],
        .m = lp->ck[1],
        .v = lp->ck[2],
        .best = lp->best,
        .ema_sum = lp->ck_avg,
        .ema_weight = lp->w.weight,
        .ema_last_step = lp->w.last_step,
        .history = lp->res->history,
        .history_csv = lp->h.text,
    };
    return reel_nn_checkpoint_write(lp->o->checkpoint, &c, err);
}

/* A fresh start: make sure the first epoch's checkpoint can be written
 * before spending the epoch (its folder is made, as --out's). */
static int checkpoint_writable(const char *path, reel_error *err)
{
    char *dir = strdup(path);
    if (!dir)
        return reel_fail(err, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = reel_mkdir_p(dir, err);
    } else if (slash) {
        dir[1] = '\0';
    } else {
        strcpy(dir, ".");
    }
    if (rc == 0 && access(dir, W_OK) != 0)
        rc = reel_fail(err, "%s: cannot write the checkpoint there: %s", path, strerror(errno));
    free(dir);
    return rc;
}

/* Puts a checkpoint's state into the backend and the loop. */
static int resume_from(loop *lp, reel_nn_checkpoint *c, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    reel_nn_train_result *res = lp->res;
    if (net->be->set_params(net->b, c->params, err) || net->be->set_moments(net->b, c->m, c->v, err))
        return -1;
    memcpy(lp->best, c->best, net->spec->n_params * sizeof *lp->best);
    if (lp->w.decay > 0) {
        if (net->be->set_avg_sum(net->b, c->ema_sum, err))
            return -1;
        lp->w.weight = c->ema_weight;
        lp->w.last_step = c->ema_last_step;
    }
    lp->at = (progress){.epoch = c->epoch, .step = c->step, .wait = c->wait, .ref_loss = c->ref_loss,
                        .stopped = c->stopped, .rng = c->rng};
    if (c->history_csv) {
        free(lp->h.text);
        lp->h.text = c->history_csv;
        lp->h.len = strlen(c->history_csv);
        lp->h.cap = lp->h.len + 1;
        c->history_csv = NULL;
    }
    res->history = c->history;
    memset(&c->history, 0, sizeof c->history);
    res->epochs_run = c->epoch;
    res->best_epoch = c->best_epoch;
    res->best_val_loss = c->best_val_loss;
    res->resumed_at = c->epoch;
    lp->resumed = 1;
    return 0;
}

/* When the checkpoint file exists, resumes from it (lp->resumed = 1); a
 * missing file means a fresh start. */
static int resume(loop *lp, reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    const reel_log *log = lp->ctx->log;
    lp->resumed = 0;
    FILE *probe = fopen(o->checkpoint, "rb");
    if (!probe) {
        if (errno != ENOENT)
            return reel_fail(err, "%s: cannot read checkpoint: %s", o->checkpoint, strerror(errno));
        return checkpoint_writable(o->checkpoint, err);
    }
    fclose(probe);
    /* Whose checkpoint it is comes first: other params (layers, ema) also
     * mean other sizes, and the key that differs is the useful message. */
    cJSON *saved;
    if (reel_nn_checkpoint_read_run(o->checkpoint, &saved, err))
        return -1;
    char key[256];
    const char *diff = reel_nn_checkpoint_run_diff(saved, lp->run, key, sizeof key);
    cJSON_Delete(saved);
    if (diff)
        return reel_fail(err, "%s: checkpoint of another run (%s differs); delete it or choose another --checkpoint "
                         "file", o->checkpoint, diff);
    reel_nn_checkpoint c;
    if (reel_nn_checkpoint_read(o->checkpoint, lp->net->spec->n_params, lp->w.decay > 0, &c, err))
        return -1;
    if (c.epoch > o->epochs) {
        reel_fail(err, "%s: the checkpoint has trained %ld epochs, more than the %ld asked for; raise --epochs or "
                  "delete it", o->checkpoint, c.epoch, o->epochs);
        reel_nn_checkpoint_free(&c);
        return -1;
    }
    if (resume_from(lp, &c, err)) {
        reel_nn_checkpoint_free(&c);
        return -1;
    }
    const char *be_name = lp->net->be->name;
    if (strcmp(c.backend, be_name) != 0)
        reel_log_msg(log, REEL_LOG_INFO, "%s: the checkpoint was written by the %s backend, this run uses %s: the "
                     "result will differ slightly from an uninterrupted run", lp->name, c.backend, be_name);
    if (c.stopped)
        reel_log_msg(log, REEL_LOG_INFO, "%s: checkpoint %s: training had already stopped early after epoch %ld; "
                     "delete the file to train again", lp->name, o->checkpoint, c.epoch);
    else
        reel_log_msg(log, REEL_LOG_INFO, "%s: resuming from checkpoint %s after epoch %ld (step %ld)", lp->name,
                     o->checkpoint, c.epoch, c.step);
    reel_nn_checkpoint_free(&c);
    return 0;
}

/* The loss was not finite in `epoch` (at step `bad` when the backend saw
 * it, and then it applied no update from that step on). Keeps the best
 * epoch's weights, else the last good ones; fails only when none are known
 * to be good. */
static int diverged(loop *lp, long epoch, long bad, double loss, reel_error *err)
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
static int avg_schedule(loop *lp, reel_error *err)
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
static int epoch_done(loop *lp, int r, long *bad, reel_error *err)
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
static int epoch_at_once(loop *lp, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    if (avg_schedule(lp, err))
        return -1;
    int r = net->be->train_epoch(net->b, (size_t)o->batch_size, &lp->opt, lp->at.step, lp->avg_a, err);
    return epoch_done(lp, r, bad, err);
}

/* Ctrl-C during an epoch: says where it stopped and what was kept. */
static int interrupted(loop *lp, long epoch, size_t row, reel_error *err)
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
static int epoch_by_steps(loop *lp, long epoch, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    size_t n = lp->ctx->n, batch = (size_t)o->batch_size;
    for (size_t start = 0; start < n; start += batch) {
        size_t m = n - start < batch ? n - start : batch;
        if (reel_interrupted())
            return interrupted(lp, epoch, start, err);
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
static int shuffle(loop *lp, reel_error *err)
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
static int epoch_loss(loop *lp, double *train_loss, long *bad, reel_error *err)
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
static int train_epoch(loop *lp, long epoch, double *train_loss, long *bad, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    if (shuffle(lp, err))
        return -1;
    lp->opt.lr = reel_nn_epoch_lr(lp->o, epoch);
    *bad = 0;
    if (net->be->train_epoch && !reel_interrupted()) { /* the whole epoch in one call */
        if (epoch_at_once(lp, bad, err))
            return -1;
    } else if (epoch_by_steps(lp, epoch, bad, err)) {
        return -1;
    }
    return epoch_loss(lp, train_loss, bad, err);
}

/* Validates the moving average when there is one (the live weights go
 * back after), else the live weights. */
static int validate_epoch(loop *lp, double *val_loss, reel_metrics *vm, reel_error *err)
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
static int track_best(loop *lp, long epoch, double val_loss, reel_error *err)
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

/* The epoch's progress record and its history line. */
static void report_epoch(loop *lp, long epoch, double train_loss, double val_loss, const reel_metrics *vm,
                         double secs)
{
    const reel_nn_train_opts *o = lp->o;
    size_t nv = lp->ctx->nv;
    const char *name = lp->name;
    reel_progress pr = reel_progress_blank(REEL_PROGRESS_EPOCH, name);
    pr.done = epoch;
    pr.total = o->epochs;
    pr.loss = train_loss;
    pr.valid_loss = val_loss;
    pr.valid_f1 = nv ? vm->samples_f1 : NAN;
    pr.samples_per_s = (double)lp->ctx->n / secs;
    pr.elapsed_s = reel_now() - lp->t_start;
    pr.eta_s = pr.elapsed_s / (double)(epoch - lp->first_epoch + 1) * (double)(o->epochs - epoch);
    char eta[32];
    format_eta(pr.eta_s, eta, sizeof eta);
    if (nv)
        reel_log_progress(lp->ctx->log, &pr, "%s: epoch %ld/%ld  loss %.4f  val loss %.4f  val F1 %.4f  %.0f "
                          "samples/s  ETA %s", name, epoch, o->epochs, train_loss, val_loss, vm->samples_f1,
                          pr.samples_per_s, eta);
    else
        reel_log_progress(lp->ctx->log, &pr, "%s: epoch %ld/%ld  loss %.4f  %.0f samples/s  ETA %s", name, epoch,
                          o->epochs, train_loss, pr.samples_per_s, eta);
    reel_history_add(&lp->res->history, train_loss, val_loss, nv ? vm->samples_f1 : NAN);
    history_add(&lp->h, "%ld,%.9g", epoch, train_loss);
    if (nv) /* without validation those columns stay empty */
        history_add(&lp->h, ",%.9g,%.9g,%.9g,%.9g,%.9g", val_loss, vm->samples_f1, vm->samples_precision,
                    vm->samples_recall, vm->hamming_accuracy);
    else
        history_add(&lp->h, ",,,,,");
    history_add(&lp->h, ",%.3f\n", secs);
}

static void note_early_stop(loop *lp, long epoch)
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
static int finish_epoch(loop *lp, long epoch, double t0, double train_loss, long bad, int *stop, reel_error *err)
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
    if (lp->h.path && lp->h.text && reel_write_file_atomic(lp->h.path, lp->h.text, err))
        return -1;
    if (o->checkpoint && save_checkpoint(lp, err))
        return -1;
    if (lp->at.stopped && epoch < o->epochs) {
        res->stopped_early = 1;
        note_early_stop(lp, epoch);
    }
    return 0;
}

/* One epoch: train, then finish_epoch. */
static int run_epoch(loop *lp, long epoch, int *stop, reel_error *err)
{
    double t0 = reel_now(), train_loss;
    long bad;
    if (train_epoch(lp, epoch, &train_loss, &bad, err))
        return -1;
    return finish_epoch(lp, epoch, t0, train_loss, bad, stop, err);
}

/* Buffers, data into the backend, the history, and the checkpoint's run
 * (resumed from when the file is there). */
static int loop_open(loop *lp, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    const reel_nn_train_opts *o = lp->o;
    const reel_fit_ctx *ctx = lp->ctx;
    size_t n = ctx->n, L = ctx->L, nv = ctx->nv, np = net->spec->n_params;
    lp->w.decay = o->ema > 0 ? o->ema : 0;
    lp->opt = o->opt;
    lp->Y = lp->Y_shared ? lp->Y_shared : targets(ctx->Y, n * L, o->label_smoothing);
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
    history_add(&lp->h, "epoch,train_loss,val_loss,val_samples_f1,val_samples_precision,val_samples_recall,"
                        "val_hamming_accuracy,seconds\n");
    if (ctx->out_dir) {
        if (reel_mkdir_p(ctx->out_dir, err))
            return -1;
        char file[512];
        snprintf(file, sizeof file, "history_%s.csv", lp->name);
        lp->h.path = reel_path_join(ctx->out_dir, file);
    }
    lp->at.ref_loss = INFINITY;
    lp->res->best_val_loss = INFINITY;
    reel_rng_seed_stream(&lp->at.rng, o->seed, 1);
    if (o->checkpoint) {
        if (!(lp->run = run_identity(o, ctx, lp->Y + lp->row0 * L, lp->Yv)))
            return reel_fail(err, "%s: out of memory", lp->name);
        if (resume(lp, err))
            return -1;
        /* the history so far, also when there is nothing left to train */
        if (lp->resumed && lp->h.path && lp->h.text && reel_write_file_atomic(lp->h.path, lp->h.text, err))
            return -1;
    }
    if (nv == 0)
        reel_log_msg(ctx->log, REEL_LOG_INFO, "%s: no validation rows: training all %ld epochs without early "
                     "stopping", lp->name, o->epochs);
    return 0;
}

/* The live weights are in the backend: puts back the best ones, or the
 * final average (when it has seen a step). */
static int loop_finish(loop *lp, reel_error *err)
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
    res->history.csv = lp->h.text;
    lp->h.text = NULL;
    return 0;
}

static void loop_close(loop *lp)
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
    free(lp->h.text);
    free(lp->h.path);
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
    loop lp = {.net = net, .o = o, .ctx = ctx, .name = name, .res = res};
    int rc = loop_open(&lp, err);
    lp.t_start = reel_now();
    lp.first_epoch = lp.at.epoch + 1;
    int stop = 0;
    for (long epoch = lp.first_epoch; rc == 0 && !stop && !lp.at.stopped && epoch <= o->epochs; epoch++)
        rc = run_epoch(&lp, epoch, &stop, err);
    if (rc == 0)
        rc = loop_finish(&lp, err);
    loop_close(&lp);
    return rc;
}

/* Nets i and j train on the same targets: the same labels, smoothed alike. */
static int same_targets(const reel_fit_ctx *const *ctx, const reel_nn_train_opts *const *o, const reel_nn_rows *rows,
                        size_t i, size_t j)
{
    return (rows ? rows[i].Y : ctx[i]->Y) == (rows ? rows[j].Y : ctx[j]->Y) && ctx[i]->L == ctx[j]->L &&
           o[i]->label_smoothing == o[j]->label_smoothing;
}

/* Net i's labels as floats (Ys[i] when net i is the first on them): with
 * rows, the shared block's; else ctx's, as many rows as the longest net on
 * the same labels trains on, so nets on the same data share one copy. */
static int many_labels(const reel_fit_ctx *const *ctx, const reel_nn_train_opts *const *o,
                       const reel_nn_rows *rows, size_t K, float **Ys, reel_error *err)
{
    for (size_t i = 0; i < K; i++) {
        size_t j = 0, most = rows ? rows[i].n_all : ctx[i]->n;
        while (j < i && !same_targets(ctx, o, rows, j, i))
            j++;
        if (j < i)
            continue; /* net j made it */
        for (size_t l = i + 1; !rows && l < K; l++)
            if (same_targets(ctx, o, rows, l, i) && ctx[l]->n > most)
                most = ctx[l]->n;
        if (!(Ys[i] = targets(rows ? rows[i].Y : ctx[i]->Y, most * ctx[i]->L, o[i]->label_smoothing)))
            return reel_fail(err, "out of memory");
    }
    return 0;
}

/* The checks reel_nn_train makes, and a block's rows within it. */
static int many_check(const reel_nn_net *nets, const reel_fit_ctx *ctx, const reel_nn_rows *rows,
                      const reel_nn_backend *be, reel_error *err)
{
    const char *name = ctx->name ? ctx->name : "net";
    if (nets->be != be)
        return reel_fail(err, "%s: nets trained together must share one backend (%s, not %s)", name, be->name,
                         nets->be->name);
    if (ctx->n == 0)
        return reel_fail(err, "%s: no training rows", name);
    size_t n_all = rows ? rows->n_all : ctx->n;
    if (n_all > UINT32_MAX)
        return reel_fail(err, "%s: %zu training rows is more than a net can index (%u)", name, n_all, UINT32_MAX);
    if (rows && (!rows->X || !rows->Y || rows->row0 > n_all || ctx->n > n_all - rows->row0))
        return reel_fail(err, "%s: rows %zu..%zu are not in the shared block of %zu rows", name, rows->row0,
                         rows->row0 + ctx->n, n_all);
    return 0;
}

/* After a launch: each of the m nets' epoch ends (its loss, validation,
 * early stopping, history), on `threads` threads, since every net has its
 * own state and device queue (a device waits for each validation: with
 * hundreds of nets that wait is paid in parallel). The first failing net's
 * error is the one reported. */
static int many_finish(loop *lps, const reel_nn_epoch_job *jobs, const size_t *who, size_t m, long *next,
                       const double *t0, int *stop, int threads, reel_error *err)
{
    size_t first = m;
    reel_error e0 = {{0}};
    int workers = threads > 1 && m > 1 ? (threads < (int)m ? threads : (int)m) : 1;
#pragma omp parallel for schedule(dynamic) num_threads(workers)
    for (size_t j = 0; j < m; j++) {
        size_t i = who[j];
        long bad = 0;
        double loss;
        reel_error e;
        if (epoch_done(&lps[i], jobs[j].bad, &bad, &e) || epoch_loss(&lps[i], &loss, &bad, &e) ||
            finish_epoch(&lps[i], next[i], t0[i], loss, bad, &stop[i], &e)) {
#pragma omp critical(reel_train_many)
            if (j < first) {
                first = j;
                e0 = e;
            }
        }
        next[i]++;
    }
    if (first < m) {
        *err = e0;
        return -1;
    }
    return 0;
}

int reel_nn_train_many(const reel_nn_net *nets, const reel_nn_train_opts *const *o, const reel_fit_ctx *const *ctx,
                       const reel_nn_rows *rows, reel_nn_train_result *res, size_t K, size_t *shared_max,
                       reel_error *err)
{
    if (shared_max)
        *shared_max = 0;
    if (K == 0)
        return 0;
    memset(res, 0, K * sizeof *res);
    const reel_nn_backend *be = nets[0].be;
    loop *lps = calloc(K, sizeof *lps);
    long *next = calloc(K, sizeof *next);
    int *stop = calloc(K, sizeof *stop);
    double *t0 = calloc(K, sizeof *t0);
    size_t *who = calloc(K, sizeof *who);
    reel_nn_epoch_job *jobs = calloc(K, sizeof *jobs);
    float **Ys = calloc(K, sizeof *Ys); /* nets on the same labels share one float copy, so a device
                                           backend sees one copy of the data */
    size_t opened = 0;
    int rc = 0;
    if (!lps || !next || !stop || !t0 || !who || !jobs || !Ys)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < K; i++)
        rc = many_check(&nets[i], ctx[i], rows ? &rows[i] : NULL, be, err);
    if (rc == 0)
        rc = many_labels(ctx, o, rows, K, Ys, err);
    for (size_t i = 0; rc == 0 && i < K; i++) {
        const char *name = ctx[i]->name ? ctx[i]->name : "net";
        lps[i] = (loop){.net = &nets[i], .o = o[i], .ctx = ctx[i], .name = name, .res = &res[i]};
        for (size_t j = 0; j <= i; j++)
            if (Ys[j] && same_targets(ctx, o, rows, j, i)) {
                lps[i].Y_shared = Ys[j];
                break;
            }
        if (rows) {
            lps[i].X_all = rows[i].X;
            lps[i].n_all = rows[i].n_all;
            lps[i].row0 = rows[i].row0;
        }
        /* one device copy of each block: later nets on it share the first's */
        for (size_t j = 0; rows && be->share_data && j < i && !lps[i].share; j++)
            if (lps[j].X_all == rows[i].X && lps[j].n_all == rows[i].n_all && lps[j].Y_shared == lps[i].Y_shared &&
                ctx[j]->d == ctx[i]->d && ctx[j]->L == ctx[i]->L)
                lps[i].share = lps[j].share ? lps[j].share : nets[j].b;
        opened = i + 1;
        rc = loop_open(&lps[i], err);
        lps[i].t_start = reel_now();
        lps[i].first_epoch = next[i] = lps[i].at.epoch + 1;
    }
    while (rc == 0) {
        size_t m = 0;
        for (size_t i = 0; i < K; i++)
            if (!stop[i] && !lps[i].at.stopped && next[i] <= o[i]->epochs)
                who[m++] = i;
        if (m == 0)
            break;
        if (reel_interrupted()) {
            rc = interrupted(&lps[who[0]], next[who[0]], 0, err);
            break;
        }
        for (size_t j = 0; rc == 0 && j < m; j++) {
            loop *lp = &lps[who[j]];
            t0[who[j]] = reel_now();
            if (shuffle(lp, err) || avg_schedule(lp, err))
                rc = -1;
            lp->opt.lr = reel_nn_epoch_lr(lp->o, next[who[j]]);
            jobs[j] = (reel_nn_epoch_job){lp->net->b, lp->ctx->n, (size_t)lp->o->batch_size, &lp->opt,
                                          lp->at.step, lp->avg_a, 0};
        }
        size_t shared = 0;
        if (rc == 0 && reel_nn_train_epochs(be, jobs, m, &shared, err))
            rc = -1;
        if (shared_max && shared > *shared_max)
            *shared_max = shared;
        if (rc == 0)
            rc = many_finish(lps, jobs, who, m, next, t0, stop, ctx[0]->threads, err);
    }
    for (size_t i = 0; rc == 0 && i < K; i++)
        rc = loop_finish(&lps[i], err);
    for (size_t i = 0; i < opened; i++)
        loop_close(&lps[i]);
    for (size_t i = 0; Ys && i < K; i++)
        free(Ys[i]);
    free(Ys);
    free(lps);
    free(next);
    free(stop);
    free(t0);
    free(who);
    free(jobs);
    return rc;
}
