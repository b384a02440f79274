/* The output layer (util/outfile.h, util/outputs.h) on its own: what a
 * destination is decides how it is written, every output of a run is
 * checked against its inputs and other outputs, and a failed or
 * interrupted write leaves the destination as it was (issue 35 items 1-3,
 * issue 28 item 1). reel_outfile_fault is the hook the fault suite grows
 * from: it makes one step of a write fail. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/outputs.h"

static char *slurp(const char *path)
{
    return reel_read_file(path, NULL, NULL);
}

/* Entries of the test folder that are reel's temporary files. */
static int temps_left(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -c '^\\.reel-' >/dev/null", dir);
    return system(cmd) == 0;
}

Test(outfile, a_regular_file_is_replaced_keeping_its_mode)
{
    const char *p = tmp_write("mode.txt", "old\n");
    cr_assert_eq(chmod(p, 0600), 0);
    reel_error err;
    cr_assert_eq(reel_write_file_atomic(p, "new\n", &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0600, "a 0600 file became %04o", (unsigned)(st.st_mode & 07777));
    char *text = slurp(p);
    cr_expect_str_eq(text, "new\n");
    free(text);
    cr_expect(!temps_left(tmp_path("")), "a temporary file was left");
}

Test(outfile, a_symlink_is_followed_and_its_target_replaced)
{
    const char *target = tmp_write("target.txt", "old\n"), *link_path = tmp_path("link.txt");
    remove(link_path);
    cr_assert_eq(symlink("target.txt", link_path), 0);
    reel_error err;
    cr_assert_eq(reel_write_file_atomic(link_path, "new\n", &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(lstat(link_path, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
    char *text = slurp(target);
    cr_expect_str_eq(text, "new\n", "the link's target was left stale");
    free(text);
}

Test(outfile, character_devices_and_fifos_are_written_through)
{
    /* a link to /dev/null: written through, the link and the device stay */
    const char *null_link = tmp_path("null_link");
    remove(null_link);
    cr_assert_eq(symlink("/dev/null", null_link), 0);
    reel_error err;
    cr_expect_eq(reel_write_file_atomic(null_link, "gone\n", &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(lstat(null_link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link to /dev/null was replaced");
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_expect(S_ISCHR(st.st_mode));

    /* /dev/full (through a link, so that a broken build cannot replace the
     * system's node): the device says the disk is full, named */
    const char *full = tmp_path("full_link");
    remove(full);
    cr_assert_eq(symlink("/dev/full", full), 0);
    cr_expect_neq(reel_write_file_atomic(full, "x\n", &err), 0);
    cr_expect(strstr(err.msg, full) && strstr(err.msg, "No space"), "%s", err.msg);

    /* a FIFO: a reader gets the bytes, the FIFO stays a FIFO */
    const char *fifo = tmp_path("fifo"), *got = tmp_path("fifo_got.txt");
    remove(fifo);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cat %s > %s", fifo, got);
        _exit(system(cmd) == 0 ? 0 : 1);
    }
    cr_expect_eq(reel_write_file_atomic(fifo, "through the pipe\n", &err), 0, "%s", err.msg);
    int status;
    waitpid(pid, &status, 0);
    char *text = slurp(got);
    cr_expect(text && strcmp(text, "through the pipe\n") == 0, "the reader got '%s'", text ? text : "(nothing)");
    free(text);
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced by a file");
}

Test(outfile, other_kinds_are_refused_by_name)
{
    reel_error err;
    const char *dir = tmp_path("a_folder");
    mkdir(dir, 0777);
    cr_expect_neq(reel_write_file_atomic(dir, "x", &err), 0);
    cr_expect(strstr(err.msg, dir) && strstr(err.msg, "is a folder"), "%s", err.msg);
    struct stat st;
    cr_expect(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
}

/* Runs fn in a child as an unprivileged user when we are root (root may
 * write any file, so the refusal is what a user sees); returns its exit code. */
static int as_user(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(99);
        _exit(fn());
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

static const char *g_readonly;

static int write_readonly(void)
{
    reel_error err;
    int rc = reel_write_file_atomic(g_readonly, "new\n", &err);
    return rc == 0 ? 1 : strstr(err.msg, "not writable") && strstr(err.msg, "0444") ? 0 : 2;
}

Test(outfile, a_file_the_user_may_not_write_is_refused)
{
    const char *dir = tmp_path("ro_dir");
    mkdir(dir, 0777);
    chmod(dir, 0777); /* the folder is writable: only the file's mode says no */
    chmod(tmp_path(""), 0755);
    char *p = reel_path_join(dir, "ro.txt");
    FILE *fp = fopen(p, "w");
    cr_assert(fp);
    fputs("old\n", fp);
    fclose(fp);
    cr_assert_eq(chmod(p, 0444), 0);
    if (geteuid() == 0)
        cr_assert_eq(chown(p, 0, 0), 0);
    g_readonly = p;
    cr_expect_eq(as_user(write_readonly), 0, "a 0444 file was replaced (1) or refused with another message (2)");
    char *text = slurp(p);
    cr_expect_str_eq(text, "old\n");
    free(text);
    free(p);
}

Test(outfile, a_long_name_is_written)
{
    char name[249];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const char *p = tmp_path(name);
    reel_error err;
    cr_expect_eq(reel_write_file_atomic(p, "long\n", &err), 0, "%s", err.msg);
    cr_expect(file_exists(p));
}

static int fail_write(const char *step, const char *dest)
{
    (void)dest;
    return strcmp(step, "write") == 0 ? EIO : 0;
}

static int fail_rename(const char *step, const char *dest)
{
    (void)dest;
    return strcmp(step, "rename") == 0 ? EIO : 0;
}

Test(outfile, a_failed_write_names_the_destination_and_leaves_it)
{
    const char *p = tmp_write("kept.txt", "old\n");
    reel_error err;
    int (*faults[])(const char *, const char *) = {fail_write, fail_rename};
    for (int i = 0; i < 2; i++) {
        reel_outfile_fault = faults[i];
        cr_expect_neq(reel_write_file_atomic(p, "new\n", &err), 0);
        reel_outfile_fault = NULL;
        cr_expect(strstr(err.msg, p) && strstr(err.msg, "Input/output error"), "%s", err.msg);
        char *text = slurp(p);
        cr_expect_str_eq(text, "old\n");
        free(text);
        cr_expect(!temps_left(tmp_path("")), "a temporary file was left");
    }
    /* in an --out folder's stage, the message names the folder the user gave */
    const char *stage = tmp_path(".shown.reel-stage.1");
    mkdir(stage, 0777);
    cr_assert_eq(reel_outputs_stage_add(stage, "shown"), 0);
    char *inside = reel_path_join(stage, "report.md");
    reel_outfile_fault = fail_write;
    cr_expect_neq(reel_write_file_atomic(inside, "x", &err), 0);
    reel_outfile_fault = NULL;
    cr_expect(strstr(err.msg, "shown/report.md") && !strstr(err.msg, "reel-stage"), "%s", err.msg);
    reel_outputs_stage_remove(stage);
    free(inside);
}

Test(outfile, an_interrupt_before_commit_leaves_the_destination)
{
    const char *p = tmp_write("interrupted.txt", "old\n");
    reel_interrupt_install();
    raise(SIGTERM);
    reel_error err;
    cr_expect_neq(reel_write_file_atomic(p, "new\n", &err), 0);
    cr_expect(strstr(err.msg, p) && strstr(err.msg, "SIGTERM"), "%s", err.msg);
    cr_expect_eq(reel_interrupt_exit_code(), 128 + SIGTERM);
    reel_interrupt_clear();
    char *text = slurp(p);
    cr_expect_str_eq(text, "old\n");
    free(text);
    cr_expect(!temps_left(tmp_path("")), "a temporary file was left");
}

static int write_past_the_limit(void)
{
    struct rlimit rl = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 3;
    reel_interrupt_install(); /* ignores SIGXFSZ */
    char *big = malloc(65536);
    memset(big, 'x', 65535);
    big[65535] = '\0';
    reel_error err;
    int rc = reel_write_file_atomic(tmp_path("big.txt"), big, &err);
    free(big);
    return rc == 0 ? 1 : strstr(err.msg, "big.txt") && strstr(err.msg, "File too large") ? 0 : 2;
}

Test(outfile, past_ulimit_f_the_write_fails_with_a_message)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(write_past_the_limit());
    int status;
    waitpid(pid, &status, 0);
    cr_expect(WIFEXITED(status), "killed by signal %d (SIGXFSZ is %d)", WTERMSIG(status), SIGXFSZ);
    cr_expect_eq(WEXITSTATUS(status), 0, "1: written past the limit, 2: another message");
    cr_expect(!file_exists(tmp_path("big.txt")));
    cr_expect(!temps_left(tmp_path("")), "a temporary file was left");
}

Test(run_files, outputs_are_checked_against_inputs_and_each_other)
{
    const char *data = tmp_write("rf.csv", "a,b\n1,2\n");
    reel_run_files rf;
    reel_error err;
    reel_run_files_init(&rf, NULL);
    cr_assert_eq(reel_run_input(&rf, "--data", data, &err), 0);
    /* a journal over the data */
    cr_expect_neq(reel_run_output(&rf, "--journal", data, &err), 0);
    cr_expect(strstr(err.msg, "--journal") && strstr(err.msg, "same file as the input"), "%s", err.msg);
    /* two outputs on one name that does not exist yet, one through a symlink */
    const char *ck = tmp_path("rf.ckpt"), *alias = tmp_path("rf_alias.ckpt");
    remove(ck);
    remove(alias);
    cr_assert_eq(symlink("rf.ckpt", alias), 0);
    cr_expect_eq(reel_run_output(&rf, "--checkpoint", ck, &err), 0, "%s", err.msg);
    cr_expect_neq(reel_run_output(&rf, "--save", alias, &err), 0);
    cr_expect(strstr(err.msg, "--save") && strstr(err.msg, "--checkpoint"), "%s", err.msg);
    /* a file in an --out folder, which is replaced whole */
    const char *out = tmp_path("rf_out");
    mkdir(out, 0777);
    char *inside = reel_path_join(out, "m.model");
    reel_outdir od;
    cr_expect_eq(reel_run_output(&rf, "--save", inside, &err), 0, "%s", err.msg);
    cr_expect_neq(reel_outdir_begin(&od, &rf, out, &err), 0);
    cr_expect(strstr(err.msg, "replaces the whole folder"), "%s", err.msg);
    /* a folder where a file is wanted */
    cr_expect_neq(reel_run_output(&rf, "--journal", out, &err), 0);
    cr_expect(strstr(err.msg, "--journal") && strstr(err.msg, "is a folder"), "%s", err.msg);
    free(inside);
    reel_run_files_free(&rf);
}

static char g_logged[1024];
static void keep(void *user, reel_log_level level, const char *msg, const reel_progress *p)
{
    (void)user;
    (void)level;
    (void)p;
    snprintf(g_logged, sizeof g_logged, "%s", msg);
}

Test(run_files, a_hard_link_detached_is_said)
{
    const char *p = tmp_write("hl.txt", "old\n"), *other = tmp_path("hl_other.txt");
    remove(other);
    cr_assert_eq(link(p, other), 0);
    reel_log log = {keep, NULL, REEL_LOG_INFO};
    reel_run_files rf;
    reel_error err;
    reel_run_files_init(&rf, &log);
    g_logged[0] = '\0';
    cr_expect_eq(reel_run_output(&rf, "--save", p, &err), 0, "%s", err.msg);
    cr_expect(strstr(g_logged, "1 other hard link"), "said: '%s'", g_logged);
    reel_run_files_free(&rf);
}

/* A second signal ends the process at once, removing the temporary files
 * and stage folders of the outputs being written. */
static int killed_while_writing(void)
{
    reel_interrupt_install();
    reel_outfile f;
    reel_error err;
    if (reel_outfile_open(&f, tmp_path("second.txt"), &err))
        return 3;
    fputs("half", f.fp);
    fflush(f.fp);
    const char *stage = tmp_path(".second_out.reel-stage.1");
    mkdir(stage, 0777);
    char *inside = reel_path_join(stage, "metrics.json");
    FILE *fp = fopen(inside, "w");
    if (!fp)
        return 4;
    fputs("{}", fp);
    fclose(fp);
    reel_outputs_stage_add(stage, "second_out");
    raise(SIGINT);
    raise(SIGINT); /* ends here */
    return 5;
}

Test(outfile, a_second_signal_removes_temporary_files_and_stages)
{
    int rc = run_in_child(killed_while_writing);
    cr_expect_eq(rc, 130, "exit %d", rc);
    cr_expect(!temps_left(tmp_path("")), "a temporary file was left");
    cr_expect(!file_exists(tmp_path(".second_out.reel-stage.1")), "the stage folder was left");
    cr_expect(!file_exists(tmp_path("second.txt")));
}

