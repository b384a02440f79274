/* The nets' own input transform (nn/input.h): which columns get the signed
 * log1p, the statistics against hand-computed values, clipping, fitting on
 * the training rows only, the round trip through the model file's JSON
 * (bit-identical predictions) and bad values named. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "nn/input.h"
#include "util/rng.h"

#define LN2 0.69314718055994530942

/* 12 rows, 3 columns:
 *   0: 2^k - 1 for k = 0..8, 10, 12, 16: skewed (65535 dominates), and
 *      log1p turns it into k * ln 2, which is barely skewed;
 *   1: 1..12: continuous, not skewed;
 *   2: 0 except the last row: an indicator. */
static const int K[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16};

static void hand_matrix(float *X)
{
    for (int i = 0; i < 12; i++) {
        X[i * 3 + 0] = (float)(pow(2, K[i]) - 1);
        X[i * 3 + 1] = (float)(i + 1);
        X[i * 3 + 2] = i == 11 ? 1.0f : 0.0f;
    }
}

static void expect_close(double got, double want, const char *what)
{
    cr_expect(fabs(got - want) <= 1e-12 * fabs(want), "%s: %.17g, expected %.17g", what, got, want);
}

Test(nn_input, auto_against_hand_values)
{
    float X[36];
    hand_matrix(X);
    reel_nn_input t;
    reel_error err;
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_AUTO, X, 12, 3, &err), 0, "%s", err.msg);
    cr_expect(t.log[0] && !t.log[1] && !t.log[2], "log flags %d %d %d", t.log[0], t.log[1], t.log[2]);
    cr_expect(t.clip[0] && t.clip[1] && !t.clip[2], "an indicator is never clipped");
    /* column 0 becomes k ln 2: sum k = 74, sum k^2 = 704 */
    expect_close(t.center[0], LN2 * 74 / 12, "center[0]");
    expect_close(t.scale[0], LN2 * sqrt(704.0 / 12 - (74.0 / 12) * (74.0 / 12)), "scale[0]");
    expect_close(t.center[1], 6.5, "center[1]");
    expect_close(t.scale[1], sqrt(143.0 / 12), "scale[1]");
    expect_close(t.center[2], 1.0 / 12, "center[2]");
    expect_close(t.scale[2], sqrt(11.0) / 12, "scale[2]");

    /* New rows: the log is signed, z beyond 5 is clipped. */
    float R[6] = {-3.0f, 100.0f, 1.0f, 1e30f, -1e30f, 0.0f}, Z[6];
    reel_nn_input_apply(&t, R, 2, Z);
    cr_expect_eq(Z[0], (float)((-log1p(3.0) - t.center[0]) / t.scale[0]));
    cr_expect_eq(Z[1], 5.0f, "column 1 at z = 26 is clipped to 5, got %g", Z[1]);
    cr_expect_eq(Z[2], (float)((1 - 1.0 / 12) / (sqrt(11.0) / 12)));
    cr_expect_eq(Z[3], 5.0f);
    cr_expect_eq(Z[4], -5.0f);
    reel_nn_input_free(&t);
}

Test(nn_input, standard_only_standardises)
{
    float X[36], Z[36];
    hand_matrix(X);
    reel_nn_input t;
    reel_error err;
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_STANDARD, X, 12, 3, &err), 0, "%s", err.msg);
    for (int k = 0; k < 3; k++)
        cr_expect(!t.log[k] && !t.clip[k]);
    double mean = 0;
    for (int i = 0; i < 12; i++)
        mean += pow(2, K[i]) - 1;
    mean /= 12;
    expect_close(t.center[0], mean, "center[0]");
    reel_nn_input_apply(&t, X, 12, Z);
    cr_expect_eq(Z[11 * 3], (float)((65535 - mean) / t.scale[0]), "no clip in standard mode");
    cr_expect(Z[11 * 3] > 3, "65535 is far out: z %g", Z[11 * 3]);
    reel_nn_input_free(&t);
}

