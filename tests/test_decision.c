/* Decision rules (eval/decision.h): tuned thresholds against scikit-learn
 * (fixtures/thresholds.json, tests/fixtures/make_thresholds.py), expected-F1
 * against brute force over every label subset, auto, at-least-one,
 * calibration, parsing and the JSON round trip. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "eval/decision.h"
#include "eval/metrics.h"
#include "eval/thresholds.h"
#include "util/fileio.h"
#include "util/rng.h"

Test(thresholds, per_label_finds_the_best_cut)
{
    /* Label 0: positives have P 0.3 and 0.35, negatives 0.1, 0.2, 0.4 -> best
     * F1 predicts P >= 0.3 (tp 2, fp 1: F1 0.8) so the cut is between 0.2 and 0.3.
     * Label 1: all negative -> predict nothing: threshold at the maximum. */
    const float P[] = {0.1f, 0.9f, 0.2f, 0.1f, 0.3f, 0.2f, 0.35f, 0.3f, 0.4f, 0.4f};
    const uint8_t Y[] = {0, 0, 0, 0, 1, 0, 1, 0, 0, 0};
    float t[2];
    cr_assert_eq(reel_tune_thresholds_per_label(P, Y, 5, 2, t), 0);
    cr_expect_float_eq(t[0], 0.25f, 1e-6);
    cr_expect_float_eq(t[1], 0.9f, 1e-6);
    uint8_t pred[10];
    reel_threshold(P, t, 5, 2, pred);
    reel_metrics m;
    reel_metrics_compute(&m, Y, pred, 5, 2);
    cr_expect_float_eq(m.label_f1[0], 0.8, 1e-12);
    cr_expect_eq(pred[1], 0, "P == threshold is not predicted");
    reel_metrics_free(&m);
}

Test(thresholds, global_improves_samples_f1)
{
    const float P[] = {0.3f, 0.1f, 0.2f, 0.35f, 0.05f, 0.25f};
    const uint8_t Y[] = {1, 0, 0, 1, 0, 1};
    float t;
    cr_assert_eq(reel_tune_threshold_global(P, Y, 3, 2, &t), 0);
    cr_expect(t > 0.2f && t < 0.25f, "t = %g", t);
}

/* ---- thresholds against scikit-learn (fixtures/thresholds.json) ---- */

Test(thresholds, match_scikit_learn)
{
    char *text = reel_read_file(test_fixture("thresholds.json"), NULL, NULL);
    cr_assert_not_null(text, "tests/fixtures/thresholds.json missing (tests/fixtures/make_thresholds.py)");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *cases = cJSON_GetObjectItem(doc, "cases");
    cr_assert_geq(cJSON_GetArraySize(cases), 5);
    int ci = 0;
    for (const cJSON *c = cases->child; c; c = c->next, ci++) {
        size_t n = (size_t)cJSON_GetObjectItem(c, "n")->valueint, L = (size_t)cJSON_GetObjectItem(c, "L")->valueint;
        float *P = malloc(n * L * sizeof *P), *t = malloc(L * sizeof *t);
        uint8_t *Y = malloc(n * L), *pred = malloc(n * L);
        for (size_t i = 0; i < n * L; i++) {
            P[i] = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "p"), (int)i)->valuedouble;
            Y[i] = (uint8_t)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "y"), (int)i)->valueint;
        }
        cr_assert_eq(reel_tune_thresholds_per_label(P, Y, n, L, t), 0);
        reel_threshold(P, t, n, L, pred);
        reel_metrics m;
        reel_metrics_compute(&m, Y, pred, n, L);
        for (size_t k = 0; k < L; k++) {
            double want = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "per_label_best_f1"), (int)k)->valuedouble;
            cr_expect_float_eq(m.label_f1[k], want, 1e-12, "case %d label %zu: F1 %.15g, scikit-learn's best %.15g",
                               ci, k, m.label_f1[k], want);
        }
        reel_metrics_free(&m);
        float g;
        cr_assert_eq(reel_tune_threshold_global(P, Y, n, L, &g), 0);
        cr_expect_eq(g, (float)cJSON_GetObjectItem(c, "global_t")->valuedouble, "case %d: global t %.9g", ci,
                     (double)g);
        for (size_t k = 0; k < L; k++)
            t[k] = g;
        reel_threshold(P, t, n, L, pred);
        reel_metrics_compute(&m, Y, pred, n, L);
        cr_expect_float_eq(m.samples_f1, cJSON_GetObjectItem(c, "global_samples_f1")->valuedouble, 1e-12,
                           "case %d", ci);
        reel_metrics_free(&m);
        free(P);
        free(t);
        free(Y);
        free(pred);
    }
    cJSON_Delete(doc);
}

