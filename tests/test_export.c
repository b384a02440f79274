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

/* ---- a small protobuf reader (wire format: varint keys, four wire types) ---- */

typedef struct {
    const unsigned char *p;
    size_t n;
} span;

typedef struct {
    int field, wire;
    uint64_t v; /* varint or fixed value */
    span bytes; /* wire type 2 */
} pb_field;

static int read_varint(span m, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= m.n)
            return -1;
        unsigned char c = m.p[(*pos)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* The next field of message m at *pos: 1 read, 0 at the end, -1 malformed. */
static int pb_next(span m, size_t *pos, pb_field *f)
{
    if (*pos == m.n)
        return 0;
    uint64_t key, len;
    if (read_varint(m, pos, &key) || key >> 3 == 0)
        return -1;
    f->field = (int)(key >> 3);
    f->wire = (int)(key & 7);
    switch (f->wire) {
    case 0:
        return read_varint(m, pos, &f->v) ? -1 : 1;
    case 1:
    case 5: {
        size_t w = f->wire == 1 ? 8 : 4;
        if (m.n - *pos < w)
            return -1;
        f->v = 0;
        for (size_t k = 0; k < w; k++)
            f->v |= (uint64_t)m.p[*pos + k] << (8 * k);
        *pos += w;
        return 1;
    }
    case 2:
        if (read_varint(m, pos, &len) || len > m.n - *pos)
            return -1;
        f->bytes = (span){m.p + *pos, (size_t)len};
        *pos += len;
        return 1;
    default:
        return -1; /* groups: not in onnx.proto */
    }
}

/* Walks message m, asserting it is well-formed; calls fn for each field. */
#define FOR_FIELDS(m, f)                                                                                      \
    for (size_t pos_ = 0, more_ = 1; more_;)                                                                  \
        for (pb_field f; (more_ = (size_t)pb_next_checked(m, &pos_, &f)) != 0;)

static int pb_next_checked(span m, size_t *pos, pb_field *f)
{
    int r = pb_next(m, pos, f);
    cr_assert_geq(r, 0, "malformed protobuf at byte %zu of a %zu-byte message", *pos, m.n);
    return r;
}

static void str_of(span s, char *buf, size_t n)
{
    cr_assert_lt(s.n, n, "string of %zu bytes is longer than expected", s.n);
    memcpy(buf, s.p, s.n);
    buf[s.n] = '\0';
}

/* ---- the ONNX model as read back ---- */

enum { MAX_NODES = 64, MAX_VALUES = 160 };

typedef struct {
    char op[24], name[48], in[3][48], out[48], attr[3][16];
    int n_in, n_out, n_attr;
    int64_t attr_i[3];
    int attr_type[3];
} onnx_node;

typedef struct {
    char name[48];
    size_t rows, cols; /* a vector: cols = 0 */
    float *v;
} value;

typedef struct {
    int64_t ir_version, opset_version;
    int n_opset, opset_domain_empty;
    char producer[16];
    onnx_node node[MAX_NODES];
    int n_nodes;
    value init[MAX_VALUES];
    int n_inits;
    char in_name[48], out_name[48], in_dim0[8], out_dim0[8];
    int64_t in_dim1, out_dim1;
    int n_inputs, n_outputs;
    char labels_json[256];
} onnx_model;

/* ValueInfoProto of a float [N, w] tensor: name, and the dims. */
static void read_value_info(span m, char *name, char *dim0, int64_t *dim1)
{
    int dims = 0;
    FOR_FIELDS(m, f)
    {
        if (f.field == 1)
            str_of(f.bytes, name, 48);
        if (f.field != 2)
            continue;
        FOR_FIELDS(f.bytes, tt) /* TypeProto */
        {
            cr_assert_eq(tt.field, 1, "type is not a tensor_type");
            FOR_FIELDS(tt.bytes, tf) /* TypeProto.Tensor */
            {
                if (tf.field == 1)
                    cr_expect_eq(tf.v, 1, "%s: elem_type is not FLOAT", name);
                if (tf.field != 2)
                    continue;
                FOR_FIELDS(tf.bytes, sh) /* TensorShapeProto: dim */
                {
                    cr_assert_eq(sh.field, 1);
                    FOR_FIELDS(sh.bytes, dm)
                    {
                        if (dims == 0 && dm.field == 2)
                            str_of(dm.bytes, dim0, 8);
                        if (dims == 1 && dm.field == 1)
                            *dim1 = (int64_t)dm.v;
                    }
                    dims++;
                }
            }
        }
    }
    cr_expect_eq(dims, 2, "%s: rank %d, expected 2", name, dims);
}

static void read_node(span m, onnx_node *nd)
{
    memset(nd, 0, sizeof *nd);
    FOR_FIELDS(m, f)
    {
        switch (f.field) {
        case 1:
            cr_assert_lt(nd->n_in, 3);
            str_of(f.bytes, nd->in[nd->n_in++], 48);
            break;
        case 2:
            str_of(f.bytes, nd->out, 48);
            nd->n_out++;
            break;
        case 3:
            str_of(f.bytes, nd->name, 48);
            break;
        case 4:
            str_of(f.bytes, nd->op, 24);
            break;
        case 5:
            cr_assert_lt(nd->n_attr, 3);
            FOR_FIELDS(f.bytes, a)
            {
                if (a.field == 1)
                    str_of(a.bytes, nd->attr[nd->n_attr], 16);
                if (a.field == 3)
                    nd->attr_i[nd->n_attr] = (int64_t)a.v;
                if (a.field == 20)
                    nd->attr_type[nd->n_attr] = (int)a.v;
            }
            nd->n_attr++;
            break;
        }
    }
}

/* A FLOAT or BOOL (read as 0/1) initializer of rank 1 or 2. */
static void read_initializer(span m, value *x)
{
    memset(x, 0, sizeof *x);
    int ndim = 0;
    uint64_t type = 0;
    size_t dims[2] = {0, 0};
    span raw = {0};
    FOR_FIELDS(m, f)
    {
        if (f.field == 1) {
            cr_assert_lt(ndim, 2);
            dims[ndim++] = (size_t)f.v;
        } else if (f.field == 2) {
            type = f.v;
        } else if (f.field == 8) {
            str_of(f.bytes, x->name, 48);
        } else if (f.field == 9) {
            raw = f.bytes;
        }
    }
    cr_assert(type == 1 || type == 9, "%s: data_type %d is neither FLOAT nor BOOL", x->name, (int)type);
    cr_assert_geq(ndim, 1, "%s: rank 0", x->name);
    x->rows = dims[0];
    x->cols = ndim == 2 ? dims[1] : 0;
    size_t count = x->rows * (x->cols ? x->cols : 1), width = type == 1 ? 4 : 1;
    cr_assert_eq(raw.n, count * width, "%s: raw_data has %zu bytes for %zu values", x->name, raw.n, count);
    x->v = malloc(count * sizeof(float) + 1);
    for (size_t i = 0; i < count; i++) {
        if (type == 9) {
            cr_assert(raw.p[i] <= 1, "%s: a BOOL byte must be 0 or 1", x->name);
            x->v[i] = raw.p[i];
            continue;
        }
        uint32_t bits = (uint32_t)raw.p[4 * i] | (uint32_t)raw.p[4 * i + 1] << 8 | /* little-endian */
                        (uint32_t)raw.p[4 * i + 2] << 16 | (uint32_t)raw.p[4 * i + 3] << 24;
        memcpy(&x->v[i], &bits, 4);
    }
}

static onnx_model *read_onnx(const char *path)
{
    size_t len;
    unsigned char *buf = (unsigned char *)reel_read_file(path, &len, NULL);
    cr_assert_not_null(buf, "%s: not written", path);
    onnx_model *om = calloc(1, sizeof *om);
    span model = {buf, len};
    FOR_FIELDS(model, f)
    {
        if (f.field == 1) { /* ir_version */
            om->ir_version = (int64_t)f.v;
        } else if (f.field == 2) {
            str_of(f.bytes, om->producer, sizeof om->producer);
        } else if (f.field == 8) { /* opset_import */
            om->n_opset++;
            FOR_FIELDS(f.bytes, o)
            {
                if (o.field == 1)
                    om->opset_domain_empty = o.bytes.n == 0;
                if (o.field == 2)
                    om->opset_version = (int64_t)o.v;
            }
        } else if (f.field == 14) { /* metadata_props */
            char key[32] = "";
            span v = {0};
            FOR_FIELDS(f.bytes, kv)
            {
                if (kv.field == 1)
                    str_of(kv.bytes, key, sizeof key);
                if (kv.field == 2)
                    v = kv.bytes;
            }
            if (!strcmp(key, "labels"))
                str_of(v, om->labels_json, sizeof om->labels_json);
        } else if (f.field == 7) { /* graph */
            FOR_FIELDS(f.bytes, g)
            {
                if (g.field == 1) {
                    cr_assert_lt(om->n_nodes, MAX_NODES);
                    read_node(g.bytes, &om->node[om->n_nodes++]);
                } else if (g.field == 5) {
                    cr_assert_lt(om->n_inits, MAX_VALUES);
                    read_initializer(g.bytes, &om->init[om->n_inits++]);
                } else if (g.field == 11) {
                    om->n_inputs++;
                    read_value_info(g.bytes, om->in_name, om->in_dim0, &om->in_dim1);
                } else if (g.field == 12) {
                    om->n_outputs++;
                    read_value_info(g.bytes, om->out_name, om->out_dim0, &om->out_dim1);
                }
            }
        }
    }
    free(buf);
    return om;
}

static void free_onnx(onnx_model *om)
{
    for (int i = 0; i < om->n_inits; i++)
        free(om->init[i].v);
    free(om);
}

static int count_op(const onnx_model *om, const char *op)
{
    int n = 0;
    for (int i = 0; i < om->n_nodes; i++)
        n += strcmp(om->node[i].op, op) == 0;
    return n;
}

/* ---- a small evaluator of the ops reel writes, as the ONNX spec defines them ---- */

static value *find_value(value *vals, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(vals[i].name, name) == 0)
            return &vals[i];
    cr_assert_fail("graph uses '%s' before any node or initializer defines it", name);
    return NULL;
}

