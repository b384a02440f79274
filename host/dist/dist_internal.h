/* What dist.c and the MPI transport (dist_mpi.c) share. */
#ifndef REEL_DIST_INTERNAL_H
#define REEL_DIST_INTERNAL_H

#include "dist/dist.h"

/* Starts MPI when launched by mpirun; 0 and size 1 otherwise. */
int reel_dist_mpi_init(int *argc, char ***argv, int *rank, int *size);
/* rc: the command's exit status; a rank that failed alone stops the job. */
void reel_dist_mpi_finalize(int rc);
const char *reel_dist_mpi_library(void);
/* The map over ranks: `workers` threads per rank, each item on `inner`
 * threads. On rank 0: each item's seconds into item_s (may be NULL), and
 * the seconds spent broadcasting the results into *bcast_s. */
int reel_dist_mpi_map(const reel_dist_job *job, int workers, int inner, reel_blob *results, double *item_s,
                      double *bcast_s, reel_error *err);
/* Rank 0's blob to every rank (the others' *b is replaced, malloc'ed). */
void reel_dist_mpi_share(reel_blob *b);
/* On rank 0: every rank's blob into all[0..size) (malloc'ed); the
 * others send theirs (all unused). */
void reel_dist_mpi_gather(const reel_blob *mine, reel_blob *all);

#endif
