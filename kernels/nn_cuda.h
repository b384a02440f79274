/* The GPU backend of host/nn (kernels/nn_cuda.cu): the same training step
 * as the CPU backend, with cuBLAS for the matrix products and small fused
 * kernels for the rest. Only built when CUDA is (REEL_HAVE_CUDA). */
#ifndef REEL_NN_CUDA_H
#define REEL_NN_CUDA_H

#include "nn/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const reel_nn_backend reel_nn_cuda_backend;

#ifdef __cplusplus
}
#endif

#endif
