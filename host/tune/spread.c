#include "tune/spread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "util/timer.h"

typedef struct {
    const reel_scorer *s;
    reel_score_task *tasks;
    int folds;
    double *value, *seconds; /* per item, filled as items arrive (rank 0) */
    int *left;               /* folds still to arrive, per task */
    void (*on_done)(void *, size_t, const reel_score_task *);
    void *ctx;
} spread;

typedef struct {
    double value, seconds;
} fold_result;

static int run_item(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err)
{
    spread *sp = ctx;
    const reel_score_task *t = &sp->tasks[i / (size_t)sp->folds];
    fold_result *r = malloc(sizeof *r);
    double t0 = reel_now();
    if (reel_score_fold(sp->s, t->params, t->mask, (int)(i % (size_t)sp->folds), threads, &r->value, err)) {
        free(r);
        return -1;
    }
    r->seconds = reel_now() - t0;
    *out = (reel_blob){r, sizeof *r};
    return 0;
}

static void label_item(void *ctx, size_t i, char *buf, size_t len)
{
    spread *sp = ctx;
    const reel_score_task *t = &sp->tasks[i / (size_t)sp->folds];
    if (sp->s->folds)
        snprintf(buf, len, "%s fold %zu", t->label, i % (size_t)sp->folds + 1);
    else
        snprintf(buf, len, "%s", t->label);
}

static void finish(spread *sp, size_t k, const double *value, const double *seconds)
{
    reel_score_task *t = &sp->tasks[k];
    reel_score_combine(sp->s, value, &t->score, &t->score_std);
    t->seconds = 0;
    for (int f = 0; f < sp->folds; f++)
        t->seconds += seconds[f];
}

static void item_done(void *ctx, size_t i, const reel_blob *b)
{
    spread *sp = ctx;
    const fold_result *r = b->data;
    sp->value[i] = r->value;
    sp->seconds[i] = r->seconds;
    size_t k = i / (size_t)sp->folds, at = k * (size_t)sp->folds;
    if (--sp->left[k] == 0 && sp->on_done) {
        finish(sp, k, sp->value + at, sp->seconds + at);
        sp->on_done(sp->ctx, k, &sp->tasks[k]);
    }
}

int reel_score_tasks(const reel_scorer *s, reel_score_task *tasks, size_t n, int threads,
                     void (*on_done)(void *ctx, size_t task, const reel_score_task *t), void *ctx,
                     reel_error *err)
{
    int folds = reel_scorer_folds(s);
    size_t items = n * (size_t)folds;
    spread sp = {s, tasks, folds, calloc(items + 1, sizeof(double)), calloc(items + 1, sizeof(double)),
                 calloc(n + 1, sizeof(int)), on_done, ctx};
    for (size_t k = 0; k < n; k++)
        sp.left[k] = folds;
    reel_blob *res = calloc(items + 1, sizeof *res);
    reel_dist_job job = {.n = items, .threads = threads, .run = run_item, .label = label_item, .done = item_done, .ctx = &sp};
    int rc = reel_dist_map(&job, res, err);
    if (rc == 0) /* every rank: the scores from the gathered results */
        for (size_t k = 0; k < n; k++) {
            double v[folds], sec[folds];
            for (int f = 0; f < folds; f++) {
                const fold_result *r = res[k * (size_t)folds + (size_t)f].data;
                v[f] = r->value;
                sec[f] = r->seconds;
            }
            finish(&sp, k, v, sec);
        }
    reel_blobs_free(res, items);
    free(res);
    free(sp.value);
    free(sp.seconds);
    free(sp.left);
    return rc;
}
