#include "data/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/float_clamp.h"

void reel_preproc_free(reel_preproc *p)
{
    for (size_t k = 0; k < p->d; k++) {
        free(p->f[k].name);
        free(p->f[k].source);
        free(p->f[k].category);
    }
    free(p->f);
    free(p->mean);
    free(p->scale);
    memset(p, 0, sizeof *p);
}


/* The next feature, or NULL when out of memory (p stays whole). */
static reel_feature *add(reel_preproc *p, size_t *cap, const char *source, reel_feat_kind kind,
                         const char *suffix)
{
    if (p->d == *cap) {
        size_t want = *cap ? *cap * 2 : 16;
        reel_feature *grown = realloc(p->f, want * sizeof *p->f);
        if (!grown)
            return NULL;
        p->f = grown;
        *cap = want;
    }
    reel_feature *f = &p->f[p->d];
    memset(f, 0, sizeof *f);
    size_t len = strlen(source) + (suffix ? strlen(suffix) : 0) + 1;
    f->source = strdup(source);
    f->name = malloc(len);
    if (!f->source || !f->name) {
        free(f->source);
        free(f->name);
        return NULL;
    }
    f->kind = kind;
    snprintf(f->name, len, "%s%s", source, suffix ? suffix : "");
    p->d++;
    return f;
}

/* The k-th smallest of a[0..n) (quickselect: a is reordered). */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* Median of the non-missing training values (0 when all are missing);
 * -1 when out of memory. */
static int median(const double *v, const size_t *rows, size_t n, size_t *n_missing, double *out)
{
    double *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[rows[i]];
        if (!isnan(x))
            tmp[m++] = x;
    }
    *n_missing = n - m;
    double med = 0;
    if (m % 2)
        med = select_kth(tmp, m, m / 2);
    else if (m) { /* the mean of the two middle values, as numpy */
        double hi = select_kth(tmp, m, m / 2), lo = tmp[0];
        for (size_t i = 1; i < m / 2; i++) /* after selection the lower half sits below m/2 */
            lo = tmp[i] > lo ? tmp[i] : lo;
        med = 0.5 * lo + 0.5 * hi;
    }
    free(tmp);
    *out = med;
    return 0;
}

typedef struct {
    int32_t code;
    size_t count;
} code_count;

static int by_count(const void *a, const void *b)
{
    const code_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code); /* ties: first seen first */
}

/* -1 when out of memory. */
static int fit_text(reel_preproc *p, size_t *cap, const reel_column *c, const size_t *rows, size_t n, int top_k)
{
    code_count *cc = calloc(c->dict.n ? c->dict.n : 1, sizeof *cc);
    if (!cc)
        return -1;
    for (size_t v = 0; v < c->dict.n; v++)
        cc[v].code = (int32_t)v;
    for (size_t i = 0; i < n; i++)
        if (c->code[rows[i]] >= 0)
            cc[c->code[rows[i]]].count++;
    qsort(cc, c->dict.n, sizeof *cc, by_count);
    for (size_t v = 0; v < c->dict.n && v < (size_t)top_k && cc[v].count > 0; v++) {
        const char *val = c->dict.strs[cc[v].code];
        size_t len = strlen(val) + 2;
        char *suffix = malloc(len);
        reel_feature *f = NULL;
        if (suffix) {
            snprintf(suffix, len, "=%s", val);
            f = add(p, cap, c->name, REEL_FEAT_ONEHOT, suffix);
            free(suffix);
        }
        if (!f || !(f->category = strdup(val))) {
            free(cc);
            return -1;
        }
    }
    free(cc);
    return add(p, cap, c->name, REEL_FEAT_OTHER, "=other") ? 0 : -1;
}

