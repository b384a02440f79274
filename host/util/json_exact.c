#include "util/json_exact.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"

/* Replaces each number of a (duplicated) tree with its exact text as a raw item. */
static int exactify(cJSON *v)
{
    for (cJSON *c = v->child; c; c = c->next) {
        if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) {
            char buf[40];
            double d = c->valuedouble;
            int prec = 15;
            for (; prec < 17; prec++) {
                snprintf(buf, sizeof buf, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                    break;
            }
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            cJSON *raw = cJSON_CreateRaw(buf);
            if (raw && c->string && !(raw->string = strdup(c->string))) { /* the key moves with it */
                cJSON_Delete(raw);
                raw = NULL;
            }
            if (!raw || !cJSON_ReplaceItemViaPointer(v, c, raw))
                return -1;
            c = raw;
        } else if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && exactify(c)) {
            return -1;
        }
    }
    return 0;
}

char *reel_json_print_exact(const cJSON *v)
{
    cJSON *root = cJSON_CreateArray(); /* a parent, so a bare number is replaced too */
    cJSON *dup = cJSON_Duplicate(v, 1);
    if (!root || !dup) {
        cJSON_Delete(root);
        cJSON_Delete(dup);
        return NULL;
    }
    cJSON_AddItemToArray(root, dup);
    char *s = NULL;
    if (exactify(root) == 0)
        s = cJSON_PrintUnformatted(root->child);
    cJSON_Delete(root);
    return s;
}

int reel_json_u64(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (*s < '0' || *s > '9' || *end || errno)
            return -1;
        *out = (uint64_t)x;
        return 0;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
        v->valuedouble == (double)(uint64_t)v->valuedouble) {
        *out = (uint64_t)v->valuedouble;
        return 0;
    }
    return -1;
}

/* Numbers cJSON would turn into another value: beyond a double's range (it
 * reads inf, printed as null) or below its smallest (it reads 0). */
static int check_numbers(const char *path, const char *text, reel_error *err)
{
    size_t line = 1;
    for (const char *s = text; *s; s++) {
        if (*s == '\n')
            line++;
        if (*s == '"') { /* skip a string, escapes included */
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                    s++;
                else if (*s == '\n')
                    line++;
            }
            if (!*s)
                return 0;
            continue;
        }
        if (*s != '-' && (*s < '0' || *s > '9'))
            continue;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s)
            continue;
        if (errno == ERANGE && (isinf(v) || v == 0.0))
            return reel_fail(err, "%s:%zu: %.*s is %s", path, line, (int)(end - s > 40 ? 40 : end - s), s,
                             isinf(v) ? "beyond the range of a double" : "too small for a double (it would read as 0)");
        s = end - 1;
    }
    return 0;
}

/* A key twice in one object: cJSON keeps both and look-ups see the first. */
static int check_duplicates(const char *path, const cJSON *v, char *trail, size_t n, reel_error *err)
{
    size_t len = strlen(trail);
    for (const cJSON *c = v->child; c; c = c->next) {
        if (cJSON_IsObject(v) && c->string)
            for (const cJSON *b = v->child; b != c; b = b->next)
                if (b->string && strcmp(b->string, c->string) == 0)
                    return reel_fail(err, "%s: key '%s%s' appears twice", path, trail, c->string);
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            if (cJSON_IsObject(v) && c->string)
                snprintf(trail + len, n - len, "%s.", c->string);
            int rc = check_duplicates(path, c, trail, n, err);
            trail[len] = '\0';
            if (rc)
                return -1;
        }
    }
    return 0;
}

cJSON *reel_json_read_file(const char *path, const char *what, reel_error *err)
{
    char *text = reel_read_file_capped(path, NULL, REEL_MAX_JSON_FILE, what, err);
    if (!text)
        return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        size_t line = 1, col = 1;
        for (const char *s = text; end && s < end; s++) {
            col = *s == '\n' ? 1 : col + 1;
            line += *s == '\n';
        }
        reel_fail(err, "%s:%zu:%zu: invalid JSON", path, line, col);
    } else {
        char trail[512] = "";
        if (check_numbers(path, text, err) || check_duplicates(path, j, trail, sizeof trail, err)) {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    free(text);
    return j;
}
