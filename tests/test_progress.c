/* Progress on stderr (issue 34): every ensemble member's epochs reach the
 * log with which member it is; the CLI shows them as plain lines (not a
 * terminal, --verbose) or as one line per model rewritten in place
 * (cli/progress.c, fed here directly and through REEL_PROGRESS=line). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/progress.h"
#include "util/log.h"
#include "helpers.h"

/* ---- the renderer, fed records, its bytes read back ---- */

static FILE *sink;

static void open_sink(reel_show_mode mode)
{
    sink = tmpfile();
    cr_assert(sink);
    reel_cli_progress_set(mode, sink);
}

/* What the renderer wrote (freed by the caller); it is set back to plain on stderr. */
static char *take_sink(void)
{
    reel_cli_progress_set(REEL_SHOW_PLAIN, NULL);
    long n = ftell(sink);
    char *s = calloc((size_t)n + 1, 1);
    rewind(sink);
    cr_assert_eq(fread(s, 1, (size_t)n, sink), (size_t)n);
    fclose(sink);
    return s;
}

static void epoch(const char *model, long member, long members, long done, long total, double loss, double f1)
{
    reel_progress p = {.kind = REEL_PROGRESS_EPOCH, .model = model, .done = done, .total = total, .loss = loss,
                       .valid_loss = NAN, .valid_f1 = f1, .score = NAN, .samples_per_s = 100, .elapsed_s = 0.5,
                       .eta_s = done >= total ? 0 : 1, .member = member, .members = members};
    reel_cli_progress_show(REEL_LOG_INFO, "(the library's plain line)", &p);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *q = strstr(s, what); q; q = strstr(q + strlen(what), what))
        n++;
    return n;
}

Test(progress, one_line_per_model_rewritten_in_place)
{
    open_sink(REEL_SHOW_LINE);
    epoch("box", 1, 2, 1, 2, 0.5, 0.6);
    epoch("box", 2, 2, 1, 2, 0.7, 0.8);
    reel_cli_progress_show(REEL_LOG_INFO, "a note", NULL);
    epoch("box", 1, 2, 2, 2, 0.3, 0.7);
    epoch("box", 2, 2, 2, 2, 0.4, 0.8);
    char *s = take_sink();
    /* the first draw, then the members' means over it */
    cr_assert(strncmp(s, "\rreel: box  epoch 1/2  members 0/2 done  loss 0.5000  val F1 0.6000  ETA ", 73) == 0,
              "%s", s);
    cr_assert(strstr(s, "\rreel: box  epoch 1/2  members 0/2 done  loss 0.6000  val F1 0.7000  ETA "), "%s", s);
    /* a note blanks the line, takes its own and the line comes back under it */
    const char *note = strstr(s, "\rreel: a note\n");
    cr_assert(note, "%s", s);
    cr_assert(note[-1] == ' ' && strncmp(note + 14, "\rreel: box  epoch 1/2  members 0/2", 34) == 0, "%s", s);
    /* the summary line stays, ended by a newline: two lines in all */
    cr_assert(strstr(s, "\rreel: box  done: epoch 2/2  members 2/2 done  loss 0.3500  val F1 0.7500  "), "%s", s);
    cr_assert_eq(count(s, "\n"), 2, "%s", s);
    cr_assert(s[strlen(s) - 1] == '\n' && s[strlen(s) - 2] == 's', "%s", s);
    free(s);
}

Test(progress, a_shorter_line_is_padded_over_the_longer)
{
    open_sink(REEL_SHOW_LINE);
    epoch("net", 1, 1, 1, 3, 0.5, 0.6);
    epoch("net", 1, 1, 2, 3, 0.5, NAN); /* no validation F1: a shorter line */
    char *s = take_sink();
    /* "\rFIRST" "\rSHORT" + spaces to FIRST's length, "\rSHORT" (the cursor after it) */
    cr_assert_eq(count(s, "\r"), 3, "%s", s);
    char *first = s + 1, *second = strchr(first, '\r') + 1, *third = strchr(second, '\r') + 1;
    size_t first_len = (size_t)(second - first) - 1, second_len = (size_t)(third - second) - 1;
    cr_assert_eq(second_len, first_len, "%s", s);
    cr_assert(strncmp(third, "reel: net  epoch 2/3  loss 0.5000  ETA ", 39) == 0, "%s", s);
    size_t short_len = strcspn(third, "\n"); /* ended by the newline at the end */
    cr_assert(short_len < first_len && strncmp(second, third, short_len) == 0, "%s", s);
    cr_assert_eq(strspn(second + short_len, " "), first_len - short_len, "%s", s);
    free(s);
}

