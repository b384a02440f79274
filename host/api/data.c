/* reel_data: rows from arrays or from a file, as the CLI reads them. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "data/arrays.h"
#include "reel.h"

reel_data *reel_data_from_arrays(size_t n, size_t d, const double *X, const char *const *num_names, size_t t,
                                 const char *const *text, const char *const *text_names, size_t L,
                                 const unsigned char *Y, const char *const *label_names)
{
    reel_error err;
    reel_data *h = calloc(1, sizeof *h);
    if (!h) {
        reel_fail(&err, "out of memory");
        api_fail(&err);
        return NULL;
    }
    reel_arrays a = {n, d, X, num_names, t, text, text_names, L, Y, label_names};
    if (reel_dataset_from_arrays(&h->ds, &a, &err)) {
        free(h);
        api_fail(&err);
        return NULL;
    }
    return h;
}

/* A string option (NULL when absent); fails on another type. */
static int opt_string(const cJSON *doc, const char *key, char **out, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return reel_fail(err, "data options: key '%s' must be a string", key);
    *out = v->valuestring;
    return 0;
}

/* Rows to predict on: every column but the id is a feature. */
static int load_unlabeled(reel_dataset *ds, const reel_data_opts *o, reel_error *err)
{
    memset(ds, 0, sizeof *ds);
    ds->id_col = -1;
    reel_read_opts ro = {REEL_MIXED_MISSING, NULL, 0, o->sep, 0};
    if (reel_table_read(&ds->table, o->data, &ro, err))
        return -1;
    if (o->id && (ds->id_col = reel_table_find(&ds->table, o->id)) < 0) {
        reel_fail(err, "%s: id column '%s' does not exist", o->data, o->id);
        goto fail;
    }
    if (!(ds->csv_path = strdup(o->data)) || !(ds->features = malloc(ds->table.ncols * sizeof *ds->features))) {
        reel_fail(err, "out of memory");
        goto fail;
    }
    for (size_t c = 0; c < ds->table.ncols; c++)
        if ((int)c != ds->id_col)
            ds->features[ds->n_features++] = (int)c;
    ds->n = ds->table.nrows;
    return 0;
fail:
    reel_dataset_free(ds);
    return -1;
}

reel_data *reel_data_from_file(const char *path, const char *options_json)
{
    reel_error err;
    cJSON *doc = api_parse_object(options_json, "data options", &err);
    reel_data *h = NULL;
    char **label_list = NULL;
    if (!doc)
        goto fail;
    static const char *const keys[] = {"labels", "label_column", "label_sep", "target", "id", "split_column",
                                       "keep_unlabeled", "features", "sep", NULL};
    for (const cJSON *it = doc->child; it; it = it->next) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], it->string))
            k++;
        if (!keys[k]) {
            reel_fail(&err, "data options: unknown key '%s'; valid keys: labels, label_column, label_sep, target, id, "
                      "split_column, keep_unlabeled, features, sep", it->string);
            goto fail;
        }
    }
    reel_log log = api_log();
    reel_data_opts o = {.data = path, .log = &log};
    char *features = NULL;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(doc, "labels");
    if (cJSON_IsArray(labels)) { /* a list stays a list: a name may hold a comma */
        size_t n = (size_t)cJSON_GetArraySize(labels), k = 0;
        if (!(label_list = calloc(n ? n : 1, sizeof *label_list))) {
            reel_fail(&err, "out of memory");
            goto fail;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, labels)
        {
            if (!cJSON_IsString(it)) {
                reel_fail(&err, "data options: key 'labels' must be a string \"A,B\" or a list of strings");
                goto fail;
            }
            label_list[k++] = it->valuestring;
        }
        o.label_list = label_list;
        o.n_label_list = n;
    } else if (opt_string(doc, "labels", &o.labels, &err)) {
        goto fail;
    }
    if (opt_string(doc, "label_column", &o.label_column, &err) ||
        opt_string(doc, "label_sep", &o.label_sep, &err) || opt_string(doc, "id", &o.id, &err) ||
        opt_string(doc, "target", (char **)&o.target, &err) ||
        opt_string(doc, "split_column", &o.split_column, &err) || opt_string(doc, "features", &features, &err))
        goto fail;
    o.features = features;
    char *sep = NULL;
    if (opt_string(doc, "sep", &sep, &err) || (sep && reel_sep_parse(sep, &o.sep, "data options: key 'sep'", &err)))
        goto fail;
    const cJSON *keep = cJSON_GetObjectItemCaseSensitive(doc, "keep_unlabeled");
    if (keep && !cJSON_IsBool(keep)) {
        reel_fail(&err, "data options: key 'keep_unlabeled' must be true or false");
        goto fail;
    }
    o.keep_unlabeled = cJSON_IsTrue(keep);
    if (!path) {
        reel_fail(&err, "no data file given");
        goto fail;
    }
    if (!(h = calloc(1, sizeof *h))) {
        reel_fail(&err, "out of memory");
        goto fail;
    }
    size_t len = strlen(path);
    int descriptor = len >= 5 && strcmp(path + len - 5, ".json") == 0;
    if ((o.labels || o.label_list || o.label_column || o.target || descriptor) ? reel_dataset_load(&h->ds, &o, &err)
                                                                   : load_unlabeled(&h->ds, &o, &err))
        goto fail;
    free(label_list);
    cJSON_Delete(doc);
    return h;
fail:
    free(label_list);
    free(h);
    cJSON_Delete(doc);
    api_fail(&err);
    return NULL;
}

size_t reel_data_rows(const reel_data *data)
{
    return data ? data->ds.n : (api_bad_arg("reel_data_rows", "data is NULL"), 0);
}

size_t reel_data_labels(const reel_data *data)
{
    return data ? data->ds.L : (api_bad_arg("reel_data_labels", "data is NULL"), 0);
}

const char *reel_data_label(const reel_data *data, size_t k)
{
    if (!data || k >= data->ds.L) {
        api_bad_arg("reel_data_label", !data ? "data is NULL" : "k is past the last label");
        return NULL;
    }
    return data->ds.labels[k];
}

void reel_data_free(reel_data *data)
{
    if (!data)
        return;
    reel_dataset_free(&data->ds);
    free(data);
}
