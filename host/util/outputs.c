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

#include "util/interrupt.h"
#include "util/outfile.h"

int reel_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void reel_run_files_init(reel_run_files *rf, const reel_log *log)
{
    memset(rf, 0, sizeof *rf);
    rf->log = log;
}

void reel_run_files_free(reel_run_files *rf)
{
    for (size_t i = 0; i < rf->n_in; i++)
        free(rf->in[i].path);
    for (size_t i = 0; i < rf->n_out; i++)
        free(rf->out[i].path);
    memset(rf, 0, sizeof *rf);
}

static int add(reel_run_file *list, size_t *n, const char *flag, const char *path, int folder, reel_error *err)
{
    if (*n == REEL_RUN_FILES_MAX)
        return reel_fail(err, "%s %s: too many files in one run", flag, path);
    reel_run_file *f = &list[*n];
    memset(f, 0, sizeof *f);
    f->flag = flag;
    f->folder = folder;
    if (!(f->path = strdup(path)))
        return reel_fail(err, "%s: out of memory", path);
    f->keyed = reel_file_key_of(path, &f->key) == 0;
    (*n)++;
    return 0;
}

/* Whether output `o` may be written beside file `f` of the same run. */
static int clash(const reel_run_file *o, const reel_run_file *f, int f_is_input, reel_error *err)
{
    if (o->keyed && f->keyed && reel_file_key_same(&o->key, &f->key)) {
        if (f_is_input)
            return reel_fail(err, "%s %s is the same file as the input %s (%s); writing it would replace the input",
                             o->flag, o->path, f->path, f->flag);
        return reel_fail(err, "%s %s is the same file as %s %s; each output needs its own file", o->flag, o->path,
                         f->flag, f->path);
    }
    /* a file inside an --out folder: the folder is replaced whole */
    const reel_run_file *dir = o->folder ? o : f->folder ? f : NULL, *file = dir == o ? f : o;
    if (dir && dir != file && dir->key.exists && !file->folder &&
        reel_file_key_inside(file->path, dir->key.dev, dir->key.ino))
        return reel_fail(err, "%s %s would hold %s (%s), but reel replaces the whole folder; name another",
                         dir->flag, dir->path, file->path, file->flag);
    return 0;
}

static int check_against_all(const reel_run_files *rf, const reel_run_file *o, reel_error *err)
{
    for (size_t i = 0; i < rf->n_in; i++)
        if (clash(o, &rf->in[i], 1, err))
            return -1;
    for (size_t i = 0; i < rf->n_out; i++)
        if (&rf->out[i] != o && clash(o, &rf->out[i], 0, err))
            return -1;
    return 0;
}

int reel_run_input(reel_run_files *rf, const char *flag, const char *path, reel_error *err)
{
    if (!path)
        return 0;
    if (add(rf->in, &rf->n_in, flag, path, 0, err))
        return -1;
    for (size_t i = 0; i < rf->n_out; i++) /* outputs named before it */
        if (clash(&rf->out[i], &rf->in[rf->n_in - 1], 1, err))
            return -1;
    return 0;
}

int reel_run_output_mkdir(reel_run_files *rf, const char *flag, const char *path, reel_error *err)
{
    if (!path)
        return 0;
    char *dir = reel_path_parent(path);
    reel_error e;
    int rc = !dir ? reel_fail(err, "%s: out of memory", path)
                  : reel_mkdir_p(dir, &e) ? reel_fail(err, "%s %s: %s", flag, path, e.msg) : 0;
    free(dir);
    return rc ? -1 : reel_run_output(rf, flag, path, err);
}

int reel_run_output(reel_run_files *rf, const char *flag, const char *path, reel_error *err)
{
    if (!path)
        return 0;
    if (add(rf->out, &rf->n_out, flag, path, 0, err))
        return -1;
    if (check_against_all(rf, &rf->out[rf->n_out - 1], err)) {
        free(rf->out[--rf->n_out].path);
        return -1;
    }
    reel_dest d;
    reel_error e;
    if (reel_dest_check(&d, path, &e)) {
        free(rf->out[--rf->n_out].path);
        return reel_fail(err, "%s %s", flag, e.msg);
    }
    if (d.kind == REEL_DEST_FILE && d.nlink > 1)
        reel_log_msg(rf->log, REEL_LOG_WARNING,
                     "%s %s has %lu other hard link%s; they keep the old contents (the new file replaces this "
                     "name only)", flag, path, d.nlink - 1, d.nlink > 2 ? "s" : "");
    reel_dest_free(&d);
    return 0;
}

int reel_run_output_folder(reel_run_files *rf, const char *flag, const char *path, reel_error *err)
{
    if (!path)
        return 0;
    reel_error e;
    if (reel_mkdir_p(path, &e))
        return reel_fail(err, "%s %s", flag, e.msg);
    if (add(rf->out, &rf->n_out, flag, path, 0, err))
        return -1;
    /* a folder written into, not replaced: it clashes only when it is a file of the run */
    if (check_against_all(rf, &rf->out[rf->n_out - 1], err)) {
        free(rf->out[--rf->n_out].path);
        return -1;
    }
    return 0;
}

/* ---- --out folders */

