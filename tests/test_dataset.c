/* Roles (labels, id, split column), dropping unlabeled rows, descriptors,
 * preprocessing and splits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/prepared.h"
#include "data/preprocess.h"
#include "data/split.h"
#include "helpers.h"

static const char *SMALL = "id,x,kind,A,B\n"
                           "m1,1,red,1,0\n"
                           "m2,,blue,0,1\n"
                           "m3,3,red,1,1\n"
                           "m4,4,,0,0\n"
                           "m5,5,green,1,0\n";

static reel_data_opts opts_for(const char *path)
{
    reel_data_opts o = {0};
    o.data = path;
    o.labels = "A,B";
    o.id = "id";
    return o;
}

Test(dataset, roles_and_unlabeled_dropped)
{
    reel_data_opts o = opts_for(tmp_write("small.csv", SMALL));
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(ds.n, 4);
    cr_expect_eq(ds.n_dropped_unlabeled, 1);
    cr_expect_eq(ds.L, 2);
    cr_expect_eq(ds.n_features, 2, "x and kind; id and labels are not features");
    cr_expect_eq(ds.Y[1 * 2 + 1], 1);
    cr_expect_eq(ds.Y[2 * 2 + 0], 1);
    reel_dataset_free(&ds);
    o.keep_unlabeled = 1;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0);
    cr_expect_eq(ds.n, 5);
    reel_dataset_free(&ds);
}

Test(dataset, label_list_column)
{
    const char *path = tmp_write("list.csv", "x,genres\n1,Drama|Comedy\n2,Comedy\n3,\n4, Action |Drama\n");
    reel_data_opts o = {.data = path, .label_column = "genres"};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_assert_eq(ds.L, 3);
    cr_expect_str_eq(ds.labels[0], "Action");
    cr_expect_str_eq(ds.labels[1], "Comedy");
    cr_expect_str_eq(ds.labels[2], "Drama");
    cr_expect_eq(ds.n, 3);
    const uint8_t want[] = {0, 1, 1, 0, 1, 0, 1, 0, 1};
    cr_expect_arr_eq(ds.Y, want, 9);
    reel_dataset_free(&ds);
}

Test(dataset, descriptor_relative_path)
{
    tmp_write("d.csv", SMALL);
    const char *desc = tmp_write("d.json", "{\"path\": \"d.csv\", \"labels\": [\"A\", \"B\"], \"id\": \"id\"}");
    reel_data_opts o = {.data = desc};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(ds.L, 2);
    cr_expect_eq(ds.id_col, 0);
    reel_dataset_free(&ds);
}

static void load_bad(reel_data_opts o, const char *expect)
{
    reel_dataset ds;
    reel_error err = {{0}};
    cr_assert_neq(reel_dataset_load(&ds, &o, &err), 0, "should fail: %s", expect);
    cr_expect(strstr(err.msg, expect) != NULL, "message '%s' lacks '%s'", err.msg, expect);
}

Test(dataset, bad_roles)
{
    const char *path = tmp_write("r.csv", SMALL);
    reel_data_opts o = opts_for(path);
    o.labels = "A,Nope";
    load_bad(o, "label column 'Nope' does not exist");
    o = opts_for(path);
    o.id = "nope";
    load_bad(o, "--id column 'nope' does not exist");
    o = opts_for(path);
    o.labels = "A,x";
    load_bad(o, ":3: column 2 ('x'): label value '(missing)' is not 0 or 1");
    o = opts_for(tmp_write("two.csv", "x,A\n1,2\n"));
    o.id = NULL;
    o.labels = "A";
    load_bad(o, ":2: column 2 ('A'): label value '2' is not 0 or 1");
    o = opts_for(tmp_write("six.csv", "x,A\n1,1\n2,6.4\n")); /* the cell's text, not 6.4000000000000004 */
    o.id = NULL;
    o.labels = "A";
    load_bad(o, ":3: column 2 ('A'): label value '6.4' is not 0 or 1");
    o = opts_for(tmp_write("sixzero.csv", "x,A\n1,1\n2,6.40e0\n"));
    o.id = NULL;
    o.labels = "A";
    load_bad(o, ":3: column 2 ('A'): label value '6.40e0' is not 0 or 1");
    o = opts_for(tmp_write("nolab.csv", "x,A\n1,0\n2,0\n"));
    o.id = NULL;
    o.labels = "A";
    load_bad(o, "no rows left after dropping 2 unlabeled rows");
    o = opts_for(tmp_write("split.csv", "x,A,s\n1,1,train\n2,1,later\n"));
    o.id = NULL;
    o.labels = "A";
    o.split_column = "s";
    load_bad(o, ":3: column 3 ('s'): split value 'later' is not train, valid or test");
}

