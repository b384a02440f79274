/* reel_device_list: every device of every runtime (nn/device.h), for
 * reel info and Python's reel.devices(). */
#include "reel.h"

#include <stdio.h>
#include <string.h>

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

int reel_device_check(const char *device)
{
    reel_error err;
    if (!device)
        return api_bad_arg("reel_device_check", "no device");
    if (strcmp(device, "auto") == 0 || strcmp(device, "cpu") == 0)
        return 0;
    return reel_nn_device_check(device, &err) ? api_fail(&err) : 0;
}

int reel_model_uses_device(const char *model)
{
    if (!model || !reel_model_def(model)) {
        reel_error err;
        reel_fail(&err, "unknown model '%s'; valid models: %s", model ? model : "(null)", reel_model_name_list());
        return api_fail(&err);
    }
    const reel_model_kind *kind = reel_model_def_kind(model);
    return kind && kind->device; /* only kinds that report a device train on one */
}
