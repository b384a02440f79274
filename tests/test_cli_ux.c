/* What a new user trips over (issue 18): the reel binary on small CSVs. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "util/fileio.h"
#include "util/outfile.h"

/* 200 rows, two informative features, a text column, three labels. */
static const char *small_csv(void)
{
    static char csv[32768];
    strcpy(csv, "name,a,b,colour,L1,L2,L3\n");
    unsigned s = 11;
    for (int i = 0; i < 200; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 100;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 100;
        const char *colour = (i % 3 == 0) ? "red" : (i % 3 == 1 ? "blue" : "");
        sprintf(csv + strlen(csv), "film %d,%d,%d,%s,%d,%d,%d\n", i, a, b, colour, a > 50, b > 30,
                (a <= 50 && b <= 30) || (a + b) % 2);
    }
    return tmp_write("ux_small.csv", csv);
}

/* Runs reel with printf-style args; out and err are freed by the caller. */
static int reel(char **out, char **err, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_reel(args, out, err);
}

Test(ux, info_names_a_missing_driver)
{
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "info"), 0, "%s", err);
    void *libcuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!libcuda) /* no NVIDIA driver here: say so, not "driver version is insufficient" */
        cr_expect(strstr(out, "cuda: no device: no NVIDIA driver found") ||
                      strstr(out, "built without CUDA") || strstr(out, "plugin"),
                  "%s", out);
    else
        dlclose(libcuda);
    cr_expect(!strstr(out, "insufficient") || libcuda, "%s", out);
    cr_expect(strstr(out, "opencl:"), "every runtime is named: %s", out);
    free(out);
    free(err);
}

Test(ux, device_applies_only_to_the_nets)
{
    const char *csv = small_csv();
    char *out, *err;
    /* A tree never uses a device: a device that is not there is noted, not an error. */
    int rc = reel(&out, &err, "train --model tree --data %s --labels L1,L2,L3 --device cuda:7", csv);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "--device cuda:7 applies to the nets; ignored for tree"), "%s", err);
    free(out);
    free(err);
    /* A net with a device that is not there: a usage error with the command's prefix. */
    rc = reel(&out, &err, "train --model box --data %s --labels L1,L2,L3 --device cuda:7", csv);
    cr_expect_eq(rc, 2, "%s", err);
    cr_expect(strncmp(err, "reel train: --device cuda:7", 27) == 0, "%s", err);
    free(out);
    free(err);
    rc = reel(&out, &err, "compare --models tree,box --data %s --labels L1,L2,L3 --device cuda:7", csv);
    cr_expect_eq(rc, 2, "%s", err);
    cr_expect(strncmp(err, "reel compare: --device cuda:7", 29) == 0, "%s", err);
    free(out);
    free(err);
    rc = reel(&out, &err, "search --model knn --data %s --labels L1,L2,L3 --device cuda:7 --budget 1 "
              "--strategy random --quiet", csv);
    cr_expect_eq(rc, 0, "%s", err);
    free(out);
    free(err);
}

Test(ux, help_lists_the_models_with_a_line_each)
{
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "compare --help"), 0);
    cr_expect(strstr(out, "models ("), "%s", out);
    /* every definition, named with its brief */
    const char *names[] = {"random", "prior", "tree", "forest", "knn", "ridge", "box", "u", "box_original"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char want[64];
        snprintf(want, sizeof want, "\n  %s ", names[i]);
        cr_expect(strstr(out, want), "compare --help lacks %s", names[i]);
    }
    cr_expect(strstr(out, "CART tree"), "tree's brief: %s", out);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "train --help"), 0);
    cr_expect(strstr(out, "\n  forest "), "%s", out);
    free(out);
    free(err);
}

