#include "cli/args.h"

#include "cli/progress.h"
#include "cli/tasks.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "reel.h"

void reel_optset_add(reel_optset *s, const char *name, reel_opt_type type, void *dest, const char *metavar,
                     const char *help)
{
    if (s->n < sizeof s->opts / sizeof *s->opts)
        s->opts[s->n++] = (reel_opt){name, type, dest, metavar, help};
}

void reel_print_help(FILE *fp, const char *cmd, const char *usage, const reel_optset *s)
{
    fprintf(fp, "usage: reel %s %s\n\n", cmd, usage);
    for (size_t i = 0; i < s->n; i++) {
        const reel_opt *o = &s->opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(fp, "  %-28s %s\n", left, o->help);
    }
    fprintf(fp, "  %-28s %s\n", "--help", "show this help");
    fprintf(fp, "  %-28s %s\n", "--version", "print reel's version (as reel --version)");
}

static void reel_print_models(FILE *fp)
{
    fprintf(fp, "\nmodels (models/NAME.json; * compared by default):\n");
    char *list = reel_model_list();
    cJSON *names = list ? cJSON_Parse(list) : NULL;
    reel_free(list);
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        char *text = reel_model_definition(name->valuestring);
        cJSON *def = text ? cJSON_Parse(text) : NULL;
        reel_free(text);
        const cJSON *brief = cJSON_GetObjectItemCaseSensitive(def, "brief");
        int dflt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "default_compare"));
        fprintf(fp, "  %-14s %s%s\n", name->valuestring, dflt ? "* " : "  ",
                cJSON_IsString(brief) ? brief->valuestring : "");
        cJSON_Delete(def);
    }
    cJSON_Delete(names);
}

int reel_parse_with_models(const char *cmd, const char *usage, const reel_optset *s, int argc, char **argv,
                           cli_error *err)
{
    int r = reel_parse(cmd, usage, s, argc, argv, err);
    if (r == 1)
        reel_print_models(stdout);
    return r;
}

static int set_value(const char *cmd, const reel_opt *o, const char *v, cli_error *err)
{
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_STR:
        *(const char **)o->dest = v;
        return 0;
    case OPT_INT: {
        long x = strtol(v, &end, 10);
        if (*v == '\0' || *end || errno || x < -2147483647L || x > 2147483647L)
            return cli_fail(err, "reel %s: --%s needs an integer, got '%s'", cmd, o->name, v);
        *(int *)o->dest = (int)x;
        return 0;
    }
    case OPT_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (*v == '\0' || *v == '-' || *end || errno)
            return cli_fail(err, "reel %s: --%s needs a non-negative integer, got '%s'", cmd, o->name, v);
        *(uint64_t *)o->dest = (uint64_t)x;
        return 0;
    }
    case OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (*v == '\0' || *end || errno || !isfinite(x))
            return cli_fail(err, "reel %s: --%s needs a number, got '%s'", cmd, o->name, v);
        *(double *)o->dest = x;
        return 0;
    }
    case OPT_FLAG:
        break;
    }
    return cli_fail(err, "reel %s: --%s takes no value", cmd, o->name);
}

int reel_parse(const char *cmd, const char *usage, const reel_optset *s, int argc, char **argv,
               cli_error *err)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            reel_print_help(stdout, cmd, usage, s);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return cli_fail(err, "reel %s: unexpected argument '%s' (options start with --; see reel %s --help)",
                             cmd, a, cmd);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const reel_opt *o = NULL;
        for (size_t k = 0; k < s->n && !o; k++)
            if (strlen(s->opts[k].name) == len && strncmp(s->opts[k].name, name, len) == 0)
                o = &s->opts[k];
        if (!o) {
            char list[1024] = "";
            size_t n = 0;
            for (size_t k = 0; k < s->n; k++)
                n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s--%s", k ? " " : "",
                                      s->opts[k].name);
            return cli_fail(err, "reel %s: unknown option '%.*s'; valid options: %s --help", cmd,
                             (int)(len + 2), a, list);
        }
        if (o->type == OPT_FLAG) {
            if (eq)
                return cli_fail(err, "reel %s: --%s takes no value", cmd, o->name);
            *(int *)o->dest = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v)
            return cli_fail(err, "reel %s: --%s needs a value (%s)", cmd, o->name, o->metavar);
        if (set_value(cmd, o, v, err))
            return -1;
    }
    (void)usage;
    return 0;
}

