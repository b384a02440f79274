#define _GNU_SOURCE /* memmem */
/* Model files: every model kind round-trips through safetensors with
 * bit-identical probabilities, and hostile files are clear errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "eval/run.h"
#include "helpers.h"
#include "io/safetensors.h"
#include "store/model_file.h"
#include "util/fileio.h"

static const char *small_csv(void)
{
    static char csv[65536];
    strcpy(csv, "id,a,b,c,kind,A,B,C\n");
    unsigned s = 11;
    for (int i = 0; i < 300; i++) {
        s = s * 1103515245u + 12345u;
        double a = (double)((s >> 8) % 1000) / 100.0;
        s = s * 1103515245u + 12345u;
        double b = (double)((s >> 8) % 1000) / 100.0;
        const char *kind = i % 4 == 0 ? "x" : (i % 4 == 1 ? "y" : (i % 4 == 2 ? "" : "z"));
        int A = a > 5, B = b > 3, C = !(A || B) || a + b > 12;
        sprintf(csv + strlen(csv), "r%d,%g,%g,%s,%s,%d,%d,%d\n", i, a, b, i % 7 ? "1.5" : "", kind, A, B, C);
    }
    return tmp_write("mf.csv", csv);
}

Test(model_file, every_model_round_trips_bit_identically)
{
    reel_prepare_opts o = {0};
    o.data.data = small_csv();
    o.data.labels = "A,B,C";
    o.data.id = "id";
    o.split = (reel_split_opts){.seed = 3, .test_fraction = 0.2, .valid_fraction = 0.2};
    o.top_k = 10;
    o.keep_table = 1; /* the loaded preprocessing re-reads the table below */
    reel_prepared p;
    reel_error err;
    cr_assert_eq(reel_prepare(&p, &o, &err), 0, "%s", err.msg);
    reel_run_opts ro = {.seed = 3, .threads = 2, .device = "cpu"};
    int n_models = 0;
    for (const char *const *name = reel_model_names(); *name; name++, n_models++) {
        reel_run run;
        cJSON *params = NULL;
        const cJSON *spec = cJSON_GetObjectItem(reel_model_def(*name), "params");
        if (cJSON_GetObjectItem(spec, "epochs")) /* nets: a few epochs are enough here */
            params = cJSON_Parse("{\"epochs\": 3}");
        cr_assert_eq(reel_run_model(&run, &p, *name, params, &ro, &err), 0, "%s: %s", *name, err.msg);
        const char *path = tmp_path("m.safetensors");
        cr_assert_eq(reel_model_file_save(path, &run.model, &p.pre, p.ds.labels, NULL, NULL, &err), 0, "%s: %s",
                     *name, err.msg);
        reel_model_file f;
        cr_assert_eq(reel_model_file_load(&f, path, 1, &err), 0, "%s: %s", *name, err.msg);
        cr_expect_eq(f.model.L, p.L);
        cr_expect_eq(f.pre.d, p.d);
        /* Transform the test rows with the loaded preprocessing, predict, compare bits. */
        size_t n = p.test.n;
        float *X = malloc(n * p.d * sizeof *X), *P = malloc(n * p.L * sizeof *P);
        cr_assert_eq(reel_preproc_transform(&f.pre, &p.ds.table, p.test.rows, n, f.model.kind->standardize, X,
                                            &err), 0);
        cr_expect_arr_eq(X, p.test.X[f.model.kind->standardize], n * p.d * sizeof *X, "%s: features differ",
                         *name);
        cr_assert_eq(reel_model_predict_proba(&f.model, X, n, P, &err), 0, "%s: %s", *name, err.msg);
        cr_expect_arr_eq(P, run.P, n * p.L * sizeof *P, "%s: probabilities differ after loading", *name);
        cr_expect_arr_eq(f.model.threshold, run.model.threshold, p.L * sizeof(float));
        uint8_t *d1 = malloc(n * p.L), *d2 = malloc(n * p.L);
        reel_decision_apply(&f.model.rule, P, n, d1);
        reel_decision_apply(&run.model.rule, run.P, n, d2);
        cr_expect_arr_eq(d1, d2, n * p.L, "%s: the loaded decision rule decides differently", *name);
        cr_expect_eq(f.model.rule.kind, run.model.rule.kind);
        free(d1);
        free(d2);
        free(X);
        free(P);
        reel_model_file_free(&f);
        reel_run_free(&run);
        cJSON_Delete(params);
    }
    cr_expect_geq(n_models, 2);
    reel_prepared_free(&p);
}

/* A valid little file: one F32 tensor "w" of shape [2]. */
static size_t good_file(unsigned char *buf, const char *header)
{
    size_t h = strlen(header);
    for (int k = 0; k < 8; k++)
        buf[k] = (unsigned char)((uint64_t)h >> (8 * k));
    memcpy(buf + 8, header, h);
    float w[2] = {1.5f, -2.0f};
    memcpy(buf + 8 + h, w, sizeof w);
    return 8 + h + sizeof w;
}

static void expect_parse_error(const unsigned char *buf, size_t len, const char *expect)
{
    reel_tensors t;
    cJSON *meta;
    reel_error err = {{0}};
    cr_expect_neq(reel_safetensors_parse("f", buf, len, &t, &meta, &err), 0, "should fail: %s", expect);
    cr_expect(strstr(err.msg, expect), "message '%s' lacks '%s'", err.msg, expect);
}

