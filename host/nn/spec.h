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
 * U:    Linear=0 (none) Linear=1 ReLU=2 Linear=3 ... -> "0.weight", "1.weight", "3.weight"
 * A hidden layer's "dropout" (0 <= p < 1) adds a Dropout module after its
 * activation (and takes an index, as nn.Dropout does): in training each
 * output is kept with probability 1 - p and scaled by 1 / (1 - p), from a
 * mask that is a hash of (spec.seed, step, layer, row in batch, unit), so
 * the same bits at any thread count; predict uses every unit.
 *
 * The first entry may instead be a PLR numeric embedding ({"kind": "plr",
 * "frequencies": k, "sigma": s, "width": e}; Gorishniy et al., NeurIPS
 * 2022): per numeric column j, v = 2 pi c[j] x_j for k trainable
 * frequencies c[j] drawn from N(0, s), then ReLU(W_j [sin v, cos v] + b_j),
 * e values; the embeddings of the numeric columns in column order, then the
 * other columns (0/1 indicators, one-hot) passed through, feed the first
 * Linear. Module 0, tensors "0.frequencies" (n_num x k), "0.weight"
 * (n_num x e x 2k) and "0.bias" (n_num x e), at the start of the buffer.
 * Every backend has PLR and dropout (with the same masks), so
 * reel_nn_spec_cpu_only names none. */
#ifndef REEL_NN_SPEC_H
#define REEL_NN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

#define REEL_NN_MAX_LAYERS 64
#define REEL_NN_TWO_PI 6.283185307179586476925 /* PLR: v = 2 pi c x */

typedef enum { REEL_ACT_NONE, REEL_ACT_RELU, REEL_ACT_TANH } reel_nn_act;
typedef enum { REEL_HEAD_SIGMOID, REEL_HEAD_SOFTMAX } reel_nn_head;

typedef struct {
    size_t in, out;
    reel_nn_act act;    /* after this layer; the last layer's is always none */
    float dropout;      /* after the activation, in training (0: none; the last layer's is 0) */
    size_t w_off, b_off; /* views into the flat buffer */
    int module_index;   /* its index in the equivalent nn.Sequential */
} reel_nn_layer;

/* The PLR embedding (k = 0: none). */
typedef struct {
    size_t k, width; /* frequencies and embedding width per numeric column */
    double sigma;    /* the frequencies' init: N(0, sigma) */
    size_t n_num;    /* numeric columns (reel_nn_spec_set_numeric; at build, every column) */
    const uint8_t *numeric; /* d flags (NULL: every column), the caller's; read by the backend's create */
    size_t c_off, w_off, b_off;
} reel_nn_plr;

typedef struct {
    size_t d, L;
    reel_nn_plr plr;
    uint64_t seed;   /* the dropout masks' seed (set per net before create) */
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

/* Which of the d columns the PLR embedding takes (1: numeric; NULL:
 * every one), kept by pointer: the first Linear's input width and every
 * offset follow. No-op without PLR. */
void reel_nn_spec_set_numeric(reel_nn_spec *s, const uint8_t *numeric);

/* The name of a layer kind the device backends lack (none now), or
 * NULL when any backend trains the net. */
const char *reel_nn_spec_cpu_only(const reel_nn_spec *s);

/* The width a hidden layer of width w gets when the first is scaled from
 * first to width (the rule above). */
size_t reel_nn_scaled_width(size_t w, size_t first, size_t width);

/* Checks a layers list without d and L (for a kind's check function). */
int reel_nn_layers_check(const cJSON *layers, reel_error *err);

const char *reel_nn_act_name(reel_nn_act a);

/* PyTorch's default Linear init: W and b uniform in +-1/sqrt(in). Draws from
 * stream 0 of the seed (the shuffles use stream 1) in
 * buffer order (layer by layer, W row-major, then b), one double from
 * reel_rng per value, so a seed fixes every weight. The PLR block draws
 * from stream 2: its frequencies N(0, sigma) (Box-Muller, two uniforms
 * each), then W and b uniform in +-1/sqrt(2k). */
void reel_nn_init_params(const reel_nn_spec *s, uint64_t seed, float *params);

#endif
