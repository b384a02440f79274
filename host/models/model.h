/* The one model interface. Every model kind (baselines, tree, forest, knn,
 * ridge, mlp) fills a reel_model_kind; commands speak to models only
 * through reel_model_* below. A model definition (models/<name>.json) names
 * its kind, parameter spec, defaults and search grid; "box" and "u" are two
 * definitions of the one kind "mlp". */
#ifndef REEL_MODEL_H
#define REEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "data/target.h"
#include "io/tensors.h"
#include "models/decision_rule.h"
#include "util/error.h"
#include "util/log.h"

/* Everything a fit may use. X matrices are row-major float32, standardised
 * when the kind asked for it; Y are 0/1 bytes. */
typedef struct {
    size_t d, L;
    char *const *feature_names; /* d */
    char *const *label_names;   /* L */
    const float *X;             /* training rows: n x d */
    const uint8_t *Y;           /* n x L */
    size_t n;
    const float *Xv;            /* validation rows (nv may be 0) */
    const uint8_t *Yv;
    size_t nv;
    uint64_t seed;
    int threads;         /* >= 1 */
    const reel_log *log; /* messages and progress (NULL: none) */
    const char *device;  /* "auto", "cpu" or "gpu" */
    const char *out_dir; /* where a kind may write extra files (history.csv); may be NULL */
    const char *name;    /* model name for messages */
    const char *checkpoint; /* nets: training state file, written each epoch and resumed from (may be NULL) */
    /* The target (data/target.h): multilabel unless set; a multiclass Y
     * is one-hot (each row one 1), a binary one L = 1 column. */
    reel_target_kind target;
    size_t K;                  /* classes (binary, multiclass) */
    char *const *classes;      /* K */
} reel_fit_ctx;

/* Per-epoch history of an iterative model (nets): NaN where there was no
 * validation split. */
typedef struct {
    size_t epochs;
    double *train_loss, *valid_loss, *valid_f1; /* epochs each */
    char *csv; /* history_<name>.csv as written (NULL when not kept) */
    long kept_epoch;  /* 1-based: the epoch whose weights the model keeps (0: not known) */
    int kept_average; /* those are the moving average of the weights */
} reel_history;

void reel_history_add(reel_history *h, double train_loss, double valid_loss, double valid_f1);
void reel_history_free(reel_history *h);

typedef struct reel_model_kind {
    const char *name;
    int standardize; /* wants standardised features */
    /* What the commands may do with it, so that none tests a kind's name. */
    int resumable;   /* fit keeps and resumes from ctx->checkpoint */
    int onnx;        /* store/onnx.c can write it as an ONNX graph */
    int is_baseline; /* a baseline (random, prior): the report marks it */
    /* Cross-key checks beyond the spec (may be NULL). */
    int (*check)(const cJSON *params, reel_error *err);
    /* Trains and returns the model's state, or NULL with err set. */
    void *(*fit)(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err);
    /* Optional (NULL: fit one by one): K fits of this kind at once, each
     * state (states[i]) as fit would return it, the same bits. The nets on a
     * device train in one launch per epoch; shared[i] (when not NULL) is
     * how many fits trained in fit i's launch (0: it trained alone). The
     * first failure fails them all. */
    int (*fit_many)(const cJSON *const *params, const reel_fit_ctx *const *ctx, size_t K, void **states,
                    size_t *shared, reel_error *err);
    /* Optional: whether fit_many trains together on this --device (NULL or
     * 0: run fits side by side on threads instead); params: the model's
     * resolved params, or NULL to ask of the device alone. */
    int (*fits_together)(const cJSON *params, const char *device);
    /* P (n x L) = probability of each label. */
    int (*predict_proba)(const void *state, const float *X, size_t n, float *P, reel_error *err);
    /* State to named tensors (+ extra metadata keys in meta). */
    int (*save)(const void *state, reel_tensors *out, cJSON *meta, reel_error *err);
    /* The saved state back, predicting on `threads` threads (>= 1). */
    void *(*load)(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in, const cJSON *meta,
                  reel_error *err);
    void (*free)(void *state);
    /* Where it ran ("cpu", "gpu: NAME"); NULL: always "cpu". */
    const char *(*device)(const void *state);
    /* The decision threshold when params hold no number under "threshold"
     * (may be NULL: 0.5). Ridge's softmax output uses it for 0.03. */
    float (*default_threshold)(const cJSON *params, size_t L);
    /* The training history (may be NULL: not an iterative model). */
    const reel_history *(*history)(const void *state);
    /* Optional (NULL: none): out-of-fold probabilities the fit kept for
     * choosing the decision rule (a cross-fitted ensemble, nn/mlp.c): *n
     * rows x L, the fit's training rows then its validation rows in their
     * order, each predicted by a member that did not train on it; NULL
     * when this fit kept none. */
    const float *(*oof_proba)(const void *state, size_t *n);
    /* One line on what params build for d features and L labels, for
     * `reel info` (may be NULL: nothing beyond the params). Returns 0 when
     * buf holds one. */
    int (*describe)(const cJSON *params, size_t d, size_t L, char *buf, size_t n);
} reel_model_kind;

