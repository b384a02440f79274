/* libreel: train, compare and run multi-label classifiers on tabular data.
 *
 * A small C API in the manner of liblinear's: opaque handles, functions
 * that return 0 (or a handle) on success and -1 (or NULL) on failure, with
 * the reason in reel_last_error(). The library never prints and never
 * exits: messages and progress go to the callback set by reel_set_log
 * (none: silent). Strings the library returns for the caller to keep are
 * freed with reel_free. Link with -lreel (pkg-config --libs reel). */
#ifndef REEL_H
#define REEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define REEL_API __attribute__((visibility("default")))
#else
#define REEL_API
#endif
/* ---- log: messages and progress ---- */

typedef enum {
    REEL_LOG_INFO = 0,    /* progress and notes (the CLI's --quiet drops them) */
    REEL_LOG_WARNING = 1, /* something the user should act on; the run goes on */
} reel_log_level;

typedef enum {
    REEL_PROGRESS_NONE = 0, /* a plain message */
    REEL_PROGRESS_EPOCH,    /* a net finished an epoch */
    REEL_PROGRESS_TRIAL,    /* a search scored one set of params */
    REEL_PROGRESS_FEATURE,  /* feature selection scored without one feature */
    REEL_PROGRESS_PREDICT,  /* a long predict got `done` of `total` rows */
} reel_progress_kind;

/* A progress record: the numbers behind a progress message. Fields that do
 * not apply to the kind are NaN (doubles), 0 (counts) or NULL. */
typedef struct {
    reel_progress_kind kind;
    const char *model;     /* the model's name */
    long done, total;      /* epoch, trial or rows `done` of `total` (a search's total is an estimate);
                              feature: candidates scored of those in the round */
    double loss;           /* epoch: mean training loss */
    double valid_loss;     /* epoch: validation loss */
    double valid_f1;       /* epoch: validation samples-F1 */
    double score;          /* trial, feature: the score */
    double samples_per_s;  /* epoch */
    double elapsed_s;      /* since the training, search or round of candidates began */
    double eta_s;          /* epoch, predict, trial, feature: estimated seconds left */
    const char *what;      /* trial: its params as JSON; feature: its name */
    /* Appended (older callers never read them). epoch: the ensemble member
     * (1-based) of `members` that finished it (a plain net: 1 of 1); the
     * members of one model report under its one name. A member's last
     * epoch (its total reached, or early stopping) has eta_s 0. */
    long member, members;
} reel_progress;

/* Called with one line of text (no trailing newline) and, for progress,
 * its record (else NULL). Calls are serialised: never two at once. */
typedef void (*reel_log_fn)(void *user, reel_log_level level, const char *message,
                            const reel_progress *progress);


/* ---- the library ---- */

REEL_API const char *reel_version(void);
/* The last failure's message in this thread ("" when none). */
REEL_API const char *reel_last_error(void);
/* Where messages and progress go, for the whole process (fn NULL: nowhere);
 * messages below min_level are dropped. */
REEL_API void reel_set_log(reel_log_fn fn, void *user, reel_log_level min_level);
REEL_API void reel_free(void *p);

/* ---- a program around reel (the CLI's main) ---- */

/* Joins the MPI job when launched by mpirun (MPI built in), else one
 * process; call first. reel_mpi_finalize(exit status) last: a rank whose
 * command failed while the others did not (they may be waiting on it)
 * stops the whole job. */
REEL_API void reel_mpi_init(int *argc, char ***argv);
REEL_API void reel_mpi_finalize(int status);
/* Ctrl-C, SIGTERM and SIGHUP: the first asks long work to stop at its next
 * step, having written nothing; a second ends the process at once, after
 * removing the outputs being written. reel_interrupt_status: 128 + the
 * signal's number once one came, else 0. */
REEL_API void reel_catch_interrupts(void);
REEL_API int reel_interrupt_status(void);
/* 1 in one process and on rank 0 of an mpirun job (the rank that prints
 * and writes the outputs), 0 on the other ranks. */
REEL_API int reel_mpi_root(void);
/* The process's resource limits (a small stack is raised where it can be):
 * -1 (reel_last_error) when reel cannot run within them; then exit at
 * once with _exit, as a BLAS's exit handler may wait forever. */
REEL_API int reel_check_limits(void);

/* ---- data ---- */

typedef struct reel_data reel_data;

