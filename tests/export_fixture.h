/* Shared by test_export.c and the Python checks (test_export_torch.c,
 * test_export_onnxruntime.c): a tiny CSV, a net trained on it with the reel
 * binary, the net's inputs and reel's own probabilities written to files, and
 * finding a Python that has the packages a check needs. Header-only: each
 * suite is its own executable. */
#ifndef REEL_EXPORT_FIXTURE_H
#define REEL_EXPORT_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "data/table.h"
#include "helpers.h"
#include "io/predictions.h"
#include "io/safetensors.h"
#include "store/model_file.h"
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

/* A small net with every layer kind (tanh, no activation, relu) and the
 * softmax head, as box params, and a learning rate at which 2 epochs give
 * outputs that clearly depend on the inputs (also behind the mlp kind's
 * own "auto" input transform). */
#define EXPORT_SOFTMAX_NET                                                                                     \
    "{\"layers\": [{\"width\": 8, \"activation\": \"tanh\"}, {\"width\": 5, \"activation\": \"none\"}, "        \
    "{\"width\": 8}], \"head\": \"softmax\", \"threshold\": 0.2}"
#define EXPORT_SOFTMAX_LR 0.03

/* Trains `model` on export_csv() and saves it to a fresh file named `file`.
 * params_json (may be NULL) is the model's params object; lr > 0 (nets)
 * trains 2 epochs at that learning rate, enough for outputs that depend on
 * the inputs. Returns the path. */
static inline const char *export_train(const char *model, const char *params_json, const char *file, double lr)
{
    char args[2048], params_arg[600] = "", net_arg[64] = "", *out = NULL, *err = NULL;
    if (lr > 0)
        snprintf(net_arg, sizeof net_arg, "--epochs 2 --lr %g", lr);
    /* Nets: one net (their default is an ensemble) unless the params say. */
    int net = !strcmp(model, "box") || !strcmp(model, "u") || !strncmp(model, "box_", 4) || !strncmp(model, "u_", 2);
    char one_net[600];
    if (net && !(params_json && strstr(params_json, "ensemble"))) {
        const char *p = params_json ? params_json : "{}";
        const char *after = p[0] == '{' ? p + 1 : p;
        while (*after == ' ')
            after++;
        snprintf(one_net, sizeof one_net, "{\"ensemble\": 1%s%s", *after == '}' ? "" : ", ", after);
        params_json = one_net;
    }
    if (params_json || lr > 0) {
        /* Nets: no weight averaging, whose span (1/(1-ema) steps) is longer
         * than these 2 epochs: the saved weights would barely leave their init. */
        char text[700];
        const char *inner = params_json ? params_json : "{}";
        const char *rest = inner[0] == '{' ? inner + 1 : inner;
        while (*rest == ' ')
            rest++;
        if (lr > 0)
            snprintf(text, sizeof text, "{\"%s\": {\"ema\": 0%s%s", model, *rest == '}' ? "" : ", ", rest);
        else
            snprintf(text, sizeof text, "{\"%s\": %s}", model, inner);
        if (lr > 0)
            strcat(text, "}");
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
    cr_assert_eq(reel_model_file_load(&mf, model_path, 1, &err), 0, "%s", err.msg);
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

/* The Python for a check that needs `modules` (see export_find_python), or
 * NULL after skipping the test visibly. scripts/test.sh sets
 * REEL_TEST_REQUIRE_PYTHON: then a missing tool fails the test instead, as
 * CI must run these checks. */
static inline const char *export_require_python(const char *modules, const char *hint)
{
    static char tried[1024];
    const char *python = export_find_python(modules, tried, sizeof tried);
    if (python)
        return python;
    if (getenv("REEL_TEST_REQUIRE_PYTHON"))
        cr_assert_fail("REEL_TEST_REQUIRE_PYTHON is set but no Python can import %s (tried %s); %s", modules,
                       tried, hint);
    REEL_SKIP("no Python can import %s (tried %s); %s", modules, tried, hint);
    return NULL;
}

/* Runs `python tests/scripts/<script> args` through /bin/sh; its stdout and
 * stderr go to *output (malloc'ed). Returns the exit status. */
static inline int export_run_script(const char *python, const char *script, const char *args, char **output)
{
    const char *log = tmp_path("script_output.txt");
    char cmd[4096];
    char rel[256];
    snprintf(rel, sizeof rel, "tests/scripts/%s", script);
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s >'%s' 2>&1", python, test_source_path(rel), args, log);
    int status = system(cmd);
    *output = reel_read_file(log, NULL, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Rewrites a net's model file with an input transform in its kind state, as
 * the mlp kind saves one ({"mode", "log", "clip", "clip_at", "center",
 * "scale"}): columns 1 and 2 (b, heavy-tailed; c, signed) take signed log1p,
 * columns 0 and 1 are clipped to +-1.5, every column gets its own centre and
 * scale. Returns the new file's path. */
static inline const char *export_with_input_transform(const char *model_path)
{
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    cr_assert_eq(reel_safetensors_read(model_path, &t, &meta, &err), 0, "%s", err.msg);
    cJSON *ks = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "kind_state")));
    cJSON *features = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "features")));
    int d = cJSON_GetArraySize(features);
    cJSON_Delete(features);
    double log[64] = {0}, clip[64] = {0}, center[64], scale[64];
    cr_assert(d >= 3 && d <= 64);
    log[1] = log[2] = 1;
    clip[0] = clip[1] = 1;
    for (int k = 0; k < d; k++) {
        center[k] = 0.25 * k - 0.5;
        scale[k] = 0.5 + 0.25 * k;
    }
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "mode", "auto");
    cJSON_AddItemToObject(in, "log", cJSON_CreateDoubleArray(log, d));
    cJSON_AddItemToObject(in, "clip", cJSON_CreateDoubleArray(clip, d));
    cJSON_AddNumberToObject(in, "clip_at", 1.5);
    cJSON_AddItemToObject(in, "center", cJSON_CreateDoubleArray(center, d));
    cJSON_AddItemToObject(in, "scale", cJSON_CreateDoubleArray(scale, d));
    cJSON_DeleteItemFromObject(ks, "input");
    cJSON_AddItemToObject(ks, "input", in);
    char *text = cJSON_PrintUnformatted(ks);
    cJSON_ReplaceItemInObject(meta, "kind_state", cJSON_CreateString(text));
    cJSON_free(text);
    cJSON_Delete(ks);
    const char *path = tmp_path("transformed.safetensors");
    cr_assert_eq(reel_safetensors_write(path, &t, meta, &err), 0, "%s", err.msg);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    return path;
}

