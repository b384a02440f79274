/* reel: train and compare multi-label classifiers on tabular data. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/tasks.h"
#include "reel.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"compare", reel_cmd_compare, "train models on one split and print a leaderboard"},
    {"train", reel_cmd_train, "train one model, score it on the test rows, save it"},
    {"search", reel_cmd_search, "tune a model's params on validation data or k folds"},
    {"select", reel_cmd_select, "choose features by dropping or shuffling them"},
    {"predict", reel_cmd_predict, "run a saved model on new rows"},
    {"decide", reel_cmd_decide, "choose a decision rule for any model's probabilities"},
    {"export", reel_cmd_export, "write a saved model as JSON or ONNX"},
    {"info", reel_cmd_info, "version, build options, BLAS, threads and GPU"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: reel COMMAND [options]   (reel COMMAND --help for its options)\n"
                "       reel --version             (or reel COMMAND --version)\n"
                "       reel COMMAND --models-dir DIR ...  (also read model definitions DIR/NAME.json)\n\n"
                "Model definitions are read from $XDG_CONFIG_HOME/reel/models (else ~/.config/reel/models),\n"
                "then --models-dir; one with a built-in name replaces it, with a note.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return REEL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return REEL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("reel %s\n", reel_version());
        return REEL_EXIT_OK;
    }
    for (int i = 2; i < argc; i++) /* every subcommand answers --version too */
        if (strcmp(argv[i], "--version") == 0) {
            printf("reel %s\n", reel_version());
            return REEL_EXIT_OK;
        }
    const char *models_dir = NULL; /* taken out here: every command accepts it */
    for (int i = 2; i < argc; i++) {
        int eq = strncmp(argv[i], "--models-dir=", 13) == 0;
        if (!eq && strcmp(argv[i], "--models-dir") != 0)
            continue;
        if (!eq && i + 1 >= argc) {
            fprintf(stderr, "reel: --models-dir needs a folder\n");
            return REEL_EXIT_USAGE;
        }
        models_dir = eq ? argv[i] + 13 : argv[i + 1];
        int drop = eq ? 1 : 2;
        for (int j = i; j + drop <= argc; j++)
            argv[j] = argv[j + drop];
        argc -= drop;
        i--;
    }
    reel_cli_set_log(0); /* a definition that replaces another is noted */
    if (reel_models_add_folder(models_dir)) {
        fprintf(stderr, "reel: %s\n", reel_last_error());
        return REEL_EXIT_USAGE;
    }
    for (int i = 2; i < argc && (!strcmp(argv[1], "compare") || !strcmp(argv[1], "train") ||
                                 !strcmp(argv[1], "search") || !strcmp(argv[1], "select"));
         i++) {
        const char *pf = !strncmp(argv[i], "--params=", 9) ? argv[i] + 9
                         : (!strcmp(argv[i], "--params") && i + 1 < argc) ? argv[i + 1]
                                                                          : NULL;
        if (pf && reel_models_add_from_params(pf)) {
            fprintf(stderr, "reel: %s\n", reel_last_error());
            return REEL_EXIT_USAGE;
        }
    }
    reel_catch_interrupts();
    if (reel_check_limits()) {
        fprintf(stderr, "reel: %s\n", reel_last_error());
        fflush(NULL);
        _exit(REEL_EXIT_RUNTIME); /* not exit(): OpenBLAS's handler may wait on a thread retrying an mmap */
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            reel_mpi_init(&argc, &argv); /* under mpirun: one of the ranks */
            int rc = commands[i].run(argc - 2, argv + 2);
            if (reel_interrupt_status()) /* whatever the command made of it: nothing was committed after it */
                rc = reel_interrupt_status();
            fflush(stdout);
            reel_mpi_finalize(rc);
            return rc;
        }
    fprintf(stderr, "reel: unknown command '%s'; valid commands:", argv[1]);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, "\n");
    return REEL_EXIT_USAGE;
}