/* n rows. d numeric columns: X is n x d row-major, NaN is missing. t text
 * columns: text is n x t row-major, NULL (or "NA", "", ...) is missing;
 * each is one-hot encoded as reel does a CSV's text column. L labels: Y is
 * n x L of 0/1 (L 0, Y NULL: rows to predict on). Every row is kept. The
 * arrays are copied. */
REEL_API reel_data *reel_data_from_arrays(size_t n, size_t d, const double *X, const char *const *num_names,
                                          size_t t, const char *const *text, const char *const *text_names,
                                          size_t L, const unsigned char *Y, const char *const *label_names);
/* A CSV or a dataset descriptor (.json), as the CLI's --data. options_json
 * (may be NULL) holds the CLI's data options: {"labels": "A,B" (or a list,
 * ["A", "B"], where a name may hold a comma),
 * "label_column": "genres", "label_sep": "|", "id": "title",
 * "split_column": "split", "keep_unlabeled": false, "features": "file.json",
 * "sep": ";" (the field separator, one character or "tab"; default: , ; tab
 * or |, whichever the header line holds most), "target": "mpaa" (one
 * column of classes instead of labels: see "targets" below)}.
 * Without labels, the file holds only rows to predict on. */
REEL_API reel_data *reel_data_from_file(const char *path, const char *options_json);
REEL_API size_t reel_data_rows(const reel_data *data);
REEL_API size_t reel_data_labels(const reel_data *data);
REEL_API const char *reel_data_label(const reel_data *data, size_t k);
REEL_API void reel_data_free(reel_data *data);

/* ---- models ---- */

/* Every device nets can train on, as a JSON list (reel_free it): the CPU,
 * then each runtime's devices, or the runtime alone with why it has none.
 * Each: {"device": what --device takes ("cpu", "cuda:0", "opencl:1"; a
 * runtime without devices: its name), "runtime", "name", "detail" (one line:
 * driver, memory, or why not usable), "usable", "gpu", "auto" (the one
 * --device auto picks), "memory" (bytes; 0: not said)}. */
REEL_API char *reel_device_list(void);
/* Whether device ("cuda:0", "opencl", "gpu", ...) is there to train on:
 * 0, or -1 with why (reel_last_error). "auto" and "cpu" always are. */
REEL_API int reel_device_check(const char *device);
/* Whether model trains on a device when one is given (the nets): 1; 0 for
 * a model that runs on the CPU only; -1 for an unknown model. */
REEL_API int reel_model_uses_device(const char *model);

/* The model definitions ("box", "tree", ...) as a JSON list of names, and
 * one definition (kind, params with type, default and help, grid) as JSON;
 * reel_free both. */
REEL_API char *reel_model_list(void);
REEL_API char *reel_model_definition(const char *model);

/* Model definitions read at run time, as the CLI does before each command:
 * every NAME.json of the user's folder ($XDG_CONFIG_HOME/reel/models, else
 * ~/.config/reel/models; none there is no error), then of dir (NULL: none;
 * it must exist), as model NAME, checked as the built-in ones are; one with
 * an existing name replaces it, noted on the log. */
REEL_API int reel_models_add_folder(const char *dir);
/* Each entry of a params file with a "base" ({"mynet": {"base": "box",
 * "layers": [...]}}) defines a model of that name: the base's definition
 * with the entry's params as its defaults. */
REEL_API int reel_models_add_from_params(const char *path);

typedef struct reel_classifier reel_classifier;

/* Trains model (a definition's name) with params_json (a JSON object, NULL:
 * the defaults) on every row of data (which must have labels).
 * options_json (may be NULL): {"seed": 42, "threads": 0 (all cores),
 * "device": "auto"|"cpu"|"gpu", "valid_fraction": 0.1 (in [0, 1): rows held
 * out for the nets' early stopping and for choosing the decision rule),
 * "top_categories": 10 (>= 1), "decision": "auto" (or a rule: "threshold",
 * "tuned-global", "tuned-per-label", "expected-f1[+calibrated]", each
 * optionally "+at-least-one"; see reel train --help), "decision_rows":
 * "auto" (or "oof": the rule chosen on out-of-fold probabilities of every
 * training and validation row, from 5 more fits; docs/decision-rules.md)}.
 * The same data, params and
 * options give the same model, bit for bit, as `reel train --test-fraction 0
 * --keep-unlabeled` on the same rows. */
REEL_API reel_classifier *reel_fit(const char *model, const char *params_json, const reel_data *data,
                                   const char *options_json);
/* P: rows x labels probabilities; data needs the columns the model was
 * trained on (by name; labels are not needed). */
