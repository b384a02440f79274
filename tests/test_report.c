/* The comparison report: a hand-built reel_report with three models (one
 * the random baseline), two training histories, four labels (one with &
 * and <> in its name) and 30 test films whose titles hold & < > ". The
 * best model's mistakes are planted, so the genre confusions are known. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "eval/calibration.h"
#include "eval/charts.h"
#include "eval/report.h"
#include "eval/svg.h"
#include "helpers.h"
#include "util/fileio.h"
#include "util/rng.h"

#define NT 30
#define NL 4
#define EPOCHS 12
enum { ACTION, COMEDY, DRAMA, SCIFI };

static char *LABELS[NL] = {"Action", "Comedy", "Drama", "Sci-Fi & <Fantasy>"};
static char *FEATURES[3] = {"year", "length", "budget"};

typedef struct {
    reel_report r;
    reel_report_model models[3];
    reel_metrics metrics[3];
    uint8_t Y[NT * NL], pred[3][NT * NL];
    float P[3][NT * NL];
    char *ids[NT];
    double hist[2][3][EPOCHS];
} fixture;

/* The truth: each film gets one or two genres from a seeded stream. Films
 * 0-5 are Drama and not Comedy, films 6-8 Action and not Sci-Fi: the best
 * model ("mlp") will swap exactly those. */
static void make_truth(fixture *f)
{
    reel_rng rng;
    reel_rng_seed(&rng, 11);
    for (size_t i = 0; i < NT; i++) {
        uint8_t *y = f->Y + i * NL;
        y[reel_rng_below(&rng, NL)] = 1;
        if (reel_rng_uniform(&rng) < 0.4)
            y[reel_rng_below(&rng, NL)] = 1;
        if (i < 6) {
            y[DRAMA] = 1;
            y[COMEDY] = 0;
        } else if (i < 9) {
            y[ACTION] = 1;
            y[SCIFI] = 0;
        }
        char buf[128];
        snprintf(buf, sizeof buf, "Tom & Jerry <%zu> \"Part %zu\"", 1990 + i, i);
        f->ids[i] = strdup(buf);
    }
}

static void make_models(fixture *f)
{
    /* mlp: right except the planted swaps. */
    memcpy(f->pred[0], f->Y, sizeof f->Y);
    for (size_t i = 0; i < 9; i++) {
        uint8_t *p = f->pred[0] + i * NL;
        if (i < 6) {
            p[DRAMA] = 0;
            p[COMEDY] = 1;
        } else {
            p[ACTION] = 0;
            p[SCIFI] = 1;
        }
    }
    /* forest: predicts nothing for every other film. */
    memcpy(f->pred[1], f->Y, sizeof f->Y);
    for (size_t i = 0; i < NT; i += 2)
        memset(f->pred[1] + i * NL, 0, NL);
    /* random: coin flips. */
    reel_rng rng;
    reel_rng_seed(&rng, 5);
    for (size_t k = 0; k < NT * NL; k++)
        f->pred[2][k] = reel_rng_uniform(&rng) < 0.5;
    for (int m = 0; m < 3; m++)
        for (size_t k = 0; k < NT * NL; k++)
            f->P[m][k] = f->pred[m][k] ? 0.6f + 0.01f * (float)(k % 30) : 0.05f + 0.01f * (float)(k % 40);

    const char *names[3] = {"mlp", "forest", "random"};
    for (int m = 0; m < 3; m++) {
        cr_assert_eq(reel_metrics_compute(&f->metrics[m], f->Y, f->pred[m], NT, NL), 0);
        f->models[m] = (reel_report_model){.name = names[m], .device = m == 0 ? "cpu" : "cpu (4 threads)",
                                           .metrics = &f->metrics[m], .P = f->P[m], .pred = f->pred[m],
                                           .fit_seconds = 1.5 * m, .predict_seconds = 0.01};
    }
    /* Histories for mlp and forest; one missing validation loss. */
    for (int m = 0; m < 2; m++) {
        for (int e = 0; e < EPOCHS; e++) {
            f->hist[m][0][e] = 0.7 / (1 + e);
            f->hist[m][1][e] = 0.75 / (1 + 0.8 * e);
            f->hist[m][2][e] = 0.3 + 0.04 * e;
        }
        f->models[m].epochs = EPOCHS;
        f->models[m].train_loss = f->hist[m][0];
        f->models[m].valid_loss = f->hist[m][1];
        f->models[m].valid_f1 = f->hist[m][2];
    }
    f->hist[1][1][4] = NAN;
    /* Listed in an order that is not the ranking. */
    reel_report_model t = f->models[0];
    f->models[0] = f->models[2];
    f->models[2] = t;
}

