/* The OpenCL runtime: the runtime interface (nn/runtime.h) over OpenCL
 * 1.2, under the one host driver (nn/device_driver.c). The kernels of
 * kernels/nn_kernels.cl, whose source (with rk_portable.h, nn_math.h and
 * nn_layout.h in front) is embedded in reel, are built once per device at
 * first use; the products run on the dot and sum kernels (ocl_gemm).
 *
 * One context and one program per device, shared by every net (a search
 * trains trials in parallel threads); each net has its own in-order queue
 * and its own kernel objects. Every call is checked and a failure names
 * the call. */
#include "nn/opencl.h"

#include <stdio.h>
#include <string.h>

#ifdef REEL_HAVE_OPENCL

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "nn/device_driver.h"
#include "nn/runtime.h"
#include "nn_layout.h" /* kernels/: the sizes the kernels share */

extern const char reel_nn_kernels_src[]; /* generated: rk_portable.h + nn_math.h + nn_kernels.cl */

#define MAX_DEVICES 64
#define LOCAL 64        /* work-items per group of the element kernels */
#define MAX_GROUPS 4096 /* the element kernels stride over the launch past this */

typedef struct {
    cl_platform_id platform;
    cl_device_id id;
    reel_nn_device_info info;
    int is_pocl, fp64;
    int can_round; /* correctly rounded float division and sqrt */
    size_t max_alloc, max_group, local_mem;
    int compute_units;
    /* built at first use, under the lock */
    int tried;
    cl_context ctx;
    cl_program prog;
    char error[1024];
} ocl_device;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int listed, n_dev;
static ocl_device dev[MAX_DEVICES];
static char absent[256] = "no OpenCL device found";

static const char *cl_name(cl_int e)
{
    switch (e) {
#define N(x) case x: return #x;
        N(CL_DEVICE_NOT_FOUND) N(CL_DEVICE_NOT_AVAILABLE) N(CL_COMPILER_NOT_AVAILABLE)
        N(CL_MEM_OBJECT_ALLOCATION_FAILURE) N(CL_OUT_OF_RESOURCES) N(CL_OUT_OF_HOST_MEMORY)
        N(CL_BUILD_PROGRAM_FAILURE) N(CL_INVALID_VALUE) N(CL_INVALID_DEVICE) N(CL_INVALID_CONTEXT)
        N(CL_INVALID_COMMAND_QUEUE) N(CL_INVALID_MEM_OBJECT) N(CL_INVALID_BUILD_OPTIONS)
        N(CL_INVALID_PROGRAM_EXECUTABLE) N(CL_INVALID_KERNEL_NAME) N(CL_INVALID_KERNEL)
        N(CL_INVALID_ARG_INDEX) N(CL_INVALID_ARG_VALUE) N(CL_INVALID_ARG_SIZE) N(CL_INVALID_KERNEL_ARGS)
        N(CL_INVALID_WORK_DIMENSION) N(CL_INVALID_WORK_GROUP_SIZE) N(CL_INVALID_WORK_ITEM_SIZE)
        N(CL_INVALID_GLOBAL_OFFSET) N(CL_INVALID_EVENT_WAIT_LIST) N(CL_INVALID_OPERATION)
        N(CL_INVALID_BUFFER_SIZE) N(CL_INVALID_GLOBAL_WORK_SIZE) N(CL_INVALID_PLATFORM)
#undef N
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "an OpenCL error";
    }
}

