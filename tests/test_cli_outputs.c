/* End to end: every output of a command goes through the output layer
 * (util/outfile.h, util/outputs.h), checked before any work, and an
 * interrupted or killed run commits nothing (issue 35, issue 28 item 1). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "util/fileio.h"

static const char *write_data(const char *name, int rows) { return tmp_write_two_features(name, rows, 11); }

static int reel(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reel(char **err, const char *fmt, ...)
{
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out = NULL, *e = NULL;
    int rc = run_reel(args, &out, &e);
    free(out);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

Test(cli_outputs, a_symlink_to_a_device_is_written_through)
{
    const char *csv = write_data("dev.csv", 120), *link_path = tmp_path("to_null");
    remove(link_path);
    cr_assert_eq(symlink("/dev/null", link_path), 0);
    char *err;
    cr_expect_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, link_path), 0, "%s",
                 err);
    free(err);
    struct stat st;
    cr_assert_eq(lstat(link_path, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "--save replaced the link to /dev/null with a file");
    /* /dev/full (through a link: were it replaced, the system's node would
     * be safe): the write fails, named */
    const char *full = tmp_path("to_full");
    remove(full);
    cr_assert_eq(symlink("/dev/full", full), 0);
    cr_expect_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, full), 1);
    cr_expect(err && strstr(err, full) && strstr(err, "No space"), "%s", err);
    free(err);
    cr_assert_eq(lstat(full, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "--save replaced the link to /dev/full with a file");
}

Test(cli_outputs, a_replaced_model_keeps_its_mode)
{
    const char *csv = write_data("mode.csv", 120), *model = tmp_path("mode.model");
    char *err;
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, model), 0, "%s",
                 err);
    free(err);
    cr_assert_eq(chmod(model, 0600), 0);
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, model), 0, "%s",
                 err);
    free(err);
    struct stat st;
    cr_assert_eq(stat(model, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "a 0600 model became %04o", (unsigned)(st.st_mode & 0777));
}

Test(cli_outputs, a_journal_or_checkpoint_over_another_file_is_refused)
{
    const char *csv = write_data("jr.csv", 120), *grid = tmp_write("jr_grid.json", "{\"threshold\": [0.2, 0.4]}");
    char *before = reel_read_file(csv, NULL, NULL), *gbefore = reel_read_file(grid, NULL, NULL), *err;
    cr_expect_eq(reel(&err, "search --model prior --data %s --labels A,B --quiet --journal %s", csv, csv), 1);
    cr_expect(err && strstr(err, "--journal") && strstr(err, "same file as the input"), "%s", err);
    free(err);
    cr_expect_eq(reel(&err, "search --model prior --data %s --labels A,B --quiet --grid %s --journal %s", csv, grid,
                      grid), 1);
    cr_expect(err && strstr(err, "same file as the input"), "%s", err);
    free(err);
    char *after = reel_read_file(csv, NULL, NULL), *gafter = reel_read_file(grid, NULL, NULL);
    cr_expect(after && strcmp(after, before) == 0, "the data was replaced");
    cr_expect(gafter && strcmp(gafter, gbefore) == 0, "the grid was replaced");
    free(before);
    free(after);
    free(gbefore);
    free(gafter);
    /* the checkpoint and the model on one file (neither there yet) */
    const char *ck = tmp_path("same.ckpt");
    remove(ck);
    cr_expect_eq(reel(&err, "train --model box --epochs 1 --data %s --labels A,B --quiet --checkpoint %s --save %s",
                      csv, ck, ck), 1);
    cr_expect(err && strstr(err, "--save") && strstr(err, "--checkpoint"), "%s", err);
    free(err);
    cr_expect(!file_exists(ck));
}

Test(cli_outputs, every_destination_is_checked_before_the_first_fit)
{
    const char *csv = write_data("first.csv", 120), *dir = tmp_path("journal_dir");
    mkdir(dir, 0777);
    char *err;
    cr_expect_eq(reel(&err, "search --model prior --data %s --labels A,B --journal %s", csv, dir), 1);
    cr_expect(err && strstr(err, "--journal") && strstr(err, "is a folder"), "%s", err);
    cr_expect(err && !strstr(err, "scored by"), "the search started before the journal was checked: %s", err);
    free(err);
}

Test(cli_outputs, a_long_save_name_is_written)
{
    const char *csv = write_data("long.csv", 120);
    char name[249];
    memset(name, 'm', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const char *model = tmp_path(name);
    char *err;
    cr_expect_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, model), 0, "%s",
                 err);
    free(err);
    cr_expect(file_exists(model));
}

