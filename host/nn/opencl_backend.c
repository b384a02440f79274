/* The OpenCL backend: the CPU backend's training step with the kernels of
 * kernels/nn_kernels.cl, whose source (with rk_portable.h and nn_math.h in
 * front) is embedded in reel and built once per device at first use.
 *
 * One context and one program per device, shared by every net (a search
 * trains trials in parallel threads); each net has its own in-order queue
 * and its own kernel objects (clSetKernelArg is not thread-safe on a shared
 * kernel). The training data goes to the device once (set_data), the row
 * order once per epoch; a step waits for the device only when its loss is
 * asked for. Every call is checked and a failure names the call. */
#include "nn/opencl.h"

#include <stdio.h>
#include <string.h>

#ifdef REEL_HAVE_OPENCL

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "nn/cpu_ops.h"    /* reel_cpu_head_count */
#include "nn/fused_plan.h" /* the fused kernels' tables */
#include "nn_layout.h"     /* kernels/: the sizes the kernels share */

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

/* ------------------------------------------------------------ the backend */

enum {
    K_GATHER,
    K_FORWARD,
    K_HEAD,
    K_ACT_BIAS,
    K_WGRAD,
    K_IGRAD,
    K_FINISH,
    K_SUM,
    K_ADAMW,
    K_AVG_UPDATE,
    K_AVG_GET,
    K_FUSED,
    K_FUSED_MANY,
    K_GEMM_FORWARD,
    K_GEMM_WGRAD,
    K_GEMM_IGRAD,
    K_COUNT
};
static const char *const kernel_names[K_COUNT] = {
    "rk_gather_rows", "rk_linear_forward", "rk_head_rows", "rk_act_backward_bias",
    "rk_weight_grad", "rk_input_grad",     "rk_finish_step", "rk_sum_rows",
    "rk_adamw",       "rk_avg_update",     "rk_avg_get",     "rk_fused_epoch",
    "rk_fused_epochs", "rk_gemm_forward", "rk_gemm_weight_grad", "rk_gemm_input_grad",
};

typedef struct {
    reel_nn_spec spec;
    ocl_device *d;
    cl_command_queue q;
    cl_kernel k[K_COUNT];
    size_t reduce; /* work-items of the one-group kernels */
    int tiled;     /* the layered products as tiles (rk_gemm_*), else one output per work-item */
    cl_mem params, grads, m, v; /* n_params floats each */
    cl_mem X, Y;                /* training data */
    size_t n_data;
    const float *host_X, *host_Y; /* what set_data was given: nets given the same share a launch */
    cl_mem order;
    size_t n_order, order_cap;
    int bad_seen; /* the host has seen a bad step since set_data */
    size_t cap; /* step workspace rows */
    cl_mem xb, yb, H[REEL_NN_MAX_LAYERS], g0, g1, rowloss;
    cl_mem loss_acc, eval_acc, bad_step, batch_loss;
    cl_mem avg_sum, avg_out; /* the moving average (when first used) */
    cl_mem ex, ey, ea, eb, ep, erow; /* an eval chunk (when first used) */
    cl_mem layers;                   /* the fused kernel's layer table */
    cl_mem ep_f, ep_a;               /* an epoch's per-step scalars and averaging decays */
    size_t ep_cap;
} cl_net;

