/* The CPU backend: the readable reference of a net's training step.
 * A training step uses the threads from a batch of REEL_CPU_PAR_ROWS rows
 * up (at batch 10 there is nothing to split), with the same results;
 * predict and eval_loss split the rows into fixed chunks over OpenMP
 * threads, each row computed by the same code, so results are identical
 * for any thread count (a wide net runs a chunk's layers in smaller
 * passes, reel_nn_eval_rows, and its head over the whole chunk). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "nn/backend.h"
#include "nn/cpu_ops.h"
#include "nn/cpu_plr.h"

#define CHUNK 256 /* rows per predict chunk */

/* Training flushes denormal floats to zero (as torch.set_flush_denormal
 * does): AdamW's moments of dead ReLU units decay into the denormal range,
 * where x86 arithmetic is many times slower. Values that small (< 1e-38)
 * change nothing a net computes. */
static unsigned flush_denormals_begin(void)
{
#if defined(__SSE__)
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ | DAZ */
    return old;
#else
    return 0;
#endif
}

static void flush_denormals_end(unsigned old)
{
#if defined(__SSE__)
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

typedef struct {
    reel_nn_spec spec;
    int threads;
    float *params, *grads, *m, *v;
    /* training data (borrowed) and the current row order (owned) */
    const float *X, *Y;
    size_t n_data;
    uint32_t *order;
    size_t n_order;
    /* step workspace for up to cap rows: batch inputs, targets, each
     * layer's output, and two gradient buffers */
    size_t cap;
    float *xb, *yb, *H[REEL_NN_MAX_LAYERS], *g0, *g1;
    /* dropout: each such layer's mask scales (M) and its output after them (D) */
    float *M[REEL_NN_MAX_LAYERS], *D[REEL_NN_MAX_LAYERS];
    /* PLR: the embedding (E, the first Linear's input) and its sin/cos features (F) */
    reel_cpu_plr plr;
    float *E, *F;
    double loss_sum;
    long bad_step; /* the first step whose loss or gradient was not finite, 0: none */
    double *avg_sum; /* the moving average's sums (allocated when first used) */
    float *packed;   /* every layer packed for the forward (reel_cpu_pack_layer) */
    size_t pass;     /* rows of an evaluation pass: CHUNK, or fewer for a wide net */
    float *pos_w;    /* per-label positive weights of the loss (NULL: none) */
    size_t pack_off[REEL_NN_MAX_LAYERS];
} cpu_net;

static void cpu_destroy(void *p)
{
    cpu_net *c = p;
    if (!c)
        return;
    free(c->params);
    free(c->pos_w);
    free(c->grads);
    free(c->m);
    free(c->v);
    free(c->order);
    free(c->xb);
    free(c->yb);
    for (size_t l = 0; l < c->spec.n_layers; l++) {
        free(c->H[l]);
        free(c->M[l]);
        free(c->D[l]);
    }
    reel_cpu_plr_free(&c->plr);
    free(c->E);
    free(c->F);
    free(c->g0);
    free(c->g1);
    free(c->avg_sum);
    free(c->packed);
    free(c);
}

static void *cpu_create(const reel_nn_spec *spec, int device, int threads, reel_error *err)
{
    if (device != 0) {
        reel_fail(err, "the CPU backend has one device (0), not %d", device);
        return NULL;
    }
    cpu_net *c = calloc(1, sizeof *c);
    if (!c) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    c->spec = *spec;
    c->threads = threads > 0 ? threads : 1;
    /* every thread's two ping-pong buffers of the pass's rows */
    c->pass = reel_nn_eval_rows(CHUNK, (size_t)c->threads * 2 * spec->max_width);
    size_t n = spec->n_params;
    c->params = calloc(n, sizeof(float));
    c->grads = calloc(n, sizeof(float));
    c->m = calloc(n, sizeof(float));
    c->v = calloc(n, sizeof(float));
    size_t packed = 0;
    for (size_t l = 0; l < spec->n_layers; l++) {
        c->pack_off[l] = packed;
        packed += reel_cpu_packed_floats(spec->layer[l].in, spec->layer[l].out);
    }
    c->packed = malloc(packed * sizeof(float));
    int plr_bad = spec->plr.k && reel_cpu_plr_init(&c->plr, spec);
    c->spec.plr.numeric = NULL; /* the caller's flags: read here, not kept */
    if (!c->params || !c->grads || !c->m || !c->v || !c->packed || plr_bad) {
        cpu_destroy(c);
        reel_fail(err, "out of memory for a net of %zu parameters", n);
        return NULL;
    }
    return c;
}

/* Grows the step workspace to hold n rows. */
static int reserve(cpu_net *c, size_t n, reel_error *err)
{
    if (n <= c->cap)
        return 0;
    const reel_nn_spec *s = &c->spec;
    int bad = 0;
    free(c->xb);
    free(c->yb);
    free(c->g0);
    free(c->g1);
    bad |= !(c->xb = malloc(n * s->d * sizeof(float)));
    bad |= !(c->yb = malloc(n * s->L * sizeof(float)));
    bad |= !(c->g0 = malloc(n * s->max_width * sizeof(float)));
    bad |= !(c->g1 = malloc(n * s->max_width * sizeof(float)));
    for (size_t l = 0; l < s->n_layers; l++) {
        free(c->H[l]);
        free(c->M[l]);
        free(c->D[l]);
        c->M[l] = c->D[l] = NULL;
        bad |= !(c->H[l] = malloc(n * s->layer[l].out * sizeof(float)));
        if (s->layer[l].dropout > 0) {
            bad |= !(c->M[l] = malloc(n * s->layer[l].out * sizeof(float)));
            bad |= !(c->D[l] = malloc(n * s->layer[l].out * sizeof(float)));
        }
    }
    if (s->plr.k) {
        free(c->E);
        free(c->F);
        bad |= !(c->E = malloc(n * s->layer[0].in * sizeof(float)));
        bad |= !(c->F = malloc(n * c->plr.n_num * 2 * c->plr.k * sizeof(float)));
    }
    c->cap = bad ? 0 : n;
    return bad ? reel_fail(err, "out of memory for a batch of %zu rows", n) : 0;
}

static int cpu_set_params(void *p, const float *params, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    memcpy(c->params, params, c->spec.n_params * sizeof(float));
    return 0;
}

static int cpu_get_params(void *p, float *params, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    memcpy(params, c->params, c->spec.n_params * sizeof(float));
    return 0;
}

static int cpu_get_grads(void *p, float *grads, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    memcpy(grads, c->grads, c->spec.n_params * sizeof(float));
    return 0;
}

static int cpu_set_data(void *p, const float *X, const float *Y, size_t n, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    c->X = X;
    c->Y = Y;
    c->n_data = n;
    c->n_order = 0; /* the old order may index past the new rows */
    memset(c->m, 0, c->spec.n_params * sizeof(float));
    memset(c->v, 0, c->spec.n_params * sizeof(float));
    c->loss_sum = 0.0;
    c->bad_step = 0;
    if (c->avg_sum)
        memset(c->avg_sum, 0, c->spec.n_params * sizeof *c->avg_sum);
    return 0;
}

static int cpu_set_order(void *p, const uint32_t *order, size_t n, reel_error *err)
{
    cpu_net *c = p;
    for (size_t i = 0; i < n; i++)
        if (order[i] >= c->n_data)
            return reel_fail(err, "row order: index %u is past the %zu data rows", order[i], c->n_data);
    uint32_t *o = realloc(c->order, (n ? n : 1) * sizeof *o);
    if (!o)
        return reel_fail(err, "out of memory");
    memcpy(o, order, n * sizeof *o);
    c->order = o;
    c->n_order = n;
    return 0;
}

/* The current parameters, packed for the forward. */
static void pack(cpu_net *c)
{
    const reel_nn_spec *s = &c->spec;
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        reel_cpu_pack_layer(c->params + ly->w_off, c->params + ly->b_off, ly->in, ly->out,
                            c->packed + c->pack_off[l]);
    }
}

