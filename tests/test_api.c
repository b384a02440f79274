/* The public C API (include/reel.h) as a caller sees it: data from arrays
 * and files, fit, predict, save and load, the tasks' JSON, the log
 * callback, errors; and the same probabilities as the CLI on the same rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "reel.h"

#define N 120

/* 2 numeric columns (one with missing cells), 1 text column, 2 labels. */
typedef struct {
    double X[N * 2];
    const char *text[N];
    unsigned char Y[N * 2];
} rows;

static const char *const NUM[] = {"x1", "x2"}, *const TXT[] = {"colour"}, *const LAB[] = {"A", "B"};
static const char *const COLOURS[] = {"red", "green", "blue"};

static void make_rows(rows *r)
{
    for (int i = 0; i < N; i++) {
        double a = (double)((i * 37) % 101) / 8.0, b = (double)((i * 53) % 97) / 4.0 - 10.0;
        r->X[i * 2] = a;
        r->X[i * 2 + 1] = i % 11 == 0 ? NAN : b;
        r->text[i] = i % 13 == 0 ? NULL : COLOURS[i % 3];
        r->Y[i * 2] = a > 6.0;
        r->Y[i * 2 + 1] = i % 3 == 0 || (i % 11 != 0 && b > 5.0) || !(a > 6.0);
    }
}

/* The same rows as a CSV (numbers written exactly, "" missing). */
static const char *write_csv(const rows *r)
{
    size_t cap = 64 + N * 96, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "x1,x2,colour,A,B\n");
    for (int i = 0; i < N; i++) {
        char x2[40] = "";
        if (!isnan(r->X[i * 2 + 1]))
            snprintf(x2, sizeof x2, "%.17g", r->X[i * 2 + 1]);
        len += (size_t)snprintf(s + len, cap - len, "%.17g,%s,%s,%d,%d\n", r->X[i * 2], x2,
                                r->text[i] ? r->text[i] : "", r->Y[i * 2], r->Y[i * 2 + 1]);
    }
    const char *path = tmp_write("api.csv", s);
    free(s);
    return path;
}

static reel_data *data_of(const rows *r, int with_labels)
{
    reel_data *d = reel_data_from_arrays(N, 2, r->X, NUM, 1, r->text, TXT, with_labels ? 2 : 0,
                                         with_labels ? r->Y : NULL, with_labels ? LAB : NULL);
    cr_assert_not_null(d, "%s", reel_last_error());
    return d;
}

Test(api, fit_predict_save_load)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1), *x = data_of(&r, 0);
    cr_expect_eq(reel_data_rows(d), N);
    cr_expect_str_eq(reel_data_label(d, 1), "B");
    reel_classifier *c = reel_fit("tree", "{\"max_depth\": 3}", d,
                                "{\"seed\": 7, \"threads\": 1, \"decision\": \"threshold\"}");
    cr_assert_not_null(c, "%s", reel_last_error());
    cr_expect_eq(reel_classifier_labels(c), 2);
    cr_expect_str_eq(reel_classifier_decision_rule(c), "threshold");
    float P[N * 2], Q[N * 2], t[2];
    unsigned char Y[N * 2];
    cr_assert_eq(reel_predict_proba(c, x, P), 0, "%s", reel_last_error());
    cr_assert_eq(reel_predict(c, x, Y), 0, "%s", reel_last_error());
    cr_assert_eq(reel_classifier_thresholds(c, t), 0);
    size_t right = 0;
    for (int i = 0; i < N * 2; i++) {
        cr_assert(P[i] >= 0 && P[i] <= 1);
        cr_expect_eq(Y[i], P[i] > t[i % 2]);
        right += Y[i] == r.Y[i];
    }
    cr_expect(right > N * 2 * 8 / 10, "a depth-3 tree fits its training rows: %zu of %d", right, N * 2);
    /* a saved and loaded model gives the same bits */
    const char *path = tmp_path("api_tree.safetensors");
    cr_assert_eq(reel_classifier_save(c, path), 0, "%s", reel_last_error());
    reel_classifier *l = reel_classifier_load(path);
    cr_assert_not_null(l, "%s", reel_last_error());
    cr_assert_eq(reel_predict_proba(l, x, Q), 0, "%s", reel_last_error());
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "loaded model: other probabilities");
    char *info = reel_classifier_info(l);
    cr_expect(info && strstr(info, "\"max_depth\":\t3") && strstr(info, "\"colour=red\""), "%s", info);
    reel_free(info);
    reel_classifier_free(l);
    reel_classifier_free(c);
    reel_data_free(d);
    reel_data_free(x);
}

/* The C API and `reel train` + `reel predict` on the same rows and seed. */
Test(api, same_bits_as_the_cli)
{
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r), *model = tmp_path("api_cli_box.safetensors");
    const char *params = tmp_write("api_box.json", "{\"box\": {\"epochs\": 3, \"width\": 8}}");
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "train --model box --data %s --labels A,B --test-fraction 0 --keep-unlabeled "
             "--seed 5 --threads 1 --device cpu --params %s --save %s --quiet", csv, params, model);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    reel_classifier *cli = reel_classifier_load(model);
    cr_assert_not_null(cli, "%s", reel_last_error());
    reel_data *d = data_of(&r, 1);
    reel_classifier *c = reel_fit("box", "{\"epochs\": 3, \"width\": 8}", d,
                                  "{\"seed\": 5, \"threads\": 1, \"device\": \"cpu\"}");
    cr_assert_not_null(c, "%s", reel_last_error());
    /* rows read back from the CSV, predicted by both models */
    reel_data *f = reel_data_from_file(csv, NULL);
    cr_assert_not_null(f, "%s", reel_last_error());
    float P[N * 2], Q[N * 2];
    cr_assert_eq(reel_predict_proba(cli, f, P), 0, "%s", reel_last_error());
    cr_assert_eq(reel_predict_proba(c, d, Q), 0, "%s", reel_last_error());
    cr_expect_eq(memcmp(P, Q, sizeof P), 0, "the API's box differs from the CLI's: %.9g vs %.9g", P[0], Q[0]);
    /* and the same decisions, by the same rule (chosen on the same validation rows) */
    unsigned char A[N * 2], B[N * 2];
    cr_assert_eq(reel_predict(cli, f, A), 0, "%s", reel_last_error());
    cr_assert_eq(reel_predict(c, d, B), 0, "%s", reel_last_error());
    cr_expect_str_eq(reel_classifier_decision_rule(cli), reel_classifier_decision_rule(c));
    cr_expect_eq(memcmp(A, B, sizeof A), 0);
    reel_data_free(f);
    reel_data_free(d);
    reel_classifier_free(c);
    reel_classifier_free(cli);
}

