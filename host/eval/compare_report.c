/* compare's report.html and report.md (eval/report.h) from its runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/compare.h"
#include "eval/report.h"

/* The rule's thresholds or calibration in words; "" when it cuts at the
 * model's own thresholds. */
static const char *rule_detail(const reel_model *m, char *const *labels, char *buf, size_t size)
{
    const reel_decision *r = &m->rule;
    buf[0] = 0;
    if (r->kind == REEL_RULE_EXPECTED_F1) {
        if (r->calibrated)
            snprintf(buf, size, "probabilities calibrated per label (Platt) on the validation rows");
        return buf;
    }
    int same = 1;
    for (size_t k = 0; k < m->L; k++)
        same &= r->threshold[k] == m->threshold[k];
    if (same)
        return buf;
    if (r->kind == REEL_RULE_TUNED_GLOBAL) {
        snprintf(buf, size, "threshold %.4g for every label", (double)r->threshold[0]);
        return buf;
    }
    size_t n = 0;
    for (size_t k = 0; k < m->L && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s %.3g", k ? ", " : "thresholds ", labels[k],
                              (double)r->threshold[k]);
    return buf;
}

/* Each test row's id: the id column's cell, else its line in the CSV. */
static char **row_ids(const reel_prepared *p)
{
    char **ids = calloc(p->test.n ? p->test.n : 1, sizeof *ids);
    char buf[64];
    for (size_t i = 0; ids && i < p->test.n; i++) {
        const reel_dataset *ds = &p->ds;
        size_t row = p->test.rows[i];
        if (ds->id_col >= 0)
            ids[i] = strdup(reel_table_cell(&ds->table, (size_t)ds->id_col, row, buf, sizeof buf));
        else {
            snprintf(buf, sizeof buf, "line %zu", ds->table.line[row]);
            ids[i] = strdup(buf);
        }
    }
    return ids;
}

int reel_compare_report(const char *dir, const reel_prepared *p, const reel_compare_results *res, uint64_t seed,
                        const char *command, reel_error *err)
{
    size_t n = res->done;
    reel_report_model *rm = calloc(n ? n : 1, sizeof *rm);
    char **ids = row_ids(p);
    char(*rules)[64] = calloc(n ? n : 1, sizeof *rules), (*details)[2048] = calloc(n ? n : 1, sizeof *details);
    char **params = calloc(n ? n : 1, sizeof *params);
    int rc = -1;
    if (!rm || !ids || !rules || !details || !params) {
        reel_fail(err, "report: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        params[i] = res->runs[i].model.params ? cJSON_PrintUnformatted(res->runs[i].model.params) : NULL;
    const char *baseline = NULL;
    double baseline_f1 = 0;
    for (size_t i = 0; i < n; i++) {
        const reel_run *r = &res->runs[i];
        const reel_history *h = reel_run_history(r);
        rm[i] = (reel_report_model){
            .name = r->model.name, .device = reel_run_device(r), .metrics = &r->metrics, .P = r->P,
            .pred = r->pred, .fit_seconds = r->fit_seconds, .predict_seconds = r->predict_seconds,
            .epochs = h ? h->epochs : 0, .train_loss = h ? h->train_loss : NULL,
            .valid_loss = h ? h->valid_loss : NULL, .valid_f1 = h ? h->valid_f1 : NULL,
            .rule = reel_decision_name(&r->model.rule, rules[i], sizeof rules[i]),
            .rule_detail = rule_detail(&r->model, p->ds.labels, details[i], sizeof details[i]),
            .samples_f1_untuned = r->untuned.samples_f1,
            .kept_epoch = h ? h->kept_epoch : 0, .kept_average = h ? h->kept_average : 0,
            .is_baseline = r->model.kind->is_baseline, .params = params[i],
        };
        /* the chart's line: the lowest-scoring baseline (chance, for random) */
        if (r->model.kind->is_baseline && (!baseline || r->metrics.samples_f1 < baseline_f1)) {
            baseline = r->model.name;
            baseline_f1 = r->metrics.samples_f1;
        }
    }
    char title[512], date[16];
    snprintf(title, sizeof title, "reel compare: %s", p->ds.csv_path);
    time_t now = time(NULL);
    const struct tm *utc = gmtime(&now);
    if (!utc || !strftime(date, sizeof date, "%Y-%m-%d", utc))
        strcpy(date, "unknown");
    reel_report rep = {
        .title = title, .dataset_path = p->ds.csv_path, .n_rows = p->ds.n, .n_train = p->train.n,
        .n_valid = p->valid.n, .n_test = p->test.n, .L = p->L, .labels = p->ds.labels, .d = p->d,
        .n_columns = p->ds.n_features, .features = p->feature_names, .Y = p->test.Y, .ids = ids, .n_models = n,
        .models = rm, .baseline = baseline, .seed = seed, .command = command, .date = date,
    };
    rc = reel_report_write(dir, &rep, err);
done:
    for (size_t i = 0; params && i < n; i++)
        cJSON_free(params[i]);
    free(params);
    for (size_t i = 0; ids && i < p->test.n; i++)
        free(ids[i]);
    free(ids);
    free(rm);
    free(rules);
    free(details);
    return rc;
}