/* The global cut as it was chosen before the one-pass count: every
 * candidate's predictions scored by reel_metrics_compute. */
static float global_by_metrics(const float *P, const uint8_t *Y, size_t n, size_t L)
{
    uint8_t *pred = malloc(n * L);
    float best_t = 0.5f, *tl = malloc(L * sizeof *tl);
    double best = -1;
    cr_assert(pred && tl);
    for (int c = 0; c <= 200; c++) {
        float t = c == 200 ? 0.5f : (float)(c + 1) / 201.0f;
        for (size_t k = 0; k < L; k++)
            tl[k] = t;
        reel_threshold(P, tl, n, L, pred);
        reel_metrics m;
        cr_assert_eq(reel_metrics_compute(&m, Y, pred, n, L), 0);
        if (m.samples_f1 > best) {
            best = m.samples_f1;
            best_t = t;
        }
        reel_metrics_free(&m);
    }
    free(pred);
    free(tl);
    return best_t;
}

Test(thresholds, global_cut_is_the_one_scoring_every_candidate_picks)
{
    reel_rng g;
    reel_rng_seed(&g, 71);
    const size_t Ls[] = {1, 3, 7, 50};
    for (int trial = 0; trial < 60; trial++) {
        size_t L = Ls[trial % 4], n = 1 + (size_t)(reel_rng_uniform(&g) * 300);
        float *P = malloc(n * L * sizeof *P);
        uint8_t *Y = malloc(n * L);
        cr_assert(P && Y);
        double base = 0.1 + 0.5 * reel_rng_uniform(&g);
        for (size_t c = 0; c < n * L; c++) {
            Y[c] = reel_rng_uniform(&g) < 0.3;
            double u = reel_rng_uniform(&g);
            /* on and around the candidates (k/201, 0.5), exact 0 and 1, and spread */
            P[c] = trial % 3 == 0 ? (float)((int)(u * 202) / 201.0)
                   : trial % 3 == 1 ? (float)(Y[c] ? base + 0.4 * u : base * u)
                                    : (u < 0.1 ? 0.5f : u < 0.2 ? (float)(u > 0.15) : (float)u);
        }
        float g;
        cr_assert_eq(reel_tune_threshold_global(P, Y, n, L, &g), 0);
        cr_expect_eq(g, global_by_metrics(P, Y, n, L),
                     "trial %d (n %zu, L %zu)", trial, n, L);
        free(P);
        free(Y);
    }
}

/* Per-label cuts as chosen before the radix sort: qsort by value. */
typedef struct {
    float p;
    uint8_t y;
} cut_row;

static int cut_desc(const void *a, const void *b)
{
    float x = ((const cut_row *)a)->p, y = ((const cut_row *)b)->p;
    return (x < y) - (x > y);
}

static float per_label_by_qsort(const float *P, const uint8_t *Y, size_t n, size_t L, size_t k)
{
    cut_row *s = malloc(n * sizeof *s);
    size_t pos = 0, best_j = 0, tp = 0;
    for (size_t i = 0; i < n; i++) {
        s[i] = (cut_row){P[i * L + k], Y[i * L + k]};
        pos += s[i].y;
    }
    qsort(s, n, sizeof *s, cut_desc);
    double best = -1;
    for (size_t j = 0; j <= n; j++) {
        if (j > 0)
            tp += s[j - 1].y;
        if (j > 0 && j < n && s[j].p == s[j - 1].p)
            continue;
        double f1 = (pos + j) ? 2.0 * (double)tp / (double)(pos + j) : 0.0;
        if (f1 > best) {
            best = f1;
            best_j = j;
        }
    }
    float t = best_j == 0   ? s[0].p
              : best_j == n ? (s[n - 1].p > 0 ? s[n - 1].p * 0.5f : s[n - 1].p - 1e-6f)
                            : 0.5f * (s[best_j - 1].p + s[best_j].p);
    free(s);
    return t;
}

