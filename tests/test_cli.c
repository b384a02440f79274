/* End to end: the reel binary on small CSVs the test writes itself. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "util/fileio.h"

/* 200 rows, two informative features, three labels. */
static const char *write_small(void)
{
    static char csv[32768];
    strcpy(csv, "name,a,b,colour,L1,L2,L3\n");
    unsigned s = 7;
    for (int i = 0; i < 200; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 100;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 100;
        const char *colour = (i % 3 == 0) ? "red" : (i % 3 == 1 ? "\"dark, blue\"" : "");
        sprintf(csv + strlen(csv), "film %d,%d,%d,%s,%d,%d,%d\n", i, a, b, colour, a > 50, b > 30,
                (a <= 50 && b <= 30) || (a + b) % 2);
    }
    return tmp_write("small.csv", csv);
}

Test(cli, compare_json_schema)
{
    const char *csv = write_small();
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "compare --data %s --labels L1,L2,L3 --id name --models random,prior "
             "--format json --quiet", csv);
    int rc = run_reel(args, &out, &err);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "stdout is not JSON: %s", out);
    const cJSON *ds = cJSON_GetObjectItem(doc, "dataset");
    cr_expect_eq(cJSON_GetObjectItem(ds, "rows")->valueint, 200);
    cr_expect_eq(cJSON_GetObjectItem(ds, "test")->valueint, 40);
    cr_expect_eq(cJSON_GetObjectItem(ds, "train")->valueint + cJSON_GetObjectItem(ds, "valid")->valueint, 160);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ds, "labels")), 3);
    /* a, b, colour=red, colour=dark, blue, colour=other */
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ds, "features")), 5);
    const cJSON *models = cJSON_GetObjectItem(doc, "models");
    cr_assert_eq(cJSON_GetArraySize(models), 2);
    const char *keys[] = {"samples_f1", "samples_precision", "samples_recall", "micro_f1", "macro_f1",
                          "hamming_accuracy", "subset_accuracy", "per_label"};
    const cJSON *m;
    cJSON_ArrayForEach(m, models)
    {
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(m, "name")));
        cr_expect(cJSON_IsObject(cJSON_GetObjectItem(m, "params")));
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(m, "device")));
        cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(m, "fit_seconds")));
        cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(m, "predict_seconds")));
        const cJSON *met = cJSON_GetObjectItem(m, "metrics");
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            cr_expect_not_null(cJSON_GetObjectItem(met, keys[k]), "metrics lack %s", keys[k]);
        double f1 = cJSON_GetObjectItem(met, "samples_f1")->valuedouble;
        cr_expect(f1 >= 0 && f1 <= 1);
    }
    cJSON_Delete(doc);
    free(out);
    free(err);
}

Test(cli, compare_table_and_outputs)
{
    const char *csv = write_small();
    const char *dir = tmp_path("out_ok");
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "compare --data %s --labels L1,L2,L3 --id name --models random,prior --out %s",
             csv, dir);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    const char *cols[] = {"model", "samples-F1", "precision", "recall", "micro-F1", "macro-F1", "hamming",
                          "fit s", "predict s"};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        cr_expect(strstr(out, cols[k]) != NULL, "leaderboard lacks column %s", cols[k]);
    cr_expect(strstr(out, "random") && strstr(out, "prior"));
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    cr_expect(file_exists(path));
    snprintf(path, sizeof path, "%s/predictions_random.csv", dir);
    char *pred = reel_read_file(path, NULL, NULL);
    cr_assert_not_null(pred);
    cr_expect(strncmp(pred, "name,true,predicted,p_L1,p_L2,p_L3\n", 35) == 0, "header: %.60s", pred);
    int lines = 0;
    for (char *s = pred; *s; s++)
        lines += *s == '\n';
    cr_expect_eq(lines, 41, "header + 40 test rows");
    cr_expect_eq(dir_entries(dir), 5, "metrics.json, report.html, report.md, 2 prediction files; no temp files");
    /* The report carries the numbers of metrics.json. */
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    char *mj = reel_read_file(path, NULL, NULL);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = reel_read_file(path, NULL, NULL);
    cr_assert(mj && html);
    cJSON *doc = cJSON_Parse(mj);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "models"))
    {
        char num[32];
        snprintf(num, sizeof num, "%.4f",
                 cJSON_GetObjectItem(cJSON_GetObjectItem(m, "metrics"), "samples_f1")->valuedouble);
        cr_expect(strstr(html, num), "report.html lacks %s's samples-F1 %s", cJSON_GetObjectItem(m, "name")->valuestring,
                  num);
    }
    cr_expect(strstr(html, "<svg"), "report.html has charts");
    cJSON_Delete(doc);
    free(mj);
    free(html);
    free(pred);
    free(out);
    free(err);
}