Test(ux, compare_takes_net_training_flags)
{
    const char *csv = small_csv();
    char *out, *err;
    int rc = reel(&out, &err, "compare --models tree,box --data %s --labels L1,L2,L3 --epochs 2 --batch-size 32 "
                  "--lr 0.01 --format json --quiet --device cpu", csv);
    cr_assert_eq(rc, 0, "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    const cJSON *m;
    int nets = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "models"))
    {
        const cJSON *p = cJSON_GetObjectItem(m, "params");
        const char *name = cJSON_GetObjectItem(m, "name")->valuestring;
        if (strcmp(name, "box") == 0) {
            nets++;
            cr_expect_eq(cJSON_GetObjectItem(p, "epochs")->valueint, 2);
            cr_expect_eq(cJSON_GetObjectItem(p, "batch_size")->valueint, 32);
            cr_expect_eq(cJSON_GetObjectItem(p, "lr")->valuedouble, 0.01);
        } else
            cr_expect_null(cJSON_GetObjectItem(p, "epochs"), "%s has no epochs", name);
    }
    cr_expect_eq(nets, 1);
    cJSON_Delete(doc);
    free(out);
    free(err);
    rc = reel(&out, &err, "compare --models tree --data %s --labels L1,L2,L3 --epochs 2", csv);
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "reel compare: --epochs applies to the nets"), "%s", err);
    free(out);
    free(err);
}

/* A tree saved from small_csv(), for predict. */
static const char *saved_tree(void)
{
    const char *model = tmp_path("ux_tree.safetensors");
    char *out, *err;
    int rc = reel(&out, &err, "train --model tree --data %s --labels L1,L2,L3 --id name --save %s --quiet",
                  small_csv(), model);
    cr_assert_eq(rc, 0, "%s", err);
    free(out);
    free(err);
    return model;
}

Test(ux, predict_imputes_absent_columns_when_asked)
{
    const char *model = saved_tree();
    const char *csv = tmp_write("ux_noa.csv", "name,b\nx,10\ny,90\n");
    char *out, *err;
    int rc = reel(&out, &err, "predict --model-file %s --data %s", model, csv);
    cr_expect_eq(rc, 1);
    cr_expect(strstr(err, "missing 2 columns the model needs: a, colour (--missing-columns impute"), "%s", err);
    free(out);
    free(err);
    rc = reel(&out, &err, "predict --model-file %s --data %s --missing-columns impute --format csv", model, csv);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "warning: ") && strstr(err, "lacks 2 columns the model needs, treated as all missing: a, "
                                                       "colour"), "%s", err);
    cr_expect(strncmp(out, "name,predicted,p_L1,p_L2,p_L3\nx,", 32) == 0, "%s", out);
    free(out);
    free(err);
    rc = reel(&out, &err, "predict --model-file %s --data %s --missing-columns maybe", model, csv);
    cr_expect_eq(rc, 2);
    free(out);
    free(err);
}