int reel_preproc_fit(reel_preproc *p, const reel_dataset *ds, const size_t *rows, size_t n, int top_k,
                     reel_error *err)
{
    memset(p, 0, sizeof *p);
    if (n == 0)
        return reel_fail(err, "cannot fit preprocessing on zero training rows");
    if (top_k < 1)
        return reel_fail(err, "--top-categories must be >= 1, got %d", top_k);
    p->top_k = top_k;
    size_t cap = 0;
    for (size_t j = 0; j < ds->n_features; j++) {
        const reel_column *c = &ds->table.cols[ds->features[j]];
        size_t n_missing = 0;
        double med = 0;
        reel_feature *f = NULL;
        int bad = 0;
        if (c->type == REEL_COL_TEXT)
            bad = fit_text(p, &cap, c, rows, n, top_k);
        else if (median(c->num, rows, n, &n_missing, &med) || !(f = add(p, &cap, c->name, REEL_FEAT_NUMERIC, NULL)))
            bad = 1;
        else {
            f->impute = med; /* before the next add moves the list */
            bad = n_missing > 0 && !add(p, &cap, c->name, REEL_FEAT_MISSING, "_missing");
        }
        if (bad) {
            reel_preproc_free(p);
            return reel_fail(err, "out of memory fitting the preprocessing");
        }
    }
    /* Standardisation statistics of the transformed training rows, a block
     * of rows at a time (Welford: stable for large magnitudes). */
    enum { BLOCK = 2048 };
    float *X = malloc(BLOCK * (p->d ? p->d : 1) * sizeof *X);
    double *m2 = calloc(p->d ? p->d : 1, sizeof *m2);
    p->mean = calloc(p->d ? p->d : 1, sizeof *p->mean);
    p->scale = calloc(p->d ? p->d : 1, sizeof *p->scale);
    if (!X || !m2 || !p->mean || !p->scale) {
        free(X);
        free(m2);
        reel_preproc_free(p);
        return reel_fail(err, "out of memory for %zu features", p->d);
    }
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t nb = n - b < BLOCK ? n - b : BLOCK;
        if (reel_preproc_transform(p, &ds->table, rows + b, nb, 0, X, err)) {
            free(X);
            free(m2);
            reel_preproc_free(p);
            return -1;
        }
        for (size_t i = 0; i < nb; i++)
            for (size_t k = 0; k < p->d; k++) {
                double x = X[i * p->d + k], delta = x - p->mean[k];
                p->mean[k] += delta / (double)(b + i + 1);
                m2[k] += delta * (x - p->mean[k]);
            }
    }
    for (size_t k = 0; k < p->d; k++) {
        double sd = sqrt(m2[k] / (double)n);
        p->scale[k] = (sd > 0 && isfinite(sd)) ? sd : 1.0;
    }
    free(X);
    free(m2);
    return 0;
}

int reel_preproc_transform(const reel_preproc *p, const reel_table *t, const size_t *rows, size_t n,
                           int standardize, float *X, reel_error *err)
{
    if (reel_preproc_transform_range(p, t, rows, n, 0, p->d, X, err))
        return -1;
    if (standardize)
        reel_preproc_standardize(p, X, n);
    return 0;
}

int reel_preproc_transform_range(const reel_preproc *p, const reel_table *t, const size_t *rows, size_t n,
                                 size_t k0, size_t k1, float *X, reel_error *err)
{
    int *col = malloc((p->d ? p->d : 1) * sizeof *col);
    int32_t *cat = malloc((p->d ? p->d : 1) * sizeof *cat);
    if (!col || !cat) {
        free(col);
        free(cat);
        return reel_fail(err, "out of memory encoding the features");
    }
    for (size_t k = k0; k < k1; k++) {
        const reel_feature *f = &p->f[k];
        col[k] = reel_table_find(t, f->source);
        if (col[k] < 0) {
            free(col);
            free(cat);
            return reel_fail(err, "%s: column '%s' (a feature of the model) is missing", t->path, f->source);
        }
        const reel_column *c = &t->cols[col[k]];
        cat[k] = -1;
        if (f->kind == REEL_FEAT_ONEHOT && c->type == REEL_COL_TEXT)
            cat[k] = reel_strdict_find(&c->dict, f->category);
    }
    for (size_t k = k0; k < k1; k++) {
        const reel_feature *f = &p->f[k];
        const reel_column *c = &t->cols[col[k]];
        char buf[64];
        for (size_t ii = 0; ii < n; ii++) {
            size_t i = rows ? rows[ii] : ii;
            double v = 0;
            switch (f->kind) {
            case REEL_FEAT_NUMERIC:
                if (c->type != REEL_COL_NUMERIC) {
                    /* name the first cell that is not a number, not merely the first row */
                    reel_fail(err, "%s:%zu: column '%s': '%s' is not a number (the model was trained on a "
                              "numeric column)", t->path, c->first_text_line ? c->first_text_line : t->line[i],
                              f->source, c->first_text ? c->first_text
                                                       : reel_table_cell(t, (size_t)col[k], i, buf, sizeof buf));
                    free(col);
                    free(cat);
                    return -1;
                }
                v = isnan(c->num[i]) ? f->impute : c->num[i];
                break;
            case REEL_FEAT_MISSING:
                v = c->type == REEL_COL_NUMERIC ? isnan(c->num[i]) : c->code[i] < 0;
                break;
            case REEL_FEAT_ONEHOT:
                if (c->type == REEL_COL_TEXT)
                    v = cat[k] >= 0 && c->code[i] == cat[k];
                else /* a text column that came out numeric in new data */
                    v = strcmp(reel_table_cell(t, (size_t)col[k], i, buf, sizeof buf), f->category) == 0;
                break;
            case REEL_FEAT_OTHER: {
                const char *s = reel_table_cell(t, (size_t)col[k], i, buf, sizeof buf);
                v = *s != '\0';
                for (size_t q = k; v && q-- > 0 && p->f[q].kind == REEL_FEAT_ONEHOT &&
                                   strcmp(p->f[q].source, f->source) == 0;)
                    if (strcmp(p->f[q].category, s) == 0)
                        v = 0;
                break;
            }
            }
            X[ii * p->d + k] = reel_float_clamped(v);
        }
    }
    free(col);
    free(cat);
    return 0;
}

