/* The GPU backend: host/nn/cpu_backend.c's training step on the device.
 *
 *   forward   per layer: cuBLAS sgemm Z = A W^T, then one kernel adds the
 *             bias and applies the activation in place
 *   head      blocks of rows: sigmoid or softmax, each row's loss and
 *             d(loss)/d(logits); a second one-block kernel adds the blocks'
 *             sums in a fixed order into the batch loss and the accumulator
 *   backward  per layer: one kernel turns dH into dZ (activation backward),
 *             sgemm with a vector of ones sums dZ over the batch into the
 *             bias gradient; sgemm for dW = dZ^T A and dA = dZ W
 *   update    one AdamW kernel over the whole flat parameter buffer
 *
 * The maths is the shared kernel source's (nn_kernels.cl, nn_math.h, the
 * same file the OpenCL backend builds): the gather, the head rows, AdamW's
 * update, the moving average and, for whole epochs (train_epoch), the fused
 * kernel rk_fused_epoch; this file adds cuBLAS for the products and the
 * glue (allocation, the stream, copies).
 *
 * cuBLAS is column-major; a row-major matrix M is the column-major M^T, so
 * the row-major products are written with their operands swapped (see
 * nn/gemm_desc.h, which tests/test_gemm_desc.c checks on the CPU). The
 * training data goes to the device once (set_data), the row order once per
 * epoch (set_order); a step waits for the device only
 * when its loss is asked for. All work, copies and memsets included, goes
 * on the backend's own stream (a non-blocking one: plain cudaMemset or
 * cudaMemcpy would run on the legacy stream, unordered with it). Element
 * indices are 64-bit, in grid-stride loops (RK_FOR_EACH, as in every shared
 * kernel). Every CUDA and cuBLAS call is checked and a failure is reported
 * with file and line.
 * This file uses nothing from the host library but its headers' types: it
 * is the plugin libreel_cuda.so, which reel loads with dlopen (nn/gpu.c). */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_query.h"
#include "kernel_index.h"
#include "nn/backend.h"
#include "nn/fused_plan.h"
#include "nn/gemm_desc.h"
#include "nn_kernels.cl" /* the kernels every device shares */
#include "nn/cuda_plugin.h"

#define HEAD_THREADS RK_REDUCE /* the head's blocks (a power of two: rk_tree_sum) */
#define HEAD_MAX_BLOCKS 256 /* the head's grid; its block sums are added in order */
#define EVAL_BYTES (256u << 20) /* at most this much for an eval chunk's buffers */

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

/* After a kernel launch: launch errors are reported where they happen. */
#define LAUNCH_OK() CUDA_OK(cudaGetLastError())

/* ---------------------------------------------------------------- kernels */

/* Z = act(Z + b), in place; Z is n x out. */
__global__ static void bias_activate(float *Z, const float *b, size_t n, size_t out, int act)
{
    RK_FOR_EACH(i, n * out)
    Z[i] = rk_activate(act, Z[i] + b[i % out]);
}

/* dH (count values, rows of width out) becomes dZ = dH * act'(H). */
__global__ static void activation_backward(float *dH, const float *H, size_t count, int act)
{
    RK_FOR_EACH(i, count)
    dH[i] = rk_act_grad(act, H[i], dH[i]);
}

__global__ static void fill(float *x, size_t n, float value)
{
    RK_FOR_EACH(i, n)
    x[i] = value;
}

/* Blocks of HEAD_THREADS take rows in a grid-stride loop; each block
 * reduces its threads' row losses in a fixed tree into part[block]. */
__global__ static void head_rows(const float *Z, const float *Y, size_t n, int L, int head, float scale, float *G,
                                 float *P, double *part)
{
    __shared__ double sum[HEAD_THREADS];
    double s = 0.0;
    RK_FOR_EACH(i, n)
    s += rk_head_row(head, Z + reel_at(i, L, 0), Y ? Y + reel_at(i, L, 0) : NULL, L, scale,
                  G ? G + reel_at(i, L, 0) : NULL, P ? P + reel_at(i, L, 0) : NULL);
    sum[threadIdx.x] = s;
    rk_tree_sum(sum);
    if (threadIdx.x == 0)
        part[blockIdx.x] = sum[0];
}

/* One block adds the head's block sums in a fixed order (the grid depends
 * only on n, so the sum does not vary between runs). Training
 * (batch_loss != NULL): batch_loss = sum / count, acc += batch_loss * n,
 * and a loss that is not finite marks the step bad. Evaluation: acc += sum. */
__global__ static void head_finish(const double *part, int blocks, size_t n, double count, double *acc,
                                   float *batch_loss, long long step, long long *bad_step)
{
    __shared__ double sum[HEAD_THREADS];
    double s = 0.0;
    for (int b = threadIdx.x; b < blocks; b += blockDim.x)
        s += part[b];
    sum[threadIdx.x] = s;
    rk_tree_sum(sum);
    if (threadIdx.x != 0)
        return;
    if (batch_loss) {
        float mean = (float)(sum[0] / count);
        *batch_loss = mean;
        *acc += (double)mean * (double)n;
        if (!isfinite(mean) && *bad_step == 0)
            *bad_step = step; /* from now on adamw leaves the parameters alone */
    } else {
        *acc += sum[0];
    }
}

/* A gradient value that is not finite marks the step bad (as a non-finite
 * loss does), so adamw below skips it: the CPU backend checks the same. */
__global__ static void check_grads(const float *g, size_t n, long long step, long long *bad_step)
{
    RK_FOR_EACH(i, n)
    if (!isfinite(g[i]))
        atomicCAS((unsigned long long *)bad_step, 0ULL, (unsigned long long)step);
}

/* torch.optim.AdamW on the flat buffer (rk_adamw_one, rounded as the CPU
 * backend's code: explicit round-to-nearest operations, nothing fused). Nothing once a
 * step was bad (*bad_step set by head_finish or check_grads); then the
 * first thread also copies the bad step's number to the host-mapped
 * `seen`, so that train_step can report it without waiting for the device. */
__global__ static void adamw(float *p, const float *g, float *m, float *v, size_t n, float decay, float b1,
                             float c1, float b2, float c2, float step_size, float bc2_sqrt, float eps,
                             const long long *bad_step, volatile long long *seen)
{
    long long bad = *bad_step;
    if (bad) {
        if (seen && blockIdx.x == 0 && threadIdx.x == 0) {
            *seen = bad;
            __threadfence_system();
        }
        return;
    }
    rk_adamw_k k = {decay, b1, c1, b2, c2, step_size, bc2_sqrt, eps};
    rk_adamw_all(p, g, m, v, n, &k);
}

