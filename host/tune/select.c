#include "tune/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "eval/metrics.h"
#include "eval/run.h"
#include "models/model.h"
#include "tune/spread.h"
#include "util/rng.h"
#include "util/timer.h"

int reel_select_method_known(const char *name)
{
    return strcmp(name, "single-pass") == 0 || strcmp(name, "backward") == 0 || strcmp(name, "permutation") == 0;
}

void reel_select_result_free(reel_select_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i].name);
    free(r->f);
    free(r->mask);
    free(r->rounds);
    for (size_t i = 0; i < r->n_refs; i++) {
        free(r->refs[i].what);
        free(r->refs[i].rule);
    }
    free(r->refs);
    memset(r, 0, sizeof *r);
}

/* group[k] = index of the source column of preprocessed feature k. */
static size_t make_groups(const reel_prepared *p, reel_select_result *r, size_t *group)
{
    r->f = calloc(p->d, sizeof *r->f);
    r->n = 0;
    for (size_t k = 0; k < p->d; k++) {
        const char *src = p->pre.f[k].source;
        size_t g = 0;
        while (g < r->n && strcmp(r->f[g].name, src) != 0)
            g++;
        if (g == r->n)
            r->f[r->n++].name = strdup(src);
        group[k] = g;
    }
    return r->n;
}

/* mask of the preprocessed features whose group is kept and not `skip`. */
static void fill_mask(const size_t *group, size_t d, const reel_select_result *r, long skip, uint8_t *mask)
{
    for (size_t k = 0; k < d; k++)
        mask[k] = !r->f[group[k]].dropped && (long)group[k] != skip;
}

/* Scores without each not-yet-dropped group: candidates x folds spread
 * over the ranks (tune/spread.h). */
typedef struct {
    const reel_scorer *s;
    const reel_log *log;
    double ref;
    const char *const *names; /* per task: the feature left out */
    size_t done, total;       /* progress: candidates of this round scored, and in it */
    double t0;
} candidates;

static void candidate_done(void *ctx, size_t k, const reel_score_task *t)
{
    candidates *c = ctx;
    reel_progress pr = reel_progress_blank(REEL_PROGRESS_FEATURE, c->s->model);
    pr.done = (long)++c->done;
    pr.total = (long)c->total;
    pr.elapsed_s = reel_now() - c->t0;
    pr.eta_s = pr.elapsed_s / (double)c->done * (double)(c->total - c->done);
    pr.score = t->score;
    pr.what = c->names[k];
    char together[48] = "";
    if (t->shared)
        snprintf(together, sizeof together, "  (%zu nets per launch)", t->shared);
    reel_log_progress(c->log, &pr, "select: without %-24s %.4f (%+.4f)%s", c->names[k], t->score, t->score - c->ref,
                      together);
}

/* The rules a step's candidates are scored under, per fold: those auto
 * chose on the step's reference (the last scored); NULL when the scorer's
 * rule is not auto (it is used as it is). */
static const reel_rule_name *step_rules(const reel_scorer *s, const reel_select_result *r)
{
    return strcmp(reel_scorer_rule(s), "auto") == 0 && r->n_refs ? r->refs[r->n_refs - 1].rule : NULL;
}

/* ref, ref_plain: the scores the deltas are taken from. */
static int score_without_each(const reel_scorer *s, const cJSON *params, const size_t *group,
                              reel_select_result *r, double ref, double ref_plain, int threads, const reel_log *log,
                              reel_error *err)
{
    const reel_rule_name *under = step_rules(s, r);
    size_t d = s->p->d, n = 0, cap = r->n ? r->n : 1;
    reel_score_task *tasks = calloc(cap, sizeof *tasks);
    size_t *which = calloc(cap, sizeof *which);
    char **labels = calloc(cap, sizeof *labels);
    const char **names = calloc(cap, sizeof *names);
    for (size_t g = 0; g < r->n; g++) {
        if (r->f[g].dropped)
            continue;
        uint8_t *mask = malloc(d);
        fill_mask(group, d, r, (long)g, mask);
        size_t len = strlen(r->f[g].name) + 40;
        labels[n] = malloc(len);
        snprintf(labels[n], len, "the score without feature '%s'", r->f[g].name);
        names[n] = r->f[g].name;
        tasks[n] = (reel_score_task){.params = params, .mask = mask, .label = labels[n], .under = under};
        which[n++] = g;
    }
    candidates c = {s, log, ref, names, 0, n, reel_now()};
    int rc = reel_score_tasks(s, tasks, n, threads, candidate_done, &c, err);
    if (rc == 0)
        reel_tune_round_add(&r->rounds, &r->n_rounds, s, tasks, n);
    for (size_t k = 0; k < n; k++) {
        if (rc == 0) {
            r->f[which[k]].delta = tasks[k].score - ref;
            r->f[which[k]].delta_plain = tasks[k].plain - ref_plain;
        }
        free((void *)tasks[k].mask);
        free(labels[k]);
    }
    free(tasks);
    free(which);
    free(labels);
    free(names);
    return rc;
}

