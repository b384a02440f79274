#include "eval/oof.h"

#include <stdlib.h>
#include <string.h>

#include "data/split.h"

int reel_decision_rows_known(const char *rows)
{
    return !rows || strcmp(rows, "auto") == 0 || strcmp(rows, "oof") == 0;
}

/* Pooled row i (training rows, then validation rows) of p. */
static const reel_part *pooled(const reel_prepared *p, size_t i, size_t *at)
{
    if (i < p->train.n) {
        *at = i;
        return &p->train;
    }
    *at = i - p->train.n;
    return &p->valid;
}

/* The pooled rows whose fold is (or, with out, is not) f, as a part:
 * raw and, when p has them, standardised features. */
static int fold_part(const reel_prepared *p, const int *fold, size_t n, int f, int out, reel_part *dst,
                     reel_error *err)
{
    size_t d = p->d, L = p->L, m = 0;
    for (size_t i = 0; i < n; i++)
        m += (fold[i] == f) != out;
    int std = p->train.X[1] != NULL;
    memset(dst, 0, sizeof *dst);
    dst->n = m;
    dst->X[0] = malloc((m ? m : 1) * d * sizeof(float));
    dst->X[1] = std ? malloc((m ? m : 1) * d * sizeof(float)) : NULL;
    dst->Y = malloc((m ? m : 1) * L);
    if (!dst->X[0] || (std && !dst->X[1]) || !dst->Y)
        return reel_fail(err, "out of memory for a fold of %zu rows", m);
    for (size_t i = 0, r = 0; i < n; i++) {
        if ((fold[i] == f) == out)
            continue;
        size_t at;
        const reel_part *src = pooled(p, i, &at);
        for (int k = 0; k < 1 + std; k++)
            memcpy(dst->X[k] + r * d, src->X[k] + at * d, d * sizeof(float));
        memcpy(dst->Y + r++ * L, src->Y + at * L, L);
    }
    return 0;
}

static void part_free(reel_part *x)
{
    free(x->X[0]);
    free(x->X[1]);
    free(x->Y);
}

int reel_oof_refit(const reel_model *m, const reel_prepared *p, const reel_run_opts *o, float *P, reel_error *err)
{
    size_t n = p->train.n + p->valid.n, L = p->L;
    if (n < REEL_OOF_FOLDS)
        return reel_fail(err, "--decision-rows oof: %zu training and validation rows, fewer than its %d folds", n,
                         REEL_OOF_FOLDS);
    int *fold = malloc(n * sizeof *fold);
    if (!fold)
        return reel_fail(err, "out of memory");
    /* a stream of its own, apart from the split's and the models' */
    int rc = reel_kfold(n, REEL_OOF_FOLDS, o->seed ^ 0x6f6f6672756c6573ULL, fold, err);
    /* the refits: no history files, no checkpoints, no notes (the kept fit says them) */
    reel_log quiet = reel_log_progress_and_warnings(o->log);
    reel_run_opts fo = *o;
    fo.out_dir = NULL;
    fo.checkpoint = NULL;
    fo.log = o->log ? &quiet : NULL;
    float *Pf = malloc(n * L * sizeof *Pf);
    if (rc == 0 && !Pf)
        rc = reel_fail(err, "out of memory for %zu out-of-fold probabilities", n);
    for (int f = 0; rc == 0 && f < REEL_OOF_FOLDS; f++) {
        reel_part tr = {0}, va = {0};
        reel_model fm;
        int made = 0;
        rc = fold_part(p, fold, n, f, 1, &tr, err) || fold_part(p, fold, n, f, 0, &va, err) ? -1 : 0;
        if (rc == 0 && reel_model_init(&fm, m->name, m->params, err) == 0) {
            made = 1;
            reel_fit_ctx c = reel_fit_ctx_for(p, &fm, &tr, &va, &fo);
            rc = reel_model_fit(&fm, &c, err) ||
                         (va.n && reel_model_predict_proba(&fm, reel_part_X(&va, &fm), va.n, Pf, err))
                     ? -1
                     : 0;
        } else if (rc == 0) {
            rc = -1;
        }
        for (size_t i = 0, r = 0; rc == 0 && i < n; i++)
            if (fold[i] == f)
                memcpy(P + i * L, Pf + r++ * L, L * sizeof *P);
        if (made)
            reel_model_free(&fm);
        part_free(&tr);
        part_free(&va);
    }
    free(Pf);
    free(fold);
    return rc;
}