static fixture *make_fixture(void)
{
    fixture *f = calloc(1, sizeof *f);
    make_truth(f);
    make_models(f);
    f->r = (reel_report){.title = "reel compare: data/films & <shows>.csv",
                         .dataset_path = "data/films & <shows>.csv",
                         .n_rows = 150, .n_train = 100, .n_valid = 20, .n_test = NT,
                         .L = NL, .labels = LABELS, .d = 3, .features = FEATURES,
                         .Y = f->Y, .ids = f->ids, .n_models = 3, .models = f->models,
                         .baseline = "random", .seed = 42};
    return f;
}

static void free_fixture(fixture *f)
{
    for (int m = 0; m < 3; m++)
        reel_metrics_free(&f->metrics[m]);
    for (size_t i = 0; i < NT; i++)
        free(f->ids[i]);
    free(f);
}

static const reel_report_model *model_named(const fixture *f, const char *name)
{
    for (int m = 0; m < 3; m++)
        if (strcmp(f->models[m].name, name) == 0)
            return &f->models[m];
    return NULL;
}

/* Writes the report to a fresh directory; returns the directory. */
static const char *write_report(const fixture *f, const char *name)
{
    const char *dir = tmp_path(name);
    cr_assert_eq(mkdir(dir, 0777), 0, "cannot create %s", dir);
    reel_error err = {{0}};
    cr_assert_eq(reel_report_write(dir, &f->r, &err), 0, "%s", err.msg);
    return dir;
}

static char *read_in(const char *dir, const char *name)
{
    char *path = reel_path_join(dir, name);
    char *text = reel_read_file(path, NULL, NULL);
    free(path);
    cr_assert_not_null(text, "%s/%s missing", dir, name);
    return text;
}

/* A fresh fixture's report written to the folder `name`, and its two files read. */
static fixture *report_files(const char *name, char **html, char **md)
{
    fixture *f = make_fixture();
    const char *dir = write_report(f, name);
    *html = read_in(dir, "report.html");
    *md = read_in(dir, "report.md");
    return f;
}

static void free_report_files(fixture *f, char *html, char *md)
{
    free(html);
    free(md);
    free_fixture(f);
}

/* ---- a small well-formedness checker for the XHTML-style output ---- */

/* Returns NULL when every tag is closed in order, every attribute value
 * quoted, every & an entity and every < the start of a tag; else a line
 * saying what is wrong where. */
static const char *check_markup(const char *s)
{
    static char msg[256];
    const char *stack[256];
    size_t stack_len[256];
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '&') {
            const char *q = p + 1;
            if (*q == '#')
                q++;
            while (isalnum((unsigned char)*q))
                q++;
            if (*q != ';' || q == p + 1) {
                snprintf(msg, sizeof msg, "bare & at offset %td: %.40s", p - s, p);
                return msg;
            }
            continue;
        }
        if (*p == '>') {
            snprintf(msg, sizeof msg, "bare > at offset %td: %.40s", p - s, p > s + 20 ? p - 20 : s);
            return msg;
        }
        if (*p != '<')
            continue;
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p, "-->");
            if (!e)
                return "unclosed comment";
            p = e + 2;
            continue;
        }
        if (p[1] == '!') { /* <!DOCTYPE html> */
            p = strchr(p, '>');
            if (!p)
                return "unclosed <!";
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        if (!isalpha((unsigned char)*name)) {
            snprintf(msg, sizeof msg, "bare < at offset %td: %.40s", p - s, p);
            return msg;
        }
        size_t len = 0;
        while (isalnum((unsigned char)name[len]))
            len++;
        /* The rest of the tag: attributes with quoted values up to '>'. */
        const char *q = name + len;
        int in_quote = 0;
        for (; *q && (in_quote || *q != '>'); q++) {
            if (*q == '"')
                in_quote = !in_quote;
            else if (in_quote && *q == '<') {
                snprintf(msg, sizeof msg, "< inside an attribute at offset %td", q - s);
                return msg;
            }
        }
        if (!*q)
            return "unterminated tag";
        int self_closing = q[-1] == '/';
        if (closing) {
            if (depth == 0 || stack_len[depth - 1] != len || strncmp(stack[depth - 1], name, len) != 0) {
                snprintf(msg, sizeof msg, "</%.*s> at offset %td closes <%.*s>", (int)len, name, p - s,
                         depth ? (int)stack_len[depth - 1] : 0, depth ? stack[depth - 1] : "");
                return msg;
            }
            depth--;
        } else if (!self_closing) {
            if (depth == 256)
                return "too deep";
            stack[depth] = name;
            stack_len[depth++] = len;
        }
        p = q;
    }
    if (depth != 0) {
        snprintf(msg, sizeof msg, "<%.*s> never closed", (int)stack_len[depth - 1], stack[depth - 1]);
        return msg;
    }
    return NULL;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* ---- tests ---- */

