#include "nn/mlp_params.h"

#include <math.h>
#include <string.h>

#include "data/split.h"
#include "models/params.h"

/* Without a threshold param: 0.5 for the sigmoid head; for the softmax head,
 * whose L probabilities share 1, half of a uniform share, 1/(2L). */
static float default_threshold(const char *head, size_t L)
{
    return head && strcmp(head, "softmax") == 0 && L > 0 ? 0.5f / (float)L : 0.5f;
}

/* The training recipe's keys are optional, so a definition written before
 * they existed (a user's models/NAME.json, a model file's params) keeps its
 * old training: absent, each takes the value that trains as before. */
static int opt_num(const cJSON *params, const char *key, double absent, double *out, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    *out = absent;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return reel_fail(err, "params for mlp: key '%s' must be a number", key);
    *out = v->valuedouble;
    return 0;
}

static int opt_int(const cJSON *params, const char *key, long absent, long min, long max, long *out,
                   reel_error *err)
{
    double d;
    if (opt_num(params, key, (double)absent, &d, err))
        return -1;
    if (d != floor(d) || d < (double)min || d > (double)max)
        return reel_fail(err, "params for mlp: key '%s' must be a whole number from %ld to %ld", key, min, max);
    *out = (long)d;
    return 0;
}

static int pos_weight_get(const cJSON *params, reel_mlp_params *p, reel_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "pos_weight");
    static const char *what = "params for mlp: key 'pos_weight' must be null, a number > 0 and < 1e30, a list of "
                              "such numbers (one per label) or \"balanced\"";
    p->pos_mode = REEL_POSW_NONE;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble > 0 && v->valuedouble < 1e30))
            return reel_fail(err, "%s; got %g", what, v->valuedouble);
        p->pos_mode = REEL_POSW_ALL;
        p->pos_value = v->valuedouble;
    } else if (cJSON_IsString(v) && strcmp(v->valuestring, "balanced") == 0) {
        p->pos_mode = REEL_POSW_BALANCED;
    } else if (cJSON_IsArray(v) && v->child) {
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsNumber(e) || !(e->valuedouble > 0 && e->valuedouble < 1e30))
                return reel_fail(err, "%s; the list holds %s", what, cJSON_IsNumber(e) ? "a number out of range"
                                                                                       : "a value that is no number");
        p->pos_mode = REEL_POSW_LIST;
        p->pos_list = v;
    } else {
        return reel_fail(err, "%s", what);
    }
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(params, "head");
    if (cJSON_IsString(head) && strcmp(head->valuestring, "softmax") == 0)
        return reel_fail(err, "params for mlp: key 'pos_weight' needs the sigmoid head (softmax has no per-label "
                         "positives to weigh)");
    return 0;
}

int reel_mlp_pos_weights(const reel_mlp_params *p, const uint8_t *Y, size_t n, size_t L, float *w, reel_error *err)
{
    if (p->pos_mode == REEL_POSW_LIST) {
        size_t k = (size_t)cJSON_GetArraySize(p->pos_list);
        if (k != L)
            return reel_fail(err, "params for mlp: key 'pos_weight' lists %zu weights for %zu labels", k, L);
        k = 0;
        for (const cJSON *e = p->pos_list->child; e; e = e->next)
            w[k++] = (float)e->valuedouble;
        return 0;
    }
    for (size_t k = 0; k < L; k++) {
        if (p->pos_mode == REEL_POSW_ALL) {
            w[k] = (float)p->pos_value;
            continue;
        }
        size_t pos = 0;
        for (size_t i = 0; i < n; i++)
            pos += Y[i * L + k] != 0;
        double r = pos ? (double)(n - pos) / (double)pos : 1.0;
        w[k] = (float)(r < 1 ? 1 : r > 1000 ? 1000 : r);
    }
    return 0;
}

uint64_t reel_mlp_member_seed(uint64_t seed, long k)
{
    return k == 0 ? seed : seed + (uint64_t)k * 0x9E3779B97F4A7C15ULL;
}

