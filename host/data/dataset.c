#include "data/dataset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/json_exact.h"

#ifndef REEL_SOURCE_DIR
#define REEL_SOURCE_DIR "."
#endif

const char *reel_default_data(void)
{
    if (access("data/movies.json", R_OK) == 0)
        return "data/movies.json";
    return REEL_SOURCE_DIR "/data/movies.json";
}

void reel_dataset_free(reel_dataset *ds)
{
    reel_table_free(&ds->table);
    for (size_t k = 0; k < ds->L; k++)
        free(ds->labels[k]);
    free(ds->labels);
    free(ds->Y);
    free(ds->split);
    free(ds->features);
    free(ds->csv_path);
    free(ds->column_types);
    memset(ds, 0, sizeof *ds);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Options after merging flags (which win) over a descriptor. Owned strings. */
typedef struct {
    char *csv, *labels, *label_column, *label_sep, *id, *split_column;
} merged_opts;

static void merged_free(merged_opts *m)
{
    free(m->csv);
    free(m->labels);
    free(m->label_column);
    free(m->label_sep);
    free(m->id);
    free(m->split_column);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* A descriptor: {"path": "movies.csv", "labels": [...], "id": "title",
 * "label_column", "label_sep", "split_column"}; path relative to the file. */
static int read_descriptor(const char *path, merged_opts *m, reel_error *err)
{
    cJSON *doc = reel_json_read_file(path, "dataset descriptor", err);
    if (!doc)
        return -1;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return reel_fail(err, "%s: not a JSON object (a dataset descriptor needs \"path\" and labels)", path);
    }
    static const char *known[] = {"name", "description", "path", "labels", "label_column", "label_sep",
                                  "id", "split_column", "source", "fetch"};
    int rc = -1;
    for (cJSON *it = doc->child; it; it = it->next) {
        size_t k = 0, nk = sizeof known / sizeof *known;
        while (k < nk && strcmp(it->string, known[k]) != 0)
            k++;
        if (k == nk) {
            reel_fail(err, "%s: unknown key '%s' (known: name, description, path, labels, label_column, "
                      "label_sep, id, split_column, source, fetch)", path, it->string);
            goto done;
        }
        if (strcmp(it->string, "labels") != 0 && !cJSON_IsString(it)) {
            reel_fail(err, "%s: key '%s' must be a string", path, it->string);
            goto done;
        }
    }
    cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "path");
    if (!cJSON_IsString(p)) {
        reel_fail(err, "%s: key 'path' (the CSV file) is required", path);
        goto done;
    }
    if (p->valuestring[0] == '/') {
        m->csv = strdup(p->valuestring);
    } else { /* relative to the descriptor's directory */
        char *dir = strdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[1] = '\0';
        else
            dir[0] = '\0';
        m->csv = reel_path_join(*dir ? dir : ".", p->valuestring);
        free(dir);
    }
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(doc, "labels");
    if (labels && !m->labels) {
        if (!cJSON_IsArray(labels) || cJSON_GetArraySize(labels) == 0) {
            reel_fail(err, "%s: key 'labels' must be a non-empty list of column names", path);
            goto done;
        }
        size_t len = 1;
        cJSON *l;
        cJSON_ArrayForEach(l, labels)
        {
            if (!cJSON_IsString(l)) {
                reel_fail(err, "%s: key 'labels' must hold strings", path);
                goto done;
            }
            len += strlen(l->valuestring) + 1;
        }
        m->labels = calloc(1, len);
        cJSON_ArrayForEach(l, labels)
        {
            if (*m->labels)
                strcat(m->labels, ",");
            strcat(m->labels, l->valuestring);
        }
    }
#define TAKE(field, key)                                                   \
    do {                                                                   \
        cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);             \
        if (v && !m->field)                                                \
            m->field = strdup(v->valuestring);                             \
    } while (0)
    TAKE(label_column, "label_column");
    TAKE(label_sep, "label_sep");
    TAKE(id, "id");
    TAKE(split_column, "split_column");
#undef TAKE
    rc = 0;
done:
    cJSON_Delete(doc);
    return rc;
}

