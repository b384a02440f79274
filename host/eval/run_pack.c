/* A finished run as bytes, for compare over MPI ranks: what rank 0 needs
 * to print, report and write it, without the model itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/decision.h"
#include "eval/run.h"

typedef struct {
    double fit_seconds, predict_seconds;
    uint64_t n, L, epochs, csv_len, rule_len;
    int64_t kept_epoch, kept_average; /* the history's: which weights the net kept */
    uint64_t rule_rows;  /* what the rule was chosen on (reel_run.rule_from, rule_rows) */
    int64_t rule_from;   /* 0: not known, 1: validation, 2: out-of-fold */
    char device[64];
} run_head;

/* Appends len bytes at at. */
static unsigned char *put(unsigned char *at, const void *src, size_t len)
{
    if (len)
        memcpy(at, src, len);
    return at + len;
}

/* Layout: head, the model's own thresholds (L floats), P (n x L floats),
 * the history (3 x epochs doubles), its CSV text, the decision rule as JSON
 * (with what auto tried: reel_decision_to_json writes every field and
 * reel_decision_from_json reads every one back). */
unsigned char *reel_run_pack(const reel_run *r, size_t *len)
{
    const reel_history *h = reel_run_history(r);
    size_t n = r->metrics.n, L = r->model.L;
    char *rule = NULL;
    cJSON *rj = reel_decision_to_json(&r->model.rule);
    if (rj)
        rule = cJSON_PrintUnformatted(rj);
    cJSON_Delete(rj);
    if (!rule)
        return NULL;
    run_head head = {r->fit_seconds, r->predict_seconds, n, L, h ? h->epochs : 0,
                     h && h->csv ? strlen(h->csv) : 0, strlen(rule), h ? h->kept_epoch : 0,
                     h ? h->kept_average : 0, r->rule_rows,
                     !r->rule_from ? 0 : strcmp(r->rule_from, "out-of-fold") == 0 ? 2 : 1, {0}};
    snprintf(head.device, sizeof head.device, "%s", reel_run_device(r));
    size_t total = sizeof head + L * sizeof(float) + n * L * sizeof(float) + 3 * head.epochs * sizeof(double) +
                   head.csv_len + head.rule_len;
    unsigned char *buf = malloc(total), *at = buf;
    if (buf) {
        at = put(at, &head, sizeof head);
        at = put(at, r->model.threshold, L * sizeof(float));
        at = put(at, r->P, n * L * sizeof(float));
        if (head.epochs) {
            at = put(at, h->train_loss, head.epochs * sizeof(double));
            at = put(at, h->valid_loss, head.epochs * sizeof(double));
            at = put(at, h->valid_f1, head.epochs * sizeof(double));
        }
        at = put(at, h && h->csv ? h->csv : "", head.csv_len);
        put(at, rule, head.rule_len);
        *len = total;
    }
    cJSON_free(rule);
    return buf;
}

int reel_run_unpack(reel_run *r, const reel_prepared *p, const char *name, const cJSON *user_params,
                    const unsigned char *buf, size_t len, reel_error *err)
{
    memset(r, 0, sizeof *r);
    run_head head;
    if (len < sizeof head)
        return reel_fail(err, "%s: a result of %zu bytes is too short", name, len);
    memcpy(&head, buf, sizeof head);
    size_t n = p->test.n, L = p->L;
    size_t want = sizeof head + L * sizeof(float) + n * L * sizeof(float) + 3 * head.epochs * sizeof(double) +
                  head.csv_len + head.rule_len;
    if (head.n != n || head.L != L || want != len)
        return reel_fail(err, "%s: the result does not match this data (%zu bytes)", name, len);
    if (reel_model_init(&r->model, name, user_params, err))
        return -1;
    free(r->model.threshold);
    r->model.threshold = malloc((L ? L : 1) * sizeof *r->model.threshold);
    r->model.L = L;
    r->model.d = p->d;
    const unsigned char *at = buf + sizeof head;
    memcpy(r->model.threshold, at, L * sizeof(float));
    at += L * sizeof(float);
    r->P = malloc((n ? n : 1) * L * sizeof *r->P);
    r->pred = malloc((n ? n : 1) * L);
    memcpy(r->P, at, n * L * sizeof(float));
    at += n * L * sizeof(float);
    r->fit_seconds = head.fit_seconds;
    r->rule_from = head.rule_from == 2 ? "out-of-fold" : head.rule_from == 1 ? "validation" : NULL;
    r->rule_rows = (size_t)head.rule_rows;
    r->predict_seconds = head.predict_seconds;
    head.device[sizeof head.device - 1] = '\0';
    r->device = strdup(head.device);
    reel_history *h = &r->history;
    for (uint64_t e = 0; e < head.epochs; e++) {
        double v[3];
        for (int k = 0; k < 3; k++)
            memcpy(&v[k], at + ((size_t)k * head.epochs + e) * sizeof(double), sizeof(double));
        reel_history_add(h, v[0], v[1], v[2]);
    }
    at += 3 * head.epochs * sizeof(double);
    h->kept_epoch = (long)head.kept_epoch;
    h->kept_average = head.kept_average != 0;
    if (head.csv_len) {
        h->csv = malloc(head.csv_len + 1);
        memcpy(h->csv, at, head.csv_len);
        h->csv[head.csv_len] = '\0';
    }
    at += head.csv_len;
    cJSON *rj = cJSON_ParseWithLength((const char *)at, head.rule_len);
    reel_decision_free(&r->model.rule);
    int rc = rj ? reel_decision_from_json(&r->model.rule, rj, L, err) : reel_fail(err, "%s: a damaged rule", name);
    cJSON_Delete(rj);
    if (rc == 0) /* the target it was trained on: the prepared data's */
        rc = reel_model_set_target(&r->model, p->ds.target, p->ds.K, p->ds.classes, err);
    if (rc == 0) { /* the metrics as reel_run_model computes them */
        reel_target_kind target = r->model.target;
        if (target == REEL_TARGET_MULTICLASS)
            reel_decision_argmax(r->P, n, L, r->pred);
        else
            reel_threshold(r->P, r->model.threshold, n, L, r->pred);
        rc = reel_metrics_compute(&r->untuned, p->test.Y, r->pred, n, L) ||
             reel_metrics_add_classes(&r->untuned, target, r->model.classes, p->test.Y, r->P, r->pred, n, L);
        if (rc == 0)
            rc = reel_decision_apply(&r->model.rule, r->P, n, r->pred);
        if (rc == 0)
            rc = reel_metrics_compute(&r->metrics, p->test.Y, r->pred, n, L) ||
                 reel_metrics_add_classes(&r->metrics, target, r->model.classes, p->test.Y, r->P, r->pred, n, L);
        if (rc)
            reel_fail(err, "out of memory computing metrics");
    }
    if (rc)
        reel_run_free(r);
    return rc;
}
