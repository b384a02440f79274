#include "nn/input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/float_clamp.h"

int reel_nn_input_mode_parse(const char *s, reel_nn_input_mode *mode)
{
    if (s && strcmp(s, "standard") == 0)
        *mode = REEL_INPUT_STANDARD;
    else if (s && strcmp(s, "auto") == 0)
        *mode = REEL_INPUT_AUTO;
    else if (s && strcmp(s, "robust") == 0)
        *mode = REEL_INPUT_ROBUST;
    else
        return -1;
    return 0;
}

static double signed_log1p(double x) { return copysign(log1p(fabs(x)), x); }

/* Column k of X, after the optional signed log1p. */
static double value(const float *X, size_t d, size_t i, size_t k, int log)
{
    double x = X[i * d + k];
    return log ? signed_log1p(x) : x;
}

/* Mean and population sd of column k (Welford, as the shared preprocessing
 * computes them, so "standard" gives the same numbers). */
static void moments(const float *X, size_t n, size_t d, size_t k, int log, double *mean, double *sd)
{
    double m = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        double x = value(X, d, i, k, log), delta = x - m;
        m += delta / (double)(i + 1);
        m2 += delta * (x - m);
    }
    *mean = m;
    *sd = sqrt(m2 / (double)n);
}

/* Fisher's skewness (population moments); 0 for a constant column. */
static double skewness(const float *X, size_t n, size_t d, size_t k, int log)
{
    double mean, sd, m3 = 0;
    moments(X, n, d, k, log, &mean, &sd);
    if (!(sd > 0) || !isfinite(sd))
        return 0;
    for (size_t i = 0; i < n; i++) {
        double z = (value(X, d, i, k, log) - mean) / sd;
        m3 += z * z * z;
    }
    return m3 / (double)n;
}

/* More than two distinct values: not a 0/1 indicator or one-hot column. */
static int continuous(const float *X, size_t n, size_t d, size_t k)
{
    float a = X[k], b = a;
    for (size_t i = 1; i < n; i++) {
        float x = X[i * d + k];
        if (x == a || x == b)
            continue;
        if (a != b)
            return 1;
        b = x;
    }
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) with linear interpolation (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t i = (size_t)h;
    return i + 1 < n ? v[i] + (h - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* "robust": center = the median, scale = IQR / 1.349, else the sd, else 1.
 * work: n doubles. */
static void robust_stats(const float *X, size_t n, size_t d, size_t k, double *work, double *center, double *scale)
{
    for (size_t i = 0; i < n; i++)
        work[i] = X[i * d + k];
    qsort(work, n, sizeof *work, by_value);
    double mean, sd, iqr = quantile(work, n, 0.75) - quantile(work, n, 0.25);
    moments(X, n, d, k, 0, &mean, &sd);
    *center = quantile(work, n, 0.5);
    *scale = iqr > 0 && isfinite(iqr) ? iqr / 1.349 : sd > 0 && isfinite(sd) ? sd : 1.0;
    if (!isfinite(*center))
        *center = 0.0;
}

double reel_nn_smooth_clip(double z, double bound) { return z / sqrt(1.0 + (z / bound) * (z / bound)); }

int reel_nn_input_fit(reel_nn_input *t, reel_nn_input_mode mode, const float *X, size_t n, size_t d,
                      reel_error *err)
{
    memset(t, 0, sizeof *t);
    if (n == 0)
        return reel_fail(err, "cannot fit the net's input transform on zero training rows");
    t->d = d;
    t->mode = mode;
    t->clip_at = mode == REEL_INPUT_ROBUST ? REEL_NN_INPUT_SMOOTH : REEL_NN_INPUT_CLIP;
    size_t m = d ? d : 1;
    t->log = calloc(m, 1);
    t->clip = calloc(m, 1);
    t->center = calloc(m, sizeof *t->center);
    t->scale = calloc(m, sizeof *t->scale);
    t->numeric = calloc(m, 1);
    double *work = mode == REEL_INPUT_ROBUST ? malloc(n * sizeof *work) : NULL;
    if (!t->log || !t->clip || !t->center || !t->scale || !t->numeric || (mode == REEL_INPUT_ROBUST && !work)) {
        free(work);
        reel_nn_input_free(t);
        return reel_fail(err, "out of memory for the net's input transform");
    }
    for (size_t k = 0; k < d; k++) {
        t->numeric[k] = (uint8_t)continuous(X, n, d, k);
        if (mode == REEL_INPUT_ROBUST && t->numeric[k]) {
            t->clip[k] = 1;
            robust_stats(X, n, d, k, work, &t->center[k], &t->scale[k]);
            continue;
        }
        if (mode == REEL_INPUT_AUTO && t->numeric[k]) {
            t->clip[k] = 1;
            double before = skewness(X, n, d, k, 0);
            if (before > REEL_NN_INPUT_SKEW && fabs(skewness(X, n, d, k, 1)) < fabs(before))
                t->log[k] = 1;
        }
        double mean, sd;
        moments(X, n, d, k, t->log[k], &mean, &sd);
        t->center[k] = isfinite(mean) ? mean : 0.0;
        t->scale[k] = (sd > 0 && isfinite(sd)) ? sd : 1.0;
    }
    free(work);
    return 0;
}

void reel_nn_input_apply(const reel_nn_input *t, const float *X, size_t n, float *out)
{
    size_t d = t->d;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) {
            double z = (value(X, d, i, k, t->log[k]) - t->center[k]) / t->scale[k];
            if (t->clip[k] && t->mode == REEL_INPUT_ROBUST)
                z = reel_nn_smooth_clip(z, t->clip_at);
            else if (t->clip[k])
                z = z > t->clip_at ? t->clip_at : z < -t->clip_at ? -t->clip_at : z;
            out[i * d + k] = reel_float_clamped(z);
        }
}

void reel_nn_input_free(reel_nn_input *t)
{
    free(t->log);
    free(t->clip);
    free(t->center);
    free(t->scale);
    free(t->numeric);
    memset(t, 0, sizeof *t);
}

static cJSON *flags(const uint8_t *f, size_t d)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < d; k++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(f[k]));
    return a;
}

