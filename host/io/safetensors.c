#include "io/safetensors.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fileio.h"
#include "util/outfile.h"

enum { MAX_HEADER = 100 << 20 }; /* the reference implementation's limit */

/* reel runs on little-endian machines only (x86-64, arm64). */
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE floats expected");

/* The checksum: FNV-1a 64 over the whole file with its own 16 hex digits as
 * '0'. Each step is a bijection of the state, so a change confined to one
 * byte (a flipped bit) always changes it. */
#define CHECKSUM_KEY "\"checksum\":\""
enum { CHECKSUM_DIGITS = 16 };

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Where the checksum's digits sit in the header text (exactly one
 * `"checksum":"` with 16 hex digits and a closing quote), or NULL. */
static const char *find_checksum(const char *header, size_t n)
{
    const char *found = NULL;
    size_t k = strlen(CHECKSUM_KEY);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(header + i, CHECKSUM_KEY, k) == 0) {
            if (found)
                return NULL;
            found = header + i + k;
        }
    if (!found || (size_t)(found - header) + CHECKSUM_DIGITS + 1 > n || found[CHECKSUM_DIGITS] != '"')
        return NULL;
    for (int i = 0; i < CHECKSUM_DIGITS; i++)
        if (!strchr("0123456789abcdef", found[i]) || found[i] == '\0')
            return NULL;
    return found;
}

uint64_t reel_safetensors_checksum(const unsigned char *buf, size_t len, size_t digits_at)
{
    static const unsigned char zeros[CHECKSUM_DIGITS] = "0000000000000000";
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, buf, digits_at);
    h = fnv1a(h, zeros, CHECKSUM_DIGITS);
    return fnv1a(h, buf + digits_at + CHECKSUM_DIGITS, len - digits_at - CHECKSUM_DIGITS);
}

int reel_safetensors_seal(unsigned char *buf, size_t len)
{
    if (len < 8)
        return -1;
    uint64_t hlen = 0;
    for (int k = 0; k < 8; k++)
        hlen |= (uint64_t)buf[k] << (8 * k);
    if (hlen > len - 8)
        return -1;
    const char *at = find_checksum((const char *)buf + 8, (size_t)hlen);
    if (!at)
        return -1;
    size_t off = (size_t)((const unsigned char *)at - buf);
    char hex[CHECKSUM_DIGITS + 1];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)reel_safetensors_checksum(buf, len, off));
    memcpy(buf + off, hex, CHECKSUM_DIGITS);
    return 0;
}

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
    /* The checksum goes first in the metadata; its digits are filled in once the image is whole. */
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "checksum", "0000000000000000");
    for (const cJSON *it = metadata ? metadata->child : NULL; it; it = it->next)
        if (strcmp(it->string, "checksum") != 0)
            cJSON_AddItemToObject(meta, it->string, cJSON_Duplicate(it, 1));
    cJSON_AddItemToObject(h, "__metadata__", meta);
    char *json = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!json)
        return reel_fail(err, "%s: out of memory", path);
    size_t n = strlen(json), padded = (n + 7) & ~(size_t)7; /* data starts 8-byte aligned */
    /* only the header is put together in memory: the tensors go to the file
     * from where they are, the checksum running over them in file order */
    unsigned char *head = malloc(8 + padded);
    if (!head) {
        cJSON_free(json);
        return reel_fail(err, "%s: out of memory", path);
    }
    for (int k = 0; k < 8; k++)
        head[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    memcpy(head + 8, json, n);
    memset(head + 8 + n, ' ', padded - n);
    cJSON_free(json);
    const char *digits = find_checksum((const char *)head + 8, padded);
    if (!digits) {
        free(head);
        return reel_fail(err, "%s: cannot place the checksum (a tensor or metadata name holds \"checksum\")",
                         path);
    }
    size_t at = (size_t)((const unsigned char *)digits - head);
    uint64_t sum = reel_safetensors_checksum(head, 8 + padded, at);
    for (size_t i = 0; i < t->n; i++)
        sum = fnv1a(sum, t->t[i].data, t->t[i].nbytes);
    char hex[CHECKSUM_DIGITS + 1];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)sum);
    memcpy(head + at, hex, CHECKSUM_DIGITS);
    reel_outfile f;
    if (reel_outfile_open(&f, path, err)) {
        free(head);
        return -1;
    }
    fwrite(head, 1, 8 + padded, f.fp);
    free(head);
    for (size_t i = 0; i < t->n; i++)
        if (t->t[i].nbytes)
            fwrite(t->t[i].data, 1, t->t[i].nbytes, f.fp);
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

