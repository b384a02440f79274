#include "data/prepared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/limits.h"
#include "util/timer.h"

static void part_free(reel_part *p)
{
    free(p->X[0]);
    free(p->X[1]);
    free(p->Y);
    memset(p, 0, sizeof *p);
}

void reel_prepared_free(reel_prepared *p)
{
    part_free(&p->train);
    part_free(&p->valid);
    part_free(&p->test);
    free(p->feature_names);
    reel_preproc_free(&p->pre);
    reel_split_free(&p->split);
    if (!p->ds_borrowed)
        reel_dataset_free(&p->ds);
    memset(p, 0, sizeof *p);
}

static int alloc_part(reel_prepared *p, reel_part *part, const size_t *rows, size_t n, reel_error *err)
{
    part->n = n;
    part->rows = rows;
    part->X[0] = malloc((n ? n : 1) * (p->d ? p->d : 1) * sizeof(float));
    part->Y = malloc((n ? n : 1) * p->L);
    if (!part->X[0] || !part->Y)
        return reel_fail(err, "out of memory for %zu x %zu features", n, p->d);
    for (size_t i = 0; i < n; i++)
        memcpy(part->Y + i * p->L, p->ds.Y + rows[i] * p->L, p->L);
    return 0;
}

/* The raw matrices of the three parts, one source column at a time. */
static int transform_parts(reel_prepared *p, int keep_table, reel_error *err)
{
    reel_part *parts[3] = {&p->train, &p->valid, &p->test};
    for (size_t k0 = 0, k1; k0 < p->d; k0 = k1) {
        const char *src = p->pre.f[k0].source;
        for (k1 = k0 + 1; k1 < p->d && strcmp(p->pre.f[k1].source, src) == 0; k1++)
            ;
        for (int q = 0; q < 3; q++)
            if (reel_preproc_transform_range(&p->pre, &p->ds.table, parts[q]->rows, parts[q]->n, k0, k1,
                                             parts[q]->X[0], err))
                return -1;
        if (!keep_table)
            reel_table_release(&p->ds.table, (size_t)reel_table_find(&p->ds.table, src));
    }
    return 0;
}

int reel_prepared_standardize(reel_prepared *p, reel_error *err)
{
    reel_part *parts[3] = {&p->train, &p->valid, &p->test};
    for (int q = 0; q < 3; q++) {
        reel_part *part = parts[q];
        if (part->X[1])
            continue;
        size_t cells = (part->n ? part->n : 1) * (p->d ? p->d : 1);
        if (!(part->X[1] = malloc(cells * sizeof(float))))
            return reel_fail(err, "out of memory for %zu x %zu standardised features", part->n, p->d);
        memcpy(part->X[1], part->X[0], part->n * p->d * sizeof(float));
        reel_preproc_standardize(&p->pre, part->X[1], part->n);
    }
    return 0;
}

/* What the loaded table holds now: each column's cells (8 bytes a number;
 * a 4-byte code and the distinct strings for text), the line of each row
 * and the label bytes. */
static double table_bytes(const reel_dataset *ds)
{
    const reel_table *t = &ds->table;
    double b = (double)t->nrows * sizeof *t->line + (double)ds->n * (double)ds->L;
    for (size_t j = 0; j < t->ncols; j++) {
        const reel_column *c = &t->cols[j];
        if (c->released)
            continue;
        if (c->type != REEL_COL_TEXT) {
            b += (double)t->nrows * sizeof *c->num;
            continue;
        }
        b += (double)t->nrows * sizeof *c->code + (double)c->dict.nslots * sizeof *c->dict.slot;
        for (size_t s = 0; s < c->dict.n; s++)
            b += (double)strlen(c->dict.strs[s]) + 1 + sizeof *c->dict.strs + 16; /* 16: the allocator's own */
    }
    return b;
}

/* The process's resident bytes now (Linux's /proc/self/statm), or 0 when
 * unknown. What it grew by while the file was read is the table as
 * allocated (its columns grow by doubling). */
static double resident_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    int ok = f && fscanf(f, "%lu %lu", &size, &resident) == 2;
    if (f)
        fclose(f);
    return ok ? (double)resident * (double)sysconf(_SC_PAGE_SIZE) : 0.0;
}