/* ---- Interrupts and signals (issue 35 items 4-6) */

/* Starts `reel ARGS` in the background (stderr kept in bg_err.txt); the
 * signal `ignore` (0: none) is ignored in it from the start, as nohup does. */
static pid_t start_reel(const char *args, int ignore)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (ignore)
            signal(ignore, SIG_IGN);
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "exec %s %s >/dev/null 2>%s", test_reel_binary(), args, tmp_path("bg_err.txt"));
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Waits up to 30 s for path to exist. */
static int wait_for(const char *path)
{
    for (int i = 0; i < 3000; i++) {
        if (file_exists(path))
            return 1;
        nap(0.01);
    }
    return 0;
}

/* The exit code (128 + n when killed by signal n), or -1 when it ran past
 * `limit` seconds (it is then killed). */
static int wait_exit(pid_t pid, double limit)
{
    int status;
    for (double t = 0; t < limit; t += 0.02) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nap(0.02);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static char *stage_of(const char *out, pid_t pid)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/.%s.reel-stage.%ld", tmp_path(""), out, (long)pid);
    return path;
}

/* A forest of many trees, stopped by sig once it fits: the run ends soon,
 * with 128 + sig, and --save and --out are as they were. */
static void forest_stopped_by(int sig, const char *tag)
{
    char name[64];
    snprintf(name, sizeof name, "sig_%s.csv", tag);
    const char *csv = write_data(name, 2000), *params = tmp_write("many_trees.json", "{\"n_estimators\": 100000}");
    snprintf(name, sizeof name, "sig_%s.model", tag);
    char model[600], out[64];
    snprintf(model, sizeof model, "%s", tmp_path(name));
    snprintf(out, sizeof out, "sig_%s_out", tag);
    char *err;
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s --out %s", csv, model,
                      tmp_path(out)), 0, "%s", err);
    free(err);
    char *before = reel_read_file(model, NULL, NULL);
    char args[4096];
    snprintf(args, sizeof args, "train --model forest --params %s --threads 1 --data %s --labels A,B --save %s --out %s",
             params, csv, model, tmp_path(out));
    pid_t pid = start_reel(args, 0);
    cr_assert(wait_for(stage_of(out, pid)), "the run never staged its --out folder");
    nap(0.3); /* into the fit */
    kill(pid, sig);
    int rc = wait_exit(pid, 15);
    char *bg = reel_read_file(tmp_path("bg_err.txt"), NULL, NULL);
    cr_expect_eq(rc, 128 + sig, "exit %d after signal %d (-1: still fitting 15 s later): %s", rc, sig, bg);
    free(bg);
    char *after = reel_read_file(model, NULL, NULL);
    cr_expect(before && after && strcmp(before, after) == 0, "--save was replaced");
    char *metrics = reel_path_join(tmp_path(out), "metrics.json");
    cr_expect(file_exists(metrics), "the earlier --out folder is gone");
    cr_expect(!file_exists(stage_of(out, pid)), "the stage folder was left");
    free(metrics);
    free(before);
    free(after);
}

Test(cli_signals, ctrl_c_stops_a_classical_fit_and_commits_nothing)
{
    forest_stopped_by(SIGINT, "int");
}

Test(cli_signals, sigterm_and_sighup_are_handled_like_ctrl_c)
{
    forest_stopped_by(SIGTERM, "term");
    forest_stopped_by(SIGHUP, "hup");
}

Test(cli_signals, a_signal_the_parent_ignores_stays_ignored)
{
    const char *csv = write_data("ign.csv", 2000), *params = tmp_write("ign_trees.json", "{\"n_estimators\": 300}");
    const char *model = tmp_path("ign.model");
    remove(model);
    char args[4096];
    snprintf(args, sizeof args, "train --model forest --params %s --data %s --labels A,B --quiet --save %s --out %s",
             params, csv, model, tmp_path("ign_out"));
    pid_t pid = start_reel(args, SIGHUP);
    cr_assert(wait_for(stage_of("ign_out", pid)), "the run never staged its --out folder");
    kill(pid, SIGHUP);
    cr_expect_eq(wait_exit(pid, 60), 0, "an ignored SIGHUP stopped the run");
    cr_expect(file_exists(model));
}

