/* Every model kind built into reel. A new kind adds one line here and a
 * models/<name>.json definition. */
#include <string.h>

#include "models/model.h"

extern const reel_model_kind reel_kind_random, reel_kind_prior;
extern const reel_model_kind reel_kind_tree, reel_kind_forest; /* classical/ */
extern const reel_model_kind reel_kind_knn, reel_kind_ridge;    /* classical/ */
extern const reel_model_kind reel_kind_mlp;                     /* nn/mlp.c */

static const reel_model_kind *const kinds[] = {
    &reel_kind_random,
    &reel_kind_prior,
    &reel_kind_tree,
    &reel_kind_forest,
    &reel_kind_knn,
    &reel_kind_ridge,
    &reel_kind_mlp,
    NULL,
};

const reel_model_kind *reel_kind_find(const char *name)
{
    for (size_t i = 0; kinds[i]; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}