/* "robust": the median and the interquartile range / 1.349 of a
 * continuous column (numpy's linear quantiles), the smooth clip
 * z / sqrt(1 + (z/3)^2), an indicator standardised; a continuous column
 * whose quartiles meet falls back to its sd. */
Test(nn_input, robust_against_hand_values)
{
    float X[36];
    hand_matrix(X);
    X[0 * 3 + 2] = 0; /* column 2 stays an indicator */
    reel_nn_input t;
    reel_error err;
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_ROBUST, X, 12, 3, &err), 0, "%s", err.msg);
    cr_expect(!t.log[0] && !t.log[1] && !t.log[2], "no log in robust mode");
    cr_expect(t.clip[0] && t.clip[1] && !t.clip[2]);
    cr_expect_eq(t.clip_at, 3.0);
    /* column 1 = 1..12: median 6.5, quartiles at h = 2.75 and 8.25: 3.75 and 9.25 */
    expect_close(t.center[1], 6.5, "median[1]");
    expect_close(t.scale[1], 5.5 / 1.349, "iqr[1] / 1.349");
    /* column 0: 2^k - 1 sorted; median between k = 5 and 6: (31 + 63) / 2;
     * q25 at h = 2.75: 3 + 0.75 * 4 = 6; q75 at h = 8.25: 255 + 0.25 * 768 = 447 */
    expect_close(t.center[0], 47.0, "median[0]");
    expect_close(t.scale[0], 441.0 / 1.349, "iqr[0] / 1.349");
    expect_close(t.center[2], 1.0 / 12, "indicator mean");
    float R[3] = {1e30f, 6.5f + 3 * 5.5f / 1.349f, 1.0f}, Z[3];
    reel_nn_input_apply(&t, R, 1, Z);
    cr_expect(fabs(Z[0] - 3.0f) < 1e-6, "far out: bounded by 3, got %.9g", Z[0]);
    cr_expect(fabs(Z[1] - 3.0 / sqrt(2.0)) < 1e-6, "z = 3 -> 3/sqrt(2), got %.9g", Z[1]);
    cr_expect_eq(Z[2], (float)((1 - 1.0 / 12) / (sqrt(11.0) / 12)));
    expect_close(reel_nn_smooth_clip(-0.5, 3), -0.5 / sqrt(1 + 1.0 / 36), "smooth clip");
    reel_nn_input_free(&t);
    /* quartiles that meet: 0 0 0 0 0 0 0 0 0 0 5 9 -> the population sd */
    float Y[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 9};
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_ROBUST, Y, 12, 1, &err), 0, "%s", err.msg);
    cr_expect_eq(t.center[0], 0.0);
    expect_close(t.scale[0], sqrt(106.0 / 12 - (14.0 / 12) * (14.0 / 12)), "sd fallback");
    reel_nn_input_free(&t);
}

/* A constant column keeps scale 1; zero rows is an error. */
Test(nn_input, constant_column_and_no_rows)
{
    float X[4] = {7, 7, 7, 7}, Z[4];
    reel_nn_input t;
    reel_error err;
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_AUTO, X, 4, 1, &err), 0, "%s", err.msg);
    cr_expect_eq(t.center[0], 7.0);
    cr_expect_eq(t.scale[0], 1.0);
    reel_nn_input_apply(&t, X, 4, Z);
    cr_expect_eq(Z[0], 0.0f);
    reel_nn_input_free(&t);
    cr_expect_neq(reel_nn_input_fit(&t, REEL_INPUT_AUTO, X, 0, 1, &err), 0);
}

/* A heavy-tailed column 0, a plain column 1, a rare indicator 2; the labels
 * follow columns 0 and 1. Validation rows start at n_train. */
typedef struct {
    float *X;
    uint8_t *Y;
    size_t n, d, L;
} data;