/* A model file's tensors: the bytes after its header (the header's
 * metadata holds the fit's seconds, which differ from run to run). */
static unsigned char *tensors_of(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    unsigned char h[8];
    cr_assert_eq(fread(h, 1, 8, f), 8);
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--)
        n = n << 8 | h[k];
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    cr_assert(end > (long)(8 + n), "%s: no tensors", path);
    *len = (size_t)end - 8 - n;
    unsigned char *b = malloc(*len);
    fseek(f, (long)(8 + n), SEEK_SET);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* `reel train`, reel_fit and the "train" task are one path: a classical
 * model and a net give the same tensors and probabilities through each. */
Test(api, one_train_path)
{
    static const struct {
        const char *model, *params;
    } cases[] = {{"ridge", "{\"alpha\": 3}"}, {"box", "{\"epochs\": 2, \"width\": 8}"}};
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r);
    reel_data *d = data_of(&r, 1);
    for (size_t c = 0; c < 2; c++) {
        const char *model = cases[c].model;
        char name[3][64], path[3][512], params[600], args[2048], opts[1024], *out = NULL, *err = NULL;
        for (int k = 0; k < 3; k++) {
            snprintf(name[k], sizeof name[k], "path%d_%s.safetensors", k, model);
            snprintf(path[k], sizeof path[k], "%s", tmp_path(name[k]));
        }
        snprintf(params, sizeof params, "{\"%s\": %s}", model, cases[c].params);
        snprintf(args, sizeof args, "train --model %s --data %s --labels A,B --test-fraction 0 --keep-unlabeled "
                 "--seed 9 --threads 1 --device cpu --params %s --save %s --quiet", model, csv,
                 tmp_write("one_path.json", params), path[0]);
        cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
        free(out);
        free(err);
        reel_classifier *fit =
            reel_fit(model, cases[c].params, d, "{\"seed\": 9, \"threads\": 1, \"device\": \"cpu\"}");
        cr_assert_not_null(fit, "%s", reel_last_error());
        cr_assert_eq(reel_classifier_save(fit, path[1]), 0, "%s", reel_last_error());
        snprintf(opts, sizeof opts, "{\"model\": \"%s\", \"params\": %s, \"seed\": \"9\", \"threads\": 1, "
                 "\"device\": \"cpu\", \"test_fraction\": 0, \"save\": \"%s\"}", model, cases[c].params, path[2]);
        reel_task *t = reel_task_new("train", opts);
        cr_assert_not_null(t, "%s", reel_last_error());
        cr_assert_eq(reel_task_set_data(t, d), 0);
        cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
        cJSON *doc = cJSON_Parse(reel_task_result(t));
        cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "model"), "name")->valuestring, model);
        cJSON_Delete(doc);
        reel_classifier *task = reel_task_take_classifier(t);
        cr_assert_not_null(task);
        cr_expect_null(reel_task_take_classifier(t), "taken once");
        reel_task_free(t);
        size_t len[3];
        unsigned char *b[3];
        for (int k = 0; k < 3; k++)
            b[k] = tensors_of(path[k], &len[k]);
        for (int k = 1; k < 3; k++) {
            cr_expect(len[k] == len[0] && memcmp(b[k], b[0], len[0]) == 0, "%s: the tensors of %s differ from "
                      "the CLI's", model, k == 1 ? "reel_fit" : "the train task");
        }
        float P[3][N * 2];
        reel_classifier *cli = reel_classifier_load(path[0]);
        cr_assert_not_null(cli, "%s", reel_last_error());
        reel_classifier *m[3] = {cli, fit, task};
        for (int k = 0; k < 3; k++)
            cr_assert_eq(reel_predict_proba(m[k], d, P[k]), 0, "%s", reel_last_error());
        cr_expect_eq(memcmp(P[0], P[1], sizeof P[0]), 0, "%s: reel_fit's probabilities", model);
        cr_expect_eq(memcmp(P[0], P[2], sizeof P[0]), 0, "%s: the task's probabilities", model);
        for (int k = 0; k < 3; k++) {
            free(b[k]);
            reel_classifier_free(m[k]);
        }
    }
    reel_data_free(d);
}

/* The task's refusals: before any work, naming the key (or, for the CLI,
 * the flag); an output that is the input is refused as the CLI refuses it. */
Test(api, train_task_refuses)
{
    reel_task *t = reel_task_new("train", "{\"model\": \"tree\", \"checkpoint\": \"c.bin\"}");
    cr_assert_not_null(t, "%s", reel_last_error());
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect_str_eq(reel_last_error(), "checkpoint is for the nets (a tree model trains in one go)");
    cr_expect_null(reel_task_result(t));
    reel_task_name_flags(t, 1);
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect_str_eq(reel_last_error(), "--checkpoint is for the nets (a tree model trains in one go)");
    reel_task_free(t);
    t = reel_task_new("train", "{\"model\": \"tree\", \"bogus\": 1}");
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect(strstr(reel_last_error(), "unknown key 'bogus'"), "%s", reel_last_error());
    reel_task_free(t);
    cr_expect_null(reel_task_new("nope", NULL));
    cr_expect(strstr(reel_last_error(), "unknown task 'nope'"), "%s", reel_last_error());
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r);
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"model\": \"prior\", \"data\": \"%s\", \"labels\": \"A,B\", \"save\": \"%s\"}",
             csv, csv);
    t = reel_task_new("train", opts);
    cr_expect_eq(reel_task_run(t), -1);
    cr_expect(strstr(reel_last_error(), "save ") == reel_last_error() && strstr(reel_last_error(), "same file"),
              "%s", reel_last_error());
    reel_task_free(t);
}

