/* reel_device_list: every device of every runtime (nn/device.h), for
 * reel info and Python's reel.devices(). */
#include "reel.h"

#include <stdio.h>

#include "api/api.h"
#include "nn/device.h"

static cJSON *entry(const char *device, const char *runtime, const char *name, const char *detail, int usable,
                    int gpu, int is_auto, double memory)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", device);
    cJSON_AddStringToObject(o, "runtime", runtime);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddBoolToObject(o, "usable", usable);
    cJSON_AddBoolToObject(o, "gpu", gpu);
    cJSON_AddBoolToObject(o, "auto", is_auto);
    cJSON_AddNumberToObject(o, "memory", memory);
    return o;
}

char *reel_device_list(void)
{
    int auto_dev = 0;
    const reel_nn_runtime *auto_rt = reel_nn_device_auto(&auto_dev);
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, entry("cpu", "cpu", "the CPU", "the CPU backend (OpenMP, BLAS)", 1, 0, !auto_rt, 0));
    for (const reel_nn_runtime *const *r = reel_nn_runtimes; *r; r++) {
        int n = (*r)->count();
        if (n == 0) /* the runtime itself, and why it has no device */
            cJSON_AddItemToArray(a, entry((*r)->name, (*r)->name, "", (*r)->absent_reason(), 0, 0, 0, 0));
        for (int i = 0; i < n; i++) {
            reel_nn_device_info info;
            if ((*r)->info(i, &info))
                continue;
            char id[64];
            snprintf(id, sizeof id, "%s:%d", (*r)->name, i);
            cJSON_AddItemToArray(a, entry(id, (*r)->name, info.name, info.detail, info.usable, info.is_gpu,
                                          *r == auto_rt && i == auto_dev, (double)info.memory));
        }
    }
    char *s = api_print(a);
    cJSON_Delete(a);
    return s;
}
