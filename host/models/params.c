#include "models/params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Whether value v is of the one type `t` under spec s (range, values). */
static int matches(const cJSON *v, const char *t, const cJSON *s)
{
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(s, "min");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(s, "max");
    const cJSON *xmin = cJSON_GetObjectItemCaseSensitive(s, "exclusive_min");
    if (strcmp(t, "null") == 0)
        return cJSON_IsNull(v);
    if (strcmp(t, "bool") == 0)
        return cJSON_IsBool(v);
    if (strcmp(t, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(t, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(t, "int") == 0 || strcmp(t, "number") == 0) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return 0;
        double x = v->valuedouble;
        if (strcmp(t, "int") == 0 && (x != floor(x) || fabs(x) > 1e15))
            return 0;
        if (min && (x < min->valuedouble || (cJSON_IsTrue(xmin) && x == min->valuedouble)))
            return 0;
        if (max && x > max->valuedouble)
            return 0;
        return 1;
    }
    if (strcmp(t, "string") == 0) {
        if (!cJSON_IsString(v))
            return 0;
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(s, "values"), *e;
        if (!values)
            return 1;
        cJSON_ArrayForEach(e, values) if (cJSON_IsString(e) && strcmp(e->valuestring, v->valuestring) == 0)
            return 1;
        return 0;
    }
    return 0;
}

/* "an integer >= 1, or null" etc., from the spec. */
static void describe(const cJSON *s, char *buf, size_t n)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(s, "min");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(s, "max");
    const cJSON *xmin = cJSON_GetObjectItemCaseSensitive(s, "exclusive_min");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(s, "values");
    buf[0] = '\0';
    size_t len = 0;
    int ntypes = cJSON_IsArray(type) ? cJSON_GetArraySize(type) : 1;
    for (int i = 0; i < ntypes; i++) {
        const cJSON *t = cJSON_IsArray(type) ? cJSON_GetArrayItem(type, i) : type;
        const char *ts = cJSON_IsString(t) ? t->valuestring : "?";
        char part[256] = "";
        if (strcmp(ts, "int") == 0 || strcmp(ts, "number") == 0) {
            int k = snprintf(part, sizeof part, "%s", strcmp(ts, "int") == 0 ? "an integer" : "a number");
            if (min)
                k += snprintf(part + k, sizeof part - (size_t)k, " %s %.15g", cJSON_IsTrue(xmin) ? ">" : ">=",
                              min->valuedouble);
            if (max)
                snprintf(part + k, sizeof part - (size_t)k, "%s <= %.15g", min ? " and" : "", max->valuedouble);
        } else if (strcmp(ts, "string") == 0 && values) {
            int k = snprintf(part, sizeof part, "one of");
            const cJSON *e;
            cJSON_ArrayForEach(e, values) if (cJSON_IsString(e)) k +=
                snprintf(part + k, sizeof part - (size_t)k, " \"%s\"%s", e->valuestring, e->next ? "," : "");
        } else if (strcmp(ts, "bool") == 0) {
            snprintf(part, sizeof part, "true or false");
        } else if (strcmp(ts, "array") == 0) {
            snprintf(part, sizeof part, "a list");
        } else if (strcmp(ts, "object") == 0) {
            snprintf(part, sizeof part, "an object");
        } else {
            snprintf(part, sizeof part, "%s", ts);
        }
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", i ? ", or " : "", part);
    }
}

static int value_ok(const cJSON *v, const cJSON *s)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type"), *t;
    if (cJSON_IsString(type))
        return matches(v, type->valuestring, s);
    cJSON_ArrayForEach(t, type) if (cJSON_IsString(t) && matches(v, t->valuestring, s)) return 1;
    return 0;
}

