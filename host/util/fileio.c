#include "util/fileio.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


FILE *reel_open_read(const char *path, const char *what, reel_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        reel_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        reel_fail(err, "%s: is a folder, not a%s%s file", path, what ? " " : "", what ? what : "");
        return NULL;
    }
    return fp;
}

char *reel_read_file(const char *path, size_t *len, reel_error *err)
{
    return reel_read_file_capped(path, len, SIZE_MAX, NULL, err);
}

char *reel_read_file_capped(const char *path, size_t *len, size_t max, const char *what, reel_error *err)
{
    FILE *fp = reel_open_read(path, NULL, err);
    if (!fp)
        return NULL;
    struct stat st;
    int regular = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);
    if (regular && (uintmax_t)st.st_size > (uintmax_t)max) {
        fclose(fp);
        reel_fail(err, "%s: %jd bytes, more than the %zu MiB a %s file can be; is it the right file?", path,
                  (intmax_t)st.st_size, max >> 20, what);
        return NULL;
    }
    /* a regular file's size is known: one block for it (and the NUL, and
     * the read that finds the end), so memory holds it once */
    size_t cap = regular && (uintmax_t)st.st_size < SIZE_MAX - 2 ? (size_t)st.st_size + 2 : 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n > max) { /* a pipe or device: stop reading once past the cap */
            free(buf);
            fclose(fp);
            reel_fail(err, "%s: more than the %zu MiB a %s file can be; is it the right file?", path, max >> 20,
                      what);
            return NULL;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        free(buf);
        reel_fail(err, "%s: cannot read%s", path, buf ? "" : " (out of memory)");
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