static unsigned blocks_for(size_t n, unsigned threads) { return reel_kernel_blocks(n, threads); }

/* ------------------------------------------------------------ the backend */

typedef struct {
    reel_nn_spec spec;
    cudaStream_t stream;
    cublasHandle_t blas;
    float *params, *grads, *m, *v; /* device, n_params each */
    float *X, *Y;                  /* training data on the device */
    size_t n_data;
    uint32_t *order;
    size_t n_order, order_cap;
    size_t cap; /* step workspace rows */
    float *xb, *yb, *H[REEL_NN_MAX_LAYERS], *g0, *g1;
    float *ones;         /* cap ones: a product with them sums over the batch */
    double *loss_acc;    /* sum over steps of n * batch loss */
    double *head_part;   /* the head's block sums, HEAD_MAX_BLOCKS */
    long long *bad_step; /* the first step whose loss or gradient was not finite, 0: none */
    long long *seen_bad; /* host-mapped copy of it that adamw writes (NULL: none), */
    long long *seen_dev; /* and its device address */
    double *avg_sum;     /* the moving average's sums (allocated when first used) */
    float *avg_out;      /* get_avg's staging buffer on the device */
    float *batch_loss;   /* the last step's */
    size_t eval_cap;     /* eval chunk rows, allocated when first used: */
    float *ex, *ey, *ea, *eb, *ep; /* inputs, targets, ping-pong, probabilities */
    double *eval_acc;
    int device;        /* the CUDA device it lives on */
    int *layers;       /* rk_fused_epoch's layer table (when first used) */
    float *ep_f;       /* an epoch's AdamW step scalars, */
    double *ep_a;      /* and its moving-average decays */
    size_t ep_cap;     /* steps they hold */
    const float *host_X, *host_Y; /* what set_data was given: nets given the same share a launch */
} gpu_net;

static void gfree(void *p)
{
    if (p)
        cudaFree(p);
}

static void free_eval(gpu_net *c)
{
    gfree(c->ex);
    gfree(c->ey);
    gfree(c->ea);
    gfree(c->eb);
    gfree(c->ep);
    c->ex = c->ey = c->ea = c->eb = c->ep = NULL;
    c->eval_cap = 0;
}

static void gpu_destroy(void *p)
{
    gpu_net *c = (gpu_net *)p;
    if (!c)
        return;
    if (c->stream)
        (void)cudaStreamSynchronize(c->stream); /* nothing may still use what is freed */
    gfree(c->params);
    gfree(c->grads);
    gfree(c->m);
    gfree(c->v);
    gfree(c->X);
    gfree(c->Y);
    gfree(c->order);
    gfree(c->xb);
    gfree(c->yb);
    for (size_t l = 0; l < c->spec.n_layers; l++)
        gfree(c->H[l]);
    gfree(c->g0);
    gfree(c->g1);
    gfree(c->ones);
    gfree(c->loss_acc);
    gfree(c->head_part);
    gfree(c->bad_step);
    if (c->seen_bad)
        cudaFreeHost(c->seen_bad);
    gfree(c->avg_sum);
    gfree(c->avg_out);
    gfree(c->batch_loss);
    free_eval(c);
    gfree(c->eval_acc);
    gfree(c->layers);
    gfree(c->ep_f);
    gfree(c->ep_a);
    if (c->blas)
        cublasDestroy(c->blas);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    free(c);
}

/* cudaMalloc that reports running out of device memory with the sizes
 * that did not fit, not as a raw CUDA error. */
static int gmalloc(void **p, size_t bytes, const char *what, reel_error *err)
{
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        *p = NULL;
        (void)cudaGetLastError(); /* clear it: the device is still usable */
        size_t free_b = 0, total_b = 0;
        (void)cudaMemGetInfo(&free_b, &total_b);
        const double mib = 1024.0 * 1024.0;
        return fail(err,
                    "GPU out of memory: %s needs %.1f MiB, %.1f MiB of the device's %.1f MiB are free; "
                    "use a smaller batch_size or net, or --device cpu",
                    what, (double)bytes / mib, (double)free_b / mib, (double)total_b / mib);
    }
    CUDA_OK(e);
    return 0;
}

static int dalloc(float **p, size_t count, const char *what, reel_error *err)
{
    return gmalloc((void **)p, count * sizeof(float), what, err);
}

static int setup(gpu_net *c, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    size_t n = s->n_params;
    CUDA_OK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUBLAS_OK(cublasCreate(&c->blas));
    CUBLAS_OK(cublasSetStream(c->blas, c->stream));
    CUBLAS_OK(cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH)); /* true fp32, no TF32 */
    if (dalloc(&c->params, n, "the net's parameters", err) || dalloc(&c->grads, n, "the gradient", err) ||
        dalloc(&c->m, n, "AdamW's first moments", err) || dalloc(&c->v, n, "AdamW's second moments", err))
        return -1;
    CUDA_OK(cudaMemsetAsync(c->params, 0, n * sizeof(float), c->stream));
    CUDA_OK(cudaMemsetAsync(c->grads, 0, n * sizeof(float), c->stream));
    CUDA_OK(cudaMemsetAsync(c->m, 0, n * sizeof(float), c->stream));
    CUDA_OK(cudaMemsetAsync(c->v, 0, n * sizeof(float), c->stream));
    if (gmalloc((void **)&c->loss_acc, sizeof(double), "a loss accumulator", err) ||
        gmalloc((void **)&c->eval_acc, sizeof(double), "a loss accumulator", err) ||
        gmalloc((void **)&c->head_part, HEAD_MAX_BLOCKS * sizeof(double), "the head's sums", err) ||
        gmalloc((void **)&c->bad_step, sizeof(long long), "a step counter", err) ||
        dalloc(&c->batch_loss, 1, "the batch loss", err))
        return -1;
    CUDA_OK(cudaMemsetAsync(c->loss_acc, 0, sizeof(double), c->stream));
    CUDA_OK(cudaMemsetAsync(c->bad_step, 0, sizeof(long long), c->stream));
    /* Without mapped host memory a bad step is still found, at the epoch's end. */
    if (cudaHostAlloc((void **)&c->seen_bad, sizeof(long long), cudaHostAllocMapped) != cudaSuccess ||
        cudaHostGetDevicePointer((void **)&c->seen_dev, c->seen_bad, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        if (c->seen_bad)
            cudaFreeHost(c->seen_bad);
        c->seen_bad = c->seen_dev = NULL;
    } else {
        *(volatile long long *)c->seen_bad = 0;
    }
    CUDA_OK(cudaStreamSynchronize(c->stream));
    return 0;
}

