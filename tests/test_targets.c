/* Binary and multiclass targets through the public C API (include/reel.h,
 * "targets"): every model fits a class column, reports its target and
 * classes, gives n x K probabilities whose rows sum to 1 and one class per
 * row, and its model file round-trips to the same bits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "reel.h"

#define N 240

static const char *const NUM[] = {"x1", "x2"};
static const char *const THREE[] = {"PG", "PG-13", "R"}, *const TWO[] = {"no", "yes"};
static const char *const MODELS[] = {"tree", "forest", "knn", "ridge", "prior", "random", "box"};
#define N_MODELS (sizeof MODELS / sizeof *MODELS)

/* Two features; the class is the region of (x1, x2) (K = 3) or x1 + x2 > 0 (K = 2), with 10% flipped. */
static reel_data *class_data(size_t K, size_t *y)
{
    static double X[N * 2];
    for (int i = 0; i < N; i++) {
        double a = (double)((i * 37) % 101) / 25.0 - 2.0, b = (double)((i * 53) % 97) / 24.0 - 2.0;
        X[2 * i] = a;
        X[2 * i + 1] = b;
        size_t c = K == 2 ? a + b > 0 : a < -0.5 ? 0 : b < 0 ? 1 : 2;
        y[i] = i % 10 == 3 ? (c + 1) % K : c;
    }
    reel_data *d = reel_data_from_arrays(N, 2, X, NUM, 0, NULL, NULL, 0, NULL, NULL);
    cr_assert_not_null(d, "%s", reel_last_error());
    cr_assert_eq(reel_data_set_classes(d, K, K == 2 ? TWO : THREE, y), 0, "%s", reel_last_error());
    return d;
}

static double accuracy(const unsigned char *Y, const size_t *y, size_t K)
{
    size_t right = 0;
    for (size_t i = 0; i < N; i++)
        right += Y[i * K + y[i]] == 1;
    return (double)right / N;
}