static data make_data(size_t n, uint64_t seed)
{
    data t = {malloc(n * 3 * sizeof(float)), malloc(n * 2), n, 3, 2};
    reel_rng rng;
    reel_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        double u = reel_rng_uniform(&rng), v = reel_rng_uniform(&rng);
        t.X[i * 3 + 0] = (float)exp(12 * u * u); /* 1 .. 160000, most rows small */
        t.X[i * 3 + 1] = (float)(10 * v);
        t.X[i * 3 + 2] = reel_rng_uniform(&rng) < 0.01 ? 1.0f : 0.0f;
        t.Y[i * 2 + 0] = u > 0.5;
        t.Y[i * 2 + 1] = v + u > 1;
    }
    return t;
}

static reel_fit_ctx ctx_for(const data *t, size_t n_train)
{
    reel_fit_ctx c = {.d = t->d, .L = t->L, .X = t->X, .Y = t->Y, .n = n_train,
                      .Xv = t->X + n_train * t->d, .Yv = t->Y + n_train * t->L, .nv = t->n - n_train,
                      .seed = 3, .threads = 1, .device = "cpu", .name = "t"};
    return c;
}

/* The saved transform, as the text a model file would hold. */
static char *fit_and_save(const reel_fit_ctx *c, const char *params, reel_model *m, reel_tensors *bag,
                          cJSON **meta)
{
    reel_error err;
    cJSON *p = cJSON_Parse(params);
    cr_assert_eq(reel_model_init(m, "box", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
    *meta = cJSON_CreateObject();
    memset(bag, 0, sizeof *bag);
    cr_assert_eq(m->kind->save(m->state, bag, *meta, &err), 0, "%s", err.msg);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(*meta, "input"));
    cr_assert_not_null(s, "no kind_state.input saved");
    return s;
}

Test(nn_input, fitted_on_training_rows_only)
{
    data t = make_data(600, 1);
    reel_fit_ctx c = ctx_for(&t, 500);
    reel_model m;
    reel_tensors bag;
    cJSON *meta;
    char *first = fit_and_save(&c, "{\"epochs\": 1}", &m, &bag, &meta);
    /* the same transform as fitting on the training rows alone */
    reel_nn_input want;
    reel_error err;
    cr_assert_eq(reel_nn_input_fit(&want, REEL_INPUT_AUTO, t.X, 500, 3, &err), 0);
    cJSON *want_json = reel_nn_input_to_json(&want);
    char *want_text = cJSON_PrintUnformatted(want_json);
    cJSON_Delete(want_json);
    cr_expect_str_eq(first, want_text);
    cr_expect(want.log[0] && !want.log[1] && !want.log[2], "log flags %d %d %d", want.log[0], want.log[1],
              want.log[2]);
    reel_model_free(&m);
    reel_tensors_free(&bag);
    cJSON_Delete(meta);

    /* validation rows a thousand times larger change nothing */
    for (size_t i = 500 * 3; i < 600 * 3; i++)
        t.X[i] *= 1000;
    char *second = fit_and_save(&c, "{\"epochs\": 1}", &m, &bag, &meta);
    cr_expect_str_eq(first, second, "the validation rows moved the transform");
    reel_model_free(&m);
    reel_tensors_free(&bag);
    cJSON_Delete(meta);
    reel_nn_input_free(&want);
    cJSON_free(first);
    cJSON_free(second);
    cJSON_free(want_text);
    free(t.X);
    free(t.Y);
}

/* fit -> save (through JSON text, as in a model file) -> load: the same
 * bits, for rows inside and far outside the training range. */
Test(nn_input, save_load_bit_identical)
{
    data t = make_data(400, 2);
    reel_fit_ctx c = ctx_for(&t, 300);
    t.X[399 * 3] = 1e30f; /* beyond anything seen: clipped */
    t.X[398 * 3] = -5.0f;
    const char *params[] = {"{\"epochs\": 2}", "{\"epochs\": 2, \"input\": \"standard\"}",
                            "{\"epochs\": 2, \"input\": \"robust\"}"};
    for (int mode = 0; mode < 3; mode++) {
        reel_model m;
        reel_tensors bag;
        cJSON *meta;
        char *text = fit_and_save(&c, params[mode], &m, &bag, &meta);
        cJSON *kind_state = cJSON_CreateObject();
        cJSON_AddItemToObject(kind_state, "input", cJSON_Parse(text));
        reel_error err;
        void *loaded = m.kind->load(m.params, 3, 2, 1, &bag, kind_state, &err);
        cr_assert_not_null(loaded, "%s", err.msg);
        float *P = malloc(100 * 2 * sizeof *P), *Q = malloc(100 * 2 * sizeof *Q);
        cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 100, P, &err), 0, "%s", err.msg);
        cr_assert_eq(m.kind->predict_proba(loaded, c.Xv, 100, Q, &err), 0, "%s", err.msg);
        cr_expect_eq(memcmp(P, Q, 200 * sizeof *P), 0, "mode %d: loaded net predicts differently", mode);
        for (size_t i = 0; i < 200; i++)
            cr_expect(isfinite(P[i]) && P[i] >= 0 && P[i] <= 1);
        /* the JSON text holds every double exactly */
        reel_nn_input back;
        cr_assert_eq(reel_nn_input_from_json(&back, cJSON_GetObjectItem(kind_state, "input"), 3, &err), 0);
        cJSON *again = reel_nn_input_to_json(&back);
        char *text2 = cJSON_PrintUnformatted(again);
        cr_expect_str_eq(text, text2);
        cJSON_free(text2);
        cJSON_Delete(again);
        reel_nn_input_free(&back);
        m.kind->free(loaded);
        free(P);
        free(Q);
        cJSON_Delete(kind_state);
        cJSON_free(text);
        reel_model_free(&m);
        reel_tensors_free(&bag);
        cJSON_Delete(meta);
    }
    free(t.X);
    free(t.Y);
}