Test(split, seeded_and_disjoint)
{
    char csv[8192] = "x,A\n";
    for (int i = 0; i < 200; i++)
        sprintf(csv + strlen(csv), "%d,%d\n", i, 1);
    reel_data_opts o = {.data = tmp_write("many.csv", csv), .labels = "A"};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0);
    reel_split_opts so = {.seed = 42, .test_fraction = 0.2, .valid_fraction = 0.1};
    reel_split a, b;
    cr_assert_eq(reel_split_make(&a, &ds, &so, &err), 0);
    cr_assert_eq(reel_split_make(&b, &ds, &so, &err), 0);
    cr_expect_eq(a.n_test, 40);
    cr_expect_eq(a.n_valid, 16);
    cr_expect_eq(a.n_train, 144);
    cr_expect_arr_eq(a.test, b.test, a.n_test * sizeof(size_t), "same seed, same split");
    uint8_t seen[200] = {0};
    for (size_t i = 0; i < a.n_train; i++)
        seen[a.train[i]]++;
    for (size_t i = 0; i < a.n_valid; i++)
        seen[a.valid[i]]++;
    for (size_t i = 0; i < a.n_test; i++)
        seen[a.test[i]]++;
    for (int i = 0; i < 200; i++)
        cr_expect_eq(seen[i], 1, "row %d in exactly one part", i);
    reel_split_free(&b);
    so.seed = 43;
    cr_assert_eq(reel_split_make(&b, &ds, &so, &err), 0);
    cr_expect(memcmp(a.test, b.test, a.n_test * sizeof(size_t)) != 0, "another seed, another split");
    reel_split_free(&a);
    reel_split_free(&b);
    so.valid_fraction = 0;
    cr_assert_eq(reel_split_make(&a, &ds, &so, &err), 0);
    cr_expect_eq(a.n_valid, 0);
    reel_split_free(&a);
    reel_dataset_free(&ds);
}

Test(split, split_column_with_and_without_valid)
{
    const char *path = tmp_write("sc.csv", "x,A,s\n1,1,train\n2,1,test\n3,1,train\n4,1,valid\n5,1,train\n");
    reel_data_opts o = {.data = path, .labels = "A", .split_column = "s"};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    reel_split_opts so = {.seed = 1, .test_fraction = 0.2, .valid_fraction = 0.5};
    reel_split s;
    cr_assert_eq(reel_split_make(&s, &ds, &so, &err), 0);
    cr_expect_eq(s.n_test, 1);
    cr_expect_eq(s.test[0], 1);
    cr_expect_eq(s.n_valid, 1);
    cr_expect_eq(s.valid[0], 3);
    cr_expect_eq(s.n_train, 3);
    reel_split_free(&s);
    reel_dataset_free(&ds);
    path = tmp_write("sc2.csv", "x,A,s\n1,1,train\n2,1,test\n3,1,train\n4,1,train\n5,1,train\n");
    o.data = path;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0);
    cr_assert_eq(reel_split_make(&s, &ds, &so, &err), 0);
    cr_expect_eq(s.n_valid, 2, "half of the 4 train rows drawn as validation");
    cr_expect_eq(s.n_train, 2);
    reel_split_free(&s);
    reel_dataset_free(&ds);
}

Test(split, kfold_balanced)
{
    int fold[103];
    reel_error err;
    cr_assert_eq(reel_kfold(103, 5, 42, fold, &err), 0);
    int count[5] = {0};
    for (int i = 0; i < 103; i++)
        count[fold[i]]++;
    for (int f = 0; f < 5; f++)
        cr_expect(count[f] == 20 || count[f] == 21);
    cr_expect_neq(reel_kfold(3, 5, 42, fold, &err), 0);
}

