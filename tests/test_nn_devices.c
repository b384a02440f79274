/* Every device backend present against the CPU backend: OpenCL on each
 * OpenCL device (in CI: PoCL on the CPU, which runs every kernel of
 * kernels/nn_kernels.cl) and CUDA when there is a GPU. The same weights,
 * data and steps must agree within atol + rtol * |cpu| (the largest
 * difference is printed per backend); a device gives the same bits twice.
 * With no device backend at all the suite is reported as skipped, unless
 * REEL_TEST_REQUIRE_OPENCL is set (scripts/test.sh sets it), when that is a
 * failure: CI must run these kernels. Likewise REEL_TEST_REQUIRE_CUDA
 * (scripts/gpu-check.sh) makes a CUDA backend that cannot be used a
 * failure. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_fixture.h"
#include "helpers.h"
#include "models/model.h"
#include "nn/backend.h"
#include "nn/fused_plan.h"
#include "nn/multi.h"
#include "nn/opencl.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "nn/gpu.h"
#include "util/rng.h"

static const char *cur_label = ""; /* the backend now running, for messages */
static size_t cur_local_memory;   /* its work-group memory, where the runtime says (OpenCL) */
static size_t cur_wg_memory;      /* its work-group memory as every runtime reports it (0: not said) */
static int cur_device;            /* its device number in its runtime */

typedef struct {
    const reel_nn_backend *be;
    int device; /* its number in the runtime */
    size_t local_memory, wg_memory;
    char label[300];
} target;

/* The device a net of backend be is created on: the one running, or the
 * CPU's only one. */
static int dev_of(const reel_nn_backend *be) { return be == &reel_nn_cpu_backend ? 0 : cur_device; }

/* Every usable device of every runtime (nn/device.h), each ready to create
 * nets; REEL_TEST_ONLY (a runtime's name: cuda or opencl) keeps one runtime
 * (compute-sanitizer sees only CUDA). REEL_TEST_REQUIRE_CUDA
 * (scripts/gpu-check.sh) makes a CUDA runtime without devices a failure. */
static int targets(target *t, int max)
{
    int n = 0;
    const char *only = getenv("REEL_TEST_ONLY");
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++) {
        const reel_nn_runtime *rt = *r;
        if (only && strcmp(only, rt->name) != 0)
            continue;
        int count = rt->backend() ? rt->count() : 0;
        if (count == 0) {
            printf("nn_devices: no %s device here (%s)\n", rt->name, rt->absent_reason());
            /* on the GPU machine a missing plugin is a failure, not a skip */
            if (strcmp(rt->name, "cuda") == 0 && getenv("REEL_TEST_REQUIRE_CUDA"))
                cr_assert_fail("REEL_TEST_REQUIRE_CUDA is set but the CUDA backend is not usable: %s",
                               rt->absent_reason());
        }
        for (int i = 0; i < count && n < max; i++) {
            reel_nn_device_info info;
            if (rt->info(i, &info) || !info.usable)
                continue;
            t[n].be = rt->backend();
            t[n].device = i;
            t[n].local_memory = strcmp(rt->name, "opencl") == 0 ? info.local_memory : 0;
            t[n].wg_memory = info.local_memory;
            snprintf(t[n].label, sizeof t[n].label, "%s:%d %.200s", rt->name, i, info.name);
            n++;
        }
    }
    return n;
}

/* Runs fn on every backend present, or skips (visibly) when there is none. */
static void each_backend(void (*fn)(const reel_nn_backend *be))
{
    target t[8];
    int n = targets(t, 8);
    if (n == 0) {
        if (getenv("REEL_TEST_REQUIRE_OPENCL"))
            cr_assert_fail("REEL_TEST_REQUIRE_OPENCL is set but no OpenCL device was found: %s",
                           reel_nn_opencl_runtime.absent_reason());
        else
            REEL_SKIP("no device backend (CUDA: %s; OpenCL: %s)", reel_nn_cuda_runtime.absent_reason(),
                      reel_nn_opencl_runtime.absent_reason());
        return;
    }
    for (int k = 0; k < n; k++) {
        cur_label = t[k].label;
        cur_device = t[k].device;
        cur_local_memory = t[k].local_memory;
        cur_wg_memory = t[k].wg_memory;
        printf("nn_devices: running on %s\n", t[k].label);
        fn(t[k].be);
        fflush(stdout);
    }
}

/* Steps of batch 10 on both backends; compares losses, first gradients,
 * final weights, probabilities and the evaluation loss. */