Test(cli, same_seed_same_output)
{
    const char *csv = write_small();
    char args[1024], *a, *b;
    snprintf(args, sizeof args, "compare --data %s --labels L1,L2,L3 --models random --format json --quiet "
             "--seed 5", csv);
    run_reel(args, &a, NULL);
    run_reel(args, &b, NULL);
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    cr_assert(ja && jb);
    double fa = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ja, "models"), 0),
                                                        "metrics"), "samples_f1")->valuedouble;
    double fb = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(jb, "models"), 0),
                                                        "metrics"), "samples_f1")->valuedouble;
    cr_expect_eq(fa, fb);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    free(a);
    free(b);
}

/* Runs a failing command: exit code, a one-line message naming `expect`,
 * and nothing written under --out. */
static void expect_failure(const char *name, const char *args_fmt, const char *file, int code, const char *expect)
{
    const char *dir = tmp_path(name);
    char args[2048], *out, *err;
    snprintf(args, sizeof args, args_fmt, file);
    snprintf(args + strlen(args), sizeof args - strlen(args), " --out %s", dir);
    int rc = run_reel(args, &out, &err);
    cr_expect_eq(rc, code, "%s: exit %d, expected %d (stderr: %s)", name, rc, code, err);
    cr_expect(err && strstr(err, expect), "%s: stderr '%s' lacks '%s'", name, err, expect);
    int lines = 0;
    for (char *s = err; s && *s; s++)
        lines += *s == '\n';
    cr_expect_eq(lines, 1, "%s: message should be one line: %s", name, err);
    cr_expect_eq(dir_entries(dir), 0, "%s: nothing should be written", name);
    free(out);
    free(err);
}

#define LBL " --labels A,B --quiet --models random,prior"

Test(cli, bad_input_cases)
{
    expect_failure("missing", "compare --data %s" LBL, "/nonexistent/file.csv", 1, "cannot open");
    expect_failure("empty", "compare --data %s" LBL, tmp_write("e.csv", ""), 1, "empty file");
    expect_failure("header", "compare --data %s" LBL, tmp_write("h.csv", "x,A,B\n"), 1, "no data rows");
    expect_failure("ragged", "compare --data %s" LBL, tmp_write("r.csv", "x,A,B\n1,1,0\n2,1\n"), 1,
                   "r.csv:3: row has 2 fields");
    expect_failure("quote", "compare --data %s" LBL, tmp_write("q.csv", "x,A,B\n\"1,1,0\n"), 1,
                   "unterminated quoted field");
    expect_failure("nolabel", "compare --data %s --labels A,C --quiet", tmp_write("n.csv", "x,A,B\n1,1,0\n"), 1,
                   "label column 'C' does not exist");
    expect_failure("noid", "compare --data %s" LBL " --id title", tmp_write("i.csv", "x,A,B\n1,1,0\n"), 1,
                   "--id column 'title' does not exist");
    expect_failure("label01", "compare --data %s" LBL, tmp_write("l.csv", "x,A,B\n1,1,0\n2,yes,0\n"), 1,
                   "l.csv:3: column 2 ('A'): label value 'yes' is not 0 or 1");
    expect_failure("inf", "compare --data %s" LBL, tmp_write("f.csv", "x,A,B\n1,1,0\ninf,1,0\n"), 1,
                   "f.csv:3: column 1 ('x'): 'inf' is not a finite number");
    expect_failure("huge", "compare --data %s" LBL, tmp_write("g.csv", "x,A,B\n1,1,0\n1e999,1,0\n"), 1,
                   "'1e999' is not a finite number");
    expect_failure("dup", "compare --data %s" LBL, tmp_write("d.csv", "x,A,x,B\n1,1,2,0\n"), 1,
                   "duplicate column name 'x'");
    expect_failure("unlabeled", "compare --data %s" LBL, tmp_write("u.csv", "x,A,B\n1,0,0\n2,0,0\n"), 1,
                   "no rows left after dropping 2 unlabeled rows");
    expect_failure("badflag", "compare --data %s --bogus", "x.csv", 2, "unknown option '--bogus'; valid options:");
    expect_failure("badmodel", "compare --data %s --models random,nope", "x.csv", 2,
                   "unknown model 'nope'; valid models:");
    expect_failure("badformat", "compare --data %s --format xml", "x.csv", 2, "--format must be table or json");
    expect_failure("badfrac", "compare --data %s" LBL " --test-fraction 1.5", tmp_write("ok.csv", "x,A,B\n1,1,0\n"),
                   2, "--test-fraction must be in [0, 1)");
}

