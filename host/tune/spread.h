/* Scores many (params, feature mask) tasks, each over its folds, as one
 * map of tasks x folds items (host/dist: over the MPI ranks, or this
 * process's threads): search trials and selection candidates. Scores are
 * the same bits as reel_score gives, whoever computed each fold. */
#ifndef REEL_SPREAD_H
#define REEL_SPREAD_H

#include "tune/scorer.h"

typedef struct {
    const cJSON *params;
    const uint8_t *mask; /* NULL: every feature */
    const char *label;   /* names the task in messages: "trial 3 {...}" */
    double score, score_std, seconds; /* filled: mean and std over folds, fit seconds summed */
} reel_score_task;

/* on_done (may be NULL) runs on rank 0, one call at a time, as each task's
 * last fold arrives: progress lines and the search journal. */
int reel_score_tasks(const reel_scorer *s, reel_score_task *tasks, size_t n, int threads,
                     void (*on_done)(void *ctx, size_t task, const reel_score_task *t), void *ctx,
                     reel_error *err);

#endif
