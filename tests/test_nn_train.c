/* The mlp kind through the model interface on the CPU: the layer list and
 * parameter table, init bounds, determinism (same seed -> bit-identical,
 * any thread count), learning, early stopping, history file, save/load. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "helpers.h"
#include "nn_fixture.h"
#include "models/model.h"
#include "nn/cpu_ops.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "util/fileio.h"
#include "util/rng.h"

static void fit(reel_model *m, const char *name, const char *params, const reel_fit_ctx *c)
{
    reel_error err;
    cJSON *p = params ? cJSON_Parse(params) : NULL;
    cr_assert_eq(reel_model_init(m, name, p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
}

/* The defaults' layer tables (issue 33): box 3 x 256 and U 256-128-256,
 * each hidden layer ReLU + dropout 0.1, which takes a module index. */
Test(nn_train, box_and_u_layer_tables)
{
    reel_nn_spec s;
    reel_error err;
    const cJSON *box = cJSON_GetObjectItem(cJSON_GetObjectItem(reel_model_def("box"), "params"), "layers");
    cr_assert_eq(reel_nn_spec_build(&s, cJSON_GetObjectItem(box, "default"), "sigmoid", 21, 7, &err), 0);
    cr_expect_eq(s.n_layers, 4);
    /* 21*256+256 + 2*(256*256+256) + 256*7+7, as torch counts the box net */
    cr_expect_eq(s.n_params, 5632 + 2 * 65792 + 1799);
    for (int l = 0; l < 3; l++)
        cr_expect_eq(s.layer[l].dropout, 0.1f, "layer %d", l);
    cr_expect_eq(s.layer[3].dropout, 0.0f);
    cr_expect_eq(s.layer[3].module_index, 9); /* Linear, ReLU, Dropout triples: the output Linear is "9" */
    cr_expect_eq(s.layer[3].w_off, s.n_params - 1799);
    const cJSON *u = cJSON_GetObjectItem(cJSON_GetObjectItem(reel_model_def("u"), "params"), "layers");
    cr_assert_eq(reel_nn_spec_build(&s, cJSON_GetObjectItem(u, "default"), "sigmoid", 21, 7, &err), 0);
    cr_expect_eq(s.n_layers, 4);
    cr_expect_eq(s.layer[0].out, 256);
    cr_expect_eq(s.layer[1].out, 128, "narrowing");
    cr_expect_eq(s.layer[2].out, 256, "then widening back");
    cr_expect_eq(s.layer[1].module_index, 3);
    cr_expect_eq(s.max_width, 256);
}

/* box_original and u_original keep the original's tables. */
Test(nn_train, original_layer_tables)
{
    reel_nn_spec s;
    reel_error err;
    const cJSON *box = cJSON_GetObjectItem(cJSON_GetObjectItem(reel_model_def("box_original"), "params"), "layers");
    cr_assert_eq(reel_nn_spec_build(&s, cJSON_GetObjectItem(box, "default"), "sigmoid", 21, 7, &err), 0);
    cr_expect_eq(s.n_layers, 9);
    /* 21*64+64 + 7*(64*64+64) + 64*7+7, as torch counts the box net */
    cr_expect_eq(s.n_params, 1408 + 7 * 4160 + 455);
    cr_expect_eq(s.layer[8].module_index, 16); /* Linear, ReLU pairs: the output Linear is "16" */
    cr_expect_eq(s.layer[8].w_off, s.n_params - 455);
    const cJSON *u = cJSON_GetObjectItem(cJSON_GetObjectItem(reel_model_def("u_original"), "params"), "layers");
    cr_assert_eq(reel_nn_spec_build(&s, cJSON_GetObjectItem(u, "default"), "sigmoid", 21, 7, &err), 0);
    cr_expect_eq(s.n_layers, 10);
    cr_expect_eq(s.layer[0].act, REEL_ACT_NONE);
    cr_expect_eq(s.layer[1].module_index, 1); /* no module for "none" */
    cr_expect_eq(s.layer[2].module_index, 3);
    cr_expect_eq(s.layer[7].out, 128);
    cr_expect_eq(s.max_width, 128);
}

/* "width" scales every hidden width by width / first, halves up, keeping
 * the shape; the model's own params do it the same way. */
