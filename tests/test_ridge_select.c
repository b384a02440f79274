/* Ridge fits that share the normal equations (classical/ridge.h), as
 * select uses them: each fit without some columns against a fit on those
 * columns alone, where the whole system passes the condition check and
 * where it does not; and select's scores and choices with the sharing
 * against each candidate refitted, on the split and on folds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classical/ridge.h"
#include "data/prepared.h"
#include "helpers.h"
#include "tune/select.h"
#include "util/rng.h"

static void coef_of(const reel_model *m, double *coef, double *intercept)
{
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    reel_error err;
    cr_assert_eq(m->kind->save(m->state, &t, meta, &err), 0, "%s", err.msg);
    const reel_tensor *c = reel_tensors_get(&t, "coef", REEL_F64, m->L * m->d, &err);
    const reel_tensor *b = reel_tensors_get(&t, "intercept", REEL_F64, m->L, &err);
    cr_assert(c && b, "%s", err.msg);
    memcpy(coef, c->data, c->nbytes);
    memcpy(intercept, b->data, b->nbytes);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
}

/* Fits with the gram and by a plain fit on the masked columns; the
 * coefficients agree to rounding. */
static void expect_same_fits(const float *X, const uint8_t *Y, size_t n, size_t d, size_t L, const char *ptext,
                             reel_rng *g, int trials)
{
    reel_error err = {{0}};
    cJSON *params = cJSON_Parse(ptext);
    reel_model shared, plain;
    cr_assert_eq(reel_model_init(&shared, "ridge", params, &err), 0, "%s", err.msg);
    reel_fit_ctx c = {.d = d, .L = L, .X = X, .Y = Y, .n = n, .seed = 1, .threads = 1, .device = "cpu",
                      .name = "ridge"};
    reel_ridge_gram *gram;
    cr_assert_eq(reel_ridge_gram_new(shared.params, &c, &gram, &err), 0, "%s", err.msg);
    cr_assert_not_null(gram, "%s: the Cholesky path shares nothing", ptext);
    float *Xm = malloc(n * d * sizeof *Xm);
    uint8_t *mask = malloc(d);
    double *c1 = malloc(d * L * sizeof *c1), *c2 = malloc(d * L * sizeof *c2), b1[8], b2[8];
    for (int t = 0; t < trials; t++) {
        /* a block (a text column's one-hot group), single columns, or none */
        size_t lo = (size_t)(reel_rng_uniform(g) * (double)d), w = 1 + (size_t)(reel_rng_uniform(g) * 4), m = 0;
        for (size_t j = 0; j < d; j++)
            mask[j] = t == 0 || !(j >= lo && j < lo + w) || (t % 3 == 2 && reel_rng_uniform(g) < 0.2);
        for (size_t j = 0; j < d; j++)
            m += mask[j];
        if (m == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0, k = 0; j < d; j++)
                if (mask[j])
                    Xm[i * m + k++] = X[i * d + j];
        void *state = reel_ridge_gram_fit(gram, mask, 1, &err);
        cr_assert_not_null(state, "%s", err.msg);
        cr_assert_eq(reel_model_adopt(&shared, m, L, state, &err), 0, "%s", err.msg);
        reel_fit_ctx cm = c;
        cm.X = Xm;
        cm.d = m;
        cr_assert_eq(reel_model_init(&plain, "ridge", params, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_model_fit(&plain, &cm, &err), 0, "%s", err.msg);
        coef_of(&shared, c1, b1);
        coef_of(&plain, c2, b2);
        double scale = 1;
        for (size_t k = 0; k < m * L; k++)
            scale = fmax(scale, fabs(c2[k]));
        for (size_t k = 0; k < m * L; k++)
            cr_expect(fabs(c1[k] - c2[k]) <= 1e-9 * scale, "%s trial %d: coef %zu %.15g, refit %.15g", ptext, t, k,
                      c1[k], c2[k]);
        for (size_t l = 0; l < L; l++)
            cr_expect(fabs(b1[l] - b2[l]) <= 1e-9 * (scale + fabs(b2[l])), "%s trial %d: intercept %zu", ptext, t,
                      l);
        reel_model_free(&plain);
    }
    reel_ridge_gram_free(gram);
    reel_model_free(&shared);
    cJSON_Delete(params);
    free(Xm);
    free(mask);
    free(c1);
    free(c2);
}

Test(ridge_gram, fits_without_columns_match_fits_on_the_rest)
{
    size_t n = 300, d = 24, L = 3;
    float *X = malloc(n * d * sizeof *X);
    uint8_t *Y = malloc(n * L);
    reel_rng g;
    reel_rng_seed(&g, 37);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) /* correlated columns: the factor's rotations matter */
            X[i * d + j] = (float)(reel_rng_uniform(&g) + (j ? 0.5 * X[i * d + j - 1] : 0.0));
        for (size_t l = 0; l < L; l++)
            Y[i * L + l] = X[i * d + l] + X[i * d + 5 + l] > 1.2f + 0.3f * (float)reel_rng_uniform(&g);
    }
    expect_same_fits(X, Y, n, d, L, "{\"alpha\": 10}", &g, 40);
    expect_same_fits(X, Y, n, d, L, "{\"alpha\": 0.001, \"fit_intercept\": false}", &g, 40);
    /* a duplicated column and alpha 0: the whole system fails the check, so
     * every fit factors its own (Cholesky without the duplicate, else the SVD) */
    for (size_t i = 0; i < n; i++)
        X[i * d + 7] = X[i * d + 3];
    expect_same_fits(X, Y, n, d, L, "{\"alpha\": 0}", &g, 40);
    free(X);
    free(Y);
}

