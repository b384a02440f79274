/* C interface to the CUDA runtime's device queries (kernels/gpu_query.cu). */
#ifndef REEL_GPU_QUERY_H
#define REEL_GPU_QUERY_H

#include "nn/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

int reel_cuda_device_count(void);
int reel_cuda_query(reel_gpu_info *info);
const char *reel_cuda_absent_reason(void);
/* The device later nets are created on (cudaSetDevice is per thread, so
 * each net sets it when created): 0, or -1 when there is no such device. */
int reel_cuda_select(int device);
int reel_cuda_selected(void);

#ifdef __cplusplus
}
#endif

#endif