Test(nn_input, bad_values_are_named)
{
    reel_model m;
    reel_error err;
    const char *bad[] = {"{\"input\": \"log\"}", "{\"input\": 1}", "{\"input\": null}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *p = cJSON_Parse(bad[i]);
        cr_expect_neq(reel_model_init(&m, "u", p, &err), 0, "accepted %s", bad[i]);
        cr_expect(strstr(err.msg, "'input'") != NULL, "message for %s does not name 'input': %s", bad[i], err.msg);
        cJSON_Delete(p);
        reel_model_free(&m);
    }

    /* A saved transform that was tampered with. */
    float X[36];
    hand_matrix(X);
    reel_nn_input t, back;
    cr_assert_eq(reel_nn_input_fit(&t, REEL_INPUT_AUTO, X, 12, 3, &err), 0);
    const char *edits[][3] = {
        {"scale", "[1, -1, 1]", "'scale'[1]"},       {"log", "[1, 2, 0]", "'log'[1]"},
        {"center", "[0, 0]", "'center' must be a list of 3"}, {"clip", "\"yes\"", "'clip'"},
        {"mode", "\"log\"", "'mode'"},                 {"clip_at", "0", "'clip_at'"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        cJSON *j = reel_nn_input_to_json(&t);
        cJSON_ReplaceItemInObject(j, edits[i][0], cJSON_Parse(edits[i][1]));
        cr_expect_neq(reel_nn_input_from_json(&back, j, 3, &err), 0, "accepted %s = %s", edits[i][0], edits[i][1]);
        cr_expect(strstr(err.msg, edits[i][2]) != NULL, "message lacks %s: %s", edits[i][2], err.msg);
        cJSON_Delete(j);
    }
    cr_expect_neq(reel_nn_input_from_json(&back, NULL, 3, &err), 0);
    cr_expect(strstr(err.msg, "kind_state.input"), "%s", err.msg);
    /* for other features: the length is checked */
    cJSON *j = reel_nn_input_to_json(&t);
    cr_expect_neq(reel_nn_input_from_json(&back, j, 4, &err), 0);
    cJSON_Delete(j);
    reel_nn_input_free(&t);
}
