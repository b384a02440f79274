/* What a device runtime (OpenCL, CUDA; HIP, Metal or Vulkan next) does for
 * the one host driver (nn/device_driver.c), which holds everything else:
 * the nets' buffers, the layered and fused steps, evaluation, epochs and
 * the grouping of many nets into one launch. A runtime only moves bytes,
 * launches the kernels of kernels/nn_kernels.cl by id, multiplies matrices
 * given as nn/gemm_desc.h descriptors and says what its device allows.
 *
 * Everything runs on a queue (an OpenCL command queue; a CUDA stream and
 * its cuBLAS handle), in the order it was asked for. Every call returns 0,
 * or -1 with a one-line message in err. Plain C, also compiled as C++ by
 * the CUDA plugin (nn/cuda_plugin.h passes this table across dlopen). */
#ifndef REEL_NN_RUNTIME_H
#define REEL_NN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "nn/gemm_desc.h"
#include "util/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reel_rt_mem reel_rt_mem;     /* a device buffer (cl_mem; a CUDA device pointer) */
typedef struct reel_rt_queue reel_rt_queue; /* an in-order queue on one device */

/* The kernels the driver launches, X(ID, kernel function): ids
 * REEL_K_ID, and a runtime's table from id to its kernel (OpenCL: the
 * name; CUDA: the function). */
#define REEL_RT_KERNELS(X)                                                                                   \
    X(GATHER, rk_gather_rows)                                                                                \
    X(BIAS_ACT, rk_bias_act)                                                                                 \
    X(HEAD, rk_head_rows)                                                                                    \
    X(ACT_BIAS, rk_act_backward_bias)                                                                        \
    X(FINISH, rk_finish_step)                                                                                \
    X(SUM, rk_sum_rows)                                                                                      \
    X(ADAMW, rk_adamw)                                                                                       \
    X(AVG_UPDATE, rk_avg_update)                                                                             \
    X(AVG_GET, rk_avg_get)                                                                                   \
    X(PLR_FEATURES, rk_plr_features)                                                                         \
    X(PLR_EMBED, rk_plr_embed_rows)                                                                          \
    X(PLR_BACKWARD, rk_plr_backward)                                                                         \
    X(FUSED, rk_fused_epoch)                                                                                 \
    X(FUSED_MANY, rk_fused_epochs)                                                                           \
    X(DROPOUT, rk_dropout)
#define REEL_RT_KERNEL_ID(id, fn) REEL_K_##id,
typedef enum { REEL_RT_KERNELS(REEL_RT_KERNEL_ID) REEL_K_COUNT } reel_rt_kernel;

/* A kernel argument: its type is the kernel parameter's exact type
 * (int, rk_u64, rk_i64, float, double, a buffer). The value sits at the
 * start of the union, so &arg.v points at it whatever the type. */
typedef enum { REEL_ARG_MEM, REEL_ARG_I32, REEL_ARG_U64, REEL_ARG_I64, REEL_ARG_F32, REEL_ARG_F64 } reel_rt_arg_type;
typedef struct {
    reel_rt_arg_type type;
    union {
        reel_rt_mem *mem; /* NULL passes a null pointer */
        int32_t i32;
        uint64_t u64;
        int64_t i64;
        float f32;
        double f64;
    } v;
} reel_rt_arg;

/* What a device allows, filled when a queue opens. */
typedef struct {
    char name[256];
    size_t memory;     /* bytes in all */
    size_t max_group;  /* work-items one group may have (the one-group kernels use RK_REDUCE or fewer) */
    size_t group;      /* work-items a group of the element kernels has */
    size_t max_groups; /* the element kernels stride over the launch past this many groups */
    size_t scratch;    /* bytes of launch-sized work-group memory a fused kernel's group may take */
    int compute_units;
} reel_rt_limits;

typedef struct {
    const char *name; /* as --device names it */
    /* A queue on device i of the runtime (a number below its count),
     * with what the device allows. */
    reel_rt_queue *(*open)(int device, reel_rt_limits *limits, reel_error *err);
    void (*close)(reel_rt_queue *q); /* waits for its work first */
    /* A buffer of `bytes` (> 0); running out names `what` and the sizes. */
    reel_rt_mem *(*alloc)(reel_rt_queue *q, size_t bytes, const char *what, reel_error *err);
    void (*release)(reel_rt_mem *m);
    /* Host to device and back, at byte offset `at`: queued, and returned
     * once the host buffer may be reused (read: holds the data). */
    int (*write)(reel_rt_queue *q, reel_rt_mem *dst, size_t at, const void *src, size_t bytes, reel_error *err);
    int (*read)(reel_rt_queue *q, reel_rt_mem *src, size_t at, void *dst, size_t bytes, reel_error *err);
    /* Queued, no wait: a device-to-device copy, and zeroing the first bytes. */
    int (*copy)(reel_rt_queue *q, reel_rt_mem *src, size_t from, reel_rt_mem *dst, size_t to, size_t bytes,
                reel_error *err);
    int (*zero)(reel_rt_queue *q, reel_rt_mem *dst, size_t bytes, reel_error *err);
    /* Kernel k over `groups` groups of `local` work-items, with `scratch`
     * bytes of work-group memory when the kernel takes it (the fused
     * kernels: RK_SCRATCH_ARG); queued. */
    int (*launch)(reel_rt_queue *q, reel_rt_kernel k, size_t groups, size_t local, size_t scratch,
                  const reel_rt_arg *args, int n_args, reel_error *err);
    /* The product g (column-major, nn/gemm_desc.h) with A, B and C at
     * float offsets a_at, b_at, c_at of their buffers; queued. */
    int (*gemm)(reel_rt_queue *q, const reel_gemm *g, reel_rt_mem *A, size_t a_at, reel_rt_mem *B, size_t b_at,
                reel_rt_mem *C, size_t c_at, reel_error *err);
    /* Waits for everything queued. */
    int (*sync)(reel_rt_queue *q, reel_error *err);
} reel_rt_ops;

#ifdef __cplusplus
}
#endif

#endif