Test(report, checker_catches_bad_markup)
{
    cr_expect_null(check_markup("<a><b x=\"1 &amp; 2\">t</b><br/></a>"));
    cr_expect_not_null(check_markup("<a><b></a></b>"));
    cr_expect_not_null(check_markup("<a>Tom & Jerry</a>"));
    cr_expect_not_null(check_markup("<a>1 < 2</a>"));
    cr_expect_not_null(check_markup("<a>"));
}

Test(report, writes_both_files_and_nothing_else)
{
    fixture *f = make_fixture();
    const char *dir = write_report(f, "both");
    cr_expect_eq(dir_entries(dir), 2, "the report dir holds exactly report.html and report.md");
    char *html = read_in(dir, "report.html"), *md = read_in(dir, "report.md");
    cr_expect(strstr(html, "<!DOCTYPE html>") == html);
    cr_expect(strstr(md, "# ") == md);
    free(html);
    free(md);
    free_fixture(f);
}

Test(report, html_is_well_formed_and_self_contained)
{
    fixture *f = make_fixture();
    char *html = read_in(write_report(f, "wf"), "report.html");
    const char *bad = check_markup(html);
    cr_expect_null(bad, "%s", bad ? bad : "");
    /* Nothing fetched from elsewhere: no scripts, no links, no images. */
    cr_expect_null(strstr(html, "<script"));
    cr_expect_null(strstr(html, "<link"));
    cr_expect_null(strstr(html, "src="));
    cr_expect_null(strstr(html, "@import"));
    cr_expect_null(strstr(html, "nan"), "a NaN leaked into the page");
    free(html);
    free_fixture(f);
}

Test(report, every_svg_has_size_and_viewbox)
{
    fixture *f = make_fixture();
    char *html = read_in(write_report(f, "svg"), "report.html");
    /* bars, 2 x (loss, F1), heatmap, one reliability legend, a diagram per genre, confusion bars */
    cr_expect_eq(count(html, "<svg "), 8 + NL);
    cr_expect_eq(count(html, "</svg>"), 8 + NL);
    for (const char *p = strstr(html, "<svg "); p; p = strstr(p + 1, "<svg ")) {
        size_t len = (size_t)(strchr(p, '>') - p);
        char *tag = strndup(p, len);
        cr_expect_not_null(strstr(tag, " viewBox=\"0 0 "), "%s", tag);
        cr_expect_not_null(strstr(tag, " width=\""), "%s", tag);
        cr_expect_not_null(strstr(tag, " height=\""), "%s", tag);
        cr_expect_not_null(strstr(tag, "xmlns=\"http://www.w3.org/2000/svg\""), "%s", tag);
        free(tag);
    }
    /* The baseline is drawn as a dashed line and named. */
    cr_expect_not_null(strstr(html, "stroke-dasharray=\"6 4\""));
    cr_expect_not_null(strstr(html, ">random F1 "));
    free(html);
    free_fixture(f);
}

