#include "store/onnx_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text cells reel reads as missing that a CSV usually holds (reel
 * itself ignores case and surrounding blanks; a LabelEncoder matches
 * exactly, so the common spellings are listed). */
static const char *const MISSING_TEXT[] = {"", "NA", "na", "Na", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL",
                                           "Null"};
enum { N_MISSING_TEXT = sizeof MISSING_TEXT / sizeof *MISSING_TEXT };

/* The codes a text column's LabelEncoder gives: a training category its
 * index among the column's one-hot features, a missing cell CODE_MISSING,
 * anything else CODE_OTHER (the "<col>=other" feature). */
enum { CODE_OTHER = -1, CODE_MISSING = -2 };

static int is_text_feature(reel_feat_kind k) { return k == REEL_FEAT_ONEHOT || k == REEL_FEAT_OTHER; }

/* Features [k0, k1) of a numeric column `src`: the value with NaN imputed
 * by the training median, or the missing indicator; one [N, 1] piece each,
 * named raw.<k>, appended to pieces. */
static void numeric_column(reel_pb *graph, const reel_preproc *pre, size_t k0, size_t k1, char (*pieces)[32],
                           size_t *n_pieces)
{
    const char *src = pre->f[k0].source;
    char isnan_name[32], name[32];
    snprintf(isnan_name, sizeof isnan_name, "raw.%zu.isnan", k0);
    reel_onnx_node(graph, "IsNaN", isnan_name, src, NULL, NULL, isnan_name, NULL, 0);
    for (size_t k = k0; k < k1; k++) {
        snprintf(pieces[*n_pieces], sizeof pieces[0], "raw.%zu", k);
        const char *out = pieces[(*n_pieces)++];
        if (pre->f[k].kind == REEL_FEAT_MISSING) {
            reel_onnx_node(graph, "Cast", out, isnan_name, NULL, NULL, out, "to", ONNX_FLOAT);
            continue;
        }
        size_t one = 1;
        float impute = (float)pre->f[k].impute;
        snprintf(name, sizeof name, "raw.%zu.impute", k);
        reel_onnx_init(graph, name, 1, &one, &impute);
        reel_onnx_node(graph, "Where", out, isnan_name, name, src, out, NULL, 0);
    }
}

/* Features [k0, k1) of a text column: a LabelEncoder to codes, then one
 * Equal against each feature's code, as one [N, k1 - k0] piece. */
static int text_column(reel_pb *graph, const reel_preproc *pre, size_t k0, size_t k1, char (*pieces)[32],
                       size_t *n_pieces, reel_error *err)
{
    size_t m = k1 - k0, n_keys = 0;
    const char **keys = malloc((m + N_MISSING_TEXT) * sizeof *keys);
    int64_t *values = malloc((m + N_MISSING_TEXT) * sizeof *values), *codes = malloc(m * sizeof *codes);
    if (!keys || !values || !codes) {
        free(keys);
        free(values);
        free(codes);
        return reel_fail(err, "out of memory");
    }
    for (size_t k = k0; k < k1; k++) {
        const reel_feature *f = &pre->f[k];
        if (f->kind == REEL_FEAT_ONEHOT) {
            keys[n_keys] = f->category;
            values[n_keys] = (int64_t)(k - k0);
            codes[k - k0] = (int64_t)(k - k0);
            n_keys++;
        } else {
            codes[k - k0] = f->kind == REEL_FEAT_OTHER ? CODE_OTHER : CODE_MISSING;
        }
    }
    for (size_t q = 0; q < N_MISSING_TEXT; q++) {
        keys[n_keys] = MISSING_TEXT[q];
        values[n_keys++] = CODE_MISSING;
    }
    char code[32], vals[32], hot[32];
    snprintf(code, sizeof code, "raw.%zu.code", k0);
    snprintf(vals, sizeof vals, "raw.%zu.codes", k0);
    snprintf(hot, sizeof hot, "raw.%zu.hot", k0);
    const char *src = pre->f[k0].source;
    reel_onnx_attr a[3] = {{.name = "keys_strings", .type = ATTR_STRINGS, .strings = keys, .count = n_keys},
                           {.name = "values_int64s", .type = ATTR_INTS, .ints = values, .count = n_keys},
                           {.name = "default_int64", .type = ATTR_INT, .i = CODE_OTHER}};
    reel_onnx_node_ex(graph, "ai.onnx.ml", "LabelEncoder", code, &src, 1, code, a, 3);
    reel_onnx_init_i64(graph, vals, 1, &m, codes);
    reel_onnx_node(graph, "Equal", hot, code, vals, NULL, hot, NULL, 0);
    snprintf(pieces[*n_pieces], sizeof pieces[0], "raw.%zu", k0);
    reel_onnx_node(graph, "Cast", pieces[*n_pieces], hot, NULL, NULL, pieces[*n_pieces], "to", ONNX_FLOAT);
    (*n_pieces)++;
    free(keys);
    free(values);
    free(codes);
    return 0;
}