Test(nn_train, width_scales_the_layer_list)
{
    reel_nn_spec s;
    reel_error err;
    cJSON *p = cJSON_Parse("{\"layers\": [{\"width\": 64, \"activation\": \"none\"}, {\"width\": 32}, "
                           "{\"width\": 8}, {\"width\": 128}, {\"width\": 3}], \"head\": \"softmax\", "
                           "\"width\": 32}");
    cr_assert_not_null(p);
    cr_assert_eq(reel_nn_spec_from_params(&s, p, 5, 2, &err), 0, "%s", err.msg);
    size_t want[] = {32, 16, 4, 64, 2, 2}; /* 3 * 32/64 = 1.5 rounds up; then the output layer */
    cr_assert_eq(s.n_layers, 6);
    for (size_t l = 0; l < 6; l++)
        cr_expect_eq(s.layer[l].out, want[l], "layer %zu: %zu wide, want %zu", l, s.layer[l].out, want[l]);
    cr_expect_eq(s.layer[0].act, REEL_ACT_NONE);
    cr_expect_eq(s.layer[1].act, REEL_ACT_RELU);
    cr_expect_eq(s.head, REEL_HEAD_SOFTMAX);
    cr_expect_eq(s.n_params, 5 * 32 + 32 + 32 * 16 + 16 + 16 * 4 + 4 + 4 * 64 + 64 + 64 * 2 + 2 + 2 * 2 + 2);
    cr_expect_eq(reel_nn_scaled_width(1, 64, 16), 1, "never below 1");
    /* null: as written */
    cJSON_ReplaceItemInObject(p, "width", cJSON_CreateNull());
    cr_assert_eq(reel_nn_spec_from_params(&s, p, 5, 2, &err), 0, "%s", err.msg);
    cr_expect_eq(s.layer[0].out, 64);
    cr_expect_eq(s.layer[3].out, 128);
    /* too wide after scaling, and no layers to scale: named errors */
    cJSON_ReplaceItemInObject(p, "width", cJSON_CreateNumber(40000));
    cr_expect_neq(reel_nn_spec_from_params(&s, p, 5, 2, &err), 0);
    cr_expect(strstr(err.msg, "width") && strstr(err.msg, "80000"), "%s", err.msg);
    cJSON_ReplaceItemInObject(p, "layers", cJSON_CreateArray());
    cJSON_ReplaceItemInObject(p, "width", cJSON_CreateNumber(8));
    cr_expect_neq(reel_nn_spec_from_params(&s, p, 5, 2, &err), 0);
    cr_expect(strstr(err.msg, "width") != NULL, "%s", err.msg);
    cJSON_Delete(p);

    /* box at 128 through the model: 3 x 128 */
    reel_model m;
    p = cJSON_Parse("{\"width\": 128}");
    cr_assert_eq(reel_model_init(&m, "box", p, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_nn_spec_from_params(&s, m.params, 21, 7, &err), 0, "%s", err.msg);
    cr_expect_eq(s.n_params, 21 * 128 + 128 + 2 * (128 * 128 + 128) + 128 * 7 + 7);
    reel_model_free(&m);
    cJSON_Delete(p);
}

Test(nn_train, bad_params_are_named)
{
    reel_model m;
    reel_error err;
    const char *bad[][2] = {
        {"{\"layers\": [{\"width\": 0}]}", "width"},
        {"{\"layers\": [{\"width\": 8, \"activation\": \"gelu\"}]}", "activation"},
        {"{\"layers\": [{\"wdth\": 8}]}", "wdth"},
        {"{\"layers\": 3}", "layers"},
        {"{\"head\": \"linear\"}", "head"},
        {"{\"lr\": 0}", "lr"},
        {"{\"beta2\": 1}", "beta2"},
        {"{\"batch_size\": 0}", "batch_size"},
        {"{\"ema\": 1}", "ema"},
        {"{\"ema\": -0.5}", "ema"},
        {"{\"patience_from\": \"last\"}", "patience_from"},
        {"{\"input\": \"log\"}", "input"},
        {"{\"width\": 0}", "width"},
        {"{\"width\": 2.5}", "width"},
        {"{\"width\": 50000, \"layers\": [{\"width\": 8}, {\"width\": 16}]}", "width"},
        {"{\"width\": 8, \"layers\": []}", "width"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *p = cJSON_Parse(bad[i][0]);
        cr_assert_not_null(p);
        cr_expect_neq(reel_model_init(&m, "box", p, &err), 0, "accepted %s", bad[i][0]);
        cr_expect(strstr(err.msg, bad[i][1]) != NULL, "message for %s does not name %s: %s", bad[i][0], bad[i][1],
                  err.msg);
        cJSON_Delete(p);
        reel_model_free(&m);
    }
}

Test(nn_train, init_is_pytorch_uniform)
{
    reel_nn_spec s;
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 50}, {\"width\": 20}]");
    cr_assert_eq(reel_nn_spec_build(&s, l, "sigmoid", 30, 5, &err), 0);
    cJSON_Delete(l);
    float *p = malloc(s.n_params * sizeof *p), *q = malloc(s.n_params * sizeof *q);
    reel_nn_init_params(&s, 9, p);
    reel_nn_init_params(&s, 9, q);
    cr_expect_eq(memcmp(p, q, s.n_params * sizeof *p), 0, "same seed, different weights");
    for (size_t i = 0; i < s.n_layers; i++) {
        const reel_nn_layer *ly = &s.layer[i];
        double bound = 1 / sqrt((double)ly->in), lo = 1, hi = -1;
        for (size_t k = ly->w_off; k < ly->b_off + ly->out; k++) {
            cr_assert(fabs(p[k]) <= bound, "layer %zu value %g outside +-%g", i, p[k], bound);
            lo = fmin(lo, p[k] / bound);
            hi = fmax(hi, p[k] / bound);
        }
        cr_expect(lo < -0.9 && hi > 0.9, "layer %zu does not fill its range: %g..%g", i, lo, hi);
    }
    reel_nn_init_params(&s, 10, q);
    cr_expect_neq(memcmp(p, q, s.n_params * sizeof *p), 0, "seed ignored");
    free(p);
    free(q);
}

Test(nn_train, learns_a_learnable_problem)
{
    data t = make_data(1200, 1);
    reel_fit_ctx c = ctx_for(&t, 1000, 2);
    reel_model m;
    /* the original's 8 x 64: 40 epochs of the default 3 x 256 would slow the suite 4-fold */
    fit(&m, "box",
        "{\"epochs\": 40, \"lr\": 0.003, \"batch_size\": 10, \"min_delta\": 0, \"patience\": 40, "
        "\"layers\": " TEST_BOX_8X64 "}",
        &c);
    float *P = malloc(200 * 3 * sizeof *P);
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 200, P, &err), 0);
    size_t right = 0;
    for (size_t i = 0; i < 200 * 3; i++)
        right += (P[i] > 0.5f) == c.Yv[i];
    printf("nn_train: box on a learnable problem: %zu / 600 validation cells right\n", right);
    cr_expect(right > 580, "only %zu / 600 cells right", right);
    free(P);
    reel_model_free(&m);
    free(t.X);
    free(t.Y);
}

