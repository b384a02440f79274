/* A dataset whose target is one column of classes (data/target.h). */
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "util/size.h"

int reel_dataset_set_classes(reel_dataset *ds, size_t K, const char *const *names, const size_t *y,
                             reel_error *err)
{
    if (reel_class_names_check((char *const *)names, K, "classes", err))
        return -1;
    for (size_t i = 0; i < ds->n; i++)
        if (y[i] >= K)
            return reel_fail(err, "classes: row %zu has class %zu; there are %zu classes (0 to %zu)", i + 1, y[i],
                             K, K - 1);
    reel_target_kind kind = reel_target_of_classes(K);
    size_t L = kind == REEL_TARGET_BINARY ? 1 : K, cells = 0;
    char **classes = calloc(K, sizeof *classes), **labels = calloc(L, sizeof *labels);
    uint8_t *Y = reel_size_mul(ds->n ? ds->n : 1, L, &cells) ? calloc(cells, 1) : NULL;
    int ok = classes && labels && Y;
    for (size_t k = 0; ok && k < K; k++)
        ok = (classes[k] = strdup(names[k])) != NULL;
    for (size_t k = 0; ok && k < L; k++)
        ok = (labels[k] = strdup(names[kind == REEL_TARGET_BINARY ? 1 : k])) != NULL;
    if (!ok) {
        reel_label_list_free(classes, classes ? K : 0);
        reel_label_list_free(labels, labels ? L : 0);
        free(Y);
        return reel_fail(err, "out of memory for %zu classes", K);
    }
    for (size_t i = 0; i < ds->n; i++) {
        if (kind == REEL_TARGET_BINARY)
            Y[i] = y[i] == 1;
        else
            Y[i * L + y[i]] = 1;
    }
    reel_label_list_free(ds->labels, ds->L);
    reel_label_list_free(ds->classes, ds->K);
    free(ds->Y);
    ds->labels = labels;
    ds->L = L;
    ds->Y = Y;
    ds->classes = classes;
    ds->K = K;
    ds->target = kind;
    return 0;
}
