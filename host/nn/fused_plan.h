/* The tables the fused kernels read (their layout: kernels/nn_layout.h),
 * built on the host once for every runtime: a net's layer table, its
 * epoch's per-step AdamW scalars, and the plan of a launch of many nets
 * (rk_fused_epochs: the net table, every net's layers, step scalars and
 * averaging decays, and the offsets of each net's state in the launch's
 * buffers). Header only: the CUDA plugin links nothing of the host library
 * (and compiles this as C++). */
#ifndef REEL_NN_FUSED_PLAN_H
#define REEL_NN_FUSED_PLAN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h" /* reel_adamw_scalars */
#include "nn/spec.h"
#include "nn_layout.h"

/* The work-group scratch floats a fused step of `batch` rows needs: the
 * batch, its PLR embedding (the first Linear's input) when it has one,
 * every layer's output (twice with dropout: before and after its mask),
 * the labels and two gradient rows. */
static inline size_t reel_fused_floats(const reel_nn_spec *s, size_t batch)
{
    size_t w = s->d + s->L + 2 * s->max_width + (s->plr.k ? s->layer[0].in : 0);
    for (size_t l = 0; l < s->n_layers; l++)
        w += s->layer[l].out * (s->layer[l].dropout > 0 ? 2 : 1);
    return batch * w;
}

/* The layer table (RK_LY ints a layer) for steps of `batch` rows: each
 * layer's output starts in the scratch after the inputs (the batch, then
 * its PLR embedding) and the earlier layers' outputs, followed by what its
 * dropout keeps of it. */
static inline void reel_fused_layers(const reel_nn_spec *s, size_t batch, int *t)
{
    size_t h = batch * (s->d + (s->plr.k ? s->layer[0].in : 0));
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *y = &s->layer[l];
        int *q = t + RK_LY * l;
        q[RK_LY_IN] = (int)y->in;
        q[RK_LY_OUT] = (int)y->out;
        q[RK_LY_ACT] = (int)y->act;
        q[RK_LY_H] = (int)h;
        q[RK_LY_W] = (int)y->w_off;
        q[RK_LY_B] = (int)y->b_off;
        h += batch * y->out;
        q[RK_LY_D] = q[RK_LY_H];
        q[RK_LY_CUT] = 0;
        q[RK_LY_KEPT] = 0;
        if (y->dropout > 0) {
            float kept = rk_dropout_kept(y->dropout);
            q[RK_LY_D] = (int)h;
            q[RK_LY_CUT] = (int)rk_dropout_cut(y->dropout);
            memcpy(&q[RK_LY_KEPT], &kept, sizeof kept);
            h += batch * y->out;
        }
    }
}

/* The PLR table (RK_PL + d ints, kernels/nn_layout.h) of a net with a PLR
 * embedding, whose input columns are cols (d: the numeric ones first). */
static inline void reel_fused_plr(const reel_nn_spec *s, size_t batch, const int *cols, int *t)
{
    t[RK_PL_K] = (int)s->plr.k;
    t[RK_PL_E] = (int)s->plr.width;
    t[RK_PL_NUM] = (int)s->plr.n_num;
    t[RK_PL_C] = (int)s->plr.c_off;
    t[RK_PL_AT] = (int)(batch * s->d);
    memcpy(t + RK_PL, cols, s->d * sizeof *cols);
}

/* The PLR features' floats (device memory) a fused step of `batch` rows needs. */
static inline size_t reel_fused_plr_floats(const reel_nn_spec *s, size_t batch)
{
    return batch * s->plr.n_num * 2 * s->plr.k;
}

/* An epoch's AdamW scalars that change with the step: the steps'
 * step_size, then their bc2_sqrt (2 x steps floats). */
static inline void reel_fused_steps(const reel_adamw *opt, long first_step, size_t steps, float *sf)
{
    for (size_t k = 0; k < steps; k++) {
        rk_adamw_k kw = reel_adamw_scalars(opt, first_step + (long)k + 1);
        sf[k] = kw.step_size;
        sf[steps + k] = kw.bc2_sqrt;
    }
}

/* One net of a launch: its layers, its row order's length, batch size,
 * AdamW settings, first step, averaging decays (NULL: none) and, with a
 * PLR embedding, its input columns (reel_fused_plr). */
typedef struct {
    const reel_nn_spec *spec;
    size_t rows, batch;
    const reel_adamw *opt;
    long first_step;
    const double *avg_a;
    const int *plr_cols;
} reel_fused_net;

/* A launch's sizes (sums over its nets; scratch: the most floats one net
 * needs) and its host tables, in the layout rk_fused_epochs reads. */
