#include "models/decision_rule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[] = {"threshold", "tuned-global", "tuned-per-label", "expected-f1", "argmax"};
#define N_KINDS (sizeof KIND_NAMES / sizeof *KIND_NAMES)

const char *reel_rule_kind_name(reel_rule_kind kind)
{
    return (size_t)kind < N_KINDS ? KIND_NAMES[kind] : "?";
}

int reel_rule_kind_by_name(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(name, KIND_NAMES[i]) == 0)
            return (int)i;
    return -1;
}

int reel_decision_threshold(reel_decision *r, size_t L, const float *t, reel_error *err)
{
    memset(r, 0, sizeof *r);
    r->kind = REEL_RULE_THRESHOLD;
    r->L = L;
    r->threshold = malloc((L ? L : 1) * sizeof *r->threshold);
    if (!r->threshold)
        return reel_fail(err, "out of memory");
    for (size_t k = 0; k < L; k++)
        r->threshold[k] = t ? t[k] : 0.5f;
    return 0;
}

void reel_decision_free(reel_decision *r)
{
    free(r->threshold);
    free(r->platt);
    memset(r, 0, sizeof *r);
}

int reel_decision_copy(reel_decision *dst, const reel_decision *src)
{
    *dst = *src;
    dst->threshold = NULL;
    dst->platt = NULL;
    size_t L = src->L ? src->L : 1;
    if (src->threshold && !(dst->threshold = malloc(L * sizeof(float))))
        return -1;
    if (src->threshold)
        memcpy(dst->threshold, src->threshold, src->L * sizeof(float));
    if (src->platt && !(dst->platt = malloc(2 * L * sizeof(double)))) {
        free(dst->threshold);
        dst->threshold = NULL;
        return -1;
    }
    if (src->platt)
        memcpy(dst->platt, src->platt, 2 * src->L * sizeof(double));
    return 0;
}

const char *reel_decision_name(const reel_decision *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", reel_rule_kind_name(r->kind), r->calibrated ? "+calibrated" : "",
             r->at_least_one ? "+at-least-one" : "");
    return buf;
}

cJSON *reel_decision_to_json(const reel_decision *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "rule", reel_rule_kind_name(r->kind));
    cJSON_AddBoolToObject(j, "at_least_one", r->at_least_one);
    cJSON_AddBoolToObject(j, "calibrated", r->calibrated);
    cJSON *th = cJSON_AddArrayToObject(j, "thresholds");
    for (size_t k = 0; k < r->L; k++)
        cJSON_AddItemToArray(th, cJSON_CreateNumber((double)r->threshold[k]));
    if (r->calibrated) {
        cJSON *pl = cJSON_AddArrayToObject(j, "platt");
        for (size_t k = 0; k < r->L; k++) {
            const double ab[2] = {r->platt[2 * k], r->platt[2 * k + 1]};
            cJSON_AddItemToArray(pl, cJSON_CreateDoubleArray(ab, 2));
        }
    }
    if (r->n_tried) {
        cJSON *a = cJSON_AddObjectToObject(j, "auto_valid_samples_f1");
        for (size_t c = 0; c < r->n_tried; c++)
            cJSON_AddNumberToObject(a, r->tried_name[c], r->tried_score[c]);
    }
    return j;
}

/* What "auto" tried, when the JSON says (absent: nothing was tried): each
 * candidate rule's name and its validation samples-F1 in [0, 1]. */