static int column_or_fail(const reel_dataset *ds, const char *name, const char *flag, reel_error *err)
{
    int j = reel_table_find(&ds->table, name);
    if (j < 0) {
        char cols[768];
        size_t len = 0;
        for (size_t c = 0; c < ds->table.ncols && len < sizeof cols; c++)
            len += (size_t)snprintf(cols + len, sizeof cols - len, "%s%s", c ? ", " : "", ds->table.cols[c].name);
        if (len >= sizeof cols)
            memcpy(cols + sizeof cols - 5, " ...", 5);
        return reel_fail(err, "%s: %s column '%s' does not exist; the header's %zu columns: %s", ds->csv_path, flag,
                         name, ds->table.ncols, cols);
    }
    return j;
}

/* Labels from several 0/1 columns. */
static int labels_from_flags(reel_dataset *ds, const char *list, uint8_t *is_role, reel_error *err)
{
    char *copy = strdup(list), *save = NULL;
    int rc = -1;
    size_t cap = 8;
    ds->labels = calloc(cap, sizeof *ds->labels);
    int *cols = calloc(cap, sizeof *cols);
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int j = column_or_fail(ds, tok, "label", err);
        if (j < 0)
            goto done;
        if (is_role[j]) {
            reel_fail(err, "%s: column '%s' is named twice among the labels, id and split columns",
                      ds->csv_path, tok);
            goto done;
        }
        is_role[j] = 1;
        if (ds->L == cap) {
            cap *= 2;
            ds->labels = realloc(ds->labels, cap * sizeof *ds->labels);
            cols = realloc(cols, cap * sizeof *cols);
        }
        cols[ds->L] = j;
        ds->labels[ds->L++] = strdup(tok);
    }
    if (ds->L == 0) {
        reel_fail(err, "%s: --labels names no column", ds->csv_path);
        goto done;
    }
    ds->Y = calloc(ds->table.nrows * ds->L, 1);
    for (size_t k = 0; k < ds->L; k++) {
        const reel_column *c = &ds->table.cols[cols[k]];
        for (size_t i = 0; i < ds->table.nrows; i++) {
            char buf[64];
            const char *s = reel_table_cell(&ds->table, (size_t)cols[k], i, buf, sizeof buf);
            double v = c->type == REEL_COL_NUMERIC ? c->num[i] : (strcmp(s, "1") == 0 ? 1.0 : NAN);
            if (c->type == REEL_COL_TEXT && strcmp(s, "0") == 0)
                v = 0.0;
            if (v != 0.0 && v != 1.0) {
                reel_fail(err, "%s:%zu: column %d ('%s'): label value '%s' is not 0 or 1", ds->csv_path,
                          ds->table.line[i], cols[k] + 1, c->name, *s ? s : "(missing)");
                goto done;
            }
            ds->Y[i * ds->L + k] = v == 1.0;
        }
    }
    rc = 0;
done:
    free(copy);
    free(cols);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Labels from one column listing names, e.g. "Drama|Comedy". */