/* Same seed -> bit-identical weights and probabilities, on 1 or 2 threads. */
Test(nn_train, deterministic_for_seed_and_threads)
{
    data t = make_data(700, 2);
    float *P[3];
    for (int r = 0; r < 3; r++) {
        reel_fit_ctx c = ctx_for(&t, 500, r == 2 ? 2 : 1);
        reel_model m;
        fit(&m, "u", "{\"epochs\": 3, \"ensemble\": 2}", &c); /* two members: on 2 threads, in parallel */
        P[r] = malloc(200 * 3 * sizeof(float));
        reel_error err;
        cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 200, P[r], &err), 0);
        reel_model_free(&m);
    }
    cr_expect_eq(memcmp(P[0], P[1], 600 * sizeof(float)), 0, "two runs with one seed differ");
    cr_expect_eq(memcmp(P[0], P[2], 600 * sizeof(float)), 0, "1 and 2 threads differ");
    /* another seed gives another net */
    reel_fit_ctx c = ctx_for(&t, 500, 1);
    c.seed = 6;
    reel_model m;
    fit(&m, "u", "{\"epochs\": 3, \"ensemble\": 2}", &c);
    float *Q = malloc(600 * sizeof(float));
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 200, Q, &err), 0);
    cr_expect_neq(memcmp(P[0], Q, 600 * sizeof(float)), 0, "seed ignored");
    reel_model_free(&m);
    for (int r = 0; r < 3; r++)
        free(P[r]);
    free(Q);
    free(t.X);
    free(t.Y);
}

