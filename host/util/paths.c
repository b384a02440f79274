#define _GNU_SOURCE /* realpath, S_ISVTX */
#include "util/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

char *reel_path_parent(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0)
        return strdup(".");
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, path, n);
        p[n] = '\0';
    }
    return p;
}

char *reel_path_base(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    char *b = malloc(n - s + 1);
    if (b) {
        memcpy(b, path + s, n - s);
        b[n - s] = '\0';
    }
    return b;
}

/* The kernel's protected_symlinks rule for a link with status `link` in
 * folder `dir`. */
static int may_follow(const struct stat *link, const char *dir)
{
    struct stat d;
    if (stat(dir, &d) != 0)
        return 0;
    int shared = (d.st_mode & S_ISVTX) && (d.st_mode & S_IWOTH);
    return !shared || link->st_uid == geteuid() || link->st_uid == d.st_uid;
}

char *reel_path_follow(const char *path, int *protected_ok)
{
    char *cur = strdup(path);
    if (protected_ok)
        *protected_ok = 1;
    for (int hops = 0; cur && hops < 40; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        char *dir = reel_path_parent(cur);
        if (n < 0 || !dir) {
            free(dir);
            return cur; /* unreadable: the name itself, whose checks then fail */
        }
        target[n] = '\0';
        if (protected_ok && !may_follow(&st, dir))
            *protected_ok = 0;
        char *next = target[0] == '/' ? strdup(target) : reel_path_join(dir, target);
        free(dir);
        free(cur);
        cur = next;
    }
    free(cur);
    errno = ELOOP;
    return NULL;
}

int reel_file_key_of(const char *path, reel_file_key *k)
{
    memset(k, 0, sizeof *k);
    struct stat st;
    if (stat(path, &st) == 0) {
        k->dev = st.st_dev;
        k->ino = st.st_ino;
        k->exists = 1;
        return 0;
    }
    char *to = reel_path_follow(path, NULL);
    char *dir = to ? reel_path_parent(to) : NULL, *base = to ? reel_path_base(to) : NULL;
    int rc = -1;
    if (dir && base && strlen(base) < sizeof k->name && stat(dir, &st) == 0) {
        k->dev = st.st_dev;
        k->ino = st.st_ino;
        strcpy(k->name, base);
        rc = 0;
    }
    free(to);
    free(dir);
    free(base);
    return rc;
}

int reel_file_key_same(const reel_file_key *a, const reel_file_key *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           (a->exists || strcmp(a->name, b->name) == 0);
}

int reel_file_key_inside(const char *path, dev_t dev, ino_t ino)
{
    char *to = reel_path_follow(path, NULL);
    char *dir = to ? reel_path_parent(to) : NULL;
    char *real = dir ? realpath(dir, NULL) : NULL;
    int inside = 0;
    while (real && !inside) { /* the folder, then each one above it */
        struct stat st;
        inside = stat(real, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
        char *slash = strrchr(real, '/');
        if (!slash || strcmp(real, "/") == 0)
            break;
        slash[slash == real ? 1 : 0] = '\0';
    }
    free(to);
    free(dir);
    free(real);
    return inside;
}