void reel_preproc_warn_unseen(const reel_preproc *p, const reel_table *t, const reel_log *log)
{
    for (size_t k0 = 0, k1; k0 < p->d; k0 = k1) {
        const char *src = p->f[k0].source;
        size_t cats = 0;
        for (k1 = k0; k1 < p->d && strcmp(p->f[k1].source, src) == 0; k1++)
            cats += p->f[k1].kind == REEL_FEAT_ONEHOT;
        int j = reel_table_find(t, src);
        if (cats == 0 || j < 0 || t->cols[j].released)
            continue;
        size_t cells = 0, unseen = 0, first = 0;
        char buf[64];
        for (size_t i = 0; i < t->nrows; i++) {
            const char *s = reel_table_cell(t, (size_t)j, i, buf, sizeof buf);
            if (!*s)
                continue;
            cells++;
            size_t q = k0;
            while (q < k1 && !(p->f[q].kind == REEL_FEAT_ONEHOT && strcmp(p->f[q].category, s) == 0))
                q++;
            if (q == k1 && unseen++ == 0)
                first = i;
        }
        /* Most values outside the model's categories: likely another coding of the column (a typo, a case
         * or an encoding) than the training data's, which the model reads as "other". */
        if (cells && unseen * 2 > cells)
            reel_log_msg(log, REEL_LOG_WARNING, "column '%s': %zu of %zu values (%.0f%%; first: line %zu, '%s') are "
                         "none of the %zu categories the model was trained on; they count as '%s=other'", src,
                         unseen, cells, 100.0 * (double)unseen / (double)cells, t->line[first],
                         reel_table_cell(t, (size_t)j, first, buf, sizeof buf), cats, src);
    }
}

void reel_preproc_standardize(const reel_preproc *p, float *X, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < p->d; k++)
            X[i * p->d + k] = reel_float_clamped(((double)X[i * p->d + k] - p->mean[k]) / p->scale[k]);
}

static const char *kind_names[] = {"numeric", "missing", "onehot", "other"};

cJSON *reel_preproc_to_json(const reel_preproc *p)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "top_k", p->top_k);
    cJSON *fs = cJSON_AddArrayToObject(j, "features");
    for (size_t k = 0; k < p->d; k++) {
        const reel_feature *f = &p->f[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->name);
        cJSON_AddStringToObject(o, "source", f->source);
        cJSON_AddStringToObject(o, "kind", kind_names[f->kind]);
        if (f->kind == REEL_FEAT_NUMERIC)
            cJSON_AddNumberToObject(o, "impute", f->impute);
        if (f->category)
            cJSON_AddStringToObject(o, "category", f->category);
        cJSON_AddNumberToObject(o, "mean", p->mean[k]);
        cJSON_AddNumberToObject(o, "scale", p->scale[k]);
        cJSON_AddItemToArray(fs, o);
    }
    return j;
}