Test(progress, a_warning_ends_the_line_and_plain_mode_never_rewrites)
{
    open_sink(REEL_SHOW_LINE);
    epoch("box", 1, 1, 1, 3, 0.5, 0.6);
    reel_cli_progress_show(REEL_LOG_WARNING, "box: training diverged", NULL);
    char *s = take_sink();
    cr_assert(strstr(s, "ETA 1s\nreel: warning: box: training diverged\n"), "%s", s);
    cr_assert(s[strlen(s) - 1] == '\n', "%s", s);
    free(s);

    open_sink(REEL_SHOW_PLAIN);
    epoch("box", 1, 1, 1, 3, 0.5, 0.6);
    reel_cli_progress_show(REEL_LOG_INFO, "a note", NULL);
    s = take_sink();
    cr_assert_str_eq(s, "reel: (the library's plain line)\nreel: a note\n");
    free(s);
}

/* A search's trial record, as host/tune/search.c makes it. */
static void trial(long done, long total, double score, const char *params)
{
    reel_progress p = {.kind = REEL_PROGRESS_TRIAL, .model = "box", .done = done, .total = total, .loss = NAN,
                       .valid_loss = NAN, .valid_f1 = NAN, .score = score, .samples_per_s = NAN, .elapsed_s = 2,
                       .eta_s = 3, .what = params};
    reel_cli_progress_show(REEL_LOG_INFO, "(the library's trial line)", &p);
}

static void candidate(long done, long total, double score, const char *feature)
{
    reel_progress p = {.kind = REEL_PROGRESS_FEATURE, .model = "tree", .done = done, .total = total, .loss = NAN,
                       .valid_loss = NAN, .valid_f1 = NAN, .score = score, .samples_per_s = NAN, .elapsed_s = 1.5,
                       .eta_s = done >= total ? 0 : 1, .what = feature};
    reel_cli_progress_show(REEL_LOG_INFO, "(the library's candidate line)", &p);
}

/* On a terminal a search's trials rewrite one line (trial i of ~n, the
 * best so far), a note goes above it; plain mode keeps the library's lines. */
Test(progress, search_trials_rewrite_one_line)
{
    open_sink(REEL_SHOW_LINE);
    trial(1, 5, 0.5, "{}");
    trial(2, 5, 0.7, "{\"lr\":0.1}");
    reel_cli_progress_show(REEL_LOG_INFO, "a note", NULL);
    trial(3, 5, 0.6, "{\"lr\":0.01}");
    reel_cli_progress_end();
    char *s = take_sink();
    cr_expect(strstr(s, "\rreel: search box  trial 3/~5  best 0.7000  ETA 3s  last 0.6000 {\"lr\":0.01}"), "%s", s);
    cr_expect(strstr(s, "reel: a note\n"), "%s", s);
    cr_expect_eq(count(s, "\n"), 2, "the note's line and the trials' one line: %s", s);
    cr_expect_null(strstr(s, "the library's trial line"), "%s", s);
    free(s);
    open_sink(REEL_SHOW_PLAIN);
    trial(1, 5, 0.5, "{}");
    s = take_sink();
    cr_expect_str_eq(s, "reel: (the library's trial line)\n");
    free(s);
}

/* A round of a selection's candidates rewrites one line, which stays as
 * the round's summary when its last candidate is in. */
Test(progress, a_round_of_candidates_stays_as_its_summary)
{
    open_sink(REEL_SHOW_LINE);
    candidate(1, 2, 0.8, "x1");
    candidate(2, 2, 0.9, "colour");
    candidate(1, 1, 0.85, "x1");
    char *s = take_sink();
    cr_expect(strstr(s, "\rreel: select tree  candidate 1/2  without x1 0.8000  best without x1 0.8000  ETA 1s"),
              "%s", s);
    cr_expect(strstr(s, "\rreel: select tree  done: 2 candidates  best without colour 0.9000  1.5 s\n"), "%s", s);
    cr_expect(strstr(s, "\rreel: select tree  done: 1 candidates  best without x1 0.8500  1.5 s\n"), "%s", s);
    cr_expect_eq(count(s, "\n"), 2, "a line per round: %s", s);
    free(s);
}

/* ---- the CLI ---- */

static const char *ensemble_params(long k)
{
    static char body[64];
    snprintf(body, sizeof body, "{\"ensemble\": %ld}\n", k);
    return tmp_write(k == 1 ? "progress_plain.json" : "progress_ensemble.json", body);
}

