/* The host driver of every device runtime: a net's buffers, the layered
 * training step (one launch per stage, the products as nn/gemm_desc.h
 * descriptors), the fused epoch (one launch of rk_fused_epoch), many nets'
 * epochs in one launch (rk_fused_epochs), evaluation in chunks and the
 * moving average, written once over the runtime interface (nn/runtime.h).
 * It has no runtime's name in it: what CI runs on OpenCL (PoCL) is what
 * CUDA runs.
 *
 * Each net has its own queue. The training data goes to the device once
 * (set_data; nets given the same arrays may share one copy, share_data),
 * the row order once per epoch; a step waits for the device only when its
 * loss is asked for. */
#include "nn/device_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cpu_ops.h"    /* reel_cpu_head_count */
#include "nn/fused_plan.h" /* the fused kernels' tables */
#include "nn_layout.h"     /* kernels/: the sizes the kernels share */

/* The training data on the device, shared by the nets given the same
 * arrays (reference counted: nets may be destroyed in other threads). */
typedef struct {
    reel_rt_mem *X, *Y;
    int refs;
} dd_data;

typedef struct {
    reel_nn_spec spec;
    const reel_rt_ops *rt;
    int device;
    reel_rt_queue *q;
    reel_rt_limits lim;
    size_t reduce;                          /* work-items of the one-group kernels */
    reel_rt_mem *params, *grads, *m, *v;    /* n_params floats each */
    dd_data *data;                          /* training data */
    size_t n_data;
    const float *host_X, *host_Y; /* what set_data was given: nets given the same share a launch */
    reel_rt_mem *order;
    size_t n_order, order_cap;
    int bad_seen; /* the host has seen a bad step since set_data */
    size_t cap;   /* step workspace rows */
    reel_rt_mem *xb, *yb, *H[REEL_NN_MAX_LAYERS], *g0, *g1, *rowloss;
    reel_rt_mem *D[REEL_NN_MAX_LAYERS]; /* a dropout layer's output after its mask (else NULL) */
    reel_rt_mem *loss_acc, *eval_acc, *bad_step, *batch_loss;
    reel_rt_mem *avg_sum, *avg_out;                /* the moving average (when first used) */
    reel_rt_mem *ex, *ey, *ea, *eb, *ep, *erow;   /* an eval chunk (when first used) */
    reel_rt_mem *ez;                              /* a chunk's logits, when passes split it */
    size_t pass;                                  /* rows of an eval pass: RK_EVAL_CHUNK or fewer */
    reel_rt_mem *layers;                          /* the fused kernel's layer table */
    reel_rt_mem *ep_f, *ep_a;                     /* an epoch's per-step scalars and averaging decays */
    size_t ep_cap;
    /* a PLR embedding (spec.plr.k > 0): its input columns (numeric first),
     * on the host and the device; a step's embedding and features, an eval
     * chunk's, and the fused kernel's table and features */
    int *plr_cols;
    reel_rt_mem *cols, *E, *F, *eE, *eF, *plr_tab, *pf;
    size_t pf_rows;
} dnet;

static void rel(const reel_rt_ops *rt, reel_rt_mem **m)
{
    if (*m)
        rt->release(*m);
    *m = NULL;
}

static void data_drop(const reel_rt_ops *rt, dd_data **d)
{
    if (*d && __atomic_sub_fetch(&(*d)->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        rel(rt, &(*d)->X);
        rel(rt, &(*d)->Y);
        free(*d);
    }
    *d = NULL;
}

static void dd_destroy(void *p)
{
    dnet *c = p;
    if (!c)
        return;
    const reel_rt_ops *rt = c->rt;
    reel_error ignored;
    if (c->q)
        rt->sync(c->q, &ignored);
    reel_rt_mem **all[] = {&c->params,   &c->grads,    &c->m,        &c->v,        &c->order,   &c->xb,
                           &c->yb,       &c->g0,       &c->g1,       &c->rowloss,  &c->loss_acc, &c->eval_acc,
                           &c->bad_step, &c->batch_loss, &c->avg_sum, &c->avg_out, &c->ex,      &c->ey,
                           &c->ea,       &c->eb,       &c->ep,       &c->erow,     &c->layers,  &c->ep_f,
                           &c->ep_a,     &c->cols,     &c->E,        &c->F,        &c->eE,      &c->eF,
                           &c->plr_tab,  &c->pf,       &c->ez};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        rel(rt, all[i]);
    for (size_t l = 0; l < REEL_NN_MAX_LAYERS; l++) {
        rel(rt, &c->H[l]);
        rel(rt, &c->D[l]);
    }
    data_drop(rt, &c->data);
    if (c->q)
        rt->close(c->q);
    free(c->plr_cols);
    free(c);
}

/* A device buffer of `bytes` in *m (what it held released first). */
static int alloc(dnet *c, reel_rt_mem **m, size_t bytes, const char *what, reel_error *err)
{
    rel(c->rt, m);
    *m = c->rt->alloc(c->q, bytes ? bytes : sizeof(double), what, err);
    return *m ? 0 : -1;
}

static int zero(dnet *c, reel_rt_mem *m, size_t bytes, reel_error *err) { return c->rt->zero(c->q, m, bytes, err); }

static int put(dnet *c, reel_rt_mem *m, const void *src, size_t bytes, reel_error *err)
{
    return bytes ? c->rt->write(c->q, m, 0, src, bytes, err) : 0;
}

static int get(dnet *c, reel_rt_mem *m, size_t offset, void *dst, size_t bytes, reel_error *err)
{
    return bytes ? c->rt->read(c->q, m, offset, dst, bytes, err) : 0;
}

/* A kernel's arguments in order. */
typedef struct {
    reel_rt_kernel k;
    int n;
    reel_rt_arg a[32];
} args;

static args kargs(reel_rt_kernel k)
{
    args a;
    a.k = k;
    a.n = 0;
    return a;
}
static reel_rt_arg *next(args *a) { return &a->a[a->n++]; }
static void am(args *a, reel_rt_mem *m)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_MEM;
    x->v.mem = m;
}
static void ai(args *a, long v)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_I32;
    x->v.i32 = (int32_t)v;
}
static void au(args *a, size_t v)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_U64;
    x->v.u64 = (uint64_t)v;
}
static void al(args *a, long v)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_I64;
    x->v.i64 = (int64_t)v;
}
static void af(args *a, float v)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_F32;
    x->v.f32 = v;
}
static void ad(args *a, double v)
{
    reel_rt_arg *x = next(a);
    x->type = REEL_ARG_F64;
    x->v.f64 = v;
}

