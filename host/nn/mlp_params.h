/* The params of the "mlp" kind (models/box.json, models/u.json, ...),
 * decoded once per fit into the training options; the layer list, width
 * and head are read by reel_nn_spec_from_params (nn/spec.h). */
#ifndef REEL_MLP_PARAMS_H
#define REEL_MLP_PARAMS_H

#include <cjson/cJSON.h>

#include "nn/input.h"
#include "nn/train.h"

typedef struct {
    reel_nn_train_opts train; /* all but checkpoint and run, which the fit adds */
    reel_nn_input_mode input;
    long ensemble; /* members, each trained from its own seed; their probabilities are averaged */
    /* "members": "same-rows" (0: every member trains on the training rows
     * and early-stops on the validation rows) or "cross-fit" (1: the
     * training + validation rows fall into `ensemble` seeded folds, member
     * k trains on the others and early-stops on fold k, whose out-of-fold
     * probabilities the decision rule is chosen on; reel_mlp_folds) */
    int cross_fit;
    /* "pos_weight": none (null or absent), one number for every label, a
     * list of one per label, or "balanced" (per label, training negatives /
     * positives, at least 1 and at most 1000; 1 for a label without
     * positives) */
    enum { REEL_POSW_NONE, REEL_POSW_ALL, REEL_POSW_LIST, REEL_POSW_BALANCED } pos_mode;
    double pos_value;
    const cJSON *pos_list; /* borrowed from params */
} reel_mlp_params;

/* The per-label weights p asks for on labels Y (n x L), into w[0..L);
 * 0, or -1 with err set (a list of the wrong length). */
int reel_mlp_pos_weights(const reel_mlp_params *p, const uint8_t *Y, size_t n, size_t L, float *w, reel_error *err);

/* Member k's seed (member 0 takes the run's seed itself, so an ensemble of
 * one is the plain net). */
uint64_t reel_mlp_member_seed(uint64_t seed, long k);

/* The cross-fitted members' folds: each of n pooled rows (training, then
 * validation) gets a fold 0..K-1, sizes differing by at most one, shuffled
 * by the run's seed. fold holds n ints. */
int reel_mlp_folds(size_t n, long K, uint64_t seed, int *fold, reel_error *err);

/* Decodes and checks resolved params for L labels; seed is the run's, used
 * when params hold none. */
int reel_mlp_params_get(const cJSON *params, size_t L, uint64_t seed, reel_mlp_params *p, reel_error *err);

#endif
