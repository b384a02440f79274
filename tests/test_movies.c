/* Integration: `reel compare` on the fetched IMDB movies data (data/fetch_movies.sh).
 * Skipped, visibly, when the data has not been fetched. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"

Test(movies, baselines_on_the_real_data)
{
    const char *movies = test_source_path("data/movies.csv");
    if (!file_exists(movies))
        REEL_SKIP("%s not fetched (run data/fetch_movies.sh): movies integration test skipped", movies);
    char *out, *err, args[1200];
    snprintf(args, sizeof args, "compare --data '%s' --models random,prior --format json",
             test_source_path("data/movies.json"));
    int rc = run_reel(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "dropped 12786 unlabeled rows"), "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc);
    const cJSON *ds = cJSON_GetObjectItem(doc, "dataset");
    cr_expect_eq(cJSON_GetObjectItem(ds, "rows")->valueint, 46002);
    cr_expect_eq(cJSON_GetObjectItem(ds, "test")->valueint, 9201);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ds, "labels")), 7);
    /* 15 numeric + budget_missing + mpaa one-hot (4 ratings + other) */
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ds, "features")), 21);
    const cJSON *random = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0);
    double f1 = cJSON_GetObjectItem(cJSON_GetObjectItem(random, "metrics_untuned"), "samples_f1")->valuedouble;
    cr_expect(fabs(f1 - 0.272) < 0.02, "random samples-F1 at 0.5 %g, scikit-learn measured 0.272", f1);
    /* The prior baseline predicts nothing at 0.5; its chosen rule makes it a reference worth beating. */
    const cJSON *prior = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 1);
    double p05 = cJSON_GetObjectItem(cJSON_GetObjectItem(prior, "metrics_untuned"), "samples_f1")->valuedouble;
    double pr = cJSON_GetObjectItem(cJSON_GetObjectItem(prior, "metrics"), "samples_f1")->valuedouble;
    cr_expect_eq(p05, 0.0);
    cr_expect(pr > 0.4, "prior under %s: samples-F1 %g",
              cJSON_GetStringValue(cJSON_GetObjectItem(prior, "decision_rule")), pr);
    cJSON_Delete(doc);
    free(out);
    free(err);
}

/* A multiclass target (docs/targets.md): mpaa's four ratings on the 4,924
 * rated films; the forest and a net beat the prior (the majority class). */
Test(movies, mpaa_as_a_multiclass_target)
{
    const char *movies = test_source_path("data/movies.csv");
    if (!file_exists(movies))
        REEL_SKIP("%s not fetched (run data/fetch_movies.sh): movies integration test skipped", movies);
    char *out, *err;
    /* one member of the default box: five would take minutes under ASan */
    const char *params = tmp_write("one_member.json", "{\"box\": {\"ensemble\": 1}}");
    int rc = run_reelf(&out, &err, "compare --data '%s' --id title --target mpaa --models prior,forest,box "
                       "--device cpu --epochs 8 --params %s --format json", movies, params);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "dropped 53864 rows with no 'mpaa' (a missing target) of 58788; 4924 remain"), "%s", err);
    cJSON *doc = cJSON_Parse(out);
    cr_assert_not_null(doc);
    const cJSON *ds = cJSON_GetObjectItem(doc, "dataset");
    cr_expect_eq(cJSON_GetObjectItem(ds, "rows")->valueint, 4924);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ds, "labels")), 4, "NC-17, PG, PG-13, R");
    double acc[3];
    for (int m = 0; m < 3; m++) {
        const cJSON *run = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), m);
        const cJSON *met = cJSON_GetObjectItem(run, "metrics");
        cr_assert_not_null(cJSON_GetObjectItem(met, "macro_f1"));
        acc[m] = cJSON_GetObjectItem(met, "accuracy")->valuedouble;
        cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(run, "decision_rule")), "argmax");
    }
    cr_expect(acc[1] > acc[0] + 0.02, "forest accuracy %g, prior %g", acc[1], acc[0]);
    cr_expect(acc[2] > acc[0] + 0.01, "box accuracy %g, prior %g", acc[2], acc[0]);
    cJSON_Delete(doc);
    free(out);
    free(err);
}