Test(ux, predict_csv_is_one_format)
{
    const char *model = saved_tree();
    const char *labelled = tmp_write("ux_lab.csv", "name,a,b,colour,L1,L2,L3\nx,70,10,red,1,0,0\ny,20,90,,0,1,1\n");
    const char *bare = tmp_write("ux_bare.csv", "name,a,b,colour\nx,70,10,red\ny,20,90,\n");
    const char *out_file = tmp_path("ux_preds.csv");
    char *out, *err;
    /* stdout and --out: the same bytes */
    cr_assert_eq(reel(&out, &err, "predict --model-file %s --data %s --format csv", model, labelled), 0, "%s", err);
    free(err);
    cr_assert_eq(reel(NULL, &err, "predict --model-file %s --data %s --out %s", model, labelled, out_file), 0, "%s",
                 err);
    char *file = reel_read_file(out_file, NULL, NULL);
    cr_assert_not_null(file);
    cr_expect_str_eq(out, file);
    cr_expect(strncmp(out, "name,true,predicted,", 20) == 0, "%s", out);
    free(out);
    free(err);
    free(file);
    /* no labels: no "true" column */
    cr_assert_eq(reel(&out, &err, "predict --model-file %s --data %s --format csv", model, bare), 0, "%s", err);
    cr_expect(strncmp(out, "name,predicted,p_L1", 19) == 0, "%s", out);
    cr_expect(!strstr(err, "no scores"), "no labels, nothing to explain: %s", err);
    free(out);
    free(err);
    /* labels that cannot be read: say why there are no scores */
    const char *yes = tmp_write("ux_yes.csv", "name,a,b,colour,L1,L2,L3\nx,70,10,red,yes,0,0\n");
    cr_assert_eq(reel(&out, &err, "predict --model-file %s --data %s", model, yes), 0, "%s", err);
    cr_expect(strstr(err, "no scores: line 2: label column 'L1' holds 'yes', not 0 or 1"), "%s", err);
    free(out);
    free(err);
    /* a model trained with --label-column scores rows that have that column */
    const char *listed = tmp_write("ux_listed.csv", "a,b,g\n70,10,L1\n20,90,L2|L3\n60,50,L1 | L2\n10,10,L3\n"
                                                    "80,80,L1|L2\n30,40,L3\n75,20,L1\n15,95,L2\n");
    const char *model2 = tmp_path("ux_tree2.safetensors");
    cr_assert_eq(reel(&out, &err, "train --model tree --data %s --label-column g --save %s --quiet --test-fraction 0 "
                      "--valid-fraction 0", listed, model2), 0, "%s", err);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "predict --model-file %s --data %s --format csv", model2, listed), 0, "%s", err);
    cr_expect(strstr(err, "8 rows with labels: samples-F1"), "%s", err);
    cr_expect(strncmp(out, "line,true,predicted,p_L1,p_L2,p_L3\n2,\"L1\",", 40) == 0, "%s", out);
    free(out);
    free(err);
}

/* predict scores the rows train and compare score (those with a label) and
 * says how many it left out: unlabelled rows scored as all-zero would pull
 * the score down (issue 34). */
Test(ux, predict_scores_only_labelled_rows)
{
    const char *model = saved_tree();
    const char *csv = tmp_write("ux_some.csv", "name,a,b,colour,L1,L2,L3\nx,70,10,red,1,0,0\ny,20,90,,0,1,1\n"
                                               "z,60,50,blue,0,0,0\nw,15,95,red,0,0,0\n");
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "predict --model-file %s --data %s --format csv", model, csv), 0, "%s", err);
    cr_expect(strstr(err, "reel: 2 rows with labels: samples-F1"), "%s", err);
    cr_expect(strstr(err, "2 rows with no positive label not scored"), "%s", err);
    cr_expect(strncmp(out, "name,true,predicted,", 20) == 0, "every row is still predicted: %s", out);
    cr_expect(strstr(out, "\nw,"), "%s", out);
    free(out);
    free(err);
}

/* Noisy data where permutation importance on a few validation rows often
 * picks a set that scores worse than every feature. */
static const char *noisy_csv(unsigned seed)
{
    static char csv[65536];
    strcpy(csv, "a,b,c,d,e,L1,L2\n");
    unsigned s = seed;
    for (int i = 0; i < 150; i++) {
        double v[7];
        for (int k = 0; k < 7; k++) {
            s = s * 1103515245u + 12345u;
            v[k] = (double)((s >> 8) % 1000) / 1000.0;
        }
        sprintf(csv + strlen(csv), "%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d\n", v[0], v[1], v[2], v[3], v[4],
                v[0] + 0.3 * v[5] > 0.6, v[1] + 0.5 * v[2] + 0.4 * v[6] > 0.8);
    }
    char name[32];
    snprintf(name, sizeof name, "ux_noisy%u.csv", seed);
    return tmp_write(name, csv);
}

