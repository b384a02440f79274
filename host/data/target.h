/* What a dataset's target is, and what a model trained on it outputs.
 *
 *   multilabel  an n x L 0/1 matrix: each row any set of the L labels (reel's
 *               original target; every default below is for it)
 *   binary      one column of two classes; the model has one output,
 *               P(classes[1]) (the "positive" class, the larger one in the
 *               caller's order, as scikit-learn's), so every multi-label
 *               model is a binary one with L = 1
 *   multiclass  one column of K >= 3 classes; the model has K outputs, one
 *               per class, trained on one-hot rows (Y n x K with one 1)
 *
 * Classes keep the order they arrive in (the caller sorts them: Python as
 * numpy.unique, the CLI numbers numerically and text by bytes). */
#ifndef REEL_TARGET_H
#define REEL_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum {
    REEL_TARGET_MULTILABEL = 0, /* the zero value: what a struct left blank means */
    REEL_TARGET_BINARY = 1,
    REEL_TARGET_MULTICLASS = 2,
} reel_target_kind;

/* "multilabel", "binary", "multiclass". */
const char *reel_target_name(reel_target_kind kind);
/* The kind named `name`; -1 when none. */
int reel_target_by_name(const char *name);
/* The kind a column of K classes makes (2: binary, more: multiclass). */
reel_target_kind reel_target_of_classes(size_t K);

/* Columns of class probabilities: K for a single-column target, the model's
 * L outputs for a multi-label one. */
size_t reel_target_columns(reel_target_kind kind, size_t L);

/* Class probabilities (n x reel_target_columns) from a model's outputs
 * P (n x L): binary [1 - p, p]; multiclass each row scaled to sum to 1 (a
 * row of zeros: 1/K each); multilabel a copy. */
void reel_target_class_proba(reel_target_kind kind, const float *P, size_t n, size_t L, float *out);

/* The class of each row (n) from one-hot or binary rows Y (n x L). */
void reel_target_class_of_rows(reel_target_kind kind, const uint8_t *Y, size_t n, size_t L, size_t *cls);

/* Class names as every entry point takes them: K >= 2 of them, each
 * non-empty and named once; `where` starts the message. */
int reel_class_names_check(char *const *names, size_t K, const char *where, reel_error *err);

#endif
