#include "io/onnx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "nn/spec.h"
#include "util/fileio.h"

/* ---- a minimal protobuf encoder ----
 * A message is a sequence of fields, each a key (field number << 3 | wire
 * type) then the value: wire type 0 a varint, 2 a length then bytes (strings,
 * bytes, nested messages), 5 four little-endian bytes. Nested messages are
 * built in their own buffer, then embedded with their length. */

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom; /* set once an allocation failed; the buffer is then useless */
} pb;

static void pb_raw(pb *b, const void *data, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void pb_varint(pb *b, uint64_t v)
{
    unsigned char out[10];
    size_t n = 0;
    do {
        out[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    pb_raw(b, out, n);
}

static void pb_key(pb *b, int field, int wire) { pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

/* int32/int64/enum fields: negative values would take ten bytes; reel writes none. */
static void pb_int(pb *b, int field, int64_t v)
{
    pb_key(b, field, WIRE_VARINT);
    pb_varint(b, (uint64_t)v);
}

static void pb_bytes(pb *b, int field, const void *data, size_t len)
{
    pb_key(b, field, WIRE_LEN);
    pb_varint(b, len);
    pb_raw(b, data, len);
}

static void pb_str(pb *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

/* Embeds sub as field `field` of b and frees sub. */
static void pb_msg(pb *b, int field, pb *sub)
{
    if (sub->oom)
        b->oom = 1;
    else
        pb_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* ---- ONNX messages (field numbers from onnx.proto) ---- */

enum { ONNX_IR_VERSION = 8, ONNX_OPSET = 17, ONNX_FLOAT = 1, ATTR_INT = 2 };
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7,
       MODEL_OPSET_IMPORT = 8, MODEL_METADATA_PROPS = 14 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5 };
enum { ATTRIBUTE_NAME = 1, ATTRIBUTE_I = 3, ATTRIBUTE_TYPE = 20 };
enum { TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9 };

/* A node with up to three inputs (NULL ends the list) and, when attr is not
 * NULL, one int attribute. */
static void add_node(pb *graph, const char *op, const char *name, const char *in0, const char *in1,
                     const char *in2, const char *out, const char *attr, int64_t attr_value)
{
    pb node = {0};
    const char *in[3] = {in0, in1, in2};
    for (int k = 0; k < 3 && in[k]; k++)
        pb_str(&node, NODE_INPUT, in[k]);
    pb_str(&node, NODE_OUTPUT, out);
    pb_str(&node, NODE_NAME, name);
    pb_str(&node, NODE_OP_TYPE, op);
    if (attr) {
        pb a = {0};
        pb_str(&a, ATTRIBUTE_NAME, attr);
        pb_int(&a, ATTRIBUTE_I, attr_value);
        pb_int(&a, ATTRIBUTE_TYPE, ATTR_INT);
        pb_msg(&node, NODE_ATTRIBUTE, &a);
    }
    pb_msg(graph, GRAPH_NODE, &node);
}

/* A float initializer; raw_data holds the values little-endian. */
static void add_initializer(pb *graph, const char *name, int ndim, const size_t *dims, const float *v)
{
    pb t = {0};
    size_t count = 1;
    for (int k = 0; k < ndim; k++) {
        pb_int(&t, TENSOR_DIMS, (int64_t)dims[k]);
        count *= dims[k];
    }
    pb_int(&t, TENSOR_DATA_TYPE, ONNX_FLOAT);
    pb_str(&t, TENSOR_NAME, name);
    pb_key(&t, TENSOR_RAW_DATA, WIRE_LEN);
    pb_varint(&t, count * 4);
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        unsigned char le[4] = {(unsigned char)bits, (unsigned char)(bits >> 8), (unsigned char)(bits >> 16),
                               (unsigned char)(bits >> 24)};
        pb_raw(&t, le, 4);
    }
    pb_msg(graph, GRAPH_INITIALIZER, &t);
}

/* ValueInfoProto for a float [N, width] tensor, N a named (dynamic) dim:
 * {name, type: {tensor_type: {elem_type, shape: {dim: [{dim_param}, {dim_value}]}}}}. */
static void add_value_info(pb *graph, int field, const char *name, size_t width)
{
    pb batch = {0}, cols = {0}, shape = {0}, tensor = {0}, type = {0}, vi = {0};
    pb_str(&batch, 2, "N");
    pb_int(&cols, 1, (int64_t)width);
    pb_msg(&shape, 1, &batch);
    pb_msg(&shape, 1, &cols);
    pb_int(&tensor, 1, ONNX_FLOAT);
    pb_msg(&tensor, 2, &shape);
    pb_msg(&type, 1, &tensor);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(graph, field, &vi);
}

static void add_metadata_prop(pb *model, const char *key, const cJSON *value)
{
    char *s = cJSON_IsString(value) ? NULL : cJSON_PrintUnformatted(value);
    pb e = {0};
    pb_str(&e, 1, key);
    pb_str(&e, 2, cJSON_IsString(value) ? value->valuestring : (s ? s : "null"));
    pb_msg(model, MODEL_METADATA_PROPS, &e);
    cJSON_free(s);
}

/* ---- what of the model file the graph can express ---- */

/* Params that only steer training (or that the layer list and head cover). */
static const char *const TRAINING_PARAMS[] = {"layers",   "head",     "threshold",  "lr",           "weight_decay",
                                              "beta1",    "beta2",    "eps",        "batch_size",   "epochs",
                                              "patience", "min_delta", "restore_best", "seed",      NULL};
/* Kind-state entries that are facts about training, not about predicting. */
static const char *const TRAINING_FACTS[] = {"head", "epochs_run", "best_epoch", NULL};

static int listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* A param value that turns nothing on: null, false, 0, "", "none", [] or {}. */
static int neutral(const cJSON *v)
{
    return cJSON_IsNull(v) || cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0) ||
           (cJSON_IsString(v) && (!v->valuestring[0] || strcmp(v->valuestring, "none") == 0)) ||
           ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

/* Refuses a file holding anything beyond the plain layer stack: an extra
 * tensor, an unknown param that is switched on, or unknown kind state. Each
 * may be an input transform the graph would leave out. */
static int check_plain_net(const char *path, const reel_nn_spec *spec, const reel_tensors *t, const cJSON *params,
                           const cJSON *kind_state, reel_error *err)
{
    static const char *why = "(an input transform or layer this exporter does not know?); onnx export only "
                             "writes graphs that match reel predict exactly: use --format json to see the file";
    for (size_t i = 0; i < t->n; i++) {
        int ok = 0;
        for (size_t l = 0; l < spec->n_layers && !ok; l++) {
            char w[32], b[32];
            snprintf(w, sizeof w, "%d.weight", spec->layer[l].module_index);
            snprintf(b, sizeof b, "%d.bias", spec->layer[l].module_index);
            ok = strcmp(t->t[i].name, w) == 0 || strcmp(t->t[i].name, b) == 0;
        }
        if (!ok)
            return reel_fail(err, "%s: tensor '%s' is not a weight or bias of the net's layers %s", path,
                             t->t[i].name, why);
    }
    for (const cJSON *p = params ? params->child : NULL; p; p = p->next)
        if (!listed(TRAINING_PARAMS, p->string) && !neutral(p))
            return reel_fail(err, "%s: param '%s' is set, and onnx export does not know what it does %s", path,
                             p->string, why);
    for (const cJSON *k = kind_state ? kind_state->child : NULL; k; k = k->next)
        if (!listed(TRAINING_FACTS, k->string))
            return reel_fail(err, "%s: the net's kind_state holds '%s', which onnx export does not know %s", path,
                             k->string, why);
    return 0;
}

/* The float32 [rows, cols] (cols 0: a vector of rows) tensor `name`. */
static const float *get_weights(const char *path, const reel_tensors *t, const char *name, size_t rows,
                                size_t cols, reel_error *err)
{
    reel_error e;
    const reel_tensor *x = reel_tensors_get(t, name, REEL_F32, rows * (cols ? cols : 1), &e);
    int ndim = cols ? 2 : 1;
    if (!x) {
        reel_fail(err, "%s: %s (the net's layer list needs it; a module before it, such as an input "
                  "transform, would shift the names)", path, e.msg);
        return NULL;
    }
    if (x->ndim != ndim || x->shape[0] != rows || (cols && x->shape[1] != cols)) {
        if (cols)
            reel_fail(err, "%s: tensor '%s' must have shape [%zu, %zu] for the net's layers", path, name, rows, cols);
        else
            reel_fail(err, "%s: tensor '%s' must have shape [%zu] for the net's layers", path, name, rows);
        return NULL;
    }
    return x->data;
}

/* ---- the graph ---- */

static int build_graph(pb *graph, const char *path, const reel_model_file *mf, const reel_nn_spec *spec,
                       const reel_tensors *t, reel_error *err)
{
    size_t d = spec->d;
    pb_str(graph, GRAPH_NAME, mf->model.name);
    add_value_info(graph, GRAPH_INPUT, "features", d);
    add_value_info(graph, GRAPH_OUTPUT, "probabilities", spec->L);

    char x[32] = "features"; /* the tensor flowing through the graph */
    if (mf->model.kind->standardize) {
        float *mean = malloc(d * sizeof *mean), *scale = malloc(d * sizeof *scale);
        if (!mean || !scale) {
            free(mean);
            free(scale);
            return reel_fail(err, "out of memory");
        }
        for (size_t k = 0; k < d; k++) {
            mean[k] = (float)mf->pre.mean[k];
            scale[k] = (float)mf->pre.scale[k];
        }
        add_initializer(graph, "preprocess.mean", 1, &d, mean);
        add_initializer(graph, "preprocess.scale", 1, &d, scale);
        free(mean);
        free(scale);
        add_node(graph, "Sub", "standardize_sub", x, "preprocess.mean", NULL, "centered", NULL, 0);
        add_node(graph, "Div", "standardize_div", "centered", "preprocess.scale", NULL, "standardized", NULL, 0);
        snprintf(x, sizeof x, "standardized");
    }
    for (size_t l = 0; l < spec->n_layers; l++) {
        const reel_nn_layer *ly = &spec->layer[l];
        int m = ly->module_index, last = l + 1 == spec->n_layers;
        char wname[32], bname[32], out[32], node[32];
        snprintf(wname, sizeof wname, "%d.weight", m);
        snprintf(bname, sizeof bname, "%d.bias", m);
        const float *w = get_weights(path, t, wname, ly->out, ly->in, err);
        const float *b = w ? get_weights(path, t, bname, ly->out, 0, err) : NULL;
        if (!b)
            return -1;
        size_t wdims[2] = {ly->out, ly->in};
        add_initializer(graph, wname, 2, wdims, w);
        add_initializer(graph, bname, 1, &ly->out, b);
        /* Gemm: Y = X W^T + b, with W stored out x in as torch stores it. */
        snprintf(node, sizeof node, "linear_%d", m);
        snprintf(out, sizeof out, last ? "logits" : "linear_%d_out", m);
        add_node(graph, "Gemm", node, x, wname, bname, out, "transB", 1);
        snprintf(x, sizeof x, "%s", out);
        if (ly->act != REEL_ACT_NONE) {
            const char *op = ly->act == REEL_ACT_RELU ? "Relu" : "Tanh";
            snprintf(node, sizeof node, "%s_%d", reel_nn_act_name(ly->act), m + 1);
            snprintf(out, sizeof out, "%s_%d_out", reel_nn_act_name(ly->act), m + 1);
            add_node(graph, op, node, x, NULL, NULL, out, NULL, 0);
            snprintf(x, sizeof x, "%s", out);
        }
    }
    if (spec->head == REEL_HEAD_SOFTMAX)
        add_node(graph, "Softmax", "head", x, NULL, NULL, "probabilities", "axis", 1);
    else
        add_node(graph, "Sigmoid", "head", x, NULL, NULL, "probabilities", NULL, 0);
    return 0;
}

int reel_export_onnx(const char *model_path, const char *out_path, reel_error *err)
{
    reel_model_file mf;
    if (reel_model_file_load(&mf, model_path, err))
        return -1;
    if (strcmp(mf.model.kind->name, "mlp") != 0) {
        reel_fail(err, "%s: onnx export supports the nets (box, u, mlp); model %s is a %s", model_path,
                  mf.model.name, mf.model.kind->name);
        reel_model_file_free(&mf);
        return -1;
    }
    reel_tensors t = {0};
    cJSON *raw = NULL;
    pb graph = {0}, model = {0}, opset = {0};
    reel_nn_spec *spec = malloc(sizeof *spec);
    reel_error e;
    int rc = -1;
    if (!spec) {
        reel_fail(err, "out of memory");
        goto done;
    }
    if (reel_safetensors_read(model_path, &t, &raw, err))
        goto done;
    const cJSON *params = mf.model.params;
    if (reel_nn_spec_build(spec, cJSON_GetObjectItemCaseSensitive(params, "layers"),
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "head")), mf.pre.d,
                           mf.model.L, &e)) {
        reel_fail(err, "%s: params: %s", model_path, e.msg);
        goto done;
    }
    if (check_plain_net(model_path, spec, &t, params, cJSON_GetObjectItemCaseSensitive(mf.meta, "kind_state"),
                        err) ||
        build_graph(&graph, model_path, &mf, spec, &t, err))
        goto done;

    pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_str(&opset, 1, ""); /* the default domain, ai.onnx */
    pb_int(&opset, 2, ONNX_OPSET);
    pb_msg(&model, MODEL_OPSET_IMPORT, &opset);
    pb_str(&model, MODEL_PRODUCER_NAME, "reel");
    pb_str(&model, MODEL_PRODUCER_VERSION, REEL_VERSION);
    pb_msg(&model, MODEL_GRAPH, &graph);
    static const char *const props[] = {"model", "features", "labels", "thresholds"};
    for (size_t k = 0; k < sizeof props / sizeof *props; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(mf.meta, props[k]);
        if (v)
            add_metadata_prop(&model, props[k], v);
    }
    if (model.oom) {
        reel_fail(err, "%s: out of memory building the ONNX model", out_path);
        goto done;
    }
    reel_outfile out;
    if (reel_outfile_open(&out, out_path, err))
        goto done;
    fwrite(model.p, 1, model.n, out.fp);
    rc = reel_outfile_commit(&out, err);
done:
    free(graph.p);
    free(model.p);
    free(opset.p);
    free(spec);
    cJSON_Delete(raw);
    reel_tensors_free(&t);
    reel_model_file_free(&mf);
    return rc;
}