/* Launches a's kernel over `total` elements (it strides past the launch),
 * or as one group of c->reduce work-items when total is 0. */
static int launch(dnet *c, const args *a, size_t total, reel_error *err)
{
    size_t groups = 1, local = c->reduce;
    if (total) {
        local = c->lim.group;
        groups = (total + local - 1) / local;
        if (groups > c->lim.max_groups)
            groups = c->lim.max_groups;
    }
    return c->rt->launch(c->q, a->k, groups, local, 0, a->a, a->n, err);
}

/* A PLR embedding's input columns (spec.plr.numeric: the numeric ones,
 * then the others), on the host and the device. The caller's flags are
 * read here, not kept. */
static int plr_setup(dnet *c, reel_error *err)
{
    reel_nn_spec *s = &c->spec;
    const uint8_t *numeric = s->plr.numeric;
    s->plr.numeric = NULL;
    if (!s->plr.k)
        return 0;
    if (!(c->plr_cols = malloc(s->d * sizeof *c->plr_cols)))
        return reel_fail(err, "out of memory");
    size_t q = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < s->d; j++)
            if ((!numeric || numeric[j]) == !pass)
                c->plr_cols[q++] = (int)j;
    return alloc(c, &c->cols, s->d * sizeof(int), "the PLR embedding's columns", err) ||
                   put(c, c->cols, c->plr_cols, s->d * sizeof(int), err)
               ? -1
               : 0;
}

static void *create(const reel_rt_ops *rt, const reel_nn_spec *spec, int device, reel_error *err)
{
    dnet *c = calloc(1, sizeof *c);
    if (!c) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    c->spec = *spec;
    c->rt = rt;
    c->device = device;
    if (!(c->q = rt->open(device, &c->lim, err))) {
        free(c);
        return NULL;
    }
    c->reduce = RK_REDUCE;
    while (c->reduce > c->lim.max_group)
        c->reduce /= 2;
    /* an eval pass's buffers a row: its inputs, two layer outputs and a
     * PLR embedding with its sin/cos features */
    c->pass = reel_nn_eval_rows(RK_EVAL_CHUNK, spec->d + 2 * spec->max_width +
                                                   (spec->plr.k ? spec->layer[0].in + reel_fused_plr_floats(spec, 1) : 0));
    size_t n = spec->n_params * sizeof(float);
    if (alloc(c, &c->params, n, "the net's parameters", err) || alloc(c, &c->grads, n, "the gradient", err) ||
        alloc(c, &c->m, n, "AdamW's first moments", err) || alloc(c, &c->v, n, "AdamW's second moments", err) ||
        alloc(c, &c->loss_acc, sizeof(double), "a loss accumulator", err) ||
        alloc(c, &c->eval_acc, sizeof(double), "a loss accumulator", err) ||
        alloc(c, &c->bad_step, sizeof(int64_t), "a step number", err) ||
        alloc(c, &c->batch_loss, sizeof(float), "the batch loss", err) || zero(c, c->params, n, err) ||
        zero(c, c->grads, n, err) || zero(c, c->m, n, err) || zero(c, c->v, n, err) ||
        zero(c, c->loss_acc, sizeof(double), err) || zero(c, c->bad_step, sizeof(int64_t), err) ||
        zero(c, c->batch_loss, sizeof(float), err) || plr_setup(c, err)) {
        dd_destroy(c);
        return NULL;
    }
    return c;
}

void *reel_driver_create(const reel_rt_ops *rt, const reel_nn_spec *spec, int device, reel_error *err)
{
    return create(rt, spec, device, err);
}

static int reserve(dnet *c, size_t n, reel_error *err)
{
    if (n <= c->cap)
        return 0;
    const reel_nn_spec *s = &c->spec;
    if (c->rt->sync(c->q, err)) /* nothing may still use the old buffers */
        return -1;
    c->cap = 0;
    char what[96];
    snprintf(what, sizeof what, "a batch of %zu rows", n);
    size_t f = sizeof(float);
    if (alloc(c, &c->xb, n * s->d * f, what, err) || alloc(c, &c->yb, n * s->L * f, what, err) ||
        alloc(c, &c->g0, n * s->max_width * f, what, err) || alloc(c, &c->g1, n * s->max_width * f, what, err) ||
        alloc(c, &c->rowloss, n * sizeof(double), what, err))
        return -1;
    for (size_t l = 0; l < s->n_layers; l++)
        if (alloc(c, &c->H[l], n * s->layer[l].out * f, what, err) ||
            (s->layer[l].dropout > 0 && alloc(c, &c->D[l], n * s->layer[l].out * f, what, err)))
            return -1;
    if (s->plr.k && (alloc(c, &c->E, n * s->layer[0].in * f, what, err) ||
                     alloc(c, &c->F, reel_fused_plr_floats(s, n) * f, what, err)))
        return -1;
    c->cap = n;
    return 0;
}

static int dd_set_params(void *p, const float *params, reel_error *err)
{
    dnet *c = p;
    return put(c, c->params, params, c->spec.n_params * sizeof(float), err);
}

static int dd_get_params(void *p, float *params, reel_error *err)
{
    dnet *c = p;
    return get(c, c->params, 0, params, c->spec.n_params * sizeof(float), err);
}

static int dd_get_grads(void *p, float *grads, reel_error *err)
{
    dnet *c = p;
    return get(c, c->grads, 0, grads, c->spec.n_params * sizeof(float), err);
}

/* What set_data and share_data both do once the data is there: AdamW's
 * moments, the accumulators and the average start again. */
