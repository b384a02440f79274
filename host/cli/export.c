/* reel export: a saved model file as JSON (any model) or ONNX (the nets), for
 * use outside reel. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/export_json.h"
#include "store/onnx.h"
#include "util/outputs.h"

static const char *USAGE = "--model-file FILE --format json|onnx --out FILE";

int reel_cmd_export(int argc, char **argv)
{
    const char *model_file = NULL, *format = NULL, *out = NULL;
    reel_optset s = {0};
    reel_optset_add(&s, "model-file", OPT_STR, &model_file, "FILE", "a model saved by reel train --save");
    reel_optset_add(&s, "format", OPT_STR, &format, "json|onnx",
                    "json: metadata and every tensor (any model); onnx: the graph (nets only)");
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
    reel_run_files rf;
    reel_run_files_init(&rf, NULL);
    int bad = reel_run_input(&rf, "--model-file", model_file, &err) || reel_run_output(&rf, "--out", out, &err) ||
              (strcmp(format, "json") == 0 ? reel_export_json(model_file, out, &err)
                                           : reel_export_onnx(model_file, out, &err));
    reel_run_files_free(&rf);
    if (bad) {
        fprintf(stderr, "reel export: %s\n", err.msg);
        return REEL_EXIT_RUNTIME;
    }
    return REEL_EXIT_OK;
}