int reel_mlp_folds(size_t n, long K, uint64_t seed, int *fold, reel_error *err)
{
    if (K < 2 || (size_t)K > n)
        return reel_fail(err, "params for mlp: key 'members' \"cross-fit\" splits the %zu training and validation "
                         "rows into ensemble = %ld folds: it needs 2 to %zu", n, K, n);
    /* a stream of its own: the folds do not move with the members' seeds */
    return reel_kfold(n, (int)K, seed ^ 0x63726f7373666974ULL, fold, err);
}

int reel_mlp_params_get(const cJSON *params, size_t L, uint64_t seed, reel_mlp_params *p, reel_error *err)
{
    reel_params_reader r;
    reel_params_read_begin(&r, params, "mlp");
    memset(p, 0, sizeof *p);
    reel_nn_train_opts *o = &p->train;
    o->opt.lr = reel_param_num(&r, "lr");
    o->opt.beta1 = reel_param_num(&r, "beta1");
    o->opt.beta2 = reel_param_num(&r, "beta2");
    o->opt.eps = reel_param_num(&r, "eps");
    o->opt.weight_decay = reel_param_num(&r, "weight_decay");
    o->batch_size = reel_param_int(&r, "batch_size");
    o->epochs = reel_param_int(&r, "epochs");
    o->patience = reel_param_int(&r, "patience");
    o->min_delta = reel_param_num(&r, "min_delta");
    const char *from = reel_param_str(&r, "patience_from");
    o->patience_from_best = from && strcmp(from, "best") == 0;
    o->ema = reel_param_num(&r, "ema");
    o->restore_best = reel_param_bool(&r, "restore_best");
    o->threshold = reel_param_is_null(&r, "threshold") ? default_threshold(reel_param_str(&r, "head"), L)
                                                       : (float)reel_param_num(&r, "threshold");
    o->seed = reel_param_seed(&r, seed);
    const char *input = reel_param_str(&r, "input");
    if (reel_params_read_end(&r, err))
        return -1;
    if (reel_nn_input_mode_parse(input, &p->input))
        return reel_fail(err, "params for mlp: key 'input' must be \"auto\" or \"standard\"");
    if (o->opt.beta1 >= 1.0 || o->opt.beta2 >= 1.0)
        return reel_fail(err, "params for mlp: keys 'beta1' and 'beta2' must be < 1");
    if (o->ema >= 1.0)
        return reel_fail(err, "params for mlp: key 'ema' must be < 1 (0 = no averaging)");
    if (opt_num(params, "label_smoothing", 0.0, &o->label_smoothing, err))
        return -1;
    if (!(o->label_smoothing >= 0.0 && o->label_smoothing < 1.0))
        return reel_fail(err, "params for mlp: key 'label_smoothing' must be from 0 to below 1 (0 = none)");
    if (opt_int(params, "warmup_epochs", 0, 0, 100000, &o->warmup_epochs, err) ||
        opt_int(params, "ensemble", 1, 1, 1024, &p->ensemble, err))
        return -1;
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(params, "lr_schedule");
    if (sched && !(cJSON_IsString(sched) &&
                   (strcmp(sched->valuestring, "constant") == 0 || strcmp(sched->valuestring, "cosine") == 0)))
        return reel_fail(err, "params for mlp: key 'lr_schedule' must be \"constant\" or \"cosine\"");
    o->cosine = sched && strcmp(sched->valuestring, "cosine") == 0;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(params, "members");
    if (members && !(cJSON_IsString(members) && (strcmp(members->valuestring, "same-rows") == 0 ||
                                                 strcmp(members->valuestring, "cross-fit") == 0)))
        return reel_fail(err, "params for mlp: key 'members' must be \"same-rows\" or \"cross-fit\"");
    p->cross_fit = members && strcmp(members->valuestring, "cross-fit") == 0;
    if (p->cross_fit && p->ensemble < 2)
        return reel_fail(err, "params for mlp: key 'members' \"cross-fit\" needs 'ensemble' of 2 or more (one "
                         "fold per member; got %ld)", p->ensemble);
    return pos_weight_get(params, p, err);
}