/* One reference score (its folds spread like the candidates'), each
 * fold's rule chosen on it and kept in r->refs as `what`: *t filled. */
static int score_one(const reel_scorer *s, const cJSON *params, const uint8_t *mask, const char *label,
                     const char *what, int threads, reel_select_result *r, reel_score_task *t, reel_error *err)
{
    reel_select_reference *refs = realloc(r->refs, (r->n_refs + 1) * sizeof *refs);
    if (!refs)
        return reel_fail(err, "out of memory");
    r->refs = refs;
    reel_select_reference *ref = &refs[r->n_refs];
    ref->what = strdup(what);
    ref->rule = calloc((size_t)reel_scorer_folds(s), sizeof *ref->rule);
    if (!ref->what || !ref->rule) {
        free(ref->what);
        free(ref->rule);
        return reel_fail(err, "out of memory");
    }
    r->n_refs++;
    *t = (reel_score_task){.params = params, .mask = mask, .label = label, .choose = 1, .chosen = ref->rule};
    if (reel_score_tasks(s, t, 1, threads, NULL, NULL, err))
        return -1;
    reel_tune_round_add(&r->rounds, &r->n_rounds, s, t, 1);
    return 0;
}

static int permutation(const reel_scorer *s, const cJSON *params, const size_t *group, reel_select_result *r,
                       int threads, reel_error *err)
{
    const reel_rule_name *under = step_rules(s, r);
    const reel_prepared *p = s->p;
    reel_log_once once;
    reel_log quiet = reel_scorer_quiet(s, &once);
    if (s->folds)
        return reel_fail(err, "--method permutation uses the validation split: drop --folds");
    reel_model m;
    if (reel_model_init(&m, s->model, params, err))
        return -1;
    reel_run_opts o = {.seed = s->seed, .threads = threads, .device = s->device, .log = &quiet};
    reel_fit_ctx c = reel_fit_ctx_for(p, &m, &p->train, &p->valid, &o);
    if (reel_model_fit(&m, &c, err)) {
        reel_model_free(&m);
        return -1;
    }
    size_t n = p->valid.n, d = p->d;
    const float *Xv = reel_part_X(&p->valid, &m);
    float *X = malloc((n ? n : 1) * d * sizeof *X);
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    int rc = 0;
    if (!X || !perm)
        rc = reel_fail(err, "out of memory for %zu validation rows", n);
    for (size_t g = 0; g < r->n && rc == 0; g++) {
        memcpy(X, Xv, n * d * sizeof *X);
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        reel_rng rng;
        reel_rng_seed_stream(&rng, s->seed, g);
        reel_rng_shuffle(&rng, perm, n);
        /* Shuffle the group's columns together, row for row. */
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < d; k++)
                if (group[k] == g)
                    X[i * d + k] = Xv[perm[i] * d + k];
        double value, plain;
        reel_fold_rule how = {.under = under ? under[0] : NULL};
        if ((rc = reel_score_rows(s, &m, X, p->valid.Y, n, &how, &value, &plain, err)))
            break;
        r->f[g].delta = value - r->reference;
        r->f[g].delta_plain = plain - r->reference_plain;
    }
    free(X);
    free(perm);
    reel_model_free(&m);
    return rc;
}

