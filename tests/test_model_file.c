#define _GNU_SOURCE /* memmem */
/* Model files: every model kind round-trips through safetensors with
 * bit-identical probabilities, and hostile files are clear errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "eval/decision.h"
#include "eval/run.h"
#include "helpers.h"
#include "io/safetensors.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/json_exact.h"

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

/* The small table prepared (seed 1) and one model trained on it, on the CPU. */
static void run_small(const char *model, reel_prepared *p, reel_run *run)
{
    reel_prepare_opts o = {0};
    o.data.data = small_csv();
    o.data.labels = "A,B,C";
    o.split = (reel_split_opts){.seed = 1, .test_fraction = 0.2, .valid_fraction = 0.1};
    o.top_k = 10;
    reel_error err;
    cr_assert_eq(reel_prepare(p, &o, &err), 0, "%s", err.msg);
    reel_run_opts ro = {.seed = 1, .threads = 1, .device = "cpu"};
    cr_assert_eq(reel_run_model(run, p, model, NULL, &ro, &err), 0, "%s: %s", model, err.msg);
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
        cr_assert_eq(reel_decision_apply(&f.model.rule, P, n, d1), 0);
        cr_assert_eq(reel_decision_apply(&run.model.rule, run.P, n, d2), 0);
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
    reel_prepared p;
    reel_run run;
    reel_error err;
    run_small("prior", &p, &run);
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
    char *v = memmem(edit, len, "\"format_version\":\"2\"", 20);
    cr_assert_not_null(v);
    v[18] = '9';
    cr_assert_eq(reel_safetensors_seal((unsigned char *)edit, len), 0);
    const char *wp = tmp_write("v9.safetensors", "");
    FILE *fp = fopen(wp, "wb");
    fwrite(edit, 1, len, fp);
    fclose(fp);
    cr_expect_neq(reel_model_file_load(&f, wp, 1, &err), 0);
    cr_expect(strstr(err.msg, "format version"), "%s", err.msg);
    v[18] = '2';
    char *k = memmem(edit, len, "\"kind\":\"prior\"", 14);
    cr_assert_not_null(k);
    memcpy(k + 8, "pri0r", 5);
    cr_assert_eq(reel_safetensors_seal((unsigned char *)edit, len), 0);
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

/* A saved ridge model (coef [L, d] F64, intercept [L] F64) and its bytes. */
static char *saved_model(const char *model, const char *name, size_t *len)
{
    reel_prepared p;
    reel_run run;
    reel_error err;
    run_small(model, &p, &run);
    const char *path = tmp_path(name);
    cr_assert_eq(reel_model_file_save(path, &run.model, &p.pre, p.ds.labels, NULL, NULL, &err), 0, "%s", err.msg);
    reel_run_free(&run);
    reel_prepared_free(&p);
    char *bytes = reel_read_file(path, len, &err);
    cr_assert_not_null(bytes);
    return bytes;
}

static char *saved_ridge(const char *name, size_t *len) { return saved_model("ridge", name, len); }

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fwrite(b, 1, n, fp);
    fclose(fp);
}

Test(model_file, every_flipped_bit_is_refused)
{
    size_t len;
    char *good = saved_ridge("flip_src.safetensors", &len);
    const char *path = tmp_path("flip.safetensors");
    reel_model_file f;
    reel_error err;
    int tried = 0;
    /* 200 flips spread over the header and the tensor data */
    for (size_t at = 8; at < len; at += len / 200 + 1, tried++) {
        good[at] ^= (char)(1 << (at % 8));
        write_bytes(path, good, len);
        good[at] ^= (char)(1 << (at % 8));
        int rc = reel_model_file_load(&f, path, 1, &err);
        cr_expect_neq(rc, 0, "a flip at byte %zu of %zu loaded", at, len);
        if (rc == 0)
            reel_model_file_free(&f);
    }
    cr_expect_gt(tried, 150);
    /* in the tensor data it is the checksum that tells */
    good[len - 3] ^= 4;
    write_bytes(path, good, len);
    cr_expect_neq(reel_model_file_load(&f, path, 1, &err), 0);
    cr_expect(strstr(err.msg, "checksum mismatch"), "%s", err.msg);
    free(good);
}