static int data_reset(dnet *c, reel_error *err)
{
    size_t np = c->spec.n_params;
    if (zero(c, c->m, np * sizeof(float), err) || zero(c, c->v, np * sizeof(float), err) ||
        zero(c, c->loss_acc, sizeof(double), err) || zero(c, c->bad_step, sizeof(int64_t), err) ||
        (c->avg_sum && zero(c, c->avg_sum, np * sizeof(double), err)))
        return -1;
    c->bad_seen = 0;
    return 0;
}

static int dd_set_data(void *p, const float *X, const float *Y, size_t n, reel_error *err)
{
    dnet *c = p;
    const reel_nn_spec *s = &c->spec;
    if (c->rt->sync(c->q, err))
        return -1;
    c->n_data = 0;
    c->host_X = c->host_Y = NULL;
    c->n_order = 0; /* an old order may index past the new rows */
    data_drop(c->rt, &c->data);
    if (!(c->data = calloc(1, sizeof *c->data)))
        return reel_fail(err, "out of memory");
    c->data->refs = 1;
    char what[128];
    snprintf(what, sizeof what, "the training data (%zu rows x %zu features + %zu labels)", n, s->d, s->L);
    if (alloc(c, &c->data->X, n * s->d * sizeof(float), what, err) ||
        alloc(c, &c->data->Y, n * s->L * sizeof(float), what, err) ||
        put(c, c->data->X, X, n * s->d * sizeof(float), err) || put(c, c->data->Y, Y, n * s->L * sizeof(float), err) ||
        data_reset(c, err))
        return -1;
    c->n_data = n;
    c->host_X = X;
    c->host_Y = Y;
    return 0;
}

/* set_data with the data net `from` holds: its device copy, not another. */
static int dd_share_data(void *p, const void *from, reel_error *err)
{
    dnet *c = p;
    const dnet *f = from;
    if (f->rt != c->rt || f->device != c->device || f->spec.d != c->spec.d || f->spec.L != c->spec.L || !f->data)
        return reel_fail(err, "%s: a net shares only the training data of a net on its device with as many "
                              "features and labels", c->rt->name);
    if (c->rt->sync(c->q, err))
        return -1;
    __atomic_add_fetch(&f->data->refs, 1, __ATOMIC_ACQ_REL);
    data_drop(c->rt, &c->data);
    c->data = f->data;
    c->n_order = 0;
    if (data_reset(c, err))
        return -1;
    c->n_data = f->n_data;
    c->host_X = f->host_X;
    c->host_Y = f->host_Y;
    return 0;
}

static int dd_set_order(void *p, const uint32_t *order, size_t n, reel_error *err)
{
    dnet *c = p;
    for (size_t i = 0; i < n; i++)
        if (order[i] >= c->n_data)
            return reel_fail(err, "row order: index %u is past the %zu data rows", order[i], c->n_data);
    if (n > c->order_cap) {
        if (c->rt->sync(c->q, err))
            return -1;
        c->order_cap = 0;
        if (alloc(c, &c->order, n * sizeof(uint32_t), "the row order", err))
            return -1;
        c->order_cap = n;
    }
    /* the queue is in order, so the steps already queued read the old
     * order before this write lands */
    if (put(c, c->order, order, n * sizeof(uint32_t), err))
        return -1;
    c->n_order = n;
    return 0;
}

/* Product p of layer ly over n rows (nn/gemm_desc.h): its operands by
 * role (the layer's weights in the flat buffer, its input X, the gradient
 * at its output dZ) into C at float offset c_at. */
static int product(dnet *c, reel_gemm_product p, const reel_nn_layer *ly, size_t n, reel_rt_mem *X, reel_rt_mem *dZ,
                   reel_rt_mem *C, size_t c_at, reel_error *err)
{
    reel_gemm g = reel_gemm_layer(p, (int)n, (int)ly->in, (int)ly->out);
    reel_rt_mem *mem[] = {c->params, X, dZ, NULL}; /* indexed by reel_gemm_operand */
    size_t at[] = {ly->w_off, 0, 0, 0};
    return c->rt->gemm(c->q, &g, mem[g.a], at[g.a], mem[g.b], at[g.b], C, c_at, err);
}

/* dst = src * the dropout mask of layer l at training step `step` over
 * n rows (nn_math.h); src may be dst. */
static int dropout(dnet *c, size_t l, long step, reel_rt_mem *src, reel_rt_mem *dst, size_t n, reel_error *err)
{
    const reel_nn_layer *ly = &c->spec.layer[l];
    args a = kargs(REEL_K_DROPOUT);
    am(&a, src);
    am(&a, dst);
    au(&a, n * ly->out);
    au(&a, rk_dropout_key(c->spec.seed, step, l));
    ai(&a, (long)rk_dropout_cut(ly->dropout));
    af(&a, rk_dropout_kept(ly->dropout));
    return launch(c, &a, n * ly->out, err);
}

/* What layer l reads in a training step: the batch (its PLR embedding
 * when it has one), or the layer before's output (after its dropout). */
static reel_rt_mem *layer_input(const dnet *c, size_t l)
{
    if (l == 0)
        return c->spec.plr.k ? c->E : c->xb;
    return c->D[l - 1] ? c->D[l - 1] : c->H[l - 1];
}

/* The PLR kernels' leading arguments: the rows X (n of them), the
 * columns and the embedding's sizes (in the kernels' order). */
static args plr_args(dnet *c, reel_rt_kernel k, reel_rt_mem *X, size_t n)
{
    const reel_nn_spec *s = &c->spec;
    args a = kargs(k);
    am(&a, X);
    ai(&a, (long)n);
    ai(&a, (long)s->d);
    am(&a, c->cols);
    ai(&a, (long)s->plr.n_num);
    ai(&a, (long)s->plr.k);
    if (k != REEL_K_PLR_FEATURES) {
        ai(&a, (long)s->plr.width);
        ai(&a, (long)s->layer[0].in);
    }
    am(&a, c->params);
    au(&a, s->plr.c_off);
    return a;
}