/* From REEL_CPU_PAR_ROWS rows a training step splits rows and outputs
 * between threads: 1, 2 and 3 threads still give the same bits (batch 300,
 * the last step of each epoch 200 rows, below the threshold). */
Test(nn_train, big_batches_same_for_any_thread_count)
{
    data t = make_data(1000, 3);
    float *P[3];
    for (int r = 0; r < 3; r++) {
        reel_fit_ctx c = ctx_for(&t, 800, r + 1);
        reel_model m;
        fit(&m, "box", "{\"epochs\": 4, \"batch_size\": 300, \"lr\": 0.003, \"ema\": 0, \"ensemble\": 2}", &c);
        P[r] = malloc(200 * 3 * sizeof(float));
        reel_error err;
        cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 200, P[r], &err), 0);
        reel_model_free(&m);
    }
    cr_expect_eq(memcmp(P[0], P[1], 600 * sizeof(float)), 0, "1 and 2 threads differ");
    cr_expect_eq(memcmp(P[0], P[2], 600 * sizeof(float)), 0, "1 and 3 threads differ");
    for (int r = 0; r < 3; r++)
        free(P[r]);
    free(t.X);
    free(t.Y);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* min_delta larger than any loss: no epoch counts as an improvement, so
 * training stops after 1 + patience epochs, with the best weights back. */
/* A log sink that keeps what it is given. */
typedef struct {
    int epochs, infos, warnings;
    long last_done, last_total;
    double last_loss, last_valid_loss;
    char last[1024];
} collected;

static void collect(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    collected *c = user;
    if (p && p->kind == REEL_PROGRESS_EPOCH) {
        c->epochs++;
        c->last_done = p->done;
        c->last_total = p->total;
        c->last_loss = p->loss;
        c->last_valid_loss = p->valid_loss;
    } else if (level == REEL_LOG_WARNING) {
        c->warnings++;
    } else {
        c->infos++;
    }
    snprintf(c->last, sizeof c->last, "%s", message);
}

Test(nn_train, early_stopping_and_history)
{
    data t = make_data(400, 3);
    reel_fit_ctx c = ctx_for(&t, 300, 1);
    c.out_dir = tmp_path("nn_history");
    c.name = "box";
    reel_nn_spec s;
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 8}]");
    cr_assert_eq(reel_nn_spec_build(&s, l, "sigmoid", 4, 3, &err), 0);
    cJSON_Delete(l);
    float *p = malloc(s.n_params * sizeof *p);
    reel_nn_init_params(&s, 1, p);
    void *b = reel_nn_cpu_backend.create(&s, 0, 1, &err);
    reel_nn_cpu_backend.set_params(b, p, &err);
    reel_nn_train_opts o = {.opt = {1e-3, 0.9, 0.999, 1e-8, 0}, .batch_size = 10, .epochs = 50, .patience = 2,
                            .min_delta = 100.0, .restore_best = 1, .threshold = 0.5f, .seed = 1};
    reel_nn_train_result r;
    collected got = {0};
    reel_log log = {.fn = collect, .user = &got};
    c.log = &log;
    cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.epochs_run, 3);
    cr_expect(r.stopped_early);
    /* one progress record per epoch, then the early stop and the restore as messages */
    cr_expect_eq(got.epochs, 3);
    cr_expect_eq(got.last_done, 3);
    cr_expect_eq(got.last_total, 50);
    cr_expect(isfinite(got.last_loss) && isfinite(got.last_valid_loss));
    if (r.best_epoch < 3) { /* then the best weights are put back, and it says so */
        cr_expect_eq(got.infos, 2, "early stopping and restore: %d messages", got.infos);
        cr_expect(strstr(got.last, "box: restored the weights of epoch"), "%s", got.last);
    } else {
        cr_expect_eq(got.infos, 1, "early stopping: %d messages", got.infos);
        cr_expect(strstr(got.last, "box: early stopping after epoch 3"), "%s", got.last);
    }
    cr_expect_eq(got.warnings, 0);
    reel_history_free(&r.history);
    cr_expect(r.best_epoch >= 1 && r.best_epoch <= 3);
    /* the restored weights give the best validation loss */
    float *Yv = malloc(100 * 3 * sizeof *Yv);
    for (size_t i = 0; i < 300; i++)
        Yv[i] = c.Yv[i];
    double vloss;
    cr_assert_eq(reel_nn_cpu_backend.eval_loss(b, c.Xv, Yv, 100, &vloss, NULL, &err), 0);
    cr_expect(fabs(vloss - r.best_val_loss) < 1e-12, "restored val loss %.9g, best %.9g", vloss, r.best_val_loss);

    char *path = reel_path_join(c.out_dir, "history_box.csv");
    char *text = reel_read_file(path, NULL, &err);
    cr_assert_not_null(text, "%s", err.msg);
    cr_expect_eq(count_lines(text), 4, "header + 3 epochs:\n%s", text);
    cr_expect(strncmp(text, "epoch,train_loss,val_loss,val_samples_f1", 40) == 0);
    free(text);
    free(path);

    /* without validation rows: every epoch runs; a warnings-only sink gets nothing */
    c.nv = 0;
    o.epochs = 4;
    memset(&got, 0, sizeof got);
    reel_log quiet = reel_log_warnings_only(&log);
    c.log = &quiet;
    cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.epochs_run, 4);
    cr_expect(!r.stopped_early);
    cr_expect_eq(got.epochs + got.infos + got.warnings, 0);
    cr_expect(isnan(r.history.valid_loss[0]));
    reel_history_free(&r.history);
    reel_nn_cpu_backend.destroy(b);
    free(p);
    free(Yv);
    free(t.X);
    free(t.Y);
}