Test(report, leaderboard_sorted_by_samples_f1)
{
    char *html, *md;
    fixture *f = report_files("lb", &html, &md);
    const char *order[3] = {"mlp", "forest", "random"};
    cr_assert_gt(model_named(f, "mlp")->metrics->samples_f1, model_named(f, "forest")->metrics->samples_f1);
    cr_assert_gt(model_named(f, "forest")->metrics->samples_f1, model_named(f, "random")->metrics->samples_f1);
    const char *prev_html = html, *prev_md = md;
    for (int k = 0; k < 3; k++) {
        const reel_metrics *m = model_named(f, order[k])->metrics;
        char num[32], row[128];
        snprintf(num, sizeof num, "%.4f", m->samples_f1);
        cr_expect_not_null(strstr(html, num), "%s F1 %s not in the html", order[k], num);
        cr_expect_not_null(strstr(md, num), "%s F1 %s not in the md", order[k], num);
        /* Rank k+1, in order. */
        snprintf(row, sizeof row, "<td class=\"num\">%d</td><td class=\"name\">%s</td><td class=\"num\">%s</td>", k + 1,
                 order[k], num);
        const char *at = strstr(html, row);
        cr_expect(at && at > prev_html, "html leaderboard row %d: %s", k + 1, row);
        prev_html = at ? at : prev_html;
        snprintf(row, sizeof row, "| %d | %s%s | %s |", k + 1, order[k], k == 2 ? " (baseline)" : "", num);
        at = strstr(md, row);
        cr_expect(at && at > prev_md, "md leaderboard row %d: %s", k + 1, row);
        prev_md = at ? at : prev_md;
    }
    free_report_files(f, html, md);
}

Test(report, data_text_is_escaped)
{
    char *html, *md;
    fixture *f = report_files("esc", &html, &md);
    cr_expect_null(strstr(html, "Tom & Jerry"));
    cr_expect_null(strstr(html, "<19"));
    cr_expect_null(strstr(html, "<Fantasy>"));
    cr_expect_null(strstr(html, "<shows>"));
    cr_expect_eq(count(html, "Tom &amp; Jerry &lt;"), 10, "ten example titles, escaped");
    cr_expect_not_null(strstr(html, "&quot;Part "));
    cr_expect_not_null(strstr(html, "Sci-Fi &amp; &lt;Fantasy&gt;"));
    /* Markdown: backslash escapes, so no raw < or & from the data. */
    for (const char *p = strchr(md, '<'); p; p = strchr(p + 1, '<'))
        cr_expect_eq(p[-1], '\\', "raw < in the md: %.30s", p);
    for (const char *p = strchr(md, '&'); p; p = strchr(p + 1, '&'))
        cr_expect_eq(p[-1], '\\', "raw & in the md: %.30s", p);
    cr_expect_eq(count(md, "Tom \\& Jerry \\<"), 10);
    cr_expect_not_null(strstr(md, "Sci-Fi \\& \\<Fantasy\\>"));
    free_report_files(f, html, md);
}

Test(report, ten_example_films_from_the_test_rows)
{
    char *html, *md;
    fixture *f = report_files("ex", &html, &md);
    cr_expect_eq(count(html, "<tr class=\"example\">"), 10);
    /* In md: the table after the heading, header and rule rows aside. */
    const char *sec = strstr(md, "## Example films");
    cr_assert_not_null(sec);
    cr_expect_eq(count(sec, "\n| ") - 1, 10);
    /* Each shown film is a test row; none twice. */
    int shown = 0;
    for (size_t i = 0; i < NT; i++) {
        char key[64];
        snprintf(key, sizeof key, "&lt;%zu&gt; &quot;Part %zu&quot;", 1990 + i, i);
        size_t c = count(html, key);
        cr_expect_leq(c, 1);
        shown += (int)c;
    }
    cr_expect_eq(shown, 10);
    free_report_files(f, html, md);
}

Test(report, examples_follow_the_seed)
{
    fixture *f = make_fixture();
    char *a = read_in(write_report(f, "seed_a"), "report.html");
    char *b = read_in(write_report(f, "seed_b"), "report.html");
    cr_expect_str_eq(a, b, "same report, same seed: same page");
    f->r.seed = 43;
    char *c = read_in(write_report(f, "seed_c"), "report.html");
    cr_expect_str_neq(strstr(a, "id=\"examples\""), strstr(c, "id=\"examples\""), "another seed, other films");
    free(a);
    free(b);
    free(c);
    free_fixture(f);
}

Test(report, right_and_wrong_predictions_are_marked)
{
    fixture *f = make_fixture();
    f->r.seed = 1;
    const char *dir = write_report(f, "marks");
    char *html = read_in(dir, "report.html"), *md = read_in(dir, "report.md");
    /* forest predicts only true genres or none; mlp's swaps are wrong. */
    cr_expect_gt(count(html, "<span class=\"ok\">"), 10);
    cr_expect_gt(count(html, "<span class=\"none\">none</span>"), 0);
    cr_expect_gt(count(md, "**Drama**") + count(md, "**Action**") + count(md, "**Comedy**"), 0);
    /* random guesses half the cells: some must be wrong among 10 films. */
    cr_expect_gt(count(html, "<del class=\"bad\">"), 0);
    cr_expect_gt(count(md, "~~"), 0);
    free(html);
    free(md);
    free_fixture(f);
}

