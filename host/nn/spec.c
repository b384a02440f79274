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

/* One entry of the layers list, read. */
typedef struct {
    int plr;        /* a PLR embedding entry */
    size_t width;   /* out (PLR: the embedding width per numeric column) */
    reel_nn_act act;
    float dropout;
    size_t k;       /* PLR: frequencies */
    double sigma;   /* PLR: their init sd */
} layer_entry;

static int int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= lo &&
           v->valuedouble <= hi;
}

/* {"kind": "plr", "frequencies": k, "sigma": s, "width": e}, entry 0 only. */
static int parse_plr(const cJSON *e, int i, layer_entry *out, reel_error *err)
{
    if (i != 0)
        return reel_fail(err, "layers[%d]: a \"plr\" embedding must be the first entry", i);
    const cJSON *k;
    cJSON_ArrayForEach(k, e) if (strcmp(k->string, "kind") && strcmp(k->string, "frequencies") &&
                                 strcmp(k->string, "sigma") && strcmp(k->string, "width")) return
        reel_fail(err, "layers[0]: unknown key '%s' for kind \"plr\"; valid keys: kind, frequencies, sigma, width",
                  k->string);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "frequencies"),
                *sg = cJSON_GetObjectItemCaseSensitive(e, "sigma"), *w = cJSON_GetObjectItemCaseSensitive(e, "width");
    if (!int_in(f, 1, 1024))
        return reel_fail(err, "layers[0]: plr 'frequencies' must be an integer >= 1 and <= 1024");
    if (!cJSON_IsNumber(sg) || !(sg->valuedouble > 0) || !(sg->valuedouble <= 100))
        return reel_fail(err, "layers[0]: plr 'sigma' must be a number > 0 and <= 100");
    if (!int_in(w, 1, 4096))
        return reel_fail(err, "layers[0]: plr 'width' must be an integer >= 1 and <= 4096");
    *out = (layer_entry){.plr = 1, .width = (size_t)w->valuedouble, .k = (size_t)f->valuedouble,
                         .sigma = sg->valuedouble};
    return 0;
}

/* Reads entry i of the layers list. */
static int parse_layer(const cJSON *e, int i, layer_entry *out, reel_error *err)
{
    if (!cJSON_IsObject(e))
        return reel_fail(err, "layers[%d]: must be an object like {\"width\": 64, \"activation\": \"relu\"}", i);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(e, "kind");
    if (kind && !(cJSON_IsString(kind) && (!strcmp(kind->valuestring, "plr") || !strcmp(kind->valuestring, "linear"))))
        return reel_fail(err, "layers[%d]: 'kind' must be \"linear\" or \"plr\"", i);
    if (kind && !strcmp(kind->valuestring, "plr"))
        return parse_plr(e, i, out, err);
    const cJSON *k;
    cJSON_ArrayForEach(k, e) if (strcmp(k->string, "width") != 0 && strcmp(k->string, "activation") != 0 &&
                                 strcmp(k->string, "dropout") != 0 && strcmp(k->string, "kind") != 0) return
        reel_fail(err, "layers[%d]: unknown key '%s'; valid keys: width, activation, dropout, kind", i, k->string);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "width");
    if (!int_in(w, 1, MAX_WIDTH))
        return reel_fail(err, "layers[%d]: 'width' must be an integer >= 1 and <= %d", i, MAX_WIDTH);
    *out = (layer_entry){.width = (size_t)w->valuedouble, .act = REEL_ACT_RELU};
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "activation");
    if (a && (!cJSON_IsString(a) || parse_act(a->valuestring, &out->act)))
        return reel_fail(err, "layers[%d]: 'activation' must be one of \"relu\", \"tanh\", \"none\"", i);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "dropout");
    if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0) || !(p->valuedouble < 1)))
        return reel_fail(err, "layers[%d]: 'dropout' must be a number >= 0 and < 1", i);
    out->dropout = p ? (float)p->valuedouble : 0.0f;
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
        layer_entry le;
        if (parse_layer(cJSON_GetArrayItem(layers, i), i, &le, err))
            return -1;
    }
    return 0;
}

/* Offsets, module indices and widths from the layers' in/out and the PLR
 * block (which comes first in the buffer and takes module 0). */
