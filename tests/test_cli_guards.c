/* End to end: what reel refuses or reports instead of answering silently
 * wrong (issue 17): outputs that would replace inputs, output folders that
 * mix runs, unchecked model files, flags out of range, unbounded reads. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "util/fileio.h"
#include "util/outfile.h"

static const char *write_data(const char *name) { return tmp_write_two_features(name, 120, 11); }

/* Runs reel with printf-style arguments (also written to args, for messages). */
static int vreel(char *args, size_t size, char **out, char **err, const char *fmt, va_list ap)
{
    vsnprintf(args, size, fmt, ap);
    return run_reel(args, out, err);
}

/* Runs reel; returns the exit code and keeps stderr in *err (caller frees). */
static int reel(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reel(char **err, const char *fmt, ...)
{
    char args[4096];
    char *out = NULL, *e = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vreel(args, sizeof args, &out, &e, fmt, ap);
    va_end(ap);
    free(out);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

/* Entries of dir whose name contains sub. */
static int entries_with(const char *dir, const char *sub)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, sub) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* A pid no process has: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

/* Runs reel and expects exit `code` with `want` in a one-line stderr. */
static void expect_fail(int code, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect_fail(int code, const char *want, const char *fmt, ...)
{
    char args[4096];
    char *out = NULL, *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vreel(args, sizeof args, &out, &err, fmt, ap);
    va_end(ap);
    cr_expect_eq(rc, code, "reel %s: exit %d, expected %d: %s", args, rc, code, err ? err : "");
    cr_expect(err && strstr(err, want), "reel %s: stderr lacks '%s': %s", args, want, err ? err : "(none)");
    int lines = 0;
    for (char *c = err; c && *c; c++)
        lines += *c == '\n';
    cr_expect_eq(lines, 1, "reel %s: one line expected: %s", args, err ? err : "");
    free(out);
    free(err);
}

Test(outputs, an_output_that_is_an_input_is_refused)
{
    const char *csv = write_data("same.csv");
    char *before = reel_read_file(csv, NULL, NULL), *err;
    const char *model = tmp_path("same.model");
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, model), 0, "%s",
                 err);
    free(err);
    expect_fail(1, "is the same file as the input",
                "predict --model-file %s --data %s --out %s --quiet", model, csv, csv);
    /* a hard link is the same file under another name */
    const char *link_path = tmp_path("same_link.csv");
    remove(link_path);
    cr_assert_eq(link(csv, link_path), 0);
    expect_fail(1, "is the same file as the input",
                "train --model prior --data %s --labels A,B --quiet --save %s", csv, link_path);
    expect_fail(1, "is the same file as the input", "export --model-file %s --format json --out %s", model, model);
    expect_fail(1, "is the same file as the input",
                "predict --model-file %s --data %s --out %s --quiet", model, csv, model);
    char *after = reel_read_file(csv, NULL, NULL);
    cr_assert(before && after);
    cr_expect_str_eq(after, before, "the input was changed");
    free(before);
    free(after);
    /* the model still loads: it was not replaced */
    cr_expect_eq(reel(&err, "info --model-file %s", model), 0, "%s", err);
    free(err);
}

Test(outputs, an_out_folder_holding_an_input_is_refused)
{
    const char *dir = tmp_path("in_out_dir");
    mkdir(dir, 0777);
    char *csv = reel_path_join(dir, "data.csv");
    char *text = reel_read_file(write_data("src.csv"), NULL, NULL);
    reel_write_file_atomic(csv, text, NULL);
    expect_fail(1, "reel replaces the whole folder",
                "compare --data %s --labels A,B --models prior --quiet --out %s", csv, dir);
    cr_expect(file_exists(csv), "the input is still there");
    free(csv);
    free(text);
}

Test(outputs, save_to_an_unwritable_place_fails_before_training)
{
    const char *csv = write_data("unw.csv"), *ck = tmp_path("unw.ckpt");
    remove(ck);
    expect_fail(1, "cannot write there", "train --model box --epochs 2 --data %s --labels A,B --quiet --checkpoint %s "
                    "--save /nonexistent-reel-dir/m.safetensors", csv, ck);
    cr_expect(!file_exists(ck), "an epoch was trained before the --save path was checked");
    expect_fail(1, "is a folder", "train --model prior --data %s --labels A,B --quiet --save %s", csv, tmp_path(""));
}

