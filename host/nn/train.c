#include "nn/train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
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
static int validate(const reel_nn_backend *be, void *b, const reel_fit_ctx *ctx, const float *Yv, float *Pv,
                    uint8_t *pred, float threshold, double *loss, reel_metrics *m, reel_error *err)
{
    if (be->eval_loss(b, ctx->Xv, Yv, ctx->nv, loss, Pv, err))
        return -1;
    for (size_t c = 0; c < ctx->nv * ctx->L; c++)
        pred[c] = Pv[c] > threshold;
    if (reel_metrics_compute(m, ctx->Yv, pred, ctx->nv, ctx->L))
        return reel_fail(err, "out of memory computing validation metrics");
    return 0;
}

/* The moving average of the weights. It takes the live weights every
 * EMA_EVERY steps and at the end of each epoch, weighting them with
 * decay^(steps since the last update), which is the per-step average of
 * weights held between updates and costs a tenth of a per-step copy. */
#define EMA_EVERY 10

typedef struct {
    double decay;
    size_t n;
    double *sum;      /* sum of (1 - a) * weights, decayed by a at each update */
    double weight;    /* 1 - decay^steps: what the sum would be for weights all 1 */
    long last_step;
    float *live, *avg; /* scratch: the live weights, the bias-corrected average */
} weight_avg;

static int avg_update(weight_avg *w, const reel_nn_backend *be, void *b, long step, reel_error *err)
{
    if (be->get_params(b, w->live, err))
        return -1;
    double a = pow(w->decay, (double)(step - w->last_step));
    for (size_t k = 0; k < w->n; k++)
        w->sum[k] = a * w->sum[k] + (1 - a) * w->live[k];
    w->weight = a * w->weight + (1 - a);
    w->last_step = step;
    return 0;
}

/* w->avg = the average so far. */
static void avg_compute(weight_avg *w)
{
    for (size_t k = 0; k < w->n; k++)
        w->avg[k] = (float)(w->sum[k] / w->weight);
}

static float *to_float(const uint8_t *Y, size_t count)
{
    float *f = malloc((count ? count : 1) * sizeof *f);
    if (f)
        for (size_t i = 0; i < count; i++)
            f[i] = Y[i] ? 1.0f : 0.0f;
    return f;
}