/* Runs the graph on X (n x d); returns "probabilities" (n x out_dim1, malloc'ed). */
static float *run_onnx(const onnx_model *om, const float *X, size_t n, size_t d)
{
    value vals[MAX_VALUES + MAX_NODES + 1];
    int nv = 0;
    for (int i = 0; i < om->n_inits; i++)
        vals[nv++] = om->init[i]; /* borrowed */
    int owned_from = nv;
    vals[nv] = (value){.rows = n, .cols = d, .v = malloc(n * d * sizeof(float))};
    snprintf(vals[nv].name, sizeof vals[nv].name, "%s", om->in_name);
    memcpy(vals[nv++].v, X, n * d * sizeof(float));
    for (int k = 0; k < om->n_nodes; k++) {
        const onnx_node *nd = &om->node[k];
        const value *a = find_value(vals, nv, nd->in[0]);
        cr_assert(a->cols || !strcmp(nd->op, "Where"), "%s: first input must be a matrix", nd->name);
        value y = {.rows = a->rows, .cols = a->cols};
        snprintf(y.name, sizeof y.name, "%s", nd->out);
        size_t rows = a->rows, cols = a->cols;
        static const char *const binary[] = {"Sub", "Div", "Add", "Mul", "Max", "Min"};
        int op = -1;
        for (int q = 0; q < 6; q++)
            if (!strcmp(nd->op, binary[q]))
                op = q;
        if (op >= 0) {
            /* Matrix (op) matrix of the same shape, or (op) a vector broadcast along the rows. */
            const value *b = find_value(vals, nv, nd->in[1]);
            int same = b->rows == rows && b->cols == cols;
            cr_assert(same || (b->cols == 0 && b->rows == cols), "%s: shapes do not broadcast", nd->name);
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows * cols; i++) {
                float u = a->v[i], w = b->v[same ? i : i % cols];
                y.v[i] = op == 0 ? u - w : op == 1 ? u / w : op == 2 ? u + w : op == 3 ? u * w
                         : op == 4 ? fmaxf(u, w) : fminf(u, w);
            }
        } else if (!strcmp(nd->op, "Abs") || !strcmp(nd->op, "Log") || !strcmp(nd->op, "Sign")) {
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows * cols; i++) {
                float u = a->v[i];
                y.v[i] = nd->op[0] == 'A' ? fabsf(u) : nd->op[0] == 'L' ? logf(u) : (float)((u > 0) - (u < 0));
            }
        } else if (!strcmp(nd->op, "Where")) {
            /* Where(condition: a bool vector over the columns, X, Y): X where true, else Y. */
            const value *xv = find_value(vals, nv, nd->in[1]), *yv = find_value(vals, nv, nd->in[2]);
            cr_assert(a->cols == 0 && xv->cols && xv->rows == yv->rows && xv->cols == yv->cols &&
                          a->rows == xv->cols,
                      "%s: Where(mask [d], X [N, d], Y [N, d]) expected", nd->name);
            y.rows = rows = xv->rows;
            y.cols = cols = xv->cols;
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows * cols; i++)
                y.v[i] = a->v[i % cols] != 0 ? xv->v[i] : yv->v[i];
        } else if (!strcmp(nd->op, "Gemm")) {
            const value *w = find_value(vals, nv, nd->in[1]), *c = find_value(vals, nv, nd->in[2]);
            cr_assert(nd->n_attr == 1 && !strcmp(nd->attr[0], "transB") && nd->attr_i[0] == 1 &&
                          nd->attr_type[0] == 2,
                      "%s: Gemm needs transB=1 (an INT attribute)", nd->name);
            cr_assert(w->cols == cols && c->cols == 0 && c->rows == w->rows, "%s: shapes", nd->name);
            y.cols = w->rows;
            y.v = malloc(rows * y.cols * sizeof(float));
            for (size_t i = 0; i < rows; i++)
                for (size_t o = 0; o < y.cols; o++) {
                    double s = c->v[o];
                    for (size_t j = 0; j < cols; j++)
                        s += (double)a->v[i * cols + j] * w->v[o * cols + j];
                    y.v[i * y.cols + o] = (float)s;
                }
        } else if (!strcmp(nd->op, "Relu") || !strcmp(nd->op, "Tanh") || !strcmp(nd->op, "Sigmoid")) {
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows * cols; i++) {
                float x = a->v[i];
                y.v[i] = nd->op[0] == 'R' ? (x > 0 ? x : 0)
                         : nd->op[0] == 'T' ? tanhf(x)
                                            : (float)(1.0 / (1.0 + exp(-(double)x)));
            }
        } else if (!strcmp(nd->op, "Softmax")) {
            cr_assert(nd->n_attr == 1 && !strcmp(nd->attr[0], "axis") && nd->attr_i[0] == 1,
                      "%s: Softmax needs axis=1", nd->name);
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows; i++) {
                double mx = a->v[i * cols], s = 0;
                for (size_t j = 1; j < cols; j++)
                    mx = fmax(mx, a->v[i * cols + j]);
                for (size_t j = 0; j < cols; j++)
                    s += exp(a->v[i * cols + j] - mx);
                for (size_t j = 0; j < cols; j++)
                    y.v[i * cols + j] = (float)(exp(a->v[i * cols + j] - mx) / s);
            }
        } else {
            cr_assert_fail("%s: op %s is not one reel writes", nd->name, nd->op);
        }
        vals[nv++] = y;
    }
    value *p = find_value(vals, nv, om->out_name);
    float *P = malloc(p->rows * p->cols * sizeof(float));
    memcpy(P, p->v, p->rows * p->cols * sizeof(float));
    for (int i = owned_from; i < nv; i++)
        free(vals[i].v);
    return P;
}