Test(outputs, an_out_folder_holds_one_run)
{
    const char *csv = write_data("one.csv"), *dir = tmp_path("one_run");
    char *err;
    cr_assert_eq(reel(&err, "compare --data %s --labels A,B --models random,prior --quiet --out %s", csv, dir), 0,
                 "%s", err);
    free(err);
    cr_expect_eq(dir_entries(dir), 5);
    /* a run with fewer models replaces the folder: no predictions of the first run remain */
    cr_assert_eq(reel(&err, "compare --data %s --labels A,B --models prior --quiet --out %s", csv, dir), 0, "%s",
                 err);
    free(err);
    cr_expect_eq(dir_entries(dir), 4, "metrics.json, report.html, report.md, predictions_prior.csv");
    char *p = reel_path_join(dir, "predictions_random.csv");
    cr_expect(!file_exists(p), "the earlier run's predictions_random.csv is still there");
    free(p);
    /* train, search and select replace it too (each writes its own files) */
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --out %s", csv, dir), 0, "%s", err);
    free(err);
    cr_expect_eq(dir_entries(dir), 2, "metrics.json, predictions.csv");
    cr_expect_eq(entries_with(tmp_path(""), "reel-stage"), 0, "no stage folder left");
    /* a folder with a file reel does not write is refused before any work */
    char *mine = reel_path_join(dir, "notes.txt");
    reel_write_file_atomic(mine, "mine\n", NULL);
    expect_fail(1, "holds 'notes.txt', which reel does not write",
                "compare --data %s --labels A,B --models prior --quiet --out %s", csv, dir);
    cr_expect(file_exists(mine));
    free(mine);
}

Test(outputs, failed_runs_leave_no_stage_and_stale_ones_are_removed)
{
    const char *csv = tmp_write("fail.csv", "x,A,B\n1,1,0\n2,0,1\n3,1,1\n4,1,0\n5,0,1\n6,1,0\n");
    const char *dir = tmp_path("fail_out");
    char *err;
    /* knn needs more rows: every model fails, nothing is written, the stage is removed */
    cr_expect_eq(reel(&err, "compare --data %s --labels A,B --models knn --quiet --out %s", csv, dir), 1);
    cr_expect(err && strstr(err, "every model failed"), "%s", err);
    free(err);
    cr_expect(!file_exists(dir));
    cr_expect_eq(entries_with(tmp_path(""), "fail_out.reel-stage"), 0, "the stage folder was left behind");

    /* a dead run's stage folder and temporary file are removed by the next run */
    char stale[600], stale_file[600];
    long pid = dead_pid();
    snprintf(stale, sizeof stale, "%s/.fail_out.reel-stage.%ld", tmp_path(""), pid);
    mkdir(stale, 0777);
    char *inside = reel_path_join(stale, "metrics.json");
    reel_write_file_atomic(inside, "{}\n", NULL);
    free(inside);
    const char *model = tmp_path("stale.model"), *preds = tmp_path("stale_preds.csv");
    snprintf(stale_file, sizeof stale_file, "%s/.reel-%ld-0", tmp_path(""), pid);
    tmp_write("stale_src.csv", "");
    FILE *fp = fopen(stale_file, "w");
    cr_assert(fp);
    fputs("half", fp);
    fclose(fp);
    const char *data = write_data("stale_data.csv");
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s --out %s", data, model,
                      dir), 0, "%s", err);
    free(err);
    cr_expect(!file_exists(stale), "a dead run's stage folder is still there");
    cr_assert_eq(reel(&err, "predict --model-file %s --data %s --out %s --quiet", model, data, preds), 0, "%s", err);
    free(err);
    cr_expect(!file_exists(stale_file), "a dead run's temporary file is still there");
    cr_expect(file_exists(preds));
}