static int tried_from_json(reel_decision *r, const cJSON *a, reel_error *err)
{
    if (!a)
        return 0;
    const size_t most = sizeof r->tried_score / sizeof *r->tried_score;
    if (!cJSON_IsObject(a) || (size_t)cJSON_GetArraySize(a) > most)
        return reel_fail(err, "decision.auto_valid_samples_f1: expected an object of at most %zu rules", most);
    const cJSON *c;
    cJSON_ArrayForEach(c, a)
    {
        if (!c->string || strlen(c->string) >= sizeof r->tried_name[0])
            return reel_fail(err, "decision.auto_valid_samples_f1: a rule name longer than %zu characters",
                             sizeof r->tried_name[0] - 1);
        if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble <= 1))
            return reel_fail(err, "decision.auto_valid_samples_f1.%s: expected a number in [0, 1]", c->string);
        snprintf(r->tried_name[r->n_tried], sizeof r->tried_name[0], "%s", c->string);
        r->tried_score[r->n_tried++] = c->valuedouble;
    }
    return 0;
}

int reel_decision_from_json(reel_decision *r, const cJSON *j, size_t L, reel_error *err)
{
    memset(r, 0, sizeof *r);
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(j, "rule");
    const cJSON *alo = cJSON_GetObjectItemCaseSensitive(j, "at_least_one");
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(j, "calibrated");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(j, "thresholds");
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(j, "platt");
    if (!cJSON_IsString(rule))
        return reel_fail(err, "decision.rule: expected a string");
    int i = reel_rule_kind_by_name(rule->valuestring);
    if (i < 0)
        return reel_fail(err, "decision.rule: unknown rule '%s'", rule->valuestring);
    if (!cJSON_IsBool(alo) || !cJSON_IsBool(cal))
        return reel_fail(err, "decision.at_least_one and decision.calibrated: expected true or false");
    if (!cJSON_IsArray(th) || (size_t)cJSON_GetArraySize(th) != L)
        return reel_fail(err, "decision.thresholds: expected %zu numbers", L);
    r->kind = (reel_rule_kind)i;
    r->at_least_one = cJSON_IsTrue(alo);
    r->calibrated = cJSON_IsTrue(cal);
    if (r->calibrated && r->kind != REEL_RULE_EXPECTED_F1)
        return reel_fail(err, "decision.calibrated: only expected-f1 is calibrated");
    r->L = L;
    r->threshold = malloc((L ? L : 1) * sizeof *r->threshold);
    if (!r->threshold)
        return reel_fail(err, "out of memory");
    for (size_t k = 0; k < L; k++) {
        const cJSON *v = cJSON_GetArrayItem(th, (int)k);
        /* a cut in [0, 1]; a tuned one sits just below 0 to keep every row (thresholds.c) */
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= -1e-5 && v->valuedouble <= 1)) {
            reel_decision_free(r);
            return reel_fail(err, "decision.thresholds[%zu]: expected a number in [0, 1]", k);
        }
        r->threshold[k] = (float)v->valuedouble;
    }
    if (r->calibrated) {
        if (!cJSON_IsArray(pl) || (size_t)cJSON_GetArraySize(pl) != L) {
            reel_decision_free(r);
            return reel_fail(err, "decision.platt: expected %zu [a, b] pairs", L);
        }
        r->platt = malloc(2 * (L ? L : 1) * sizeof *r->platt);
        for (size_t k = 0; r->platt && k < L; k++) {
            const cJSON *ab = cJSON_GetArrayItem(pl, (int)k);
            const cJSON *a = cJSON_GetArrayItem(ab, 0), *b = cJSON_GetArrayItem(ab, 1);
            if (!cJSON_IsArray(ab) || cJSON_GetArraySize(ab) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
                !isfinite(a->valuedouble) || !isfinite(b->valuedouble)) {
                reel_decision_free(r);
                return reel_fail(err, "decision.platt[%zu]: expected [a, b], two finite numbers", k);
            }
            r->platt[2 * k] = a->valuedouble;
            r->platt[2 * k + 1] = b->valuedouble;
        }
        if (!r->platt) {
            reel_decision_free(r);
            return reel_fail(err, "out of memory");
        }
    }
    if (tried_from_json(r, cJSON_GetObjectItemCaseSensitive(j, "auto_valid_samples_f1"), err)) {
        reel_decision_free(r);
        return -1;
    }
    return 0;
}