/* File names reel writes in an --out folder (and their temporary files). */
static int reel_output_name(const char *name)
{
    static const char *const exact[] = {"metrics.json", "predictions.csv", "report.html", "report.md",
                                        "search.json", "best_params.json", "selection.json"};
    if (reel_temp_name(name))
        return 1;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(name, exact[i]) == 0)
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

int reel_outdir_begin(reel_outdir *o, reel_run_files *rf, const char *target, reel_error *err)
{
    memset(o, 0, sizeof *o);
    if (check_replaceable(target, err))
        return -1;
    if (add(rf->out, &rf->n_out, "--out", target, 1, err))
        return -1;
    if (check_against_all(rf, &rf->out[rf->n_out - 1], err)) {
        free(rf->out[--rf->n_out].path);
        return -1;
    }
    if (reel_outputs_discarded()) { /* another process writes the outputs: no stage folder here */
        o->target = strdup(target);
        o->path = strdup(target);
        o->stage = strdup(target);
        return 0;
    }
    /* a link is kept: the folder it leads to is staged beside and replaced */
    int protected_ok = 1;
    o->path = reel_path_follow(target, &protected_ok);
    if (!o->path || !protected_ok) {
        free(o->path);
        o->path = NULL;
        return reel_fail(err, "--out %s: %s", target,
                         !protected_ok ? "a symbolic link in a shared sticky folder, owned by someone else; reel does "
                                         "not follow it (as the kernel's protected_symlinks rule would not)"
                         : errno == ELOOP ? "too many levels of symbolic links"
                                          : "out of memory");
    }
    char *parent = reel_path_parent(o->path), *base = reel_path_base(o->path);
    int rc = -1;
    if (!parent || !base || !(o->target = strdup(target))) {
        reel_fail(err, "--out %s: out of memory", target);
        goto done;
    }
    if (reel_mkdir_p(parent, err))
        goto done;
    /* ".NAME.reel-stage.PID"; a long NAME is cut, since the stage's name
     * only has to be unique and known to be ours */
    char prefix[96];
    snprintf(prefix, sizeof prefix, ".%.60s.reel-stage.", base);
    reel_remove_stale_dirs(parent, prefix);
    snprintf(prefix, sizeof prefix, ".%.60s.reel-old.", base);
    reel_remove_stale_dirs(parent, prefix);
    char name[128];
    snprintf(name, sizeof name, ".%.60s.reel-stage.%ld", base, (long)getpid());
    o->stage = reel_path_join(parent, name);
    if (!o->stage) {
        reel_fail(err, "--out %s: out of memory", target);
        goto done;
    }
    reel_remove_flat_dir(o->stage); /* ours from an earlier run of this pid: stale */
    if (mkdir(o->stage, 0777) != 0) {
        reel_fail(err, "--out %s: cannot write in %s: %s", target, parent, strerror(errno));
        goto done;
    }
    reel_outputs_stage_add(o->stage, target);
    rc = 0;
done:
    free(parent);
    free(base);
    if (rc) {
        free(o->target);
        free(o->path);
        free(o->stage);
        memset(o, 0, sizeof *o);
    }
    return rc;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

void reel_outdir_abort(reel_outdir *o)
{
    if (o->stage && !reel_outputs_discarded()) {
        reel_outputs_stage_remove(o->stage);
        reel_remove_flat_dir(o->stage);
    }
    free(o->target);
    free(o->path);
    free(o->stage);
    memset(o, 0, sizeof *o);
}

int reel_outdir_commit(reel_outdir *o, reel_error *err)
{
    if (reel_outputs_discarded()) {
        reel_outdir_abort(o);
        return 0;
    }
    if (reel_interrupted()) {
        reel_fail(err, "--out %s: not written: %s", o->target, reel_interrupt_name());
        reel_outdir_abort(o);
        return -1;
    }
    if (check_replaceable(o->target, err)) { /* something else came meanwhile: leave it be */
        reel_outdir_abort(o);
        return -1;
    }
    sync_dir(o->stage);
    struct stat st;
    int rc = 0;
    if (stat(o->path, &st) != 0) {
        if (rename(o->stage, o->path) != 0)
            rc = reel_fail(err, "--out %s: cannot move the run's folder into place: %s", o->target, strerror(errno));
    } else if (renameat2(AT_FDCWD, o->stage, AT_FDCWD, o->path, RENAME_EXCHANGE) == 0) {
        /* the stage path now holds the previous run's folder */
    } else if (errno == EINVAL || errno == ENOSYS) {
        /* no atomic exchange on this file system: two renames, the old kept until the new is in place */
        char *parent = reel_path_parent(o->path), *base = reel_path_base(o->path), *old = NULL;
        if (parent && base) {
            char name[128];
            snprintf(name, sizeof name, ".%.60s.reel-old.%ld", base, (long)getpid());
            old = reel_path_join(parent, name);
        }
        if (!old || rename(o->path, old) != 0)
            rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
        else if (rename(o->stage, o->path) != 0) {
            rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
            rename(old, o->path);
        } else {
            reel_remove_flat_dir(old);
        }
        free(parent);
        free(base);
        free(old);
    } else {
        rc = reel_fail(err, "--out %s: cannot replace the folder: %s", o->target, strerror(errno));
    }
    char *parent = reel_path_parent(o->path);
    if (parent)
        sync_dir(parent);
    free(parent);
    reel_outdir_abort(o); /* removes the previous run's folder, or our stage on failure */
    return rc;
}