/* The PLR embedding of n rows of A: features into F, the embedding into E. */
static int plr_forward(dnet *c, reel_rt_mem *A, size_t n, reel_rt_mem *E, reel_rt_mem *F, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    args a = plr_args(c, REEL_K_PLR_FEATURES, A, n);
    am(&a, F);
    if (launch(c, &a, n * s->plr.n_num * s->plr.k, err))
        return -1;
    a = plr_args(c, REEL_K_PLR_EMBED, A, n);
    am(&a, F);
    am(&a, E);
    return launch(c, &a, n * s->layer[0].in, err);
}

/* Forward from A (n rows; through the PLR embedding into E, with its
 * features in F, when the net has one); layer l's output goes to out[l],
 * and in a training step (drop not NULL) through its dropout mask to
 * drop[l] where it has one, which the next layer reads. */
static int forward(dnet *c, reel_rt_mem *A, size_t n, reel_rt_mem *E, reel_rt_mem *F, reel_rt_mem **out,
                   reel_rt_mem **drop, long step, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    if (s->plr.k) {
        if (plr_forward(c, A, n, E, F, err))
            return -1;
        A = E;
    }
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        if (product(c, REEL_GEMM_FORWARD, ly, n, A, NULL, out[l], 0, err))
            return -1;
        args a = kargs(REEL_K_BIAS_ACT);
        am(&a, out[l]);
        ai(&a, (long)n);
        ai(&a, (long)ly->out);
        am(&a, c->params);
        au(&a, ly->b_off);
        ai(&a, (long)ly->act);
        if (launch(c, &a, n * ly->out, err))
            return -1;
        A = out[l];
        if (drop && drop[l]) {
            if (dropout(c, l, step, out[l], drop[l], n, err))
                return -1;
            A = drop[l];
        }
    }
    return 0;
}

/* The head over n rows of logits Z: G, P and the row losses where given. */
static int head(dnet *c, reel_rt_mem *Z, reel_rt_mem *Y, size_t n, float scale, reel_rt_mem *G, reel_rt_mem *P,
                reel_rt_mem *rowloss, reel_error *err)
{
    args a = kargs(REEL_K_HEAD);
    am(&a, Z);
    am(&a, Y);
    ai(&a, (long)n);
    ai(&a, (long)c->spec.L);
    ai(&a, (long)c->spec.head);
    af(&a, scale);
    am(&a, G);
    am(&a, P);
    am(&a, rowloss);
    return launch(c, &a, n, err);
}

static int dd_train_step(void *p, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                         reel_error *err)
{
    dnet *c = p;
    const reel_nn_spec *s = &c->spec;
    if (n == 0 || start + n > c->n_order)
        return reel_fail(err, "train step: rows %zu..%zu are outside the row order of %zu", start, start + n,
                         c->n_order);
    if (n > 0x7fffffff)
        return reel_fail(err, "train step: a batch of %zu rows is too large", n);
    if (reserve(c, n, err))
        return -1;
    args a = kargs(REEL_K_GATHER);
    am(&a, c->data->X);
    am(&a, c->data->Y);
    am(&a, c->order);
    au(&a, start);
    ai(&a, (long)n);
    ai(&a, (long)s->d);
    ai(&a, (long)s->L);
    am(&a, c->xb);
    am(&a, c->yb);
    if (launch(c, &a, n * (s->d + s->L), err) || forward(c, c->xb, n, c->E, c->F, c->H, c->D, step, err))
        return -1;
    double count = reel_cpu_head_count(s->head, n, s->L);
    size_t last = s->n_layers - 1;
    if (head(c, c->H[last], c->yb, n, (float)(1.0 / count), c->g0, NULL, c->rowloss, err))
        return -1;
    reel_rt_mem *g0 = c->g0, *g1 = c->g1;
    for (size_t l = s->n_layers; l-- > 0;) {
        const reel_nn_layer *ly = &s->layer[l];
        reel_rt_mem *A = layer_input(c, l);
        a = kargs(REEL_K_ACT_BIAS);
        am(&a, g0);
        am(&a, c->H[l]);
        ai(&a, (long)n);
        ai(&a, (long)ly->out);
        ai(&a, (long)ly->act);
        am(&a, c->grads);
        au(&a, ly->b_off);
        if (launch(c, &a, ly->out, err) || product(c, REEL_GEMM_WEIGHT_GRAD, ly, n, A, g0, c->grads, ly->w_off, err))
            return -1;
        if (l || s->plr.k) { /* the input's gradient: the layer before's, or the embedding's */
            if (product(c, REEL_GEMM_INPUT_GRAD, ly, n, A, g0, g1, 0, err) ||
                (l && c->D[l - 1] && dropout(c, l - 1, step, g1, g1, n, err))) /* through the mask */
                return -1;
            reel_rt_mem *t = g0;
            g0 = g1;
            g1 = t;
        }
    }
    if (s->plr.k) { /* g0: d(loss)/d(embedding) */
        a = plr_args(c, REEL_K_PLR_BACKWARD, c->xb, n);
        am(&a, c->F);
        am(&a, c->E);
        am(&a, g0);
        am(&a, c->grads);
        if (launch(c, &a, s->layer[0].w_off - s->plr.c_off, err))
            return -1;
    }
    a = kargs(REEL_K_FINISH);
    am(&a, c->rowloss);
    ai(&a, (long)n);
    ad(&a, count);
    am(&a, c->grads);
    au(&a, s->n_params);
    al(&a, step);
    am(&a, c->batch_loss);
    am(&a, c->loss_acc);
    am(&a, c->bad_step);
    if (launch(c, &a, 0, err))
        return -1;
    rk_adamw_k k = reel_adamw_scalars(opt, step);
    a = kargs(REEL_K_ADAMW);
    am(&a, c->params);
    am(&a, c->grads);
    am(&a, c->m);
    am(&a, c->v);
    au(&a, s->n_params);
    af(&a, k.decay);
    af(&a, k.b1);
    af(&a, k.c1);
    af(&a, k.b2);
    af(&a, k.c2);
    af(&a, k.step_size);
    af(&a, k.bc2_sqrt);
    af(&a, k.eps);
    am(&a, c->bad_step);
    if (launch(c, &a, s->n_params, err))
        return -1;
    if (loss) { /* waits for the step: its flag comes along */
        int64_t bad = 0;
        if (get(c, c->batch_loss, 0, loss, sizeof *loss, err) || get(c, c->bad_step, 0, &bad, sizeof bad, err))
            return -1;
        c->bad_seen |= bad != 0;
    }
    return c->bad_seen;
}

