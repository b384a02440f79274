/* reel_report_write: builds the view (report_view.c), then writes
 * report.html and report.md, each to a temporary file first so that a
 * reader sees both or neither. */
#include "eval/report.h"

#include <stdlib.h>

#include "eval/report_view.h"
#include "util/fileio.h"
#include "util/outfile.h"

static int check_report(const reel_report *r, reel_error *err)
{
    if (r->L == 0 || !r->labels)
        return reel_fail(err, "report: no labels");
    if (r->n_test > 0 && !r->Y)
        return reel_fail(err, "report: %zu test rows but no true labels", r->n_test);
    if (r->n_models > 0 && !r->models)
        return reel_fail(err, "report: %zu models but no model results", r->n_models);
    for (size_t i = 0; i < r->n_models; i++) {
        const reel_report_model *m = &r->models[i];
        const char *name = m->name ? m->name : "(unnamed)";
        if (!m->name)
            return reel_fail(err, "report: model %zu has no name", i + 1);
        if (!m->metrics || !m->metrics->label_f1)
            return reel_fail(err, "report: model %s has no metrics", name);
        if (m->metrics->L != r->L)
            return reel_fail(err, "report: model %s has metrics for %zu labels, the report has %zu", name,
                             m->metrics->L, r->L);
        if (r->n_test > 0 && !m->pred)
            return reel_fail(err, "report: model %s has no predictions", name);
        const reel_metrics *first = r->models[0].metrics;
        if (m->metrics->target != first->target || m->metrics->K != first->K)
            return reel_fail(err, "report: model %s has a %s target of %zu classes, model %s a %s one of %zu", name,
                             reel_target_name(m->metrics->target), m->metrics->K, r->models[0].name,
                             reel_target_name(first->target), first->K);
        if (m->metrics->target != REEL_TARGET_MULTILABEL && !m->metrics->class_names)
            return reel_fail(err, "report: model %s has no class names", name);
    }
    return 0;
}

int reel_report_write(const char *dir, const reel_report *r, reel_error *err)
{
    if (check_report(r, err))
        return -1;
    report_view v;
    int rc = report_view_init(&v, r, err);

    char *html_path = reel_path_join(dir, "report.html"), *md_path = reel_path_join(dir, "report.md");
    reel_outfile html = {0}, md = {0};
    if (rc == 0 && (!html_path || !md_path))
        rc = reel_fail(err, "report: out of memory");
    if (rc == 0 && (rc = reel_outfile_open(&html, html_path, err)) == 0) {
        report_write(html.fp, &v, &REPORT_HTML);
        if ((rc = reel_outfile_open(&md, md_path, err)) != 0)
            reel_outfile_abort(&html);
    }
    if (rc == 0) {
        report_write(md.fp, &v, &REPORT_MD);
        /* Write errors surface in commit, which then removes the temp file. */
        if ((rc = reel_outfile_commit(&html, err)) != 0)
            reel_outfile_abort(&md);
        else if ((rc = reel_outfile_commit(&md, err)) != 0)
            remove(html_path); /* keep the pair consistent: no html without its md */
    }
    free(html_path);
    free(md_path);
    report_view_free(&v);
    return rc;
}
