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

/* rows rows, two numeric features, two labels. */
static const char *write_data(const char *name, int rows)
{
    size_t cap = (size_t)rows * 40 + 64;
    char *csv = malloc(cap);
    strcpy(csv, "name,a,b,A,B\n");
    size_t at = strlen(csv);
    unsigned s = 11;
    for (int i = 0; i < rows; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 100;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 100;
        at += (size_t)snprintf(csv + at, cap - at, "f%d,%d,%d,%d,%d\n", i, a, b, a > 50, b > 40 || a <= 50);
    }
    const char *p = tmp_write(name, csv);
    free(csv);
    return p;
}

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
