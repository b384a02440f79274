#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "gpu_query.h"

static char absent_reason[512];

extern "C" int reel_cuda_device_count(void)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        /* The runtime reports a missing driver as "driver version is
         * insufficient"; the driver's version (0: none) tells them apart. */
        int driver = 0, runtime = 0;
        cudaDriverGetVersion(&driver);
        cudaRuntimeGetVersion(&runtime);
        if (driver == 0)
            snprintf(absent_reason, sizeof absent_reason, "no NVIDIA driver found (libcuda is not installed)");
        else if (e == cudaErrorNoDevice)
            snprintf(absent_reason, sizeof absent_reason, "the NVIDIA driver found no GPU");
        else if (e == cudaErrorInsufficientDriver)
            snprintf(absent_reason, sizeof absent_reason,
                     "the NVIDIA driver (CUDA %d.%d) is older than this build's CUDA runtime %d.%d", driver / 1000,
                     (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
        else
            snprintf(absent_reason, sizeof absent_reason, "no CUDA GPU found (%s)", cudaGetErrorString(e));
        cudaGetLastError(); /* clear the sticky error */
        return 0;
    }
    if (n == 0)
        snprintf(absent_reason, sizeof absent_reason, "the NVIDIA driver found no GPU");
    return n;
}

extern "C" int reel_cuda_info(int device, reel_nn_device_info *info)
{
    cudaDeviceProp prop;
    if (device < 0 || device >= reel_cuda_device_count() || cudaGetDeviceProperties(&prop, device) != cudaSuccess)
        return -1;
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->memory = prop.totalGlobalMem;
    info->usable = info->is_gpu = info->auto_pick = 1;
    snprintf(info->detail, sizeof info->detail, "compute capability %d.%d, %.1f GiB, driver %d.%d, runtime %d.%d",
             prop.major, prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), driver / 1000,
             (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
    return 0;
}

extern "C" const char *reel_cuda_absent_reason(void)
{
    if (!absent_reason[0])
        reel_cuda_device_count();
    return absent_reason[0] ? absent_reason : "no CUDA GPU found";
}
