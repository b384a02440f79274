#include "data/dataset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/json_exact.h"
#include "util/size.h"

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
    reel_label_list_free(ds->classes, ds->K);
    free(ds->class_dtype);
    memset(ds, 0, sizeof *ds);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

void reel_label_list_free(char **names, size_t n)
{
    for (size_t k = 0; names && k < n; k++)
        free(names[k]);
    free(names);
}

int reel_label_names_check(char *const *names, size_t n, const char *where, reel_error *err)
{
    reel_strdict seen;
    reel_strdict_init(&seen);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        if (!names[k] || !*names[k])
            rc = reel_fail(err, "%s: label %zu has no name", where, k + 1);
        else if (strchr(names[k], '|'))
            rc = reel_fail(err, "%s: label '%s' holds '|', which separates the labels of a row in predictions; "
                           "rename it", where, names[k]);
        else {
            size_t before = seen.n;
            int32_t code = reel_strdict_intern(&seen, names[k]);
            if (code < 0)
                rc = reel_fail(err, "out of memory");
            else if (seen.n == before)
                rc = reel_fail(err, "%s: label '%s' appears twice (labels %d and %zu); each label is named once",
                               where, names[k], code + 1, k + 1);
        }
    }
    reel_strdict_free(&seen);
    return rc;
}

int reel_label_list_parse(const char *list, const char *where, char ***names, size_t *n, reel_error *err)
{
    *names = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    char **out = calloc(cap, sizeof *out);
    if (!out)
        return reel_fail(err, "out of memory");
    size_t L = 0;
    for (const char *p = list;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            reel_label_list_free(out, L);
            return reel_fail(err, "%s: an empty label name in '%s'", where, list);
        }
        if (!(out[L] = strndup(p, len))) {
            reel_label_list_free(out, L);
            return reel_fail(err, "out of memory");
        }
        L++;
        if (!end)
            break;
        p = end;
    }
    if (reel_label_names_check(out, L, where, err)) {
        reel_label_list_free(out, L);
        return -1;
    }
    *names = out;
    *n = L;
    return 0;
}

/* Options after merging flags (which win) over a descriptor. Owned strings;
 * the labels stay a list from flag or descriptor to the dataset, so a name
 * may hold any character. */
typedef struct {
    char *csv, *label_column, *label_sep, *id, *split_column;
    char **labels;
    size_t n_labels;
    char sep; /* 0: found from the header line */
} merged_opts;