int reel_onnx_add_raw_inputs(reel_pb *graph, const reel_preproc *pre, const char *out, size_t *numeric,
                             size_t *text, reel_error *err)
{
    size_t d = pre->d, n_pieces = 0;
    char(*pieces)[32] = malloc((d ? d : 1) * sizeof *pieces);
    const char **names = malloc((d ? d : 1) * sizeof *names);
    *numeric = *text = 0;
    if (!pieces || !names) {
        free(pieces);
        free(names);
        return reel_fail(err, "out of memory");
    }
    int rc = 0;
    for (size_t k0 = 0, k1; k0 < d && rc == 0; k0 = k1) {
        const char *src = pre->f[k0].source;
        int is_text = 0, has_value = 0;
        for (k1 = k0; k1 < d && strcmp(pre->f[k1].source, src) == 0; k1++) {
            is_text |= is_text_feature(pre->f[k1].kind);
            has_value |= pre->f[k1].kind == REEL_FEAT_NUMERIC;
        }
        for (size_t q = 0; q < k0 && rc == 0; q++)
            if (strcmp(pre->f[q].source, src) == 0) /* one input per column: its features must be together */
                rc = reel_fail(err, "column '%s' feeds features %zu and %zu, not next to each other; the whole-"
                               "pipeline graph needs a column's features together (--net-only takes features)",
                               src, q, k0);
        if (rc == 0 && (!strcmp(src, "features") || !strcmp(src, "probabilities") || !strcmp(src, "labels")))
            rc = reel_fail(err, "column '%s' has the name of one of the graph's own tensors; rename it in the CSV "
                           "and retrain, or export with --net-only", src);
        if (rc == 0 && is_text && has_value)
            rc = reel_fail(err, "column '%s' is both a number and one-hot encoded; onnx export cannot give it "
                           "one input type", src);
        if (rc)
            break;
        reel_onnx_value_info_typed(graph, GRAPH_INPUT, src, is_text ? ONNX_STRING : ONNX_FLOAT, 1);
        if (is_text) {
            ++*text;
            rc = text_column(graph, pre, k0, k1, pieces, &n_pieces, err);
        } else {
            ++*numeric;
            numeric_column(graph, pre, k0, k1, pieces, &n_pieces);
        }
    }
    if (rc == 0) {
        for (size_t q = 0; q < n_pieces; q++)
            names[q] = pieces[q];
        reel_onnx_attr axis = {.name = "axis", .type = ATTR_INT, .i = 1};
        reel_onnx_node_ex(graph, NULL, "Concat", "raw.concat", names, n_pieces, out, &axis, 1);
    }
    free(pieces);
    free(names);
    return rc;
}

/* "decide.range": int64 [L] holding 0 .. L-1. */
static void add_range(reel_pb *graph, size_t L)
{
    int64_t *range = malloc((L ? L : 1) * sizeof *range);
    if (!range) {
        graph->oom = 1;
        return;
    }
    for (size_t k = 0; k < L; k++)
        range[k] = (int64_t)k;
    reel_onnx_init_i64(graph, "decide.range", 1, &L, range);
    free(range);
}

/* int64 `out` [N, L]: one-hot of each row's most probable column of prob (the first of ties), over "decide.range". */
static void add_top_hot(reel_pb *graph, const char *prob, const char *out)
{
    reel_onnx_attr argmax[2] = {{.name = "axis", .type = ATTR_INT, .i = 1}, {.name = "keepdims", .type = ATTR_INT, .i = 1}};
    reel_onnx_node_ex(graph, NULL, "ArgMax", "decide.top", &prob, 1, "decide.top", argmax, 2);
    reel_onnx_node(graph, "Equal", "decide.top_hot", "decide.range", "decide.top", NULL, "decide.top_hot", NULL, 0);
    reel_onnx_node(graph, "Cast", out, "decide.top_hot", NULL, NULL, out, "to", ONNX_INT64);
}

