/* Params checking against the specs in the model definitions, and the baselines. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "models/model.h"
#include "models/params.h"

Test(params, every_definition_parses_and_has_a_kind)
{
    int n = 0;
    for (const char *const *name = reel_model_names(); *name; name++, n++) {
        const cJSON *def = reel_model_def(*name);
        cr_assert_not_null(def, "%s.json does not parse", *name);
        cr_expect(cJSON_IsObject(cJSON_GetObjectItem(def, "params")), "%s: params", *name);
        cr_expect(cJSON_IsObject(cJSON_GetObjectItem(def, "grid")), "%s: grid", *name);
        reel_model m;
        reel_error err;
        cr_expect_eq(reel_model_init(&m, *name, NULL, &err), 0, "%s: defaults rejected: %s", *name, err.msg);
        reel_model_free(&m);
    }
    cr_expect_geq(n, 2);
}

static void bad(const char *model, const char *json, const char *expect)
{
    cJSON *u = cJSON_Parse(json);
    reel_model m;
    reel_error err = {{0}};
    cr_assert_neq(reel_model_init(&m, model, u, &err), 0, "%s should be rejected", json);
    cr_expect(strstr(err.msg, expect), "message '%s' lacks '%s'", err.msg, expect);
    cJSON_Delete(u);
}

Test(params, errors_name_key_and_allowed_values)
{
    bad("random", "{\"q\": 1}", "params for random: unknown key 'q'; valid keys: p, seed");
    bad("random", "{\"p\": 1.5}", "key 'p' must be a number >= 0 and <= 1; got 1.5");
    bad("random", "{\"p\": \"half\"}", "key 'p' must be a number");
    bad("random", "{\"seed\": 1.5}", "key 'seed' must be an integer >= 0, or null");
    bad("random", "[1]", "must be a JSON object");
    reel_model m;
    reel_error err;
    cr_expect_neq(reel_model_init(&m, "nosuch", NULL, &err), 0);
    cr_expect(strstr(err.msg, "unknown model 'nosuch'; valid models:"));
}

Test(params, user_values_override_defaults)
{
    cJSON *u = cJSON_Parse("{\"p\": 0.25}");
    reel_model m;
    reel_error err;
    cr_assert_eq(reel_model_init(&m, "random", u, &err), 0);
    reel_params_reader r;
    reel_params_read_begin(&r, m.params, "random");
    cr_expect_float_eq(reel_param_num(&r, "p"), 0.25, 1e-12);
    cr_expect(reel_param_is_null(&r, "seed"));
    cr_expect_eq(reel_params_read_end(&r, &err), 0);
    reel_model_free(&m);
    cJSON_Delete(u);
}

/* A key the code reads but the definition does not declare (a typo in C),
 * or a value read as the wrong type, fails naming the key instead of
 * reading as 0. */
Test(params, reading_an_undeclared_key_fails)
{
    reel_model m;
    reel_error err;
    cr_assert_eq(reel_model_init(&m, "box", NULL, &err), 0);
    reel_params_reader r;
    reel_params_read_begin(&r, m.params, "mlp");
    cr_expect_gt(reel_param_num(&r, "lr"), 0.0);
    cr_expect_eq(reel_params_read_end(&r, &err), 0);
    cr_expect_eq(reel_param_num(&r, "lrr"), 0.0);
    cr_expect_eq(reel_param_num(&r, "beta1"), 0.9); /* later reads keep the first miss */
    cr_assert_neq(reel_params_read_end(&r, &err), 0);
    cr_expect(strstr(err.msg, "params for mlp: key 'lrr' is read but not declared"), "%s", err.msg);

    reel_params_read_begin(&r, m.params, "mlp");
    reel_param_num(&r, "head");
    cr_assert_neq(reel_params_read_end(&r, &err), 0);
    cr_expect(strstr(err.msg, "key 'head' is read as a number"), "%s", err.msg);
    reel_model_free(&m);
}

static void fit_ctx(reel_fit_ctx *c, const float *X, const uint8_t *Y, size_t n, size_t L)
{
    memset(c, 0, sizeof *c);
    c->d = 1;
    c->L = L;
    c->X = X;
    c->Y = Y;
    c->n = n;
    c->seed = 42;
    c->threads = 1;
    c->device = "cpu";
}

Test(baselines, random_rate_and_batch_independence)
{
    float X[1] = {0};
    uint8_t Y[2] = {1, 0};
    reel_fit_ctx c;
    fit_ctx(&c, X, Y, 1, 2);
    reel_model m;
    reel_error err;
    cr_assert_eq(reel_model_init(&m, "random", NULL, &err), 0);
    cr_assert_eq(reel_model_fit(&m, &c, &err), 0);
    enum { N = 20000 };
    static float Xq[N], P[N * 2], P2[10 * 2];
    cr_assert_eq(reel_model_predict_proba(&m, Xq, N, P, &err), 0);
    double ones = 0;
    for (int i = 0; i < N * 2; i++)
        ones += P[i] > 0.5f;
    cr_expect(fabs(ones / (N * 2) - 0.5) < 0.02, "rate %g", ones / (N * 2));
    reel_model_predict_proba(&m, Xq, 10, P2, &err);
    cr_expect_arr_eq(P, P2, sizeof P2, "first rows are the same whatever the batch size");
    reel_model_free(&m);
}

Test(baselines, prior_is_training_frequency)
{
    float X[4] = {0};
    uint8_t Y[8] = {1, 0, 1, 1, 0, 0, 1, 0};
    reel_fit_ctx c;
    fit_ctx(&c, X, Y, 4, 2);
    reel_model m;
    reel_error err;
    cr_assert_eq(reel_model_init(&m, "prior", NULL, &err), 0);
    cr_assert_eq(reel_model_fit(&m, &c, &err), 0);
    float P[2];
    reel_model_predict_proba(&m, X, 1, P, &err);
    cr_expect_float_eq(P[0], 0.75f, 1e-7);
    cr_expect_float_eq(P[1], 0.25f, 1e-7);
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    cr_assert_eq(m.kind->save(m.state, &t, meta, &err), 0);
    void *s = m.kind->load(m.params, 1, 2, 1, &t, meta, &err);
    cr_assert_not_null(s, "%s", err.msg);
    float Q[2];
    m.kind->predict_proba(s, X, 1, Q, &err);
    cr_expect_arr_eq(P, Q, sizeof P);
    m.kind->free(s);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    reel_model_free(&m);
}
