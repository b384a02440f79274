#include "store/onnx.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "nn/spec.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/outfile.h"

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

enum { ONNX_IR_VERSION = 8, ONNX_OPSET = 17, ONNX_FLOAT = 1, ONNX_BOOL = 9, ATTR_INT = 2 };
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

/* An initializer of `count` elements; raw_data holds their bytes, little-endian. */
static void add_initializer_raw(pb *graph, const char *name, int ndim, const size_t *dims, int data_type,
                                const unsigned char *raw, size_t nbytes)
{
    pb t = {0};
    for (int k = 0; k < ndim; k++)
        pb_int(&t, TENSOR_DIMS, (int64_t)dims[k]);
    pb_int(&t, TENSOR_DATA_TYPE, data_type);
    pb_str(&t, TENSOR_NAME, name);
    pb_bytes(&t, TENSOR_RAW_DATA, raw, nbytes);
    pb_msg(graph, GRAPH_INITIALIZER, &t);
}

static void add_initializer(pb *graph, const char *name, int ndim, const size_t *dims, const float *v)
{
    size_t count = 1;
    for (int k = 0; k < ndim; k++)
        count *= dims[k];
    unsigned char *le = malloc(count * 4 + 1);
    if (!le) {
        graph->oom = 1;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        for (int b = 0; b < 4; b++)
            le[4 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
    add_initializer_raw(graph, name, ndim, dims, ONNX_FLOAT, le, count * 4);
    free(le);
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

/* Params that only steer training, or whose effect the graph takes from
 * elsewhere: the layer list and head, and "input", the choice of input
 * transform, which the net keeps as fitted in its kind state. ("ema" only
 * decides which weights were saved: the averaged ones are the file's.) */
static const char *const KNOWN_PARAMS[] = {"layers",   "head",     "threshold",  "lr",           "weight_decay",
                                           "beta1",    "beta2",    "eps",        "batch_size",   "epochs",
                                           "patience", "min_delta", "restore_best", "seed",      "input",
                                           "ema",      "patience_from", "width", "label_smoothing",
                                           "lr_schedule", "warmup_epochs", "ensemble", "pos_weight",
                                           NULL};
/* Kind-state entries: facts about training, and the input transform. */
static const char *const KNOWN_STATE[] = {"head", "epochs_run", "best_epoch", "input", NULL};

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

/* An ensemble's members (the mlp kind's "ensemble" param; 1 without it). */
static size_t ensemble_size(const cJSON *params)
{
    const cJSON *k = params ? cJSON_GetObjectItemCaseSensitive(params, "ensemble") : NULL;
    return cJSON_IsNumber(k) && k->valuedouble >= 1 ? (size_t)k->valuedouble : 1;
}

/* Member k's tensor of module m, as the mlp kind saves it (nn/mlp.c). */
static void member_tensor(char *buf, size_t n, size_t k, int m, const char *what)
{
    if (k == 0)
        snprintf(buf, n, "%d.%s", m, what);
    else
        snprintf(buf, n, "ensemble.%zu.%d.%s", k, m, what);
}

/* Refuses a file holding anything beyond the plain layer stack: an extra
 * tensor, an unknown param that is switched on, or unknown kind state. Each
 * may be an input transform the graph would leave out. */
static int check_plain_net(const char *path, const reel_nn_spec *spec, const reel_tensors *t, const cJSON *params,
                           const cJSON *kind_state, reel_error *err)
{
    static const char *why = "(an input transform or layer this exporter does not know?); onnx export only "
                             "writes graphs that match reel predict exactly: use --format json to see the file";
    size_t K = ensemble_size(params);
    if (spec->plr.k)
        return reel_fail(err, "%s: the net starts with a PLR numeric embedding, which onnx export does not write "
                         "yet; onnx export only writes graphs that match reel predict exactly", path);
    for (size_t i = 0; i < t->n; i++) {
        int ok = 0;
        for (size_t k = 0; k < K && !ok; k++)
            for (size_t l = 0; l < spec->n_layers && !ok; l++) {
                char w[64], b[64];
                member_tensor(w, sizeof w, k, spec->layer[l].module_index, "weight");
                member_tensor(b, sizeof b, k, spec->layer[l].module_index, "bias");
                ok = strcmp(t->t[i].name, w) == 0 || strcmp(t->t[i].name, b) == 0;
            }
        if (!ok)
            return reel_fail(err, "%s: tensor '%s' is not a weight or bias of the net's layers %s", path,
                             t->t[i].name, why);
    }
    for (const cJSON *p = params ? params->child : NULL; p; p = p->next)
        if (!listed(KNOWN_PARAMS, p->string) && !neutral(p))
            return reel_fail(err, "%s: param '%s' is set, and onnx export does not know what it does %s", path,
                             p->string, why);
    for (const cJSON *k = kind_state ? kind_state->child : NULL; k; k = k->next)
        if (!listed(KNOWN_STATE, k->string))
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

/* ---- the net's own input transform (kind state "input") ----
 * Fitted on the training rows and applied by the mlp kind before the first
 * layer, per column k:
 *   x' = log[k] ? sign(x) * log1p(|x|) : x
 *   z  = (x' - center[k]) / scale[k], clipped to +-clip_at where clip[k]
 *        (mode "robust": smoothly, z / sqrt(1 + (z / clip_at)^2)).
 * Read strictly: a key or value this exporter does not know is an error. */

typedef struct {
    size_t d;
    uint8_t *log, *clip;
    float *center, *scale;
    double clip_at;
    int any_log, any_clip, smooth;
} input_transform;

static void input_free(input_transform *t)
{
    free(t->log);
    free(t->clip);
    free(t->center);
    free(t->scale);
    memset(t, 0, sizeof *t);
}

/* j[key]: d numbers; flags must be 0 or 1, scales non-zero. */
static int read_numbers(const cJSON *j, const char *key, size_t d, int flags, double *out, reel_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != d)
        return reel_fail(err, "kind_state.input.%s must be a list of %zu numbers", key, d);
    size_t k = 0;
    for (const cJSON *v = a->child; v; v = v->next, k++) {
        if (!cJSON_IsNumber(v) || (flags && v->valuedouble != 0 && v->valuedouble != 1) ||
            (!strcmp(key, "scale") && v->valuedouble == 0))
            return reel_fail(err, "kind_state.input.%s[%zu] must be %s", key, k,
                             flags ? "0 or 1" : (!strcmp(key, "scale") ? "a non-zero number" : "a number"));
        out[k] = v->valuedouble;
    }
    return 0;
}

static int input_read(input_transform *t, const cJSON *j, size_t d, reel_error *err)
{
    /* "numeric" only says which columns a PLR embedding takes */
    static const char *const keys[] = {"mode", "log", "clip", "clip_at", "center", "scale", "numeric", NULL};
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(j))
        return reel_fail(err, "kind_state.input must be an object");
    for (const cJSON *k = j->child; k; k = k->next)
        if (!listed(keys, k->string))
            return reel_fail(err, "kind_state.input holds '%s', which onnx export does not know", k->string);
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "mode"));
    const cJSON *clip_at = cJSON_GetObjectItemCaseSensitive(j, "clip_at");
    if (!mode || (strcmp(mode, "auto") != 0 && strcmp(mode, "standard") != 0 && strcmp(mode, "robust") != 0))
        return reel_fail(err, "kind_state.input.mode must be \"auto\", \"robust\" or \"standard\"");
    if (!cJSON_IsNumber(clip_at) || !(clip_at->valuedouble > 0))
        return reel_fail(err, "kind_state.input.clip_at must be a number > 0");
    t->d = d;
    t->clip_at = clip_at->valuedouble;
    t->smooth = strcmp(mode, "robust") == 0;
    t->log = malloc(d);
    t->clip = malloc(d);
    t->center = malloc(d * sizeof *t->center);
    t->scale = malloc(d * sizeof *t->scale);
    double *v = malloc(4 * d * sizeof *v);
    if (!t->log || !t->clip || !t->center || !t->scale || !v) {
        free(v);
        input_free(t);
        return reel_fail(err, "out of memory");
    }
    if (read_numbers(j, "log", d, 1, v, err) || read_numbers(j, "clip", d, 1, v + d, err) ||
        read_numbers(j, "center", d, 0, v + 2 * d, err) || read_numbers(j, "scale", d, 0, v + 3 * d, err)) {
        free(v);
        input_free(t);
        return -1;
    }
    for (size_t k = 0; k < d; k++) {
        t->log[k] = (uint8_t)v[k];
        t->clip[k] = (uint8_t)v[d + k];
        t->center[k] = (float)v[2 * d + k];
        t->scale[k] = (float)v[3 * d + k];
        t->any_log |= t->log[k];
        t->any_clip |= t->clip[k];
    }
    free(v);
    return 0;
}