Test(ux, selection_never_scores_below_every_feature)
{
    int rejections = 0;
    for (unsigned seed = 1; seed <= 8; seed++) {
        char *out, *err;
        int rc = reel(&out, &err, "select --model knn --method permutation --data %s --labels L1,L2 --format json "
                      "--quiet --keep-unlabeled", noisy_csv(seed));
        cr_assert_eq(rc, 0, "%s", err);
        cJSON *doc = cJSON_Parse(out);
        cr_assert_not_null(doc, "%s", out);
        double ref = cJSON_GetObjectItem(doc, "reference_score")->valuedouble;
        double sel = cJSON_GetObjectItem(doc, "selected_score")->valuedouble;
        cr_expect(sel >= ref, "seed %u: selected %.4f below every feature's %.4f", seed, sel, ref);
        const cJSON *rej = cJSON_GetObjectItem(doc, "rejected");
        cr_assert_not_null(rej, "the document always says whether a choice was rejected");
        if (cJSON_IsObject(rej)) {
            rejections++;
            cr_expect(cJSON_GetObjectItem(rej, "score")->valuedouble < ref);
            cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(rej, "dropped")) > 0);
            cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "dropped")), 0, "every feature kept");
            cr_expect_eq(sel, ref);
        }
        cJSON_Delete(doc);
        free(out);
        free(err);
    }
    cr_expect(rejections > 0, "the data should make permutation choose a worse set at least once");
}

Test(ux, version_everywhere)
{
    const char *cmds[] = {"--version", "compare --version", "train --version", "predict --version",
                          "search --version", "select --version", "export --version", "info --version",
                          "decide --version"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *out, *err;
        cr_expect_eq(reel(&out, &err, "%s", cmds[i]), 0, "%s: %s", cmds[i], err);
        cr_expect(out && strncmp(out, "reel ", 5) == 0 && strchr(out, '.'), "%s: %s", cmds[i], out);
        free(out);
        free(err);
    }
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "--help"), 0);
    cr_expect(strstr(out, "reel --version"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "train --help"), 0);
    cr_expect(strstr(out, "--version"), "%s", out);
    free(out);
    free(err);
}

/* The completion script, sourced in bash, completing `words` (the last one
 * being completed): its candidates, space-separated (malloc'ed). */
static char *complete_words(const char *words)
{
    char text[2048];
    snprintf(text, sizeof text,
             "source '%s'\n"
             "COMP_WORDS=(%s %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _reel; echo \"${COMPREPLY[*]}\"\n",
             test_source_path("scripts/reel-completion.bash"), test_reel_binary(), words);
    const char *script = tmp_write("ux_complete.sh", text);
    char cmd[1024];
    const char *out = tmp_path("ux_complete.out");
    snprintf(cmd, sizeof cmd, "bash %s > %s 2>&1", script, out);
    cr_assert_eq(system(cmd), 0);
    return reel_read_file(out, NULL, NULL);
}

Test(ux, bash_completion)
{
    char *c = complete_words("com");
    cr_expect_str_eq(c, "compare\n");
    free(c);
    c = complete_words("train --model fo");
    cr_expect_str_eq(c, "forest\n");
    free(c);
    c = complete_words("compare --models tree,u");
    cr_expect_str_eq(c, "tree,u tree,u_original\n");
    free(c);
    c = complete_words("predict --missing-");
    cr_expect_str_eq(c, "--missing-columns\n");
    free(c);
    c = complete_words("train --device op");
    cr_expect(strstr(c, "opencl"), "%s", c);
    free(c);
}

