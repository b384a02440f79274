/* The backend contract on the CPU backend, where CI runs it: set_data
 * clears the row order, and the resumed steps that test_nn_devices compares
 * between backends start from a sane point (steps of about lr, results
 * that rounding differences do not flip). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_fixture.h"

/* A second set_data with fewer rows: the old order would index past them,
 * so a step before the next set_order is an error, not a read out of X. */
Test(nn_backend, set_data_clears_the_row_order)
{
    const reel_nn_backend *be = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 200, 3);
    reel_error err;
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 0};
    void *b = be->create(&s.spec, 0, 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(be->set_params(b, s.params, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_data(b, s.X, s.Y, s.n, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_order(b, s.order, s.n, &err), 0, "%s", err.msg);
    cr_assert_eq(be->train_step(b, 180, 10, &opt, 1, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_data(b, s.X, s.Y, 40, &err), 0, "%s", err.msg);
    cr_assert_eq(be->train_step(b, 180, 10, &opt, 1, NULL, &err), -1);
    cr_expect(strstr(err.msg, "outside the row order of 0"), "%s", err.msg);
    cr_assert_eq(be->train_step(b, 0, 10, &opt, 1, NULL, &err), -1);
    for (size_t i = 0; i < 40; i++)
        s.order[i] = (uint32_t)(39 - i);
    cr_assert_eq(be->set_order(b, s.order, 40, &err), 0, "%s", err.msg);
    cr_expect_eq(be->train_step(b, 30, 10, &opt, 1, NULL, &err), 0, "%s", err.msg);
    be->destroy(b);
    unmake(&s);
}

/* Largest change of a weight between two parameter sets. */
static double largest_move(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs((double)a[i] - b[i]));
    return w;
}

/* x scaled by 1 +- 1e-6 (a fixed pattern): about what summing in another
 * order does to a float, the difference between two backends' roundings. */
static void nudge(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] *= (i * 2654435761u) % 3 == 0 ? 1.0f + 1e-6f : (i % 2 ? 1.0f - 1e-6f : 1.0f);
}

Test(nn_backend, resume_fixture_is_sane_and_insensitive_to_rounding)
{
    const reel_nn_backend *be = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 200, 11); /* as test_nn_devices's moments_round_trip_and_resume */
    size_t np = s.spec.n_params;
    float *m = malloc(np * sizeof *m), *v = malloc(np * sizeof *v), *out = malloc(np * sizeof *out),
          *out2 = malloc(np * sizeof *out2), *p2 = malloc(np * sizeof *p2), *X2 = malloc(s.n * 21 * sizeof *X2);
    float losses[RESUME_STEPS], losses2[RESUME_STEPS];
    resume_moments(np, m, v);
    resume_run(be, 0, &s, s.params, s.X, m, v, losses, out);
    double move = largest_move(out, s.params, np);
    printf("backends resume: largest weight move %.3g over %d steps of lr %g; losses", move, RESUME_STEPS,
           resume_opt.lr);
    for (int k = 0; k < RESUME_STEPS; k++)
        printf(" %.6g", losses[k]);
    printf("\n");
    for (int k = 0; k < RESUME_STEPS; k++)
        cr_expect(isfinite(losses[k]) && losses[k] < 1.0f, "step %d: loss %g", 101 + k, losses[k]);
    /* AdamW moves a weight by at most about lr * |m_hat| / sqrt(v_hat) per step */
    cr_expect_leq(move, RESUME_STEPS * 10 * resume_opt.lr, "a weight moved by %g", move);

    /* The same steps from nudged weights and inputs stay well inside the
     * tolerance test_nn_devices allows between backends. */
    memcpy(p2, s.params, np * sizeof *p2);
    memcpy(X2, s.X, s.n * 21 * sizeof *X2);
    nudge(p2, np);
    nudge(X2, s.n * 21);
    resume_run(be, 0, &s, p2, X2, m, v, losses2, out2);
    cr_expect(close_all("resumed weights, nudged vs not (limit 0.25)", out2, out, np, 0.25 * 1e-5, 0.25 * 1e-3));
    cr_expect(close_all("resumed losses, nudged vs not (limit 0.25)", losses2, losses, RESUME_STEPS, 0.25 * 1e-6,
                        0.25 * 1e-4));

    /* The control: moments with v = 0 and m != 0 (the old fixture) throw
     * weights far, which the checks above would catch. */
    memset(v, 0, np * sizeof *v);
    for (size_t i = 0; i < np; i++)
        m[i] = (float)(i % 13) * 1e-3f - 6e-3f;
    resume_run(be, 0, &s, s.params, s.X, m, v, losses2, out2);
    double wild = largest_move(out2, s.params, np);
    printf("backends resume from v = 0: largest weight move %.3g, last loss %g\n", wild, losses2[RESUME_STEPS - 1]);
    cr_expect_gt(wild, 1.0, "v = 0 moved weights by only %g", wild);
    free(m);
    free(v);
    free(out);
    free(out2);
    free(p2);
    free(X2);
    unmake(&s);
}
