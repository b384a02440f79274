/* Binary and multiclass model files (data/target.h) through export: the
 * JSON document carries the target and the classes, and the whole-pipeline
 * ONNX graph run by onnxruntime gives the C API's class probabilities
 * (n x K, within 1e-5) and classes (tests/scripts/check_onnx_pipeline.py;
 * needs a Python with numpy and onnxruntime, as test_export_onnxruntime). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_fixture.h"
#include "reel.h"

#define N 150

static const char *const NUM[] = {"x1", "x2"};
static const char *const THREE[] = {"PG", "PG-13", "R"}, *const TWO[] = {"no", "yes"};

/* Fits `model` on a K-class column of N rows, saves it, and writes the
 * rows as a CSV and the C API's predictions as reel predict's JSON. */
static void fit_save(const char *model, const char *params, size_t K, const char **file, const char **csv,
                     const char **pred)
{
    static double X[N * 2];
    size_t y[N];
    char text[N * 48 + 16] = "x1,x2\n";
    for (int i = 0; i < N; i++) {
        double a = (double)((i * 37) % 101) / 25.0 - 2.0, b = (double)((i * 53) % 97) / 24.0 - 2.0;
        X[2 * i] = a;
        X[2 * i + 1] = b;
        size_t c = K == 2 ? a + b > 0 : a < -0.5 ? 0 : b < 0 ? 1 : 2;
        y[i] = i % 10 == 3 ? (c + 1) % K : c;
        sprintf(text + strlen(text), "%.17g,%.17g\n", a, b);
    }
    reel_data *d = reel_data_from_arrays(N, 2, X, NUM, 0, NULL, NULL, 0, NULL, NULL);
    cr_assert_eq(reel_data_set_classes(d, K, K == 2 ? TWO : THREE, y), 0, "%s", reel_last_error());
    reel_classifier *c = reel_fit(model, params, d, "{\"threads\": 1}");
    cr_assert_not_null(c, "%s: %s", model, reel_last_error());
    *file = tmp_path("classes.safetensors");
    cr_assert_eq(reel_classifier_save(c, *file), 0, "%s", reel_last_error());
    *csv = tmp_write("classes.csv", text);
    float P[N * 3];
    unsigned char Y[N * 3];
    cr_assert_eq(reel_predict_proba(c, d, P), 0, "%s", reel_last_error());
    cr_assert_eq(reel_predict(c, d, Y), 0, "%s", reel_last_error());
    cJSON *rows = cJSON_CreateArray();
    for (size_t i = 0; i < N; i++) {
        cJSON *row = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(row, "probabilities"),
              *chosen = cJSON_AddArrayToObject(row, "predicted");
        for (size_t k = 0; k < K; k++) {
            cJSON_AddNumberToObject(p, reel_classifier_class(c, k), P[i * K + k]);
            if (Y[i * K + k])
                cJSON_AddItemToArray(chosen, cJSON_CreateString(reel_classifier_class(c, k)));
        }
        cJSON_AddItemToArray(rows, row);
    }
    char *json = cJSON_PrintUnformatted(rows);
    *pred = tmp_write("classes_predict.json", json);
    cJSON_free(json);
    cJSON_Delete(rows);
    reel_classifier_free(c);
    reel_data_free(d);
}

Test(export_classes, json_carries_target_and_classes)
{
    const char *file, *csv, *pred, *out = tmp_path("classes.json");
    fit_save("tree", NULL, 3, &file, &csv, &pred);
    char *o = NULL, *e = NULL;
    cr_assert_eq(run_reelf(&o, &e, "export --model-file %s --format json --out %s", file, out), 0, "%s", e);
    free(o);
    free(e);
    char *text = reel_read_file(out, NULL, NULL);
    cJSON *doc = cJSON_Parse(text), *meta = cJSON_GetObjectItem(doc, "metadata");
    cr_assert_not_null(meta);
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "target")->valuestring, "multiclass");
    const cJSON *classes = cJSON_GetObjectItem(meta, "classes");
    cr_assert_eq(cJSON_GetArraySize(classes), 3);
    for (int k = 0; k < 3; k++)
        cr_expect_str_eq(cJSON_GetArrayItem(classes, k)->valuestring, THREE[k]);
    cJSON_Delete(doc);
    free(text);
}

/* The graph's probabilities and labels as the C API's, for models of each kind the exporter writes. */
static void check_onnx(const char *python, const char *model, const char *params, size_t K)
{
    const char *file, *csv, *pred, *onnx = tmp_path("classes.onnx");
    fit_save(model, params, K, &file, &csv, &pred);
    char *o = NULL, *e = NULL;
    cr_assert_eq(run_reelf(&o, &e, "export --model-file %s --format onnx --out %s", file, onnx), 0, "%s", e);
    free(o);
    free(e);
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "'%s' '%s' '%s' 1e-5", onnx, csv, pred);
    int rc = export_run_script(python, "check_onnx_pipeline.py", args, &out);
    fprintf(stderr, "%s, %zu classes: %s", model, K, out ? out : "(no output)\n");
    cr_expect_eq(rc, 0, "%s, %zu classes: check_onnx_pipeline.py exit %d: %s", model, K, rc, out);
    cr_expect(out && strstr(out, " 0 rows whose labels differ"), "%s", out);
    free(out);
}

Test(export_classes, onnx_matches_the_c_api)
{
    const char *python = export_require_python("numpy, onnxruntime", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (!python)
        return;
    for (size_t K = 2; K <= 3; K++) {
        check_onnx(python, "box", "{\"epochs\": 5}", K);
        check_onnx(python, "ridge", NULL, K);
        check_onnx(python, "tree", NULL, K);
        check_onnx(python, "forest", "{\"n_estimators\": 10}", K);
    }
}
