/* libreel: train, compare and run multi-label classifiers on tabular data.
 *
 * The library never prints and never exits. Messages and progress go to
 * the log callback the caller sets (none: silent). */
#ifndef REEL_H
#define REEL_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- log: messages and progress ---- */

typedef enum {
    REEL_LOG_INFO = 0,    /* progress and notes (the CLI's --quiet drops them) */
    REEL_LOG_WARNING = 1, /* something the user should act on; the run goes on */
} reel_log_level;

typedef enum {
    REEL_PROGRESS_NONE = 0, /* a plain message */
    REEL_PROGRESS_EPOCH,    /* a net finished an epoch */
    REEL_PROGRESS_TRIAL,    /* a search scored one set of params */
    REEL_PROGRESS_FEATURE,  /* feature selection scored without one feature */
} reel_progress_kind;

/* A progress record: the numbers behind a progress message. Fields that do
 * not apply to the kind are NaN (doubles), 0 (counts) or NULL. */
typedef struct {
    reel_progress_kind kind;
    const char *model;     /* the model's name */
    long done, total;      /* epoch or trial `done` of `total` (a search's total is an estimate) */
    double loss;           /* epoch: mean training loss */
    double valid_loss;     /* epoch: validation loss */
    double valid_f1;       /* epoch: validation samples-F1 */
    double score;          /* trial, feature: the score */
    double samples_per_s;  /* epoch */
    double elapsed_s;      /* since the training or search began */
    double eta_s;          /* epoch: estimated seconds left */
    const char *what;      /* trial: its params as JSON; feature: its name */
} reel_progress;

/* Called with one line of text (no trailing newline) and, for progress,
 * its record (else NULL). Calls are serialised: never two at once. */
typedef void (*reel_log_fn)(void *user, reel_log_level level, const char *message,
                            const reel_progress *progress);

#ifdef __cplusplus
}
#endif

#endif
