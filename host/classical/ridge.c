/* The ridge kind: scikit-learn's RidgeClassifier, all labels at once.
 *
 * Each label's targets become +1/-1; with Xc, Yc the centred rows (when
 * fit_intercept) the weights W minimise ||Yc - Xc W||^2 + alpha ||W||^2,
 * so (Xc^T Xc + alpha I) W = Xc^T Yc, solved in double by Cholesky, or by
 * the SVD of Xc when asked or when Cholesky finds the system singular
 * (alpha 0). positive=true keeps W >= 0 by projected coordinate descent on
 * the same objective. The intercept, never penalised, is
 * b = mean(y) - mean(X) W. The decision value of a row is D = x W + b and
 * a label is predicted when D > 0.
 *
 * Probabilities: output "decision" gives P = sigmoid(D), nudged so that
 * P > 0.5 exactly when D > 0; output "softmax" (the original system's
 * variant) gives P = softmax of D across labels, with a default threshold
 * of 0.03 instead of 0.5.
 *
 * Targets (data/target.h): binary is the one label of class 1, as
 * RidgeClassifier's one column of +1/-1; multiclass is one-vs-rest over
 * the one-hot classes, as RidgeClassifier's, and the class probabilities
 * are sigmoid(D) (or softmax(D)) of each class scaled to sum to 1, so the
 * most probable class is RidgeClassifier's argmax of D.
 *
 * Saved tensors: "coef" F64 L x d (scikit-learn's coef_ layout) and
 * "intercept" F64 L. */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classical/ridge.h"
#include "models/model.h"
#include "models/params.h"
#include "util/interrupt.h"

typedef struct {
    size_t d, L;
    double *coef;      /* L x d */
    double *intercept; /* L */
    int softmax;       /* output "softmax" */
    int threads;       /* for predicting; the BLAS calls of the fit use the process's BLAS threads */
} ridge_state;

static void ridge_free(void *state)
{
    ridge_state *s = state;
    if (s) {
        free(s->coef);
        free(s->intercept);
    }
    free(s);
}

/* The params, decoded once. */
typedef struct {
    double alpha;
    int intercept, positive, svd, softmax;
} ridge_params;

static int ridge_params_get(const cJSON *params, ridge_params *p, reel_error *err)
{
    reel_params_reader r;
    reel_params_read_begin(&r, params, "ridge");
    p->alpha = reel_param_num(&r, "alpha");
    p->intercept = reel_param_bool(&r, "fit_intercept");
    p->positive = reel_param_bool(&r, "positive");
    const char *solver = reel_param_str(&r, "solver"), *out = reel_param_str(&r, "output");
    p->svd = solver && strcmp(solver, "svd") == 0;
    p->softmax = out && strcmp(out, "softmax") == 0;
    return reel_params_read_end(&r, err);
}

static ridge_state *ridge_new(const ridge_params *p, size_t d, size_t L, int threads)
{
    ridge_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->d = d;
    s->L = L;
    s->softmax = p->softmax;
    s->threads = threads > 0 ? threads : 1;
    s->coef = calloc(d * L > 0 ? d * L : 1, sizeof *s->coef);
    s->intercept = calloc(L ? L : 1, sizeof *s->intercept);
    if (!s->coef || !s->intercept) {
        ridge_free(s);
        return NULL;
    }
    return s;
}

/* W (d x L) from the SVD Xc = U S V^T: W = V diag(s / (s^2 + alpha)) U^T Yc.
 * Singular values at or below the cutoff are dropped: scikit-learn's 1e-15,
 * or with alpha 0 the relative cutoff of a least-squares solver, which
 * gives the minimum-norm solution. Xc is overwritten. */
