/* The growth params shared by the tree and forest kinds, read as
 * scikit-learn reads them: a count is an integer, a fraction is a number
 * below 1 (min_samples_split also takes 1, meaning all rows). */
#include <math.h>
#include <string.h>

#include "classical/tree.h"
#include "models/params.h"

static int is_int(double v) { return v == floor(v); }

/* key holds a number: an integer count >= min_count or a fraction < 1
 * (or <= 1 when one_is_fraction). */
static int check_count(const cJSON *params, const char *model, const char *key, long min_count,
                       int one_is_fraction, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    if (!cJSON_IsNumber(v))
        return 0;
    double x = v->valuedouble;
    if (x < 1 || (one_is_fraction && x == 1) || (is_int(x) && x >= (double)min_count))
        return 0;
    return reel_fail(err, "params for %s: key '%s' must be an integer >= %ld or a fraction in (0, 1%s; got %g",
                     model, key, min_count, one_is_fraction ? "]" : ")", x);
}

int reel_tree_params_check(const cJSON *params, const char *model, reel_error *err)
{
    if (check_count(params, model, "min_samples_split", 2, 1, err) ||
        check_count(params, model, "min_samples_leaf", 1, 0, err) ||
        check_count(params, model, "max_features", 1, 0, err) ||
        check_count(params, model, "max_samples", 1, 0, err))
        return -1;
    const cJSON *boot = cJSON_GetObjectItemCaseSensitive(params, "bootstrap");
    if (cJSON_IsFalse(boot) && !reel_param_is_null(params, "max_samples"))
        return reel_fail(err, "params for %s: key 'max_samples' needs \"bootstrap\": true (set it to null)", model);
    return 0;
}

/* A count param: integer as is, fraction f -> ceil(f * n). */
static long count_of(const cJSON *params, const char *key, size_t n)
{
    double v = reel_param_num(params, key);
    return v >= 1 && is_int(v) && !(v == 1 && strcmp(key, "min_samples_split") == 0) ? (long)v
                                                                                     : (long)ceil(v * (double)n);
}

void reel_tree_params_get(const cJSON *params, size_t n, size_t d, reel_tree_params *p)
{
    const char *criterion = reel_param_str(params, "criterion");
    const char *splitter = reel_param_str(params, "splitter");
    p->criterion = criterion && strcmp(criterion, "gini") == 0 ? REEL_TREE_GINI : REEL_TREE_ENTROPY;
    p->random_splits = splitter && strcmp(splitter, "random") == 0;
    p->max_depth = reel_param_is_null(params, "max_depth") ? 0 : reel_param_int(params, "max_depth");
    p->min_samples_leaf = count_of(params, "min_samples_leaf", n);
    if (p->min_samples_leaf < 1)
        p->min_samples_leaf = 1;
    p->min_samples_split = count_of(params, "min_samples_split", n);
    if (p->min_samples_split < 2)
        p->min_samples_split = 2;
    if (p->min_samples_split < 2 * p->min_samples_leaf)
        p->min_samples_split = 2 * p->min_samples_leaf;
    p->max_features = (long)d;
    const char *mf = reel_param_str(params, "max_features");
    double df = (double)d;
    if (mf && strcmp(mf, "sqrt") == 0)
        p->max_features = (long)sqrt(df);
    else if (mf && strcmp(mf, "log2") == 0)
        p->max_features = d ? (long)log2(df) : 0;
    else if (!mf && !reel_param_is_null(params, "max_features")) {
        double v = reel_param_num(params, "max_features");
        p->max_features = v >= 1 ? (long)v : (long)(v * df);
    }
    if (p->max_features < 1)
        p->max_features = 1;
    if (p->max_features > (long)d)
        p->max_features = (long)d;
    p->max_leaf_nodes = reel_param_is_null(params, "max_leaf_nodes") ? 0 : reel_param_int(params, "max_leaf_nodes");
    p->min_impurity_decrease = reel_param_num(params, "min_impurity_decrease");
    p->ccp_alpha = reel_param_num(params, "ccp_alpha");
}
