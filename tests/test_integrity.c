/* End to end, issue 28: inputs that used to crash reel or give a silently
 * wrong answer are refused (one line, the right exit code) or reported. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "util/fileio.h"
#include "util/outfile.h"

static const char *write_data(const char *name) { return tmp_write_two_features(name, 120, 5); }

/* Expects exit `code` and `want` in stderr's one line. */
static void expect_one_line(int rc, char *err, int code, const char *want, const char *what)
{
    cr_expect_eq(rc, code, "%s: exit %d, expected %d: %s", what, rc, code, err ? err : "");
    cr_expect(err && strstr(err, want), "%s: stderr lacks '%s': %s", what, want, err ? err : "(none)");
    int lines = 0;
    for (char *c = err; c && *c; c++)
        lines += *c == '\n';
    cr_expect_eq(lines, 1, "%s: one line expected: %s", what, err ? err : "");
}

Test(threads, out_of_range_is_a_usage_error_naming_the_range)
{
    const char *csv = write_data("threads.csv");
    static const char *const counts[] = {"0", "-3", "4097", "100000"};
    for (size_t q = 0; q < sizeof counts / sizeof *counts; q++) {
        char *out = NULL, *err = NULL;
        int rc = run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --quiet --threads %s", csv,
                           counts[q]);
        expect_one_line(rc, err, 2, "--threads must be 1 to 4096", counts[q]);
        free(out);
        free(err);
    }
    char *err = NULL;
    cr_expect_eq(run_reelf(NULL, &err, "train --model ridge --data %s --labels A,B --quiet --threads 4096", csv), 0,
                 "the bound itself is allowed: %s", err);
    free(err);
}

/* Runs reel and expects a one-line failure with `code` and `want`. */
static void expect_fail(int code, const char *want, const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = run_reel(args, &out, &err);
    expect_one_line(rc, err, code, want, args);
    free(out);
    free(err);
}

Test(labels, a_descriptor_list_keeps_a_name_with_a_comma)
{
    const char *csv = tmp_write("scifi.csv", "x,\"Sci,Fi\",Drama\n1,1,0\n2,0,1\n3,1,1\n4,1,0\n5,0,1\n6,1,0\n"
                                             "7,0,1\n8,1,0\n9,1,1\n10,0,1\n");
    (void)csv;
    const char *desc = tmp_write("scifi.json", "{\"path\": \"scifi.csv\", \"labels\": [\"Sci,Fi\", \"Drama\"]}");
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "train --model prior --data %s --test-fraction 0.3 --quiet --format json", desc);
    cr_expect_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(out && strstr(out, "Sci,Fi"), "%s", out);
    free(out);
    free(err);
    snprintf(args, sizeof args, "train --model prior --data %s --labels Drama,x,Drama --quiet", csv);
    expect_fail(1, "label 'Drama' appears twice (labels 1 and 3)", args);
}

Test(labels, duplicates_and_the_set_separator_are_refused_everywhere)
{
    const char *csv = tmp_write("pipe.csv", "x,A,B,A|B\n1,1,0,0\n2,0,1,1\n3,1,1,0\n4,1,0,1\n5,0,1,0\n6,1,0,0\n");
    char args[1024];
    snprintf(args, sizeof args, "train --model prior --data %s --labels 'A,B,A|B' --quiet", csv);
    expect_fail(1, "label 'A|B' holds '|'", args);
    const char *v = tmp_write("dv.csv", "p_A,A\n0.2,0\n0.9,1\n0.7,1\n"), *t = tmp_write("dt.csv", "p_A\n0.4\n0.8\n");
    snprintf(args, sizeof args, "decide --valid %s --test %s --labels A,A", v, t);
    expect_fail(2, "label 'A' appears twice", args);
}

Test(labels, decide_says_why_it_cannot_score)
{
    const char *v = tmp_write("pv.csv", "p_A,p_B,A,B\n0.2,0.7,0,1\n0.9,0.1,1,0\n0.7,0.6,1,1\n0.1,0.3,0,0\n");
    const char *t = tmp_write("pt.csv", "p_A,p_B,A\n0.4,0.3,1\n0.8,0.9,1\n");
    char args[1024];
    snprintf(args, sizeof args, "decide --valid %s --test %s --labels A,B --decision threshold", v, t);
    expect_fail(1, "label column B is missing, though A is there", args);
}

