/* A net as reel builds it: a stack of Linear layers, each followed by an
 * activation, then a final Linear(., L) and a head (sigmoid or softmax).
 *
 * All parameters live in one flat float32 buffer. The table of views says
 * where each layer's W (out x in, row-major, as torch stores it) and b
 * start, so AdamW, copies, saving and tests treat the net as one array:
 *   [W0 | b0 | W1 | b1 | ... | W_last | b_last]
 *
 * Saved tensors are named as torch's nn.Sequential state_dict names them:
 * every Linear and every activation module takes one index, "none" takes
 * none. box:  Linear=0 ReLU=1 Linear=2 ReLU=3 ... -> "0.weight", "2.weight"
 * U:    Linear=0 (none) Linear=1 ReLU=2 Linear=3 ... -> "0.weight", "1.weight", "3.weight" */
#ifndef REEL_NN_SPEC_H
#define REEL_NN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

#define REEL_NN_MAX_LAYERS 64

typedef enum { REEL_ACT_NONE, REEL_ACT_RELU, REEL_ACT_TANH } reel_nn_act;
typedef enum { REEL_HEAD_SIGMOID, REEL_HEAD_SOFTMAX } reel_nn_head;

typedef struct {
    size_t in, out;
    reel_nn_act act;    /* after this layer; the last layer's is always none */
    size_t w_off, b_off; /* views into the flat buffer */
    int module_index;   /* its index in the equivalent nn.Sequential */
} reel_nn_layer;

typedef struct {
    size_t d, L;
    size_t n_layers; /* Linear layers, including the final one */
    reel_nn_layer layer[REEL_NN_MAX_LAYERS];
    reel_nn_head head;
    size_t n_params;  /* length of the flat buffer */
    size_t max_width; /* largest in or out of any layer */
} reel_nn_spec;

/* Builds the spec from a "layers" list ([{"width": 64, "activation":
 * "relu"}, ...], the final Linear(., L) implicit) and a head name
 * ("sigmoid" | "softmax"). Errors name the bad entry. */
int reel_nn_spec_build(reel_nn_spec *s, const cJSON *layers, const char *head, size_t d, size_t L,
                       reel_error *err);

/* Builds the spec from an mlp's params: "layers", "head" and "width" (null
 * or absent: the widths as written; N: every hidden width scaled by
 * N / layers[0].width, rounded half up, at least 1, so the first hidden
 * layer is N wide and the shape is kept: box 64-...-64 -> N-...-N, U
 * 64-32-...-128-64 at N=32 -> 32-16-8-4-8-16-32-64-32). */
int reel_nn_spec_from_params(reel_nn_spec *s, const cJSON *params, size_t d, size_t L, reel_error *err);

/* The width a hidden layer of width w gets when the first is scaled from
 * first to width (the rule above). */
size_t reel_nn_scaled_width(size_t w, size_t first, size_t width);

/* Checks a layers list without d and L (for a kind's check function). */
int reel_nn_layers_check(const cJSON *layers, reel_error *err);

const char *reel_nn_act_name(reel_nn_act a);

/* PyTorch's default Linear init: W and b uniform in +-1/sqrt(in). Draws from
 * stream 0 of the seed (the shuffles use stream 1) in
 * buffer order (layer by layer, W row-major, then b), one double from
 * reel_rng per value, so a seed fixes every weight. */
void reel_nn_init_params(const reel_nn_spec *s, uint64_t seed, float *params);

#endif