Test(preprocess, train_only_statistics)
{
    reel_data_opts o = opts_for(tmp_write("pp.csv", SMALL));
    o.keep_unlabeled = 1;
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0);
    /* Fit on rows 0..2 only: x = 1, missing, 3 -> median 2, an indicator. */
    size_t train[] = {0, 1, 2};
    reel_preproc p;
    cr_assert_eq(reel_preproc_fit(&p, &ds, train, 3, 10, &err), 0, "%s", err.msg);
    /* x, x_missing, kind=red, kind=blue, kind=other */
    cr_assert_eq(p.d, 5);
    cr_expect_str_eq(p.f[0].name, "x");
    cr_expect_str_eq(p.f[1].name, "x_missing");
    cr_expect_str_eq(p.f[2].name, "kind=red");
    cr_expect_str_eq(p.f[3].name, "kind=blue");
    cr_expect_str_eq(p.f[4].name, "kind=other");
    cr_expect_float_eq(p.f[0].impute, 2.0, 1e-12);
    float X[5 * 5];
    cr_assert_eq(reel_preproc_transform(&p, &ds.table, NULL, 5, 0, X, &err), 0);
    const float want[] = {1, 0, 1, 0, 0, /* m1 */ 2, 1, 0, 1, 0, /* m2: imputed */
                          3, 0, 1, 0, 0, /* m3 */ 4, 0, 0, 0, 0, /* m4: kind missing */
                          5, 0, 0, 0, 1 /* m5: green unseen -> other */};
    for (int i = 0; i < 25; i++)
        cr_expect_float_eq(X[i], want[i], 1e-6, "cell %d: %g vs %g", i, X[i], want[i]);
    /* Standardisation: train mean of x is 2, population std sqrt(2/3). */
    cr_expect_float_eq(p.mean[0], 2.0, 1e-12);
    cr_expect_float_eq(p.scale[0], sqrt(2.0 / 3.0), 1e-12);
    cr_expect_float_eq(p.scale[4], 1.0, 1e-12, "constant on train -> scale 1");
    /* The transform survives a JSON round trip. */
    cJSON *j = reel_preproc_to_json(&p);
    reel_preproc q;
    cr_assert_eq(reel_preproc_from_json(&q, j, &err), 0, "%s", err.msg);
    float Y2[5 * 5];
    cr_assert_eq(reel_preproc_transform(&q, &ds.table, NULL, 5, 1, Y2, &err), 0);
    reel_preproc_transform(&p, &ds.table, NULL, 5, 1, X, &err);
    cr_expect_arr_eq(X, Y2, sizeof X);
    cJSON_Delete(j);
    reel_preproc_free(&q);
    reel_preproc_free(&p);
    reel_dataset_free(&ds);
}

/* Features are float32: a value beyond its range is refused, naming the
 * cell, rather than clamped (1e39 and 1e40 would both become FLT_MAX); one
 * below a double's smallest is refused rather than read as 0. */
Test(preprocess, values_beyond_float32_or_below_double_are_refused)
{
    const char *cases[][2] = {
        {"x,A\n1,1\n1e39,1\n", "huge.csv:3: column 1 ('x'): '1e39' is beyond the range of float32"},
        {"x,A\n1,1\n-4e38,1\n", "'-4e38' is beyond the range of float32"},
        {"x,A\n1,1\n2,1\n1e-400,1\n", "huge.csv:4: column 1 ('x'): '1e-400' is too small for a double"},
    };
    for (size_t c = 0; c < 3; c++) {
        reel_data_opts o = {.data = tmp_write("huge.csv", cases[c][0]), .labels = "A"};
        reel_dataset ds;
        reel_error err;
        cr_expect_neq(reel_dataset_load(&ds, &o, &err), 0, "%s loaded", cases[c][0]);
        cr_expect(strstr(err.msg, cases[c][1]), "'%s' lacks '%s'", err.msg, cases[c][1]);
    }
}

Test(preprocess, huge_values_stay_finite)
{
    reel_data_opts o = {.data = tmp_write("huge.csv", "x,A\n3e38,1\n-3e38,1\n0,1\n"), .labels = "A"};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    size_t rows[] = {0, 1, 2};
    reel_preproc p;
    cr_assert_eq(reel_preproc_fit(&p, &ds, rows, 3, 10, &err), 0);
    float X[3];
    reel_preproc_transform(&p, &ds.table, NULL, 3, 1, X, &err);
    for (int i = 0; i < 3; i++)
        cr_expect(isfinite(X[i]), "row %d: %g", i, X[i]);
    reel_preproc_free(&p);
    reel_dataset_free(&ds);
}

