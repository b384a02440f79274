/* The knn kind: scikit-learn's KNeighborsClassifier, one vote per label.
 *
 * Fitting keeps a copy of the training rows; predicting finds each row's k
 * nearest training rows (classical/knn_search.c) and gives label l the
 * probability
 *   uniform:  the fraction of the k neighbours having l;
 *   distance: the share of weight 1/dist carried by neighbours having l,
 *             except that when some neighbours are at distance 0 those take
 *             all the weight (one each), as scikit-learn does.
 * "kd_tree" is accepted and answers exactly as brute force does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/knn_search.h"
#include "models/model.h"
#include "models/params.h"
#include "util/interrupt.h"

typedef struct {
    size_t n, d, L, k;
    int by_distance; /* weights "distance" */
    int threads;
    float *X;   /* n x d training rows */
    uint8_t *Y; /* n x L */
    reel_knn_index index;
} knn_state;

static void knn_free(void *state)
{
    knn_state *s = state;
    if (!s)
        return;
    reel_knn_index_free(&s->index);
    free(s->X);
    free(s->Y);
    free(s);
}

/* The params, decoded once. */
typedef struct {
    long k;
    int by_distance;
    const char *metric;
    double p;
} knn_params;

static int knn_params_get(const cJSON *params, knn_params *kp, reel_error *err)
{
    reel_params_reader r;
    reel_params_read_begin(&r, params, "knn");
    kp->k = reel_param_int(&r, "n_neighbors");
    const char *w = reel_param_str(&r, "weights");
    kp->by_distance = w && strcmp(w, "distance") == 0;
    kp->metric = reel_param_str(&r, "metric");
    if (!kp->metric)
        kp->metric = "minkowski";
    kp->p = reel_param_num(&r, "p");
    return reel_params_read_end(&r, err);
}

/* A state holding copies of X and Y, ready to search. */
static knn_state *knn_new(const cJSON *params, const float *X, const uint8_t *Y, size_t n, size_t d, size_t L,
                          int threads, reel_error *err)
{
    knn_params kp;
    if (knn_params_get(params, &kp, err))
        return NULL;
    long k = kp.k;
    if (k < 1 || (size_t)k > n) {
        reel_fail(err, "knn: n_neighbors (%ld) must not exceed the number of training rows (%zu)", k, n);
        return NULL;
    }
    knn_state *s = calloc(1, sizeof *s);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    s->n = n;
    s->d = d;
    s->L = L;
    s->k = (size_t)k;
    s->threads = threads > 0 ? threads : 1;
    s->by_distance = kp.by_distance;
    s->X = malloc((n * d > 0 ? n * d : 1) * sizeof *s->X);
    s->Y = malloc(n * L > 0 ? n * L : 1);
    if (!s->X || !s->Y) {
        knn_free(s);
        reel_fail(err, "knn: out of memory for %zu training rows", n);
        return NULL;
    }
    if (n * d > 0)
        memcpy(s->X, X, n * d * sizeof *X);
    if (n * L > 0)
        memcpy(s->Y, Y, n * L);
    if (reel_knn_index_init(&s->index, s->X, n, d, kp.metric, kp.p, err)) {
        knn_free(s);
        return NULL;
    }
    return s;
}

static void *knn_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    return knn_new(params, ctx->X, ctx->Y, ctx->n, ctx->d, ctx->L, ctx->threads, err);
}

/* The float probability for votes `yes` out of `total`, made to agree with
 * scikit-learn's decision (yes > no) under reel's rule P > 0.5. */
static float vote_share(double yes, double total)
{
    if (!(total > 0))
        return 0.0f;
    float p = (float)(yes / total);
    int wins = yes > total - yes;
    if (wins && p <= 0.5f)
        p = nextafterf(0.5f, 1.0f);
    if (!wins && p > 0.5f)
        p = 0.5f;
    return p;
}