Test(ux, smaller_messages)
{
    const char *csv = small_csv();
    char *out, *err;
    /* a bad grid key: said once, not "grid: grid:  for knn" */
    const char *grid = tmp_write("ux_grid.json", "{\"bogus\": [1, 2]}");
    cr_expect_neq(reel(&out, &err, "search --model knn --data %s --labels L1,L2,L3 --grid %s --quiet", csv, grid), 0);
    cr_expect(strstr(err, "reel search: grid: params for knn: unknown key 'bogus'; valid keys:"), "%s", err);
    free(out);
    free(err);
    /* a bad --label-column lists every column */
    cr_expect_eq(reel(&out, &err, "train --model tree --data %s --label-column nope --quiet", csv), 1);
    cr_expect(strstr(err, "--label-column column 'nope' does not exist; the header's 7 columns: name, a, b, colour, "
                          "L1, L2, L3"), "%s", err);
    free(out);
    free(err);
    /* the user's base params are not "(defaults)" */
    const char *base = tmp_write("ux_base.json", "{\"n_neighbors\": 7}");
    cr_expect_eq(reel(&out, &err, "search --model knn --data %s --labels L1,L2,L3 --params %s --quiet", csv, base),
                 0, "%s", err);
    cr_expect(strstr(out, "(your --params)") && !strstr(out, "defaults"), "%s", out);
    free(out);
    free(err);
    /* the load line tells columns from encoded inputs */
    cr_expect_eq(reel(&out, &err, "train --model prior --data %s --labels L1,L2,L3 --id name", csv), 0, "%s", err);
    cr_expect(strstr(err, ", 3 feature columns ("), "%s", err);
    free(out);
    free(err);
}

Test(ux, report_marks_baselines_and_the_kept_epoch)
{
    const char *csv = small_csv(), *dir = tmp_path("ux_report");
    char *out, *err;
    int rc = reel(&out, &err, "compare --models random,prior,box --data %s --labels L1,L2,L3 --epochs 6 --lr 0.01 "
                  "--device cpu --quiet --out %s", csv, dir);
    cr_assert_eq(rc, 0, "%s", err);
    free(out);
    free(err);
    char path[600];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = reel_read_file(path, NULL, NULL);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = reel_read_file(path, NULL, NULL);
    cr_assert(md && html);
    /* both baselines marked alike */
    cr_expect(strstr(md, "| random (baseline) |") && strstr(md, "| prior (baseline) |"), "%s", md);
    int marked = 0;
    for (const char *s = html; (s = strstr(s, "<tr class=\"baseline\">")); s++)
        marked++;
    cr_expect_eq(marked + (strstr(html, "<tr class=\"best\"><td class=\"num\">1</td><td class=\"name\">prior") ? 1 : 0),
                 2, "every baseline row but a best one is grey: %d", marked);
    /* which epoch's weights were kept: said, and marked on the curves */
    cr_expect(strstr(html, "the model keeps the averaged weights of epoch "), "%s", html);
    cr_expect(strstr(html, "<line class=\"kept\""), "the curves mark the kept epoch");
    cr_expect(strstr(md, "weights kept from epoch"), "%s", md);
    /* what a reader needs to reproduce it: the command, seed, version, date, each model's params */
    cr_expect(strstr(md, "\n- Command: reel compare --models random,prior,box --data "), "%s", md);
    cr_expect(strstr(md, "\n- Seed: 42\n- reel: " REEL_VERSION "\n- Date: 2"), "%s", md);
    cr_expect(strstr(md, "\n- Params of box: {\"layers\":"), "%s", md);
    cr_expect(strstr(html, "<tr><td>Command</td><td><code>reel compare --models random,prior,box"), "command");
    cr_expect(strstr(html, "<summary>Each model's params</summary>"), "params");
    /* model names in the examples' header do not break mid-word */
    cr_expect(!strstr(html, "table.examples th{overflow-wrap:anywhere}"));
    free(md);
    free(html);
}

/* A model definition dropped into a folder is a model at run time, under its
 * own name; a bad one is named with its path and key. */
