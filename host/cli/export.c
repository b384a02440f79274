/* reel export: a saved model file as JSON (any model) or ONNX (the nets, ridge, tree, forest), for
 * use outside reel. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/export_json.h"
#include "store/onnx.h"
#include "util/outputs.h"

static const char *USAGE = "--model-file FILE --format json|onnx --out FILE [--net-only]";

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
    reel_error err = {{0}};
    int r = reel_parse("export", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!model_file || !format || !out))
        r = reel_fail(&err, "reel export: --model-file, --format and --out are required (usage: reel export %s)",
                      USAGE);
    if (r == 0 && strcmp(format, "json") != 0 && strcmp(format, "onnx") != 0)
        r = reel_fail(&err, "reel export: --format must be json or onnx, got '%s'", format);
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    if (net_only && strcmp(format, "onnx") != 0) {
        fprintf(stderr, "reel export: --net-only goes with --format onnx\n");
        return REEL_EXIT_USAGE;
    }
    int json = strcmp(format, "json") == 0;
    reel_onnx_summary sum;
    reel_run_files rf;
    reel_run_files_init(&rf, NULL);
    int bad = reel_run_input(&rf, "--model-file", model_file, &err) || reel_run_output(&rf, "--out", out, &err) ||
              (json ? reel_export_json(model_file, out, &err)
                    : reel_export_onnx(model_file, out, net_only, &sum, &err));
    reel_run_files_free(&rf);
    if (bad) {
        fprintf(stderr, "reel export: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    if (json)
        printf("wrote %s: the model's metadata and every tensor as JSON\n", out);
    else if (!sum.whole)
        printf("wrote %s: the net alone (input \"features\", preprocessed; output \"probabilities\")\n", out);
    else
        printf("wrote %s: the whole pipeline, %zu numeric and %zu text column inputs named as in the CSV; outputs "
               "\"probabilities\"%s\n", out, sum.numeric_inputs, sum.text_inputs,
               sum.labels_output ? " and \"labels\" (the decision rule)" : "");
    if (!json && sum.whole && !sum.labels_output)
        fprintf(stderr, "reel export: note: no \"labels\" output: %s\n", sum.note);
    return REEL_EXIT_OK;
}
