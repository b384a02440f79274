#include "eval/decision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "eval/thresholds.h"
#include "util/rng.h"

/* Splits "base+mod+mod" into its parts; 0 when every part is known. */
static int parse_spec(const char *spec, reel_rule_kind *kind, int *alo, int *cal, int *has_t, float *t,
                      reel_error *err)
{
    char buf[128];
    if (!spec || strlen(spec) >= sizeof buf)
        return reel_fail(err, "decision rule '%s' is too long", spec ? spec : "(null)");
    strcpy(buf, spec);
    *alo = *cal = *has_t = 0;
    char *save = NULL, *tok = strtok_r(buf, "+", &save);
    if (!tok)
        return reel_fail(err, "empty decision rule");
    if (strncmp(tok, "threshold:", 10) == 0) {
        char *end;
        double v = strtod(tok + 10, &end);
        if (end == tok + 10 || *end || !(v >= 0 && v <= 1))
            return reel_fail(err, "decision rule '%s': the threshold must be a number in [0, 1]", spec);
        *kind = REEL_RULE_THRESHOLD;
        *has_t = 1;
        *t = (float)v;
    } else {
        int i = reel_rule_kind_by_name(tok);
        if (i < 0)
            return reel_fail(err, "unknown decision rule '%s'; valid: auto, threshold[:T], tuned-global, "
                                  "tuned-per-label, expected-f1, each optionally +at-least-one "
                                  "(expected-f1 also +calibrated), and argmax", tok);
        *kind = (reel_rule_kind)i;
    }
    while ((tok = strtok_r(NULL, "+", &save))) {
        if (strcmp(tok, "at-least-one") == 0)
            *alo = 1;
        else if (strcmp(tok, "calibrated") == 0 && *kind == REEL_RULE_EXPECTED_F1)
            *cal = 1;
        else
            return reel_fail(err, "decision rule '%s': unknown modifier '%s' (at-least-one%s)", spec, tok,
                             *kind == REEL_RULE_EXPECTED_F1 ? " or calibrated" : "");
    }
    return 0;
}

int reel_decision_check_spec(const char *spec, reel_error *err)
{
    if (spec && strcmp(spec, "auto") == 0)
        return 0;
    reel_rule_kind k;
    int a, c, h;
    float t;
    return parse_spec(spec, &k, &a, &c, &h, &t, err);
}

int reel_decision_parse(reel_decision *r, const char *spec, size_t L, const float *model_threshold,
                        reel_error *err)
{
    memset(r, 0, sizeof *r);
    int has_t;
    float t = 0.5f;
    if (parse_spec(spec, &r->kind, &r->at_least_one, &r->calibrated, &has_t, &t, err))
        return -1;
    r->L = L;
    r->threshold = malloc((L ? L : 1) * sizeof *r->threshold);
    if (!r->threshold)
        return reel_fail(err, "out of memory");
    for (size_t k = 0; k < L; k++)
        r->threshold[k] = has_t ? t : model_threshold ? model_threshold[k] : 0.5f;
    return 0;
}

/* ---- expected F1 ----
 *
 * Labels ranked by decreasing probability p_1 >= ... >= p_L; the best set
 * is the top k for some k (Jansche 2007). With a_k the positives among the
 * top k and b_k those among the rest, F1(top k) = 2 a_k / (k + a_k + b_k),
 * and a_k, b_k are independent, so
 *     E_k = 2 sum_a a P(a_k = a) f_k(k + a),   f_k(j) = E[1 / (j + b_k)].
 * f obeys f_L(j) = 1/j and f_{k-1}(j) = p_k f_k(j+1) + (1 - p_k) f_k(j)
 * (whether label k is positive), so every E_k costs O(L) and a row O(L^2)
 * (the idea of Ye, Chai, Lee and Chieu, ICML 2012), where summing over
 * both counts costs O(L^3). Every step is a convex combination: no
 * cancellation.
 *
 * Near-ties: E_k within 1e-12 (relative) of the largest count as equal,
 * and the fewest labels win, so a rounding difference never flips a row. */
#define EF1_TIE 1e-12

