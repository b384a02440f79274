/* The "mlp" model kind: a net built from a layer list (models/box.json and
 * models/u.json are two definitions of it), trained with AdamW by
 * nn/train.c on the backend --device names (nn/device.h).
 *
 * Saved as torch's nn.Sequential state_dict would name it (see nn/spec.h):
 * "<i>.weight" (out x in) and "<i>.bias" (out) for the Linear at module
 * index i, so `net.load_state_dict` on the same Sequential takes the file.
 *
 * The kind takes the raw features and applies its own input transform
 * (nn/input.h: "auto" or "standard"), fitted on the training rows and kept
 * in the file's kind state as "input" (not among the tensors, so the
 * state_dict stays torch's).
 *
 * "ensemble": K > 1 trains K nets of the same layers together (nn/train.h's
 * reel_nn_train_many: one launch per epoch on a device), member k from its
 * own seed (reel_mlp_member_seed), and predicts the mean of their
 * probabilities. Member 0 is saved under the names above, member k >= 1 as
 * "ensemble.<k>.<i>.weight" and ".bias"; the history and the epochs
 * reported are member 0's.
 *
 * "members": "cross-fit" trains member k on K - 1 folds of the training +
 * validation rows and early-stops it on fold k (nn/folds.h); the fit keeps
 * each pooled row's probability from the member that held it out
 * (oof_proba), on which eval/run.c chooses the decision rule. The input
 * transform and "balanced" pos_weight are then fitted on the pooled rows;
 * the file and predict are as for any ensemble. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "nn/backend.h"
#include "nn/device.h"
#include "nn/folds.h"
#include "nn/input.h"
#include "nn/mlp_params.h"
#include "nn/spec.h"
#include "nn/train.h"
#include "util/log.h"

typedef struct {
    reel_nn_spec spec;
    reel_nn_input input; /* raw features -> what the net sees */
    const reel_nn_backend *be;
    size_t K;      /* members (1: a plain net) */
    void **b;      /* K backend states: hold the trained parameters; predict */
    float *params; /* K x n_params host copy, for save */
    float *pos_w;  /* the loss's per-label positive weights (NULL: none) */
    char device[300];
    int dev; /* the device number be's create takes */
    reel_nn_train_result train; /* member 0's */
    float *oof;   /* cross-fit: n_oof x L out-of-fold probabilities (not saved) */
    size_t n_oof;
} mlp_state;

static void mlp_free(void *p)
{
    mlp_state *s = p;
    if (!s)
        return;
    for (size_t k = 0; s->b && k < s->K; k++)
        if (s->b[k])
            s->be->destroy(s->b[k]);
    free(s->b);
    free(s->params);
    free(s->pos_w);
    free(s->oof);
    reel_nn_input_free(&s->input);
    reel_history_free(&s->train.history);
    free(s);
}

/* The state's K member slots (backend states and parameters, unset). */
static int alloc_members(mlp_state *s, size_t K, reel_error *err)
{
    s->K = K;
    if (!(s->b = calloc(K, sizeof *s->b)) || !(s->params = malloc(K * s->spec.n_params * sizeof(float))))
        return reel_fail(err, "out of memory for %zu x %zu parameters", K, s->spec.n_params);
    return 0;
}

/* Member k's tensor name for layer module index m ("weight" or "bias"). */
static void member_name(char *buf, size_t n, size_t k, int m, const char *what)
{
    if (k == 0)
        snprintf(buf, n, "%d.%s", m, what);
    else
        snprintf(buf, n, "ensemble.%zu.%d.%s", k, m, what);
}

/* The nets a state trains: one per member, each with its own seed and, past
 * member 0, its own name (NAME.k) and no history file (member 0's is the
 * model's). ctxs[k] and names[k] are filled from ctx. */
typedef struct {
    reel_nn_train_opts o;
    reel_fit_ctx ctx;
    reel_log log; /* members past 0: their epochs and warnings (their notes would repeat member 0's) */
    char name[128];
    char checkpoint[4200];
} mlp_member;

static void member_setup(const mlp_state *s, const reel_nn_train_opts *o, const reel_fit_ctx *ctx, size_t k,
                         mlp_member *m, reel_nn_net *net)
{
    m->o = *o;
    m->o.seed = reel_mlp_member_seed(o->seed, (long)k);
    m->o.member = (long)k;
    m->o.members = (long)s->K;
    m->o.ensemble = ctx->name ? ctx->name : "mlp";
    m->ctx = *ctx;
    if (k > 0) {
        snprintf(m->name, sizeof m->name, "%s.%zu", ctx->name ? ctx->name : "mlp", k);
        m->ctx.name = m->name;
        m->ctx.out_dir = NULL;
        if (ctx->log) {
            m->log = reel_log_progress_and_warnings(ctx->log);
            m->ctx.log = &m->log;
        }
        if (o->checkpoint) {
            snprintf(m->checkpoint, sizeof m->checkpoint, "%s.member%zu", o->checkpoint, k);
            m->o.checkpoint = m->checkpoint;
        }
    }
    *net = (reel_nn_net){s->be, s->b[k], &s->spec};
}

