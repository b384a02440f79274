#include "tune/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "models/model.h"
#include "tune/journal.h"
#include "tune/spread.h"
#include "util/rng.h"
#include "util/timer.h"

int reel_strategy_known(const char *name)
{
    return strcmp(name, "one-at-a-time") == 0 || strcmp(name, "coordinate") == 0 || strcmp(name, "grid") == 0 ||
           strcmp(name, "random") == 0;
}

void reel_search_result_free(reel_search_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->trials[i].params);
    free(r->trials);
    free(r->rounds);
    memset(r, 0, sizeof *r);
}

/* Search state: the trials run so far (a cache keyed by canonical params). */
typedef struct {
    const reel_scorer *s;
    const reel_search_opts *o;
    reel_search_result *r;
    size_t cap;
    size_t planned; /* for progress: trials expected */
    size_t finished; /* trials of the current batch done so far */
    int journal_failed; /* writing the journal failed: journal_err says why */
    reel_error journal_err;
    double t0;
} search;

/* Trials are the same when their resolved params (defaults filled in) are. */
static char *key_of(const search *st, const cJSON *params)
{
    reel_model m;
    if (reel_model_init(&m, st->s->model, params, NULL))
        return cJSON_PrintUnformatted(params);
    char *k = cJSON_PrintUnformatted(m.params); /* spec order: canonical */
    reel_model_free(&m);
    return k;
}

static int same_params(void *ctx, const cJSON *a, const cJSON *b)
{
    char *ka = key_of(ctx, a), *kb = key_of(ctx, b);
    int same = ka && kb && strcmp(ka, kb) == 0;
    cJSON_free(ka);
    cJSON_free(kb);
    return same;
}

static long find_trial(const search *st, const char *key)
{
    for (size_t i = 0; i < st->r->n; i++) {
        char *k = key_of(st, st->r->trials[i].params);
        int same = strcmp(k, key) == 0;
        cJSON_free(k);
        if (same)
            return (long)i;
    }
    return -1;
}

static cJSON *with(const cJSON *base, const char *key, const cJSON *value)
{
    cJSON *p = cJSON_Duplicate(base, 1);
    if (cJSON_GetObjectItemCaseSensitive(p, key))
        cJSON_ReplaceItemInObjectCaseSensitive(p, key, cJSON_Duplicate(value, 1));
    else
        cJSON_AddItemToObject(p, key, cJSON_Duplicate(value, 1));
    return p;
}

/* Progress, on rank 0 as each trial's last fold arrives. */
static void trial_done(void *ctx, size_t j, const reel_score_task *t)
{
    search *st = ctx;
    (void)j;
    st->finished++;
    if (st->o->journal && !st->journal_failed) {
        reel_trial tr = {(cJSON *)t->params, t->score, t->score_std, t->plain, t->plain_std, t->seconds, t->shared};
        st->journal_failed = reel_journal_add(st->o->journal, &tr, &st->journal_err) != 0;
    }
    if (!st->o->log)
        return;
    char *k = cJSON_PrintUnformatted(t->params);
    size_t done = st->r->n + st->finished, total = st->planned > done ? st->planned : done;
    reel_progress pr = reel_progress_blank(REEL_PROGRESS_TRIAL, st->s->model);
    pr.done = (long)done;
    pr.total = (long)total;
    pr.score = t->score;
    pr.elapsed_s = reel_now() - st->t0;
    pr.eta_s = pr.elapsed_s / (double)done * (double)(total - done);
    pr.what = k;
    char together[48] = "";
    if (t->shared)
        snprintf(together, sizeof together, ", %zu nets per launch", t->shared);
    reel_log_progress(st->o->log, &pr, "search: trial %zu/~%zu  %.4f  %.90s  (%.1f s elapsed%s)", done, total,
                      t->score, k ? k : "", pr.elapsed_s, together);
    cJSON_free(k);
}

/* Runs the not-yet-run params of batch[0..n) (in parallel when threads > 1)
 * and returns each one's trial index in idx. Takes ownership of batch. */