int reel_select(reel_scorer *s, const cJSON *params, const char *method, int threads, const reel_log *log,
                reel_select_result *r, reel_error *err)
{
    memset(r, 0, sizeof *r);
    if (!reel_select_method_known(method))
        return reel_fail(err, "--method must be single-pass, backward or permutation, got '%s'", method);
    size_t d = s->p->d;
    size_t *group = malloc(d * sizeof *group);
    uint8_t *mask = malloc(d);
    make_groups(s->p, r, group);
    int rc = -1;
    if (reel_scorer_together(s))
        reel_log_msg(log, REEL_LOG_INFO, "select: --device %s: each round's candidates%s train together, in one "
                     "launch per epoch for those of one input width%s", s->device, s->folds ? " x folds" : "",
                     reel_dist_size() > 1 ? " on each rank (its share)" : "");
    reel_score_task t;
    /* Dropping columns from ridge needs no new pass over the rows. */
    if (strcmp(method, "permutation") != 0 && reel_scorer_share_fits(s, params, err))
        goto done;
    if (score_one(s, params, NULL, "the score with every feature", "every feature", threads, r, &t, err))
        goto done;
    r->reference = t.score;
    r->reference_std = t.score_std;
    r->reference_plain = t.plain;
    reel_log_msg(log, REEL_LOG_INFO, "select: reference score with all %zu feature columns: %.4f", r->n, r->reference);
    if (strcmp(method, "single-pass") == 0) {
        if (score_without_each(s, params, group, r, r->reference, r->reference_plain, threads, log, err))
            goto done;
        for (size_t g = 0; g < r->n; g++)
            r->f[g].dropped = r->f[g].delta >= 0;
    } else if (strcmp(method, "permutation") == 0) {
        if (permutation(s, params, group, r, threads, err))
            goto done;
        for (size_t g = 0; g < r->n; g++)
            r->f[g].dropped = r->f[g].delta >= 0;
    } else { /* backward */
        double cur = r->reference, cur_plain = r->reference_plain;
        for (long dropped = -1;; ) {
            if (dropped >= 0) { /* the kept set is the step's reference: its score, and auto's rules on it */
                char what[300];
                snprintf(what, sizeof what, "the kept features after dropping '%s'", r->f[dropped].name);
                fill_mask(group, d, r, -1, mask);
                if (score_one(s, params, mask, "the score with the kept features", what, threads, r, &t, err))
                    goto done;
                cur = t.score;
                cur_plain = t.plain;
                reel_log_msg(log, REEL_LOG_INFO, "select: dropped %s, score now %.4f", r->f[dropped].name, cur);
            }
            if (score_without_each(s, params, group, r, cur, cur_plain, threads, log, err))
                goto done;
            long best = -1;
            size_t left = 0;
            for (size_t g = 0; g < r->n; g++) {
                if (r->f[g].dropped)
                    continue;
                left++;
                if (r->f[g].delta > 0 && (best < 0 || r->f[g].delta > r->f[best].delta))
                    best = (long)g;
            }
            if (best < 0 || left <= 1)
                break;
            r->f[best].dropped = 1;
            dropped = best;
        }
        /* the kept set was the last step's reference: scored as the selected set is */
        r->final_score = cur;
        r->final_plain = cur_plain;
    }
    size_t kept = 0;
    for (size_t g = 0; g < r->n; g++)
        kept += !r->f[g].dropped;
    if (kept == 0) /* never drop everything: keep the least harmful one */
        r->f[0].dropped = 0;
    fill_mask(group, d, r, -1, mask);
    rc = 0;
    if (strcmp(method, "backward") != 0) {
        rc = score_one(s, params, mask, "the score with the kept features", "the kept features", threads, r, &t,
                       err);
        r->final_score = t.score;
        r->final_plain = t.plain;
    }
    if (rc == 0 && r->final_score < r->reference) {
        /* Dropping what the method chose costs score on the very rows it
         * was chosen on: keep every feature, say so, report both. */
        reel_log_msg(log, REEL_LOG_WARNING, "select: the %s choice scores %.4f, below %.4f with every feature: "
                     "keeping every feature", method, r->final_score, r->reference);
        r->rejected_score = r->final_score;
        r->final_score = r->reference;
        r->final_plain = r->reference_plain;
        for (size_t g = 0; g < r->n; g++) {
            r->f[g].rejected = r->f[g].dropped;
            r->f[g].dropped = 0;
        }
        memset(mask, 1, d);
    }
    r->mask = mask;
    mask = NULL;
done:
    reel_scorer_unshare(s);
    free(group);
    free(mask);
    if (rc)
        reel_select_result_free(r);
    return rc;
}

/* "expected-f1+calibrated, chosen by auto on the reference" (several
 * rules: each with how many reference folds chose it), or the rule as
 * --decision (or the target) gives it. */
