#define _GNU_SOURCE /* fopencookie, getdents64 */
#include "util/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/interrupt.h"
#include "util/paths.h"

int (*reel_outfile_fault)(const char *step, const char *dest);

/* The fault scripts' hook (tests/faults/): REEL_OUTFILE_FAULT=N[:EIO]
 * fails the process's Nth output step (counted over every output) with
 * ENOSPC (or EIO), and notes "step dest" in REEL_OUTFILE_FAULT_LOG. */
static int env_fault(const char *step, const char *dest)
{
    static atomic_int seen;
    const char *f = getenv("REEL_OUTFILE_FAULT");
    if (!f || atomic_fetch_add(&seen, 1) + 1 != atoi(f))
        return 0;
    const char *log = getenv("REEL_OUTFILE_FAULT_LOG");
    int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (fd >= 0) {
        char line[PATH_MAX + 32];
        int k = snprintf(line, sizeof line, "%s %s\n", step, dest);
        ssize_t w = write(fd, line, k > 0 && (size_t)k < sizeof line ? (size_t)k : 0);
        (void)w;
        close(fd);
    }
    return strstr(f, ":EIO") ? EIO : ENOSPC;
}

/* A step that a test may make fail: 0, or -1 with errno set. */
static int fault(const char *step, const char *dest)
{
    int e = reel_outfile_fault ? reel_outfile_fault(step, dest) : env_fault(step, dest);
    if (e)
        errno = e;
    return e ? -1 : 0;
}

static atomic_int g_discard;

void reel_outputs_discard(int on) { atomic_store(&g_discard, on != 0); }
int reel_outputs_discarded(void) { return atomic_load(&g_discard); }

/* ---- What a second signal removes: temporary files and stage folders.
 * A slot is claimed (2) while its name is copied, and live (1) after;
 * the signal handler reads only live slots. */
enum { TMP_SLOTS = 32, STAGE_SLOTS = 8 };
static char g_tmp[TMP_SLOTS][PATH_MAX];
static atomic_int g_tmp_state[TMP_SLOTS];
static struct {
    char stage[PATH_MAX], shown[PATH_MAX];
} g_stage[STAGE_SLOTS];
static atomic_int g_stage_state[STAGE_SLOTS];

static int claim(atomic_int *state, int n)
{
    for (int i = 0; i < n; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&state[i], &free_slot, 2))
            return i;
    }
    return -1;
}

/* Removes a flat folder with calls a signal handler may make. */
static void remove_dir_now(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    _Alignas(8) char buf[4096]; /* records of 8-byte fields */
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long at = 0; at < n;) {
            struct {
                unsigned long long ino;
                long long off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *e = (void *)(buf + at);
            if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0)
                unlinkat(fd, e->name, 0);
            at += e->reclen;
        }
    close(fd);
    rmdir(dir);
}

/* Called from the signal handler on a second signal (util/interrupt.c). */
static void cleanup_now(void)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (atomic_load(&g_tmp_state[i]) == 1)
            unlink(g_tmp[i]);
    for (int i = 0; i < STAGE_SLOTS; i++)
        if (atomic_load(&g_stage_state[i]) == 1)
            remove_dir_now(g_stage[i].stage);
}

int reel_outputs_stage_add(const char *stage, const char *shown)
{
    reel_interrupt_on_abort(cleanup_now);
    int i = claim(g_stage_state, STAGE_SLOTS);
    if (i < 0 || strlen(stage) >= PATH_MAX || strlen(shown) >= PATH_MAX) {
        if (i >= 0)
            atomic_store(&g_stage_state[i], 0);
        return -1;
    }
    strcpy(g_stage[i].stage, stage);
    strcpy(g_stage[i].shown, shown);
    atomic_store(&g_stage_state[i], 1);
    return 0;
}

void reel_outputs_stage_remove(const char *stage)
{
    for (int i = 0; i < STAGE_SLOTS; i++)
        if (atomic_load(&g_stage_state[i]) == 1 && strcmp(g_stage[i].stage, stage) == 0)
            atomic_store(&g_stage_state[i], 0);
}

const char *reel_outputs_shown(const char *path, char *buf, size_t size)
{
    for (int i = 0; i < STAGE_SLOTS; i++) {
        if (atomic_load(&g_stage_state[i]) != 1)
            continue;
        size_t n = strlen(g_stage[i].stage);
        if (strncmp(path, g_stage[i].stage, n) == 0 && path[n] == '/') {
            snprintf(buf, size, "%s%s", g_stage[i].shown, path + n);
            return buf;
        }
    }
    return path;
}