void reel_common_defaults(reel_common_opts *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 42;
    c->test_fraction = 0.2;
    c->valid_fraction = 0.1;
    c->top_k = 10;
    c->threads = REEL_OPT_UNSET;
    c->device = "auto";
    c->decision = "auto";
}

void reel_add_data_opts(reel_optset *s, reel_common_opts *c)
{
    reel_common_opts *d = c;
    reel_optset_add(s, "data", OPT_STR, &d->data, "FILE", "a CSV file or a dataset descriptor (.json); "
                    "default data/movies.json");
    reel_optset_add(s, "labels", OPT_STR, &d->labels, "A,B,C", "label columns holding 0/1");
    reel_optset_add(s, "label-column", OPT_STR, &d->label_column, "COL", "one column listing label names");
    reel_optset_add(s, "label-sep", OPT_STR, &d->label_sep, "SEP", "separator in --label-column (default |)");
    reel_optset_add(s, "target", OPT_STR, &d->target, "COL",
                    "one column of classes (binary or multi-class) instead of labels; rows without one are dropped");
    reel_optset_add(s, "id", OPT_STR, &d->id, "COL", "id column carried to outputs (not a feature)");
    reel_optset_add(s, "split-column", OPT_STR, &d->split_column, "COL",
                    "column of train/valid/test marks fixing the split");
    reel_optset_add(s, "seed", OPT_U64, &c->seed, "N", "seed for splits, models, shuffles (42)");
    reel_optset_add(s, "test-fraction", OPT_DOUBLE, &c->test_fraction, "F",
                    "fraction of rows held out for test (0.2)");
    reel_optset_add(s, "valid-fraction", OPT_DOUBLE, &c->valid_fraction, "F",
                    "fraction of training rows for validation (0.1; 0 = none)");
    reel_optset_add(s, "keep-unlabeled", OPT_FLAG, &d->keep_unlabeled, NULL,
                    "keep rows with no positive label (dropped by default)");
    reel_optset_add(s, "features", OPT_STR, &d->features, "FILE",
                    "keep only these feature columns (JSON list, or reel select's output)");
    reel_optset_add(s, "mixed-columns", OPT_STR, &c->mixed_columns, "missing|error|text",
                    "text cells in a column of numbers: read as missing (default, with a warning), refused, or "
                    "the column made text");
    reel_optset_add(s, "column-type", OPT_STR, &d->column_types, "COL=number|text,...",
                    "force columns' types (text keeps every cell's text, e.g. zip codes; number reads text "
                    "cells per --mixed-columns, text counting as missing); kept in the model file");
    reel_optset_add(s, "encoding", OPT_STR, &c->encoding, "utf-8|latin-1",
                    "the CSV's encoding (utf-8; latin-1 is converted to UTF-8 on reading)");
    reel_optset_add(s, "sep", OPT_STR, &c->sep, "CHAR|tab",
                    "the CSV's field separator (default: , ; tab or |, whichever the header line holds most)");
    reel_optset_add(s, "top-categories", OPT_INT, &c->top_k, "K",
                    "one-hot the K most frequent values of a text column (10)");
}

void reel_add_run_opts(reel_optset *s, reel_common_opts *c)
{
    reel_optset_add(s, "threads", OPT_INT, &c->threads, "N", "CPU threads (default: all cores)");
    reel_optset_add(s, "device", OPT_STR, &c->device, "auto|cpu|gpu|cuda[:N]|opencl[:N]",
                    "where nets train (auto: CUDA, an OpenCL GPU, the CPU)");
    reel_optset_add(s, "quiet", OPT_FLAG, &c->quiet, NULL, "no progress on stderr");
    reel_optset_add(s, "verbose", OPT_FLAG, &c->verbose, NULL,
                    "every epoch and message on its own line (the default when stderr is not a terminal)");
    reel_optset_add(s, "decision", OPT_STR, &c->decision, "RULE",
                    "how probabilities become labels, chosen on the validation rows: auto (default: the "
                    "best of the others on them), threshold[:T], tuned-global, tuned-per-label, expected-f1, "
                    "expected-f1+calibrated; +at-least-one with any");
    reel_optset_add(s, "decision-rows", OPT_STR, &c->decision_rows, "auto|oof",
                    "what the rule is chosen on: auto (the validation rows; a net with \"members\": "
                    "\"cross-fit\" its out-of-fold rows) or oof (out-of-fold probabilities of every training and "
                    "validation row: 5 more fits of the model on folds of them, the kept model fitted as always)");
    reel_optset_add(s, "tune-thresholds", OPT_STR, &c->tune_thresholds, "per-label|global",
                    "same as --decision tuned-per-label or tuned-global");
}