Test(model_files, a_checkpoint_is_named_as_one)
{
    const char *csv = write_data("ck.csv"), *ck = tmp_path("named.ckpt");
    remove(ck);
    char *err;
    cr_assert_eq(reel(&err, "train --model box --epochs 1 --data %s --labels A,B --quiet --checkpoint %s", csv, ck),
                 0, "%s", err);
    free(err);
    expect_fail(1, "is a net's training checkpoint (reel train --checkpoint), not a model file",
                "predict --model-file %s --data %s --quiet", ck, csv);
    expect_fail(1, "is a net's training checkpoint", "info --model-file %s", ck);
}

/* Seeds 2^53 and 2^53 + 1 are the same double: saved as numbers, the two
 * random baselines came back as one. */
Test(model_files, a_64_bit_seed_survives_saving)
{
    /* a split column: the seed changes nothing but the model's own draws */
    char text[8192] = "s,x,A,B\n";
    for (int i = 0; i < 100; i++)
        sprintf(text + strlen(text), "%s,%d,%d,%d\n", i % 5 ? "train" : "test", i, i % 2, i % 3 == 0);
    const char *csv = tmp_write("seed.csv", text);
    char *pred[2];
    const char *seeds[2] = {"9007199254740992", "9007199254740993"};
    for (int k = 0; k < 2; k++) {
        const char *m = tmp_path(k ? "seed_b.model" : "seed_a.model");
        const char *o = tmp_path(k ? "seed_b.csv" : "seed_a.csv");
        char *err;
        cr_assert_eq(reel(&err, "train --model random --data %s --labels A,B --split-column s --quiet --seed %s "
                          "--save %s", csv,
                          seeds[k], m), 0, "%s", err);
        free(err);
        cr_assert_eq(reel(&err, "predict --model-file %s --data %s --out %s --quiet", m, csv, o), 0, "%s", err);
        free(err);
        pred[k] = reel_read_file(o, NULL, NULL);
        cr_assert_not_null(pred[k]);
    }
    cr_expect_str_neq(pred[0], pred[1], "two seeds gave the same predictions after loading");
    free(pred[0]);
    free(pred[1]);
}

Test(messages, an_empty_header_cell_is_named_as_empty)
{
    const char *csv = tmp_write("emptyhdr.csv", "column2,,A,B\n1,2,1,0\n3,4,0,1\n");
    expect_fail(1, "column 2 has an empty header cell, so reel names it 'column2', but column 1 is also called",
                "compare --data %s --labels A,B --models prior --quiet", csv);
}

/* 20,000 columns: every one found by name, duplicates still caught (the
 * names are hashed; bench/ has the timing). */
Test(messages, many_columns_load_and_a_late_duplicate_is_caught)
{
    size_t n = 20000;
    char *text = malloc(n * 16 + 64);
    size_t at = 0;
    for (size_t j = 0; j < n; j++)
        at += (size_t)sprintf(text + at, "f%zu,", j);
    at += (size_t)sprintf(text + at, "A,B\n");
    for (size_t j = 0; j < n; j++)
        at += (size_t)sprintf(text + at, "%zu,", j % 7);
    sprintf(text + at, "1,0\n");
    const char *csv = tmp_write("wide.csv", text);
    char *err;
    cr_expect_eq(reel(&err, "compare --data %s --labels A,B --models prior --test-fraction 0 --valid-fraction 0 "
                      "--quiet", csv), 0, "%s", err);
    free(err);
    memcpy(strstr(text, "f19999,"), "f12345,", 7);
    csv = tmp_write("wide_dup.csv", text);
    expect_fail(1, "duplicate column name 'f12345' (columns 12346 and 20000)",
                "compare --data %s --labels A,B --models prior --quiet", csv);
    free(text);
}

/* Out-of-range values are usage errors (exit 2) naming the allowed range,
 * never quietly the default. */
