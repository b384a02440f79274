#include "nn/device.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "nn/gpu.h"    /* reel_nn_cuda_runtime */
#include "nn/opencl.h" /* reel_nn_opencl_runtime */
#include "util/log.h"

/* The registry: a new runtime adds its line here. */
const reel_nn_runtime *const reel_nn_runtimes[] = {&reel_nn_cuda_runtime, &reel_nn_opencl_runtime, NULL};

const reel_nn_runtime *reel_nn_runtime_named(const char *name, size_t len)
{
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++)
        if (strlen((*r)->name) == len && strncmp((*r)->name, name, len) == 0)
            return *r;
    return NULL;
}

int reel_nn_device_parse(const char *s, reel_dev_kind *kind, const reel_nn_runtime **rt, int *index,
                         reel_error *err)
{
    static const struct {
        const char *name;
        reel_dev_kind kind;
    } fixed[] = {{"auto", REEL_DEV_AUTO}, {"cpu", REEL_DEV_CPU}, {"gpu", REEL_DEV_GPU}};
    *index = 0;
    *rt = NULL;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strcmp(s, fixed[i].name) == 0) {
            *kind = fixed[i].kind;
            return 0;
        }
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    if ((*rt = reel_nn_runtime_named(s, len))) {
        *kind = REEL_DEV_RUNTIME;
        if (!colon)
            return 0;
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (end != colon + 1 && *end == '\0' && v >= 0 && v < INT_MAX) {
            *index = (int)v;
            return 0;
        }
    }
    char names[256] = "auto, cpu, gpu";
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s %s[:N]", r[1] ? "," : " or", (*r)->name);
    return reel_fail(err, "--device must be %s, got '%s'", names, s);
}

/* Why no runtime has a device auto may pick, in one clause per runtime. */
static void why_no_gpu(char *out, size_t n)
{
    out[0] = '\0';
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++) {
        size_t used = strlen(out);
        const char *why = (*r)->auto_absent ? (*r)->auto_absent() : NULL;
        if (!why)
            why = (*r)->count() == 0 ? (*r)->absent_reason() : "no device that auto picks (ask for one by number)";
        snprintf(out + used, n - used, "%s%s: %s", used ? "; " : "", (*r)->name, why);
    }
}

/* Device `index` of rt, when it is there and can train nets. */
static int usable(const reel_nn_runtime *rt, int index, reel_nn_device_info *info, reel_error *err)
{
    int n = rt->count();
    if (n == 0)
        return reel_fail(err, "no %s device: %s", rt->name, rt->absent_reason());
    if (index >= n && n == 1)
        return reel_fail(err, "there is 1 %s device, %s:0 (reel info lists it)", rt->name, rt->name);
    if (index >= n)
        return reel_fail(err, "there are %d %s devices, %s:0 to %s:%d (reel info lists them)", n, rt->name, rt->name,
                         rt->name, n - 1);
    if (rt->info(index, info))
        return reel_fail(err, "%s device %d cannot be queried", rt->name, index);
    if (!info->usable)
        return reel_fail(err, "%s:%d %s cannot train nets: %s", rt->name, index, info->name, info->detail);
    if (!rt->backend())
        return reel_fail(err, "the %s runtime has no nets backend", rt->name);
    return 0;
}

const reel_nn_runtime *reel_nn_device_auto(int *device)
{
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++) {
        if ((*r)->auto_absent && (*r)->auto_absent())
            continue; /* nothing loaded */
        int n = (*r)->count(), picks[64], k = 0;
        reel_nn_device_info info;
        for (int i = 0; i < n && k < 64; i++)
            if ((*r)->info(i, &info) == 0 && info.usable && info.auto_pick && (*r)->backend())
                picks[k++] = i;
        if (k > 0) { /* under mpirun, rank r takes the r-th such device (mod their number) */
            *device = picks[reel_dist_size() > 1 ? reel_dist_rank() % k : 0];
            return *r;
        }
    }
    return NULL;
}

int reel_nn_device_check(const char *s, reel_error *err)
{
    reel_dev_kind kind;
    const reel_nn_runtime *rt;
    int index;
    if (reel_nn_device_parse(s, &kind, &rt, &index, err))
        return -1;
    reel_nn_device_info info;
    reel_error e;
    char why[768];
    switch (kind) {
    case REEL_DEV_GPU:
        if (!reel_nn_device_auto(&index)) {
            why_no_gpu(why, sizeof why);
            return reel_fail(err, "--device gpu: no GPU; %s", why);
        }
        return 0;
    case REEL_DEV_RUNTIME:
        if (usable(rt, index, &info, &e))
            return reel_fail(err, "--device %s: %s", s, e.msg);
        return 0;
    default:
        return 0;
    }
}

const reel_nn_backend *reel_nn_device_open(const char *s, const char *name, const reel_log *log, int *device,
                                           char *label, size_t n, reel_error *err)
{
    reel_dev_kind kind;
    const reel_nn_runtime *rt;
    int index;
    *device = 0;
    snprintf(label, n, "cpu");
    if (reel_nn_device_parse(s ? s : "auto", &kind, &rt, &index, err))
        return NULL;
    if (kind == REEL_DEV_CPU)
        return &reel_nn_cpu_backend;
    if (kind == REEL_DEV_RUNTIME) {
        /* under mpirun, rank r trains on device r mod count unless --device names one */
        if (!strchr(s, ':') && reel_dist_size() > 1 && rt->count() > 0)
            index = reel_dist_rank() % rt->count();
    } else if (!(rt = reel_nn_device_auto(&index))) {
        char why[768];
        why_no_gpu(why, sizeof why);
        if (kind == REEL_DEV_GPU) {
            reel_fail(err, "%s: --device gpu: no GPU (%s)", name, why);
            return NULL;
        }
        reel_log_msg(log, REEL_LOG_INFO, "%s: training on the CPU (%s)", name, why);
        return &reel_nn_cpu_backend;
    }
    reel_nn_device_info info;
    reel_error e;
    if (usable(rt, index, &info, &e)) {
        reel_fail(err, "%s: --device %s: %s", name, s, e.msg);
        return NULL;
    }
    snprintf(label, n, "%s: %.250s", rt->name, info.name);
    if (kind == REEL_DEV_AUTO)
        reel_log_msg(log, REEL_LOG_INFO, "%s: training on the GPU (%s, %s:%d)", name, info.name, rt->name, index);
    *device = index;
    return rt->backend();
}
