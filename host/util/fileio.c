#include "util/fileio.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist/dist.h"
#include "util/outputs.h"

char *reel_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int reel_outfile_open(reel_outfile *f, const char *path, reel_error *err)
{
    memset(f, 0, sizeof *f);
    if (!reel_dist_root()) { /* under mpirun rank 0 alone writes; the others' copies go nowhere */
        f->fp = fopen("/dev/null", "wb");
        return f->fp ? 0 : reel_fail(err, "%s: cannot open /dev/null", path);
    }
    size_t n = strlen(path);
    f->path = strdup(path);
    f->tmp_path = malloc(n + 32);
    if (!f->path || !f->tmp_path) {
        free(f->path);
        free(f->tmp_path);
        return reel_fail(err, "%s: out of memory", path);
    }
    snprintf(f->tmp_path, n + 32, "%s.tmp.%ld", path, (long)getpid());
    reel_remove_stale_temps(path);
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp) {
        int e = errno;
        free(f->path);
        free(f->tmp_path);
        memset(f, 0, sizeof *f);
        return reel_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

void reel_outfile_abort(reel_outfile *f)
{
    if (f->fp)
        fclose(f->fp);
    if (f->tmp_path)
        remove(f->tmp_path);
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
}

int reel_outfile_commit(reel_outfile *f, reel_error *err)
{
    if (!f->path) { /* a copy not written (above) */
        fclose(f->fp);
        memset(f, 0, sizeof *f);
        return 0;
    }
    int bad = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    int e = errno;
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    f->fp = NULL;
    if (!bad && rename(f->tmp_path, f->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        reel_fail(err, "%s: write failed: %s", f->path, strerror(e));
        reel_outfile_abort(f);
        return -1;
    }
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
    return 0;
}

int reel_write_file_atomic(const char *path, const char *text, reel_error *err)
{
    reel_outfile f;
    if (reel_outfile_open(&f, path, err))
        return -1;
    fputs(text, f.fp);
    return reel_outfile_commit(&f, err);
}

char *reel_read_file(const char *path, size_t *len, reel_error *err)
{
    return reel_read_file_capped(path, len, SIZE_MAX, NULL, err);
}

char *reel_read_file_capped(const char *path, size_t *len, size_t max, const char *what, reel_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        reel_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        reel_fail(err, "%s: is a folder, not a file", path);
        return NULL;
    }
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max) {
        fclose(fp);
        reel_fail(err, "%s: %jd bytes, more than the %zu MiB a %s file can be; is it the right file?", path,
                  (intmax_t)st.st_size, max >> 20, what);
        return NULL;
    }
    size_t cap = 4096, n = 0;
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

int reel_mkdir_p(const char *dir, reel_error *err)
{
    if (!reel_dist_root()) /* under mpirun rank 0 alone writes */
        return 0;
    char *p = strdup(dir);
    if (!p)
        return reel_fail(err, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                reel_fail(err, "%s: cannot create directory: %s", p, strerror(e));
                free(p);
                return -1;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return ok ? 0 : reel_fail(err, "%s: not a directory", dir);
}
