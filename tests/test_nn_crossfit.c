/* Cross-fitted members ("members": "cross-fit", issue 33): the folds, what
 * each member trains on, the out-of-fold probabilities the decision rule
 * is chosen on, and their bits at any thread count. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "eval/run.h"
#include "helpers.h"
#include "io/tensors.h"
#include "models/model.h"
#include "nn/folds.h"
#include "nn/mlp_params.h"
#include "nn_fixture.h"

static void fit(reel_model *m, const char *params, const reel_fit_ctx *c)
{
    reel_error err;
    cJSON *p = cJSON_Parse(params);
    cr_assert_eq(reel_model_init(m, "box", p, &err), 0, "%s", err.msg);
    cJSON_Delete(p);
    cr_assert_eq(reel_model_fit(m, c, &err), 0, "%s", err.msg);
}

/* The folds: every row in one, sizes within one of each other, the same
 * for the same seed, another for another seed. */
Test(nn_crossfit, folds_cover_every_row_once)
{
    enum { N = 103, K = 5 };
    int a[N], b[N], c[N];
    reel_error err;
    cr_assert_eq(reel_mlp_folds(N, K, 7, a, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_mlp_folds(N, K, 7, b, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_mlp_folds(N, K, 8, c, &err), 0, "%s", err.msg);
    size_t size[K] = {0};
    for (size_t i = 0; i < N; i++) {
        cr_assert(a[i] >= 0 && a[i] < K, "row %zu in fold %d", i, a[i]);
        size[a[i]]++;
    }
    for (int k = 0; k < K; k++)
        cr_expect(size[k] == N / K || size[k] == N / K + 1, "fold %d holds %zu rows", k, size[k]);
    cr_expect_eq(memcmp(a, b, sizeof a), 0, "the same seed moved the folds");
    cr_expect_neq(memcmp(a, c, sizeof a), 0, "another seed kept the folds");

    /* each member's rows: its held-out fold, and every other row to train on, in order */
    float X[N * 2];
    uint8_t Y[N];
    for (size_t i = 0; i < N; i++) {
        X[2 * i] = (float)i;
        X[2 * i + 1] = -(float)i;
        Y[i] = (uint8_t)(i % 2);
    }
    reel_nn_fold f[K];
    cr_assert_eq(reel_nn_folds_make(f, K, a, X, Y, N, 2, 1, &err), 0, "%s", err.msg);
    size_t held = 0;
    for (int k = 0; k < K; k++) {
        cr_expect_eq(f[k].nv, size[k]);
        cr_expect_eq(f[k].n + f[k].nv, (size_t)N);
        held += f[k].nv;
        for (size_t j = 0; j < f[k].nv; j++) {
            size_t i = f[k].held[j];
            cr_expect_eq(a[i], k, "member %d holds out row %zu of fold %d", k, i, a[i]);
            cr_expect_eq(f[k].Xv[2 * j], (float)i);
            cr_expect_eq(f[k].Yv[j], Y[i]);
        }
        for (size_t j = 0; j < f[k].n; j++) {
            size_t i = (size_t)f[k].X[2 * j];
            cr_expect_neq(a[i], k, "member %d trains on row %zu of its own fold", k, i);
            cr_expect(j == 0 || f[k].X[2 * j] > f[k].X[2 * (j - 1)], "member %d's rows out of order", k);
        }
    }
    cr_expect_eq(held, (size_t)N, "every row held out once");
    reel_nn_folds_free(f, K);

    cr_expect_neq(reel_mlp_folds(3, 5, 1, a, &err), 0, "5 folds of 3 rows");
    cr_expect(strstr(err.msg, "members") != NULL, "%s", err.msg);
}

/* Training for a fixed number of epochs (no early stopping, the last
 * weights kept, no averaging), so that the held-out fold's labels can
 * reach a member only by training on them. */
#define FIXED "\"epochs\": 3, \"width\": 8, \"lr\": 0.01, \"ensemble\": 3, \"patience\": 100000, " \
              "\"restore_best\": false, \"ema\": 0, \"label_smoothing\": 0"

/* The tensors of member k (0: the names without "ensemble."). */
static int is_member(const char *name, size_t k)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "ensemble.%zu.", k);
    return k == 0 ? strncmp(name, "ensemble.", 9) != 0 : strncmp(name, prefix, strlen(prefix)) == 0;
}