/* What layer l reads in training: the embedding, the batch, or the layer
 * before's output (after its dropout). */
static const float *layer_input(const cpu_net *c, size_t l)
{
    if (l == 0)
        return c->spec.plr.k ? c->E : c->xb;
    return c->D[l - 1] ? c->D[l - 1] : c->H[l - 1];
}

/* Training forward from the batch xb (n rows), keeping every layer's
 * output in H (before dropout), the masks in M and what follows them in D. */
static void forward_keep(cpu_net *c, size_t n, long step)
{
    const reel_nn_spec *s = &c->spec;
    pack(c);
    if (s->plr.k)
        reel_cpu_plr_forward(&c->plr, s, c->params, c->xb, n, c->E, c->F, c->threads);
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        reel_cpu_linear_forward(layer_input(c, l), n, ly->in, c->packed + c->pack_off[l], ly->out, ly->act,
                                c->H[l], c->threads);
        if (c->D[l]) {
            reel_cpu_dropout_mask(s->seed, step, l, n, ly->out, ly->dropout, c->M[l]);
            for (size_t q = 0; q < n * ly->out; q++)
                c->D[l][q] = c->H[l][q] * c->M[l][q];
        }
    }
}

static int cpu_train_step(void *p, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                          reel_error *err)
{
    cpu_net *c = p;
    const reel_nn_spec *s = &c->spec;
    if (n == 0 || start + n > c->n_order)
        return reel_fail(err, "train step: rows %zu..%zu are outside the row order of %zu", start, start + n,
                         c->n_order);
    if (reserve(c, n, err))
        return -1;
    for (size_t r = 0; r < n; r++) {
        size_t row = c->order[start + r];
        memcpy(c->xb + r * s->d, c->X + row * s->d, s->d * sizeof(float));
        memcpy(c->yb + r * s->L, c->Y + row * s->L, s->L * sizeof(float));
    }
    unsigned csr = flush_denormals_begin();
    forward_keep(c, n, step);
    size_t last = s->n_layers - 1;
    double sum = c->pos_w ? reel_cpu_head_weighted(c->H[last], c->yb, n, s->L, c->pos_w, c->g0, NULL)
                          : reel_cpu_head(s->head, c->H[last], c->yb, n, s->L, c->g0, NULL);
    float batch_loss = (float)(sum / reel_cpu_head_count(s->head, n, s->L));
    /* Backward: g0 holds dLoss/dZ of layer l; g1 receives dLoss/dH of l-1. */
    for (size_t l = last + 1; l-- > 0;) {
        const reel_nn_layer *ly = &s->layer[l];
        float *dA = l || s->plr.k ? c->g1 : NULL;
        reel_cpu_linear_backward(layer_input(c, l), n, ly->in, c->params + ly->w_off, ly->out, c->g0,
                                 c->grads + ly->w_off, c->grads + ly->b_off, dA, c->threads);
        if (l == 0 && s->plr.k)
            reel_cpu_plr_backward(&c->plr, s, c->params, c->xb, c->F, c->E, c->g1, n, c->grads, c->threads);
        if (l) {
            if (c->M[l - 1]) /* through the dropout: the kept units, scaled */
                for (size_t q = 0; q < n * ly->in; q++)
                    c->g1[q] *= c->M[l - 1][q];
            reel_cpu_act_backward(s->layer[l - 1].act, c->H[l - 1], c->g1, n * ly->in);
            float *t = c->g0;
            c->g0 = c->g1;
            c->g1 = t;
        }
    }
    int bad = !isfinite(batch_loss) || !reel_cpu_all_finite(c->grads, s->n_params);
    if (bad && !c->bad_step)
        c->bad_step = step;
    if (!c->bad_step)
        reel_cpu_adamw(c->params, c->grads, c->m, c->v, s->n_params, opt, step);
    flush_denormals_end(csr);
    c->loss_sum += (double)batch_loss * (double)n;
    if (loss)
        *loss = batch_loss;
    return bad;
}