static void merged_free(merged_opts *m)
{
    free(m->csv);
    reel_label_list_free(m->labels, m->n_labels);
    free(m->label_column);
    free(m->label_sep);
    free(m->id);
    free(m->split_column);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* A descriptor: {"path": "movies.csv", "labels": [...], "id": "title",
 * "label_column", "label_sep", "split_column", "sep"}; path relative to the file. */
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
                                  "id", "split_column", "sep", "source", "fetch"};
    int rc = -1;
    for (cJSON *it = doc->child; it; it = it->next) {
        size_t k = 0, nk = sizeof known / sizeof *known;
        while (k < nk && strcmp(it->string, known[k]) != 0)
            k++;
        if (k == nk) {
            reel_fail(err, "%s: unknown key '%s' (known: name, description, path, labels, label_column, "
                      "label_sep, id, split_column, sep, source, fetch)", path, it->string);
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
        cJSON *l;
        cJSON_ArrayForEach(l, labels)
        {
            if (!cJSON_IsString(l)) {
                reel_fail(err, "%s: key 'labels' must hold strings", path);
                goto done;
            }
        }
        size_t n = (size_t)cJSON_GetArraySize(labels);
        if (!(m->labels = calloc(n, sizeof *m->labels)))
            goto oom;
        cJSON_ArrayForEach(l, labels)
        {
            if (!(m->labels[m->n_labels] = strdup(l->valuestring)))
                goto oom;
            m->n_labels++;
        }
        char where[600];
        snprintf(where, sizeof where, "%s: key 'labels'", path);
        if (reel_label_names_check(m->labels, m->n_labels, where, err))
            goto done;
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
    cJSON *sep = cJSON_GetObjectItemCaseSensitive(doc, "sep");
    char where[600];
    snprintf(where, sizeof where, "%s: key 'sep'", path);
    if (sep && !m->sep && reel_sep_parse(sep->valuestring, &m->sep, where, err))
        goto done;
    rc = 0;
    goto done;
oom:
    reel_fail(err, "%s: out of memory", path);
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

/* Labels from several 0/1 columns (names checked: non-empty, distinct). */
static int labels_from_flags(reel_dataset *ds, char *const *list, size_t n, uint8_t *is_role, reel_error *err)
{
    int rc = -1;
    ds->labels = calloc(n ? n : 1, sizeof *ds->labels);
    int *cols = calloc(n ? n : 1, sizeof *cols);
    if (!ds->labels || !cols) {
        reel_fail(err, "out of memory");
        goto done;
    }
    for (size_t q = 0; q < n; q++) {
        int j = column_or_fail(ds, list[q], "label", err);
        if (j < 0)
            goto done;
        if (is_role[j]) {
            reel_fail(err, "%s: column '%s' is named twice among the labels, id and split columns",
                      ds->csv_path, list[q]);
            goto done;
        }
        if (ds->table.cols[j].forced) {
            reel_fail(err, "%s: --column-type names label column '%s'; it applies to feature columns (a label "
                      "column holds 0 and 1)", ds->csv_path, list[q]);
            goto done;
        }
        is_role[j] = 1;
        cols[ds->L] = j;
        if (!(ds->labels[ds->L++] = strdup(list[q]))) {
            reel_fail(err, "out of memory");
            goto done;
        }
    }
    if (ds->L == 0) {
        reel_fail(err, "%s: --labels names no column", ds->csv_path);
        goto done;
    }
    size_t cells;
    if (!reel_size_mul(ds->table.nrows, ds->L, &cells) || !(ds->Y = calloc(cells ? cells : 1, 1))) {
        reel_fail(err, "%s: out of memory for %zu rows x %zu labels", ds->csv_path, ds->table.nrows, ds->L);
        goto done;
    }
    for (size_t k = 0; k < ds->L; k++) {
        const reel_column *c = &ds->table.cols[cols[k]];
        for (size_t i = 0; i < ds->table.nrows; i++) {
            /* numbers as read (no text round trip per cell: 200 label columns cost it on every row) */
            double v = NAN;
            if (c->type == REEL_COL_NUMERIC)
                v = c->num[i];
            else if (c->code[i] >= 0 && strcmp(c->dict.strs[c->code[i]], "1") == 0)
                v = 1.0;
            else if (c->code[i] >= 0 && strcmp(c->dict.strs[c->code[i]], "0") == 0)
                v = 0.0;
            if (v != 0.0 && v != 1.0) {
                char buf[256]; /* the cell as the file wrote it: '6.4', not 6.4000000000000004 */
                const char *s = reel_table_source_cell(&ds->table, (size_t)cols[k], i, buf, sizeof buf);
                reel_fail(err, "%s:%zu: column %d ('%s'): label value '%s' is not 0 or 1", ds->csv_path,
                          ds->table.line[i], cols[k] + 1, c->name, *s ? s : "(missing)");
                goto done;
            }
            ds->Y[i * ds->L + k] = v == 1.0;
        }
    }
    rc = 0;
done:
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
    if (ds->table.cols[j].forced)
        return reel_fail(err, "%s: --column-type names label column '%s'; it applies to feature columns",
                         ds->csv_path, col);
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
    char where[600];
    snprintf(where, sizeof where, "%s: label column '%s'", ds->csv_path, col);
    if (reel_label_names_check(ds->labels, ds->L, where, err)) {
        reel_strdict_free(&names);
        free(pairs);
        return -1;
    }
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
    ds->split = malloc(ds->table.nrows ? ds->table.nrows : 1);
    if (!ds->split)
        return reel_fail(err, "out of memory reading the split column");
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
    uint8_t *keep = malloc(n ? n : 1);
    if (!keep)
        return reel_fail(err, "out of memory reading the labels");
    for (size_t i = 0; i < n; i++) {
        keep[i] = 0;
        for (size_t k = 0; k < L; k++)
            keep[i] |= ds->Y[i * L + k];
        kept += keep[i];
    }
    ds->n_dropped_unlabeled = n - kept;
    ds->kept_unlabeled = opts->keep_unlabeled;
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

/* A text feature whose values are nearly all distinct (a title, a name):
 * one-hot encoding keeps a few frequent values and all else is "other",
 * so it says almost nothing; likely it names the rows (--id). Said from
 * 1,000 cells on: in a smaller file a column of few repeats is common. */
static void warn_nearly_unique(const reel_dataset *ds, const reel_log *log)
{
    for (size_t f = 0; f < ds->n_features; f++) {
        const reel_column *c = &ds->table.cols[ds->features[f]];
        size_t present = ds->table.nrows - c->n_missing;
        if (c->type != REEL_COL_TEXT || c->released || present < 1000 || c->dict.n * 10 < present * 9)
            continue;
        reel_log_msg(log, REEL_LOG_WARNING, "column '%s' is text with %zu distinct values in %zu cells (nearly "
                     "unique, like a title or a name): one-hot encoding keeps only its most frequent values; if it "
                     "names the rows, give --id %s (carried to outputs, not a feature)", c->name, c->dict.n,
                     present, c->name);
    }
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
    if (opts->labels && opts->label_list)
        return reel_fail(err, "labels: give a comma-separated list or a list of names, not both");
    if (opts->labels && reel_label_list_parse(opts->labels, "--labels", &m.labels, &m.n_labels, err))
        return -1;
    if (opts->label_list) {
        if (reel_label_names_check(opts->label_list, opts->n_label_list, "labels", err))
            return -1;
        if (!(m.labels = calloc(opts->n_label_list ? opts->n_label_list : 1, sizeof *m.labels)))
            return reel_fail(err, "out of memory");
        for (; m.n_labels < opts->n_label_list; m.n_labels++)
            if (!(m.labels[m.n_labels] = strdup(opts->label_list[m.n_labels]))) {
                merged_free(&m);
                return reel_fail(err, "out of memory");
            }
    }
    m.label_column = dup_or_null(opts->label_column);
    m.label_sep = dup_or_null(opts->label_sep);
    m.id = dup_or_null(opts->id);
    m.split_column = dup_or_null(opts->split_column);
    m.sep = opts->sep;
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
    if (opts->target && (opts->labels || opts->label_list || opts->label_column)) {
        reel_fail(err, "--target names one column of classes; --labels and --label-column name label sets: give "
                  "one of them");
        goto done;
    }
    if (opts->target) { /* the class column replaces any labels a descriptor lists */
        reel_label_list_free(m.labels, m.n_labels);
        m.labels = NULL;
        m.n_labels = 0;
        free(m.label_column);
        m.label_column = NULL;
    }
    if (!m.labels && !m.label_column && !opts->target) {
        reel_fail(err, "%s: no labels given: use --labels A,B,C (0/1 columns) or --label-column COL", m.csv);
        goto done;
    }
    if (m.labels && m.label_column) {
        reel_fail(err, "--labels and --label-column cannot be used together");
        goto done;
    }
    reel_read_opts ro = {(reel_mixed_mode)opts->mixed, opts->column_types,
                         (opts->defer_types ? REEL_READ_DEFER : 0) | (opts->latin1 ? REEL_READ_LATIN1 : 0), m.sep, 0};
    if (reel_table_read(&ds->table, m.csv, &ro, err)) {
        if (!opts->data && access(m.csv, F_OK) != 0)
            reel_fail(err, "%s: not found: the movies data is fetched by data/fetch_movies.sh", m.csv);
        goto done;
    }
    reel_table_warn_encoding(&ds->table, opts->log);
    uint8_t *is_role = calloc(ds->table.ncols ? ds->table.ncols : 1, 1);
    ds->id_col = -1;
    int j;
    if (!is_role) {
        reel_fail(err, "out of memory reading %s", m.csv);
        goto done_roles;
    }
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
    int target_col = -1;
    if (opts->target) {
        if ((target_col = column_or_fail(ds, opts->target, "--target", err)) < 0)
            goto done_roles;
        if (is_role[target_col]) {
            reel_fail(err, "%s: column '%s' cannot be both the target and the id or split column", m.csv,
                      opts->target);
            goto done_roles;
        }
        is_role[target_col] = 1;
    } else if (m.labels ? labels_from_flags(ds, m.labels, m.n_labels, is_role, err)
                        : labels_from_list(ds, m.label_column, m.label_sep ? m.label_sep : "|", is_role, err)) {
        goto done_roles;
    }
    ds->features = malloc((ds->table.ncols ? ds->table.ncols : 1) * sizeof *ds->features);
    if (!ds->features) {
        reel_fail(err, "out of memory reading %s", m.csv);
        goto done_roles;
    }
    for (size_t c = 0; c < ds->table.ncols; c++)
        if (!is_role[c])
            ds->features[ds->n_features++] = (int)c;
    if (opts->features && keep_features(ds, opts->features, err))
        goto done_roles;
    if (ds->n_features == 0) {
        reel_fail(err, "%s: no feature columns left after the label, id and split columns", m.csv);
        goto done_roles;
    }
    warn_nearly_unique(ds, opts->log); /* before rows are dropped: the counts are the file's */
    if (target_col >= 0 ? reel_dataset_target_column(ds, target_col, opts->log, err) : drop_unlabeled(ds, opts, err))
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