static int same_member(const reel_tensors *a, const reel_tensors *b, size_t k)
{
    int same = 1, seen = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!is_member(a->t[i].name, k))
            continue;
        seen = 1;
        reel_error err;
        const reel_tensor *t = reel_tensors_get(b, a->t[i].name, REEL_F32, 0, &err);
        cr_assert_not_null(t, "%s", err.msg);
        same &= t->nbytes == a->t[i].nbytes && memcmp(t->data, a->t[i].data, t->nbytes) == 0;
    }
    cr_assert(seen, "no tensor of member %zu", k);
    return same;
}

/* Member k never trains on fold k: flipping the labels of fold 0's rows
 * changes members 1 and 2 and leaves member 0's every bit. */
Test(nn_crossfit, a_member_never_trains_on_its_fold)
{
    data t = make_data(300, 4);
    reel_fit_ctx c = ctx_for(&t, 250, 1);
    reel_model a, b;
    fit(&a, "{\"members\": \"cross-fit\", " FIXED "}", &c);
    int fold[300];
    reel_error err;
    cr_assert_eq(reel_mlp_folds(300, 3, c.seed, fold, &err), 0, "%s", err.msg);
    uint8_t *Y = malloc(300 * 3);
    memcpy(Y, t.Y, 300 * 3);
    for (size_t i = 0; i < 300; i++) /* pooled rows: training then validation, as in t */
        if (fold[i] == 0)
            for (size_t l = 0; l < 3; l++)
                Y[i * 3 + l] ^= 1;
    reel_fit_ctx flipped = c;
    flipped.Y = Y;
    flipped.Yv = Y + 250 * 3;
    fit(&b, "{\"members\": \"cross-fit\", " FIXED "}", &flipped);
    reel_tensors ta = {0}, tb = {0};
    cJSON *ma = cJSON_CreateObject(), *mb = cJSON_CreateObject();
    cr_assert_eq(a.kind->save(a.state, &ta, ma, &err), 0, "%s", err.msg);
    cr_assert_eq(b.kind->save(b.state, &tb, mb, &err), 0, "%s", err.msg);
    cr_expect(same_member(&ta, &tb, 0), "member 0 saw its held-out fold's labels");
    cr_expect(!same_member(&ta, &tb, 1), "member 1 did not train on fold 0");
    cr_expect(!same_member(&ta, &tb, 2), "member 2 did not train on fold 0");
    /* the same rows for every member (the default) mix fold 0 into all */
    reel_model sa, sb;
    fit(&sa, "{" FIXED "}", &c);
    fit(&sb, "{" FIXED "}", &flipped);
    reel_tensors ua = {0}, ub = {0};
    cJSON *na = cJSON_CreateObject(), *nb = cJSON_CreateObject();
    cr_assert_eq(sa.kind->save(sa.state, &ua, na, &err), 0, "%s", err.msg);
    cr_assert_eq(sb.kind->save(sb.state, &ub, nb, &err), 0, "%s", err.msg);
    cr_expect(!same_member(&ua, &ub, 0), "same-rows member 0 did not see the flipped labels");
    size_t n_oof;
    cr_expect_null(reel_model_oof(&sa, &n_oof), "same-rows members keep out-of-fold probabilities");
    reel_tensors_free(&ta);
    reel_tensors_free(&tb);
    reel_tensors_free(&ua);
    reel_tensors_free(&ub);
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    cJSON_Delete(na);
    cJSON_Delete(nb);
    reel_model_free(&a);
    reel_model_free(&b);
    reel_model_free(&sa);
    reel_model_free(&sb);
    free(Y);
    free(t.X);
    free(t.Y);
}

/* Each pooled row's out-of-fold probability is what the member that held
 * it out predicts for it, loaded alone from the model's tensors. */
