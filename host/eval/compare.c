/* compare's runs: here one model after another, or spread over MPI ranks
 * (eval/compare.h). */
#include "eval/compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "util/interrupt.h"
#include "util/outputs.h"

static int results_init(reel_compare_results *r, size_t n_models)
{
    size_t n = n_models ? n_models : 1;
    memset(r, 0, sizeof *r);
    r->runs = calloc(n, sizeof *r->runs);
    r->failed = calloc(n, sizeof *r->failed);
    r->failed_msg = calloc(n, sizeof *r->failed_msg);
    return r->runs && r->failed && r->failed_msg ? 0 : -1;
}

void reel_compare_results_free(reel_compare_results *r)
{
    for (size_t i = 0; i < r->n_failed; i++)
        free(r->failed_msg[i]);
    free(r->failed);
    free(r->failed_msg);
    for (size_t i = 0; r->runs && i < r->done; i++)
        reel_run_free(&r->runs[i]);
    free(r->runs);
    memset(r, 0, sizeof *r);
}

static void add_failed(reel_compare_results *r, const reel_compare_job *job, const char *name, const char *msg)
{
    reel_log_msg(job->ro.log, REEL_LOG_WARNING, "%s failed: %s", name, msg);
    r->failed[r->n_failed] = name;
    r->failed_msg[r->n_failed++] = strdup(msg);
}

/* The models one after another in this process. */
static int run_here(reel_prepared *p, const reel_compare_job *job, reel_compare_results *r, reel_error *err)
{
    size_t n = job->n;
    reel_run *runs_t = calloc(n ? n : 1, sizeof *runs_t);
    int *together = calloc(n ? n : 1, sizeof *together);
    const cJSON **pp = calloc(n ? n : 1, sizeof *pp);
    if (!runs_t || !together || !pp) {
        free(runs_t);
        free(together);
        free(pp);
        return reel_fail(err, "out of memory");
    }
    /* the nets that train together on the device first (not with a
     * checkpoint folder: one file per net); when that fails, one at a time */
    for (size_t i = 0; i < n; i++)
        pp[i] = cJSON_GetObjectItemCaseSensitive(job->params, job->names[i]);
    reel_run_opts ro = job->ro, rt = job->ro;
    reel_error e;
    if (reel_run_nets_first(p, job->names, pp, n, &rt, runs_t, together, &e))
        reel_log_msg(ro.log, REEL_LOG_WARNING, "training the nets together failed (%s); training them one at a time",
                     e.msg);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = job->names[i];
        if (reel_interrupted()) {
            rc = reel_fail(err, "interrupted after %zu of %zu models; nothing written", i, n);
            break;
        }
        if (!job->quiet)
            reel_log_msg(ro.log, REEL_LOG_INFO, "[%zu/%zu] %s ...", i + 1, n, name);
        char *ck = NULL;
        const reel_model_kind *kind = reel_model_def_kind(name);
        if (job->ro.checkpoint && kind && kind->resumable) {
            char file[300];
            snprintf(file, sizeof file, "checkpoint_%s.safetensors", name);
            ck = reel_path_join(job->ro.checkpoint, file);
        }
        ro.checkpoint = ck;
        int bad = 0;
        if (together[i]) {
            r->runs[r->done] = runs_t[i];
            together[i] = 0;
        } else {
            bad = reel_run_model(&r->runs[r->done], p, name, pp[i], &ro, &e);
        }
        free(ck);
        if (bad && reel_interrupted()) { /* stopped, not failed: nothing is written */
            rc = reel_fail(err, "%s", e.msg);
            break;
        }
        if (bad) {
            add_failed(r, job, name, e.msg);
            continue;
        }
        const reel_run *done = &r->runs[r->done];
        char shared[48] = "";
        if (done->shared)
            snprintf(shared, sizeof shared, " (%zu nets per launch)", done->shared);
        if (!job->quiet)
            reel_log_msg(ro.log, REEL_LOG_INFO, "[%zu/%zu] %s: samples-F1 %.4f, fit %.3f s%s", i + 1, n, name,
                         done->metrics.samples_f1, done->fit_seconds, shared);
        r->done++;
    }
    for (size_t i = 0; i < n; i++)
        if (together[i])
            reel_run_free(&runs_t[i]);
    free(runs_t);
    free(together);
    free(pp);
    return rc;
}

/* Under mpirun: the models spread over the ranks, one at a time per rank
 * on all its threads (as one process runs them), each coming back as
 * bytes (eval/run_pack.c). A model that fails is reported as in one
 * process; its message travels in place of the run. */
typedef struct {
    reel_prepared *p;
    const reel_compare_job *job;
} spread_models;