Test(report, planted_genre_confusions_are_found)
{
    char *html, *md;
    fixture *f = report_files("conf", &html, &md);
    size_t drama = 0, action = 0;
    for (size_t i = 0; i < NT; i++) {
        drama += f->Y[i * NL + DRAMA];
        action += f->Y[i * NL + ACTION];
    }
    char row[160];
    snprintf(row, sizeof row, "| 1 | Drama | Comedy | 6 | %.1f%% |\n", 600.0 / (double)drama);
    cr_expect_not_null(strstr(md, row), "missing: %s", row);
    snprintf(row, sizeof row, "| 2 | Action | Sci-Fi \\& \\<Fantasy\\> | 3 | %.1f%% |\n", 300.0 / (double)action);
    cr_expect_not_null(strstr(md, row), "missing: %s", row);
    const char *sec = strstr(md, "## Genre confusion"), *end = sec ? strstr(sec, "## Example") : NULL;
    cr_assert(sec && end);
    cr_expect_eq(count(sec, "\n| ") - (size_t)(count(end, "\n| ")), 3, "header and the two planted swaps only");
    cr_expect_not_null(strstr(html, "Drama \xe2\x86\x92 Comedy"));
    free_report_files(f, html, md);
}

Test(report, training_curves_only_for_models_with_history)
{
    fixture *f = make_fixture();
    char *html = read_in(write_report(f, "hist"), "report.html");
    cr_expect_not_null(strstr(html, "<h3>mlp</h3>"));
    cr_expect_not_null(strstr(html, "<h3>forest</h3>"));
    cr_expect_null(strstr(html, "<h3>random</h3>"));
    /* Validation F1 grows every epoch: the best is the last one. */
    char best[64];
    snprintf(best, sizeof best, "best validation F1 %.4f at epoch %d", 0.3 + 0.04 * (EPOCHS - 1), EPOCHS);
    cr_expect_eq(count(html, best), 2, "%s", best);
    free(html);
    free_fixture(f);
}

Test(report, missing_dir_fails_and_leaves_nothing)
{
    fixture *f = make_fixture();
    const char *parent = tmp_path("fail");
    cr_assert_eq(mkdir(parent, 0777), 0);
    char *dir = reel_path_join(parent, "no/such/dir");
    reel_error err = {{0}};
    cr_expect_eq(reel_report_write(dir, &f->r, &err), -1);
    cr_expect_not_null(strstr(err.msg, "no/such/dir"), "message names the path: %s", err.msg);
    cr_expect_eq(dir_entries(parent), 0);
    free(dir);
    free_fixture(f);
}

Test(report, inconsistent_input_is_refused)
{
    fixture *f = make_fixture();
    const char *dir = tmp_path("refused");
    cr_assert_eq(mkdir(dir, 0777), 0);
    reel_error err = {{0}};
    f->r.L = 3; /* metrics have 4 labels */
    cr_expect_eq(reel_report_write(dir, &f->r, &err), -1);
    cr_expect_not_null(strstr(err.msg, "labels"), "%s", err.msg);
    cr_expect_eq(dir_entries(dir), 0);
    free_fixture(f);
}

Test(report, chart_names_are_cut_between_characters)
{
    char buf[128];
    svg_shorten(buf, sizeof buf, "forest", 10);
    cr_expect_str_eq(buf, "forest");
    svg_shorten(buf, sizeof buf, "abcdefghijklmnop", 10);
    cr_expect_str_eq(buf, "abcdefg...");
    /* "\xc3\xa9" is one character (e-acute) of two bytes. */
    svg_shorten(buf, sizeof buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5);
    cr_expect_str_eq(buf, "\xc3\xa9\xc3\xa9...");
    cr_expect_eq(svg_chars("\xc3\xa9t\xc3\xa9"), 3);
}

