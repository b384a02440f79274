#include "store/model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/decision.h"
#include "io/safetensors.h"
#include "util/json_exact.h"

static void put_json(cJSON *meta, const char *key, const cJSON *value)
{
    char *s = reel_json_print_exact(value);
    cJSON_AddStringToObject(meta, key, s ? s : "null");
    cJSON_free(s);
}

int reel_model_file_save(const char *path, const reel_model *m, const reel_preproc *pre, char *const *labels,
                         const cJSON *training, const cJSON *dataset, reel_error *err)
{
    if (!m->state)
        return reel_fail(err, "model '%s' is not trained: nothing to save", m->name);
    if (!m->kind->save)
        return reel_fail(err, "model kind '%s' cannot be saved yet", m->kind->name);
    reel_tensors t = {0};
    cJSON *kind_meta = cJSON_CreateObject();
    if (m->kind->save(m->state, &t, kind_meta, err)) {
        reel_tensors_free(&t);
        cJSON_Delete(kind_meta);
        return -1;
    }
    cJSON *meta = cJSON_CreateObject();
    char ver[16];
    snprintf(ver, sizeof ver, "%d", REEL_MODEL_FORMAT_VERSION);
    cJSON_AddStringToObject(meta, "format", "reel-model");
    cJSON_AddStringToObject(meta, "format_version", ver);
    cJSON_AddStringToObject(meta, "reel_version", REEL_VERSION);
    cJSON_AddStringToObject(meta, "model", m->name);
    cJSON_AddStringToObject(meta, "kind", m->kind->name);
    put_json(meta, "params", m->params);
    cJSON *pj = reel_preproc_to_json(pre);
    put_json(meta, "preprocessing", pj);
    cJSON_Delete(pj);
    cJSON *names = cJSON_CreateArray();
    for (size_t k = 0; k < pre->d; k++)
        cJSON_AddItemToArray(names, cJSON_CreateString(pre->f[k].name));
    put_json(meta, "features", names);
    cJSON_Delete(names);
    cJSON *lab = cJSON_CreateStringArray((const char *const *)labels, (int)m->L);
    put_json(meta, "labels", lab);
    cJSON_Delete(lab);
    if (m->target != REEL_TARGET_MULTILABEL) { /* absent: multilabel, as every file before them */
        cJSON_AddStringToObject(meta, "target", reel_target_name(m->target));
        cJSON *cl = cJSON_CreateStringArray((const char *const *)m->classes, (int)m->K);
        put_json(meta, "classes", cl);
        cJSON_Delete(cl);
    }
    cJSON *th = cJSON_CreateArray();
    for (size_t k = 0; k < m->L; k++)
        cJSON_AddItemToArray(th, cJSON_CreateNumber((double)m->threshold[k]));
    put_json(meta, "thresholds", th);
    cJSON_Delete(th);
    cJSON *rule = reel_decision_to_json(&m->rule);
    put_json(meta, "decision", rule);
    cJSON_Delete(rule);
    cJSON_AddStringToObject(meta, "standardize", m->kind->standardize ? "true" : "false");
    put_json(meta, "kind_state", kind_meta);
    cJSON_Delete(kind_meta);
    if (training)
        put_json(meta, "training", training);
    if (dataset)
        put_json(meta, "dataset", dataset);
    int rc = reel_safetensors_write(path, &t, meta, err);
    cJSON_Delete(meta);
    reel_tensors_free(&t);
    return rc;
}

void reel_model_file_free(reel_model_file *f)
{
    if (f->labels)
        for (size_t k = 0; k < f->model.L; k++)
            free(f->labels[k]);
    free(f->labels);
    reel_model_free(&f->model);
    reel_preproc_free(&f->pre);
    cJSON_Delete(f->meta);
    memset(f, 0, sizeof *f);
}

