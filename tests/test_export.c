/* reel export: the JSON document holds the model file's metadata and exactly
 * its tensor values; the ONNX file is a well-formed protobuf whose graph (read
 * back with a small reader written here from onnx.proto, and run by a small
 * evaluator of its ops) gives reel predict's probabilities; errors are clear
 * and leave no file. No Python needed (the onnxruntime and torch checks are
 * test_export_onnxruntime.c and test_export_torch.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"
#include "io/safetensors.h"

/* ---- JSON ---- */

/* Every tensor of the file equals the exported one: name, dtype, shape, bits. */
static void expect_json_matches_file(const char *model_path)
{
    const char *out = tmp_path("model.json");
    char args[1024], *o = NULL, *e = NULL;
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s", model_path, out);
    cr_assert_eq(run_reel(args, &o, &e), 0, "%s", e);
    free(o);
    free(e);
    char *text = reel_read_file(out, NULL, NULL);
    cr_assert_not_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc, "the export is not JSON");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "format")), "reel-model-json");

    reel_model_file mf;
    reel_error err;
    cr_assert_eq(reel_model_file_load(&mf, model_path, 1, &err), 0, "%s", err.msg);
    const cJSON *meta = cJSON_GetObjectItem(doc, "metadata");
    /* all of it but the file's checksum, which is about its bytes */
    cr_expect_not_null(cJSON_GetObjectItem(mf.meta, "checksum"));
    cJSON_DeleteItemFromObjectCaseSensitive(mf.meta, "checksum");
    cr_expect(cJSON_Compare(meta, mf.meta, 1), "metadata differs from the decoded model file's");
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(meta, "params")));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(meta, "preprocessing")));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(meta, "training")));
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "features")), (int)mf.pre.d);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "labels")), 3);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "thresholds")), 3);
    reel_model_file_free(&mf);

    reel_tensors t;
    cJSON *raw;
    cr_assert_eq(reel_safetensors_read(model_path, &t, &raw, &err), 0, "%s", err.msg);
    cJSON_Delete(raw);
    const cJSON *tensors = cJSON_GetObjectItem(doc, "tensors");
    cr_assert_eq(cJSON_GetArraySize(tensors), (int)t.n);
    for (size_t i = 0; i < t.n; i++) {
        const reel_tensor *x = &t.t[i];
        const cJSON *j = cJSON_GetArrayItem(tensors, (int)i);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "name")), x->name);
        cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "dtype")), reel_dtype_name(x->dtype));
        const cJSON *shape = cJSON_GetObjectItem(j, "shape");
        cr_assert_eq(cJSON_GetArraySize(shape), x->ndim, "%s: rank", x->name);
        for (int k = 0; k < x->ndim; k++)
            cr_expect_eq((size_t)cJSON_GetArrayItem(shape, k)->valuedouble, x->shape[k], "%s: shape", x->name);
        const cJSON *values = cJSON_GetObjectItem(j, "values");
        size_t count = x->nbytes / reel_dtype_size(x->dtype), bad = 0;
        cr_assert_eq((size_t)cJSON_GetArraySize(values), count, "%s: value count", x->name);
        size_t k = 0;
        for (const cJSON *v = values->child; v; v = v->next, k++) {
            double want = x->dtype == REEL_F32   ? ((const float *)x->data)[k]
                          : x->dtype == REEL_F64 ? ((const double *)x->data)[k]
                          : x->dtype == REEL_I32 ? ((const int32_t *)x->data)[k]
                                                 : ((const uint8_t *)x->data)[k];
            if (cJSON_IsString(v)) { /* a non-finite value */
                const char *s = v->valuestring;
                bad += !((isnan(want) && !strcmp(s, "NaN")) || (want == INFINITY && !strcmp(s, "Infinity")) ||
                         (want == -INFINITY && !strcmp(s, "-Infinity")));
            } else if (x->dtype == REEL_F32) {
                float f = (float)v->valuedouble, w = (float)want;
                bad += memcmp(&f, &w, sizeof f) != 0;
            } else {
                bad += !cJSON_IsNumber(v) || memcmp(&v->valuedouble, &want, sizeof want) != 0;
            }
        }
        cr_expect_eq(bad, 0, "%s: %zu of %zu values differ from the file's", x->name, bad, count);
    }
    reel_tensors_free(&t);
    cJSON_Delete(doc);
}