static int dd_take_loss_sum(void *p, double *sum, reel_error *err)
{
    dnet *c = p;
    return get(c, c->loss_acc, 0, sum, sizeof *sum, err) || zero(c, c->loss_acc, sizeof(double), err) ? -1 : 0;
}

static int dd_first_bad_step(void *p, long *step, reel_error *err)
{
    dnet *c = p;
    int64_t v = 0;
    if (get(c, c->bad_step, 0, &v, sizeof v, err))
        return -1;
    *step = (long)v;
    c->bad_seen |= v != 0;
    return 0;
}

static int dd_get_moments(void *p, float *m, float *v, reel_error *err)
{
    dnet *c = p;
    size_t n = c->spec.n_params * sizeof(float);
    return get(c, c->m, 0, m, n, err) || get(c, c->v, 0, v, n, err) ? -1 : 0;
}

static int dd_set_moments(void *p, const float *m, const float *v, reel_error *err)
{
    dnet *c = p;
    size_t n = c->spec.n_params * sizeof(float);
    return put(c, c->m, m, n, err) || put(c, c->v, v, n, err) ? -1 : 0;
}

static int avg_alloc(dnet *c, reel_error *err)
{
    size_t n = c->spec.n_params;
    if (c->avg_sum)
        return 0;
    if (alloc(c, &c->avg_out, n * sizeof(float), "the moving average of the weights", err) ||
        alloc(c, &c->avg_sum, n * sizeof(double), "the moving average of the weights", err) ||
        zero(c, c->avg_sum, n * sizeof(double), err)) {
        rel(c->rt, &c->avg_sum); /* both or neither */
        rel(c->rt, &c->avg_out);
        return -1;
    }
    return 0;
}

/* Queued behind the steps: no wait for the device. */
static int dd_avg_update(void *p, double w, reel_error *err)
{
    dnet *c = p;
    if (avg_alloc(c, err))
        return -1;
    args a = kargs(REEL_K_AVG_UPDATE);
    am(&a, c->avg_sum);
    am(&a, c->params);
    au(&a, c->spec.n_params);
    ad(&a, w);
    return launch(c, &a, c->spec.n_params, err);
}

static int dd_get_avg(void *p, double weight, float *out, reel_error *err)
{
    dnet *c = p;
    if (avg_alloc(c, err))
        return -1;
    args a = kargs(REEL_K_AVG_GET);
    am(&a, c->avg_sum);
    au(&a, c->spec.n_params);
    ad(&a, weight);
    am(&a, c->avg_out);
    if (launch(c, &a, c->spec.n_params, err))
        return -1;
    return get(c, c->avg_out, 0, out, c->spec.n_params * sizeof(float), err);
}

static int dd_get_avg_sum(void *p, double *sum, reel_error *err)
{
    dnet *c = p;
    if (avg_alloc(c, err))
        return -1;
    return get(c, c->avg_sum, 0, sum, c->spec.n_params * sizeof(double), err);
}

static int dd_set_avg_sum(void *p, const double *sum, reel_error *err)
{
    dnet *c = p;
    if (avg_alloc(c, err))
        return -1;
    return put(c, c->avg_sum, sum, c->spec.n_params * sizeof(double), err);
}

/* Forward over X in chunks of RK_EVAL_CHUNK rows, each in passes of
 * c->pass rows (a wide net's buffers stay within REEL_NN_EVAL_FLOATS),
 * then the head over the whole chunk (so any pass size gives the same
 * bits); P and the summed loss (when Y) come back. The chunk buffers are
 * made at the first call. */
static int dd_eval(dnet *c, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    char what[64];
    snprintf(what, sizeof what, "the prediction buffers (%zu rows)", c->pass);
    size_t f = sizeof(float), w = s->max_width, R = RK_EVAL_CHUNK, k = c->pass;
    if (!c->ex && (alloc(c, &c->ex, k * s->d * f, what, err) || alloc(c, &c->ey, R * s->L * f, what, err) ||
                   alloc(c, &c->ea, k * w * f, what, err) || alloc(c, &c->eb, k * w * f, what, err) ||
                   alloc(c, &c->ep, R * s->L * f, what, err) || alloc(c, &c->erow, R * sizeof(double), what, err) ||
                   (k < R && alloc(c, &c->ez, R * s->L * f, what, err)) ||
                   (s->plr.k && (alloc(c, &c->eE, k * s->layer[0].in * f, what, err) ||
                                 alloc(c, &c->eF, reel_fused_plr_floats(s, k) * f, what, err))))) {
        rel(c->rt, &c->ex); /* all or none */
        return -1;
    }
    reel_rt_mem *bufs[REEL_NN_MAX_LAYERS];
    for (size_t l = 0; l < s->n_layers; l++)
        bufs[l] = l % 2 ? c->eb : c->ea;
    reel_rt_mem *out = bufs[s->n_layers - 1];
    if (zero(c, c->eval_acc, sizeof(double), err))
        return -1;
    for (size_t r0 = 0; r0 < n; r0 += R) {
        size_t m = n - r0 < R ? n - r0 : R;
        if (Y && put(c, c->ey, Y + r0 * s->L, m * s->L * f, err))
            return -1;
        for (size_t q = 0; q < m; q += k) { /* the passes; the logits gathered in ez when they split the chunk */
            size_t mq = m - q < k ? m - q : k;
            if (put(c, c->ex, X + (r0 + q) * s->d, mq * s->d * f, err) ||
                forward(c, c->ex, mq, c->eE, c->eF, bufs, NULL, 0, err) ||
                (mq < m && c->rt->copy(c->q, out, 0, c->ez, q * s->L * f, mq * s->L * f, err)))
                return -1;
        }
        if (head(c, k < m ? c->ez : out, Y ? c->ey : NULL, m, 0.0f, NULL, P ? c->ep : NULL, Y ? c->erow : NULL, err))
            return -1;
        if (Y) {
            args a = kargs(REEL_K_SUM);
            am(&a, c->erow);
            ai(&a, (long)m);
            am(&a, c->eval_acc);
            if (launch(c, &a, 0, err))
                return -1;
        }
        if (P && get(c, c->ep, 0, P + r0 * s->L, m * s->L * f, err))
            return -1;
    }
    if (loss) {
        double sum = 0.0;
        if (get(c, c->eval_acc, 0, &sum, sizeof sum, err))
            return -1;
        *loss = n ? sum / reel_cpu_head_count(s->head, n, s->L) : 0.0;
    }
    return 0;
}

