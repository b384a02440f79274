/* The search journal: every finished trial (params, score and std under
 * the decision rule and at the model's thresholds, seconds), rewritten
 * atomically after each one, under an identity of what decides a trial's
 * score (model, data, split, seed, folds, metric, decision rule, base
 * params).
 * A search run again with --resume takes the journal's trials instead of
 * fitting them again; the grid and strategy may change (trials are known
 * by their params), the identity may not. */
#ifndef REEL_JOURNAL_H
#define REEL_JOURNAL_H

#include <cjson/cJSON.h>

#include "tune/search.h"
#include "util/error.h"

typedef struct reel_journal {
    char *path;
    cJSON *doc; /* {"reel_search_journal": 1, "identity": {...}, "trials": [...]} */
    size_t resumed; /* trials read back from the file */
} reel_journal;

/* Adds to an identity "content": {flag: hash of the file's bytes} for
 * each path (NULL skipped) and "version": a resumed search must run on the
 * same data, params and features, by the same reel. */
int reel_journal_identity_files(cJSON *identity, const char *const *flags, const char *const *paths, size_t n,
                                reel_error *err);
/* resume: read path (a missing file starts empty) and refuse a journal of
 * another search, naming the first key that differs; otherwise start
 * empty (the file is replaced at the first trial). Takes identity. */
int reel_journal_open(reel_journal *j, const char *path, cJSON *identity, int resume, reel_error *err);
/* The journal's trial with these params (compared by `same`), or NULL. */
const cJSON *reel_journal_find(const reel_journal *j, const cJSON *params,
                               int (*same)(void *ctx, const cJSON *a, const cJSON *b), void *ctx);
/* Adds a finished trial and rewrites the file atomically. */
int reel_journal_add(reel_journal *j, const reel_trial *t, reel_error *err);
void reel_journal_free(reel_journal *j);

#endif