Test(export, json_holds_metadata_and_exact_tensors_of_every_kind_tried)
{
    expect_json_matches_file(export_train("box", NULL, "box.safetensors", 0.01)); /* F32 */
    expect_json_matches_file(export_train("tree", NULL, "tree.safetensors", 0)); /* I32, F32, F64 */
    expect_json_matches_file(export_train("ridge", NULL, "ridge.safetensors", 0)); /* F64 */
    expect_json_matches_file(export_train("knn", NULL, "knn.safetensors", 0)); /* F32, U8 */
}

#include "onnx_reader.h"

/* ---- ONNX tests ---- */

static const char *export_onnx(const char *model_path)
{
    const char *out = tmp_path("model.onnx");
    char args[1024], *o = NULL, *e = NULL;
    snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", model_path, out);
    cr_assert_eq(run_reel(args, &o, &e), 0, "%s", e);
    free(o);
    free(e);
    return out;
}

/* Largest difference between probabilities P (n x L, labels in the order of
 * labels_json) and a document shaped as reel predict --format json prints. */
static double max_difference(const float *P, size_t n, size_t L, const char *labels_json, const char *expected_path)
{
    char *text = reel_read_file(expected_path, NULL, NULL);
    cJSON *doc = cJSON_Parse(text), *labels = cJSON_Parse(labels_json);
    free(text);
    cr_assert_not_null(doc);
    cr_assert_eq((size_t)cJSON_GetArraySize(labels), L, "metadata labels: %s", labels_json);
    cr_assert_eq((size_t)cJSON_GetArraySize(doc), n);
    size_t i = 0;
    double worst = 0;
    for (const cJSON *row = doc->child; row; row = row->next, i++) {
        const cJSON *probs = cJSON_GetObjectItem(row, "probabilities");
        for (size_t k = 0; k < L; k++) {
            const cJSON *p = cJSON_GetObjectItem(probs, cJSON_GetArrayItem(labels, (int)k)->valuestring);
            cr_assert(cJSON_IsNumber(p));
            worst = fmax(worst, fabs(P[i * L + k] - p->valuedouble));
        }
    }
    cJSON_Delete(labels);
    cJSON_Delete(doc);
    return worst;
}

/* The exported graph, run by the evaluator above on the raw features, gives
 * the probabilities in expected_path (reel predict's, or computed here). */
static void expect_graph_gives(const onnx_model *om, const char *model_path, const char *expected_path)
{
    size_t n, d;
    float *X = export_raw_features(model_path, &n, &d, NULL);
    cr_assert_eq((size_t)om->in_dim1, d);
    float *P = run_onnx(om, X, n, d);
    size_t L = (size_t)om->out_dim1;
    double worst = max_difference(P, n, L, om->labels_json, expected_path);
    cr_expect_leq(worst, 1e-5, "graph vs %s: max abs difference %g", expected_path, worst);
    cr_expect_gt(n, 100);
    /* The comparison has teeth only if the net's output depends on its inputs. */
    double spread = 0;
    for (size_t k = 0; k < L; k++) {
        double lo = 1, hi = 0;
        for (size_t r = 0; r < n; r++) {
            lo = fmin(lo, P[r * L + k]);
            hi = fmax(hi, P[r * L + k]);
        }
        spread = fmax(spread, hi - lo);
    }
    cr_expect_gt(spread, 0.05, "probabilities hardly vary over the rows (%g): the net learned nothing", spread);
    free(P);
    free(X);
}

static void expect_header(const onnx_model *om, size_t d)
{
    cr_expect_eq(om->ir_version, 8);
    cr_expect_eq(om->n_opset, 1);
    cr_expect(om->opset_domain_empty, "opset domain must be \"\" (ai.onnx)");
    cr_expect_eq(om->opset_version, 17);
    cr_expect_str_eq(om->producer, "reel");
    cr_expect_eq(om->n_inputs, 1);
    cr_expect_eq(om->n_outputs, 1);
    cr_expect_str_eq(om->in_name, "features");
    cr_expect_str_eq(om->in_dim0, "N");
    cr_expect_eq(om->in_dim1, (int64_t)d);
    cr_expect_str_eq(om->out_name, "probabilities");
    cr_expect_str_eq(om->out_dim0, "N");
    cr_expect_eq(om->out_dim1, 3);
    cr_expect_str_eq(om->node[0].in[0], "features");
    cr_expect_str_eq(om->node[om->n_nodes - 1].out, "probabilities");
}