static int cpu_first_bad_step(void *p, long *step, reel_error *err)
{
    (void)err;
    *step = ((cpu_net *)p)->bad_step;
    return 0;
}

static int cpu_get_moments(void *p, float *m, float *v, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    memcpy(m, c->m, c->spec.n_params * sizeof(float));
    memcpy(v, c->v, c->spec.n_params * sizeof(float));
    return 0;
}

static int avg_alloc(cpu_net *c, reel_error *err)
{
    if (!c->avg_sum && !(c->avg_sum = calloc(c->spec.n_params, sizeof *c->avg_sum)))
        return reel_fail(err, "out of memory for the moving average of %zu parameters", c->spec.n_params);
    return 0;
}

static int cpu_avg_update(void *p, double a, reel_error *err)
{
    cpu_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    for (size_t k = 0; k < c->spec.n_params; k++)
        c->avg_sum[k] = rk_avg_step(c->avg_sum[k], c->params[k], a);
    return 0;
}

static int cpu_get_avg(void *p, double weight, float *out, reel_error *err)
{
    cpu_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    for (size_t k = 0; k < c->spec.n_params; k++)
        out[k] = rk_avg_value(c->avg_sum[k], weight);
    return 0;
}

static int cpu_get_avg_sum(void *p, double *sum, reel_error *err)
{
    cpu_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    memcpy(sum, c->avg_sum, c->spec.n_params * sizeof *sum);
    return 0;
}