static void round_trip(size_t K)
{
    size_t y[N];
    reel_data *d = class_data(K, y);
    cr_expect_str_eq(reel_data_target(d), K == 2 ? "binary" : "multiclass");
    double acc[N_MODELS];
    for (size_t m = 0; m < N_MODELS; m++) {
        const char *params = strcmp(MODELS[m], "box") == 0 ? "{\"epochs\": 30}" : NULL;
        reel_classifier *c = reel_fit(MODELS[m], params, d, "{\"threads\": 1}");
        cr_assert_not_null(c, "%s: %s", MODELS[m], reel_last_error());
        cr_expect_str_eq(reel_classifier_target(c), K == 2 ? "binary" : "multiclass");
        cr_assert_eq(reel_classifier_classes(c), K);
        cr_assert_eq(reel_classifier_labels(c), K, "%s: %zu columns", MODELS[m], reel_classifier_labels(c));
        for (size_t k = 0; k < K; k++)
            cr_expect_str_eq(reel_classifier_class(c, k), K == 2 ? TWO[k] : THREE[k]);
        cr_expect_str_eq(reel_classifier_decision_rule(c), K == 2 ? "threshold" : "argmax");
        float P[N * 3], P2[N * 3];
        unsigned char Y[N * 3];
        cr_assert_eq(reel_predict_proba(c, d, P), 0, "%s", reel_last_error());
        cr_assert_eq(reel_predict(c, d, Y), 0, "%s", reel_last_error());
        for (size_t i = 0; i < N; i++) {
            double sum = 0;
            size_t ones = 0, top = 0;
            for (size_t k = 0; k < K; k++) {
                sum += P[i * K + k];
                ones += Y[i * K + k];
                top = P[i * K + k] > P[i * K + top] ? k : top;
            }
            cr_assert(fabs(sum - 1.0) < 1e-5, "%s: row %zu sums to %g", MODELS[m], i, sum);
            cr_assert_eq(ones, 1, "%s: row %zu predicts %zu classes", MODELS[m], i, ones);
            if (K == 2) /* class 1 exactly when its probability passes 0.5 */
                cr_assert_eq(Y[2 * i + 1], P[2 * i + 1] > 0.5f, "%s: row %zu", MODELS[m], i);
            else
                cr_assert_eq(Y[i * K + top], 1, "%s: row %zu is not its most probable class", MODELS[m], i);
        }
        acc[m] = accuracy(Y, y, K);
        if (K == 3 && strcmp(MODELS[m], "random") == 0) /* one class drawn uniformly per row */
            for (size_t k = 0; k < K; k++) {
                size_t count = 0;
                for (size_t i = 0; i < N; i++)
                    count += Y[i * K + k];
                cr_expect(count > N / 4 && count < N / 2, "random predicts class %zu %zu times of %d", k, count, N);
            }
        const char *path = tmp_path("targets.safetensors");
        cr_assert_eq(reel_classifier_save(c, path), 0, "%s", reel_last_error());
        reel_classifier *back = reel_classifier_load(path);
        cr_assert_not_null(back, "%s: %s", MODELS[m], reel_last_error());
        cr_expect_str_eq(reel_classifier_target(back), reel_classifier_target(c));
        cr_assert_eq(reel_classifier_classes(back), K);
        for (size_t k = 0; k < K; k++)
            cr_expect_str_eq(reel_classifier_class(back, k), reel_classifier_class(c, k));
        cr_expect_str_eq(reel_classifier_decision_rule(back), reel_classifier_decision_rule(c));
        cr_assert_eq(reel_predict_proba(back, d, P2), 0, "%s", reel_last_error());
        cr_expect_arr_eq(P, P2, N * K * sizeof *P, "%s: the loaded model predicts other probabilities", MODELS[m]);
        char *info = reel_classifier_info(back);
        cJSON *j = cJSON_Parse(info);
        cr_expect_str_eq(cJSON_GetObjectItem(j, "target")->valuestring, K == 2 ? "binary" : "multiclass");
        cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "classes")), (int)K);
        cJSON_Delete(j);
        reel_free(info);
        reel_classifier_free(back);
        reel_classifier_free(c);
    }
    /* the models that learn beat the prior (the majority class) on these rows */
    for (size_t m = 0; m < N_MODELS; m++)
        if (strcmp(MODELS[m], "prior") && strcmp(MODELS[m], "random"))
            cr_expect_gt(acc[m], acc[4] + 0.1, "%s: accuracy %.3f, prior %.3f", MODELS[m], acc[m], acc[4]);
    reel_data_free(d);
}

Test(targets, multiclass_fits_predicts_and_round_trips) { round_trip(3); }

Test(targets, binary_fits_predicts_and_round_trips) { round_trip(2); }

Test(targets, multiclass_refuses_a_label_set_rule)
{
    size_t y[N];
    reel_data *d = class_data(3, y);
    cr_expect_null(reel_fit("tree", NULL, d, "{\"decision\": \"tuned-per-label\"}"));
    cr_expect(strstr(reel_last_error(), "argmax") != NULL, "%s", reel_last_error());
    reel_data_free(d);
}

Test(targets, binary_takes_a_tuned_rule_by_name)
{
    size_t y[N];
    reel_data *d = class_data(2, y);
    reel_classifier *c = reel_fit("ridge", NULL, d, "{\"decision\": \"tuned-per-label\", \"valid_fraction\": 0.3}");
    cr_assert_not_null(c, "%s", reel_last_error());
    cr_expect_str_eq(reel_classifier_decision_rule(c), "tuned-per-label");
    reel_classifier_free(c);
    /* the rules that maximise samples-F1 would call every row class 1 */
    const char *degenerate[] = {"tuned-global", "expected-f1", "threshold+at-least-one"};
    for (int k = 0; k < 3; k++) {
        char opts[128];
        snprintf(opts, sizeof opts, "{\"decision\": \"%s\", \"valid_fraction\": 0.3}", degenerate[k]);
        cr_expect_null(reel_fit("ridge", NULL, d, opts), "%s", degenerate[k]);
        cr_expect(strstr(reel_last_error(), "would predict the second class for every row"), "%s: %s", degenerate[k],
                  reel_last_error());
    }
    reel_data_free(d);
}