/* What the model file says the graph needs besides the layers and head:
 * Sub/Div for reel's standardisation when the kind asks for it, and for a
 * kind-state input transform Sub/Div, six nodes for the log (Abs, Add, Log,
 * Sign, Mul, Where) and two for the clip (Max, Min) when any column takes them
 * (six for "robust"'s smooth clip: Mul, Mul, Add, Sqrt, Div, Where). */
static int input_nodes(const char *model_path, size_t *d)
{
    reel_model_file mf;
    reel_error err;
    cr_assert_eq(reel_model_file_load(&mf, model_path, 1, &err), 0, "%s", err.msg);
    *d = mf.pre.d;
    int nodes = mf.model.kind->standardize ? 2 : 0;
    const cJSON *in = cJSON_GetObjectItem(cJSON_GetObjectItem(mf.meta, "kind_state"), "input");
    if (in) {
        int any_log = 0, any_clip = 0;
        for (const cJSON *v = cJSON_GetObjectItem(in, "log")->child; v; v = v->next)
            any_log |= v->valueint;
        for (const cJSON *v = cJSON_GetObjectItem(in, "clip")->child; v; v = v->next)
            any_clip |= v->valueint;
        int smooth = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(in, "mode")), "robust");
        nodes += 2 + 6 * any_log + (smooth ? 6 : 2) * any_clip;
    }
    reel_model_file_free(&mf);
    return nodes;
}

static const value *find_init(const onnx_model *om, const char *name)
{
    for (int i = 0; i < om->n_inits; i++)
        if (!strcmp(om->init[i].name, name))
            return &om->init[i];
    return NULL;
}

Test(export, onnx_box_graph)
{
    const char *m = export_train("box", NULL, "box.safetensors", 0.01);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    cr_expect_eq(d, 8, "a, b, c, c_missing and four kind columns");
    expect_header(om, d);
    /* box: 3 hidden Linear+ReLU (their dropout is training only: no node), the output Linear, sigmoid. */
    cr_expect_eq(count_op(om, "Gemm"), 3 + 1);
    cr_expect_eq(count_op(om, "Relu"), 3);
    cr_expect_eq(count_op(om, "Sigmoid"), 1);
    cr_expect_eq(count_op(om, "Sub"), 1, "one standardisation");
    cr_expect_eq(count_op(om, "Div"), 1);
    cr_expect_eq(om->n_nodes, extra + 4 + 3 + 1);
    const value *w0 = find_init(om, "0.weight"), *w3 = find_init(om, "3.weight"), *w9 = find_init(om, "9.weight");
    cr_assert(w0 && w3 && w9, "Linear weights named by module index (ReLU and Dropout take 1 and 2)");
    cr_expect(w0->rows == 256 && w0->cols == d);
    cr_expect(w3->rows == 256 && w3->cols == 256);
    cr_expect(w9->rows == 3 && w9->cols == 256);
    cr_expect_null(find_init(om, "1.weight"));
    cr_expect_null(find_init(om, "2.weight"));
    cr_expect_str_eq(om->node[om->n_nodes - 1].op, "Sigmoid");
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    free_onnx(om);
}

Test(export, onnx_u_graph)
{
    const char *m = export_train("u", NULL, "u.safetensors", 0.01);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    expect_header(om, d);
    /* U: 256-128-256, each Linear+ReLU(+Dropout, training only), the output Linear. */
    cr_expect_eq(count_op(om, "Gemm"), 3 + 1);
    cr_expect_eq(count_op(om, "Relu"), 3);
    cr_expect_eq(om->n_nodes, extra + 4 + 3 + 1);
    const value *w3 = find_init(om, "3.weight"), *w6 = find_init(om, "6.weight");
    cr_assert(w3 && w6, "Linear weights named by module index");
    cr_expect(w3->rows == 128 && w3->cols == 256, "narrowing");
    cr_expect(w6->rows == 256 && w6->cols == 128, "then widening back");
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    free_onnx(om);
}

