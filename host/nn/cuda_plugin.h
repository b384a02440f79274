/* The CUDA plugin's one entry point. libreel_cuda.so exports a single
 * function, REEL_CUDA_PLUGIN_ENTRY, that fills this table for the version
 * the host asks for (the host's own REEL_CUDA_PLUGIN_VERSION): the CUDA
 * runtime's devices and its runtime operations (nn/runtime.h), which the
 * host's driver (nn/device_driver.c) runs the nets on. A plugin from
 * another version of reel refuses, and reel then says so and runs without
 * CUDA. */
#ifndef REEL_CUDA_PLUGIN_H
#define REEL_CUDA_PLUGIN_H

#include "nn/device.h"
#include "nn/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Raise it whenever this struct, reel_rt_ops (with its kernel ids and
 * argument types), reel_gemm or reel_nn_device_info change. 3:
 * reel_nn_spec gained the PLR block, the dropout seed and each layer's
 * dropout. 4: the runtime's devices listed as reel_nn_device_info; create
 * takes the device (no selection). 5: the plugin is a runtime (ops) under
 * the host's driver, no longer a whole backend. 6: the rk_dropout kernel,
 * the fused kernels' dropout (layer and net tables, rk_fused_epoch's seed).
 * 7: the PLR kernels, the fused kernels' PLR tables (RK_PL, RK_NT_PLR). */
#define REEL_CUDA_PLUGIN_VERSION 7
#define REEL_CUDA_PLUGIN_ENTRY "reel_cuda_plugin"

typedef struct {
    int version;
    int (*device_count)(void);
    int (*info)(int device, reel_nn_device_info *info);
    const char *(*absent_reason)(void);
    reel_rt_ops ops;
} reel_cuda_plugin_table;

/* Fills *p and returns 0 when the plugin speaks `version`, else -1. */
typedef int (*reel_cuda_plugin_fn)(int version, reel_cuda_plugin_table *p);

#ifdef __cplusplus
}
#endif

#endif
