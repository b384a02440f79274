/* The CUDA backend against the CPU backend: the same weights, data and
 * steps on both must agree within atol + rtol * |cpu| (the largest
 * difference is printed). Without a GPU, or in a build without CUDA, every
 * test here is reported as skipped. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_fixture.h"
#include "nn/backend.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "util/gpu.h"
#include "util/rng.h"

/* The CUDA backend, or the test is skipped. The printed line is what CTest
 * looks for (tests/CMakeLists.txt) to count the suite as skipped. */
static const reel_nn_backend *gpu_backend(void)
{
    if (reel_gpu_count() == 0 || !reel_nn_gpu_backend()) {
        printf("SKIPPED: no GPU: %s\n", reel_gpu_absent_reason());
        fflush(stdout);
        cr_skip_test("no GPU: %s", reel_gpu_absent_reason());
    }
    return reel_nn_gpu_backend();
}

/* Steps of batch 10 on both backends; compares losses, first gradients,
 * final weights, probabilities and the evaluation loss. */
static void compare(const char *layers_json, const char *head, size_t d, size_t L)
{
    const reel_nn_backend *gpu = gpu_backend(), *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, layers_json, head, d, L, 200, 42);
    reel_error err;
    void *bg = gpu->create(&s.spec, 1, &err), *bc = cpu->create(&s.spec, 1, &err);
    cr_assert(bg && bc, "%s", err.msg);
    const reel_nn_backend *be[2] = {gpu, cpu};
    void *b[2] = {bg, bc};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(be[k]->set_params(b[k], s.params, &err), 0, "%s", err.msg);
        cr_assert_eq(be[k]->set_data(b[k], s.X, s.Y, s.n, &err), 0, "%s", err.msg);
        cr_assert_eq(be[k]->set_order(b[k], s.order, s.n, &err), 0, "%s", err.msg);
    }
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    size_t np = s.spec.n_params, steps = 40;
    float lg[40], lc[40];
    float *gg = malloc(np * sizeof(float)), *gc = malloc(np * sizeof(float));
    for (size_t t = 0; t < steps; t++) {
        size_t start = (t * 10) % s.n;
        for (int k = 0; k < 2; k++)
            cr_assert_eq(be[k]->train_step(b[k], start, 10, &opt, (long)t + 1, k ? &lc[t] : &lg[t], &err), 0, "%s",
                         err.msg);
        if (t == 0) {
            cr_assert_eq(gpu->get_grads(bg, gg, &err), 0);
            cr_assert_eq(cpu->get_grads(bc, gc, &err), 0);
            double gmax = 0;
            for (size_t i = 0; i < np; i++)
                gmax = fmax(gmax, fabs(gc[i]));
            cr_expect(close_all("gradients of step 1", gg, gc, np, 1e-5 * gmax, 1e-4));
        }
    }
    /* Products summed in another order differ by float rounding (~1e-7
     * relative); AdamW's normalised step turns such noise in near-zero
     * gradients into weight differences of up to ~lr per step, so the later
     * comparisons allow more than the first gradients do. */
    cr_expect(close_all("losses of 40 steps", lg, lc, steps, 1e-6, 1e-4));
    double sg, sc;
    cr_assert_eq(gpu->take_loss_sum(bg, &sg, &err), 0);
    cr_assert_eq(cpu->take_loss_sum(bc, &sc, &err), 0);
    printf("nn_gpu accumulated loss: gpu %.9g cpu %.9g\n", sg, sc);
    cr_expect(fabs(sg - sc) <= 1e-5 * fabs(sc) + 1e-6);
    cr_assert_eq(gpu->get_params(bg, gg, &err), 0);
    cr_assert_eq(cpu->get_params(bc, gc, &err), 0);
    cr_expect(close_all("weights after 40 steps", gg, gc, np, 5e-4, 1e-3));
    /* predict and eval on the weights of each */
    float *pg = malloc(s.n * L * sizeof(float)), *pc = malloc(s.n * L * sizeof(float));
    double eg, ec;
    cr_assert_eq(gpu->set_params(bg, s.params, &err), 0);
    cr_assert_eq(cpu->set_params(bc, s.params, &err), 0);
    cr_assert_eq(gpu->eval_loss(bg, s.X, s.Y, s.n, &eg, pg, &err), 0, "%s", err.msg);
    cr_assert_eq(cpu->eval_loss(bc, s.X, s.Y, s.n, &ec, pc, &err), 0, "%s", err.msg);
    cr_expect(close_all("probabilities", pg, pc, s.n * L, 1e-6, 1e-5));
    printf("nn_gpu eval loss: gpu %.9g cpu %.9g\n", eg, ec);
    cr_expect(fabs(eg - ec) <= 1e-5 * fabs(ec));
    gpu->destroy(bg);
    cpu->destroy(bc);
    free(gg);
    free(gc);
    free(pg);
    free(pc);
    unmake(&s);
}

