#include "util/hash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/fileio.h"

uint64_t reel_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

int reel_hash_file(const char *path, uint64_t *h, reel_error *err)
{
    FILE *fp = reel_open_read(path, NULL, err);
    if (!fp)
        return -1;
    unsigned char buf[1 << 16];
    size_t got;
    *h = REEL_FNV_START;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
        *h = reel_fnv1a(*h, buf, got);
    int bad = ferror(fp);
    fclose(fp);
    return bad ? reel_fail(err, "%s: cannot read", path) : 0;
}
