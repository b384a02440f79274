/* reel decide: a decision rule chosen on another model's validation
 * probabilities and applied to its test probabilities, so any model (a
 * scikit-learn or LightGBM one in bench/) is decided exactly as reel's
 * models are. Input: CSVs with p_<label> columns, and the 0/1 label columns
 * (required in --valid, optional in --test: then the scores are printed).
 * The work is reel.h's "decide" task; this file reads the flags and prints
 * its document. */
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const char *USAGE = "--valid V.csv --test T.csv --labels A,B,... [--decision RULE] [--seed N] "
                           "[--threshold T] [--target COLUMN]";

int reel_cmd_decide(int argc, char **argv)
{
    const char *valid = NULL, *test = NULL, *labels_arg = NULL, *decision = "auto", *target = NULL;
    uint64_t seed = 42;
    double threshold = 0.5;
    reel_optset s = {0};
    reel_optset_add(&s, "valid", OPT_STR, &valid, "FILE", "validation rows: p_<label> and label columns");
    reel_optset_add(&s, "test", OPT_STR, &test, "FILE", "rows to decide: p_<label> (and label columns to score)");
    reel_optset_add(&s, "labels", OPT_STR, &labels_arg, "A,B,C", "the labels");
    reel_optset_add(&s, "decision", OPT_STR, &decision, "RULE", "as in reel compare --decision (auto)");
    reel_optset_add(&s, "seed", OPT_U64, &seed, "N", "seeds auto's cross-fitting folds (42)");
    reel_optset_add(&s, "threshold", OPT_DOUBLE, &threshold, "T",
                    "the model's own threshold, for the threshold rule and the untuned scores (0.5)");
    reel_optset_add(&s, "target", OPT_STR, &target, "COLUMN",
                    "a class model's: the column of true classes; --labels then lists its classes in order");
    cli_error err = {{0}};
    int r = reel_parse("decide", USAGE, &s, argc, argv, &err);
    if (r == 1)
        return REEL_EXIT_OK;
    if (r == 0 && (!valid || !test || !labels_arg))
        r = cli_fail(&err, "reel decide: --valid, --test and --labels are required");
    if (r == 0 && !(threshold >= 0 && threshold <= 1))
        r = cli_fail(&err, "reel decide: --threshold must be in [0, 1]");
    if (r) {
        fprintf(stderr, "%s\n", err.msg);
        return REEL_EXIT_USAGE;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "valid", valid);
    cJSON_AddStringToObject(o, "test", test);
    cJSON_AddStringToObject(o, "labels", labels_arg);
    cJSON_AddStringToObject(o, "decision", decision);
    char seed_text[24]; /* a string: a JSON number would round seeds of 2^53 and more */
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    cJSON_AddStringToObject(o, "seed", seed_text);
    cJSON_AddNumberToObject(o, "threshold", threshold);
    if (target)
        cJSON_AddStringToObject(o, "target", target);
    reel_task *t = reel_cli_task("decide", o);
    cJSON_Delete(o);
    if ((r = reel_cli_run(t, "decide")))
        return r;
    printf("%s\n", reel_task_result(t));
    reel_task_free(t);
    return REEL_EXIT_OK;
}