Test(report, long_model_names_stay_whole_in_tables)
{
    fixture *f = make_fixture();
    const char *name = "forest_tuned_with_a_rather_long_name_\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    for (int m = 0; m < 3; m++)
        if (strcmp(f->models[m].name, "forest") == 0)
            f->models[m].name = name;
    const char *dir = write_report(f, "long");
    char *html = read_in(dir, "report.html");
    cr_expect_null(check_markup(html));
    char cell[160];
    snprintf(cell, sizeof cell, "<td class=\"name\">%s</td>", name);
    cr_expect_not_null(strstr(html, cell), "leaderboard keeps the whole name");
    cr_expect_not_null(strstr(html, ">forest_tuned_with_a_rathe...</text>"), "charts cut it to 28 characters");
    free(html);
    free_fixture(f);
}

/* ---- calibration ---- */

Test(report, calibration_matches_scikit_learn)
{
    char *text = reel_read_file(test_fixture("calibration.json"), NULL, NULL);
    cr_assert_not_null(text, "tests/fixtures/calibration.json missing (tests/fixtures/make_calibration.py)");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    int ci = 0;
    for (const cJSON *c = cJSON_GetObjectItem(doc, "cases")->child; c; c = c->next, ci++) {
        size_t n = (size_t)cJSON_GetObjectItem(c, "n")->valueint, L = (size_t)cJSON_GetObjectItem(c, "L")->valueint;
        float *P = malloc(n * L * sizeof *P);
        uint8_t *Y = malloc(n * L);
        for (size_t i = 0; i < n * L; i++) {
            P[i] = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "p"), (int)i)->valuedouble;
            Y[i] = (uint8_t)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "y"), (int)i)->valueint;
        }
        for (size_t k = 0; k < L; k++) {
            const cJSON *want = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "labels"), (int)k);
            reel_calibration cal;
            reel_calibration_compute(&cal, P, Y, n, L, k);
            cr_expect_float_eq(cal.brier, cJSON_GetObjectItem(want, "brier")->valuedouble, 1e-12, "case %d", ci);
            /* scikit-learn lists the non-empty bins in order */
            const cJSON *frac = cJSON_GetObjectItem(want, "frac_pos"), *mean = cJSON_GetObjectItem(want, "mean_p");
            int j = 0;
            for (size_t b = 0; b < REEL_CAL_BINS; b++) {
                if (!cal.count[b])
                    continue;
                cr_assert_lt(j, cJSON_GetArraySize(frac), "case %d label %zu: more bins than scikit-learn", ci, k);
                cr_expect_float_eq(cal.frac_pos[b], cJSON_GetArrayItem(frac, j)->valuedouble, 1e-12,
                                   "case %d label %zu bin %zu", ci, k, b);
                cr_expect_float_eq(cal.mean_p[b], cJSON_GetArrayItem(mean, j)->valuedouble, 1e-12,
                                   "case %d label %zu bin %zu", ci, k, b);
                j++;
            }
            cr_expect_eq(j, cJSON_GetArraySize(frac), "case %d label %zu: bin count", ci, k);
        }
        free(P);
        free(Y);
    }
    cJSON_Delete(doc);
}

Test(report, calibration_view_per_genre)
{
    char *html, *md;
    fixture *f = report_files("cal", &html, &md);
    cr_expect(strstr(html, "id=\"calibration\""), "no calibration section");
    cr_expect(strstr(html, "Brier score"));
    for (size_t k = 0; k < NL; k++) { /* one reliability diagram per genre, titled with it */
        char want[128];
        snprintf(want, sizeof want, "aria-label=\"%s\"", k == SCIFI ? "Sci-Fi &amp; &lt;Fantasy&gt;" : LABELS[k]);
        cr_expect(strstr(html, want), "no reliability diagram %s", want);
    }
    cr_expect(strstr(md, "## Calibration per genre"));
    free_report_files(f, html, md);
}

/* Close scores look different: the bar chart's axis spans the values, not
 * 0 to 1 (issue 34). */
Test(report, bar_chart_axis_spans_the_scores)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    const double f1[] = {0.636, 0.650, 0.641}, p[] = {0.640, 0.648, 0.639}, r[] = {0.645, 0.649, 0.644};
    const char *const names[] = {"box", "u", "random"};
    chart_series s[3] = {{"F1", CHART_BLUE, f1, 0}, {"precision", CHART_GREEN, p, 0}, {"recall", CHART_PURPLE, r, 0}};
    chart_grouped_bars(fp, "scores", names, 3, s, 3, NULL, "model", "score");
    fclose(fp);
    cr_expect_null(strstr(text, ">0.0<"), "the axis starts at the scores, not 0: %s", text);
    cr_expect(strstr(text, ">0.650<") || strstr(text, ">0.65<"), "%s", text);
    free(text);
}