double reel_expected_f1_row(const float *q, size_t L, size_t min_k, uint8_t *pred, double *work, size_t *order)
{
    /* Labels by decreasing probability, ties in label order (insertion
     * sort: stable, and cheaper than the sums below up to L in the
     * hundreds). */
    for (size_t k = 0; k < L; k++) {
        size_t j = k;
        while (j > 0 && q[order[j - 1]] < q[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    /* work: A, the rows A_k[a] = P(a_k = a) for k = 0..L, a = 0..k, one
     * after another ((L+1)(L+2)/2), then f (2L + 1, index j). */
    double *A = work, *f = work + (L + 1) * (L + 2) / 2;
    A[0] = 1.0;
    for (size_t k = 1; k <= L; k++) {
        double p = q[order[k - 1]], *prev = A + (k - 1) * k / 2, *cur = A + k * (k + 1) / 2;
        cur[0] = prev[0] * (1 - p);
        for (size_t a = 1; a < k; a++)
            cur[a] = prev[a] * (1 - p) + prev[a - 1] * p;
        cur[k] = prev[k - 1] * p;
    }
    for (size_t j = 1; j <= 2 * L; j++)
        f[j] = 1.0 / (double)j;
    /* E_k replaces A_k[0] (the a = 0 term adds nothing) once A_k is used. */
    for (size_t k = L; k >= 1; k--) {
        double *Ak = A + k * (k + 1) / 2, e = 0.0;
        for (size_t a = 1; a <= k; a++)
            e += (double)a * Ak[a] * f[k + a];
        Ak[0] = 2.0 * e;
        double p = q[order[k - 1]];
        for (size_t j = 1; j <= 2 * (k - 1); j++)
            f[j] = p * f[j + 1] + (1 - p) * f[j];
    }
    /* The largest E_k over k >= min_k (E_0 = 0: the empty set scores 0),
     * then the smallest k within the tie margin of it. */
    size_t lo = min_k < L ? min_k : L, best_k = lo;
    double best = 0.0, best_e = 0.0;
    for (size_t k = lo > 0 ? lo : 1; k <= L; k++)
        best = A[k * (k + 1) / 2] > best ? A[k * (k + 1) / 2] : best;
    for (size_t k = lo; k <= L; k++) {
        double e = k ? A[k * (k + 1) / 2] : 0.0;
        if (e >= best - EF1_TIE * best) {
            best_k = k;
            best_e = e;
            break;
        }
    }
    memset(pred, 0, L);
    for (size_t k = 0; k < best_k; k++)
        pred[order[k]] = 1;
    return best_e;
}

/* ---- calibration ---- */

static double logit(double p)
{
    const double e = 1e-6;
    p = p < e ? e : p > 1 - e ? 1 - e : p;
    return log(p / (1 - p));
}

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

/* The log loss of sigmoid(a x + b) against Platt's targets at one point,
 * with its gradient and Hessian in (a, b), summed in row order. One exp
 * per row serves all: e = exp(-|z|) is exp(-z) for z >= 0 and exp(z)
 * below, the very values the loss and the sigmoid take. x: the logits of
 * p (NULL: computed from p as needed). */
typedef struct {
    double loss, g0, g1, h00, h01, h11;
} platt_point;

/* log(1 + e^z) (stable for any z) and sigmoid(z): the loss and slope terms
 * of one row at z. */
static void platt_terms(double z, double *lz, double *s)
{
    double e = exp(-fabs(z));
    *lz = z > 0 ? z + log1p(e) : log1p(e);
    *s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/* start: NULL, or each row's (lz, s) at the first point (a, b) = (1, 0),
 * from platt_start (what every fit of a row's label begins with). */
static void platt_at(const float *p, const double *x, const double *start, const uint8_t *y, size_t n,
                     size_t stride, double a, double b, double tp, double tn, platt_point *o)
{
    *o = (platt_point){0, 0, 0, 1e-9, 0, 1e-9};
    for (size_t i = 0; i < n; i++) {
        double xi = x ? x[i] : logit(p[i * stride]), z = a * xi + b, t = y[i * stride] ? tp : tn, lz, s;
        if (start) {
            lz = start[2 * i];
            s = start[2 * i + 1];
        } else {
            platt_terms(z, &lz, &s);
        }
        o->loss += lz - t * z;
        double w = s * (1 - s);
        o->g0 += (s - t) * xi;
        o->g1 += s - t;
        o->h00 += w * xi * xi;
        o->h01 += w * xi;
        o->h11 += w;
    }
}

/* The (lz, s) pairs of n logits at (a, b) = (1, 0), as platt_at takes them. */
static void platt_start(const double *x, size_t n, double *start)
{
    for (size_t i = 0; i < n; i++)
        platt_terms(1.0 * x[i] + 0.0, &start[2 * i], &start[2 * i + 1]);
}

/* reel_platt_fit from the rows' logits x (NULL: from p) and, if known,
 * their start terms. */
static void platt_fit_x(const float *p, const double *x, const double *start, const uint8_t *y, size_t n,
                        size_t stride, double *a, double *b)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i * stride] != 0;
    /* Platt's targets keep the fit finite on separable data. */
    double tp = ((double)pos + 1) / ((double)pos + 2), tn = 1 / ((double)(n - pos) + 2);
    double A = 1, Bb = 0;
    platt_point cur, next;
    platt_at(p, x, start, y, n, stride, A, Bb, tp, tn, &cur);
    for (int it = 0; it < 100; it++) { /* Newton steps, halved until the loss does not rise */
        double det = cur.h00 * cur.h11 - cur.h01 * cur.h01;
        if (!(det > 0))
            break;
        double d0 = (cur.h11 * cur.g0 - cur.h01 * cur.g1) / det, d1 = (cur.h00 * cur.g1 - cur.h01 * cur.g0) / det;
        double step = 1;
        for (; step > 1e-8; step *= 0.5) {
            platt_at(p, x, NULL, y, n, stride, A - step * d0, Bb - step * d1, tp, tn, &next);
            if (next.loss <= cur.loss)
                break;
        }
        if (step <= 1e-8)
            break;
        A -= step * d0;
        Bb -= step * d1;
        int done = cur.loss - next.loss < 1e-10 * (1 + fabs(cur.loss));
        cur = next;
        if (done)
            break;
    }
    *a = A;
    *b = Bb;
}

void reel_platt_fit(const float *p, const uint8_t *y, size_t n, size_t stride, double *a, double *b)
{
    /* The logits once, not at every step (same values either way). */
    double *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = logit(p[i * stride]);
    platt_fit_x(p, x, NULL, y, n, stride, a, b);
    free(x);
}

/* ---- applying a rule ---- */

const char *reel_decision_spec_for(reel_target_kind target, const char *spec, reel_error *err)
{
    int is_auto = !spec || strcmp(spec, "auto") == 0;
    if (target == REEL_TARGET_MULTICLASS) {
        if (is_auto || strcmp(spec, "argmax") == 0)
            return "argmax";
        reel_fail(err, "decision rule '%s': a multi-class target predicts its most probable class (argmax, "
                  "the default); the other rules decide label sets or one binary class", spec);
        return NULL;
    }
    if (target == REEL_TARGET_BINARY && is_auto)
        return "threshold";
    if (target == REEL_TARGET_BINARY) {
        /* samples-F1 scores every row of the first class 0 whatever is
         * predicted: the rules that maximise it would call every row the
         * second class */
        reel_rule_kind kind;
        int at_least_one, calibrated, has_t;
        float t;
        if (parse_spec(spec, &kind, &at_least_one, &calibrated, &has_t, &t, err))
            return NULL;
        if (kind == REEL_RULE_TUNED_GLOBAL || kind == REEL_RULE_EXPECTED_F1 || at_least_one) {
            reel_fail(err, "decision rule '%s': on a binary target it would predict the second class for every "
                      "row (samples-F1 scores each row of the first class 0); threshold (0.5, the default) or "
                      "tuned-per-label (the cut of the best F1 of the second class) decide one class", spec);
            return NULL;
        }
    }
    return is_auto ? "auto" : spec;
}

void reel_decision_argmax(const float *P, size_t n, size_t L, uint8_t *pred)
{
    memset(pred, 0, n * L);
    for (size_t i = 0; i < n && L; i++) {
        const float *p = P + i * L;
        size_t top = 0;
        for (size_t k = 1; k < L; k++)
            if (p[k] > p[top])
                top = k;
        pred[i * L + top] = 1;
    }
}

int reel_decision_apply(const reel_decision *r, const float *P, size_t n, uint8_t *pred)
{
    size_t L = r->L;
    if (r->kind == REEL_RULE_ARGMAX) {
        reel_decision_argmax(P, n, L, pred);
        return 0;
    }
    if (r->kind == REEL_RULE_EXPECTED_F1) {
        size_t W = L + 1;
        double *work = malloc((W * W + W) * sizeof *work);
        size_t *order = malloc((L ? L : 1) * sizeof *order);
        float *q = malloc((L ? L : 1) * sizeof *q);
        int rc = work && order && q ? 0 : -1; /* a failure, never another rule's decisions */
        if (rc == 0) {
            for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < L; k++)
                    q[k] = r->calibrated
                               ? (float)sigmoid(r->platt[2 * k] * logit(P[i * L + k]) + r->platt[2 * k + 1])
                               : P[i * L + k];
                reel_expected_f1_row(q, L, r->at_least_one ? 1 : 0, pred + i * L, work, order);
            }
        }
        free(work);
        free(order);
        free(q);
        return rc;
    }
    reel_threshold(P, r->threshold, n, L, pred);
    if (!r->at_least_one)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = P + i * L;
        uint8_t *y = pred + i * L, any = 0;
        size_t top = 0;
        for (size_t k = 0; k < L; k++) {
            any |= y[k];
            if (p[k] > p[top])
                top = k;
        }
        if (!any && L)
            y[top] = 1;
    }
    return 0;
}