static void rel(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

static void ocl_destroy(void *p)
{
    cl_net *c = p;
    if (!c)
        return;
    if (c->q)
        clFinish(c->q);
    cl_mem *all[] = {&c->params, &c->grads,    &c->m,        &c->v,        &c->X,         &c->Y,
                     &c->order,  &c->xb,       &c->yb,       &c->g0,       &c->g1,        &c->rowloss,
                     &c->loss_acc, &c->eval_acc, &c->bad_step, &c->batch_loss, &c->avg_sum, &c->avg_out,
                     &c->ex,     &c->ey,       &c->ea,       &c->eb,       &c->ep,        &c->erow,
                     &c->layers, &c->ep_f,     &c->ep_a};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        rel(all[i]);
    for (size_t l = 0; l < REEL_NN_MAX_LAYERS; l++)
        rel(&c->H[l]);
    for (int k = 0; k < K_COUNT; k++)
        if (c->k[k])
            clReleaseKernel(c->k[k]);
    if (c->q)
        clReleaseCommandQueue(c->q);
    free(c);
}

/* A device buffer of `bytes`; running out of memory (or past the device's
 * largest buffer) is reported with the sizes, in one line. */
static int alloc(cl_net *c, cl_mem *m, size_t bytes, const char *what, reel_error *err)
{
    const double mib = 1024.0 * 1024.0;
    rel(m);
    if (bytes == 0)
        bytes = sizeof(double);
    if (bytes > c->d->max_alloc)
        return reel_fail(err,
                         "OpenCL device out of memory: %s needs %.1f MiB, %s allows %.1f MiB per buffer (%.1f MiB "
                         "in all); use a smaller batch_size or net, or --device cpu",
                         what, (double)bytes / mib, c->d->info.name, (double)c->d->max_alloc / mib,
                         (double)c->d->info.memory / mib);
    cl_int e;
    *m = clCreateBuffer(c->d->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
    if (e == CL_MEM_OBJECT_ALLOCATION_FAILURE || e == CL_OUT_OF_RESOURCES || e == CL_OUT_OF_HOST_MEMORY) {
        *m = NULL;
        return reel_fail(err, "OpenCL device out of memory: %s needs %.1f MiB on %s (%.1f MiB in all); use a "
                         "smaller batch_size or net, or --device cpu",
                         what, (double)bytes / mib, c->d->info.name, (double)c->d->info.memory / mib);
    }
    CL_OK(e);
    return 0;
}

static int zero(cl_net *c, cl_mem m, size_t bytes, reel_error *err)
{
    const cl_uchar z = 0;
    CL_OK(clEnqueueFillBuffer(c->q, m, &z, 1, 0, bytes, 0, NULL, NULL));
    return 0;
}

static int put(cl_net *c, cl_mem m, const void *src, size_t bytes, reel_error *err)
{
    if (bytes)
        CL_OK(clEnqueueWriteBuffer(c->q, m, CL_TRUE, 0, bytes, src, 0, NULL, NULL));
    return 0;
}

static int get(cl_net *c, cl_mem m, size_t offset, void *dst, size_t bytes, reel_error *err)
{
    if (bytes)
        CL_OK(clEnqueueReadBuffer(c->q, m, CL_TRUE, offset, bytes, dst, 0, NULL, NULL));
    return 0;
}

/* Kernel arguments in order; the first failure is kept. */
typedef struct {
    cl_kernel k;
    cl_uint i;
    cl_int e;
} args;

static void arg(args *a, size_t size, const void *value)
{
    if (a->e == CL_SUCCESS)
        a->e = clSetKernelArg(a->k, a->i, size, value);
    a->i++;
}
static void am(args *a, cl_mem m) { arg(a, sizeof m, &m); }
static void ai(args *a, long v)
{
    cl_int x = (cl_int)v;
    arg(a, sizeof x, &x);
}
static void au(args *a, size_t v)
{
    cl_ulong x = (cl_ulong)v;
    arg(a, sizeof x, &x);
}
static void al(args *a, long v)
{
    cl_long x = (cl_long)v;
    arg(a, sizeof x, &x);
}
static void af(args *a, float v) { arg(a, sizeof v, &v); }
static void ad(args *a, double v) { arg(a, sizeof v, &v); }

/* Launches kernel k over `total` elements (it strides past the launch), or
 * as one group of c->reduce work-items when total is 0. */
static int launch(cl_net *c, args *a, size_t total, reel_error *err)
{
    if (a->e != CL_SUCCESS)
        return reel_fail(err, "OpenCL error %s (%d) setting argument %u of a kernel", cl_name(a->e), a->e,
                         a->i);
    size_t local = total ? LOCAL : c->reduce, global = local;
    if (total) {
        size_t groups = (total + LOCAL - 1) / LOCAL;
        global = (groups < MAX_GROUPS ? groups : MAX_GROUPS) * LOCAL;
    }
    CL_OK(clEnqueueNDRangeKernel(c->q, a->k, 1, NULL, &global, &local, 0, NULL, NULL));
    return 0;
}

/* Launches a tiled product (rk_gemm_*) over an M x N result, one
 * work-item per tile of tm x tn outputs (it strides past the launch). */
static int launch_tiles(cl_net *c, args *a, size_t M, size_t N, size_t tm, size_t tn, reel_error *err)
{
    return launch(c, a, ((M + tm - 1) / tm) * ((N + tn - 1) / tn), err);
}

static args kargs(cl_net *c, int k)
{
    args a = {c->k[k], 0, CL_SUCCESS};
    return a;
}

static void *ocl_create(const reel_nn_spec *spec, int device, int threads, reel_error *err)
{
    (void)threads;
    int count = ocl_count();
    if (device < 0 || device >= count || !dev[device].info.usable) {
        if (count == 0)
            reel_fail(err, "OpenCL: %s", absent);
        else if (device < 0 || device >= count)
            reel_fail(err, "OpenCL: there are %d devices (0 to %d), not %d", count, count - 1, device);
        else
            reel_fail(err, "OpenCL device %d (%s) cannot train nets: %s", device, dev[device].info.name,
                      dev[device].info.detail);
        return NULL;
    }
    ocl_device *d = &dev[device];
    if (device_ready(d, err))
        return NULL;
    cl_net *c = calloc(1, sizeof *c);
    if (!c) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    c->spec = *spec;
    c->d = d;
    c->reduce = RK_REDUCE;
    while (c->reduce > d->max_group)
        c->reduce /= 2;
    cl_int e;
    c->q = clCreateCommandQueue(d->ctx, d->id, 0, &e);
    for (int k = 0; k < K_COUNT && e == CL_SUCCESS; k++)
        c->k[k] = clCreateKernel(d->prog, kernel_names[k], &e);
    if (e != CL_SUCCESS) {
        reel_fail(err, "OpenCL: cannot set up a net on %s: %s", d->info.name, cl_name(e));
        ocl_destroy(c);
        return NULL;
    }
    c->tiled = !getenv("REEL_NO_TILES"); /* REEL_NO_TILES: the one-output kernels, for comparisons */
    size_t n = spec->n_params * sizeof(float);
    if (alloc(c, &c->params, n, "the net's parameters", err) || alloc(c, &c->grads, n, "the gradient", err) ||
        alloc(c, &c->m, n, "AdamW's first moments", err) || alloc(c, &c->v, n, "AdamW's second moments", err) ||
        alloc(c, &c->loss_acc, sizeof(double), "a loss accumulator", err) ||
        alloc(c, &c->eval_acc, sizeof(double), "a loss accumulator", err) ||
        alloc(c, &c->bad_step, sizeof(cl_long), "a step number", err) ||
        alloc(c, &c->batch_loss, sizeof(float), "the batch loss", err) || zero(c, c->params, n, err) ||
        zero(c, c->grads, n, err) || zero(c, c->m, n, err) || zero(c, c->v, n, err) ||
        zero(c, c->loss_acc, sizeof(double), err) || zero(c, c->bad_step, sizeof(cl_long), err) ||
        zero(c, c->batch_loss, sizeof(float), err)) {
        ocl_destroy(c);
        return NULL;
    }
    return c;
}

static int reserve(cl_net *c, size_t n, reel_error *err)
{
    if (n <= c->cap)
        return 0;
    const reel_nn_spec *s = &c->spec;
    CL_OK(clFinish(c->q)); /* nothing may still use the old buffers */
    c->cap = 0;
    char what[96];
    snprintf(what, sizeof what, "a batch of %zu rows", n);
    size_t f = sizeof(float);
    if (alloc(c, &c->xb, n * s->d * f, what, err) || alloc(c, &c->yb, n * s->L * f, what, err) ||
        alloc(c, &c->g0, n * s->max_width * f, what, err) || alloc(c, &c->g1, n * s->max_width * f, what, err) ||
        alloc(c, &c->rowloss, n * sizeof(double), what, err))
        return -1;
    for (size_t l = 0; l < s->n_layers; l++)
        if (alloc(c, &c->H[l], n * s->layer[l].out * f, what, err))
            return -1;
    c->cap = n;
    return 0;
}

static int ocl_set_params(void *p, const float *params, reel_error *err)
{
    cl_net *c = p;
    return put(c, c->params, params, c->spec.n_params * sizeof(float), err);
}

static int ocl_get_params(void *p, float *params, reel_error *err)
{
    cl_net *c = p;
    return get(c, c->params, 0, params, c->spec.n_params * sizeof(float), err);
}

static int ocl_get_grads(void *p, float *grads, reel_error *err)
{
    cl_net *c = p;
    return get(c, c->grads, 0, grads, c->spec.n_params * sizeof(float), err);
}

static int ocl_set_data(void *p, const float *X, const float *Y, size_t n, reel_error *err)
{
    cl_net *c = p;
    const reel_nn_spec *s = &c->spec;
    CL_OK(clFinish(c->q));
    c->n_data = 0;
    c->host_X = c->host_Y = NULL;
    c->n_order = 0; /* an old order may index past the new rows */
    char what[128];
    snprintf(what, sizeof what, "the training data (%zu rows x %zu features + %zu labels)", n, s->d, s->L);
    size_t np = s->n_params;
    if (alloc(c, &c->X, n * s->d * sizeof(float), what, err) || alloc(c, &c->Y, n * s->L * sizeof(float), what, err) ||
        put(c, c->X, X, n * s->d * sizeof(float), err) || put(c, c->Y, Y, n * s->L * sizeof(float), err) ||
        zero(c, c->m, np * sizeof(float), err) || zero(c, c->v, np * sizeof(float), err) ||
        zero(c, c->loss_acc, sizeof(double), err) || zero(c, c->bad_step, sizeof(cl_long), err) ||
        (c->avg_sum && zero(c, c->avg_sum, np * sizeof(double), err)))
        return -1;
    c->n_data = n;
    c->host_X = X;
    c->host_Y = Y;
    c->bad_seen = 0;
    return 0;
}

/* set_data with the data net `from` holds: its device copy, retained
 * (OpenCL counts the references), not another one. */
static int ocl_share_data(void *p, const void *from, reel_error *err)
{
    cl_net *c = p;
    const cl_net *f = from;
    if (f->d != c->d || f->spec.d != c->spec.d || f->spec.L != c->spec.L || !f->X || !f->Y)
        return reel_fail(err, "OpenCL: a net shares only the training data of a net on its device with as many "
                              "features and labels");
    CL_OK(clFinish(c->q));
    CL_OK(clRetainMemObject(f->X));
    CL_OK(clRetainMemObject(f->Y));
    rel(&c->X);
    rel(&c->Y);
    c->X = f->X;
    c->Y = f->Y;
    c->n_order = 0;
    size_t np = c->spec.n_params;
    if (zero(c, c->m, np * sizeof(float), err) || zero(c, c->v, np * sizeof(float), err) ||
        zero(c, c->loss_acc, sizeof(double), err) || zero(c, c->bad_step, sizeof(cl_long), err) ||
        (c->avg_sum && zero(c, c->avg_sum, np * sizeof(double), err)))
        return -1;
    c->n_data = f->n_data;
    c->host_X = f->host_X;
    c->host_Y = f->host_Y;
    c->bad_seen = 0;
    return 0;
}

static int ocl_set_order(void *p, const uint32_t *order, size_t n, reel_error *err)
{
    cl_net *c = p;
    for (size_t i = 0; i < n; i++)
        if (order[i] >= c->n_data)
            return reel_fail(err, "row order: index %u is past the %zu data rows", order[i], c->n_data);
    if (n > c->order_cap) {
        CL_OK(clFinish(c->q));
        c->order_cap = 0;
        if (alloc(c, &c->order, n * sizeof(uint32_t), "the row order", err))
            return -1;
        c->order_cap = n;
    }
    /* blocking: the queue is in order, so the steps already queued read the
     * old order before this write lands */
    if (put(c, c->order, order, n * sizeof(uint32_t), err))
        return -1;
    c->n_order = n;
    return 0;
}

/* Forward from A (n rows); layer l's output goes to out[l]. */
static int forward(cl_net *c, cl_mem A, size_t n, cl_mem *out, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        args a = kargs(c, c->tiled ? K_GEMM_FORWARD : K_FORWARD);
        am(&a, A);
        ai(&a, (long)n);
        ai(&a, (long)ly->in);
        am(&a, c->params);
        au(&a, ly->w_off);
        au(&a, ly->b_off);
        ai(&a, (long)ly->out);
        ai(&a, (long)ly->act);
        am(&a, out[l]);
        if (c->tiled ? launch_tiles(c, &a, n, ly->out, RK_FWD_M, RK_FWD_N, err) : launch(c, &a, n * ly->out, err))
            return -1;
        A = out[l];
    }
    return 0;
}

/* The head over n rows of logits Z: G, P and the row losses where given. */
static int head(cl_net *c, cl_mem Z, cl_mem Y, size_t n, float scale, cl_mem G, cl_mem P, cl_mem rowloss,
                reel_error *err)
{
    args a = kargs(c, K_HEAD);
    am(&a, Z);
    am(&a, Y);
    ai(&a, (long)n);
    ai(&a, (long)c->spec.L);
    ai(&a, (long)c->spec.head);
    af(&a, scale);
    am(&a, G);
    am(&a, P);
    am(&a, rowloss);
    return launch(c, &a, n, err);
}

static int ocl_train_step(void *p, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                          reel_error *err)
{
    cl_net *c = p;
    const reel_nn_spec *s = &c->spec;
    if (n == 0 || start + n > c->n_order)
        return reel_fail(err, "train step: rows %zu..%zu are outside the row order of %zu", start, start + n,
                         c->n_order);
    if (n > 0x7fffffff)
        return reel_fail(err, "train step: a batch of %zu rows is too large", n);
    if (reserve(c, n, err))
        return -1;
    args a = kargs(c, K_GATHER);
    am(&a, c->X);
    am(&a, c->Y);
    am(&a, c->order);
    au(&a, start);
    ai(&a, (long)n);
    ai(&a, (long)s->d);
    ai(&a, (long)s->L);
    am(&a, c->xb);
    am(&a, c->yb);
    if (launch(c, &a, n * (s->d + s->L), err) || forward(c, c->xb, n, c->H, err))
        return -1;
    double count = reel_cpu_head_count(s->head, n, s->L);
    size_t last = s->n_layers - 1;
    if (head(c, c->H[last], c->yb, n, (float)(1.0 / count), c->g0, NULL, c->rowloss, err))
        return -1;
    cl_mem g0 = c->g0, g1 = c->g1;
    for (size_t l = s->n_layers; l-- > 0;) {
        const reel_nn_layer *ly = &s->layer[l];
        cl_mem A = l ? c->H[l - 1] : c->xb;
        a = kargs(c, K_ACT_BIAS);
        am(&a, g0);
        am(&a, c->H[l]);
        ai(&a, (long)n);
        ai(&a, (long)ly->out);
        ai(&a, (long)ly->act);
        am(&a, c->grads);
        au(&a, ly->b_off);
        if (launch(c, &a, ly->out, err))
            return -1;
        a = kargs(c, c->tiled ? K_GEMM_WGRAD : K_WGRAD);
        am(&a, A);
        am(&a, g0);
        ai(&a, (long)n);
        ai(&a, (long)ly->in);
        ai(&a, (long)ly->out);
        am(&a, c->grads);
        au(&a, ly->w_off);
        if (c->tiled ? launch_tiles(c, &a, ly->out, ly->in, RK_TM, RK_TN, err)
                     : launch(c, &a, ly->out * ly->in, err))
            return -1;
        if (l) {
            a = kargs(c, c->tiled ? K_GEMM_IGRAD : K_IGRAD);
            am(&a, g0);
            am(&a, c->params);
            au(&a, ly->w_off);
            ai(&a, (long)n);
            ai(&a, (long)ly->out);
            ai(&a, (long)ly->in);
            am(&a, g1);
            if (c->tiled ? launch_tiles(c, &a, n, ly->in, RK_TM, RK_TN, err) : launch(c, &a, n * ly->in, err))
                return -1;
            cl_mem t = g0;
            g0 = g1;
            g1 = t;
        }
    }
    a = kargs(c, K_FINISH);
    am(&a, c->rowloss);
    ai(&a, (long)n);
    ad(&a, count);
    am(&a, c->grads);
    au(&a, s->n_params);
    al(&a, step);
    am(&a, c->batch_loss);
    am(&a, c->loss_acc);
    am(&a, c->bad_step);
    if (launch(c, &a, 0, err))
        return -1;
    rk_adamw_k k = reel_adamw_scalars(opt, step);
    a = kargs(c, K_ADAMW);
    am(&a, c->params);
    am(&a, c->grads);
    am(&a, c->m);
    am(&a, c->v);
    au(&a, s->n_params);
    af(&a, k.decay);
    af(&a, k.b1);
    af(&a, k.c1);
    af(&a, k.b2);
    af(&a, k.c2);
    af(&a, k.step_size);
    af(&a, k.bc2_sqrt);
    af(&a, k.eps);
    am(&a, c->bad_step);
    if (launch(c, &a, s->n_params, err))
        return -1;
    if (loss) { /* waits for the step: its flag comes along */
        cl_long bad = 0;
        if (get(c, c->batch_loss, 0, loss, sizeof *loss, err) || get(c, c->bad_step, 0, &bad, sizeof bad, err))
            return -1;
        c->bad_seen |= bad != 0;
    }
    return c->bad_seen;
}

static int ocl_take_loss_sum(void *p, double *sum, reel_error *err)
{
    cl_net *c = p;
    return get(c, c->loss_acc, 0, sum, sizeof *sum, err) || zero(c, c->loss_acc, sizeof(double), err) ? -1 : 0;
}

static int ocl_first_bad_step(void *p, long *step, reel_error *err)
{
    cl_net *c = p;
    cl_long v = 0;
    if (get(c, c->bad_step, 0, &v, sizeof v, err))
        return -1;
    *step = (long)v;
    c->bad_seen |= v != 0;
    return 0;
}

static int ocl_get_moments(void *p, float *m, float *v, reel_error *err)
{
    cl_net *c = p;
    size_t n = c->spec.n_params * sizeof(float);
    return get(c, c->m, 0, m, n, err) || get(c, c->v, 0, v, n, err) ? -1 : 0;
}

static int ocl_set_moments(void *p, const float *m, const float *v, reel_error *err)
{
    cl_net *c = p;
    size_t n = c->spec.n_params * sizeof(float);
    return put(c, c->m, m, n, err) || put(c, c->v, v, n, err) ? -1 : 0;
}

static int avg_alloc(cl_net *c, reel_error *err)
{
    size_t n = c->spec.n_params;
    if (c->avg_sum)
        return 0;
    if (alloc(c, &c->avg_out, n * sizeof(float), "the moving average of the weights", err) ||
        alloc(c, &c->avg_sum, n * sizeof(double), "the moving average of the weights", err) ||
        zero(c, c->avg_sum, n * sizeof(double), err)) {
        rel(&c->avg_sum); /* both or neither */
        rel(&c->avg_out);
        return -1;
    }
    return 0;
}

/* Queued behind the steps: no wait for the device. */
static int ocl_avg_update(void *p, double w, reel_error *err)
{
    cl_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    args a = kargs(c, K_AVG_UPDATE);
    am(&a, c->avg_sum);
    am(&a, c->params);
    au(&a, c->spec.n_params);
    ad(&a, w);
    return launch(c, &a, c->spec.n_params, err);
}

static int ocl_get_avg(void *p, double weight, float *out, reel_error *err)
{
    cl_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    args a = kargs(c, K_AVG_GET);
    am(&a, c->avg_sum);
    au(&a, c->spec.n_params);
    ad(&a, weight);
    am(&a, c->avg_out);
    if (launch(c, &a, c->spec.n_params, err))
        return -1;
    return get(c, c->avg_out, 0, out, c->spec.n_params * sizeof(float), err);
}

static int ocl_get_avg_sum(void *p, double *sum, reel_error *err)
{
    cl_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    return get(c, c->avg_sum, 0, sum, c->spec.n_params * sizeof(double), err);
}

static int ocl_set_avg_sum(void *p, const double *sum, reel_error *err)
{
    cl_net *c = p;
    if (avg_alloc(c, err))
        return -1;
    return put(c, c->avg_sum, sum, c->spec.n_params * sizeof(double), err);
}

/* Forward over X in chunks of RK_EVAL_CHUNK rows; P and the summed loss (when
 * Y) come back. The chunk buffers are made at the first call. */
static int ocl_eval(cl_net *c, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    const char *what = "the prediction buffers (4096 rows)";
    size_t f = sizeof(float), w = s->max_width;
    if (!c->ex && (alloc(c, &c->ex, RK_EVAL_CHUNK * s->d * f, what, err) ||
                   alloc(c, &c->ey, RK_EVAL_CHUNK * s->L * f, what, err) ||
                   alloc(c, &c->ea, RK_EVAL_CHUNK * w * f, what, err) || alloc(c, &c->eb, RK_EVAL_CHUNK * w * f, what, err) ||
                   alloc(c, &c->ep, RK_EVAL_CHUNK * s->L * f, what, err) ||
                   alloc(c, &c->erow, RK_EVAL_CHUNK * sizeof(double), what, err))) {
        rel(&c->ex); /* all or none */
        return -1;
    }
    cl_mem bufs[REEL_NN_MAX_LAYERS];
    for (size_t l = 0; l < s->n_layers; l++)
        bufs[l] = l % 2 ? c->eb : c->ea;
    if (zero(c, c->eval_acc, sizeof(double), err))
        return -1;
    for (size_t r0 = 0; r0 < n; r0 += RK_EVAL_CHUNK) {
        size_t m = n - r0 < RK_EVAL_CHUNK ? n - r0 : RK_EVAL_CHUNK;
        if (put(c, c->ex, X + r0 * s->d, m * s->d * f, err) || (Y && put(c, c->ey, Y + r0 * s->L, m * s->L * f, err)) ||
            forward(c, c->ex, m, bufs, err) ||
            head(c, bufs[s->n_layers - 1], Y ? c->ey : NULL, m, 0.0f, NULL, P ? c->ep : NULL, Y ? c->erow : NULL,
                 err))
            return -1;
        if (Y) {
            args a = kargs(c, K_SUM);
            am(&a, c->erow);
            ai(&a, (long)m);
            am(&a, c->eval_acc);
            if (launch(c, &a, 0, err))
                return -1;
        }
        if (P && get(c, c->ep, 0, P + r0 * s->L, m * s->L * f, err))
            return -1;
    }
    if (loss) {
        double sum = 0.0;
        if (get(c, c->eval_acc, 0, &sum, sizeof sum, err))
            return -1;
        *loss = n ? sum / reel_cpu_head_count(s->head, n, s->L) : 0.0;
    }
    return 0;
}

static int ocl_predict(void *p, const float *X, size_t n, float *P, reel_error *err)
{
    return ocl_eval(p, X, NULL, n, NULL, P, err);
}

static int ocl_eval_loss(void *p, const float *X, const float *Y, size_t n, double *loss, float *P,
                         reel_error *err)
{
    return ocl_eval(p, X, Y, n, loss, P, err);
}

/* ------------------------------------------------------ the fused epoch */

/* Whether the fused kernel takes this net at this batch size here. */
static int fused_fits(const cl_net *c, size_t batch)
{
    if (getenv("REEL_NO_FUSED")) /* for comparisons: the step kernels only */
        return 0;
    size_t need = reel_fused_floats(&c->spec, batch) * sizeof(float) + RK_FUSED_STATIC;
    return batch <= RK_FUSED_ROWS && c->spec.n_params < 0x7fffffff && need <= c->d->local_mem;
}

static int fused_setup(cl_net *c, size_t steps, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    if (!c->layers && alloc(c, &c->layers, RK_LY * s->n_layers * sizeof(int), "the layer table", err))
        return -1;
    if (steps > c->ep_cap) {
        c->ep_cap = 0;
        if (alloc(c, &c->ep_f, 2 * steps * sizeof(float), "an epoch's step scalars", err) ||
            alloc(c, &c->ep_a, steps * sizeof(double), "an epoch's step scalars", err))
            return -1;
        c->ep_cap = steps;
    }
    return 0;
}

/* The layer table for steps of `batch` rows (nn/fused_plan.h). */
static int fused_layers(cl_net *c, size_t batch, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    int t[RK_LY * REEL_NN_MAX_LAYERS];
    reel_fused_layers(s, batch, t);
    return put(c, c->layers, t, RK_LY * s->n_layers * sizeof(int), err);
}

static int ocl_train_epoch(void *p, size_t batch, const reel_adamw *opt, long first_step, const double *avg_a,
                           reel_error *err)
{
    cl_net *c = p;
    const reel_nn_spec *s = &c->spec;
    size_t n = c->n_order;
    if (batch == 0 || n == 0)
        return reel_fail(err, "train epoch: batch %zu over a row order of %zu", batch, n);
    size_t steps = (n + batch - 1) / batch;
    if (!fused_fits(c, batch) || n > 0x7fffffff) { /* the layered kernels, step by step */
        for (size_t k = 0; k < steps; k++) {
            size_t start = k * batch, m = n - start < batch ? n - start : batch;
            int r = ocl_train_step(c, start, m, opt, first_step + (long)k + 1, NULL, err);
            if (r != 0)
                return r;
            if (avg_a && avg_a[k] >= 0 && ocl_avg_update(c, avg_a[k], err))
                return -1;
        }
        long bad = 0;
        return ocl_first_bad_step(c, &bad, err) ? -1 : bad != 0;
    }
    if (fused_setup(c, steps, err) || fused_layers(c, batch, err) || (avg_a && avg_alloc(c, err)))
        return -1;
    float *f = malloc(2 * steps * sizeof *f);
    if (!f)
        return reel_fail(err, "out of memory");
    reel_fused_steps(opt, first_step, steps, f);
    int e = put(c, c->ep_f, f, 2 * steps * sizeof *f, err);
    free(f);
    if (e || (avg_a && put(c, c->ep_a, avg_a, steps * sizeof *avg_a, err)))
        return -1;
    rk_adamw_k k0 = reel_adamw_scalars(opt, first_step + 1);
    args a = kargs(c, K_FUSED);
    am(&a, c->X);
    am(&a, c->Y);
    am(&a, c->order);
    ai(&a, (long)n);
    ai(&a, (long)batch);
    ai(&a, (long)s->d);
    ai(&a, (long)s->L);
    ai(&a, (long)s->head);
    ai(&a, (long)s->n_layers);
    am(&a, c->layers);
    ai(&a, (long)s->max_width);
    am(&a, c->params);
    am(&a, c->grads);
    am(&a, c->m);
    am(&a, c->v);
    au(&a, s->n_params);
    af(&a, k0.decay);
    af(&a, k0.b1);
    af(&a, k0.c1);
    af(&a, k0.b2);
    af(&a, k0.c2);
    af(&a, k0.eps);
    am(&a, c->ep_f);
    am(&a, c->ep_a);
    am(&a, avg_a ? c->avg_sum : NULL);
    al(&a, first_step);
    am(&a, c->batch_loss);
    am(&a, c->loss_acc);
    am(&a, c->bad_step);
    arg(&a, reel_fused_floats(s, batch) * sizeof(float), NULL);
    long bad = 0;
    if (launch(c, &a, 0, err) || ocl_first_bad_step(c, &bad, err)) /* one wait per epoch */
        return -1;
    return bad != 0;
}

/* ------------------------------------------------- many nets, one launch */

/* Whether net c can join a launch led by net lead: the same device and the
 * same training data (or the first rows of it: a fold), and the fused
 * kernel takes it at its batch size. */
static int joins(const cl_net *lead, const cl_net *c, size_t batch)
{
    return c->d == lead->d && c->host_X == lead->host_X && c->host_Y == lead->host_Y &&
           c->n_data <= lead->n_data && c->spec.d == lead->spec.d && c->spec.L == lead->spec.L && batch > 0 &&
           c->n_order > 0 && c->n_order <= 0x7fffffff && fused_fits(c, batch);
}

/* The buffers of one launch over M nets (the net table, their layer
 * tables, row orders, step scalars and the state every net has), made for
 * the launch and released after it. */
typedef struct {
    cl_mem nets, hyper, layers, orders, params, grads, m, v, step_f, avg_a, avg_sum, loss, acc, bad;
} many_bufs;

static void many_release(many_bufs *u)
{
    cl_mem *all[] = {&u->nets,   &u->hyper,  &u->layers, &u->orders, &u->params, &u->grads,   &u->m,
                     &u->v,      &u->step_f, &u->avg_a,  &u->avg_sum, &u->loss,  &u->acc,     &u->bad};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        rel(all[i]);
}

/* Device-to-device copy on the leader's queue. */
static int copy(cl_net *lead, cl_mem from, size_t from_off, cl_mem to, size_t to_off, size_t bytes, reel_error *err)
{
    if (bytes)
        CL_OK(clEnqueueCopyBuffer(lead->q, from, to, from_off, to_off, bytes, 0, NULL, NULL));
    return 0;
}

/* The state of every net into the launch's buffers (state_in) or back. */
static int many_move(cl_net **cs, size_t M, const reel_fused_plan *pl, many_bufs *u, int state_in, reel_error *err)
{
    cl_net *lead = cs[0];
    size_t po = 0, oo = 0;
    for (size_t g = 0; g < M; g++) {
        cl_net *c = cs[g];
        size_t np = c->spec.n_params, f = sizeof(float);
        cl_long ao = pl->nt[RK_NT * g + RK_NT_AVG_OFF]; /* its moving average's place, or -1 */
        struct {
            cl_mem net, all;
            size_t at, bytes;
        } mv[] = {
            {c->params, u->params, po * f, np * f},
            {c->m, u->m, po * f, np * f},
            {c->v, u->v, po * f, np * f},
            {c->grads, u->grads, po * f, state_in ? 0 : np * f},
            {c->avg_sum, u->avg_sum, (size_t)(ao < 0 ? 0 : ao) * sizeof(double), ao < 0 ? 0 : np * sizeof(double)},
            {c->order, u->orders, oo * sizeof(uint32_t), state_in ? c->n_order * sizeof(uint32_t) : 0},
            {c->loss_acc, u->acc, g * sizeof(double), sizeof(double)},
            {c->bad_step, u->bad, g * sizeof(cl_long), sizeof(cl_long)},
            {c->batch_loss, u->loss, g * sizeof(float), state_in ? 0 : sizeof(float)},
        };
        for (size_t i = 0; i < sizeof mv / sizeof *mv; i++) {
            int r = state_in ? copy(lead, mv[i].net, 0, mv[i].all, mv[i].at, mv[i].bytes, err)
                             : copy(lead, mv[i].all, mv[i].at, mv[i].net, 0, mv[i].bytes, err);
            if (r)
                return -1;
        }
        po += np;
        oo += c->n_order;
    }
    return 0;
}

/* One launch of rk_fused_epochs over nets cs[0..M) (all joining cs[0]). */
static int many_launch(cl_net **cs, size_t M, const size_t *batch, const reel_adamw *const *opt,
                       const long *first_step, const double *const *avg_a, int *bad, reel_error *err)
{
    cl_net *lead = cs[0];
    reel_fused_plan pl;
    many_bufs u;
    memset(&u, 0, sizeof u);
    memset(&pl, 0, sizeof pl);
    reel_fused_net *nets = malloc(M * sizeof *nets);
    for (size_t g = 0; nets && g < M; g++)
        nets[g] = (reel_fused_net){&cs[g]->spec, cs[g]->n_order, batch[g], opt[g], first_step[g], avg_a[g]};
    int rc = !nets || reel_fused_plan_make(nets, M, &pl) ? reel_fail(err, "out of memory") : 0;
    free(nets);
    for (size_t g = 0; g < M && rc == 0; g++) {
        if (avg_a[g] && avg_alloc(cs[g], err))
            rc = -1;
        else if (clFinish(cs[g]->q) != CL_SUCCESS) /* the launch reads what each net's queue wrote */
            rc = reel_fail(err, "OpenCL: clFinish failed before a launch of %zu nets", M);
    }
    size_t f = sizeof(float), P = pl.params;
    const char *what = "a launch of many nets";
    if (rc == 0 &&
        (alloc(lead, &u.nets, M * RK_NT * sizeof(cl_long), what, err) || alloc(lead, &u.hyper, M * RK_NF * f, what, err) ||
         alloc(lead, &u.layers, pl.layers * sizeof(int), what, err) ||
         alloc(lead, &u.orders, pl.orders * sizeof(uint32_t), what, err) || alloc(lead, &u.params, P * f, what, err) ||
         alloc(lead, &u.grads, P * f, what, err) || alloc(lead, &u.m, P * f, what, err) ||
         alloc(lead, &u.v, P * f, what, err) || alloc(lead, &u.step_f, 2 * pl.steps * f, what, err) ||
         alloc(lead, &u.avg_a, pl.steps * sizeof(double), what, err) ||
         alloc(lead, &u.avg_sum, pl.avg * sizeof(double), what, err) || alloc(lead, &u.loss, M * f, what, err) ||
         alloc(lead, &u.acc, M * sizeof(double), what, err) || alloc(lead, &u.bad, M * sizeof(cl_long), what, err) ||
         put(lead, u.nets, pl.nt, M * RK_NT * sizeof(cl_long), err) || put(lead, u.hyper, pl.hy, M * RK_NF * f, err) ||
         put(lead, u.layers, pl.ly, pl.layers * sizeof(int), err) || put(lead, u.step_f, pl.sf, 2 * pl.steps * f, err) ||
         put(lead, u.avg_a, pl.aa, pl.steps * sizeof(double), err) || many_move(cs, M, &pl, &u, 1, err)))
        rc = -1;
    if (rc == 0) {
        args a = kargs(lead, K_FUSED_MANY);
        am(&a, lead->X);
        am(&a, lead->Y);
        ai(&a, (long)lead->spec.d);
        ai(&a, (long)lead->spec.L);
        am(&a, u.nets);
        am(&a, u.hyper);
        am(&a, u.layers);
        am(&a, u.orders);
        am(&a, u.params);
        am(&a, u.grads);
        am(&a, u.m);
        am(&a, u.v);
        am(&a, u.step_f);
        am(&a, u.avg_a);
        am(&a, u.avg_sum);
        am(&a, u.loss);
        am(&a, u.acc);
        am(&a, u.bad);
        arg(&a, pl.scratch * f, NULL);
        size_t local = lead->reduce, global = M * local;
        if (a.e != CL_SUCCESS)
            rc = reel_fail(err, "OpenCL error %s (%d) setting argument %u of rk_fused_epochs", cl_name(a.e), a.e, a.i);
        else if (clEnqueueNDRangeKernel(lead->q, a.k, 1, NULL, &global, &local, 0, NULL, NULL) != CL_SUCCESS)
            rc = reel_fail(err, "OpenCL: cannot launch rk_fused_epochs over %zu nets", M);
    }
    cl_long *bads = rc == 0 ? malloc(M * sizeof *bads) : NULL;
    if (rc == 0 && !bads)
        rc = reel_fail(err, "out of memory");
    if (rc == 0 && (many_move(cs, M, &pl, &u, 0, err) || get(lead, u.bad, 0, bads, M * sizeof *bads, err)))
        rc = -1;
    for (size_t g = 0; rc == 0 && g < M; g++) {
        bad[g] = bads[g] != 0;
        cs[g]->bad_seen |= bad[g];
    }
    if (lead->q)
        clFinish(lead->q); /* before the buffers go */
    free(bads);
    many_release(&u);
    reel_fused_plan_free(&pl);
    return rc;
}

/* K nets' epochs: those that can (the same device and data as the first
 * that can, and the fused kernel takes them) in one launch, the rest each
 * alone. Every net ends as train_epoch would leave it. */
static int ocl_train_epochs(void *const *b, size_t K, const size_t *batch, const reel_adamw *const *opt,
                            const long *first_step, const double *const *avg_a, int *bad, size_t *shared,
                            reel_error *err)
{
    cl_net **cs = malloc((K ? K : 1) * sizeof *cs);
    size_t *mb = malloc((K ? K : 1) * sizeof *mb), *idx = malloc((K ? K : 1) * sizeof *idx);
    const reel_adamw **mo = malloc((K ? K : 1) * sizeof *mo);
    long *mf = malloc((K ? K : 1) * sizeof *mf);
    const double **ma = malloc((K ? K : 1) * sizeof *ma);
    int *mbad = malloc((K ? K : 1) * sizeof *mbad);
    int rc = 0;
    if (!cs || !mb || !idx || !mo || !mf || !ma || !mbad)
        rc = reel_fail(err, "out of memory");
    size_t M = 0;
    cl_net *lead = NULL;
    for (size_t i = 0; rc == 0 && i < K; i++) {
        cl_net *c = b[i];
        if (!lead && joins(c, c, batch[i]))
            lead = c;
        if (lead && joins(lead, c, batch[i])) {
            cs[M] = c;
            mb[M] = batch[i];
            mo[M] = opt[i];
            mf[M] = first_step[i];
            ma[M] = avg_a ? avg_a[i] : NULL;
            idx[M++] = i;
        } else {
            int r = ocl_train_epoch(c, batch[i], opt[i], first_step[i], avg_a ? avg_a[i] : NULL, err);
            if (r < 0)
                rc = -1;
            bad[i] = r > 0;
        }
    }
    if (rc == 0 && M > 0 && many_launch(cs, M, mb, mo, mf, ma, mbad, err))
        rc = -1;
    for (size_t g = 0; rc == 0 && g < M; g++)
        bad[idx[g]] = mbad[g];
    if (shared)
        *shared = M;
    free(cs);
    free(mb);
    free(idx);
    free(mo);
    free(mf);
    free(ma);
    free(mbad);
    return rc;
}

static const reel_nn_backend backend = {
    .name = "opencl",
    .create = ocl_create,
    .set_params = ocl_set_params,
    .get_params = ocl_get_params,
    .get_grads = ocl_get_grads,
    .set_data = ocl_set_data,
    .set_order = ocl_set_order,
    .train_step = ocl_train_step,
    .take_loss_sum = ocl_take_loss_sum,
    .first_bad_step = ocl_first_bad_step,
    .get_moments = ocl_get_moments,
    .set_moments = ocl_set_moments,
    .avg_update = ocl_avg_update,
    .get_avg = ocl_get_avg,
    .get_avg_sum = ocl_get_avg_sum,
    .set_avg_sum = ocl_set_avg_sum,
    .predict = ocl_predict,
    .eval_loss = ocl_eval_loss,
    .destroy = ocl_destroy,
    .train_epoch = ocl_train_epoch,
    .train_epochs = ocl_train_epochs,
    .share_data = ocl_share_data,
};

static const reel_nn_backend *ocl_backend(void) { return &backend; }

const reel_nn_runtime reel_nn_opencl_runtime = {"opencl", ocl_count, ocl_info, ocl_absent_reason, ocl_backend};

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

const reel_nn_runtime reel_nn_opencl_runtime = {"opencl", ocl_count, ocl_info, ocl_absent_reason, ocl_backend};

#endif
