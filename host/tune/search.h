/* Hyperparameter search over a grid ({key: [values]}), scored without the
 * test rows (tune/scorer.h). Strategies:
 *  one-at-a-time  each key alone over its values, the others at their
 *                 defaults; then the individually best values combined
 *                 (the original system's method);
 *  coordinate     keys in turn, each set to its best value given the best
 *                 found so far, until a full pass changes nothing;
 *  grid           the full Cartesian product;
 *  random         `budget` distinct samples of the product (seeded). */
#ifndef REEL_SEARCH_H
#define REEL_SEARCH_H

#include <cjson/cJSON.h>

#include "tune/scorer.h"
#include "tune/spread.h"

typedef struct {
    cJSON *params; /* the user-level params of this trial (base + changes) */
    double score, score_std; /* under the scorer's decision rule: what the search maximises */
    double plain, plain_std; /* at the model's own thresholds, for comparison */
    double seconds;
    size_t shared; /* the most nets that trained in one launch with one of its folds (0: alone) */
} reel_trial;

typedef struct {
    const char *strategy;
    int budget;  /* random */
    int threads; /* trials run in parallel, one thread each, when > 1 */
    const reel_log *log; /* trials' progress (NULL: none) */
    /* tune/journal.h (NULL: none): its trials are not fitted again, and
     * each finished trial is added to it */
    struct reel_journal *journal;
} reel_search_opts;

typedef struct {
    reel_trial *trials; /* every distinct trial, in the order run */
    size_t n;
    size_t best;    /* index of the best trial */
    size_t base;    /* index of the trial with the base (default) params */
    reel_tune_round *rounds; /* each round of trials fitted at once (a sweep, the grid, the combination),
                                those the journal held counted as fitted then (a resumed search
                                reports the rounds of an uninterrupted one); not those an earlier
                                round held */
    size_t n_rounds;
} reel_search_result;

/* base: the params every trial starts from (may be NULL = defaults). */
int reel_search(const reel_scorer *s, const cJSON *grid, const cJSON *base, const reel_search_opts *o,
                reel_search_result *r, reel_error *err);
void reel_search_result_free(reel_search_result *r);
/* The result as reel search --format json writes it, with the best
 * params' test score (reel_score_test). */
cJSON *reel_search_json(const reel_search_result *r, const reel_scorer *s, const char *strategy,
                        const reel_test_score *test);

int reel_strategy_known(const char *name);

#endif