/* Every float in the tensors is finite: no model reel trains holds NaN or infinity. */
static int check_tensor_values(const char *path, const reel_tensors *t, reel_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const reel_tensor *x = &t->t[i];
        size_t n = x->nbytes / reel_dtype_size(x->dtype);
        for (size_t j = 0; j < n; j++) {
            double v = x->dtype == REEL_F32 ? (double)((const float *)x->data)[j]
                       : x->dtype == REEL_F64 ? ((const double *)x->data)[j] : 0.0;
            if (!isfinite(v))
                return reel_fail(err, "%s: tensor '%s' holds %g at element %zu; a model's values are finite", path,
                                 x->name, v, j);
        }
    }
    return 0;
}

/* The file holds exactly the tensors the loaded model would save, each with
 * the same dtype and shape: no extra tensor, none transposed or reshaped. */
static int check_tensor_set(const char *path, const reel_model *m, const reel_tensors *t, reel_error *err)
{
    reel_tensors want = {0};
    cJSON *meta = cJSON_CreateObject();
    reel_error inner;
    int rc = 0;
    if (m->kind->save(m->state, &want, meta, &inner)) /* loading: the tensors a model of this kind has */
        rc = reel_fail(err, "%s: while checking the model read: %s", path, inner.msg);
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        const reel_tensor *x = &t->t[i], *w = NULL;
        for (size_t j = 0; j < want.n && !w; j++)
            if (strcmp(want.t[j].name, x->name) == 0)
                w = &want.t[j];
        if (!w) {
            rc = reel_fail(err, "%s: tensor '%s' is not part of a %s model", path, x->name, m->kind->name);
            break;
        }
        int same = w->dtype == x->dtype && w->ndim == x->ndim;
        for (int k = 0; same && k < x->ndim; k++)
            same = w->shape[k] == x->shape[k];
        if (!same) {
            char a[96] = "", b[96] = "";
            for (int k = 0; k < x->ndim; k++)
                snprintf(a + strlen(a), sizeof a - strlen(a), "%s%zu", k ? ", " : "", x->shape[k]);
            for (int k = 0; k < w->ndim; k++)
                snprintf(b + strlen(b), sizeof b - strlen(b), "%s%zu", k ? ", " : "", w->shape[k]);
            rc = reel_fail(err, "%s: tensor '%s' is %s [%s]; this model needs %s [%s]", path, x->name,
                           reel_dtype_name(x->dtype), a, reel_dtype_name(w->dtype), b);
        }
    }
    if (rc == 0 && want.n != t->n)
        rc = reel_fail(err, "%s: the file holds %zu tensors; this model has %zu", path, t->n, want.n);
    reel_tensors_free(&want);
    cJSON_Delete(meta);
    return rc;
}

/* The target and its classes (absent: multilabel). A binary model's one
 * label is its class 1, a multiclass model's labels are its classes, in
 * order, and it decides by argmax. */
static int load_target(reel_model_file *f, const char *path, reel_error *err)
{
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(f->meta, "target"),
                *classes = cJSON_GetObjectItemCaseSensitive(f->meta, "classes");
    if (!target && !classes)
        return 0;
    int kind = cJSON_IsString(target) ? reel_target_by_name(target->valuestring) : -1;
    if (kind <= REEL_TARGET_MULTILABEL)
        return reel_fail(err, "%s: metadata field 'target' must be \"binary\" or \"multiclass\" (absent: "
                         "multilabel)", path);
    size_t K = cJSON_IsArray(classes) ? (size_t)cJSON_GetArraySize(classes) : 0, L = f->model.L;
    if (K < 2 || (kind == REEL_TARGET_BINARY) != (K == 2))
        return reel_fail(err, "%s: metadata field 'classes' must list the %s target's classes (%s)", path,
                         reel_target_name((reel_target_kind)kind), kind == REEL_TARGET_BINARY ? "two" : "three or more");
    char **names = calloc(K, sizeof *names);
    if (!names)
        return reel_fail(err, "out of memory");
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < K; k++) {
        const cJSON *c = cJSON_GetArrayItem(classes, (int)k);
        if (!cJSON_IsString(c))
            rc = reel_fail(err, "%s: metadata field 'classes[%zu]' must be a class name", path, k);
        else
            names[k] = c->valuestring;
    }
    if (rc == 0 && reel_class_names_check(names, K, path, err))
        rc = -1;
    size_t want = kind == REEL_TARGET_BINARY ? 1 : K;
    for (size_t k = 0; rc == 0 && k < want; k++)
        if (L != want || strcmp(f->labels[k], names[kind == REEL_TARGET_BINARY ? 1 : k]) != 0)
            rc = reel_fail(err, "%s: metadata field 'labels' must be %s of the %s target", path,
                           kind == REEL_TARGET_BINARY ? "its class 1 alone" : "its classes, in order",
                           reel_target_name((reel_target_kind)kind));
    if (rc == 0 && kind == REEL_TARGET_MULTICLASS && f->model.rule.kind != REEL_RULE_ARGMAX)
        rc = reel_fail(err, "%s: metadata field 'decision': a multiclass model decides by argmax", path);
    if (rc == 0)
        rc = reel_model_set_target(&f->model, (reel_target_kind)kind, K, names, err);
    free(names);
    return rc;
}