static int run_batch(search *st, cJSON **batch, size_t n, size_t *idx, reel_error *err)
{
    /* src[i] >= 0: an earlier trial; < 0: position -1-src[i] in todo. */
    long *src = malloc((n ? n : 1) * sizeof *src);
    size_t *todo = malloc((n ? n : 1) * sizeof *todo), m = 0;
    for (size_t i = 0; i < n; i++) {
        char *k = key_of(st, batch[i]);
        src[i] = find_trial(st, k);
        if (src[i] < 0) {
            size_t q = 0;
            while (q < m) {
                char *kq = key_of(st, batch[todo[q]]);
                int same = strcmp(k, kq) == 0;
                cJSON_free(kq);
                if (same)
                    break;
                q++;
            }
            if (q == m)
                todo[m++] = i;
            src[i] = -1 - (long)q;
        }
        cJSON_free(k);
    }
    if (st->r->n + m > st->cap) {
        st->cap = (st->r->n + m) * 2;
        st->r->trials = realloc(st->r->trials, st->cap * sizeof *st->r->trials);
    }
    reel_trial *out = st->r->trials + st->r->n;
    st->finished = 0;
    /* Trials the journal holds are taken from it; the others, x folds,
     * spread over the ranks (tune/spread.h). */
    reel_score_task *tasks = calloc(m ? m : 1, sizeof *tasks);
    char **labels = calloc(m ? m : 1, sizeof *labels);
    size_t *at = calloc(m ? m : 1, sizeof *at), n_run = 0;
    for (size_t j = 0; j < m; j++) {
        out[j] = (reel_trial){.params = cJSON_Duplicate(batch[todo[j]], 1)};
        const cJSON *old = st->o->journal ? reel_journal_find(st->o->journal, batch[todo[j]], same_params, st) : NULL;
        if (old) {
            out[j].score = cJSON_GetObjectItemCaseSensitive(old, "score")->valuedouble;
            out[j].score_std = cJSON_GetObjectItemCaseSensitive(old, "score_std")->valuedouble;
            out[j].plain = cJSON_GetObjectItemCaseSensitive(old, "score_at_model_thresholds")->valuedouble;
            out[j].plain_std = cJSON_GetObjectItemCaseSensitive(old, "score_at_model_thresholds_std")->valuedouble;
            out[j].seconds = cJSON_GetObjectItemCaseSensitive(old, "seconds")->valuedouble;
            const cJSON *npl = cJSON_GetObjectItemCaseSensitive(old, "nets_per_launch");
            out[j].shared = npl ? (size_t)npl->valuedouble : 0;
            continue;
        }
        char *k = cJSON_PrintUnformatted(batch[todo[j]]);
        size_t len = strlen(k) + 32;
        labels[n_run] = malloc(len);
        snprintf(labels[n_run], len, "trial %zu %.80s", st->r->n + j + 1, k);
        cJSON_free(k);
        tasks[n_run] = (reel_score_task){.params = batch[todo[j]], .label = labels[n_run]};
        at[n_run++] = j;
    }
    st->journal_failed = 0;
    int failed = n_run ? reel_score_tasks(st->s, tasks, n_run, st->o->threads, trial_done, st, err) : 0;
    if (!failed && st->journal_failed) {
        *err = st->journal_err;
        failed = 1;
    }
    for (size_t q = 0; q < n_run; q++) {
        out[at[q]].score = tasks[q].score;
        out[at[q]].score_std = tasks[q].score_std;
        out[at[q]].plain = tasks[q].plain;
        out[at[q]].plain_std = tasks[q].plain_std;
        out[at[q]].seconds = tasks[q].seconds;
        out[at[q]].shared = tasks[q].shared;
        free(labels[q]);
    }
    /* The round as an uninterrupted search runs it: the trials the journal
     * held count in it, with what they recorded (their nets per launch). */
    if (!failed && m) {
        reel_tune_round rd = {m, m * (size_t)reel_scorer_folds(st->s), 0};
        for (size_t j = 0; j < m; j++)
            rd.shared = out[j].shared > rd.shared ? out[j].shared : rd.shared;
        reel_tune_round_append(&st->r->rounds, &st->r->n_rounds, rd);
    }
    free(labels);
    free(tasks);
    free(at);
    for (size_t i = 0; i < n; i++) {
        idx[i] = src[i] >= 0 ? (size_t)src[i] : st->r->n + (size_t)(-1 - src[i]);
        cJSON_Delete(batch[i]);
    }
    free(src);
    free(todo);
    if (failed) {
        for (size_t j = 0; j < m; j++)
            cJSON_Delete(out[j].params);
        return -1;
    }
    st->r->n += m;
    return 0;
}

static size_t best_of(const search *st, const size_t *idx, size_t n)
{
    size_t b = idx[0];
    for (size_t i = 1; i < n; i++)
        if (st->r->trials[idx[i]].score > st->r->trials[b].score)
            b = idx[i];
    return b;
}