Test(nn_crossfit, oof_is_the_held_out_members_prediction)
{
    data t = make_data(200, 6);
    reel_fit_ctx c = ctx_for(&t, 170, 1);
    reel_model m;
    fit(&m, "{\"members\": \"cross-fit\", \"epochs\": 3, \"width\": 8, \"lr\": 0.003, \"ensemble\": 3}", &c);
    size_t n;
    const float *oof = reel_model_oof(&m, &n);
    cr_assert_not_null(oof);
    cr_assert_eq(n, (size_t)200, "out-of-fold rows: %zu, training + validation 200", n);
    int fold[200];
    reel_error err;
    cr_assert_eq(reel_mlp_folds(200, 3, c.seed, fold, &err), 0, "%s", err.msg);
    reel_tensors bag = {0};
    cJSON *meta = cJSON_CreateObject();
    cr_assert_eq(m.kind->save(m.state, &bag, meta, &err), 0, "%s", err.msg);
    reel_model one;
    cJSON *op = cJSON_Parse("{\"epochs\": 3, \"width\": 8, \"ensemble\": 1}");
    cr_assert_eq(reel_model_init(&one, "box", op, &err), 0, "%s", err.msg);
    cJSON_Delete(op);
    float *P = malloc(200 * 3 * sizeof *P);
    size_t checked = 0;
    for (size_t k = 0; k < 3; k++) {
        reel_tensors member = {0};
        char prefix[32];
        snprintf(prefix, sizeof prefix, "ensemble.%zu.", k);
        for (size_t i = 0; i < bag.n; i++)
            if (is_member(bag.t[i].name, k))
                cr_assert_eq(reel_tensors_add(&member, k == 0 ? bag.t[i].name : bag.t[i].name + strlen(prefix),
                                              REEL_F32, bag.t[i].ndim, bag.t[i].shape, bag.t[i].data, &err),
                             0, "%s", err.msg);
        void *alone = one.kind->load(one.params, 4, 3, 1, &member, meta, &err);
        cr_assert_not_null(alone, "member %zu: %s", k, err.msg);
        cr_assert_eq(one.kind->predict_proba(alone, t.X, 200, P, &err), 0, "%s", err.msg);
        int differs = 0;
        for (size_t i = 0; i < 200; i++) {
            if ((size_t)fold[i] != k)
                continue;
            checked++;
            for (size_t l = 0; l < 3; l++)
                differs |= P[i * 3 + l] != oof[i * 3 + l];
        }
        cr_expect(!differs, "member %zu's predictions of its held-out rows are not their out-of-fold ones", k);
        one.kind->free(alone);
        reel_tensors_free(&member);
    }
    cr_expect_eq(checked, (size_t)200);
    free(P);
    reel_model_free(&one);
    reel_tensors_free(&bag);
    cJSON_Delete(meta);
    reel_model_free(&m);
    free(t.X);
    free(t.Y);
}

/* The same bits on a re-run and at 1 or 3 threads: the members, their
 * out-of-fold probabilities. */