/* The evaluation chunk's buffers, for up to `want` rows (at most
 * RK_EVAL_CHUNK, and fewer when the inputs are wide), allocated at the first
 * evaluation: a net that is only trained never holds them. */
static int reserve_eval(gpu_net *c, size_t want, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    size_t per_row = (s->d + 2 * s->max_width + 2 * s->L) * sizeof(float);
    size_t rows = EVAL_BYTES / per_row;
    rows = rows < 1 ? 1 : rows > RK_EVAL_CHUNK ? RK_EVAL_CHUNK : rows;
    if (want < rows)
        rows = want ? want : 1;
    if (rows <= c->eval_cap)
        return 0;
    CUDA_OK(cudaStreamSynchronize(c->stream));
    free_eval(c);
    char what[96];
    snprintf(what, sizeof what, "the prediction buffers (%zu rows)", rows);
    size_t w = s->max_width;
    if (dalloc(&c->ex, rows * s->d, what, err) || dalloc(&c->ey, rows * s->L, what, err) ||
        dalloc(&c->ea, rows * w, what, err) || dalloc(&c->eb, rows * w, what, err) ||
        dalloc(&c->ep, rows * s->L, what, err)) {
        free_eval(c);
        return -1;
    }
    c->eval_cap = rows;
    return 0;
}

static void *gpu_create(const reel_nn_spec *spec, int device, int threads, reel_error *err)
{
    (void)threads;
    int n = reel_cuda_device_count();
    if (device < 0 || device >= n) {
        fail(err, "CUDA: there are %d devices, no device %d%s%s", n, device, n ? "" : ": ",
             n ? "" : reel_cuda_absent_reason());
        return NULL;
    }
    gpu_net *c = (gpu_net *)calloc(1, sizeof *c);
    if (!c) {
        fail(err, "out of memory");
        return NULL;
    }
    c->spec = *spec;
    c->device = device;
    if (cudaSetDevice(c->device) != cudaSuccess) {
        fail(err, "CUDA device %d cannot be used", c->device);
        free(c);
        return NULL;
    }
    if (setup(c, err)) {
        gpu_destroy(c);
        return NULL;
    }
    return c;
}

static int reserve(gpu_net *c, size_t n, reel_error *err)
{
    if (n <= c->cap)
        return 0;
    const reel_nn_spec *s = &c->spec;
    CUDA_OK(cudaStreamSynchronize(c->stream)); /* nothing may still use the old buffers */
    c->cap = 0;
    gfree(c->xb);
    gfree(c->yb);
    gfree(c->g0);
    gfree(c->g1);
    gfree(c->ones);
    c->xb = c->yb = c->g0 = c->g1 = c->ones = NULL;
    for (size_t l = 0; l < s->n_layers; l++) {
        gfree(c->H[l]);
        c->H[l] = NULL;
    }
    char what[96];
    snprintf(what, sizeof what, "a batch of %zu rows", n);
    if (dalloc(&c->xb, n * s->d, what, err) || dalloc(&c->yb, n * s->L, what, err) ||
        dalloc(&c->g0, n * s->max_width, what, err) || dalloc(&c->g1, n * s->max_width, what, err) ||
        dalloc(&c->ones, n, what, err))
        return -1;
    for (size_t l = 0; l < s->n_layers; l++)
        if (dalloc(&c->H[l], n * s->layer[l].out, what, err))
            return -1;
    fill<<<blocks_for(n, 256), 256, 0, c->stream>>>(c->ones, n, 1.0f);
    LAUNCH_OK();
    c->cap = n;
    return 0;
}

static int copy_flat(gpu_net *c, float *dst, const float *src, cudaMemcpyKind kind, reel_error *err)
{
    CUDA_OK(cudaMemcpyAsync(dst, src, c->spec.n_params * sizeof(float), kind, c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream));
    return 0;
}

static int gpu_set_params(void *p, const float *params, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    return copy_flat(c, c->params, params, cudaMemcpyHostToDevice, err);
}

static int gpu_get_params(void *p, float *params, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    return copy_flat(c, params, c->params, cudaMemcpyDeviceToHost, err);
}

static int gpu_get_grads(void *p, float *grads, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    return copy_flat(c, grads, c->grads, cudaMemcpyDeviceToHost, err);
}

static int gpu_set_data(void *p, const float *X, const float *Y, size_t n, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    const reel_nn_spec *s = &c->spec;
    CUDA_OK(cudaStreamSynchronize(c->stream));
    gfree(c->X);
    gfree(c->Y);
    c->X = c->Y = NULL;
    c->n_data = 0;
    c->host_X = c->host_Y = NULL;
    c->n_order = 0; /* an order indexes the old rows: the caller sets a new one */
    char what[96];
    snprintf(what, sizeof what, "the training data (%zu rows x %zu features + %zu labels)", n, s->d, s->L);
    if (dalloc(&c->X, n * s->d, what, err) || dalloc(&c->Y, n * s->L, what, err))
        return -1;
    CUDA_OK(cudaMemcpyAsync(c->X, X, n * s->d * sizeof(float), cudaMemcpyHostToDevice, c->stream));
    CUDA_OK(cudaMemcpyAsync(c->Y, Y, n * s->L * sizeof(float), cudaMemcpyHostToDevice, c->stream));
    CUDA_OK(cudaMemsetAsync(c->m, 0, s->n_params * sizeof(float), c->stream));
    CUDA_OK(cudaMemsetAsync(c->v, 0, s->n_params * sizeof(float), c->stream));
    CUDA_OK(cudaMemsetAsync(c->loss_acc, 0, sizeof(double), c->stream));
    CUDA_OK(cudaMemsetAsync(c->bad_step, 0, sizeof(long long), c->stream));
    if (c->avg_sum)
        CUDA_OK(cudaMemsetAsync(c->avg_sum, 0, s->n_params * sizeof(double), c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream)); /* the caller may free X and Y now */
    if (c->seen_bad)
        *(volatile long long *)c->seen_bad = 0;
    c->n_data = n;
    c->host_X = X;
    c->host_Y = Y;
    return 0;
}