/* save -> load gives the same probabilities, under torch's state_dict names. */
Test(nn_train, save_load_round_trip)
{
    data t = make_data(300, 4);
    reel_fit_ctx c = ctx_for(&t, 250, 1);
    reel_model m;
    fit(&m, "u", "{\"epochs\": 2, \"head\": \"softmax\", \"ensemble\": 1}", &c);
    reel_tensors bag = {0};
    cJSON *meta = cJSON_CreateObject();
    reel_error err;
    cr_assert_eq(m.kind->save(m.state, &bag, meta, &err), 0, "%s", err.msg);
    cr_expect_eq(bag.n, 8); /* 4 Linear layers, each with ReLU and Dropout modules but the last */
    const char *names[] = {"0.weight", "0.bias", "3.weight", "6.weight", "9.weight", "9.bias"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_expect_not_null(reel_tensors_get(&bag, names[i], REEL_F32, 0, &err), "%s", err.msg);
    const reel_tensor *w = reel_tensors_get(&bag, "0.weight", REEL_F32, 0, &err);
    cr_expect(w->ndim == 2 && w->shape[0] == 256 && w->shape[1] == 4, "0.weight must be out x in");

    void *loaded = m.kind->load(m.params, 4, 3, 1, &bag, meta, &err);
    cr_assert_not_null(loaded, "%s", err.msg);
    float *P = malloc(50 * 3 * sizeof *P), *Q = malloc(50 * 3 * sizeof *Q);
    cr_assert_eq(reel_model_predict_proba(&m, c.Xv, 50, P, &err), 0);
    cr_assert_eq(m.kind->predict_proba(loaded, c.Xv, 50, Q, &err), 0);
    cr_expect_eq(memcmp(P, Q, 150 * sizeof *P), 0, "loaded net predicts differently");
    for (size_t i = 0; i < 50; i++) /* softmax rows sum to 1 */
        cr_expect(fabs(P[i * 3] + P[i * 3 + 1] + P[i * 3 + 2] - 1.0) < 1e-5);

    /* a file for other layers is refused with the tensor named */
    cJSON *other = cJSON_Parse("{\"layers\": [{\"width\": 5}]}");
    reel_model m2;
    cr_assert_eq(reel_model_init(&m2, "u", other, &err), 0, "%s", err.msg);
    cr_expect_null(m.kind->load(m2.params, 4, 3, 1, &bag, meta, &err));
    cr_expect(strstr(err.msg, "0.weight") != NULL, "%s", err.msg);
    reel_model_free(&m2);
    cJSON_Delete(other);

    m.kind->free(loaded);
    reel_tensors_free(&bag);
    cJSON_Delete(meta);
    free(P);
    free(Q);
    reel_model_free(&m);
    free(t.X);
    free(t.Y);
}

/* A small net in the CPU backend at seed 1's initial weights. */
static void *small_net(reel_nn_spec *s, float **p)
{
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 8}]");
    cr_assert_eq(reel_nn_spec_build(s, l, "sigmoid", 4, 3, &err), 0);
    cJSON_Delete(l);
    *p = malloc(s->n_params * sizeof **p);
    reel_nn_init_params(s, 1, *p);
    void *b = reel_nn_cpu_backend.create(s, 0, 1, &err);
    cr_assert_not_null(b);
    reel_nn_cpu_backend.set_params(b, *p, &err);
    return b;
}

