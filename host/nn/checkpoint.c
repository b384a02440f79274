#include "nn/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

static int put_long(cJSON *meta, const char *key, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return cJSON_AddStringToObject(meta, key, buf) ? 0 : -1;
}

int reel_nn_checkpoint_write(const char *path, const reel_nn_checkpoint *c, reel_error *err)
{
    reel_tensors t = {0};
    cJSON *meta = cJSON_CreateObject();
    char *run = cJSON_PrintUnformatted(c->run);
    int rc = -1;
    if (!meta || !run) {
        reel_fail(err, "%s: out of memory", path);
        goto done;
    }
    size_t n[1] = {c->n_params}, h[2] = {c->history.epochs, 3}, r[1] = {32}, k[1] = {3};
    double *hist = malloc((c->history.epochs ? c->history.epochs : 1) * 3 * sizeof *hist);
    if (!hist) {
        reel_fail(err, "%s: out of memory", path);
        goto done;
    }
    for (size_t e = 0; e < c->history.epochs; e++) {
        hist[e * 3] = c->history.train_loss[e];
        hist[e * 3 + 1] = c->history.valid_loss[e];
        hist[e * 3 + 2] = c->history.valid_f1[e];
    }
    unsigned char rng[32];
    for (int w = 0; w < 4; w++) /* little-endian, whatever the machine */
        for (int b = 0; b < 8; b++)
            rng[w * 8 + b] = (unsigned char)(c->rng.s[w] >> (8 * b));
    double scalars[3] = {c->ref_loss, c->best_val_loss, c->ema_weight};
    int bad = reel_tensors_add(&t, "params", REEL_F32, 1, n, c->params, err) ||
              reel_tensors_add(&t, "adam_m", REEL_F32, 1, n, c->m, err) ||
              reel_tensors_add(&t, "adam_v", REEL_F32, 1, n, c->v, err) ||
              reel_tensors_add(&t, "best", REEL_F32, 1, n, c->best, err) ||
              (c->ema_sum && reel_tensors_add(&t, "ema_sum", REEL_F64, 1, n, c->ema_sum, err)) ||
              reel_tensors_add(&t, "history", REEL_F64, 2, h, hist, err) ||
              reel_tensors_add(&t, "rng", REEL_U8, 1, r, rng, err) ||
              reel_tensors_add(&t, "scalars", REEL_F64, 1, k, scalars, err);
    free(hist);
    if (bad)
        goto done;
    char version[8];
    snprintf(version, sizeof version, "%d", REEL_CHECKPOINT_VERSION);
    if (!cJSON_AddStringToObject(meta, "reel_checkpoint", version) || !cJSON_AddStringToObject(meta, "run", run) ||
        !cJSON_AddStringToObject(meta, "backend", c->backend) || put_long(meta, "epoch", c->epoch) ||
        put_long(meta, "step", c->step) || put_long(meta, "wait", c->wait) ||
        put_long(meta, "best_epoch", c->best_epoch) || put_long(meta, "ema_last_step", c->ema_last_step) ||
        put_long(meta, "stopped", c->stopped) ||
        !cJSON_AddStringToObject(meta, "history_csv", c->history_csv ? c->history_csv : "")) {
        reel_fail(err, "%s: out of memory", path);
        goto done;
    }
    rc = reel_safetensors_write(path, &t, meta, err);
done:
    cJSON_free(run);
    cJSON_Delete(meta);
    reel_tensors_free(&t);
    return rc;
}

static const char *meta_str(const cJSON *meta, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, key));
}

/* A non-negative integer metadata value. */
static int meta_long(const cJSON *meta, const char *key, long *v, const char *path, reel_error *err)
{
    const char *s = meta_str(meta, key);
    char *end;
    errno = 0;
    long x = s ? strtol(s, &end, 10) : -1;
    if (!s || errno || end == s || *end || x < 0)
        return reel_fail(err, "%s: not a reel checkpoint (metadata '%s' missing or not a count)", path, key);
    *v = x;
    return 0;
}

/* Copies tensor `name` (dtype, count elements) into a new buffer. */
static void *take(const reel_tensors *t, const char *name, reel_dtype dtype, size_t count, const char *path,
                  reel_error *err)
{
    reel_error e;
    const reel_tensor *x = reel_tensors_get(t, name, dtype, count, &e);
    if (!x) {
        reel_fail(err, "%s: checkpoint does not fit this net: %s", path, e.msg);
        return NULL;
    }
    void *p = malloc(x->nbytes ? x->nbytes : 1);
    if (!p)
        reel_fail(err, "%s: out of memory", path);
    else
        memcpy(p, x->data, x->nbytes);
    return p;
}