/* Without a threshold param: see nn/mlp_params.c. (A params miss here is
 * reported by the fit that follows.) */
static float mlp_default_threshold(const cJSON *params, size_t L)
{
    reel_mlp_params p;
    reel_error e;
    return reel_mlp_params_get(params, L, 0, &p, &e) == 0 ? p.train.threshold : 0.5f;
}

static const reel_history *mlp_history(const void *p) { return &((const mlp_state *)p)->train.history; }

static int mlp_check(const cJSON *params, reel_error *err)
{
    reel_error e;
    if (reel_nn_layers_check(cJSON_GetObjectItemCaseSensitive(params, "layers"), &e))
        return reel_fail(err, "params for mlp: key 'layers': %s", e.msg);
    reel_nn_spec probe; /* width with the layers: d and L do not matter here */
    if (reel_nn_spec_from_params(&probe, params, 1, 1, &e))
        return reel_fail(err, "params for mlp: %s", e.msg);
    reel_mlp_params p;
    return reel_mlp_params_get(params, 1, 0, &p, err);
}

static int build_spec(const cJSON *params, size_t d, size_t L, reel_nn_spec *spec, reel_error *err)
{
    reel_error e;
    if (reel_nn_spec_from_params(spec, params, d, L, &e))
        return reel_fail(err, "mlp: %s", e.msg);
    return 0;
}

/* n x d floats (at least one, so zero rows is not a failure). */
static float *alloc_rows(size_t n, size_t d)
{
    size_t count = n * d;
    return malloc((count ? count : 1) * sizeof(float));
}

/* A state ready to train: the layers, the backend, the initial parameters
 * and the input transform, fitted on ctx's training rows. */
static mlp_state *mlp_begin(const cJSON *params, const reel_fit_ctx *ctx, reel_mlp_params *mp, reel_error *err)
{
    if (reel_mlp_params_get(params, ctx->L, ctx->seed, mp, err))
        return NULL;
    mlp_state *s = calloc(1, sizeof *s);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    /* The transform is fitted on the training rows only; the net trains
     * and validates on transformed copies. It also says which columns are
     * numeric, which a PLR embedding's size follows. */
    if (reel_nn_input_fit(&s->input, mp->input, ctx->X, ctx->n, ctx->d, err))
        goto fail;
    if (build_spec(params, ctx->d, ctx->L, &s->spec, err))
        goto fail;
    /* a multiclass target's one-hot rows: softmax and cross-entropy, whatever "head" says */
    if (ctx->target == REEL_TARGET_MULTICLASS) {
        if (mp->pos_mode != REEL_POSW_NONE) {
            reel_fail(err, "params for mlp: key 'pos_weight' is for the sigmoid head; a multi-class target "
                      "trains the softmax head");
            goto fail;
        }
        s->spec.head = REEL_HEAD_SOFTMAX;
    }
    reel_nn_spec_set_numeric(&s->spec, s->input.numeric);
    if (!(s->be = reel_nn_device_open(ctx->device, ctx->name ? ctx->name : "mlp", ctx->log, &s->dev, s->device,
                                        sizeof s->device, err)))
        goto fail;
    const char *cpu_kind = reel_nn_spec_cpu_only(&s->spec);
    if (cpu_kind && s->be != &reel_nn_cpu_backend) {
        reel_log_msg(ctx->log, REEL_LOG_WARNING, "%s: layer kind %s is on the CPU backend only (not %s yet): it "
                     "trains on the CPU", ctx->name ? ctx->name : "mlp", cpu_kind, s->device);
        s->be = &reel_nn_cpu_backend;
        s->dev = 0;
        snprintf(s->device, sizeof s->device, "cpu");
    }
    if (alloc_members(s, (size_t)mp->ensemble, err))
        goto fail;
    if (mp->pos_mode != REEL_POSW_NONE) {
        if (!(s->pos_w = malloc(ctx->L * sizeof *s->pos_w))) {
            reel_fail(err, "out of memory");
            goto fail;
        }
        if (reel_mlp_pos_weights(mp, ctx->Y, ctx->n, ctx->L, s->pos_w, err))
            goto fail;
        mp->train.pos_weight = s->pos_w;
    }
    size_t np = s->spec.n_params;
    for (size_t k = 0; k < s->K; k++) {
        reel_nn_spec member = s->spec; /* its own dropout masks */
        member.seed = reel_mlp_member_seed(mp->train.seed, (long)k);
        reel_nn_init_params(&s->spec, member.seed, s->params + k * np);
        if (!(s->b[k] = s->be->create(&member, s->dev, ctx->threads, err)) ||
            s->be->set_params(s->b[k], s->params + k * np, err))
            goto fail;
    }
    return s;
fail:
    mlp_free(s);
    return NULL;
}