Test(targets, bad_classes_are_refused)
{
    size_t y[N];
    reel_data *d = class_data(3, y);
    const char *one[] = {"A"}, *twice[] = {"A", "B", "A"};
    cr_expect_eq(reel_data_set_classes(d, 1, one, y), -1);
    cr_expect(strstr(reel_last_error(), "two classes") != NULL, "%s", reel_last_error());
    cr_expect_eq(reel_data_set_classes(d, 3, twice, y), -1);
    cr_expect(strstr(reel_last_error(), "'A' is named twice") != NULL, "%s", reel_last_error());
    y[7] = 5;
    cr_expect_eq(reel_data_set_classes(d, 3, THREE, y), -1);
    cr_expect(strstr(reel_last_error(), "row 8 has class 5") != NULL, "%s", reel_last_error());
    y[7] = 1;
    const char *empty[] = {"A", "", "C"};
    cr_expect_eq(reel_data_set_classes(d, 3, empty, y), -1);
    size_t first = 0;
    while (y[first] != 1)
        first++;
    char where[64];
    snprintf(where, sizeof where, "row %zu has class 2, whose name is empty", first + 1);
    cr_expect(strstr(reel_last_error(), where) != NULL, "%s", reel_last_error());
    cr_expect_str_eq(reel_data_target(d), "multiclass"); /* unchanged by the refusals */
    reel_data_free(d);
}

/* A file's class column (the CLI's --target, the data option "target"):
 * rows without a class dropped, classes sorted (numbers by value), and the
 * errors a user meets. */
Test(targets, class_column_of_a_file)
{
    const char *csv = tmp_write("target.csv", "x,size,kind\n1,10,b\n2,9,a\n3,100,\n4,10,c\n5,9,b\n6,100,a\n");
    reel_data *d = reel_data_from_file(csv, "{\"target\": \"kind\"}");
    cr_assert_not_null(d, "%s", reel_last_error());
    cr_expect_eq(reel_data_rows(d), 5, "the row without a kind is dropped");
    cr_expect_str_eq(reel_data_target(d), "multiclass");
    cr_assert_eq(reel_data_labels(d), 3);
    cr_expect_str_eq(reel_data_label(d, 0), "a");
    cr_expect_str_eq(reel_data_label(d, 2), "c");
    reel_data_free(d);
    d = reel_data_from_file(csv, "{\"target\": \"size\"}"); /* 9 < 10 < 100, not "10" < "100" < "9" */
    cr_assert_not_null(d, "%s", reel_last_error());
    cr_expect_str_eq(reel_data_label(d, 0), "9");
    cr_expect_str_eq(reel_data_label(d, 1), "10");
    cr_expect_str_eq(reel_data_label(d, 2), "100");
    reel_data_free(d);
    const char *one = tmp_write("one.csv", "x,kind\n1,a\n2,a\n3,\n");
    cr_expect_null(reel_data_from_file(one, "{\"target\": \"kind\"}"));
    cr_expect(strstr(reel_last_error(), "holds one class; a classifier needs two or more classes (every row is 'a')"),
              "%s", reel_last_error());
    cr_expect_null(reel_data_from_file(csv, "{\"target\": \"kind\", \"labels\": \"x\"}"));
    cr_expect(strstr(reel_last_error(), "give one of them"), "%s", reel_last_error());
    cr_expect_null(reel_data_from_file(csv, "{\"target\": \"nope\"}"));
    cr_expect(strstr(reel_last_error(), "nope"), "%s", reel_last_error());
    char big[8192] = "x,id\n";
    for (int i = 0; i < 300; i++)
        sprintf(big + strlen(big), "%d,r%d\n", i, i);
    cr_expect_null(reel_data_from_file(tmp_write("big.csv", big), "{\"target\": \"id\"}"));
    cr_expect(strstr(reel_last_error(), "holds 300 classes; at most 255"), "%s", reel_last_error());
}