Test(column_types, a_column_typed_twice_or_a_label_column_typed_is_refused)
{
    const char *csv = tmp_write("ct.csv", "zip,A,B\n02134,1,0\n10001,0,1\n94110,1,1\n60601,1,0\n73301,0,1\n");
    char args[1024];
    snprintf(args, sizeof args, "train --model prior --data %s --labels A,B --quiet --column-type zip=text,zip=number",
             csv);
    expect_fail(2, "column 'zip' is given a type twice", args);
    snprintf(args, sizeof args, "train --model prior --data %s --labels A,B --quiet --column-type A=text", csv);
    expect_fail(1, "--column-type names label column 'A'", args);
}

Test(values, a_number_float32_reads_as_zero_is_refused)
{
    const char *csv = tmp_write("tiny.csv", "x,A,B\n1,1,0\n1e-46,0,1\n3,1,1\n4,1,0\n5,0,1\n");
    char args[1024];
    snprintf(args, sizeof args, "train --model prior --data %s --labels A,B --quiet", csv);
    expect_fail(1, "'1e-46' is too small for float32", args);
}

/* A copy of the built-in definition `model` with params[key] loosened to
 * {min, default} (and no max or exclusive_min), in its own folder. */
static const char *loosened_def(const char *model, const char *key, double min, double dflt)
{
    char rel[128], *text;
    snprintf(rel, sizeof rel, "models/%s.json", model);
    cJSON *def = cJSON_Parse(text = reel_read_file(test_source_path(rel), NULL, NULL));
    free(text);
    cr_assert_not_null(def, "%s", rel);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(def, "params"), key);
    cr_assert_not_null(spec, "%s: no %s", rel, key);
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "exclusive_min");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "max");
    cJSON_ReplaceItemInObjectCaseSensitive(spec, "min", cJSON_CreateNumber(min));
    cJSON_ReplaceItemInObjectCaseSensitive(spec, "default", cJSON_CreateNumber(dflt));
    char dir_name[128];
    snprintf(dir_name, sizeof dir_name, "defs_%s_%s", model, key);
    const char *dir = tmp_path(dir_name);
    mkdir(dir, 0777);
    char *path = reel_path_join(dir, rel + strlen("models/")), *out = cJSON_Print(def);
    reel_write_file_atomic(path, out, NULL);
    free(path);
    cJSON_free(out);
    cJSON_Delete(def);
    return dir;
}

Test(model_defs, a_definition_cannot_widen_its_kinds_limits)
{
    const char *csv = write_data("limits.csv");
    static const struct {
        const char *model, *key;
        double min, dflt;
        const char *want;
    } cases[] = {
        {"forest", "n_estimators", 0, 0, "key 'n_estimators' must be an integer >= 1; got 0"},
        {"ridge", "alpha", -5, -1, "key 'alpha' must be a number >= 0; got -1"},
        {"forest", "min_samples_leaf", -10, -3, "key 'min_samples_leaf' must be a number > 0; got -3"},
        {"tree", "max_depth", 0, 0, "key 'max_depth' must be an integer >= 1, or null; got 0"},
        {"random", "p", 0, 1.5, "key 'p' must be a number >= 0 and <= 1; got 1.5"},
        {"box", "batch_size", 0, 0, "key 'batch_size' must be an integer >= 1 and <= 1048576; got 0"},
    };
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        const char *dir = loosened_def(cases[q].model, cases[q].key, cases[q].min, cases[q].dflt);
        char *out = NULL, *err = NULL;
        int rc = run_reelf(&out, &err, "train --model %s --models-dir %s --data %s --labels A,B --quiet",
                           cases[q].model, dir, csv);
        cr_expect_neq(rc, 0, "%s %s: trained", cases[q].model, cases[q].key);
        cr_expect(err && strstr(err, cases[q].want) && strstr(err, "kind's own limit"), "%s: %s", cases[q].key,
                  err ? err : "");
        free(out);
        free(err);
    }
}

/* x2: numbers, with `text_every`-th cell "unknown" (or, with text_every 0,
 * numbers in the first half and text in the second). */
static const char *write_mixed(const char *name, int text_every)
{
    static char csv[32768];
    strcpy(csv, "x1,x2,A,B\n");
    unsigned s = 9;
    for (int i = 0; i < 300; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 1000;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 1000;
        char x2[32];
        if (text_every ? i % text_every == 5 : i >= 150)
            snprintf(x2, sizeof x2, text_every ? "unknown" : "level%d", b % 7);
        else
            snprintf(x2, sizeof x2, "%d", b);
        sprintf(csv + strlen(csv), "%d,%s,%d,%d\n", a, x2, b > 500, a > 500 || b < 200);
    }
    return tmp_write(name, csv);
}

