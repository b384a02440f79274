#include "store/params_file.h"

#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/json_exact.h"

cJSON *reel_read_json_object(const char *path, reel_error *err)
{
    cJSON *j = reel_json_read_file(path, "params", err);
    if (j && !cJSON_IsObject(j)) {
        reel_fail(err, "%s: must be a JSON object", path);
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

/* "base" made the entry a model of its own (cli/model_dirs.c); its other
 * params are that model's defaults and pass as params too. */
static void drop_base(cJSON *params)
{
    cJSON_DeleteItemFromObjectCaseSensitive(params, "base");
}

cJSON *reel_read_params_by_model(const char *path, reel_error *err)
{
    cJSON *j = reel_read_json_object(path, err);
    if (!j)
        return NULL;
    for (cJSON *it = j->child; it; it = it->next) {
        if (!reel_model_def(it->string)) {
            reel_fail(err, "%s: key '%s' is not a model (the file maps model names to params); valid models: %s",
                      path, it->string, reel_model_name_list());
            cJSON_Delete(j);
            return NULL;
        }
        if (!cJSON_IsObject(it)) {
            reel_fail(err, "%s: params of '%s' must be a JSON object", path, it->string);
            cJSON_Delete(j);
            return NULL;
        }
        drop_base(it);
    }
    return j;
}

cJSON *reel_read_params_for(const char *path, const char *model, reel_error *err)
{
    cJSON *j = reel_read_json_object(path, err);
    if (!j)
        return NULL;
    cJSON *sub = cJSON_GetObjectItemCaseSensitive(j, model);
    if (cJSON_IsObject(sub)) {
        cJSON *copy = cJSON_Duplicate(sub, 1);
        drop_base(copy);
        cJSON_Delete(j);
        return copy;
    }
    return j;
}

int reel_params_override(cJSON *params, const char *model, const char *key, double value)
{
    if (!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reel_model_def(model), "params"), key))
        return 0;
    cJSON_DeleteItemFromObjectCaseSensitive(params, key);
    cJSON_AddNumberToObject(params, key, value);
    return 1;
}

int reel_write_json_file(const char *path, const cJSON *doc, reel_error *err)
{
    char *text = cJSON_Print(doc);
    size_t len = text ? strlen(text) : 0;
    char *nl = text ? malloc(len + 2) : NULL;
    if (!nl) {
        cJSON_free(text);
        return reel_fail(err, "%s: out of memory", path);
    }
    memcpy(nl, text, len);
    memcpy(nl + len, "\n", 2);
    int rc = reel_write_file_atomic(path, nl, err);
    free(nl);
    cJSON_free(text);
    return rc;
}