/* bytes as "1.3 GB", "25 MB" or "300 kB". */
static const char *size_text(double b, char *buf, size_t n)
{
    if (b >= 1e9)
        snprintf(buf, n, "%.1f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, n, "%.0f MB", b / 1e6);
    else
        snprintf(buf, n, "%.0f kB", b / 1e3);
    return buf;
}

/* Everything resident while the data is prepared and fitted must fit in
 * memory: estimated before the matrices are built, so that too many rows
 * or a one-hot of very many categories is refused with the numbers
 * instead of exhausting the machine. The peak is the larger of two
 * moments: the table and the raw matrices while they are filled (columns
 * are released as they are consumed, unless the table is kept), then the
 * raw and standardised matrices with the labels (and the kept table), both
 * with what reading the file left beyond the table's cells (measured where
 * the system says: resident0 is the process's size before, 0 unknown).
 * Not counted: the program itself, and a model's own structures (a
 * forest's sorted columns, knn's copy). */
static int check_memory(const reel_prepared *p, int keep_table, double resident0, reel_error *err)
{
    double have = reel_memory_budget(); /* physical, ulimit -v, the cgroup's */
    const char *limit = getenv("REEL_MEMORY_BYTES"); /* a smaller budget than the machine's (tests, shared hosts) */
    if (limit && atof(limit) > 0)
        have = atof(limit);
    if (!(have > 0))
        return 0;
    size_t n = p->split.n_train + p->split.n_valid + p->split.n_test;
    double table = table_bytes(&p->ds), matrix = (double)n * (double)p->d * sizeof(float),
           labels = (double)n * (double)p->L;
    double grown = resident0 > 0 ? resident_now() - resident0 : 0; /* the table as allocated, and its slack */
    double slack = grown > table ? grown - table : 0;
    slack = slack < table ? slack : table; /* doubling leaves at most as much again; beyond: the reader's buffers */
    double filling = slack + table + matrix + labels, fitting = slack + 2 * matrix + labels + (keep_table ? table : 0);
    double need = filling > fitting ? filling : fitting;
    if (need <= 0.8 * have)
        return 0;
    /* the widest one-hot source, to name when the matrices are the larger term */
    size_t best = 0, width = 0;
    for (size_t k0 = 0, k1; k0 < p->d; k0 = k1) {
        for (k1 = k0 + 1; k1 < p->d && strcmp(p->pre.f[k1].source, p->pre.f[k0].source) == 0; k1++)
            ;
        if (k1 - k0 > width) {
            width = k1 - k0;
            best = k0;
        }
    }
    char what[160], advice[200], s1[24], s2[24];
    if (table >= matrix) {
        snprintf(what, sizeof what, "the table of %zu rows x %zu columns as read (%s)", p->ds.table.nrows,
                 p->ds.table.ncols, size_text(table, s1, sizeof s1));
        snprintf(advice, sizeof advice, "use fewer rows");
    } else {
        snprintf(what, sizeof what, "the feature matrices, %zu rows x %zu features, float32 raw and standardised "
                 "(%s)", n, p->d, size_text(2 * matrix, s1, sizeof s1));
        if (width > 1 && 2 * width >= p->d)
            snprintf(advice, sizeof advice, "column '%s' alone gives %zu features: lower --top-categories (now %d)",
                     p->pre.f[best].source, width, p->pre.top_k);
        else
            snprintf(advice, sizeof advice, "use fewer rows or fewer columns (--features)");
    }
    return reel_fail(err, "preparing the data would take about %s, more than 80%% of the %s of memory "
                     "(physical, ulimit -v or the cgroup's limit); the largest part is %s: %s", size_text(need, s1, sizeof s1), size_text(have, s2, sizeof s2),
                     what, advice);
}

static int prepare_loaded(reel_prepared *p, const reel_prepare_opts *o, int keep_table, int deferred, double t0,
                          double resident0, reel_error *err)
{
    if (reel_split_make(&p->split, &p->ds, &o->split, err))
        goto fail;
    /* column types from the training rows alone: a text cell only in test rows changes nothing */
    if (deferred && reel_table_settle_on_rows(&p->ds.table, p->split.train, p->split.n_train,
                                              (reel_mixed_mode)o->data.mixed, err))
        goto fail;
    if (reel_preproc_fit(&p->pre, &p->ds, p->split.train, p->split.n_train, o->top_k, err))
        goto fail;
    p->d = p->pre.d;
    p->L = p->ds.L;
    if (check_memory(p, keep_table, resident0, err))
        goto fail;
    p->feature_names = malloc((p->d ? p->d : 1) * sizeof *p->feature_names);
    if (!p->feature_names) {
        reel_fail(err, "out of memory for %zu feature names", p->d);
        goto fail;
    }
    for (size_t k = 0; k < p->d; k++)
        p->feature_names[k] = p->pre.f[k].name;
    if (alloc_part(p, &p->train, p->split.train, p->split.n_train, err) ||
        alloc_part(p, &p->valid, p->split.valid, p->split.n_valid, err) ||
        alloc_part(p, &p->test, p->split.test, p->split.n_test, err) || transform_parts(p, keep_table, err))
        goto fail;
    p->load_seconds = reel_now() - t0;
    return 0;
fail:
    reel_prepared_free(p);
    return -1;
}

int reel_prepare(reel_prepared *p, const reel_prepare_opts *o, reel_error *err)
{
    memset(p, 0, sizeof *p);
    double t0 = reel_now(), resident0 = resident_now();
    reel_data_opts d = o->data;
    d.defer_types = 1;
    if (reel_dataset_load(&p->ds, &d, err))
        return -1;
    return prepare_loaded(p, o, o->keep_table, 1, t0, resident0, err);
}

int reel_prepare_borrowed(reel_prepared *p, const reel_dataset *ds, const reel_prepare_opts *o, reel_error *err)
{
    memset(p, 0, sizeof *p);
    p->ds = *ds;
    p->ds_borrowed = 1;
    return prepare_loaded(p, o, 1, 0, reel_now(), 0, err);
}

void reel_prepared_warn_untested(const reel_prepared *p, const reel_log *log)
{
    if (p->test.n == 0)
        reel_log_msg(log, REEL_LOG_WARNING, "no test rows (%s): the test metrics are not measured, and the JSON "
                     "holds null for them", p->ds.split ? "the split column marks no row 'test'"
                                                        : "--test-fraction 0");
}

void reel_prepared_warn(const reel_prepared *p, const reel_log *log)
{
    for (size_t k = 0; k < p->L; k++) {
        size_t pos = 0;
        for (size_t i = 0; i < p->train.n; i++)
            pos += p->train.Y[i * p->L + k];
        if (pos == 0)
            reel_log_msg(log, REEL_LOG_WARNING, "label '%s' is never positive in the %zu training rows; models "
                         "will not learn to predict it", p->ds.labels[k], p->train.n);
    }
    /* The column-type report: text cells read as missing in a column of numbers. */
    for (size_t j = 0; j < p->ds.table.ncols; j++) {
        const reel_column *c = &p->ds.table.cols[j];
        if (c->mixed_as_missing)
            reel_log_msg(log, REEL_LOG_WARNING, "column '%s' holds numbers and %zu text cell%s (first: line %zu, "
                         "'%s'); it is read as numbers, its text cells as missing, because %s (--mixed-columns "
                         "error refuses them; --column-type %s=text reads the column as text)", c->name,
                         c->mixed_as_missing, c->mixed_as_missing > 1 ? "s" : "", c->first_text_line,
                         c->first_text ? c->first_text : "",
                         c->forced == REEL_FORCE_NUMBER ? "--column-type asks for numbers"
                                                        : "at most 1 in 20 of its cells are text", c->name);
    }
    /* A column of numbers and text read as text (one-hot categories): which, why, and the way back. */
    for (size_t f = 0; f < p->ds.n_features; f++) {
        const reel_column *c = &p->ds.table.cols[p->ds.features[f]];
        if (!c->mixed_as_text || c->type != REEL_COL_TEXT)
            continue;
        const char *why = c->mixed_why == REEL_WHY_MODE ? "--mixed-columns text asks for it"
                          : c->mixed_why == REEL_WHY_TRAIN_ROWS ? "its training rows hold no number"
                                                                : "more than 1 in 20 of its cells are text";
        reel_log_msg(log, REEL_LOG_WARNING, "column '%s' holds %zu numbers and %zu text cells (first: line %zu, "
                     "'%s'); it is read as text, one-hot categories, because %s; --column-type %s=number reads "
                     "it as numbers (its text cells as missing)", c->name, c->mixed_as_text, c->n_texts,
                     c->first_text_line, c->first_text ? c->first_text : "", why, c->name);
    }
    /* Names that differ only in case are two labels: likely one meant twice. */
    for (size_t k = 0; k < p->L; k++)
        for (size_t q = 0; q < k; q++)
            if (strcasecmp(p->ds.labels[q], p->ds.labels[k]) == 0)
                reel_log_msg(log, REEL_LOG_WARNING, "labels '%s' and '%s' differ only in case; they are two "
                             "labels (fix the spelling in the data if they are one)", p->ds.labels[q],
                             p->ds.labels[k]);
}
