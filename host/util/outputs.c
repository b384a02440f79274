#define _GNU_SOURCE /* renameat2 */
#include "util/outputs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist/dist.h"
#include "util/fileio.h"

int reel_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The folder part of a path ("." when none); malloc'ed. */
static char *parent_of(const char *path)
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

/* The last component, without trailing slashes; malloc'ed. */
static char *base_of(const char *path)
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

static int pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* A name `prefix` + decimal pid whose process is gone. */
static int stale_name(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] == '\0')
        return 0;
    char *end;
    long pid = strtol(name + n, &end, 10);
    return *end == '\0' && pid != (long)getpid() && !pid_alive(pid);
}

/* Our folders are flat: remove the files, then the folder. */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = reel_path_join(dir, e->d_name);
            if (p)
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Removes entries of `dir` named prefix + a dead pid (files, or flat folders). */
static void remove_stale(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!stale_name(e->d_name, prefix))
            continue;
        char *p = reel_path_join(dir, e->d_name);
        struct stat st;
        if (p && lstat(p, &st) == 0)
            S_ISDIR(st.st_mode) ? remove_flat_dir(p) : (void)unlink(p);
        free(p);
    }
    closedir(d);
}

void reel_remove_stale_temps(const char *path)
{
    char *dir = parent_of(path), *base = base_of(path);
    if (dir && base) {
        size_t n = strlen(base) + 8;
        char *prefix = malloc(n);
        if (prefix) {
            snprintf(prefix, n, "%s.tmp.", base);
            remove_stale(dir, prefix);
        }
        free(prefix);
    }
    free(dir);
    free(base);
}

int reel_check_output_file(const char *flag, const char *path, const char *const *inputs, size_t n_inputs,
                           reel_error *err)
{
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i] && reel_same_file(path, inputs[i]))
            return reel_fail(err, "%s %s is the same file as the input %s; writing it would replace the input",
                             flag, path, inputs[i]);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return reel_fail(err, "%s %s is a folder; it needs a file name", flag, path);
    size_t n = strlen(path) + 32;
    char *probe = malloc(n);
    if (!probe)
        return reel_fail(err, "%s: out of memory", path);
    snprintf(probe, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    if (fd < 0)
        return reel_fail(err, "%s %s: cannot write there: %s", flag, path, strerror(e));
    return 0;
}

/* File names reel writes in an --out folder (and their temporary files). */
static int reel_output_name(const char *name)
{
    static const char *const exact[] = {"metrics.json", "predictions.csv", "report.html", "report.md",
                                        "search.json", "best_params.json", "selection.json"};
    size_t n = strlen(name);
    const char *tmp = strstr(name, ".tmp.");
    if (tmp)
        n = (size_t)(tmp - name);
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strlen(exact[i]) == n && strncmp(name, exact[i], n) == 0)
            return 1;
    if (n > 12 && strncmp(name, "predictions_", 12) == 0 && strncmp(name + n - 4, ".csv", 4) == 0)
        return 1;
    if (n > 8 && strncmp(name, "history_", 8) == 0 && strncmp(name + n - 4, ".csv", 4) == 0)
        return 1;
    return 0;
}

