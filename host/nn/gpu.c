/* dladdr */
#define _GNU_SOURCE
#include "nn/gpu.h"

#include "nn/cuda_plugin.h"
#include "nn/device_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef REEL_HAVE_CUDA
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

static void *plugin;
static int tried;
static char reason[768] = "no CUDA GPU found";

/* dir of path (in place), or "" when it has none. */
static void dir_of(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash)
        *slash = '\0';
    else
        path[0] = '\0';
}

/* Loads the plugin once: $REEL_CUDA_PLUGIN, then beside the library (or
 * program) holding this code, then beside the program, then the install's
 * library folder seen from the program's (bin/../lib): always relative to
 * where reel is at run time, never a path into the build folder. */
static void *load(void)
{
    if (tried)
        return plugin;
    tried = 1;
    char here[PATH_MAX + 32] = "", beside[PATH_MAX + 32] = "", libdir[PATH_MAX + 64] = "";
    Dl_info info;
    if (dladdr((void *)&reel_nn_cuda_runtime, &info) && info.dli_fname && strchr(info.dli_fname, '/')) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", info.dli_fname);
        dir_of(dir);
        snprintf(here, sizeof here, "%s/libreel_cuda.so", dir);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        dir_of(exe);
        snprintf(beside, sizeof beside, "%s/libreel_cuda.so", exe);
        snprintf(libdir, sizeof libdir, "%s/%s/libreel_cuda.so", exe, REEL_BIN_TO_LIB);
    }
    const char *candidates[] = {getenv("REEL_CUDA_PLUGIN"), here, beside, libdir};
    char first_error[512] = ""; /* the first load error that says more than "not found" */
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates && !plugin; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        plugin = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (!plugin && !first_error[0]) {
            const char *e = dlerror();
            /* "not found" is expected for the other places; a library that
             * exists but fails to load (missing libcudart) says more. */
            if (e && !strstr(e, "No such file"))
                snprintf(first_error, sizeof first_error, "%s", e);
        }
    }
    if (!plugin)
        snprintf(reason, sizeof reason, "the CUDA plugin libreel_cuda.so could not be loaded (%s)",
                 first_error[0] ? first_error : "not found beside libreel or the reel program");
    return plugin;
}

static int have_driver;

static void probe_driver(void)
{
    if (getenv("REEL_CUDA_PLUGIN")) { /* a plugin named by hand is always tried */
        have_driver = 1;
        return;
    }
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    have_driver = h != NULL;
    if (h)
        dlclose(h);
}

static reel_cuda_plugin_table table;
static int have_table;

/* The plugin's table, or NULL (the reason says why). */
static const reel_cuda_plugin_table *plugin_table(void)
{
    static int asked;
    if (asked)
        return have_table ? &table : NULL;
    asked = 1;
    if (!load())
        return NULL;
    reel_cuda_plugin_fn entry = (reel_cuda_plugin_fn)dlsym(plugin, REEL_CUDA_PLUGIN_ENTRY);
    if (!entry || entry(REEL_CUDA_PLUGIN_VERSION, &table) != 0 || table.version != REEL_CUDA_PLUGIN_VERSION) {
        snprintf(reason, sizeof reason,
                 "the CUDA plugin libreel_cuda.so is from another version of reel (this one needs plugin "
                 "interface %d): rebuild it",
                 REEL_CUDA_PLUGIN_VERSION);
        return NULL;
    }
    have_table = 1;
    return &table;
}

static int cuda_count(void)
{
    const reel_cuda_plugin_table *p = plugin_table();
    return p ? p->device_count() : 0;
}

static int cuda_info(int i, reel_nn_device_info *info)
{
    const reel_cuda_plugin_table *p = plugin_table();
    return p ? p->info(i, info) : -1;
}

static const char *cuda_absent_reason(void)
{
    const reel_cuda_plugin_table *p = plugin_table();
    return p ? p->absent_reason() : reason;
}

/* Without the NVIDIA driver's libcuda.so.1 there is no CUDA device: said
 * without loading the plugin (its CUDA runtime and cuBLAS map about 200
 * MiB). With it, the plugin loads as ever. */
static const char *cuda_auto_absent(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, probe_driver);
    return have_driver ? NULL : "no NVIDIA driver found (libcuda.so.1 is not installed)";
}

static void *cuda_create(const reel_nn_spec *spec, int device, int threads, reel_error *err)
{
    (void)threads;
    return reel_driver_create(&table.ops, spec, device, err);
}

static reel_nn_backend backend;
static void backend_fill(void) { reel_driver_backend(&backend, "cuda", cuda_create); }

/* The driver's backend over the plugin's runtime. */
static const reel_nn_backend *cuda_backend(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!plugin_table())
        return NULL;
    pthread_once(&once, backend_fill);
    return &backend;
}
#else
static int cuda_count(void) { return 0; }
static int cuda_info(int i, reel_nn_device_info *info)
{
    (void)i;
    (void)info;
    return -1;
}
static const char *cuda_absent_reason(void) { return "this reel was built without CUDA (nvcc not found)"; }
static const reel_nn_backend *cuda_backend(void) { return NULL; }
static const char *cuda_auto_absent(void) { return cuda_absent_reason(); }
#endif

const reel_nn_runtime reel_nn_cuda_runtime = {"cuda", cuda_count, cuda_info, cuda_absent_reason, cuda_backend,
                                              cuda_auto_absent};
