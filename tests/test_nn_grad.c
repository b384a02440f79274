/* Finite-difference checks of the CPU backend's gradients, for every layer
 * kind (relu, tanh, none) and both heads. The reference is written here
 * again, in double precision and in the plainest form, so central
 * differences (h = 1e-6) are accurate to ~1e-9 and the remaining error is
 * the backend's float arithmetic (~1e-6 relative). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/cpu_plr.h"
#include "nn/spec.h"
#include "util/rng.h"

/* Row i's PLR embedding into a (nn/spec.h): the numeric columns'
 * ReLU(W [sin v, cos v] + b), then the others. */
static void ref_plr(const reel_nn_spec *s, const double *p, const float *x, double *a)
{
    const reel_nn_plr *r = &s->plr;
    size_t q = 0, at = 0, k = r->k;
    for (size_t j = 0; j < s->d; j++) {
        if (r->numeric && !r->numeric[j])
            continue;
        double f[128];
        for (size_t t = 0; t < k; t++) {
            double v = REEL_NN_TWO_PI * p[r->c_off + q * k + t] * x[j];
            f[t] = sin(v);
            f[k + t] = cos(v);
        }
        for (size_t o = 0; o < r->width; o++) {
            double v = p[r->b_off + q * r->width + o];
            for (size_t t = 0; t < 2 * k; t++)
                v += p[r->w_off + (q * r->width + o) * 2 * k + t] * f[t];
            a[at++] = v > 0 ? v : 0;
        }
        q++;
    }
    for (size_t j = 0; j < s->d; j++)
        if (r->numeric && !r->numeric[j])
            a[at++] = x[j];
}

/* Mean loss of the net on (X, Y), all in double; masks[l] (n x out), when
 * not NULL, scale layer l's outputs (the training step's dropout). */
static double ref_loss(const reel_nn_spec *s, const double *p, const float *X, const float *Y, size_t n,
                       float *const *masks)
{
    double total = 0;
    double a[256], z[256];
    for (size_t i = 0; i < n; i++) {
        if (s->plr.k)
            ref_plr(s, p, X + i * s->d, a);
        else
            for (size_t k = 0; k < s->d; k++)
                a[k] = X[i * s->d + k];
        for (size_t l = 0; l < s->n_layers; l++) {
            const reel_nn_layer *ly = &s->layer[l];
            for (size_t j = 0; j < ly->out; j++) {
                double v = p[ly->b_off + j];
                for (size_t k = 0; k < ly->in; k++)
                    v += p[ly->w_off + j * ly->in + k] * a[k];
                z[j] = ly->act == REEL_ACT_RELU ? (v > 0 ? v : 0) : ly->act == REEL_ACT_TANH ? tanh(v) : v;
                if (masks && masks[l])
                    z[j] *= masks[l][i * ly->out + j];
            }
            memcpy(a, z, ly->out * sizeof *a);
        }
        const float *y = Y + i * s->L;
        if (s->head == REEL_HEAD_SIGMOID) {
            for (size_t k = 0; k < s->L; k++) {
                double q = 1 / (1 + exp(-a[k]));
                total -= (y[k] * log(q) + (1 - y[k]) * log(1 - q)) / (double)s->L;
            }
        } else {
            double se = 0, ys = 0;
            for (size_t k = 0; k < s->L; k++) {
                se += exp(a[k]);
                ys += y[k];
            }
            for (size_t k = 0; k < s->L && ys > 0; k++)
                total -= y[k] / ys * log(exp(a[k]) / se);
        }
    }
    return total / (double)n;
}

static cJSON *layers_of(const char *json)
{
    cJSON *l = cJSON_Parse(json);
    cr_assert_not_null(l);
    return l;
}

/* Builds a small net, takes one train step at lr 0 (so the weights stay)
 * and compares every gradient with central differences of ref_loss.
 * numeric (d flags, may be NULL): the columns a PLR embedding takes. */
