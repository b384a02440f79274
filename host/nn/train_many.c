/* Many nets of one backend trained together, epoch by epoch, each as
 * reel_nn_train would train it alone (nn/train.h). */
#include <stdlib.h>
#include <string.h>

#include "nn/multi.h"
#include "nn/train_loop.h"
#include "util/interrupt.h"
#include "util/timer.h"

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
        if (!(Ys[i] = reel_nn_targets(rows ? rows[i].Y : ctx[i]->Y, most * ctx[i]->L,
                                      o[i]->label_smoothing)))
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
static int many_finish(reel_nn_loop *lps, const reel_nn_epoch_job *jobs, const size_t *who, size_t m,
                       long *next, const double *t0, int *stop, int threads, reel_error *err)
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
        if (reel_nn_loop_epoch_done(&lps[i], jobs[j].bad, &bad, &e) ||
            reel_nn_loop_epoch_loss(&lps[i], &loss, &bad, &e) ||
            reel_nn_loop_finish_epoch(&lps[i], next[i], t0[i], loss, bad, &stop[i], &e)) {
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
    reel_nn_loop *lps = calloc(K, sizeof *lps);
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
        lps[i] = (reel_nn_loop){.net = &nets[i], .o = o[i], .ctx = ctx[i], .name = name, .res = &res[i]};
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
        rc = reel_nn_loop_open(&lps[i], err);
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
            rc = reel_nn_loop_interrupted(&lps[who[0]], next[who[0]], 0, err);
            break;
        }
        for (size_t j = 0; rc == 0 && j < m; j++) {
            reel_nn_loop *lp = &lps[who[j]];
            t0[who[j]] = reel_now();
            if (reel_nn_loop_shuffle(lp, err) || reel_nn_loop_avg_schedule(lp, err))
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
        rc = reel_nn_loop_finish(&lps[i], err);
    for (size_t i = 0; i < opened; i++)
        reel_nn_loop_close(&lps[i]);
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