static int gpu_set_order(void *p, const uint32_t *order, size_t n, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    for (size_t i = 0; i < n; i++)
        if (order[i] >= c->n_data)
            return fail(err, "row order: index %u is past the %zu data rows", order[i], c->n_data);
    CUDA_OK(cudaStreamSynchronize(c->stream)); /* the previous order may still be read */
    if (n > c->order_cap) {
        gfree(c->order);
        c->order = NULL;
        c->order_cap = 0;
        if (gmalloc((void **)&c->order, n * sizeof(uint32_t), "the row order", err))
            return -1;
        c->order_cap = n;
    }
    CUDA_OK(cudaMemcpyAsync(c->order, order, n * sizeof(uint32_t), cudaMemcpyHostToDevice, c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream)); /* the caller may reuse `order` now */
    c->n_order = n;
    return 0;
}

/* Product p of a layer (nn/gemm_desc.h: the descriptors tests/test_gemm_desc.c
 * checks on the CPU) on cuBLAS: W the layer's weights, X its input, dZ the
 * gradient at its output (NULL where p does not read it), into C. */
static int layer_gemm(gpu_net *c, reel_gemm_product p, int rows, int in, int out, const float *W, const float *X,
                      const float *dZ, float *C, reel_error *err)
{
    reel_gemm g = reel_gemm_layer(p, rows, in, out);
    const float *by_role[] = {W, X, dZ, c->ones}; /* indexed by reel_gemm_operand */
    CUBLAS_OK(cublasSgemm(c->blas, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.m,
                          g.n, g.k, &g.alpha, by_role[g.a], g.lda, by_role[g.b], g.ldb, &g.beta, C, g.ldc));
    return 0;
}

/* Forward through the net from A (n rows); layer l's output goes to
 * out[l] (out may repeat buffers for evaluation). Returns the logits. */
static int forward(gpu_net *c, const float *A, int n, float *const *out, const float **logits, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    for (size_t l = 0; l < s->n_layers; l++) {
        const reel_nn_layer *ly = &s->layer[l];
        int in = (int)ly->in, o = (int)ly->out;
        if (layer_gemm(c, REEL_GEMM_FORWARD, n, in, o, c->params + ly->w_off, A, NULL, out[l], err))
            return -1;
        bias_activate<<<blocks_for((size_t)n * o, 256), 256, 0, c->stream>>>(out[l], c->params + ly->b_off,
                                                                                 (size_t)n, (size_t)o,
                                                                                 (int)ly->act);
        LAUNCH_OK();
        A = out[l];
    }
    *logits = A;
    return 0;
}

static double head_count(const reel_nn_spec *s, size_t n)
{
    return s->head == REEL_HEAD_SIGMOID ? (double)n * (double)s->L : (double)n;
}

/* The head over n rows of logits: G and P when not NULL; with batch_loss
 * (training) the step's mean loss, else the summed loss, added to acc. */
static int head(gpu_net *c, const float *logits, const float *Y, size_t n, float scale, float *G, float *P,
                double *acc, float *batch_loss, long step, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    unsigned blocks = blocks_for(n, HEAD_THREADS);
    blocks = blocks > HEAD_MAX_BLOCKS ? HEAD_MAX_BLOCKS : blocks;
    head_rows<<<blocks, HEAD_THREADS, 0, c->stream>>>(logits, Y, n, (int)s->L, (int)s->head, scale, G, P,
                                                       c->head_part);
    LAUNCH_OK();
    head_finish<<<1, HEAD_THREADS, 0, c->stream>>>(c->head_part, (int)blocks, n, batch_loss ? head_count(s, n) : 1.0,
                                                   acc, batch_loss, (long long)step, c->bad_step);
    LAUNCH_OK();
    return 0;
}

static int gpu_train_step(void *p, size_t start, size_t n, const reel_adamw *opt, long step, float *loss,
                          reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    const reel_nn_spec *s = &c->spec;
    if (n == 0 || start + n > c->n_order)
        return fail(err, "train step: rows %zu..%zu are outside the row order of %zu", start, start + n,
                    c->n_order);
    if (reserve(c, n, err))
        return -1;
    int nb = (int)n;
    if (c->seen_bad && *(volatile long long *)c->seen_bad) {
        if (loss) /* an earlier step was bad (first_bad_step says which): this one would update nothing */
            *loss = NAN;
        return 1;
    }
    rk_gather_rows<<<blocks_for(n * (s->d + s->L), 256), 256, 0, c->stream>>>(c->X, c->Y, c->order, start, nb,
                                                                                (int)s->d, (int)s->L, c->xb, c->yb);
    LAUNCH_OK();
    const float *logits;
    if (forward(c, c->xb, nb, c->H, &logits, err))
        return -1;
    float scale = (float)(1.0 / head_count(s, n));
    if (head(c, logits, c->yb, n, scale, c->g0, NULL, c->loss_acc, c->batch_loss, step, err))
        return -1;
    float *g0 = c->g0, *g1 = c->g1;
    for (size_t l = s->n_layers; l-- > 0;) {
        const reel_nn_layer *ly = &s->layer[l];
        int in = (int)ly->in, out = (int)ly->out;
        activation_backward<<<blocks_for(n * ly->out, 256), 256, 0, c->stream>>>(g0, c->H[l], n * ly->out,
                                                                                 (int)ly->act);
        LAUNCH_OK();
        const float *A = l ? c->H[l - 1] : c->xb, *W = c->params + ly->w_off;
        if (layer_gemm(c, REEL_GEMM_BIAS_GRAD, nb, in, out, W, A, g0, c->grads + ly->b_off, err) ||
            layer_gemm(c, REEL_GEMM_WEIGHT_GRAD, nb, in, out, W, A, g0, c->grads + ly->w_off, err))
            return -1;
        if (l) {
            if (layer_gemm(c, REEL_GEMM_INPUT_GRAD, nb, in, out, W, A, g0, g1, err))
                return -1;
            float *t = g0;
            g0 = g1;
            g1 = t;
        }
    }
    check_grads<<<blocks_for(s->n_params, 256), 256, 0, c->stream>>>(c->grads, s->n_params, (long long)step,
                                                                      c->bad_step);
    LAUNCH_OK();
    rk_adamw_k k = reel_adamw_scalars(opt, step);
    adamw<<<blocks_for(s->n_params, 256), 256, 0, c->stream>>>(c->params, c->grads, c->m, c->v, s->n_params, k.decay,
                                                                k.b1, k.c1, k.b2, k.c2, k.step_size, k.bc2_sqrt,
                                                                k.eps, c->bad_step, c->seen_dev);
    LAUNCH_OK();
    if (loss) { /* a wait for the device anyway: the bad step comes back with the loss */
        long long bad = 0;
        CUDA_OK(cudaMemcpyAsync(loss, c->batch_loss, sizeof(float), cudaMemcpyDeviceToHost, c->stream));
        CUDA_OK(cudaMemcpyAsync(&bad, c->bad_step, sizeof bad, cudaMemcpyDeviceToHost, c->stream));
        CUDA_OK(cudaStreamSynchronize(c->stream));
        return bad != 0;
    }
    return 0;
}

