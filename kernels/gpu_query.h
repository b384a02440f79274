/* C interface to the CUDA runtime's device queries (kernels/gpu_query.cu). */
#ifndef REEL_GPU_QUERY_H
#define REEL_GPU_QUERY_H

#include "util/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

int reel_cuda_device_count(void);
int reel_cuda_query(reel_gpu_info *info);
const char *reel_cuda_absent_reason(void);

#ifdef __cplusplus
}
#endif

#endif