int reel_nn_checkpoint_read(const char *path, size_t n_params, int with_ema, reel_nn_checkpoint *c,
                            reel_error *err)
{
    memset(c, 0, sizeof *c);
    reel_tensors t = {0};
    cJSON *meta = NULL;
    double *hist = NULL, *scalars = NULL;
    unsigned char *rng = NULL;
    int rc = -1;
    if (reel_safetensors_read(path, &t, &meta, err))
        return -1;
    const char *version = meta_str(meta, "reel_checkpoint");
    if (!version) {
        reel_fail(err, "%s: not a reel checkpoint (no 'reel_checkpoint' in its metadata)", path);
        goto done;
    }
    if (strcmp(version, "1") != 0) {
        reel_fail(err, "%s: checkpoint format %s, this reel reads format %d", path, version,
                  REEL_CHECKPOINT_VERSION);
        goto done;
    }
    const char *run = meta_str(meta, "run"), *backend = meta_str(meta, "backend");
    if (!run || !backend || !(c->run = cJSON_Parse(run)) || !cJSON_IsObject(c->run)) {
        reel_fail(err, "%s: not a reel checkpoint (metadata 'run' or 'backend' missing or unreadable)", path);
        goto done;
    }
    snprintf(c->backend_buf, sizeof c->backend_buf, "%s", backend);
    c->backend = c->backend_buf;
    long stopped = 0;
    if (meta_long(meta, "epoch", &c->epoch, path, err) || meta_long(meta, "step", &c->step, path, err) ||
        meta_long(meta, "wait", &c->wait, path, err) || meta_long(meta, "best_epoch", &c->best_epoch, path, err) ||
        meta_long(meta, "ema_last_step", &c->ema_last_step, path, err) ||
        meta_long(meta, "stopped", &stopped, path, err))
        goto done;
    c->stopped = stopped != 0;
    c->n_params = n_params;
    if (!(c->params = take(&t, "params", REEL_F32, n_params, path, err)) ||
        !(c->m = take(&t, "adam_m", REEL_F32, n_params, path, err)) ||
        !(c->v = take(&t, "adam_v", REEL_F32, n_params, path, err)) ||
        !(c->best = take(&t, "best", REEL_F32, n_params, path, err)) ||
        (with_ema && !(c->ema_sum = take(&t, "ema_sum", REEL_F64, n_params, path, err))) ||
        !(rng = take(&t, "rng", REEL_U8, 32, path, err)) ||
        !(scalars = take(&t, "scalars", REEL_F64, 3, path, err)))
        goto done;
    reel_error absent;
    if (!with_ema && reel_tensors_get(&t, "ema_sum", REEL_F64, 0, &absent)) {
        reel_fail(err, "%s: checkpoint holds a moving average but this run has ema 0", path);
        goto done;
    }
    if (c->best_epoch > c->epoch || c->ema_last_step > c->step) {
        reel_fail(err, "%s: checkpoint counters do not agree (best epoch %ld of %ld, average at step %ld of %ld)",
                  path, c->best_epoch, c->epoch, c->ema_last_step, c->step);
        goto done;
    }
    reel_error e;
    const reel_tensor *h = reel_tensors_get(&t, "history", REEL_F64, (size_t)c->epoch * 3, &e);
    if (!h || h->ndim != 2 || h->shape[1] != 3) {
        reel_fail(err, "%s: checkpoint history does not hold its %ld epochs", path, c->epoch);
        goto done;
    }
    hist = (double *)h->data;
    for (long i = 0; i < c->epoch; i++)
        reel_history_add(&c->history, hist[i * 3], hist[i * 3 + 1], hist[i * 3 + 2]);
    if (c->history.epochs != (size_t)c->epoch) {
        reel_fail(err, "%s: out of memory", path);
        goto done;
    }
    for (int w = 0; w < 4; w++) {
        c->rng.s[w] = 0;
        for (int b = 0; b < 8; b++)
            c->rng.s[w] |= (uint64_t)rng[w * 8 + b] << (8 * b);
    }
    c->ref_loss = scalars[0];
    c->best_val_loss = scalars[1];
    c->ema_weight = scalars[2];
    const char *csv = meta_str(meta, "history_csv");
    if (csv && *csv && !(c->history_csv = strdup(csv))) {
        reel_fail(err, "%s: out of memory", path);
        goto done;
    }
    rc = 0;
done:
    free(rng);
    free(scalars);
    cJSON_Delete(meta);
    reel_tensors_free(&t);
    if (rc)
        reel_nn_checkpoint_free(c);
    return rc;
}

int reel_nn_checkpoint_read_run(const char *path, cJSON **run, reel_error *err)
{
    reel_tensors t = {0};
    cJSON *meta = NULL;
    *run = NULL;
    if (reel_safetensors_read(path, &t, &meta, err))
        return -1;
    const char *text = meta_str(meta, "run");
    if (!meta_str(meta, "reel_checkpoint") || !text || !(*run = cJSON_Parse(text)) || !cJSON_IsObject(*run)) {
        cJSON_Delete(*run);
        *run = NULL;
        reel_fail(err, "%s: not a reel checkpoint (no 'reel_checkpoint' and 'run' in its metadata)", path);
    }
    cJSON_Delete(meta);
    reel_tensors_free(&t);
    return *run ? 0 : -1;
}

const char *reel_nn_checkpoint_run_diff(const cJSON *saved, const cJSON *now, char *buf, size_t n)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, now)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(saved, k->string);
        if (s && cJSON_Compare(s, k, 1))
            continue;
        if (s && cJSON_IsObject(s) && cJSON_IsObject(k)) {
            char inner[200];
            if (reel_nn_checkpoint_run_diff(s, k, inner, sizeof inner)) {
                snprintf(buf, n, "%s.%s", k->string, inner);
                return buf;
            }
        }
        snprintf(buf, n, "%s", k->string);
        return buf;
    }
    cJSON_ArrayForEach(k, saved) if (!cJSON_GetObjectItemCaseSensitive(now, k->string))
    {
        snprintf(buf, n, "%s", k->string);
        return buf;
    }
    return NULL;
}

void reel_nn_checkpoint_free(reel_nn_checkpoint *c)
{
    cJSON_Delete(c->run);
    free(c->params);
    free(c->m);
    free(c->v);
    free(c->best);
    free(c->ema_sum);
    free(c->history_csv);
    reel_history_free(&c->history);
    memset(c, 0, sizeof *c);
}
