#include "nn/multi.h"

#include <stdlib.h>

/* One net alone: train_epoch, or the steps the training loop would run. */
static int one_epoch(const reel_nn_backend *be, reel_nn_epoch_job *j, size_t n, reel_error *err)
{
    if (be->train_epoch) {
        int r = be->train_epoch(j->b, j->batch, j->opt, j->first_step, j->avg_a, err);
        if (r < 0)
            return -1;
        j->bad = r > 0;
        return 0;
    }
    j->bad = 0;
    for (size_t start = 0, k = 0; start < n; start += j->batch, k++) {
        size_t m = n - start < j->batch ? n - start : j->batch;
        int r = be->train_step(j->b, start, m, j->opt, j->first_step + (long)k + 1, NULL, err);
        if (r < 0)
            return -1;
        if (r > 0) {
            j->bad = 1;
            return 0;
        }
        if (j->avg_a && j->avg_a[k] >= 0 && be->avg_update(j->b, j->avg_a[k], err))
            return -1;
    }
    return 0;
}

int reel_nn_train_epochs(const reel_nn_backend *be, reel_nn_epoch_job *jobs, size_t K, size_t *shared,
                         reel_error *err)
{
    if (shared)
        *shared = 0;
    for (size_t i = 0; i < K; i++)
        if (jobs[i].batch == 0)
            return reel_fail(err, "train epochs: net %zu has batch size 0", i);
    if (!be->train_epochs) {
        for (size_t i = 0; i < K; i++)
            if (one_epoch(be, &jobs[i], jobs[i].rows, err))
                return -1;
        return 0;
    }
    size_t n = K ? K : 1;
    void **b = malloc(n * sizeof *b);
    size_t *batch = malloc(n * sizeof *batch);
    const reel_adamw **opt = malloc(n * sizeof *opt);
    long *first = malloc(n * sizeof *first);
    const double **avg = malloc(n * sizeof *avg);
    int *bad = malloc(n * sizeof *bad);
    int rc = 0;
    if (!b || !batch || !opt || !first || !avg || !bad)
        rc = reel_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < K; i++) {
        b[i] = jobs[i].b;
        batch[i] = jobs[i].batch;
        opt[i] = jobs[i].opt;
        first[i] = jobs[i].first_step;
        avg[i] = jobs[i].avg_a;
    }
    if (rc == 0 && be->train_epochs(b, K, batch, opt, first, avg, bad, shared, err))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < K; i++)
        jobs[i].bad = bad[i];
    free(b);
    free(batch);
    free(opt);
    free(first);
    free(avg);
    free(bad);
    return rc;
}
