/* The nets' training recipe (issue 14): label smoothing, the learning-rate
 * schedule and ensembles. Each is checked against what it claims to do:
 * the training loop against the backend stepped by hand on the smoothed
 * targets and the scheduled rate, the gradient against the formula, an
 * ensemble's member 0 against the plain net and its predictions against
 * the mean of its members loaded one by one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "models/model.h"
#include "nn/backend.h"
#include "nn/mlp_params.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "nn_fixture.h"
#include "io/tensors.h"
#include "util/rng.h"

static void small_spec(reel_nn_spec *s)
{
    reel_error err;
    cJSON *l = cJSON_Parse("[{\"width\": 6, \"activation\": \"relu\"}, {\"width\": 5, \"activation\": \"tanh\"}]");
    cr_assert_eq(reel_nn_spec_build(s, l, "sigmoid", 4, 3, &err), 0, "%s", err.msg);
    cJSON_Delete(l);
}

static void *new_net(const reel_nn_spec *s, uint64_t seed)
{
    reel_error err;
    float *p = malloc(s->n_params * sizeof *p);
    reel_nn_init_params(s, seed, p);
    void *b = reel_nn_cpu_backend.create(s, 0, 1, &err);
    cr_assert_not_null(b, "%s", err.msg);
    cr_assert_eq(reel_nn_cpu_backend.set_params(b, p, &err), 0, "%s", err.msg);
    free(p);
    return b;
}

/* One epoch of n rows in one step, no validation, no averaging: what the
 * loop does is a shuffle and one step. */
static reel_nn_train_opts one_step_opts(size_t n)
{
    reel_nn_train_opts o = {.opt = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.001},
                            .batch_size = (long)n, .epochs = 1, .patience = 5, .threshold = 0.5f, .seed = 11};
    return o;
}

/* The backend stepped by hand as the loop would: the loop's shuffle
 * (stream 1 of the seed), then step 1 on targets Yf at learning rate lr. */