Test(flags, out_of_range_values_are_usage_errors)
{
    const char *csv = write_data("flags.csv");
    struct {
        const char *args, *expect;
    } cases[] = {
        {"train --model box --epochs 0", "--epochs must be an integer >= 1 and <= 100000; got 0"},
        {"train --model box --batch-size 0", "--batch-size must be an integer >= 1"},
        {"train --model box --lr 0", "--lr must be a number > 0 and <= 10; got 0"},
        {"train --model prior --threads 0", "--threads must be 1 to 4096"},
        {"compare --models prior --threads -1", "--threads must be 1 to 4096"},
        {"search --model prior --strategy random --budget -1", "--budget must be >= 1"},
        {"compare --models prior --test-fraction 1.5", "--test-fraction must be in [0, 1), got 1.5"},
        {"compare --models prior --valid-fraction 1", "--valid-fraction must be in [0, 1), got 1"},
        {"compare --models prior --top-categories 0", "--top-categories must be >= 1, got 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_fail(2, cases[i].expect, "%s --data %s --labels A,B --quiet", cases[i].args, csv);
    expect_fail(2, "--threads must be 1 to 4096", "predict --model-file x --data %s --threads 0", csv);
}

/* predict checks --threads as every command does (it used to drop it). */
Test(flags, predict_refuses_a_bad_thread_count)
{
    const char *csv = write_data("threads.csv");
    const char *model = tmp_path("threads.model");
    char *err;
    cr_assert_eq(reel(&err, "train --model prior --data %s --labels A,B --quiet --save %s", csv, model), 0, "%s",
                 err);
    free(err);
    expect_fail(2, "--threads must be 1 to 4096", "predict --model-file %s --data %s --threads -2 --quiet", model, csv);
}

/* Params, grids, feature lists: a repeated key, a number a double cannot
 * hold, a runaway file; a folder or a device where a file belongs. */
Test(inputs, json_files_are_read_strictly_and_bounded)
{
    const char *csv = write_data("json.csv");
    const char *dup = tmp_write("dup.json", "{\"tree\": {\"max_depth\": 3, \"max_depth\": 5}}");
    expect_fail(1, "dup.json: key 'tree.max_depth' appears twice",
                "train --model tree --data %s --labels A,B --params %s --quiet", csv, dup);
    const char *dup_model = tmp_write("dupm.json", "{\"tree\": {}, \"tree\": {\"max_depth\": 5}}");
    expect_fail(1, "key 'tree' appears twice", "compare --models tree --data %s --labels A,B --params %s --quiet",
                csv, dup_model);
    const char *big = tmp_write("big.json", "{\"ridge\": {\n\"alpha\": 1e400}}");
    expect_fail(1, "big.json:2: 1e400 is beyond the range of a double",
                "train --model ridge --data %s --labels A,B --params %s --quiet", csv, big);
    const char *tiny = tmp_write("tiny.json", "{\"ridge\": {\"alpha\": 1e-400}}");
    expect_fail(1, "tiny.json:1: 1e-400 is too small for a double",
                "train --model ridge --data %s --labels A,B --params %s --quiet", csv, tiny);
    expect_fail(1, "more than the 16 MiB a params file can be",
                "train --model ridge --data %s --labels A,B --params /dev/zero --quiet", csv);
    expect_fail(1, "more than the 16 MiB a params file can be",
                "search --model ridge --data %s --labels A,B --grid /dev/zero --quiet", csv);
    expect_fail(1, "more than the 16 MiB a --features file can be",
                "train --model ridge --data %s --labels A,B --features /dev/zero --quiet", csv);
    expect_fail(1, "/dev/zero: not a regular file", "predict --model-file /dev/zero --data %s --quiet", csv);
    expect_fail(1, "is a folder, not a file", "train --model prior --data %s --labels A,B --params %s --quiet", csv,
                tmp_path(""));
}

/* Text that is not UTF-8 never reaches JSON outputs or model files. */
Test(inputs, csv_text_must_be_utf8_and_messages_name_the_cause)
{
    const char *latin1 = tmp_write("latin1.csv", "name,x,A,B\nok,1,1,0\nCaf\xe9,2,0,1\n");
    expect_fail(1, "latin1.csv:3: column 1: byte 0xE9 is not UTF-8 text",
                "compare --data %s --labels A,B --models prior --quiet", latin1);
    const char *bad_seq = tmp_write("badseq.csv", "name,x,A,B\nok,1,1,0\nx,\xc3\x28,0,1\n");
    expect_fail(1, "badseq.csv:3: column 2: byte 0xC3 is not UTF-8", "compare --data %s --labels A,B --quiet",
                bad_seq);
    const char *utf8 = tmp_write("utf8.csv", "name,x,A,B\nCaf\xc3\xa9,1,1,0\n\xe6\x98\xa0\xe7\x94\xbb,2,0,1\n"
                                              "\xf0\x9f\x8e\xac,3,1,1\n");
    char *err;
    cr_expect_eq(reel(&err, "compare --data %s --labels A,B --id name --models prior --test-fraction 0 "
                      "--valid-fraction 0 --format json --quiet", utf8), 0, "%s", err);
    free(err);
    /* UTF-16 is named, not reported as a NUL byte */
    const char *u16 = tmp_path("utf16.csv");
    FILE *fp = fopen(u16, "wb");
    cr_assert_not_null(fp);
    fwrite("\xff\xfex\0,\0A\0\n\0", 1, 10, fp);
    fclose(fp);
    expect_fail(1, "the file is UTF-16 text; reel reads UTF-8", "compare --data %s --labels A --quiet", u16);
    expect_fail(1, "is a folder, not a CSV file", "compare --data %s --labels A --quiet", tmp_path(""));
}

/* Label names with a comma or a quote: each p_<label> header is one RFC
 * 4180 field, in predictions.csv and in predict's CSV; names differing only
 * in case are warned about. */
Test(outputs, prediction_headers_are_quoted_whole)
{
    char text[8192] = "id,x,genres\n";
    const char *genres[] = {"Dr,ama", "Say \"\"hi\"\"|drama", "Drama"};
    for (int i = 0; i < 60; i++)
        sprintf(text + strlen(text), "m%d,%d,\"%s\"\n", i, i, genres[i % 3]);
    const char *csv = tmp_write("quoted.csv", text), *dir = tmp_path("quoted_out"), *model = tmp_path("q.model");
    char *err;
    cr_assert_eq(reel(&err, "train --model prior --data %s --label-column genres --id id --out %s --save %s", csv,
                      dir, model), 0, "%s", err);
    cr_expect(err && strstr(err, "labels 'Drama' and 'drama' differ only in case"), "%s", err);
    free(err);
    char *path = reel_path_join(dir, "predictions.csv");
    char *pred = reel_read_file(path, NULL, NULL);
    free(path);
    cr_assert_not_null(pred);
    cr_expect(strstr(pred, ",\"p_Dr,ama\","), "%.200s", pred);
    cr_expect(strstr(pred, ",\"p_Say \"\"hi\"\"\""), "%.200s", pred);
    free(pred);
    char *out;
    char args[2048];
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format csv --quiet", model, csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, ",\"p_Dr,ama\",") && strstr(out, ",\"p_Say \"\"hi\"\"\""), "%.200s", out);
    free(out);
    free(err);
}