Test(cli, never_positive_label_warns_but_runs)
{
    const char *csv = tmp_write("np.csv", "x,A,B\n1,1,0\n2,1,0\n3,1,0\n4,1,0\n5,1,0\n6,1,0\n7,1,0\n8,1,0\n");
    char args[512], *out, *err;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior", csv);
    cr_expect_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(err, "label 'B' is never positive"), "%s", err);
    free(out);
    free(err);
}

/* A semicolon file: the separator is found and said (issue 34); --sep gives it; a bad --sep is a usage error. */
Test(cli, separator_found_said_and_given)
{
    const char *csv = tmp_write("semi.csv", "x;A;B\n1;1;0\n2;0;1\n3;1;0\n4;0;1\n5;1;1\n6;1;0\n7;0;1\n8;1;0\n");
    char *out, *err;
    cr_expect_eq(run_reelf(&out, &err, "compare --data %s --labels A,B --models prior", csv), 0, "%s", err);
    cr_expect(strstr(err, "fields separated by ';'"), "%s", err);
    free(out);
    free(err);
    cr_expect_eq(run_reelf(&out, &err, "compare --data %s --labels A,B --models prior --sep ';'", csv), 0, "%s", err);
    cr_expect_null(strstr(err, "separated by"), "given, so not said: %s", err);
    free(out);
    free(err);
    cr_expect_eq(run_reelf(&out, &err, "compare --data %s --labels A,B --models prior --sep ab", csv), 2);
    cr_expect(strstr(err, "--sep must be one character"), "%s", err);
    free(out);
    free(err);
}

/* predict reads a file as training did: its separator found or given. */
Test(cli, predict_takes_the_separator_too)
{
    const char *csv = tmp_write("semi_p.csv", "x;A;B\n1;1;0\n2;0;1\n3;1;0\n4;0;1\n5;1;1\n6;1;0\n7;0;1\n8;1;0\n");
    const char *model = tmp_path("semi_p.safetensors");
    char *out, *err, *found;
    cr_assert_eq(run_reelf(&out, &err, "train --data %s --labels A,B --model prior --save %s --quiet", csv, model), 0,
                 "%s", err);
    free(out);
    free(err);
    cr_expect_eq(run_reelf(&found, &err, "predict --model-file %s --data %s --format csv", model, csv), 0, "%s", err);
    free(err);
    cr_expect_eq(run_reelf(&out, &err, "predict --model-file %s --data %s --format csv --sep ';'", model, csv), 0,
                 "%s", err);
    cr_expect_str_eq(out, found, "given or found, the same rows");
    free(out);
    free(err);
    free(found);
    cr_expect_eq(run_reelf(&out, &err, "predict --model-file %s --data %s --sep ab", model, csv), 2);
    cr_expect(strstr(err, "reel predict: --sep must be one character"), "%s", err);
    free(out);
    free(err);
}

