/* What the nets' kernels (kernels/nn_kernels.cl) and the host code that
 * launches them must agree on, written once: the tables the host fills for
 * the fused kernels, the kernels' fixed sizes, and AdamW's per-step scalars.
 * Included by the kernel source (embedded after nn_math.h for OpenCL, and
 * through nn_kernels.cl in kernels/nn_cuda.cu) and by the host code (the
 * driver host/nn/device_driver.c and the runtimes under it). */
#ifndef REEL_NN_LAYOUT_H
#define REEL_NN_LAYOUT_H

#ifndef __OPENCL_VERSION__
#include "nn_math.h" /* rk_adamw_k */
#endif

/* Work-items of the one-group reductions (a power of two); the host
 * launches RK_REDUCE or fewer, also a power of two. */
#define RK_REDUCE 256

/* The tiled products: a work-item's tile of outputs, RK_TM x RK_TN of the
 * gradients' products, RK_FWD_M x RK_FWD_N of the forward. */
#define RK_TM 4
#define RK_TN 8
#define RK_FWD_M 2
#define RK_FWD_N 1

/* The fused epoch: most rows of a fused step, most work-items of a fused
 * group (a power of two), and what its static work-group arrays take (the
 * row losses, a flag per work-item, the stop word) with a margin for what a
 * compiler adds; the scratch (sized at launch) comes on top. */
#define RK_FUSED_ROWS 256
#define RK_FUSED_T 256
#define RK_FUSED_STATIC (RK_FUSED_ROWS * 8 + RK_FUSED_T * 4 + 1024)

/* Rows per predict / eval chunk. */
#define RK_EVAL_CHUNK 4096

/* The layer table of the fused kernels: RK_LY ints per layer. */
#define RK_LY 9
#define RK_LY_IN 0
#define RK_LY_OUT 1
#define RK_LY_ACT 2
#define RK_LY_H 3 /* where its output starts in the scratch */
#define RK_LY_W 4 /* where W and b start in the flat buffers */
#define RK_LY_B 5
#define RK_LY_D 6    /* where the next layer's input starts: its output after dropout, or RK_LY_H's */
#define RK_LY_CUT 7  /* dropout's cut (nn_math.h; 0: no dropout) */
#define RK_LY_KEPT 8 /* dropout's scale of the kept units, a float's bits */

/* A PLR embedding's table (nn/spec.h; the fused kernels read it, the host
 * fills it: nn/fused_plan.h): RK_PL ints, then the d input columns, the
 * numeric ones first, then the others in column order. The frequencies,
 * weights and biases lie one after another in the flat buffers. */
#define RK_PL 5
#define RK_PL_K 0   /* frequencies per numeric column */
#define RK_PL_E 1   /* embedding width per numeric column */
#define RK_PL_NUM 2 /* numeric columns */
#define RK_PL_C 3   /* the frequencies' offset in the flat buffers (W, then b, follow) */
#define RK_PL_AT 4  /* where the embedding (batch x the first Linear's in) starts in the scratch */

/* The net table of rk_fused_epochs: RK_NT 64-bit integers per net (offsets
 * into the launch's shared buffers; -1: none) ... */
#define RK_NT 16
#define RK_NT_ROWS 0      /* its rows this epoch (its row order's length) */
#define RK_NT_BATCH 1
#define RK_NT_LAYERS 2    /* how many */
#define RK_NT_LAYER_OFF 3 /* its layer table in `layers` */
#define RK_NT_MAX_W 4
#define RK_NT_PARAM_OFF 5 /* its parameters, gradient and moments */
#define RK_NT_PARAMS 6
#define RK_NT_ORDER_OFF 7
#define RK_NT_STEP_OFF 8   /* its 2 x steps scalars in step_f */
#define RK_NT_AVG_OFF 9    /* its moving-average sums, or -1 */
#define RK_NT_AVG_A_OFF 10 /* its per-step decays */
#define RK_NT_FIRST 11     /* first_step */
#define RK_NT_HEAD 12
#define RK_NT_SEED 13 /* its dropout masks' seed */
#define RK_NT_PLR 14   /* its PLR table in `plr`, or -1 */
#define RK_NT_PLR_F 15 /* its PLR features (batch x numeric x 2k floats) in `plr_f` */
/* ... and RK_NF floats: AdamW's scalars that stay the same every step. */
#define RK_NF 6
#define RK_NF_DECAY 0
#define RK_NF_B1 1
#define RK_NF_C1 2
#define RK_NF_B2 3
#define RK_NF_C2 4
#define RK_NF_EPS 5

#ifndef __OPENCL_VERSION__
/* Host side only (the CPU backend and every runtime's host code; in the
 * CUDA plugin a host function). */

/* AdamW's scalars for update number `step` (1-based), as torch computes
 * them in double and rounds them to float. */
static inline rk_adamw_k rk_adamw_scalars(double lr, double beta1, double beta2, double eps, double weight_decay,
                                          long step)
{
    rk_adamw_k k;
    k.decay = (float)(1.0 - lr * weight_decay);
    k.b1 = (float)beta1;
    k.c1 = (float)(1.0 - beta1);
    k.b2 = (float)beta2;
    k.c2 = (float)(1.0 - beta2);
    k.step_size = (float)(lr / (1.0 - pow(beta1, (double)step)));
    k.bc2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)step));
    k.eps = (float)eps;
    return k;
}

/* Dropout with probability p (nn_math.h's masks): the cut on the hash's
 * top 24 bits, and the kept units' scale. */
static inline rk_u32 rk_dropout_cut(float p) { return (rk_u32)ceil((double)p * 16777216.0); }
static inline float rk_dropout_kept(float p) { return (float)(1.0 / (1.0 - (double)p)); }

/* A net's RK_NF floats from its first step's scalars. */
static inline void rk_adamw_fixed(const rk_adamw_k *k, float *hy)
{
    hy[RK_NF_DECAY] = k->decay;
    hy[RK_NF_B1] = k->b1;
    hy[RK_NF_C1] = k->c1;
    hy[RK_NF_B2] = k->b2;
    hy[RK_NF_C2] = k->c2;
    hy[RK_NF_EPS] = k->eps;
}
#endif

#endif