/* ---- ONNX tests ---- */

static const char *export_onnx(const char *model_path)
{
    const char *out = tmp_path("model.onnx");
    char args[1024], *o = NULL, *e = NULL;
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", model_path, out);
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
 * Sign, Mul, Where) and two for the clip (Max, Min) when any column takes them. */
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
        nodes += 2 + 6 * any_log + 2 * any_clip;
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
    /* box: 8 hidden Linear+ReLU, the output Linear, sigmoid. */
    cr_expect_eq(count_op(om, "Gemm"), 8 + 1);
    cr_expect_eq(count_op(om, "Relu"), 8);
    cr_expect_eq(count_op(om, "Sigmoid"), 1);
    cr_expect_eq(count_op(om, "Sub"), 1, "one standardisation");
    cr_expect_eq(count_op(om, "Div"), 1);
    cr_expect_eq(om->n_nodes, extra + 9 + 8 + 1);
    const value *w0 = find_init(om, "0.weight"), *w2 = find_init(om, "2.weight"), *w16 = find_init(om, "16.weight");
    cr_assert(w0 && w2 && w16, "Linear weights named by module index (ReLU takes index 1)");
    cr_expect(w0->rows == 64 && w0->cols == d);
    cr_expect(w16->rows == 3 && w16->cols == 64);
    cr_expect_null(find_init(om, "1.weight"));
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
    /* U: Linear(d,64) without activation, 8 Linear+ReLU, the output Linear. */
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
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", tree, out);
    expect_export_error(args, 1, "onnx export supports the nets (box, u, mlp); model tree is a tree", out);

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
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", bad, out);
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
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", a, out);
    /* the model-file loader refuses a tensor the model does not have, for either format */
    expect_export_error(args, 1, "tensor 'input_transform.log_mask' is not part of a mlp model", out);
    snprintf(args, sizeof args, "export --model-file %s --format json --out %s", a, tmp_path("extra.json"));
    expect_export_error(args, 1, "tensor 'input_transform.log_mask' is not part of a mlp model",
                        tmp_path("extra.json"));

    const char *b = with_extra(box, NULL, "input_transform");
    snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", b, out);
    expect_export_error(args, 1, "kind_state holds 'input_transform'", out);

    /* A known transform with a step this exporter does not know, or malformed. */
    const char *edits[][2] = {{"power", "2"}, {"log", "[1]"}, {"clip_at", "-1"}, {"mode", "\"quantile\""}};
    /* (the malformed ones may be caught by the mlp kind's own loader first) */
    const char *expect[] = {"kind_state.input holds 'power'", "must be a list of 8 numbers",
                            "must be a number > 0", "must be \"auto\" or \"standard\""};
    for (size_t k = 0; k < 4; k++) {
        const char *c = edit_input(export_with_input_transform(box), edits[k][0], edits[k][1]);
        snprintf(args, sizeof args, "export --model-file %s --format onnx --out %s", c, out);
        expect_export_error(args, 1, expect[k], out);
    }
}
