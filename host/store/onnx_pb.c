#include "store/onnx_pb.h"

#include <stdlib.h>
#include <string.h>

/* ---- a minimal protobuf encoder ----
 * A message is a sequence of fields, each a key (field number << 3 | wire
 * type) then the value: wire type 0 a varint, 2 a length then bytes (strings,
 * bytes, nested messages), 5 four little-endian bytes. Nested messages are
 * built in their own buffer, then embedded with their length. */

void reel_pb_raw(reel_pb *b, const void *data, size_t len)
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

void reel_pb_varint(reel_pb *b, uint64_t v)
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
    reel_pb_raw(b, out, n);
}

void reel_pb_key(reel_pb *b, int field, int wire) { reel_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

/* int32/int64/enum fields: a negative value takes ten bytes, as protobuf encodes it. */
void reel_pb_int(reel_pb *b, int field, int64_t v)
{
    reel_pb_key(b, field, WIRE_VARINT);
    reel_pb_varint(b, (uint64_t)v);
}

void reel_pb_float(reel_pb *b, int field, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    unsigned char le[4] = {(unsigned char)bits, (unsigned char)(bits >> 8), (unsigned char)(bits >> 16),
                           (unsigned char)(bits >> 24)};
    reel_pb_key(b, field, WIRE_FIXED32);
    reel_pb_raw(b, le, 4);
}

void reel_pb_bytes(reel_pb *b, int field, const void *data, size_t len)
{
    reel_pb_key(b, field, WIRE_LEN);
    reel_pb_varint(b, len);
    reel_pb_raw(b, data, len);
}

void reel_pb_str(reel_pb *b, int field, const char *s) { reel_pb_bytes(b, field, s, strlen(s)); }

/* Embeds sub as field `field` of b and frees sub. */
void reel_pb_msg(reel_pb *b, int field, reel_pb *sub)
{
    if (sub->oom)
        b->oom = 1;
    else
        reel_pb_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* ---- ONNX messages (field numbers from onnx.proto) ---- */

static void add_attr(reel_pb *node, const reel_onnx_attr *a)
{
    reel_pb m = {0};
    reel_pb_str(&m, ATTRIBUTE_NAME, a->name);
    for (size_t k = 0; k < a->count; k++) {
        if (a->type == ATTR_INTS)
            reel_pb_int(&m, ATTRIBUTE_INTS, a->ints[k]);
        else if (a->type == ATTR_FLOATS)
            reel_pb_float(&m, ATTRIBUTE_FLOATS, a->floats[k]);
        else if (a->type == ATTR_STRINGS)
            reel_pb_str(&m, ATTRIBUTE_STRINGS, a->strings[k]);
    }
    if (a->type == ATTR_INT)
        reel_pb_int(&m, ATTRIBUTE_I, a->i);
    else if (a->type == ATTR_FLOAT)
        reel_pb_float(&m, ATTRIBUTE_F, a->f);
    else if (a->type == ATTR_STRING)
        reel_pb_str(&m, ATTRIBUTE_S, a->s);
    reel_pb_int(&m, ATTRIBUTE_TYPE, a->type);
    reel_pb_msg(node, NODE_ATTRIBUTE, &m);
}

void reel_onnx_node_ex(reel_pb *graph, const char *domain, const char *op, const char *name, const char *const *in,
                       size_t n_in, const char *out, const reel_onnx_attr *attrs, size_t n_attrs)
{
    reel_pb node = {0};
    for (size_t k = 0; k < n_in; k++)
        reel_pb_str(&node, NODE_INPUT, in[k]);
    reel_pb_str(&node, NODE_OUTPUT, out);
    reel_pb_str(&node, NODE_NAME, name);
    reel_pb_str(&node, NODE_OP_TYPE, op);
    for (size_t k = 0; k < n_attrs; k++)
        add_attr(&node, &attrs[k]);
    if (domain)
        reel_pb_str(&node, NODE_DOMAIN, domain);
    reel_pb_msg(graph, GRAPH_NODE, &node);
}

void reel_onnx_node(reel_pb *graph, const char *op, const char *name, const char *in0, const char *in1,
                    const char *in2, const char *out, const char *attr, int64_t attr_value)
{
    const char *in[3] = {in0, in1, in2};
    size_t n_in = 0;
    while (n_in < 3 && in[n_in])
        n_in++;
    reel_onnx_attr a = {.name = attr, .type = ATTR_INT, .i = attr_value};
    reel_onnx_node_ex(graph, NULL, op, name, in, n_in, out, &a, attr ? 1 : 0);
}

/* An initializer of `count` elements; raw_data holds their bytes, little-endian. */
void reel_onnx_init_raw(reel_pb *graph, const char *name, int ndim, const size_t *dims, int data_type,
                        const unsigned char *raw, size_t nbytes)
{
    reel_pb t = {0};
    for (int k = 0; k < ndim; k++)
        reel_pb_int(&t, TENSOR_DIMS, (int64_t)dims[k]);
    reel_pb_int(&t, TENSOR_DATA_TYPE, data_type);
    reel_pb_str(&t, TENSOR_NAME, name);
    reel_pb_bytes(&t, TENSOR_RAW_DATA, raw, nbytes);
    reel_pb_msg(graph, GRAPH_INITIALIZER, &t);
}

void reel_onnx_init(reel_pb *graph, const char *name, int ndim, const size_t *dims, const float *v)
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
    reel_onnx_init_raw(graph, name, ndim, dims, ONNX_FLOAT, le, count * 4);
    free(le);
}

/* count 8-byte values as little-endian bytes (the int64 and float64 initializers). */
static void init_8byte(reel_pb *graph, const char *name, int ndim, const size_t *dims, int data_type,
                       const void *v)
{
    size_t count = 1;
    for (int k = 0; k < ndim; k++)
        count *= dims[k];
    unsigned char *le = malloc(count * 8 + 1);
    if (!le) {
        graph->oom = 1;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t bits;
        memcpy(&bits, (const unsigned char *)v + 8 * i, 8);
        for (int b = 0; b < 8; b++)
            le[8 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
    reel_onnx_init_raw(graph, name, ndim, dims, data_type, le, count * 8);
    free(le);
}

void reel_onnx_init_i64(reel_pb *graph, const char *name, int ndim, const size_t *dims, const int64_t *v)
{
    init_8byte(graph, name, ndim, dims, ONNX_INT64, v);
}

void reel_onnx_init_f64(reel_pb *graph, const char *name, int ndim, const size_t *dims, const double *v)
{
    init_8byte(graph, name, ndim, dims, ONNX_DOUBLE, v);
}

/* {name, type: {tensor_type: {elem_type, shape: {dim: [{dim_param}, {dim_value}]}}}} */
void reel_onnx_value_info_typed(reel_pb *graph, int field, const char *name, int elem_type, size_t width)
{
    reel_pb batch = {0}, cols = {0}, shape = {0}, tensor = {0}, type = {0}, vi = {0};
    reel_pb_str(&batch, 2, "N");
    reel_pb_int(&cols, 1, (int64_t)width);
    reel_pb_msg(&shape, 1, &batch);
    reel_pb_msg(&shape, 1, &cols);
    reel_pb_int(&tensor, 1, elem_type);
    reel_pb_msg(&tensor, 2, &shape);
    reel_pb_msg(&type, 1, &tensor);
    reel_pb_str(&vi, 1, name);
    reel_pb_msg(&vi, 2, &type);
    reel_pb_msg(graph, field, &vi);
}

void reel_onnx_value_info(reel_pb *graph, int field, const char *name, size_t width)
{
    reel_onnx_value_info_typed(graph, field, name, ONNX_FLOAT, width);
}

void reel_onnx_metadata(reel_pb *model, const char *key, const cJSON *value)
{
    char *s = cJSON_IsString(value) ? NULL : cJSON_PrintUnformatted(value);
    reel_pb e = {0};
    reel_pb_str(&e, 1, key);
    reel_pb_str(&e, 2, cJSON_IsString(value) ? value->valuestring : (s ? s : "null"));
    reel_pb_msg(model, MODEL_METADATA_PROPS, &e);
    cJSON_free(s);
}