/* The weights after training 20 rows (two steps an epoch) for `epochs`. */
static float *train_weights(const data *t, long epochs, double ema)
{
    reel_fit_ctx c = ctx_for(t, 20, 1);
    c.nv = 0;
    reel_nn_spec s;
    float *p;
    void *b = small_net(&s, &p);
    reel_nn_train_opts o = {.opt = {1e-2, 0.9, 0.999, 1e-8, 0}, .batch_size = 10, .epochs = epochs,
                            .patience = 5, .threshold = 0.5f, .seed = 1, .ema = ema};
    reel_nn_train_result r;
    reel_error err;
    cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
    reel_nn_cpu_backend.get_params(b, p, &err);
    reel_history_free(&r.history);
    reel_nn_cpu_backend.destroy(b);
    return p;
}

/* With two steps an epoch the average takes the weights at the end of
 * each epoch (steps 2 and 4), each weighted 1 - a with a = decay^2, then
 * corrected by the total weight: avg = (a w2 + w4) / (1 + a). The live
 * weights w2 and w4 come from runs without averaging (the optimiser never
 * sees the average, so they are the same path). */
Test(nn_train, ema_is_the_bias_corrected_average)
{
    data t = make_data(40, 7);
    float *w2 = train_weights(&t, 1, 0), *w4 = train_weights(&t, 2, 0);
    float *one = train_weights(&t, 1, 0.9), *avg = train_weights(&t, 2, 0.9);
    reel_nn_spec s;
    float *p;
    reel_nn_cpu_backend.destroy(small_net(&s, &p));
    double a = 0.81;
    size_t differ = 0;
    for (size_t k = 0; k < s.n_params; k++) {
        cr_expect_eq(one[k], w2[k], "one update: the average is the weights themselves");
        double want = (a * w2[k] + w4[k]) / (1 + a);
        cr_expect(fabs(avg[k] - want) <= 1e-6 * (fabs(want) + 1e-3), "param %zu: %.9g, expected %.9g", k, avg[k],
                  want);
        differ += avg[k] != w4[k];
    }
    cr_expect(differ > s.n_params / 2, "the average equals the live weights");
    free(w2);
    free(w4);
    free(one);
    free(avg);
    free(p);
    free(t.X);
    free(t.Y);
}

/* With averaging the restored net is the average of the best epoch: its
 * validation loss is the best one seen. */
Test(nn_train, ema_restores_the_best_average)
{
    data t = make_data(400, 8);
    reel_fit_ctx c = ctx_for(&t, 300, 1);
    reel_nn_spec s;
    float *p;
    void *b = small_net(&s, &p);
    reel_nn_train_opts o = {.opt = {3e-2, 0.9, 0.999, 1e-8, 0}, .batch_size = 10, .epochs = 8, .patience = 8,
                            .min_delta = 0, .restore_best = 1, .threshold = 0.5f, .seed = 1, .ema = 0.99};
    reel_nn_train_result r;
    reel_error err;
    cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
    float Yv[300];
    for (size_t i = 0; i < 300; i++)
        Yv[i] = c.Yv[i];
    double vloss;
    cr_assert_eq(reel_nn_cpu_backend.eval_loss(b, c.Xv, Yv, 100, &vloss, NULL, &err), 0);
    cr_expect(fabs(vloss - r.best_val_loss) < 1e-12, "restored val loss %.9g, best %.9g", vloss, r.best_val_loss);
    for (size_t e = 0; e < r.history.epochs; e++)
        cr_expect(r.history.valid_loss[e] >= r.best_val_loss);
    reel_history_free(&r.history);
    reel_nn_cpu_backend.destroy(b);
    free(p);
    free(t.X);
    free(t.Y);
}