/* A CSV of a class column cls (K classes named by `names`, a row's class
 * drawn from x1's band; every 25th row has no class) into text and a file,
 * for the train and predict tasks. */
static const char *class_csv(const char *file, size_t K, const char *const *names, char *text, size_t size)
{
    size_t len = (size_t)snprintf(text, size, "x1,x2,cls\n");
    unsigned s = 7;
    for (int i = 0; i < 400; i++) {
        s = s * 1103515245u + 12345u;
        double x1 = (double)((s >> 8) % 1000) / 1000.0, x2 = (double)((s >> 4) % 97) / 97.0;
        size_t k = (size_t)(x1 * (double)K) % K;
        len += (size_t)snprintf(text + len, size - len, "%.3f,%.3f,%s\n", x1, x2, i % 25 == 0 ? "" : names[k]);
    }
    return tmp_write(file, text);
}

/* reel predict on a class model answers in its classes: K columns of
 * probabilities summing to 1, one class decided per row (class 0 of a
 * binary model too), and the rows with a class scored by accuracy. */
static void predict_in_classes(size_t K, const char *const *names)
{
    static char text[64 * 400];
    char csvname[64], modelname[64], opts[2048];
    snprintf(csvname, sizeof csvname, "predict_classes_%zu.csv", K);
    snprintf(modelname, sizeof modelname, "predict_classes_%zu.safetensors", K);
    const char *csv = class_csv(csvname, K, names, text, sizeof text), *model = tmp_path(modelname);
    snprintf(opts, sizeof opts,
             "{\"model\": \"tree\", \"data\": \"%s\", \"target\": \"cls\", \"save\": \"%s\", \"threads\": 1, "
             "\"quiet\": true}", csv, model);
    reel_task *t = reel_task_new("train", opts);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    reel_task_free(t);
    snprintf(opts, sizeof opts, "{\"model_file\": \"%s\", \"data\": \"%s\"}", model, csv);
    t = reel_task_new("predict", opts);
    cr_assert_eq(reel_task_run(t), 0, "%s", reel_last_error());
    size_t n = reel_task_rows(t);
    cr_assert_eq(n, 400);
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    cJSON *labels = cJSON_GetObjectItem(doc, "labels");
    cr_assert_eq((size_t)cJSON_GetArraySize(labels), K, "the classes, not the model's outputs");
    for (size_t k = 0; k < K; k++)
        cr_expect_str_eq(cJSON_GetArrayItem(labels, (int)k)->valuestring, names[k]);
    const float *P = reel_task_probabilities(t);
    const unsigned char *D = reel_task_decisions(t);
    size_t right = 0, scored = 0, decided[8] = {0};
    const char *line = strchr(text, '\n') + 1;
    for (size_t i = 0; i < n; i++, line = strchr(line, '\n') + 1) {
        double sum = 0;
        size_t ones = 0, best = 0;
        for (size_t k = 0; k < K; k++) {
            sum += P[i * K + k];
            ones += D[i * K + k];
            best = D[i * K + k] ? k : best;
        }
        cr_expect_float_eq(sum, 1.0, 1e-5, "row %zu", i);
        cr_expect_eq(ones, 1, "row %zu: one class decided", i);
        decided[best]++;
        const char *cls = strchr(strchr(line, ',') + 1, ',') + 1; /* the row's own class, when it has one */
        if (*cls == '\n')
            continue;
        scored++;
        for (size_t k = 0; k < K; k++)
            if (strncmp(cls, names[k], strlen(names[k])) == 0 && cls[strlen(names[k])] == '\n')
                right += D[i * K + k];
    }
    for (size_t k = 0; k < K; k++)
        cr_expect_gt(decided[k], 0, "class %s is decided on some rows", names[k]);
    cJSON *s = cJSON_GetObjectItem(doc, "scores");
    cr_assert(cJSON_IsObject(s), "rows with a class are scored: %s", reel_task_result(t));
    cr_expect_eq((size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "rows")), scored, "%s", reel_task_result(t));
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(s, "accuracy")), (double)right / (double)scored,
                       1e-12);
    cr_expect_eq((size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "left_out")), n - scored);
    cJSON_Delete(doc);
    reel_task_free(t);
}

