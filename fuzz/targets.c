#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "data/dataset.h"
#include "data/preprocess.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "nn/checkpoint.h"
#include "store/model_file.h"
#include "tune/journal.h"

/* The readers take paths, so inputs go through a per-process scratch file. */
static const char *scratch(const char *suffix, const uint8_t *data, size_t size)
{
    static char path[4][256];
    static int slot;
    slot = (slot + 1) % 4;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path[slot], sizeof path[slot], "%s/reel-fuzz-%ld%s", dir, (long)getpid(), suffix);
    FILE *fp = fopen(path[slot], "wb");
    if (!fp)
        return NULL;
    fwrite(data, 1, size, fp);
    fclose(fp);
    return path[slot];
}

/* The block reader against the one-record reader (REEL_READ_SERIAL), in
 * blocks of 3 bytes: the same rows, lines, values and text, or the same
 * error; abort() otherwise, which the fuzzer reports. */
static void blocks_agree(const char *path, int flags)
{
    reel_table a, b;
    reel_error ea = {{0}}, eb = {{0}};
    reel_read_opts oa = {REEL_MIXED_MISSING, NULL, flags | REEL_READ_SERIAL, 0, 0};
    reel_read_opts ob = {REEL_MIXED_MISSING, NULL, flags, 0, 3};
    int ra = reel_table_read(&a, path, &oa, &ea), rb = reel_table_read(&b, path, &ob, &eb);
    if (ra != rb || (ra && strcmp(ea.msg, eb.msg)))
        abort();
    if (ra)
        return;
    int same = a.nrows == b.nrows && a.ncols == b.ncols && a.utf8_line == b.utf8_line &&
               memcmp(a.line, b.line, a.nrows * sizeof *a.line) == 0;
    for (size_t j = 0; same && j < a.ncols; j++) {
        const reel_column *x = &a.cols[j], *y = &b.cols[j];
        same = x->type == y->type && x->n_missing == y->n_missing && x->n_numbers == y->n_numbers;
        for (size_t i = 0; same && i < a.nrows; i++)
            same = x->type == REEL_COL_NUMERIC
                       ? memcmp(&x->num[i], &y->num[i], sizeof(double)) == 0
                       : x->code[i] == y->code[i] &&
                             (x->code[i] < 0 || strcmp(x->dict.strs[x->code[i]], y->dict.strs[y->code[i]]) == 0);
    }
    reel_table_free(&a);
    reel_table_free(&b);
    if (!same)
        abort();
}

int reel_fuzz_csv(const uint8_t *data, size_t size)
{
    const char *path = scratch(".csv", data, size);
    if (!path)
        return 0;
    blocks_agree(path, 0);
    reel_table t;
    reel_error err;
    if (reel_table_read_csv(&t, path, &err) != 0)
        return 0;
    /* Use the last column as labels, the first as id: exercises the roles,
     * label checks, dropping unlabeled rows and preprocessing. */
    char *labels = strdup(t.cols[t.ncols - 1].name), *id = strdup(t.cols[0].name);
    reel_table_free(&t);
    reel_data_opts o = {.data = path, .labels = labels, .id = t.ncols > 2 ? id : NULL};
    reel_dataset ds;
    if (reel_dataset_load(&ds, &o, &err) == 0) {
        size_t *rows = malloc(ds.n * sizeof *rows);
        for (size_t i = 0; i < ds.n; i++)
            rows[i] = i;
        reel_preproc p;
        if (reel_preproc_fit(&p, &ds, rows, ds.n, 3, &err) == 0) {
            float *X = malloc((ds.n ? ds.n : 1) * (p.d ? p.d : 1) * sizeof *X);
            reel_preproc_transform(&p, &ds.table, rows, ds.n, 1, X, &err);
            free(X);
            reel_preproc_free(&p);
        }
        free(rows);
        reel_dataset_free(&ds);
    }
    free(labels);
    free(id);
    return 0;
}

int reel_fuzz_params(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    reel_error err;
    for (const char *const *name = reel_model_names(); *name; name++) {
        reel_model m;
        if (reel_model_init(&m, *name, j, &err) == 0)
            reel_model_free(&m);
    }
    reel_preproc p;
    if (reel_preproc_from_json(&p, j, &err) == 0)
        reel_preproc_free(&p);
    cJSON_Delete(j);
    return 0;
}

int reel_fuzz_descriptor(const uint8_t *data, size_t size)
{
    /* The descriptor and its CSV ("path": "data.csv") share a folder. */
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/reel-fuzz-%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
        mkdir(dir, 0700);
    }
    char csv_path[300], path[300];
    snprintf(csv_path, sizeof csv_path, "%s/data.csv", dir);
    snprintf(path, sizeof path, "%s/d.json", dir);
    FILE *fp = fopen(csv_path, "wb");
    if (!fp)
        return 0;
    fputs("title,x,A,B\nm1,1,1,0\nm2,2,0,1\n", fp);
    fclose(fp);
    if (!(fp = fopen(path, "wb")))
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    reel_data_opts o = {.data = path};
    reel_dataset ds;
    reel_error err;
    if (reel_dataset_load(&ds, &o, &err) == 0)
        reel_dataset_free(&ds);
    return 0;
}