Test(ridge_gram, other_solvers_share_nothing)
{
    float X[4] = {0, 1, 2, 3};
    uint8_t Y[4] = {0, 0, 1, 1};
    reel_fit_ctx c = {.d = 1, .L = 1, .X = X, .Y = Y, .n = 4, .threads = 1, .device = "cpu", .name = "ridge"};
    const char *ps[] = {"{\"positive\": true}", "{\"solver\": \"svd\"}"};
    for (int i = 0; i < 2; i++) {
        reel_error err;
        reel_model m;
        cJSON *p = cJSON_Parse(ps[i]);
        cr_assert_eq(reel_model_init(&m, "ridge", p, &err), 0, "%s", err.msg);
        reel_ridge_gram *gram = (reel_ridge_gram *)&m;
        cr_expect_eq(reel_ridge_gram_new(m.params, &c, &gram, &err), 0);
        cr_expect_null(gram, "%s shared", ps[i]);
        reel_model_free(&m);
        cJSON_Delete(p);
    }
}

/* 16 numbers (some drive the labels, some are noise, two are copies) and a
 * text column of 5 values (a group of one-hot features). */
static const char *select_csv(void)
{
    static char csv[1 << 17];
    strcpy(csv, "");
    for (int j = 0; j < 16; j++)
        sprintf(csv + strlen(csv), "x%d,", j);
    strcat(csv, "kind,A,B,C\n");
    reel_rng g;
    reel_rng_seed(&g, 11);
    const char *kinds[] = {"p", "q", "r", "s", "t"};
    for (int i = 0; i < 500; i++) {
        double x[16];
        for (int j = 0; j < 16; j++)
            x[j] = reel_rng_uniform(&g);
        x[14] = x[0];
        x[15] = x[1] + 0.01 * reel_rng_uniform(&g);
        int k = (int)(reel_rng_uniform(&g) * 5);
        for (int j = 0; j < 16; j++)
            sprintf(csv + strlen(csv), "%.5f,", x[j]);
        double u = reel_rng_uniform(&g);
        sprintf(csv + strlen(csv), "%s,%d,%d,%d\n", kinds[k], x[0] + 0.3 * u > 0.6, x[2] + (k == 1) * 0.5 > 0.8,
                x[3] + x[4] + 0.2 * u > 1.1 || (x[0] + 0.3 * u <= 0.6 && x[2] + (k == 1) * 0.5 <= 0.8));
    }
    return tmp_write("select.csv", csv);
}

/* The metric of params on mask over the folds, each fold refitted
 * (reel_score_fold without sharing) and scored under rule[f] fitted alone
 * (as --decision rule[f] scores). */
static double refit_under(reel_scorer *sc, const cJSON *params, const uint8_t *mask, const reel_rule_name *rule)
{
    int k = reel_scorer_folds(sc);
    double s = 0;
    const char *was = sc->decision;
    for (int f = 0; f < k; f++) {
        double v, pl;
        reel_error err;
        sc->decision = rule[f];
        cr_assert_eq(reel_score_fold(sc, params, mask, f, 1, NULL, &v, &pl, &err), 0, "%s", err.msg);
        s += v / k;
    }
    sc->decision = was;
    return s;
}

/* select with the shared fits against every candidate scored by a refit
 * (reel_score_fold without sharing): the same scores and the same picks;
 * each reference's rules are auto's choice on its folds, and every score
 * is that rule fitted alone on the set's fold probabilities. */
