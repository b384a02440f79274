/* reel export: a saved model file as JSON (any model) or ONNX (the nets, ridge, tree, forest), for
 * use outside reel. The work is reel.h's "export" task; this file reads the flags and says what was
 * written. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *USAGE = "--model-file FILE --format json|onnx --out FILE [--net-only]";

/* What the task wrote, from its document. */
static void print_written(const cJSON *doc)
{
    const char *out = cJSON_GetObjectItem(doc, "out")->valuestring;
    if (strcmp(cJSON_GetObjectItem(doc, "format")->valuestring, "json") == 0) {
        printf("wrote %s: the model's metadata and every tensor as JSON\n", out);
        return;
    }
    int labels = cJSON_IsTrue(cJSON_GetObjectItem(doc, "labels_output"));
    if (!cJSON_IsTrue(cJSON_GetObjectItem(doc, "whole"))) {
        printf("wrote %s: the net alone (input \"features\", preprocessed; output \"probabilities\")\n", out);
        return;
    }
    printf("wrote %s: the whole pipeline, %zu numeric and %zu text column inputs named as in the CSV; outputs "
           "\"probabilities\"%s\n", out, (size_t)cJSON_GetObjectItem(doc, "numeric_inputs")->valuedouble,
           (size_t)cJSON_GetObjectItem(doc, "text_inputs")->valuedouble,
           labels ? " and \"labels\" (the decision rule)" : "");
    if (!labels)
        fprintf(stderr, "reel export: note: no \"labels\" output: %s\n", cJSON_GetObjectItem(doc, "note")->valuestring);
}

int reel_cmd_export(int argc, char **argv)
{
    const char *model_file = NULL, *format = NULL, *out = NULL;
    int net_only = 0;
    reel_optset s = {0};
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "a model saved by reel train --save");
    reel_optset_add(&s, "format", OPT_STR, &format, "json|onnx",
                    "json: metadata and every tensor (any model); onnx: the graph (nets, ridge, tree, forest)");
    reel_optset_add(&s, "net-only", OPT_FLAG, &net_only, NULL,
                    "onnx: the net alone, taking the preprocessed features (default: the whole pipeline, raw "
                    "columns in, probabilities and labels out)");
    reel_optset_add(&s, "out", OPT_STR, &out, "FILE", "where to write (atomically)");
    cli_error err = {{0}};
    int r = reel_parse("export", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!model_file || !format || !out))
        r = cli_fail(&err, "reel export: --model-file, --format and --out are required (usage: reel export %s)",
                      USAGE);
    if (r == 0 && strcmp(format, "json") != 0 && strcmp(format, "onnx") != 0)
        r = cli_fail(&err, "reel export: --format must be json or onnx, got '%s'", format);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    if (net_only && strcmp(format, "onnx") != 0) {
        fprintf(stderr, "reel export: --net-only goes with --format onnx\n");
        return REEL_EXIT_USAGE;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_file", model_file);
    cJSON_AddStringToObject(o, "format", format);
    cJSON_AddStringToObject(o, "out", out);
    cJSON_AddBoolToObject(o, "net_only", net_only);
    reel_task *t = reel_cli_task("export", o);
    cJSON_Delete(o);
    if ((r = reel_cli_run(t, "export")))
        return r;
    cJSON *doc = cJSON_Parse(reel_task_result(t));
    print_written(doc);
    cJSON_Delete(doc);
    reel_task_free(t);
    return REEL_EXIT_OK;
}