Test(mixed_columns, a_column_of_numbers_read_as_text_says_which_why_and_how)
{
    static const struct {
        int every;
        const char *why;
    } cases[] = {{10, "because more than 1 in 20 of its cells are text"},
                 {0, "because more than 1 in 20 of its cells are text"}};
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        const char *csv = write_mixed(q ? "mixed_half.csv" : "mixed10.csv", cases[q].every);
        char *out = NULL, *err = NULL;
        cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B", csv), 0, "%s", err);
        cr_expect(err && strstr(err, "warning: column 'x2' holds ") && strstr(err, "it is read as text") &&
                      strstr(err, cases[q].why) && strstr(err, "--column-type x2=number"),
                  "case %zu: %s", q, err ? err : "");
        free(out);
        free(err);
        /* forced: no word */
        cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --column-type x2=number", csv),
                     0, "%s", err);
        cr_expect(!err || !strstr(err, "it is read as text"), "%s", err);
        free(out);
        free(err);
    }
}

Test(no_test_rows, train_says_so_and_writes_null_not_zero)
{
    const char *csv = write_data("untested.csv");
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --test-fraction 0 --format json",
                           csv), 0, "%s", err);
    cr_expect(err && strstr(err, "warning: no test rows (--test-fraction 0)"), "%s", err ? err : "");
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "model"), "metrics");
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(m, "samples_f1")), "samples_f1 is not null: %s", out);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(m, "hamming_accuracy")));
    cJSON_Delete(doc);
    free(out);
    free(err);
    /* a split column without "test" */
    static char text[16384];
    strcpy(text, "x,s,A,B\n");
    for (int i = 0; i < 60; i++)
        sprintf(text + strlen(text), "%d,%s,%d,%d\n", i, i % 5 ? "train" : "valid", i % 3 == 0, i % 2 == 0);
    const char *split = tmp_write("split_no_test.csv", text);
    cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --split-column s --format json",
                           split), 0, "%s", err);
    cr_expect(err && strstr(err, "no test rows (the split column marks no row 'test')"), "%s", err ? err : "");
    cr_expect(out && strstr(out, "\"samples_f1\":\tnull"), "%s", out);
    free(out);
    free(err);
}

/* 60 rows with a text column: colour in {rouge, vert, bleu} spelled `red`, `green`, `blue` (UTF-8 bytes). */
static const char *write_colours(const char *name, const char *red, const char *green, const char *blue)
{
    static char csv[16384];
    strcpy(csv, "x,colour,A,B\n");
    for (int i = 0; i < 60; i++)
        sprintf(csv + strlen(csv), "%d,%s,%d,%d\n", i % 7, i % 3 == 0 ? red : i % 3 == 1 ? green : blue, i % 3 == 0,
                i % 3 != 0 || i % 2 == 0);
    return tmp_write(name, csv);
}

Test(encoding, latin1_on_a_utf8_file_warns_and_the_utf8_error_names_the_flag)
{
    /* UTF-8 "é" (C3 A9) read as Latin-1 */
    const char *utf8 = write_colours("utf8.csv", "r\xc3\xa9" "d", "vert", "bleu");
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "train --model prior --data %s --labels A,B --encoding latin-1", utf8), 0,
                 "%s", err);
    cr_expect(err && strstr(err, "is read as Latin-1 (--encoding latin-1), but its bytes are valid UTF-8") &&
                  strstr(err, "line 2"), "%s", err ? err : "");
    free(out);
    free(err);
    /* a real Latin-1 file ("é" is E9): no such warning, and read as UTF-8 it is refused naming the flag */
    const char *latin1 = write_colours("latin1.csv", "r\xe9" "d", "vert", "bleu");
    cr_assert_eq(run_reelf(&out, &err, "train --model prior --data %s --labels A,B --encoding latin-1", latin1), 0,
                 "%s", err);
    cr_expect(!err || !strstr(err, "valid UTF-8"), "%s", err);
    free(out);
    free(err);
    cr_expect_eq(run_reelf(&out, &err, "train --model prior --data %s --labels A,B --quiet", latin1), 1);
    cr_expect(err && strstr(err, "is not UTF-8 text") && strstr(err, "--encoding latin-1"), "%s", err ? err : "");
    free(out);
    free(err);
}

