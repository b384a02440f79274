#include "store/onnx.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "nn/spec.h"
#include "store/model_file.h"
#include "store/onnx_pb.h"
#include "store/onnx_pipeline.h"
#include "util/fileio.h"
#include "util/outfile.h"

/* ---- what of the model file the graph can express ---- */

/* Params that only steer training, or whose effect the graph takes from
 * elsewhere: the layer list and head, and "input", the choice of input
 * transform, which the net keeps as fitted in its kind state. ("ema" only
 * decides which weights were saved: the averaged ones are the file's;
 * "members" which rows each member trained on: any ensemble predicts the
 * mean of its members.) */
static const char *const KNOWN_PARAMS[] = {"layers",   "head",     "threshold",  "lr",           "weight_decay",
                                           "beta1",    "beta2",    "eps",        "batch_size",   "epochs",
                                           "patience", "min_delta", "restore_best", "seed",      "input",
                                           "ema",      "patience_from", "width", "label_smoothing",
                                           "lr_schedule", "warmup_epochs", "ensemble", "pos_weight",
                                           "members", NULL};
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
static void add_input_transform(reel_pb *graph, const input_transform *in, char *x, size_t xlen)
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
        reel_onnx_init(graph, "input.one", 1, &d, v);
        reel_onnx_init_raw(graph, "input.log_mask", 1, &d, ONNX_BOOL, mask, d);
        reel_onnx_node(graph, "Abs", "input_abs", x, NULL, NULL, "input_abs_out", NULL, 0);
        reel_onnx_node(graph, "Add", "input_abs_plus_one", "input_abs_out", "input.one", NULL, "input_abs1_out", NULL, 0);
        reel_onnx_node(graph, "Log", "input_log1p", "input_abs1_out", NULL, NULL, "input_log1p_out", NULL, 0);
        reel_onnx_node(graph, "Sign", "input_sign", x, NULL, NULL, "input_sign_out", NULL, 0);
        reel_onnx_node(graph, "Mul", "input_signed_log1p", "input_sign_out", "input_log1p_out", NULL, "input_slog_out",
                 NULL, 0);
        reel_onnx_node(graph, "Where", "input_pick_log", "input.log_mask", "input_slog_out", x, "input_logged", NULL, 0);
        snprintf(x, xlen, "input_logged");
    }
    reel_onnx_init(graph, "input.center", 1, &d, in->center);
    reel_onnx_init(graph, "input.scale", 1, &d, in->scale);
    reel_onnx_node(graph, "Sub", "input_sub", x, "input.center", NULL, "input_centered", NULL, 0);
    reel_onnx_node(graph, "Div", "input_div", "input_centered", "input.scale", NULL, "input_z", NULL, 0);
    snprintf(x, xlen, "input_z");
    if (in->any_clip && in->smooth) { /* z / sqrt(1 + (z / c)^2) where clip[k] */
        for (size_t k = 0; k < d; k++) {
            v[k] = 1.0f;
            v[d + k] = (float)(1.0 / in->clip_at);
            mask[k] = in->clip[k];
        }
        reel_onnx_init(graph, "input.smooth_one", 1, &d, v);
        reel_onnx_init(graph, "input.smooth_inv_bound", 1, &d, v + d);
        reel_onnx_init_raw(graph, "input.smooth_mask", 1, &d, ONNX_BOOL, mask, d);
        reel_onnx_node(graph, "Mul", "input_smooth_scaled", x, "input.smooth_inv_bound", NULL, "input_smooth_t", NULL, 0);
        reel_onnx_node(graph, "Mul", "input_smooth_square", "input_smooth_t", "input_smooth_t", NULL, "input_smooth_t2",
                 NULL, 0);
        reel_onnx_node(graph, "Add", "input_smooth_plus_one", "input_smooth_t2", "input.smooth_one", NULL,
                 "input_smooth_t2p1", NULL, 0);
        reel_onnx_node(graph, "Sqrt", "input_smooth_sqrt", "input_smooth_t2p1", NULL, NULL, "input_smooth_den", NULL, 0);
        reel_onnx_node(graph, "Div", "input_smooth_div", x, "input_smooth_den", NULL, "input_smooth_out", NULL, 0);
        reel_onnx_node(graph, "Where", "input_pick_smooth", "input.smooth_mask", "input_smooth_out", x, "input_smoothed",
                 NULL, 0);
        snprintf(x, xlen, "input_smoothed");
    } else if (in->any_clip) {
        for (size_t k = 0; k < d; k++) {
            v[k] = in->clip[k] ? -(float)in->clip_at : -INFINITY;
            v[d + k] = in->clip[k] ? (float)in->clip_at : INFINITY;
        }
        reel_onnx_init(graph, "input.clip_low", 1, &d, v);
        reel_onnx_init(graph, "input.clip_high", 1, &d, v + d);
        reel_onnx_node(graph, "Max", "input_clip_low", x, "input.clip_low", NULL, "input_clipped_low", NULL, 0);
        reel_onnx_node(graph, "Min", "input_clip_high", "input_clipped_low", "input.clip_high", NULL, "input_clipped",
                 NULL, 0);
        snprintf(x, xlen, "input_clipped");
    }
    free(v);
    free(mask);
}