Test(ux, models_read_from_a_folder_at_run_time)
{
    const char *csv = small_csv();
    char xdg[1024], user[1100], dir[1024], cmd[2400];
    snprintf(xdg, sizeof xdg, "%s", tmp_path("xdg_own"));
    snprintf(user, sizeof user, "%s/reel/models", xdg);
    snprintf(dir, sizeof dir, "%s", tmp_path("mdir"));
    snprintf(cmd, sizeof cmd, "mkdir -p %s %s", user, dir);
    cr_assert_eq(system(cmd), 0);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    char path[1200];
    snprintf(path, sizeof path, "%s/myprior.json", dir);
    cr_assert_eq(reel_write_file_atomic(path,
                                        "{\"kind\": \"prior\", \"brief\": \"my own prior\", \"params\": "
                                        "{\"threshold\": {\"type\": [\"number\", \"null\"], \"default\": null}}, "
                                        "\"grid\": {}}",
                                        NULL),
                 0);
    char *out, *err;
    cr_expect_neq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --models myprior", csv), 0, "unknown without the folder");
    cr_expect(strstr(err, "unknown model 'myprior'"), "%s", err);
    free(out);
    free(err);
    const char *o = tmp_path("mout");
    cr_assert_eq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --models-dir %s --models myprior,prior --out %s", csv, dir, o), 0,
                 "%s", err);
    cr_expect(strstr(out, "myprior "), "leaderboard names it: %s", out);
    char pred[2100];
    snprintf(pred, sizeof pred, "%s/predictions_myprior.csv", o);
    cr_expect(file_exists(pred), "%s", pred);
    free(out);
    free(err);

    /* the user folder is read without --models-dir; a built-in name is replaced with a note */
    snprintf(path, sizeof path, "%s/prior.json", user);
    cr_assert_eq(reel_write_file_atomic(path, "{\"params\": {}, \"grid\": {}}", NULL), 0);
    cr_expect_eq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --models prior", csv), 0, "%s", err);
    cr_expect(strstr(err, "note:") && strstr(err, "prior.json replaces the built-in model 'prior'"), "%s", err);
    free(out);
    free(err);

    /* a bad definition: its path and key, non-zero exit */
    snprintf(path, sizeof path, "%s/broken.json", user);
    cr_assert_eq(reel_write_file_atomic(path, "{\"kind\": \"nope\", \"params\": {}, \"grid\": {}}", NULL), 0);
    cr_expect_neq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --models prior", csv), 0);
    cr_expect(strstr(err, "broken.json: key 'kind': 'nope'"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(reel_write_file_atomic(path, "{\"params\": [1], \"grid\": {}}", NULL), 0);
    cr_expect_neq(reel(&out, &err, "info"), 0);
    cr_expect(strstr(err, "broken.json: key 'params' must be an object"), "%s", err);
    free(out);
    free(err);
    remove(path);
    cr_expect_neq(reel(&out, &err, "info --models-dir %s/none", dir), 0);
    cr_expect(strstr(err, "models folder") && strstr(err, "none"), "%s", err);
    free(out);
    free(err);
}

/* --params can name a variant of a model ("base"); it shows under its own name. */
Test(ux, params_base_names_a_new_model)
{
    const char *csv = small_csv();
    const char *pf = tmp_write("variant.json", "{\"tiny\": {\"base\": \"box\", \"layers\": "
                                               "[{\"width\": 4, \"activation\": \"relu\"}], \"epochs\": 1}}");
    const char *o = tmp_path("vout");
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --models tiny --params %s --out %s", csv, pf, o),
                 0, "%s", err);
    cr_expect(strstr(out, "tiny ") && !strstr(out, "box"), "leaderboard: %s", out);
    char p[2100];
    snprintf(p, sizeof p, "%s/predictions_tiny.csv", o);
    cr_expect(file_exists(p), "%s", p);
    snprintf(p, sizeof p, "%s/metrics.json", o);
    char *m = reel_read_file(p, NULL, NULL);
    cr_expect(m && strstr(m, "\"tiny\""), "%s", m ? m : "(no metrics.json)");
    free(m);
    free(out);
    free(err);
    const char *mf = tmp_path("tiny.model"), *pr = tmp_path("tiny_pred.csv");
    cr_assert_eq(reel(&out, &err, "train --data %s --labels L1,L2,L3 --model tiny --params %s --save %s --quiet", csv,
                      pf, mf),
                 0, "%s", err);
    free(out);
    free(err);
    cr_expect_eq(reel(&out, &err, "predict --model-file %s --data %s --out %s", mf, csv, pr), 0,
                 "a saved variant predicts without its params file: %s", err);
    cr_expect(file_exists(pr), "%s", pr);
    free(out);
    free(err);
    const char *bad = tmp_write("variant_bad.json", "{\"tiny\": {\"base\": \"nope\"}}");
    cr_expect_neq(reel(&out, &err, "compare --data %s --labels L1,L2,L3 --params %s", csv, bad), 0);
    cr_expect(strstr(err, "key 'tiny.base' must name a model"), "%s", err);
    free(out);
    free(err);
}

