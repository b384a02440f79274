/* The one host driver of the device runtimes (nn/device_driver.c): a
 * reel_nn_backend whose nets run on any runtime that fills a reel_rt_ops
 * (nn/runtime.h). A runtime's backend is this one with its own create,
 * which passes its ops to reel_driver_create. */
#ifndef REEL_NN_DEVICE_DRIVER_H
#define REEL_NN_DEVICE_DRIVER_H

#include "nn/backend.h"
#include "nn/runtime.h"

/* A net of spec on device `device` of runtime rt, parameters at zero. */
void *reel_driver_create(const reel_rt_ops *rt, const reel_nn_spec *spec, int device, reel_error *err);

/* Fills *b with the driver's functions, named `name`, making nets with
 * `create`. */
void reel_driver_backend(reel_nn_backend *b, const char *name,
                         void *(*create)(const reel_nn_spec *spec, int device, int threads, reel_error *err));

#endif