static void layout(reel_nn_spec *s)
{
    size_t off = 0, in = s->d;
    int module = 0;
    s->max_width = 0;
    if (s->plr.k) {
        reel_nn_plr *p = &s->plr;
        p->c_off = off;
        off += p->n_num * p->k;
        p->w_off = off;
        off += p->n_num * p->width * 2 * p->k;
        p->b_off = off;
        off += p->n_num * p->width;
        in = p->n_num * p->width + (s->d - p->n_num);
        module = 1;
    }
    for (size_t i = 0; i < s->n_layers; i++) {
        reel_nn_layer *l = &s->layer[i];
        l->in = in;
        l->w_off = off;
        off += l->in * l->out;
        l->b_off = off;
        off += l->out;
        l->module_index = module;
        module += 1 + (l->act != REEL_ACT_NONE) + (l->dropout > 0);
        if (l->in > s->max_width)
            s->max_width = l->in;
        if (l->out > s->max_width)
            s->max_width = l->out;
        in = l->out;
    }
    s->n_params = off;
}

void reel_nn_spec_set_numeric(reel_nn_spec *s, const uint8_t *numeric)
{
    if (!s->plr.k)
        return;
    s->plr.numeric = numeric;
    s->plr.n_num = 0;
    for (size_t j = 0; j < s->d; j++)
        s->plr.n_num += !numeric || numeric[j];
    layout(s);
}

const char *reel_nn_spec_cpu_only(const reel_nn_spec *s)
{
    (void)s; /* none now: a new kind names itself here until the devices have it */
    return NULL;
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
    int n = cJSON_GetArraySize(layers);
    size_t hidden = 0;
    for (int i = 0; i < n; i++) {
        layer_entry le;
        parse_layer(cJSON_GetArrayItem(layers, i), i, &le, err); /* checked above */
        if (le.plr) {
            s->plr = (reel_nn_plr){.k = le.k, .width = le.width, .sigma = le.sigma, .n_num = d};
            continue;
        }
        s->layer[hidden++] = (reel_nn_layer){.out = le.width, .act = le.act, .dropout = le.dropout};
    }
    /* the implicit output layer: the head applies to its logits */
    s->layer[hidden++] = (reel_nn_layer){.out = L, .act = REEL_ACT_NONE};
    s->n_layers = hidden;
    layout(s);
    return 0;
}

size_t reel_nn_scaled_width(size_t w, size_t first, size_t width)
{
    size_t v = (w * width * 2 + first) / (first * 2); /* round(w * width / first), halves up */
    return v ? v : 1;
}

static int is_plr(const cJSON *e)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kind");
    return cJSON_IsString(k) && strcmp(k->valuestring, "plr") == 0;
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
    /* The hidden Linear layers are scaled; a PLR entry keeps its width. */
    const cJSON *first_linear = NULL, *e0;
    cJSON_ArrayForEach(e0, layers) if (!is_plr(e0) && !first_linear) first_linear = e0;
    if (!first_linear)
        return reel_fail(err, "key 'width': the net has no hidden layers to scale");
    /* A scaled copy of the list, then the ordinary build. */
    cJSON *scaled = cJSON_Duplicate(layers, 1);
    if (!scaled)
        return reel_fail(err, "out of memory");
    size_t first = (size_t)cJSON_GetObjectItemCaseSensitive(first_linear, "width")->valuedouble; /* checked */
    int rc = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, scaled)
    {
        if (is_plr(e))
            continue;
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
    if (s->plr.k) {
        const reel_nn_plr *p = &s->plr;
        reel_rng_seed_stream(&rng, seed, 2);
        for (size_t q = 0; q < p->n_num * p->k; q++) { /* Box-Muller: one normal from two uniforms */
            double u1 = reel_rng_uniform(&rng), u2 = reel_rng_uniform(&rng);
            params[p->c_off + q] = (float)(p->sigma * sqrt(-2.0 * log(1.0 - u1)) * cos(REEL_NN_TWO_PI * u2));
        }
        double bound = 1.0 / sqrt(2.0 * (double)p->k);
        for (size_t q = p->w_off; q < p->b_off + p->n_num * p->width; q++)
            params[q] = (float)((2.0 * reel_rng_uniform(&rng) - 1.0) * bound);
    }
    reel_rng_seed_stream(&rng, seed, 0);
    for (size_t i = 0; i < s->n_layers; i++) {
        const reel_nn_layer *l = &s->layer[i];
        double bound = 1.0 / sqrt((double)l->in);
        /* W then b are contiguous in the buffer: one pass draws both. */
        for (size_t k = 0; k < l->in * l->out + l->out; k++)
            params[l->w_off + k] = (float)((2.0 * reel_rng_uniform(&rng) - 1.0) * bound);
    }
}