/* Members trained each alone, on up to `threads` threads (nested OpenMP
 * regions of the CPU backend then run on one thread: the same bits); the
 * first failing member's error is reported. */
static int train_apart(const reel_nn_net *nets, const reel_nn_train_opts *const *op, const reel_fit_ctx *const *cp,
                       reel_nn_train_result *res, size_t K, int threads, reel_error *err)
{
    size_t first = K;
    reel_error e0 = {{0}};
    int workers = threads > 1 ? (threads < (int)K ? threads : (int)K) : 1;
#pragma omp parallel for schedule(dynamic) num_threads(workers)
    for (size_t k = 0; k < K; k++) {
        reel_error e;
        if (reel_nn_train(&nets[k], op[k], cp[k], &res[k], &e)) {
#pragma omp critical(reel_mlp_members)
            if (k < first) {
                first = k;
                e0 = e;
            }
        }
    }
    if (first < K) {
        *err = e0;
        return -1;
    }
    return 0;
}

/* A plain net alone (reel_nn_train); an ensemble's members together, each
 * on ctx's rows or, cross-fitted, on its own (folds[k], else NULL). */
static int train_members(mlp_state *s, const reel_nn_train_opts *o, const reel_fit_ctx *ctx,
                         const reel_nn_fold *folds, reel_error *err)
{
    if (s->K == 1) {
        reel_nn_net net = {s->be, s->b[0], &s->spec};
        return reel_nn_train(&net, o, ctx, &s->train, err);
    }
    size_t K = s->K;
    mlp_member *m = calloc(K, sizeof *m);
    reel_nn_net *nets = calloc(K, sizeof *nets);
    const reel_nn_train_opts **op = calloc(K, sizeof *op);
    const reel_fit_ctx **cp = calloc(K, sizeof *cp);
    reel_nn_train_result *res = calloc(K, sizeof *res);
    int rc = 0;
    if (!m || !nets || !op || !cp || !res)
        rc = reel_fail(err, "out of memory");
    for (size_t k = 0; rc == 0 && k < K; k++) {
        member_setup(s, o, ctx, k, &m[k], &nets[k]);
        if (folds) {
            m[k].ctx.X = folds[k].X;
            m[k].ctx.Y = folds[k].Y;
            m[k].ctx.n = folds[k].n;
            m[k].ctx.Xv = folds[k].Xv;
            m[k].ctx.Yv = folds[k].Yv;
            m[k].ctx.nv = folds[k].nv;
        }
        op[k] = &m[k].o;
        cp[k] = &m[k].ctx;
    }
    /* With a checkpoint, member by member, each in its own file (FILE for
     * member 0, FILE.member<k> for the others); on the CPU backend with
     * threads, the members in parallel threads; on a device, together
     * (one launch per epoch). Each way a member ends with the same bits. */
    int cpu = s->be == &reel_nn_cpu_backend;
    if (rc == 0 && (o->checkpoint || (cpu && ctx->threads > 1)))
        rc = train_apart(nets, op, cp, res, K, o->checkpoint ? 1 : ctx->threads, err);
    else if (rc == 0)
        rc = reel_nn_train_many(nets, op, cp, NULL, res, K, NULL, err);
    if (res) {
        s->train = res[0];
        memset(&res[0], 0, sizeof res[0]);
        for (size_t k = 1; k < K; k++)
            reel_history_free(&res[k].history);
    }
    free(m);
    free(nets);
    free(op);
    free(cp);
    free(res);
    return rc;
}

/* Trains the members of s (rows transformed in tctx; folds: see
 * train_members) and keeps their parameters. */
static int train_and_keep(mlp_state *s, const reel_mlp_params *mp, const cJSON *params, const reel_fit_ctx *tctx,
                          const reel_nn_fold *folds, reel_error *err)
{
    reel_nn_train_opts o = mp->train;
    o.checkpoint = tctx->checkpoint;
    cJSON *run = NULL; /* with a checkpoint: which run it belongs to */
    if (tctx->checkpoint &&
        (!(run = cJSON_CreateObject()) || !cJSON_AddStringToObject(run, "model", tctx->name ? tctx->name : "mlp") ||
         !cJSON_AddItemToObject(run, "params", cJSON_Duplicate(params, 1)))) {
        cJSON_Delete(run);
        return reel_fail(err, "out of memory");
    }
    o.run = run;
    int bad = train_members(s, &o, tctx, folds, err);
    for (size_t k = 0; !bad && k < s->K; k++)
        bad = s->be->get_params(s->b[k], s->params + k * s->spec.n_params, err);
    cJSON_Delete(run);
    return bad ? -1 : 0;
}

