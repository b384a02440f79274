/* The CUDA plugin's one entry point. libreel_cuda.so exports a single
 * function, REEL_CUDA_PLUGIN_ENTRY, that fills this table for the version
 * the host asks for (the host's own REEL_CUDA_PLUGIN_VERSION); the plugin
 * fills the backend by member name, so adding a member to reel_nn_backend
 * cannot shift the others. A plugin from another version of reel refuses,
 * and reel then says so and runs without CUDA. */
#ifndef REEL_CUDA_PLUGIN_H
#define REEL_CUDA_PLUGIN_H

#include "nn/backend.h"
#include "nn/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Raise it whenever this struct, reel_nn_backend, reel_nn_spec (what
 * create reads) or reel_nn_device_info change. 3: reel_nn_spec gained the
 * PLR block, the dropout seed and each layer's dropout. 4: the runtime's
 * devices listed as reel_nn_device_info; create takes the device (no
 * selection). */
#define REEL_CUDA_PLUGIN_VERSION 4
#define REEL_CUDA_PLUGIN_ENTRY "reel_cuda_plugin"

typedef struct {
    int version;
    int (*device_count)(void);
    int (*info)(int device, reel_nn_device_info *info);
    const char *(*absent_reason)(void);
    reel_nn_backend backend;
} reel_cuda_plugin_table;

/* Fills *p and returns 0 when the plugin speaks `version`, else -1. */
typedef int (*reel_cuda_plugin_fn)(int version, reel_cuda_plugin_table *p);

#ifdef __cplusplus
}
#endif

#endif