Test(thresholds, per_label_cuts_are_the_ones_a_sort_by_value_gives)
{
    reel_rng g;
    reel_rng_seed(&g, 72);
    for (int trial = 0; trial < 80; trial++) {
        size_t L = 1 + (size_t)(trial % 5), n = 1 + (size_t)(reel_rng_uniform(&g) * 400);
        float *P = malloc(n * L * sizeof *P), *t = malloc(L * sizeof *t);
        uint8_t *Y = malloc(n * L);
        for (size_t c = 0; c < n * L; c++) {
            double u = reel_rng_uniform(&g);
            Y[c] = reel_rng_uniform(&g) < 0.3;
            /* ties, exact 0 and 1, negative zero, and values spread over every byte of the bits */
            P[c] = trial % 4 == 0 ? (float)((int)(u * 8) / 8.0)
                   : trial % 4 == 1 ? (u < 0.1 ? -0.0f : u < 0.2 ? 1.0f : (float)u)
                   : trial % 4 == 2 ? (float)(u * u * u * u * u * u)
                                    : (float)(Y[c] ? 0.3 + 0.7 * u : 0.6 * u);
        }
        cr_assert_eq(reel_tune_thresholds_per_label(P, Y, n, L, t), 0);
        for (size_t k = 0; k < L; k++)
            cr_expect_eq(t[k], per_label_by_qsort(P, Y, n, L, k), "trial %d label %zu (n %zu)", trial, k, n);
        free(P);
        free(t);
        free(Y);
    }
}

/* ---- expected F1 against brute force ---- */

/* E[F1(S)] over every truth T, labels independent with probabilities q. */
static double brute_expected_f1(const double *q, size_t L, unsigned S)
{
    double e = 0;
    for (unsigned T = 0; T < (1u << L); T++) {
        double pt = 1;
        for (size_t k = 0; k < L; k++)
            pt *= (T >> k & 1) ? q[k] : 1 - q[k];
        int tp = __builtin_popcount(S & T), ns = __builtin_popcount(S), nt = __builtin_popcount(T);
        e += ns + nt ? pt * 2.0 * tp / (ns + nt) : 0; /* an empty row against an empty truth scores 0 */
    }
    return e;
}

Test(expected_f1, is_the_best_subset_by_brute_force)
{
    reel_rng g;
    reel_rng_seed(&g, 5);
    double work[11 * 11 + 11];
    size_t order[10];
    for (int trial = 0; trial < 400; trial++) {
        size_t L = 1 + (size_t)(trial % 10);
        float q[10];
        double qd[10];
        for (size_t k = 0; k < L; k++) {
            double u = reel_rng_uniform(&g);
            /* mix of spread, skewed and tied probabilities */
            q[k] = trial % 3 == 0 ? (float)(u * u * u) : trial % 3 == 1 ? (float)u : (float)((int)(u * 4) / 4.0);
            qd[k] = q[k];
        }
        for (size_t min_k = 0; min_k <= 1; min_k++) {
            uint8_t pred[10];
            double got = reel_expected_f1_row(q, L, min_k, pred, work, order);
            unsigned S = 0;
            for (size_t k = 0; k < L; k++)
                S |= (unsigned)pred[k] << k;
            double best = 0;
            for (unsigned s = 0; s < (1u << L); s++)
                if (!(min_k && s == 0)) {
                    double e = brute_expected_f1(qd, L, s);
                    best = e > best ? e : best;
                }
            cr_expect_float_eq(got, brute_expected_f1(qd, L, S), 1e-9, "trial %d: reported E[F1] is not the set's",
                               trial);
            cr_expect(got >= best - 1e-9, "trial %d (L %zu, min_k %zu): E[F1] %.12g < brute force best %.12g",
                      trial, L, min_k, got, best);
            cr_expect(!min_k || S, "at least one label");
        }
    }
}