Test(nn_gpu, box_sigmoid_matches_cpu) { compare(BOX, "sigmoid", 21, 7); }
Test(nn_gpu, u_softmax_matches_cpu) { compare(U, "softmax", 21, 7); }
Test(nn_gpu, tanh_none_matches_cpu)
{
    compare("[{\"width\":33,\"activation\":\"tanh\"},{\"width\":17,\"activation\":\"none\"}]", "sigmoid", 5, 3);
}

/* The whole training loop (shuffles, epochs, validation) on both. */
Test(nn_gpu, training_loop_matches_cpu)
{
    const reel_nn_backend *gpu = gpu_backend(), *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 600, 7);
    uint8_t *Y8 = malloc(s.n * 7);
    for (size_t i = 0; i < s.n * 7; i++)
        Y8[i] = s.Y[i] > 0.5f;
    reel_fit_ctx ctx = {.d = 21, .L = 7, .X = s.X, .Y = Y8, .n = 500, .Xv = s.X + 500 * 21, .Yv = Y8 + 500 * 7,
                        .nv = 100, .seed = 3, .threads = 1, .device = "auto", .name = "gpu-test"};
    reel_nn_train_opts o = {.opt = {3e-4, 0.9, 0.999, 1e-8, 1e-3}, .batch_size = 10, .epochs = 3, .patience = 5,
                            .min_delta = 0.0, .restore_best = 0, .threshold = 0.5f, .seed = 3};
    reel_error err;
    float *pg = malloc(s.spec.n_params * sizeof(float)), *pc = malloc(s.spec.n_params * sizeof(float));
    const reel_nn_backend *be[2] = {gpu, cpu};
    float *out[2] = {pg, pc};
    for (int k = 0; k < 2; k++) {
        reel_nn_train_result r;
        void *b = be[k]->create(&s.spec, 1, &err);
        cr_assert_not_null(b, "%s", err.msg);
        cr_assert_eq(be[k]->set_params(b, s.params, &err), 0);
        cr_assert_eq(reel_nn_train(be[k], b, &s.spec, &o, &ctx, &r, &err), 0, "%s", err.msg);
        cr_assert_eq(r.epochs_run, 3);
        cr_assert_eq(be[k]->get_params(b, out[k], &err), 0);
        be[k]->destroy(b);
    }
    cr_expect(close_all("weights after 3 epochs of the training loop", pg, pc, s.spec.n_params, 2e-3, 1e-2));
    free(pg);
    free(pc);
    free(Y8);
    unmake(&s);
}

/* Checkpoint support: AdamW's moments come back as they were set (after
 * set_data, which clears them), and the GPU's steps continue from them as
 * the CPU's do. The starting point is checked on the CPU backend alone in
 * test_nn_backend.c (sane steps, insensitive to rounding). */
Test(nn_gpu, moments_round_trip_and_resume)
{
    const reel_nn_backend *gpu = gpu_backend(), *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 200, 11);
    size_t np = s.spec.n_params;
    float *m = malloc(np * sizeof *m), *v = malloc(np * sizeof *v), *pg = malloc(np * sizeof *pg),
          *pc = malloc(np * sizeof *pc);
    float lg[RESUME_STEPS], lc[RESUME_STEPS];
    resume_moments(np, m, v);
    resume_run(gpu, &s, s.params, s.X, m, v, lg, pg);
    resume_run(cpu, &s, s.params, s.X, m, v, lc, pc);
    cr_expect(close_all("losses of 5 resumed steps", lg, lc, RESUME_STEPS, 1e-6, 1e-4));
    cr_expect(close_all("weights after 5 resumed steps", pg, pc, np, 1e-5, 1e-3));
    free(m);
    free(v);
    free(pg);
    free(pc);
    unmake(&s);
}

/* A batch with an infinite input: the GPU records the step and from then
 * on updates nothing, so the weights stay those from before it. */
