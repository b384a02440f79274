#include "io/tensors.h"

#include "util/size.h"

#include <stdlib.h>
#include <string.h>

size_t reel_dtype_size(reel_dtype d)
{
    static const size_t size[] = {4, 8, 4, 1};
    return size[d];
}

const char *reel_dtype_name(reel_dtype d)
{
    static const char *names[] = {"F32", "F64", "I32", "U8"};
    return names[d];
}

int reel_tensors_add(reel_tensors *b, const char *name, reel_dtype dtype, int ndim, const size_t *shape,
                     const void *data, reel_error *err)
{
    void *to = reel_tensors_new(b, name, dtype, ndim, shape, err);
    if (!to)
        return -1;
    if (b->t[b->n - 1].nbytes)
        memcpy(to, data, b->t[b->n - 1].nbytes);
    return 0;
}

void *reel_tensors_new(reel_tensors *b, const char *name, reel_dtype dtype, int ndim, const size_t *shape,
                       reel_error *err)
{
    if (ndim < 0 || ndim > 4)
        return (void)reel_fail(err, "tensor '%s': %d dimensions (at most 4)", name, ndim), NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        reel_tensor *t = realloc(b->t, cap * sizeof *t);
        if (!t)
            return (void)reel_fail(err, "out of memory"), NULL;
        b->t = t;
        b->cap = cap;
    }
    reel_tensor *t = &b->t[b->n];
    memset(t, 0, sizeof *t);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        if (!reel_size_mul(count, shape[i], &count))
            return (void)reel_fail(err, "tensor '%s': its shape overflows a size", name), NULL;
    }
    t->ndim = ndim;
    t->dtype = dtype;
    if (!reel_size_mul(count, reel_dtype_size(dtype), &t->nbytes))
        return (void)reel_fail(err, "tensor '%s': its shape overflows a size", name), NULL;
    t->name = strdup(name);
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return (void)reel_fail(err, "out of memory for tensor '%s'", name), NULL;
    }
    b->n++;
    return t->data;
}

const reel_tensor *reel_tensors_get(const reel_tensors *b, const char *name, reel_dtype dtype, size_t count,
                                    reel_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        const reel_tensor *t = &b->t[i];
        if (strcmp(t->name, name) != 0)
            continue;
        if (t->dtype != dtype) {
            reel_fail(err, "tensor '%s' is %s, expected %s", name, reel_dtype_name(t->dtype),
                      reel_dtype_name(dtype));
            return NULL;
        }
        if (count && t->nbytes != count * reel_dtype_size(dtype)) {
            reel_fail(err, "tensor '%s' holds %zu values, expected %zu", name,
                      t->nbytes / reel_dtype_size(dtype), count);
            return NULL;
        }
        return t;
    }
    reel_fail(err, "tensor '%s' is missing", name);
    return NULL;
}

void reel_tensors_free(reel_tensors *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->t[i].name);
        free(b->t[i].data);
    }
    free(b->t);
    memset(b, 0, sizeof *b);
}