static int gpu_take_loss_sum(void *p, double *sum, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    CUDA_OK(cudaMemcpyAsync(sum, c->loss_acc, sizeof(double), cudaMemcpyDeviceToHost, c->stream));
    CUDA_OK(cudaMemsetAsync(c->loss_acc, 0, sizeof(double), c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream));
    return 0;
}

static int gpu_first_bad_step(void *p, long *step, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    long long v = 0;
    CUDA_OK(cudaMemcpyAsync(&v, c->bad_step, sizeof v, cudaMemcpyDeviceToHost, c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream));
    *step = (long)v;
    return 0;
}

static int gpu_get_moments(void *p, float *m, float *v, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    return copy_flat(c, m, c->m, cudaMemcpyDeviceToHost, err) || copy_flat(c, v, c->v, cudaMemcpyDeviceToHost, err)
               ? -1
               : 0;
}

static int gpu_set_moments(void *p, const float *m, const float *v, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    return copy_flat(c, c->m, m, cudaMemcpyHostToDevice, err) || copy_flat(c, c->v, v, cudaMemcpyHostToDevice, err)
               ? -1
               : 0;
}

static int avg_alloc(gpu_net *c, reel_error *err)
{
    size_t n = c->spec.n_params;
    if (c->avg_sum)
        return 0;
    if (gmalloc((void **)&c->avg_sum, n * sizeof(double), "the moving average of the weights", err) ||
        dalloc(&c->avg_out, n, "the moving average of the weights", err)) {
        gfree(c->avg_sum); /* both or neither */
        gfree(c->avg_out);
        c->avg_sum = NULL;
        c->avg_out = NULL;
        return -1;
    }
    CUDA_OK(cudaMemsetAsync(c->avg_sum, 0, n * sizeof(double), c->stream));
    return 0;
}

/* Queued behind the steps: no wait for the device. */
static int gpu_avg_update(void *p, double a, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    if (avg_alloc(c, err))
        return -1;
    rk_avg_update<<<blocks_for(c->spec.n_params, 256), 256, 0, c->stream>>>(c->avg_sum, c->params,
                                                                             c->spec.n_params, a);
    LAUNCH_OK();
    return 0;
}

static int gpu_get_avg(void *p, double weight, float *out, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    if (avg_alloc(c, err))
        return -1;
    rk_avg_get<<<blocks_for(c->spec.n_params, 256), 256, 0, c->stream>>>(c->avg_sum, c->spec.n_params, weight,
                                                                          c->avg_out);
    LAUNCH_OK();
    return copy_flat(c, out, c->avg_out, cudaMemcpyDeviceToHost, err);
}

static int gpu_get_avg_sum(void *p, double *sum, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    if (avg_alloc(c, err))
        return -1;
    CUDA_OK(cudaMemcpyAsync(sum, c->avg_sum, c->spec.n_params * sizeof(double), cudaMemcpyDeviceToHost, c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream));
    return 0;
}

static int gpu_set_avg_sum(void *p, const double *sum, reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    if (avg_alloc(c, err))
        return -1;
    CUDA_OK(cudaMemcpyAsync(c->avg_sum, sum, c->spec.n_params * sizeof(double), cudaMemcpyHostToDevice, c->stream));
    CUDA_OK(cudaStreamSynchronize(c->stream));
    return 0;
}

/* Forward over X in chunks; P and the summed loss (when Y) come back. */
static int gpu_eval(gpu_net *c, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    const reel_nn_spec *s = &c->spec;
    float *bufs[REEL_NN_MAX_LAYERS];
    if (reserve_eval(c, n, err))
        return -1;
    size_t chunk = c->eval_cap;
    for (size_t l = 0; l < s->n_layers; l++)
        bufs[l] = l % 2 ? c->eb : c->ea;
    CUDA_OK(cudaMemsetAsync(c->eval_acc, 0, sizeof(double), c->stream));
    for (size_t r0 = 0; r0 < n; r0 += chunk) {
        size_t m = n - r0 < chunk ? n - r0 : chunk;
        CUDA_OK(cudaMemcpyAsync(c->ex, X + r0 * s->d, m * s->d * sizeof(float), cudaMemcpyHostToDevice, c->stream));
        if (Y)
            CUDA_OK(cudaMemcpyAsync(c->ey, Y + r0 * s->L, m * s->L * sizeof(float), cudaMemcpyHostToDevice,
                                    c->stream));
        const float *logits;
        if (forward(c, c->ex, (int)m, bufs, &logits, err))
            return -1;
        if (head(c, logits, Y ? c->ey : NULL, m, 0.0f, NULL, P ? c->ep : NULL, c->eval_acc, NULL, 0, err))
            return -1;
        if (P)
            CUDA_OK(cudaMemcpyAsync(P + r0 * s->L, c->ep, m * s->L * sizeof(float), cudaMemcpyDeviceToHost,
                                    c->stream));
        /* the next chunk overwrites ex/ey/ep: wait for this one's copies */
        CUDA_OK(cudaStreamSynchronize(c->stream));
    }
    if (loss) {
        double sum = 0.0;
        CUDA_OK(cudaMemcpyAsync(&sum, c->eval_acc, sizeof(double), cudaMemcpyDeviceToHost, c->stream));
        CUDA_OK(cudaStreamSynchronize(c->stream));
        *loss = n ? sum / head_count(s, n) : 0.0;
    }
    return 0;
}

static int gpu_predict(void *p, const float *X, size_t n, float *P, reel_error *err)
{
    return gpu_eval((gpu_net *)p, X, NULL, n, NULL, P, err);
}