static void expect_same_selection(int folds, const char *method)
{
    reel_prepared p;
    reel_prepare_opts o = {0};
    o.data.data = select_csv();
    o.data.labels = "A,B,C";
    o.split = (reel_split_opts){.seed = 3, .test_fraction = 0.2, .valid_fraction = 0.25};
    o.top_k = 10;
    reel_error err;
    cr_assert_eq(reel_prepare(&p, &o, &err), 0, "%s", err.msg);
    reel_scorer sc;
    cr_assert_eq(reel_scorer_init(&sc, &p, "ridge", "samples-f1", folds, 5, "cpu", &err), 0, "%s", err.msg);
    cJSON *params = cJSON_Parse("{\"alpha\": 1}");
    reel_select_result r;
    cr_assert_eq(reel_select(&sc, params, method, 1, NULL, &r, &err), 0, "%s", err.msg);
    cr_expect_null(sc.gram, "select keeps the shared fits after it returns");
    cr_assert_gt(r.n, 16, "the text column is one group");
    /* the refits, group by group, from the same starting set */
    size_t d = p.d;
    uint8_t *mask = malloc(d);
    int k = folds ? folds : 1;
    cr_assert_geq(r.n_refs, 2, "every feature, then the kept set");
    cr_expect_str_eq(r.refs[0].what, "every feature");
    for (int f = 0; f < k; f++) { /* auto's choice on the fold, as a refit makes it */
        reel_fold_rule how = {.choose = 1};
        double v, pl;
        cr_assert_eq(reel_score_fold(&sc, params, NULL, f, 1, &how, &v, &pl, &err), 0, "%s", err.msg);
        cr_expect_str_eq(r.refs[0].rule[f], how.chosen, "fold %d", f);
        cr_expect_neq(strcmp(how.chosen, "auto"), 0);
    }
    double ref = refit_under(&sc, params, NULL, r.refs[0].rule);
    cr_expect_float_eq(r.reference, ref, 1e-12, "reference %.15g, refit %.15g", r.reference, ref);
    if (strcmp(method, "single-pass") == 0) {
        for (size_t gi = 0; gi < r.n; gi++) {
            for (size_t j = 0; j < d; j++)
                mask[j] = strcmp(p.pre.f[j].source, r.f[gi].name) != 0;
            double s = refit_under(&sc, params, mask, r.refs[0].rule);
            cr_expect_float_eq(r.f[gi].delta, s - ref, 1e-12, "%s: delta %.15g, refit %.15g", r.f[gi].name,
                               r.f[gi].delta, s - ref);
            cr_expect_eq(r.f[gi].dropped || r.f[gi].rejected, s - ref >= 0, "%s: dropped %d, refit delta %g",
                         r.f[gi].name, r.f[gi].dropped, s - ref);
        }
    }
    /* the chosen set's score, refitted, under the rules auto chose on it */
    int rejected = 0;
    for (size_t j = 0; j < d; j++)
        mask[j] = 1;
    for (size_t gi = 0; gi < r.n; gi++) {
        rejected |= r.f[gi].rejected;
        for (size_t j = 0; j < d; j++)
            if (r.f[gi].dropped || r.f[gi].rejected)
                mask[j] &= strcmp(p.pre.f[j].source, r.f[gi].name) != 0;
    }
    double fin = refit_under(&sc, params, mask, r.refs[r.n_refs - 1].rule);
    cr_expect_float_eq(rejected ? r.rejected_score : r.final_score, fin, 1e-12,
                       "%s folds %d: final %.15g, refit %.15g", method, folds, r.final_score, fin);
    cr_expect_float_eq(r.final_score, fin > ref ? fin : ref, 1e-12, "%s folds %d: final %.15g, refit %.15g",
                       method, folds, r.final_score, fin);
    free(mask);
    reel_select_result_free(&r);
    cJSON_Delete(params);
    reel_scorer_free(&sc);
    reel_prepared_free(&p);
}

Test(ridge_gram, select_single_pass_as_refits) { expect_same_selection(0, "single-pass"); }
Test(ridge_gram, select_single_pass_on_folds_as_refits) { expect_same_selection(3, "single-pass"); }
Test(ridge_gram, select_backward_as_refits) { expect_same_selection(0, "backward"); }

/* A binary target has one output: softmax is refused by the shared path
 * as by the plain fit, with the same words. */
Test(ridge_gram, binary_softmax_is_refused_as_by_a_plain_fit)
{
    float X[4] = {0, 1, 2, 3};
    uint8_t Y[4] = {0, 0, 1, 1};
    reel_fit_ctx c = {.d = 1, .L = 1, .X = X, .Y = Y, .n = 4, .threads = 1, .device = "cpu", .name = "ridge",
                      .target = REEL_TARGET_BINARY};
    cJSON *p = cJSON_Parse("{\"output\": \"softmax\"}");
    reel_error err = {{0}}, plain = {{0}};
    reel_model m;
    cr_assert_eq(reel_model_init(&m, "ridge", p, &err), 0, "%s", err.msg);
    cr_expect_null(m.kind->fit(m.params, &c, &plain));
    reel_ridge_gram *gram = NULL;
    cr_expect_eq(reel_ridge_gram_new(m.params, &c, &gram, &err), -1);
    cr_expect_null(gram);
    cr_expect_str_eq(err.msg, plain.msg);
    cr_expect(strstr(err.msg, "softmax") != NULL, "%s", err.msg);
    reel_model_free(&m);
    cJSON_Delete(p);
}