typedef struct {
    size_t params, orders, layers, steps, avg, scratch, plr, plr_f;
    int64_t *nt; /* RK_NT a net */
    float *hy;   /* RK_NF a net */
    float *sf;   /* 2 x steps a net */
    int *ly;     /* RK_LY a layer */
    double *aa;  /* steps a net: the averaging decay after each step, or -1 */
    int *pl;     /* RK_PL + d a net with a PLR embedding */
} reel_fused_plan;

static inline void reel_fused_plan_free(reel_fused_plan *pl)
{
    free(pl->nt);
    free(pl->hy);
    free(pl->sf);
    free(pl->ly);
    free(pl->aa);
    free(pl->pl);
    memset(pl, 0, sizeof *pl);
}

/* The plan of one launch over nets[0..M): 0, or -1 when out of memory. */
static inline int reel_fused_plan_make(const reel_fused_net *nets, size_t M, reel_fused_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    for (size_t g = 0; g < M; g++) {
        const reel_fused_net *u = &nets[g];
        size_t f = reel_fused_floats(u->spec, u->batch);
        pl->params += u->spec->n_params;
        pl->orders += u->rows;
        pl->layers += RK_LY * u->spec->n_layers;
        pl->steps += (u->rows + u->batch - 1) / u->batch;
        pl->avg += u->avg_a ? u->spec->n_params : 0;
        pl->scratch = f > pl->scratch ? f : pl->scratch;
        pl->plr += u->spec->plr.k ? RK_PL + u->spec->d : 0;
        pl->plr_f += u->spec->plr.k ? reel_fused_plr_floats(u->spec, u->batch) : 0;
    }
    pl->nt = (int64_t *)malloc((M ? M : 1) * RK_NT * sizeof *pl->nt);
    pl->hy = (float *)malloc((M ? M : 1) * RK_NF * sizeof *pl->hy);
    pl->sf = (float *)malloc((2 * pl->steps + 1) * sizeof *pl->sf);
    pl->ly = (int *)malloc((pl->layers + 1) * sizeof *pl->ly);
    pl->aa = (double *)malloc((pl->steps + 1) * sizeof *pl->aa);
    pl->pl = (int *)malloc((pl->plr + 1) * sizeof *pl->pl);
    if (!pl->nt || !pl->hy || !pl->sf || !pl->ly || !pl->aa || !pl->pl) {
        reel_fused_plan_free(pl);
        return -1;
    }
    size_t po = 0, oo = 0, lo = 0, so = 0, ao = 0, qo = 0, fo = 0;
    for (size_t g = 0; g < M; g++) {
        const reel_fused_net *u = &nets[g];
        const reel_nn_spec *s = u->spec;
        size_t steps = (u->rows + u->batch - 1) / u->batch;
        int64_t *t = pl->nt + RK_NT * g;
        t[RK_NT_ROWS] = (int64_t)u->rows;
        t[RK_NT_BATCH] = (int64_t)u->batch;
        t[RK_NT_LAYERS] = (int64_t)s->n_layers;
        t[RK_NT_LAYER_OFF] = (int64_t)lo;
        t[RK_NT_MAX_W] = (int64_t)s->max_width;
        t[RK_NT_PARAM_OFF] = (int64_t)po;
        t[RK_NT_PARAMS] = (int64_t)s->n_params;
        t[RK_NT_ORDER_OFF] = (int64_t)oo;
        t[RK_NT_STEP_OFF] = (int64_t)(2 * so);
        t[RK_NT_AVG_OFF] = u->avg_a ? (int64_t)ao : -1;
        t[RK_NT_AVG_A_OFF] = (int64_t)so;
        t[RK_NT_FIRST] = (int64_t)u->first_step;
        t[RK_NT_HEAD] = (int64_t)s->head;
        t[RK_NT_SEED] = (int64_t)s->seed;
        t[RK_NT_PLR] = s->plr.k ? (int64_t)qo : -1;
        t[RK_NT_PLR_F] = (int64_t)fo;
        if (s->plr.k) {
            reel_fused_plr(s, u->batch, u->plr_cols, pl->pl + qo);
            qo += RK_PL + s->d;
            fo += reel_fused_plr_floats(s, u->batch);
        }
        reel_fused_layers(s, u->batch, pl->ly + lo);
        rk_adamw_k k0 = reel_adamw_scalars(u->opt, u->first_step + 1);
        rk_adamw_fixed(&k0, pl->hy + RK_NF * g);
        reel_fused_steps(u->opt, u->first_step, steps, pl->sf + 2 * so);
        for (size_t k = 0; k < steps; k++)
            pl->aa[so + k] = u->avg_a ? u->avg_a[k] : -1.0;
        po += s->n_params;
        oo += u->rows;
        lo += RK_LY * s->n_layers;
        so += steps;
        ao += u->avg_a ? s->n_params : 0;
    }
    return 0;
}

#endif