/* A search or select document less what differs from run to run: each
 * trial's fit seconds. */
static char *without_seconds(const char *json)
{
    cJSON *doc = cJSON_Parse(json), *t;
    cr_assert_not_null(doc, "%s", json);
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "trials"))
        cJSON_DeleteItemFromObject(t, "seconds");
    char *s = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return s;
}

/* `reel search` and `reel select` are their tasks: the CLI's --format json,
 * the task on the CSV and the older calls on the rows in memory
 * (reel_search_params, reel_select_features) give the same documents. */
Test(api, one_search_and_select_path)
{
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r);
    const char *grid = tmp_write("api_grid.json", "{\"max_depth\": [2, 5], \"min_samples_leaf\": [1, 8]}");
    reel_data *d = data_of(&r, 1);
    const char *cases[][3] = {{"search --strategy grid --folds 3", "\"strategy\": \"grid\", \"folds\": 3",
                               "{\"folds\": 3"},
                              {"select --method backward", "\"method\": \"backward\"", "{\"folds\": 0"}};
    for (size_t c = 0; c < 2; c++) {
        int search = c == 0;
        char *out = NULL, *err = NULL, opts[1024];
        cr_assert_eq(run_reelf(&out, &err, "%s --model tree --data %s --labels A,B --keep-unlabeled --seed 9 "
                               "--threads 1 --quiet --format json%s%s", cases[c][0], csv, search ? " --grid " : "",
                               search ? grid : ""), 0, "%s", err);
        snprintf(opts, sizeof opts, "{\"model\": \"tree\", \"data\": \"%s\", \"labels\": \"A,B\", "
                 "\"keep_unlabeled\": true, \"seed\": 9, \"threads\": 1, %s%s%s%s}", csv, cases[c][1],
                 search ? ", \"grid_file\": \"" : "", search ? grid : "", search ? "\"" : "");
        reel_task *t = reel_task_new(search ? "search" : "select", opts);
        cr_assert_not_null(t, "%s", reel_last_error());
        cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
        snprintf(opts, sizeof opts, "%s, \"seed\": 9, \"threads\": 1}", cases[c][2]);
        char *mem = search ? reel_search_params(d, "tree", "{\"max_depth\": [2, 5], \"min_samples_leaf\": [1, 8]}",
                                                "grid", NULL, opts)
                           : reel_select_features(d, "tree", "backward", NULL, opts);
        cr_assert_not_null(mem, "%s", reel_last_error());
        char *a = without_seconds(out), *b = without_seconds(reel_task_result(t)), *m = without_seconds(mem);
        cr_expect(strstr(a, search ? "\"trials\"" : "\"kept\""), "%s", a);
        cr_expect_str_eq(b, a, "the %s task differs from the CLI", cases[c][0]);
        cr_expect_str_eq(m, a, "the %s call on rows in memory differs from the CLI", cases[c][0]);
        free(a);
        free(b);
        free(m);
        reel_free(mem);
        reel_task_free(t);
        free(out);
        free(err);
    }
    reel_data_free(d);
}

/* search's and select's options are refused before any work, naming the
 * key (or the CLI's flag). */
Test(api, search_and_select_tasks_refuse)
{
    const char *bad[][2] = {
        {"{\"model\": \"tree\", \"resume\": true}", "resume needs journal FILE"},
        {"{\"model\": \"tree\", \"strategy\": \"random\"}", "strategy must be one-at-a-time"},
        {"{\"model\": \"tree\", \"budget\": 0}", "budget must be >= 1"},
        {"{\"model\": \"tree\", \"folds\": 1}", "folds must be >= 2"},
        {"{\"model\": \"tree\", \"folds\": 2.5}", "folds must be an integer"},
        {"{\"model\": \"tree\", \"metric\": \"bogus\"}", "metric must be samples-f1"},
        {"{\"model\": \"tree\", \"grid\": [1]}", "key 'grid' must be a JSON object"},
        {"{\"metric\": \"micro-f1\"}", "model is required"},
        {"{\"model\": \"nosuch\"}", "unknown model 'nosuch'"},
        {"{\"model\": \"tree\", \"method\": \"backward\"}", "unknown key 'method'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        reel_task *t = reel_task_new("search", bad[i][0]);
        cr_assert_not_null(t, "%s", reel_last_error());
        cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED, "%s", bad[i][0]);
        cr_expect(strstr(reel_last_error(), bad[i][1]), "%s: %s", bad[i][0], reel_last_error());
        cr_expect_null(reel_task_result(t));
        reel_task_free(t);
    }
    reel_task *t = reel_task_new("select", "{\"model\": \"tree\", \"method\": \"sideways\"}");
    reel_task_name_flags(t, 1);
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect(strstr(reel_last_error(), "--method must be single-pass, backward or permutation, got 'sideways'"), "%s",
              reel_last_error());
    reel_task_free(t);
}

/* The "export" task writes a model file as JSON and says so; an output
 * that is its input is refused before anything is written. */
