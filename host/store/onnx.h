/* A net's model file (kind mlp: box, u, or any layer list) as an ONNX model,
 * written with reel's own small protobuf encoder (store/onnx_pb.h).
 *
 * By default the whole pipeline (store/onnx_pipeline.h): one input per raw
 * CSV column (float [N, 1], NaN missing; string [N, 1] for a one-hot
 * column), reel's preprocessing as nodes into "features", the net as below,
 * "probabilities" and "labels" (int64 [N, L] 0/1, the model's decision rule;
 * left out, with a metadata note, for the expected-F1 rules).
 *
 * With net_only, the graph takes "features": float [N, d], the features as reel's
 * preprocessing outputs them BEFORE standardisation (numeric values with
 * missing ones imputed, missing indicators, one-hot columns: the model
 * file's "features" list, in order), and gives "probabilities": float
 * [N, L] in the order of the model file's "labels":
 *
 *   Sub(mean) -> Div(scale)        when the kind takes standardised features
 *   -> the net's own input transform, when its kind state has one ("input":
 *      Where(log mask, Sign(x) * Log(Abs(x) + 1), x), Sub(center),
 *      Div(scale), Max/Min with the per-column clip bounds)
 *   -> per layer Gemm(transB=1) [+ Relu | Tanh]
 *   -> Sigmoid, or Softmax(axis=1) for the softmax head
 *
 * ModelProto ir_version 8, opset 17; the weights are float initializers
 * named as in the model file ("0.weight", "0.bias", ...). The graph's
 * metadata_props carry the model name and the feature, label and threshold
 * lists (JSON), so a consumer can name the outputs and apply the thresholds.
 *
 * A file whose tensors, params or kind state hold anything the layer list
 * and that transform do not explain (an input transform or a step of one that
 * this exporter does not know, say) is refused with a message naming it,
 * rather than exported as a graph that would not match `reel predict`. */
#ifndef REEL_ONNX_H
#define REEL_ONNX_H

#include "util/error.h"

#include <stddef.h>

/* What was written, for the caller to say. */
typedef struct {
    int whole;                            /* raw columns in (0: --net-only's "features") */
    size_t numeric_inputs, text_inputs;   /* the whole graph's inputs */
    int labels_output;                    /* a "labels" output */
    char note[400];                       /* why not, when the whole graph has none */
} reel_onnx_summary;

/* Reads the model file at model_path and writes the ONNX model atomically
 * to out_path (net_only: the net's graph alone). Errors name the file and
 * what is wrong. */
int reel_export_onnx(const char *model_path, const char *out_path, int net_only, reel_onnx_summary *sum,
                     reel_error *err);

#endif
