#include "data/arrays.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/size.h"

static int add_name(reel_dataset *ds, size_t j, const char *name, reel_error *err)
{
    if (!name || !*name)
        return reel_fail(err, "column %zu has no name", j + 1);
    for (size_t q = 0; q < j; q++)
        if (strcmp(ds->table.cols[q].name, name) == 0)
            return reel_fail(err, "column '%s' appears twice", name);
    if (!(ds->table.cols[j].name = strdup(name)))
        return reel_fail(err, "out of memory");
    return 0;
}

int reel_dataset_from_arrays(reel_dataset *ds, const reel_arrays *a, reel_error *err)
{
    memset(ds, 0, sizeof *ds);
    size_t n = a->n, ncols = a->d + a->t;
    if (n == 0)
        return reel_fail(err, "no rows");
    if (ncols == 0)
        return reel_fail(err, "no feature columns");
    if ((a->d && (!a->X || !a->num_names)) || (a->t && (!a->text || !a->text_names)) ||
        (a->L && (!a->Y || !a->label_names)))
        return reel_fail(err, "a column count is given without its values or names");
    /* Counts come from the caller: every product is checked before it sizes
     * a block (n = 2^61 would wrap n * 8 to a small one, then be written past). */
    size_t cells;
    if (ncols < a->d || !reel_size_mul(n, ncols, &cells) || !reel_size_mul(n, a->L, &cells) ||
        !reel_size_mul(n, sizeof(double), &cells))
        return reel_fail(err, "%zu rows x %zu columns x %zu labels is more than memory can address", n, ncols,
                         a->L);
    if (a->L && reel_label_names_check((char *const *)a->label_names, a->L, "label_names", err))
        return -1;
    reel_table *t = &ds->table;
    ds->id_col = -1;
    if (!(ds->csv_path = strdup("(arrays)")) || !(t->path = strdup("(arrays)")) ||
        !(t->cols = calloc(ncols, sizeof *t->cols)) || !(t->line = reel_malloc_n(n, sizeof *t->line)) ||
        !(ds->features = reel_malloc_n(ncols, sizeof *ds->features)))
        goto oom;
    t->ncols = ncols;
    t->nrows = n;
    for (size_t i = 0; i < n; i++)
        t->line[i] = i + 1; /* "line" of a row: its 1-based index */
    for (size_t j = 0; j < ncols; j++) {
        reel_column *c = &t->cols[j];
        reel_strdict_init(&c->dict);
        ds->features[ds->n_features++] = (int)j;
    }
    for (size_t j = 0; j < a->d; j++) {
        reel_column *c = &t->cols[j];
        if (add_name(ds, j, a->num_names[j], err))
            goto fail;
        c->type = REEL_COL_NUMERIC;
        if (!(c->num = reel_malloc_n(n, sizeof *c->num)))
            goto oom;
        for (size_t i = 0; i < n; i++) {
            double v = a->X[i * a->d + j];
            const char *why = isnan(v) ? NULL : reel_feature_number_why(v);
            if (why) { /* the checks a CSV cell gets */
                reel_fail(err, "column '%s', row %zu: %g %s", c->name, i + 1, v, why);
                goto fail;
            }
            c->num[i] = isnan(v) ? NAN : v;
            c->n_missing += isnan(v) != 0;
        }
    }
    for (size_t q = 0; q < a->t; q++) {
        size_t j = a->d + q;
        reel_column *c = &t->cols[j];
        if (add_name(ds, j, a->text_names[q], err))
            goto fail;
        c->type = REEL_COL_TEXT;
        if (!(c->code = reel_malloc_n(n, sizeof *c->code)))
            goto oom;
        for (size_t i = 0; i < n; i++) {
            const char *s = a->text[i * a->t + q];
            if (!s || reel_is_missing_token(s)) {
                c->code[i] = -1;
                c->n_missing++;
            } else if ((c->code[i] = reel_strdict_intern(&c->dict, s)) < 0) {
                goto oom;
            }
        }
    }
    ds->n = n;
    if (a->L) {
        if (!(ds->labels = calloc(a->L, sizeof *ds->labels)) || !(ds->Y = reel_malloc_n(n, a->L)))
            goto oom;
        ds->L = a->L;
        for (size_t k = 0; k < a->L; k++) {
            if (!(ds->labels[k] = strdup(a->label_names[k])))
                goto oom;
        }
        for (size_t i = 0; i < n * a->L; i++) {
            if (a->Y[i] > 1) {
                reel_fail(err, "label '%s', row %zu: %u is not 0 or 1", ds->labels[i % a->L], i / a->L + 1,
                          (unsigned)a->Y[i]);
                goto fail;
            }
            ds->Y[i] = a->Y[i];
        }
    }
    return 0;
oom:
    reel_fail(err, "out of memory for %zu rows", n);
fail:
    reel_dataset_free(ds);
    return -1;
}
