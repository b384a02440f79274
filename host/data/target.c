#include "data/target.h"

#include <string.h>

static const char *const NAMES[] = {"multilabel", "binary", "multiclass"};

const char *reel_target_name(reel_target_kind kind)
{
    return (unsigned)kind < sizeof NAMES / sizeof *NAMES ? NAMES[kind] : "?";
}

int reel_target_by_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof NAMES / sizeof *NAMES; i++)
        if (strcmp(name, NAMES[i]) == 0)
            return (int)i;
    return -1;
}

reel_target_kind reel_target_of_classes(size_t K) { return K == 2 ? REEL_TARGET_BINARY : REEL_TARGET_MULTICLASS; }

size_t reel_target_columns(reel_target_kind kind, size_t L) { return kind == REEL_TARGET_BINARY ? 2 : L; }

void reel_target_class_proba(reel_target_kind kind, const float *P, size_t n, size_t L, float *out)
{
    if (kind == REEL_TARGET_BINARY) {
        for (size_t i = 0; i < n; i++) {
            out[2 * i] = 1.0f - P[i];
            out[2 * i + 1] = P[i];
        }
        return;
    }
    memmove(out, P, n * L * sizeof *out);
    if (kind != REEL_TARGET_MULTICLASS)
        return;
    for (size_t i = 0; i < n; i++) {
        float *row = out + i * L;
        double sum = 0.0;
        for (size_t k = 0; k < L; k++)
            sum += row[k];
        for (size_t k = 0; k < L; k++)
            row[k] = sum > 0.0 ? (float)(row[k] / sum) : 1.0f / (float)L;
    }
}

void reel_target_class_of_rows(reel_target_kind kind, const uint8_t *Y, size_t n, size_t L, size_t *cls)
{
    for (size_t i = 0; i < n; i++) {
        if (kind == REEL_TARGET_BINARY) {
            cls[i] = Y[i] != 0;
            continue;
        }
        size_t c = 0;
        for (size_t k = 0; k < L; k++)
            if (Y[i * L + k]) {
                c = k;
                break;
            }
        cls[i] = c;
    }
}

int reel_class_names_check(char *const *names, size_t K, const char *where, reel_error *err)
{
    if (K < 2)
        return reel_fail(err, "%s: a target needs at least two classes, got %zu", where, K);
    for (size_t k = 0; k < K; k++) {
        if (!names[k] || !*names[k])
            return reel_fail(err, "%s: class %zu has an empty name", where, k + 1);
        for (size_t j = 0; j < k; j++)
            if (strcmp(names[j], names[k]) == 0)
                return reel_fail(err, "%s: class '%s' is named twice", where, names[k]);
    }
    return 0;
}