static int solve_svd(double *Xc, const double *Yc, size_t n, size_t d, size_t L, double alpha, double *W,
                     reel_error *err)
{
    size_t r = n < d ? n : d;
    double *s = malloc(r * sizeof *s), *U = malloc(n * r * sizeof *U), *Vt = malloc(r * d * sizeof *Vt),
           *UtY = malloc(r * L * sizeof *UtY);
    int rc = 0;
    if (!s || !U || !Vt || !UtY) {
        rc = reel_fail(err, "ridge: out of memory for the SVD of %zu x %zu", n, d);
        goto done;
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)n, (lapack_int)d, Xc, (lapack_int)d, s,
                                     U, (lapack_int)r, Vt, (lapack_int)d);
    if (info != 0) {
        rc = reel_fail(err, "ridge: the SVD of the training rows failed (LAPACK dgesdd info %d)", (int)info);
        goto done;
    }
    double cutoff = 1e-15;
    if (alpha == 0.0 && r > 0 && (double)(n > d ? n : d) * DBL_EPSILON * s[0] > cutoff)
        cutoff = (double)(n > d ? n : d) * DBL_EPSILON * s[0];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)L, (int)n, 1.0, U, (int)r, Yc, (int)L, 0.0,
                UtY, (int)L);
    for (size_t i = 0; i < r; i++) {
        double f = s[i] > cutoff ? s[i] / (s[i] * s[i] + alpha) : 0.0;
        for (size_t l = 0; l < L; l++)
            UtY[i * L + l] *= f;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)L, (int)r, 1.0, Vt, (int)d, UtY, (int)L,
                0.0, W, (int)L);
done:
    free(s);
    free(U);
    free(Vt);
    free(UtY);
    return rc;
}

/* W (d x L) from (A + alpha I) W = B by Cholesky. Returns 1 (W untouched)
 * when the matrix is not numerically positive definite. A is overwritten. */
static int solve_cholesky(double *A, const double *B, size_t d, size_t L, double alpha, double *W)
{
    for (size_t j = 0; j < d; j++)
        A[j * d + j] += alpha;
    double anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'U', (lapack_int)d, A, (lapack_int)d), rcond = 0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, A, (lapack_int)d) != 0)
        return 1;
    if (LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, A, (lapack_int)d, anorm, &rcond) != 0 ||
        !(rcond >= DBL_EPSILON))
        return 1;
    memcpy(W, B, d * L * sizeof *W);
    return LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, (lapack_int)L, A, (lapack_int)d, W,
                          (lapack_int)L) != 0;
}

/* W (d x L) >= 0 minimising 1/2 w^T (A + alpha I) w - b^T w per label, by
 * cyclic coordinate descent with each coordinate clipped at 0: the same
 * objective as ||Yc - Xc W||^2 + alpha ||W||^2 under W >= 0. */
static void solve_positive(const double *A, const double *B, size_t d, size_t L, double alpha, double *W)
{
    double *g = malloc((d ? d : 1) * sizeof *g); /* b - (A + alpha I) w */
    if (!g)
        return;
    for (size_t l = 0; l < L; l++) {
        for (size_t j = 0; j < d; j++) {
            W[j * L + l] = 0.0;
            g[j] = B[j * L + l];
        }
        for (int sweep = 0; sweep < 100000; sweep++) {
            double step = 0, size = 0;
            for (size_t j = 0; j < d; j++) {
                double ajj = A[j * d + j] + alpha, w = W[j * L + l];
                if (!(ajj > 0))
                    continue; /* a constant feature: its weight stays 0 */
                double next = fmax(0.0, w + g[j] / ajj), delta = next - w;
                if (delta == 0.0)
                    continue;
                W[j * L + l] = next;
                for (size_t i = 0; i < d; i++)
                    g[i] -= delta * (A[i * d + j] + (i == j ? alpha : 0.0));
                step = fmax(step, fabs(delta));
                size = fmax(size, fabs(next));
            }
            if (step <= 1e-14 * fmax(size, 1.0))
                break;
        }
    }
    free(g);
}

/* Rows [r0, r0 + m) of the training set as doubles, minus the means. */
static void centre_rows(const reel_fit_ctx *ctx, const double *mx, const double *my, size_t r0, size_t m,
                        double *Xc, double *Yc)
{
    size_t d = ctx->d, L = ctx->L;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < d; j++)
            Xc[i * d + j] = ctx->X[(r0 + i) * d + j] - mx[j];
        for (size_t l = 0; l < L; l++)
            Yc[i * L + l] = (ctx->Y[(r0 + i) * L + l] ? 1.0 : -1.0) - my[l];
    }
}

#define NORMAL_BLOCK 8192 /* rows per block of the normal equations */