/* Each pooled row's probability from the member that held it out. */
static int keep_oof(mlp_state *s, const reel_nn_fold *folds, size_t n, reel_error *err)
{
    size_t L = s->spec.L, most = 1;
    for (size_t k = 0; k < s->K; k++)
        most = folds[k].nv > most ? folds[k].nv : most;
    float *Pk = malloc(most * L * sizeof *Pk);
    if (!(s->oof = malloc((n ? n : 1) * L * sizeof *s->oof)) || !Pk) {
        free(Pk);
        return reel_fail(err, "out of memory for %zu out-of-fold probabilities", n);
    }
    s->n_oof = n;
    for (size_t k = 0; k < s->K; k++) {
        if (folds[k].nv && s->be->predict(s->b[k], folds[k].Xv, folds[k].nv, Pk, err)) {
            free(Pk);
            return -1;
        }
        for (size_t i = 0; i < folds[k].nv; i++)
            memcpy(s->oof + folds[k].held[i] * L, Pk + i * L, L * sizeof *Pk);
    }
    free(Pk);
    return 0;
}

/* "members": "cross-fit": the training and validation rows pooled, the
 * transform fitted on them, member k on the folds but k (nn/folds.h). */
static void *crossfit_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    size_t n = ctx->n + ctx->nv, d = ctx->d, L = ctx->L, K = 0;
    float *X = alloc_rows(n, d), *Xt = alloc_rows(n, d);
    uint8_t *Y = malloc((n ? n : 1) * L);
    int *fold = malloc((n ? n : 1) * sizeof *fold);
    reel_nn_fold *folds = NULL;
    mlp_state *s = NULL;
    reel_mlp_params mp;
    if (!X || !Xt || !Y || !fold) {
        reel_fail(err, "out of memory for the net's input");
        goto fail;
    }
    memcpy(X, ctx->X, ctx->n * d * sizeof *X);
    if (ctx->nv)
        memcpy(X + ctx->n * d, ctx->Xv, ctx->nv * d * sizeof *X);
    memcpy(Y, ctx->Y, ctx->n * L);
    if (ctx->nv)
        memcpy(Y + ctx->n * L, ctx->Yv, ctx->nv * L);
    reel_fit_ctx pool = *ctx;
    pool.X = X;
    pool.Y = Y;
    pool.n = n;
    pool.Xv = NULL;
    pool.Yv = NULL;
    pool.nv = 0;
    if (!(s = mlp_begin(params, &pool, &mp, err)) ||
        reel_mlp_folds(n, mp.ensemble, mp.train.seed, fold, err))
        goto fail;
    reel_nn_input_apply(&s->input, X, n, Xt);
    K = s->K;
    if (!(folds = calloc(K, sizeof *folds))) {
        reel_fail(err, "out of memory");
        goto fail;
    }
    if (reel_nn_folds_make(folds, s->K, fold, Xt, Y, n, d, L, err) ||
        train_and_keep(s, &mp, params, &pool, folds, err) || keep_oof(s, folds, n, err))
        goto fail;
    goto done;
fail:
    mlp_free(s);
    s = NULL;
done:
    reel_nn_folds_free(folds, K);
    free(folds);
    free(X);
    free(Xt);
    free(Y);
    free(fold);
    return s;
}

static void *mlp_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    float *Xt = NULL, *Xvt = NULL;
    reel_mlp_params mp;
    if (reel_mlp_params_get(params, ctx->L, ctx->seed, &mp, err))
        return NULL;
    if (mp.cross_fit)
        return crossfit_fit(params, ctx, err);
    mlp_state *s = mlp_begin(params, ctx, &mp, err);
    if (!s)
        return NULL;
    reel_fit_ctx tctx = *ctx;
    Xt = alloc_rows(ctx->n, ctx->d);
    Xvt = alloc_rows(ctx->nv, ctx->d);
    if (!Xt || !Xvt) {
        reel_fail(err, "out of memory for the net's input");
        goto fail;
    }
    reel_nn_input_apply(&s->input, ctx->X, ctx->n, Xt);
    reel_nn_input_apply(&s->input, ctx->Xv, ctx->nv, Xvt);
    tctx.X = Xt;
    tctx.Xv = Xvt;
    if (train_and_keep(s, &mp, params, &tctx, NULL, err))
        goto fail;
    free(Xt);
    free(Xvt);
    return s;
fail:
    free(Xt);
    free(Xvt);
    mlp_free(s);
    return NULL;
}

/* fit_many: nets that see the same rows through the same transform (the
 * trials of a search on one fold) share one transformed copy of them, and
 * the copies of every fold lie one after another in one block, so a device
 * holds the data once and trains every net in one launch per epoch
 * (nn/train.h, reel_nn_train_many). Nets of another input width (feature
 * subsets) go in a block, and a launch, of their own. */
