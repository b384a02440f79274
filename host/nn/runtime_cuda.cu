/* The CUDA runtime: the runtime interface (nn/runtime.h) over the CUDA
 * runtime API and cuBLAS, and the devices it lists. It is the plugin
 * libreel_cuda.so, which reel loads with dlopen (nn/gpu.c) and whose table
 * (nn/cuda_plugin.h) the host's driver (nn/device_driver.c) runs nets on;
 * it uses nothing of the host library but its headers' types.
 *
 * Kernels launch by id through cudaLaunchKernel and the table of
 * kernels/nn_cuda.cu: the driver's arguments are already in the kernels'
 * exact parameter types, so one call launches any of them (no wrapper per
 * kernel, and no module loading as the driver API's cuLaunchKernel would
 * need: nvcc builds the kernels into this plugin for every target
 * architecture). The products are cuBLAS's sgemm on the descriptors as
 * given (column-major, no TF32). All work goes on the queue's own
 * non-blocking stream; every call is checked and a failure names it. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cuda_plugin.h"
#include "nn_layout.h"

extern "C" const void *const reel_cuda_kernels[REEL_K_COUNT]; /* kernels/nn_cuda.cu */

#define THREADS 256      /* a block of the element kernels */
#define MAX_BLOCKS 65535 /* they stride over the launch past this */
#define MAX_DEVICES 64