Test(api, export_task)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    reel_classifier *c = reel_fit("tree", "{\"max_depth\": 2}", d, "{\"threads\": 1}");
    cr_assert_not_null(c, "%s", reel_last_error());
    const char *model = tmp_path("export_task.safetensors"), *json = tmp_path("export_task.json");
    cr_assert_eq(reel_classifier_save(c, model), 0, "%s", reel_last_error());
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"model_file\": \"%s\", \"format\": \"json\", \"out\": \"%s\"}", model, json);
    reel_task *t = reel_task_new("export", opts);
    cr_assert_not_null(t, "%s", reel_last_error());
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    cr_expect(strstr(reel_task_result(t), "\"format\":\t\"json\""), "%s", reel_task_result(t));
    cr_expect(file_exists(json));
    reel_task_free(t);
    snprintf(opts, sizeof opts, "{\"model_file\": \"%s\", \"format\": \"json\", \"out\": \"%s\"}", model, model);
    t = reel_task_new("export", opts);
    cr_expect_eq(reel_task_run(t), -1);
    cr_expect(strstr(reel_last_error(), "out ") == reel_last_error() && strstr(reel_last_error(), "same file"), "%s",
              reel_last_error());
    reel_task_free(t);
    t = reel_task_new("export", "{\"model_file\": \"m\", \"format\": \"xml\", \"out\": \"o\"}");
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect_str_eq(reel_last_error(), "options: format must be json or onnx, got 'xml'");
    reel_task_free(t);
    reel_classifier_free(c);
    reel_data_free(d);
}

/* The "info" task: the build, or what a model file holds. */
Test(api, info_task)
{
    reel_task *t = reel_task_new("info", NULL);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "version")->valuestring, reel_version());
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "devices")) >= 1, "the CPU at least");
    cJSON_Delete(doc);
    reel_task_free(t);
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    reel_classifier *c = reel_fit("tree", NULL, d, "{\"threads\": 1, \"decision\": \"threshold\"}");
    const char *model = tmp_path("info_task.safetensors");
    cr_assert_eq(reel_classifier_save(c, model), 0, "%s", reel_last_error());
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"model_file\": \"%s\"}", model);
    t = reel_task_new("info", opts);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    doc = cJSON_Parse(reel_task_result(t));
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "model")->valuestring, "tree");
    cr_expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "labels"), 1)->valuestring, "B");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "thresholds")), 2);
    cJSON_Delete(doc);
    reel_task_free(t);
    t = reel_task_new("info", "{\"model_file\": \"/nonexistent/m.safetensors\"}");
    cr_expect_eq(reel_task_run(t), -1);
    cr_expect(strstr(reel_last_error(), "m.safetensors"), "%s", reel_last_error());
    reel_task_free(t);
    reel_classifier_free(c);
    reel_data_free(d);
}

/* The "decide" task: a rule chosen on given probabilities, as `reel decide`. */
Test(api, decide_task)
{
    const char *v = tmp_write("decide_v.csv", "p_A,p_B,A,B\n0.9,0.2,1,0\n0.8,0.7,1,1\n0.1,0.6,0,1\n0.3,0.1,0,0\n");
    const char *t = tmp_write("decide_t.csv", "p_A,p_B\n0.7,0.4\n0.2,0.9\n");
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"valid\": \"%s\", \"test\": \"%s\", \"labels\": \"A,B\", \"decision\": "
             "\"threshold\", \"threshold\": 0.5, \"seed\": \"18446744073709551615\"}", v, t);
    reel_task *k = reel_task_new("decide", opts);
    cr_assert_eq(reel_task_run(k), 0, "%s", reel_last_error());
    cJSON *doc = cJSON_Parse(reel_task_result(k));
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision_rule")->valuestring, "threshold");
    cJSON *pred = cJSON_GetObjectItem(doc, "predicted");
    cr_expect_str_eq(cJSON_GetArrayItem(pred, 0)->valuestring, "A");
    cr_expect_str_eq(cJSON_GetArrayItem(pred, 1)->valuestring, "B");
    cJSON_Delete(doc);
    reel_task_free(k);
    snprintf(opts, sizeof opts, "{\"valid\": \"%s\", \"test\": \"%s\", \"labels\": \"A,B\", \"decision\": \"no\"}",
             v, t);
    k = reel_task_new("decide", opts);
    cr_expect_eq(reel_task_run(k), REEL_TASK_REFUSED);
    cr_expect(strncmp(reel_last_error(), "decision: unknown decision rule 'no'", 36) == 0, "%s", reel_last_error());
    reel_task_free(k);
}

/* The ranking names the document's models, best value of its metric first. */
static void expect_ranked(const cJSON *doc, const char *metric, const char *key)
{
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "ranked_by")->valuestring, metric);
    const cJSON *rank = cJSON_GetObjectItem(doc, "ranking"), *models = cJSON_GetObjectItem(doc, "models");
    cr_assert_eq(cJSON_GetArraySize(rank), cJSON_GetArraySize(models));
    double last = INFINITY;
    const cJSON *name;
    cJSON_ArrayForEach(name, rank)
    {
        const cJSON *m, *found = NULL;
        cJSON_ArrayForEach(m, models) if (strcmp(cJSON_GetObjectItem(m, "name")->valuestring, name->valuestring) == 0)
            found = m;
        cr_assert_not_null(found, "%s is ranked but not in the models", name->valuestring);
        double v = cJSON_GetObjectItem(cJSON_GetObjectItem(found, "metrics"), key)->valuedouble;
        cr_expect(v <= last, "%s: %s %g after %g", name->valuestring, key, v, last);
        last = v;
    }
}

/* The "compare" task: a CSV's models ranked; the same document as
 * reel_compare_models on the same rows in memory; its options refused
 * before any work; a failing model fails the run beside the others' results;
 * a class target ranked by the metric named. */
