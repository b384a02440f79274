/* Out-of-fold probabilities for choosing a decision rule (--decision-rows
 * oof): the model's kind fitted once per fold of the training +
 * validation rows, on the other folds, each predicting the fold it did not
 * see. The model that is kept is fitted as always; these fits only feed
 * the rule. A cross-fitted net has its own (models/model.h, oof_proba). */
#ifndef REEL_EVAL_OOF_H
#define REEL_EVAL_OOF_H

#include "eval/run.h"

/* Folds of the refits. */
enum { REEL_OOF_FOLDS = 5 };

/* Whether a decision_rows option (NULL: "auto") is known. */
int reel_decision_rows_known(const char *rows);

/* P (train.n + valid.n rows x L, the training rows then the validation
 * rows): model m's definition and params (m->name, m->params) fitted on
 * REEL_OOF_FOLDS - 1 seeded folds of p's training + validation rows (the
 * fold left out as the fit's validation rows), each row predicted by the
 * fit that did not see it. */
int reel_oof_refit(const reel_model *m, const reel_prepared *p, const reel_run_opts *o, float *P, reel_error *err);

#endif