REEL_API int reel_predict_proba(const reel_classifier *c, const reel_data *data, float *P);
/* Y: rows x labels of 0/1, by the model's decision rule. */
REEL_API int reel_predict(const reel_classifier *c, const reel_data *data, unsigned char *Y);
/* The same model file `reel train --save` writes and `reel predict` reads. */
REEL_API int reel_classifier_save(const reel_classifier *c, const char *path);
REEL_API reel_classifier *reel_classifier_load(const char *path);
REEL_API void reel_classifier_free(reel_classifier *c);
REEL_API size_t reel_classifier_labels(const reel_classifier *c);
REEL_API const char *reel_classifier_label(const reel_classifier *c, size_t k);
/* The decision rule's name ("threshold", "tuned-per-label+at-least-one",
 * "expected-f1", ...), chosen on the validation rows and saved with the
 * model, and the L cuts of the threshold rules (label k when P > cut k;
 * the expected-F1 rules decide per row and do not use them). */
REEL_API const char *reel_classifier_decision_rule(const reel_classifier *c);
REEL_API int reel_classifier_thresholds(const reel_classifier *c, float *thresholds);
/* What the model is, as JSON (model, kind, params, features, columns, labels,
 * thresholds, decision rule, device, training summary, dataset); reel_free it. */
REEL_API char *reel_classifier_info(const reel_classifier *c);

/* ---- targets: multi-label, binary or multi-class ----
 *
 * A target is multi-label (data's L labels, an n x L 0/1 matrix: each row
 * any set of them; the default), binary (one column of two classes) or
 * multi-class (one column of three or more). For a binary or multi-class
 * classifier, "labels" above are its K classes, in order: reel_predict_proba
 * gives n x K probabilities (each row sums to 1; binary [P(class 0),
 * P(class 1)]), reel_predict n x K 0/1 with one 1 per row (multi-class: the
 * most probable class; binary: class 1 when its probability exceeds the
 * cut, 0.5 by default), reel_classifier_thresholds K copies of that cut
 * (multi-class: unused). */

/* Makes data's target one column of K >= 2 classes (names in the order the
 * caller sorts them; K == 2 binary, more multi-class): y[i] < K is row i's
 * class. Replaces any labels. */
REEL_API int reel_data_set_classes(reel_data *data, size_t K, const char *const *classes, const size_t *y);
/* How the caller wrote its classes (at most 31 of A-Z a-z 0-9 < > | _ . ;
 * Python passes numpy's dtype.str, such as "<U2" or "<i8"), kept with a
 * model fitted on data in its file (reel_classifier_info's
 * "dataset"."class_dtype"), so that the caller reads its classes back as
 * they were; reel never reads it. After reel_data_set_classes. */
REEL_API int reel_data_set_class_dtype(reel_data *data, const char *dtype);
/* "multilabel", "binary" or "multiclass". */
REEL_API const char *reel_data_target(const reel_data *data);
REEL_API const char *reel_classifier_target(const reel_classifier *c);
/* The classes of a binary or multi-class classifier (0 and NULL for a
 * multi-label one). */
REEL_API size_t reel_classifier_classes(const reel_classifier *c);
REEL_API const char *reel_classifier_class(const reel_classifier *c, size_t k);

/* ---- whole-dataset tasks: the JSON documents of the CLI's --format json ---- */

/* options_json, as reel_fit's plus "test_fraction": 0.2 and, for search
 * and select, "folds": 0, "metric": "samples-f1". */
/* models: comma-separated names (NULL: the default set); params_json:
 * {"model": {params}} (may be NULL). The leaderboard document. */
REEL_API char *reel_compare_models(const reel_data *data, const char *models, const char *params_json,
                            const char *options_json);
/* grid_json: {"param": [values]} (NULL: the model's grid); strategy:
 * one-at-a-time, coordinate, grid or random (options "budget"). */
REEL_API char *reel_search_params(const reel_data *data, const char *model, const char *grid_json, const char *strategy,
                                  const char *params_json, const char *options_json);
/* method: single-pass, backward or permutation. */
REEL_API char *reel_select_features(const reel_data *data, const char *model, const char *method, const char *params_json,
                           const char *options_json);

/* ---- tasks: the CLI's commands as functions, for every front end ---- */

