/* C interface to the CUDA runtime's device queries (kernels/gpu_query.cu). */
#ifndef REEL_GPU_QUERY_H
#define REEL_GPU_QUERY_H

#include "nn/device.h"

#ifdef __cplusplus
extern "C" {
#endif

int reel_cuda_device_count(void);
/* Fills info for device i: 0, or -1 when there is no such device. */
int reel_cuda_info(int device, reel_nn_device_info *info);
const char *reel_cuda_absent_reason(void);

#ifdef __cplusplus
}
#endif

#endif