/* A net of s's shape on `be`, holding s's weights, data and row order. */
static void *ready_net(const reel_nn_backend *be, const setup *s)
{
    reel_error err;
    void *b = be->create(&s->spec, dev_of(be), 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(be->set_params(b, s->params, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_data(b, s->X, s->Y, s->n, &err), 0, "%s", err.msg);
    cr_assert_eq(be->set_order(b, s->order, s->n, &err), 0, "%s", err.msg);
    return b;
}

/* A PLR embedding (4 frequencies, 5 values a numeric column) before two
 * Linear layers. */
#define PLR_NET                                                                                               \
    "[{\"kind\":\"plr\",\"frequencies\":4,\"sigma\":0.7,\"width\":5},{\"width\":32,\"activation\":\"relu\"}," \
    "{\"width\":16,\"activation\":\"relu\"}]"

/* s's PLR embedding takes the columns j with j % `every` != every - 1
 * (numeric[0..d) says so: it must outlive the nets made); the others
 * become 0/1 flags, passed through. The weights are drawn again from seed
 * for the new layout. */
static void plr_columns(setup *s, uint8_t *numeric, size_t every, uint64_t seed)
{
    size_t d = s->spec.d;
    for (size_t j = 0; j < d; j++)
        numeric[j] = j % every != every - 1;
    reel_nn_spec_set_numeric(&s->spec, numeric);
    float *p = realloc(s->params, s->spec.n_params * sizeof(float));
    cr_assert_not_null(p);
    s->params = p;
    reel_nn_init_params(&s->spec, seed, s->params);
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < d; j++)
            if (!numeric[j])
                s->X[i * d + j] = s->X[i * d + j] > 0 ? 1.0f : 0.0f;
}

static void compare_setup(const reel_nn_backend *dev, setup *sp)
{
    const reel_nn_backend *cpu = &reel_nn_cpu_backend;
    setup s = *sp;
    size_t L = s.spec.L;
    reel_error err;
    void *bg = ready_net(dev, &s), *bc = ready_net(cpu, &s);
    const reel_nn_backend *be[2] = {dev, cpu};
    void *b[2] = {bg, bc};
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    size_t np = s.spec.n_params, steps = 40;
    float lg[40], lc[40];
    float *gg = malloc(np * sizeof(float)), *gc = malloc(np * sizeof(float));
    for (size_t t = 0; t < steps; t++) {
        size_t start = (t * 10) % s.n;
        for (int k = 0; k < 2; k++)
            cr_assert_geq(be[k]->train_step(b[k], start, 10, &opt, (long)t + 1, k ? &lc[t] : &lg[t], &err), 0,
                          "%s", err.msg);
        if (t == 0) {
            cr_assert_eq(dev->get_grads(bg, gg, &err), 0, "%s", err.msg);
            cr_assert_eq(cpu->get_grads(bc, gc, &err), 0, "%s", err.msg);
            double gmax = 0;
            for (size_t i = 0; i < np; i++)
                gmax = fmax(gmax, fabs(gc[i]));
            cr_expect(close_all("gradients of step 1", gg, gc, np, 1e-5 * gmax, 1e-4));
        }
    }
    /* Products summed in another order, or exp and tanh from another maths
     * library, differ by float rounding (~1e-7 relative); AdamW's normalised
     * step turns such noise in near-zero gradients into weight differences
     * of up to ~lr per step, so the later comparisons allow more. */
    cr_expect(close_all("losses of 40 steps", lg, lc, steps, 1e-6, 1e-4));
    double sg, sc;
    cr_assert_eq(dev->take_loss_sum(bg, &sg, &err), 0, "%s", err.msg);
    cr_assert_eq(cpu->take_loss_sum(bc, &sc, &err), 0, "%s", err.msg);
    printf("nn_devices [%s] accumulated loss: device %.9g cpu %.9g\n", cur_label, sg, sc);
    cr_expect(fabs(sg - sc) <= 1e-5 * fabs(sc) + 1e-6);
    cr_assert_eq(dev->get_params(bg, gg, &err), 0, "%s", err.msg);
    cr_assert_eq(cpu->get_params(bc, gc, &err), 0, "%s", err.msg);
    cr_expect(close_all("weights after 40 steps", gg, gc, np, 5e-4, 1e-3));
    /* predict and eval on the starting weights of each */
    float *pg = malloc(s.n * L * sizeof(float)), *pc = malloc(s.n * L * sizeof(float));
    double eg, ec;
    cr_assert_eq(dev->set_params(bg, s.params, &err), 0, "%s", err.msg);
    cr_assert_eq(cpu->set_params(bc, s.params, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->eval_loss(bg, s.X, s.Y, s.n, &eg, pg, &err), 0, "%s", err.msg);
    cr_assert_eq(cpu->eval_loss(bc, s.X, s.Y, s.n, &ec, pc, &err), 0, "%s", err.msg);
    cr_expect(close_all("probabilities", pg, pc, s.n * L, 1e-6, 1e-5));
    printf("nn_devices [%s] eval loss: device %.9g cpu %.9g\n", cur_label, eg, ec);
    cr_expect(fabs(eg - ec) <= 1e-5 * fabs(ec));
    float *pp = malloc(s.n * L * sizeof(float)); /* predict gives eval_loss's probabilities */
    cr_assert_eq(dev->predict(bg, s.X, s.n, pp, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(pp, pg, s.n * L * sizeof *pp), 0, "predict and eval_loss disagree");
    dev->destroy(bg);
    cpu->destroy(bc);
    free(gg);
    free(gc);
    free(pg);
    free(pc);
    free(pp);
}

static void compare(const reel_nn_backend *dev, const char *layers_json, const char *head, size_t d, size_t L,
                    uint64_t seed)
{
    setup s;
    make(&s, layers_json, head, d, L, 200, 42);
    s.spec.seed = seed; /* dropout's masks */
    compare_setup(dev, &s);
    unmake(&s);
}

/* The PLR embedding's kernels (features, embedding, its gradients) in the
 * layered step, against the CPU's, with numeric and passed-through columns. */
static void plr_sigmoid(const reel_nn_backend *be)
{
    setup s;
    uint8_t numeric[21];
    make(&s, PLR_NET, "sigmoid", 21, 7, 200, 43);
    plr_columns(&s, numeric, 4, 43);
    cr_assert_eq(s.spec.plr.n_num, 16);
    compare_setup(be, &s);
    unmake(&s);
}

static void box_sigmoid(const reel_nn_backend *be) { compare(be, BOX, "sigmoid", 21, 7, 0); }
static void u_softmax(const reel_nn_backend *be) { compare(be, U, "softmax", 21, 7, 0); }
static void tanh_none(const reel_nn_backend *be)
{
    compare(be, "[{\"width\":33,\"activation\":\"tanh\"},{\"width\":17,\"activation\":\"none\"}]", "sigmoid", 5, 3, 0);
}
Test(nn_devices, box_sigmoid_matches_cpu) { each_backend(box_sigmoid); }
Test(nn_devices, u_softmax_matches_cpu) { each_backend(u_softmax); }
Test(nn_devices, tanh_none_matches_cpu) { each_backend(tanh_none); }
Test(nn_devices, plr_matches_cpu) { each_backend(plr_sigmoid); }

/* Dropout after each kind of activation, at three rates: the layered
 * steps drop the CPU backend's units (the same seeded masks), so the
 * gradients, losses and weights agree as without dropout; a device that
 * dropped others, or none, would be far off from the first step. */
#define DROPOUT_LAYERS                                                                                        \
    "[{\"width\":40,\"activation\":\"relu\",\"dropout\":0.1},{\"width\":24,\"activation\":\"tanh\","           \
    "\"dropout\":0.5},{\"width\":16,\"activation\":\"none\",\"dropout\":0.25},{\"width\":16,"                  \
    "\"activation\":\"relu\"}]"
static void dropout_sigmoid(const reel_nn_backend *be) { compare(be, DROPOUT_LAYERS, "sigmoid", 21, 7, 77); }
static void dropout_softmax(const reel_nn_backend *be) { compare(be, DROPOUT_LAYERS, "softmax", 21, 7, 1234567); }
Test(nn_devices, dropout_matches_cpu) { each_backend(dropout_sigmoid); }
Test(nn_devices, dropout_softmax_matches_cpu) { each_backend(dropout_softmax); }

/* The layered path's products at sizes that are no multiple of any tile
 * (widths past 128, 37 inputs, 5 labels, batches of 1 to 300 rows, past
 * the fused kernel's): steps against the CPU; on OpenCL also against the
 * one-output kernels (REEL_NO_TILES), which must give the same bits. */
static void odd_sizes(const reel_nn_backend *dev)
{
    const reel_nn_backend *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s,
         "[{\"width\":131,\"activation\":\"relu\"},{\"width\":45,\"activation\":\"none\"},"
         "{\"width\":70,\"activation\":\"tanh\"}]",
         "sigmoid", 37, 5, 700, 21);
    int opencl = strcmp(dev->name, "opencl") == 0;
    reel_error err;
    void *b[3];
    const reel_nn_backend *be[3] = {dev, cpu, dev};
    for (int k = 0; k < (opencl ? 3 : 2); k++) {
        if (k == 2)
            setenv("REEL_NO_TILES", "1", 1); /* read when a net is made */
        b[k] = ready_net(be[k], &s);
        unsetenv("REEL_NO_TILES");
    }
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    static const size_t sizes[] = {300, 33, 257, 1, 299, 99};
    enum { STEPS = sizeof sizes / sizeof *sizes };
    size_t np = s.spec.n_params;
    float loss[3][STEPS];
    float *g[3], *w[3], *p[3];
    for (int k = 0; k < 3; k++) {
        g[k] = malloc(np * sizeof(float));
        w[k] = malloc(np * sizeof(float));
        p[k] = malloc(s.n * 5 * sizeof(float));
    }
    int nk = opencl ? 3 : 2;
    for (size_t t = 0; t < STEPS; t++) {
        size_t start = (t * 101) % (s.n - sizes[t]);
        for (int k = 0; k < nk; k++) {
            cr_assert_geq(be[k]->train_step(b[k], start, sizes[t], &opt, (long)t + 1, &loss[k][t], &err), 0, "%s",
                          err.msg);
            if (t == 0)
                cr_assert_eq(be[k]->get_grads(b[k], g[k], &err), 0, "%s", err.msg);
        }
    }
    for (int k = 0; k < nk; k++) {
        cr_assert_eq(be[k]->get_params(b[k], w[k], &err), 0, "%s", err.msg);
        cr_assert_eq(be[k]->predict(b[k], s.X, s.n, p[k], &err), 0, "%s", err.msg);
    }
    double gmax = 0;
    for (size_t i = 0; i < np; i++)
        gmax = fmax(gmax, fabs(g[1][i]));
    cr_expect(close_all("odd sizes: gradients of step 1", g[0], g[1], np, 1e-5 * gmax, 1e-4), "%s", cur_label);
    cr_expect(close_all("odd sizes: losses", loss[0], loss[1], STEPS, 1e-6, 1e-4), "%s", cur_label);
    cr_expect(close_all("odd sizes: weights after the steps", w[0], w[1], np, 5e-4, 1e-3), "%s", cur_label);
    cr_expect(close_all("odd sizes: probabilities", p[0], p[1], s.n * 5, 1e-5, 1e-4), "%s", cur_label);
    if (opencl) {
        cr_expect_eq(memcmp(g[0], g[2], np * sizeof(float)), 0, "%s: tiled and one-output gradients differ",
                     cur_label);
        cr_expect_eq(memcmp(w[0], w[2], np * sizeof(float)), 0, "%s: tiled and one-output weights differ",
                     cur_label);
        cr_expect_eq(memcmp(p[0], p[2], s.n * 5 * sizeof(float)), 0,
                     "%s: tiled and one-output probabilities differ", cur_label);
        cr_expect_eq(memcmp(loss[0], loss[2], sizeof loss[0]), 0, "%s: tiled and one-output losses differ",
                     cur_label);
    }
    for (int k = 0; k < nk; k++)
        be[k]->destroy(b[k]);
    for (int k = 0; k < 3; k++) {
        free(g[k]);
        free(w[k]);
        free(p[k]);
    }
    unmake(&s);
}
Test(nn_devices, odd_sizes_on_the_layered_path_match_cpu) { each_backend(odd_sizes); }

/* The whole training loop (shuffles, epochs, validation, the moving
 * average) on both; run twice on the device, which must give the same bits. */
static void training_loop(const reel_nn_backend *dev)
{
    const reel_nn_backend *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 600, 7);
    uint8_t *Y8 = malloc(s.n * 7);
    for (size_t i = 0; i < s.n * 7; i++)
        Y8[i] = s.Y[i] > 0.5f;
    reel_fit_ctx ctx = {.d = 21, .L = 7, .X = s.X, .Y = Y8, .n = 500, .Xv = s.X + 500 * 21, .Yv = Y8 + 500 * 7,
                        .nv = 100, .seed = 3, .threads = 1, .device = "auto", .name = "backend-test"};
    reel_nn_train_opts o = {.opt = {3e-4, 0.9, 0.999, 1e-8, 1e-3}, .batch_size = 10, .epochs = 3, .patience = 5,
                            .min_delta = 0.0, .restore_best = 0, .ema = 0.99, .threshold = 0.5f, .seed = 3};
    reel_error err;
    size_t np = s.spec.n_params;
    float *out[3];
    const reel_nn_backend *be[3] = {dev, cpu, dev};
    double val[3];
    for (int k = 0; k < 3; k++) {
        out[k] = malloc(np * sizeof(float));
        reel_nn_train_result r;
        void *b = be[k]->create(&s.spec, dev_of(be[k]), 1, &err);
        cr_assert_not_null(b, "%s", err.msg);
        cr_assert_eq(be[k]->set_params(b, s.params, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_nn_train(&(reel_nn_net){be[k], b, &s.spec}, &o, &ctx, &r, &err), 0, "%s", err.msg);
        cr_assert_eq(r.epochs_run, 3);
        val[k] = r.best_val_loss;
        cr_assert_eq(be[k]->get_params(b, out[k], &err), 0, "%s", err.msg);
        reel_history_free(&r.history);
        be[k]->destroy(b);
    }
    printf("nn_devices [%s] training loop: best val loss device %.9g cpu %.9g\n", cur_label, val[0], val[1]);
    cr_expect(close_all("weights after 3 epochs of the training loop", out[0], out[1], np, 2e-3, 1e-2));
    cr_expect(fabs(val[0] - val[1]) <= 1e-4 * fabs(val[1]));
    cr_expect_eq(memcmp(out[0], out[2], np * sizeof(float)), 0, "%s: two runs gave different weights", cur_label);
    cr_expect_eq(val[0], val[2], "%s: two runs gave different losses", cur_label);
    for (int k = 0; k < 3; k++)
        free(out[k]);
    free(Y8);
    unmake(&s);
}
Test(nn_devices, training_loop_matches_cpu_and_repeats_bit_for_bit) { each_backend(training_loop); }

/* Checkpoint support: AdamW's moments come back as they were set (after
 * set_data, which clears them), and the device's steps continue from them
 * as the CPU's do. The starting point (tests/backend_fixture.h) is checked
 * on the CPU backend alone in test_nn_backend.c: sane steps, insensitive
 * to rounding. */
static void moments(const reel_nn_backend *dev)
{
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 200, 11);
    size_t np = s.spec.n_params;
    float *m = malloc(np * sizeof *m), *v = malloc(np * sizeof *v), *pg = malloc(np * sizeof *pg),
          *pc = malloc(np * sizeof *pc);
    float lg[RESUME_STEPS], lc[RESUME_STEPS];
    resume_moments(np, m, v);
    resume_run(dev, cur_device, &s, s.params, s.X, m, v, lg, pg);
    resume_run(&reel_nn_cpu_backend, 0, &s, s.params, s.X, m, v, lc, pc);
    cr_expect(close_all("losses of 5 resumed steps", lg, lc, RESUME_STEPS, 1e-6, 1e-4));
    cr_expect(close_all("weights after 5 resumed steps", pg, pc, np, 1e-5, 1e-3));
    free(m);
    free(v);
    free(pg);
    free(pc);
    unmake(&s);
}
Test(nn_devices, moments_round_trip_and_resume) { each_backend(moments); }

/* A batch with an infinite input: the device records the step and from
 * then on updates nothing, so the weights stay those from before it. */
static void non_finite(const reel_nn_backend *dev)
{
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 40, 12);
    reel_error err;
    size_t np = s.spec.n_params;
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 0};
    for (size_t i = 0; i < s.n; i++)
        s.order[i] = (uint32_t)i;
    s.X[25 * 21 + 3] = INFINITY; /* row 25: in the third batch of 10 */
    void *b = ready_net(dev, &s);
    for (long step = 1; step <= 2; step++)
        cr_assert_geq(dev->train_step(b, (size_t)(step - 1) * 10, 10, &opt, step, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->get_params(b, before, &err), 0, "%s", err.msg);
    /* asked for its loss, the bad step is reported at once; after it (the
     * device's flag has reached the host) so is the next one. (Its loss may
     * well be finite: ReLU turns the NaN that inf - inf gives into 0; the
     * gradient of the first layer is not.) */
    float loss3 = 0;
    cr_expect_eq(dev->train_step(b, 20, 10, &opt, 3, &loss3, &err), 1, "%s", err.msg);
    cr_expect_eq(dev->train_step(b, 30, 10, &opt, 4, NULL, &err), 1, "%s", err.msg);
    double sum;
    long bad = -1;
    cr_assert_eq(dev->take_loss_sum(b, &sum, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->first_bad_step(b, &bad, &err), 0, "%s", err.msg);
    cr_expect_eq(bad, 3, "%s: first bad step %ld", cur_label, bad);
    cr_assert_eq(dev->get_params(b, after, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(before, after, np * sizeof *after), 0, "%s: weights changed after the bad step", cur_label);
    /* set_data starts afresh: steps update again */
    for (size_t i = 0; i < s.n * 21; i++)
        if (!isfinite(s.X[i]))
            s.X[i] = 0.0f;
    cr_assert_eq(dev->set_data(b, s.X, s.Y, s.n, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->set_order(b, s.order, s.n, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->train_step(b, 20, 10, &opt, 1, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(dev->first_bad_step(b, &bad, &err), 0, "%s", err.msg);
    cr_expect_eq(bad, 0);
    cr_assert_eq(dev->get_params(b, before, &err), 0, "%s", err.msg);
    cr_expect_neq(memcmp(before, after, np * sizeof *after), 0, "%s: no update after set_data", cur_label);
    dev->destroy(b);
    free(before);
    free(after);
    unmake(&s);
}
Test(nn_devices, a_non_finite_step_changes_nothing) { each_backend(non_finite); }

/* A net far too big for the device: a one-line message with the sizes,
 * not a raw runtime error. */
static void out_of_memory(const reel_nn_backend *dev)
{
    reel_nn_spec spec;
    reel_error err;
    /* 65536-wide layers: 4 buffers of 3 x 2^32 floats = 192 GiB */
    cJSON *layers = cJSON_Parse("[{\"width\":65536},{\"width\":65536},{\"width\":65536},{\"width\":65536}]");
    cr_assert_eq(reel_nn_spec_build(&spec, layers, "sigmoid", 4, 3, &err), 0, "%s", err.msg);
    cJSON_Delete(layers);
    void *b = dev->create(&spec, dev_of(dev), 1, &err);
    if (b)
        dev->destroy(b);
    cr_assert_null(b, "%s: a 192 GiB net fitted on the device?", cur_label);
    printf("nn_devices [%s] out of memory: %s\n", cur_label, err.msg);
    cr_expect(strstr(err.msg, "out of memory") && strstr(err.msg, "MiB"), "%s", err.msg);
    cr_expect(strchr(err.msg, '\n') == NULL);
}
Test(nn_devices, out_of_memory_names_the_sizes) { each_backend(out_of_memory); }

/* The moving average kept on the device: for the same parameters its sums
 * and averages equal the CPU backend's bit for bit (every double operation
 * is rounded the same way, nothing fused), and set/get of the sums
 * round-trips. */
static void moving_average(const reel_nn_backend *dev)
{
    const reel_nn_backend *cpu = &reel_nn_cpu_backend;
    setup s;
    make(&s, BOX, "sigmoid", 21, 7, 20, 13);
    reel_error err;
    size_t np = s.spec.n_params;
    double *sg = malloc(np * sizeof *sg), *sc = malloc(np * sizeof *sc);
    float *ag = malloc(np * sizeof *ag), *ac = malloc(np * sizeof *ac), *p = malloc(np * sizeof *p);
    const reel_nn_backend *be[2] = {dev, cpu};
    double *sums[2] = {sg, sc};
    float *avgs[2] = {ag, ac};
    for (int k = 0; k < 2; k++) {
        void *b = be[k]->create(&s.spec, dev_of(be[k]), 1, &err);
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
            cr_assert_eq(dev->set_avg_sum(b, sg, &err), 0, "%s", err.msg);
            cr_assert_eq(dev->get_avg_sum(b, back, &err), 0, "%s", err.msg);
            cr_expect_eq(memcmp(back, sg, np * sizeof *back), 0, "set_avg_sum/get_avg_sum");
            free(back);
        }
        be[k]->destroy(b);
    }
    cr_expect_eq(memcmp(sg, sc, np * sizeof *sg), 0, "%s: device and CPU sums differ", cur_label);
    cr_expect_eq(memcmp(ag, ac, np * sizeof *ag), 0, "%s: device and CPU averages differ", cur_label);
    free(sg);
    free(sc);
    free(ag);
    free(ac);
    free(p);
    unmake(&s);
}
Test(nn_devices, moving_average_matches_cpu_exactly) { each_backend(moving_average); }

/* Determinism: the same steps twice on a device give the same losses and
 * weights, bit for bit (every sum on the device runs in a fixed order). */
static void steps_repeat(const reel_nn_backend *dev)
{
    setup s;
    make(&s, U, "softmax", 21, 7, 200, 5);
    reel_error err;
    size_t np = s.spec.n_params;
    float *run[2] = {malloc(np * sizeof(float)), malloc(np * sizeof(float))};
    float loss[2][20];
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    for (int k = 0; k < 2; k++) {
        void *b = ready_net(dev, &s);
        for (long t = 0; t < 20; t++)
            cr_assert_geq(dev->train_step(b, (size_t)(t * 10) % s.n, 10, &opt, t + 1, &loss[k][t], &err), 0, "%s",
                          err.msg);
        cr_assert_eq(dev->get_params(b, run[k], &err), 0, "%s", err.msg);
        dev->destroy(b);
    }
    cr_expect_eq(memcmp(loss[0], loss[1], sizeof loss[0]), 0, "%s: the losses differ between two runs", cur_label);
    cr_expect_eq(memcmp(run[0], run[1], np * sizeof(float)), 0, "%s: the weights differ between two runs",
                 cur_label);
    free(run[0]);
    free(run[1]);
    unmake(&s);
}
Test(nn_devices, the_same_steps_give_the_same_bits) { each_backend(steps_repeat); }

/* A backend that trains a whole epoch per call (the fused kernel, one
 * work-group per net) gives the bits of its own step-by-step kernels (with
 * REEL_NO_FUSED): on OpenCL the same sums in the same order (only the loss
 * is reduced in another order, and it feeds nothing back); CUDA's steps use
 * cuBLAS, whose sums differ, so there the two are compared within the
 * tolerance. Also at a batch too large for the
 * fused kernel (it falls back to the step kernels), against the CPU. */
static void train_net(const reel_nn_backend *be, const setup *s, const uint8_t *Y8, long batch, float *out,
                      double *val)
{
    reel_fit_ctx ctx = {.d = 21, .L = 7, .X = s->X, .Y = Y8, .n = 500, .Xv = s->X + 500 * 21, .Yv = Y8 + 500 * 7,
                        .nv = 100, .seed = 4, .threads = 1, .device = "auto", .name = "epoch-test"};
    reel_nn_train_opts o = {.opt = {1e-3, 0.9, 0.999, 1e-8, 1e-3}, .batch_size = batch, .epochs = 2, .patience = 5,
                            .ema = 0.99, .threshold = 0.5f, .seed = 4};
    reel_error err;
    reel_nn_train_result r;
    void *b = be->create(&s->spec, dev_of(be), 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(be->set_params(b, s->params, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_nn_train(&(reel_nn_net){be, b, &s->spec}, &o, &ctx, &r, &err), 0, "%s", err.msg);
    *val = r.best_val_loss;
    cr_assert_eq(be->get_params(b, out, &err), 0, "%s", err.msg);
    reel_history_free(&r.history);
    be->destroy(b);
}

static void epoch_at_once_of(const reel_nn_backend *dev, const char *layers, const char *head, uint64_t seed,
                             int plr)
{
    if (!dev->train_epoch) {
        printf("nn_devices [%s]: no whole-epoch training here\n", cur_label);
        return;
    }
    setup s;
    make(&s, layers, head, 21, 7, 600, 9);
    s.spec.seed = seed;
    uint8_t numeric[21];
    if (plr)
        plr_columns(&s, numeric, 3, 9);
    uint8_t *Y8 = malloc(s.n * 7);
    for (size_t i = 0; i < s.n * 7; i++)
        Y8[i] = s.Y[i] > 0.5f;
    size_t np = s.spec.n_params;
    float *w[3] = {malloc(np * sizeof(float)), malloc(np * sizeof(float)), malloc(np * sizeof(float))};
    double val[3];
    train_net(dev, &s, Y8, 10, w[0], &val[0]);
    setenv("REEL_NO_FUSED", "1", 1); /* the step kernels, inside train_epoch */
    train_net(dev, &s, Y8, 10, w[1], &val[1]);
    unsetenv("REEL_NO_FUSED");
    printf("nn_devices [%s] whole epochs vs steps (%s): val loss %.9g vs %.9g\n", cur_label, layers, val[0], val[1]);
    if (strcmp(dev->name, "opencl") == 0) {
        cr_expect_eq(memcmp(w[0], w[1], np * sizeof(float)), 0, "%s: whole epochs and steps differ", cur_label);
        cr_expect_eq(val[0], val[1]);
    } else {
        cr_expect(close_all("weights, whole epochs vs steps", w[0], w[1], np, 2e-3, 1e-2));
    }
    train_net(&reel_nn_cpu_backend, &s, Y8, 10, w[2], &val[2]);
    cr_expect(close_all("weights after 2 epochs of batch 10, device vs the CPU", w[0], w[2], np, 2e-3, 1e-2));
    train_net(dev, &s, Y8, 300, w[0], &val[0]); /* past the fused kernel's rows */
    train_net(&reel_nn_cpu_backend, &s, Y8, 300, w[2], &val[2]);
    cr_expect(close_all("weights after 2 epochs of batch 300", w[0], w[2], np, 2e-3, 1e-2));
    for (int k = 0; k < 3; k++)
        free(w[k]);
    free(Y8);
    unmake(&s);
}
static void epoch_at_once(const reel_nn_backend *dev) { epoch_at_once_of(dev, U, "softmax", 0, 0); }
static void epoch_at_once_plr(const reel_nn_backend *dev) { epoch_at_once_of(dev, PLR_NET, "sigmoid", 0, 1); }
Test(nn_devices, a_whole_epoch_at_once_gives_the_steps_bits) { each_backend(epoch_at_once); }
Test(nn_devices, a_whole_epoch_at_once_gives_the_steps_bits_with_plr) { each_backend(epoch_at_once_plr); }

/* The same with dropout: the fused kernel computes the masks where it uses
 * them, the layered steps in rk_dropout, both from the same hash. */
static void epoch_at_once_dropout(const reel_nn_backend *dev)
{
    epoch_at_once_of(dev, DROPOUT_LAYERS, "sigmoid", 99, 0);
}
Test(nn_devices, a_whole_epoch_with_dropout_gives_the_steps_bits) { each_backend(epoch_at_once_dropout); }

/* ------------------------------------------------ many nets, one launch */

#define MANY 9
#define MANY_ROWS 600

/* Net k of the many-nets check: its own layer list, head, learning rate,
 * weight decay, batch size, starting weights (seed), fold (every fifth row
 * from k % 5 left out) and row order, for some the moving average, and
 * for nets 1, 2 and 4 dropout at rates of their own (its own masks' seed). Net
 * 5 diverges (lr 1e6 on a softmax head); net 6's batch is past the fused
 * kernel's rows, so it trains alone. Nets 7 and 8 have PLR embeddings of
 * their own frequencies, widths, sigmas and numeric columns. */
typedef struct {
    setup s;
    reel_adamw opt;
    size_t batch, rows;
    uint32_t *order;
    double *avg_a;
    uint8_t numeric[21]; /* a PLR net's numeric columns */
} many_net;

static void many_make(many_net *mn, int k, const float *X, const float *Y)
{
    static const char *const layers[MANY] = {
        BOX, DROPOUT_LAYERS,
        "[{\"width\":33,\"activation\":\"tanh\",\"dropout\":0.2},{\"width\":17,\"activation\":\"none\","
        "\"dropout\":0.5}]",
        BOX, "[{\"width\":5,\"activation\":\"relu\",\"dropout\":0.1}]", U, BOX, PLR_NET,
        "[{\"kind\":\"plr\",\"frequencies\":6,\"sigma\":0.2,\"width\":8},{\"width\":24,\"activation\":\"tanh\"}]"};
    static const char *const heads[MANY] = {"sigmoid", "softmax", "sigmoid", "sigmoid", "sigmoid", "softmax",
                                            "sigmoid", "sigmoid", "softmax"};
    static const size_t batches[MANY] = {10, 32, 7, 256, 3, 10, 300, 16, 8};
    make(&mn->s, layers[k], heads[k], 21, 7, 2, 100 + (uint64_t)k); /* the spec and the starting weights */
    mn->s.spec.seed = 500 + (uint64_t)k;
    if (k >= 7)
        plr_columns(&mn->s, mn->numeric, k == 7 ? 4 : 100, 100 + (uint64_t)k);
    mn->opt = (reel_adamw){k == 5 ? 1e6 : 1e-3 * (k + 1), 0.9, 0.999, 1e-8, 1e-2 * k};
    mn->batch = batches[k];
    mn->rows = 0;
    mn->order = malloc(MANY_ROWS * sizeof *mn->order);
    for (size_t i = 0; i < MANY_ROWS; i++)
        if (i % 5 != (size_t)k % 5)
            mn->order[mn->rows++] = (uint32_t)i;
    reel_rng rng;
    reel_rng_seed(&rng, 7 + (uint64_t)k);
    for (size_t i = mn->rows; i > 1; i--) { /* its own shuffle */
        size_t j = (size_t)(reel_rng_uniform(&rng) * (double)i) % i;
        uint32_t t = mn->order[i - 1];
        mn->order[i - 1] = mn->order[j];
        mn->order[j] = t;
    }
    size_t steps = (mn->rows + mn->batch - 1) / mn->batch;
    mn->avg_a = NULL;
    if (k % 2 == 0) {
        mn->avg_a = malloc(steps * sizeof *mn->avg_a);
        for (size_t i = 0; i < steps; i++)
            mn->avg_a[i] = i % 3 == 2 || i + 1 == steps ? 0.97 : -1.0;
    }
    (void)X;
    (void)Y;
}

/* What a net ends with: weights, AdamW's moments, the average, the loss
 * sum and the first bad step. */
typedef struct {
    float *p, *m, *v, *avg;
    double loss;
    long bad;
} many_out;

/* Two epochs of every net on backend be: together through
 * reel_nn_train_epochs, or each alone through its train_epoch. */
static void many_train(const reel_nn_backend *be, many_net *mn, const float *X, const float *Y, int together,
                       many_out *out, size_t *shared)
{
    reel_error err;
    void *b[MANY];
    for (int k = 0; k < MANY; k++) {
        b[k] = be->create(&mn[k].s.spec, dev_of(be), 1, &err);
        cr_assert_not_null(b[k], "%s", err.msg);
        cr_assert_eq(be->set_params(b[k], mn[k].s.params, &err), 0, "%s", err.msg);
        cr_assert_eq(be->set_data(b[k], X, Y, MANY_ROWS, &err), 0, "%s", err.msg);
        cr_assert_eq(be->set_order(b[k], mn[k].order, mn[k].rows, &err), 0, "%s", err.msg);
    }
    for (int epoch = 0; epoch < 2; epoch++) {
        reel_nn_epoch_job jobs[MANY];
        for (int k = 0; k < MANY; k++) {
            size_t steps = (mn[k].rows + mn[k].batch - 1) / mn[k].batch;
            jobs[k] = (reel_nn_epoch_job){b[k], mn[k].rows, mn[k].batch, &mn[k].opt, epoch * (long)steps,
                                          mn[k].avg_a, 0};
        }
        if (together) {
            cr_assert_eq(reel_nn_train_epochs(be, jobs, MANY, shared, &err), 0, "%s", err.msg);
        } else {
            for (int k = 0; k < MANY; k++)
                cr_assert_eq(reel_nn_train_epochs(be, &jobs[k], 1, NULL, &err), 0, "%s", err.msg);
        }
        cr_expect_eq(jobs[5].bad, 1, "net 5 (lr 1e6) should have a bad step in epoch %d", epoch + 1);
        for (int k = 0; k < MANY; k++)
            cr_expect(k == 5 || !jobs[k].bad, "net %d had a bad step", k);
    }
    for (int k = 0; k < MANY; k++) {
        size_t np = mn[k].s.spec.n_params;
        out[k].p = malloc(np * sizeof(float));
        out[k].m = malloc(np * sizeof(float));
        out[k].v = malloc(np * sizeof(float));
        out[k].avg = malloc(np * sizeof(float));
        cr_assert_eq(be->get_params(b[k], out[k].p, &err), 0, "%s", err.msg);
        cr_assert_eq(be->get_moments(b[k], out[k].m, out[k].v, &err), 0, "%s", err.msg);
        if (mn[k].avg_a)
            cr_assert_eq(be->get_avg(b[k], 0.5, out[k].avg, &err), 0, "%s", err.msg);
        else
            memset(out[k].avg, 0, np * sizeof(float));
        cr_assert_eq(be->take_loss_sum(b[k], &out[k].loss, &err), 0, "%s", err.msg);
        cr_assert_eq(be->first_bad_step(b[k], &out[k].bad, &err), 0, "%s", err.msg);
        be->destroy(b[k]);
    }
}

static void many_free(many_out *o)
{
    for (int k = 0; k < MANY; k++) {
        free(o[k].p);
        free(o[k].m);
        free(o[k].v);
        free(o[k].avg);
    }
}

static void many_nets(const reel_nn_backend *dev)
{
    setup data; /* one copy of the data for every net */
    make(&data, BOX, "sigmoid", 21, 7, MANY_ROWS, 11);
    many_net mn[MANY];
    for (int k = 0; k < MANY; k++)
        many_make(&mn[k], k, data.X, data.Y);
    many_out together[MANY], alone[MANY], cpu[MANY];
    size_t shared = 0;
    many_train(dev, mn, data.X, data.Y, 1, together, &shared);
    many_train(dev, mn, data.X, data.Y, 0, alone, NULL);
    many_train(&reel_nn_cpu_backend, mn, data.X, data.Y, 1, cpu, NULL);
    printf("nn_devices [%s] many nets: %zu of %d shared one launch per epoch\n", cur_label, shared, MANY);
    /* All but net 6, whose batch is past the fused kernel's rows, and net 3
     * (box at batch 256: 675 KiB of work-group memory) only where the
     * device has that much: PoCL's local memory follows the host's cache
     * (1 MiB and more on some hosts, 512 KiB on others), a GPU's 48 to
     * 227 KiB never do. */
    int big_groups = strcmp(dev->name, "opencl") == 0 && cur_local_memory >= 675 * 1024;
    if (dev->train_epochs)
        cr_expect(shared == (size_t)(big_groups ? MANY - 1 : MANY - 2),
                  "%s: %zu nets shared the launch (work-group memory %zu KiB)", cur_label, shared,
                  cur_local_memory / 1024);
    for (int k = 0; k < MANY; k++) {
        size_t np = mn[k].s.spec.n_params;
        char what[96];
        snprintf(what, sizeof what, "net %d together vs alone on the device", k);
        int same = memcmp(together[k].p, alone[k].p, np * sizeof(float)) == 0 &&
                   memcmp(together[k].m, alone[k].m, np * sizeof(float)) == 0 &&
                   memcmp(together[k].v, alone[k].v, np * sizeof(float)) == 0 &&
                   memcmp(together[k].avg, alone[k].avg, np * sizeof(float)) == 0;
        close_all(what, together[k].p, alone[k].p, np, 1e-30, 0);
        cr_expect(same, "%s: net %d trained with the others differs from the same net trained alone", cur_label, k);
        cr_expect_eq(together[k].loss, alone[k].loss, "net %d: loss sum %.17g vs %.17g", k, together[k].loss,
                     alone[k].loss);
        cr_expect_eq(together[k].bad, alone[k].bad, "net %d: bad step %ld vs %ld", k, together[k].bad,
                     alone[k].bad);
        if (k == 5) { /* diverging: chaotic, so only that both saw it */
            cr_expect(together[k].bad > 0 && cpu[k].bad > 0, "net 5 should have diverged (bad steps %ld, CPU %ld)",
                      together[k].bad, cpu[k].bad);
            continue;
        }
        cr_expect_eq(together[k].bad, 0, "net %d: bad step %ld", k, together[k].bad);
        cr_expect_eq(cpu[k].bad, 0, "net %d: bad step %ld on the CPU", k, cpu[k].bad);
        snprintf(what, sizeof what, "net %d together on the device vs the CPU", k);
        cr_expect(close_all(what, together[k].p, cpu[k].p, np, 2e-3, 1e-2), "%s: %s", cur_label, what);
        cr_expect(fabs(together[k].loss - cpu[k].loss) <= 1e-3 * fabs(cpu[k].loss) + 1e-4,
                  "net %d: loss sum %.9g vs the CPU's %.9g", k, together[k].loss, cpu[k].loss);
    }
    many_free(together);
    many_free(alone);
    many_free(cpu);
    for (int k = 0; k < MANY; k++) {
        free(mn[k].order);
        free(mn[k].avg_a);
        unmake(&mn[k].s);
    }
    unmake(&data);
}
Test(nn_devices, many_nets_in_one_launch_equal_each_alone) { each_backend(many_nets); }

/* The training loop over many nets at once (reel_nn_train_many: shuffles,
 * validation, early stopping, the moving average) leaves each net as
 * reel_nn_train leaves it alone, on the device and on the CPU. */
static void loop_many(const reel_nn_backend *be, size_t *shared)
{
    enum { K = 4 };
    setup s[K];
    static const char *const layers[K] = {BOX, U, BOX, "[{\"width\":9,\"activation\":\"relu\",\"dropout\":0.3}]"};
    static const char *const heads[K] = {"sigmoid", "softmax", "sigmoid", "sigmoid"};
    uint8_t *Y8[K];
    reel_fit_ctx ctx[K];
    reel_nn_train_opts o[K];
    for (int k = 0; k < K; k++) {
        make(&s[k], layers[k], heads[k], 21, 7, 400, 30 + (uint64_t)k);
        s[k].spec.seed = 60 + (uint64_t)k;
        Y8[k] = malloc(400 * 7);
        for (size_t i = 0; i < 400 * 7; i++)
            Y8[k][i] = s[k].Y[i] > 0.5f;
        size_t nt = 300 - 20 * (size_t)k; /* one copy of the data, each net its own split of it */
        ctx[k] = (reel_fit_ctx){.d = 21, .L = 7, .X = s[0].X, .Y = Y8[0], .n = nt, .Xv = s[0].X + nt * 21,
                                .Yv = Y8[0] + nt * 7, .nv = 400 - nt, .seed = 3, .threads = 1, .device = "auto",
                                .name = "many-test"};
        o[k] = (reel_nn_train_opts){.opt = {1e-3 * (k + 1), 0.9, 0.999, 1e-8, 1e-3 * k},
                                    .batch_size = k == 2 ? 64 : 10 + k, .epochs = 2 + k, .patience = 1 + k % 2,
                                    .restore_best = k % 2, .ema = k % 2 ? 0 : 0.99, .threshold = 0.5f,
                                    .seed = 5 + (uint64_t)k};
    }
    reel_error err;
    float *w[2][K];
    double val[2][K];
    long ran[2][K];
    for (int together = 0; together < 2; together++) {
        reel_nn_net nets[K];
        reel_nn_train_result r[K];
        const reel_nn_train_opts *op[K];
        const reel_fit_ctx *cp[K];
        for (int k = 0; k < K; k++) {
            void *b = be->create(&s[k].spec, dev_of(be), 1, &err);
            cr_assert_not_null(b, "%s", err.msg);
            cr_assert_eq(be->set_params(b, s[k].params, &err), 0, "%s", err.msg);
            nets[k] = (reel_nn_net){be, b, &s[k].spec};
            op[k] = &o[k];
            cp[k] = &ctx[k];
        }
        if (together) {
            cr_assert_eq(reel_nn_train_many(nets, op, cp, NULL, r, K, shared, &err), 0, "%s", err.msg);
        } else {
            for (int k = 0; k < K; k++)
                cr_assert_eq(reel_nn_train(&nets[k], &o[k], &ctx[k], &r[k], &err), 0, "%s", err.msg);
        }
        for (int k = 0; k < K; k++) {
            w[together][k] = malloc(s[k].spec.n_params * sizeof(float));
            cr_assert_eq(be->get_params(nets[k].b, w[together][k], &err), 0, "%s", err.msg);
            val[together][k] = r[k].best_val_loss;
            ran[together][k] = r[k].epochs_run;
            reel_history_free(&r[k].history);
            be->destroy(nets[k].b);
        }
    }
    for (int k = 0; k < K; k++) {
        if (k) /* net 0 holds the data */
            free(Y8[k]);
        printf("nn_devices [%s] training loop, net %d: %ld epochs, val loss %.9g together, %ld and %.9g alone\n",
               be->name, k, ran[1][k], val[1][k], ran[0][k], val[0][k]);
        cr_expect_eq(memcmp(w[0][k], w[1][k], s[k].spec.n_params * sizeof(float)), 0,
                     "%s: net %d trained in the loop over many nets differs from the net trained alone", be->name,
                     k);
        cr_expect_eq(val[0][k], val[1][k]);
        cr_expect_eq(ran[0][k], ran[1][k]);
        free(w[0][k]);
        free(w[1][k]);
    }
    free(Y8[0]);
    for (int k = 0; k < K; k++)
        unmake(&s[k]);
}

static void loop_many_device(const reel_nn_backend *dev)
{
    size_t shared = 0;
    loop_many(dev, &shared);
    printf("nn_devices [%s] training loop over many nets: up to %zu shared a launch\n", cur_label, shared);
    if (dev->train_epochs)
        cr_expect_eq(shared, 4, "%s: %zu nets shared a launch", cur_label, shared);
}
Test(nn_devices, the_loop_over_many_nets_equals_each_alone) { each_backend(loop_many_device); }
Test(nn_devices, the_loop_over_many_nets_equals_each_alone_on_the_cpu)
{
    size_t shared = 1;
    loop_many(&reel_nn_cpu_backend, &shared);
    cr_expect_eq(shared, 0);
}

/* ------------------------------------- the new recipe through the mlp kind */

/* What the kind's log received: warnings (the note of a net moved to the
 * CPU is one) and progress records (so the sink is known to work). */
typedef struct {
    int warnings, progress;
    char last[512];
} heard;

static void hear(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    heard *h = user;
    h->progress += p != NULL;
    if (level == REEL_LOG_WARNING) {
        h->warnings++;
        snprintf(h->last, sizeof h->last, "%s", message);
    }
}

/* Heavy-tailed raw columns (what "robust" scales and clips), a 0/1 column
 * and labels that follow them. */
static void recipe_data(size_t n, float *X, uint8_t *Y)
{
    reel_rng rng;
    reel_rng_seed(&rng, 21);
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * 4;
        double u = reel_rng_uniform(&rng), v = reel_rng_uniform(&rng), w = reel_rng_uniform(&rng);
        x[0] = (float)(1000.0 * pow(u, 6)); /* a count: most rows small, a few huge */
        x[1] = (float)(2.0 * v - 1.0);
        x[2] = (float)(w < 0.02 ? 500.0 * w : w); /* outliers */
        x[3] = reel_rng_uniform(&rng) < 0.3 ? 1.0f : 0.0f;
        Y[i * 3] = x[0] > 5.0f;
        Y[i * 3 + 1] = x[1] + x[3] > 0.5f;
        Y[i * 3 + 2] = (x[2] > 0.5f) != (x[1] > 0.0f);
    }
}

/* The new recipe's dropout and robust input through the mlp kind on the
 * device: it trains there (no note that a kind moved it to the CPU, the
 * model says it ran on the device), two members in one launch, and its
 * probabilities are the CPU backend's up to rounding (the same transform
 * on the host, the same masks). */
static void recipe_on_device(const reel_nn_backend *dev)
{
    enum { N = 400, NT = 320 };
    float *X = malloc(N * 4 * sizeof *X), *P[2];
    uint8_t *Y = malloc(N * 3);
    recipe_data(N, X, Y);
    char device[64];
    snprintf(device, sizeof device, "%s:%d", dev->name, cur_device);
    const char *params = "{\"layers\": [{\"width\": 32, \"activation\": \"relu\", \"dropout\": 0.2}, "
                         "{\"width\": 16, \"activation\": \"tanh\", \"dropout\": 0.1}], \"input\": \"robust\", "
                         "\"epochs\": 3, \"ensemble\": 2, \"batch_size\": 10, \"lr\": 0.003}";
    const char *devices[2] = {device, "cpu"};
    for (int k = 0; k < 2; k++) {
        heard h = {0};
        reel_log log = {hear, &h, REEL_LOG_INFO};
        reel_fit_ctx c = {.d = 4, .L = 3, .X = X, .Y = Y, .n = NT, .Xv = X + NT * 4, .Yv = Y + NT * 3,
                          .nv = N - NT, .seed = 8, .threads = 1, .log = &log, .device = devices[k], .name = "recipe"};
        reel_error err;
        reel_model m;
        cJSON *p = cJSON_Parse(params);
        cr_assert_eq(reel_model_init(&m, "box", p, &err), 0, "%s", err.msg);
        cJSON_Delete(p);
        cr_assert_eq(reel_model_fit(&m, &c, &err), 0, "%s", err.msg);
        const char *ran = m.kind->device ? m.kind->device(m.state) : "cpu";
        printf("nn_devices [%s] recipe (dropout, robust input) on %s: ran on %s, %d warnings, %d progress records\n",
               cur_label, devices[k], ran, h.warnings, h.progress);
        cr_expect_gt(h.progress, 0, "the log heard nothing");
        cr_expect_eq(h.warnings, 0, "%s: a warning: %s", devices[k], h.last);
        if (k == 0)
            cr_expect(strncmp(ran, "cpu", 3) != 0, "%s: the net trained on %s", device, ran);
        P[k] = malloc(N * 3 * sizeof(float));
        cr_assert_eq(m.kind->predict_proba(m.state, X, N, P[k], &err), 0, "%s", err.msg);
        reel_model_free(&m);
    }
    cr_expect(close_all("recipe: probabilities, device vs the CPU", P[0], P[1], N * 3, 2e-3, 1e-2), "%s", cur_label);
    free(P[0]);
    free(P[1]);
    free(X);
    free(Y);
}
Test(nn_devices, dropout_and_robust_input_train_on_the_device) { each_backend(recipe_on_device); }

/* Cross-fitted members (issue 33) on the device: each member on its own
 * folds, its members in one launch; the model's probabilities and its
 * out-of-fold probabilities are the CPU backend's up to rounding. */
static void crossfit_on_device(const reel_nn_backend *dev)
{
    enum { N = 400, NT = 320 };
    float *X = malloc(N * 4 * sizeof *X), *P[2], *O[2];
    uint8_t *Y = malloc(N * 3);
    recipe_data(N, X, Y);
    char device[64];
    snprintf(device, sizeof device, "%s:%d", dev->name, cur_device);
    const char *params = "{\"layers\": [{\"width\": 16, \"activation\": \"relu\"}], \"members\": \"cross-fit\", "
                         "\"epochs\": 3, \"ensemble\": 3, \"batch_size\": 10, \"lr\": 0.003}";
    const char *devices[2] = {device, "cpu"};
    for (int k = 0; k < 2; k++) {
        reel_fit_ctx c = {.d = 4, .L = 3, .X = X, .Y = Y, .n = NT, .Xv = X + NT * 4, .Yv = Y + NT * 3,
                          .nv = N - NT, .seed = 8, .threads = 1, .device = devices[k], .name = "crossfit"};
        reel_error err;
        reel_model m;
        cJSON *p = cJSON_Parse(params);
        cr_assert_eq(reel_model_init(&m, "box", p, &err), 0, "%s", err.msg);
        cJSON_Delete(p);
        cr_assert_eq(reel_model_fit(&m, &c, &err), 0, "%s", err.msg);
        const char *ran = m.kind->device ? m.kind->device(m.state) : "cpu";
        if (k == 0)
            cr_expect(strncmp(ran, "cpu", 3) != 0, "%s: the net trained on %s", device, ran);
        P[k] = malloc(N * 3 * sizeof(float));
        O[k] = malloc(N * 3 * sizeof(float));
        cr_assert_eq(m.kind->predict_proba(m.state, X, N, P[k], &err), 0, "%s", err.msg);
        size_t n_oof;
        const float *oof = reel_model_oof(&m, &n_oof);
        cr_assert(oof && n_oof == N, "%s: %zu out-of-fold rows", devices[k], n_oof);
        memcpy(O[k], oof, N * 3 * sizeof(float));
        reel_model_free(&m);
    }
    cr_expect(close_all("cross-fit: probabilities, device vs the CPU", P[0], P[1], N * 3, 2e-3, 1e-2), "%s",
              cur_label);
    cr_expect(close_all("cross-fit: out-of-fold probabilities, device vs the CPU", O[0], O[1], N * 3, 2e-3, 1e-2),
              "%s", cur_label);
    for (int k = 0; k < 2; k++) {
        free(P[k]);
        free(O[k]);
    }
    free(X);
    free(Y);
}
Test(nn_devices, cross_fitted_members_train_on_the_device) { each_backend(crossfit_on_device); }

/* ------------------------------------------- wide PLR embeddings (issue 27) */

/* Two epochs of net s (batch `batch`) through reel_nn_train_epochs on be;
 * the weights, the loss sum and how many nets shared a fused launch. */
static void wide_epochs(const reel_nn_backend *be, const setup *s, size_t batch, float *w, double *loss,
                        size_t *shared)
{
    reel_error err;
    void *b = ready_net(be, s);
    reel_adamw opt = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    size_t steps = (s->n + batch - 1) / batch;
    *shared = 0;
    for (int epoch = 0; epoch < 2; epoch++) {
        reel_nn_epoch_job job = {b, s->n, batch, &opt, epoch * (long)steps, NULL, 0};
        size_t sh = 0;
        cr_assert_eq(reel_nn_train_epochs(be, &job, 1, &sh, &err), 0, "%s", err.msg);
        cr_expect_eq(job.bad, 0, "%s: a bad step", cur_label);
        *shared += sh;
    }
    cr_assert_eq(be->get_params(b, w, &err), 0, "%s", err.msg);
    cr_assert_eq(be->take_loss_sum(b, loss, &err), 0, "%s", err.msg);
    be->destroy(b);
}

/* The layers of the PLR nets below: an embedding of `width` values a
 * column before a Linear of 16. */
static void plr_layers(char *buf, size_t size, size_t width)
{
    snprintf(buf, size,
             "[{\"kind\":\"plr\",\"frequencies\":4,\"sigma\":0.5,\"width\":%zu},{\"width\":16,"
             "\"activation\":\"relu\"}]",
             width);
}

/* The fused kernel's work-group floats (nn/fused_plan.h) of that net over
 * d columns at `batch` rows. */
static size_t plr_fused_floats(size_t width, size_t d, size_t batch)
{
    char layers[200];
    plr_layers(layers, sizeof layers, width);
    cJSON *j = cJSON_Parse(layers);
    reel_nn_spec spec;
    reel_error err;
    cr_assert_eq(reel_nn_spec_build(&spec, j, "sigmoid", d, 7, &err), 0, "%s", err.msg);
    cJSON_Delete(j);
    return reel_fused_floats(&spec, batch);
}

/* PLR embeddings at the edge of the fused kernel's work-group memory,
 * sized from what the device reports (the runtimes keep RK_FUSED_STATIC of
 * it for the kernel's own arrays): the widest embedding whose step fits
 * takes the fused kernel (one net a launch) and one value wider does not
 * (no net shares a fused launch: the layered kernels); and one so wide
 * that the batch's embedding alone (batch x numeric columns x width
 * floats) is more than the whole work-group memory. Every one gives the
 * CPU's results: the widest fused one would not if the budget undercounted
 * the embedding, which the kernel keeps after the batch. A narrow one takes
 * the fused kernel too. */
static void plr_too_wide(const reel_nn_backend *dev)
{
    if (!dev->train_epochs) {
        printf("nn_devices [%s]: no fused kernel here\n", cur_label);
        return;
    }
    cr_assert_gt(cur_wg_memory, RK_FUSED_STATIC, "%s: the runtime says no work-group memory", cur_label);
    const size_t d = 63, batch = 10, rows = 300, scratch = cur_wg_memory - RK_FUSED_STATIC;
    size_t lo = 1, hi = 4096; /* the widest that fits: lo fits, hi does not */
    cr_assert_leq(plr_fused_floats(lo, d, batch) * sizeof(float), scratch);
    cr_assert_gt(plr_fused_floats(hi, d, batch) * sizeof(float), scratch);
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        *(plr_fused_floats(mid, d, batch) * sizeof(float) <= scratch ? &lo : &hi) = mid;
    }
    size_t alone = cur_wg_memory / (batch * d * sizeof(float)) + 1;
    cr_assert_leq(alone, 4096, "%s: %zu KiB of work-group memory needs a PLR width past 4096", cur_label,
                  cur_wg_memory / 1024);
    size_t widths[4] = {2, lo, lo + 1, alone};
    int fused[4] = {1, 1, 0, 0};
    for (int k = 0; k < 4; k++) {
        char layers[200];
        plr_layers(layers, sizeof layers, widths[k]);
        setup s;
        make(&s, layers, "sigmoid", d, 7, rows, 61);
        cr_assert_eq(s.spec.plr.n_num, d);
        size_t np = s.spec.n_params;
        float *wd = malloc(np * sizeof(float)), *wc = malloc(np * sizeof(float));
        double ld, lc;
        size_t shared, cpu_shared;
        wide_epochs(dev, &s, batch, wd, &ld, &shared);
        wide_epochs(&reel_nn_cpu_backend, &s, batch, wc, &lc, &cpu_shared);
        printf("nn_devices [%s] PLR width %zu (a step's %zu KiB, its embedding %zu KiB; work-group memory %zu KiB): "
               "%zu of 2 epochs fused; loss sum %.9g vs the CPU's %.9g\n",
               cur_label, widths[k], plr_fused_floats(widths[k], d, batch) * sizeof(float) / 1024,
               batch * d * widths[k] * sizeof(float) / 1024, cur_wg_memory / 1024, shared, ld, lc);
        cr_expect_eq(shared, fused[k] ? 2 : 0, "%s: PLR width %zu %s the fused kernel", cur_label, widths[k],
                     fused[k] ? "should take" : "took");
        char what[96];
        snprintf(what, sizeof what, "weights after 2 epochs, PLR width %zu, device vs the CPU", widths[k]);
        cr_expect(close_all(what, wd, wc, np, 2e-3, 1e-2), "%s: %s", cur_label, what);
        cr_expect(fabs(ld - lc) <= 1e-4 * fabs(lc), "%s: loss sum %.9g vs the CPU's %.9g", cur_label, ld, lc);
        free(wd);
        free(wc);
        unmake(&s);
    }
}
Test(nn_devices, a_plr_embedding_past_the_work_group_memory_trains_layered) { each_backend(plr_too_wide); }

/* Evaluation in smaller passes (REEL_EVAL_FLOATS lowers the bound of
 * REEL_NN_EVAL_FLOATS) gives the bits of the usual chunk: the layers run
 * pass by pass, the head and the loss over the whole chunk. 4,400 rows: a
 * device's two chunks of up to 4,096, the CPU's 18 of 256. */
static void eval_passes_on(const reel_nn_backend *be, int exact)
{
    setup s;
    uint8_t numeric[21];
    const size_t n = 4400, L = 7;
    make(&s, PLR_NET, "sigmoid", 21, L, n, 71);
    plr_columns(&s, numeric, 4, 71);
    reel_error err;
    float *P[2] = {malloc(n * L * sizeof(float)), malloc(n * L * sizeof(float))};
    double loss[2];
    size_t rows[2];
    for (int k = 0; k < 2; k++) {
        if (k)
            setenv("REEL_EVAL_FLOATS", "3000", 1); /* a few rows a pass */
        void *b = ready_net(be, &s);
        unsetenv("REEL_EVAL_FLOATS");
        rows[k] = be->eval_rows(b);
        cr_assert_eq(be->eval_loss(b, s.X, s.Y, n, &loss[k], P[k], &err), 0, "%s", err.msg);
        be->destroy(b);
    }
    printf("nn_devices [%s] eval passes of %zu rows vs %zu: loss %.17g vs %.17g\n", be->name, rows[1], rows[0],
           loss[1], loss[0]);
    cr_expect(rows[1] < rows[0] && rows[1] >= 1, "%s: passes of %zu rows, usually %zu", be->name, rows[1],
              rows[0]);
    if (exact) {
        cr_expect_eq(memcmp(P[0], P[1], n * L * sizeof(float)), 0, "%s: probabilities differ by the pass size",
                     be->name);
        cr_expect_eq(loss[0], loss[1], "%s: loss %.17g vs %.17g", be->name, loss[1], loss[0]);
    } else { /* cuBLAS may sum a product of other rows in another order */
        cr_expect(close_all("probabilities in small passes vs the usual chunk", P[1], P[0], n * L, 1e-6, 1e-5));
        cr_expect(fabs(loss[0] - loss[1]) <= 1e-6 * fabs(loss[0]));
    }
    free(P[0]);
    free(P[1]);
    unmake(&s);
}

/* A wide table's PLR net (500 numeric columns, 16 frequencies, width 16:
 * 16,000 floats of features a row, 262 MB at 4,096 rows) evaluates in
 * passes within REEL_NN_EVAL_FLOATS on be, made with `threads`. What must
 * fit: on a device a pass's features and embedding; on the CPU, which
 * keeps no features, every thread's two buffers of the embedding's width. */
static void eval_passes_wide(const reel_nn_backend *be, int threads, size_t usual)
{
    setup s;
    const size_t d = 500;
    make(&s, "[{\"kind\":\"plr\",\"frequencies\":16,\"sigma\":0.1,\"width\":16},{\"width\":64,\"activation\":"
             "\"relu\"}]",
         "sigmoid", d, 3, 8, 72);
    reel_error err;
    void *b = be->create(&s.spec, dev_of(be), threads, &err);
    cr_assert_not_null(b, "%s", err.msg);
    size_t rows = be->eval_rows(b), features = d * 2 * 16, embedding = d * 16;
    printf("nn_devices [%s] a 500-column PLR net evaluates %zu rows a pass (usually %zu)\n", be->name, rows, usual);
    cr_expect(rows < usual, "%s: %zu rows a pass", be->name, rows);
    size_t per_row = be == &reel_nn_cpu_backend ? (size_t)threads * 2 * embedding : features + embedding;
    cr_expect_leq(rows * per_row, REEL_NN_EVAL_FLOATS, "%s: %zu rows of %zu floats", be->name, rows, per_row);
    /* and it predicts */
    float *P = malloc(8 * 3 * sizeof(float));
    cr_assert_eq(be->set_params(b, s.params, &err), 0, "%s", err.msg);
    cr_assert_eq(be->predict(b, s.X, 8, P, &err), 0, "%s", err.msg);
    be->destroy(b);
    free(P);
    unmake(&s);
}

static void eval_passes_device(const reel_nn_backend *dev)
{
    eval_passes_on(dev, strcmp(dev->name, "cuda") != 0);
    eval_passes_wide(dev, 1, RK_EVAL_CHUNK);
}
Test(nn_devices, a_wide_net_evaluates_in_smaller_passes_with_the_same_bits) { each_backend(eval_passes_device); }
Test(nn_devices, a_wide_net_evaluates_in_smaller_passes_with_the_same_bits_on_the_cpu)
{
    eval_passes_on(&reel_nn_cpu_backend, 1);
    eval_passes_wide(&reel_nn_cpu_backend, 16, 256);
}