Test(nn_gpu, a_non_finite_step_changes_nothing)
{
    const reel_nn_backend *gpu = gpu_backend();
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 40, 12);
    reel_error err;
    size_t np = s.spec.n_params;
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 0};
    for (size_t i = 0; i < s.n; i++)
        s.order[i] = (uint32_t)i;
    s.X[25 * 21 + 3] = INFINITY; /* row 25: in the third batch of 10 */
    void *b = gpu->create(&s.spec, 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(gpu->set_params(b, s.params, &err), 0, "%s", err.msg);
    cr_assert_eq(gpu->set_data(b, s.X, s.Y, s.n, &err), 0, "%s", err.msg);
    cr_assert_eq(gpu->set_order(b, s.order, s.n, &err), 0, "%s", err.msg);
    for (long step = 1; step <= 2; step++)
        cr_assert_geq(gpu->train_step(b, (size_t)(step - 1) * 10, 10, &opt, step, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(gpu->get_params(b, before, &err), 0);
    /* asked for its loss, the bad step is reported at once; after it (the
     * device's flag has reached the host) so is the next one */
    float loss3 = 0;
    cr_expect_eq(gpu->train_step(b, 20, 10, &opt, 3, &loss3, &err), 1, "%s", err.msg);
    cr_expect(!isfinite(loss3), "the bad step's loss %g", loss3);
    cr_expect_eq(gpu->train_step(b, 30, 10, &opt, 4, NULL, &err), 1, "%s", err.msg);
    double sum;
    long bad = -1;
    cr_assert_eq(gpu->take_loss_sum(b, &sum, &err), 0, "%s", err.msg);
    cr_assert_eq(gpu->first_bad_step(b, &bad, &err), 0, "%s", err.msg);
    cr_expect_eq(bad, 3);
    cr_assert_eq(gpu->get_params(b, after, &err), 0);
    cr_expect_eq(memcmp(before, after, np * sizeof *after), 0, "weights changed after the bad step");
    gpu->destroy(b);
    free(before);
    free(after);
    unmake(&s);
}

/* A net far too big for the device: a one-line message with the sizes,
 * not a raw CUDA error. */
Test(nn_gpu, out_of_memory_names_the_sizes)
{
    const reel_nn_backend *gpu = gpu_backend();
    reel_nn_spec spec;
    reel_error err;
    /* 65536-wide layers: 4 buffers of 3 x 2^32 floats = 192 GiB */
    cJSON *layers = cJSON_Parse("[{\"width\":65536},{\"width\":65536},{\"width\":65536},{\"width\":65536}]");
    cr_assert_eq(reel_nn_spec_build(&spec, layers, "sigmoid", 4, 3, &err), 0, "%s", err.msg);
    cJSON_Delete(layers);
    void *b = gpu->create(&spec, 1, &err);
    if (b)
        gpu->destroy(b);
    cr_assert_null(b, "a 192 GiB net fitted on the GPU?");
    printf("nn_gpu out of memory: %s\n", err.msg);
    cr_expect(strstr(err.msg, "GPU out of memory") && strstr(err.msg, "MiB"), "%s", err.msg);
    cr_expect(strchr(err.msg, '\n') == NULL);
}

/* The moving average kept on the device: for the same parameters its sums
 * and averages equal the CPU backend's bit for bit (both round every double
 * operation the same way), and set/get of the sums round-trips. */
Test(nn_gpu, moving_average_matches_cpu_exactly)
{
    const reel_nn_backend *gpu = gpu_backend(), *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 20, 13);
    reel_error err;
    size_t np = s.spec.n_params;
    double *sg = malloc(np * sizeof *sg), *sc = malloc(np * sizeof *sc);
    float *ag = malloc(np * sizeof *ag), *ac = malloc(np * sizeof *ac), *p = malloc(np * sizeof *p);
    const reel_nn_backend *be[2] = {gpu, cpu};
    double *sums[2] = {sg, sc};
    float *avgs[2] = {ag, ac};
    for (int k = 0; k < 2; k++) {
        void *b = be[k]->create(&s.spec, 1, &err);
        cr_assert_not_null(b, "%s", err.msg);
        cr_assert_eq(be[k]->set_data(b, s.X, s.Y, s.n, &err), 0, "%s", err.msg);
        double weight = 0;
        for (int u = 0; u < 3; u++) { /* three different parameter sets, decays 0.99^10, 0.99^3, 0.99 */
            for (size_t i = 0; i < np; i++)
                p[i] = s.params[i] * (float)(u + 1) - 0.001f * (float)u;
            double a = pow(0.99, u == 0 ? 10 : (u == 1 ? 3 : 1));
            cr_assert_eq(be[k]->set_params(b, p, &err), 0, "%s", err.msg);
            cr_assert_eq(be[k]->avg_update(b, a, &err), 0, "%s", err.msg);
            weight = a * weight + (1 - a);
        }
        cr_assert_eq(be[k]->get_avg(b, weight, avgs[k], &err), 0, "%s", err.msg);
        cr_assert_eq(be[k]->get_avg_sum(b, sums[k], &err), 0, "%s", err.msg);
        if (k == 0) { /* set then get the sums back */
            double *back = malloc(np * sizeof *back);
            cr_assert_eq(gpu->set_avg_sum(b, sg, &err), 0, "%s", err.msg);
            cr_assert_eq(gpu->get_avg_sum(b, back, &err), 0, "%s", err.msg);
            cr_expect_eq(memcmp(back, sg, np * sizeof *back), 0, "set_avg_sum/get_avg_sum");
            free(back);
        }
        be[k]->destroy(b);
    }
    cr_expect_eq(memcmp(sg, sc, np * sizeof *sg), 0, "GPU and CPU sums differ");
    cr_expect_eq(memcmp(ag, ac, np * sizeof *ag), 0, "GPU and CPU averages differ");
    free(sg);
    free(sc);
    free(ag);
    free(ac);
    free(p);
    unmake(&s);
}