static int dd_predict(void *p, const float *X, size_t n, float *P, reel_error *err)
{
    return dd_eval(p, X, NULL, n, NULL, P, err);
}

static int dd_eval_loss(void *p, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    return dd_eval(p, X, Y, n, loss, P, err);
}

static size_t dd_eval_rows(void *p) { return ((dnet *)p)->pass; }

/* ------------------------------------------------------ the fused epoch */

/* Whether the fused kernel takes this net at this batch size here. */
static int fused_fits(const dnet *c, size_t batch)
{
    if (getenv("REEL_NO_FUSED")) /* for comparisons: the step kernels only */
        return 0;
    size_t need = reel_fused_floats(&c->spec, batch) * sizeof(float);
    return batch <= RK_FUSED_ROWS && c->spec.n_params < 0x7fffffff && need <= c->lim.scratch;
}

static int fused_setup(dnet *c, size_t steps, size_t batch, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    if (!c->layers && alloc(c, &c->layers, RK_LY * s->n_layers * sizeof(int), "the layer table", err))
        return -1;
    if (s->plr.k && !c->plr_tab && alloc(c, &c->plr_tab, (RK_PL + s->d) * sizeof(int), "the PLR table", err))
        return -1;
    if (s->plr.k && batch > c->pf_rows) {
        if (c->rt->sync(c->q, err)) /* nothing may still use the old one */
            return -1;
        c->pf_rows = 0;
        if (alloc(c, &c->pf, reel_fused_plr_floats(s, batch) * sizeof(float), "the PLR features", err))
            return -1;
        c->pf_rows = batch;
    }
    if (steps > c->ep_cap) {
        if (c->rt->sync(c->q, err)) /* nothing may still read the old ones */
            return -1;
        c->ep_cap = 0;
        if (alloc(c, &c->ep_f, 2 * steps * sizeof(float), "an epoch's step scalars", err) ||
            alloc(c, &c->ep_a, steps * sizeof(double), "an epoch's step scalars", err))
            return -1;
        c->ep_cap = steps;
    }
    return 0;
}

/* The layer table for steps of `batch` rows (nn/fused_plan.h). */
static int fused_layers(dnet *c, size_t batch, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    int t[RK_LY * REEL_NN_MAX_LAYERS];
    reel_fused_layers(s, batch, t);
    if (put(c, c->layers, t, RK_LY * s->n_layers * sizeof(int), err))
        return -1;
    if (!s->plr.k)
        return 0;
    int *pt = malloc((RK_PL + s->d) * sizeof *pt);
    if (!pt)
        return reel_fail(err, "out of memory");
    reel_fused_plr(s, batch, c->plr_cols, pt);
    int e = put(c, c->plr_tab, pt, (RK_PL + s->d) * sizeof *pt, err);
    free(pt);
    return e;
}

static int dd_train_epoch(void *p, size_t batch, const reel_adamw *opt, long first_step, const double *avg_a,
                          reel_error *err)
{
    dnet *c = p;
    const reel_nn_spec *s = &c->spec;
    size_t n = c->n_order;
    if (batch == 0 || n == 0)
        return reel_fail(err, "train epoch: batch %zu over a row order of %zu", batch, n);
    size_t steps = (n + batch - 1) / batch;
    if (!fused_fits(c, batch) || n > 0x7fffffff) { /* the layered kernels, step by step */
        for (size_t k = 0; k < steps; k++) {
            size_t start = k * batch, m = n - start < batch ? n - start : batch;
            int r = dd_train_step(c, start, m, opt, first_step + (long)k + 1, NULL, err);
            if (r != 0)
                return r;
            if (avg_a && avg_a[k] >= 0 && dd_avg_update(c, avg_a[k], err))
                return -1;
        }
        long bad = 0;
        return dd_first_bad_step(c, &bad, err) ? -1 : bad != 0;
    }
    if (fused_setup(c, steps, batch, err) || fused_layers(c, batch, err) || (avg_a && avg_alloc(c, err)))
        return -1;
    float *f = malloc(2 * steps * sizeof *f);
    if (!f)
        return reel_fail(err, "out of memory");
    reel_fused_steps(opt, first_step, steps, f);
    int e = put(c, c->ep_f, f, 2 * steps * sizeof *f, err);
    free(f);
    if (e || (avg_a && put(c, c->ep_a, avg_a, steps * sizeof *avg_a, err)))
        return -1;
    rk_adamw_k k0 = reel_adamw_scalars(opt, first_step + 1);
    args a = kargs(REEL_K_FUSED);
    am(&a, c->data->X);
    am(&a, c->data->Y);
    am(&a, c->order);
    ai(&a, (long)n);
    ai(&a, (long)batch);
    ai(&a, (long)s->d);
    ai(&a, (long)s->L);
    ai(&a, (long)s->head);
    ai(&a, (long)s->n_layers);
    am(&a, c->layers);
    ai(&a, (long)s->max_width);
    am(&a, c->params);
    am(&a, c->grads);
    am(&a, c->m);
    am(&a, c->v);
    au(&a, s->n_params);
    af(&a, k0.decay);
    af(&a, k0.b1);
    af(&a, k0.c1);
    af(&a, k0.b2);
    af(&a, k0.c2);
    af(&a, k0.eps);
    am(&a, c->ep_f);
    am(&a, c->ep_a);
    am(&a, avg_a ? c->avg_sum : NULL);
    al(&a, first_step);
    au(&a, s->seed);
    am(&a, c->batch_loss);
    am(&a, c->loss_acc);
    am(&a, c->bad_step);
    am(&a, s->plr.k ? c->plr_tab : NULL);
    am(&a, s->plr.k ? c->pf : NULL);
    long bad = 0;
    size_t scratch = reel_fused_floats(s, batch) * sizeof(float);
    if (c->rt->launch(c->q, a.k, 1, c->reduce, scratch, a.a, a.n, err) ||
        dd_first_bad_step(c, &bad, err)) /* one wait per epoch */
        return -1;
    return bad != 0;
}