/* ---- the graph ---- */

/* The input transform's nodes after tensor x; x becomes their output. Where
 * picks the log per column exactly (a mask product would round), and
 * Max/Min with +-infinity leave unclipped columns alone. */
static void add_input_transform(pb *graph, const input_transform *in, char *x, size_t xlen)
{
    size_t d = in->d;
    float *v = malloc(2 * d * sizeof *v);
    unsigned char *mask = malloc(d);
    if (!v || !mask) {
        free(v);
        free(mask);
        graph->oom = 1;
        return;
    }
    if (in->any_log) {
        for (size_t k = 0; k < d; k++) {
            v[k] = 1.0f;
            mask[k] = in->log[k];
        }
        add_initializer(graph, "input.one", 1, &d, v);
        add_initializer_raw(graph, "input.log_mask", 1, &d, ONNX_BOOL, mask, d);
        add_node(graph, "Abs", "input_abs", x, NULL, NULL, "input_abs_out", NULL, 0);
        add_node(graph, "Add", "input_abs_plus_one", "input_abs_out", "input.one", NULL, "input_abs1_out", NULL, 0);
        add_node(graph, "Log", "input_log1p", "input_abs1_out", NULL, NULL, "input_log1p_out", NULL, 0);
        add_node(graph, "Sign", "input_sign", x, NULL, NULL, "input_sign_out", NULL, 0);
        add_node(graph, "Mul", "input_signed_log1p", "input_sign_out", "input_log1p_out", NULL, "input_slog_out",
                 NULL, 0);
        add_node(graph, "Where", "input_pick_log", "input.log_mask", "input_slog_out", x, "input_logged", NULL, 0);
        snprintf(x, xlen, "input_logged");
    }
    add_initializer(graph, "input.center", 1, &d, in->center);
    add_initializer(graph, "input.scale", 1, &d, in->scale);
    add_node(graph, "Sub", "input_sub", x, "input.center", NULL, "input_centered", NULL, 0);
    add_node(graph, "Div", "input_div", "input_centered", "input.scale", NULL, "input_z", NULL, 0);
    snprintf(x, xlen, "input_z");
    if (in->any_clip && in->smooth) { /* z / sqrt(1 + (z / c)^2) where clip[k] */
        for (size_t k = 0; k < d; k++) {
            v[k] = 1.0f;
            v[d + k] = (float)(1.0 / in->clip_at);
            mask[k] = in->clip[k];
        }
        add_initializer(graph, "input.smooth_one", 1, &d, v);
        add_initializer(graph, "input.smooth_inv_bound", 1, &d, v + d);
        add_initializer_raw(graph, "input.smooth_mask", 1, &d, ONNX_BOOL, mask, d);
        add_node(graph, "Mul", "input_smooth_scaled", x, "input.smooth_inv_bound", NULL, "input_smooth_t", NULL, 0);
        add_node(graph, "Mul", "input_smooth_square", "input_smooth_t", "input_smooth_t", NULL, "input_smooth_t2",
                 NULL, 0);
        add_node(graph, "Add", "input_smooth_plus_one", "input_smooth_t2", "input.smooth_one", NULL,
                 "input_smooth_t2p1", NULL, 0);
        add_node(graph, "Sqrt", "input_smooth_sqrt", "input_smooth_t2p1", NULL, NULL, "input_smooth_den", NULL, 0);
        add_node(graph, "Div", "input_smooth_div", x, "input_smooth_den", NULL, "input_smooth_out", NULL, 0);
        add_node(graph, "Where", "input_pick_smooth", "input.smooth_mask", "input_smooth_out", x, "input_smoothed",
                 NULL, 0);
        snprintf(x, xlen, "input_smoothed");
    } else if (in->any_clip) {
        for (size_t k = 0; k < d; k++) {
            v[k] = in->clip[k] ? -(float)in->clip_at : -INFINITY;
            v[d + k] = in->clip[k] ? (float)in->clip_at : INFINITY;
        }
        add_initializer(graph, "input.clip_low", 1, &d, v);
        add_initializer(graph, "input.clip_high", 1, &d, v + d);
        add_node(graph, "Max", "input_clip_low", x, "input.clip_low", NULL, "input_clipped_low", NULL, 0);
        add_node(graph, "Min", "input_clip_high", "input_clipped_low", "input.clip_high", NULL, "input_clipped",
                 NULL, 0);
        snprintf(x, xlen, "input_clipped");
    }
    free(v);
    free(mask);
}