Test(targets, predict_answers_in_the_classes_binary) { predict_in_classes(2, TWO); }
Test(targets, predict_answers_in_the_classes_multiclass) { predict_in_classes(3, THREE); }

/* reel decide on a class model's probabilities (the "decide" task with a
 * "target" column): runs it; returns its document (NULL: it failed). */
static cJSON *decide_classes(const char *valid, const char *test, const char *labels, const char *decision)
{
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"valid\": \"%s\", \"test\": \"%s\", \"labels\": \"%s\", \"target\": \"y\"%s%s%s}",
             valid, test, labels, decision ? ", \"decision\": \"" : "", decision ? decision : "", decision ? "\"" : "");
    reel_task *t = reel_task_new("decide", opts);
    cJSON *doc = reel_task_run(t) == 0 ? cJSON_Parse(reel_task_result(t)) : NULL;
    reel_task_free(t);
    return doc;
}

static const char *item(const cJSON *doc, const char *key, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(doc, key), i)->valuestring;
}

/* Multiclass: argmax only, stated; each row gets its most probable class
 * and the test rows are scored by accuracy. */
Test(targets, decide_multiclass_is_argmax)
{
    const char *v = tmp_write("dm_v.csv", "p_a,p_b,p_c,y\n.5,.3,.2,a\n.1,.7,.2,b\n.2,.2,.6,c\n.4,.35,.25,b\n");
    const char *t = tmp_write("dm_t.csv", "p_a,p_b,p_c,y\n.2,.5,.3,b\n.6,.3,.1,c\n.1,.1,.8,c\n");
    cJSON *doc = decide_classes(v, t, "a,b,c", NULL);
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "target")->valuestring, "multiclass");
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision_rule")->valuestring, "argmax");
    cr_expect(strstr(cJSON_GetObjectItem(doc, "decision_note")->valuestring, "most probable class"));
    cr_expect_str_eq(item(doc, "predicted", 0), "b");
    cr_expect_str_eq(item(doc, "predicted", 1), "a");
    cr_expect_str_eq(item(doc, "predicted", 2), "c");
    cJSON *m = cJSON_GetObjectItem(doc, "metrics");
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "accuracy")), 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "log_loss")),
                       -(log(.5) + log(.1) + log(.8)) / 3.0, 1e-6);
    cr_expect_null(cJSON_GetObjectItem(m, "roc_auc"));
    cJSON_Delete(doc);
    cr_expect_null(decide_classes(v, t, "a,b,c", "tuned-global"));
    cr_expect(strstr(reel_last_error(), "a multi-class target predicts its most probable class (argmax"), "%s",
              reel_last_error());
    /* a class the labels do not name: where */
    const char *bad = tmp_write("dm_bad.csv", "p_a,p_b,p_c,y\n.2,.5,.3,b\n.6,.3,.1,d\n");
    cr_expect_null(decide_classes(v, bad, "a,b,c", NULL));
    cr_expect(strstr(reel_last_error(), "dm_bad.csv, line 3, column y: 'd' is not one of the 3 classes"), "%s",
              reel_last_error());
    const char *gap = tmp_write("dm_gap.csv", "p_a,p_b,p_c,y\n.2,.5,.3,b\n.6,.3,.1,\n");
    cr_expect_null(decide_classes(v, gap, "a,b,c", NULL));
    cr_expect(strstr(reel_last_error(), "dm_gap.csv, line 3, column y: no class (an empty cell)"), "%s",
              reel_last_error());
}

/* Binary: P(second class) cut at 0.5 by default, as scikit-learn; a tuned
 * rule by name; classes written as numbers match by value. */