typedef struct {
    const reel_fit_ctx *ctx; /* the first fit on these rows */
    reel_nn_input_mode mode;
    size_t row0;       /* where the rows start in their block */
    float *Xt, *Xvt;   /* transformed training and validation rows */
    size_t block;      /* the block (input width) it lies in */
} mlp_rows;

static int same_rows(const reel_fit_ctx *a, const reel_fit_ctx *b)
{
    return a->X == b->X && a->Y == b->Y && a->n == b->n && a->d == b->d && a->L == b->L && a->Xv == b->Xv &&
           a->nv == b->nv;
}

typedef struct {
    size_t d, L, n;
    float *X;
    uint8_t *Y;
} mlp_block;

/* Whether a net of these params has a layer kind only the CPU backend
 * has (it then trains there, alone: see mlp_begin). */
static int cpu_only(const cJSON *params, const reel_fit_ctx *ctx)
{
    reel_nn_spec spec;
    reel_error ignored;
    return reel_nn_spec_from_params(&spec, params, ctx->d, ctx->L, &ignored) == 0 && reel_nn_spec_cpu_only(&spec);
}

/* Whether its members are cross-fitted: each on rows of its own, so the
 * net trains alone (its members still together on a device). */
static int cross_fitted(const cJSON *params)
{
    reel_mlp_params mp;
    reel_error ignored;
    return reel_mlp_params_get(params, 1, 0, &mp, &ignored) == 0 && mp.cross_fit;
}

static int mlp_fit_many(const cJSON *const *params, const reel_fit_ctx *const *ctx, size_t K, void **states,
                        size_t *shared, reel_error *err)
{
    int alone = 0;
    for (size_t i = 0; i < K; i++)
        alone |= cpu_only(params[i], ctx[i]) || cross_fitted(params[i]);
    if (alone) { /* one by one; the first failure fails them all */
        for (size_t i = 0; i < K; i++) {
            if (shared)
                shared[i] = 0;
            if (!(states[i] = mlp_fit(params[i], ctx[i], err))) {
                while (i-- > 0)
                    mlp_free(states[i]);
                return -1;
            }
        }
        return 0;
    }
    size_t n = K ? K : 1, n_rows = 0, n_blocks = 0;
    mlp_state **s = calloc(n, sizeof *s);
    reel_mlp_params *mp = calloc(n, sizeof *mp);
    size_t *at = calloc(n, sizeof *at); /* each fit's rows */
    mlp_rows *rows = calloc(n, sizeof *rows);
    mlp_block *blocks = calloc(n, sizeof *blocks);
    reel_fit_ctx *tctx = calloc(n, sizeof *tctx);
    int rc = 0;
    if (!s || !mp || !at || !rows || !blocks || !tctx)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < K; i++) {
        if (!(s[i] = mlp_begin(params[i], ctx[i], &mp[i], err))) {
            rc = -1;
            break;
        }
        if (ctx[i]->checkpoint)
            rc = reel_fail(err, "%s: nets trained together keep no checkpoint", ctx[i]->name ? ctx[i]->name : "mlp");
        if (i && s[i]->be != s[0]->be)
            rc = reel_fail(err, "nets trained together must share one device (%s, not %s)", s[0]->device,
                           s[i]->device);
        size_t r = 0;
        while (r < n_rows && !(same_rows(rows[r].ctx, ctx[i]) && rows[r].mode == mp[i].input))
            r++;
        at[i] = r;
        if (r < n_rows)
            continue;
        rows[n_rows] = (mlp_rows){.ctx = ctx[i], .mode = mp[i].input};
        size_t bk = 0;
        while (bk < n_blocks && !(blocks[bk].d == ctx[i]->d && blocks[bk].L == ctx[i]->L))
            bk++;
        if (bk == n_blocks)
            blocks[n_blocks++] = (mlp_block){.d = ctx[i]->d, .L = ctx[i]->L};
        rows[n_rows].block = bk;
        rows[n_rows].row0 = blocks[bk].n;
        blocks[bk].n += ctx[i]->n;
        /* the transform this net fitted is every net's on these rows */
        mlp_rows *w = &rows[n_rows++];
        if (!(w->Xvt = alloc_rows(ctx[i]->nv, ctx[i]->d)))
            rc = reel_fail(err, "out of memory for the nets' input");
        else
            reel_nn_input_apply(&s[i]->input, ctx[i]->Xv, ctx[i]->nv, w->Xvt);
    }
    /* Each block: its rows' transformed training rows one after another. */
    for (size_t bk = 0; rc == 0 && bk < n_blocks; bk++) {
        mlp_block *B = &blocks[bk];
        B->X = alloc_rows(B->n, B->d);
        B->Y = malloc((B->n ? B->n : 1) * B->L);
        if (!B->X || !B->Y)
            rc = reel_fail(err, "out of memory for the nets' input (%zu rows)", B->n);
    }
    for (size_t i = 0; rc == 0 && i < K; i++) {
        mlp_rows *w = &rows[at[i]];
        if (w->ctx != ctx[i] || w->Xt)
            continue;
        mlp_block *B = &blocks[w->block];
        w->Xt = B->X + w->row0 * B->d;
        reel_nn_input_apply(&s[i]->input, ctx[i]->X, ctx[i]->n, w->Xt);
        memcpy(B->Y + w->row0 * B->L, ctx[i]->Y, ctx[i]->n * B->L);
    }
    /* One reel_nn_train_many per block, over every member of every fit. */
    size_t members = 0;
    for (size_t i = 0; rc == 0 && i < K; i++)
        members += s[i]->K;
    size_t nm = members ? members : 1;
    reel_nn_net *nets = calloc(nm, sizeof *nets);
    reel_nn_rows *place = calloc(nm, sizeof *place);
    const reel_nn_train_opts **op = calloc(nm, sizeof *op);
    const reel_fit_ctx **cp = calloc(nm, sizeof *cp);
    reel_nn_train_result *res = calloc(nm, sizeof *res);
    size_t *who = calloc(nm, sizeof *who), *which = calloc(nm, sizeof *which);
    mlp_member *mem = calloc(nm, sizeof *mem);
    if (rc == 0 && (!nets || !place || !op || !cp || !res || !who || !which || !mem))
        rc = reel_fail(err, "out of memory");
    for (size_t bk = 0; rc == 0 && bk < n_blocks; bk++) {
        size_t m = 0;
        for (size_t i = 0; i < K; i++) {
            const mlp_rows *w = &rows[at[i]];
            if (w->block != bk)
                continue;
            tctx[i] = *ctx[i];
            tctx[i].X = w->Xt;
            tctx[i].Xv = w->Xvt;
            for (size_t k = 0; k < s[i]->K; k++, m++) {
                member_setup(s[i], &mp[i].train, &tctx[i], k, &mem[m], &nets[m]);
                place[m] = (reel_nn_rows){blocks[bk].X, blocks[bk].Y, blocks[bk].n, w->row0};
                op[m] = &mem[m].o;
                cp[m] = &mem[m].ctx;
                who[m] = i;
                which[m] = k;
            }
        }
        size_t together = 0;
        rc = reel_nn_train_many(nets, op, cp, place, res, m, &together, err);
        for (size_t j = 0; j < m; j++) {
            size_t i = who[j], k = which[j];
            if (k == 0) {
                s[i]->train = res[j];
                memset(&res[j], 0, sizeof res[j]);
            } else {
                reel_history_free(&res[j].history);
            }
            if (shared)
                shared[i] = together;
            if (rc == 0 && s[i]->be->get_params(s[i]->b[k], s[i]->params + k * s[i]->spec.n_params, err))
                rc = -1;
        }
    }
    free(which);
    free(mem);
    for (size_t bk = 0; bk < n_blocks; bk++) {
        free(blocks[bk].X);
        free(blocks[bk].Y);
    }
    for (size_t r = 0; r < n_rows; r++)
        free(rows[r].Xvt);
    for (size_t i = 0; s && i < K; i++) {
        if (rc)
            mlp_free(s[i]);
        else
            states[i] = s[i];
    }
    free(nets);
    free(place);
    free(op);
    free(cp);
    free(res);
    free(who);
    free(s);
    free(mp);
    free(at);
    free(rows);
    free(blocks);
    free(tctx);
    return rc;
}