Test(nn_crossfit, same_bits_at_any_thread_count)
{
    data t = make_data(240, 9);
    reel_fit_ctx c1 = ctx_for(&t, 200, 1), c3 = ctx_for(&t, 200, 3);
    const char *params = "{\"members\": \"cross-fit\", \"epochs\": 3, \"width\": 8, \"ensemble\": 3}";
    reel_model a, b, c;
    fit(&a, params, &c1);
    fit(&b, params, &c1);
    fit(&c, params, &c3);
    size_t na, nb, nc;
    const float *oa = reel_model_oof(&a, &na), *ob = reel_model_oof(&b, &nb), *oc = reel_model_oof(&c, &nc);
    cr_assert(oa && ob && oc && na == 240 && nb == 240 && nc == 240);
    cr_expect_eq(memcmp(oa, ob, 240 * 3 * sizeof *oa), 0, "a re-run moved the out-of-fold probabilities");
    cr_expect_eq(memcmp(oa, oc, 240 * 3 * sizeof *oa), 0, "3 threads moved the out-of-fold probabilities");
    float P[40 * 3], Q[40 * 3];
    reel_error err;
    cr_assert_eq(reel_model_predict_proba(&a, c1.Xv, 40, P, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_model_predict_proba(&c, c1.Xv, 40, Q, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "3 threads predict differently from 1");
    reel_model_free(&a);
    reel_model_free(&b);
    reel_model_free(&c);
    free(t.X);
    free(t.Y);
}

Test(nn_crossfit, bad_values_are_named)
{
    const char *bad[][2] = {
        {"{\"members\": \"bagged\"}", "members"},
        {"{\"members\": 2}", "members"},
        {"{\"members\": \"cross-fit\", \"ensemble\": 1}", "ensemble"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        reel_model m;
        reel_error err;
        cJSON *p = cJSON_Parse(bad[i][0]);
        cr_expect_neq(reel_model_init(&m, "u", p, &err), 0, "accepted %s", bad[i][0]);
        cr_expect(strstr(err.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], err.msg);
        cJSON_Delete(p);
        reel_model_free(&m);
    }
    /* more folds than rows: refused at the fit, naming the key */
    data t = make_data(4, 1);
    reel_fit_ctx c = ctx_for(&t, 3, 1);
    reel_model m;
    reel_error err;
    cJSON *p = cJSON_Parse("{\"members\": \"cross-fit\", \"ensemble\": 5, \"epochs\": 1, \"width\": 4}");
    cr_assert_eq(reel_model_init(&m, "box", p, &err), 0, "%s", err.msg);
    cr_expect_neq(reel_model_fit(&m, &c, &err), 0, "5 folds of 4 rows");
    cr_expect(strstr(err.msg, "members") != NULL, "%s", err.msg);
    cJSON_Delete(p);
    reel_model_free(&m);
    free(t.X);
    free(t.Y);
}

/* 300 rows, four features, three labels (nn_fixture's problem) as a CSV. */
static const char *write_csv(void)
{
    static char csv[65536];
    data t = make_data(300, 3);
    strcpy(csv, "a,b,c,d,L1,L2,L3\n");
    for (size_t i = 0; i < 300; i++)
        sprintf(csv + strlen(csv), "%g,%g,%g,%g,%d,%d,%d\n", t.X[4 * i], t.X[4 * i + 1], t.X[4 * i + 2],
                t.X[4 * i + 3], t.Y[3 * i], t.Y[3 * i + 1], t.Y[3 * i + 2]);
    free(t.X);
    free(t.Y);
    return tmp_write("crossfit.csv", csv);
}

/* train's JSON: what the rule was chosen on, against the split's sizes. */
static void expect_rule_rows(const char *args, const char *from, int all)
{
    char *out, *err;
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s: %s", args, err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    const cJSON *ds = cJSON_GetObjectItem(doc, "dataset"), *dr = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "model"),
                                                                                      "decision_rows");
    cr_assert_not_null(dr, "%s", out);
    double train = cJSON_GetNumberValue(cJSON_GetObjectItem(ds, "train")),
           valid = cJSON_GetNumberValue(cJSON_GetObjectItem(ds, "valid"));
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(dr, "from")), from, "%s", args);
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(dr, "rows")), all ? train + valid : valid,
                 "%s: the rule saw %g rows (train %g, valid %g)", args,
                 cJSON_GetNumberValue(cJSON_GetObjectItem(dr, "rows")), train, valid);
    cJSON_Delete(doc);
    free(out);
    free(err);
}

/* The decision rule is chosen on every training and validation row's
 * out-of-fold probability: a cross-fitted net's own, or any model's with
 * --decision-rows oof; else on the validation rows. */