#define CL_OK(call)                                                                                          \
    do {                                                                                                     \
        cl_int e_ = (call);                                                                                  \
        if (e_ != CL_SUCCESS)                                                                                \
            return reel_fail(err, "%s:%d: OpenCL error %s (%d) in %s", __FILE__, __LINE__, cl_name(e_), e_,   \
                             #call);                                                                         \
    } while (0)

static void text_info(cl_device_id d, cl_device_info what, char *out, size_t n)
{
    out[0] = '\0';
    if (clGetDeviceInfo(d, what, n - 1, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[n - 1] = '\0';
}

/* Lists every device of every platform once (under the lock). */
static void list_devices(void)
{
    if (listed)
        return;
    listed = 1;
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(0, NULL, &np);
    if (e != CL_SUCCESS || np == 0) {
        snprintf(absent, sizeof absent,
                 "no OpenCL platform found (%s): install a GPU's OpenCL driver, or pocl-opencl-icd for the CPU",
                 e == CL_SUCCESS ? "none installed" : cl_name(e));
        return;
    }
    cl_platform_id plats[16];
    if (np > 16)
        np = 16;
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS)
        return;
    for (cl_uint p = 0; p < np; p++) {
        char pname[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        cl_uint nd = 0;
        cl_device_id ids[MAX_DEVICES];
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint i = 0; i < nd && n_dev < MAX_DEVICES; i++) {
            ocl_device *d = &dev[n_dev++];
            memset(d, 0, sizeof *d);
            d->platform = plats[p];
            d->id = ids[i];
            text_info(ids[i], CL_DEVICE_NAME, d->info.name, sizeof d->info.name);
            char version[128];
            text_info(ids[i], CL_DEVICE_VERSION, version, sizeof version);
            char ext[8192];
            text_info(ids[i], CL_DEVICE_EXTENSIONS, ext, sizeof ext);
            d->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
            cl_device_type type = 0;
            clGetDeviceInfo(ids[i], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            d->info.is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
            d->is_pocl = strstr(pname, "Portable Computing Language") != NULL;
            cl_ulong mem = 0, alloc = 0;
            clGetDeviceInfo(ids[i], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            clGetDeviceInfo(ids[i], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
            d->info.memory = (size_t)mem;
            d->max_alloc = (size_t)alloc;
            size_t group = 1;
            clGetDeviceInfo(ids[i], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof group, &group, NULL);
            d->max_group = group;
            cl_ulong lm = 0;
            clGetDeviceInfo(ids[i], CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
            d->local_mem = (size_t)lm;
            cl_uint cu = 0;
            clGetDeviceInfo(ids[i], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            d->compute_units = (int)cu;
            d->info.local_memory = d->local_mem;
            cl_device_fp_config fp = 0;
            clGetDeviceInfo(ids[i], CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
            d->can_round = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
            d->info.usable = d->fp64;
            d->info.auto_pick = d->info.is_gpu && !d->is_pocl && d->fp64;
            snprintf(d->info.detail, sizeof d->info.detail, "%.120s; %.100s, %s, %.1f GiB%s%s", pname, version,
                     d->info.is_gpu ? "GPU" : "not a GPU", (double)mem / (1024.0 * 1024.0 * 1024.0),
                     d->fp64 ? "" : ", no double precision (cl_khr_fp64), which the nets' loss needs",
                     d->is_pocl ? ", used only when asked" : "");
        }
    }
    if (n_dev == 0)
        snprintf(absent, sizeof absent, "the OpenCL platforms list no device");
}

/* Whether an installed OpenCL driver other than PoCL could list a device
 * auto may pick, from the ICD loader's vendor files alone: a .icd file
 * names its driver's library, and asking the loader for platforms would
 * load them all, PoCL and its LLVM included (about 55 MiB), though auto
 * never picks PoCL. Drivers named by hand (OCL_ICD_FILENAMES, a library
 * in OCL_ICD_VENDORS) count as GPU drivers. */
static int icd_is_pocl(const char *path)
{
    char line[512] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 1; /* unreadable: the loader cannot load it either */
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    for (char *c = line; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return strstr(line, "pocl") != NULL;
}

static int gpu_driver; /* an ICD other than PoCL is installed */
static char auto_why[512];

static void probe_icds(void)
{
    const char *named = getenv("OCL_ICD_FILENAMES"), *dir = getenv("OCL_ICD_VENDORS");
    int by_hand = dir && *dir;
    if (!by_hand)
        dir = getenv("OPENCL_VENDOR_PATH");
    if (!dir || !*dir)
        dir = "/etc/OpenCL/vendors";
    snprintf(auto_why, sizeof auto_why,
             "no OpenCL driver but PoCL in %.300s (auto never picks PoCL; --device opencl does)", dir);
    struct stat st;
    size_t len = strlen(dir);
    int is_dir = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    int icd_file = !is_dir && len > 4 && strcmp(dir + len - 4, ".icd") == 0;
    if ((named && *named) || (by_hand && !is_dir && !icd_file)) {
        gpu_driver = 1; /* a library named by hand */
        return;
    }
    if (icd_file) {
        gpu_driver = !icd_is_pocl(dir);
        return;
    }
    DIR *d = is_dir ? opendir(dir) : NULL;
    for (struct dirent *e; d && !gpu_driver && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        char path[4096];
        if (n > 4 && strcmp(e->d_name + n - 4, ".icd") == 0 &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            gpu_driver = !icd_is_pocl(path);
    }
    if (d)
        closedir(d);
}

static const char *ocl_auto_absent(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, probe_icds);
    return gpu_driver ? NULL : auto_why;
}

static int ocl_count(void)
{
    pthread_mutex_lock(&lock);
    list_devices();
    int n = n_dev;
    pthread_mutex_unlock(&lock);
    return n;
}

static int ocl_info(int i, reel_nn_device_info *info)
{
    if (i < 0 || i >= ocl_count())
        return -1;
    *info = dev[i].info;
    return 0;
}

static const char *ocl_absent_reason(void)
{
    ocl_count();
    return absent;
}

/* The device's context and program, built at first use. */
static int device_ready(ocl_device *d, reel_error *err)
{
    pthread_mutex_lock(&lock);
    if (!d->tried) {
        d->tried = 1;
        cl_int e;
        d->ctx = clCreateContext(NULL, 1, &d->id, NULL, NULL, &e);
        if (e != CL_SUCCESS) {
            snprintf(d->error, sizeof d->error, "OpenCL: cannot make a context on %s: %s", d->info.name, cl_name(e));
        } else {
            const char *src = reel_nn_kernels_src;
            d->prog = clCreateProgramWithSource(d->ctx, 1, &src, NULL, &e);
            char opts[128];
            snprintf(opts, sizeof opts, "-cl-std=CL1.2%s",
                     d->can_round ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
            if (e == CL_SUCCESS)
                e = clBuildProgram(d->prog, 1, &d->id, opts, NULL, NULL);
            if (e != CL_SUCCESS) {
                char log[4096] = "";
                if (d->prog)
                    clGetProgramBuildInfo(d->prog, d->id, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
                log[sizeof log - 1] = '\0';
                for (char *c = log; *c; c++) /* one line */
                    if (*c == '\n' || *c == '\r')
                        *c = ' ';
                snprintf(d->error, sizeof d->error, "OpenCL: the nets' kernels do not build on %.200s: %s: %.380s",
                         d->info.name, cl_name(e), log);
                if (d->prog)
                    clReleaseProgram(d->prog);
                d->prog = NULL;
            }
        }
    }
    int ok = d->prog != NULL;
    pthread_mutex_unlock(&lock);
    return ok ? 0 : reel_fail(err, "%s", d->error[0] ? d->error : "OpenCL: the device is not usable");
}

/* ------------------------------------------------------ the runtime ops */

/* The kernels of the product descriptors (ocl_gemm), beside the driver's. */
enum { G_DOT = REEL_K_COUNT, G_SUM, G_DOT_ONE, G_SUM_ONE, K_ALL };
#define KERNEL_NAME(id, fn) #fn,
static const char *const kernel_names[K_ALL] = {REEL_RT_KERNELS(KERNEL_NAME) "rk_gemm_dot", "rk_gemm_rows",
                                                "rk_dot_one", "rk_sum_one"};

/* A queue and its own kernel objects (clSetKernelArg is not thread-safe
 * on a shared kernel). */
struct reel_rt_queue {
    ocl_device *d;
    cl_command_queue q;
    cl_kernel k[K_ALL];
    int tiled; /* the products as tiles (rk_gemm_*), else one output per work-item */
};

static cl_mem mem_of(reel_rt_mem *m) { return (cl_mem)m; }

static void ocl_close(reel_rt_queue *q)
{
    if (!q)
        return;
    if (q->q)
        clFinish(q->q);
    for (int k = 0; k < K_ALL; k++)
        if (q->k[k])
            clReleaseKernel(q->k[k]);
    if (q->q)
        clReleaseCommandQueue(q->q);
    free(q);
}

static reel_rt_queue *ocl_open(int device, reel_rt_limits *lim, reel_error *err)
{
    int count = ocl_count();
    if (device < 0 || device >= count || !dev[device].info.usable) {
        if (count == 0)
            reel_fail(err, "OpenCL: %s", absent);
        else if ((device < 0 || device >= count) && count == 1)
            reel_fail(err, "OpenCL: there is 1 device (number 0), not %d", device);
        else if (device < 0 || device >= count)
            reel_fail(err, "OpenCL: there are %d devices (numbers 0 to %d), not %d", count, count - 1, device);
        else
            reel_fail(err, "OpenCL device %d (%s) cannot train nets: %s", device, dev[device].info.name,
                      dev[device].info.detail);
        return NULL;
    }
    ocl_device *d = &dev[device];
    if (device_ready(d, err))
        return NULL;
    reel_rt_queue *q = calloc(1, sizeof *q);
    if (!q) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    q->d = d;
    cl_int e;
    q->q = clCreateCommandQueue(d->ctx, d->id, 0, &e);
    for (int k = 0; k < K_ALL && e == CL_SUCCESS; k++)
        q->k[k] = clCreateKernel(d->prog, kernel_names[k], &e);
    if (e != CL_SUCCESS) {
        reel_fail(err, "OpenCL: cannot set up a net on %s: %s", d->info.name, cl_name(e));
        ocl_close(q);
        return NULL;
    }
    q->tiled = !getenv("REEL_NO_TILES"); /* REEL_NO_TILES: the one-output kernels, for comparisons */
    memset(lim, 0, sizeof *lim);
    snprintf(lim->name, sizeof lim->name, "%s", d->info.name);
    lim->memory = d->info.memory;
    lim->max_group = d->max_group;
    lim->group = LOCAL;
    lim->max_groups = MAX_GROUPS;
    lim->scratch = d->local_mem > RK_FUSED_STATIC ? d->local_mem - RK_FUSED_STATIC : 0;
    lim->compute_units = d->compute_units;
    return q;
}

/* A buffer; running out of memory (or past the device's largest buffer)
 * is reported with the sizes, in one line. */
static reel_rt_mem *ocl_alloc(reel_rt_queue *q, size_t bytes, const char *what, reel_error *err)
{
    const double mib = 1024.0 * 1024.0;
    ocl_device *d = q->d;
    if (bytes > d->max_alloc) {
        reel_fail(err,
                  "OpenCL device out of memory: %s needs %.1f MiB, %s allows %.1f MiB per buffer (%.1f MiB "
                  "in all); use a smaller batch_size or net, or --device cpu",
                  what, (double)bytes / mib, d->info.name, (double)d->max_alloc / mib, (double)d->info.memory / mib);
        return NULL;
    }
    cl_int e;
    cl_mem m = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
    if (e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES || e == CL_OUT_OF_HOST_MEMORY)
        reel_fail(err, "OpenCL device out of memory: %s needs %.1f MiB on %s (%.1f MiB in all); use a "
                       "smaller batch_size or net, or --device cpu",
                  what, (double)bytes / mib, d->info.name, (double)d->info.memory / mib);
    else if (e != CL_SUCCESS)
        reel_fail(err, "OpenCL error %s (%d) making a buffer for %s", cl_name(e), e, what);
    return e == CL_SUCCESS ? (reel_rt_mem *)m : NULL;
}

static void ocl_release(reel_rt_mem *m) { clReleaseMemObject(mem_of(m)); }

static int ocl_write(reel_rt_queue *q, reel_rt_mem *dst, size_t at, const void *src, size_t bytes, reel_error *err)
{
    CL_OK(clEnqueueWriteBuffer(q->q, mem_of(dst), CL_TRUE, at, bytes, src, 0, NULL, NULL));
    return 0;
}

static int ocl_read(reel_rt_queue *q, reel_rt_mem *src, size_t at, void *dst, size_t bytes, reel_error *err)
{
    CL_OK(clEnqueueReadBuffer(q->q, mem_of(src), CL_TRUE, at, bytes, dst, 0, NULL, NULL));
    return 0;
}

static int ocl_copy(reel_rt_queue *q, reel_rt_mem *src, size_t from, reel_rt_mem *dst, size_t to, size_t bytes,
                    reel_error *err)
{
    CL_OK(clEnqueueCopyBuffer(q->q, mem_of(src), mem_of(dst), from, to, bytes, 0, NULL, NULL));
    return 0;
}

static int ocl_zero(reel_rt_queue *q, reel_rt_mem *dst, size_t bytes, reel_error *err)
{
    const cl_uchar z = 0;
    CL_OK(clEnqueueFillBuffer(q->q, mem_of(dst), &z, 1, 0, bytes, 0, NULL, NULL));
    return 0;
}

static int ocl_sync(reel_rt_queue *q, reel_error *err)
{
    CL_OK(clFinish(q->q));
    return 0;
}

static size_t arg_size(reel_rt_arg_type t)
{
    switch (t) {
    case REEL_ARG_MEM:
        return sizeof(cl_mem);
    case REEL_ARG_I32:
        return sizeof(cl_int);
    case REEL_ARG_F32:
        return sizeof(cl_float);
    default: /* the 64-bit ones */
        return 8;
    }
}

/* Kernel k over groups x local work-items; the fused kernels' scratch is
 * their last argument, of `scratch` bytes of local memory. */
static int launch_k(reel_rt_queue *q, int k, size_t groups, size_t local, size_t scratch, const reel_rt_arg *a,
                    int n, reel_error *err)
{
    cl_uint i = 0;
    cl_int e = CL_SUCCESS;
    for (; e == CL_SUCCESS && i < (cl_uint)n; i++)
        e = clSetKernelArg(q->k[k], i, arg_size(a[i].type), &a[i].v);
    if (e == CL_SUCCESS && scratch)
        e = clSetKernelArg(q->k[k], i++, scratch, NULL);
    if (e != CL_SUCCESS)
        return reel_fail(err, "OpenCL error %s (%d) setting argument %u of %s", cl_name(e), e, i - 1,
                         kernel_names[k]);
    size_t global = groups * local;
    e = clEnqueueNDRangeKernel(q->q, q->k[k], 1, NULL, &global, &local, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return reel_fail(err, "OpenCL error %s (%d) launching %s (%zu groups of %zu)", cl_name(e), e,
                         kernel_names[k], groups, local);
    return 0;
}

static int ocl_launch(reel_rt_queue *q, reel_rt_kernel k, size_t groups, size_t local, size_t scratch,
                      const reel_rt_arg *args, int n_args, reel_error *err)
{
    return launch_k(q, (int)k, groups, local, scratch, args, n_args, err);
}

static reel_rt_arg mem_arg(reel_rt_mem *m)
{
    reel_rt_arg a;
    a.type = REEL_ARG_MEM;
    a.v.mem = m;
    return a;
}
static reel_rt_arg int_arg(int v)
{
    reel_rt_arg a;
    a.type = REEL_ARG_I32;
    a.v.i32 = v;
    return a;
}
static reel_rt_arg u64_arg(size_t v)
{
    reel_rt_arg a;
    a.type = REEL_ARG_U64;
    a.v.u64 = (uint64_t)v;
    return a;
}

/* A product descriptor (column-major C = op(A) op(B), nn/gemm_desc.h) on
 * the dot and sum kernels of nn_kernels.cl, which read row-major: the
 * column-major C (m x n) is the row-major C' = C^T (n x m, ldc), the
 * product op(B)^T op(A)^T. With op(A) not transposed, each row of op(A)^T
 * is contiguous: the sum form, summing k in order (the CPU's gradients).
 * With op(A) transposed and op(B) not, both operands run along k: dot
 * products, in 8 partial sums as the CPU's forward. Both keep the CPU
 * backend's bits; alpha 1 and beta 0 only (all a layer needs). */
static int ocl_gemm(reel_rt_queue *q, const reel_gemm *g, reel_rt_mem *A, size_t a_at, reel_rt_mem *B, size_t b_at,
                    reel_rt_mem *C, size_t c_at, reel_error *err)
{
    if (g->alpha != 1.0f || g->beta != 0.0f || (g->trans_a && g->trans_b))
        return reel_fail(err, "OpenCL: no kernel for a product with alpha %g, beta %g, both operands transposed %d",
                         g->alpha, g->beta, g->trans_a && g->trans_b);
    int dot = g->trans_a;
    /* A' = op(B)^T: row r, entry k at B[r * sam + k * sak] */
    size_t sam = g->trans_b ? 1 : (size_t)g->ldb, sak = g->trans_b ? (size_t)g->ldb : 1;
    reel_rt_arg a[13] = {int_arg(g->n), int_arg(g->m), int_arg(g->k), mem_arg(B), u64_arg(b_at)};
    int n = 5;
    if (dot) { /* rows of op(B)^T (ldb apart) . rows of A (lda apart) */
        a[n++] = u64_arg((size_t)g->ldb);
        a[n++] = mem_arg(A);
        a[n++] = u64_arg(a_at);
        a[n++] = u64_arg((size_t)g->lda);
    } else { /* B'(k, c) = op(A)^T(k, c) = A[k * lda + c] */
        a[n++] = u64_arg(sam);
        a[n++] = u64_arg(sak);
        a[n++] = mem_arg(A);
        a[n++] = u64_arg(a_at);
        a[n++] = u64_arg((size_t)g->lda);
    }
    a[n++] = mem_arg(C);
    a[n++] = u64_arg(c_at);
    a[n++] = u64_arg((size_t)g->ldc);
    size_t M = (size_t)g->n, N = (size_t)g->m, total = M * N;
    if (q->tiled)
        total = dot ? ((M + RK_FWD_M - 1) / RK_FWD_M) * ((N + RK_FWD_N - 1) / RK_FWD_N)
                    : ((M + RK_TM - 1) / RK_TM) * ((N + RK_TN - 1) / RK_TN);
    size_t groups = (total + LOCAL - 1) / LOCAL;
    int k = q->tiled ? (dot ? G_DOT : G_SUM) : (dot ? G_DOT_ONE : G_SUM_ONE);
    return launch_k(q, k, groups < MAX_GROUPS ? groups : MAX_GROUPS, LOCAL, 0, a, n, err);
}

static const reel_rt_ops ops = {"opencl",  ocl_open,   ocl_close,  ocl_alloc,  ocl_release, ocl_write, ocl_read,
                                ocl_copy, ocl_zero, ocl_launch, ocl_gemm, ocl_sync};

static reel_nn_backend backend;

static void *ocl_create(const reel_nn_spec *spec, int device, int threads, reel_error *err)
{
    (void)threads;
    return reel_driver_create(&ops, spec, device, err);
}

static void backend_fill(void) { reel_driver_backend(&backend, "opencl", ocl_create); }

static const reel_nn_backend *ocl_backend(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, backend_fill);
    return &backend;
}

const reel_nn_runtime reel_nn_opencl_runtime = {"opencl", ocl_count, ocl_info, ocl_absent_reason, ocl_backend,
                                                ocl_auto_absent};

#else /* built without OpenCL */

static int ocl_count(void) { return 0; }
static int ocl_info(int i, reel_nn_device_info *info)
{
    (void)i;
    (void)info;
    return -1;
}
static const char *ocl_absent_reason(void)
{
    return "this reel was built without OpenCL (install ocl-icd-opencl-dev and opencl-c-headers, then rebuild)";
}
static const reel_nn_backend *ocl_backend(void) { return NULL; }
static const char *ocl_auto_absent(void) { return ocl_absent_reason(); }

const reel_nn_runtime reel_nn_opencl_runtime = {"opencl", ocl_count, ocl_info, ocl_absent_reason, ocl_backend,
                                                ocl_auto_absent};

#endif
