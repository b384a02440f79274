/* Metrics against scikit-learn: the hand-checked case of reference.md and
 * generated cases in fixtures/metrics.json (tests/fixtures/make_metrics.py). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "helpers.h"
#include "eval/metrics.h"
#include "util/fileio.h"

Test(metrics, reference_case)
{
    const uint8_t Y[] = {1, 0, 1, 0, 1, 0, 0, 0, 0};
    const uint8_t P[] = {1, 0, 0, 0, 1, 1, 0, 0, 0};
    reel_metrics m;
    cr_assert_eq(reel_metrics_compute(&m, Y, P, 3, 3), 0);
    cr_expect_float_eq(m.samples_f1, 4.0 / 9.0, 1e-12);
    cr_expect_float_eq(m.micro_f1, 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(m.macro_f1, 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(m.samples_precision, 0.5, 1e-12);
    cr_expect_float_eq(m.hamming_accuracy, 1.0 - 2.0 / 9.0, 1e-12);
    cr_expect_float_eq(m.subset_accuracy, 1.0 / 3.0, 1e-12);
    cr_expect_eq(m.support[0], 1);
    cr_expect_eq(m.support[2], 1);
    reel_metrics_free(&m);
}

Test(metrics, empty_row_scores_zero)
{
    const uint8_t Y[] = {0, 0, 1, 1};
    const uint8_t P[] = {0, 0, 1, 1};
    reel_metrics m;
    reel_metrics_compute(&m, Y, P, 2, 2);
    cr_expect_float_eq(m.samples_f1, 0.5, 1e-12); /* row 0: no true, no predicted -> 0 */
    cr_expect_float_eq(m.micro_f1, 1.0, 1e-12);
    reel_metrics_free(&m);
}

Test(metrics, threshold_ties_go_to_zero)
{
    const float P[] = {0.5f, 0.50001f, 0.2f, 0.9f};
    const float t[] = {0.5f, 0.5f};
    uint8_t pred[4];
    reel_threshold(P, t, 2, 2, pred);
    cr_expect_eq(pred[0], 0);
    cr_expect_eq(pred[1], 1);
    cr_expect_eq(pred[2], 0);
    cr_expect_eq(pred[3], 1);
}

static uint8_t *matrix(const cJSON *rows, size_t *n, size_t *L)
{
    *n = (size_t)cJSON_GetArraySize(rows);
    *L = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    uint8_t *m = malloc(*n * *L);
    size_t i = 0;
    const cJSON *r, *v;
    cJSON_ArrayForEach(r, rows)
    {
        size_t k = 0;
        cJSON_ArrayForEach(v, r) m[i * *L + k++] = (uint8_t)v->valueint;
        i++;
    }
    return m;
}

Test(metrics, agrees_with_scikit_learn_fixtures)
{
    char *text = reel_read_file(test_fixture("metrics.json"), NULL, NULL);
    cr_assert_not_null(text, "fixture missing: run tests/fixtures/make_metrics.py");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    int cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        size_t n, L, n2, L2;
        uint8_t *Y = matrix(cJSON_GetObjectItem(c, "y_true"), &n, &L);
        uint8_t *P = matrix(cJSON_GetObjectItem(c, "y_pred"), &n2, &L2);
        cr_assert_eq(n, n2);
        reel_metrics m;
        reel_metrics_compute(&m, Y, P, n, L);
        const cJSON *want = cJSON_GetObjectItem(c, "expected");
        const struct {
            const char *key;
            double got;
        } checks[] = {
            {"samples_f1", m.samples_f1},       {"samples_precision", m.samples_precision},
            {"samples_recall", m.samples_recall}, {"micro_f1", m.micro_f1},
            {"micro_precision", m.micro_precision}, {"micro_recall", m.micro_recall},
            {"macro_f1", m.macro_f1},           {"macro_precision", m.macro_precision},
            {"macro_recall", m.macro_recall},   {"hamming_accuracy", m.hamming_accuracy},
            {"subset_accuracy", m.subset_accuracy},
        };
        for (size_t q = 0; q < sizeof checks / sizeof *checks; q++) {
            double w = cJSON_GetObjectItem(want, checks[q].key)->valuedouble;
            cr_expect(fabs(checks[q].got - w) <= 1e-12, "case %d %s: reel %.17g, scikit-learn %.17g", cases,
                      checks[q].key, checks[q].got, w);
        }
        const cJSON *f1 = cJSON_GetObjectItem(want, "label_f1");
        for (size_t k = 0; k < L; k++)
            cr_expect(fabs(m.label_f1[k] - cJSON_GetArrayItem(f1, (int)k)->valuedouble) <= 1e-12);
        reel_metrics_free(&m);
        free(Y);
        free(P);
        cases++;
    }
    cr_expect_geq(cases, 5);
    cJSON_Delete(doc);
}

/* Only the rows with a true label count, unless unlabeled rows were kept. */
Test(metrics, labelled_rows_only)
{
    const uint8_t Y[] = {1, 0, 0, 0, 0, 1}, P[] = {1, 0, 1, 1, 0, 1};
    reel_metrics m;
    size_t left = 9;
    cr_assert_eq(reel_metrics_compute_labelled(&m, Y, P, 3, 2, 0, &left), 0);
    cr_expect_eq(m.n, 2);
    cr_expect_eq(left, 1);
    cr_expect_float_eq(m.samples_f1, 1.0, 1e-12, "the unlabelled row (predicted 1 1) is not scored");
    reel_metrics_free(&m);
    cr_assert_eq(reel_metrics_compute_labelled(&m, Y, P, 3, 2, 1, &left), 0);
    cr_expect_eq(m.n, 3);
    cr_expect_eq(left, 0);
    cr_expect_float_eq(m.samples_f1, 2.0 / 3.0, 1e-12);
    reel_metrics_free(&m);
    const uint8_t Z[] = {0, 0};
    cr_expect_neq(reel_metrics_compute_labelled(&m, Z, Z, 1, 2, 0, &left), 0, "no labelled row: nothing to score");
    cr_expect_eq(left, 1);
    reel_metrics_free(&m);
}