/* Member k's layers and head from tensor x to `result`; node and value names
 * take the prefix (none for a plain net, whose names stay torch's). */
static int add_net(reel_pb *graph, const char *path, const reel_nn_spec *spec, const reel_tensors *t, size_t k,
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
        reel_onnx_init(graph, wname, 2, wdims, w);
        reel_onnx_init(graph, bname, 1, &ly->out, b);
        /* Gemm: Y = X W^T + b, with W stored out x in as torch stores it. */
        snprintf(node, sizeof node, "%slinear_%d", prefix, m);
        if (last)
            snprintf(out, sizeof out, "%slogits", prefix);
        else
            snprintf(out, sizeof out, "%slinear_%d_out", prefix, m);
        reel_onnx_node(graph, "Gemm", node, x, wname, bname, out, "transB", 1);
        snprintf(x, sizeof x, "%s", out);
        if (ly->act != REEL_ACT_NONE) {
            const char *op = ly->act == REEL_ACT_RELU ? "Relu" : "Tanh";
            snprintf(node, sizeof node, "%s%s_%d", prefix, reel_nn_act_name(ly->act), m + 1);
            snprintf(out, sizeof out, "%s%s_%d_out", prefix, reel_nn_act_name(ly->act), m + 1);
            reel_onnx_node(graph, op, node, x, NULL, NULL, out, NULL, 0);
            snprintf(x, sizeof x, "%s", out);
        }
    }
    char head[64];
    snprintf(head, sizeof head, "%shead", prefix);
    if (spec->head == REEL_HEAD_SOFTMAX)
        reel_onnx_node(graph, "Softmax", head, x, NULL, NULL, result, "axis", 1);
    else
        reel_onnx_node(graph, "Sigmoid", head, x, NULL, NULL, result, NULL, 0);
    return 0;
}

/* From "features" to "probabilities": standardisation, the net's input
 * transform, the net or the ensemble's mean. */
static int build_net(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_nn_spec *spec,
                     const input_transform *in, const reel_tensors *t, const char *result, reel_error *err)
{
    size_t d = spec->d;
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
        reel_onnx_init(graph, "preprocess.mean", 1, &d, mean);
        reel_onnx_init(graph, "preprocess.scale", 1, &d, scale);
        free(mean);
        free(scale);
        reel_onnx_node(graph, "Sub", "standardize_sub", x, "preprocess.mean", NULL, "centered", NULL, 0);
        reel_onnx_node(graph, "Div", "standardize_div", "centered", "preprocess.scale", NULL, "standardized", NULL, 0);
        snprintf(x, sizeof x, "standardized");
    }
    if (in)
        add_input_transform(graph, in, x, sizeof x);
    size_t K = ensemble_size(mf->model.params);
    if (K == 1)
        return add_net(graph, path, spec, t, 0, "", x, result, err);
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
        reel_onnx_node(graph, "Add", pre, sum, part, NULL, acc, NULL, 0);
        snprintf(sum, sizeof sum, "%s", acc);
    }
    size_t L = spec->L;
    float *members = malloc((L ? L : 1) * sizeof *members); /* K per label */
    if (!members)
        return reel_fail(err, "out of memory");
    for (size_t c = 0; c < L; c++)
        members[c] = (float)K;
    reel_onnx_init(graph, "ensemble.members", 1, &L, members);
    free(members);
    reel_onnx_node(graph, "Div", "ensemble_mean", sum, "ensemble.members", NULL, result, NULL, 0);
    return 0;
}