/* A neighbour's vote; `zeros` counts the neighbours at distance 0. */
static double vote(const knn_state *s, double dist, size_t zeros)
{
    if (!s->by_distance)
        return 1.0;
    if (zeros)
        return dist == 0.0 ? 1.0 : 0.0;
    return 1.0 / dist;
}

/* Probabilities of one row from its neighbours' indices and distances. */
static void row_proba(const knn_state *s, const int32_t *idx, const double *dist, float *P)
{
    size_t k = s->k, zeros = 0;
    for (size_t j = 0; j < k; j++)
        zeros += dist[j] == 0.0;
    double total = 0;
    for (size_t j = 0; j < k; j++)
        total += vote(s, dist[j], zeros);
    for (size_t l = 0; l < s->L; l++) {
        double yes = 0;
        for (size_t j = 0; j < k; j++)
            if (s->Y[(size_t)idx[j] * s->L + l])
                yes += vote(s, dist[j], zeros);
        P[l] = vote_share(yes, total);
    }
}

static int knn_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    const knn_state *s = state;
    /* Rows go through in chunks so the neighbour lists stay small. */
    size_t chunk = (size_t)1 << 20;
    chunk = chunk / s->k > 0 ? chunk / s->k : 1;
    chunk = chunk < n ? chunk : n;
    int32_t *idx = malloc((chunk ? chunk : 1) * s->k * sizeof *idx);
    double *dist = malloc((chunk ? chunk : 1) * s->k * sizeof *dist);
    if (!idx || !dist) {
        free(idx);
        free(dist);
        return reel_fail(err, "knn: out of memory for the neighbours of %zu rows", chunk);
    }
    int rc = 0;
    for (size_t r0 = 0; r0 < n && rc == 0; r0 += chunk) {
        size_t m = n - r0 < chunk ? n - r0 : chunk;
        rc = reel_interrupted() ? reel_fail(err, "knn: %s", reel_interrupt_name())
                                : reel_knn_search(&s->index, X + r0 * s->d, m, s->k, s->threads, idx, dist, err);
        if (rc)
            break;
#pragma omp parallel for num_threads(s->threads) schedule(static)
        for (size_t i = 0; i < m; i++)
            row_proba(s, idx + i * s->k, dist + i * s->k, P + (r0 + i) * s->L);
    }
    free(idx);
    free(dist);
    return rc;
}

static int knn_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)meta;
    const knn_state *s = state;
    size_t xs[2] = {s->n, s->d}, ys[2] = {s->n, s->L};
    if (reel_tensors_add(out, "X", REEL_F32, 2, xs, s->X, err))
        return -1;
    return reel_tensors_add(out, "Y", REEL_U8, 2, ys, s->Y, err);
}

static void *knn_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                      const cJSON *meta, reel_error *err)
{
    (void)meta;
    const reel_tensor *x = reel_tensors_get(in, "X", REEL_F32, 0, err);
    if (!x)
        return NULL;
    if (x->ndim != 2 || x->shape[1] != d) {
        reel_fail(err, "knn: tensor 'X' must be rows x %zu", d);
        return NULL;
    }
    size_t n = x->shape[0];
    const reel_tensor *y = reel_tensors_get(in, "Y", REEL_U8, n * L, err);
    if (!y)
        return NULL;
    for (size_t i = 0; i < n * L; i++)
        if (((const uint8_t *)y->data)[i] > 1) {
            reel_fail(err, "knn: tensor 'Y' holds %u at element %zu; a training label is 0 or 1",
                      ((const uint8_t *)y->data)[i], i);
            return NULL;
        }
    return knn_new(params, x->data, y->data, n, d, L, threads, err);
}

const reel_model_kind reel_kind_knn = {
    .name = "knn",
    .standardize = 1,
    .fit = knn_fit,
    .predict_proba = knn_predict,
    .save = knn_save,
    .load = knn_load,
    .free = knn_free,
};