/* A += Xc^T Xc and B += Xc^T Yc, block by block (A and B start at 0). */
static int normal_equations(const reel_fit_ctx *ctx, const double *mx, const double *my, double *A, double *B,
                            reel_error *err)
{
    size_t n = ctx->n, d = ctx->d, L = ctx->L, rows = n < NORMAL_BLOCK ? n : NORMAL_BLOCK;
    double *Xc = malloc(rows * d * sizeof *Xc), *Yc = malloc(rows * L * sizeof *Yc);
    if (!Xc || !Yc) {
        free(Xc);
        free(Yc);
        return reel_fail(err, "ridge: out of memory");
    }
    for (size_t r0 = 0; r0 < n; r0 += rows) {
        if (reel_interrupted()) {
            free(Xc);
            free(Yc);
            return reel_fail(err, "ridge: %s", reel_interrupt_name());
        }
        size_t m = n - r0 < rows ? n - r0 : rows;
        centre_rows(ctx, mx, my, r0, m, Xc, Yc);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)m, 1.0, Xc, (int)d, Xc, (int)d,
                    1.0, A, (int)d);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)L, (int)m, 1.0, Xc, (int)d, Yc, (int)L,
                    1.0, B, (int)L);
    }
    free(Xc);
    free(Yc);
    return 0;
}

/* What a target refuses: a binary one has a single output, which softmax
 * would always set to 1. Every fit checks it, plain or sharing the normal
 * equations. */
static int check_target(const ridge_params *rp, const reel_fit_ctx *ctx, reel_error *err)
{
    if (rp->softmax && ctx->target == REEL_TARGET_BINARY)
        return reel_fail(err, "ridge: output \"softmax\" shares 1 across outputs, and a binary target has one "
                         "(output \"decision\" is RidgeClassifier's)");
    return 0;
}

static void *ridge_fit(const cJSON *params, const reel_fit_ctx *ctx, reel_error *err)
{
    size_t n = ctx->n, d = ctx->d, L = ctx->L;
    ridge_params rp;
    if (ridge_params_get(params, &rp, err))
        return NULL;
    double alpha = rp.alpha;
    int intercept = rp.intercept, positive = rp.positive, svd = rp.svd;
    if (n == 0) {
        reel_fail(err, "ridge: no training rows");
        return NULL;
    }
    if (check_target(&rp, ctx, err))
        return NULL;
    ridge_state *s = ridge_new(&rp, d, L, ctx->threads);
    double *mx = calloc(d ? d : 1, sizeof *mx), *my = calloc(L ? L : 1, sizeof *my),
           *A = calloc(d * d > 0 ? d * d : 1, sizeof *A), *B = calloc(d * L > 0 ? d * L : 1, sizeof *B),
           *W = calloc(d * L > 0 ? d * L : 1, sizeof *W), *Xc = NULL, *Yc = NULL;
    if (!s || !mx || !my || !A || !B || !W) {
        reel_fail(err, "ridge: out of memory for the %zu x %zu normal equations of %zu features (%.1f GB; fewer "
                  "features, e.g. a smaller --top-categories, need less)", d, d, d, (double)d * (double)d * 8e-9);
        ridge_free(s);
        s = NULL;
        goto done;
    }

    /* Targets +1/-1; both sides centred in double when fitting an
     * intercept. The normal equations A = Xc^T Xc, B = Xc^T Yc are summed
     * over blocks of rows, so no centred copy of X is ever whole. */
    if (intercept) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++)
                mx[j] += ctx->X[i * d + j];
            for (size_t l = 0; l < L; l++)
                my[l] += ctx->Y[i * L + l] ? 1.0 : -1.0;
        }
        for (size_t j = 0; j < d; j++)
            mx[j] /= (double)n;
        for (size_t l = 0; l < L; l++)
            my[l] /= (double)n;
    }
    if (d > 0 && L > 0) {
        if (normal_equations(ctx, mx, my, A, B, err)) {
            ridge_free(s);
            s = NULL;
            goto done;
        }
        if (positive) {
            solve_positive(A, B, d, L, alpha, W);
        } else if (svd || solve_cholesky(A, B, d, L, alpha, W)) {
            /* the SVD needs the whole centred matrix */
            Xc = malloc(n * d * sizeof *Xc);
            Yc = malloc(n * L * sizeof *Yc);
            if (!Xc || !Yc) {
                reel_fail(err, "ridge: out of memory for the SVD of %zu training rows x %zu features", n, d);
                ridge_free(s);
                s = NULL;
                goto done;
            }
            centre_rows(ctx, mx, my, 0, n, Xc, Yc);
            if (solve_svd(Xc, Yc, n, d, L, alpha, W, err)) {
                ridge_free(s);
                s = NULL;
                goto done;
            }
        }
    }
    if (reel_interrupted()) { /* the solve is the long part: nothing to keep */
        reel_fail(err, "ridge: %s", reel_interrupt_name());
        ridge_free(s);
        s = NULL;
        goto done;
    }
    for (size_t l = 0; l < L; l++) {
        double b = my[l];
        for (size_t j = 0; j < d; j++) {
            s->coef[l * d + j] = W[j * L + l];
            b -= mx[j] * W[j * L + l];
        }
        s->intercept[l] = intercept ? b : 0.0;
    }