static int labels_from_list(reel_dataset *ds, const char *col, const char *sep, uint8_t *is_role,
                            reel_error *err)
{
    int j = column_or_fail(ds, col, "--label-column", err);
    if (j < 0)
        return -1;
    is_role[j] = 1;
    if (!*sep)
        return reel_fail(err, "--label-sep must not be empty");
    /* One pass: intern every name (in order of appearance) and remember
     * (row, name) pairs; then sort the names so label order is stable. */
    reel_strdict names;
    reel_strdict_init(&names);
    size_t n_pairs = 0, cap = 0, (*pairs)[2] = NULL;
    char buf[64];
    for (size_t i = 0; i < ds->table.nrows; i++) {
        char *cell = strdup(reel_table_cell(&ds->table, (size_t)j, i, buf, sizeof buf));
        for (char *p = cell, *q; p; p = q) {
            q = strstr(p, sep);
            if (q) {
                *q = '\0';
                q += strlen(sep);
            }
            while (*p == ' ')
                p++;
            size_t n = strlen(p);
            while (n && p[n - 1] == ' ')
                p[--n] = '\0';
            if (!*p)
                continue;
            if (n_pairs == cap) {
                cap = cap ? cap * 2 : 1024;
                pairs = realloc(pairs, cap * sizeof *pairs);
            }
            pairs[n_pairs][0] = i;
            pairs[n_pairs++][1] = (size_t)reel_strdict_intern(&names, p);
        }
        free(cell);
    }
    if (names.n == 0) {
        reel_strdict_free(&names);
        free(pairs);
        return reel_fail(err, "%s: label column '%s' holds no label names", ds->csv_path, col);
    }
    ds->L = names.n;
    ds->labels = malloc(ds->L * sizeof *ds->labels);
    for (size_t k = 0; k < ds->L; k++)
        ds->labels[k] = strdup(names.strs[k]);
    qsort(ds->labels, ds->L, sizeof *ds->labels, cmp_str);
    size_t *sorted_of = malloc(ds->L * sizeof *sorted_of); /* first-seen code -> sorted position */
    for (size_t k = 0; k < ds->L; k++)
        sorted_of[reel_strdict_find(&names, ds->labels[k])] = k;
    ds->Y = calloc(ds->table.nrows * ds->L, 1);
    for (size_t q = 0; q < n_pairs; q++)
        ds->Y[pairs[q][0] * ds->L + sorted_of[pairs[q][1]]] = 1;
    free(sorted_of);
    free(pairs);
    reel_strdict_free(&names);
    return 0;
}

static int read_split_marks(reel_dataset *ds, int j, reel_error *err)
{
    ds->split = malloc(ds->table.nrows);
    char buf[64];
    for (size_t i = 0; i < ds->table.nrows; i++) {
        const char *s = reel_table_cell(&ds->table, (size_t)j, i, buf, sizeof buf);
        if (strcmp(s, "train") == 0)
            ds->split[i] = REEL_SPLIT_TRAIN;
        else if (strcmp(s, "valid") == 0 || strcmp(s, "validation") == 0)
            ds->split[i] = REEL_SPLIT_VALID;
        else if (strcmp(s, "test") == 0)
            ds->split[i] = REEL_SPLIT_TEST;
        else
            return reel_fail(err, "%s:%zu: column %d ('%s'): split value '%s' is not train, valid or test",
                             ds->csv_path, ds->table.line[i], j + 1, ds->table.cols[j].name,
                             *s ? s : "(missing)");
    }
    return 0;
}

/* Drops rows with no positive label (unless asked to keep them). */
static int drop_unlabeled(reel_dataset *ds, const reel_data_opts *opts, reel_error *err)
{
    size_t n = ds->table.nrows, L = ds->L, kept = 0;
    uint8_t *keep = malloc(n);
    for (size_t i = 0; i < n; i++) {
        keep[i] = 0;
        for (size_t k = 0; k < L; k++)
            keep[i] |= ds->Y[i * L + k];
        kept += keep[i];
    }
    ds->n_dropped_unlabeled = n - kept;
    if (opts->keep_unlabeled || kept == n) {
        free(keep);
        return 0;
    }
    if (kept == 0) {
        free(keep);
        return reel_fail(err, "%s: no rows left after dropping %zu unlabeled rows (rows with no positive "
                         "label; --keep-unlabeled keeps them)", ds->csv_path, n);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        memmove(ds->Y + k * L, ds->Y + i * L, L);
        if (ds->split)
            ds->split[k] = ds->split[i];
        k++;
    }
    reel_table_filter_rows(&ds->table, keep);
    free(keep);
    reel_log_msg(opts->log, REEL_LOG_INFO, "dropped %zu unlabeled rows (no positive label) of %zu; %zu remain "
                "(--keep-unlabeled keeps them)", ds->n_dropped_unlabeled, n, kept);
    return 0;
}

