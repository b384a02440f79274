/* Independent work spread over MPI ranks (`mpirun -np N reel ...`).
 *
 * Every rank runs the same command on the same data. At each reel_dist_map
 * the ranks take the job's items one at a time from rank 0 (whoever is free
 * gets the next), compute them with their own threads, and every rank ends
 * with every item's result, so all ranks take the same next step. Results
 * do not depend on which rank computed an item: an item's thread count
 * follows from the item count and --threads alone, and each item seeds
 * itself. Rank 0 alone prints and writes outputs (reel_dist_root).
 *
 * Without MPI, or run without mpirun, or inside an item (a forest inside a
 * search trial), a map runs its items on this process's threads. */
#ifndef REEL_DIST_H
#define REEL_DIST_H

#include <stddef.h>

#include "util/error.h"

/* Starts MPI when launched by mpirun (and MPI is built in); otherwise one
 * process. Call first in main, and reel_dist_finalize(exit status) last: a
 * rank whose command failed while the others did not (they may be waiting
 * on it) stops the whole job. */
void reel_dist_init(int *argc, char ***argv);
void reel_dist_finalize(int rc);
int reel_dist_rank(void);
int reel_dist_size(void);
/* Rank 0 (or the only process): the one that prints and writes outputs. */
int reel_dist_root(void);
/* "Open MPI v4.1.4, ..." when MPI is built in; NULL otherwise. */
const char *reel_dist_library(void);

/* One item's result: bytes the caller packs and unpacks (data may be NULL
 * when len is 0). */
typedef struct {
    void *data;
    size_t len;
} reel_blob;

void reel_blobs_free(reel_blob *b, size_t n);

typedef struct {
    size_t n;    /* items */
    int threads; /* this rank's --threads: items run in parallel, one thread each, when n > 1 */
    int whole;   /* instead: one item at a time per rank, on all its threads */
    /* Computes item i with `threads` threads into *out (malloc'ed data). */
    int (*run)(void *ctx, size_t i, int threads, reel_blob *out, reel_error *err);
    /* "trial 3 fold 2", for messages (NULL: "item i"). */
    void (*label)(void *ctx, size_t i, char *buf, size_t len);
    /* Called on rank 0 as each item's result arrives, one call at a time
     * (progress, journals); may be NULL. */
    void (*done)(void *ctx, size_t i, const reel_blob *result);
    void *ctx;
} reel_dist_job;

/* Runs every item and fills results[0..n) on every rank. When an item
 * fails, no new items start and every rank returns -1 with the same error;
 * over MPI it names the rank and the item ("rank 2, trial 3 fold 1: ..."). */
int reel_dist_map(const reel_dist_job *job, reel_blob *results, reel_error *err);

/* Rank 0's bytes on every rank: rank 0 keeps *b, the others' is replaced
 * by a malloc'ed copy. For what rank 0 alone reads (a journal the job
 * writes while a late rank would still be reading it). One process: nothing. */
void reel_dist_share(reel_blob *b);

struct cJSON;
/* At start: every rank's task (what decides the results: model, params,
 * grid, seed, split, rule, the content hashes of the inputs; no paths or
 * devices) against rank 0's. On a difference every rank fails with the
 * same message, naming the rank and the first key that differs. */
int reel_dist_agree(const struct cJSON *task, reel_error *err);

/* Test hook (REEL_DIST_FAULT=late:R): rank R waits 3 s here. */
void reel_dist_fault_late(void);

#endif
