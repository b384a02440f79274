#include "data/prepared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timer.h"

static void part_free(reel_part *p)
{
    free(p->X[0]);
    free(p->X[1]);
    free(p->Y);
    memset(p, 0, sizeof *p);
}

void reel_prepared_free(reel_prepared *p)
{
    part_free(&p->train);
    part_free(&p->valid);
    part_free(&p->test);
    free(p->feature_names);
    reel_preproc_free(&p->pre);
    reel_split_free(&p->split);
    reel_dataset_free(&p->ds);
    memset(p, 0, sizeof *p);
}

static int make_part(reel_prepared *p, reel_part *part, const size_t *rows, size_t n, reel_error *err)
{
    part->n = n;
    part->rows = rows;
    size_t cells = (n ? n : 1) * p->d;
    part->X[0] = malloc(cells * sizeof(float));
    part->X[1] = malloc(cells * sizeof(float));
    part->Y = malloc((n ? n : 1) * p->L);
    if (!part->X[0] || !part->X[1] || !part->Y)
        return reel_fail(err, "out of memory for %zu x %zu features", n, p->d);
    if (reel_preproc_transform(&p->pre, &p->ds.table, rows, n, 0, part->X[0], err))
        return -1;
    memcpy(part->X[1], part->X[0], n * p->d * sizeof(float));
    reel_preproc_standardize(&p->pre, part->X[1], n);
    for (size_t i = 0; i < n; i++)
        memcpy(part->Y + i * p->L, p->ds.Y + rows[i] * p->L, p->L);
    return 0;
}

int reel_prepare(reel_prepared *p, const reel_prepare_opts *o, reel_error *err)
{
    memset(p, 0, sizeof *p);
    double t0 = reel_now();
    if (reel_dataset_load(&p->ds, &o->data, err))
        return -1;
    if (reel_split_make(&p->split, &p->ds, &o->split, err))
        goto fail;
    if (reel_preproc_fit(&p->pre, &p->ds, p->split.train, p->split.n_train, o->top_k, err))
        goto fail;
    p->d = p->pre.d;
    p->L = p->ds.L;
    p->feature_names = malloc(p->d * sizeof *p->feature_names);
    for (size_t k = 0; k < p->d; k++)
        p->feature_names[k] = p->pre.f[k].name;
    if (make_part(p, &p->train, p->split.train, p->split.n_train, err) ||
        make_part(p, &p->valid, p->split.valid, p->split.n_valid, err) ||
        make_part(p, &p->test, p->split.test, p->split.n_test, err))
        goto fail;
    p->load_seconds = reel_now() - t0;
    return 0;
fail:
    reel_prepared_free(p);
    return -1;
}

void reel_prepared_warn(const reel_prepared *p)
{
    for (size_t k = 0; k < p->L; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < p->train.n; i++)
            pos += p->train.Y[i * p->L + k];
        if (pos == 0)
            fprintf(stderr, "reel: warning: label '%s' is never positive in the %zu training rows; models "
                    "will not learn to predict it\n", p->ds.labels[k], p->train.n);
    }
}
