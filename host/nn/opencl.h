/* The OpenCL runtime (nn/runtime_opencl.c, under nn/device_driver.c): the nets' kernels
 * (kernels/nn_kernels.cl) built at run time for any device with an OpenCL
 * 1.2 driver (AMD, Intel, NVIDIA GPUs; PoCL on the CPU, which is how CI runs
 * every kernel). Devices are numbered across all platforms in the order the
 * ICD loader lists them: --device opencl:N. A device without double
 * precision is listed but not usable; PoCL is never picked by auto. Without
 * OpenCL at build time (REEL_HAVE_OPENCL unset) it has no devices. */
#ifndef REEL_NN_OPENCL_H
#define REEL_NN_OPENCL_H

#include "nn/device.h"

extern const reel_nn_runtime reel_nn_opencl_runtime;

#endif
