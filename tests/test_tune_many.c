/* search and select on the nets with a device backend (in CI: OpenCL on
 * PoCL) fit each round of trials x folds together (one launch per epoch
 * over one copy of the data), and score every trial with the same bits as
 * fitting them one at a time (REEL_NETS_ALONE=1, the path the CPU backend
 * keeps); compare's nets likewise. With no OpenCL device the suite is reported as skipped, unless
 * REEL_TEST_REQUIRE_OPENCL is set (scripts/test.sh sets it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "helpers.h"
#include "eval/run.h"
#include "nn/opencl.h"
#include "nn/spec.h"
#include "tune/search.h"
#include "tune/select.h"

/* Label A follows a, B follows a + b; c is noise; g a text column (its
 * one-hot group is one feature of another width). */
static const char *many_csv(void)
{
    static char csv[1 << 16];
    strcpy(csv, "a,b,c,g,A,B\n");
    unsigned s = 11;
    for (int i = 0; i < 1200; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)((s >> 8) % 100);
        s = s * 1103515245u + 12345u;
        int b = (int)((s >> 8) % 100);
        s = s * 1103515245u + 12345u;
        int c = (int)((s >> 8) % 1000);
        const char *g = a % 3 == 0 ? "x" : (a % 3 == 1 ? "y" : "z");
        sprintf(csv + strlen(csv), "%d,%d,%d,%s,%d,%d\n", a, b, c, g, a > 50 || c % 7 == 0, a + b > 100 || a % 3 == 0);
    }
    return tmp_write("many.csv", csv);
}

static void prepare(reel_prepared *p)
{
    reel_prepare_opts o = {0};
    o.data.data = many_csv();
    o.data.labels = "A,B";
    o.split = (reel_split_opts){.seed = 4, .test_fraction = 0.2, .valid_fraction = 0.2};
    o.top_k = 10;
    reel_error err;
    cr_assert_eq(reel_prepare(p, &o, &err), 0, "%s", err.msg);
}

/* "opencl:N" for the first OpenCL device that can train nets, or NULL
 * (then the test is skipped, or fails when CI requires OpenCL). */
static const char *opencl_device(void)
{
    static char dev[32];
    const reel_nn_runtime *rt = &reel_nn_opencl_runtime;
    for (int i = 0; i < rt->count(); i++) {
        reel_nn_device_info info;
        if (rt->info(i, &info) == 0 && info.usable) {
            snprintf(dev, sizeof dev, "opencl:%d", i);
            printf("tune_many: on opencl:%d %s\n", i, info.name);
            return dev;
        }
    }
    if (getenv("REEL_TEST_REQUIRE_OPENCL"))
        cr_assert_fail("REEL_TEST_REQUIRE_OPENCL is set but no OpenCL device was found: %s",
                       rt->absent_reason());
    REEL_SKIP("no OpenCL device (%s)", rt->absent_reason());
    return NULL;
}

/* One net per fit ("ensemble": 1), so nets per launch count fits; the same
 * label smoothing for every model (other targets are other data, another launch).
 * The layers are the original's, written out: these tests are of the device
 * path's launches, not of the default shapes. */
#define BOX_LAYERS TEST_BOX_8X64
#define U_LAYERS                                                                              \
    "[{\"width\": 64, \"activation\": \"none\"}, {\"width\": 32, \"activation\": \"relu\"}, " \
    "{\"width\": 16, \"activation\": \"relu\"}, {\"width\": 8, \"activation\": \"relu\"}, "   \
    "{\"width\": 16, \"activation\": \"relu\"}, {\"width\": 32, \"activation\": \"relu\"}, "  \
    "{\"width\": 64, \"activation\": \"relu\"}, {\"width\": 128, \"activation\": \"relu\"}, " \
    "{\"width\": 64, \"activation\": \"relu\"}]"
static const char *BASE = "{\"epochs\": 5, \"width\": 8, \"lr\": 0.01, \"ema\": 0.9, \"patience\": 2, \"ensemble\": 1, "
                           "\"label_smoothing\": 0.1, \"layers\": " BOX_LAYERS "}";

static void search_on(reel_prepared *p, const char *device, int folds, int alone, reel_search_result *r,
                       int *together)
{
    if (alone)
        setenv("REEL_NETS_ALONE", "1", 1);
    else
        unsetenv("REEL_NETS_ALONE");
    reel_scorer sc;
    reel_error err;
    cr_assert_eq(reel_scorer_init(&sc, p, "box", "samples-f1", folds, 5, device, &err), 0, "%s", err.msg);
    *together = reel_scorer_together(&sc);
    /* widths, batch sizes, learning rates, heads: any mix shares a launch */
    cJSON *grid = cJSON_Parse("{\"lr\": [0.003, 0.03], \"batch_size\": [16, 40], \"head\": [\"softmax\"], "
                              "\"width\": [4]}");
    cJSON *base = cJSON_Parse(BASE);
    reel_search_opts o = {"one-at-a-time", 0, 2, NULL, NULL};
    cr_assert_eq(reel_search(&sc, grid, base, &o, r, &err), 0, "%s", err.msg);
    cJSON_Delete(grid);
    cJSON_Delete(base);
    reel_scorer_free(&sc);
    unsetenv("REEL_NETS_ALONE");
}

