/* For the ONNX export tests: a small protobuf reader that reads back the
 * ONNX model reel writes (the graph, its initializers, inputs, outputs and
 * metadata), and an evaluator of the ops reel writes, as the ONNX spec
 * defines them, so that the graph can be run without onnxruntime. The
 * reader asserts (Criterion) that every message is well-formed. */
#ifndef REEL_TEST_ONNX_READER_H
#define REEL_TEST_ONNX_READER_H

#include <stddef.h>
#include <stdint.h>

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

/* The model at path (asserting it is well-formed); free with free_onnx. */
onnx_model *read_onnx(const char *path);
void free_onnx(onnx_model *om);
/* How many nodes run op. */
int count_op(const onnx_model *om, const char *op);
/* Runs the graph on X (n x d); returns "probabilities" (n x out_dim1, malloc'ed). */
float *run_onnx(const onnx_model *om, const float *X, size_t n, size_t d);

#endif
