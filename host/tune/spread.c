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
    size_t items;  /* tasks x folds */
    size_t chunks; /* together: the job's items are runs of the items, one per rank; else 0 */
    double *value, *plain, *seconds; /* per item, filled as items arrive (rank 0) */
    size_t *shared;
    reel_rule_name *chosen;  /* per item: the rule its fold chose (tasks with choose) */
    int *left;               /* folds still to arrive, per task */
    void (*on_done)(void *, size_t, const reel_score_task *);
    void *ctx;
} spread;

typedef struct {
    double value, plain, seconds;
    size_t shared; /* fits that shared its launch (0: alone) */
    reel_rule_name chosen; /* the task's choose: the rule chosen on the fold */
} fold_result;

/* Item x's rule: its task's (reel_fold_rule). */
static reel_fold_rule item_rule(const spread *sp, size_t x)
{
    const reel_score_task *t = &sp->tasks[x / (size_t)sp->folds];
    reel_fold_rule how = {.choose = t->choose};
    how.under = t->under ? t->under[x % (size_t)sp->folds] : NULL;
    return how;
}

/* Job item i covers items [lo, hi): itself, or run i of them when together. */
static void item_range(const spread *sp, size_t i, size_t *lo, size_t *hi)
{
    if (!sp->chunks) {
        *lo = i;
        *hi = i + 1;
        return;
    }
    *lo = i * sp->items / sp->chunks;
    *hi = (i + 1) * sp->items / sp->chunks;
}

/* A run of items trained together: each fold's seconds are its share of
 * the run's wall time. */
static int run_chunk(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err)
{
    spread *sp = ctx;
    size_t lo, hi;
    item_range(sp, i, &lo, &hi);
    size_t m = hi - lo;
    reel_fold_item *it = calloc(m ? m : 1, sizeof *it);
    fold_result *r = calloc(m ? m : 1, sizeof *r);
    if (!it || !r) {
        free(it);
        free(r);
        return reel_fail(err, "out of memory");
    }
    for (size_t q = 0; q < m; q++) {
        const reel_score_task *t = &sp->tasks[(lo + q) / (size_t)sp->folds];
        it[q] = (reel_fold_item){.params = t->params, .mask = t->mask, .fold = (int)((lo + q) % (size_t)sp->folds),
                                 .rule = item_rule(sp, lo + q)};
    }
    double t0 = reel_now();
    int rc = reel_score_folds_together(sp->s, it, m, threads, err);
    double share = (reel_now() - t0) / (double)(m ? m : 1);
    for (size_t q = 0; rc == 0 && q < m; q++) {
        r[q] = (fold_result){it[q].value, it[q].plain, share, it[q].shared, {0}};
        memcpy(r[q].chosen, it[q].rule.chosen, sizeof r[q].chosen);
    }
    free(it);
    if (rc) {
        free(r);
        return -1;
    }
    *out = (reel_blob){r, m * sizeof *r};
    return 0;
}

static int run_item(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err)
{
    spread *sp = ctx;
    const reel_score_task *t = &sp->tasks[i / (size_t)sp->folds];
    fold_result *r = calloc(1, sizeof *r);
    reel_fold_rule how = item_rule(sp, i);
    if (!r)
        return reel_fail(err, "out of memory");
    double t0 = reel_now();
    if (reel_score_fold(sp->s, t->params, t->mask, (int)(i % (size_t)sp->folds), threads, &how, &r->value,
                        &r->plain, err)) {
        free(r);
        return -1;
    }
    memcpy(r->chosen, how.chosen, sizeof r->chosen);
    r->seconds = reel_now() - t0;
    r->shared = 0;
    *out = (reel_blob){r, sizeof *r};
    return 0;
}

static void label_item(void *ctx, size_t i, char *buf, size_t len)
{
    spread *sp = ctx;
    if (sp->chunks) {
        size_t lo, hi;
        item_range(sp, i, &lo, &hi);
        snprintf(buf, len, "%zu fits trained together (%s, fold %zu to %s, fold %zu)", hi - lo,
                 sp->tasks[lo / (size_t)sp->folds].label, lo % (size_t)sp->folds + 1,
                 sp->tasks[(hi - 1) / (size_t)sp->folds].label, (hi - 1) % (size_t)sp->folds + 1);
        return;
    }
    const reel_score_task *t = &sp->tasks[i / (size_t)sp->folds];
    if (sp->s->folds)
        snprintf(buf, len, "%s, fold %zu", t->label, i % (size_t)sp->folds + 1);
    else
        snprintf(buf, len, "%s", t->label);
}