/* reel train, a box net of `k` members for 2 epochs; stderr returned. */
static char *train_box(long k, const char *mode, const char *flags)
{
    const char *csv = tmp_write_two_features("progress.csv", 120, 7);
    if (mode)
        setenv("REEL_PROGRESS", mode, 1);
    else
        unsetenv("REEL_PROGRESS");
    char *out = NULL, *err = NULL;
    int rc = run_reelf(&out, &err, "train --data %s --id name --labels A,B --model box --params %s --epochs 2 --threads 1 %s",
                       csv, ensemble_params(k), flags);
    unsetenv("REEL_PROGRESS");
    cr_assert_eq(rc, 0, "%s", err);
    free(out);
    return err;
}

Test(progress, every_member_shows_in_plain_lines)
{
    char *err = train_box(3, NULL, "");
    for (int m = 1; m <= 3; m++)
        for (int e = 1; e <= 2; e++) {
            char want[64];
            snprintf(want, sizeof want, "\nreel: box: member %d/3  epoch %d/2  loss ", m, e);
            cr_assert(strstr(err, want), "no '%s' in:\n%s", want + 1, err);
        }
    cr_assert_eq(count(err, "epoch "), 6 + count(err, "weights of epoch "), "%s", err);
    cr_assert_null(strchr(err, '\r'), "%s", err);
    free(err);
}

Test(progress, a_plain_net_prints_as_before)
{
    char *err = train_box(1, NULL, "");
    cr_assert(strstr(err, "\nreel: box: epoch 1/2  loss ") && strstr(err, "\nreel: box: epoch 2/2  loss "), "%s", err);
    cr_assert_null(strstr(err, "member"), "%s", err);
    free(err);
}

Test(progress, a_terminal_gets_one_line_per_model)
{
    char *err = train_box(3, "line", "");
    cr_assert(strstr(err, "\rreel: box  epoch 1/2  members 0/3 done  loss "), "%s", err);
    cr_assert(strstr(err, "\rreel: box  done: epoch 2/2  members 3/3 done  loss "), "%s", err);
    /* every update of the model on one terminal line: one newline among them */
    int lines_with_epochs = 0;
    for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
        lines_with_epochs += strstr(line, "box  epoch") || strstr(line, "box  done");
    cr_assert_eq(lines_with_epochs, 1);
    free(err);
}

Test(progress, verbose_and_quiet)
{
    char *err = train_box(3, "line", "--verbose");
    cr_assert_null(strchr(err, '\r'), "%s", err);
    cr_assert(strstr(err, "reel: box: member 3/3  epoch 2/2  loss "), "%s", err);
    free(err);
    err = train_box(3, "line", "--quiet");
    cr_assert_null(strstr(err, "epoch"), "%s", err);
    cr_assert_null(strchr(err, '\r'), "%s", err);
    free(err);
}

/* reel select on a terminal: the library's candidate records carry i of n,
 * so each round is one line; none of the plain candidate lines. */
Test(progress, a_terminal_gets_one_line_per_round_of_candidates)
{
    const char *csv = tmp_write_two_features("progress_select.csv", 120, 7);
    setenv("REEL_PROGRESS", "line", 1);
    char *out = NULL, *err = NULL;
    int rc = run_reelf(&out, &err, "select --data %s --id name --labels A,B --model tree --threads 1", csv);
    unsetenv("REEL_PROGRESS");
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "\rreel: select tree  candidate 1/2  without "), "%s", err);
    cr_expect(strstr(err, "\rreel: select tree  done: 2 candidates  best without "), "%s", err);
    cr_expect_null(strstr(err, "reel: select: without "), "%s", err);
    cr_expect(strstr(out, "single-pass samples-f1"), "the table after the line: %s", out);
    free(out);
    free(err);
}

/* ---- the library's once-filter: search's many fits, one note ---- */

static void collect(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    (void)p;
    char *all = user;
    snprintf(all + strlen(all), 512 - strlen(all), "%d %s\n", (int)level, message);
}

Test(progress, a_warning_repeated_by_many_fits_is_said_once)
{
    char said[512] = "";
    reel_log to = {.fn = collect, .user = said, .min_level = REEL_LOG_INFO};
    reel_log_seen seen = {0};
    for (int fit = 0; fit < 3; fit++) { /* three fits, each with its own sink on the one list */
        reel_log_once self;
        reel_log q = reel_log_warnings_once(&to, &seen, &self);
        reel_log_msg(&q, REEL_LOG_WARNING, "box: layer kind dropout trains on the CPU");
        reel_log_msg(&q, REEL_LOG_INFO, "box: epoch %d", fit);
        reel_log_msg(&q, REEL_LOG_WARNING, "fold %d: a label has no positive row", fit % 2);
    }
    cr_expect_str_eq(said, "1 box: layer kind dropout trains on the CPU\n1 fold 0: a label has no positive row\n"
                           "1 fold 1: a label has no positive row\n",
                     "%s", said);
}