static int fail(reel_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(reel_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#define CUDA_OK(call)                                                                                        \
    do {                                                                                                     \
        cudaError_t e_ = (call);                                                                             \
        if (e_ != cudaSuccess)                                                                               \
            return fail(err, "%s:%d: CUDA error %s: %s (in %s)", __FILE__, __LINE__, cudaGetErrorName(e_),   \
                        cudaGetErrorString(e_), #call);                                                      \
    } while (0)

#define CUBLAS_OK(call)                                                                                      \
    do {                                                                                                     \
        cublasStatus_t s_ = (call);                                                                          \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                                     \
            return fail(err, "%s:%d: cuBLAS error %s (in %s)", __FILE__, __LINE__, cublasGetStatusName(s_),  \
                        #call);                                                                              \
    } while (0)

/* ------------------------------------------------------------ devices */

static char absent_reason[512];

static int device_count(void)
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

static int device_info(int device, reel_nn_device_info *info)
{
    cudaDeviceProp prop;
    if (device < 0 || device >= device_count() || cudaGetDeviceProperties(&prop, device) != cudaSuccess)
        return -1;
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->memory = prop.totalGlobalMem;
    info->local_memory = prop.sharedMemPerBlockOptin;
    info->usable = info->is_gpu = info->auto_pick = 1;
    snprintf(info->detail, sizeof info->detail, "compute capability %d.%d, %.1f GiB, driver %d.%d, runtime %d.%d",
             prop.major, prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), driver / 1000,
             (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
    return 0;
}

static const char *device_absent_reason(void)
{
    if (!absent_reason[0])
        device_count();
    return absent_reason[0] ? absent_reason : "no CUDA GPU found";
}

/* What device d allows, worked out once: the most threads every kernel
 * takes in a block, and the shared memory the fused kernels may have
 * beyond their static arrays, which each kernel is then allowed (set once,
 * to the most, so that launches in other threads never see it lowered). */
static int device_limits(int d, reel_rt_limits *lim, reel_error *err)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static reel_rt_limits known[MAX_DEVICES];
    static int done[MAX_DEVICES];
    cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, d));
    pthread_mutex_lock(&mu);
    cudaError_t e = cudaSuccess;
    if (!done[d]) {
        reel_rt_limits *l = &known[d];
        snprintf(l->name, sizeof l->name, "%s", prop.name);
        l->memory = prop.totalGlobalMem;
        l->max_group = (size_t)prop.maxThreadsPerBlock;
        l->compute_units = prop.multiProcessorCount;
        size_t optin = prop.sharedMemPerBlockOptin;
        for (int k = 0; k < REEL_K_COUNT && e == cudaSuccess; k++) {
            cudaFuncAttributes fa;
            e = cudaFuncGetAttributes(&fa, reel_cuda_kernels[k]);
            if (e == cudaSuccess && (size_t)fa.maxThreadsPerBlock < l->max_group)
                l->max_group = (size_t)fa.maxThreadsPerBlock;
            if (e == cudaSuccess && optin > fa.sharedSizeBytes)
                e = cudaFuncSetAttribute(reel_cuda_kernels[k], cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         (int)(optin - fa.sharedSizeBytes));
        }
        l->group = l->max_group < THREADS ? l->max_group : THREADS;
        l->max_groups = MAX_BLOCKS;
        l->scratch = optin > RK_FUSED_STATIC ? optin - RK_FUSED_STATIC : 0;
        done[d] = e == cudaSuccess;
    }
    *lim = known[d];
    pthread_mutex_unlock(&mu);
    CUDA_OK(e);
    return 0;
}

/* ------------------------------------------------------ the runtime ops */

struct reel_rt_queue {
    int device;
    cudaStream_t stream; /* non-blocking: the legacy stream's copies would be unordered with it */
    cublasHandle_t blas;
};

static char *at_(reel_rt_mem *m, size_t bytes) { return (char *)m + bytes; }
static float *floats(reel_rt_mem *m, size_t at) { return (float *)m + at; }

static void cu_close(reel_rt_queue *q)
{
    if (!q)
        return;
    cudaSetDevice(q->device);
    if (q->stream)
        cudaStreamSynchronize(q->stream);
    if (q->blas)
        cublasDestroy(q->blas);
    if (q->stream)
        cudaStreamDestroy(q->stream);
    free(q);
}

static int setup(reel_rt_queue *q, reel_rt_limits *lim, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    if (device_limits(q->device, lim, err))
        return -1;
    CUDA_OK(cudaStreamCreateWithFlags(&q->stream, cudaStreamNonBlocking));
    CUBLAS_OK(cublasCreate(&q->blas));
    CUBLAS_OK(cublasSetStream(q->blas, q->stream));
    CUBLAS_OK(cublasSetMathMode(q->blas, CUBLAS_PEDANTIC_MATH)); /* true fp32, no TF32 */
    return 0;
}

static reel_rt_queue *cu_open(int device, reel_rt_limits *lim, reel_error *err)
{
    int n = device_count();
    if (device < 0 || device >= n || device >= MAX_DEVICES) {
        fail(err, "CUDA: there are %d devices, no device %d%s%s", n, device, n ? "" : ": ",
             n ? "" : device_absent_reason());
        return NULL;
    }
    reel_rt_queue *q = (reel_rt_queue *)calloc(1, sizeof *q);
    if (!q) {
        fail(err, "out of memory");
        return NULL;
    }
    q->device = device;
    if (setup(q, lim, err)) {
        cu_close(q);
        return NULL;
    }
    return q;
}

/* cudaMalloc that reports running out of device memory with the sizes
 * that did not fit, not as a raw CUDA error. */
static reel_rt_mem *cu_alloc(reel_rt_queue *q, size_t bytes, const char *what, reel_error *err)
{
    void *p = NULL;
    cudaError_t e = cudaSetDevice(q->device);
    if (e == cudaSuccess)
        e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError(); /* clear it: the device is still usable */
        size_t free_b = 0, total_b = 0;
        (void)cudaMemGetInfo(&free_b, &total_b);
        const double mib = 1024.0 * 1024.0;
        fail(err, "GPU out of memory: %s needs %.1f MiB, %.1f MiB of the device's %.1f MiB are free; "
                  "use a smaller batch_size or net, or --device cpu",
             what, (double)bytes / mib, (double)free_b / mib, (double)total_b / mib);
    } else if (e != cudaSuccess) {
        fail(err, "CUDA error %s: %s (allocating %s)", cudaGetErrorName(e), cudaGetErrorString(e), what);
    }
    return e == cudaSuccess ? (reel_rt_mem *)p : NULL;
}

static void cu_release(reel_rt_mem *m) { cudaFree(m); }

static int cu_sync(reel_rt_queue *q, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaStreamSynchronize(q->stream));
    return 0;
}