/* A folder reel may replace: empty, or only files reel writes. */
static int check_replaceable(const char *target, reel_error *err)
{
    struct stat st;
    if (stat(target, &st) != 0)
        return errno == ENOENT ? 0 : reel_fail(err, "--out %s: %s", target, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return reel_fail(err, "--out %s exists and is not a folder", target);
    DIR *d = opendir(target);
    if (!d)
        return reel_fail(err, "--out %s: cannot read the folder: %s", target, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = reel_path_join(target, e->d_name);
        struct stat fs;
        int plain = p && lstat(p, &fs) == 0 && S_ISREG(fs.st_mode);
        free(p);
        if (!plain || !reel_output_name(e->d_name))
            rc = reel_fail(err, "--out %s holds '%s', which reel does not write; reel replaces the whole folder, "
                           "so name a new or empty one", target, e->d_name);
    }
    closedir(d);
    return rc;
}

int reel_outdir_begin(reel_outdir *o, const char *target, const char *const *inputs, size_t n_inputs,
                      reel_error *err)
{
    memset(o, 0, sizeof *o);
    if (check_replaceable(target, err))
        return -1;
    for (size_t i = 0; i < n_inputs; i++) {
        if (!inputs[i])
            continue;
        char *dir = parent_of(inputs[i]);
        int inside = dir && reel_same_file(dir, target);
        free(dir);
        if (inside)
            return reel_fail(err, "--out %s would hold %s, but reel replaces the whole folder; name another",
                             target, inputs[i]);
    }
    if (!reel_dist_root()) { /* under mpirun rank 0 alone writes: no stage folder here */
        o->target = strdup(target);
        o->stage = strdup(target);
        return 0;
    }
    char *parent = parent_of(target), *base = base_of(target);
    int rc = -1;
    if (!parent || !base || !(o->target = strdup(target))) {
        reel_fail(err, "--out %s: out of memory", target);
        goto done;
    }
    if (reel_mkdir_p(parent, err))
        goto done;
    char prefix[512];
    snprintf(prefix, sizeof prefix, ".%s.reel-stage.", base);
    remove_stale(parent, prefix);
    snprintf(prefix, sizeof prefix, ".%s.reel-old.", base);
    remove_stale(parent, prefix);
    char name[600];
    snprintf(name, sizeof name, ".%s.reel-stage.%ld", base, (long)getpid());
    o->stage = reel_path_join(parent, name);
    if (!o->stage) {
        reel_fail(err, "--out %s: out of memory", target);
        goto done;
    }
    remove_flat_dir(o->stage); /* ours from an earlier run of this pid: stale */
    if (mkdir(o->stage, 0777) != 0) {
        reel_fail(err, "--out %s: cannot write in %s: %s", target, parent, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    free(parent);
    free(base);
    if (rc) {
        free(o->target);
        free(o->stage);
        memset(o, 0, sizeof *o);
    }
    return rc;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

void reel_outdir_abort(reel_outdir *o)
{
    if (o->stage && reel_dist_root())
        remove_flat_dir(o->stage);
    free(o->target);
    free(o->stage);
    memset(o, 0, sizeof *o);
}

int reel_outdir_commit(reel_outdir *o, reel_error *err)
{
    if (!reel_dist_root()) {
        free(o->target);
        free(o->stage);
        memset(o, 0, sizeof *o);
        return 0;
    }
    if (check_replaceable(o->target, err)) { /* something else came meanwhile: leave it be */
        reel_outdir_abort(o);
        return -1;
    }
    sync_dir(o->stage);
    struct stat st;
    int rc = 0;
    if (stat(o->target, &st) != 0) {
        if (rename(o->stage, o->target) != 0)
            rc = reel_fail(err, "--out %s: cannot move the run's folder into place: %s", o->target, strerror(errno));
    } else if (renameat2(AT_FDCWD, o->stage, AT_FDCWD, o->target, RENAME_EXCHANGE) == 0) {
        /* the stage path now holds the previous run's folder */
    } else if (errno == EINVAL || errno == ENOSYS) {
        /* no atomic exchange on this file system: two renames, the old kept until the new is in place */
        char *parent = parent_of(o->target), *base = base_of(o->target), *old = NULL;
        if (parent && base) {
            char name[600];
            snprintf(name, sizeof name, ".%s.reel-old.%ld", base, (long)getpid());
            old = reel_path_join(parent, name);
        }
        if (!old || rename(o->target, old) != 0)
            rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
        else if (rename(o->stage, o->target) != 0) {
            rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
            rename(old, o->target);
        } else {
            remove_flat_dir(old);
        }
        free(parent);
        free(base);
        free(old);
    } else {
        rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
    }
    char *parent = parent_of(o->target);
    if (parent)
        sync_dir(parent);
    free(parent);
    reel_outdir_abort(o); /* removes the previous run's folder, or our stage on failure */
    return rc;
}
