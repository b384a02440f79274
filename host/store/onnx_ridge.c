/* The ridge model as ONNX nodes, computed in double as reel computes it:
 * the features standardised in double and rounded to float (as reel's
 * preprocessing stores them), then D = x coef^T + intercept (Gemm in
 * double), then sigmoid(D), or the softmax of D across labels for output
 * "softmax", rounded to float. (reel also nudges a sigmoid that rounds to
 * 0.5 so that P > 0.5 exactly when D > 0; the graph leaves that out: it
 * changes only a P within a float's step of 0.5.) */
#include <string.h>

#include "store/onnx_pipeline.h"

/* The F64 tensor `name` of shape [rows, cols] (cols 0: [rows]). */
static const double *f64_tensor(const char *path, const reel_tensors *t, const char *name, size_t rows, size_t cols,
                                reel_error *err)
{
    reel_error e;
    const reel_tensor *x = reel_tensors_get(t, name, REEL_F64, rows * (cols ? cols : 1), &e);
    if (!x) {
        reel_fail(err, "%s: %s", path, e.msg);
        return NULL;
    }
    return x->data;
}

int reel_onnx_add_ridge(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_tensors *t,
                        const char *in, const char *out, reel_error *err)
{
    size_t d = mf->pre.d, L = mf->model.L, wdims[2] = {L, d};
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(mf->model.params, "output");
    int softmax = cJSON_IsString(output) && strcmp(output->valuestring, "softmax") == 0;
    const double *coef = f64_tensor(path, t, "coef", L, d, err);
    const double *intercept = coef ? f64_tensor(path, t, "intercept", L, 0, err) : NULL;
    if (!intercept)
        return -1;
    reel_onnx_init_f64(graph, "ridge.mean", 1, &d, mf->pre.mean);
    reel_onnx_init_f64(graph, "ridge.scale", 1, &d, mf->pre.scale);
    reel_onnx_init_f64(graph, "ridge.coef", 2, wdims, coef);
    reel_onnx_init_f64(graph, "ridge.intercept", 1, &L, intercept);
    reel_onnx_node(graph, "Cast", "ridge.x64", in, NULL, NULL, "ridge.x64", "to", ONNX_DOUBLE);
    reel_onnx_node(graph, "Sub", "ridge.centered", "ridge.x64", "ridge.mean", NULL, "ridge.centered", NULL, 0);
    reel_onnx_node(graph, "Div", "ridge.z64", "ridge.centered", "ridge.scale", NULL, "ridge.z64", NULL, 0);
    reel_onnx_node(graph, "Cast", "ridge.z", "ridge.z64", NULL, NULL, "ridge.z", "to", ONNX_FLOAT);
    reel_onnx_node(graph, "Cast", "ridge.zd", "ridge.z", NULL, NULL, "ridge.zd", "to", ONNX_DOUBLE);
    reel_onnx_node(graph, "Gemm", "ridge.decision", "ridge.zd", "ridge.coef", "ridge.intercept", "ridge.decision",
                   "transB", 1);
    if (softmax)
        reel_onnx_node(graph, "Softmax", "ridge.p64", "ridge.decision", NULL, NULL, "ridge.p64", "axis", 1);
    else
        reel_onnx_node(graph, "Sigmoid", "ridge.p64", "ridge.decision", NULL, NULL, "ridge.p64", NULL, 0);
    reel_onnx_node(graph, "Cast", out, "ridge.p64", NULL, NULL, out, "to", ONNX_FLOAT);
    return 0;
}