/* ------------------------------------------------- many nets, one launch */

/* Whether net c can join a launch led by net lead: the same device and the
 * same training data (or the first rows of it: a fold), and the fused
 * kernel takes it at its batch size. */
static int joins(const dnet *lead, const dnet *c, size_t batch)
{
    return c->rt == lead->rt && c->device == lead->device && c->data && c->host_X == lead->host_X &&
           c->host_Y == lead->host_Y && c->n_data <= lead->n_data && c->spec.d == lead->spec.d &&
           c->spec.L == lead->spec.L && batch > 0 && c->n_order > 0 && c->n_order <= 0x7fffffff &&
           fused_fits(c, batch);
}

/* The buffers of one launch over M nets (the net table, their layer
 * tables, row orders, step scalars and the state every net has), made for
 * the launch and released after it. */
typedef struct {
    reel_rt_mem *nets, *hyper, *layers, *orders, *params, *grads, *m, *v, *step_f, *avg_a, *avg_sum, *loss, *acc,
        *bad, *plr, *plr_f;
} many_bufs;

static void many_release(const reel_rt_ops *rt, many_bufs *u)
{
    reel_rt_mem **all[] = {&u->nets,   &u->hyper,  &u->layers, &u->orders,  &u->params, &u->grads, &u->m,
                           &u->v,      &u->step_f, &u->avg_a,  &u->avg_sum, &u->loss,   &u->acc,   &u->bad,
                           &u->plr,    &u->plr_f};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        rel(rt, all[i]);
}

/* The state of every net into the launch's buffers (state_in) or back, as
 * device-to-device copies on the leader's queue. */
static int many_move(dnet **cs, size_t M, const reel_fused_plan *pl, many_bufs *u, int state_in, reel_error *err)
{
    dnet *lead = cs[0];
    size_t po = 0, oo = 0;
    for (size_t g = 0; g < M; g++) {
        dnet *c = cs[g];
        size_t np = c->spec.n_params, f = sizeof(float);
        int64_t ao = pl->nt[RK_NT * g + RK_NT_AVG_OFF]; /* its moving average's place, or -1 */
        struct {
            reel_rt_mem *net, *all;
            size_t at, bytes;
        } mv[] = {
            {c->params, u->params, po * f, np * f},
            {c->m, u->m, po * f, np * f},
            {c->v, u->v, po * f, np * f},
            {c->grads, u->grads, po * f, state_in ? 0 : np * f},
            {c->avg_sum, u->avg_sum, (size_t)(ao < 0 ? 0 : ao) * sizeof(double), ao < 0 ? 0 : np * sizeof(double)},
            {c->order, u->orders, oo * sizeof(uint32_t), state_in ? c->n_order * sizeof(uint32_t) : 0},
            {c->loss_acc, u->acc, g * sizeof(double), sizeof(double)},
            {c->bad_step, u->bad, g * sizeof(int64_t), sizeof(int64_t)},
            {c->batch_loss, u->loss, g * sizeof(float), state_in ? 0 : sizeof(float)},
        };
        for (size_t i = 0; i < sizeof mv / sizeof *mv; i++) {
            if (mv[i].bytes == 0)
                continue;
            int r = state_in ? lead->rt->copy(lead->q, mv[i].net, 0, mv[i].all, mv[i].at, mv[i].bytes, err)
                             : lead->rt->copy(lead->q, mv[i].all, mv[i].at, mv[i].net, 0, mv[i].bytes, err);
            if (r)
                return -1;
        }
        po += np;
        oo += c->n_order;
    }
    return 0;
}

/* One launch of rk_fused_epochs over nets cs[0..M) (all joining cs[0]):
 * group g trains net g, as rk_fused_epoch trains it alone. */