/* Every failure of reel train after its flags are read (a --params file
 * that cannot be read too) is one line that names the command. */
Test(ux, train_failures_name_the_command)
{
    const char *csv = small_csv();
    char *out, *err;
    const char *bad = tmp_write("train_bad_params.json", "{\"tree\": {\"max_depth\": 3,}}");
    cr_expect_eq(reel(&out, &err, "train --model tree --data %s --labels L1,L2,L3 --params %s --quiet", csv, bad), 1);
    cr_expect(strncmp(err, "reel train: ", 12) == 0 && strstr(err, "train_bad_params.json") &&
              !strchr(err, '\n')[1], "%s", err);
    free(out);
    free(err);
    cr_expect_eq(reel(&out, &err, "train --model tree --data %s --labels L1,L2,L3 --params %s --quiet", csv,
                      tmp_path("no_such_params.json")), 1);
    cr_expect(strncmp(err, "reel train: ", 12) == 0 && strstr(err, "no_such_params.json: cannot open"), "%s", err);
    free(out);
    free(err);
}

/* search and select say the rule their scores are under, keep the scores
 * at the model's thresholds beside, and end with a test score of the same
 * kind. */
Test(ux, tune_scores_under_the_decision_rule)
{
    const char *csv = small_csv();
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "search --model knn --data %s --labels L1,L2,L3 --decision tuned-global --quiet",
                      csv), 0, "%s", err);
    cr_expect(strstr(out, "samples-f1 under --decision tuned-global (chosen on each validation part"), "%s", out);
    cr_expect(strstr(out, "at thr."), "%s", out);
    cr_expect(strstr(out, "\nbest samples-f1 ") && strstr(out, " under --decision tuned-global ("), "%s", out);
    cr_expect(strstr(out, "test samples-f1 of the best: ") && strstr(out, " under its rule tuned-global ("), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "search --model knn --data %s --labels L1,L2,L3 --format json --quiet", csv), 0,
                 "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc, "%s", out);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision")->valuestring, "auto");
    const cJSON *best = cJSON_GetObjectItem(doc, "best");
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(best, "score_at_model_thresholds")));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(doc, "test_metrics_at_model_thresholds")));
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(doc, "test_decision_rule")));
    cJSON_Delete(doc);
    free(out);
    free(err);
    /* under auto, select names the rule auto chose on the reference */
    cr_assert_eq(reel(&out, &err, "select --model knn --data %s --labels L1,L2,L3 --quiet", csv), 0, "%s", err);
    cr_expect(strstr(out, ", chosen by auto on the reference"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "select --model knn --data %s --labels L1,L2,L3 --decision tuned-global --quiet",
                      csv), 0, "%s", err);
    cr_expect(strstr(out, "scored under: tuned-global, as --decision names it\n"), "%s", out);
    cr_expect(strstr(out, "\nsingle-pass samples-f1: ") &&
                  strstr(out, " kept (scored under: tuned-global, as --decision names it)\n"), "%s", out);
    cr_expect(strstr(out, "test samples-f1 with the kept features: ") && strstr(out, " under its rule tuned-global"),
              "%s", out);
    free(out);
    free(err);
}

/* The report counts the features as the CLI does: columns, and the
 * inputs they make once encoded (issue 34: "Features 21" beside "16
 * feature columns") */