static int model_item(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err)
{
    spread_models *sm = ctx;
    const char *name = sm->job->names[i];
    if (reel_interrupted())
        return reel_fail(err, "interrupted: stopped before the next model; nothing was written");
    reel_run_opts ro = sm->job->ro;
    ro.threads = threads;
    ro.out_dir = NULL; /* rank 0 writes every output, the nets' histories too */
    reel_run r;
    reel_error e;
    unsigned char *body = NULL;
    size_t len = 0;
    int ok = reel_run_model(&r, sm->p, name, cJSON_GetObjectItemCaseSensitive(sm->job->params, name), &ro, &e) == 0;
    if (ok) {
        body = reel_run_pack(&r, &len);
        reel_run_free(&r);
        if (!body)
            return reel_fail(err, "%s: out of memory packing the result", name);
    } else {
        len = strlen(e.msg) + 1;
        body = (unsigned char *)strdup(e.msg);
    }
    out->data = malloc(len + 1);
    if (!body || !out->data) {
        free(body);
        return reel_fail(err, "%s: out of memory", name);
    }
    ((unsigned char *)out->data)[0] = (unsigned char)ok;
    memcpy((unsigned char *)out->data + 1, body, len);
    out->len = len + 1;
    free(body);
    return 0;
}

static void model_label(void *ctx, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "model %s", ((spread_models *)ctx)->job->names[i]);
}

static void model_done(void *ctx, size_t i, const reel_blob *b)
{
    spread_models *sm = ctx;
    reel_log_msg(sm->job->ro.log, REEL_LOG_INFO, "%s %s", sm->job->names[i],
                 ((unsigned char *)b->data)[0] ? "done" : "failed");
}

static int run_spread(reel_prepared *p, const reel_compare_job *job, reel_compare_results *r, reel_error *err)
{
    if (reel_prepared_standardize(p, err)) /* before the items share p */
        return -1;
    spread_models sm = {p, job};
    reel_blob *res = calloc(job->n ? job->n : 1, sizeof *res);
    if (!res)
        return reel_fail(err, "out of memory");
    reel_dist_job dj = {.n = job->n, .threads = job->ro.threads, .whole = 1, .run = model_item,
                        .label = model_label, .done = model_done, .ctx = &sm};
    int rc = reel_dist_map(&dj, res, err);
    for (size_t i = 0; i < job->n && rc == 0; i++) {
        const unsigned char *b = res[i].data;
        const char *name = job->names[i];
        if (!b[0]) {
            add_failed(r, job, name, (const char *)b + 1);
            continue;
        }
        rc = reel_run_unpack(&r->runs[r->done], p, name, cJSON_GetObjectItemCaseSensitive(job->params, name), b + 1,
                             res[i].len - 1, err);
        if (rc == 0)
            r->done++;
    }
    reel_blobs_free(res, job->n);
    free(res);
    return rc;
}

int reel_compare_run(reel_prepared *p, const reel_compare_job *job, reel_compare_results *r, reel_error *err)
{
    if (results_init(r, job->n)) {
        reel_compare_results_free(r);
        return reel_fail(err, "out of memory");
    }
    return reel_dist_size() > 1 ? run_spread(p, job, r, err) : run_here(p, job, r, err);
}

const char *reel_compare_default_metric(reel_target_kind target)
{
    return target == REEL_TARGET_MULTILABEL ? "samples-f1" : "accuracy";
}

/* a ranks above b: a higher value (a NaN, not measured, below every
 * number), ties in run order. */
static int above(double a, size_t ia, double b, size_t ib)
{
    if (a == b || (a != a && b != b))
        return ia < ib;
    return b != b || a > b;
}

cJSON *reel_compare_json(const reel_prepared *p, const reel_compare_results *r, const char *metric)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "dataset", reel_dataset_json(p));
    cJSON *arr = cJSON_AddArrayToObject(doc, "models");
    for (size_t i = 0; i < r->done; i++)
        cJSON_AddItemToArray(arr, reel_run_to_json(&r->runs[i], p->ds.labels));
    /* an insertion sort on a total order (the run index breaks ties): one
     * ranking whatever the sort, and no global for qsort to read */
    size_t *order = malloc((r->done ? r->done : 1) * sizeof *order);
    double *v = malloc((r->done ? r->done : 1) * sizeof *v);
    if (!order || !v) {
        free(order);
        free(v);
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t i = 0; i < r->done; i++) {
        v[i] = reel_metric_by_name(&r->runs[i].metrics, metric);
        size_t j = i;
        for (; j > 0 && above(v[i], i, v[order[j - 1]], order[j - 1]); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    cJSON_AddStringToObject(doc, "ranked_by", metric);
    cJSON *rank = cJSON_AddArrayToObject(doc, "ranking");
    for (size_t i = 0; i < r->done; i++)
        cJSON_AddItemToArray(rank, cJSON_CreateString(r->runs[order[i]].model.name));
    free(order);
    free(v);
    if (r->n_failed) {
        cJSON *fa = cJSON_AddArrayToObject(doc, "failed");
        for (size_t i = 0; i < r->n_failed; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", r->failed[i]);
            cJSON_AddStringToObject(o, "error", r->failed_msg[i] ? r->failed_msg[i] : "out of memory");
            cJSON_AddItemToArray(fa, o);
        }
    }
    return doc;
}