int reel_nn_train(const reel_nn_backend *be, void *b, const reel_nn_spec *s, const reel_nn_train_opts *o,
                  const reel_fit_ctx *ctx, reel_nn_train_result *res, reel_error *err)
{
    const char *name = ctx->name ? ctx->name : "net";
    size_t n = ctx->n, L = ctx->L, nv = ctx->nv;
    memset(res, 0, sizeof *res);
    if (n == 0)
        return reel_fail(err, "%s: no training rows", name);
    if (n > UINT32_MAX)
        return reel_fail(err, "%s: %zu training rows is more than a net can index (%u)", name, n, UINT32_MAX);
    int rc = -1;
    history h = {0};
    float *Y = to_float(ctx->Y, n * L), *Yv = to_float(ctx->Yv, nv * L);
    float *Pv = malloc((nv ? nv : 1) * L * sizeof *Pv), *best = malloc(s->n_params * sizeof *best);
    uint8_t *pred = malloc((nv ? nv : 1) * L);
    size_t *idx = malloc(n * sizeof *idx);
    uint32_t *order = malloc(n * sizeof *order);
    weight_avg w = {.decay = o->ema, .n = s->n_params};
    if (o->ema > 0) {
        w.sum = calloc(s->n_params, sizeof *w.sum);
        w.live = malloc(s->n_params * sizeof *w.live);
        w.avg = malloc(s->n_params * sizeof *w.avg);
    }
    if (!Y || !Yv || !Pv || !best || !pred || !idx || !order || (o->ema > 0 && (!w.sum || !w.live || !w.avg))) {
        reel_fail(err, "%s: out of memory for training", name);
        goto done;
    }
    if (be->set_data(b, ctx->X, Y, n, err))
        goto done;
    if (ctx->out_dir) {
        if (reel_mkdir_p(ctx->out_dir, err))
            goto done;
        char file[512];
        snprintf(file, sizeof file, "history_%s.csv", name);
        h.path = reel_path_join(ctx->out_dir, file);
        history_add(&h, "epoch,train_loss,val_loss,val_samples_f1,val_samples_precision,val_samples_recall,"
                        "val_hamming_accuracy,seconds\n");
    }
    if (nv == 0 && !ctx->quiet)
        fprintf(stderr, "reel: %s: no validation rows: training all %ld epochs without early stopping\n", name,
                o->epochs);

    reel_rng rng;
    reel_rng_seed_stream(&rng, o->seed, 1);
    double t_start = reel_now(), ref_loss = INFINITY;
    long step = 0, wait = 0;
    res->best_val_loss = INFINITY;
    for (long epoch = 1; epoch <= o->epochs; epoch++) {
        double t0 = reel_now();
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        reel_rng_shuffle(&rng, idx, n);
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)idx[i];
        if (be->set_order(b, order, n, err))
            goto done;
        for (size_t start = 0; start < n; start += (size_t)o->batch_size) {
            size_t m = n - start < (size_t)o->batch_size ? n - start : (size_t)o->batch_size;
            if (reel_interrupted()) {
                reel_fail(err, "%s: interrupted in epoch %ld at row %zu of %zu (step %ld); nothing was saved", name,
                          epoch, start, n, step);
                goto done;
            }
            if (be->train_step(b, start, m, &o->opt, ++step, NULL, err))
                goto done;
            if (o->ema > 0 && (step - w.last_step >= EMA_EVERY || start + m >= n) &&
                avg_update(&w, be, b, step, err))
                goto done;
        }
        double loss_sum;
        if (be->take_loss_sum(b, &loss_sum, err))
            goto done;
        double train_loss = loss_sum / (double)n;
        if (!isfinite(train_loss)) {
            /* Keep the last good weights when there are any (the best epoch's). */
            if (nv && o->restore_best && res->best_epoch > 0) {
                fprintf(stderr, "reel: %s: training diverged in epoch %ld (loss %g): stopped, keeping the "
                        "weights of epoch %ld; a smaller lr (now %g) should help\n", name, epoch, train_loss,
                        res->best_epoch, o->opt.lr);
                res->stopped_early = 1;
                res->diverged = epoch;
                break;
            }
            reel_fail(err, "%s: training diverged in epoch %ld (loss %g) with no good epoch to fall back on; "
                      "try a smaller lr (now %g)", name, epoch, train_loss, o->opt.lr);
            goto done;
        }
        double val_loss = NAN;
        reel_metrics vm = {0};
        if (nv && o->ema > 0) { /* validate the average; the live weights go back after */
            avg_compute(&w);
            if (be->set_params(b, w.avg, err))
                goto done;
        }
        if (nv && validate(be, b, ctx, Yv, Pv, pred, o->threshold, &val_loss, &vm, err))
            goto done;
        if (nv && o->ema > 0 && be->set_params(b, w.live, err)) {
            reel_metrics_free(&vm);
            goto done;
        }
        double secs = reel_now() - t0;
        res->epochs_run = epoch;
        if (nv && val_loss < res->best_val_loss) {
            res->best_val_loss = val_loss;
            res->best_epoch = epoch;
            if (o->restore_best && o->ema > 0)
                memcpy(best, w.avg, s->n_params * sizeof *best);
            else if (o->restore_best && be->get_params(b, best, err)) {
                reel_metrics_free(&vm);
                goto done;
            }
        }
        if (nv && val_loss < ref_loss - o->min_delta) {
            ref_loss = val_loss;
            wait = 0;
        } else if (nv) {
            wait++;
        }
        if (nv && o->patience_from_best && res->best_epoch == epoch)
            wait = 0;
        if (!ctx->quiet) {
            char eta[32];
            format_eta((reel_now() - t_start) / (double)epoch * (double)(o->epochs - epoch), eta, sizeof eta);
            if (nv)
                fprintf(stderr,
                        "reel: %s: epoch %ld/%ld  loss %.4f  val loss %.4f  val F1 %.4f  %.0f samples/s  "
                        "ETA %s\n",
                        name, epoch, o->epochs, train_loss, val_loss, vm.samples_f1, (double)n / secs, eta);
            else
                fprintf(stderr, "reel: %s: epoch %ld/%ld  loss %.4f  %.0f samples/s  ETA %s\n", name, epoch,
                        o->epochs, train_loss, (double)n / secs, eta);
        }
        reel_history_add(&res->history, train_loss, val_loss, nv ? vm.samples_f1 : NAN);
        if (h.path) {
            history_add(&h, "%ld,%.9g", epoch, train_loss);
            if (nv) /* without validation those columns stay empty */
                history_add(&h, ",%.9g,%.9g,%.9g,%.9g,%.9g", val_loss, vm.samples_f1, vm.samples_precision,
                            vm.samples_recall, vm.hamming_accuracy);
            else
                history_add(&h, ",,,,,");
            history_add(&h, ",%.3f\n", secs);
            if (h.text && reel_write_file_atomic(h.path, h.text, err)) {
                reel_metrics_free(&vm);
                goto done;
            }
        }
        reel_metrics_free(&vm);
        if (nv && wait >= o->patience && epoch < o->epochs) {
            res->stopped_early = 1;
            if (!ctx->quiet && o->patience_from_best)
                fprintf(stderr,
                        "reel: %s: early stopping after epoch %ld: validation loss has not gone below "
                        "%.4f (epoch %ld) for %ld epochs\n",
                        name, epoch, res->best_val_loss, res->best_epoch, o->patience);
            else if (!ctx->quiet)
                fprintf(stderr,
                        "reel: %s: early stopping after epoch %ld: validation loss has not gone below "
                        "%.4f - %g for %ld epochs\n",
                        name, epoch, ref_loss, o->min_delta, o->patience);
            break;
        }
    }
    /* The live weights are in the backend: put back the best ones, or the
     * final average. */
    if (nv && o->restore_best && res->best_epoch &&
        (o->ema > 0 || res->diverged || res->best_epoch != res->epochs_run)) {
        if (be->set_params(b, best, err))
            goto done;
        if (!ctx->quiet)
            fprintf(stderr, "reel: %s: restored the %sweights of epoch %ld (val loss %.4f)\n", name,
                    o->ema > 0 ? "averaged " : "", res->best_epoch, res->best_val_loss);
    } else if (o->ema > 0) {
        avg_compute(&w);
        if (be->set_params(b, w.avg, err))
            goto done;
    }
    rc = 0;
done:
    free(w.sum);
    free(w.live);
    free(w.avg);
    free(Y);
    free(Yv);
    free(Pv);
    free(best);
    free(pred);
    free(idx);
    free(order);
    free(h.text);
    free(h.path);
    return rc;
}