/* u_original keeps the original's U: a first Linear without activation
 * takes no module index for one. */
Test(export, onnx_u_original_graph)
{
    const char *m = export_train("u_original", NULL, "u_original.safetensors", 0.01);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    expect_header(om, d);
    /* Linear(d,64) without activation, 8 Linear+ReLU, the output Linear. */
    cr_expect_eq(count_op(om, "Gemm"), 9 + 1);
    cr_expect_eq(count_op(om, "Relu"), 8);
    cr_expect_eq(om->n_nodes, extra + 10 + 8 + 1);
    cr_expect_not_null(find_init(om, "1.weight"), "no activation module after the first Linear");
    cr_expect_null(find_init(om, "2.weight"));
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    free_onnx(om);
}

Test(export, onnx_tanh_none_and_softmax_head)
{
    const char *m = export_train("box", EXPORT_SOFTMAX_NET, "soft.safetensors", EXPORT_SOFTMAX_LR);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    expect_header(om, d);
    cr_expect_eq(count_op(om, "Gemm"), 3 + 1);
    cr_expect_eq(count_op(om, "Tanh"), 1);
    cr_expect_eq(count_op(om, "Relu"), 1);
    cr_expect_eq(count_op(om, "Softmax"), 1);
    cr_expect_eq(count_op(om, "Sigmoid"), 0);
    cr_expect_eq(om->n_nodes, extra + 4 + 2 + 1);
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    free_onnx(om);
}

/* The reference computation that the input-transform test relies on agrees
 * with reel predict on a net without one. */
Test(export, reference_forward_matches_reel_predict)
{
    const char *m = export_train("box", EXPORT_SOFTMAX_NET, "soft.safetensors", EXPORT_SOFTMAX_LR);
    size_t n, d;
    float *X = export_raw_features(m, &n, &d, NULL);
    const char *ref = export_reference_probabilities(m, X, n, d);
    cJSON *pred;
    export_predict_json(m, &pred);
    const char *labels[] = {"A", "B", "C"};
    float *P = malloc(n * 3 * sizeof *P);
    size_t i = 0;
    for (const cJSON *row = pred->child; row; row = row->next, i++) {
        const cJSON *probs = cJSON_GetObjectItem(row, "probabilities");
        for (size_t k = 0; k < 3; k++)
            P[i * 3 + k] = (float)cJSON_GetObjectItem(probs, labels[k])->valuedouble;
    }
    double worst = max_difference(P, n, 3, "[\"A\", \"B\", \"C\"]", ref);
    cr_expect_leq(worst, 1e-5, "reference vs reel predict: %g", worst);
    free(P);
    free(X);
    cJSON_Delete(pred);
}

Test(export, onnx_input_transform_log_centre_scale_clip)
{
    const char *base = export_train("box", EXPORT_SOFTMAX_NET, "soft.safetensors", EXPORT_SOFTMAX_LR);
    const char *m = export_with_input_transform(base);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    expect_header(om, d);
    const char *ops[] = {"Abs", "Add", "Log", "Sign", "Mul", "Where", "Max", "Min"};
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        cr_expect_eq(count_op(om, ops[k]), 1, "%s", ops[k]);
    cr_expect_eq(om->n_nodes, extra + 4 + 2 + 1);
    const value *mask = find_init(om, "input.log_mask");
    cr_assert_not_null(mask);
    cr_expect(mask->v[0] == 0 && mask->v[1] == 1 && mask->v[2] == 1 && mask->v[3] == 0);
    /* The file's transform, computed here in double, then the layers. */
    size_t n;
    float *X = export_raw_features(m, &n, &d, NULL);
    expect_graph_gives(om, m, export_reference_probabilities(m, X, n, d));
    free(X);
    free_onnx(om);
}

/* "robust": median and IQR scaling, then the smooth clip, as reel predict
 * computes it. */