void reel_add_net_opts(reel_optset *s, reel_net_opts *n)
{
    n->epochs = n->batch = REEL_OPT_UNSET;
    n->lr = NAN; /* the flag takes finite numbers only */
    reel_optset_add(s, "epochs", OPT_INT, &n->epochs, "N", "nets: maximum epochs");
    reel_optset_add(s, "batch-size", OPT_INT, &n->batch, "N", "nets: batch size");
    reel_optset_add(s, "lr", OPT_DOUBLE, &n->lr, "X", "nets: learning rate");
}

void reel_net_options(cJSON *o, const reel_net_opts *n)
{
    if (n->epochs != REEL_OPT_UNSET)
        cJSON_AddNumberToObject(o, "epochs", n->epochs);
    if (n->batch != REEL_OPT_UNSET)
        cJSON_AddNumberToObject(o, "batch_size", n->batch);
    if (!isnan(n->lr))
        cJSON_AddNumberToObject(o, "lr", n->lr);
}

int reel_common_apply(const char *cmd, reel_common_opts *c, cli_error *err)
{
    if (c->tune_thresholds && strcmp(c->tune_thresholds, "per-label") && strcmp(c->tune_thresholds, "global"))
        return cli_fail(err, "reel %s: --tune-thresholds must be per-label or global, got '%s'", cmd,
                        c->tune_thresholds);
    if (c->tune_thresholds && strcmp(c->decision, "auto") != 0)
        return cli_fail(err, "reel %s: --tune-thresholds and --decision: give one (--tune-thresholds %s is "
                             "--decision tuned-%s)", cmd, c->tune_thresholds, c->tune_thresholds);
    if (c->tune_thresholds)
        c->decision = strcmp(c->tune_thresholds, "global") == 0 ? "tuned-global" : "tuned-per-label";
    if (!reel_mpi_root()) /* under mpirun rank 0 alone reports */
        c->quiet = 1;
    reel_cli_set_log(c->quiet); /* the tasks of reel.h log there */
    reel_cli_progress_set(reel_cli_progress_mode(c->verbose), NULL);
    return 0;
}

/* A string option when given. */
static void add_string(cJSON *o, const char *key, const char *value)
{
    if (value)
        cJSON_AddStringToObject(o, key, value);
}

cJSON *reel_common_options(const reel_common_opts *c)
{
    const reel_common_opts *d = c;
    cJSON *o = cJSON_CreateObject();
    add_string(o, "data", d->data);
    add_string(o, "labels", d->labels);
    add_string(o, "label_column", d->label_column);
    add_string(o, "label_sep", d->label_sep);
    add_string(o, "target", d->target);
    add_string(o, "id", d->id);
    add_string(o, "split_column", d->split_column);
    if (d->keep_unlabeled)
        cJSON_AddTrueToObject(o, "keep_unlabeled");
    add_string(o, "features", d->features);
    add_string(o, "mixed_columns", c->mixed_columns);
    add_string(o, "column_types", d->column_types);
    add_string(o, "encoding", c->encoding);
    add_string(o, "sep", c->sep);
    cJSON_AddNumberToObject(o, "top_categories", c->top_k);
    char seed[24]; /* a string: a JSON number would round seeds of 2^53 and more */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "test_fraction", c->test_fraction);
    cJSON_AddNumberToObject(o, "valid_fraction", c->valid_fraction);
    if (c->threads != REEL_OPT_UNSET)
        cJSON_AddNumberToObject(o, "threads", c->threads);
    cJSON_AddStringToObject(o, "device", c->device);
    cJSON_AddStringToObject(o, "decision", c->decision);
    add_string(o, "decision_rows", c->decision_rows);
    if (c->quiet)
        cJSON_AddTrueToObject(o, "quiet");
    return o;
}