Test(api, compare_task)
{
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r);
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"data\": \"%s\", \"labels\": \"A,B\", \"models\": \"prior,tree,ridge\", "
             "\"threads\": 1, \"quiet\": true}", csv);
    reel_task *t = reel_task_new("compare", opts);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "models")), 3);
    expect_ranked(doc, "samples-f1", "samples_f1");
    reel_data *d = data_of(&r, 1);
    char *mem = reel_compare_models(d, "prior,tree,ridge", NULL, "{\"threads\": 1}");
    cr_assert_not_null(mem, "%s", reel_last_error());
    cJSON *other = cJSON_Parse(mem);
    for (int i = 0; i < 3; i++) {
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), i);
        const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(other, "models"), i);
        char *ma = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "metrics"));
        char *mb = cJSON_PrintUnformatted(cJSON_GetObjectItem(b, "metrics"));
        cr_expect_str_eq(ma, mb, "model %d: the file's and the arrays' rows score differently", i);
        cJSON_free(ma);
        cJSON_free(mb);
    }
    cr_expect(cJSON_Compare(cJSON_GetObjectItem(doc, "ranking"), cJSON_GetObjectItem(other, "ranking"), 1));
    cJSON_Delete(other);
    reel_free(mem);
    cJSON_Delete(doc);
    reel_task_free(t);

    const char *refused[][2] = {
        {"{\"models\": \"tree,nope\"}", "unknown model 'nope'"},
        {"{\"models\": \",\"}", "models names no model"},
        {"{\"models\": \"tree\", \"epochs\": 3}", "epochs applies to the nets, and models names none"},
        {"{\"models\": \"box\", \"lr\": -1}", "epochs, batch_size and lr must be positive"},
        {"{\"models\": \"tree\", \"metric\": \"best\"}", "metric must be samples-f1"},
        {"{\"models\": \"tree\", \"metric\": \"accuracy\"}", "--metric accuracy is for binary and multi-class"},
        {"{\"models\": \"tree\", \"folds\": 3}", "options: unknown key 'folds'"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        t = reel_task_new("compare", refused[i][0]);
        reel_task_set_data(t, d);
        cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED, "%s", refused[i][0]);
        cr_expect(strstr(reel_last_error(), refused[i][1]), "%s: %s", refused[i][0], reel_last_error());
        cr_expect_null(reel_task_result(t));
        reel_task_free(t);
    }
    /* an output that is an input: nothing run, nothing written */
    snprintf(opts, sizeof opts, "{\"data\": \"%s\", \"labels\": \"A,B\", \"models\": \"tree\", \"out\": \"%s\", "
             "\"quiet\": true}", csv, csv);
    t = reel_task_new("compare", opts);
    cr_expect_eq(reel_task_run(t), -1);
    cr_expect(strstr(reel_last_error(), "out"), "%s", reel_last_error());
    cr_expect_null(reel_task_result(t));
    reel_task_free(t);

    t = reel_task_new("compare", "{\"models\": \"prior,knn\", \"params\": {\"knn\": {\"n_neighbors\": 100000}}, "
                      "\"threads\": 1}");
    reel_task_set_data(t, d);
    cr_expect_eq(reel_task_run(t), -1);
    cr_expect(strstr(reel_last_error(), "1 of 2 models failed; knn: knn: n_neighbors"), "%s", reel_last_error());
    doc = cJSON_Parse(reel_task_result(t));
    cr_assert_not_null(doc, "the document of the models that worked");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "models")), 1);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "failed"), 0), "name")->valuestring,
                     "knn");
    cJSON_Delete(doc);
    reel_task_free(t);

    /* three classes (the colour's, missing as a fourth), ranked by macro-F1 */
    size_t y[N];
    for (int i = 0; i < N; i++)
        y[i] = (size_t)(r.X[i * 2] > 6.0) + (size_t)(r.X[i * 2] > 9.0);
    const char *classes[] = {"low", "mid", "high"};
    cr_assert_eq(reel_data_set_classes(d, 3, classes, y), 0, "%s", reel_last_error());
    t = reel_task_new("compare", "{\"models\": \"prior,tree,knn\", \"metric\": \"macro-f1\", \"threads\": 1}");
    reel_task_set_data(t, d);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    doc = cJSON_Parse(reel_task_result(t));
    expect_ranked(doc, "macro-f1", "macro_f1");
    cJSON_Delete(doc);
    reel_task_free(t);
    t = reel_task_new("compare", "{\"models\": \"tree\", \"metric\": \"roc-auc\"}");
    reel_task_set_data(t, d);
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect(strstr(reel_last_error(), "is for a binary target"), "%s", reel_last_error());
    reel_task_free(t);
    reel_data_free(d);
}

/* The "predict" task: the rows of a CSV through a saved model, the same
 * probabilities as reel_predict_proba, the scores of rows with labels. */
Test(api, predict_task)
{
    rows r;
    make_rows(&r);
    const char *csv = write_csv(&r), *model = tmp_path("predict_task.safetensors");
    reel_data *d = data_of(&r, 1), *f = reel_data_from_file(csv, NULL);
    cr_assert_not_null(f, "%s", reel_last_error());
    reel_classifier *c = reel_fit("tree", "{\"max_depth\": 3}", d, "{\"threads\": 1}");
    cr_assert_eq(reel_classifier_save(c, model), 0, "%s", reel_last_error());
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"model_file\": \"%s\", \"data\": \"%s\", \"csv\": true}", model, csv);
    reel_task *t = reel_task_new("predict", opts);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    cr_assert_eq(reel_task_rows(t), N);
    float P[N * 2];
    unsigned char Y[N * 2];
    cr_assert_eq(reel_predict_proba(c, f, P), 0, "%s", reel_last_error());
    cr_assert_eq(reel_predict(c, f, Y), 0, "%s", reel_last_error());
    cr_expect_eq(memcmp(reel_task_probabilities(t), P, sizeof P), 0);
    cr_expect_eq(memcmp(reel_task_decisions(t), Y, sizeof Y), 0);
    cr_expect_str_eq(reel_task_row_id(t, 0), "2", "no id column: the CSV line");
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(doc, "scores")), "the rows have labels: scored");
    cr_expect(strncmp(cJSON_GetObjectItem(doc, "csv")->valuestring, "line,true,predicted,", 20) == 0, "%s",
              cJSON_GetObjectItem(doc, "csv")->valuestring);
    cJSON_Delete(doc);
    reel_task_free(t);
    reel_classifier_free(c);
    reel_data_free(d);
    reel_data_free(f);
}

