/* A bag of named tensors: what a model hands over to be saved and gets
 * back when loaded. The file format (safetensors) lives elsewhere. */
#ifndef REEL_TENSORS_H
#define REEL_TENSORS_H

#include <stddef.h>

#include "util/error.h"

typedef enum { REEL_F32, REEL_F64, REEL_I32, REEL_U8 } reel_dtype;

typedef struct {
    char *name;
    reel_dtype dtype;
    int ndim;          /* 0..4 */
    size_t shape[4];
    void *data;
    size_t nbytes;
} reel_tensor;

typedef struct {
    reel_tensor *t;
    size_t n, cap;
} reel_tensors;

size_t reel_dtype_size(reel_dtype d);
const char *reel_dtype_name(reel_dtype d); /* "F32", ... as safetensors */
/* Adds a copy of data. */
int reel_tensors_add(reel_tensors *b, const char *name, reel_dtype dtype, int ndim, const size_t *shape,
                     const void *data, reel_error *err);
/* Adds a tensor for the caller to fill: its data (NULL with err set). */
void *reel_tensors_new(reel_tensors *b, const char *name, reel_dtype dtype, int ndim, const size_t *shape,
                       reel_error *err);
/* The tensor `name`, checked to have dtype and element count `count`
 * (count 0: any); NULL with err set otherwise. */
const reel_tensor *reel_tensors_get(const reel_tensors *b, const char *name, reel_dtype dtype, size_t count,
                                    reel_error *err);
void reel_tensors_free(reel_tensors *b);

#endif