/* Nets train together on a device (CUDA, OpenCL), not on the CPU backend,
 * whose trials run in parallel threads instead; nor a net with a layer kind
 * that only the CPU backend has (it trains there), nor a cross-fitted one
 * (its members train on rows of their own). */
static int mlp_fits_together(const cJSON *params, const char *device)
{
    reel_nn_spec spec;
    reel_error ignored;
    if (params && ((reel_nn_spec_from_params(&spec, params, 1, 1, &ignored) == 0 && reel_nn_spec_cpu_only(&spec)) ||
                   cross_fitted(params)))
        return 0;
    char label[300];
    reel_error e;
    int dev;
    const reel_nn_backend *be = reel_nn_device_open(device, "mlp", NULL, &dev, label, sizeof label, &e);
    return be && be != &reel_nn_cpu_backend;
}

/* P holds member 0's probabilities: makes it the members' mean (summed in
 * double, member by member, so the bits do not depend on threads). */
static int predict_mean(const mlp_state *s, const float *Xt, size_t n, float *P, reel_error *err)
{
    size_t cells = n * s->spec.L;
    double *sum = malloc((cells ? cells : 1) * sizeof *sum);
    float *Pk = malloc((cells ? cells : 1) * sizeof *Pk);
    int rc = 0;
    if (!sum || !Pk)
        rc = reel_fail(err, "out of memory for the ensemble's probabilities");
    for (size_t c = 0; rc == 0 && c < cells; c++)
        sum[c] = P[c];
    for (size_t k = 1; rc == 0 && k < s->K; k++) {
        rc = s->be->predict(s->b[k], Xt, n, Pk, err);
        for (size_t c = 0; rc == 0 && c < cells; c++)
            sum[c] += Pk[c];
    }
    for (size_t c = 0; rc == 0 && c < cells; c++)
        P[c] = (float)(sum[c] / (double)s->K);
    free(sum);
    free(Pk);
    return rc;
}