/* Member k's layers and head from tensor x to `result`; node and value names
 * take the prefix (none for a plain net, whose names stay torch's). */
static int add_net(pb *graph, const char *path, const reel_nn_spec *spec, const reel_tensors *t, size_t k,
                   const char *prefix, const char *input, const char *result, reel_error *err)
{
    char x[64];
    snprintf(x, sizeof x, "%s", input);
    for (size_t l = 0; l < spec->n_layers; l++) {
        const reel_nn_layer *ly = &spec->layer[l];
        int m = ly->module_index, last = l + 1 == spec->n_layers;
        char wname[64], bname[64], out[64], node[64];
        member_tensor(wname, sizeof wname, k, m, "weight");
        member_tensor(bname, sizeof bname, k, m, "bias");
        const float *w = get_weights(path, t, wname, ly->out, ly->in, err);
        const float *b = w ? get_weights(path, t, bname, ly->out, 0, err) : NULL;
        if (!b)
            return -1;
        size_t wdims[2] = {ly->out, ly->in};
        add_initializer(graph, wname, 2, wdims, w);
        add_initializer(graph, bname, 1, &ly->out, b);
        /* Gemm: Y = X W^T + b, with W stored out x in as torch stores it. */
        snprintf(node, sizeof node, "%slinear_%d", prefix, m);
        if (last)
            snprintf(out, sizeof out, "%slogits", prefix);
        else
            snprintf(out, sizeof out, "%slinear_%d_out", prefix, m);
        add_node(graph, "Gemm", node, x, wname, bname, out, "transB", 1);
        snprintf(x, sizeof x, "%s", out);
        if (ly->act != REEL_ACT_NONE) {
            const char *op = ly->act == REEL_ACT_RELU ? "Relu" : "Tanh";
            snprintf(node, sizeof node, "%s%s_%d", prefix, reel_nn_act_name(ly->act), m + 1);
            snprintf(out, sizeof out, "%s%s_%d_out", prefix, reel_nn_act_name(ly->act), m + 1);
            add_node(graph, op, node, x, NULL, NULL, out, NULL, 0);
            snprintf(x, sizeof x, "%s", out);
        }
    }
    char head[64];
    snprintf(head, sizeof head, "%shead", prefix);
    if (spec->head == REEL_HEAD_SOFTMAX)
        add_node(graph, "Softmax", head, x, NULL, NULL, result, "axis", 1);
    else
        add_node(graph, "Sigmoid", head, x, NULL, NULL, result, NULL, 0);
    return 0;
}

