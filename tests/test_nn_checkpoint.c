/* Nothing lost in a net's training: a checkpoint resumes an interrupted
 * run with bit-identical results, a checkpoint of another run is refused,
 * and a non-finite loss stops training at the step it appears, keeping the
 * last good weights. All on the CPU backend. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "nn_fixture.h"
#include "nn/checkpoint.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/rng.h"

static void *net(reel_nn_spec *s, const reel_nn_backend *be)
{
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 8}, {\"width\": 6, \"activation\": \"tanh\"}]");
    cr_assert_eq(reel_nn_spec_build(s, l, "sigmoid", 4, 3, &err), 0);
    cJSON_Delete(l);
    float *p = malloc(s->n_params * sizeof *p);
    reel_nn_init_params(s, 1, p);
    void *b = be->create(s, 0, 1, &err);
    cr_assert_not_null(b);
    be->set_params(b, p, &err);
    free(p);
    return b;
}

/* A CPU backend that receives Ctrl-C during step `interrupt_at`. */
static long interrupt_at, steps_seen;
static int step_then_interrupt(void *b, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                               reel_error *err)
{
    if (++steps_seen == interrupt_at)
        raise(SIGINT);
    return reel_nn_cpu_backend.train_step(b, start, n, opt, step, loss, err);
}

/* Trains to the end (resuming when the checkpoint exists); returns the
 * final weights and fills r. rc: what reel_nn_train returned. */
static float *train(const reel_nn_backend *be, const reel_nn_train_opts *o, const data *t, reel_nn_train_result *r,
                    int *rc, reel_error *err)
{
    reel_fit_ctx c = ctx_for(t, 300, 1);
    reel_nn_spec s;
    void *b = net(&s, be);
    *rc = reel_nn_train(&(reel_nn_net){be, b, &s}, o, &c, r, err);
    float *w = malloc(s.n_params * sizeof *w);
    be->get_params(b, w, err);
    be->destroy(b);
    return w;
}

static reel_nn_train_opts opts(const char *checkpoint, const cJSON *run)
{
    reel_nn_train_opts o = {.opt = {3e-3, 0.9, 0.999, 1e-8, 1e-3}, .batch_size = 7, .epochs = 12, .patience = 3,
                            .min_delta = 0.001, .patience_from_best = 0, .restore_best = 1, .ema = 0.9,
                            .threshold = 0.5f, .seed = 3, .checkpoint = checkpoint, .run = run};
    return o;
}

static size_t n_params(void)
{
    reel_nn_spec s;
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 8}, {\"width\": 6, \"activation\": \"tanh\"}]");
    reel_nn_spec_build(&s, l, "sigmoid", 4, 3, &err);
    cJSON_Delete(l);
    return s.n_params;
}

/* Interrupted in epoch 4, then resumed: the same final weights, history,
 * best epoch and stopping point as one uninterrupted run, bit for bit
 * (moving average, early stopping and the shuffle PRNG included). */
