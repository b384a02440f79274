#include "io/safetensors.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"

enum { MAX_HEADER = 100 << 20 }; /* the reference implementation's limit */

/* reel runs on little-endian machines only (x86-64, arm64). */
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE floats expected");

int reel_safetensors_write(const char *path, const reel_tensors *t, const cJSON *metadata, reel_error *err)
{
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (size_t i = 0; i < t->n; i++) {
        const reel_tensor *x = &t->t[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", reel_dtype_name(x->dtype));
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int k = 0; k < x->ndim; k++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)x->shape[k]));
        cJSON *offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + x->nbytes)));
        cJSON_AddItemToObject(h, x->name, o);
        off += x->nbytes;
    }
    if (metadata)
        cJSON_AddItemToObject(h, "__metadata__", cJSON_Duplicate(metadata, 1));
    char *json = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!json)
        return reel_fail(err, "%s: out of memory", path);
    size_t n = strlen(json), padded = (n + 7) & ~(size_t)7; /* data starts 8-byte aligned */
    unsigned char len8[8];
    for (int k = 0; k < 8; k++)
        len8[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    reel_outfile f;
    if (reel_outfile_open(&f, path, err)) {
        cJSON_free(json);
        return -1;
    }
    fwrite(len8, 1, 8, f.fp);
    fwrite(json, 1, n, f.fp);
    for (size_t k = n; k < padded; k++)
        fputc(' ', f.fp);
    for (size_t i = 0; i < t->n; i++)
        fwrite(t->t[i].data, 1, t->t[i].nbytes, f.fp);
    cJSON_free(json);
    return reel_outfile_commit(&f, err);
}

static int dtype_from_name(const char *s, reel_dtype *d)
{
    static const char *names[] = {"F32", "F64", "I32", "U8"};
    for (int k = 0; k < 4; k++)
        if (strcmp(s, names[k]) == 0) {
            *d = (reel_dtype)k;
            return 0;
        }
    return -1;
}

/* A JSON number that is a non-negative integer below 2^53. */
static int as_size(const cJSON *v, size_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return -1;
    *out = (size_t)v->valuedouble;
    return 0;
}

int reel_safetensors_parse(const char *name, const unsigned char *buf, size_t len, reel_tensors *t,
                           cJSON **metadata, reel_error *err)
{
    memset(t, 0, sizeof *t);
    *metadata = NULL;
    if (len < 8)
        return reel_fail(err, "%s: not a safetensors file (%zu bytes, too short for a header)", name, len);
    uint64_t hlen = 0;
    for (int k = 0; k < 8; k++)
        hlen |= (uint64_t)buf[k] << (8 * k);
    if (hlen > MAX_HEADER || hlen > len - 8)
        return reel_fail(err, "%s: header length %llu runs past the end of the file (%zu bytes): truncated or "
                         "not a safetensors file", name, (unsigned long long)hlen, len);
    const unsigned char *data = buf + 8 + hlen;
    size_t data_len = len - 8 - (size_t)hlen;
    cJSON *h = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!h || !cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return reel_fail(err, "%s: header is not a JSON object", name);
    }
    for (const cJSON *it = h->child; it; it = it->next) {
        if (!it->string) {
            reel_fail(err, "%s: header entry without a name", name);
            goto fail;
        }
        if (strcmp(it->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(it)) {
                reel_fail(err, "%s: __metadata__ is not an object", name);
                goto fail;
            }
            for (const cJSON *m = it->child; m; m = m->next)
                if (!cJSON_IsString(m)) {
                    reel_fail(err, "%s: __metadata__ value '%s' is not a string", name, m->string);
                    goto fail;
                }
            *metadata = cJSON_Duplicate(it, 1);
            continue;
        }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        reel_dtype dtype;
        if (!cJSON_IsString(dt) || dtype_from_name(dt->valuestring, &dtype)) {
            reel_fail(err, "%s: tensor '%s': dtype must be F32, F64, I32 or U8", name, it->string);
            goto fail;
        }
        if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > 4) {
            reel_fail(err, "%s: tensor '%s': shape must be a list of at most 4 sizes", name, it->string);
            goto fail;
        }
        size_t dims[4] = {0}, count = 1;
        int ndim = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, shape)
        {
            if (as_size(s, &dims[ndim])) {
                reel_fail(err, "%s: tensor '%s': shape holds a bad size", name, it->string);
                goto fail;
            }
            if (dims[ndim] && count > SIZE_MAX / 16 / dims[ndim]) {
                reel_fail(err, "%s: tensor '%s': shape overflows", name, it->string);
                goto fail;
            }
            count *= dims[ndim++];
        }
        size_t begin, end;
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || as_size(cJSON_GetArrayItem(offs, 0), &begin) ||
            as_size(cJSON_GetArrayItem(offs, 1), &end) || begin > end || end > data_len) {
            reel_fail(err, "%s: tensor '%s': data_offsets out of range (the data holds %zu bytes)", name,
                      it->string, data_len);
            goto fail;
        }
        if (end - begin != count * reel_dtype_size(dtype)) {
            reel_fail(err, "%s: tensor '%s': %zu bytes of data for a shape that needs %zu", name, it->string,
                      end - begin, count * reel_dtype_size(dtype));
            goto fail;
        }
        for (size_t q = 0; q < t->n; q++)
            if (strcmp(t->t[q].name, it->string) == 0) {
                reel_fail(err, "%s: tensor '%s' appears twice", name, it->string);
                goto fail;
            }
        if (reel_tensors_add(t, it->string, dtype, ndim, dims, data + begin, err))
            goto fail;
    }
    cJSON_Delete(h);
    if (!*metadata)
        *metadata = cJSON_CreateObject();
    return 0;
fail:
    cJSON_Delete(h);
    cJSON_Delete(*metadata);
    *metadata = NULL;
    reel_tensors_free(t);
    return -1;
}

int reel_safetensors_read(const char *path, reel_tensors *t, cJSON **metadata, reel_error *err)
{
    size_t len;
    char *buf = reel_read_file(path, &len, err);
    if (!buf)
        return -1;
    int rc = reel_safetensors_parse(path, (const unsigned char *)buf, len, t, metadata, err);
    free(buf);
    return rc;
}
