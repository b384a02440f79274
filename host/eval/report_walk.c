/* The report's one walk: the page, the header's lines, the sections in
 * order and the example films, in the markup of either format
 * (report_html.c, report_md.c), so that both files say the same things. */
#include "eval/report_view.h"

/* The models with a training history (nets), in the leaderboard's order. */
static void training(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    int any = 0;
    for (size_t k = 0; k < r->n_models; k++) {
        const reel_report_model *m = &r->models[v->order[k]];
        if (m->epochs == 0)
            continue;
        fputs(any ? "" : mk->training_heading, fp);
        any = 1;
        mk->trained(fp, m);
    }
}

static void meta_open(FILE *fp, const report_markup *mk, const char *key)
{
    fprintf(fp, mk->meta_open, key);
}

/* A header line whose value is text from the data, inside `tag` (NULL: none). */
static void meta_text(FILE *fp, const report_markup *mk, const char *key, const report_tag *tag, const char *text)
{
    meta_open(fp, mk, key);
    fputs(tag ? tag->open : "", fp);
    mk->text(fp, text);
    fputs(tag ? tag->close : "", fp);
    fputs(mk->meta_close, fp);
}

/* What each model ran with, to run it again. */
static void params(FILE *fp, const reel_report *r, const report_markup *mk)
{
    size_t with_params = 0;
    for (size_t i = 0; i < r->n_models; i++)
        with_params += r->models[i].params != NULL;
    fputs(with_params ? mk->params.open : mk->no_params, fp);
    for (size_t i = 0; i < r->n_models; i++) {
        if (!r->models[i].params)
            continue;
        fputs(mk->param[0], fp);
        mk->text(fp, r->models[i].name);
        fputs(mk->param[1], fp);
        mk->text(fp, r->models[i].params);
        fputs(mk->param[2], fp);
    }
    fputs(with_params ? mk->params.close : "", fp);
}

static void header(FILE *fp, const report_view *v, const report_markup *mk)
{
    const reel_report *r = v->r;
    fputs(mk->title.open, fp);
    mk->text(fp, r->title ? r->title : "reel compare");
    fputs(mk->title.close, fp);
    meta_text(fp, mk, "Dataset", &mk->code, r->dataset_path ? r->dataset_path : "(unnamed)");
    meta_open(fp, mk, "Rows");
    fprintf(fp, mk->rows_format, r->n_rows, r->n_train, r->n_valid, r->n_test);
    fputs(mk->meta_close, fp);
    char features[96];
    meta_open(fp, mk, "Features");
    fputs(report_features(r, features, sizeof features), fp);
    fputs(mk->meta_close, fp);
    if (v->target != REEL_TARGET_MULTILABEL) {
        report_class_header(fp, v, mk);
    } else {
        fprintf(fp, mk->labels_open, r->L);
        for (size_t j = 0; j < r->L; j++) {
            fputs(j ? ", " : "", fp);
            mk->text(fp, r->labels[j]);
        }
        fputs(mk->meta_close, fp);
    }
    if (v->best) {
        meta_open(fp, mk, "Best model");
        fputs(mk->strong.open, fp);
        mk->text(fp, v->best->name);
        fputs(mk->strong.close, fp);
        if (v->target != REEL_TARGET_MULTILABEL)
            fprintf(fp, ", accuracy %.4f", v->best->metrics->accuracy);
        else
            fprintf(fp, ", samples-F1 %.4f", v->best->metrics->samples_f1);
        fputs(mk->meta_close, fp);
    }
    meta_open(fp, mk, "Seed");
    fprintf(fp, "%llu", (unsigned long long)r->seed);
    fputs(mk->meta_close, fp);
    meta_open(fp, mk, "reel");
    fputs(REEL_VERSION, fp);
    fputs(mk->meta_close, fp);
    if (r->date)
        meta_text(fp, mk, "Date", NULL, r->date);
    if (r->command)
        meta_text(fp, mk, "Command", &mk->code, r->command);
    params(fp, r, mk);
    mk->meta_end(fp, v);
}

static void note(FILE *fp, const report_markup *mk, const char *text)
{
    fputs(mk->note.open, fp);
    fputs(text, fp);
    fputs(mk->note.close, fp);
}

static void leaderboard(FILE *fp, const report_view *v, const report_markup *mk)
{
    mk->heading(fp, "leaderboard", "Leaderboard");
    note(fp, mk, mk->leaderboard_note);
    mk->table_open(fp, NULL);
    report_table_leaderboard(fp, v, mk);
    fputs(mk->table_close, fp);
    if (mk->leaderboard_end)
        mk->leaderboard_end(fp, v);
}

static void examples(FILE *fp, const report_view *v, const report_markup *mk)
{
    mk->heading(fp, "examples", "Example films");
    fputs(mk->note.open, fp);
    fprintf(fp, "%zu test films drawn with seed %llu. Predicted genres: %sright%s, %swrong%s.", v->n_examples,
            (unsigned long long)v->r->seed, mk->right.open, mk->right.close, mk->wrong.open, mk->wrong.close);
    if (v->best && v->best->P)
        fputs(mk->examples_probs, fp);
    fputs(mk->note.close, fp);
    mk->table_open(fp, "examples");
    report_table_examples(fp, v, mk);
    fputs(mk->table_close, fp);
}

void report_write(FILE *fp, const report_view *v, const report_markup *mk)
{
    mk->page_open(fp, v);
    header(fp, v, mk);
    int classes = v->target != REEL_TARGET_MULTILABEL;
    if (v->best) {
        if (classes)
            report_class_leaderboard(fp, v, mk);
        else
            leaderboard(fp, v, mk);
        if (mk->scores)
            mk->scores(fp, v);
        training(fp, v, mk);
        if (classes)
            report_class_sections(fp, v, mk);
        else
            for (const report_section *s = mk->sections; *s; s++)
                (*s)(fp, v);
    } else {
        fputs(mk->no_models, fp);
    }
    if (classes)
        report_class_examples(fp, v, mk);
    else
        examples(fp, v, mk);
    fputs(mk->page_close, fp);
}