static void search_together_equals_alone(int folds)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    reel_prepared p;
    prepare(&p);
    reel_search_result a, b;
    int ta, tb;
    search_on(&p, dev, folds, 0, &a, &ta);
    search_on(&p, dev, folds, 1, &b, &tb);
    cr_assert(ta, "nets on %s should train together", dev);
    cr_assert_not(tb, "REEL_NETS_ALONE=1 should train them one at a time");
    cr_assert_eq(a.n, b.n);
    cr_assert_geq(a.n, 6);
    size_t k = folds ? (size_t)folds : 1, distinct = 0;
    for (size_t i = 0; i < a.n; i++) {
        size_t j = 0;
        while (j < i && a.trials[j].score != a.trials[i].score)
            j++;
        distinct += j == i;
        char *pa = cJSON_PrintUnformatted(a.trials[i].params);
        printf("tune_many: folds %d, trial %zu %s: %.17g together (%zu nets per launch), %.17g alone\n", folds, i,
               pa, a.trials[i].score, a.trials[i].shared, b.trials[i].score);
        cr_expect_eq(a.trials[i].score, b.trials[i].score, "trial %zu %s: %.17g together, %.17g alone", i, pa,
                     a.trials[i].score, b.trials[i].score);
        cr_expect_eq(a.trials[i].score_std, b.trials[i].score_std);
        cr_expect_eq(a.trials[i].plain, b.trials[i].plain);
        cr_expect_geq(a.trials[i].shared, k, "trial %zu trained with %zu nets per launch", i, a.trials[i].shared);
        cr_expect_eq(b.trials[i].shared, 0);
        cJSON_free(pa);
    }
    /* scores that differ between trials: a mix-up between nets would show */
    cr_assert_geq(distinct, 4, "only %zu distinct scores: the data do not tell the trials apart", distinct);
    /* one process: each round's fits, all of them, in one launch */
    cr_assert_eq(a.n_rounds, b.n_rounds);
    for (size_t i = 0; i < a.n_rounds; i++) {
        cr_expect_eq(a.rounds[i].fits, a.rounds[i].tasks * k);
        cr_expect_eq(a.rounds[i].shared, a.rounds[i].fits, "round %zu: %zu of %zu fits shared a launch", i,
                     a.rounds[i].shared, a.rounds[i].fits);
        cr_expect_eq(b.rounds[i].shared, 0);
    }
    cJSON *doc = reel_tune_rounds_json(a.rounds, a.n_rounds, "trials");
    const cJSON *r0 = cJSON_GetArrayItem(doc, 1);
    cr_assert_not_null(r0);
    cr_expect_eq(cJSON_GetObjectItem(r0, "nets_per_launch")->valuedouble, (double)a.rounds[1].shared);
    cJSON_Delete(doc);
    reel_search_result_free(&a);
    reel_search_result_free(&b);
    reel_prepared_free(&p);
}

Test(tune_many, search_rounds_in_one_launch_validation_split) { search_together_equals_alone(0); }
Test(tune_many, search_rounds_in_one_launch_3_folds) { search_together_equals_alone(3); }

/* The CPU backend is unchanged: trials in parallel threads. */
Test(tune_many, cpu_backend_keeps_threads)
{
    reel_prepared p;
    prepare(&p);
    reel_search_result r;
    int together;
    search_on(&p, "cpu", 2, 0, &r, &together);
    cr_assert_not(together);
    for (size_t i = 0; i < r.n_rounds; i++)
        cr_expect_eq(r.rounds[i].shared, 0);
    reel_search_result_free(&r);
    reel_prepared_free(&p);
}

/* select: candidates without one feature each share a launch when their
 * inputs are as wide; the one-hot group (another width) trains apart. */