/* cJSON prints a double with up to 17 significant digits, enough to read
 * back the same bits. */
static cJSON *numbers(const double *v, size_t d)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < d; k++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[k]));
    return a;
}

cJSON *reel_nn_input_to_json(const reel_nn_input *t)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mode", t->mode == REEL_INPUT_AUTO     ? "auto"
                                       : t->mode == REEL_INPUT_ROBUST ? "robust"
                                                                      : "standard");
    cJSON_AddItemToObject(j, "log", flags(t->log, t->d));
    cJSON_AddItemToObject(j, "clip", flags(t->clip, t->d));
    cJSON_AddNumberToObject(j, "clip_at", t->clip_at);
    cJSON_AddItemToObject(j, "center", numbers(t->center, t->d));
    cJSON_AddItemToObject(j, "scale", numbers(t->scale, t->d));
    if (t->numeric)
        cJSON_AddItemToObject(j, "numeric", flags(t->numeric, t->d));
    return j;
}

/* j[key]: a list of d numbers, each finite (and, for flags, 0 or 1; for
 * scale, > 0). */
static int read_list(const cJSON *j, const char *key, size_t d, int what, double *out, uint8_t *out_flags,
                     reel_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != d)
        return reel_fail(err, "input transform: '%s' must be a list of %zu numbers", key, d);
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        int ok = isfinite(v) && (what != 1 || v == 0 || v == 1) && (what != 2 || v > 0);
        if (!ok)
            return reel_fail(err, "input transform: '%s'[%zu] must be %s", key, k,
                             what == 1   ? "0 or 1"
                             : what == 2 ? "a number > 0"
                                         : "a finite number");
        if (out_flags)
            out_flags[k] = (uint8_t)v;
        else
            out[k] = v;
        k++;
    }
    return 0;
}

int reel_nn_input_from_json(reel_nn_input *t, const cJSON *j, size_t d, reel_error *err)
{
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(j))
        return reel_fail(err, "input transform: missing (the model file has no kind_state.input)");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");
    const cJSON *clip_at = cJSON_GetObjectItemCaseSensitive(j, "clip_at");
    if (!cJSON_IsString(mode) || reel_nn_input_mode_parse(mode->valuestring, &t->mode))
        return reel_fail(err, "input transform: 'mode' must be \"auto\", \"robust\" or \"standard\"");
    if (!cJSON_IsNumber(clip_at) || !(clip_at->valuedouble > 0) || !isfinite(clip_at->valuedouble))
        return reel_fail(err, "input transform: 'clip_at' must be a number > 0");
    size_t m = d ? d : 1;
    t->d = d;
    t->clip_at = clip_at->valuedouble;
    t->log = calloc(m, 1);
    t->clip = calloc(m, 1);
    t->center = calloc(m, sizeof *t->center);
    t->scale = calloc(m, sizeof *t->scale);
    if (!t->log || !t->clip || !t->center || !t->scale) {
        reel_nn_input_free(t);
        return reel_fail(err, "out of memory for the net's input transform");
    }
    if (read_list(j, "log", d, 1, NULL, t->log, err) || read_list(j, "clip", d, 1, NULL, t->clip, err) ||
        read_list(j, "center", d, 0, t->center, NULL, err) || read_list(j, "scale", d, 2, t->scale, NULL, err)) {
        reel_nn_input_free(t);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(j, "numeric") &&
        (!(t->numeric = calloc(m, 1)) || read_list(j, "numeric", d, 1, NULL, t->numeric, err))) {
        if (!t->numeric)
            reel_fail(err, "out of memory for the net's input transform");
        reel_nn_input_free(t);
        return -1;
    }
    return 0;
}