int reel_onnx_add_decision(reel_pb *graph, const reel_decision *rule, const char *prob, const char *out,
                           char *note, size_t size)
{
    size_t L = rule->L;
    if (rule->kind == REEL_RULE_EXPECTED_F1) {
        snprintf(note, size, "the expected-F1 rule decides each row by a search over its labels' probabilities, "
                 "which the graph does not hold: it outputs probabilities only (reel predict decides, or train "
                 "with --decision tuned-per-label for a rule the graph carries)");
        return 0;
    }
    reel_onnx_init(graph, "decide.cuts", 1, &L, rule->threshold);
    reel_onnx_node(graph, "Greater", "decide.above", prob, "decide.cuts", NULL, "decide.above", NULL, 0);
    if (!rule->at_least_one) {
        reel_onnx_node(graph, "Cast", out, "decide.above", NULL, NULL, out, "to", ONNX_INT64);
        return 1;
    }
    /* A row with no label gets its most probable one. (Where on int64:
     * onnxruntime's CPU Where has no bool kernel.) */
    int64_t axes = 1;
    add_range(graph, L);
    reel_onnx_node(graph, "Cast", "decide.above_i", "decide.above", NULL, NULL, "decide.above_i", "to", ONNX_INT64);
    reel_onnx_attr reduce[2] = {{.name = "axes", .type = ATTR_INTS, .ints = &axes, .count = 1},
                                {.name = "keepdims", .type = ATTR_INT, .i = 1}};
    const char *above_i = "decide.above_i";
    reel_onnx_node_ex(graph, NULL, "ReduceMax", "decide.any_i", &above_i, 1, "decide.any_i", reduce, 2);
    reel_onnx_node(graph, "Cast", "decide.any", "decide.any_i", NULL, NULL, "decide.any", "to", ONNX_BOOL);
    add_top_hot(graph, prob, "decide.top_i");
    reel_onnx_node(graph, "Where", out, "decide.any", "decide.above_i", "decide.top_i", out, NULL, 0);
    return 1;
}

void reel_onnx_add_classes(reel_pb *graph, reel_target_kind target, const char *outs, const char *prob)
{
    size_t one = 1;
    if (target == REEL_TARGET_BINARY) {
        const float unit = 1.0f;
        reel_onnx_init(graph, "classes.one", 1, &one, &unit);
        reel_onnx_node(graph, "Sub", "classes.class0", "classes.one", outs, NULL, "classes.class0", NULL, 0);
        const char *both[] = {"classes.class0", outs};
        reel_onnx_attr axis = {.name = "axis", .type = ATTR_INT, .i = 1};
        reel_onnx_node_ex(graph, NULL, "Concat", "classes.proba", both, 2, prob, &axis, 1);
        return;
    }
    const int64_t axes = 1; /* opset 13+: ReduceSum takes its axes as an input */
    reel_onnx_init_i64(graph, "classes.axes", 1, &one, &axes);
    reel_onnx_node(graph, "ReduceSum", "classes.sum", outs, "classes.axes", NULL, "classes.sum", "keepdims", 1);
    reel_onnx_node(graph, "Div", "classes.proba", outs, "classes.sum", NULL, prob, NULL, 0);
}

int reel_onnx_add_class_decision(reel_pb *graph, const reel_decision *rule, reel_target_kind target,
                                 const char *outs, const char *prob, const char *out, char *note, size_t size)
{
    if (target == REEL_TARGET_BINARY) {
        if (!reel_onnx_add_decision(graph, rule, outs, "decide.class1", note, size))
            return 0;
        size_t one = 1;
        const int64_t unit = 1;
        reel_onnx_init_i64(graph, "decide.one", 1, &one, &unit);
        reel_onnx_node(graph, "Sub", "decide.class0", "decide.one", "decide.class1", NULL, "decide.class0", NULL, 0);
        const char *both[] = {"decide.class0", "decide.class1"};
        reel_onnx_attr axis = {.name = "axis", .type = ATTR_INT, .i = 1};
        reel_onnx_node_ex(graph, NULL, "Concat", "decide.classes", both, 2, out, &axis, 1);
        return 1;
    }
    add_range(graph, rule->L);
    add_top_hot(graph, prob, out);
    return 1;
}