Test(nn_checkpoint, interrupted_run_resumes_identically)
{
    data t = make_data(400, 2);
    cJSON *run = cJSON_Parse("{\"model\": \"t\", \"params\": {\"lr\": 0.003, \"epochs\": 12}}");
    reel_error err;
    reel_nn_train_result whole, part, rest;
    int rc;
    reel_nn_train_opts o = opts(NULL, run);
    float *w_whole = train(&reel_nn_cpu_backend, &o, &t, &whole, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);

    const char *ck = tmp_path("resume.ckpt");
    remove(ck);
    o = opts(ck, run);
    reel_nn_backend flaky = reel_nn_cpu_backend;
    flaky.train_step = step_then_interrupt;
    reel_interrupt_install();
    steps_seen = 0;
    interrupt_at = 3 * 43 + 10; /* 300 rows / 7 = 43 steps an epoch: step 10 of epoch 4 */
    float *w_part = train(&flaky, &o, &t, &part, &rc, &err);
    cr_assert_neq(rc, 0, "the interrupted run must fail");
    cr_expect(strstr(err.msg, "interrupted in epoch 4") && strstr(err.msg, "holds epoch 3") &&
                  strstr(err.msg, "resume"),
              "%s", err.msg);
    reel_interrupt_clear();
    reel_history_free(&part.history);

    float *w_rest = train(&reel_nn_cpu_backend, &o, &t, &rest, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(rest.resumed_at, 3);
    cr_expect_eq(rest.epochs_run, whole.epochs_run);
    cr_expect_eq(rest.best_epoch, whole.best_epoch);
    cr_expect_eq(rest.stopped_early, whole.stopped_early);
    cr_expect(whole.epochs_run > 4, "the run must go past the interruption (ran %ld)", whole.epochs_run);
    cr_assert_eq(rest.history.epochs, whole.history.epochs);
    for (size_t e = 0; e < whole.history.epochs; e++) {
        cr_expect_eq(rest.history.train_loss[e], whole.history.train_loss[e], "train loss of epoch %zu", e + 1);
        cr_expect_eq(rest.history.valid_loss[e], whole.history.valid_loss[e], "val loss of epoch %zu", e + 1);
    }
    cr_expect_eq(memcmp(w_rest, w_whole, n_params() * sizeof(float)), 0, "final weights differ");

    /* Resuming a finished run trains nothing and gives the same weights. */
    reel_nn_train_result again;
    float *w_again = train(&reel_nn_cpu_backend, &o, &t, &again, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(again.resumed_at, whole.epochs_run);
    cr_expect_eq(memcmp(w_again, w_whole, n_params() * sizeof(float)), 0);

    reel_history_free(&whole.history);
    reel_history_free(&rest.history);
    reel_history_free(&again.history);
    free(w_whole);
    free(w_part);
    free(w_rest);
    free(w_again);
    cJSON_Delete(run);
    free(t.X);
    free(t.Y);
}

/* More epochs than the checkpointed run had: it goes on where it stopped,
 * as if it had been asked for the larger number from the start. */
Test(nn_checkpoint, epochs_can_be_raised_on_resume)
{
    data t = make_data(400, 4);
    cJSON *run = cJSON_Parse("{\"model\": \"t\", \"params\": {\"epochs\": 3}}");
    reel_error err;
    reel_nn_train_result a, b, c;
    int rc;
    reel_nn_train_opts o = opts(NULL, run);
    o.epochs = 6;
    o.patience = 100;
    float *w_whole = train(&reel_nn_cpu_backend, &o, &t, &a, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    const char *ck = tmp_path("raise.ckpt");
    remove(ck);
    o.checkpoint = ck;
    o.epochs = 3;
    free(train(&reel_nn_cpu_backend, &o, &t, &b, &rc, &err));
    cr_assert_eq(rc, 0, "%s", err.msg);
    cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "params"), "epochs"), 6);
    o.epochs = 6;
    float *w = train(&reel_nn_cpu_backend, &o, &t, &c, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(c.resumed_at, 3);
    cr_expect_eq(c.epochs_run, 6);
    cr_expect_eq(memcmp(w, w_whole, n_params() * sizeof(float)), 0, "final weights differ");
    reel_history_free(&a.history);
    reel_history_free(&b.history);
    reel_history_free(&c.history);
    free(w_whole);
    free(w);
    cJSON_Delete(run);
    free(t.X);
    free(t.Y);
}

/* A checkpoint of other params, other data, or not a checkpoint at all:
 * refused with a message naming the file and what differs. */
Test(nn_checkpoint, another_runs_checkpoint_is_refused)
{
    data t = make_data(400, 5);
    cJSON *run = cJSON_Parse("{\"model\": \"t\", \"params\": {\"lr\": 0.003}}");
    reel_error err;
    reel_nn_train_result r;
    int rc;
    const char *ck = tmp_path("other.ckpt");
    remove(ck);
    reel_nn_train_opts o = opts(ck, run);
    o.epochs = 2;
    free(train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err));
    cr_assert_eq(rc, 0, "%s", err.msg);
    reel_history_free(&r.history);

    cJSON *other = cJSON_Parse("{\"model\": \"t\", \"params\": {\"lr\": 0.01}}");
    o.run = other;
    free(train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err));
    cr_expect_neq(rc, 0);
    cr_expect(strstr(err.msg, ck) && strstr(err.msg, "params.lr differs"), "%s", err.msg);
    reel_history_free(&r.history);

    o.run = run;
    t.X[0] += 0.5f; /* other data */
    free(train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err));
    cr_expect_neq(rc, 0);
    cr_expect(strstr(err.msg, "data differs"), "%s", err.msg);
    reel_history_free(&r.history);
    t.X[0] -= 0.5f;

    /* truncated and foreign files */
    FILE *f = fopen(ck, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(ck, size / 2), 0);
    free(train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err));
    cr_expect_neq(rc, 0);
    cr_expect(strstr(err.msg, ck) != NULL, "%s", err.msg);
    reel_history_free(&r.history);
    const char *junk = tmp_write("junk.ckpt", "not a checkpoint at all");
    o.checkpoint = junk;
    free(train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err));
    cr_expect_neq(rc, 0);
    cr_expect(strstr(err.msg, junk) != NULL, "%s", err.msg);
    reel_history_free(&r.history);
    cJSON_Delete(run);
    cJSON_Delete(other);
    free(t.X);
    free(t.Y);
}

