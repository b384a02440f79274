/* The whole-dataset calls of the C API (compare, search, select): the
 * CLI's commands without the printing, returning their JSON documents.
 * Each runs its task (api/task_compare.c, api/task_tune.c), as the CLI does. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "reel.h"

/* The task `name` on data with options_json and the call's own options
 * (own, taken; err: why one of them could not be read, else empty): its
 * document for the caller (reel_free), or NULL. */
static char *run_task(const char *name, const reel_data *data, const char *options_json, cJSON *own,
                      reel_error *err)
{
    cJSON *o = err->msg[0] ? NULL : api_parse_object(options_json, "options", err);
    char *text = NULL, *doc = NULL;
    if (o && !data)
        reel_fail(err, "this task needs data with labels");
    for (cJSON *it = o && data ? own->child : NULL; it; it = it->next)
        if (!cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(o, it->string);
            cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
        }
    if (o && data && !(text = cJSON_PrintUnformatted(o)))
        reel_fail(err, "out of memory");
    cJSON_Delete(o);
    cJSON_Delete(own);
    if (!text) {
        api_fail(err);
        return NULL;
    }
    reel_task *t = reel_task_new(name, text);
    cJSON_free(text);
    if (t && reel_task_set_data(t, data) == 0 && reel_task_run(t) == 0 && !(doc = strdup(reel_task_result(t))))
        api_fail(&(reel_error){"out of memory"});
    reel_task_free(t);
    return doc;
}

/* A string argument as an option (NULL: absent). */
static void add_string(cJSON *own, const char *key, const char *s)
{
    cJSON_AddItemToObject(own, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

/* A JSON argument as an option (NULL: absent); on a parse error, null
 * with the message in err. */
static void add_json(cJSON *own, const char *key, const char *json, reel_error *err)
{
    cJSON *v = json ? api_parse_object(json, key, err) : NULL;
    cJSON_AddItemToObject(own, key, v ? v : cJSON_CreateNull());
}

char *reel_compare_models(const reel_data *data, const char *models, const char *params_json,
                          const char *options_json)
{
    reel_error err = {{0}};
    cJSON *own = cJSON_CreateObject();
    add_string(own, "models", models);
    add_json(own, "params", params_json, &err);
    return run_task("compare", data, options_json, own, &err);
}

char *reel_search_params(const reel_data *data, const char *model, const char *grid_json, const char *strategy,
                         const char *params_json, const char *options_json)
{
    reel_error err = {{0}};
    cJSON *own = cJSON_CreateObject();
    add_string(own, "model", model);
    add_string(own, "strategy", strategy);
    add_json(own, "grid", grid_json, &err);
    add_json(own, "params", params_json, &err);
    return run_task("search", data, options_json, own, &err);
}

char *reel_select_features(const reel_data *data, const char *model, const char *method, const char *params_json,
                           const char *options_json)
{
    reel_error err = {{0}};
    cJSON *own = cJSON_CreateObject();
    add_string(own, "model", model);
    add_string(own, "method", method);
    add_json(own, "params", params_json, &err);
    return run_task("select", data, options_json, own, &err);
}
