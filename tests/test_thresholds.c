/* Threshold tuning on validation predictions. */
#include <criterion/criterion.h>

#include "eval/metrics.h"
#include "eval/thresholds.h"

Test(thresholds, per_label_finds_the_best_cut)
{
    /* Label 0: positives have P 0.3 and 0.35, negatives 0.1, 0.2, 0.4 -> best
     * F1 predicts P >= 0.3 (tp 2, fp 1: F1 0.8) so the cut is between 0.2 and 0.3.
     * Label 1: all negative -> predict nothing: threshold at the maximum. */
    const float P[] = {0.1f, 0.9f, 0.2f, 0.1f, 0.3f, 0.2f, 0.35f, 0.3f, 0.4f, 0.4f};
    const uint8_t Y[] = {0, 0, 0, 0, 1, 0, 1, 0, 0, 0};
    float t[2];
    reel_tune_thresholds_per_label(P, Y, 5, 2, t);
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
    float t = reel_tune_threshold_global(P, Y, 3, 2);
    cr_expect(t > 0.2f && t < 0.25f, "t = %g", t);
}
