/* Model definitions read at run time (issue 18): a new models/NAME.json in
 * the user folder or --models-dir is a model without rebuilding reel. They
 * pass the checks the embedded ones pass in tests/test_params.c. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_dirs.h"
#include "models/model.h"
#include "models/model_defs.h"
#include "util/fileio.h"

static int is_embedded(const char *name)
{
    for (size_t i = 0; reel_model_sources[i].name; i++)
        if (strcmp(reel_model_sources[i].name, name) == 0)
            return 1;
    return 0;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static int load_one(const char *path, const char *name, const reel_log *log, reel_error *err)
{
    char *text = reel_read_file_capped(path, NULL, 1 << 20, "model definition", err);
    if (!text)
        return -1;
    const char *end = NULL;
    cJSON *def = cJSON_ParseWithOpts(text, &end, 1);
    if (!def) {
        long at = end ? (long)(end - text) : 0;
        free(text);
        return reel_fail(err, "%s: not valid JSON (near byte %ld)", path, at);
    }
    free(text);
    const char *bad = !cJSON_IsObject(def)                                             ? "(top level) must be an object"
                      : !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(def, "params")) ? "'params' must be an object"
                      : !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(def, "grid"))   ? "'grid' must be an object"
                                                                                        : NULL;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(def, "kind");
    if (!bad && kind && !cJSON_IsString(kind))
        bad = "'kind' must be a string";
    if (bad) {
        cJSON_Delete(def);
        return reel_fail(err, "%s: key %s", path, bad);
    }
    const char *kind_name = kind ? kind->valuestring : name;
    if (!reel_kind_find(kind_name)) {
        reel_fail(err, "%s: key 'kind': '%s' is not a kind built into this reel%s", path, kind_name,
                  kind ? "" : " (a new name needs \"kind\")");
        cJSON_Delete(def);
        return -1;
    }
    int known = reel_model_def(name) != NULL;
    if (reel_model_add_def(name, def, err))
        return -1;
    reel_model m;
    if (reel_model_init(&m, name, NULL, err)) { /* its defaults must pass its own param specs */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return reel_fail(err, "%s: %s", path, why);
    }
    reel_model_free(&m);
    if (known)
        reel_log_msg(log, REEL_LOG_INFO, "note: %s replaces the %s model '%s'", path,
                     is_embedded(name) ? "built-in" : "earlier", name);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int reel_models_load_dir(const char *dir, int must_exist, const reel_log *log, reel_error *err)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, by_name); /* sorted: the same order on every machine */
    if (n < 0) {
        if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
            return 0;
        return reel_fail(err, "models folder %s: %s", dir, strerror(errno));
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *f = ents[i]->d_name;
        size_t len = strlen(f);
        if (rc == 0 && len > 5 && strcmp(f + len - 5, ".json") == 0) {
            char name[256], path[4096];
            if (!valid_name(f, len - 5) || len - 5 >= sizeof name) {
                rc = reel_fail(err, "%s/%s: a model name uses letters, digits, '_' and '-'", dir, f);
            } else {
                snprintf(name, sizeof name, "%.*s", (int)(len - 5), f);
                snprintf(path, sizeof path, "%s/%s", dir, f);
                rc = load_one(path, name, log, err);
            }
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int reel_models_load_runtime(const char *models_dir, const reel_log *log, reel_error *err)
{
    char user[4096];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(user, sizeof user, "%s/reel/models", xdg);
    else if (home && *home)
        snprintf(user, sizeof user, "%s/.config/reel/models", home);
    else
        user[0] = 0;
    if (user[0] && reel_models_load_dir(user, 0, log, err))
        return -1;
    return models_dir ? reel_models_load_dir(models_dir, 1, log, err) : 0;
}

/* {"mynet": {"base": "box", "layers": [...]}}: model mynet is box's definition
 * with those params as its defaults, so it carries its own name everywhere. */
int reel_models_from_params(const char *path, reel_error *err)
{
    char *text = reel_read_file_capped(path, NULL, 1 << 24, "params", err);
    if (!text)
        return 0; /* the command reports an unreadable params file itself */
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(j)) { /* the command reports a bad params file itself */
        cJSON_Delete(j);
        return 0;
    }
    int rc = 0;
    for (cJSON *it = j->child; it && rc == 0; it = it->next) {
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(it, "base");
        if (!cJSON_IsObject(it) || !base)
            continue;
        const cJSON *bdef = cJSON_IsString(base) ? reel_model_def(base->valuestring) : NULL;
        if (!bdef) {
            rc = reel_fail(err, "%s: key '%s.base' must name a model; valid models: %s", path, it->string,
                           reel_model_name_list());
            break;
        }
        if (!valid_name(it->string, strlen(it->string)) || strlen(it->string) > 200) {
            rc = reel_fail(err, "%s: key '%s': a model name uses letters, digits, '_' and '-'", path, it->string);
            break;
        }
        if (strcmp(it->string, base->valuestring) == 0 || (reel_model_def(it->string) && is_embedded(it->string))) {
            rc = reel_fail(err, "%s: key '%s': a variant with \"base\" needs a new name", path, it->string);
            break;
        }
        cJSON *def = cJSON_Duplicate(bdef, 1);
        if (!cJSON_GetObjectItemCaseSensitive(def, "kind"))
            cJSON_AddStringToObject(def, "kind", base->valuestring);
        cJSON *spec = cJSON_GetObjectItemCaseSensitive(def, "params");
        for (const cJSON *p = it->child; p; p = p->next) {
            if (p == base)
                continue;
            if (strcmp(p->string, "base") == 0) {
                rc = reel_fail(err, "%s: key '%s.base' appears twice; name one base model", path, it->string);
                break;
            }
            cJSON *ps = cJSON_GetObjectItemCaseSensitive(spec, p->string);
            if (!cJSON_IsObject(ps)) {
                rc = reel_fail(err, "%s: params for %s (base %s): unknown key '%s'", path, it->string,
                               base->valuestring, p->string);
                break;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(ps, "default");
            cJSON_AddItemToObject(ps, "default", cJSON_Duplicate(p, 1));
        }
        char brief[512];
        snprintf(brief, sizeof brief, "%s with the params of %s", base->valuestring, path);
        cJSON_DeleteItemFromObjectCaseSensitive(def, "brief");
        cJSON_AddStringToObject(def, "brief", brief);
        if (rc) {
            cJSON_Delete(def);
            break;
        }
        if (reel_model_add_def(it->string, def, err))
            rc = -1;
        else {
            reel_model m;
            if (reel_model_init(&m, it->string, NULL, err)) {
                char why[sizeof err->msg];
                snprintf(why, sizeof why, "%s", err->msg);
                rc = reel_fail(err, "%s: %s", path, why);
            } else
                reel_model_free(&m);
        }
    }
    cJSON_Delete(j);
    return rc;
}