/* Model definitions from a folder and from a params file's "base" entries. */
Test(api, models_added_at_run_time)
{
    mkdir(tmp_path("api_models"), 0755);
    const char *def = tmp_write("api_models/mine.json", "{\"kind\": \"prior\", \"brief\": \"mine\", \"params\": {}, "
                                "\"grid\": {}}");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", def);
    *strrchr(dir, '/') = 0;
    cr_assert_eq(reel_models_add_folder(dir), 0, "%s", reel_last_error());
    char *d = reel_model_definition("mine");
    cr_expect(d && strstr(d, "\"brief\":\t\"mine\""), "%s", d ? d : reel_last_error());
    reel_free(d);
    cr_expect_eq(reel_models_add_folder("/nonexistent/reel-models"), -1);
    cr_expect(strstr(reel_last_error(), "/nonexistent/reel-models"), "%s", reel_last_error());
    const char *p = tmp_write("api_models_params.json", "{\"tiny\": {\"base\": \"box\", \"width\": 4}}");
    cr_assert_eq(reel_models_add_from_params(p), 0, "%s", reel_last_error());
    d = reel_model_definition("tiny");
    cr_expect_not_null(d, "%s", reel_last_error());
    reel_free(d);
}

typedef struct {
    int epochs, warnings;
    long members;    /* as the epoch records say */
    unsigned member_seen; /* bit k-1: member k reported */
} seen;

static void on_log(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    seen *s = user;
    s->epochs += p && p->kind == REEL_PROGRESS_EPOCH;
    if (p && p->kind == REEL_PROGRESS_EPOCH) {
        s->members = p->members;
        if (p->member >= 1 && p->member <= 32)
            s->member_seen |= 1u << (p->member - 1);
    }
    s->warnings += level == REEL_LOG_WARNING;
    cr_assert(message && !strchr(message, '\n'), "one line: %s", message);
}

Test(api, log_and_tasks)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    seen s = {0};
    reel_set_log(on_log, &s, REEL_LOG_INFO);
    reel_classifier *c = reel_fit("u", "{\"epochs\": 4, \"patience\": 100}", d, "{\"threads\": 1}");
    cr_assert_not_null(c, "%s", reel_last_error());
    /* u is an ensemble of 5: each member's every epoch, each saying which it is */
    cr_expect_eq(s.members, 5);
    cr_expect_eq(s.epochs, 4 * 5, "one progress record per member and epoch, got %d", s.epochs);
    cr_expect_eq(s.member_seen, 0x1fu, "members seen: %#x", s.member_seen);
    reel_classifier_free(c);
    reel_set_log(NULL, NULL, REEL_LOG_INFO);

    char *doc = reel_compare_models(d, "prior,tree", NULL, "{\"threads\": 1}");
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect(strstr(doc, "\"name\":\t\"prior\"") && strstr(doc, "\"name\":\t\"tree\"") &&
              strstr(doc, "\"samples_f1\""), "%s", doc);
    reel_free(doc);
    doc = reel_search_params(d, "prior", "{\"threshold\": [0.2, 0.5]}", "grid", NULL, "{\"threads\": 1}");
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect(strstr(doc, "\"trials\"") && strstr(doc, "\"test_metrics\""), "%s", doc);
    reel_free(doc);
    doc = reel_select_features(d, "tree", "single-pass", NULL, "{\"threads\": 1}");
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect(strstr(doc, "\"kept\"") && strstr(doc, "\"colour\""), "%s", doc);
    reel_free(doc);
    char *names = reel_model_list(), *def = reel_model_definition("box");
    cr_expect(names && strstr(names, "\"forest\""), "%s", names);
    cr_expect(def && strstr(def, "\"lr\""), "%s", def);
    reel_free(names);
    reel_free(def);
    reel_data_free(d);
}

Test(api, errors_are_one_line_and_nothing_is_made)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    cr_expect_null(reel_fit("nope", NULL, d, NULL));
    cr_expect(strstr(reel_last_error(), "unknown model 'nope'; valid models:"), "%s", reel_last_error());
    cr_expect_null(reel_fit("tree", "{\"max_depht\": 3}", d, NULL));
    cr_expect(strstr(reel_last_error(), "max_depht"), "%s", reel_last_error());
    cr_expect_null(reel_fit("tree", NULL, d, "{\"sed\": 1}"));
    cr_expect(strstr(reel_last_error(), "unknown key 'sed'"), "%s", reel_last_error());
    cr_expect_null(reel_fit("tree", "[1]", d, NULL));
    cr_expect(strstr(reel_last_error(), "params: not a JSON object"), "%s", reel_last_error());
    reel_classifier *c = reel_fit("prior", NULL, d, NULL);
    cr_assert_not_null(c, "%s", reel_last_error());
    /* data without the column the model needs */
    double X[3] = {1, 2, 3};
    reel_data *other = reel_data_from_arrays(3, 1, X, (const char *const[]){"x1"}, 0, NULL, NULL, 0, NULL, NULL);
    cr_assert_not_null(other);
    float P[6];
    cr_expect_neq(reel_predict_proba(c, other, P), 0);
    cr_expect(strstr(reel_last_error(), "missing 2 columns the model needs: x2, colour"), "%s", reel_last_error());
    double inf[2] = {1, INFINITY};
    cr_expect_null(reel_data_from_arrays(2, 1, inf, (const char *const[]){"x"}, 0, NULL, NULL, 0, NULL, NULL));
    cr_expect(strstr(reel_last_error(), "column 'x', row 2"), "%s", reel_last_error());
    cr_expect_null(reel_data_from_arrays(1, 2, X, (const char *const[]){"x", "x"}, 0, NULL, NULL, 0, NULL, NULL));
    cr_expect(strstr(reel_last_error(), "column 'x' appears twice"), "%s", reel_last_error());
    cr_expect_null(reel_classifier_load(tmp_path("none.safetensors")));
    cr_expect(strlen(reel_last_error()) > 0);
    cr_expect_neq(reel_classifier_save(c, "/nonexistent-dir/m.safetensors"), 0);
    reel_data_free(other);
    reel_classifier_free(c);
    reel_data_free(d);
}