/* Column types are decided once from all the cells: text columns keep each
 * cell's own text, a few text cells among numbers are reported and read as
 * missing (or refused), and predict reads a one-hot column as text. */
Test(columns, types_are_decided_once_and_reported)
{
    /* zip: numbers first, then text: a text column whose categories are the cells as written */
    char text[16384] = "zip,v,A,B\n";
    const char *zips[] = {"07", "0.1", "q"};
    for (int i = 0; i < 90; i++) {
        int z = i < 30 ? i % 2 : i % 3; /* the first text cell comes on line 32 */
        sprintf(text + strlen(text), "%s,%d,%d,%d\n", zips[z], i % 11, z == 0, z != 0);
    }
    const char *csv = tmp_write("zips.csv", text);
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior --format json --quiet", csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\"zip=07\"") && strstr(out, "\"zip=0.1\""), "categories re-rendered: %.600s", out);
    cr_expect(!strstr(out, "0.10000000000000001") && !strstr(out, "\"zip=7\""), "%.600s", out);
    free(out);
    free(err);

    /* predict: the same column all numbers in new data still matches the saved categories */
    const char *model = tmp_path("zips.model");
    snprintf(args, sizeof args, "train --model tree --data %s --labels A,B --test-fraction 0 --save %s --quiet", csv,
             model);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    char fresh[4096] = "zip,v,A,B\n";
    for (int i = 0; i < 40; i++)
        sprintf(fresh + strlen(fresh), "%s,%d,%d,%d\n", zips[i % 2], i % 11, i % 2 == 0, i % 2 == 1);
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format csv", model,
             tmp_write("zips_new.csv", fresh));
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(err && strstr(err, "samples-F1 1.0000"), "%s", err);
    free(out);
    free(err);

    /* one text cell in 60 numbers: a warning naming it, the column stays numeric */
    char mixed[8192] = "a,A,B\n";
    for (int i = 0; i < 60; i++) {
        char cell[16];
        snprintf(cell, sizeof cell, i == 20 ? "\"1,5\"" : "%d", i);
        sprintf(mixed + strlen(mixed), "%s,%d,%d\n", cell, i % 2, i % 3 == 0);
    }
    const char *mcsv = tmp_write("mixed.csv", mixed);
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior --format json", mcsv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(err && strstr(err, "column 'a' holds numbers and 1 text cell (first: line 22, '1,5'); it is read as "
                                 "numbers, its text cells as missing"), "%s", err);
    cr_expect(strstr(out, "\"features\":") && strstr(out, "\"a\""), "%.400s", out);
    cr_expect(!strstr(out, "a=1,5"), "one-hot of a mostly numeric column: %.400s", out);
    free(out);
    free(err);
    expect_fail(1, "mixed.csv:22: column 1 ('a'): '1,5' is text in a column of numbers (1 of 60 cells)",
                "compare --data %s --labels A,B --models prior --mixed-columns error --quiet", mcsv);
    expect_fail(2, "--mixed-columns must be missing, error or text",
                "compare --data %s --labels A,B --models prior --mixed-columns maybe --quiet", mcsv);
}

