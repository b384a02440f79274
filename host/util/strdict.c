#include "util/strdict.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void reel_strdict_init(reel_strdict *d) { memset(d, 0, sizeof *d); }

void reel_strdict_free(reel_strdict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->strs[i]);
    free(d->strs);
    free(d->slot);
    memset(d, 0, sizeof *d);
}

int32_t reel_strdict_find(const reel_strdict *d, const char *s)
{
    if (!d->nslots)
        return -1;
    for (size_t i = hash(s) & (d->nslots - 1);; i = (i + 1) & (d->nslots - 1)) {
        int32_t code = d->slot[i];
        if (code < 0 || strcmp(d->strs[code], s) == 0)
            return code;
    }
}

static int grow(reel_strdict *d)
{
    size_t ns = d->nslots ? d->nslots * 2 : 64;
    int32_t *slot = malloc(ns * sizeof *slot);
    if (!slot)
        return -1;
    memset(slot, 0xff, ns * sizeof *slot);
    for (size_t c = 0; c < d->n; c++) {
        size_t i = hash(d->strs[c]) & (ns - 1);
        while (slot[i] >= 0)
            i = (i + 1) & (ns - 1);
        slot[i] = (int32_t)c;
    }
    free(d->slot);
    d->slot = slot;
    d->nslots = ns;
    return 0;
}

int32_t reel_strdict_intern(reel_strdict *d, const char *s)
{
    int32_t code = reel_strdict_find(d, s);
    if (code >= 0)
        return code;
    if (d->n >= INT32_MAX - 1)
        return -1;
    if ((d->n + 1) * 2 > d->nslots && grow(d))
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **strs = realloc(d->strs, cap * sizeof *strs);
        if (!strs)
            return -1;
        d->strs = strs;
        d->cap = cap;
    }
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len + 1);
    size_t i = hash(s) & (d->nslots - 1);
    while (d->slot[i] >= 0)
        i = (i + 1) & (d->nslots - 1);
    d->slot[i] = (int32_t)d->n;
    d->strs[d->n] = copy;
    return (int32_t)d->n++;
}
