/* Where nets train, as --device names it, and the registry of device
 * runtimes:
 *   cpu          the CPU backend
 *   RUNTIME[:N]  device N (0) of a runtime: cuda (the CUDA plugin), opencl
 *                (any platform, PoCL included); reel info lists the numbers
 *   gpu          the first device of a runtime that auto may pick; an error
 *                without one
 *   auto         that device, else the CPU
 *
 * Each runtime lists its devices and makes nets on the one it is given
 * (reel_nn_backend.create takes the device number): no runtime keeps a
 * "selected" device. reel info, --device and the device tests walk
 * reel_nn_runtimes, so a new runtime is its own file plus one line there
 * (device.c). */
#ifndef REEL_NN_DEVICE_H
#define REEL_NN_DEVICE_H

#include <stddef.h>

#include "nn/backend.h"
#include "util/error.h"
#include "util/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[256];
    char detail[384];    /* one line for reel info: platform or driver, memory, ... */
    int usable;          /* it can train nets (else detail says why not) */
    int is_gpu;
    int auto_pick;       /* --device auto and gpu may choose it (never PoCL) */
    size_t memory;       /* bytes */
    size_t local_memory; /* bytes of work-group memory; 0: the runtime does not say */
} reel_nn_device_info;

typedef struct {
    const char *name; /* as --device names it: "cuda", "opencl" */
    int (*count)(void);
    /* Fills info for device i: 0, or -1 when there is no such device. */
    int (*info)(int i, reel_nn_device_info *info);
    /* Why count() is 0, for messages. */
    const char *(*absent_reason)(void);
    /* Its nets (create's device is a number below count()), or NULL. */
    const reel_nn_backend *(*backend)(void);
    /* Optional: why --device auto (and gpu) cannot pick a device of this
     * runtime, found without loading its drivers (a look for the files
     * they would load), or NULL when it may: then count and info decide.
     * Auto asks this first, so that a machine without a GPU never pays
     * for a driver it would not use (the CUDA plugin's cuBLAS, PoCL's
     * LLVM). */
    const char *(*auto_absent)(void);
} reel_nn_runtime;

/* Every runtime, in the order auto and gpu look for a device; NULL ends it. */
extern const reel_nn_runtime *const reel_nn_runtimes[];

/* The runtime --device calls `name` (its first len characters), or NULL. */
const reel_nn_runtime *reel_nn_runtime_named(const char *name, size_t len);

typedef enum { REEL_DEV_AUTO, REEL_DEV_CPU, REEL_DEV_GPU, REEL_DEV_RUNTIME } reel_dev_kind;

/* Parses a --device value (no device is looked up); rt is the runtime of
 * REEL_DEV_RUNTIME. */
int reel_nn_device_parse(const char *s, reel_dev_kind *kind, const reel_nn_runtime **rt, int *index,
                         reel_error *err);
/* Parses it and checks that the device it names is there (auto and cpu
 * always are): for the command line, before any work. */
int reel_nn_device_check(const char *s, reel_error *err);
/* The backend for a --device value and, in *device, the device number its
 * create takes; label gets what the results show ("cpu", "cuda: NAME",
 * "opencl: NAME"). When auto chose, one message to log says where `name`
 * trains. */
const reel_nn_backend *reel_nn_device_open(const char *s, const char *name, const reel_log *log, int *device,
                                           char *label, size_t n, reel_error *err);
/* What --device auto picks: its runtime and device, or NULL (the CPU). */
const reel_nn_runtime *reel_nn_device_auto(int *device);

#ifdef __cplusplus
}
#endif

#endif