/* The feature matrices are estimated before they are built: a one-hot too
 * wide for the memory is refused with the numbers and the flag to change. */
Test(inputs, a_one_hot_too_wide_for_memory_is_refused_before_building)
{
    char text[16384] = "title,x,A,B\n";
    for (int i = 0; i < 300; i++)
        sprintf(text + strlen(text), "film %d,%d,%d,%d\n", i, i % 7, i % 2, i % 3 == 0);
    const char *csv = tmp_write("titles.csv", text);
    setenv("REEL_MEMORY_BYTES", "200000", 1);
    expect_fail(1, "column 'title' alone gives 16",
                "compare --data %s --labels A,B --models prior --top-categories 1000 --valid-fraction 0 --quiet", csv);
    char *err;
    cr_expect_eq(reel(&err, "compare --data %s --labels A,B --models prior --quiet", csv), 0, "%s", err);
    free(err);
    unsetenv("REEL_MEMORY_BYTES");
}

/* predict on a column the model reads as numbers but here mostly text: the
 * message names the first text cell, not the first row. */
Test(messages, predict_type_error_names_the_text_cell)
{
    const char *csv = write_data("typed.csv"), *model = tmp_path("typed.model");
    char *err;
    cr_assert_eq(reel(&err, "train --model tree --data %s --labels A,B --save %s --quiet", csv, model), 0, "%s", err);
    free(err);
    const char *fresh = tmp_write("typed_new.csv", "name,a,b\nf1,1,2\nf2,2,3\nf3,x,4\nf4,y,5\nf5,z,6\n");
    expect_fail(1, "typed_new.csv:4: column 'a': 'x' is not a number", "predict --model-file %s --data %s --quiet",
                model, fresh);
}

/* --column-type forces a column's type: zip codes forced to text keep their
 * leading zeros; a column forced to number reads its text cells per
 * --mixed-columns, and predict reads it the same way (from the model file). */
