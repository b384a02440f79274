/* The "export" task: `reel export` as a function. Options: "model_file",
 * "format" (json or onnx), "out", "net_only". Its document says what was
 * written: {"out", "format", and for onnx "whole", "numeric_inputs",
 * "text_inputs", "labels_output", "note" (why no labels output)}. */
#include <string.h>

#include "api/task.h"
#include "store/export_json.h"
#include "store/onnx.h"
#include "util/outputs.h"

static const char *const KEYS[] = {"model_file", "format", "out", "net_only", NULL};

int task_export(reel_task *t, reel_error *err)
{
    const char *model_file = NULL, *format = NULL, *out = NULL;
    int net_only = 0;
    if (task_check_keys(t, KEYS, err) || task_string(t, "model_file", &model_file, err) ||
        task_string(t, "format", &format, err) || task_string(t, "out", &out, err) ||
        task_bool(t, "net_only", &net_only, err))
        return API_REFUSED;
    if (!model_file || !format || !out)
        return reel_fail(err, "options: model_file, format and out are required"), API_REFUSED;
    if (strcmp(format, "json") != 0 && strcmp(format, "onnx") != 0)
        return reel_fail(err, "options: format must be json or onnx, got '%s'", format), API_REFUSED;
    if (net_only && strcmp(format, "onnx") != 0)
        return reel_fail(err, "%s goes with format onnx", api_option_name(t->flag_names, "net_only")), API_REFUSED;
    int json = strcmp(format, "json") == 0;
    reel_onnx_summary sum;
    reel_run_files rf;
    reel_run_files_init(&rf, NULL);
    int bad = reel_run_input(&rf, api_option_name(t->flag_names, "model_file"), model_file, err) ||
              reel_run_output(&rf, api_option_name(t->flag_names, "out"), out, err) ||
              (json ? reel_export_json(model_file, out, err) : reel_export_onnx(model_file, out, net_only, &sum, err));
    reel_run_files_free(&rf);
    if (bad)
        return -1;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "out", out);
    cJSON_AddStringToObject(doc, "format", format);
    if (!json) {
        cJSON_AddBoolToObject(doc, "whole", sum.whole);
        cJSON_AddNumberToObject(doc, "numeric_inputs", (double)sum.numeric_inputs);
        cJSON_AddNumberToObject(doc, "text_inputs", (double)sum.text_inputs);
        cJSON_AddBoolToObject(doc, "labels_output", sum.labels_output);
        cJSON_AddStringToObject(doc, "note", sum.whole && !sum.labels_output ? sum.note : "");
    }
    int rc = task_finish(t, doc, err);
    cJSON_Delete(doc);
    return rc;
}