int reel_preproc_from_json(reel_preproc *p, const cJSON *j, reel_error *err)
{
    memset(p, 0, sizeof *p);
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(j, "features");
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(j, "top_k");
    if (!cJSON_IsArray(fs) || !cJSON_IsNumber(tk))
        return reel_fail(err, "preprocessing: 'features' list or 'top_k' missing");
    p->top_k = tk->valueint;
    size_t d = (size_t)cJSON_GetArraySize(fs);
    p->f = calloc(d ? d : 1, sizeof *p->f);
    p->mean = calloc(d ? d : 1, sizeof *p->mean);
    p->scale = calloc(d ? d : 1, sizeof *p->scale);
    const cJSON *o;
    cJSON_ArrayForEach(o, fs)
    {
        reel_feature *f = &p->f[p->d];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
        const cJSON *mean = cJSON_GetObjectItemCaseSensitive(o, "mean");
        const cJSON *scale = cJSON_GetObjectItemCaseSensitive(o, "scale");
        if (!cJSON_IsString(name) || !cJSON_IsString(src) || !cJSON_IsString(kind) || !cJSON_IsNumber(mean) ||
            !cJSON_IsNumber(scale)) {
            reel_preproc_free(p);
            return reel_fail(err, "preprocessing: feature %zu lacks name, source, kind, mean or scale", p->d);
        }
        int kk = -1;
        for (int q = 0; q < 4; q++)
            if (strcmp(kind->valuestring, kind_names[q]) == 0)
                kk = q;
        const cJSON *cat = cJSON_GetObjectItemCaseSensitive(o, "category");
        if (kk < 0 || (kk == REEL_FEAT_ONEHOT && !cJSON_IsString(cat))) {
            reel_preproc_free(p);
            return reel_fail(err, "preprocessing: feature '%s' has a bad kind or category", name->valuestring);
        }
        const cJSON *imp = cJSON_GetObjectItemCaseSensitive(o, "impute");
        double impute = cJSON_IsNumber(imp) ? imp->valuedouble : 0;
        if (!isfinite(mean->valuedouble) || !isfinite(impute) || !isfinite(scale->valuedouble) ||
            !(scale->valuedouble > 0)) {
            reel_preproc_free(p);
            return reel_fail(err, "preprocessing: feature '%s': mean %g, scale %g, impute %g; they must be finite and "
                             "the scale positive", name->valuestring, mean->valuedouble, scale->valuedouble, impute);
        }
        f->name = strdup(name->valuestring);
        f->source = strdup(src->valuestring);
        f->kind = (reel_feat_kind)kk;
        f->impute = cJSON_IsNumber(imp) ? imp->valuedouble : 0;
        f->category = cJSON_IsString(cat) ? strdup(cat->valuestring) : NULL;
        p->mean[p->d] = mean->valuedouble;
        p->scale[p->d] = scale->valuedouble;
        p->d++;
    }
    return 0;
}

int reel_preproc_check_columns(const reel_preproc *pre, const reel_table *t, reel_error *err)
{
    char missing[768] = "";
    size_t len = 0, n = 0;
    for (size_t k = 0; k < pre->d; k++) {
        const char *src = pre->f[k].source;
        if (reel_table_find(t, src) >= 0 || (k > 0 && strcmp(pre->f[k - 1].source, src) == 0))
            continue;
        len += (size_t)snprintf(missing + len, len < sizeof missing ? sizeof missing - len : 0, "%s%s",
                                n++ ? ", " : "", src);
    }
    return n ? reel_fail(err, "%s: missing %zu column%s the model needs: %s", t->path, n, n > 1 ? "s" : "",
                         missing)
             : 0;
}

int reel_preproc_add_missing_columns(const reel_preproc *pre, reel_table *t, size_t *added, char *list, size_t size,
                                     reel_error *err)
{
    size_t len = 0;
    *added = 0;
    if (size)
        list[0] = '\0';
    for (size_t k = 0; k < pre->d; k++) {
        const char *src = pre->f[k].source;
        if (reel_table_find(t, src) >= 0)
            continue;
        /* one-hot groups come from a text column; numbers and their missing flags from a numeric one */
        reel_coltype type = REEL_COL_NUMERIC;
        for (size_t q = k; q < pre->d && strcmp(pre->f[q].source, src) == 0; q++)
            if (pre->f[q].kind == REEL_FEAT_ONEHOT || pre->f[q].kind == REEL_FEAT_OTHER)
                type = REEL_COL_TEXT;
        if (reel_table_add_missing(t, src, type, err))
            return -1;
        len += (size_t)snprintf(list + len, len < size ? size - len : 0, "%s%s", (*added)++ ? ", " : "", src);
    }
    return 0;
}