Test(cli, help_everywhere)
{
    char *out, *err;
    cr_expect_eq(run_reel("--help", &out, &err), 0);
    cr_expect(strstr(out, "compare"));
    free(out);
    free(err);
    cr_expect_eq(run_reel("compare --help", &out, &err), 0);
    cr_expect(strstr(out, "--models") && strstr(out, "--keep-unlabeled") && strstr(out, "--split-column"));
    free(out);
    free(err);
    cr_expect_eq(run_reel("info", &out, &err), 0);
    cr_expect(strstr(out, "blas:") && strstr(out, "cuda:") && strstr(out, "opencl:"), "%s", out);
    free(out);
    free(err);
    cr_expect_eq(run_reel("frobnicate", &out, &err), 2);
    cr_expect(strstr(err, "unknown command 'frobnicate'"));
    free(out);
    free(err);
}

Test(cli, a_failing_model_is_reported_and_the_others_still_run)
{
    const char *csv = tmp_write("tiny.csv", "x,A,B\n1,1,0\n2,0,1\n3,1,1\n4,1,0\n5,0,1\n6,1,0\n");
    char args[512], *out, *err;
    snprintf(args, sizeof args, "compare --data %s --labels A,B --models prior,knn,random --format json --quiet",
             csv);
    int rc = run_reel(args, &out, &err);
    cr_expect_eq(rc, 1, "exit %d", rc);
    cr_expect(strstr(err, "knn failed: knn: n_neighbors (5) must not exceed the number of training rows"), "%s",
              err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "models")), 2);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "failed"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(f, "name")->valuestring, "knn");
    cJSON_Delete(doc);
    free(out);
    free(err);
}

/* compare --metric: the leaderboard ranked by it, said under the table and
 * in the JSON ("ranked_by", "ranking"); a metric the target has not is a
 * usage error. */
Test(cli, compare_ranks_by_the_metric_named)
{
    const char *csv = write_small();
    char *out, *err;
    int rc = run_reelf(&out, &err, "compare --data %s --id name --target colour --models prior,tree,knn "
                       "--metric roc-auc --quiet", csv);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "binary target: best roc-auc first"), "%s", out);
    free(out);
    free(err);
    rc = run_reelf(&out, &err, "compare --data %s --labels L1,L2,L3 --models prior,tree --metric macro-f1 "
                   "--format json --quiet", csv);
    cr_expect_eq(rc, 0, "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "ranked_by")->valuestring, "macro-f1");
    const cJSON *rank = cJSON_GetObjectItem(doc, "ranking"), *models = cJSON_GetObjectItem(doc, "models");
    int first = strcmp(cJSON_GetArrayItem(rank, 0)->valuestring, "prior") == 0 ? 0 : 1;
    double best = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(models, first), "metrics"),
                                      "macro_f1")->valuedouble;
    double next = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(models, 1 - first), "metrics"),
                                      "macro_f1")->valuedouble;
    cr_expect(best >= next, "ranked first with macro-F1 %g, second %g", best, next);
    cJSON_Delete(doc);
    free(out);
    free(err);
    rc = run_reelf(&out, &err, "compare --data %s --labels L1,L2,L3 --models prior --metric macro-f1", csv);
    cr_expect(rc == 0 && strstr(out, "Ranked by macro-f1, best first."), "%s", out);
    free(out);
    free(err);
    rc = run_reelf(&out, &err, "compare --data %s --labels L1,L2,L3 --models prior --metric roc-auc --quiet", csv);
    cr_expect_eq(rc, 2, "%s", err);
    cr_expect(strstr(err, "reel compare: --metric roc-auc is for binary and multi-class targets"), "%s", err);
    cr_expect_str_eq(out, "");
    free(out);
    free(err);
}

/* reel train --checkpoint: 2 epochs, then the same command with --epochs 4
 * resumes and saves a model whose predictions are byte-identical to a
 * 4-epoch run without checkpoint; other params are refused; a model that
 * is not a net has no checkpoint. */