/* ---- choosing a rule ---- */

/* What auto's cross-fitting computes once for all its fits on subsets of
 * the same rows (NULL in fit_rule: nothing shared). */
typedef struct {
    reel_label_sort *sorted; /* tuned-per-label: the rows' labels sorted, */
    const uint8_t *keep;     /* and which of them this fit uses */
    const double *x;         /* calibrated: this fit's rows' logits, L runs of n, */
    const double *start;     /* and their start terms (platt_start), L runs of 2n */
} fit_shared;

/* Fits a parsed rule's data-driven parts on (P, Y), n rows. */
static int fit_rule(reel_decision *r, const float *P, const uint8_t *Y, size_t n, const fit_shared *sh,
                    reel_error *err)
{
    size_t L = r->L;
    if ((r->kind == REEL_RULE_TUNED_GLOBAL || r->kind == REEL_RULE_TUNED_PER_LABEL || r->calibrated) && n == 0)
        return reel_fail(err, "decision rule %s needs validation rows (--valid-fraction > 0)",
                         reel_rule_kind_name(r->kind));
    if (r->kind == REEL_RULE_TUNED_GLOBAL) {
        float t;
        if (reel_tune_threshold_global(P, Y, n, L, &t))
            return reel_fail(err, "out of memory fitting the decision rule");
        for (size_t k = 0; k < L; k++)
            r->threshold[k] = t;
    } else if (r->kind == REEL_RULE_TUNED_PER_LABEL) {
        if (sh)
            reel_label_sort_tune(sh->sorted, sh->keep, r->threshold);
        else if (reel_tune_thresholds_per_label(P, Y, n, L, r->threshold))
            return reel_fail(err, "out of memory fitting the decision rule");
    }
    if (r->calibrated) {
        free(r->platt);
        r->platt = malloc(2 * (L ? L : 1) * sizeof *r->platt);
        if (!r->platt)
            return reel_fail(err, "out of memory");
        for (size_t k = 0; k < L; k++) {
            double *ab = &r->platt[2 * k];
            if (sh)
                platt_fit_x(P + k, sh->x + k * n, sh->start + 2 * k * n, Y + k, n, L, &ab[0], &ab[1]);
            else
                reel_platt_fit(P + k, Y + k, n, L, &ab[0], &ab[1]);
        }
    }
    return 0;
}

