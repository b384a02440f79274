/* The report of a binary or multiclass target: what it shows instead of
 * the multi-label tables (report_tables.c), walked once for both formats.
 * The models rank by accuracy; each row has one true class and one
 * predicted class per model. */
#include <math.h>
#include <stdlib.h>

#include "eval/report_view.h"

/* A score, or "n/a" where it is not defined (ROC-AUC of rows of one class). */
static void cell_score(FILE *fp, const report_markup *mk, double x)
{
    if (isnan(x))
        report_cell(fp, mk, "num", "n/a");
    else
        report_cell_num(fp, mk, "%.4f", x);
}

static void note_text(FILE *fp, const report_markup *mk, const char *text)
{
    fputs(mk->note.open, fp);
    fputs(text, fp);
    fputs(mk->note.close, fp);
}

void report_class_header(FILE *fp, const report_view *v, const report_markup *mk)
{
    fprintf(fp, mk->meta_open, "Target");
    if (v->target == REEL_TARGET_BINARY) {
        fputs("binary, classes ", fp);
        mk->text(fp, v->classes[0]);
        fputs(" and ", fp);
        mk->text(fp, v->classes[1]);
        fputs(" (the positive class, of F1 and ROC-AUC: ", fp);
        mk->text(fp, v->classes[1]);
        fputs(")", fp);
    } else {
        fprintf(fp, "multiclass, %zu classes: ", v->K);
        for (size_t c = 0; c < v->K; c++) {
            fputs(c ? ", " : "", fp);
            mk->text(fp, v->classes[c]);
        }
    }
    fputs(mk->meta_close, fp);
}

void report_class_leaderboard(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    int binary = v->target == REEL_TARGET_BINARY;
    mk->heading(fp, "leaderboard", "Leaderboard");
    note_text(fp, mk,
              binary ? "Scores on the test rows, best accuracy first. Macro-F1 averages the two classes' F1; "
                       "F1 and ROC-AUC are the positive class's; log-loss is the mean of minus the natural log "
                       "of the probability given to the true class (lower is better). Each model decides under "
                       "the rule named (threshold: P(positive) above 0.5 unless its params set another cut, as "
                       "scikit-learn; the tuned rules are asked for by name)."
                     : "Scores on the test rows, best accuracy first. Macro-F1 averages the classes' F1; "
                       "log-loss is the mean of minus the natural log of the probability given to the true "
                       "class (lower is better). A multiclass model predicts its most probable class (argmax).");
    report_col cols[] = {
        {"#", NULL, 0, 1},        {"model", NULL, 0, 0},    {"accuracy", NULL, 0, 1}, {"macro-F1", NULL, 0, 1},
        {"log-loss", NULL, 0, 1}, {"F1", NULL, 0, 1},       {"ROC-AUC", NULL, 0, 1},  {"rule", NULL, 0, 0},
        {"fit s", NULL, 0, 1},    {"predict s", NULL, 0, 1}, {"device", NULL, 0, 0},
    };
    size_t n_cols = sizeof cols / sizeof *cols;
    if (!binary) { /* no F1 and ROC-AUC columns */
        for (size_t c = 5; c + 2 < n_cols; c++)
            cols[c] = cols[c + 2];
        n_cols -= 2;
    }
    mk->table_open(fp, NULL);
    report_head_row(fp, mk, cols, n_cols);
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        const reel_metrics *s = m->metrics;
        report_leader_row(fp, v, mk, k);
        cell_score(fp, mk, s->accuracy);
        cell_score(fp, mk, s->class_macro_f1);
        cell_score(fp, mk, s->log_loss);
        if (binary) {
            cell_score(fp, mk, s->f1);
            cell_score(fp, mk, s->roc_auc);
        }
        report_cell(fp, mk, "rule", m->rule ? m->rule : "");
        report_cell_num(fp, mk, "%.3f", m->fit_seconds);
        report_cell_num(fp, mk, "%.3f", m->predict_seconds);
        report_cell(fp, mk, "device", m->device ? m->device : "");
        fputs(mk->row_close, fp);
    }
    fputs(mk->table_close, fp);
}

/* Per class: its test rows, the best model's precision and recall, and
 * every model's F1 (leaderboard order). */