Test(export, onnx_robust_input_smooth_clip)
{
    const char *m = export_train("box", "{\"input\": \"robust\"}", "robust.safetensors", 0.01);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    int extra = input_nodes(m, &d);
    expect_header(om, d);
    cr_expect_eq(count_op(om, "Sqrt"), 1);
    cr_expect_eq(count_op(om, "Max"), 0, "no hard clip");
    cr_expect_eq(om->n_nodes, extra + 4 + 3 + 1);
    const value *mask = find_init(om, "input.smooth_mask");
    cr_assert_not_null(mask);
    cr_expect(mask->v[0] == 1, "column a is continuous");
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    size_t n;
    float *X = export_raw_features(m, &n, &d, NULL);
    expect_graph_gives(om, m, export_reference_probabilities(m, X, n, d));
    free(X);
    free_onnx(om);
}

/* ---- errors ---- */

static void expect_export_error(const char *args, int code, const char *message, const char *out)
{
    char *o = NULL, *e = NULL;
    int rc = run_reel(args, &o, &e);
    cr_expect_eq(rc, code, "reel %s: exit %d, expected %d (%s)", args, rc, code, e);
    cr_expect(e && strstr(e, message), "reel %s: stderr '%s' lacks '%s'", args, e, message);
    cr_expect(e && strchr(e, '\n') == e + strlen(e) - 1, "not one line: '%s'", e);
    if (out)
        cr_expect_not(file_exists(out), "%s written despite the error", out);
    free(o);
    free(e);
}

Test(export, errors)
{
    char args[1024];
    const char *out = tmp_path("never.onnx");
    const char *tree = export_train("tree", NULL, "tree.safetensors", 0);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", tree, out);
    expect_export_error(args, 1, "--net-only is for the nets; a tree model exports as the whole pipeline", out);
    const char *knn = export_train("knn", NULL, "knn.safetensors", 0);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", knn, out); /* whole pipeline */
    expect_export_error(args, 1, "onnx export supports the nets (box, u, mlp), ridge, tree and forest; model knn is "
                        "a knn", out);

    const char *box = export_train("box", "{\"epochs\": 1}", "box1.safetensors", 0);
    snprintf(args, sizeof args, "export --model-file %s --format yaml --out %s", box, out);
    expect_export_error(args, 2, "--format must be json or onnx, got 'yaml'", out);
    snprintf(args, sizeof args, "export --model-file %s --out %s", box, out);
    expect_export_error(args, 2, "--model-file, --format and --out are required", out);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s --epochs 3", box, out);
    expect_export_error(args, 2, "--epochs", out);

    /* A truncated copy of a good file. */
    size_t len;
    char *bytes = reel_read_file(box, &len, NULL);
    const char *bad = tmp_path("truncated.safetensors");
    FILE *fp = fopen(bad, "wb");
    fwrite(bytes, 1, len / 2, fp);
    fclose(fp);
    free(bytes);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", bad, out);
    expect_export_error(args, 1, bad, out);
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s", bad, out);
    expect_export_error(args, 1, bad, out);
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s", tmp_path("absent"), out);
    expect_export_error(args, 1, "absent", out);
    /* An unwritable destination. */
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s/no/such/dir/m.json", box,
             tmp_path(""));
    expect_export_error(args, 1, "m.json", NULL);

    char *o = NULL, *e = NULL;
    cr_expect_eq(run_reel("export --help", &o, &e), 0);
    cr_expect(o && strstr(o, "--format json|onnx"), "help: %s", o);
    free(o);
    free(e);
}

/* Rewrites a net's model file with one more tensor or kind_state entry, as a
 * net with an input transform might be saved. */
static const char *with_extra(const char *model_path, const char *tensor, const char *kind_state_key)
{
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    cr_assert_eq(reel_safetensors_read(model_path, &t, &meta, &err), 0, "%s", err.msg);
    if (tensor) {
        size_t shape[1] = {8};
        float mask[8] = {0, 1, 0, 0, 0, 0, 0, 0};
        cr_assert_eq(reel_tensors_add(&t, tensor, REEL_F32, 1, shape, mask, &err), 0);
    }
    if (kind_state_key) {
        cJSON *ks = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "kind_state")));
        cJSON_AddStringToObject(ks, kind_state_key, "signed_log1p");
        char *s = cJSON_PrintUnformatted(ks);
        cJSON_ReplaceItemInObject(meta, "kind_state", cJSON_CreateString(s));
        cJSON_free(s);
        cJSON_Delete(ks);
    }
    const char *path = tmp_path(tensor ? "extra_tensor.safetensors" : "extra_state.safetensors");
    cr_assert_eq(reel_safetensors_write(path, &t, meta, &err), 0, "%s", err.msg);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    return path;
}