static const char *const AUTO_CANDIDATES[] = {
    "threshold",       "threshold+at-least-one",       "tuned-global", "tuned-global+at-least-one",
    "tuned-per-label", "tuned-per-label+at-least-one", "expected-f1",  "expected-f1+calibrated",
};
#define N_AUTO (sizeof AUTO_CANDIDATES / sizeof *AUTO_CANDIDATES)
#define AUTO_FOLDS 5
#define AUTO_MIN_ROWS 10

/* samples-F1 of rows `rows` under rule r, summed, added to *sum; -1: out
 * of memory. */
static int score_rows(const reel_decision *r, const float *P, const uint8_t *Y, const size_t *rows, size_t n,
                      float *Pf, uint8_t *Yf, uint8_t *pred, double *sum)
{
    size_t L = r->L;
    for (size_t i = 0; i < n; i++) {
        memcpy(Pf + i * L, P + rows[i] * L, L * sizeof *Pf);
        memcpy(Yf + i * L, Y + rows[i] * L, L);
    }
    reel_metrics m;
    if (reel_decision_apply(r, Pf, n, pred) || reel_metrics_compute(&m, Yf, pred, n, L))
        return -1;
    *sum += m.samples_f1 * (double)n;
    reel_metrics_free(&m);
    return 0;
}