/* The metadata string `key`, parsed as JSON. */
static const cJSON *meta_json(const reel_model_file *f, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(f->meta, key);
}

int reel_model_file_load(reel_model_file *f, const char *path, int threads, reel_error *err)
{
    memset(f, 0, sizeof *f);
    reel_tensors t = {0};
    cJSON *raw;
    if (reel_safetensors_read(path, &t, &raw, err))
        return -1;
    /* Decode every metadata string that holds JSON (the others stay strings). */
    f->meta = cJSON_CreateObject();
    for (const cJSON *it = raw->child; it; it = it->next) {
        cJSON *v = cJSON_ParseWithOpts(it->valuestring, NULL, 1);
        cJSON_AddItemToObject(f->meta, it->string, v ? v : cJSON_CreateString(it->valuestring));
    }
    cJSON_Delete(raw);
    const cJSON *format = meta_json(f, "format"), *version = meta_json(f, "format_version");
    const cJSON *name = meta_json(f, "model"), *kind = meta_json(f, "kind"), *params = meta_json(f, "params");
    const cJSON *labels = meta_json(f, "labels"), *th = meta_json(f, "thresholds");
    const cJSON *pre = meta_json(f, "preprocessing"), *kind_state = meta_json(f, "kind_state");
    int rc = -1;
    if (cJSON_GetObjectItemCaseSensitive(f->meta, "reel_checkpoint")) {
        reel_fail(err, "%s is a net's training checkpoint (reel train --checkpoint), not a model file: resume it "
                  "with reel train --checkpoint %s, and add --save FILE to write a model", path, path);
        goto done;
    }
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "reel-model") != 0) {
        reel_fail(err, "%s: not a reel model file (no \"format\": \"reel-model\" in its metadata)", path);
        goto done;
    }
    if (!cJSON_IsNumber(version) || (version->valueint != REEL_MODEL_FORMAT_VERSION && version->valueint != 1)) {
        reel_fail(err, "%s: model format version %s; this reel reads versions 1 to %d", path,
                  cJSON_IsNumber(version) ? "unknown" : "missing", REEL_MODEL_FORMAT_VERSION);
        goto done;
    }
    /* Version 2 files carry a checksum (verified by the reader); version 1 files had none. */
    if (version->valueint >= 2 && !cJSON_GetObjectItemCaseSensitive(f->meta, "checksum")) {
        reel_fail(err, "%s: the metadata lacks its checksum: the file was edited or is damaged", path);
        goto done;
    }
    /* Field by field, so a damaged or forged file names what is wrong. */
    const char *bad = !cJSON_IsString(name)    ? "'model' must be a string (the model's name)"
                      : !cJSON_IsString(kind)  ? "'kind' must be a string (a kind built into reel)"
                      : !cJSON_IsObject(params) ? "'params' must be an object"
                      : !cJSON_IsArray(labels) || cJSON_GetArraySize(labels) < 1
                          ? "'labels' must be a non-empty list of label names"
                      : !cJSON_IsArray(th) ? "'thresholds' must be a list of numbers in [0, 1], one per label"
                      : cJSON_GetArraySize(labels) != cJSON_GetArraySize(th)
                          ? "'thresholds' must hold one number per label"
                      : !cJSON_IsObject(pre) ? "'preprocessing' must be an object"
                                             : NULL;
    if (bad) {
        reel_fail(err, "%s: metadata field %s", path, bad);
        goto done;
    }
    if (!reel_model_def(name->valuestring)) {
        /* a variant named through --params ("base"): any definition of the
         * file's kind that takes its params, under the file's name */
        for (const char *const *d = reel_model_names(); *d; d++) {
            const reel_model_kind *k = reel_model_def_kind(*d);
            if (!k || strcmp(k->name, kind->valuestring) != 0)
                continue;
            if (reel_model_init(&f->model, *d, params, err) == 0) {
                free(f->model.name);
                f->model.name = strdup(name->valuestring);
                break;
            }
        }
    }
    if (!f->model.kind && reel_model_init(&f->model, name->valuestring, params, err)) {
        reel_error inner = *err;
        reel_fail(err, "%s: %s", path, inner.msg);
        goto done;
    }
    if (strcmp(f->model.kind->name, kind->valuestring) != 0) {
        reel_fail(err, "%s: model '%s' is of kind '%s' here, but the file says '%s'", path, name->valuestring,
                  f->model.kind->name, kind->valuestring);
        goto done;
    }
    if (reel_preproc_from_json(&f->pre, pre, err)) {
        reel_error inner = *err;
        reel_fail(err, "%s: %s", path, inner.msg);
        goto done;
    }
    size_t L = (size_t)cJSON_GetArraySize(labels);
    f->model.d = f->pre.d;
    f->model.L = L;
    f->labels = calloc(L ? L : 1, sizeof *f->labels);
    f->model.threshold = malloc((L ? L : 1) * sizeof *f->model.threshold);
    if (!f->labels || !f->model.threshold) {
        reel_fail(err, "%s: out of memory for %zu labels", path, L);
        goto done;
    }
    for (size_t k = 0; k < L; k++) {
        const cJSON *l = cJSON_GetArrayItem(labels, (int)k), *v = cJSON_GetArrayItem(th, (int)k);
        if (!cJSON_IsString(l) || !*l->valuestring) {
            reel_fail(err, "%s: metadata field 'labels[%zu]' must be a label name", path, k);
            goto done;
        }
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1) {
            char *got = cJSON_PrintUnformatted(v);
            reel_fail(err, "%s: metadata field 'thresholds[%zu]' (label '%s') is %s; a threshold is a number in "
                      "[0, 1]", path, k, l->valuestring, got ? got : "?");
            cJSON_free(got);
            goto done;
        }
        for (size_t q = 0; q < k; q++)
            if (strcmp(f->labels[q], l->valuestring) == 0) {
                reel_fail(err, "%s: label '%s' appears twice", path, l->valuestring);
                goto done;
            }
        f->labels[k] = strdup(l->valuestring);
        f->model.threshold[k] = (float)v->valuedouble;
    }
    if (check_tensor_values(path, &t, err))
        goto done;
    /* Files from before decision rules cut at their saved thresholds. */
    const cJSON *rule = meta_json(f, "decision");
    if (rule ? reel_decision_from_json(&f->model.rule, rule, L, err)
             : reel_decision_parse(&f->model.rule, "threshold", L, f->model.threshold, err)) {
        reel_error inner = *err;
        reel_fail(err, "%s: metadata field %s", path, inner.msg);
        goto done;
    }
    if (load_target(f, path, err))
        goto done;
    if (!f->model.kind->load) {
        reel_fail(err, "%s: model kind '%s' cannot be loaded", path, kind->valuestring);
        goto done;
    }
    f->model.state = f->model.kind->load(f->model.params, f->pre.d, L, threads > 0 ? threads : 1, &t,
                                          kind_state, err);
    if (!f->model.state) {
        reel_error inner = *err;
        reel_fail(err, "%s: %s", path, inner.msg);
        goto done;
    }
    if (check_tensor_set(path, &f->model, &t, err))
        goto done;
    rc = 0;
done:
    reel_tensors_free(&t);
    if (rc)
        reel_model_file_free(f);
    return rc;
}