/* A task is one of reel's commands ("train", "predict", "export",
 * "info", "decide", "search", "select", "compare"), run by one function
 * for the CLI, the C API and Python alike. Its
 * options are one JSON object whose keys are the CLI's flags spelt with
 * underscores: train takes the data options ("data": a CSV or descriptor,
 * "labels", "label_column", "label_sep", "id", "split_column",
 * "keep_unlabeled", "features", "mixed_columns", "column_types",
 * "encoding", "sep", "top_categories"), the run's ("seed" (a number, or a string
 * for seeds past 2^53), "test_fraction", "valid_fraction", "threads",
 * "device", "decision", "decision_rows", "quiet": no data summary or data warnings; the
 * ranges are reel_fit's and the CLI's), and
 * "model", "params" (an object), "params_file", "epochs", "batch_size",
 * "lr", and the outputs "save", "out" (a folder, replaced whole) and
 * "checkpoint". Before any work the task names every input and output and
 * refuses an output that is an input or another output, or a folder that
 * holds other files; each output is written whole or not at all.
 * export takes "model_file", "format" (json or onnx), "out" and
 * "net_only"; its document says what was written. info takes nothing (the
 * build and the devices) or "model_file" (what the file holds). decide
 * takes "valid", "test", "labels", "decision", "seed" and "threshold"
 * (see reel decide --help); its document is what reel decide prints.
 * search and select take train's data and run options and "model",
 * "params" (an object) or "params_file", "folds" (0: the validation
 * split), "metric" and "out" (a folder, replaced whole); search adds
 * "grid" (an object) or "grid_file" (default: the model's grid),
 * "strategy", "budget", "journal" (every finished trial, rewritten after
 * each) and "resume" (take the journal's trials), select adds "method".
 * Their documents are reel search's and select's --format json (search's
 * "trials" in the order run, the base params first).
 * predict takes "model_file", "data", "id", "out", "missing_columns",
 * "threads", "encoding" and "csv" (true: the document holds the
 * predictions CSV); its document holds the scores when the rows have the
 * labels, and the rows are read with reel_task_rows and the three after.
 * compare takes train's data and run options, "models" ("a,b"; absent: the
 * default set), "params" (an object keyed by model) or "params_file",
 * "epochs", "batch_size", "lr" (for every net), "out" (a folder, replaced
 * whole: metrics.json, the predictions, the report), "checkpoint" (a
 * folder), "metric" (the ranking's) and "command" (the report's command
 * line); its document is `reel compare --format json`'s. A model that
 * fails is logged and skipped: the run then returns -1, and its document
 * (with "failed") is still kept and "out" still written. */
typedef struct reel_task reel_task;

/* NULL (reel_last_error) for an unknown task or options that are not a
 * JSON object; the keys are checked by reel_task_run. */
REEL_API reel_task *reel_task_new(const char *name, const char *options_json);
/* Rows in memory instead of the option "data" (the handle must outlive
 * the run). */
REEL_API int reel_task_set_data(reel_task *t, const reel_data *data);
/* on: messages name options as the CLI's flags ("--batch-size",
 * "--params") rather than as keys ("batch_size", "params_file"). */
REEL_API int reel_task_name_flags(reel_task *t, int on);

/* reel_task_run's failure before any work: the options were refused (the
 * CLI's usage error). Other failures return -1. */
#define REEL_TASK_REFUSED (-2)
/* Runs the task once: 0, -1 or REEL_TASK_REFUSED, the reason in
 * reel_last_error(); progress goes to the log. */
REEL_API int reel_task_run(reel_task *t);
/* The run's JSON document (what the CLI's --format json prints); NULL
 * before a successful run (compare keeps it after a run in which some of
 * the models failed). It belongs to the task. */
REEL_API const char *reel_task_result(const reel_task *t);
/* train: the fitted model, for the caller to keep (reel_classifier_free);
 * NULL before a run or once taken. */
REEL_API reel_classifier *reel_task_take_classifier(reel_task *t);
/* predict: the rows predicted (0 before a run), each one's id (the id
 * column's cell, else its line in the CSV), and the probabilities and
 * decisions, rows x labels row-major (the labels: the document's
 * "labels"; a binary or multiclass model's are its K classes, each row's
 * probabilities summing to 1 and one class decided). They belong to the
 * task, until its next run. */
REEL_API size_t reel_task_rows(const reel_task *t);
REEL_API const char *reel_task_row_id(const reel_task *t, size_t i);
REEL_API const float *reel_task_probabilities(const reel_task *t);
REEL_API const unsigned char *reel_task_decisions(const reel_task *t);
REEL_API void reel_task_free(reel_task *t);

#ifdef __cplusplus
}
#endif

#endif