/* The rows of fold f (every AUTO_FOLDS-th position of the shuffle) out,
 * the rest in: gathers the in rows' P, Y, logits and Platt start terms
 * (from the shuffled copies, which hold the rows at their positions). */
static size_t gather_fold(size_t f, const size_t *perm, size_t nv, size_t L, const float *Pp, const uint8_t *Yp,
                          const double *xp, const double *sp, uint8_t *keep, size_t *out, size_t *n_out, float *Pf,
                          uint8_t *Yf, double *xf, double *sf)
{
    size_t n_in = 0;
    *n_out = 0;
    for (size_t j = 0; j < nv; j++) {
        keep[j] = j % AUTO_FOLDS != f;
        if (!keep[j]) {
            out[(*n_out)++] = perm[j];
            continue;
        }
        memcpy(Pf + n_in * L, Pp + j * L, L * sizeof *Pf);
        memcpy(Yf + n_in * L, Yp + j * L, L);
        n_in++;
    }
    for (size_t k = 0; k < L; k++)
        for (size_t j = 0, i = 0; j < nv; j++)
            if (keep[j]) {
                xf[k * n_in + i] = xp[k * nv + j];
                sf[2 * (k * n_in + i)] = sp[2 * (k * nv + j)];
                sf[2 * (k * n_in + i) + 1] = sp[2 * (k * nv + j) + 1];
                i++;
            }
    return n_in;
}