Test(api, threads_outside_1_to_4096_are_refused)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    cr_expect_null(reel_fit("prior", NULL, d, "{\"threads\": 100000}"));
    cr_expect(strstr(reel_last_error(), "'threads' must be a number >= 0 and <= 4096"), "%s", reel_last_error());
    cr_expect_null(reel_fit("prior", NULL, d, "{\"threads\": -1}"));
    cr_expect(strstr(reel_last_error(), "<= 4096"), "%s", reel_last_error());
    reel_data_free(d);
}

/* The common options have one set of ranges, whichever front end: a
 * fraction in [0, 1) (0.995 used to be refused through JSON alone) and
 * top_categories >= 1 (0 used to pass through JSON alone); messages name
 * the key, or the CLI's flag under reel_task_name_flags. */
Test(api, common_option_ranges_are_the_same_for_every_front_end)
{
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    reel_classifier *c = reel_fit("prior", NULL, d, "{\"test_fraction\": 0.995}");
    cr_expect_not_null(c, "%s", reel_last_error());
    reel_classifier_free(c);
    cr_expect_null(reel_fit("prior", NULL, d, "{\"valid_fraction\": 1}"));
    cr_expect_str_eq(reel_last_error(), "options: key 'valid_fraction' must be in [0, 1), got 1");
    cr_expect_null(reel_fit("prior", NULL, d, "{\"top_categories\": 0}"));
    cr_expect_str_eq(reel_last_error(), "options: key 'top_categories' must be >= 1, got 0");
    c = reel_fit("tree", NULL, d, "{\"decision_rows\": \"oof\", \"threads\": 1}");
    cr_expect_not_null(c, "%s", reel_last_error());
    reel_classifier_free(c);
    cr_expect_null(reel_fit("tree", NULL, d, "{\"decision_rows\": 1}"));
    cr_expect_str_eq(reel_last_error(), "options: key 'decision_rows' must be auto or oof");
    static const char *const cases[][3] = {
        {"{\"model\": \"prior\", \"test_fraction\": 1.5}", "options: key 'test_fraction' must be in [0, 1), got 1.5",
         "--test-fraction must be in [0, 1), got 1.5"},
        {"{\"model\": \"prior\", \"top_categories\": 0}", "options: key 'top_categories' must be >= 1, got 0",
         "--top-categories must be >= 1, got 0"},
        {"{\"model\": \"prior\", \"mixed_columns\": \"maybe\"}",
         "options: key 'mixed_columns' must be missing, error or text, got 'maybe'",
         "--mixed-columns must be missing, error or text, got 'maybe'"},
        {"{\"model\": \"prior\", \"encoding\": \"ebcdic\"}", "options: key 'encoding' must be utf-8 or latin-1, got 'ebcdic'",
         "--encoding must be utf-8 or latin-1, got 'ebcdic'"},
        {"{\"model\": \"prior\", \"decision_rows\": \"valid\"}", "options: key 'decision_rows' must be auto or oof, "
         "got 'valid'", "--decision-rows must be auto or oof, got 'valid'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reel_task *t = reel_task_new("search", cases[i][0]);
        cr_assert_not_null(t, "%s", reel_last_error());
        cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
        cr_expect_str_eq(reel_last_error(), cases[i][1]);
        reel_task_name_flags(t, 1);
        cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
        cr_expect_str_eq(reel_last_error(), cases[i][2]);
        reel_task_free(t);
    }
    /* a thread count of 0 is "all cores" as a key, a refusal as a flag (the CLI leaves an unset flag out) */
    reel_task *t = reel_task_new("train", "{\"model\": \"nope\", \"threads\": 0}");
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect(strstr(reel_last_error(), "unknown model 'nope'"), "%s", reel_last_error());
    reel_task_name_flags(t, 1);
    cr_expect_eq(reel_task_run(t), REEL_TASK_REFUSED);
    cr_expect(strncmp(reel_last_error(), "--threads must be 1 to 4096", 27) == 0, "%s", reel_last_error());
    reel_task_free(t);
    reel_data_free(d);
}

/* n * sizeof(double) past SIZE_MAX wrapped to a small block, then written past. */
Test(api, row_counts_whose_sizes_overflow_are_refused)
{
    double X[2] = {1, 2};
    unsigned char Y[2] = {0, 1};
    static const size_t huge[] = {((size_t)1 << 61) + 1, (size_t)1 << 62, SIZE_MAX};
    for (size_t q = 0; q < sizeof huge / sizeof *huge; q++) {
        cr_expect_null(reel_data_from_arrays(huge[q], 1, X, (const char *const[]){"x"}, 0, NULL, NULL, 1, Y,
                                             (const char *const[]){"A"}));
        cr_expect(strstr(reel_last_error(), "more than memory can address"), "n = %zu: %s", huge[q],
                  reel_last_error());
    }
    /* columns: d + t wraps */
    cr_expect_null(reel_data_from_arrays(1, SIZE_MAX, X, (const char *const[]){"x"}, 2, NULL,
                                         (const char *const[]){"t"}, 0, NULL, NULL));
    cr_expect(strlen(reel_last_error()) > 0);
}

/* The checks a CSV cell gets: float32's range, both ends (the CLI refuses 1e39). */
Test(api, values_float32_cannot_hold_are_refused_as_in_a_csv)
{
    static const double bad[] = {1e39, -1e39, 1e-46};
    for (size_t q = 0; q < sizeof bad / sizeof *bad; q++) {
        double X[3] = {1, bad[q], 3};
        cr_expect_null(reel_data_from_arrays(3, 1, X, (const char *const[]){"x"}, 0, NULL, NULL, 0, NULL, NULL));
        cr_expect(strstr(reel_last_error(), "column 'x', row 2") && strstr(reel_last_error(), "float32"), "%g: %s",
                  bad[q], reel_last_error());
    }
    double ok[3] = {1e38, 1e-40, 0};
    reel_data *d = reel_data_from_arrays(3, 1, ok, (const char *const[]){"x"}, 0, NULL, NULL, 0, NULL, NULL);
    cr_expect_not_null(d, "%s", reel_last_error());
    reel_data_free(d);
}

Test(api, duplicate_or_ambiguous_label_names_are_refused)
{
    double X[2] = {1, 2};
    unsigned char Y[6] = {0, 1, 1, 1, 0, 0};
    cr_expect_null(reel_data_from_arrays(2, 1, X, (const char *const[]){"x"}, 0, NULL, NULL, 3, Y,
                                         (const char *const[]){"L", "M", "L"}));
    cr_expect(strstr(reel_last_error(), "label 'L' appears twice (labels 1 and 3)"), "%s", reel_last_error());
    cr_expect_null(reel_data_from_arrays(2, 1, X, (const char *const[]){"x"}, 0, NULL, NULL, 3, Y,
                                         (const char *const[]){"A", "B", "A|B"}));
    cr_expect(strstr(reel_last_error(), "label 'A|B' holds '|'"), "%s", reel_last_error());
    /* from a file: a list keeps a name with a comma whole */
    const char *csv = tmp_write("comma_labels.csv", "x,\"Sci,Fi\",Drama\n1,1,0\n2,0,1\n3,1,1\n");
    reel_data *d = reel_data_from_file(csv, "{\"labels\": [\"Sci,Fi\", \"Drama\"]}");
    cr_assert_not_null(d, "%s", reel_last_error());
    cr_expect_str_eq(reel_data_label(d, 0), "Sci,Fi");
    reel_data_free(d);
    cr_expect_null(reel_data_from_file(csv, "{\"labels\": [\"Drama\", \"Drama\"]}"));
    cr_expect(strstr(reel_last_error(), "appears twice"), "%s", reel_last_error());
}

/* A getter's 0 or NULL for a bad argument comes with a message. */
Test(api, getters_given_null_say_why)
{
    cr_expect_eq(reel_data_rows(NULL), 0);
    cr_expect(strstr(reel_last_error(), "reel_data_rows: data is NULL"), "%s", reel_last_error());
    cr_expect_eq(reel_data_labels(NULL), 0);
    cr_expect(strstr(reel_last_error(), "reel_data_labels: data is NULL"), "%s", reel_last_error());
    cr_expect_null(reel_data_label(NULL, 0));
    cr_expect(strstr(reel_last_error(), "reel_data_label: data is NULL"), "%s", reel_last_error());
    cr_expect_eq(reel_classifier_labels(NULL), 0);
    cr_expect(strstr(reel_last_error(), "reel_classifier_labels: the classifier is NULL"), "%s", reel_last_error());
    cr_expect_null(reel_classifier_label(NULL, 0));
    cr_expect(strstr(reel_last_error(), "reel_classifier_label:"), "%s", reel_last_error());
    cr_expect_null(reel_classifier_decision_rule(NULL));
    cr_expect(strstr(reel_last_error(), "reel_classifier_decision_rule:"), "%s", reel_last_error());
    cr_expect_null(reel_classifier_info(NULL));
    cr_expect(strstr(reel_last_error(), "reel_classifier_info: the classifier is NULL"), "%s", reel_last_error());
    rows r;
    make_rows(&r);
    reel_data *d = data_of(&r, 1);
    cr_expect_null(reel_data_label(d, 2));
    cr_expect(strstr(reel_last_error(), "reel_data_label: k is past the last label"), "%s", reel_last_error());
    reel_data_free(d);
}

/* reel_device_list: the CPU first, every runtime named (its devices, or
 * itself with why it has none), exactly one device that auto picks, and
 * each device's id one that --device takes. */
Test(api, device_list_names_every_runtime)
{
    char *text = reel_device_list();
    cr_assert_not_null(text, "%s", reel_last_error());
    cJSON *list = cJSON_Parse(text);
    cr_assert(cJSON_IsArray(list), "%s", text);
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    cr_expect_str_eq(cJSON_GetObjectItem(first, "device")->valuestring, "cpu", "%s", text);
    int autos = 0, cuda = 0, opencl = 0, usable_opencl = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        const char *dev = cJSON_GetObjectItem(d, "device")->valuestring;
        const char *rt = cJSON_GetObjectItem(d, "runtime")->valuestring;
        cr_expect(strncmp(dev, rt, strlen(rt)) == 0, "%s is not a device of %s", dev, rt);
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(d, "detail")) && *cJSON_GetObjectItem(d, "detail")->valuestring,
                  "%s has no detail", dev);
        autos += cJSON_IsTrue(cJSON_GetObjectItem(d, "auto"));
        cuda += strcmp(rt, "cuda") == 0;
        opencl += strcmp(rt, "opencl") == 0;
        usable_opencl +=
            strcmp(rt, "opencl") == 0 && strchr(dev, ':') && cJSON_IsTrue(cJSON_GetObjectItem(d, "usable"));
    }
    cr_expect_eq(autos, 1, "one device is --device auto's: %s", text);
    cr_expect(cuda >= 1 && opencl >= 1, "every runtime is named: %s", text);
    if (getenv("REEL_TEST_REQUIRE_OPENCL"))
        cr_expect(usable_opencl >= 1, "REEL_TEST_REQUIRE_OPENCL is set but no usable OpenCL device is listed: %s",
                  text);
    cJSON_Delete(list);
    reel_free(text);
}