Test(inputs, column_type_forces_a_type_and_the_model_keeps_it)
{
    static const char *zips[] = {"02134", "10001", "00501"};
    char text[8192] = "zip,v,A,B\n";
    for (int i = 0; i < 60; i++)
        sprintf(text + strlen(text), "%s,%s,%d,%d\n", zips[i % 3], i % 2 ? "n/a!" : (i % 4 ? "3" : "7"), i % 3 == 0,
                i % 3 != 0);
    const char *csv = tmp_write("typed_zip.csv", text), *model = tmp_path("typed_zip.model");
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior --format json "
             "--column-type zip=text,v=number", csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\"zip=02134\"") && strstr(out, "\"zip=00501\""), "%.600s", out);
    cr_expect(strstr(out, "\"v\"") && !strstr(out, "v=n/a!"), "v forced to number: %.600s", out);
    cr_expect(err && strstr(err, "column 'v' holds numbers and 30 text cells"), "%s", err);
    free(out);
    free(err);
    /* without forcing: zip is numbers (2134), v is text */
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior --format json", csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(!strstr(out, "zip=02134") && strstr(out, "v=n/a!"), "%.600s", out);
    free(out);
    free(err);
    expect_fail(1, "'n/a!' is text in a column of numbers (30 of 60 cells)",
                "compare --data %s --labels A,B --models prior --column-type v=number --mixed-columns error --quiet",
                csv);
    expect_fail(1, "--column-type: 'nope' is not a column of", "compare --data %s --labels A,B --models prior "
                "--column-type nope=text --quiet", csv);
    expect_fail(2, "--column-type: unknown type 'date' for column 'zip'", "compare --data %s --labels A,B "
                "--models prior --column-type zip=date --quiet", csv);
    /* the model file keeps the forced types: predict reads v as numbers though most of it is text */
    cr_assert_eq(reel(&err, "train --model tree --data %s --labels A,B --column-type zip=text,v=number --save %s "
                      "--quiet", csv, model), 0, "%s", err);
    free(err);
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format csv", model, csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(err && strstr(err, "samples-F1 1.0000"), "%s", err);
    free(out);
    free(err);
}

/* A column's type comes from the training rows alone: text cells only in the
 * test rows do not make a column of numbers text. */
Test(columns, types_come_from_the_training_rows)
{
    char text[8192] = "v,split,A,B\n";
    for (int i = 0; i < 60; i++) {
        int test = i >= 50;
        char cell[16];
        snprintf(cell, sizeof cell, test ? "oops%d" : "%d", i % 7);
        sprintf(text + strlen(text), "%s,%s,%d,%d\n", cell, test ? "test" : "train", i % 2, i % 2 == 0);
    }
    const char *csv = tmp_write("test_text.csv", text);
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --split-column split --models prior --format json",
             csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\"v\"") && !strstr(out, "v=oops"), "the test rows' text made v text: %.600s", out);
    cr_expect(err && strstr(err, "column 'v' holds numbers and 10 text cells (first: line 52, 'oops1')"), "%s", err);
    free(out);
    free(err);
    expect_fail(1, "test_text.csv:52: column 1 ('v'): 'oops1' is text in a column of numbers",
                "compare --data %s --labels A,B --split-column split --models prior --mixed-columns error --quiet",
                csv);
}

/* --encoding latin-1 converts a Latin-1 file to UTF-8 (without it the same
 * byte is refused as not UTF-8). */
Test(inputs, encoding_latin1_converts_to_utf8)
{
    char text[8192] = "city,v,A,B\n";
    for (int i = 0; i < 40; i++)
        sprintf(text + strlen(text), "%s,%d,%d,%d\n", i % 2 ? "M\xfcnchen" : "Z\xfcrich", i % 5, i % 2, i % 2 == 0);
    const char *csv = tmp_write("latin1.csv", text);
    expect_fail(1, "byte 0xFC is not UTF-8 text", "compare --data %s --labels A,B --models prior --quiet", csv);
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior --format json --encoding latin-1 "
             "--quiet", csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\"city=M\xc3\xbcnchen\"") && strstr(out, "\"city=Z\xc3\xbcrich\""), "%.600s", out);
    free(out);
    free(err);
    expect_fail(2, "--encoding must be utf-8 or latin-1, got 'ebcdic'",
                "compare --data %s --labels A,B --models prior --encoding ebcdic --quiet", csv);
}
