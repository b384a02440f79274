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
    double score, score_std, seconds; /* filled: mean and std over folds (under the rule), fit seconds summed */
    double plain, plain_std; /* filled: the same at the model's own thresholds */
    size_t shared; /* filled: the most fits that shared a launch with one of its folds (0: trained alone) */
    /* The rule of each fold's score (reel_fold_rule); all 0: the scorer's. */
    int choose;                  /* in: each fold's rule chosen on its validation part (a selection's reference) */
    const reel_rule_name *under; /* in: per fold, the rule to score under (NULL: the scorer's) */
    reel_rule_name *chosen;      /* filled with choose: per fold, the rule chosen (the caller's array) */
} reel_score_task;

/* When the scorer's fits train together (reel_scorer_together: nets on a
 * device), each rank's share of the tasks x folds trains at once
 * (reel_score_folds_together: one launch per epoch), and a fold's seconds
 * are its share of that run's wall time; otherwise the items run one per
 * thread. on_done (may be NULL) runs on rank 0, one call at a time, as each task's
 * last fold arrives: progress lines and the search journal. */
int reel_score_tasks(const reel_scorer *s, reel_score_task *tasks, size_t n, int threads,
                     void (*on_done)(void *ctx, size_t task, const reel_score_task *t), void *ctx,
                     reel_error *err);

/* A round: tasks scored at once (a search's sweep, a selection's
 * candidates), their fits (x folds) and the most fits that trained in one
 * launch (0: one at a time, in parallel threads). */
typedef struct {
    size_t tasks, fits, shared;
} reel_tune_round;

/* Appends the round of tasks[0..n) scored by s to *rounds (*n_rounds of
 * them); _append: a round already counted. */
void reel_tune_round_add(reel_tune_round **rounds, size_t *n_rounds, const reel_scorer *s,
                         const reel_score_task *tasks, size_t n);
/* [{task_key: tasks, "fits", "nets_per_launch"}, ...] */
void reel_tune_round_append(reel_tune_round **rounds, size_t *n_rounds, reel_tune_round rd);
cJSON *reel_tune_rounds_json(const reel_tune_round *rounds, size_t n_rounds, const char *task_key);

#endif
