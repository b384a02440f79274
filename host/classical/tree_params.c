/* The params of the tree and forest kinds, decoded once per fit: the
 * growth params both share, read as scikit-learn reads them (a count is an
 * integer, a fraction is a number below 1; min_samples_split also takes 1,
 * meaning all rows), and the forest's bagging. */
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
    const cJSON *max_samples = cJSON_GetObjectItemCaseSensitive(params, "max_samples");
    if (cJSON_IsFalse(boot) && max_samples && !cJSON_IsNull(max_samples))
        return reel_fail(err, "params for %s: key 'max_samples' needs \"bootstrap\": true (set it to null)", model);
    return 0;
}

/* A count param: integer as is, fraction f -> ceil(f * n). */
static long count_of(reel_params_reader *r, const char *key, size_t n)
{
    double v = reel_param_num(r, key);
    return v >= 1 && is_int(v) && !(v == 1 && strcmp(key, "min_samples_split") == 0) ? (long)v
                                                                                     : (long)ceil(v * (double)n);
}

/* The forest declares no splitter: its trees split at the best threshold. */
static void growth_get(reel_params_reader *r, size_t n, size_t d, uint64_t seed, int has_splitter,
                       reel_tree_params *p)
{
    const char *criterion = reel_param_str(r, "criterion");
    const char *splitter = has_splitter ? reel_param_str(r, "splitter") : NULL;
    p->criterion = criterion && strcmp(criterion, "gini") == 0 ? REEL_TREE_GINI : REEL_TREE_ENTROPY;
    p->random_splits = splitter && strcmp(splitter, "random") == 0;
    p->max_depth = reel_param_is_null(r, "max_depth") ? 0 : reel_param_int(r, "max_depth");
    p->min_samples_leaf = count_of(r, "min_samples_leaf", n);
    if (p->min_samples_leaf < 1)
        p->min_samples_leaf = 1;
    p->min_samples_split = count_of(r, "min_samples_split", n);
    if (p->min_samples_split < 2)
        p->min_samples_split = 2;
    if (p->min_samples_split < 2 * p->min_samples_leaf)
        p->min_samples_split = 2 * p->min_samples_leaf;
    p->max_features = (long)d;
    const char *mf = reel_param_str(r, "max_features");
    double df = (double)d;
    if (mf && strcmp(mf, "sqrt") == 0)
        p->max_features = (long)sqrt(df);
    else if (mf && strcmp(mf, "log2") == 0)
        p->max_features = d ? (long)log2(df) : 0;
    else if (!mf && !reel_param_is_null(r, "max_features")) {
        double v = reel_param_num(r, "max_features");
        p->max_features = v >= 1 ? (long)v : (long)(v * df);
    }
    if (p->max_features < 1)
        p->max_features = 1;
    if (p->max_features > (long)d)
        p->max_features = (long)d;
    p->max_leaf_nodes = reel_param_is_null(r, "max_leaf_nodes") ? 0 : reel_param_int(r, "max_leaf_nodes");
    p->min_impurity_decrease = reel_param_num(r, "min_impurity_decrease");
    p->ccp_alpha = reel_param_num(r, "ccp_alpha");
    p->seed = reel_param_seed(r, seed);
}

int reel_tree_params_get(const cJSON *params, size_t n, size_t d, uint64_t seed, reel_tree_params *p,
                         reel_error *err)
{
    reel_params_reader r;
    reel_params_read_begin(&r, params, "tree");
    growth_get(&r, n, d, seed, 1, p);
    return reel_params_read_end(&r, err);
}

/* Rows drawn per tree: max_samples as a count or fraction of n (default n). */
static int bootstrap_size(reel_params_reader *r, size_t n, size_t *out, reel_error *err)
{
    *out = n;
    if (reel_param_is_null(r, "max_samples"))
        return 0;
    double v = reel_param_num(r, "max_samples");
    if (v >= 1 && v == floor(v)) {
        if (v > (double)n)
            return reel_fail(err, "params for forest: key 'max_samples' is %.0f, more than the %zu training rows", v,
                             n);
        *out = (size_t)v;
    } else {
        double k = round(v * (double)n);
        *out = k < 1 ? 1 : (size_t)k;
    }
    return 0;
}

int reel_forest_params_get(const cJSON *params, size_t n, size_t d, uint64_t seed, reel_forest_params *p,
                           reel_error *err)
{
    reel_params_reader r;
    reel_params_read_begin(&r, params, "forest");
    growth_get(&r, n, d, seed, 0, &p->tree);
    p->n_trees = (size_t)reel_param_int(&r, "n_estimators");
    p->bootstrap = reel_param_bool(&r, "bootstrap");
    if (bootstrap_size(&r, n, &p->n_boot, err))
        return -1;
    return reel_params_read_end(&r, err);
}