done:
    free(Xc);
    free(Yc);
    free(mx);
    free(my);
    free(A);
    free(B);
    free(W);
    return s;
}

/* ---- fits sharing the normal equations (classical/ridge.h) ---- */

struct reel_ridge_gram {
    ridge_params rp;
    const float *X; /* n x d, the training rows */
    const uint8_t *Y;
    size_t n, d, L;
    double *mx, *my; /* d, L: the means (0 without an intercept) */
    double *A, *B;   /* d x d: Xc^T Xc (without alpha), d x L: Xc^T Yc */
    double *R;       /* d x d: the upper Cholesky factor of A + alpha I, when it passed the check; else NULL */
};

void reel_ridge_gram_free(reel_ridge_gram *g)
{
    if (!g)
        return;
    free(g->mx);
    free(g->my);
    free(g->A);
    free(g->B);
    free(g->R);
    free(g);
}

int reel_ridge_gram_new(const cJSON *params, const reel_fit_ctx *ctx, reel_ridge_gram **out, reel_error *err)
{
    *out = NULL;
    ridge_params rp;
    if (ridge_params_get(params, &rp, err) || check_target(&rp, ctx, err))
        return -1;
    size_t n = ctx->n, d = ctx->d, L = ctx->L;
    if (rp.positive || rp.svd || n == 0 || d == 0 || L == 0)
        return 0;
    reel_ridge_gram *g = calloc(1, sizeof *g);
    if (!g)
        return reel_fail(err, "ridge: out of memory");
    *g = (reel_ridge_gram){.rp = rp, .X = ctx->X, .Y = ctx->Y, .n = n, .d = d, .L = L};
    g->mx = calloc(d, sizeof *g->mx);
    g->my = calloc(L, sizeof *g->my);
    g->A = calloc(d * d, sizeof *g->A);
    g->B = calloc(d * L, sizeof *g->B);
    g->R = malloc(d * d * sizeof *g->R);
    double *W = malloc(d * L * sizeof *W);
    if (!g->mx || !g->my || !g->A || !g->B || !g->R || !W) {
        free(W);
        reel_ridge_gram_free(g);
        return reel_fail(err, "ridge: out of memory for the %zu x %zu normal equations", d, d);
    }
    /* the means and sums exactly as ridge_fit makes them */
    if (rp.intercept) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++)
                g->mx[j] += ctx->X[i * d + j];
            for (size_t l = 0; l < L; l++)
                g->my[l] += ctx->Y[i * L + l] ? 1.0 : -1.0;
        }
        for (size_t j = 0; j < d; j++)
            g->mx[j] /= (double)n;
        for (size_t l = 0; l < L; l++)
            g->my[l] /= (double)n;
    }
    if (normal_equations(ctx, g->mx, g->my, g->A, g->B, err)) {
        free(W);
        reel_ridge_gram_free(g);
        return -1;
    }
    memcpy(g->R, g->A, d * d * sizeof *g->R);
    if (solve_cholesky(g->R, g->B, d, L, rp.alpha, W)) {
        free(g->R); /* every fit factors its own system, as ridge_fit would */
        g->R = NULL;
    }
    free(W);
    *out = g;
    return 0;
}

/* Rf (m x m, upper): the Cholesky factor of (A + alpha I)[S, S] from R,
 * the whole system's, by deleting the columns not in S: R[:, S] is upper
 * triangular but for the rows of the deleted columns, which Givens
 * rotations of neighbouring rows fold back in, column by column. T: d x m. */