Test(targets, decide_binary_cuts_at_one_half_unless_a_rule_is_named)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "p_2,y\n");
    for (int i = 0; i < 40; i++) /* the 2s have P .35 to .45, the 1s below .3: the best cut is near .3 */
        len += (size_t)snprintf(text + len, sizeof text - len, "%.3f,%s\n", i % 2 ? 0.35 + 0.005 * i : 0.01 * i / 2,
                                i % 2 ? "2.0" : "1");
    const char *v = tmp_write("db_v.csv", text);
    const char *t = tmp_write("db_t.csv", "p_2,y\n.4,2\n.6,2\n.1,1\n");
    cJSON *doc = decide_classes(v, t, "1,2", NULL);
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "target")->valuestring, "binary");
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision_rule")->valuestring, "threshold");
    cr_expect_str_eq(item(doc, "predicted", 0), "1", "0.4 is under the 0.5 cut");
    cr_expect_str_eq(item(doc, "predicted", 1), "2");
    cr_expect_str_eq(item(doc, "predicted", 2), "1");
    cr_expect_null(decide_classes(v, t, "1,2", "tuned-global"), "cuts below every probability on a binary target");
    cJSON *m = cJSON_GetObjectItem(doc, "metrics");
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "accuracy")), 2.0 / 3.0, 1e-12);
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "roc_auc")), 1.0, 1e-12);
    cr_expect_not_null(cJSON_GetObjectItem(m, "f1"));
    cJSON_Delete(doc);
    doc = decide_classes(v, t, "1,2", "tuned-per-label");
    cr_assert_not_null(doc, "%s", reel_last_error());
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "decision_rule")->valuestring, "tuned-per-label");
    cr_expect_str_eq(item(doc, "predicted", 0), "2", "the tuned cut lies under 0.35");
    cJSON *mt = cJSON_GetObjectItem(doc, "metrics");
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(mt, "accuracy")), 1.0, 1e-12);
    cJSON_Delete(doc);
}

/* The caller's dtype of its classes travels in the model file (Python
 * reads its classes back in it); a bad name or a multi-label target is
 * refused. */
Test(targets, class_dtype_is_kept_in_the_model_file)
{
    size_t y[N];
    reel_data *d = class_data(3, y);
    cr_expect_eq(reel_data_set_class_dtype(d, "<U5; rm"), -1);
    cr_expect(strstr(reel_last_error(), "is not a dtype name"), "%s", reel_last_error());
    cr_assert_eq(reel_data_set_class_dtype(d, "<U5"), 0, "%s", reel_last_error());
    reel_classifier *c = reel_fit("prior", NULL, d, "{\"threads\": 1}");
    cr_assert_not_null(c, "%s", reel_last_error());
    const char *path = tmp_path("class_dtype.safetensors");
    cr_assert_eq(reel_classifier_save(c, path), 0, "%s", reel_last_error());
    reel_classifier *back = reel_classifier_load(path);
    cr_assert_not_null(back, "%s", reel_last_error());
    char *info = reel_classifier_info(back);
    cJSON *j = cJSON_Parse(info);
    cJSON *dt = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "dataset"), "class_dtype");
    cr_expect(cJSON_IsString(dt) && strcmp(dt->valuestring, "<U5") == 0, "%s", info);
    cJSON_Delete(j);
    reel_free(info);
    reel_classifier_free(back);
    reel_classifier_free(c);
    cr_assert_eq(reel_data_set_classes(d, 3, THREE, y), 0); /* new classes: what was said of the old ones goes */
    c = reel_fit("prior", NULL, d, "{\"threads\": 1}");
    info = reel_classifier_info(c);
    cr_expect_null(strstr(info, "class_dtype"), "%s", info);
    reel_free(info);
    reel_classifier_free(c);
    reel_data_free(d);
    const double X[2] = {1, 2};
    const unsigned char Y[2] = {0, 1};
    reel_data *m = reel_data_from_arrays(2, 1, X, NUM, 0, NULL, NULL, 1, Y, (const char *const[]){"A"});
    cr_assert_not_null(m, "%s", reel_last_error());
    cr_expect_eq(reel_data_set_class_dtype(m, "<U5"), -1);
    cr_expect(strstr(reel_last_error(), "multi-label"), "%s", reel_last_error());
    reel_data_free(m);
}
