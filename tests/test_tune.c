/* Search and feature selection: strategies visit what they should, the
 * test rows are never read, folds work, --features applies a selection. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "eval/decision.h"
#include "eval/run.h"
#include "helpers.h"
#include "tune/search.h"
#include "tune/select.h"
#include "util/interrupt.h"

/* Label A follows feature a; b is noise; c is constant. */
static const char *tune_csv(void)
{
    static char csv[65536];
    strcpy(csv, "a,b,c,A,B\n");
    unsigned s = 5;
    for (int i = 0; i < 400; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)((s >> 8) % 100);
        s = s * 1103515245u + 12345u;
        int b = (int)((s >> 8) % 100);
        sprintf(csv + strlen(csv), "%d,%d,7,%d,%d\n", a, b, a > 60, i % 3 == 0 || a <= 60);
    }
    return tmp_write("tune.csv", csv);
}

static void prepare(reel_prepared *p)
{
    reel_prepare_opts o = {0};
    o.data.data = tune_csv();
    o.data.labels = "A,B";
    o.split = (reel_split_opts){.seed = 9, .test_fraction = 0.25, .valid_fraction = 0.25};
    o.top_k = 10;
    reel_error err;
    cr_assert_eq(reel_prepare(p, &o, &err), 0, "%s", err.msg);
}

static reel_search_result run_search(reel_prepared *p, const char *strategy, int folds, int budget)
{
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, p, "prior", "samples-f1", folds, 9, "cpu", &err), 0, "%s", err.msg);
    cJSON *grid = cJSON_Parse("{\"threshold\": [0.1, 0.3, 0.5, 0.7]}");
    cJSON *base = cJSON_CreateObject();
    reel_search_opts o = {strategy, budget, 2, NULL, NULL};
    reel_search_result r;
    cr_assert_eq(reel_search(&sc, grid, base, &o, &r, &err), 0, "%s", err.msg);
    cJSON_Delete(grid);
    cJSON_Delete(base);
    reel_scorer_free(&sc);
    return r;
}

Test(search, strategies_and_dedup)
{
    reel_prepared p;
    prepare(&p);
    reel_search_result r = run_search(&p, "one-at-a-time", 0, 0);
    /* defaults (threshold 0.5) + 0.1, 0.3, 0.7 (0.5 is the default again): 4 distinct trials */
    cr_expect_eq(r.n, 4, "trials: %zu", r.n);
    for (size_t i = 0; i < r.n; i++)
        cr_expect(r.trials[r.best].score >= r.trials[i].score);
    cr_expect_eq(r.base, 0);
    reel_search_result_free(&r);
    r = run_search(&p, "grid", 0, 0);
    cr_expect_eq(r.n, 4);
    reel_search_result_free(&r);
    r = run_search(&p, "random", 0, 2);
    cr_expect_leq(r.n, 3, "defaults + at most 2 samples");
    reel_search_result_free(&r);
    r = run_search(&p, "coordinate", 3, 0);
    cr_expect_eq(r.n, 4);
    cr_expect_gt(r.trials[r.best].score_std + 1, 0);
    reel_search_result_free(&r);
    reel_prepared_free(&p);
}

Test(search, never_reads_the_test_rows)
{
    reel_prepared p;
    prepare(&p);
    reel_search_result a = run_search(&p, "one-at-a-time", 0, 0);
    /* Shuffle (here: invert) every test label: the search must not notice. */
    for (size_t i = 0; i < p.test.n * p.L; i++)
        p.test.Y[i] = !p.test.Y[i];
    memset(p.test.X[0], 0, p.test.n * p.d * sizeof(float));
    reel_search_result b = run_search(&p, "one-at-a-time", 0, 0);
    cr_assert_eq(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        cr_expect_eq(a.trials[i].score, b.trials[i].score);
    cr_expect_eq(a.best, b.best);
    reel_search_result_free(&a);
    reel_search_result_free(&b);
    reel_prepared_free(&p);
}

Test(search, bad_grid_fails_before_fitting)
{
    reel_prepared p;
    prepare(&p);
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "prior", "samples-f1", 0, 9, "cpu", &err), 0);
    cJSON *grid = cJSON_Parse("{\"threshold\": [0.1, 7]}");
    reel_search_opts o = {"grid", 0, 1, NULL, NULL};
    reel_search_result r;
    cr_expect_neq(reel_search(&sc, grid, NULL, &o, &r, &err), 0);
    cr_expect(strstr(err.msg, "key 'threshold' must be a number >= 0 and <= 1; got 7"), "%s", err.msg);
    cJSON_Delete(grid);
    grid = cJSON_Parse("{\"nope\": [1]}");
    cr_expect_neq(reel_search(&sc, grid, NULL, &o, &r, &err), 0);
    cr_expect(strstr(err.msg, "unknown key 'nope'"), "%s", err.msg);
    cJSON_Delete(grid);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