static int gpu_eval_loss(void *p, const float *X, const float *Y, size_t n, double *loss, float *P, reel_error *err)
{
    return gpu_eval((gpu_net *)p, X, Y, n, loss, P, err);
}

/* ------------------------------------------------------ the fused epoch */

/* The shared memory a fused step of `batch` rows needs beyond the kernel's
 * static arrays (nn/fused_plan.h). */
static size_t fused_bytes(const reel_nn_spec *s, size_t batch) { return reel_fused_floats(s, batch) * sizeof(float); }

/* Whether the fused kernel takes this batch here; raises the kernel's
 * dynamic shared memory limit when it must. */
static int fused_fits(gpu_net *c, size_t batch)
{
    int optin = 0;
    size_t need = fused_bytes(&c->spec, batch);
    if (getenv("REEL_NO_FUSED") || batch > RK_FUSED_ROWS || c->spec.n_params >= 0x7fffffff ||
        c->n_order >= 0x7fffffff ||
        cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, c->device) != cudaSuccess ||
        need + RK_FUSED_STATIC > (size_t)optin) {
        (void)cudaGetLastError();
        return 0;
    }
    if (need > 48 * 1024 &&
        cudaFuncSetAttribute(rk_fused_epoch, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)need) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return 1;
}

static int gpu_train_epoch(void *p, size_t batch, const reel_adamw *opt, long first_step, const double *avg_a,
                           reel_error *err)
{
    gpu_net *c = (gpu_net *)p;
    const reel_nn_spec *s = &c->spec;
    size_t n = c->n_order;
    if (batch == 0 || n == 0)
        return fail(err, "train epoch: batch %zu over a row order of %zu", batch, n);
    size_t steps = (n + batch - 1) / batch;
    if (!fused_fits(c, batch)) { /* cuBLAS, step by step */
        for (size_t k = 0; k < steps; k++) {
            size_t start = k * batch, m = n - start < batch ? n - start : batch;
            int r = gpu_train_step(c, start, m, opt, first_step + (long)k + 1, NULL, err);
            if (r != 0)
                return r;
            if (avg_a && avg_a[k] >= 0 && gpu_avg_update(c, avg_a[k], err))
                return -1;
        }
        long bad = 0;
        return gpu_first_bad_step(c, &bad, err) ? -1 : bad != 0;
    }
    if (avg_a && avg_alloc(c, err))
        return -1;
    if (!c->layers && gmalloc((void **)&c->layers, RK_LY * s->n_layers * sizeof(int), "the layer table", err))
        return -1;
    if (steps > c->ep_cap) {
        CUDA_OK(cudaStreamSynchronize(c->stream));
        gfree(c->ep_f);
        gfree(c->ep_a);
        c->ep_f = NULL;
        c->ep_a = NULL;
        c->ep_cap = 0;
        if (dalloc(&c->ep_f, 2 * steps, "an epoch's step scalars", err) ||
            gmalloc((void **)&c->ep_a, steps * sizeof(double), "an epoch's step scalars", err))
            return -1;
        c->ep_cap = steps;
    }
    /* host staging: the copies are ordered on the stream, and waited for
     * below before these buffers go */
    int table[RK_LY * REEL_NN_MAX_LAYERS];
    reel_fused_layers(s, batch, table);
    float *f = (float *)malloc(2 * steps * sizeof *f);
    if (!f)
        return fail(err, "out of memory");
    reel_fused_steps(opt, first_step, steps, f);
    rk_adamw_k k0 = reel_adamw_scalars(opt, first_step + 1);
    float decay = k0.decay, b1 = k0.b1, c1 = k0.c1, b2 = k0.b2, c2 = k0.c2, eps = k0.eps;
    cudaError_t e = cudaMemcpyAsync(c->layers, table, RK_LY * s->n_layers * sizeof(int), cudaMemcpyHostToDevice,
                                    c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->ep_f, f, 2 * steps * sizeof *f, cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess && avg_a)
        e = cudaMemcpyAsync(c->ep_a, avg_a, steps * sizeof *avg_a, cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess) {
        rk_fused_epoch<<<1, RK_FUSED_T, fused_bytes(s, batch), c->stream>>>(
            c->X, c->Y, c->order, (int)n, (int)batch, (int)s->d, (int)s->L, (int)s->head, (int)s->n_layers,
            c->layers, (int)s->max_width, c->params, c->grads, c->m, c->v, (rk_u64)s->n_params, decay, b1, c1, b2,
            c2, eps, c->ep_f, c->ep_a, avg_a ? c->avg_sum : NULL, (rk_i64)first_step, c->batch_loss, c->loss_acc,
            c->bad_step);
        e = cudaGetLastError();
    }
    long long bad = 0;
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(&bad, c->bad_step, sizeof bad, cudaMemcpyDeviceToHost, c->stream);
    cudaError_t w = cudaStreamSynchronize(c->stream); /* the staging buffers may go now */
    free(f);
    CUDA_OK(e);
    CUDA_OK(w);
    return bad != 0;
}

/* ------------------------------------------------- many nets, one launch */

/* What a launch of rk_fused_epochs allows on this device: its dynamic
 * shared memory per block (the opt-in limit less the kernel's static
 * arrays), 0 when the kernel cannot run RK_FUSED_T threads a block. Worked out
 * once per device, which is also when the kernel is allowed that much (set
 * once to the most, so that launches in other threads never see the limit
 * lowered under them). */
static size_t many_smem_limit(int device)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static size_t limit[64];
    static int known[64];
    if (device < 0 || device >= 64)
        return 0;
    pthread_mutex_lock(&mu);
    if (!known[device]) {
        int optin = 0, was = 0;
        size_t lim = 0;
        cudaFuncAttributes fa;
        if (cudaGetDevice(&was) == cudaSuccess && cudaSetDevice(device) == cudaSuccess) {
            if (cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) == cudaSuccess &&
                cudaFuncGetAttributes(&fa, rk_fused_epochs) == cudaSuccess && fa.maxThreadsPerBlock >= RK_FUSED_T &&
                (size_t)optin > fa.sharedSizeBytes)
                lim = (size_t)optin - fa.sharedSizeBytes;
            if (lim > 48 * 1024 &&
                cudaFuncSetAttribute(rk_fused_epochs, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)lim) !=
                    cudaSuccess)
                lim = 48 * 1024; /* the default every device allows */
            (void)cudaSetDevice(was);
        }
        (void)cudaGetLastError(); /* a failed query leaves no error behind: the nets train alone */
        limit[device] = lim;
        known[device] = 1;
    }
    size_t lim = limit[device];
    pthread_mutex_unlock(&mu);
    return lim;
}