static void per_class(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    const reel_metrics *b = v->best->metrics;
    mk->heading(fp, "classes", "Scores per class");
    fputs(mk->note.open, fp);
    fputs("Precision and recall of the best model, ", fp);
    mk->text(fp, v->best->name);
    fputs(", then each model's F1 per class, in leaderboard order.", fp);
    fputs(mk->note.close, fp);
    size_t n_cols = 4 + r->n_models;
    report_col *cols = malloc(n_cols * sizeof *cols);
    if (!cols)
        return;
    cols[0] = (report_col){"class", NULL, 0, 0};
    cols[1] = (report_col){"test rows", NULL, 0, 1};
    cols[2] = (report_col){"precision", NULL, 0, 1};
    cols[3] = (report_col){"recall", NULL, 0, 1};
    for (size_t k = 0; k < r->n_models; k++)
        cols[4 + k] = (report_col){r->models[v->order[k]].name, " F1", 1, 1};
    mk->table_open(fp, NULL);
    report_head_row(fp, mk, cols, n_cols);
    free(cols);
    for (size_t c = 0; c < v->K; c++) {
        mk->row_open(fp, NULL);
        report_cell(fp, mk, "name", v->classes[c]);
        report_cell_count(fp, mk, b->class_support[c]);
        cell_score(fp, mk, b->class_precision[c]);
        cell_score(fp, mk, b->class_recall[c]);
        for (size_t k = 0; k < r->n_models; k++)
            cell_score(fp, mk, r->models[v->order[k]].metrics->class_f1[c]);
        fputs(mk->row_close, fp);
    }
    fputs(mk->table_close, fp);
}

/* The best model's confusion matrix: test rows by true class (rows) and
 * predicted class (columns). */
static void confusion(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    size_t K = v->K, n = r->n_test ? r->n_test : 1;
    size_t *count = calloc(K * K, sizeof *count);
    report_col *cols = malloc((K + 1) * sizeof *cols);
    if (!count || !cols) {
        free(count);
        free(cols);
        return;
    }
    const size_t *pred = v->predicted + (size_t)(v->best - r->models) * n;
    for (size_t i = 0; i < r->n_test; i++)
        count[v->truth[i] * K + pred[i]]++;
    mk->heading(fp, "confusion", "Confusion matrix");
    fputs(mk->note.open, fp);
    fputs("For the best model, ", fp);
    mk->text(fp, v->best->name);
    fputs(": test rows by true class (rows) and predicted class (columns).", fp);
    fputs(mk->note.close, fp);
    cols[0] = (report_col){"true \\ predicted", NULL, 1, 0};
    for (size_t c = 0; c < K; c++)
        cols[c + 1] = (report_col){v->classes[c], NULL, 1, 1};
    mk->table_open(fp, NULL);
    report_head_row(fp, mk, cols, K + 1);
    for (size_t a = 0; a < K; a++) {
        mk->row_open(fp, NULL);
        report_cell(fp, mk, "name", v->classes[a]);
        for (size_t c = 0; c < K; c++)
            report_cell_count(fp, mk, count[a * K + c]);
        fputs(mk->row_close, fp);
    }
    fputs(mk->table_close, fp);
    free(count);
    free(cols);
}

void report_class_sections(FILE *fp, const report_view *v, const report_markup *mk)
{
    per_class(fp, v, mk);
    confusion(fp, v, mk);
}

void report_class_examples(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    int probs = v->best_proba != NULL;
    size_t n = r->n_test ? r->n_test : 1;
    mk->heading(fp, "examples", "Example rows");
    fputs(mk->note.open, fp);
    fprintf(fp, "%zu test rows drawn with seed %llu. Predicted classes: %sright%s, %swrong%s.", v->n_examples,
            (unsigned long long)r->seed, mk->right.open, mk->right.close, mk->wrong.open, mk->wrong.close);
    if (probs)
        fputs(" The third column gives the best model's most probable classes.", fp);
    fputs(mk->note.close, fp);
    mk->table_open(fp, "examples");
    if (report_examples_head(fp, v, mk, "row", "true class", probs))
        return;
    char buf[32];
    for (size_t e = 0; e < v->n_examples; e++) {
        size_t row = v->examples[e];
        mk->row_open(fp, "example");
        report_cell(fp, mk, NULL, report_row_name(v, row, buf, sizeof buf));
        report_cell(fp, mk, NULL, v->classes[v->truth[row]]);
        if (probs) {
            size_t top[REPORT_TOP_PROBS];
            size_t n_top = report_top(v->best_proba + row * v->K, v->K, top);
            mk->cell_open(fp, "probs", NULL);
            for (size_t t = 0; t < n_top; t++) {
                fputs(t ? mk->prob_sep : "", fp);
                mk->text(fp, v->classes[top[t]]);
                fprintf(fp, " %.2f", (double)v->best_proba[row * v->K + top[t]]);
            }
            fputs(mk->cell_close, fp);
        }
        for (size_t k = 0; k < r->n_models; k++) {
            size_t p = v->predicted[v->order[k] * n + row];
            int right = p == v->truth[row];
            mk->cell_open(fp, NULL, NULL);
            fputs(right ? mk->right.open : mk->wrong.open, fp);
            mk->text(fp, v->classes[p]);
            fputs(right ? mk->right.close : mk->wrong.close, fp);
            fputs(mk->cell_close, fp);
        }
        fputs(mk->row_close, fp);
    }
    fputs(mk->table_close, fp);
}