/* Rebuilds a file image from an edited header and data, with a valid
 * checksum, so the semantic checks behind the checksum are what refuse it. */
typedef void (*header_edit)(cJSON *header, cJSON *meta, unsigned char **data, size_t *n);

static const char *rebuilt(const char *good, size_t len, header_edit edit, const char *name)
{
    size_t hlen = 0;
    for (int k = 0; k < 8; k++)
        hlen |= (size_t)(unsigned char)good[k] << (8 * k);
    cJSON *h = cJSON_ParseWithLength(good + 8, hlen);
    cr_assert_not_null(h);
    size_t n = len - 8 - hlen;
    unsigned char *data = malloc(n + 64);
    memcpy(data, good + 8 + hlen, n);
    cJSON *meta = cJSON_GetObjectItem(h, "__metadata__");
    edit(h, meta, &data, &n);
    char *json = cJSON_PrintUnformatted(h);
    size_t jn = strlen(json), padded = (jn + 7) & ~(size_t)7, total = 8 + padded + n;
    unsigned char *img = malloc(total);
    for (int k = 0; k < 8; k++)
        img[k] = (unsigned char)(padded >> (8 * k));
    memcpy(img + 8, json, jn);
    memset(img + 8 + jn, ' ', padded - jn);
    memcpy(img + 8 + padded, data, n);
    cr_assert_eq(reel_safetensors_seal(img, total), 0);
    const char *path = tmp_path(name);
    write_bytes(path, img, total);
    free(img);
    free(data);
    cJSON_free(json);
    cJSON_Delete(h);
    return path;
}

static void set_offsets(cJSON *t, double a, double b)
{
    cJSON_ReplaceItemInObject(t, "data_offsets", cJSON_CreateDoubleArray((double[]){a, b}, 2));
}

static double off(cJSON *h, const char *t, int k)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(h, t), "data_offsets"), k)->valuedouble;
}

static void edit_overlap(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)d, (void)n;
    double w = off(h, "intercept", 1) - off(h, "intercept", 0);
    set_offsets(cJSON_GetObjectItem(h, "intercept"), 0, w); /* on top of coef */
}

static void edit_gap(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m;
    double a = off(h, "intercept", 0), b = off(h, "intercept", 1);
    set_offsets(cJSON_GetObjectItem(h, "intercept"), a + 8, b + 8);
    memset(*d + *n, 0, 8);
    *n += 8;
}

static void edit_transpose(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)d, (void)n;
    cJSON *shape = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "coef"), "shape");
    double r = cJSON_GetArrayItem(shape, 0)->valuedouble, c = cJSON_GetArrayItem(shape, 1)->valuedouble;
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(h, "coef"), "shape", cJSON_CreateDoubleArray((double[]){c, r}, 2));
}

static void edit_extra(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m;
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "dtype", "F64");
    cJSON_AddItemToObject(t, "shape", cJSON_CreateDoubleArray((double[]){1}, 1));
    cJSON_AddItemToObject(t, "data_offsets", cJSON_CreateDoubleArray((double[]){(double)*n, (double)*n + 8}, 2));
    cJSON_AddItemToObject(h, "extra", t);
    memset(*d + *n, 0, 8);
    *n += 8;
}

static void edit_append(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)m;
    memset(*d + *n, 0, 5);
    *n += 5;
}

static void set_meta(cJSON *m, const char *key, const char *from, const char *to)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, key));
    cr_assert_not_null(s, "no metadata '%s'", key);
    const char *at = strstr(s, from);
    cr_assert_not_null(at, "metadata '%s' lacks '%s': %s", key, from, s);
    char buf[8192];
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    cJSON_ReplaceItemInObject(m, key, cJSON_CreateString(buf));
}

static void edit_threshold_5(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "thresholds", cJSON_CreateString("[5,0.5,0.5]"));
}

static void edit_threshold_neg(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "thresholds", cJSON_CreateString("[0.5,-1,0.5]"));
}

static void edit_scale0(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    set_meta(m, "preprocessing", "\"scale\":", "\"scale\":0,\"was\":");
}

static void edit_dup_labels(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "labels", cJSON_CreateString("[\"A\",\"B\",\"A\"]"));
}

static void edit_nan(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)n;
    double nan = NAN;
    memcpy(*d + (size_t)off(h, "coef", 0) + 8, &nan, 8);
}

