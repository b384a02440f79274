/* The "train" task: `reel train` as a function. Its work is api_train, the
 * path reel_fit takes too. */
#include <math.h>
#include <string.h>

#include "api/task.h"

static const char *const KEYS[] = {
    "data", "labels", "label_column", "label_sep", "target", "id", "split_column", "keep_unlabeled", "features",
    "mixed_columns", "column_types", "encoding", "sep", "top_categories", "seed", "test_fraction",
    "valid_fraction", "threads", "device", "decision", "decision_rows", "quiet", "model", "params", "params_file",
    "epochs", "batch_size", "lr", "save", "out", "checkpoint", NULL};

int task_train(reel_task *t, reel_error *err)
{
    api_train_job j = {.epochs = NAN, .batch_size = NAN, .lr = NAN, .flag_names = t->flag_names, .keep = 1};
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(t->options, "params");
    int rc = -1;
    if (task_check_keys(t, KEYS, err) || task_run_opts(t, KEYS, 0.2, &j.o, &j.o.device, err) ||
        task_data_opts(t, &j.data, err) || task_string(t, "model", &j.model, err) ||
        task_string(t, "params_file", &j.params_file, err) || task_string(t, "save", &j.save, err) ||
        task_string(t, "out", &j.out, err) || task_string(t, "checkpoint", &j.checkpoint, err) ||
        task_bool(t, "quiet", &j.quiet, err) || task_number(t, "epochs", &j.epochs, err) ||
        task_number(t, "batch_size", &j.batch_size, err) || task_number(t, "lr", &j.lr, err)) {
        rc = API_REFUSED;
        goto done;
    }
    if (params && !cJSON_IsNull(params)) {
        if (!cJSON_IsObject(params)) {
            rc = API_REFUSED;
            reel_fail(err, "options: key 'params' must be a JSON object");
            goto done;
        }
        j.params = params;
    }
    if (t->data) {
        if (reel_data_labels(t->data) == 0) {
            rc = API_REFUSED;
            reel_fail(err, "train needs data with labels");
            goto done;
        }
        j.ds = &t->data->ds;
    }
    if ((rc = api_train(&j, err)))
        goto done;
    /* no allocation from here: the outputs are written (api_train's keep) */
    t->result = j.result;
    t->classifier = j.shell;
    j.result = NULL;
    j.shell = NULL;
    api_classifier_fill(t->classifier, &j);
done:
    api_train_free(&j);
    api_opts_free(&j.o);
    return rc;
}