static void finish(spread *sp, size_t k)
{
    reel_score_task *t = &sp->tasks[k];
    size_t at = k * (size_t)sp->folds;
    const double *seconds = sp->seconds + at;
    const size_t *shared = sp->shared + at;
    reel_score_combine(sp->s, sp->value + at, &t->score, &t->score_std);
    reel_score_combine(sp->s, sp->plain + at, &t->plain, &t->plain_std);
    t->seconds = 0;
    t->shared = 0;
    for (int f = 0; f < sp->folds; f++) {
        if (t->choose && t->chosen)
            memcpy(t->chosen[f], sp->chosen[at + (size_t)f], sizeof t->chosen[f]);
        t->seconds += seconds[f];
        if (shared[f] > t->shared)
            t->shared = shared[f];
    }
}

static void keep(spread *sp, size_t x, const fold_result *r)
{
    sp->value[x] = r->value;
    sp->plain[x] = r->plain;
    sp->seconds[x] = r->seconds;
    sp->shared[x] = r->shared;
    memcpy(sp->chosen[x], r->chosen, sizeof sp->chosen[x]);
}

static void item_done(void *ctx, size_t i, const reel_blob *b)
{
    spread *sp = ctx;
    size_t lo, hi;
    item_range(sp, i, &lo, &hi);
    const fold_result *r = b->data;
    for (size_t x = lo; x < hi; x++) {
        keep(sp, x, &r[x - lo]);
        size_t k = x / (size_t)sp->folds;
        if (--sp->left[k] == 0 && sp->on_done) {
            finish(sp, k);
            sp->on_done(sp->ctx, k, &sp->tasks[k]);
        }
    }
}

int reel_score_tasks(const reel_scorer *s, reel_score_task *tasks, size_t n, int threads,
                     void (*on_done)(void *ctx, size_t task, const reel_score_task *t), void *ctx,
                     reel_error *err)
{
    int folds = reel_scorer_folds(s);
    size_t items = n * (size_t)folds, ranks = (size_t)reel_dist_size();
    /* Together (nets on a device): each rank's share of the items is one
     * job item, so that its fits train in one launch. */
    size_t chunks = reel_scorer_together(s) ? (items < ranks ? items : ranks) : 0;
    spread sp = {s,
                 tasks,
                 folds,
                 items,
                 chunks,
                 calloc(items + 1, sizeof(double)),
                 calloc(items + 1, sizeof(double)),
                 calloc(items + 1, sizeof(double)),
                 calloc(items + 1, sizeof(size_t)),
                 calloc(items + 1, sizeof(reel_rule_name)),
                 calloc(n + 1, sizeof(int)),
                 on_done,
                 ctx};
    if (!sp.value || !sp.plain || !sp.seconds || !sp.shared || !sp.chosen || !sp.left) {
        free(sp.value);
        free(sp.plain);
        free(sp.seconds);
        free(sp.shared);
        free(sp.chosen);
        free(sp.left);
        return reel_fail(err, "out of memory");
    }
    for (size_t k = 0; k < n; k++)
        sp.left[k] = folds;
    size_t jobs = chunks ? chunks : items;
    reel_blob *res = calloc(jobs + 1, sizeof *res);
    reel_dist_job job = {.n = jobs,
                         .threads = threads,
                         .whole = chunks > 0,
                         .run = chunks ? run_chunk : run_item,
                         .label = label_item,
                         .done = item_done,
                         .ctx = &sp};
    int rc = reel_dist_map(&job, res, err);
    if (rc == 0) { /* every rank: the scores from the gathered results */
        for (size_t i = 0; i < jobs; i++) {
            size_t lo, hi;
            item_range(&sp, i, &lo, &hi);
            const fold_result *r = res[i].data;
            for (size_t x = lo; x < hi; x++)
                keep(&sp, x, &r[x - lo]);
        }
        for (size_t k = 0; k < n; k++)
            finish(&sp, k);
    }
    reel_blobs_free(res, jobs);
    free(res);
    free(sp.value);
    free(sp.plain);
    free(sp.seconds);
    free(sp.shared);
    free(sp.chosen);
    free(sp.left);
    return rc;
}

void reel_tune_round_add(reel_tune_round **rounds, size_t *n_rounds, const reel_scorer *s,
                         const reel_score_task *tasks, size_t n)
{
    reel_tune_round rd = {n, n * (size_t)reel_scorer_folds(s), 0};
    for (size_t k = 0; k < n; k++)
        if (tasks[k].shared > rd.shared)
            rd.shared = tasks[k].shared;
    reel_tune_round_append(rounds, n_rounds, rd);
}

void reel_tune_round_append(reel_tune_round **rounds, size_t *n_rounds, reel_tune_round rd)
{
    reel_tune_round *a = realloc(*rounds, (*n_rounds + 1) * sizeof *a);
    if (a) { /* out of memory: the round goes unrecorded, the scores stand */
        *rounds = a;
        a[(*n_rounds)++] = rd;
    }
}

cJSON *reel_tune_rounds_json(const reel_tune_round *rounds, size_t n_rounds, const char *task_key)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n_rounds; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, task_key, (double)rounds[i].tasks);
        cJSON_AddNumberToObject(o, "fits", (double)rounds[i].fits);
        cJSON_AddNumberToObject(o, "nets_per_launch", (double)rounds[i].shared);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
