/* OpenCL devices and the OpenCL backend (nn/opencl_backend.c): the nets'
 * kernels (kernels/nn_kernels.cl) built at run time for any device with an
 * OpenCL 1.2 driver (AMD, Intel, NVIDIA GPUs; PoCL on the CPU, which is how
 * CI runs every kernel). Devices are numbered across all platforms in the
 * order the ICD loader lists them: --device opencl:N. Without OpenCL at
 * build time (REEL_HAVE_OPENCL unset) there are no devices. */
#ifndef REEL_NN_OPENCL_H
#define REEL_NN_OPENCL_H

#include <stddef.h>

#include "nn/backend.h"
#include "util/error.h"

typedef struct {
    char name[256];
    char platform[256];
    char version[128]; /* the driver's OpenCL version string */
    int is_gpu;
    int is_pocl; /* the Portable Computing Language (never picked by auto) */
    int fp64;    /* double precision, which the backend needs */
    size_t memory; /* bytes */
    size_t local_memory; /* bytes of work-group memory (what the fused kernel fits in) */
} reel_opencl_info;

/* The number of OpenCL devices (0 when none or built without OpenCL). */
int reel_opencl_count(void);
/* Fills info for device i; -1 when there is no such device. */
int reel_opencl_info_get(int i, reel_opencl_info *info);
/* Why there is no OpenCL device, for messages. */
const char *reel_opencl_absent_reason(void);
/* The first GPU that is not PoCL's, or -1: what --device auto takes after
 * CUDA. */
int reel_opencl_auto_gpu(void);
/* The device the OpenCL backend's next nets are created on (0 at start). */
int reel_opencl_select(int i, reel_error *err);
/* The OpenCL backend, or NULL when built without OpenCL. */
const reel_nn_backend *reel_nn_opencl_backend(void);

#endif
