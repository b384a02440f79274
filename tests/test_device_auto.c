/* --device auto finds GPUs without loading drivers it would not use
 * (issue 37 item 6): with only PoCL among the OpenCL drivers, auto never
 * loads it (nor its LLVM), and without the NVIDIA driver (libcuda.so.1) it
 * never loads the CUDA plugin (its cuBLAS). Checked in /proc/self/maps;
 * each test runs in its own process (Criterion forks), so each probe is a
 * first one. The OpenCL vendor folder is the test's own (OCL_ICD_VENDORS). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "nn/device.h"
#include "nn/gpu.h"
#include "nn/opencl.h"

/* Whether a library whose path holds `part` is mapped into this process. */
static int mapped(const char *part)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, part) != NULL;
    fclose(f);
    return found;
}

/* A vendor folder of its own holding one .icd file that names `library`. */
static const char *vendors(const char *name, const char *library)
{
    const char *dir = tmp_path(name);
    mkdir(dir, 0700);
    char path[4096];
    snprintf(path, sizeof path, "%s/driver.icd", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n", library);
    fclose(f);
    return dir;
}

Test(device_auto, only_pocl_loads_nothing)
{
    unsetenv("OCL_ICD_FILENAMES");
    setenv("OCL_ICD_VENDORS", vendors("vendors_pocl", "libpocl.so.2"), 1);
    const char *why = reel_nn_opencl_runtime.auto_absent();
    cr_assert_not_null(why, "with only PoCL, auto must know there is no OpenCL GPU");
    int device;
    const reel_nn_runtime *rt = reel_nn_device_auto(&device);
    cr_assert(rt != &reel_nn_opencl_runtime, "auto picked OpenCL with only PoCL installed");
    cr_assert(!mapped("libpocl"), "auto loaded PoCL");
    /* the check could fail: listing the devices (reel info, --device opencl) loads it */
    if (reel_nn_opencl_runtime.count() > 0)
        cr_assert(mapped("libpocl"), "PoCL lists devices but is not seen in /proc/self/maps");
}

/* A reel built without OpenCL has nothing to load: auto always skips it. */
static void expect_asked(const char *why)
{
#ifdef REEL_HAVE_OPENCL
    cr_assert_null(why, "an OpenCL driver other than PoCL may list a GPU: auto must ask, got '%s'", why);
#else
    cr_assert_not_null(why);
#endif
}

Test(device_auto, another_driver_is_asked)
{
    unsetenv("OCL_ICD_FILENAMES");
    setenv("OCL_ICD_VENDORS", vendors("vendors_gpu", "libsome-gpu-opencl.so.1"), 1);
    expect_asked(reel_nn_opencl_runtime.auto_absent());
}

Test(device_auto, a_driver_named_by_hand_is_asked)
{
    setenv("OCL_ICD_VENDORS", vendors("vendors_hand", "libpocl.so.2"), 1);
    setenv("OCL_ICD_FILENAMES", "/opt/some/libgpu-opencl.so", 1);
    expect_asked(reel_nn_opencl_runtime.auto_absent());
}

Test(device_auto, no_nvidia_driver_no_plugin)
{
    unsetenv("REEL_CUDA_PLUGIN"); /* a plugin named by hand is always loaded */
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (h) { /* a machine with the NVIDIA driver: auto asks the plugin */
        dlclose(h);
        cr_assert_null(reel_nn_cuda_runtime.auto_absent());
        return;
    }
    cr_assert_not_null(reel_nn_cuda_runtime.auto_absent());
    int device;
    cr_assert(reel_nn_device_auto(&device) != &reel_nn_cuda_runtime);
    cr_assert(!mapped("libreel_cuda"), "auto loaded the CUDA plugin without an NVIDIA driver");
    cr_assert(!mapped("libcublas"), "auto loaded cuBLAS without an NVIDIA driver");
}