static int build_graph(pb *graph, const char *path, const reel_model_file *mf, const reel_nn_spec *spec,
                       const input_transform *in, const reel_tensors *t, reel_error *err)
{
    size_t d = spec->d;
    pb_str(graph, GRAPH_NAME, mf->model.name);
    add_value_info(graph, GRAPH_INPUT, "features", d);
    add_value_info(graph, GRAPH_OUTPUT, "probabilities", spec->L);

    char x[32] = "features"; /* the tensor flowing through the graph */
    if (mf->model.kind->standardize) {
        /* reel's preprocessing standardises before the net sees the features. */
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
    if (in)
        add_input_transform(graph, in, x, sizeof x);
    size_t K = ensemble_size(mf->model.params);
    if (K == 1)
        return add_net(graph, path, spec, t, 0, "", x, "probabilities", err);
    /* An ensemble: each member's probabilities, added in member order, then
     * divided by K (reel sums them in double: the graph may differ by an ulp). */
    char sum[64] = "", part[64], pre[64], acc[64];
    for (size_t k = 0; k < K; k++) {
        snprintf(pre, sizeof pre, "m%zu_", k);
        snprintf(part, sizeof part, "m%zu_probabilities", k);
        if (add_net(graph, path, spec, t, k, pre, x, part, err))
            return -1;
        if (k == 0) {
            snprintf(sum, sizeof sum, "%s", part);
            continue;
        }
        snprintf(acc, sizeof acc, "sum_%zu", k);
        snprintf(pre, sizeof pre, "add_%zu", k);
        add_node(graph, "Add", pre, sum, part, NULL, acc, NULL, 0);
        snprintf(sum, sizeof sum, "%s", acc);
    }
    size_t L = spec->L;
    float *members = malloc((L ? L : 1) * sizeof *members); /* K per label */
    if (!members)
        return reel_fail(err, "out of memory");
    for (size_t c = 0; c < L; c++)
        members[c] = (float)K;
    add_initializer(graph, "ensemble.members", 1, &L, members);
    free(members);
    add_node(graph, "Div", "ensemble_mean", sum, "ensemble.members", NULL, "probabilities", NULL, 0);
    return 0;
}

int reel_export_onnx(const char *model_path, const char *out_path, reel_error *err)
{
    reel_model_file mf;
    if (reel_model_file_load(&mf, model_path, 1, err))
        return -1;
    if (!mf.model.kind->onnx) {
        reel_fail(err, "%s: onnx export supports the nets (box, u, mlp); model %s is a %s", model_path,
                  mf.model.name, mf.model.kind->name);
        reel_model_file_free(&mf);
        return -1;
    }
    reel_tensors t = {0};
    cJSON *raw = NULL;
    pb graph = {0}, model = {0}, opset = {0};
    input_transform in = {0};
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
    if (reel_nn_spec_from_params(spec, params, mf.pre.d, mf.model.L, &e)) {
        reel_fail(err, "%s: params: %s", model_path, e.msg);
        goto done;
    }
    const cJSON *kind_state = cJSON_GetObjectItemCaseSensitive(mf.meta, "kind_state");
    if (check_plain_net(model_path, spec, &t, params, kind_state, err))
        goto done;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(kind_state, "input");
    if (input && input_read(&in, input, mf.pre.d, &e)) {
        reel_fail(err, "%s: %s; onnx export only writes graphs that match reel predict exactly", model_path, e.msg);
        goto done;
    }
    if (build_graph(&graph, model_path, &mf, spec, input ? &in : NULL, &t, err))
        goto done;

    pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_str(&opset, 1, ""); /* the default domain, ai.onnx */
    pb_int(&opset, 2, ONNX_OPSET);
    pb_msg(&model, MODEL_OPSET_IMPORT, &opset);
    pb_str(&model, MODEL_PRODUCER_NAME, "reel");
    pb_str(&model, MODEL_PRODUCER_VERSION, REEL_VERSION);
    pb_msg(&model, MODEL_GRAPH, &graph);
    static const char *const props[] = {"model", "features", "labels", "thresholds", "decision"};
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
    input_free(&in);
    cJSON_Delete(raw);
    reel_tensors_free(&t);
    reel_model_file_free(&mf);
    return rc;
}
