/* The C API's targets: a dataset's class column, a classifier's target
 * kind and classes (reel.h, "targets"). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "reel.h"

int reel_data_set_classes(reel_data *data, size_t K, const char *const *classes, const size_t *y)
{
    reel_error err;
    if (!data || !classes || (!y && data->ds.n))
        return api_fail(&(reel_error){"reel_data_set_classes: a NULL argument"});
    if (reel_dataset_set_classes(&data->ds, K, classes, y, &err))
        return api_fail(&err);
    return 0;
}

int reel_data_set_class_dtype(reel_data *data, const char *dtype)
{
    if (!data || !dtype)
        return api_fail(&(reel_error){"reel_data_set_class_dtype: a NULL argument"});
    if (data->ds.target == REEL_TARGET_MULTILABEL)
        return api_fail(&(reel_error){"reel_data_set_class_dtype: the data's target is multi-label; set its "
                                      "classes first (reel_data_set_classes)"});
    size_t len = strlen(dtype);
    int ok = len > 0 && len < 32;
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)dtype[i]) || strchr("<>|_.", dtype[i]);
    if (!ok) {
        reel_error err;
        reel_fail(&err, "reel_data_set_class_dtype: '%.40s' is not a dtype name (1 to 31 of A-Z a-z 0-9 < > | _ .)",
                  dtype);
        return api_fail(&err);
    }
    char *copy = strdup(dtype);
    if (!copy)
        return api_fail(&(reel_error){"out of memory"});
    free(data->ds.class_dtype);
    data->ds.class_dtype = copy;
    return 0;
}

const char *reel_data_target(const reel_data *data)
{
    if (!data) {
        api_bad_arg("reel_data_target", "data is NULL");
        return NULL;
    }
    return reel_target_name(data->ds.target);
}

const char *reel_classifier_target(const reel_classifier *c)
{
    if (!c) {
        api_bad_arg("reel_classifier_target", "the classifier is NULL");
        return NULL;
    }
    return reel_target_name(c->model.target);
}

size_t reel_classifier_classes(const reel_classifier *c)
{
    return c ? c->model.K : (api_bad_arg("reel_classifier_classes", "the classifier is NULL"), 0);
}

const char *reel_classifier_class(const reel_classifier *c, size_t k)
{
    if (!c || k >= c->model.K) {
        api_bad_arg("reel_classifier_class", !c ? "the classifier is NULL" : "k is past the last class");
        return NULL;
    }
    return c->model.classes[k];
}