/* min_delta larger than any loss: counting from the last improvement stops
 * after 1 + patience epochs; counting from the best epoch goes on while
 * the validation loss still reaches new lows, and stops exactly patience
 * epochs after the last one. */
Test(nn_train, patience_from_best)
{
    data t = make_data(400, 3);
    reel_fit_ctx c = ctx_for(&t, 300, 1);
    long runs[2];
    for (int from_best = 0; from_best < 2; from_best++) {
        reel_nn_spec s;
        float *p;
        void *b = small_net(&s, &p);
        reel_nn_train_opts o = {.opt = {1e-2, 0.9, 0.999, 1e-8, 0}, .batch_size = 10, .epochs = 60,
                                .patience = 2, .min_delta = 100.0, .patience_from_best = from_best,
                                .restore_best = 1, .threshold = 0.5f, .seed = 1};
        reel_nn_train_result r;
        reel_error err;
        cr_assert_eq(reel_nn_train(&(reel_nn_net){&reel_nn_cpu_backend, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
        runs[from_best] = r.epochs_run;
        if (from_best && r.stopped_early)
            cr_expect_eq(r.epochs_run, r.best_epoch + 2, "stopped at %ld, best %ld", r.epochs_run, r.best_epoch);
        /* every epoch that stopped short of the end had a new low within the last 2 */
        double low = INFINITY;
        long last_low = 0;
        for (size_t e = 0; e < r.history.epochs; e++) {
            if (r.history.valid_loss[e] < low) {
                low = r.history.valid_loss[e];
                last_low = (long)e + 1;
            }
            if (from_best && (long)e + 1 < r.epochs_run)
                cr_expect((long)e + 1 - last_low < 2, "epoch %zu: should have stopped", e + 1);
        }
        reel_history_free(&r.history);
        reel_nn_cpu_backend.destroy(b);
        free(p);
    }
    cr_expect_eq(runs[0], 3);
    cr_expect(runs[1] > 6, "counting from the best epoch ran only %ld epochs", runs[1]);
    free(t.X);
    free(t.Y);
}

/* A CPU backend whose loss turns to NaN in epoch 3, as an exploding
 * learning rate would: training stops there and keeps the best epoch's
 * weights; without validation there is nothing to keep and it fails. */
static int loss_calls;
static int nan_in_epoch3(void *b, double *sum, reel_error *err)
{
    int rc = reel_nn_cpu_backend.take_loss_sum(b, sum, err);
    if (++loss_calls == 3)
        *sum = NAN;
    return rc;
}

Test(nn_train, divergence_keeps_the_last_good_weights)
{
    data t = make_data(400, 3);
    reel_fit_ctx c = ctx_for(&t, 300, 1);
    reel_nn_spec s;
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 8}]");
    cr_assert_eq(reel_nn_spec_build(&s, l, "sigmoid", 4, 3, &err), 0);
    cJSON_Delete(l);
    float *p = malloc(s.n_params * sizeof *p), *q = malloc(s.n_params * sizeof *q);
    reel_nn_init_params(&s, 1, p);
    reel_nn_backend diverging = reel_nn_cpu_backend;
    diverging.take_loss_sum = nan_in_epoch3;
    void *b = diverging.create(&s, 0, 1, &err);
    diverging.set_params(b, p, &err);
    reel_nn_train_opts o = {.opt = {1e-3, 0.9, 0.999, 1e-8, 0}, .batch_size = 10, .epochs = 10, .patience = 5,
                            .min_delta = 0, .restore_best = 1, .threshold = 0.5f, .seed = 1};
    reel_nn_train_result r;
    loss_calls = 0;
    collected got = {0};
    reel_log log = {.fn = collect, .user = &got, .min_level = REEL_LOG_WARNING};
    c.log = &log;
    cr_assert_eq(reel_nn_train(&(reel_nn_net){&diverging, b, &s}, &o, &c, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.diverged, 3);
    /* the divergence is a warning: it passes a warnings-only sink */
    cr_expect_eq(got.warnings, 1);
    cr_expect_eq(got.epochs + got.infos, 0);
    cr_expect(strstr(got.last, "diverged in epoch 3") && strstr(got.last, "keeping the weights of epoch"), "%s",
              got.last);
    cr_expect_eq(r.epochs_run, 2);
    cr_expect(r.best_epoch >= 1 && r.best_epoch <= 2);
    float *Yv = malloc(100 * 3 * sizeof *Yv);
    for (size_t i = 0; i < 300; i++)
        Yv[i] = c.Yv[i];
    double vloss;
    cr_assert_eq(diverging.eval_loss(b, c.Xv, Yv, 100, &vloss, NULL, &err), 0);
    cr_expect(fabs(vloss - r.best_val_loss) < 1e-12, "kept val loss %.9g, best %.9g", vloss, r.best_val_loss);
    diverging.get_params(b, q, &err);
    for (size_t k = 0; k < s.n_params; k++)
        cr_assert(isfinite(q[k]));
    reel_history_free(&r.history);

    /* no validation rows: no good epoch to keep */
    c.nv = 0;
    loss_calls = 0;
    diverging.set_params(b, p, &err);
    cr_expect_neq(reel_nn_train(&(reel_nn_net){&diverging, b, &s}, &o, &c, &r, &err), 0);
    cr_expect(strstr(err.msg, "diverged in epoch 3") && strstr(err.msg, "smaller lr"), "%s", err.msg);
    reel_history_free(&r.history);
    diverging.destroy(b);
    free(p);
    free(q);
    free(Yv);
    free(t.X);
    free(t.Y);
}

Test(nn_train, default_threshold_follows_the_head)
{
    data t = make_data(200, 4);
    reel_fit_ctx c = ctx_for(&t, 150, 1);
    reel_model m;
    fit(&m, "box", "{\"head\": \"softmax\", \"epochs\": 1, \"layers\": [{\"width\": 4}]}", &c);
    for (size_t k = 0; k < 3; k++)
        cr_expect_float_eq(m.threshold[k], 0.5f / 3.0f, 1e-7, "softmax, 3 labels: 1/(2L)");
    reel_model_free(&m);
    fit(&m, "box", "{\"epochs\": 1, \"layers\": [{\"width\": 4}]}", &c);
    cr_expect_float_eq(m.threshold[0], 0.5f, 1e-7, "sigmoid: 0.5");
    reel_model_free(&m);
    fit(&m, "box", "{\"head\": \"softmax\", \"threshold\": 0.3, \"epochs\": 1, \"layers\": [{\"width\": 4}]}", &c);
    cr_expect_float_eq(m.threshold[0], 0.3f, 1e-7, "a given threshold wins");
    reel_model_free(&m);
    free(t.X);
    free(t.Y);
}

/* The training step flushes denormals to zero on its own thread; the OpenMP
 * workers of a big batch must compute in the same mode, whatever mode their
 * pool was created in, or results depend on the thread count. Products of
 * about 1e-39 (denormal) make the difference visible. */
Test(nn_train, workers_share_the_callers_float_mode)
{
    size_t n = 512, in = 8, out = 4;
    float *A = malloc(n * in * sizeof *A), *dZ = malloc(n * out * sizeof *dZ), *W = calloc(out * in, sizeof *W);
    float *dW[2], db[2][4], *dA[2];
    for (size_t i = 0; i < n * in; i++)
        A[i] = 1e-20f;
    for (size_t i = 0; i < n * out; i++)
        dZ[i] = 1e-19f;
    int pool = 0;
#pragma omp parallel num_threads(4)
    pool += 1; /* the workers exist now, in the default mode (benign race: only creates the pool) */
    (void)pool;
#if defined(__SSE__)
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ | DAZ, as cpu_train_step does */
#endif
    for (int k = 0; k < 2; k++) {
        dW[k] = malloc(out * in * sizeof(float));
        dA[k] = malloc(n * in * sizeof(float));
        reel_cpu_linear_backward(A, n, in, W, out, dZ, dW[k], db[k], dA[k], k ? 4 : 1);
    }
#if defined(__SSE__)
    _mm_setcsr(old);
#endif
    cr_expect_eq(memcmp(dW[0], dW[1], out * in * sizeof(float)), 0, "dW: 1 and 4 threads differ (%g vs %g)",
                 (double)dW[0][0], (double)dW[1][0]);
    cr_expect_eq(memcmp(db[0], db[1], sizeof db[0]), 0);
    for (int k = 0; k < 2; k++) {
        free(dW[k]);
        free(dA[k]);
    }
    free(A);
    free(dZ);
    free(W);
}