/* ---- Temporary names: ".reel-PID-N", short whatever the destination's
 * name, so any valid name can be written. */
static atomic_uint g_tmp_counter;

int reel_temp_name(const char *name)
{
    if (strncmp(name, ".reel-", 6) != 0)
        return 0;
    char *end;
    long pid = strtol(name + 6, &end, 10);
    if (pid <= 0 || *end != '-')
        return 0;
    strtoul(end + 1, &end, 10);
    return *end == '\0';
}

static int pid_alive(long pid) { return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); }

void reel_remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!reel_temp_name(e->d_name))
            continue;
        long pid = strtol(e->d_name + 6, NULL, 10);
        if (pid == (long)getpid() || pid_alive(pid))
            continue;
        char *p = reel_path_join(dir, e->d_name);
        struct stat st;
        if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            unlink(p);
        free(p);
    }
    closedir(d);
}

void reel_remove_stale_dirs(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t n = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strncmp(e->d_name, prefix, n) == 0 && e->d_name[n] ? strtol(e->d_name + n, &end, 10) : 0;
        if (pid <= 0 || *end != '\0' || pid == (long)getpid() || pid_alive(pid))
            continue;
        char *p = reel_path_join(dir, e->d_name);
        struct stat st;
        if (p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            reel_remove_flat_dir(p);
        free(p);
    }
    closedir(d);
}

void reel_remove_flat_dir(const char *dir)
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

/* ---- Destinations */

void reel_dest_free(reel_dest *d)
{
    free(d->target);
    memset(d, 0, sizeof *d);
}

static const char *kind_name(mode_t m)
{
    return S_ISDIR(m)    ? "a folder; it needs a file name"
           : S_ISBLK(m)  ? "a block device; reel writes only regular files, character devices and FIFOs"
           : S_ISSOCK(m) ? "a socket; reel writes only regular files, character devices and FIFOs"
                         : "not a regular file; reel writes only regular files, character devices and FIFOs";
}

/* A new file can be made in dir (made and removed). */
static int folder_takes_files(const char *shown, const char *dir, reel_error *err)
{
    char name[48];
    snprintf(name, sizeof name, ".reel-%ld-%u", (long)getpid(), atomic_fetch_add(&g_tmp_counter, 1));
    char *probe = reel_path_join(dir, name);
    if (!probe)
        return reel_fail(err, "%s: out of memory", shown);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    return fd >= 0 ? 0 : reel_fail(err, "%s: cannot write there: %s", shown, strerror(e));
}

int reel_dest_check(reel_dest *d, const char *path, reel_error *err)
{
    memset(d, 0, sizeof *d);
    char buf[PATH_MAX + 64];
    const char *shown = reel_outputs_shown(path, buf, sizeof buf);
    int protected_ok;
    d->target = reel_path_follow(path, &protected_ok);
    if (!d->target)
        return reel_fail(err, "%s: %s", shown, errno == ELOOP ? "too many levels of symbolic links" : "out of memory");
    if (!protected_ok) {
        reel_dest_free(d);
        return reel_fail(err, "%s: a symbolic link in a shared sticky folder, owned by someone else; reel does not "
                         "follow it (as the kernel's protected_symlinks rule would not)", shown);
    }
    struct stat st, lt;
    int there = stat(path, &st) == 0;
    if (!there && errno != ENOENT) {
        int e = errno;
        reel_dest_free(d);
        return reel_fail(err, "%s: %s", shown, strerror(e));
    }
    if (there && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        d->kind = REEL_DEST_STREAM;
        if (access(path, W_OK) != 0) {
            int e = errno;
            reel_dest_free(d);
            return reel_fail(err, "%s: cannot write: %s", shown, strerror(e));
        }
        return 0;
    }
    if (there && !S_ISREG(st.st_mode)) {
        reel_dest_free(d);
        return reel_fail(err, "%s is %s", shown, kind_name(st.st_mode));
    }
    /* a link's target must be the file the name leads to (not so for a
     * /proc link to a deleted file) */
    if (there && (lstat(d->target, &lt) != 0 || lt.st_dev != st.st_dev || lt.st_ino != st.st_ino)) {
        reel_dest_free(d);
        return reel_fail(err, "%s: cannot tell which file this name leads to", shown);
    }
    if (there) {
        d->kind = REEL_DEST_FILE;
        d->mode = st.st_mode & 07777;
        d->uid = st.st_uid;
        d->gid = st.st_gid;
        d->nlink = (unsigned long)st.st_nlink;
        if (faccessat(AT_FDCWD, d->target, W_OK, AT_EACCESS) != 0) {
            int e = errno;
            reel_dest_free(d);
            if (e == EACCES || e == EPERM)
                return reel_fail(err, "%s: not writable (mode %04o); reel does not replace a file you may not write",
                                 shown, (unsigned)(st.st_mode & 07777));
            return reel_fail(err, "%s: cannot write: %s", shown, strerror(e));
        }
    } else {
        d->kind = REEL_DEST_NEW;
    }
    char *dir = reel_path_parent(d->target);
    int rc = dir ? folder_takes_files(shown, dir, err) : reel_fail(err, "%s: out of memory", shown);
    free(dir);
    if (rc)
        reel_dest_free(d);
    return rc;
}

