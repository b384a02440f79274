/* Where nets train, as --device names it, and the backend table:
 *   cpu          the CPU backend
 *   cuda[:N]     the CUDA plugin's backend on CUDA device N (0)
 *   opencl[:N]   the OpenCL backend on OpenCL device N (0), any platform,
 *                PoCL included (reel info lists the numbers)
 *   gpu          CUDA, else an OpenCL GPU; an error without either
 *   auto         CUDA, else an OpenCL GPU (never PoCL), else the CPU */
#ifndef REEL_NN_DEVICE_H
#define REEL_NN_DEVICE_H

#include <stddef.h>

#include "nn/backend.h"
#include "util/error.h"
#include "util/log.h"

typedef enum { REEL_DEV_AUTO, REEL_DEV_CPU, REEL_DEV_GPU, REEL_DEV_CUDA, REEL_DEV_OPENCL } reel_dev_kind;

/* Parses a --device value (no device is looked up). */
int reel_nn_device_parse(const char *s, reel_dev_kind *kind, int *index, reel_error *err);
/* Parses it and checks that the device it names is there (auto and cpu
 * always are): for the command line, before any work. */
int reel_nn_device_check(const char *s, reel_error *err);
/* The backend for a --device value, its device selected; label gets what
 * the results show ("cpu", "cuda: NAME", "opencl: NAME"). When auto chose,
 * one message to log says where `name` trains. */
const reel_nn_backend *reel_nn_device_open(const char *s, const char *name, const reel_log *log, char *label,
                                           size_t n, reel_error *err);

#endif
