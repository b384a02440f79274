#include "dist/dist.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist_internal.h"

static int g_rank, g_size = 1;
/* Set while a map runs over the ranks: maps inside its items run locally. */
static atomic_int g_active;

void reel_dist_init(int *argc, char ***argv)
{
    if (reel_dist_mpi_init(argc, argv, &g_rank, &g_size) != 0) {
        g_rank = 0;
        g_size = 1;
    }
}

void reel_dist_finalize(int rc) { reel_dist_mpi_finalize(rc); }
int reel_dist_rank(void) { return g_rank; }
int reel_dist_size(void) { return g_size; }
int reel_dist_root(void) { return g_rank == 0; }
const char *reel_dist_library(void) { return reel_dist_mpi_library(); }

void reel_blobs_free(reel_blob *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        free(b[i].data);
        b[i] = (reel_blob){0};
    }
}

/* Every item on this process's threads. */
static int local_map(const reel_dist_job *job, int workers, int inner, reel_blob *res, reel_error *err)
{
    size_t n = job->n, first = n;
    int failed = 0;
    reel_error e0 = {{0}};
#pragma omp parallel for schedule(dynamic) num_threads(workers)
    for (size_t i = 0; i < n; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        reel_error e;
        reel_blob b = {0};
        if (job->run(job->ctx, i, inner, &b, &e)) {
            free(b.data);
#pragma omp critical(reel_dist)
            {
                if (!failed || i < first) {
                    first = i;
                    e0 = e;
                }
#pragma omp atomic write
                failed = 1;
            }
            continue;
        }
        res[i] = b;
        if (job->done) {
#pragma omp critical(reel_dist)
            job->done(job->ctx, i, &res[i]);
        }
    }
    if (failed) {
        reel_blobs_free(res, n);
        *err = e0;
        return -1;
    }
    return 0;
}

int reel_dist_map(const reel_dist_job *job, reel_blob *results, reel_error *err)
{
    memset(results, 0, job->n * sizeof *results);
    if (job->n == 0)
        return 0;
    /* The same split of threads whatever the rank count: items of a batch
     * get one thread each, a lone item all of them. */
    int threads = job->threads > 0 ? job->threads : 1;
    int par = threads > 1 && job->n > 1 && !job->whole;
    int workers = par ? threads : 1, inner = par ? 1 : threads;
    int expect = 0;
    if (g_size > 1 && atomic_compare_exchange_strong(&g_active, &expect, 1)) {
        int rc = reel_dist_mpi_map(job, workers, inner, results, err);
        atomic_store(&g_active, 0);
        return rc;
    }
    return local_map(job, workers, inner, results, err);
}
