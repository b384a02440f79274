#include "nn/device.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "nn/gpu.h"
#include "nn/opencl.h"
#include "util/log.h"

int reel_nn_device_parse(const char *s, reel_dev_kind *kind, int *index, reel_error *err)
{
    static const struct {
        const char *name;
        reel_dev_kind kind;
        int numbered;
    } names[] = {{"auto", REEL_DEV_AUTO, 0}, {"cpu", REEL_DEV_CPU, 0}, {"gpu", REEL_DEV_GPU, 0},
                 {"cuda", REEL_DEV_CUDA, 1}, {"opencl", REEL_DEV_OPENCL, 1}};
    *index = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t len = strlen(names[i].name);
        if (strncmp(s, names[i].name, len) != 0)
            continue;
        *kind = names[i].kind;
        if (s[len] == '\0')
            return 0;
        if (s[len] == ':' && names[i].numbered) {
            char *end;
            long v = strtol(s + len + 1, &end, 10);
            if (end != s + len + 1 && *end == '\0' && v >= 0 && v < INT_MAX) {
                *index = (int)v;
                return 0;
            }
        }
    }
    return reel_fail(err, "--device must be auto, cpu, gpu, cuda[:N] or opencl[:N], got '%s'", s);
}

/* The CUDA plugin's backend when CUDA device `index` is usable. */
static const reel_nn_backend *cuda_on(int index, reel_error *err)
{
    int n = reel_gpu_count();
    if (n == 0) {
        reel_fail(err, "no CUDA GPU: %s", reel_gpu_absent_reason());
        return NULL;
    }
    if (index >= n) {
        reel_fail(err, "there are %d CUDA devices (0 to %d; reel info lists them)", n, n - 1);
        return NULL;
    }
    if (reel_gpu_select(index) != 0) {
        reel_fail(err, "CUDA device %d cannot be selected", index);
        return NULL;
    }
    const reel_nn_backend *be = reel_nn_gpu_backend();
    if (!be)
        reel_fail(err, "the CUDA plugin has no nets backend");
    return be;
}

/* Under mpirun, rank r trains on CUDA device r mod count unless --device
 * names one (cuda:N). */
static int rank_device(const char *s, int index)
{
    if (strchr(s, ':') || reel_dist_size() < 2)
        return index;
    int n = reel_gpu_count();
    return n > 0 ? reel_dist_rank() % n : index;
}

int reel_nn_device_check(const char *s, reel_error *err)
{
    reel_dev_kind kind;
    int index;
    if (reel_nn_device_parse(s, &kind, &index, err))
        return -1;
    reel_error e;
    switch (kind) {
    case REEL_DEV_GPU:
        if (reel_gpu_count() == 0 && reel_opencl_auto_gpu() < 0)
            return reel_fail(err, "--device gpu: %s; no OpenCL GPU either (%s)", reel_gpu_absent_reason(),
                             reel_opencl_count() ? "only PoCL on the CPU: --device opencl uses it"
                                                 : reel_opencl_absent_reason());
        return 0;
    case REEL_DEV_CUDA:
        if (!cuda_on(index, &e))
            return reel_fail(err, "--device %s: %s", s, e.msg);
        return 0;
    case REEL_DEV_OPENCL:
        return reel_opencl_select(index, err);
    default:
        return 0;
    }
}

static const reel_nn_backend *opencl_on(int index, char *label, size_t n, reel_error *err)
{
    reel_opencl_info info;
    if (reel_opencl_select(index, err) || reel_opencl_info_get(index, &info))
        return NULL;
    snprintf(label, n, "opencl: %.250s", info.name);
    return reel_nn_opencl_backend();
}

const reel_nn_backend *reel_nn_device_open(const char *s, const char *name, const reel_log *log, char *label,
                                           size_t n, reel_error *err)
{
    reel_dev_kind kind;
    int index;
    if (reel_nn_device_parse(s ? s : "auto", &kind, &index, err))
        return NULL;
    snprintf(label, n, "cpu");
    if (kind == REEL_DEV_CPU)
        return &reel_nn_cpu_backend;
    if (kind == REEL_DEV_OPENCL) {
        const reel_nn_backend *be = opencl_on(index, label, n, err);
        if (!be)
            reel_fail(err, "%s: %s", name, err->msg);
        return be;
    }
    reel_error e;
    index = rank_device(s ? s : "auto", kind == REEL_DEV_CUDA ? index : 0);
    const reel_nn_backend *be = cuda_on(index, &e);
    if (be) {
        reel_gpu_info info;
        if (reel_gpu_query(&info) != 0)
            snprintf(info.name, sizeof info.name, "CUDA device %d", index);
        snprintf(label, n, "cuda: %.250s", info.name);
        if (kind == REEL_DEV_AUTO)
            reel_log_msg(log, REEL_LOG_INFO, "%s: training on the GPU (%s, CUDA)", name, info.name);
        return be;
    }
    if (kind == REEL_DEV_CUDA) {
        reel_fail(err, "%s: --device %s: %s", name, s, e.msg);
        return NULL;
    }
    int g = reel_opencl_auto_gpu();
    if (g >= 0) {
        reel_error e2;
        if ((be = opencl_on(g, label, n, &e2))) {
            if (kind == REEL_DEV_AUTO)
                reel_log_msg(log, REEL_LOG_INFO, "%s: training on the GPU (%s, OpenCL)", name, label + 8);
            return be;
        }
    }
    if (kind == REEL_DEV_GPU) {
        reel_fail(err, "%s: --device gpu: %s; no OpenCL GPU either", name, e.msg);
        return NULL;
    }
    snprintf(label, n, "cpu");
    reel_log_msg(log, REEL_LOG_INFO, "%s: training on the CPU (%s)", name, reel_gpu_absent_reason());
    return &reel_nn_cpu_backend;
}