/* The CPU backend's step with a non-finite loss: reported at once, no
 * update (weights and moments stay), and none after it either. */
Test(nn_checkpoint, a_non_finite_step_changes_nothing)
{
    reel_nn_spec s;
    const reel_nn_backend *be = &reel_nn_cpu_backend;
    void *b = net(&s, be);
    reel_error err;
    float X[2 * 4] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f};
    float Y[2 * 3] = {1, 0, 1, 0, 1, 0};
    uint32_t order[2] = {0, 1};
    reel_adamw opt = {1e-2, 0.9, 0.999, 1e-8, 0};
    cr_assert_eq(be->set_data(b, X, Y, 2, &err), 0);
    cr_assert_eq(be->set_order(b, order, 2, &err), 0);
    cr_expect_eq(be->train_step(b, 0, 2, &opt, 1, NULL, &err), 0);
    float *before = malloc(s.n_params * sizeof *before), *after = malloc(s.n_params * sizeof *after);
    be->get_params(b, before, &err);
    X[5] = NAN;
    cr_expect_eq(be->train_step(b, 0, 2, &opt, 2, NULL, &err), 1, "a NaN input must be reported at once");
    X[5] = 0.5f;
    cr_expect_eq(be->train_step(b, 0, 2, &opt, 3, NULL, &err), 0);
    be->get_params(b, after, &err);
    cr_expect_eq(memcmp(before, after, s.n_params * sizeof *after), 0, "weights changed after the bad step");
    long bad;
    cr_assert_eq(be->first_bad_step(b, &bad, &err), 0);
    cr_expect_eq(bad, 2);
    be->set_data(b, X, Y, 2, &err); /* a new run starts clean */
    be->first_bad_step(b, &bad, &err);
    cr_expect_eq(bad, 0);
    free(before);
    free(after);
    be->destroy(b);
}

/* A training row with an infinite feature: training stops in the step
 * that meets it, says where, and keeps weights that are all finite (the
 * best epoch's when there is one, else those from before that step). */
Test(nn_checkpoint, divergence_is_caught_in_its_step)
{
    for (int with_valid = 1; with_valid >= 0; with_valid--) {
        data t = make_data(400, 6);
        t.X[250 * 4 + 1] = INFINITY;
        reel_fit_ctx c = ctx_for(&t, 300, 1);
        if (!with_valid)
            c.nv = 0;
        reel_nn_spec s;
        void *b = net(&s, &reel_nn_cpu_backend);
        reel_nn_train_opts o = opts(NULL, NULL);
        reel_nn_train_result r;
        reel_error err;
        cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
        cr_expect_eq(r.diverged, 1, "the bad row is met in epoch 1");
        cr_expect(r.bad_step >= 1 && r.bad_step <= 43, "step %ld", r.bad_step);
        cr_expect_eq(r.epochs_run, 0);
        float *w = malloc(s.n_params * sizeof *w);
        reel_nn_cpu_backend.get_params(b, w, &err);
        for (size_t k = 0; k < s.n_params; k++)
            cr_assert(isfinite(w[k]), "weight %zu is %g", k, (double)w[k]);
        free(w);
        reel_history_free(&r.history);
        reel_nn_cpu_backend.destroy(b);
        free(t.X);
        free(t.Y);
    }
}