static int cpu_set_avg_sum(void *p, const double *sum, reel_error *err)
{
    cpu_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    memcpy(c->avg_sum, sum, c->spec.n_params * sizeof *sum);
    return 0;
}

static int cpu_set_moments(void *p, const float *m, const float *v, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    memcpy(c->m, m, c->spec.n_params * sizeof(float));
    memcpy(c->v, v, c->spec.n_params * sizeof(float));
    return 0;
}

static int cpu_take_loss_sum(void *p, double *sum, reel_error *err)
{
    (void)err;
    cpu_net *c = p;
    *sum = c->loss_sum;
    c->loss_sum = 0.0;
    return 0;
}

/* The layers' forward over n rows (at most c->pass) with two ping-pong
 * buffers of c->pass rows in buf; returns the last layer's output. */
static const float *forward_pass(const cpu_net *c, const float *X, size_t n, float *buf)
{
    const reel_nn_spec *s = &c->spec;
    float *a = buf, *b = buf + c->pass * s->max_width;
    const float *A = X;
    if (s->plr.k) { /* the embedding into a, then the layers from it */
        reel_cpu_plr_forward(&c->plr, s, c->params, X, n, a, NULL, 1);
        A = a;
        a = b;
        b = (float *)A;
    }
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        reel_cpu_linear_forward(A, n, ly->in, c->packed + c->pack_off[l], ly->out, ly->act, a,
                                1); /* predict chunks already run in parallel */
        A = a;
        float *t = a;
        a = b;
        b = t;
    }
    return A;
}

/* A thread's floats: the pass's ping-pong buffers, and the chunk's logits
 * when the passes split it. */
static size_t chunk_floats(const cpu_net *c)
{
    return 2 * c->pass * c->spec.max_width + (c->pass < CHUNK ? CHUNK * c->spec.L : 0);
}

/* Forward of one chunk (in passes of c->pass rows) and its head; returns
 * the summed loss (0 when Y is NULL) and writes the probabilities to P
 * when not NULL. */