static void check_with(const char *layers_json, const char *head, size_t d, size_t L, uint64_t seed,
                       const uint8_t *numeric)
{
    reel_nn_spec s;
    reel_error err;
    cJSON *layers = layers_of(layers_json);
    cr_assert_eq(reel_nn_spec_build(&s, layers, head, d, L, &err), 0, "%s", err.msg);
    cJSON_Delete(layers);
    reel_nn_spec_set_numeric(&s, numeric);
    s.seed = seed;
    size_t n = 7, np = s.n_params;
    float *X = malloc(n * d * sizeof *X), *Y = calloc(n * L, sizeof *Y);
    reel_rng rng;
    reel_rng_seed(&rng, seed);
    for (size_t i = 0; i < n * d; i++)
        X[i] = (float)(4 * reel_rng_uniform(&rng) - 2);
    for (size_t i = 0; i < n * L; i++)
        Y[i] = reel_rng_uniform(&rng) < 0.4 ? 1.0f : 0.0f;
    memset(Y + L, 0, L * sizeof *Y); /* a row without labels */
    float *params = malloc(np * sizeof *params), *grads = malloc(np * sizeof *grads);
    reel_nn_init_params(&s, seed, params);
    for (size_t i = 0; i < np; i++)
        params[i] *= 2.0f; /* larger weights: the later layers see more than tiny signals */

    const reel_nn_backend *be = &reel_nn_cpu_backend;
    void *b = be->create(&s, 0, 1, &err);
    cr_assert_not_null(b);
    uint32_t order[7] = {0, 1, 2, 3, 4, 5, 6};
    reel_adamw frozen = {0.0, 0.9, 0.999, 1e-8, 0.0};
    float loss;
    cr_assert_eq(be->set_params(b, params, &err), 0);
    cr_assert_eq(be->set_data(b, X, Y, n, &err), 0);
    cr_assert_eq(be->set_order(b, order, n, &err), 0);
    cr_assert_eq(be->train_step(b, 0, n, &frozen, 1, &loss, &err), 0, "%s", err.msg);
    cr_assert_eq(be->get_grads(b, grads, &err), 0);

    double *p = malloc(np * sizeof *p);
    for (size_t i = 0; i < np; i++)
        p[i] = params[i];
    float *masks[REEL_NN_MAX_LAYERS] = {0}; /* step 1's dropout, as the backend draws it */
    for (size_t l = 0; l < s.n_layers; l++)
        if (s.layer[l].dropout > 0) {
            masks[l] = malloc(n * s.layer[l].out * sizeof(float));
            reel_cpu_dropout_mask(s.seed, 1, l, n, s.layer[l].out, s.layer[l].dropout, masks[l]);
        }
    double L0 = ref_loss(&s, p, X, Y, n, masks);
    cr_expect(fabs(L0 - loss) < 1e-6 * fmax(1, fabs(L0)), "%s/%s: loss %.9g vs double reference %.9g", layers_json,
              head, loss, L0);
    double gmax = 0, worst = 0;
    double *fd = malloc(np * sizeof *fd);
    for (size_t i = 0; i < np; i++) {
        const double h = 1e-6;
        double keep = p[i];
        p[i] = keep + h;
        double up = ref_loss(&s, p, X, Y, n, masks);
        p[i] = keep - h;
        double down = ref_loss(&s, p, X, Y, n, masks);
        p[i] = keep;
        fd[i] = (up - down) / (2 * h);
        gmax = fmax(gmax, fabs(fd[i]));
    }
    cr_assert(gmax > 1e-3, "degenerate test: all gradients ~0");
    size_t at = 0;
    for (size_t i = 0; i < np; i++) {
        /* float backprop: seen ~1e-7 relative to the gradient's scale; allow 1e-6 */
        double e = fabs(grads[i] - fd[i]) / (1e-6 * fabs(fd[i]) + 1e-6 * gmax);
        if (e > worst) {
            worst = e;
            at = i;
        }
    }
    printf("nn_grad %s %s: %zu gradients, worst error %.3g of tolerance (at %zu: %.9g vs fd %.9g)\n",
           layers_json, head, np, worst, at, grads[at], fd[at]);
    cr_expect(worst <= 1.0, "%s/%s: gradient %zu: backend %.9g vs finite difference %.9g", layers_json, head, at,
              grads[at], fd[at]);
    be->destroy(b);
    for (size_t l = 0; l < s.n_layers; l++)
        free(masks[l]);
    free(X);
    free(Y);
    free(params);
    free(grads);
    free(p);
    free(fd);
}

static void check(const char *layers_json, const char *head, size_t d, size_t L, uint64_t seed)
{
    check_with(layers_json, head, d, L, seed, NULL);
}

#define RELU "{\"width\": 6, \"activation\": \"relu\"}"
#define TANH "{\"width\": 5, \"activation\": \"tanh\"}"
#define NONE "{\"width\": 4, \"activation\": \"none\"}"

Test(nn_grad, relu_sigmoid) { check("[" RELU ", " RELU "]", "sigmoid", 4, 3, 1); }
Test(nn_grad, relu_softmax) { check("[" RELU ", " RELU "]", "softmax", 4, 3, 2); }
Test(nn_grad, tanh_sigmoid) { check("[" TANH ", " TANH "]", "sigmoid", 3, 4, 3); }
Test(nn_grad, tanh_softmax) { check("[" TANH ", " TANH "]", "softmax", 3, 4, 4); }
Test(nn_grad, none_sigmoid) { check("[" NONE ", " NONE "]", "sigmoid", 5, 2, 5); }
Test(nn_grad, none_softmax) { check("[" NONE ", " NONE "]", "softmax", 5, 2, 6); }
Test(nn_grad, all_kinds_mixed) { check("[" NONE ", " RELU ", " TANH "]", "softmax", 4, 5, 7); }
Test(nn_grad, no_hidden_layer) { check("[]", "sigmoid", 4, 3, 8); }
/* Wider than one 8-lane block of the dot product, with a remainder. */
Test(nn_grad, wide_layers)
{
    check("[{\"width\": 19, \"activation\": \"relu\"}, {\"width\": 17, \"activation\": \"tanh\"}]", "sigmoid", 11,
          3, 9);
}

/* The recipe's layer kinds: dropout (the step's mask held fixed), and a
 * PLR embedding on the numeric columns (here 1 and 3 of 4; the other two
 * pass through), alone and with dropout after it. */
#define DROP "{\"width\": 6, \"activation\": \"relu\", \"dropout\": 0.3}"
#define DROP_TANH "{\"width\": 5, \"activation\": \"tanh\", \"dropout\": 0.5}"
#define PLR "{\"kind\": \"plr\", \"frequencies\": 3, \"sigma\": 0.4, \"width\": 4}"
Test(nn_grad, dropout_relu_tanh) { check("[" DROP ", " DROP_TANH "]", "sigmoid", 4, 3, 21); }
Test(nn_grad, plr_every_column) { check("[" PLR ", " RELU "]", "sigmoid", 3, 2, 22); }
Test(nn_grad, plr_some_columns_dropout)
{
    const uint8_t numeric[4] = {0, 1, 0, 1};
    check_with("[" PLR ", " DROP ", " TANH "]", "softmax", 4, 3, 23, numeric);
}