static void factor_without(const double *R, size_t d, const size_t *S, size_t m, double *T, double *Rf)
{
    size_t rows = S[m - 1] + 1; /* rows below the last kept column are 0 in R[:, S] */
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < m; c++)
            T[r * m + c] = r <= S[c] ? R[r * d + S[c]] : 0.0;
    for (size_t c = 0; c < m; c++) {
        for (size_t r = S[c]; r > c; r--) { /* zero T[r][c] against T[r-1][c] */
            double b = T[r * m + c];
            if (b == 0.0)
                continue;
            double a = T[(r - 1) * m + c], h = hypot(a, b), cs = a / h, sn = b / h;
            for (size_t k = c; k < m; k++) {
                double x = T[(r - 1) * m + k], y = T[r * m + k];
                T[(r - 1) * m + k] = cs * x + sn * y;
                T[r * m + k] = cs * y - sn * x;
            }
        }
        if (T[c * m + c] < 0) /* a positive diagonal, as LAPACK's factor */
            for (size_t k = c; k < m; k++)
                T[c * m + k] = -T[c * m + k];
    }
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < m; c++)
            Rf[r * m + c] = c >= r ? T[r * m + c] : 0.0;
}

/* W (m x L) for the kept columns S; 1 when the system fails the check. */
static int gram_solve(const reel_ridge_gram *g, const size_t *S, size_t m, double *W, reel_error *err)
{
    size_t d = g->d, L = g->L;
    double *Af = malloc(m * m * sizeof *Af), *Bf = malloc(m * L * sizeof *Bf);
    double *T = g->R ? malloc((S[m - 1] + 1) * m * sizeof *T) : NULL;
    int rc = -1;
    if (!Af || !Bf || (g->R && !T)) {
        reel_fail(err, "ridge: out of memory");
        goto done;
    }
    for (size_t r = 0; r < m; r++) {
        for (size_t c = 0; c < m; c++)
            Af[r * m + c] = g->A[S[r] * d + S[c]];
        memcpy(Bf + r * L, g->B + S[r] * L, L * sizeof *Bf);
    }
    if (!g->R) { /* no whole factor to start from: this system's own, as a fit */
        rc = solve_cholesky(Af, Bf, m, L, g->rp.alpha, W);
        goto done;
    }
    for (size_t j = 0; j < m; j++)
        Af[j * m + j] += g->rp.alpha;
    double anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'U', (lapack_int)m, Af, (lapack_int)m), rcond = 0;
    factor_without(g->R, d, S, m, T, Af);
    if (LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, Af, (lapack_int)m, anorm, &rcond) != 0 ||
        !(rcond >= DBL_EPSILON)) {
        rc = 1;
        goto done;
    }
    memcpy(W, Bf, m * L * sizeof *W);
    rc = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, (lapack_int)L, Af, (lapack_int)m, W,
                        (lapack_int)L) != 0;
done:
    free(Af);
    free(Bf);
    free(T);
    return rc;
}

void *reel_ridge_gram_fit(const reel_ridge_gram *g, const uint8_t *mask, int threads, reel_error *err)
{
    size_t d = g->d, L = g->L, n = g->n, m = 0;
    size_t *S = malloc(d * sizeof *S);
    if (!S) {
        reel_fail(err, "ridge: out of memory");
        return NULL;
    }
    for (size_t j = 0; j < d; j++)
        if (!mask || mask[j])
            S[m++] = j;
    ridge_state *s = m ? ridge_new(&g->rp, m, L, threads) : NULL;
    double *W = calloc(m * L > 0 ? m * L : 1, sizeof *W), *Xc = NULL, *Yc = NULL;
    int rc = !s || !W ? reel_fail(err, m ? "ridge: out of memory" : "ridge: no features to fit on")
                      : gram_solve(g, S, m, W, err);
    if (rc == 1) { /* the SVD of the kept columns, as ridge_fit */
        Xc = malloc(n * m * sizeof *Xc);
        Yc = malloc(n * L * sizeof *Yc);
        if (!Xc || !Yc) {
            rc = reel_fail(err, "ridge: out of memory for the SVD of %zu training rows x %zu features", n, m);
        } else {
            for (size_t i = 0; i < n; i++) {
                for (size_t c = 0; c < m; c++)
                    Xc[i * m + c] = g->X[i * d + S[c]] - g->mx[S[c]];
                for (size_t l = 0; l < L; l++)
                    Yc[i * L + l] = (g->Y[i * L + l] ? 1.0 : -1.0) - g->my[l];
            }
            rc = solve_svd(Xc, Yc, n, m, L, g->rp.alpha, W, err);
        }
    }
    if (rc == 0) {
        for (size_t l = 0; l < L; l++) {
            double b = g->my[l];
            for (size_t c = 0; c < m; c++) {
                s->coef[l * m + c] = W[c * L + l];
                b -= g->mx[S[c]] * W[c * L + l];
            }
            s->intercept[l] = g->rp.intercept ? b : 0.0;
        }
    }
    free(S);
    free(W);
    free(Xc);
    free(Yc);
    if (rc) {
        ridge_free(s);
        return NULL;
    }
    return s;
}