Test(ux, report_counts_features_as_the_cli_does)
{
    const char *csv = small_csv(), *dir = tmp_path("ux_report_features");
    char *out, *err;
    int rc = reel(&out, &err, "compare --models prior --data %s --labels L1,L2,L3 --out %s", csv, dir);
    cr_assert_eq(rc, 0, "%s", err);
    const char *said = strstr(err, " feature columns (");
    cr_assert(said, "%s", err);
    while (said > err && said[-1] != ' ')
        said--;
    size_t cols = 0, inputs = 0;
    cr_assert_eq(sscanf(said, "%zu feature columns (%zu inputs once encoded)", &cols, &inputs), 2, "%s", err);
    char path[600], want[128];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = reel_read_file(path, NULL, NULL);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = reel_read_file(path, NULL, NULL);
    cr_assert(md && html);
    snprintf(want, sizeof want, "- Features: %zu columns (%zu inputs once encoded)\n", cols, inputs);
    cr_expect(strstr(md, want), "no '%s' in %s", want, md);
    snprintf(want, sizeof want, "<td>Features</td><td>%zu columns (%zu inputs once encoded)</td>", cols, inputs);
    cr_expect(strstr(html, want), "no '%s'", want);
    free(md);
    free(html);
    free(out);
    free(err);
}

/* Device messages (issue 34): an unknown device named by the command as
 * every other usage error; a count in words that agree ("there is 1 opencl
 * device, opencl:0"); no doubled parentheses when no GPU is found */
Test(ux, device_messages_read_well)
{
    const char *csv = small_csv();
    char *out, *err;
    const char *cmds[] = {"train --model box", "compare --models box", "search --model box"};
    for (size_t q = 0; q < 3; q++) {
        cr_expect_eq(reel(&out, &err, "%s --data %s --labels L1,L2,L3 --device tpu", cmds[q], csv), 2, "%s", err);
        char want[64];
        snprintf(want, sizeof want, "reel %.*s: --device must be ", (int)strcspn(cmds[q], " "), cmds[q]);
        cr_expect(strncmp(err, want, strlen(want)) == 0, "%s: %s", cmds[q], err);
        free(out);
        free(err);
    }
    reel(&out, &err, "train --model box --data %s --labels L1,L2,L3 --device opencl:99", csv);
    cr_expect(strstr(err, "reel train: --device opencl:99: ") && !strstr(err, "there are 1 ") &&
                  !strstr(err, "(0 to 0"), "%s", err);
    cr_expect(strstr(err, "no opencl device") || strstr(err, "there is 1 opencl device, opencl:0 ") ||
                  strstr(err, " opencl devices, opencl:0 to opencl:"), "%s", err);
    free(out);
    free(err);
    if (reel(&out, &err, "train --model box --data %s --labels L1,L2,L3 --device gpu", csv) != 0)
        cr_expect(strstr(err, "--device gpu: no GPU; ") && !strstr(err, "))"), "%s", err);
    free(out);
    free(err);
}

/* reel info --model-file prints params and results as blocks, one value a
 * line (issue 34: they were single long JSON lines); params as stored */
Test(ux, info_prints_readable_blocks)
{
    const char *csv = small_csv(), *m = tmp_path("ux_info.safetensors");
    char *out, *err;
    cr_assert_eq(reel(&out, &err, "train --model ridge --data %s --labels L1,L2,L3 --quiet --save %s", csv, m), 0,
                 "%s", err);
    free(out);
    free(err);
    cr_assert_eq(reel(&out, &err, "info --model-file %s", m), 0, "%s", err);
    cr_expect(strstr(out, "\nparams:\n  alpha: 10\n  fit_intercept: true\n"), "%s", out);
    cr_expect(strstr(out, "\ntraining:\n") && strstr(out, "\n  test_metrics:\n    samples_f1: 0.") &&
                  strstr(out, "\n    per_label:\n      - label L1, precision "), "%s", out);
    cr_expect(strstr(out, "\ndataset:\n  path: ") && strstr(out, "\n  labels: L1, L2, L3\n"), "%s", out);
    for (const char *line = out; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0))
        cr_expect(strcspn(line, "\n") <= 100 || strncmp(line, "features:", 9) == 0, "a long line: %.120s", line);
    free(out);
    free(err);
}