static double forward_chunk(const cpu_net *c, const float *X, const float *Y, size_t n, float *P, float *buf)
{
    const reel_nn_spec *s = &c->spec;
    const float *Z = NULL;
    float *logits = buf + 2 * c->pass * s->max_width;
    for (size_t r0 = 0; r0 < n; r0 += c->pass) {
        size_t m = n - r0 < c->pass ? n - r0 : c->pass;
        Z = forward_pass(c, X + r0 * s->d, m, buf);
        if (m < n) { /* passes split the chunk: its logits gathered for the head */
            memcpy(logits + r0 * s->L, Z, m * s->L * sizeof *Z);
            Z = logits;
        }
    }
    if (Y && c->pos_w)
        return reel_cpu_head_weighted(Z, Y, n, s->L, c->pos_w, NULL, P);
    return reel_cpu_head(s->head, Z, Y, n, s->L, NULL, P);
}

static int cpu_eval(void *p, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    cpu_net *c = p;
    const reel_nn_spec *s = &c->spec;
    size_t chunks = (n + CHUNK - 1) / CHUNK, per = chunk_floats(c);
    float *buf = malloc((size_t)c->threads * per * sizeof(float));
    double *part = calloc(chunks ? chunks : 1, sizeof *part);
    if (!buf || !part) {
        free(buf);
        free(part);
        return reel_fail(err, "out of memory");
    }
    pack(c);
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (size_t k = 0; k < chunks; k++) {
        size_t r0 = k * CHUNK, m = n - r0 < CHUNK ? n - r0 : CHUNK;
        float *mine = buf + (size_t)omp_get_thread_num() * per;
        part[k] = forward_chunk(c, X + r0 * s->d, Y ? Y + r0 * s->L : NULL, m, P ? P + r0 * s->L : NULL, mine);
    }
    double sum = 0.0; /* chunk sums added in chunk order: thread-count independent */
    for (size_t k = 0; k < chunks; k++)
        sum += part[k];
    if (loss)
        *loss = n ? sum / reel_cpu_head_count(s->head, n, s->L) : 0.0;
    free(buf);
    free(part);
    return 0;
}

static int cpu_predict(void *p, const float *X, size_t n, float *P, reel_error *err)
{
    return cpu_eval(p, X, NULL, n, NULL, P, err);
}

static int cpu_eval_loss(void *p, const float *X, const float *Y, size_t n, double *loss, float *P,
                         reel_error *err)
{
    return cpu_eval(p, X, Y, n, loss, P, err);
}

static size_t cpu_eval_rows(void *p) { return ((cpu_net *)p)->pass; }

/* Per-label positive weights of the sigmoid head's loss (NULL: none). */
static int cpu_set_pos_weight(void *p, const float *w, reel_error *err)
{
    cpu_net *c = p;
    if (w && c->spec.head != REEL_HEAD_SIGMOID)
        return reel_fail(err, "pos_weight: only the sigmoid head has per-label positive weights");
    free(c->pos_w);
    c->pos_w = NULL;
    if (!w)
        return 0;
    if (!(c->pos_w = malloc(c->spec.L * sizeof *c->pos_w)))
        return reel_fail(err, "out of memory");
    memcpy(c->pos_w, w, c->spec.L * sizeof *c->pos_w);
    return 0;
}

const reel_nn_backend reel_nn_cpu_backend = {
    .set_pos_weight = cpu_set_pos_weight,
    .name = "cpu",
    .create = cpu_create,
    .set_params = cpu_set_params,
    .get_params = cpu_get_params,
    .get_grads = cpu_get_grads,
    .set_data = cpu_set_data,
    .set_order = cpu_set_order,
    .train_step = cpu_train_step,
    .take_loss_sum = cpu_take_loss_sum,
    .first_bad_step = cpu_first_bad_step,
    .get_moments = cpu_get_moments,
    .set_moments = cpu_set_moments,
    .avg_update = cpu_avg_update,
    .get_avg = cpu_get_avg,
    .get_avg_sum = cpu_get_avg_sum,
    .set_avg_sum = cpu_set_avg_sum,
    .predict = cpu_predict,
    .eval_loss = cpu_eval_loss,
    .destroy = cpu_destroy,
    .eval_rows = cpu_eval_rows,
};