static void load_model_file(const uint8_t *data, size_t size)
{
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    if (reel_safetensors_parse("fuzz", data, size, &t, &meta, &err) == 0) {
        reel_tensors_free(&t);
        cJSON_Delete(meta);
    }
    const char *path = scratch(".safetensors", data, size);
    reel_model_file f;
    if (path && reel_model_file_load(&f, path, 1, &err) == 0) {
        float X[64] = {0}, P[64];
        if (f.pre.d <= 64 && f.model.L <= 64)
            reel_model_predict_proba(&f.model, X, 1, P, &err);
        reel_model_file_free(&f);
    }
}

/* The bytes as they are (the checksum refuses nearly every mutation), then
 * with the checksum recomputed, so the checks behind it (tiling, shapes,
 * labels, thresholds, scales, finite values) meet the mutations too. */
int reel_fuzz_model_file(const uint8_t *data, size_t size)
{
    load_model_file(data, size);
    uint8_t *sealed = malloc(size ? size : 1);
    if (!sealed)
        return 0;
    memcpy(sealed, data, size);
    if (reel_safetensors_seal(sealed, size) == 0)
        load_model_file(sealed, size);
    free(sealed);
    return 0;
}

/* A net's training checkpoint, read for the net size its "params" tensor
 * claims (and a wrong one), with a moving average when it holds one. */
int reel_fuzz_checkpoint(const uint8_t *data, size_t size)
{
    size_t n = 5;
    int ema = 0;
    reel_tensors t;
    cJSON *meta;
    reel_error err;
    if (reel_safetensors_parse("fuzz", data, size, &t, &meta, &err) == 0) {
        const reel_tensor *p = reel_tensors_get(&t, "params", REEL_F32, 0, &err);
        if (p)
            n = p->nbytes / sizeof(float);
        ema = reel_tensors_get(&t, "ema_sum", REEL_F64, 0, &err) != NULL;
        reel_tensors_free(&t);
        cJSON_Delete(meta);
    }
    const char *path = scratch(".ckpt", data, size);
    if (!path)
        return 0;
    for (int k = 0; k < 2; k++) {
        reel_nn_checkpoint c;
        if (reel_nn_checkpoint_read(path, k ? n + 1 : n, ema, &c, &err) == 0) {
            char key[64];
            reel_nn_checkpoint_run_diff(c.run, c.run, key, sizeof key);
            reel_nn_checkpoint_free(&c);
        }
    }
    return 0;
}

int reel_fuzz_journal(const uint8_t *data, size_t size)
{
    const char *path = scratch(".journal", data, size);
    if (!path)
        return 0;
    /* the seeds' identity, so that mutated records are read too */
    cJSON *id = cJSON_Parse("{\"model\":\"tree\",\"seed\":3}");
    reel_journal j;
    reel_error err;
    if (reel_journal_open(&j, path, id, 1, &err) == 0)
        reel_journal_free(&j);
    return 0;
}

/* --column-type COL=number|text,... as typed: the syntax check, then a read
 * of a small CSV with those types (names absent from it allowed or not). */
int reel_fuzz_column_types(const uint8_t *data, size_t size)
{
    char *types = malloc(size + 1);
    if (!types)
        return 0;
    memcpy(types, data, size);
    types[size] = '\0';
    reel_error err;
    reel_column_types_check(types, &err);
    static const char csv[] = "zip,n,A,B\n02134,1,1,0\n10001,x,0,1\n94110,3,1,1\n";
    const char *path = scratch(".csv", (const uint8_t *)csv, sizeof csv - 1);
    for (int k = 0; path && k < 2; k++) {
        reel_table t;
        if (reel_table_read_csv_typed(&t, path, k ? REEL_MIXED_ERROR : REEL_MIXED_MISSING, types,
                                      k ? REEL_READ_ABSENT_OK : REEL_READ_DEFER, &err) == 0)
            reel_table_free(&t);
    }
    free(types);
    return 0;
}

/* A CSV read as Latin-1 (--encoding latin-1): each record converted to
 * UTF-8, mixed columns re-read from the file, the encoding warning. */
int reel_fuzz_latin1(const uint8_t *data, size_t size)
{
    const char *path = scratch(".csv", data, size);
    if (!path)
        return 0;
    blocks_agree(path, REEL_READ_LATIN1);
    reel_table t;
    reel_error err;
    if (reel_table_read_csv_typed(&t, path, REEL_MIXED_TEXT, NULL, REEL_READ_LATIN1, &err) != 0)
        return 0;
    reel_table_warn_encoding(&t, NULL);
    char *labels = strdup(t.cols[t.ncols - 1].name);
    reel_table_free(&t);
    reel_data_opts o = {.data = path, .labels = labels, .latin1 = 1, .defer_types = 1};
    reel_dataset ds;
    if (labels && reel_dataset_load(&ds, &o, &err) == 0)
        reel_dataset_free(&ds);
    free(labels);
    return 0;
}

const reel_fuzz_target reel_fuzz_targets[] = {
    {"csv", reel_fuzz_csv},
    {"params", reel_fuzz_params},
    {"descriptor", reel_fuzz_descriptor},
    {"model_file", reel_fuzz_model_file},
    {"checkpoint", reel_fuzz_checkpoint},
    {"journal", reel_fuzz_journal},
    {"column_types", reel_fuzz_column_types},
    {"latin1", reel_fuzz_latin1},
    {NULL, NULL},
};