/* Ctrl-C during a search or a selection: no new fit starts and both end
 * with an error saying so (the commands then write nothing, exit 130). */
Test(search, interrupt_stops_before_the_next_fit)
{
    reel_prepared p;
    prepare(&p);
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "prior", "samples-f1", 0, 9, "cpu", &err), 0);
    cJSON *grid = cJSON_Parse("{\"threshold\": [0.1, 0.2, 0.3]}");
    reel_search_opts o = {"grid", 0, 1, NULL, NULL};
    reel_search_result r;
    reel_interrupt_install();
    raise(SIGINT);
    cr_expect_neq(reel_search(&sc, grid, NULL, &o, &r, &err), 0);
    cr_expect(strstr(err.msg, "interrupted"), "%s", err.msg);
    reel_select_result sr;
    cr_expect_neq(reel_select(&sc, NULL, "single-pass", 1, NULL, &sr, &err), 0);
    cr_expect(strstr(err.msg, "interrupted"), "%s", err.msg);
    reel_interrupt_clear();
    cr_expect_eq(reel_search(&sc, grid, NULL, &o, &r, &err), 0, "%s", err.msg);
    reel_search_result_free(&r);
    cJSON_Delete(grid);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

Test(select, single_pass_keeps_what_matters_and_ignores_test)
{
    reel_prepared p;
    prepare(&p);
    reel_scorer sc;
    reel_error err;
    /* prior ignores features: every removal leaves the score equal -> all but one dropped. */
    cr_assert_eq(reel_scorer_init(&sc, &p, "prior", "samples-f1", 0, 9, "cpu", &err), 0);
    reel_select_result r;
    cr_assert_eq(reel_select(&sc, NULL, "single-pass", 2, NULL, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.n, 3);
    size_t kept = 0;
    for (size_t g = 0; g < r.n; g++) {
        cr_expect_float_eq(r.f[g].delta, 0.0, 1e-12);
        kept += !r.f[g].dropped;
    }
    cr_expect_eq(kept, 1, "never drops every feature");
    reel_select_result_free(&r);
    cr_expect_neq(reel_select(&sc, NULL, "sideways", 2, NULL, &r, &err), 0);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

Test(select, features_file_restricts_columns)
{
    reel_prepare_opts o = {0};
    o.data.data = tune_csv();
    o.data.labels = "A,B";
    o.data.features = tmp_write("sel.json", "{\"kept\": [\"b\", \"a\"], \"dropped\": [\"c\"]}");
    o.split = (reel_split_opts){.seed = 9, .test_fraction = 0.25, .valid_fraction = 0.25};
    o.top_k = 10;
    reel_prepared p;
    reel_error err;
    cr_assert_eq(reel_prepare(&p, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(p.d, 2);
    cr_expect_str_eq(p.feature_names[0], "a");
    reel_prepared_free(&p);
    o.data.features = tmp_write("sel2.json", "[\"a\", \"zzz\"]");
    cr_expect_neq(reel_prepare(&p, &o, &err), 0);
    cr_expect(strstr(err.msg, "'zzz' is not a feature column"), "%s", err.msg);
}

/* The search under a decision rule: prior's probabilities do not depend on
 * its threshold, so under a rule chosen on the validation rows every trial
 * scores the same and the defaults stay best, while at the model's own
 * thresholds (the plain scores, kept beside) another threshold wins. */
static reel_search_result search_under(reel_prepared *p, const char *decision, int folds)
{
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, p, "prior", "samples-f1", folds, 9, "cpu", &err), 0, "%s", err.msg);
    sc.decision = decision;
    cJSON *grid = cJSON_Parse("{\"threshold\": [0.1, 0.3, 0.5, 0.7]}");
    reel_search_opts o = {"grid", 0, 2, NULL, NULL};
    reel_search_result r;
    cr_assert_eq(reel_search(&sc, grid, NULL, &o, &r, &err), 0, "%s", err.msg);
    cJSON_Delete(grid);
    reel_scorer_free(&sc);
    return r;
}

Test(search, best_under_the_rule_not_at_the_thresholds)
{
    reel_prepared p;
    prepare(&p);
    for (int folds = 0; folds <= 3; folds += 3) {
        reel_search_result r = search_under(&p, "tuned-global", folds);
        size_t best_plain = 0;
        for (size_t i = 0; i < r.n; i++) {
            cr_expect_eq(r.trials[i].score, r.trials[0].score, "folds %d: trial %zu %.17g vs %.17g", folds, i,
                         r.trials[i].score, r.trials[0].score);
            if (r.trials[i].plain > r.trials[best_plain].plain)
                best_plain = i;
        }
        cr_expect_eq(r.best, r.base, "folds %d: the best under the rule is trial %zu", folds, r.best);
        cr_expect_neq(best_plain, r.base, "folds %d: at the thresholds the defaults should lose", folds);
        cr_expect_gt(r.trials[r.best].score, r.trials[r.base].plain, "a tuned cut beats 0.5 here");
        reel_search_result_free(&r);
    }
    reel_prepared_free(&p);
}

/* The threshold rule is the model's own thresholds: both scores agree. */
Test(search, threshold_rule_scores_as_the_plain_thresholds)
{
    reel_prepared p;
    prepare(&p);
    reel_search_result r = search_under(&p, "threshold", 3);
    for (size_t i = 0; i < r.n; i++) {
        cr_expect_eq(r.trials[i].score, r.trials[i].plain);
        cr_expect_eq(r.trials[i].score_std, r.trials[i].plain_std);
    }
    reel_search_result_free(&r);
    reel_prepared_free(&p);
}

/* The final test score is reel train's: the same fit (early stopping on
 * the validation rows, never the test rows), the rule chosen on the
 * validation rows, the same bits, with every feature given as a mask or
 * none. */
Test(search, test_score_is_the_trained_models)
{
    reel_prepared p;
    prepare(&p);
    const char *params_text = "{\"epochs\": 30, \"width\": 8, \"patience\": 2, \"ensemble\": 1, \"lr\": 0.01}";
    cJSON *params = cJSON_Parse(params_text);
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "box", "samples-f1", 0, 9, "cpu", &err), 0, "%s", err.msg);
    sc.decision = "tuned-per-label";
    uint8_t all[8];
    memset(all, 1, sizeof all);
    cr_assert_leq(p.d, sizeof all);
    reel_test_score a, b;
    cr_assert_eq(reel_score_test(&sc, params, NULL, 1, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_score_test(&sc, params, all, 1, &b, &err), 0, "%s", err.msg);
    reel_run run;
    reel_run_opts o = {.seed = 9, .threads = 1, .device = "cpu", .decision = "tuned-per-label"};
    cr_assert_eq(reel_run_model(&run, &p, "box", params, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(a.metrics.samples_f1, run.metrics.samples_f1);
    cr_expect_eq(a.plain.samples_f1, run.untuned.samples_f1);
    cr_expect_eq(b.metrics.samples_f1, run.metrics.samples_f1, "masked: %.17g, trained: %.17g",
                 b.metrics.samples_f1, run.metrics.samples_f1);
    cr_expect_eq(b.plain.samples_f1, run.untuned.samples_f1);
    cr_expect(strstr(a.rule, "tuned-per-label"), "%s", a.rule);
    cJSON *doc = cJSON_CreateObject();
    reel_test_score_to_json(&a, p.ds.labels, doc);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "test_decision_rule")->valuestring, a.rule);
    cr_expect_not_null(cJSON_GetObjectItem(doc, "test_metrics_at_model_thresholds"));
    cJSON_Delete(doc);
    reel_run_free(&run);
    reel_test_score_free(&a);
    reel_test_score_free(&b);
    cJSON_Delete(params);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

/* select scores its candidates under the rule too, the plain deltas beside. */
Test(select, scores_under_the_rule)
{
    reel_prepared p;
    prepare(&p);
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "ridge", "samples-f1", 0, 9, "cpu", &err), 0);
    sc.decision = "tuned-global";
    cJSON *params = cJSON_CreateObject();
    reel_select_result r;
    cr_assert_eq(reel_select(&sc, params, "single-pass", 2, NULL, &r, &err), 0, "%s", err.msg);
    /* a drives A: without it both scores fall */
    cr_expect_lt(r.f[0].delta, 0, "%s: %g", r.f[0].name, r.f[0].delta);
    cr_expect_lt(r.f[0].delta_plain, 0);
    cr_expect_neq(r.reference, r.reference_plain, "a tuned cut and 0.5 score alike: the test cannot tell them apart");
    reel_test_score t;
    cr_assert_eq(reel_score_test(&sc, params, r.mask, 1, &t, &err), 0, "%s", err.msg);
    cJSON *doc = reel_select_json(&r, &sc, "single-pass", &t);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision")->valuestring, "tuned-global");
    cr_expect_eq(cJSON_GetObjectItem(doc, "reference_score")->valuedouble, r.reference);
    cr_expect_eq(cJSON_GetObjectItem(doc, "reference_score_at_model_thresholds")->valuedouble, r.reference_plain);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "test_decision_rule")->valuestring, "tuned-global");
    /* a named rule is the one every score is under: the JSON says so, and
     * each candidate's score is that rule's (reel_score_fold, as search) */
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "scored_under")),
                     "tuned-global, as --decision names it");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItem(doc, "references"))
        cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(ref, "rules"), 0)),
                         "tuned-global");
    for (size_t g = 0; g < r.n; g++) {
        uint8_t mask[8];
        for (size_t j = 0; j < p.d; j++)
            mask[j] = strcmp(p.pre.f[j].source, r.f[g].name) != 0;
        double v, pl;
        cr_assert_eq(reel_score_fold(&sc, params, mask, 0, 1, NULL, &v, &pl, &err), 0, "%s", err.msg);
        cr_expect_eq(r.f[g].delta, v - r.reference, "without %s: %.17g, alone %.17g", r.f[g].name, r.f[g].delta,
                     v - r.reference);
    }
    cJSON_Delete(doc);
    reel_test_score_free(&t);
    reel_select_result_free(&r);
    cJSON_Delete(params);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