Test(safetensors, parses_good_and_rejects_hostile)
{
    unsigned char buf[512];
    size_t len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                "\"__metadata__\":{\"k\":\"v\"}}");
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    cr_assert_eq(reel_safetensors_parse("f", buf, len, &t, &meta, &err), 0, "%s", err.msg);
    const reel_tensor *w = reel_tensors_get(&t, "w", REEL_F32, 2, &err);
    cr_assert_not_null(w);
    cr_expect_float_eq(((float *)w->data)[1], -2.0f, 0);
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "k")->valuestring, "v");
    reel_tensors_free(&t);
    cJSON_Delete(meta);

    expect_parse_error(buf, 5, "too short");
    expect_parse_error(buf, len - 4 - 40, "runs past the end");
    unsigned char big[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_parse_error(big, sizeof big, "runs past the end");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}");
    expect_parse_error(buf, len, "data_offsets out of range");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}");
    expect_parse_error(buf, len, "8 bytes of data for a shape that needs 12");
    len = good_file(buf, "{\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}");
    expect_parse_error(buf, len, "dtype must be F32, F64, I32 or U8");
    len = good_file(buf, "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
                         "\"data_offsets\":[0,8]}}");
    expect_parse_error(buf, len, "shape overflows");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}");
    expect_parse_error(buf, len, "bad size");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}");
    expect_parse_error(buf, len, "data_offsets out of range");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":1}}");
    expect_parse_error(buf, len, "is not a string");
    len = good_file(buf, "[1,2]   ");
    expect_parse_error(buf, len, "not a JSON object");
    len = good_file(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_off");
    expect_parse_error(buf, len, "not a JSON object");
}

Test(model_file, truncated_wrong_version_wrong_kind)
{
    reel_prepare_opts o = {0};
    o.data.data = small_csv();
    o.data.labels = "A,B,C";
    o.split = (reel_split_opts){.seed = 1, .test_fraction = 0.2, .valid_fraction = 0.1};
    o.top_k = 10;
    reel_prepared p;
    reel_error err;
    cr_assert_eq(reel_prepare(&p, &o, &err), 0);
    reel_run run;
    reel_run_opts ro = {.seed = 1, .threads = 1, .device = "cpu"};
    cr_assert_eq(reel_run_model(&run, &p, "prior", NULL, &ro, &err), 0);
    const char *path = tmp_path("good.safetensors");
    cr_assert_eq(reel_model_file_save(path, &run.model, &p.pre, p.ds.labels, NULL, NULL, &err), 0);
    size_t len;
    char *bytes = reel_read_file(path, &len, &err);
    reel_model_file f;
    /* Every truncation is an error, never a crash. */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
        const char *tp = tmp_path("cut.safetensors");
        FILE *fp = fopen(tp, "wb");
        fwrite(bytes, 1, cut, fp);
        fclose(fp);
        cr_expect_neq(reel_model_file_load(&f, tp, 1, &err), 0, "truncated at %zu bytes loaded", cut);
    }
    /* Wrong version and wrong kind. */
    char *edit = malloc(len + 1);
    memcpy(edit, bytes, len);
    edit[len] = 0;
    char *v = memmem(edit, len, "\"format_version\":\"1\"", 20);
    cr_assert_not_null(v);
    v[18] = '9';
    const char *wp = tmp_write("v9.safetensors", "");
    FILE *fp = fopen(wp, "wb");
    fwrite(edit, 1, len, fp);
    fclose(fp);
    cr_expect_neq(reel_model_file_load(&f, wp, 1, &err), 0);
    cr_expect(strstr(err.msg, "format version"), "%s", err.msg);
    v[18] = '1';
    char *k = memmem(edit, len, "\"kind\":\"prior\"", 14);
    cr_assert_not_null(k);
    memcpy(k + 8, "pri0r", 5);
    fp = fopen(wp, "wb");
    fwrite(edit, 1, len, fp);
    fclose(fp);
    cr_expect_neq(reel_model_file_load(&f, wp, 1, &err), 0);
    cr_expect(strstr(err.msg, "the file says 'pri0r'"), "%s", err.msg);
    free(edit);
    free(bytes);
    reel_run_free(&run);
    reel_prepared_free(&p);
}

Test(model_file, train_save_predict_cli)
{
    const char *csv = small_csv();
    const char *model = tmp_path("cli.safetensors");
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "train --model prior --data %s --labels A,B,C --id id --save %s --quiet", csv, model);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "samples"), "%s", out);
    free(out);
    free(err);
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format json --quiet", model, csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert(cJSON_IsArray(doc), "%s", out);
    cr_expect_eq(cJSON_GetArraySize(doc), 300);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "id")->valuestring, "r0");
    cJSON_Delete(doc);
    free(out);
    free(err);
    const char *missing = tmp_write("missing.csv", "id,a\nq,1\n");
    snprintf(args, sizeof args, "predict --model-file %s --data %s", model, missing);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(strstr(err, "missing 3 columns the model needs: b, c, kind"), "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "predict --model-file %s --data %s", csv, csv);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(strstr(err, "mf.csv: header length"), "%s", err);
    free(out);
    free(err);
}
