/* Shared by test_export.c and the Python checks (test_export_torch.c,
 * test_export_onnxruntime.c): a tiny CSV, a net trained on it with the reel
 * binary, the net's inputs and reel's own probabilities written to files, and
 * finding a Python that has the packages a check needs. Header-only: each
 * suite is its own executable. */
#ifndef REEL_EXPORT_FIXTURE_H
#define REEL_EXPORT_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "data/table.h"
#include "helpers.h"
#include "io/model_file.h"
#include "io/predictions.h"
#include "util/fileio.h"

/* 200 rows: a uniform column, a heavy-tailed one, one with missing cells
 * (a "_missing" indicator), a text column (one-hot), three labels. */
static inline const char *export_csv(void)
{
    static char csv[32768];
    strcpy(csv, "id,a,b,c,kind,A,B,C\n");
    unsigned s = 7;
    for (int i = 0; i < 200; i++) {
        s = s * 1103515245u + 12345u;
        double a = (double)((s >> 8) % 1000) / 100.0;
        s = s * 1103515245u + 12345u;
        double u = (double)((s >> 8) % 1000 + 1) / 1001.0;
        double b = 1.0 / (u * u * u); /* heavy tail: 1 .. 1e9 */
        const char *kind = i % 4 == 0 ? "x" : (i % 4 == 1 ? "y" : (i % 4 == 2 ? "" : "z"));
        int A = a > 5, B = b > 3, C = !(A || B) || i % 3 == 0;
        char c[32] = "";
        if (i % 6)
            snprintf(c, sizeof c, "%g", a * 0.5 - 1.0);
        sprintf(csv + strlen(csv), "r%d,%g,%.6g,%s,%s,%d,%d,%d\n", i, a, b, c, kind, A, B, C);
    }
    return tmp_write("export.csv", csv);
}

/* Trains `model` on export_csv() and saves it to a fresh file named `file`.
 * params_json (may be NULL) is the model's params object; lr > 0 (nets)
 * trains 2 epochs at that learning rate, enough for outputs that depend on
 * the inputs. Returns the path. */
static inline const char *export_train(const char *model, const char *params_json, const char *file, double lr)
{
    char args[2048], params_arg[600] = "", net_arg[64] = "", *out = NULL, *err = NULL;
    if (lr > 0)
        snprintf(net_arg, sizeof net_arg, "--epochs 2 --lr %g", lr);
    if (params_json) {
        char text[512];
        snprintf(text, sizeof text, "{\"%s\": %s}", model, params_json);
        snprintf(params_arg, sizeof params_arg, "--params %s", tmp_write("export_params.json", text));
    }
    const char *path = tmp_path(file);
    snprintf(args, sizeof args, "train --model %s --data %s --labels A,B,C --id id --seed 5 --threads 2 %s %s "
             "--device cpu --save %s --quiet",
             model, export_csv(), net_arg, params_arg, path);
    int rc = run_reel(args, &out, &err);
    cr_assert_eq(rc, 0, "reel %s: exit %d: %s", args, rc, err ? err : "");
    free(out);
    free(err);
    return path;
}

/* reel predict --format json on export_csv(), saved to a file; returns the
 * path, and the parsed document in *doc when doc is not NULL. */
static inline const char *export_predict_json(const char *model_path, cJSON **doc)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format json --quiet", model_path,
             export_csv());
    int rc = run_reel(args, &out, &err);
    cr_assert_eq(rc, 0, "reel %s: exit %d: %s", args, rc, err ? err : "");
    const char *path = tmp_write("predict.json", out);
    if (doc) {
        *doc = cJSON_Parse(out);
        cr_assert_not_null(*doc, "reel predict --format json printed no JSON");
    }
    free(out);
    free(err);
    return path;
}

/* The net's raw inputs for export_csv(): reel's preprocessing of the rows
 * without standardisation (X, n x d, malloc'ed), as the exported graph takes
 * them. Also writes them as CSV (a header of feature names) to a file whose
 * path goes to *csv_path when it is not NULL. */
static inline float *export_raw_features(const char *model_path, size_t *n, size_t *d, const char **csv_path)
{
    reel_model_file mf;
    reel_table t;
    reel_error err;
    cr_assert_eq(reel_model_file_load(&mf, model_path, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_table_read_csv(&t, export_csv(), &err), 0, "%s", err.msg);
    *n = t.nrows;
    *d = mf.pre.d;
    float *X = malloc(*n * *d * sizeof *X);
    cr_assert_eq(reel_preproc_transform(&mf.pre, &t, NULL, *n, 0, X, &err), 0, "%s", err.msg);
    if (csv_path) {
        *csv_path = tmp_path("raw_features.csv");
        FILE *fp = fopen(*csv_path, "w");
        cr_assert_not_null(fp);
        for (size_t k = 0; k < *d; k++) {
            fputs(k ? "," : "", fp);
            reel_csv_write_field(fp, mf.pre.f[k].name);
        }
        fputs("\n", fp);
        for (size_t i = 0; i < *n; i++)
            for (size_t k = 0; k < *d; k++)
                fprintf(fp, "%.9g%s", (double)X[i * *d + k], k + 1 < *d ? "," : "\n");
        fclose(fp);
    }
    reel_table_free(&t);
    reel_model_file_free(&mf);
    return X;
}

/* The first Python that can import `modules` (e.g. "torch, safetensors.torch"):
 * $REEL_PYTHON, then /opt/reel-pyenv/bin/python3, /usr/bin/python3, python3.
 * NULL when none can; *tried lists what was tried. */
static inline const char *export_find_python(const char *modules, char *tried, size_t tried_len)
{
    static char found[512];
    const char *env = getenv("REEL_PYTHON");
    const char *cands[] = {env && *env ? env : NULL, "/opt/reel-pyenv/bin/python3", "/usr/bin/python3", "python3"};
    tried[0] = '\0';
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        if (!cands[i])
            continue;
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import %s' >/dev/null 2>&1", cands[i], modules);
        size_t len = strlen(tried);
        snprintf(tried + len, tried_len - len, "%s%s", len ? ", " : "", cands[i]);
        int status = system(cmd);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            snprintf(found, sizeof found, "%s", cands[i]);
            return found;
        }
    }
    return NULL;
}

/* Runs `python tests/scripts/<script> args` through /bin/sh; its stdout and
 * stderr go to *output (malloc'ed). Returns the exit status. */
static inline int export_run_script(const char *python, const char *script, const char *args, char **output)
{
    const char *log = tmp_path("script_output.txt");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/scripts/%s' %s >'%s' 2>&1", python, REEL_SOURCE_DIR, script, args,
             log);
    int status = system(cmd);
    *output = reel_read_file(log, NULL, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#endif