Test(report, one_reliability_legend)
{
    char *html, *md;
    fixture *f = report_files("legend", &html, &md);
    cr_expect_eq(count(html, "aria-label=\"Reliability legend\""), 1);
    free_report_files(f, html, md);
}

/* ---- a binary or multiclass target ---- */

#define NC 3 /* classes of the multiclass fixture */

typedef struct {
    reel_report r;
    reel_report_model models[3];
    reel_metrics metrics[3];
    uint8_t Y[NT * NC], pred[3][NT * NC];
    float P[3][NT * NC];
} class_fixture;

static char *CLASSES[NC] = {"a <1>", "b & c", "z"};
static char *BINARY[2] = {"no", "yes & <more>"};

/* Row i's class is i % K. "good" is right but for rows 0 and 3 (class 0
 * predicted as 1); "prior" always predicts the last class; "ok" is right
 * on even rows. Binary: K 2, one output (P(yes)). */
static class_fixture *make_class_fixture(size_t K)
{
    class_fixture *f = calloc(1, sizeof *f);
    reel_target_kind target = K == 2 ? REEL_TARGET_BINARY : REEL_TARGET_MULTICLASS;
    size_t L = K == 2 ? 1 : K;
    char **classes = K == 2 ? BINARY : CLASSES;
    const char *names[3] = {"prior", "good", "ok"}; /* listed in an order that is not the ranking */
    for (size_t i = 0; i < NT; i++) {
        size_t truth = i % K, cls[3] = {K - 1, (i == 0 || i == 3) ? 1 : truth, i % 2 == 0 ? truth : (truth + 1) % K};
        if (L == 1)
            f->Y[i] = (uint8_t)truth;
        else
            f->Y[i * L + truth] = 1;
        for (int m = 0; m < 3; m++) {
            if (L == 1) {
                f->pred[m][i] = (uint8_t)cls[m];
                f->P[m][i] = cls[m] ? 0.8f : 0.3f;
                continue;
            }
            f->pred[m][i * L + cls[m]] = 1;
            for (size_t c = 0; c < L; c++)
                f->P[m][i * L + c] = c == cls[m] ? 0.6f : 0.4f / (float)(L - 1);
        }
    }
    for (int m = 0; m < 3; m++) {
        cr_assert_eq(reel_metrics_compute(&f->metrics[m], f->Y, f->pred[m], NT, L), 0);
        cr_assert_eq(reel_metrics_add_classes(&f->metrics[m], target, classes, f->Y, f->P[m], f->pred[m], NT, L), 0);
        f->models[m] = (reel_report_model){.name = names[m], .device = "cpu", .metrics = &f->metrics[m],
                                           .P = f->P[m], .pred = f->pred[m], .rule = K == 2 ? "threshold" : "argmax",
                                           .is_baseline = m == 0};
    }
    f->r = (reel_report){.title = "reel compare: classes", .dataset_path = "data/c.csv", .n_rows = 90,
                         .n_train = 50, .n_valid = 10, .n_test = NT, .L = L, .labels = classes,
                         .Y = f->Y, .n_models = 3, .models = f->models, .seed = 42};
    return f;
}

static void free_class_fixture(class_fixture *f)
{
    for (int m = 0; m < 3; m++)
        reel_metrics_free(&f->metrics[m]);
    free(f);
}

