#include "dist/dist.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist_internal.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/timer.h"

static int g_rank, g_size = 1;
/* Set while a map runs over the ranks: maps inside its items run locally. */
static atomic_int g_active;

void reel_dist_init(int *argc, char ***argv)
{
    if (reel_dist_mpi_init(argc, argv, &g_rank, &g_size) != 0) {
        g_rank = 0;
        g_size = 1;
    }
    reel_outputs_discard(g_rank != 0); /* rank 0 alone writes the outputs */
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

/* An interrupt (util/interrupt.h) starts no new item: the map fails. */
static int stopped_before(const reel_dist_job *job, size_t i, reel_error *err)
{
    char what[128];
    if (job->label)
        job->label(job->ctx, i, what, sizeof what);
    else
        snprintf(what, sizeof what, "item %zu", i + 1);
    return reel_fail(err, "%s: stopped before %s of %zu", reel_interrupt_name(), what, job->n);
}

/* Every item on this process's threads. */
static int local_map(const reel_dist_job *job, int workers, int inner, reel_blob *res, double *item_s,
                     reel_error *err)
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
        double t0 = reel_now();
        int rc = reel_interrupted() ? stopped_before(job, i, &e) : job->run(job->ctx, i, inner, &b, &e);
        if (item_s)
            item_s[i] = reel_now() - t0;
        if (rc) {
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

static void write_stats(const char *path, const reel_dist_job *job, int workers, double wall, double bcast_s,
                        const reel_blob *results, const double *item_s)
{
    FILE *fp = fopen(path, "a");
    if (!fp)
        return;
    size_t bytes = 0;
    for (size_t i = 0; i < job->n; i++)
        bytes += results[i].len;
    fprintf(fp, "{\"ranks\": %d, \"workers\": %d, \"items\": %zu, \"wall_s\": %.6f, \"bcast_s\": %.6f, "
            "\"bytes\": %zu, \"item_s\": [", g_size, workers, job->n, wall, bcast_s, bytes);
    for (size_t i = 0; i < job->n; i++)
        fprintf(fp, "%s%.6f", i ? ", " : "", item_s[i]);
    fprintf(fp, "]}\n");
    fclose(fp);
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
    /* REEL_DIST_STATS=FILE: rank 0 appends one JSON line per top-level map
     * (items, ranks, wall, broadcast seconds and bytes, each item's seconds)
     * for bench/bench_mpi.py's model of more ranks. */
    const char *stats = getenv("REEL_DIST_STATS");
    int expect = 0, top = atomic_compare_exchange_strong(&g_active, &expect, 1);
    double *item_s = stats && top ? calloc(job->n, sizeof *item_s) : NULL, bcast_s = 0, t0 = reel_now();
    int rc = top && g_size > 1 ? reel_dist_mpi_map(job, workers, inner, results, item_s, &bcast_s, err)
                               : local_map(job, workers, inner, results, item_s, err);
    if (top)
        atomic_store(&g_active, 0);
    if (item_s && rc == 0 && g_rank == 0)
        write_stats(stats, job, workers, reel_now() - t0, bcast_s, results, item_s);
    free(item_s);
    return rc;
}