/* The checkpoint file itself: what is written is read back exactly. */
Test(nn_checkpoint, file_round_trip)
{
    size_t n = 5;
    float p[5] = {1, 2, 3, 4, 5}, m[5] = {0.1f, 0, 0, 0, -0.1f}, v[5] = {1e-9f, 0, 0, 0, 2}, best[5] = {9, 8, 7, 6, 5};
    double ema[5] = {0.5, 0.25, -1, 1e300, 0};
    reel_nn_checkpoint c = {.run = cJSON_Parse("{\"model\": \"x\"}"), .backend = "cpu", .epoch = 2, .step = 17,
                            .wait = 1, .best_epoch = 1, .stopped = 0, .ref_loss = 0.25, .best_val_loss = INFINITY,
                            .rng = {{1, 2, 0xffffffffffffffffULL, 4}}, .n_params = n, .params = p, .m = m, .v = v,
                            .best = best, .ema_sum = ema, .ema_weight = 0.75, .ema_last_step = 10,
                            .history_csv = "epoch\n1\n2\n"};
    reel_history_add(&c.history, 0.5, 0.4, 0.3);
    reel_history_add(&c.history, 0.45, NAN, 0.35);
    const char *path = tmp_path("round.ckpt");
    reel_error err;
    cr_assert_eq(reel_nn_checkpoint_write(path, &c, &err), 0, "%s", err.msg);
    reel_nn_checkpoint r;
    cr_assert_eq(reel_nn_checkpoint_read(path, n, 1, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.epoch, 2);
    cr_expect_eq(r.step, 17);
    cr_expect_eq(r.wait, 1);
    cr_expect_eq(r.best_epoch, 1);
    cr_expect_eq(r.ref_loss, 0.25);
    cr_expect(isinf(r.best_val_loss));
    cr_expect_eq(r.rng.s[2], 0xffffffffffffffffULL);
    cr_expect_eq(memcmp(r.params, p, sizeof p), 0);
    cr_expect_eq(memcmp(r.m, m, sizeof m), 0);
    cr_expect_eq(memcmp(r.v, v, sizeof v), 0);
    cr_expect_eq(memcmp(r.best, best, sizeof best), 0);
    cr_expect_eq(memcmp(r.ema_sum, ema, sizeof ema), 0);
    cr_expect_eq(r.ema_weight, 0.75);
    cr_expect_eq(r.ema_last_step, 10);
    cr_expect_str_eq(r.history_csv, "epoch\n1\n2\n");
    cr_assert_eq(r.history.epochs, 2);
    cr_expect_eq(r.history.train_loss[1], 0.45);
    cr_expect(isnan(r.history.valid_loss[1]));
    cr_expect_str_eq(r.backend, "cpu");
    char key[64];
    cr_expect_null(reel_nn_checkpoint_run_diff(r.run, c.run, key, sizeof key));
    reel_nn_checkpoint_free(&r);
    /* other sizes are refused */
    cr_expect_neq(reel_nn_checkpoint_read(path, n + 1, 1, &r, &err), 0);
    cr_expect(strstr(err.msg, "params"), "%s", err.msg);
    cr_expect_neq(reel_nn_checkpoint_read(path, n, 0, &r, &err), 0);
    cr_expect(strstr(err.msg, "ema"), "%s", err.msg);
    reel_history_free(&c.history);
    cJSON_Delete(c.run);
}

/* The disk fills while the checkpoint of epoch 3 is written: the message
 * says which epoch the checkpoint on disk holds (issue 35 item 7). */
static int checkpoint_writes;
static int full_at_third(const char *step, const char *dest)
{
    if (!strstr(dest, "full.ckpt") || strcmp(step, "open") != 0)
        return 0;
    return ++checkpoint_writes == 3 ? ENOSPC : 0;
}

Test(nn_checkpoint, a_full_disk_names_the_epoch_on_disk)
{
    data t = make_data(300, 2);
    cJSON *run = cJSON_Parse("{\"model\": \"t\", \"params\": {\"lr\": 0.003, \"epochs\": 12}}");
    const char *ck = tmp_path("full.ckpt");
    remove(ck);
    reel_nn_train_opts o = opts(ck, run);
    reel_nn_train_result r;
    reel_error err;
    int rc;
    checkpoint_writes = 0;
    reel_outfile_fault = full_at_third;
    float *w = train(&reel_nn_cpu_backend, &o, &t, &r, &rc, &err);
    reel_outfile_fault = NULL;
    cr_expect_neq(rc, 0);
    cr_expect(strstr(err.msg, "No space left") && strstr(err.msg, "epoch 3") && strstr(err.msg, "holds epoch 2"), "%s",
              err.msg);
    free(w);
    if (rc == 0)
        reel_history_free(&r.history);
    cJSON_Delete(run);
    free(t.X);
    free(t.Y);
}
