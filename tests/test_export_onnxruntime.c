/* The exported ONNX graph run by onnxruntime gives reel predict's
 * probabilities (tests/scripts/check_onnx.py). Needs a Python with numpy and
 * onnxruntime ($REEL_PYTHON, /opt/reel-pyenv/bin/python3, /usr/bin/python3 or
 * python3; scripts/setup-python-checks.sh installs them): skipped visibly
 * without one, a failure under scripts/test.sh (REEL_TEST_REQUIRE_PYTHON).
 * Its own executable, so a skip here never hides the result of test_export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"

Test(export_onnxruntime, graph_matches_reel_predict)
{
    const char *python = export_require_python("numpy, onnxruntime", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (python)
        export_check_all_nets("check_onnx.py", 1, python);
}

/* A CSV of raw rows (numbers, missing cells as "" and "NA", a text column
 * with more values than --top-categories keeps, so one-hot "other" too),
 * made here, never read from ../shared. */
static const char *pipeline_csv(void)
{
    static char csv[32768];
    strcpy(csv, "id,a,b,c,kind,A,B,C\n");
    unsigned s = 11;
    for (int i = 0; i < 200; i++) {
        s = s * 1103515245u + 12345u;
        double a = (double)((s >> 8) % 1000) / 100.0;
        s = s * 1103515245u + 12345u;
        double u = (double)((s >> 8) % 1000 + 1) / 1001.0;
        static const char *const kinds[] = {"x", "y", "", "z", "NA", "w"};
        int A = a > 5, B = u < 0.4, C = !(A || B) || i % 3 == 0;
        char c[32] = "NA";
        if (i % 7)
            snprintf(c, sizeof c, "%g", a * 0.5 - 1.0);
        sprintf(csv + strlen(csv), "r%d,%g,%.6g,%s,%s,%d,%d,%d\n", i, a, 1.0 / (u * u), c, kinds[i % 6], A, B, C);
    }
    return tmp_write("pipeline.csv", csv);
}

/* Trains `model` with extra train args, exports the whole pipeline, and
 * runs check_onnx_pipeline.py on the raw CSV against reel predict. */
static void check_pipeline(const char *python, const char *model, const char *extra, int labels_out)
{
    const char *csv = pipeline_csv(), *m = tmp_path("pipe.safetensors"), *onnx = tmp_path("pipe.onnx");
    char *out = NULL, *err = NULL;
    int net = strcmp(model, "box") == 0 || strcmp(model, "u") == 0;
    int rc = run_reelf(&out, &err, "train --model %s --data %s --labels A,B,C --id id --seed 5 --threads 2 %s "
                       "--device cpu --top-categories 2 --save %s --quiet %s", model, csv,
                       net ? "--epochs 2 --lr 0.01" : "", m, extra);
    cr_assert_eq(rc, 0, "train %s %s: %s", model, extra, err);
    free(out);
    free(err);
    cr_assert_eq(run_reelf(&out, &err, "export --model-file %s --format onnx --out %s", m, onnx), 0, "%s", err);
    cr_expect(strstr(out, "the whole pipeline, 3 numeric and 1 text column inputs"), "%s", out);
    cr_expect_eq(strstr(out, "\"labels\"") != NULL, labels_out, "%s", out);
    cr_expect_eq(strstr(err, "no \"labels\" output: the expected-F1 rule") != NULL, !labels_out, "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run_reelf(&out, &err, "predict --model-file %s --data %s --format json --quiet", m, csv), 0, "%s",
                 err);
    const char *pred = tmp_write("pipe_predict.json", out);
    free(out);
    free(err);
    char args[2048];
    snprintf(args, sizeof args, "'%s' '%s' '%s' 1e-5", onnx, csv, pred);
    rc = export_run_script(python, "check_onnx_pipeline.py", args, &out);
    fprintf(stderr, "whole pipeline, %s %s: %s", model, extra, out ? out : "(no output)\n");
    cr_expect_eq(rc, 0, "check_onnx_pipeline.py exit %d: %s", rc, out);
    cr_expect(out && strstr(out, labels_out ? " 0 rows whose labels differ" : "no labels output"), "%s", out);
    free(out);
}

/* Raw CSV columns in, reel predict's probabilities (within 1e-5) and labels
 * out: a single net at a fixed cut, an ensemble with robust input scaling
 * and at-least-one, the U net with tuned cuts, ridge with both outputs,
 * a tree and a forest; expected-F1 gives probabilities and says why there
 * are no labels. */
Test(export_onnxruntime, whole_pipeline_matches_reel_predict)
{
    const char *python = export_require_python("numpy, onnxruntime", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (!python)
        return;
    const char *robust = tmp_write("pipe_params.json", "{\"box\": {\"input\": \"robust\", \"ensemble\": 3, "
                                                       "\"ema\": 0}}");
    char extra[512];
    check_pipeline(python, "box", "--decision threshold", 1);
    snprintf(extra, sizeof extra, "--params %s --decision tuned-global+at-least-one", robust);
    check_pipeline(python, "box", extra, 1);
    check_pipeline(python, "u", "--decision tuned-per-label", 1);
    check_pipeline(python, "u", "--decision expected-f1+at-least-one", 0);
    check_pipeline(python, "ridge", "--decision threshold", 1);
    const char *softmax = tmp_write("pipe_ridge.json", "{\"ridge\": {\"output\": \"softmax\"}}");
    snprintf(extra, sizeof extra, "--params %s --decision tuned-per-label+at-least-one", softmax);
    check_pipeline(python, "ridge", extra, 1);
    check_pipeline(python, "tree", "--decision threshold", 1);
    const char *forest = tmp_write("pipe_forest.json", "{\"forest\": {\"n_estimators\": 20}}");
    snprintf(extra, sizeof extra, "--params %s --decision tuned-per-label+at-least-one", forest);
    check_pipeline(python, "forest", extra, 1);
}