/* Tries every value of `key` on top of `from`; returns the best trial. */
static int sweep(search *st, const cJSON *from, const cJSON *values, const char *key, size_t *best, reel_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(values);
    cJSON **batch = malloc(n * sizeof *batch);
    size_t *idx = malloc(n * sizeof *idx);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values) batch[i++] = with(from, key, v);
    int rc = run_batch(st, batch, n, idx, err);
    if (rc == 0)
        *best = best_of(st, idx, n);
    free(batch);
    free(idx);
    return rc;
}

static int one_at_a_time(search *st, const cJSON *grid, const cJSON *base, reel_error *err)
{
    cJSON *combined = cJSON_Duplicate(base, 1);
    for (const cJSON *g = grid->child; g; g = g->next) {
        size_t b;
        if (sweep(st, base, g, g->string, &b, err)) {
            cJSON_Delete(combined);
            return -1;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->r->trials[b].params, g->string);
        cJSON *next = with(combined, g->string, v);
        cJSON_Delete(combined);
        combined = next;
    }
    size_t idx;
    return run_batch(st, &combined, 1, &idx, err);
}

static int coordinate(search *st, const cJSON *grid, const cJSON *base, reel_error *err)
{
    cJSON *cur = cJSON_Duplicate(base, 1);
    for (int pass = 0; pass < 20; pass++) {
        int changed = 0;
        for (const cJSON *g = grid->child; g; g = g->next) {
            size_t b;
            if (sweep(st, cur, g, g->string, &b, err)) {
                cJSON_Delete(cur);
                return -1;
            }
            char *a = key_of(st, cur), *c = key_of(st, st->r->trials[b].params);
            if (strcmp(a, c) != 0) {
                cJSON_Delete(cur);
                cur = cJSON_Duplicate(st->r->trials[b].params, 1);
                changed = 1;
            }
            cJSON_free(a);
            cJSON_free(c);
        }
        if (!changed)
            break;
    }
    cJSON_Delete(cur);
    return 0;
}

/* The i-th point of the Cartesian product (mixed-radix digits of i). */
static cJSON *grid_point(const cJSON *grid, const cJSON *base, unsigned long long i)
{
    cJSON *p = cJSON_Duplicate(base, 1);
    for (const cJSON *g = grid->child; g; g = g->next) {
        int n = cJSON_GetArraySize(g);
        cJSON *next = with(p, g->string, cJSON_GetArrayItem(g, (int)(i % (unsigned long long)n)));
        cJSON_Delete(p);
        p = next;
        i /= (unsigned long long)n;
    }
    return p;
}

static int product(search *st, const cJSON *grid, const cJSON *base, int budget, reel_error *err)
{
    unsigned long long total = 1;
    for (const cJSON *g = grid->child; g; g = g->next) {
        total *= (unsigned long long)cJSON_GetArraySize(g);
        if (total > 1000000ULL && budget <= 0)
            return reel_fail(err, "the grid has over a million points: use --strategy random --budget N");
    }
    size_t n = budget > 0 && (unsigned long long)budget < total ? (size_t)budget : (size_t)total;
    unsigned long long *pick = malloc(n * sizeof *pick);
    if (n == total) {
        for (size_t i = 0; i < n; i++)
            pick[i] = i;
    } else { /* distinct seeded samples (Floyd's algorithm) */
        reel_rng rng;
        reel_rng_seed_stream(&rng, st->s->seed, 0x72616e64ULL);
        size_t k = 0;
        for (unsigned long long j = total - n; j < total; j++) {
            unsigned long long t = reel_rng_below(&rng, j + 1);
            int seen = 0;
            for (size_t q = 0; q < k && !seen; q++)
                seen = pick[q] == t;
            pick[k++] = seen ? j : t;
        }
    }
    st->planned = n + 1;
    cJSON **batch = malloc(n * sizeof *batch);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        batch[i] = grid_point(grid, base, pick[i]);
    int rc = run_batch(st, batch, n, idx, err);
    free(batch);
    free(idx);
    free(pick);
    return rc;
}

static int search_from(const reel_scorer *s, const cJSON *grid, const cJSON *base, const reel_search_opts *o,
                       reel_search_result *r, reel_error *err);

int reel_search(const reel_scorer *s, const cJSON *grid, const cJSON *base, const reel_search_opts *o,
                reel_search_result *r, reel_error *err)
{
    memset(r, 0, sizeof *r);
    cJSON *empty = cJSON_CreateObject();
    if (!base)
        base = empty;
    int rc = search_from(s, grid, base, o, r, err);
    cJSON_Delete(empty);
    return rc;
}