Test(preprocess, medians_match_sorting)
{
    /* Odd and even counts, duplicates, negatives: the imputed value is the median. */
    const char *cases[][2] = {{"5\n1\n4\n1\n2\n9\n", "3"}, {"7\n-1\n3\n", "3"}, {"2\n2\n2\n2\n", "2"},
                              {"10\n-3\n8\n8\n1\n", "8"}, {"0.5\n0.25\n", "0.375"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char csv[256] = "x,A\n", *p = csv + strlen(csv);
        for (const char *s = cases[c][0]; *s; s++) {
            if (*s == '\n') {
                strcpy(p, ",1\n");
                p += 3;
            } else
                *p++ = *s;
        }
        strcpy(p, ",1\n"); /* one missing cell */
        reel_data_opts o = {.data = tmp_write("med.csv", csv), .labels = "A"};
        reel_dataset ds;
        reel_error err;
        cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
        size_t rows[16];
        for (size_t i = 0; i < ds.n; i++)
            rows[i] = i;
        reel_preproc pp;
        cr_assert_eq(reel_preproc_fit(&pp, &ds, rows, ds.n, 10, &err), 0);
        cr_expect_float_eq(pp.f[0].impute, atof(cases[c][1]), 1e-12, "case %zu: %g", c, pp.f[0].impute);
        reel_preproc_free(&pp);
        reel_dataset_free(&ds);
    }
}

Test(csv, fast_number_path_agrees_with_strtod)
{
    const char *nums[] = {"0", "-0", "1.", ".5", "123456789012345", "1234567890123456", "0.1", "3.14159e-5",
                          "-2.5E+10", "1e22", "1e23", "9007199254740993", "0.000000000000000000001", "+7",
                          "00012.5000", "4.35", "1e-7"};
    char csv[1024] = "x,A\n";
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
        sprintf(csv + strlen(csv), "%s,1\n", nums[i]);
    reel_table t;
    reel_error err;
    cr_assert_eq(reel_table_read_csv(&t, tmp_write("nums.csv", csv), &err), 0, "%s", err.msg);
    cr_assert_eq(t.cols[0].type, REEL_COL_NUMERIC);
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        double want = strtod(nums[i], NULL);
        cr_expect(memcmp(&t.cols[0].num[i], &want, sizeof want) == 0, "%s: %.17g vs strtod %.17g", nums[i],
                  t.cols[0].num[i], want);
    }
    reel_table_free(&t);
}

static void count_warnings(void *user, reel_log_level level, const char *message, const reel_progress *p)
{
    (void)p;
    if (level == REEL_LOG_WARNING && strstr(message, "--id title"))
        ++*(int *)user;
}

/* A text column of nearly all distinct values (a title not given as --id)
 * is a useless one-hot feature: the load warns (issue 34). */
Test(dataset, nearly_unique_text_column_warns)
{
    char *text = malloc(1200 * 40), *p = text;
    p += sprintf(p, "title,kind,x,A\n");
    for (int i = 0; i < 1200; i++)
        p += sprintf(p, "Film number %d,%s,%d,%d\n", i, i % 3 ? "red" : "blue", i, i % 2);
    reel_data_opts o = {.data = tmp_write("titles.csv", text), .labels = "A", .keep_unlabeled = 1};
    free(text);
    int warned = 0;
    reel_log log = {.fn = count_warnings, .user = &warned};
    o.log = &log;
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(warned, 1, "one warning for 'title', none for 'kind'");
    reel_dataset_free(&ds);
    warned = 0;
    o.id = "title";
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(warned, 0, "an id column is no feature: no warning");
    reel_dataset_free(&ds);
}

/* A descriptor names the separator ("sep"); a bad one is refused with the key. */
Test(dataset, descriptor_sep)
{
    tmp_write("semi.csv", "x;A;B\n1;1;0\n2;0;1\n");
    const char *json = tmp_write("semi.json", "{\"path\": \"semi.csv\", \"labels\": [\"A\", \"B\"], \"sep\": \";\"}");
    reel_data_opts o = {.data = json};
    reel_dataset ds;
    reel_error err;
    cr_assert_eq(reel_dataset_load(&ds, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(ds.L, 2);
    cr_expect_eq(ds.n_features, 1);
    cr_expect_eq(ds.table.sep_found, 0, "given, not found");
    reel_dataset_free(&ds);
    json = tmp_write("badsep.json", "{\"path\": \"semi.csv\", \"labels\": [\"A\"], \"sep\": \"ab\"}");
    o.data = json;
    load_bad(o, "key 'sep'");
}