/* ---- Writing */

/* The FILE's writes go to the descriptor; the first error is kept for
 * the message (stdio's errno is long gone by commit). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    reel_outfile *f = cookie;
    size_t done = 0;
    if (reel_interrupted()) /* stop a long write (an export) now: commit refuses anyway */
        return -1;
    while (done < size) {
        ssize_t w = fault("write", f->path) ? -1 : write(f->fd, buf + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!f->err_no)
                f->err_no = w < 0 ? errno : EIO;
            return done > 0 ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int cookie_close(void *cookie)
{
    (void)cookie;
    return 0;
}

static void release(reel_outfile *f)
{
    if (f->fp)
        fclose(f->fp);
    if (f->fd >= 0)
        close(f->fd);
    if (f->slot >= 0)
        atomic_store(&g_tmp_state[f->slot], 0);
    free(f->path);
    free(f->tmp_path);
    reel_dest_free(&f->dest);
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->slot = -1;
}

/* A temporary file for a stream's bytes, already unlinked. */
static int anonymous_file(void)
{
    const char *tmp = getenv("TMPDIR");
    int fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || !(errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
        return fd;
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s/.reel-%ld-XXXXXX", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    return fd;
}

int reel_outfile_open(reel_outfile *f, const char *path, reel_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->slot = -1;
    if (reel_outputs_discarded()) { /* another process writes this output */
        f->fp = fopen("/dev/null", "wb");
        return f->fp ? 0 : reel_fail(err, "%s: cannot open /dev/null", path);
    }
    reel_interrupt_on_abort(cleanup_now);
    char buf[PATH_MAX + 64];
    const char *shown = reel_outputs_shown(path, buf, sizeof buf);
    if (!(f->path = strdup(shown))) {
        release(f);
        return reel_fail(err, "%s: out of memory", shown);
    }
    if (reel_dest_check(&f->dest, path, err)) {
        release(f);
        return -1;
    }
    int e = 0;
    if (f->dest.kind == REEL_DEST_STREAM) {
        if ((f->fd = anonymous_file()) < 0)
            e = errno;
    } else {
        char *dir = reel_path_parent(f->dest.target);
        char name[48];
        snprintf(name, sizeof name, ".reel-%ld-%u", (long)getpid(), atomic_fetch_add(&g_tmp_counter, 1));
        if (dir)
            reel_remove_stale_temps(dir);
        f->tmp_path = dir ? reel_path_join(dir, name) : NULL;
        free(dir);
        f->slot = f->tmp_path && strlen(f->tmp_path) < PATH_MAX ? claim(g_tmp_state, TMP_SLOTS) : -1;
        if (f->slot >= 0) {
            strcpy(g_tmp[f->slot], f->tmp_path);
            atomic_store(&g_tmp_state[f->slot], 1);
        }
        if (!f->tmp_path)
            e = ENOMEM;
        else if (fault("open", f->path) || (f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                                          0666)) < 0)
            e = errno;
        else if (f->dest.kind == REEL_DEST_FILE) {
            /* the replaced file's owner where we may, then its mode (a
             * chown clears set-id bits) */
            struct stat st;
            if (fstat(f->fd, &st) == 0 && (st.st_uid != f->dest.uid || st.st_gid != f->dest.gid) &&
                fchown(f->fd, f->dest.uid, f->dest.gid) != 0 && st.st_gid != f->dest.gid &&
                fchown(f->fd, (uid_t)-1, f->dest.gid) != 0) {
                /* not ours to give: the new file is the user's own, as cp's */
            }
            if (fchmod(f->fd, f->dest.mode) != 0)
                e = errno;
        }
    }
    if (!e) {
        cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
        f->fp = fopencookie(f, "w", io);
        if (!f->fp)
            e = errno ? errno : ENOMEM;
        else
            setvbuf(f->fp, NULL, _IOFBF, 1 << 16);
    }
    if (e) {
        if (f->fd >= 0 && f->tmp_path)
            unlink(f->tmp_path);
        reel_fail(err, "%s: cannot write: %s", f->path, strerror(e));
        release(f);
        return -1;
    }
    return 0;
}

void reel_outfile_abort(reel_outfile *f)
{
    if (f->fp && f->path) {
        fclose(f->fp); /* flushes into the temporary file, removed below */
        f->fp = NULL;
    }
    if (f->tmp_path)
        unlink(f->tmp_path);
    release(f);
}

/* Copies the kept bytes to the device or FIFO. */
static int stream_out(reel_outfile *f)
{
    if (lseek(f->fd, 0, SEEK_SET) != 0)
        return -1;
    /* O_NONBLOCK: a FIFO nobody reads fails (ENXIO) instead of waiting
     * for a reader forever; a reader starting beside us gets 3 s to open
     * it. The writes below block again. */
    int out = fault("stream", f->path) ? -1 : open(f->dest.target, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    for (int tries = 0; out < 0 && errno == ENXIO && tries < 300; tries++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        out = open(f->dest.target, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    }
    if (out < 0)
        return -1;
    int fl = fcntl(out, F_GETFL);
    if (fl >= 0)
        fcntl(out, F_SETFL, fl & ~O_NONBLOCK);
    char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(f->fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            rc = errno == EINTR ? 0 : -1;
            continue;
        }
        for (ssize_t done = 0; rc == 0 && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                rc = -1;
            else if (w > 0)
                done += w;
        }
    }
    int e = errno;
    close(out);
    errno = e;
    return rc;
}

static void sync_dir_of(const char *path)
{
    char *dir = reel_path_parent(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int reel_outfile_commit(reel_outfile *f, reel_error *err)
{
    if (!f->path) { /* a discarded copy (above): release closes it */
        release(f);
        return 0;
    }
    int flushed = fflush(f->fp) == 0 && !ferror(f->fp);
    int e = f->err_no ? f->err_no : flushed ? 0 : EIO;
    fclose(f->fp);
    f->fp = NULL;
    if (reel_interrupted()) {
        reel_fail(err, "%s: not written: %s", f->path, reel_interrupt_name());
        reel_outfile_abort(f);
        return -1;
    }
    if (!e && f->dest.kind == REEL_DEST_STREAM && stream_out(f) != 0)
        e = errno;
    if (!e && f->dest.kind != REEL_DEST_STREAM) {
        if (fault("sync", f->path) || fsync(f->fd) != 0)
            e = errno;
        else if (close(f->fd) != 0)
            e = errno;
        f->fd = -1;
        if (!e && (fault("rename", f->path) || rename(f->tmp_path, f->dest.target) != 0))
            e = errno;
        if (!e)
            sync_dir_of(f->dest.target);
    }
    if (e) {
        if (e == ENXIO && f->dest.kind == REEL_DEST_STREAM)
            reel_fail(err, "%s: a FIFO that nobody reads (start its reader first)", f->path);
        else
            reel_fail(err, "%s: write failed: %s", f->path, strerror(e));
        reel_outfile_abort(f);
        return -1;
    }
    if (f->slot >= 0) /* renamed: nothing left to remove */
        atomic_store(&g_tmp_state[f->slot], 0);
    f->slot = -1;
    release(f);
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

int reel_mkdir_p(const char *dir, reel_error *err)
{
    if (reel_outputs_discarded())
        return 0;
    char buf[PATH_MAX + 64];
    const char *shown = reel_outputs_shown(dir, buf, sizeof buf);
    char *p = strdup(dir);
    if (!p)
        return reel_fail(err, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                reel_fail(err, "%s: cannot create the folder: %s", p, strerror(e));
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
    return ok ? 0 : reel_fail(err, "%s: not a folder", shown);
}