static int search_from(const reel_scorer *s, const cJSON *grid, const cJSON *base, const reel_search_opts *o,
                       reel_search_result *r, reel_error *err)
{
    if (!reel_strategy_known(o->strategy))
        return reel_fail(err, "--strategy must be one-at-a-time, coordinate, grid or random, got '%s'", o->strategy);
    if (strcmp(o->strategy, "random") == 0 && o->budget <= 0)
        return reel_fail(err, "--strategy random needs --budget N (N >= 1)");
    if (!cJSON_IsObject(grid) || !grid->child)
        return reel_fail(err, "the grid of model '%s' is empty: give one with --grid FILE", s->model);
    /* Every grid value must be a valid param on its own: fail before any fit. */
    for (const cJSON *g = grid->child; g; g = g->next) {
        if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) == 0)
            return reel_fail(err, "grid key '%s' must be a non-empty list of values", g->string);
        const cJSON *v;
        cJSON_ArrayForEach(v, g)
        {
            cJSON *p = with(base, g->string, v);
            reel_model m;
            int bad = reel_model_init(&m, s->model, p, err);
            cJSON_Delete(p);
            if (bad)
                return reel_fail(err, "grid: %s", err->msg);
            reel_model_free(&m);
        }
    }
    if (reel_scorer_together(s))
        reel_log_msg(o->log, REEL_LOG_INFO, "search: --device %s: each round's trials%s train together, in one launch "
                     "per epoch%s", s->device, s->folds ? " x folds" : "",
                     reel_dist_size() > 1 ? " on each rank (its share of the round)" : "");
    search st = {.s = s, .o = o, .r = r, .t0 = reel_now()};
    size_t planned = 1;
    for (const cJSON *g = grid->child; g; g = g->next)
        planned += (size_t)cJSON_GetArraySize(g);
    st.planned = planned + 1;
    cJSON *b = cJSON_Duplicate(base, 1);
    size_t base_idx;
    if (run_batch(&st, &b, 1, &base_idx, err))
        goto fail;
    r->base = base_idx;
    int rc;
    if (strcmp(o->strategy, "one-at-a-time") == 0)
        rc = one_at_a_time(&st, grid, base, err);
    else if (strcmp(o->strategy, "coordinate") == 0)
        rc = coordinate(&st, grid, base, err);
    else
        rc = product(&st, grid, base, strcmp(o->strategy, "random") == 0 ? o->budget : 0, err);
    if (rc)
        goto fail;
    r->best = 0;
    for (size_t i = 1; i < r->n; i++) /* ties: the earlier trial (defaults first) */
        if (r->trials[i].score > r->trials[r->best].score)
            r->best = i;
    return 0;
fail:
    reel_search_result_free(r);
    return -1;
}

/* A trial's scores: under the rule and at the model's thresholds. */
static void add_scores(cJSON *o, const reel_trial *t)
{
    cJSON_AddNumberToObject(o, "score", t->score);
    cJSON_AddNumberToObject(o, "score_std", t->score_std);
    cJSON_AddNumberToObject(o, "score_at_model_thresholds", t->plain);
    cJSON_AddNumberToObject(o, "score_at_model_thresholds_std", t->plain_std);
}

cJSON *reel_search_json(const reel_search_result *r, const reel_scorer *s, const char *strategy,
                        const reel_test_score *test)
{
    cJSON *doc = reel_scorer_json(s, "strategy", strategy);
    const reel_trial *best = &r->trials[r->best];
    cJSON *bj = cJSON_AddObjectToObject(doc, "best");
    cJSON_AddItemToObject(bj, "params", cJSON_Duplicate(best->params, 1));
    add_scores(bj, best);
    cJSON_AddNumberToObject(doc, "default_score", r->trials[r->base].score);
    cJSON_AddNumberToObject(doc, "default_score_at_model_thresholds", r->trials[r->base].plain);
    cJSON *tr = cJSON_AddArrayToObject(doc, "trials");
    for (size_t i = 0; i < r->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "params", cJSON_Duplicate(r->trials[i].params, 1));
        add_scores(o, &r->trials[i]);
        cJSON_AddNumberToObject(o, "seconds", r->trials[i].seconds);
        cJSON_AddNumberToObject(o, "nets_per_launch", (double)r->trials[i].shared);
        cJSON_AddItemToArray(tr, o);
    }
    cJSON_AddItemToObject(doc, "rounds", reel_tune_rounds_json(r->rounds, r->n_rounds, "trials"));
    reel_test_score_to_json(test, s->p->ds.classes ? s->p->ds.classes : s->p->ds.labels, doc);
    return doc;
}