/* Whether net c can join a launch led by net lead: the same device and the
 * same training data (or the first rows of it: a fold), and the fused
 * kernel takes it at its batch size, alone (fused_fits: else it trains
 * alone, on cuBLAS steps) and in a launch of many. */
static int joins(const gpu_net *lead, gpu_net *c, size_t batch)
{
    return c->device == lead->device && c->X && c->host_X == lead->host_X && c->host_Y == lead->host_Y &&
           c->n_data <= lead->n_data && c->spec.d == lead->spec.d && c->spec.L == lead->spec.L && batch > 0 &&
           c->n_order > 0 && fused_fits(c, batch) && fused_bytes(&c->spec, batch) <= many_smem_limit(c->device);
}

/* The launch's device buffers, made for it and freed after it. */
typedef struct {
    long long *nets, *bad;
    float *hyper, *params, *grads, *m, *v, *step_f, *loss;
    int *layers;
    uint32_t *orders;
    double *avg_a, *avg_sum, *acc;
} many_bufs;

static void many_release(many_bufs *u)
{
    void *all[] = {u->nets, u->bad, u->hyper, u->params, u->grads, u->m, u->v, u->step_f,
                   u->loss, u->layers, u->orders, u->avg_a, u->avg_sum, u->acc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        gfree(all[i]);
    memset(u, 0, sizeof *u);
}

/* Every net's state into the launch's buffers (in) or back (out), as
 * device-to-device copies on the leader's stream. */
static int many_move(gpu_net **cs, size_t M, const reel_fused_plan *pl, many_bufs *u, int in, reel_error *err)
{
    cudaStream_t st = cs[0]->stream;
    size_t po = 0, oo = 0;
    for (size_t g = 0; g < M; g++) {
        gpu_net *c = cs[g];
        size_t np = c->spec.n_params, f = sizeof(float);
        long long ao = pl->nt[RK_NT * g + RK_NT_AVG_OFF];
        struct {
            void *net, *all;
            size_t bytes;
        } mv[] = {
            {c->params, u->params + po, np * f},
            {c->m, u->m + po, np * f},
            {c->v, u->v + po, np * f},
            {c->grads, u->grads + po, in ? 0 : np * f},
            {c->avg_sum, ao < 0 ? NULL : u->avg_sum + ao, ao < 0 ? 0 : np * sizeof(double)},
            {c->order, u->orders + oo, in ? c->n_order * sizeof(uint32_t) : 0},
            {c->loss_acc, u->acc + g, sizeof(double)},
            {c->bad_step, u->bad + g, sizeof(long long)},
            {c->batch_loss, u->loss + g, in ? 0 : sizeof(float)},
        };
        for (size_t i = 0; i < sizeof mv / sizeof *mv; i++) {
            if (mv[i].bytes == 0)
                continue;
            void *dst = in ? mv[i].all : mv[i].net;
            const void *src = in ? mv[i].net : mv[i].all;
            CUDA_OK(cudaMemcpyAsync(dst, src, mv[i].bytes, cudaMemcpyDeviceToDevice, st));
        }
        po += np;
        oo += c->n_order;
    }
    return 0;
}

/* One launch of rk_fused_epochs over nets cs[0..M) (all joining cs[0]):
 * block g trains net g, as rk_fused_epoch trains it alone. */
static int many_launch(gpu_net **cs, size_t M, const size_t *batch, const reel_adamw *const *opt,
                       const long *first_step, const double *const *avg_a, int *bad, reel_error *err)
{
    gpu_net *lead = cs[0];
    reel_fused_plan pl;
    many_bufs u;
    memset(&u, 0, sizeof u);
    reel_fused_net *nets = (reel_fused_net *)malloc(M * sizeof *nets);
    for (size_t g = 0; nets && g < M; g++) {
        reel_fused_net one = {&cs[g]->spec, cs[g]->n_order, batch[g], opt[g], first_step[g], avg_a[g]};
        nets[g] = one;
    }
    int made = nets && reel_fused_plan_make(nets, M, &pl) == 0;
    free(nets);
    if (!made)
        return fail(err, "out of memory");
    size_t smem = pl.scratch * sizeof(float);
    int rc = 0;
    for (size_t g = 0; g < M && rc == 0; g++) { /* each net's queued work is done before the launch reads it */
        if (avg_a[g] && avg_alloc(cs[g], err)) {
            rc = -1;
        } else {
            cudaError_t e = cudaStreamSynchronize(cs[g]->stream);
            if (e != cudaSuccess)
                rc = fail(err, "CUDA error %s: %s (finishing net %zu's work before a launch of %zu nets)",
                          cudaGetErrorName(e), cudaGetErrorString(e), g, M);
        }
    }
    size_t f = sizeof(float), P = pl.params;
    const char *what = "a launch of many nets";
    if (rc == 0 && (gmalloc((void **)&u.nets, M * RK_NT * sizeof(long long), what, err) ||
                    gmalloc((void **)&u.hyper, M * RK_NF * f, what, err) ||
                    gmalloc((void **)&u.layers, pl.layers * sizeof(int), what, err) ||
                    gmalloc((void **)&u.orders, pl.orders * sizeof(uint32_t), what, err) ||
                    gmalloc((void **)&u.params, P * f, what, err) || gmalloc((void **)&u.grads, P * f, what, err) ||
                    gmalloc((void **)&u.m, P * f, what, err) || gmalloc((void **)&u.v, P * f, what, err) ||
                    gmalloc((void **)&u.step_f, 2 * pl.steps * f, what, err) ||
                    gmalloc((void **)&u.avg_a, pl.steps * sizeof(double), what, err) ||
                    gmalloc((void **)&u.avg_sum, pl.avg * sizeof(double), what, err) ||
                    gmalloc((void **)&u.loss, M * f, what, err) ||
                    gmalloc((void **)&u.acc, M * sizeof(double), what, err) ||
                    gmalloc((void **)&u.bad, M * sizeof(long long), what, err)))
        rc = -1;
    cudaStream_t st = lead->stream;
    cudaError_t e = cudaSuccess;
    if (rc == 0) {
        e = cudaMemcpyAsync(u.nets, pl.nt, M * RK_NT * sizeof(long long), cudaMemcpyHostToDevice, st);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(u.hyper, pl.hy, M * RK_NF * f, cudaMemcpyHostToDevice, st);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(u.layers, pl.ly, pl.layers * sizeof(int), cudaMemcpyHostToDevice, st);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(u.step_f, pl.sf, 2 * pl.steps * f, cudaMemcpyHostToDevice, st);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(u.avg_a, pl.aa, pl.steps * sizeof(double), cudaMemcpyHostToDevice, st);
        if (e != cudaSuccess)
            rc = fail(err, "%s:%d: CUDA error %s: %s (copying the net table of %zu nets)", __FILE__, __LINE__,
                      cudaGetErrorName(e), cudaGetErrorString(e), M);
    }
    if (rc == 0 && many_move(cs, M, &pl, &u, 1, err))
        rc = -1;
    if (rc == 0) {
        rk_fused_epochs<<<(unsigned)M, RK_FUSED_T, smem, st>>>(
            lead->X, lead->Y, (int)lead->spec.d, (int)lead->spec.L, u.nets, u.hyper, u.layers, u.orders, u.params,
            u.grads, u.m, u.v, u.step_f, u.avg_a, u.avg_sum, u.loss, u.acc, u.bad);
        if ((e = cudaGetLastError()) != cudaSuccess)
            rc = fail(err, "CUDA error %s: %s (launching rk_fused_epochs over %zu nets, %zu bytes of shared memory "
                      "each)", cudaGetErrorName(e), cudaGetErrorString(e), M, smem);
    }
    long long *bads = rc == 0 ? (long long *)malloc(M * sizeof *bads) : NULL;
    if (rc == 0 && !bads)
        rc = fail(err, "out of memory");
    if (rc == 0 && many_move(cs, M, &pl, &u, 0, err))
        rc = -1;
    if (rc == 0 && (e = cudaMemcpyAsync(bads, u.bad, M * sizeof *bads, cudaMemcpyDeviceToHost, st)) != cudaSuccess)
        rc = fail(err, "CUDA error %s: %s (reading the bad steps of %zu nets)", cudaGetErrorName(e),
                  cudaGetErrorString(e), M);
    /* the kernel, the copies back and the staging buffers: all done before anything is freed */
    e = cudaStreamSynchronize(st);
    if (rc == 0 && e != cudaSuccess)
        rc = fail(err, "CUDA error %s: %s (in rk_fused_epochs over %zu nets)", cudaGetErrorName(e),
                  cudaGetErrorString(e), M);
    for (size_t g = 0; rc == 0 && g < M; g++) {
        bad[g] = bads[g] != 0;
        if (bad[g] && cs[g]->seen_bad) /* as train_step would learn it from adamw */
            *(volatile long long *)cs[g]->seen_bad = bads[g];
    }
    free(bads);
    many_release(&u);
    reel_fused_plan_free(&pl);
    return rc;
}

/* K nets' epochs: those that can (the same device and data as the first
 * that can, and the fused kernel takes them) in one launch, the rest each
 * alone. Every net ends as train_epoch would leave it. */
static int gpu_train_epochs(void *const *b, size_t K, const size_t *batch, const reel_adamw *const *opt,
                            const long *first_step, const double *const *avg_a, int *bad, size_t *shared,
                            reel_error *err)
{
    size_t n = K ? K : 1;
    gpu_net **cs = (gpu_net **)malloc(n * sizeof *cs);
    size_t *mb = (size_t *)malloc(n * sizeof *mb), *idx = (size_t *)malloc(n * sizeof *idx);
    const reel_adamw **mo = (const reel_adamw **)malloc(n * sizeof *mo);
    long *mf = (long *)malloc(n * sizeof *mf);
    const double **ma = (const double **)malloc(n * sizeof *ma);
    int *mbad = (int *)malloc(n * sizeof *mbad);
    int rc = 0;
    if (!cs || !mb || !idx || !mo || !mf || !ma || !mbad)
        rc = fail(err, "out of memory");
    size_t M = 0;
    gpu_net *lead = NULL;
    for (size_t i = 0; rc == 0 && i < K; i++) {
        gpu_net *c = (gpu_net *)b[i];
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
            int r = gpu_train_epoch(c, batch[i], opt[i], first_step[i], avg_a ? avg_a[i] : NULL, err);
            if (r < 0)
                rc = -1;
            bad[i] = r > 0;
        }
    }
    if (rc == 0 && M > 0) {
        cudaError_t e = cudaSetDevice(lead->device); /* the launch's buffers live beside the nets */
        if (e != cudaSuccess)
            rc = fail(err, "CUDA device %d cannot be used: %s", lead->device, cudaGetErrorString(e));
        else if (many_launch(cs, M, mb, mo, mf, ma, mbad, err))
            rc = -1;
    }
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

/* The plugin's one entry point (nn/cuda_plugin.h): the table filled by
 * member name for the version the host speaks. */
extern "C" __attribute__((visibility("default"))) int reel_cuda_plugin(int version, reel_cuda_plugin_table *p)
{
    if (version != REEL_CUDA_PLUGIN_VERSION || !p)
        return -1;
    memset(p, 0, sizeof *p);
    p->version = REEL_CUDA_PLUGIN_VERSION;
    p->device_count = reel_cuda_device_count;
    p->info = reel_cuda_info;
    p->absent_reason = reel_cuda_absent_reason;
    reel_nn_backend *b = &p->backend;
    b->name = "cuda";
    b->create = gpu_create;
    b->set_params = gpu_set_params;
    b->get_params = gpu_get_params;
    b->get_grads = gpu_get_grads;
    b->set_data = gpu_set_data;
    b->set_order = gpu_set_order;
    b->train_step = gpu_train_step;
    b->take_loss_sum = gpu_take_loss_sum;
    b->first_bad_step = gpu_first_bad_step;
    b->get_moments = gpu_get_moments;
    b->set_moments = gpu_set_moments;
    b->avg_update = gpu_avg_update;
    b->get_avg = gpu_get_avg;
    b->get_avg_sum = gpu_get_avg_sum;
    b->set_avg_sum = gpu_set_avg_sum;
    b->predict = gpu_predict;
    b->eval_loss = gpu_eval_loss;
    b->destroy = gpu_destroy;
    b->train_epoch = gpu_train_epoch;
    b->train_epochs = gpu_train_epochs;
    return 0;
}