/* --features FILE: keep only the listed feature columns. */
static int keep_features(reel_dataset *ds, const char *path, reel_error *err)
{
    cJSON *doc = reel_json_read_file(path, "--features", err);
    if (!doc)
        return -1;
    const cJSON *list = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "kept") : doc;
    int rc = -1;
    if (!cJSON_IsArray(list)) {
        reel_fail(err, "%s: --features needs a JSON list of feature names, or reel select's output with \"kept\"",
                  path);
        goto done;
    }
    uint8_t *keep = calloc(ds->table.ncols, 1);
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        int j = cJSON_IsString(it) ? reel_table_find(&ds->table, it->valuestring) : -1;
        size_t f = 0;
        while (j >= 0 && f < ds->n_features && ds->features[f] != j)
            f++;
        if (j < 0 || f == ds->n_features) {
            reel_fail(err, "%s: '%s' is not a feature column of %s", path,
                      cJSON_IsString(it) ? it->valuestring : "(not a string)", ds->csv_path);
            free(keep);
            goto done;
        }
        keep[j] = 1;
    }
    size_t n = 0;
    for (size_t f = 0; f < ds->n_features; f++)
        if (keep[ds->features[f]])
            ds->features[n++] = ds->features[f];
    ds->n_features = n;
    free(keep);
    rc = 0;
done:
    cJSON_Delete(doc);
    return rc;
}

int reel_dataset_load(reel_dataset *ds, const reel_data_opts *opts, reel_error *err)
{
    memset(ds, 0, sizeof *ds);
    merged_opts m = {0};
    m.labels = dup_or_null(opts->labels);
    m.label_column = dup_or_null(opts->label_column);
    m.label_sep = dup_or_null(opts->label_sep);
    m.id = dup_or_null(opts->id);
    m.split_column = dup_or_null(opts->split_column);
    const char *data = opts->data ? opts->data : reel_default_data();
    int rc = -1;
    if (ends_with(data, ".json")) {
        if (read_descriptor(data, &m, err))
            goto done;
    } else {
        m.csv = strdup(data);
    }
    ds->csv_path = strdup(m.csv);
    ds->column_types = dup_or_null(opts->column_types);
    if (!m.labels && !m.label_column) {
        reel_fail(err, "%s: no labels given: use --labels A,B,C (0/1 columns) or --label-column COL", m.csv);
        goto done;
    }
    if (m.labels && m.label_column) {
        reel_fail(err, "--labels and --label-column cannot be used together");
        goto done;
    }
    if (reel_table_read_csv_typed(&ds->table, m.csv, (reel_mixed_mode)opts->mixed, opts->column_types,
                                  opts->defer_types ? REEL_READ_DEFER : 0, err)) {
        if (!opts->data && access(m.csv, F_OK) != 0)
            reel_fail(err, "%s: not found: the movies data is fetched by data/fetch_movies.sh", m.csv);
        goto done;
    }
    uint8_t *is_role = calloc(ds->table.ncols, 1);
    ds->id_col = -1;
    int j;
    if (m.id) {
        if ((j = column_or_fail(ds, m.id, "--id", err)) < 0)
            goto done_roles;
        ds->id_col = j;
        is_role[j] = 1;
    }
    if (m.split_column) {
        if ((j = column_or_fail(ds, m.split_column, "--split-column", err)) < 0)
            goto done_roles;
        if (is_role[j]) {
            reel_fail(err, "%s: column '%s' cannot be both id and split column", m.csv, m.split_column);
            goto done_roles;
        }
        is_role[j] = 1;
        if (read_split_marks(ds, j, err))
            goto done_roles;
    }
    if (m.labels ? labels_from_flags(ds, m.labels, is_role, err)
                 : labels_from_list(ds, m.label_column, m.label_sep ? m.label_sep : "|", is_role, err))
        goto done_roles;
    ds->features = malloc(ds->table.ncols * sizeof *ds->features);
    for (size_t c = 0; c < ds->table.ncols; c++)
        if (!is_role[c])
            ds->features[ds->n_features++] = (int)c;
    if (opts->features && keep_features(ds, opts->features, err))
        goto done_roles;
    if (ds->n_features == 0) {
        reel_fail(err, "%s: no feature columns left after the label, id and split columns", m.csv);
        goto done_roles;
    }
    if (drop_unlabeled(ds, opts, err))
        goto done_roles;
    ds->n = ds->table.nrows;
    rc = 0;
done_roles:
    free(is_role);
done:
    merged_free(&m);
    if (rc)
        reel_dataset_free(ds);
    return rc;
}