static int by_begin(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static int tile_check(const char *name, size_t (*r)[2], size_t n, size_t data_len, reel_error *err)
{
    if (n > 1)
        qsort(r, n, sizeof *r, by_begin);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i][0] < at)
            return reel_fail(err, "%s: tensor data overlap at byte %zu", name, r[i][0]);
        if (r[i][0] > at)
            return reel_fail(err, "%s: a gap in the tensor data (bytes %zu to %zu belong to no tensor)", name, at,
                             r[i][0]);
        at = r[i][1];
    }
    if (at != data_len)
        return reel_fail(err, "%s: %zu bytes after the last tensor's data (the file has trailing bytes)", name,
                         data_len - at);
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
    /* A file that names a checksum must match it: header and data, every byte. */
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "__metadata__"),
                                                        "checksum");
    if (sum) {
        const char *at = find_checksum((const char *)buf + 8, (size_t)hlen);
        char hex[CHECKSUM_DIGITS + 1];
        if (at) {
            size_t digits_at = (size_t)((const unsigned char *)at - buf);
            snprintf(hex, sizeof hex, "%016llx", (unsigned long long)reel_safetensors_checksum(buf, len, digits_at));
        }
        if (!at || !cJSON_IsString(sum) || memcmp(at, hex, CHECKSUM_DIGITS) != 0) {
            cJSON_Delete(h);
            return reel_fail(err, "%s: checksum mismatch: the file was corrupted or edited after it was written",
                             name);
        }
    }
    /* Tensors must tile the data exactly: no overlap, no gap, no trailing bytes. */
    size_t n_ranges = 0, cap_ranges = 0;
    size_t (*ranges)[2] = NULL;
    for (const cJSON *it = h->child; it; it = it->next) {
        if (!it->string) {
            reel_fail(err, "%s: header entry without a name", name);
            goto fail;
        }
        if (strcmp(it->string, "__metadata__") == 0) {
            if (*metadata) {
                reel_fail(err, "%s: __metadata__ appears twice", name);
                goto fail;
            }
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
        reel_error e;
        if (reel_tensors_add(t, it->string, dtype, ndim, dims, data + begin, &e)) {
            reel_fail(err, "%s: %s", name, e.msg); /* the file, not only the tensor */
            goto fail;
        }
        if (n_ranges == cap_ranges) {
            cap_ranges = cap_ranges ? 2 * cap_ranges : 16;
            void *nr = realloc(ranges, cap_ranges * sizeof *ranges);
            if (!nr) {
                reel_fail(err, "%s: out of memory", name);
                goto fail;
            }
            ranges = nr;
        }
        ranges[n_ranges][0] = begin;
        ranges[n_ranges++][1] = end;
    }
    if (tile_check(name, ranges, n_ranges, data_len, err))
        goto fail;
    free(ranges);
    cJSON_Delete(h);
    if (!*metadata)
        *metadata = cJSON_CreateObject();
    return 0;
fail:
    free(ranges);
    cJSON_Delete(h);
    cJSON_Delete(*metadata);
    *metadata = NULL;
    reel_tensors_free(t);
    return -1;
}

int reel_safetensors_read(const char *path, reel_tensors *t, cJSON **metadata, reel_error *err)
{
    /* A model file is a regular file: a device or pipe (/dev/zero) would be read without end. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return reel_fail(err, "%s: not a regular file (a model file or checkpoint is one)", path);
    size_t len;
    char *buf = reel_read_file_capped(path, &len, REEL_MAX_MODEL_FILE, "model", err);
    if (!buf)
        return -1;
    int rc = reel_safetensors_parse(path, (const unsigned char *)buf, len, t, metadata, err);
    free(buf);
    return rc;
}