/* {"column": "number" | "text", ...}: the whole graph's inputs, in order. */
static cJSON *raw_inputs_json(const reel_preproc *pre)
{
    cJSON *j = cJSON_CreateObject();
    for (size_t k = 0; k < pre->d; k++) {
        const reel_feature *f = &pre->f[k];
        int text = f->kind == REEL_FEAT_ONEHOT || f->kind == REEL_FEAT_OTHER;
        if (!cJSON_GetObjectItemCaseSensitive(j, f->source))
            cJSON_AddStringToObject(j, f->source, text ? "text" : "number");
        else if (text)
            cJSON_ReplaceItemInObjectCaseSensitive(j, f->source, cJSON_CreateString("text"));
    }
    return j;
}

/* The graph; with sum->whole, from the raw columns (else from "features")
 * and, when the rule allows, to "labels" as well as "probabilities". */
static int build_graph(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_nn_spec *spec,
                       const input_transform *in, const reel_tensors *t, reel_onnx_summary *sum, reel_error *err)
{
    size_t d = mf->pre.d, K = reel_model_columns(&mf->model);
    reel_target_kind target = mf->model.target;
    /* a binary or multiclass model's outputs become its class probabilities (data/target.h) */
    const char *outs = target == REEL_TARGET_MULTILABEL ? "probabilities" : "outputs";
    reel_pb_str(graph, GRAPH_NAME, mf->model.name);
    if (sum->whole) {
        if (reel_onnx_add_raw_inputs(graph, &mf->pre, "features", &sum->numeric_inputs, &sum->text_inputs, err))
            return reel_fail(err, "%s: %s", path, err->msg);
    } else {
        reel_onnx_value_info(graph, GRAPH_INPUT, "features", d);
    }
    reel_onnx_value_info(graph, GRAPH_OUTPUT, "probabilities", K);
    const char *kind = mf->model.kind->name;
    int rc = spec                        ? build_net(graph, path, mf, spec, in, t, outs, err)
             : strcmp(kind, "ridge") == 0 ? reel_onnx_add_ridge(graph, path, mf, t, "features", outs, err)
                                          : reel_onnx_add_trees(graph, path, mf, t, "features", outs, err);
    if (rc == 0 && target != REEL_TARGET_MULTILABEL)
        reel_onnx_add_classes(graph, target, outs, "probabilities");
    if (rc || !sum->whole)
        return rc;
    sum->labels_output = target == REEL_TARGET_MULTILABEL
                             ? reel_onnx_add_decision(graph, &mf->model.rule, "probabilities", "labels", sum->note,
                                                      sizeof sum->note)
                             : reel_onnx_add_class_decision(graph, &mf->model.rule, target, outs, "probabilities",
                                                            "labels", sum->note, sizeof sum->note);
    if (sum->labels_output)
        reel_onnx_value_info_typed(graph, GRAPH_OUTPUT, "labels", ONNX_INT64, K);
    return 0;
}

/* A net's graph: its layer list from the params, checked to be all the
 * file holds, and its input transform from the kind state. */
static int net_graph(reel_pb *graph, const char *model_path, const reel_model_file *mf, reel_nn_spec *spec,
                     input_transform *in, const reel_tensors *t, reel_onnx_summary *sum, reel_error *err)
{
    reel_error e;
    const cJSON *params = mf->model.params;
    if (reel_nn_spec_from_params(spec, params, mf->pre.d, mf->model.L, &e))
        return reel_fail(err, "%s: params: %s", model_path, e.msg);
    const cJSON *kind_state = cJSON_GetObjectItemCaseSensitive(mf->meta, "kind_state");
    /* the head it trained with (a multiclass target's softmax, whatever params say), as mlp's load reads it */
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(kind_state, "head");
    if (cJSON_IsString(head))
        spec->head = strcmp(head->valuestring, "softmax") == 0 ? REEL_HEAD_SOFTMAX : REEL_HEAD_SIGMOID;
    if (check_plain_net(model_path, spec, t, params, kind_state, err))
        return -1;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(kind_state, "input");
    if (input && input_read(in, input, mf->pre.d, &e))
        return reel_fail(err, "%s: %s; onnx export only writes graphs that match reel predict exactly", model_path,
                         e.msg);
    return build_graph(graph, model_path, mf, spec, input ? in : NULL, t, sum, err);
}