Test(encoding, predict_warns_when_most_categories_are_unseen)
{
    const char *train = write_colours("seen.csv", "red", "green", "blue");
    const char *model = tmp_path("colours.model");
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --quiet --save %s", train, model),
                 0, "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run_reelf(&out, &err, "predict --model-file %s --data %s", model, train), 0, "%s", err);
    cr_expect(!err || !strstr(err, "categories the model was trained on"), "the same data: %s", err);
    free(out);
    free(err);
    const char *other = write_colours("unseen.csv", "RED", "GREEN", "blue");
    cr_assert_eq(run_reelf(&out, &err, "predict --model-file %s --data %s", model, other), 0, "%s", err);
    cr_expect(err && strstr(err, "column 'colour': 40 of 60 values (67%; first: line 2, 'RED') are none of the 3 "
                                 "categories the model was trained on"), "%s", err ? err : "");
    free(out);
    free(err);
}

Test(decision, a_rule_fitted_on_one_validation_row_warns)
{
    const char *csv = tmp_write("one_valid.csv", "x,A,B\n1,1,0\n2,0,1\n3,1,1\n4,1,0\n5,0,1\n6,1,0\n7,0,1\n8,1,0\n"
                                                 "9,1,1\n10,0,1\n11,1,0\n12,0,1\n");
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --decision expected-f1+calibrated "
                           "--valid-fraction 0.1", csv), 0, "%s", err);
    cr_expect(err && strstr(err, "decision rule expected-f1+calibrated is fitted on only 1 validation row"), "%s",
              err ? err : "");
    free(out);
    free(err);
}

Test(messages, pos_weight_and_a_repeated_base_say_what_is_wrong)
{
    const char *csv = write_data("msgs.csv");
    const char *pw = tmp_write("pw.json", "{\"box\": {\"pos_weight\": 1e308}}");
    char args[1024];
    snprintf(args, sizeof args, "train --model box --params %s --data %s --labels A,B --quiet", pw, csv);
    expect_fail(1, "a number > 0 and < 1e30, a list of such numbers (one per label) or \"balanced\"; got 1e+308", args);
    const char *base = tmp_write("base2.json", "{\"mynet\": {\"base\": \"box\", \"base\": \"u\"}}");
    snprintf(args, sizeof args, "train --model mynet --params %s --data %s --labels A,B --quiet", base, csv);
    expect_fail(2, "key 'mynet.base' appears twice; name one base model", args);
}

Test(mixed_columns, a_column_read_as_numbers_says_how_to_read_it_as_text)
{
    const char *csv = write_mixed("mixed40.csv", 40);
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "train --model ridge --data %s --labels A,B", csv), 0, "%s", err);
    cr_expect(err && strstr(err, "it is read as numbers, its text cells as missing, because at most 1 in 20") &&
                  strstr(err, "--column-type x2=text reads the column as text"), "%s", err ? err : "");
    free(out);
    free(err);
}

Test(no_test_rows, compare_shows_no_scores)
{
    const char *csv = write_data("untested_cmp.csv");
    char *out = NULL, *err = NULL;
    cr_assert_eq(run_reelf(&out, &err, "compare --models prior,ridge --data %s --labels A,B --test-fraction 0 --quiet",
                           csv), 0, "%s", err);
    cr_expect(err && strstr(err, "warning: no test rows"), "%s", err ? err : "");
    cr_expect(out && !strstr(out, "0.0000"), "a score of zero rows: %s", out ? out : "");
    free(out);
    free(err);
}

/* search and select warn as train does, print no score of zero rows, and
 * write null test metrics */
Test(no_test_rows, search_and_select_say_so)
{
    const char *csv = write_data("untested_tune.csv");
    const char *cmds[] = {"search --model tree --folds 2", "select --model tree --folds 2"};
    for (size_t q = 0; q < 2; q++) {
        char *out = NULL, *err = NULL;
        cr_assert_eq(run_reelf(&out, &err, "%s --data %s --labels A,B --test-fraction 0", cmds[q], csv), 0, "%s", err);
        cr_expect(err && strstr(err, "warning: no test rows (--test-fraction 0)"), "%s: %s", cmds[q], err ? err : "");
        cr_expect(out && strstr(out, "not measured (no test rows)") && !strstr(out, ": 0.0000"), "%s: %s", cmds[q],
                  out ? out : "");
        free(out);
        free(err);
        cr_assert_eq(run_reelf(&out, &err, "%s --data %s --labels A,B --test-fraction 0 --format json", cmds[q], csv),
                     0, "%s", err);
        cJSON *doc = cJSON_Parse(out);
        cr_assert_not_null(doc, "%s", out);
        cr_expect(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "test_metrics"), "samples_f1")), "%s: %s",
                  cmds[q], out);
        cJSON_Delete(doc);
        free(out);
        free(err);
    }
}