cJSON *reel_params_resolve(const char *model, const cJSON *spec, const cJSON *user, reel_error *err)
{
    if (user && !cJSON_IsObject(user)) {
        reel_fail(err, "params for %s: must be a JSON object of key: value", model);
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    const cJSON *s;
    cJSON_ArrayForEach(s, spec)
    {
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "default");
        cJSON_AddItemToObject(out, s->string, def ? cJSON_Duplicate(def, 1) : cJSON_CreateNull());
    }
    const cJSON *u;
    cJSON_ArrayForEach(u, user)
    {
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(spec, u->string);
        if (!ks) {
            char keys[512] = "";
            size_t len = 0;
            cJSON_ArrayForEach(s, spec) len +=
                (size_t)snprintf(keys + len, len < sizeof keys ? sizeof keys - len : 0, "%s%s",
                                 len ? ", " : "", s->string);
            reel_fail(err, "params for %s: unknown key '%s'; valid keys: %s", model, u->string,
                      *keys ? keys : "(none)");
            cJSON_Delete(out);
            return NULL;
        }
        if (!value_ok(u, ks)) {
            char allowed[512], *got = cJSON_PrintUnformatted(u);
            describe(ks, allowed, sizeof allowed);
            reel_fail(err, "params for %s: key '%s' must be %s; got %.80s", model, u->string, allowed,
                      got ? got : "?");
            cJSON_free(got);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(out, u->string, cJSON_Duplicate(u, 1));
    }
    return out;
}

/* The spec's type names for v's JSON type ("int" and "number" both for a number). */
static int type_listed(const cJSON *v, const cJSON *s)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type"), *t;
    const char *a = cJSON_IsNull(v) ? "null" : cJSON_IsBool(v) ? "bool" : cJSON_IsNumber(v) ? "number"
                  : cJSON_IsString(v) ? "string" : cJSON_IsArray(v) ? "array" : "object";
    const char *b = cJSON_IsNumber(v) ? "int" : a;
    if (cJSON_IsString(type))
        return strcmp(type->valuestring, a) == 0 || strcmp(type->valuestring, b) == 0;
    cJSON_ArrayForEach(t, type) if (cJSON_IsString(t) && (strcmp(t->valuestring, a) == 0 ||
                                                          strcmp(t->valuestring, b) == 0)) return 1;
    return 0;
}

int reel_params_within(const char *model, const char *kind, const cJSON *limits, const cJSON *params,
                       reel_error *err)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, params)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(limits, v->string);
        if (!s || !type_listed(v, s) || value_ok(v, s))
            continue; /* a key or type the kind does not know: its params reader refuses it by name */
        char allowed[512], *got = cJSON_PrintUnformatted(v);
        describe(s, allowed, sizeof allowed);
        reel_fail(err, "params for %s: key '%s' must be %s; got %.80s (the %s kind's own limit, which a model "
                  "definition may narrow but not widen)", model, v->string, allowed, got ? got : "?", kind);
        cJSON_free(got);
        return -1;
    }
    return 0;
}

void reel_params_read_begin(reel_params_reader *r, const cJSON *params, const char *model)
{
    r->params = params;
    r->model = model;
    r->miss[0] = '\0';
}

int reel_params_read_end(const reel_params_reader *r, reel_error *err)
{
    return r->miss[0] ? reel_fail(err, "params for %s: %s", r->model, r->miss) : 0;
}

/* The value of a declared key; NULL (and the miss noted) for any other. */
static const cJSON *declared(reel_params_reader *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->params, key);
    if (!v && !r->miss[0])
        snprintf(r->miss, sizeof r->miss, "key '%s' is read but not declared by the definition", key);
    return v;
}

static void wrong_type(reel_params_reader *r, const char *key, const char *type)
{
    if (!r->miss[0])
        snprintf(r->miss, sizeof r->miss, "key '%s' is read as %s but holds another type", key, type);
}

int reel_param_is_null(reel_params_reader *r, const char *key)
{
    const cJSON *v = declared(r, key);
    return !v || cJSON_IsNull(v);
}

double reel_param_num(reel_params_reader *r, const char *key)
{
    const cJSON *v = declared(r, key);
    if (v && !cJSON_IsNumber(v))
        wrong_type(r, key, "a number");
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

long reel_param_int(reel_params_reader *r, const char *key) { return (long)reel_param_num(r, key); }

int reel_param_bool(reel_params_reader *r, const char *key)
{
    const cJSON *v = declared(r, key);
    if (v && !cJSON_IsBool(v))
        wrong_type(r, key, "true or false");
    return cJSON_IsTrue(v);
}

const char *reel_param_str(reel_params_reader *r, const char *key)
{
    const cJSON *v = declared(r, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

uint64_t reel_param_seed(reel_params_reader *r, uint64_t fallback)
{
    const cJSON *v = declared(r, "seed");
    /* (a double at or beyond 2^64 has no uint64_t value: converting it is undefined) */
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0
               ? (uint64_t)v->valuedouble
               : fallback;
}