typedef struct {
    const reel_model_kind *kind;
    char *name;       /* definition name: "tree", "box" */
    cJSON *params;    /* resolved: defaults overlaid with the user's */
    void *state;      /* NULL until fitted or loaded */
    size_t d, L;
    float *threshold; /* L: the model's own thresholds (params, or its kind's default) */
    reel_decision rule; /* how P becomes labels: the threshold rule on `threshold` until one is chosen */
    reel_target_kind target; /* what it was trained on (data/target.h) */
    size_t K;                /* classes of a binary or multiclass target */
    char **classes;          /* K (NULL for multilabel) */
    const reel_log *progress; /* where a long predict reports progress (NULL: nowhere); set only while
                                 the log outlives the calls */
} reel_model;

/* Names of every model definition, NULL-terminated (static storage). */
const char *const *reel_model_names(void);
/* The parsed definition (owned by the registry), or NULL. */
const cJSON *reel_model_def(const char *name);
/* A comma-separated list of the model names, for messages (static). */
const char *reel_model_name_list(void);

/* Adds definition `def` (taken over) under `name`, replacing one of the
 * same name; the caller has checked it (cli/model_dirs.c). */
int reel_model_add_def(const char *name, cJSON *def, reel_error *err);
/* The kind of definition `name`, or NULL. */
const reel_model_kind *reel_model_def_kind(const char *name);

/* Resolves params for model `name` (user may be NULL). */
int reel_model_init(reel_model *m, const char *name, const cJSON *user_params, reel_error *err);
int reel_model_fit(reel_model *m, const reel_fit_ctx *ctx, reel_error *err);
/* As reel_model_fit, with a state the kind's fit made elsewhere (taken
 * over, freed on failure): ridge fits sharing their normal equations. */
int reel_model_adopt(reel_model *m, size_t d, size_t L, void *state, reel_error *err);
/* K models of one kind fitted at once (reel_model_kind.fit_many; without
 * it, one by one); shared as there (may be NULL). */
int reel_model_fit_many(reel_model *const *m, const reel_fit_ctx *const *ctx, size_t K, size_t *shared,
                        reel_error *err);
/* Whether fits of model `name` (of these resolved params; NULL: any) on
 * `device` train together (fits_together), unless REEL_NETS_ALONE=1 (for
 * comparisons) says one at a time. */
int reel_model_fits_together(const char *name, const cJSON *params, const char *device);
int reel_model_predict_proba(const reel_model *m, const float *X, size_t n, float *P, reel_error *err);
/* Sets the model's target (classes copied; NULL for multilabel). */
int reel_model_set_target(reel_model *m, reel_target_kind target, size_t K, char *const *classes, reel_error *err);
/* Columns of the model's class probabilities (reel_target_columns). */
size_t reel_model_columns(const reel_model *m);
const char *reel_model_device(const reel_model *m);
/* The fitted model's out-of-fold probabilities (reel_model_kind.oof_proba:
 * *n rows, training then validation), or NULL when it kept none. */
const float *reel_model_oof(const reel_model *m, size_t *n);
void reel_model_free(reel_model *m);

/* The kind registry (models/registry.c). */
const reel_model_kind *reel_kind_find(const char *name);

#endif