/* A net's probabilities for raw features X (n x d) computed here from the
 * model file alone, in double precision: reel's standardisation (when the
 * kind asks for it), the kind state's input transform (see above) rounded to
 * float as reel rounds the net's inputs, then the layers as the params list
 * them (weights "<i>.weight", module index i counting Linear, activation
 * and dropout modules) and the head. Writes them as `reel predict --format json` does to
 * a file whose path is returned. */
static inline const char *export_reference_probabilities(const char *model_path, const float *X, size_t n,
                                                         size_t d)
{
    reel_model_file mf;
    reel_tensors t;
    cJSON *raw;
    reel_error err;
    cr_assert_eq(reel_model_file_load(&mf, model_path, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(reel_safetensors_read(model_path, &t, &raw, &err), 0, "%s", err.msg);
    cJSON_Delete(raw);
    const cJSON *params = mf.model.params, *layers = cJSON_GetObjectItem(params, "layers");
    const cJSON *in = cJSON_GetObjectItem(cJSON_GetObjectItem(mf.meta, "kind_state"), "input");
    int softmax = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(params, "head")), "softmax");
    size_t L = mf.model.L, n_hidden = (size_t)cJSON_GetArraySize(layers), width = L + d;
    const cJSON *e;
    cJSON_ArrayForEach(e, layers) width += (size_t)cJSON_GetObjectItem(e, "width")->valueint;
    double *h = malloc(width * sizeof *h), *next = malloc(width * sizeof *next);
    cJSON *doc = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        size_t in_w = d;
        for (size_t k = 0; k < d; k++) {
            double x = X[i * d + k];
            if (mf.model.kind->standardize)
                x = (float)((x - mf.pre.mean[k]) / mf.pre.scale[k]);
            if (in) {
                if (cJSON_GetArrayItem(cJSON_GetObjectItem(in, "log"), (int)k)->valueint)
                    x = x < 0 ? -log1p(-x) : log1p(x);
                x = (x - cJSON_GetArrayItem(cJSON_GetObjectItem(in, "center"), (int)k)->valuedouble) /
                    cJSON_GetArrayItem(cJSON_GetObjectItem(in, "scale"), (int)k)->valuedouble;
                double at = cJSON_GetObjectItem(in, "clip_at")->valuedouble;
                int smooth = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(in, "mode")), "robust");
                if (cJSON_GetArrayItem(cJSON_GetObjectItem(in, "clip"), (int)k)->valueint)
                    x = smooth ? x / sqrt(1 + (x / at) * (x / at)) : x > at ? at : (x < -at ? -at : x);
                x = (float)x;
            }
            h[k] = x;
        }
        int module = 0;
        for (size_t l = 0; l <= n_hidden; l++) {
            const cJSON *layer = l < n_hidden ? cJSON_GetArrayItem(layers, (int)l) : NULL;
            const char *act = layer && cJSON_GetObjectItem(layer, "activation")
                                  ? cJSON_GetObjectItem(layer, "activation")->valuestring
                                  : (layer ? "relu" : "none");
            size_t out_w = layer ? (size_t)cJSON_GetObjectItem(layer, "width")->valueint : L;
            cr_assert_leq(out_w, width);
            char wn[32], bn[32];
            snprintf(wn, sizeof wn, "%d.weight", module);
            snprintf(bn, sizeof bn, "%d.bias", module);
            const reel_tensor *W = reel_tensors_get(&t, wn, REEL_F32, out_w * in_w, &err);
            const reel_tensor *B = reel_tensors_get(&t, bn, REEL_F32, out_w, &err);
            cr_assert(W && B, "%s", err.msg);
            for (size_t o = 0; o < out_w; o++) {
                double s = ((const float *)B->data)[o];
                for (size_t j = 0; j < in_w; j++)
                    s += ((const float *)W->data)[o * in_w + j] * h[j];
                next[o] = !strcmp(act, "relu") ? (s > 0 ? s : 0) : (!strcmp(act, "tanh") ? tanh(s) : s);
            }
            memcpy(h, next, out_w * sizeof *h);
            in_w = out_w;
            /* a Dropout module (training only) takes an index too */
            const cJSON *drop = layer ? cJSON_GetObjectItem(layer, "dropout") : NULL;
            module += (strcmp(act, "none") ? 2 : 1) + (drop && drop->valuedouble > 0);
        }
        double mx = h[0], sum = 0;
        for (size_t k = 1; k < L; k++)
            mx = fmax(mx, h[k]);
        for (size_t k = 0; k < L; k++)
            sum += exp(h[k] - mx);
        cJSON *row = cJSON_CreateObject(), *probs = cJSON_AddObjectToObject(row, "probabilities");
        for (size_t k = 0; k < L; k++)
            cJSON_AddNumberToObject(probs, mf.labels[k], softmax ? exp(h[k] - mx) / sum : 1 / (1 + exp(-h[k])));
        cJSON_AddItemToArray(doc, row);
    }
    char *text = cJSON_Print(doc);
    const char *path = tmp_write("reference.json", text);
    cJSON_free(text);
    cJSON_Delete(doc);
    free(h);
    free(next);
    reel_tensors_free(&t);
    reel_model_file_free(&mf);
    return path;
}