Test(tune_many, select_together_equals_alone)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    reel_prepared p;
    prepare(&p);
    reel_select_result r[2];
    for (int alone = 0; alone < 2; alone++) {
        if (alone)
            setenv("REEL_NETS_ALONE", "1", 1);
        reel_scorer sc;
        reel_error err;
        cr_assert_eq(reel_scorer_init(&sc, &p, "box", "samples-f1", 2, 5, dev, &err), 0, "%s", err.msg);
        cJSON *params = cJSON_Parse(BASE);
        cr_assert_eq(reel_select(&sc, params, "single-pass", 2, NULL, &r[alone], &err), 0, "%s", err.msg);
        cJSON_Delete(params);
        reel_scorer_free(&sc);
        unsetenv("REEL_NETS_ALONE");
    }
    cr_assert_eq(r[0].n, r[1].n);
    cr_assert_eq(r[0].reference, r[1].reference);
    for (size_t g = 0; g < r[0].n; g++) {
        printf("tune_many: select without %s: %.17g together, %.17g alone\n", r[0].f[g].name, r[0].f[g].delta,
               r[1].f[g].delta);
        cr_expect_eq(r[0].f[g].delta, r[1].f[g].delta, "without %s", r[0].f[g].name);
    }
    cr_assert_eq(r[0].n_rounds, 3);
    /* a, b and c are one column each (3 candidates x 2 folds); g's group is not */
    cr_expect_eq(r[0].rounds[1].shared, 6, "%zu nets per launch", r[0].rounds[1].shared);
    cr_expect_eq(r[1].rounds[1].shared, 0);
    reel_select_result_free(&r[0]);
    reel_select_result_free(&r[1]);
    reel_prepared_free(&p);
}

/* compare's nets: fitted together (reel_run_models_together), each gives
 * the test probabilities it gives fitted alone, bit for bit; box as an
 * ensemble of 2, whose members share the launch too (4 nets in it). */
Test(tune_many, compare_nets_together_equal_alone)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    reel_prepared p;
    prepare(&p);
    enum { M = 3 };
    char *names[M] = {"box", "u", "box_original"};
    cJSON *params[M];
    const cJSON *pp[M];
    for (int i = 0; i < M; i++)
        pp[i] = params[i] = cJSON_Parse(BASE);
    cJSON_ReplaceItemInObject(params[0], "ensemble", cJSON_CreateNumber(2));
    cJSON_ReplaceItemInObject(params[1], "layers", cJSON_Parse(U_LAYERS));
    reel_run_opts o = {.seed = 6, .threads = 2, .device = dev};
    reel_run together[M], alone;
    reel_error err;
    cr_assert_eq(reel_run_models_together(together, &p, names, pp, M, &o, &err), 0, "%s", err.msg);
    for (int i = 0; i < M; i++) {
        cr_assert_eq(reel_run_model(&alone, &p, names[i], pp[i], &o, &err), 0, "%s", err.msg);
        printf("tune_many: compare %s: test samples-F1 %.17g together (%zu nets per launch), %.17g alone\n",
               names[i], together[i].metrics.samples_f1, together[i].shared, alone.metrics.samples_f1);
        cr_expect_eq(together[i].shared, M + 1);
        cr_expect_eq(alone.shared, 0);
        cr_expect_eq(memcmp(together[i].P, alone.P, p.test.n * p.L * sizeof(float)), 0,
                     "%s: test probabilities differ", names[i]);
        cr_expect_eq(together[i].metrics.samples_f1, alone.metrics.samples_f1);
        reel_run_free(&alone);
        reel_run_free(&together[i]);
        cJSON_Delete(params[i]);
    }
    reel_prepared_free(&p);
}

/* One device copy per launch group: a net given another's data through
 * share_data trains exactly as one given its own copy, also after the net
 * that made the copy is gone (the buffer is reference counted). */
Test(tune_many, shared_device_copy_of_the_data)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    reel_error err;
    int device = atoi(dev + 7);
    const reel_nn_backend *be = reel_nn_opencl_runtime.backend();
    cr_assert_not_null(be->share_data);
    enum { N = 96, D = 5, L = 2 };
    cJSON *params = cJSON_Parse("{\"layers\": [{\"width\": 8, \"activation\": \"relu\"}, "
                                "{\"width\": 6, \"activation\": \"tanh\"}]}");
    reel_nn_spec spec;
    cr_assert_eq(reel_nn_spec_from_params(&spec, params, D, L, &err), 0, "%s", err.msg);
    cJSON_Delete(params);
    float *w0 = malloc(spec.n_params * sizeof *w0), *w[2];
    reel_nn_init_params(&spec, 17, w0);
    float X[N * D], Y[N * L];
    uint32_t order[N];
    unsigned s = 3;
    for (int i = 0; i < N * D; i++) {
        s = s * 1103515245u + 12345u;
        X[i] = (float)((s >> 8) % 1000) / 250.0f - 2.0f;
    }
    for (int i = 0; i < N; i++) {
        Y[i * L] = X[i * D] > 0;
        Y[i * L + 1] = X[i * D + 1] + X[i * D + 2] > 0.5f;
        order[i] = (uint32_t)((i * 37) % N);
    }
    reel_adamw opt = {0.01, 0.9, 0.999, 1e-8, 0.001};
    for (int shared = 0; shared < 2; shared++) {
        void *a = be->create(&spec, device, 1, &err), *b = be->create(&spec, device, 1, &err);
        cr_assert(a && b, "%s", err.msg);
        cr_assert_eq(be->set_data(a, X, Y, N, &err), 0, "%s", err.msg);
        cr_assert_eq(shared ? be->share_data(b, a, &err) : be->set_data(b, X, Y, N, &err), 0, "%s", err.msg);
        be->destroy(a);
        cr_assert_eq(be->set_params(b, w0, &err), 0, "%s", err.msg);
        cr_assert_eq(be->set_order(b, order, N, &err), 0, "%s", err.msg);
        for (int e = 0; e < 3; e++)
            cr_assert_geq(be->train_epoch(b, 16, &opt, e * 6L, NULL, &err), 0, "%s", err.msg);
        w[shared] = malloc(spec.n_params * sizeof(float));
        cr_assert_eq(be->get_params(b, w[shared], &err), 0, "%s", err.msg);
        be->destroy(b);
    }
    cr_expect_neq(memcmp(w[0], w0, spec.n_params * sizeof(float)), 0, "training changed nothing");
    cr_expect_eq(memcmp(w[0], w[1], spec.n_params * sizeof(float)), 0,
                 "a net on a shared copy of the data trained differently");
    free(w0);
    free(w[0]);
    free(w[1]);
}