/* Under auto, select scores a step's candidates under the rule auto chose
 * on the step's reference (the model on every feature): the JSON names it,
 * as reel_decision_choose picks it on the validation probabilities, and
 * every candidate's score is that rule fitted alone on its own validation
 * probabilities, as --decision with that rule scores it. */
Test(select, scores_under_the_rule_auto_chose_on_the_reference)
{
    reel_prepared p;
    prepare(&p);
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "ridge", "samples-f1", 0, 9, "cpu", &err), 0);
    cJSON *params = cJSON_CreateObject();
    reel_select_result r;
    cr_assert_eq(reel_select(&sc, params, "single-pass", 2, NULL, &r, &err), 0, "%s", err.msg);
    /* auto's choice on the reference's validation probabilities, made here */
    reel_model m;
    cr_assert_eq(reel_model_init(&m, "ridge", params, &err), 0, "%s", err.msg);
    reel_run_opts o = {.seed = 9, .threads = 1, .device = "cpu"};
    reel_fit_ctx c = reel_fit_ctx_for(&p, &m, &p.train, &p.valid, &o);
    cr_assert_eq(reel_model_fit(&m, &c, &err), 0, "%s", err.msg);
    size_t n = p.valid.n, L = p.L;
    float *P = malloc(n * L * sizeof *P);
    cr_assert_eq(reel_model_predict_proba(&m, reel_part_X(&p.valid, &m), n, P, &err), 0, "%s", err.msg);
    reel_decision rule;
    cr_assert_eq(reel_decision_choose(&rule, "auto", P, p.valid.Y, n, L, m.threshold, 9, &err), 0, "%s", err.msg);
    char name[64];
    reel_decision_name(&rule, name, sizeof name);
    reel_decision_free(&rule);
    reel_model_free(&m);
    free(P);

    reel_test_score t;
    cr_assert_eq(reel_score_test(&sc, params, r.mask, 1, &t, &err), 0, "%s", err.msg);
    cJSON *doc = reel_select_json(&r, &sc, "single-pass", &t);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "decision")), "auto");
    const cJSON *refs = cJSON_GetObjectItem(doc, "references");
    cr_assert_eq(cJSON_GetArraySize(refs), 2, "every feature, then the kept ones");
    const cJSON *first = cJSON_GetArrayItem(refs, 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(first, "features")), "every feature");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "rules"), 0)), name);
    const char *under = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "scored_under"));
    cr_expect(under && strstr(under, name) == under && strstr(under, "chosen by auto on the reference"), "%s",
              under);
    cr_expect_not_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "features"), 0),
                                           "delta_at_model_thresholds"));
    /* each candidate: the rule alone on its own validation probabilities */
    sc.decision = name;
    double ref, pl;
    cr_assert_eq(reel_score_fold(&sc, params, NULL, 0, 1, NULL, &ref, &pl, &err), 0, "%s", err.msg);
    cr_expect_eq(r.reference, ref, "reference %.17g, under %s alone %.17g", r.reference, name, ref);
    for (size_t g = 0; g < r.n; g++) {
        uint8_t mask[8];
        for (size_t j = 0; j < p.d; j++)
            mask[j] = strcmp(p.pre.f[j].source, r.f[g].name) != 0;
        double v;
        cr_assert_eq(reel_score_fold(&sc, params, mask, 0, 1, NULL, &v, &pl, &err), 0, "%s", err.msg);
        cr_expect_eq(r.f[g].delta, v - ref, "without %s: %.17g, under %s alone %.17g", r.f[g].name, r.f[g].delta,
                     name, v - ref);
    }
    cJSON_Delete(doc);
    reel_test_score_free(&t);
    reel_select_result_free(&r);
    cJSON_Delete(params);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