Test(cli_signals, an_interrupted_compare_keeps_the_old_out_folder)
{
    const char *csv = write_data("cmp_int.csv", 2000), *out = "cmp_int_out";
    const char *params = tmp_write("cmp_int.json", "{\"box\": {\"ensemble\": 1, \"patience\": 100000, \"epochs\": "
                                                   "100000, \"layers\": [{\"width\": 8}]}}");
    char *err;
    cr_assert_eq(reel(&err, "compare --models prior --data %s --labels A,B --quiet --out %s", csv, tmp_path(out)), 0,
                 "%s", err);
    free(err);
    char args[4096];
    snprintf(args, sizeof args, "compare --models prior,box --params %s --data %s --labels A,B --out %s", params,
             csv, tmp_path(out));
    pid_t pid = start_reel(args, 0);
    cr_assert(wait_for(stage_of(out, pid)), "the run never staged its --out folder");
    int training = 0; /* prior is done; box trains */
    for (int i = 0; i < 3000 && !training; i++) {
        char *so_far = reel_read_file(tmp_path("bg_err.txt"), NULL, NULL);
        training = so_far && strstr(so_far, "[2/2] box");
        free(so_far);
        nap(0.01);
    }
    cr_assert(training, "box never started");
    nap(0.5);
    kill(pid, SIGINT);
    int rc = wait_exit(pid, 30);
    char *bg = reel_read_file(tmp_path("bg_err.txt"), NULL, NULL);
    cr_expect_eq(rc, 130, "exit %d: %s", rc, bg);
    cr_expect(bg && !strstr(bg, "wrote"), "%s", bg);
    free(bg);
    char *box_preds = reel_path_join(tmp_path(out), "predictions_box.csv"),
         *prior_preds = reel_path_join(tmp_path(out), "predictions_prior.csv");
    cr_expect(file_exists(prior_preds) && !file_exists(box_preds), "the --out folder was replaced");
    free(box_preds);
    free(prior_preds);
}

/* ---- The search journal (issue 28 item 4, issue 35 item 7) */

Test(cli_journal, resume_refuses_a_journal_after_the_data_changed)
{
    const char *csv = write_data("jd.csv", 200), *journal = tmp_path("jd.journal");
    remove(journal);
    char *err;
    cr_assert_eq(reel(&err, "search --model tree --data %s --labels A,B --quiet --journal %s", csv, journal), 0, "%s",
                 err);
    free(err);
    tmp_write_two_features("jd.csv", 200, 12); /* the same path, shape and names; other values */
    cr_expect_eq(reel(&err, "search --model tree --data %s --labels A,B --quiet --journal %s --resume", csv, journal),
                 1);
    cr_expect(err && strstr(err, "holds another search (its content differs)"), "%s", err);
    free(err);
}

Test(cli_journal, a_changed_record_is_refused_naming_the_line)
{
    const char *csv = write_data("jl.csv", 200), *journal = tmp_path("jl.journal");
    remove(journal);
    char *err;
    cr_assert_eq(reel(&err, "search --model tree --data %s --labels A,B --quiet --journal %s", csv, journal), 0, "%s",
                 err);
    free(err);
    char *text = reel_read_file(journal, NULL, NULL);
    cr_assert(text);
    char *score = strstr(text, "\"score\":0.");
    cr_assert(score);
    score[10] = score[10] == '9' ? '8' : (char)(score[10] + 1); /* one digit of a trial's score */
    int line = 1;
    for (const char *c = text; c < score; c++)
        line += *c == '\n';
    char where[64];
    snprintf(where, sizeof where, "jl.journal:%d:", line);
    FILE *fp = fopen(journal, "w");
    cr_assert(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    cr_expect_eq(reel(&err, "search --model tree --data %s --labels A,B --quiet --journal %s --resume", csv, journal),
                 1);
    cr_expect(err && strstr(err, where) && strstr(err, "checksum"), "%s (%s expected)", err, where);
    free(err);
}

Test(cli_signals, past_ulimit_f_the_save_fails_with_a_message)
{
    const char *csv = write_data("fsize.csv", 500), *model = tmp_path("fsize.model");
    remove(model);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ulimit -f 8; exec %s train --model forest --data %s --labels A,B --quiet --save %s "
             "2>%s", test_reel_binary(), csv, model, tmp_path("fsize_err.txt"));
    int status = system(cmd);
    char *err = reel_read_file(tmp_path("fsize_err.txt"), NULL, NULL);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d: %s", status, err);
    cr_expect(err && strstr(err, model) && strstr(err, "File too large"), "%s", err);
    free(err);
    cr_expect(!file_exists(model));
    char ls[700];
    snprintf(ls, sizeof ls, "ls -A %s | grep -q '^\\.reel-'", tmp_path(""));
    cr_expect(system(ls) != 0, "a temporary file was left");
}