/* The commands: compare and search say on stderr and in their JSON how
 * many nets shared a launch. */
Test(tune_many, commands_report_nets_per_launch)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    /* one net per fit, so nets per launch count fits */
    const char *pf = tmp_write("many_params.json", "{\"box\": {\"epochs\": 2, \"width\": 8, \"ensemble\": 1, "
                                                   "\"layers\": " BOX_LAYERS "}, \"u\": {\"epochs\": 2, \"width\": 8, "
                                                   "\"ensemble\": 1, \"layers\": " U_LAYERS "}}");
    const char *gf = tmp_write("many_grid.json", "{\"seed\": [1, 2, 3]}");
    char args[2048], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models box,tree,u --params %s --device %s "
             "--format json", many_csv(), pf, dev);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(err, "2 nets train together on --device"), "%s", err);
    cr_expect(strstr(err, "box: samples-F1") && strstr(err, "(2 nets per launch)"), "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    const cJSON *m;
    int nets = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "models"))
    {
        int is_net = strcmp(cJSON_GetObjectItem(m, "name")->valuestring, "tree") != 0;
        cr_expect_eq(cJSON_GetObjectItem(m, "nets_per_launch")->valuedouble, is_net ? 2 : 0);
        nets += is_net;
    }
    cr_expect_eq(nets, 2);
    cJSON_Delete(doc);
    free(out);
    free(err);
    snprintf(args, sizeof args, "search --data %s --labels A,B --model box --params %s --grid %s --strategy grid "
             "--folds 2 --device %s --format json", many_csv(), pf, gf, dev);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(err, "trials x folds train together"), "%s", err);
    cr_expect(strstr(err, "6 nets per launch"), "%s", err);
    doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    const cJSON *rounds = cJSON_GetObjectItem(doc, "rounds");
    cr_assert_eq(cJSON_GetArraySize(rounds), 2); /* the defaults, then the 3 seeds */
    cr_expect_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rounds, 1), "fits")->valuedouble, 6);
    cr_expect_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rounds, 1), "nets_per_launch")->valuedouble, 6);
    cJSON_Delete(doc);
    free(out);
    free(err);
}

/* The default nets on a device (issue 33's shapes, with dropout): they
 * train there, together, with no note of a kind the device lacks, and a
 * search says nothing of one either. */
Test(tune_many, default_nets_train_on_the_device)
{
    const char *dev = opencl_device();
    if (!dev)
        return;
    const char *pf = tmp_write("note_params.json", "{\"box\": {\"epochs\": 1, \"width\": 8, \"ensemble\": 2}, "
                                                   "\"u\": {\"epochs\": 1, \"width\": 8, \"ensemble\": 2}}");
    const char *gf = tmp_write("note_grid.json", "{\"seed\": [1, 2]}");
    char args[2048], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models box,u --params %s --device %s "
             "--format json", many_csv(), pf, dev);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect_null(strstr(err, "trains on the CPU"), "%s", err);
    cr_expect(strstr(err, "2 nets train together on --device"), "%s", err);
    cr_expect(strstr(err, "(4 nets per launch)"), "two nets of two members: %s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "search --data %s --labels A,B --model box --params %s --grid %s --strategy grid "
             "--folds 2 --device %s --format json", many_csv(), pf, gf, dev);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect_null(strstr(err, "trains on the CPU"), "%s", err);
    cr_expect(strstr(err, "trials x folds train together"), "%s", err);
    free(out);
    free(err);
}
