/* The ends of the whole-pipeline ONNX graph around the net: the raw columns
 * in, turned into the features reel's preprocessing makes, and the
 * decision rule's labels out. */
#ifndef REEL_STORE_ONNX_PIPELINE_H
#define REEL_STORE_ONNX_PIPELINE_H

#include <stddef.h>

#include "data/preprocess.h"
#include "data/target.h"
#include "io/tensors.h"
#include "models/decision_rule.h"
#include "store/model_file.h"
#include "store/onnx_pb.h"
#include "util/error.h"

/* One graph input per source column of pre's features, named as in the
 * CSV: float [N, 1] for a numeric column (NaN: missing), string [N, 1] for
 * a one-hot encoded one (a missing cell: "", "NA", "NaN", "null" or "n/a"),
 * and the nodes that make `out` [N, d] from them, imputed, with missing
 * indicators and one-hot columns, before standardisation. *numeric and
 * *text count the inputs. */
int reel_onnx_add_raw_inputs(reel_pb *graph, const reel_preproc *pre, const char *out, size_t *numeric,
                             size_t *text, reel_error *err);

/* An int64 [N, L] 0/1 output named `out` that decides from `prob` as
 * rule does: label k when P > cut k, and with at-least-one the most
 * probable label (the first of ties) of a row with none. Returns 0 and
 * writes nothing but why into note (size bytes) for a rule the graph
 * cannot express (expected-F1); 1 when written. */
int reel_onnx_add_decision(reel_pb *graph, const reel_decision *rule, const char *prob, const char *out,
                           char *note, size_t size);

/* A binary or multiclass model's class probabilities `prob` [N, K] from
 * its outputs `outs` [N, L] (data/target.h): binary [1 - p, p],
 * multiclass each row divided by its sum. */
void reel_onnx_add_classes(reel_pb *graph, reel_target_kind target, const char *outs, const char *prob);

/* Their int64 [N, K] one-hot `out`: binary class 1 when the rule puts its
 * output `outs` above the cut (0 with why in note for the expected-F1 rule),
 * multiclass the most probable class of `prob` (the first of ties). */
int reel_onnx_add_class_decision(reel_pb *graph, const reel_decision *rule, reel_target_kind target,
                                 const char *outs, const char *prob, const char *out, char *note, size_t size);

/* The ridge model (store/onnx_ridge.c): from the raw features `in` [N, d]
 * to the probabilities `out` [N, L], with t the model file's tensors. */
int reel_onnx_add_ridge(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_tensors *t,
                        const char *in, const char *out, reel_error *err);

/* The tree and forest models (store/onnx_trees.c), likewise: one
 * TreeEnsembleRegressor with a target per label. */
int reel_onnx_add_trees(reel_pb *graph, const char *path, const reel_model_file *mf, const reel_tensors *t,
                        const char *in, const char *out, reel_error *err);

#endif