/* A cross-fitted net (issue 33) trained on its validation part (all its
 * members but one did): search scores it on its out-of-fold probabilities
 * of those rows, not on its own predictions of them. */
Test(search, a_cross_fitted_net_scores_on_its_out_of_fold_rows)
{
    reel_prepared p;
    prepare(&p);
    cJSON *params = cJSON_Parse("{\"members\": \"cross-fit\", \"ensemble\": 3, \"epochs\": 3, \"width\": 8, "
                                "\"lr\": 0.01}");
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, &p, "box", "samples-f1", 0, 9, "cpu", &err), 0, "%s", err.msg);
    double value, plain;
    cr_assert_eq(reel_score_fold(&sc, params, NULL, 0, 1, NULL, &value, &plain, &err), 0, "%s", err.msg);
    /* the same fit by hand: its out-of-fold rows of the validation part, and its own predictions of them */
    reel_model m;
    cr_assert_eq(reel_model_init(&m, "box", params, &err), 0, "%s", err.msg);
    reel_run_opts o = {.seed = 9, .threads = 1, .device = "cpu"};
    reel_fit_ctx c = reel_fit_ctx_for(&p, &m, &p.train, &p.valid, &o);
    cr_assert_eq(reel_model_fit(&m, &c, &err), 0, "%s", err.msg);
    size_t n, nv = p.valid.n, L = p.L;
    const float *oof = reel_model_oof(&m, &n);
    cr_assert(oof && n == p.train.n + nv);
    float *P = malloc(nv * L * sizeof *P);
    uint8_t *pred = malloc(nv * L);
    reel_metrics met;
    cr_assert_eq(reel_score_probs(&m, oof + p.train.n * L, p.valid.Y, nv, pred, &met, &err), 0, "%s", err.msg);
    cr_expect_eq(plain, met.samples_f1, "scored %.17g, out-of-fold %.17g", plain, met.samples_f1);
    reel_metrics_free(&met);
    cr_assert_eq(reel_model_predict_proba(&m, reel_part_X(&p.valid, &m), nv, P, &err), 0, "%s", err.msg);
    cr_expect_neq(memcmp(P, oof + p.train.n * L, nv * L * sizeof *P), 0,
                  "the members' mean predicts the validation rows as their out-of-fold probabilities");
    free(P);
    free(pred);
    reel_model_free(&m);
    cJSON_Delete(params);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}
