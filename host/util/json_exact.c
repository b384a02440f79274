#include "util/json_exact.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