static void step_by_hand(void *b, const data *t, size_t n, const float *Yf, double lr, uint64_t seed)
{
    reel_error err;
    size_t *idx = malloc(n * sizeof *idx);
    uint32_t *order = malloc(n * sizeof *order);
    reel_rng rng;
    reel_rng_seed_stream(&rng, seed, 1);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    reel_rng_shuffle(&rng, idx, n);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)idx[i];
    reel_adamw opt = one_step_opts(n).opt;
    opt.lr = lr;
    cr_assert_eq(reel_nn_cpu_backend.set_data(b, t->X, Yf, n, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_nn_cpu_backend.set_order(b, order, n, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_nn_cpu_backend.train_step(b, 0, n, &opt, 1, NULL, &err), 0, "%s", err.msg);
    free(idx);
    free(order);
}

static void expect_same_params(void *a, void *b, const reel_nn_spec *s, const char *what)
{
    reel_error err;
    float *p = malloc(s->n_params * sizeof *p), *q = malloc(s->n_params * sizeof *q);
    cr_assert_eq(reel_nn_cpu_backend.get_params(a, p, &err), 0);
    cr_assert_eq(reel_nn_cpu_backend.get_params(b, q, &err), 0);
    cr_expect_eq(memcmp(p, q, s->n_params * sizeof *p), 0, "%s", what);
    free(p);
    free(q);
}

/* label_smoothing eps: the loop trains on 1 - eps/2 and eps/2, and the
 * gradient of the output bias is the mean of (sigmoid(z) - target). */
Test(nn_recipe, label_smoothing_trains_on_smoothed_targets)
{
    reel_nn_spec s;
    small_spec(&s);
    data t = make_data(40, 3);
    size_t n = 40, cells = n * 3;
    reel_fit_ctx c = ctx_for(&t, n, 1);
    c.nv = 0;
    c.log = NULL;
    reel_error err;
    const double eps[] = {0.0, 0.2};
    for (int e = 0; e < 2; e++) {
        reel_nn_train_opts o = one_step_opts(n);
        o.label_smoothing = eps[e];
        void *looped = new_net(&s, 7), *by_hand = new_net(&s, 7);
        reel_nn_net net = {&reel_nn_cpu_backend, looped, &s};
        reel_nn_train_result res;
        cr_assert_eq(reel_nn_train(&net, &o, &c, &res, &err), 0, "%s", err.msg);
        reel_history_free(&res.history);

        float *Yf = malloc(cells * sizeof *Yf);
        for (size_t i = 0; i < cells; i++)
            Yf[i] = t.Y[i] ? (float)(1.0 - eps[e] / 2) : (float)(eps[e] / 2);
        /* the initial probabilities, for the gradient's formula */
        float *P = malloc(cells * sizeof *P);
        cr_assert_eq(reel_nn_cpu_backend.predict(by_hand, t.X, n, P, &err), 0);
        step_by_hand(by_hand, &t, n, Yf, o.opt.lr, o.seed);
        expect_same_params(looped, by_hand, &s, eps[e] > 0 ? "smoothed targets" : "eps 0: the labels");

        float *g = malloc(s.n_params * sizeof *g);
        cr_assert_eq(reel_nn_cpu_backend.get_grads(by_hand, g, &err), 0);
        const reel_nn_layer *out = &s.layer[s.n_layers - 1];
        for (size_t k = 0; k < 3; k++) {
            double want = 0;
            for (size_t i = 0; i < n; i++)
                want += ((double)P[i * 3 + k] - Yf[i * 3 + k]) / (double)cells;
            cr_expect(fabs(g[out->b_off + k] - want) < 1e-6, "eps %g label %zu: gradient %g, formula %g", eps[e], k,
                      g[out->b_off + k], want);
        }
        if (eps[e] > 0) { /* and it is not the unsmoothed gradient */
            double plain = 0;
            for (size_t i = 0; i < n; i++)
                plain += ((double)P[i * 3] - t.Y[i * 3]) / (double)cells;
            cr_expect(fabs(g[out->b_off] - plain) > 1e-3, "smoothing changed nothing");
        }
        free(g);
        free(P);
        free(Yf);
        reel_nn_cpu_backend.destroy(looped);
        reel_nn_cpu_backend.destroy(by_hand);
    }
    free(t.X);
    free(t.Y);
}

Test(nn_recipe, schedule_rates)
{
    reel_nn_train_opts o = {.opt = {.lr = 0.004}, .epochs = 10};
    cr_expect_eq(reel_nn_epoch_lr(&o, 1), 0.004);
    cr_expect_eq(reel_nn_epoch_lr(&o, 10), 0.004);
    o.warmup_epochs = 4;
    cr_expect(fabs(reel_nn_epoch_lr(&o, 1) - 0.001) < 1e-15);
    cr_expect(fabs(reel_nn_epoch_lr(&o, 3) - 0.003) < 1e-15);
    cr_expect_eq(reel_nn_epoch_lr(&o, 4), 0.004);
    cr_expect_eq(reel_nn_epoch_lr(&o, 7), 0.004);
    o.cosine = 1; /* epochs 5..10 follow half a cosine over 6 epochs */
    cr_expect_eq(reel_nn_epoch_lr(&o, 5), 0.004);
    cr_expect(fabs(reel_nn_epoch_lr(&o, 8) - 0.002) < 1e-12, "halfway: %g", reel_nn_epoch_lr(&o, 8));
    cr_expect(fabs(reel_nn_epoch_lr(&o, 10) - 0.004 * (1 + cos(3.14159265358979 * 5 / 6)) / 2) < 1e-12);
    cr_expect(reel_nn_epoch_lr(&o, 10) < reel_nn_epoch_lr(&o, 9));
}

/* The loop steps at the scheduled rate: epoch 1 of a 2-epoch warm-up is
 * a step at lr / 2. */
Test(nn_recipe, loop_steps_at_the_scheduled_rate)
{
    reel_nn_spec s;
    small_spec(&s);
    data t = make_data(30, 8);
    reel_fit_ctx c = ctx_for(&t, 30, 1);
    c.nv = 0;
    reel_error err;
    reel_nn_train_opts o = one_step_opts(30);
    o.warmup_epochs = 2;
    o.cosine = 1;
    void *looped = new_net(&s, 2), *by_hand = new_net(&s, 2);
    reel_nn_net net = {&reel_nn_cpu_backend, looped, &s};
    reel_nn_train_result res;
    cr_assert_eq(reel_nn_train(&net, &o, &c, &res, &err), 0, "%s", err.msg);
    reel_history_free(&res.history);
    float *Yf = malloc(90 * sizeof *Yf);
    for (size_t i = 0; i < 90; i++)
        Yf[i] = t.Y[i];
    step_by_hand(by_hand, &t, 30, Yf, o.opt.lr / 2, o.seed);
    expect_same_params(looped, by_hand, &s, "warm-up epoch 1 of 2 must step at lr / 2");
    free(Yf);
    reel_nn_cpu_backend.destroy(looped);
    reel_nn_cpu_backend.destroy(by_hand);
    free(t.X);
    free(t.Y);
}

static void fit(reel_model *m, const char *name, const char *params, const reel_fit_ctx *c)
{
    reel_error err;
    cJSON *p = params ? cJSON_Parse(params) : NULL;
    cr_assert_eq(reel_model_init(m, name, p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
}

static void save(const reel_model *m, reel_tensors *bag, cJSON **meta)
{
    reel_error err;
    *meta = cJSON_CreateObject();
    cr_assert_eq(m->kind->save(m->state, bag, *meta, &err), 0, "%s", err.msg);
}

/* "ensemble": 3 holds member 0 = the plain net of the same seed (same
 * bits), members 1 and 2 under "ensemble.<k>." names, and predicts the
 * mean of the three members, each loaded alone. */
Test(nn_recipe, ensemble_members_and_mean)
{
    data t = make_data(300, 4);
    reel_fit_ctx c = ctx_for(&t, 250, 1);
    reel_error err;
    reel_model plain, ens;
    fit(&plain, "u", "{\"epochs\": 3, \"width\": 8, \"lr\": 0.003, \"ensemble\": 1}", &c);
    fit(&ens, "u", "{\"epochs\": 3, \"width\": 8, \"lr\": 0.003, \"ensemble\": 3}", &c);
    reel_tensors pb = {0}, eb = {0};
    cJSON *pm, *em;
    save(&plain, &pb, &pm);
    save(&ens, &eb, &em);
    cr_expect_eq(eb.n, 3 * pb.n, "every member's tensors");
    for (size_t i = 0; i < pb.n; i++) {
        const reel_tensor *e = reel_tensors_get(&eb, pb.t[i].name, REEL_F32, 0, &err);
        cr_assert_not_null(e, "%s", err.msg);
        cr_expect_eq(e->nbytes, pb.t[i].nbytes);
        cr_expect_eq(memcmp(e->data, pb.t[i].data, e->nbytes), 0, "member 0's %s differs from the plain net's",
                     pb.t[i].name);
    }
    const reel_tensor *w1 = reel_tensors_get(&eb, "ensemble.1.0.weight", REEL_F32, 0, &err);
    cr_assert_not_null(w1, "%s", err.msg);
    cr_expect_neq(memcmp(w1->data, pb.t[0].data, w1->nbytes), 0, "member 1 is member 0 again");

    /* each member alone, as a plain net of the ensemble's params */
    size_t nv = 50, cells = nv * 3;
    double *sum = calloc(cells, sizeof *sum);
    float *Pk = malloc(cells * sizeof *Pk), *P = malloc(cells * sizeof *P);
    reel_model one;
    cJSON *op = cJSON_Parse("{\"epochs\": 3, \"width\": 8, \"lr\": 0.003, \"ensemble\": 1}");
    cr_assert_eq(reel_model_init(&one, "u", op, &err), 0, "%s", err.msg);
    cJSON_Delete(op);
    for (size_t k = 0; k < 3; k++) {
        reel_tensors member = {0};
        for (size_t i = 0; i < eb.n; i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "ensemble.%zu.", k);
            const char *name = eb.t[i].name;
            int mine = k == 0 ? strncmp(name, "ensemble.", 9) != 0 : strncmp(name, prefix, strlen(prefix)) == 0;
            if (!mine)
                continue;
            cr_assert_eq(reel_tensors_add(&member, k == 0 ? name : name + strlen(prefix), REEL_F32,
                                          eb.t[i].ndim, eb.t[i].shape, eb.t[i].data, &err), 0, "%s", err.msg);
        }
        void *alone = one.kind->load(one.params, 4, 3, 1, &member, em, &err);
        cr_assert_not_null(alone, "member %zu: %s", k, err.msg);
        cr_assert_eq(one.kind->predict_proba(alone, c.Xv, nv, Pk, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < cells; i++)
            sum[i] += Pk[i];
        one.kind->free(alone);
        reel_tensors_free(&member);
    }
    cr_assert_eq(reel_model_predict_proba(&ens, c.Xv, nv, P, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < cells; i++)
        cr_expect_eq(P[i], (float)(sum[i] / 3), "cell %zu: %g, mean of members %g", i, P[i], sum[i] / 3);

    /* the file round trip keeps every member */
    void *loaded = ens.kind->load(ens.params, 4, 3, 1, &eb, em, &err);
    cr_assert_not_null(loaded, "%s", err.msg);
    cr_assert_eq(ens.kind->predict_proba(loaded, c.Xv, nv, Pk, &err), 0);
    cr_expect_eq(memcmp(P, Pk, cells * sizeof *P), 0, "loaded ensemble predicts differently");
    ens.kind->free(loaded);
    /* a file missing a member is refused, naming the tensor */
    reel_tensors short_bag = {0};
    for (size_t i = 0; i < pb.n; i++)
        reel_tensors_add(&short_bag, pb.t[i].name, REEL_F32, pb.t[i].ndim, pb.t[i].shape, pb.t[i].data, &err);
    cr_expect_null(ens.kind->load(ens.params, 4, 3, 1, &short_bag, em, &err));
    cr_expect(strstr(err.msg, "ensemble.1.") != NULL, "%s", err.msg);

    reel_tensors_free(&short_bag);
    reel_model_free(&one);
    free(sum);
    free(Pk);
    free(P);
    reel_tensors_free(&pb);
    reel_tensors_free(&eb);
    cJSON_Delete(pm);
    cJSON_Delete(em);
    reel_model_free(&plain);
    reel_model_free(&ens);
    free(t.X);
    free(t.Y);
}

/* With a checkpoint an ensemble trains member by member, member k >= 1 in
 * FILE.member<k>: 1 epoch, then resumed to 3, predicts as 3 epochs in one go
 * (and as the members trained together without a checkpoint). */
Test(nn_recipe, ensemble_checkpoints_resume_identically)
{
    data t = make_data(200, 4);
    reel_fit_ctx c = ctx_for(&t, 160, 1);
    const char *ck = tmp_path("recipe_ens.ckpt");
    char member[512];
    snprintf(member, sizeof member, "%s.member2", ck);
    remove(ck);
    remove(member);
    reel_model a, b, whole;
    c.checkpoint = ck;
    fit(&a, "box", "{\"epochs\": 1, \"ensemble\": 3, \"width\": 8, \"patience\": 100}", &c);
    cr_expect(file_exists(ck) && file_exists(member), "a checkpoint per member");
    fit(&b, "box", "{\"epochs\": 3, \"ensemble\": 3, \"width\": 8, \"patience\": 100}", &c);
    c.checkpoint = NULL;
    fit(&whole, "box", "{\"epochs\": 3, \"ensemble\": 3, \"width\": 8, \"patience\": 100}", &c);
    float P[40 * 3], Q[40 * 3];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&b, c.Xv, 40, P, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_model_predict_proba(&whole, c.Xv, 40, Q, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "resumed ensemble predicts differently");
    reel_model_free(&a);
    reel_model_free(&b);
    reel_model_free(&whole);
    remove(ck);
    for (int k = 1; k < 3; k++) {
        snprintf(member, sizeof member, "%s.member%d", ck, k);
        remove(member);
    }
    free(t.X);
    free(t.Y);
}

Test(nn_recipe, bad_recipe_params_are_named)
{
    const char *bad[][2] = {
        {"{\"ensemble\": 0}", "ensemble"},
        {"{\"ensemble\": 1.5}", "ensemble"},
        {"{\"label_smoothing\": -0.1}", "label_smoothing"},
        {"{\"label_smoothing\": 0.7}", "label_smoothing"},
        {"{\"lr_schedule\": \"linear\"}", "lr_schedule"},
        {"{\"warmup_epochs\": -1}", "warmup_epochs"},
        {"{\"pos_weight\": 0}", "pos_weight"},
        {"{\"pos_weight\": \"rare\"}", "pos_weight"},
        {"{\"pos_weight\": []}", "pos_weight"},
        {"{\"pos_weight\": [1, -2]}", "pos_weight"},
        {"{\"pos_weight\": 2, \"head\": \"softmax\"}", "pos_weight"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        reel_model m;
        reel_error err;
        cJSON *p = cJSON_Parse(bad[i][0]);
        cr_expect_neq(reel_model_init(&m, "box", p, &err), 0, "accepted %s", bad[i][0]);
        cr_expect(strstr(err.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], err.msg);
        cJSON_Delete(p);
        reel_model_free(&m);
    }
}

/* A definition written before these keys (a user's model file, an old
 * model file's params) trains as before: absent keys mean no smoothing,
 * a constant rate, no warm-up and one net. */
Test(nn_recipe, absent_keys_keep_the_old_training)
{
    const cJSON *spec = cJSON_GetObjectItem(reel_model_def("box_original"), "params");
    cJSON *params = cJSON_CreateObject();
    for (const cJSON *k = spec->child; k; k = k->next)
        cJSON_AddItemToObject(params, k->string, cJSON_Duplicate(cJSON_GetObjectItem(k, "default"), 1));
    const char *recipe[] = {"ensemble", "label_smoothing", "lr_schedule", "warmup_epochs"};
    for (size_t i = 0; i < 4; i++)
        cJSON_DeleteItemFromObject(params, recipe[i]);
    reel_mlp_params p;
    reel_error err;
    cr_assert_eq(reel_mlp_params_get(params, 7, 1, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(p.ensemble, 1);
    cr_expect_eq(p.train.label_smoothing, 0.0);
    cr_expect_eq(p.train.cosine, 0);
    cr_expect_eq(p.train.warmup_epochs, 0);
    cJSON_AddStringToObject(params, "lr_schedule", "sometimes");
    cr_expect_neq(reel_mlp_params_get(params, 7, 1, &p, &err), 0);
    cr_expect(strstr(err.msg, "lr_schedule") != NULL, "%s", err.msg);
    cJSON_Delete(params);
    /* the originals keep the original's training */
    const char *orig[] = {"box_original", "u_original"};
    for (size_t i = 0; i < 2; i++) {
        reel_model m;
        cr_assert_eq(reel_model_init(&m, orig[i], NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(reel_mlp_params_get(m.params, 7, 1, &p, &err), 0, "%s", err.msg);
        cr_expect(p.ensemble == 1 && p.train.label_smoothing == 0 && !p.train.cosine && p.train.warmup_epochs == 0,
                  "%s changed its training", orig[i]);
        reel_model_free(&m);
    }
}

/* pos_weight w: one step's output-bias gradient is the mean of
 * p*(1 + (w-1)*y) - w*y, and the loss is torch's BCEWithLogitsLoss with
 * pos_weight; weights of 1 step exactly as no weights. */
Test(nn_recipe, pos_weight_gradient_and_loss_follow_the_formula)
{
    reel_nn_spec s;
    small_spec(&s);
    data t = make_data(40, 6);
    size_t n = 40, L = 3, cells = n * L;
    reel_error err;
    float *Yf = malloc(cells * sizeof *Yf);
    for (size_t i = 0; i < cells; i++)
        Yf[i] = t.Y[i];
    const float w[3] = {3.0f, 0.5f, 1.0f}, ones[3] = {1, 1, 1};
    void *plain = new_net(&s, 4), *weighted = new_net(&s, 4), *unit = new_net(&s, 4);
    float *P = malloc(cells * sizeof *P);
    cr_assert_eq(reel_nn_cpu_backend.predict(weighted, t.X, n, P, &err), 0);
    cr_assert_eq(reel_nn_cpu_backend.set_pos_weight(weighted, w, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_nn_cpu_backend.set_pos_weight(unit, ones, &err), 0, "%s", err.msg);
    /* the loss, before any step */
    double loss, want = 0;
    cr_assert_eq(reel_nn_cpu_backend.eval_loss(weighted, t.X, Yf, n, &loss, NULL, &err), 0, "%s", err.msg);
    for (size_t c = 0; c < cells; c++) {
        double p = P[c], y = Yf[c];
        want += -(w[c % L] * y * log(p) + (1 - y) * log(1 - p));
    }
    want /= (double)cells;
    cr_expect(fabs(loss - want) < 1e-5, "weighted loss %.8f, formula %.8f", loss, want);
    step_by_hand(plain, &t, n, Yf, 0.01, 11);
    step_by_hand(weighted, &t, n, Yf, 0.01, 11);
    step_by_hand(unit, &t, n, Yf, 0.01, 11);
    expect_same_params(plain, unit, &s, "pos_weight 1 must step exactly as no pos_weight");
    float *g = malloc(s.n_params * sizeof *g);
    cr_assert_eq(reel_nn_cpu_backend.get_grads(weighted, g, &err), 0);
    const reel_nn_layer *out = &s.layer[s.n_layers - 1];
    for (size_t k = 0; k < L; k++) {
        double gk = 0, plain_gk = 0;
        for (size_t i = 0; i < n; i++) {
            double p = P[i * L + k], y = Yf[i * L + k];
            gk += (p * (1 + (w[k] - 1) * y) - w[k] * y) / (double)cells;
            plain_gk += (p - y) / (double)cells;
        }
        cr_expect(fabs(g[out->b_off + k] - gk) < 1e-6, "label %zu: gradient %g, formula %g", k, g[out->b_off + k],
                  gk);
        if (w[k] != 1)
            cr_expect(fabs(gk - plain_gk) > 1e-4, "label %zu: the weight changed nothing", k);
    }
    free(g);
    free(P);
    free(Yf);
    reel_nn_cpu_backend.destroy(plain);
    reel_nn_cpu_backend.destroy(weighted);
    reel_nn_cpu_backend.destroy(unit);
    free(t.X);
    free(t.Y);
}

/* "balanced": negatives / positives per label, clipped to 1..1000, 1
 * without positives; a list must have one weight per label. */
Test(nn_recipe, pos_weight_balanced_and_lists)
{
    /* 8 rows, 4 labels: 2 positives, 6 positives, none, 1 */
    uint8_t Y[8 * 4] = {0};
    Y[0 * 4 + 0] = Y[1 * 4 + 0] = 1;
    for (int i = 0; i < 6; i++)
        Y[i * 4 + 1] = 1;
    Y[7 * 4 + 3] = 1;
    reel_error err;
    reel_mlp_params p;
    reel_model m;
    cJSON *user = cJSON_Parse("{\"pos_weight\": \"balanced\"}");
    cr_assert_eq(reel_model_init(&m, "box", user, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_mlp_params_get(m.params, 4, 1, &p, &err), 0, "%s", err.msg);
    float w[4];
    cr_assert_eq(reel_mlp_pos_weights(&p, Y, 8, 4, w, &err), 0, "%s", err.msg);
    cr_expect_eq(w[0], 3.0f); /* 6 / 2 */
    cr_expect_eq(w[1], 1.0f); /* 2 / 6, clipped up */
    cr_expect_eq(w[2], 1.0f); /* no positives */
    cr_expect_eq(w[3], 7.0f);
    reel_model_free(&m);
    cJSON_Delete(user);
    user = cJSON_Parse("{\"pos_weight\": [1, 2, 3]}");
    cr_assert_eq(reel_model_init(&m, "box", user, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_mlp_params_get(m.params, 4, 1, &p, &err), 0, "%s", err.msg);
    cr_expect_neq(reel_mlp_pos_weights(&p, Y, 8, 4, w, &err), 0);
    cr_expect(strstr(err.msg, "3 weights for 4 labels") != NULL, "%s", err.msg);
    reel_model_free(&m);
    cJSON_Delete(user);
}

/* A backend without per-label positive weights (every device's) refuses
 * to train with them, naming the key and the way out. */
Test(nn_recipe, pos_weight_refused_where_not_implemented)
{
    reel_nn_spec s;
    small_spec(&s);
    data t = make_data(30, 8);
    reel_fit_ctx c = ctx_for(&t, 30, 1);
    c.nv = 0;
    reel_nn_backend without = reel_nn_cpu_backend;
    without.name = "devicelike";
    without.set_pos_weight = NULL;
    void *b = new_net(&s, 2);
    reel_nn_net net = {&without, b, &s};
    reel_nn_train_opts o = one_step_opts(30);
    const float w[3] = {2, 2, 2};
    o.pos_weight = w;
    reel_nn_train_result res;
    reel_error err;
    cr_expect_neq(reel_nn_train(&net, &o, &c, &res, &err), 0);
    cr_expect(strstr(err.msg, "pos_weight") && strstr(err.msg, "devicelike") && strstr(err.msg, "--device cpu"),
              "%s", err.msg);
    reel_history_free(&res.history);
    reel_nn_cpu_backend.destroy(b);
    free(t.X);
    free(t.Y);
}

/* On the CPU an ensemble's members train in parallel threads: the same
 * bits as one thread, one member after another. */
Test(nn_recipe, ensemble_threads_change_no_bit)
{
    data t = make_data(300, 9);
    reel_model one, many;
    reel_fit_ctx c1 = ctx_for(&t, 250, 1), c3 = ctx_for(&t, 250, 3);
    const char *params = "{\"epochs\": 3, \"width\": 8, \"ensemble\": 3}";
    fit(&one, "box", params, &c1);
    fit(&many, "box", params, &c3);
    float P[50 * 3], Q[50 * 3];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&one, c1.Xv, 50, P, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_model_predict_proba(&many, c1.Xv, 50, Q, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "3 threads predict differently from 1");
    reel_model_free(&one);
    reel_model_free(&many);
    free(t.X);
    free(t.Y);
}
