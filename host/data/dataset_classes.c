/* A dataset whose target is one column of classes (data/target.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/size.h"

int reel_dataset_set_classes(reel_dataset *ds, size_t K, const char *const *names, const size_t *y,
                             reel_error *err)
{
    for (size_t i = 0; i < ds->n && names; i++) /* where an empty class is, before what is wrong with it */
        if (y[i] < K && names[y[i]] && !*names[y[i]])
            return reel_fail(err, "classes: row %zu has class %zu, whose name is empty; a class needs a name (a "
                             "model file, the CLI and predict name each class; an empty CSV cell is a missing "
                             "target)", i + 1, y[i] + 1);
    if (reel_class_names_check((char *const *)names, K, "classes", err))
        return -1;
    for (size_t i = 0; i < ds->n; i++)
        if (y[i] >= K)
            return reel_fail(err, "classes: row %zu has class %zu; there are %zu classes (0 to %zu)", i + 1, y[i],
                             K, K - 1);
    reel_target_kind kind = reel_target_of_classes(K);
    size_t L = kind == REEL_TARGET_BINARY ? 1 : K, cells = 0;
    char **classes = calloc(K, sizeof *classes), **labels = calloc(L, sizeof *labels);
    uint8_t *Y = reel_size_mul(ds->n ? ds->n : 1, L, &cells) ? calloc(cells, 1) : NULL;
    int ok = classes && labels && Y;
    for (size_t k = 0; ok && k < K; k++)
        ok = (classes[k] = strdup(names[k])) != NULL;
    for (size_t k = 0; ok && k < L; k++)
        ok = (labels[k] = strdup(names[kind == REEL_TARGET_BINARY ? 1 : k])) != NULL;
    if (!ok) {
        reel_label_list_free(classes, classes ? K : 0);
        reel_label_list_free(labels, labels ? L : 0);
        free(Y);
        return reel_fail(err, "out of memory for %zu classes", K);
    }
    for (size_t i = 0; i < ds->n; i++) {
        if (kind == REEL_TARGET_BINARY)
            Y[i] = y[i] == 1;
        else
            Y[i * L + y[i]] = 1;
    }
    reel_label_list_free(ds->labels, ds->L);
    reel_label_list_free(ds->classes, ds->K);
    free(ds->class_dtype); /* said of the classes replaced */
    ds->class_dtype = NULL;
    free(ds->Y);
    ds->labels = labels;
    ds->L = L;
    ds->Y = Y;
    ds->classes = classes;
    ds->K = K;
    ds->target = kind;
    return 0;
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Class names of a text column: its values on kept rows, sorted by bytes. */
static int text_classes(const reel_column *c, const uint8_t *keep, size_t n, char ***names, size_t *K, size_t *y)
{
    size_t D = c->dict.n, *rank = calloc(D ? D : 1, sizeof *rank);
    char **all = calloc(D ? D : 1, sizeof *all);
    if (!rank || !all) {
        free(rank);
        free(all);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (keep[i] && !all[c->code[i]])
            all[c->code[i]] = c->dict.strs[c->code[i]];
    size_t k = 0;
    for (size_t d = 0; d < D; d++)
        if (all[d])
            all[k++] = all[d];
    qsort(all, k, sizeof *all, by_text);
    for (size_t q = 0; q < k; q++)
        rank[reel_strdict_find(&c->dict, all[q])] = q;
    for (size_t i = 0; i < n; i++)
        y[i] = keep[i] ? rank[c->code[i]] : 0;
    free(rank);
    *names = all; /* borrowed strings */
    *K = k;
    return 0;
}

/* Class names of a number column: its distinct values on kept rows, in
 * numeric order, written with 15 significant digits (17 where 15 would
 * name two values alike). */
static int number_classes(const reel_column *c, const uint8_t *keep, size_t n, char ***names, size_t *K,
                          size_t *y, char **text)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            v[m++] = c->num[i];
    qsort(v, m, sizeof *v, by_value);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    for (size_t i = 0; i < n; i++) {
        if (!keep[i]) {
            y[i] = 0;
            continue;
        }
        const double *at = bsearch(&c->num[i], v, k, sizeof *v, by_value);
        y[i] = (size_t)(at - v);
    }
    /* 32 bytes per name: "%.17g" of a double fits */
    char **all = calloc(k ? k : 1, sizeof *all), *buf = malloc((k ? k : 1) * 32);
    if (!all || !buf) {
        free(v);
        free(all);
        free(buf);
        return -1;
    }
    for (int digits = 15; digits <= 17; digits += 2) {
        for (size_t q = 0; q < k; q++) {
            all[q] = buf + 32 * q;
            snprintf(all[q], 32, "%.*g", digits, v[q]);
        }
        int alike = 0;
        for (size_t q = 1; q < k && !alike; q++)
            alike = strcmp(all[q], all[q - 1]) == 0;
        if (!alike)
            break;
    }
    free(v);
    *names = all;
    *text = buf;
    *K = k;
    return 0;
}

int reel_dataset_target_column(reel_dataset *ds, int j, const reel_log *log, reel_error *err)
{
    const reel_column *c = &ds->table.cols[j];
    size_t n = ds->table.nrows, kept = 0, K = 0;
    uint8_t *keep = malloc(n ? n : 1);
    size_t *y = malloc((n ? n : 1) * sizeof *y);
    char **names = NULL, *text = NULL;
    int rc = -1;
    if (!keep || !y) {
        reel_fail(err, "%s: out of memory for the target column", ds->csv_path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        keep[i] = c->type == REEL_COL_NUMERIC ? c->num[i] == c->num[i] : c->code[i] >= 0;
        kept += keep[i];
    }
    if (c->type == REEL_COL_NUMERIC ? number_classes(c, keep, n, &names, &K, y, &text)
                                    : text_classes(c, keep, n, &names, &K, y)) {
        reel_fail(err, "%s: out of memory for the target column", ds->csv_path);
        goto done;
    }
    if (K < 2) {
        reel_fail(err, "%s: target column '%s' holds %s; a classifier needs two or more classes", ds->csv_path,
                  c->name, K ? "one class" : "no values");
        if (K)
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " (every row is '%s')",
                     names[0]);
        goto done;
    }
    if (K > REEL_MAX_CLASSES) {
        reel_fail(err, "%s: target column '%s' holds %zu classes; at most %d (an id or a measurement is not a "
                  "class column)", ds->csv_path, c->name, K, REEL_MAX_CLASSES);
        goto done;
    }
    if (kept < n) { /* rows without a target: dropped and counted, as unlabeled rows are */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            y[k] = y[i];
            if (ds->split)
                ds->split[k] = ds->split[i];
            k++;
        }
        reel_table_filter_rows(&ds->table, keep);
        reel_log_msg(log, REEL_LOG_INFO, "dropped %zu rows with no '%s' (a missing target) of %zu; %zu remain",
                     n - kept, c->name, n, kept);
    }
    ds->n_dropped_unlabeled = n - kept;
    ds->kept_unlabeled = 1; /* every row left has its class: all are scored */
    ds->n = ds->table.nrows;
    char where[600];
    snprintf(where, sizeof where, "%s: target column '%s'", ds->csv_path, c->name);
    if (reel_dataset_set_classes(ds, K, (const char *const *)names, y, err)) {
        reel_error inner = *err;
        reel_fail(err, "%s: %s", where, inner.msg);
        goto done;
    }
    rc = 0;
done:
    free(keep);
    free(y);
    free(names);
    free(text);
    return rc;
}