Test(nn_crossfit, the_rule_is_chosen_on_out_of_fold_rows)
{
    const char *csv = write_csv();
    const char *cf = tmp_write("cf_params.json", "{\"box\": {\"members\": \"cross-fit\", \"ensemble\": 3, "
                                                 "\"epochs\": 2, \"width\": 8}}");
    const char *sr = tmp_write("sr_params.json", "{\"box\": {\"ensemble\": 3, \"epochs\": 2, \"width\": 8}}");
    char args[2048];
#define TRAIN "train --data %s --labels L1,L2,L3 --threads 1 --quiet --format json "
    snprintf(args, sizeof args, TRAIN "--model box --params %s", csv, cf);
    expect_rule_rows(args, "out-of-fold", 1);
    snprintf(args, sizeof args, TRAIN "--model box --params %s", csv, sr);
    expect_rule_rows(args, "validation", 0);
    snprintf(args, sizeof args, TRAIN "--model tree", csv);
    expect_rule_rows(args, "validation", 0);
    snprintf(args, sizeof args, TRAIN "--model tree --decision-rows oof", csv);
    expect_rule_rows(args, "out-of-fold", 1);
    snprintf(args, sizeof args, TRAIN "--model ridge --decision-rows oof", csv);
    expect_rule_rows(args, "out-of-fold", 1);
    snprintf(args, sizeof args, TRAIN "--model box --params %s --decision-rows oof", csv, sr);
    expect_rule_rows(args, "out-of-fold", 1);
    /* the refits change the rule, not the model: the 0.5 scores are the same as without */
    char *a, *b, *e;
    snprintf(args, sizeof args, TRAIN "--model forest --decision threshold", csv);
    cr_assert_eq(run_reel(args, &a, &e), 0, "%s", e);
    free(e);
    snprintf(args, sizeof args, TRAIN "--model forest --decision threshold --decision-rows oof", csv);
    cr_assert_eq(run_reel(args, &b, &e), 0, "%s", e);
    free(e);
    cJSON *da = cJSON_Parse(a), *db = cJSON_Parse(b);
    char *ma = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(da, "model"), "metrics_untuned")),
         *mb = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(db, "model"), "metrics_untuned"));
    cr_expect_str_eq(ma, mb, "--decision-rows oof changed the kept model");
    free(ma);
    free(mb);
    cJSON_Delete(da);
    cJSON_Delete(db);
    free(a);
    free(b);
    /* a bad value: one line naming the flag, exit 2 */
    snprintf(args, sizeof args, TRAIN "--model tree --decision-rows valid-only", csv);
    cr_expect_eq(run_reel(args, &a, &e), 2);
    cr_expect(e && strstr(e, "--decision-rows"), "%s", e);
    free(a);
    free(e);
#undef TRAIN
}

/* compare over MPI ranks sends a finished run as bytes: what its rule was
 * chosen on comes back with it. */
Test(nn_crossfit, a_packed_run_keeps_what_its_rule_saw)
{
    reel_prepare_opts po = {0};
    po.data.data = write_csv();
    po.data.labels = "L1,L2,L3";
    po.split = (reel_split_opts){.seed = 3, .test_fraction = 0.2, .valid_fraction = 0.1};
    po.top_k = 10;
    reel_prepared p;
    reel_error err;
    cr_assert_eq(reel_prepare(&p, &po, &err), 0, "%s", err.msg);
    const char *rows[] = {"auto", "oof"};
    for (int k = 0; k < 2; k++) {
        reel_run_opts o = {.seed = 3, .threads = 1, .device = "cpu", .decision_rows = rows[k]};
        reel_run r, back;
        cr_assert_eq(reel_run_model(&r, &p, "ridge", NULL, &o, &err), 0, "%s", err.msg);
        cr_expect_eq(r.rule_rows, k ? p.train.n + p.valid.n : p.valid.n);
        size_t len;
        unsigned char *buf = reel_run_pack(&r, &len);
        cr_assert_not_null(buf);
        cr_assert_eq(reel_run_unpack(&back, &p, "ridge", NULL, buf, len, &err), 0, "%s", err.msg);
        cr_expect_str_eq(back.rule_from, r.rule_from);
        cr_expect_eq(back.rule_rows, r.rule_rows);
        free(buf);
        reel_run_free(&r);
        reel_run_free(&back);
    }
    reel_prepared_free(&p);
}

/* A cross-fitted net's file exports to ONNX as any ensemble does: the
 * "members" param only says which rows each member trained on. */
Test(nn_crossfit, a_cross_fitted_net_exports_to_onnx)
{
    const char *csv = write_csv(), *m = tmp_path("cf.safetensors"), *onnx = tmp_path("cf.onnx");
    const char *cf = tmp_write("cf_export.json", "{\"box\": {\"members\": \"cross-fit\", \"ensemble\": 2, "
                                                 "\"epochs\": 2, \"width\": 8}}");
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "train --data %s --labels L1,L2,L3 --threads 1 --quiet --model box --params %s "
             "--save %s", csv, cf, m);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", m, onnx);
    cr_expect_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
}