static int many_launch(dnet **cs, size_t M, const size_t *batch, const reel_adamw *const *opt,
                       const long *first_step, const double *const *avg_a, int *bad, reel_error *err)
{
    dnet *lead = cs[0];
    reel_fused_plan pl;
    many_bufs u;
    memset(&u, 0, sizeof u);
    memset(&pl, 0, sizeof pl);
    reel_fused_net *nets = malloc(M * sizeof *nets);
    for (size_t g = 0; nets && g < M; g++)
        nets[g] = (reel_fused_net){&cs[g]->spec, cs[g]->n_order, batch[g], opt[g], first_step[g], avg_a[g],
                                   cs[g]->plr_cols};
    int rc = !nets || reel_fused_plan_make(nets, M, &pl) ? reel_fail(err, "out of memory") : 0;
    free(nets);
    for (size_t g = 0; g < M && rc == 0; g++) /* the launch reads what each net's queue wrote */
        if ((avg_a[g] && avg_alloc(cs[g], err)) || cs[g]->rt->sync(cs[g]->q, err))
            rc = -1;
    size_t f = sizeof(float), P = pl.params, i8 = sizeof(int64_t);
    const char *what = "a launch of many nets";
    if (rc == 0 &&
        (alloc(lead, &u.nets, M * RK_NT * i8, what, err) || alloc(lead, &u.hyper, M * RK_NF * f, what, err) ||
         alloc(lead, &u.layers, pl.layers * sizeof(int), what, err) ||
         alloc(lead, &u.orders, pl.orders * sizeof(uint32_t), what, err) || alloc(lead, &u.params, P * f, what, err) ||
         alloc(lead, &u.grads, P * f, what, err) || alloc(lead, &u.m, P * f, what, err) ||
         alloc(lead, &u.v, P * f, what, err) || alloc(lead, &u.step_f, 2 * pl.steps * f, what, err) ||
         alloc(lead, &u.avg_a, pl.steps * sizeof(double), what, err) ||
         alloc(lead, &u.avg_sum, pl.avg * sizeof(double), what, err) || alloc(lead, &u.loss, M * f, what, err) ||
         alloc(lead, &u.acc, M * sizeof(double), what, err) || alloc(lead, &u.bad, M * i8, what, err) ||
         alloc(lead, &u.plr, pl.plr * sizeof(int), what, err) || alloc(lead, &u.plr_f, pl.plr_f * f, what, err) ||
         put(lead, u.plr, pl.pl, pl.plr * sizeof(int), err) ||
         put(lead, u.nets, pl.nt, M * RK_NT * i8, err) || put(lead, u.hyper, pl.hy, M * RK_NF * f, err) ||
         put(lead, u.layers, pl.ly, pl.layers * sizeof(int), err) || put(lead, u.step_f, pl.sf, 2 * pl.steps * f, err) ||
         put(lead, u.avg_a, pl.aa, pl.steps * sizeof(double), err) || many_move(cs, M, &pl, &u, 1, err)))
        rc = -1;
    if (rc == 0) {
        args a = kargs(REEL_K_FUSED_MANY);
        am(&a, lead->data->X);
        am(&a, lead->data->Y);
        ai(&a, (long)lead->spec.d);
        ai(&a, (long)lead->spec.L);
        am(&a, u.nets);
        am(&a, u.hyper);
        am(&a, u.layers);
        am(&a, u.orders);
        am(&a, u.params);
        am(&a, u.grads);
        am(&a, u.m);
        am(&a, u.v);
        am(&a, u.step_f);
        am(&a, u.avg_a);
        am(&a, u.avg_sum);
        am(&a, u.loss);
        am(&a, u.acc);
        am(&a, u.bad);
        am(&a, u.plr);
        am(&a, u.plr_f);
        if (lead->rt->launch(lead->q, a.k, M, lead->reduce, pl.scratch * f, a.a, a.n, err))
            rc = -1;
    }
    int64_t *bads = rc == 0 ? malloc(M * sizeof *bads) : NULL;
    if (rc == 0 && !bads)
        rc = reel_fail(err, "out of memory");
    if (rc == 0 && (many_move(cs, M, &pl, &u, 0, err) || get(lead, u.bad, 0, bads, M * sizeof *bads, err)))
        rc = -1;
    for (size_t g = 0; rc == 0 && g < M; g++) {
        bad[g] = bads[g] != 0;
        cs[g]->bad_seen |= bad[g];
    }
    reel_error ignored;
    lead->rt->sync(lead->q, rc ? &ignored : err); /* before the buffers go */
    free(bads);
    many_release(lead->rt, &u);
    reel_fused_plan_free(&pl);
    return rc;
}

/* K nets' epochs: those that can (the same device and data as the first
 * that can, and the fused kernel takes them) in one launch, the rest each
 * alone. Every net ends as train_epoch would leave it. */
static int dd_train_epochs(void *const *b, size_t K, const size_t *batch, const reel_adamw *const *opt,
                           const long *first_step, const double *const *avg_a, int *bad, size_t *shared,
                           reel_error *err)
{
    size_t n = K ? K : 1;
    dnet **cs = malloc(n * sizeof *cs);
    size_t *mb = malloc(n * sizeof *mb), *idx = malloc(n * sizeof *idx);
    const reel_adamw **mo = malloc(n * sizeof *mo);
    long *mf = malloc(n * sizeof *mf);
    const double **ma = malloc(n * sizeof *ma);
    int *mbad = malloc(n * sizeof *mbad);
    int rc = 0;
    if (!cs || !mb || !idx || !mo || !mf || !ma || !mbad)
        rc = reel_fail(err, "out of memory");
    size_t M = 0;
    dnet *lead = NULL;
    for (size_t i = 0; rc == 0 && i < K; i++) {
        dnet *c = b[i];
        if (!lead && joins(c, c, batch[i]))
            lead = c;
        if (lead && joins(lead, c, batch[i])) {
            cs[M] = c;
            mb[M] = batch[i];
            mo[M] = opt[i];
            mf[M] = first_step[i];
            ma[M] = avg_a ? avg_a[i] : NULL;
            idx[M++] = i;
        } else {
            int r = dd_train_epoch(c, batch[i], opt[i], first_step[i], avg_a ? avg_a[i] : NULL, err);
            if (r < 0)
                rc = -1;
            bad[i] = r > 0;
        }
    }
    if (rc == 0 && M > 0 && many_launch(cs, M, mb, mo, mf, ma, mbad, err))
        rc = -1;
    for (size_t g = 0; rc == 0 && g < M; g++)
        bad[idx[g]] = mbad[g];
    if (shared)
        *shared = M;
    free(cs);
    free(mb);
    free(idx);
    free(mo);
    free(mf);
    free(ma);
    free(mbad);
    return rc;
}

void reel_driver_backend(reel_nn_backend *b, const char *name,
                         void *(*make)(const reel_nn_spec *spec, int device, int threads, reel_error *err))
{
    memset(b, 0, sizeof *b);
    b->name = name;
    b->create = make;
    b->set_params = dd_set_params;
    b->get_params = dd_get_params;
    b->get_grads = dd_get_grads;
    b->set_data = dd_set_data;
    b->set_order = dd_set_order;
    b->train_step = dd_train_step;
    b->take_loss_sum = dd_take_loss_sum;
    b->first_bad_step = dd_first_bad_step;
    b->get_moments = dd_get_moments;
    b->set_moments = dd_set_moments;
    b->avg_update = dd_avg_update;
    b->get_avg = dd_get_avg;
    b->get_avg_sum = dd_get_avg_sum;
    b->set_avg_sum = dd_set_avg_sum;
    b->predict = dd_predict;
    b->eval_loss = dd_eval_loss;
    b->destroy = dd_destroy;
    b->train_epoch = dd_train_epoch;
    b->train_epochs = dd_train_epochs;
    b->share_data = dd_share_data;
    b->eval_rows = dd_eval_rows;
}
