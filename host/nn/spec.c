#include "nn/spec.h"

#include <math.h>
#include <string.h>

#include "util/rng.h"

#define MAX_WIDTH 65536

const char *reel_nn_act_name(reel_nn_act a)
{
    switch (a) {
    case REEL_ACT_RELU:
        return "relu";
    case REEL_ACT_TANH:
        return "tanh";
    default:
        return "none";
    }
}

static int parse_act(const char *s, reel_nn_act *a)
{
    if (strcmp(s, "relu") == 0)
        *a = REEL_ACT_RELU;
    else if (strcmp(s, "tanh") == 0)
        *a = REEL_ACT_TANH;
    else if (strcmp(s, "none") == 0)
        *a = REEL_ACT_NONE;
    else
        return -1;
    return 0;
}

/* Reads entry i of the layers list into width and act. */
static int parse_layer(const cJSON *e, int i, size_t *width, reel_nn_act *act, reel_error *err)
{
    if (!cJSON_IsObject(e))
        return reel_fail(err, "layers[%d]: must be an object like {\"width\": 64, \"activation\": \"relu\"}", i);
    const cJSON *k;
    cJSON_ArrayForEach(k, e) if (strcmp(k->string, "width") != 0 && strcmp(k->string, "activation") != 0) return
        reel_fail(err, "layers[%d]: unknown key '%s'; valid keys: width, activation", i, k->string);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "width");
    if (!cJSON_IsNumber(w) || w->valuedouble != floor(w->valuedouble) || w->valuedouble < 1 ||
        w->valuedouble > MAX_WIDTH)
        return reel_fail(err, "layers[%d]: 'width' must be an integer >= 1 and <= %d", i, MAX_WIDTH);
    *width = (size_t)w->valuedouble;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "activation");
    *act = REEL_ACT_RELU;
    if (a && (!cJSON_IsString(a) || parse_act(a->valuestring, act)))
        return reel_fail(err, "layers[%d]: 'activation' must be one of \"relu\", \"tanh\", \"none\"", i);
    return 0;
}

int reel_nn_layers_check(const cJSON *layers, reel_error *err)
{
    if (!cJSON_IsArray(layers))
        return reel_fail(err, "layers: must be a list of {\"width\": N, \"activation\": \"relu|tanh|none\"}");
    int n = cJSON_GetArraySize(layers);
    if (n > REEL_NN_MAX_LAYERS - 1)
        return reel_fail(err, "layers: at most %d hidden layers, got %d", REEL_NN_MAX_LAYERS - 1, n);
    for (int i = 0; i < n; i++) {
        size_t w;
        reel_nn_act a;
        if (parse_layer(cJSON_GetArrayItem(layers, i), i, &w, &a, err))
            return -1;
    }
    return 0;
}

int reel_nn_spec_build(reel_nn_spec *s, const cJSON *layers, const char *head, size_t d, size_t L,
                       reel_error *err)
{
    memset(s, 0, sizeof *s);
    if (reel_nn_layers_check(layers, err))
        return -1;
    if (!head || (strcmp(head, "sigmoid") != 0 && strcmp(head, "softmax") != 0))
        return reel_fail(err, "head: must be \"sigmoid\" or \"softmax\"");
    if (d == 0 || L == 0)
        return reel_fail(err, "a net needs at least one feature and one label (got %zu and %zu)", d, L);
    s->d = d;
    s->L = L;
    s->head = strcmp(head, "softmax") == 0 ? REEL_HEAD_SOFTMAX : REEL_HEAD_SIGMOID;
    int n = cJSON_GetArraySize(layers), module = 0;
    size_t in = d, off = 0;
    for (int i = 0; i <= n; i++) {
        reel_nn_layer *l = &s->layer[i];
        if (i < n) {
            parse_layer(cJSON_GetArrayItem(layers, i), i, &l->out, &l->act, err);
        } else {
            l->out = L; /* the implicit output layer: the head applies to its logits */
            l->act = REEL_ACT_NONE;
        }
        l->in = in;
        l->w_off = off;
        off += l->in * l->out;
        l->b_off = off;
        off += l->out;
        l->module_index = module;
        module += l->act == REEL_ACT_NONE ? 1 : 2;
        if (l->in > s->max_width)
            s->max_width = l->in;
        if (l->out > s->max_width)
            s->max_width = l->out;
        in = l->out;
    }
    s->n_layers = (size_t)n + 1;
    s->n_params = off;
    return 0;
}

size_t reel_nn_scaled_width(size_t w, size_t first, size_t width)
{
    size_t v = (w * width * 2 + first) / (first * 2); /* round(w * width / first), halves up */
    return v ? v : 1;
}

int reel_nn_spec_from_params(reel_nn_spec *s, const cJSON *params, size_t d, size_t L, reel_error *err)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(params, "layers");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(params, "head");
    const cJSON *width = cJSON_GetObjectItemCaseSensitive(params, "width");
    const char *head_name = cJSON_IsString(head) ? head->valuestring : (head ? NULL : "sigmoid");
    if (!width || cJSON_IsNull(width))
        return reel_nn_spec_build(s, layers, head_name, d, L, err);
    if (!cJSON_IsNumber(width) || width->valuedouble != floor(width->valuedouble) || width->valuedouble < 1 ||
        width->valuedouble > MAX_WIDTH)
        return reel_fail(err, "key 'width': must be null or an integer >= 1 and <= %d", MAX_WIDTH);
    if (reel_nn_layers_check(layers, err))
        return -1;
    if (cJSON_GetArraySize(layers) == 0)
        return reel_fail(err, "key 'width': the net has no hidden layers to scale");
    /* A scaled copy of the list, then the ordinary build. */
    cJSON *scaled = cJSON_Duplicate(layers, 1);
    if (!scaled)
        return reel_fail(err, "out of memory");
    size_t first = (size_t)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, 0), "width")->valuedouble; /* checked */
    int rc = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, scaled)
    {
        cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "width");
        size_t v = reel_nn_scaled_width((size_t)w->valuedouble, first, (size_t)width->valuedouble);
        if (v > MAX_WIDTH) {
            rc = reel_fail(err, "key 'width': %.0f makes a hidden layer %zu wide (at most %d)", width->valuedouble, v,
                           MAX_WIDTH);
            break;
        }
        cJSON_SetNumberValue(w, (double)v);
    }
    if (rc == 0)
        rc = reel_nn_spec_build(s, scaled, head_name, d, L, err);
    cJSON_Delete(scaled);
    return rc;
}

void reel_nn_init_params(const reel_nn_spec *s, uint64_t seed, float *params)
{
    reel_rng rng;
    reel_rng_seed_stream(&rng, seed, 0);
    for (size_t i = 0; i < s->n_layers; i++) {
        const reel_nn_layer *l = &s->layer[i];
        double bound = 1.0 / sqrt((double)l->in);
        /* W then b are contiguous in the buffer: one pass draws both. */
        for (size_t k = 0; k < l->in * l->out + l->out; k++)
            params[l->w_off + k] = (float)((2.0 * reel_rng_uniform(&rng) - 1.0) * bound);
    }
}