Test(report, multiclass_target_states_its_classes_and_ranks_by_accuracy)
{
    class_fixture *f = make_class_fixture(NC);
    const char *dir = tmp_path("classes");
    cr_assert_eq(mkdir(dir, 0777), 0);
    reel_error err = {{0}};
    cr_assert_eq(reel_report_write(dir, &f->r, &err), 0, "%s", err.msg);
    char *html = read_in(dir, "report.html"), *md = read_in(dir, "report.md");
    const char *bad = check_markup(html);
    cr_expect_null(bad, "%s", bad ? bad : "");
    cr_expect_not_null(strstr(md, "- Target: multiclass, 3 classes: a \\<1\\>, b \\& c, z\n"), "%s", md);
    cr_expect_not_null(strstr(html, "<tr><td>Target</td><td>multiclass, 3 classes: a &lt;1&gt;, b &amp; c, z</td></tr>"));
    /* good 28/30, ok 20/30, prior 10/30: ranked by accuracy, with macro-F1 and log-loss */
    char row[256];
    const char *order[3] = {"good", "ok", "prior (baseline)"};
    const reel_metrics *ms[3] = {&f->metrics[1], &f->metrics[2], &f->metrics[0]};
    cr_expect_float_eq(ms[0]->accuracy, 28.0 / 30, 1e-12);
    const char *prev = md;
    for (int k = 0; k < 3; k++) {
        snprintf(row, sizeof row, "| %d | %s | %.4f | %.4f | %.4f | argmax |", k + 1, order[k], ms[k]->accuracy,
                 ms[k]->class_macro_f1, ms[k]->log_loss);
        const char *at = strstr(md, row);
        cr_expect(at && at > prev, "md leaderboard row %d: %s", k + 1, row);
        prev = at ? at : prev;
    }
    cr_expect_not_null(strstr(md, "- Best model: **good**, accuracy 0.9333"));
    cr_expect_null(strstr(md, "ROC-AUC"), "no ROC-AUC for a multiclass target");
    cr_expect_null(strstr(md, "samples-F1"), "no multi-label score for a multiclass target");
    /* The confusion matrix of good: class 0's ten rows, two predicted as class 1. */
    cr_expect_not_null(strstr(md, "| a \\<1\\> | 8 | 2 | 0 |\n| b \\& c | 0 | 10 | 0 |\n| z | 0 | 0 | 10 |\n"), "%s", md);
    /* Per class: test rows, the best model's precision and recall, each model's F1. */
    snprintf(row, sizeof row, "| a \\<1\\> | 10 | %.4f | %.4f | %.4f | %.4f | %.4f |", f->metrics[1].class_precision[0],
             f->metrics[1].class_recall[0], f->metrics[1].class_f1[0], f->metrics[2].class_f1[0],
             f->metrics[0].class_f1[0]);
    cr_expect_not_null(strstr(md, row), "%s", row);
    /* Examples: one class per model, marked; row 0 (class a <1>, good said b & c). */
    cr_expect_eq(count(html, "<tr class=\"example\">"), 10);
    cr_expect_gt(count(md, "~~z~~"), 0);
    free(html);
    free(md);
    free_class_fixture(f);
}

Test(report, binary_target_has_f1_and_roc_auc)
{
    class_fixture *f = make_class_fixture(2);
    const char *dir = tmp_path("binary");
    cr_assert_eq(mkdir(dir, 0777), 0);
    reel_error err = {{0}};
    cr_assert_eq(reel_report_write(dir, &f->r, &err), 0, "%s", err.msg);
    char *html = read_in(dir, "report.html"), *md = read_in(dir, "report.md");
    const char *bad = check_markup(html);
    cr_expect_null(bad, "%s", bad ? bad : "");
    cr_expect_not_null(strstr(md, "- Target: binary, classes no and yes \\& \\<more\\>"), "%s", md);
    cr_expect_not_null(strstr(md, "| accuracy | macro-F1 | log-loss | F1 | ROC-AUC |"));
    const reel_metrics *g = &f->metrics[1];
    char row[256];
    snprintf(row, sizeof row, "| 1 | good | %.4f | %.4f | %.4f | %.4f | %.4f | threshold |", g->accuracy,
             g->class_macro_f1, g->log_loss, g->f1, g->roc_auc);
    cr_expect_not_null(strstr(md, row), "%s\n%s", row, md);
    /* two classes in the confusion matrix: good predicts 'yes' for rows 0 (no) and 3 (yes) */
    cr_expect_not_null(strstr(md, "| no | 14 | 1 |\n| yes \\& \\<more\\> | 0 | 15 |\n"), "%s", md);
    cr_expect_not_null(strstr(md, "~~yes \\& \\<more\\>~~"));
    free(html);
    free(md);
    free_class_fixture(f);
}

Test(report, models_of_different_targets_are_refused)
{
    class_fixture *f = make_class_fixture(NC);
    f->metrics[2].target = REEL_TARGET_MULTILABEL;
    const char *dir = tmp_path("mixed");
    cr_assert_eq(mkdir(dir, 0777), 0);
    reel_error err = {{0}};
    cr_expect_eq(reel_report_write(dir, &f->r, &err), -1);
    cr_expect_not_null(strstr(err.msg, "model ok has a multilabel target"), "%s", err.msg);
    cr_expect_eq(dir_entries(dir), 0);
    f->metrics[2].target = REEL_TARGET_MULTICLASS;
    free_class_fixture(f);
}