static int choose_auto(reel_decision *r, const float *Pv, const uint8_t *Yv, size_t nv, size_t L,
                       const float *model_threshold, uint64_t seed, reel_error *err)
{
    if (nv < AUTO_MIN_ROWS)
        return reel_decision_parse(r, "threshold", L, model_threshold, err);
    size_t cells = nv * L;
    size_t *perm = malloc(nv * sizeof *perm), *out = malloc(nv * sizeof *out);
    float *Pf = malloc(cells * sizeof *Pf), *Pp = malloc(cells * sizeof *Pp), *cut = malloc((L ? L : 1) * sizeof *cut);
    uint8_t *Yf = malloc(cells), *pred = malloc(cells), *Yp = malloc(cells), *keep = malloc(nv);
    double *xp = malloc(cells * sizeof *xp), *sp = malloc(2 * cells * sizeof *sp);
    double *xf = malloc(cells * sizeof *xf), *sf = malloc(2 * cells * sizeof *sf);
    reel_label_sort *sorted = NULL;
    double score[N_AUTO] = {0};
    int rc = -1;
    if (!perm || !out || !Pf || !Pp || !cut || !Yf || !pred || !Yp || !keep || !xp || !sp || !xf || !sf) {
        reel_fail(err, "out of memory choosing a decision rule");
        goto done;
    }
    /* Cross-fitting: each fold's rows are decided by a rule fitted on the
     * other folds, so a rule with L free thresholds is not favoured for
     * fitting noise. */
    reel_rng g;
    reel_rng_seed_stream(&g, seed, 0x646563u); /* "dec" */
    for (size_t i = 0; i < nv; i++)
        perm[i] = i;
    reel_rng_shuffle(&g, perm, nv);
    /* What every fold's fits share, once: the rows in shuffled order, each
     * label's sort of them, and each cell's logit and Platt start terms. */
    for (size_t j = 0; j < nv; j++) {
        memcpy(Pp + j * L, Pv + perm[j] * L, L * sizeof *Pp);
        memcpy(Yp + j * L, Yv + perm[j] * L, L);
        for (size_t k = 0; k < L; k++)
            xp[k * nv + j] = logit(Pp[j * L + k]);
    }
    for (size_t k = 0; k < L; k++)
        platt_start(xp + k * nv, nv, sp + 2 * k * nv);
    if (!(sorted = reel_label_sort_new(Pp, Yp, nv, L))) {
        reel_fail(err, "out of memory choosing a decision rule");
        goto done;
    }
    for (size_t f = 0; f < AUTO_FOLDS; f++) {
        size_t n_out, n_in = gather_fold(f, perm, nv, L, Pp, Yp, xp, sp, keep, out, &n_out, Pf, Yf, xf, sf);
        fit_shared sh = {sorted, keep, xf, sf};
        reel_rule_kind fitted = REEL_RULE_ARGMAX; /* none yet */
        for (size_t c = 0; c < N_AUTO; c++) {
            reel_decision cand;
            if (reel_decision_parse(&cand, AUTO_CANDIDATES[c], L, model_threshold, err))
                goto done;
            /* "X+at-least-one" fits as X, the candidate before it: its cuts */
            if (cand.at_least_one && !cand.calibrated && cand.kind == fitted) {
                memcpy(cand.threshold, cut, L * sizeof *cut);
            } else if (fit_rule(&cand, Pf, Yf, n_in, &sh, err)) {
                reel_decision_free(&cand);
                goto done;
            } else {
                memcpy(cut, cand.threshold, L * sizeof *cut);
                fitted = cand.calibrated ? REEL_RULE_ARGMAX : cand.kind;
            }
            int bad = score_rows(&cand, Pv, Yv, out, n_out, Pf + n_in * L, Yf + n_in * L, pred, &score[c]);
            reel_decision_free(&cand);
            if (bad) {
                reel_fail(err, "out of memory choosing a decision rule");
                goto done;
            }
            /* score_rows used the tail of Pf/Yf: the in-fold head is intact */
        }
    }
    size_t best = 0;
    for (size_t c = 0; c < N_AUTO; c++) {
        score[c] /= (double)nv;
        if (score[c] > score[best])
            best = c;
    }
    if (reel_decision_parse(r, AUTO_CANDIDATES[best], L, model_threshold, err) ||
        fit_rule(r, Pv, Yv, nv, NULL, err))
        goto done;
    r->n_tried = N_AUTO;
    for (size_t c = 0; c < N_AUTO; c++) {
        snprintf(r->tried_name[c], sizeof r->tried_name[c], "%s", AUTO_CANDIDATES[c]);
        r->tried_score[c] = score[c];
    }
    rc = 0;
done:
    reel_label_sort_free(sorted);
    free(perm);
    free(out);
    free(Pf);
    free(Pp);
    free(cut);
    free(Yf);
    free(pred);
    free(Yp);
    free(keep);
    free(xp);
    free(sp);
    free(xf);
    free(sf);
    return rc;
}

int reel_decision_choose(reel_decision *r, const char *spec, const float *Pv, const uint8_t *Yv, size_t nv,
                         size_t L, const float *model_threshold, uint64_t seed, reel_error *err)
{
    if (strcmp(spec, "auto") == 0)
        return choose_auto(r, Pv, Yv, nv, L, model_threshold, seed, err);
    if (reel_decision_parse(r, spec, L, model_threshold, err))
        return -1;
    if (fit_rule(r, Pv, Yv, nv, NULL, err)) {
        reel_decision_free(r);
        return -1;
    }
    return 0;
}
