/* The search journal (tune/journal.h): each record carries a checksum and
 * every number is range-checked, so a changed or damaged record is
 * refused naming the file and line; the identity holds the contents of the
 * run's files (issue 35 item 7, issue 28 item 4). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tune/journal.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "util/outfile.h"

static cJSON *identity(void) { return cJSON_Parse("{\"model\": \"tree\", \"seed\": 3}"); }

/* A journal of three trials at path. */
static void write_three(const char *path)
{
    reel_journal j;
    reel_error err;
    remove(path);
    cr_assert_eq(reel_journal_open(&j, path, identity(), 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        cJSON *params = cJSON_CreateObject();
        cJSON_AddNumberToObject(params, "max_depth", i + 2);
        reel_trial t = {.params = params, .score = 0.5 + 0.1 * i, .score_std = 0.01, .plain = 0.4,
                        .plain_std = 0.02, .seconds = 1.5};
        cr_assert_eq(reel_journal_add(&j, &t, &err), 0, "%s", err.msg);
        cJSON_Delete(params);
    }
    reel_journal_free(&j);
}

/* Resumes path: 0 with the trials read, or -1 with the message. */
static int resume(const char *path, size_t *n, reel_error *err)
{
    reel_journal j;
    if (reel_journal_open(&j, path, identity(), 1, err))
        return -1;
    *n = j.resumed;
    reel_journal_free(&j);
    return 0;
}

/* Replaces the first `from` on line `line` of path with `to`. */
static void edit_line(const char *path, int line, const char *from, const char *to)
{
    char *text = reel_read_file(path, NULL, NULL), *at = text;
    cr_assert(text);
    for (int i = 1; i < line; i++)
        at = strchr(at, '\n') + 1;
    char *hit = strstr(at, from);
    cr_assert(hit && hit < strchr(at, '\n'), "no '%s' on line %d", from, line);
    size_t cap = strlen(text) + strlen(to) + 1;
    char *out = malloc(cap);
    snprintf(out, cap, "%.*s%s%s", (int)(hit - text), text, to, hit + strlen(from));
    cr_assert_eq(reel_write_file_atomic(path, out, NULL), 0);
    free(out);
    free(text);
}

Test(journal, its_trials_read_back)
{
    const char *path = tmp_path("j_ok.json");
    write_three(path);
    size_t n = 0;
    reel_error err;
    cr_expect_eq(resume(path, &n, &err), 0, "%s", err.msg);
    cr_expect_eq(n, 3);
}

Test(journal, a_changed_digit_is_refused_naming_the_line)
{
    const char *path = tmp_path("j_digit.json");
    write_three(path);
    edit_line(path, 3, "\"score\":0.6", "\"score\":0.7"); /* the second trial */
    size_t n;
    reel_error err;
    cr_expect_neq(resume(path, &n, &err), 0);
    cr_expect(strstr(err.msg, "j_digit.json:3") && strstr(err.msg, "checksum"), "%s", err.msg);
}

/* Forges the first trial record of path (line 2): `from` replaced with
 * `to`, its checksum recomputed. */
static void forge(const char *path, const char *from, const char *to)
{
    char *text = reel_read_file(path, NULL, NULL);
    cr_assert(text);
    char *line2 = strchr(text, '\n') + 1, *check = strstr(line2, ", \"check\": \"");
    cr_assert(check);
    char body[1024], forged[1024];
    snprintf(body, sizeof body, "%.*s", (int)(check - line2), line2);
    char *hit = strstr(body, from);
    cr_assert(hit, "no '%s' in %s", from, body);
    snprintf(forged, sizeof forged, "%.*s%s%s", (int)(hit - body), body, to, hit + strlen(from));
    char out[4096];
    const char *rest = strstr(check, "\"}") + 2; /* the comma, the newline and the lines after */
    snprintf(out, sizeof out, "%.*s%s, \"check\": \"%016" PRIx64 "\"}%s", (int)(line2 - text), text, forged,
             reel_fnv1a(REEL_FNV_START, forged, strlen(forged)), rest);
    free(text);
    cr_assert_eq(reel_write_file_atomic(path, out, NULL), 0);
}

Test(journal, a_score_out_of_range_is_refused_even_with_its_checksum)
{
    const char *path = tmp_path("j_range.json");
    write_three(path);
    forge(path, "\"score\":0.5", "\"score\":7.5");
    size_t n;
    reel_error err;
    cr_expect_neq(resume(path, &n, &err), 0);
    cr_expect(strstr(err.msg, "j_range.json:2") && strstr(err.msg, "score") && strstr(err.msg, "out of range"), "%s",
              err.msg);
}

/* nets_per_launch travels in the journal (a resumed search reports the
 * rounds of an uninterrupted one): a whole count, refused otherwise; a
 * journal written before it was still reads */
Test(journal, nets_per_launch_is_a_whole_count)
{
    const char *path = tmp_path("j_npl.json");
    write_three(path);
    forge(path, "\"nets_per_launch\":0", "\"nets_per_launch\":2.5");
    size_t n;
    reel_error err;
    cr_expect_neq(resume(path, &n, &err), 0);
    cr_expect(strstr(err.msg, "j_npl.json:2") && strstr(err.msg, "nets_per_launch"), "%s", err.msg);
    write_three(path);
    forge(path, ",\"nets_per_launch\":0", "");
    cr_expect_eq(resume(path, &n, &err), 0, "%s", err.msg);
    cr_expect_eq(n, 3);
}

Test(journal, a_cut_journal_is_refused)
{
    const char *path = tmp_path("j_cut.json");
    write_three(path);
    char *text = reel_read_file(path, NULL, NULL);
    cr_assert(text);
    *strstr(text, "\n]}") = '\0';
    cr_assert_eq(reel_write_file_atomic(path, text, NULL), 0);
    free(text);
    size_t n;
    reel_error err;
    cr_expect_neq(resume(path, &n, &err), 0);
    cr_expect(strstr(err.msg, "ends early"), "%s", err.msg);
}

Test(journal, the_identity_holds_the_contents_of_the_files)
{
    const char *data = tmp_write("j_data.csv", "a,A\n1,0\n2,1\n");
    const char *flags[] = {"data"}, *paths[] = {data};
    cJSON *a = identity(), *b = identity();
    reel_error err;
    cr_assert_eq(reel_journal_identity_files(a, flags, paths, 1, &err), 0, "%s", err.msg);
    tmp_write("j_data.csv", "a,A\n1,1\n2,0\n"); /* same size and shape, other values */
    cr_assert_eq(reel_journal_identity_files(b, flags, paths, 1, &err), 0, "%s", err.msg);
    cr_expect(!cJSON_Compare(a, b, 1), "the identity did not change with the data");
    cJSON_Delete(a);
    cJSON_Delete(b);
}