static void edit_threshold_nan(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "thresholds", cJSON_CreateString("[NaN,0.5,0.5]"));
}

static void edit_label_count(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "labels", cJSON_CreateString("[\"A\",\"B\"]"));
}

static void edit_rule_thresholds(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)d, (void)n;
    cJSON_ReplaceItemInObject(m, "decision", cJSON_CreateString("{\"rule\":\"threshold\",\"at_least_one\":false,"
                                                                "\"calibrated\":false,\"thresholds\":[0.5,1.5,0.5]}"));
}

/* The first leaf value of a tree file becomes `v`. */
static void set_leaf_value(cJSON *h, unsigned char *d, float v)
{
    memcpy(d + (size_t)off(h, "value", 0), &v, sizeof v);
}

static void edit_leaf_5(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)n;
    set_leaf_value(h, *d, 5.0f);
}

static void edit_leaf_neg(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)n;
    set_leaf_value(h, *d, -1.0f);
}

static void edit_weight_neg(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)m, (void)n;
    double v = -2.0;
    memcpy(*d + (size_t)off(h, "weight", 0), &v, sizeof v);
}

static void edit_none(cJSON *h, cJSON *m, unsigned char **d, size_t *n)
{
    (void)h, (void)m, (void)d, (void)n;
}

Test(model_file, hand_edited_files_are_refused_one_line_each)
{
    size_t len;
    char *good = saved_ridge("edit_src.safetensors", &len);
    struct {
        header_edit edit;
        const char *name, *expect;
    } cases[] = {
        {edit_overlap, "overlap", "tensor data overlap"},
        {edit_gap, "gap", "a gap in the tensor data"},
        {edit_transpose, "transposed", "tensor 'coef' is F64 ["},
        {edit_extra, "extra", "tensor 'extra' is not part of a ridge model"},
        {edit_append, "appended", "5 bytes after the last tensor's data"},
        {edit_threshold_5, "threshold5", "metadata field 'thresholds[0]' (label 'A') is 5; a threshold is a number "
                                         "in [0, 1]"},
        {edit_threshold_neg, "thresholdneg", "metadata field 'thresholds[1]' (label 'B') is -1"},
        {edit_threshold_nan, "thresholdnan", "metadata field 'thresholds' must be a list of numbers in [0, 1]"},
        {edit_label_count, "labelcount", "metadata field 'thresholds' must hold one number per label"},
        {edit_rule_thresholds, "rulethresholds", "metadata field decision.thresholds[1]: expected a number in [0, 1]"},
        {edit_scale0, "scale0", "the scale positive"},
        {edit_dup_labels, "duplabels", "label 'A' appears twice"},
        {edit_nan, "nan", "tensor 'coef' holds nan at element 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = rebuilt(good, len, cases[i].edit, cases[i].name);
        reel_model_file f;
        reel_error err = {{0}};
        int rc = reel_model_file_load(&f, path, 1, &err);
        cr_expect_neq(rc, 0, "%s: loaded", cases[i].name);
        if (rc == 0)
            reel_model_file_free(&f);
        cr_expect(strstr(err.msg, cases[i].expect), "%s: '%s' lacks '%s'", cases[i].name, err.msg,
                  cases[i].expect);
        cr_expect(!strchr(err.msg, '\n'), "%s: one line", cases[i].name);
    }
    /* the unedited image, rebuilt the same way, loads: the edits are what is refused */
    reel_model_file f;
    reel_error err;
    cr_expect_eq(reel_model_file_load(&f, rebuilt(good, len, edit_none, "unedited"), 1, &err), 0, "%s", err.msg);
    reel_model_file_free(&f);
    free(good);
}

/* Doubles keep every bit and seeds every digit through a save and load. */
Test(model_file, exact_doubles_and_64_bit_seeds)
{
    cJSON *v = cJSON_CreateObject();
    double x = 0.1 + 0.2, y = 1.0 / 3.0, z = 1e-300 * 1.0000000000000002;
    cJSON_AddNumberToObject(v, "x", x);
    cJSON_AddNumberToObject(v, "y", y);
    cJSON_AddNumberToObject(v, "z", z);
    char *s = reel_json_print_exact(v);
    cJSON *back = cJSON_Parse(s);
    cr_expect_eq(cJSON_GetObjectItem(back, "x")->valuedouble, x, "%s", s);
    cr_expect_eq(cJSON_GetObjectItem(back, "y")->valuedouble, y, "%s", s);
    cr_expect_eq(cJSON_GetObjectItem(back, "z")->valuedouble, z, "%s", s);
    /* cJSON's own printing loses the last bit of 0.1 + 0.2 */
    char *lossy = cJSON_PrintUnformatted(v);
    cJSON *lb = cJSON_Parse(lossy);
    cr_expect_neq(cJSON_GetObjectItem(lb, "x")->valuedouble, x, "cJSON now prints exactly: %s", lossy);
    cJSON_free(lossy);
    cJSON_Delete(lb);
    cJSON_free(s);
    cJSON_Delete(back);
    cJSON_Delete(v);
    uint64_t u;
    cJSON *big = cJSON_CreateString("18446744073709551615");
    cr_expect_eq(reel_json_u64(big, &u), 0);
    cr_expect_eq(u, UINT64_MAX);
    cJSON_Delete(big);
    big = cJSON_CreateNumber(1e300);
    cr_expect_neq(reel_json_u64(big, &u), 0, "a double beyond 2^53 is not a seed");
    cJSON_Delete(big);
}

/* A tree's leaf values are probabilities: a forged 5 or -1 is refused at load,
 * naming the tensor, instead of coming out of predict as a "probability". */
Test(model_file, forged_leaf_values_are_refused)
{
    size_t len;
    char *good = saved_model("tree", "tree_src.safetensors", &len);
    struct {
        header_edit edit;
        const char *name, *expect;
    } cases[] = {
        {edit_leaf_5, "leaf5", "tensor 'value' holds 5 at element 0"},
        {edit_leaf_neg, "leafneg", "tensor 'value' holds -1 at element 0"},
        {edit_weight_neg, "weightneg", "tensor 'weight' holds -2 at node 0; it is never negative"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reel_model_file f;
        reel_error err = {{0}};
        int rc = reel_model_file_load(&f, rebuilt(good, len, cases[i].edit, cases[i].name), 1, &err);
        cr_expect_neq(rc, 0, "%s: loaded", cases[i].name);
        if (rc == 0)
            reel_model_file_free(&f);
        cr_expect(strstr(err.msg, cases[i].expect), "%s: '%s' lacks '%s'", cases[i].name, err.msg, cases[i].expect);
    }
    reel_model_file f;
    reel_error err;
    cr_expect_eq(reel_model_file_load(&f, rebuilt(good, len, edit_none, "tree_unedited"), 1, &err), 0, "%s",
                 err.msg);
    reel_model_file_free(&f);
    free(good);
}

/* A kind whose predict gives NaN, 5 or -1 (a forged file the load checks
 * missed, a bug): reel_model_predict_proba refuses it, never scores it. */
static float bad_value;

static int bad_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    (void)state, (void)X, (void)err;
    for (size_t i = 0; i < n * 2; i++)
        P[i] = i == 3 ? bad_value : 0.5f;
    return 0;
}

Test(model_file, a_probability_that_is_not_one_is_an_error)
{
    static const reel_model_kind bad = {.name = "bad", .predict_proba = bad_predict};
    static const float values[] = {NAN, 5.0f, -1.0f, INFINITY};
    float X[4] = {0}, P[4];
    for (size_t q = 0; q < sizeof values / sizeof *values; q++) {
        bad_value = values[q];
        reel_model m = {.kind = &bad, .name = "bad", .state = X, .d = 1, .L = 2};
        reel_error err = {{0}};
        cr_expect_neq(reel_model_predict_proba(&m, X, 2, P, &err), 0, "%g was scored", (double)values[q]);
        cr_expect(strstr(err.msg, "as the probability of label 2 for row 2"), "%s", err.msg);
    }
    bad_value = 1.0f + 1e-7f; /* a rounding step past 1 is clamped */
    reel_model m = {.kind = &bad, .name = "bad", .state = X, .d = 1, .L = 2};
    reel_error err;
    cr_expect_eq(reel_model_predict_proba(&m, X, 2, P, &err), 0, "%s", err.msg);
    cr_expect_eq(P[3], 1.0f);
}
