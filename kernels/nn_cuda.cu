/* The nets' kernels built for CUDA (nn_kernels.cl, the one source every
 * device shares) and the table from kernel id (nn/runtime.h) to kernel,
 * which the CUDA runtime (host/nn/runtime_cuda.cu) hands to
 * cudaLaunchKernel with the driver's arguments. Device code only. */
#include "nn_kernels.cl"
#include "nn/runtime.h"

#define KERNEL_FN(id, fn) (const void *)fn,
extern "C" const void *const reel_cuda_kernels[REEL_K_COUNT] = {REEL_RT_KERNELS(KERNEL_FN)};