/* Sets kind_state.input[key] = value (JSON) in a model file, in place. */
static const char *edit_input(const char *model_path, const char *key, const char *value)
{
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    cr_assert_eq(reel_safetensors_read(model_path, &t, &meta, &err), 0, "%s", err.msg);
    cJSON *ks = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "kind_state")));
    cJSON *in = cJSON_GetObjectItem(ks, "input");
    cJSON_DeleteItemFromObject(in, key);
    cJSON_AddItemToObject(in, key, cJSON_Parse(value));
    char *s = cJSON_PrintUnformatted(ks);
    cJSON_ReplaceItemInObject(meta, "kind_state", cJSON_CreateString(s));
    cJSON_free(s);
    cJSON_Delete(ks);
    cr_assert_eq(reel_safetensors_write(model_path, &t, meta, &err), 0, "%s", err.msg);
    reel_tensors_free(&t);
    cJSON_Delete(meta);
    return model_path;
}

Test(export, unknown_input_transform_is_refused_not_left_out)
{
    const char *box = export_train("box", "{\"epochs\": 1}", "box1.safetensors", 0);
    const char *out = tmp_path("never.onnx");
    char args[1024];
    const char *a = with_extra(box, "input_transform.log_mask", NULL);
    snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", a, out);
    /* the model-file loader refuses a tensor the model does not have, for either format */
    expect_export_error(args, 1, "tensor 'input_transform.log_mask' is not part of a mlp model", out);
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s", a, tmp_path("extra.json"));
    expect_export_error(args, 1, "tensor 'input_transform.log_mask' is not part of a mlp model",
                        tmp_path("extra.json"));

    const char *b = with_extra(box, NULL, "input_transform");
    snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", b, out);
    expect_export_error(args, 1, "kind_state holds 'input_transform'", out);

    /* A known transform with a step this exporter does not know, or malformed. */
    const char *edits[][2] = {{"power", "2"}, {"log", "[1]"}, {"clip_at", "-1"}, {"mode", "\"quantile\""}};
    /* (the malformed ones may be caught by the mlp kind's own loader first) */
    const char *expect[] = {"kind_state.input holds 'power'", "must be a list of 8 numbers",
                            "must be a number > 0", "must be \"auto\", \"robust\" or \"standard\""};
    for (size_t k = 0; k < 4; k++) {
        const char *c = edit_input(export_with_input_transform(box), edits[k][0], edits[k][1]);
        snprintf(args, sizeof args, "export --model-file %s --format onnx --net-only --out %s", c, out);
        expect_export_error(args, 1, expect[k], out);
    }
}

/* An ensemble: each member's net and head, their probabilities added and
 * divided by K; the graph gives reel predict's probabilities. */
Test(export, onnx_ensemble_graph)
{
    const char *m = export_train("box", "{\"ensemble\": 3, \"layers\": [{\"width\": 8}, {\"width\": 4, "
                                 "\"activation\": \"tanh\"}]}", "ens.safetensors", 0.01);
    onnx_model *om = read_onnx(export_onnx(m));
    size_t d;
    input_nodes(m, &d);
    expect_header(om, d);
    cr_expect_eq(count_op(om, "Gemm"), 3 * 3, "3 Linear layers per member");
    cr_expect_eq(count_op(om, "Tanh"), 3);
    cr_expect_eq(count_op(om, "Sigmoid"), 3);
    cr_expect_geq(count_op(om, "Add"), 2, "the members' sums (and any of the input transform)");
    cr_expect(find_init(om, "0.weight") && find_init(om, "ensemble.1.0.weight") && find_init(om, "ensemble.2.4.bias"),
              "members' tensors under the model file's names");
    cr_expect_str_eq(om->node[om->n_nodes - 1].op, "Div");
    expect_graph_gives(om, m, export_predict_json(m, NULL));
    free_onnx(om);
}
