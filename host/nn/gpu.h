/* The CUDA runtime. Its code lives in a plugin, libreel_cuda.so
 * (nn/cuda_plugin.h), loaded on first use from $REEL_CUDA_PLUGIN, beside
 * libreel or the reel program, or from the install's lib folder
 * (bin/../lib); without it the runtime has no devices and says why.
 * --device cuda:N. */
#ifndef REEL_GPU_H
#define REEL_GPU_H

#include "nn/device.h"

extern const reel_nn_runtime reel_nn_cuda_runtime;

#endif