static int mlp_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    const mlp_state *s = state;
    float *Xt = alloc_rows(n, s->spec.d);
    if (!Xt)
        return reel_fail(err, "out of memory for %zu rows of the net's input", n);
    reel_nn_input_apply(&s->input, X, n, Xt);
    int rc = s->be->predict(s->b[0], Xt, n, P, err);
    if (rc == 0 && s->K > 1)
        rc = predict_mean(s, Xt, n, P, err);
    free(Xt);
    return rc;
}

/* The PLR block's three tensors of member k (module 0): their names,
 * shapes and offsets. */
typedef struct {
    char name[3][64];
    int ndim[3];
    size_t shape[3][3], off[3], count[3];
} plr_tensors;

static void plr_names(const reel_nn_spec *spec, size_t k, plr_tensors *t)
{
    const reel_nn_plr *p = &spec->plr;
    static const char *const what[3] = {"frequencies", "weight", "bias"};
    size_t shapes[3][3] = {{p->n_num, p->k, 0}, {p->n_num, p->width, 2 * p->k}, {p->n_num, p->width, 0}};
    int ndim[3] = {2, 3, 2};
    size_t off[3] = {p->c_off, p->w_off, p->b_off};
    for (int q = 0; q < 3; q++) {
        member_name(t->name[q], sizeof t->name[q], k, 0, what[q]);
        t->ndim[q] = ndim[q];
        memcpy(t->shape[q], shapes[q], sizeof shapes[q]);
        t->off[q] = off[q];
        t->count[q] = shapes[q][0] * shapes[q][1] * (ndim[q] == 3 ? shapes[q][2] : 1);
    }
}

static int mlp_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    const mlp_state *s = state;
    for (size_t k = 0; k < s->K; k++) {
        const float *params = s->params + k * s->spec.n_params;
        if (s->spec.plr.k) {
            plr_tensors t;
            plr_names(&s->spec, k, &t);
            for (int q = 0; q < 3; q++)
                if (reel_tensors_add(out, t.name[q], REEL_F32, t.ndim[q], t.shape[q], params + t.off[q], err))
                    return -1;
        }
        for (size_t i = 0; i < s->spec.n_layers; i++) {
            const reel_nn_layer *l = &s->spec.layer[i];
            char name[64];
            size_t wshape[2] = {l->out, l->in};
            member_name(name, sizeof name, k, l->module_index, "weight");
            if (reel_tensors_add(out, name, REEL_F32, 2, wshape, params + l->w_off, err))
                return -1;
            member_name(name, sizeof name, k, l->module_index, "bias");
            if (reel_tensors_add(out, name, REEL_F32, 1, &l->out, params + l->b_off, err))
                return -1;
        }
    }
    cJSON_AddStringToObject(meta, "head", s->spec.head == REEL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
    cJSON_AddNumberToObject(meta, "epochs_run", (double)s->train.epochs_run);
    cJSON_AddNumberToObject(meta, "best_epoch", (double)s->train.best_epoch);
    cJSON_AddItemToObject(meta, "input", reel_nn_input_to_json(&s->input));
    return 0;
}