Test(expected_f1, predicts_nothing_only_when_every_probability_is_zero)
{
    double work[4 * 4 + 4];
    size_t order[3];
    uint8_t pred[3];
    const float z[3] = {0, 0, 0}, low[3] = {0.01f, 0.02f, 0.001f};
    cr_expect_eq(reel_expected_f1_row(z, 3, 0, pred, work, order), 0.0);
    cr_expect_eq(pred[0] + pred[1] + pred[2], 0);
    reel_expected_f1_row(low, 3, 0, pred, work, order);
    cr_expect_eq(pred[1], 1, "an empty row scores 0, so the likeliest label is worth predicting");
}

/* The O(L^3) rule that expected-f1 used before the O(L^2) one: both
 * counts summed out for every k. Kept as the oracle for same decisions. */
static size_t cubic_expected_f1_k(const float *q, size_t L, size_t min_k, size_t *order)
{
    for (size_t k = 0; k < L; k++) {
        size_t j = k;
        while (j > 0 && q[order[j - 1]] < q[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    size_t W = L + 1;
    double *B = calloc(W * W, sizeof *B), *A = calloc(W, sizeof *A);
    cr_assert(B && A);
    B[L * W] = 1.0;
    for (size_t k = L; k-- > 0;) {
        double p = q[order[k]];
        for (size_t b = 0; b <= L - k; b++)
            B[k * W + b] = (b <= L - k - 1 ? B[(k + 1) * W + b] * (1 - p) : 0) +
                           (b > 0 ? B[(k + 1) * W + b - 1] * p : 0);
    }
    A[0] = 1.0;
    double best = 0.0;
    size_t best_k = 0;
    for (size_t k = 1; k <= L; k++) {
        double p = q[order[k - 1]], e = 0.0;
        for (size_t a = k; a > 0; a--)
            A[a] = A[a] * (1 - p) + A[a - 1] * p;
        A[0] *= 1 - p;
        for (size_t a = 1; a <= k; a++) {
            double s = 0.0;
            for (size_t b = 0; b <= L - k; b++)
                s += B[k * W + b] / (double)(k + a + b);
            e += A[a] * 2.0 * (double)a * s;
        }
        if (e > best || (k <= min_k && best_k < min_k)) {
            best = e;
            best_k = k;
        }
    }
    free(A);
    free(B);
    return best_k;
}

/* Rows like a model's output at L labels: a few likely labels among many
 * unlikely ones, spread, skewed and coarsely rounded probabilities. */
static void model_like_row(reel_rng *g, float *q, size_t L, int style)
{
    double rate = 1.5 + 3.0 * reel_rng_uniform(g);
    for (size_t k = 0; k < L; k++) {
        double u = reel_rng_uniform(g), v;
        if (style == 0) /* mostly low, some high */
            v = reel_rng_uniform(g) < rate / (double)L ? 0.4 + 0.6 * u : 0.2 * u * u;
        else if (style == 1)
            v = u;
        else if (style == 2)
            v = u * u * u;
        else /* two decimals, as a rounded score: many exact ties */
            v = (double)(int)(u * u * 100) / 100.0;
        q[k] = (float)v;
    }
}

Test(expected_f1, decides_as_the_cubic_rule_on_7_50_and_200_labels)
{
    const size_t sizes[][2] = {{7, 20000}, {50, 4000}, {200, 120}};
    reel_rng g;
    reel_rng_seed(&g, 37);
    for (size_t s = 0; s < 3; s++) {
        size_t L = sizes[s][0], rows = sizes[s][1], W = L + 1, differ = 0;
        double *work = malloc((W * W + W) * sizeof *work);
        size_t *order = malloc(L * sizeof *order), *order2 = malloc(L * sizeof *order2);
        float *q = malloc(L * sizeof *q);
        uint8_t *pred = malloc(L);
        cr_assert(work && order && order2 && q && pred);
        for (size_t i = 0; i < rows; i++) {
            model_like_row(&g, q, L, (int)(i % 4));
            for (size_t min_k = 0; min_k <= 1; min_k++) {
                reel_expected_f1_row(q, L, min_k, pred, work, order);
                size_t want = cubic_expected_f1_k(q, L, min_k, order2), got = 0;
                for (size_t k = 0; k < L; k++)
                    got += pred[k];
                /* same count, and the same labels: the top `want` by rank */
                int same = got == want;
                for (size_t k = 0; same && k < want; k++)
                    same = pred[order2[k]] == 1;
                differ += !same;
            }
        }
        cr_expect_eq(differ, 0, "%zu labels: %zu of %zu rows decided differently", L, differ, 2 * rows);
        free(work);
        free(order);
        free(order2);
        free(q);
        free(pred);
    }
}

/* ---- rules ---- */

Test(decision, at_least_one_fills_empty_rows_with_the_likeliest_label)
{
    const float P[] = {0.1f, 0.3f, 0.2f, 0.9f, 0.1f, 0.6f};
    float t[3] = {0.5f, 0.5f, 0.5f};
    reel_decision r;
    reel_error err;
    cr_assert_eq(reel_decision_parse(&r, "threshold+at-least-one", 3, t, &err), 0, "%s", err.msg);
    uint8_t pred[6];
    cr_assert_eq(reel_decision_apply(&r, P, 2, pred), 0);
    const uint8_t want[] = {0, 1, 0, 1, 0, 1};
    cr_expect_arr_eq(pred, want, 6);
    reel_decision_free(&r);
    cr_assert_eq(reel_decision_parse(&r, "threshold:0.05", 3, t, &err), 0, "%s", err.msg);
    cr_expect_eq(r.threshold[2], 0.05f);
    reel_decision_free(&r);
}

Test(decision, bad_rules_are_named)
{
    reel_error err;
    const char *bad[][2] = {{"thresold", "unknown decision rule 'thresold'"},
                            {"threshold:1.5", "in [0, 1]"},
                            {"tuned-global+calibrated", "unknown modifier 'calibrated'"},
                            {"expected-f1+often", "unknown modifier 'often'"},
                            {"", "empty"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_neq(reel_decision_check_spec(bad[i][0], &err), 0, "%s accepted", bad[i][0]);
        cr_expect(strstr(err.msg, bad[i][1]), "'%s': message '%s' lacks '%s'", bad[i][0], err.msg, bad[i][1]);
    }
    cr_expect_eq(reel_decision_check_spec("auto", &err), 0);
    cr_expect_eq(reel_decision_check_spec("expected-f1+calibrated+at-least-one", &err), 0);
    /* tuned rules need validation rows */
    reel_decision r;
    float t[2] = {0.5f, 0.5f};
    cr_expect_neq(reel_decision_choose(&r, "tuned-per-label", NULL, NULL, 0, 2, t, 1, &err), 0);
    cr_expect(strstr(err.msg, "validation rows"), "%s", err.msg);
}

/* Validation data where a low cut is right: rare-ish labels scored low. */
static void skewed(size_t n, size_t L, float *P, uint8_t *Y, uint64_t seed)
{
    reel_rng g;
    reel_rng_seed(&g, seed);
    for (size_t i = 0; i < n * L; i++) {
        Y[i] = reel_rng_uniform(&g) < 0.25;
        P[i] = (float)(0.05 + 0.3 * Y[i] + 0.2 * reel_rng_uniform(&g));
    }
}

Test(decision, auto_picks_a_rule_that_beats_the_fixed_cut_and_round_trips)
{
    size_t n = 400, L = 4;
    float *P = malloc(n * L * sizeof *P), t[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    uint8_t *Y = malloc(n * L), *pred = malloc(n * L), *pred2 = malloc(n * L);
    skewed(n, L, P, Y, 9);
    reel_decision r, back;
    reel_error err;
    cr_assert_eq(reel_decision_choose(&r, "auto", P, Y, n, L, t, 3, &err), 0, "%s", err.msg);
    cr_expect_eq(r.n_tried, 8);
    char name[64];
    reel_decision_name(&r, name, sizeof name);
    cr_expect(strncmp(name, "threshold", 9) != 0, "auto kept the 0.5 cut (%s) on data it fails", name);
    /* the chosen rule's cross-fitted score is the best tried */
    double chosen = -1, best = -1;
    for (size_t c = 0; c < r.n_tried; c++) {
        best = r.tried_score[c] > best ? r.tried_score[c] : best;
        if (strcmp(r.tried_name[c], name) == 0)
            chosen = r.tried_score[c];
    }
    cr_expect_eq(chosen, best, "%s scored %g, best %g", name, chosen, best);
    /* same seed, same choice; JSON round trip decides identically */
    reel_decision again;
    cr_assert_eq(reel_decision_choose(&again, "auto", P, Y, n, L, t, 3, &err), 0);
    cr_expect_str_eq(reel_decision_name(&again, name, sizeof name), reel_decision_name(&r, name + 32, 32));
    cJSON *j = reel_decision_to_json(&r);
    cr_assert_eq(reel_decision_from_json(&back, j, L, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_decision_apply(&r, P, n, pred), 0);
    cr_assert_eq(reel_decision_apply(&back, P, n, pred2), 0);
    cr_expect_arr_eq(pred, pred2, n * L);
    /* what auto tried comes back too (compare over MPI ranks sends it so) */
    cr_assert_eq(back.n_tried, r.n_tried);
    for (size_t c = 0; c < r.n_tried; c++) {
        cr_expect_str_eq(back.tried_name[c], r.tried_name[c]);
        cr_expect_eq(back.tried_score[c], r.tried_score[c], "%s", r.tried_name[c]);
    }
    reel_decision_free(&back);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "auto_valid_samples_f1"), "tuned-global", cJSON_CreateNumber(1.5));
    cr_expect_eq(reel_decision_from_json(&back, j, L, &err), -1);
    cr_expect(strstr(err.msg, "auto_valid_samples_f1.tuned-global") != NULL, "%s", err.msg);
    cJSON_Delete(j);
    reel_decision_free(&r);
    reel_decision_free(&back);
    reel_decision_free(&again);
    free(P);
    free(Y);
    free(pred);
    free(pred2);
}

/* auto's cross-fitted scores as it took them before its fits shared work
 * (issue 37 item 4): each candidate chosen by name on its in-fold rows
 * alone (its own sort, logits and Platt start), applied to the fold. */
static void auto_by_refitting(const reel_decision *r, const float *P, const uint8_t *Y, size_t n, size_t L,
                              const float *t, uint64_t seed, double *score)
{
    size_t *perm = malloc(n * sizeof *perm);
    float *Pi = malloc(n * L * sizeof *Pi), *Po = malloc(n * L * sizeof *Po);
    uint8_t *Yi = malloc(n * L), *Yo = malloc(n * L), *pred = malloc(n * L);
    reel_rng g;
    reel_rng_seed_stream(&g, seed, 0x646563u); /* auto's shuffle ("dec") */
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    reel_rng_shuffle(&g, perm, n);
    for (size_t c = 0; c < r->n_tried; c++)
        score[c] = 0;
    for (size_t f = 0; f < 5; f++) {
        size_t ni = 0, no = 0;
        for (size_t j = 0; j < n; j++) {
            int out = j % 5 == f;
            memcpy((out ? Po : Pi) + (out ? no : ni) * L, P + perm[j] * L, L * sizeof *P);
            memcpy((out ? Yo : Yi) + (out ? no++ : ni++) * L, Y + perm[j] * L, L);
        }
        for (size_t c = 0; c < r->n_tried; c++) {
            reel_decision cand;
            reel_error err;
            cr_assert_eq(reel_decision_choose(&cand, r->tried_name[c], Pi, Yi, ni, L, t, seed, &err), 0, "%s",
                         err.msg);
            cr_assert_eq(reel_decision_apply(&cand, Po, no, pred), 0);
            reel_metrics m;
            cr_assert_eq(reel_metrics_compute(&m, Yo, pred, no, L), 0);
            score[c] += m.samples_f1 * (double)no;
            reel_metrics_free(&m);
            reel_decision_free(&cand);
        }
    }
    for (size_t c = 0; c < r->n_tried; c++)
        score[c] /= (double)n;
    free(perm);
    free(Pi);
    free(Po);
    free(Yi);
    free(Yo);
    free(pred);
}

Test(decision, auto_scores_every_candidate_as_refitting_it_alone)
{
    reel_rng g;
    reel_rng_seed(&g, 37);
    for (int trial = 0; trial < 24; trial++) {
        size_t L = 1 + (size_t)(trial % 7), n = 10 + (size_t)(reel_rng_uniform(&g) * 300);
        float *P = malloc(n * L * sizeof *P), t[7] = {0.5f, 0.4f, 0.6f, 0.5f, 0.3f, 0.5f, 0.7f};
        uint8_t *Y = malloc(n * L);
        skewed(n, L, P, Y, 100 + (uint64_t)trial);
        for (size_t c = 0; trial % 3 == 1 && c < n * L; c++) /* ties, exact 0 and 1 */
            P[c] = P[c] < 0.1f ? 0.0f : P[c] > 0.5f ? 1.0f : (float)((int)(P[c] * 16) / 16.0);
        reel_decision r;
        reel_error err;
        cr_assert_eq(reel_decision_choose(&r, "auto", P, Y, n, L, t, (uint64_t)trial, &err), 0, "%s", err.msg);
        cr_assert_eq(r.n_tried, 8);
        double want[12];
        auto_by_refitting(&r, P, Y, n, L, t, (uint64_t)trial, want);
        size_t best = 0;
        for (size_t c = 0; c < r.n_tried; c++) {
            cr_expect_eq(r.tried_score[c], want[c], "trial %d (n %zu, L %zu) %s: %.17g, refitted %.17g", trial,
                         n, L, r.tried_name[c], r.tried_score[c], want[c]);
            best = want[c] > want[best] ? c : best;
        }
        /* the rule chosen is the refit's best, fitted on every row */
        reel_decision alone;
        cr_assert_eq(reel_decision_choose(&alone, r.tried_name[best], P, Y, n, L, t, (uint64_t)trial, &err), 0);
        char a[64], b[64];
        cr_expect_str_eq(reel_decision_name(&r, a, sizeof a), reel_decision_name(&alone, b, sizeof b));
        cr_expect_arr_eq(r.threshold, alone.threshold, L * sizeof *r.threshold);
        if (alone.calibrated)
            cr_expect_arr_eq(r.platt, alone.platt, 2 * L * sizeof *r.platt);
        reel_decision_free(&alone);
        reel_decision_free(&r);
        free(P);
        free(Y);
    }
}

Test(decision, auto_without_validation_rows_keeps_the_models_cut)
{
    float t[2] = {0.3f, 0.7f};
    reel_decision r;
    reel_error err;
    cr_assert_eq(reel_decision_choose(&r, "auto", NULL, NULL, 0, 2, t, 1, &err), 0, "%s", err.msg);
    cr_expect_eq(r.kind, REEL_RULE_THRESHOLD);
    cr_expect_eq(r.threshold[1], 0.7f);
    reel_decision_free(&r);
}

Test(decision, every_calibrated_label_gets_a_finite_fit)
{
    size_t n = 300, L = 3;
    float *P = malloc(n * L * sizeof *P);
    uint8_t *Y = malloc(n * L);
    skewed(n, L, P, Y, 4);
    for (size_t i = 0; i < n; i++) /* label 2: never positive, label 1: separable */
        Y[i * L + 2] = 0, P[i * L + 1] = Y[i * L + 1] ? 0.9f : 0.1f;
    reel_decision r;
    reel_error err;
    cr_assert_eq(reel_decision_choose(&r, "expected-f1+calibrated", P, Y, n, L, NULL, 1, &err), 0, "%s", err.msg);
    for (size_t k = 0; k < 2 * L; k++)
        cr_expect(isfinite(r.platt[k]), "platt[%zu] = %g", k, r.platt[k]);
    /* the fit is stationary: log-loss gradient ~0 (Platt's targets) */
    double a = r.platt[0], b = r.platt[1], g0 = 0, g1 = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += Y[i * L];
    for (size_t i = 0; i < n; i++) {
        double x = log(P[i * L] / (1.0 - P[i * L])), s = 1 / (1 + exp(-(a * x + b)));
        double tgt = Y[i * L] ? (pos + 1.0) / (pos + 2.0) : 1.0 / (n - pos + 2.0);
        g0 += (s - tgt) * x;
        g1 += s - tgt;
    }
    cr_expect(fabs(g0) < 1e-5 && fabs(g1) < 1e-5, "gradient (%g, %g)", g0, g1);
    reel_decision_free(&r);
    free(P);
    free(Y);
}
