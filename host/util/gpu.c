#include "util/gpu.h"

#ifdef REEL_HAVE_CUDA
#include "gpu_query.h"

int reel_gpu_count(void) { return reel_cuda_device_count(); }
int reel_gpu_query(reel_gpu_info *info) { return reel_cuda_query(info); }
const char *reel_gpu_absent_reason(void) { return reel_cuda_absent_reason(); }
#else
int reel_gpu_count(void) { return 0; }
int reel_gpu_query(reel_gpu_info *info)
{
    (void)info;
    return -1;
}
const char *reel_gpu_absent_reason(void) { return "this reel was built without CUDA (nvcc not found)"; }
#endif