static cJSON *scored_under(const reel_select_result *r, const reel_scorer *s)
{
    const char *spec = reel_scorer_rule(s);
    int asked = s->decision && strcmp(s->decision, "auto") != 0;
    char text[1024];
    if (strcmp(spec, "auto") != 0) {
        snprintf(text, sizeof text, "%s, %s", spec, asked ? "as --decision names it" : "auto's rule for this target");
        return cJSON_CreateString(text);
    }
    size_t folds = (size_t)reel_scorer_folds(s), total = r->n_refs * folds, len = 0, kinds = 0;
    text[0] = 0;
    for (size_t i = 0; i < total; i++) {
        const char *name = r->refs[i / folds].rule[i % folds];
        size_t seen = 0, count = 0;
        for (size_t j = 0; j < total; j++) {
            const char *other = r->refs[j / folds].rule[j % folds];
            seen += j < i && strcmp(other, name) == 0;
            count += strcmp(other, name) == 0;
        }
        if (seen) /* named at its first use */
            continue;
        kinds++;
        if (count == total)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s", name);
        else
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s (%zu of %zu reference folds)",
                                    len ? ", " : "", name, count, total);
        if (len >= sizeof text)
            len = sizeof text - 1;
    }
    snprintf(text + len, sizeof text - len, ", chosen by auto on the reference%s", kinds > 1 ? " of each step" : "");
    return cJSON_CreateString(text);
}

cJSON *reel_select_json(const reel_select_result *r, const reel_scorer *s, const char *method,
                        const reel_test_score *test)
{
    cJSON *kept = cJSON_CreateArray(), *dropped = cJSON_CreateArray(), *feats = cJSON_CreateArray();
    size_t n_rejected = 0;
    for (size_t g = 0; g < r->n; g++) {
        cJSON_AddItemToArray(r->f[g].dropped ? dropped : kept, cJSON_CreateString(r->f[g].name));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->f[g].name);
        cJSON_AddNumberToObject(o, "delta", r->f[g].delta);
        cJSON_AddNumberToObject(o, "delta_at_model_thresholds", r->f[g].delta_plain);
        cJSON_AddBoolToObject(o, "dropped", r->f[g].dropped);
        cJSON_AddItemToArray(feats, o);
        if (r->f[g].rejected)
            n_rejected++;
    }
    cJSON *rejected = n_rejected ? cJSON_CreateObject() : cJSON_CreateNull();
    if (n_rejected) {
        cJSON_AddNumberToObject(rejected, "score", r->rejected_score);
        cJSON *names = cJSON_AddArrayToObject(rejected, "dropped");
        for (size_t g = 0; g < r->n; g++)
            if (r->f[g].rejected)
                cJSON_AddItemToArray(names, cJSON_CreateString(r->f[g].name));
    }
    cJSON *doc = reel_scorer_json(s, "method", method);
    cJSON_ReplaceItemInObject(doc, "scored_under", scored_under(r, s));
    cJSON_AddStringToObject(doc, "scoring", "a step's reference (every feature, or the kept set at the step's "
                            "start) has auto choose the rule on each fold's validation part; each candidate of "
                            "the step is scored under that fold's rule, fitted on the candidate's own validation "
                            "part and scored there by 5-fold cross-fitting (a rule --decision names: that rule, "
                            "the same way); *_at_model_thresholds: at the model's own thresholds");
    cJSON *refs = cJSON_AddArrayToObject(doc, "references");
    for (size_t i = 0; i < r->n_refs; i++) {
        cJSON *o = cJSON_CreateObject(), *rules = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "features", r->refs[i].what);
        for (int f = 0; f < reel_scorer_folds(s); f++)
            cJSON_AddItemToArray(rules, cJSON_CreateString(r->refs[i].rule[f]));
        cJSON_AddItemToObject(o, "rules", rules);
        cJSON_AddItemToArray(refs, o);
    }
    cJSON_AddNumberToObject(doc, "reference_score", r->reference);
    cJSON_AddNumberToObject(doc, "reference_score_at_model_thresholds", r->reference_plain);
    cJSON_AddNumberToObject(doc, "selected_score", r->final_score);
    cJSON_AddNumberToObject(doc, "selected_score_at_model_thresholds", r->final_plain);
    cJSON_AddItemToObject(doc, "rejected", rejected);
    cJSON_AddItemToObject(doc, "features", feats);
    cJSON_AddItemToObject(doc, "kept", kept);
    cJSON_AddItemToObject(doc, "dropped", dropped);
    cJSON_AddItemToObject(doc, "rounds", reel_tune_rounds_json(r->rounds, r->n_rounds, "candidates"));
    reel_test_score_to_json(test, s->p->ds.classes ? s->p->ds.classes : s->p->ds.labels, doc);
    return doc;
}