static int cu_write(reel_rt_queue *q, reel_rt_mem *dst, size_t at, const void *src, size_t bytes, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaMemcpyAsync(at_(dst, at), src, bytes, cudaMemcpyHostToDevice, q->stream));
    return cu_sync(q, err); /* the caller may reuse src now */
}

static int cu_read(reel_rt_queue *q, reel_rt_mem *src, size_t at, void *dst, size_t bytes, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaMemcpyAsync(dst, at_(src, at), bytes, cudaMemcpyDeviceToHost, q->stream));
    return cu_sync(q, err);
}

static int cu_copy(reel_rt_queue *q, reel_rt_mem *src, size_t from, reel_rt_mem *dst, size_t to, size_t bytes,
                   reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaMemcpyAsync(at_(dst, to), at_(src, from), bytes, cudaMemcpyDeviceToDevice, q->stream));
    return 0;
}

static int cu_zero(reel_rt_queue *q, reel_rt_mem *dst, size_t bytes, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaMemsetAsync(dst, 0, bytes, q->stream));
    return 0;
}

static int cu_launch(reel_rt_queue *q, reel_rt_kernel k, size_t groups, size_t local, size_t scratch,
                     const reel_rt_arg *args, int n_args, reel_error *err)
{
    void *p[32];
    if (n_args > 32 || (int)k < 0 || k >= REEL_K_COUNT)
        return fail(err, "CUDA: kernel %d with %d arguments is not one this plugin has", (int)k, n_args);
    for (int i = 0; i < n_args; i++)
        p[i] = (void *)&args[i].v; /* the value, in the parameter's type */
    CUDA_OK(cudaSetDevice(q->device));
    CUDA_OK(cudaLaunchKernel(reel_cuda_kernels[k], dim3((unsigned)groups), dim3((unsigned)local), p, scratch,
                             q->stream));
    return 0;
}

static int cu_gemm(reel_rt_queue *q, const reel_gemm *g, reel_rt_mem *A, size_t a_at, reel_rt_mem *B, size_t b_at,
                   reel_rt_mem *C, size_t c_at, reel_error *err)
{
    CUDA_OK(cudaSetDevice(q->device));
    CUBLAS_OK(cublasSgemm(q->blas, g->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                          g->m, g->n, g->k, &g->alpha, floats(A, a_at), g->lda, floats(B, b_at), g->ldb, &g->beta,
                          floats(C, c_at), g->ldc));
    return 0;
}

/* The plugin's one entry point (nn/cuda_plugin.h): the table filled by
 * member name for the version the host speaks. */
extern "C" __attribute__((visibility("default"))) int reel_cuda_plugin(int version, reel_cuda_plugin_table *p)
{
    if (version != REEL_CUDA_PLUGIN_VERSION || !p)
        return -1;
    memset(p, 0, sizeof *p);
    p->version = REEL_CUDA_PLUGIN_VERSION;
    p->device_count = device_count;
    p->info = device_info;
    p->absent_reason = device_absent_reason;
    reel_rt_ops *o = &p->ops;
    o->name = "cuda";
    o->open = cu_open;
    o->close = cu_close;
    o->alloc = cu_alloc;
    o->release = cu_release;
    o->write = cu_write;
    o->read = cu_read;
    o->copy = cu_copy;
    o->zero = cu_zero;
    o->launch = cu_launch;
    o->gemm = cu_gemm;
    o->sync = cu_sync;
    return 0;
}
