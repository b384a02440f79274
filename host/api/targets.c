/* The C API's targets: a dataset's class column, a classifier's target
 * kind and classes (reel.h, "targets"). */
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