Test(cli, train_checkpoint_resumes_identically)
{
    const char *csv = write_small(), *ck = tmp_path("cli.ckpt");
    const char *m1 = tmp_path("cli_resumed.model"), *m2 = tmp_path("cli_whole.model");
    const char *p1 = tmp_path("cli_resumed.csv"), *p2 = tmp_path("cli_whole.csv");
    remove(ck);
    char args[2048], *out, *err;
    const char *base = "train --model box --data %s --labels L1,L2,L3 --id name --batch-size 16 --quiet";
    char common[1024];
    snprintf(common, sizeof common, base, csv);
    snprintf(args, sizeof args, "%s --epochs 2 --checkpoint %s", common, ck);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s --epochs 4 --checkpoint %s --save %s", common, ck, m1);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s --epochs 4 --save %s", common, m2);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "predict --model-file %s --data %s --format csv --out %s --quiet", k ? m2 : m1,
                 csv, k ? p2 : p1);
        cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
        free(out);
        free(err);
    }
    char *a = reel_read_file(p1, NULL, NULL), *b = reel_read_file(p2, NULL, NULL);
    cr_assert(a && b);
    cr_expect_str_eq(a, b, "resumed and uninterrupted predictions differ");
    free(a);
    free(b);

    snprintf(args, sizeof args, "%s --epochs 4 --lr 0.01 --checkpoint %s", common, ck);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(err && strstr(err, "params.lr differs"), "%s", err);
    free(out);
    free(err);
    /* another width: the message names it, not the sizes it changes */
    const char *wp = tmp_write("cli_width.json", "{\"box\": {\"width\": 8}}");
    snprintf(args, sizeof args, "%s --epochs 4 --params %s --checkpoint %s", common, wp, ck);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(err && strstr(err, "params.width differs"), "%s", err);
    free(out);
    free(err);
    /* fewer epochs than the checkpoint holds: refused */
    snprintf(args, sizeof args, "%s --epochs 3 --checkpoint %s", common, ck);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(err && strstr(err, "trained 4 epochs, more than the 3"), "%s", err);
    free(out);
    free(err);
    /* a finished run resumed: nothing to train, the history is still written */
    const char *hist_dir = tmp_path("cli_ck_out");
    snprintf(args, sizeof args, "%s --epochs 4 --checkpoint %s --out %s", common, ck, hist_dir);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    char *hist_path = reel_path_join(hist_dir, "history_box.csv");
    char *hist = reel_read_file(hist_path, NULL, NULL);
    cr_expect(hist && strstr(hist, "\n4,"), "history of the resumed run: %s", hist ? hist : "(missing)");
    free(hist);
    free(hist_path);
    snprintf(args, sizeof args, "train --model tree --data %s --labels L1,L2,L3 --checkpoint %s", csv, ck);
    cr_expect_eq(run_reel(args, &out, &err), 2);
    cr_expect(err && strstr(err, "--checkpoint is for the nets"), "%s", err);
    free(out);
    free(err);
}

/* reel compare --checkpoint DIR: each net keeps its own checkpoint there
 * (classical models none) and a later run resumes it. */
Test(cli, compare_checkpoint_dir)
{
    const char *csv = write_small(), *dir = tmp_path("cli_ckdir");
    const char *p2 = tmp_write("ck_p2.json", "{\"box\": {\"epochs\": 2, \"batch_size\": 16}}");
    const char *p3 = tmp_write("ck_p3.json", "{\"box\": {\"epochs\": 3, \"batch_size\": 16}}");
    char args[2048], *out, *err;
    snprintf(args, sizeof args,
             "compare --data %s --labels L1,L2,L3 --id name --models prior,box --params %s --checkpoint %s --quiet",
             csv, p2, dir);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    cr_expect_eq(dir_entries(dir), 5, "box's checkpoints, one per member of its ensemble of 5");
    snprintf(args, sizeof args, "compare --data %s --labels L1,L2,L3 --id name --models prior,box --params %s "
             "--checkpoint %s", csv, p3, dir);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(err && strstr(err, "resuming from checkpoint") && strstr(err, "after epoch 2"), "%s", err);
    free(out);
    free(err);
}

/* Decision rules: train names the rule and the 0.5 scores, saves the rule,
 * and predict applies it; --tune-thresholds maps onto --decision. */