/* sigmoid(D) as a float that is > 0.5 exactly when D > 0. */
static float decision_proba(double D)
{
    float p = (float)(1.0 / (1.0 + exp(-D)));
    if (D > 0 && p <= 0.5f)
        p = nextafterf(0.5f, 1.0f);
    if (!(D > 0) && p > 0.5f)
        p = 0.5f;
    return p;
}

/* The decision value of row x for label l. */
static double decision(const ridge_state *s, const float *x, size_t l)
{
    double v = s->intercept[l];
    for (size_t j = 0; j < s->d; j++)
        v += s->coef[l * s->d + j] * x[j];
    return v;
}

static int ridge_predict(const void *state, const float *X, size_t n, float *P, reel_error *err)
{
    (void)err;
    const ridge_state *s = state;
    size_t L = s->L;
#pragma omp parallel for schedule(static) num_threads(s->threads)
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * s->d;
        float *p = P + i * L;
        if (!s->softmax) {
            for (size_t l = 0; l < L; l++)
                p[l] = decision_proba(decision(s, x, l));
            continue;
        }
        double top = -INFINITY, sum = 0;
        for (size_t l = 0; l < L; l++)
            top = fmax(top, decision(s, x, l));
        for (size_t l = 0; l < L; l++)
            sum += exp(decision(s, x, l) - top);
        for (size_t l = 0; l < L; l++)
            p[l] = (float)(exp(decision(s, x, l) - top) / sum);
    }
    return 0;
}

static int ridge_save(const void *state, reel_tensors *out, cJSON *meta, reel_error *err)
{
    (void)meta;
    const ridge_state *s = state;
    size_t cs[2] = {s->L, s->d};
    if (reel_tensors_add(out, "coef", REEL_F64, 2, cs, s->coef, err))
        return -1;
    return reel_tensors_add(out, "intercept", REEL_F64, 1, &s->L, s->intercept, err);
}

static void *ridge_load(const cJSON *params, size_t d, size_t L, int threads, const reel_tensors *in,
                        const cJSON *meta, reel_error *err)
{
    (void)meta;
    const reel_tensor *c = reel_tensors_get(in, "coef", REEL_F64, L * d, err);
    const reel_tensor *b = c ? reel_tensors_get(in, "intercept", REEL_F64, L, err) : NULL;
    if (!b)
        return NULL;
    ridge_params rp;
    if (ridge_params_get(params, &rp, err))
        return NULL;
    ridge_state *s = ridge_new(&rp, d, L, threads);
    if (!s) {
        reel_fail(err, "out of memory");
        return NULL;
    }
    memcpy(s->coef, c->data, c->nbytes);
    memcpy(s->intercept, b->data, b->nbytes);
    return s;
}

/* The softmax output is thresholded at 0.03 unless the user says otherwise.
 * (A params miss here is reported by the fit or load that follows.) */
static float ridge_default_threshold(const cJSON *params, size_t L)
{
    (void)L;
    ridge_params rp;
    reel_error e;
    return ridge_params_get(params, &rp, &e) == 0 && rp.softmax ? 0.03f : 0.5f;
}

const reel_model_kind reel_kind_ridge = {
    .name = "ridge",
    .standardize = 1,
    .fit = ridge_fit,
    .predict_proba = ridge_predict,
    .save = ridge_save,
    .load = ridge_load,
    .free = ridge_free,
    .default_threshold = ridge_default_threshold,
};