/* One net checked by an outside tool: trained by export_train, given an
 * input transform when `transform` (then checked against the probabilities
 * computed here, as reel predict of this reel may not apply it; otherwise
 * against reel predict), exported to ONNX when `onnx`, then
 * tests/scripts/<script> runs on (file, features CSV, expected JSON) and
 * must report its largest difference within 1e-5. */
static inline void export_check_net(const char *script, int onnx, const char *model, const char *params, double lr,
                                    int transform, const char *python)
{
    const char *m = export_train(model, params, "net.safetensors", lr);
    if (transform)
        m = export_with_input_transform(m);
    const char *file = m;
    char args[2048], *out = NULL;
    if (onnx) {
        char *o = NULL, *e = NULL;
        file = tmp_path("net.onnx");
        snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", m, file);
        cr_assert_eq(run_reel(args, &o, &e), 0, "%s", e);
        free(o);
        free(e);
    }
    size_t n, d;
    const char *features;
    float *X = export_raw_features(m, &n, &d, &features);
    const char *pred = transform ? export_reference_probabilities(m, X, n, d) : export_predict_json(m, NULL);
    free(X);
    snprintf(args, sizeof args, "'%s' '%s' '%s' 1e-5", file, features, pred);
    int rc = export_run_script(python, script, args, &out);
    fprintf(stderr, "%s (%s)%s: %s", model, params ? params : "defaults", transform ? " + input transform" : "",
            out ? out : "(no output)\n");
    cr_expect_eq(rc, 0, "%s exit %d: %s", script, rc, out);
    cr_expect(out && strstr(out, "max abs difference"), "%s", out);
    free(out);
}

/* The nets every outside check covers: box and U at their defaults, U
 * scaled by "width", and the softmax net with every layer kind, without
 * and with an input transform. */
static inline void export_check_all_nets(const char *script, int onnx, const char *python)
{
    export_check_net(script, onnx, "box", NULL, 0.01, 0, python);
    export_check_net(script, onnx, "u", NULL, 0.01, 0, python);
    export_check_net(script, onnx, "u", "{\"width\": 16}", 0.01, 0, python);
    export_check_net(script, onnx, "box", EXPORT_SOFTMAX_NET, EXPORT_SOFTMAX_LR, 0, python);
    export_check_net(script, onnx, "box", EXPORT_SOFTMAX_NET, EXPORT_SOFTMAX_LR, 1, python);
}

#endif