int reel_export_onnx(const char *model_path, const char *out_path, int net_only, reel_onnx_summary *sum,
                     reel_error *err)
{
    memset(sum, 0, sizeof *sum);
    sum->whole = !net_only;
    reel_model_file mf;
    if (reel_model_file_load(&mf, model_path, 1, err))
        return -1;
    /* the classical models written, as the whole pipeline only */
    const char *kind = mf.model.kind->name;
    int classical = !strcmp(kind, "ridge") || !strcmp(kind, "tree") || !strcmp(kind, "forest");
    if (!mf.model.kind->onnx && !(classical && !net_only)) {
        if (classical)
            reel_fail(err, "%s: --net-only is for the nets; a %s model exports as the whole pipeline", model_path,
                      kind);
        else
            reel_fail(err, "%s: onnx export supports the nets (box, u, mlp), ridge, tree and forest; model %s is a "
                      "%s, which it does not write (use --format json for its tensors)", model_path, mf.model.name,
                      kind);
        reel_model_file_free(&mf);
        return -1;
    }
    reel_tensors t = {0};
    cJSON *raw = NULL;
    reel_pb graph = {0}, model = {0}, opset = {0}, ml = {0};
    input_transform in = {0};
    reel_nn_spec *spec = malloc(sizeof *spec);
    int rc = -1;
    if (!spec) {
        reel_fail(err, "out of memory");
        goto done;
    }
    if (reel_safetensors_read(model_path, &t, &raw, err))
        goto done;
    if (classical ? build_graph(&graph, model_path, &mf, NULL, NULL, &t, sum, err)
              : net_graph(&graph, model_path, &mf, spec, &in, &t, sum, err))
        goto done;

    reel_pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    reel_pb_str(&opset, 1, ""); /* the default domain, ai.onnx */
    reel_pb_int(&opset, 2, ONNX_OPSET);
    reel_pb_msg(&model, MODEL_OPSET_IMPORT, &opset);
    if (sum->whole) { /* LabelEncoder, for the text columns */
        reel_pb_str(&ml, 1, "ai.onnx.ml");
        reel_pb_int(&ml, 2, ONNX_ML_OPSET);
        reel_pb_msg(&model, MODEL_OPSET_IMPORT, &ml);
    }
    reel_pb_str(&model, MODEL_PRODUCER_NAME, "reel");
    reel_pb_str(&model, MODEL_PRODUCER_VERSION, REEL_VERSION);
    reel_pb_msg(&model, MODEL_GRAPH, &graph);
    static const char *const props[] = {"model", "features", "labels", "thresholds", "decision", "target",
                                        "classes"};
    for (size_t k = 0; k < sizeof props / sizeof *props; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(mf.meta, props[k]);
        if (v)
            reel_onnx_metadata(&model, props[k], v);
    }
    if (sum->whole) {
        cJSON *graph_kind = cJSON_CreateString("whole pipeline: raw columns in; probabilities and labels out"),
              *inputs = raw_inputs_json(&mf.pre), *note = cJSON_CreateString(sum->note);
        reel_onnx_metadata(&model, "graph", graph_kind);
        reel_onnx_metadata(&model, "inputs", inputs);
        if (!sum->labels_output)
            reel_onnx_metadata(&model, "labels_output", note);
        cJSON_Delete(graph_kind);
        cJSON_Delete(inputs);
        cJSON_Delete(note);
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
    free(ml.p);
    free(spec);
    input_free(&in);
    cJSON_Delete(raw);
    reel_tensors_free(&t);
    reel_model_file_free(&mf);
    return rc;
}