static void *mlp_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                      const cJSON *meta, reel_error *err)
{
    mlp_state *s = calloc(1, sizeof *s);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    if (build_spec(params, d, L, &s->spec, err))
        goto fail;
    /* The head it was trained with (a multiclass target's softmax, whatever params say). */
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(meta, "head");
    if (cJSON_IsString(head))
        s->spec.head = strcmp(head->valuestring, "softmax") == 0 ? REEL_HEAD_SOFTMAX : REEL_HEAD_SIGMOID;
    /* The transform the net was trained behind, whatever params now say. */
    reel_error e;
    if (reel_nn_input_from_json(&s->input, cJSON_GetObjectItemCaseSensitive(meta, "input"), d, &e)) {
        reel_fail(err, "mlp: %s", e.msg);
        goto fail;
    }
    if (s->spec.plr.k && !s->input.numeric) {
        reel_fail(err, "mlp: the net has a PLR embedding but kind_state.input has no 'numeric' list");
        goto fail;
    }
    reel_nn_spec_set_numeric(&s->spec, s->input.numeric);
    reel_mlp_params mp;
    if (reel_mlp_params_get(params, L, 0, &mp, err) || alloc_members(s, (size_t)mp.ensemble, err))
        goto fail;
    for (size_t k = 0; k < s->K; k++) {
        float *dst = s->params + k * s->spec.n_params;
        if (s->spec.plr.k) {
            plr_tensors t;
            plr_names(&s->spec, k, &t);
            for (int q = 0; q < 3; q++) {
                const reel_tensor *x = reel_tensors_get(in, t.name[q], REEL_F32, t.count[q], err);
                if (!x)
                    goto fail;
                if (x->ndim != t.ndim[q] || x->shape[0] != t.shape[q][0] || x->shape[1] != t.shape[q][1]) {
                    reel_fail(err, "mlp: tensor '%s' has the wrong shape for this PLR embedding", t.name[q]);
                    goto fail;
                }
                memcpy(dst + t.off[q], x->data, x->nbytes);
            }
        }
        for (size_t i = 0; i < s->spec.n_layers; i++) {
            const reel_nn_layer *l = &s->spec.layer[i];
            char name[64];
            member_name(name, sizeof name, k, l->module_index, "weight");
            const reel_tensor *w = reel_tensors_get(in, name, REEL_F32, l->out * l->in, err);
            if (!w)
                goto fail;
            if (w->ndim != 2 || w->shape[0] != l->out || w->shape[1] != l->in) {
                reel_fail(err, "mlp: tensor '%s' must have shape [%zu, %zu] for these layers", name, l->out, l->in);
                goto fail;
            }
            memcpy(dst + l->w_off, w->data, w->nbytes);
            member_name(name, sizeof name, k, l->module_index, "bias");
            const reel_tensor *b = reel_tensors_get(in, name, REEL_F32, l->out, err);
            if (!b)
                goto fail;
            memcpy(dst + l->b_off, b->data, b->nbytes);
        }
    }
    /* A loaded net predicts on the CPU. */
    s->be = &reel_nn_cpu_backend;
    snprintf(s->device, sizeof s->device, "cpu");
    for (size_t k = 0; k < s->K; k++)
        if (!(s->b[k] = s->be->create(&s->spec, 0, threads, err)) ||
            s->be->set_params(s->b[k], s->params + k * s->spec.n_params, err))
            goto fail;
    return s;
fail:
    mlp_free(s);
    return NULL;
}

/* "net: d -> w relu -> ... (head, n parameters)": the widths after "width"
 * scaled them. */
static int mlp_describe(const cJSON *params, size_t d, size_t L, char *buf, size_t n)
{
    reel_nn_spec net;
    reel_error ignored;
    if (reel_nn_spec_from_params(&net, params, d, L, &ignored))
        return -1;
    size_t len = (size_t)snprintf(buf, n, "net: %zu", net.d);
    if (net.plr.k) /* every column counted numeric here: the data decide */
        len += (size_t)snprintf(buf + (len < n ? len : n), len < n ? n - len : 0,
                                " -> plr (%zu frequencies, sigma %g, %zu per numeric column)", net.plr.k,
                                net.plr.sigma, net.plr.width);
    for (size_t l = 0; l < net.n_layers; l++) {
        len += (size_t)snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, " -> %zu%s%s", net.layer[l].out,
                                net.layer[l].act == REEL_ACT_NONE ? "" : " ",
                                net.layer[l].act == REEL_ACT_NONE ? "" : reel_nn_act_name(net.layer[l].act));
        if (net.layer[l].dropout > 0)
            len += (size_t)snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, " dropout %g",
                                    net.layer[l].dropout);
    }
    reel_mlp_params mp;
    long K = reel_mlp_params_get(params, L, 0, &mp, &ignored) == 0 ? mp.ensemble : 1;
    if (K > 1)
        snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, " (%s head, %zu parameters), ensemble of %ld",
                 net.head == REEL_HEAD_SOFTMAX ? "softmax" : "sigmoid", net.n_params, K);
    else
        snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, " (%s head, %zu parameters)",
                 net.head == REEL_HEAD_SOFTMAX ? "softmax" : "sigmoid", net.n_params);
    return 0;
}

static const float *mlp_oof(const void *state, size_t *n)
{
    const mlp_state *s = state;
    *n = s->n_oof;
    return s->oof;
}

static const char *mlp_device(const void *state) { return ((const mlp_state *)state)->device; }

const reel_model_kind reel_kind_mlp = {
    .name = "mlp",
    .standardize = 0, /* raw features: the net's own transform (nn/input.h) */
    .resumable = 1,
    .onnx = 1,
    .check = mlp_check,
    .fit = mlp_fit,
    .fit_many = mlp_fit_many,
    .fits_together = mlp_fits_together,
    .predict_proba = mlp_predict,
    .save = mlp_save,
    .load = mlp_load,
    .free = mlp_free,
    .device = mlp_device,
    .history = mlp_history,
    .oof_proba = mlp_oof,
    .default_threshold = mlp_default_threshold,
    .describe = mlp_describe,
};
