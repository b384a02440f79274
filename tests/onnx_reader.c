/* The protobuf reader and ONNX evaluator of onnx_reader.h. */
#include "onnx_reader.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"

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

onnx_model *read_onnx(const char *path)
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

void free_onnx(onnx_model *om)
{
    for (int i = 0; i < om->n_inits; i++)
        free(om->init[i].v);
    free(om);
}

int count_op(const onnx_model *om, const char *op)
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
float *run_onnx(const onnx_model *om, const float *X, size_t n, size_t d)
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
        } else if (!strcmp(nd->op, "Abs") || !strcmp(nd->op, "Log") || !strcmp(nd->op, "Sign") ||
                   !strcmp(nd->op, "Sqrt")) {
            y.v = malloc(rows * cols * sizeof(float));
            for (size_t i = 0; i < rows * cols; i++) {
                float u = a->v[i];
                y.v[i] = nd->op[0] == 'A' ? fabsf(u) : nd->op[0] == 'L' ? logf(u)
                         : nd->op[1] == 'q' ? sqrtf(u) : (float)((u > 0) - (u < 0));
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