Test(cli, decision_rule_is_saved_and_applied_by_predict)
{
    const char *csv = write_small(), *m = tmp_path("rule.model"), *pp = tmp_path("rule_pred.csv");
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "train --model tree --data %s --labels L1,L2,L3 --id name --quiet --format json "
             "--decision threshold:1+at-least-one --save %s", csv, m);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cJSON *doc = cJSON_Parse(out);
    const cJSON *mj = cJSON_GetObjectItem(doc, "model");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(mj, "decision_rule")), "threshold+at-least-one");
    cr_expect_not_null(cJSON_GetObjectItem(mj, "metrics_untuned"));
    cJSON_Delete(doc);
    free(out);
    free(err);
    /* P > 1 never holds: every row gets exactly its likeliest label */
    snprintf(args, sizeof args, "predict --model-file %s --data %s --format csv --out %s --quiet", m, csv, pp);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    char *pred = reel_read_file(pp, NULL, NULL);
    cr_assert_not_null(pred);
    int rows = 0;
    for (char *line = strchr(pred, '\n'); line && line[1]; line = strchr(line + 1, '\n'), rows++) {
        /* name,true,predicted,...: the third field */
        char *f = strchr(strchr(line + 1, ',') + 1, ',') + 1, *end = strchr(f, ',');
        cr_expect(end > f && !memchr(f, '|', (size_t)(end - f)), "row %d: predicted '%.*s', want one label", rows,
                  (int)(end - f), f);
    }
    cr_expect_eq(rows, 200);
    free(pred);
    snprintf(args, sizeof args, "info --model-file %s", m);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "decision rule: threshold+at-least-one"), "%s", out);
    free(out);
    free(err);

    snprintf(args, sizeof args, "train --model tree --data %s --labels L1,L2,L3 --quiet --format json "
             "--tune-thresholds global", csv);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    doc = cJSON_Parse(out);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "model"), "decision_rule")),
                     "tuned-global");
    cJSON_Delete(doc);
    free(out);
    free(err);
    expect_failure("badrule", "train --model tree --data %s --labels L1,L2,L3 --decision tuned", csv, 2,
                   "unknown decision rule 'tuned'");
    expect_failure("tworules", "train --model tree --data %s --labels L1,L2,L3 --decision expected-f1 "
                   "--tune-thresholds global", csv, 2, "give one");
}

/* reel decide: another model's probabilities decided by reel's rules. */
Test(cli, decide_applies_a_rule_to_given_probabilities)
{
    const char *v = tmp_write("dv.csv", "p_A,p_B,A,B\n0.9,0.2,1,0\n0.4,0.3,1,0\n0.1,0.8,0,1\n0.3,0.35,0,1\n");
    const char *t = tmp_write("dt.csv", "p_A,p_B,A,B\n0.45,0.1,1,0\n0.2,0.33,0,1\n0.1,0.1,0,1\n");
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "decide --valid %s --test %s --labels A,B --decision tuned-per-label", v, t);
    cr_assert_eq(run_reel(args, &out, &err), 0, "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    /* per label: A's cut lies between 0.3 and 0.4, B's between 0.3 and 0.35 */
    const cJSON *pred = cJSON_GetObjectItem(doc, "predicted");
    cr_expect_str_eq(cJSON_GetArrayItem(pred, 0)->valuestring, "A");
    cr_expect_str_eq(cJSON_GetArrayItem(pred, 1)->valuestring, "B");
    cr_expect_str_eq(cJSON_GetArrayItem(pred, 2)->valuestring, "");
    cr_expect_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics"), "samples_f1")->valuedouble,
                       2.0 / 3.0, 1e-12);
    cr_expect_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics_untuned"), "samples_f1")->valuedouble,
                       0.0, 1e-12);
    cJSON_Delete(doc);
    free(out);
    free(err);
    snprintf(args, sizeof args, "decide --valid %s --test %s --labels A,C", v, t);
    cr_expect_eq(run_reel(args, &out, &err), 1);
    cr_expect(err && strstr(err, "no numeric column p_C"), "%s", err);
    free(out);
    free(err);
}
