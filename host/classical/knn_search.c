/* Exact brute-force k-nearest-neighbour search (see knn_search.h).
 *
 * Every query keeps its k best rows so far in a max-heap keyed on
 * (distance, index). Rows reach the heap through a cheap float32 filter:
 *   euclidean: ||q||^2 + ||x||^2 - 2 q.x with q.x from one sgemm per tile;
 *   manhattan, chebyshev: float loops over a transposed copy of X.
 * Both come with a rigorous rounding bound (the float dot or sum of d terms
 * is off by at most gamma_d = d u / (1 - d u) of its magnitude, u = 2^-24),
 * so the filter's lower bound never exceeds the row's true distance and a
 * row is skipped only when it provably cannot enter the heap. Survivors are
 * measured in double and compared exactly, which makes the answer
 * independent of BLAS, blocking and threads. */
#include "classical/knn_search.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Tile sizes, tuned on a 2 MB-L2 Xeon: a euclidean tile of products is
 * EQ x ET floats (512 KB); a manhattan/chebyshev tile of sums LQ x LT. */
enum { EQ = 64, ET = 2048, LQ = 8, LT = 512 };

/* The filter's relative slack: gamma_d for the float part, with margin,
 * plus room for the double arithmetic around it. */
static double filter_slack(size_t d)
{
    double u = ldexp(1.0, -24);
    return 1.05 * (double)(d + 1) * u / (1.0 - (double)(d + 1) * u) + 1e-12;
}

int reel_knn_index_init(reel_knn_index *ix, const float *X, size_t n, size_t d, const char *metric, double p,
                        reel_error *err)
{
    memset(ix, 0, sizeof *ix);
    ix->X = X;
    ix->n = n;
    ix->d = d;
    ix->p = p;
    if (strcmp(metric, "euclidean") == 0)
        ix->metric = REEL_KNN_EUCLIDEAN;
    else if (strcmp(metric, "manhattan") == 0)
        ix->metric = REEL_KNN_MANHATTAN;
    else if (strcmp(metric, "chebyshev") == 0)
        ix->metric = REEL_KNN_CHEBYSHEV;
    else if (strcmp(metric, "minkowski") == 0) {
        if (!(p >= 1.0) || !isfinite(p))
            return reel_fail(err, "knn: key 'p' must be a number >= 1 for metric minkowski; got %g", p);
        ix->metric = p == 1.0 ? REEL_KNN_MANHATTAN : p == 2.0 ? REEL_KNN_EUCLIDEAN : REEL_KNN_MINKOWSKI;
    } else
        return reel_fail(err,
                         "knn: key 'metric' must be one of \"minkowski\", \"euclidean\", \"manhattan\", "
                         "\"chebyshev\"; got \"%s\"",
                         metric);

    if (ix->metric == REEL_KNN_EUCLIDEAN) {
        /* Stored already scaled by (1 - slack): the filter's lower bound. */
        ix->sqnorm = malloc((n ? n : 1) * sizeof *ix->sqnorm);
        if (!ix->sqnorm)
            return reel_fail(err, "knn: out of memory for %zu row norms", n);
        double keep = 1.0 - filter_slack(d);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (double)X[i * d + j] * X[i * d + j];
            ix->sqnorm[i] = s * keep;
        }
    } else if (ix->metric == REEL_KNN_MANHATTAN || ix->metric == REEL_KNN_CHEBYSHEV) {
        ix->XT = malloc((n * d > 0 ? n * d : 1) * sizeof *ix->XT);
        if (!ix->XT)
            return reel_fail(err, "knn: out of memory for a %zu x %zu copy of the training rows", n, d);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                ix->XT[j * n + i] = X[i * d + j];
    }
    return 0;
}

void reel_knn_index_free(reel_knn_index *ix)
{
    free(ix->sqnorm);
    free(ix->XT);
    memset(ix, 0, sizeof *ix);
}

/* ---- a query's k best: max-heap on (reduced distance, index) ---- */

typedef struct {
    double *r;  /* reduced distance: squared for euclidean, sum |v|^p for minkowski */
    int32_t *i;
    size_t k, len;
} best_k;

static int worse(double ra, int32_t ia, double rb, int32_t ib) { return ra > rb || (ra == rb && ia > ib); }

static void heap_swap(best_k *h, size_t a, size_t b)
{
    double r = h->r[a];
    int32_t i = h->i[a];
    h->r[a] = h->r[b];
    h->i[a] = h->i[b];
    h->r[b] = r;
    h->i[b] = i;
}

static void heap_offer(best_k *h, double r, int32_t i)
{
    if (h->len < h->k) {
        size_t c = h->len++;
        h->r[c] = r;
        h->i[c] = i;
        while (c > 0 && worse(h->r[c], h->i[c], h->r[(c - 1) / 2], h->i[(c - 1) / 2])) {
            heap_swap(h, c, (c - 1) / 2);
            c = (c - 1) / 2;
        }
        return;
    }
    if (!worse(h->r[0], h->i[0], r, i))
        return;
    h->r[0] = r;
    h->i[0] = i;
    for (size_t c = 0;;) {
        size_t l = 2 * c + 1, w = c;
        if (l < h->len && worse(h->r[l], h->i[l], h->r[w], h->i[w]))
            w = l;
        if (l + 1 < h->len && worse(h->r[l + 1], h->i[l + 1], h->r[w], h->i[w]))
            w = l + 1;
        if (w == c)
            break;
        heap_swap(h, c, w);
        c = w;
    }
}

/* Largest reduced distance still admitted (infinite until full). */
static double heap_bound(const best_k *h) { return h->len < h->k ? INFINITY : h->r[0]; }

/* Pops everything into idx/dist, nearest first. */
static void heap_drain(best_k *h, const reel_knn_index *ix, int32_t *idx, double *dist)
{
    while (h->len > 0) {
        size_t last = --h->len;
        idx[last] = h->i[0];
        double r = h->r[0];
        dist[last] = ix->metric == REEL_KNN_EUCLIDEAN   ? sqrt(r)
                     : ix->metric == REEL_KNN_MINKOWSKI ? pow(r, 1.0 / ix->p)
                                                        : r;
        h->r[0] = h->r[last];
        h->i[0] = h->i[last];
        size_t keep = h->len;
        for (size_t c = 0;;) {
            size_t l = 2 * c + 1, w = c;
            if (l < keep && worse(h->r[l], h->i[l], h->r[w], h->i[w]))
                w = l;
            if (l + 1 < keep && worse(h->r[l + 1], h->i[l + 1], h->r[w], h->i[w]))
                w = l + 1;
            if (w == c)
                break;
            heap_swap(h, c, w);
            c = w;
        }
    }
}

/* The reduced distance in double. May stop early, returning a partial sum,
 * once it exceeds `stop` (the sums only grow). NaN counts as infinitely far. */
static double exact_reduced(const reel_knn_index *ix, const float *x, const float *q, double stop)
{
    size_t d = ix->d;
    double s = 0;
    switch (ix->metric) {
    case REEL_KNN_EUCLIDEAN:
        for (size_t j = 0; j < d; j++) {
            double v = (double)x[j] - (double)q[j];
            s += v * v;
        }
        break;
    case REEL_KNN_MANHATTAN:
        for (size_t j = 0; j < d; j++)
            s += fabs((double)x[j] - (double)q[j]);
        break;
    case REEL_KNN_CHEBYSHEV:
        for (size_t j = 0; j < d; j++) {
            double v = fabs((double)x[j] - (double)q[j]);
            if (v > s || isnan(v))
                s = v;
        }
        break;
    case REEL_KNN_MINKOWSKI:
        for (size_t j = 0; j < d && !(s > stop); j++)
            s += pow(fabs((double)x[j] - (double)q[j]), ix->p);
        break;
    }
    return isnan(s) ? INFINITY : s;
}

/* ---- the three scans; each handles queries [q0, q1) into heaps h[0..] ---- */

static void scan_euclidean(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h, float *G)
{
    size_t d = ix->d, n = ix->n, mq = q1 - q0;
    double keep = 1.0 - filter_slack(d), qlo[EQ];
    for (size_t a = 0; a < mq; a++) {
        double s = 0;
        for (size_t j = 0; j < d; j++)
            s += (double)Q[(q0 + a) * d + j] * Q[(q0 + a) * d + j];
        qlo[a] = s * keep;
    }
    for (size_t t0 = 0; t0 < n; t0 += ET) {
        size_t nt = n - t0 < ET ? n - t0 : ET;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mq, (int)nt, (int)d, 1.0f, Q + q0 * d,
                    (int)d, ix->X + t0 * d, (int)d, 0.0f, G, (int)nt);
        const double *xlo = ix->sqnorm + t0;
        for (size_t a = 0; a < mq; a++) {
            const float *g = G + a * nt, *q = Q + (q0 + a) * d;
            best_k *hq = &h[a];
            double thr = heap_bound(hq) - qlo[a];
            for (size_t j = 0; j < nt; j++) {
                if (hq->len < hq->k || xlo[j] - 2.0 * (double)g[j] <= thr) {
                    heap_offer(hq, exact_reduced(ix, ix->X + (t0 + j) * d, q, INFINITY), (int32_t)(t0 + j));
                    thr = heap_bound(hq) - qlo[a];
                }
            }
        }
    }
}

static void scan_l1_linf(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h, float *acc)
{
    size_t d = ix->d, n = ix->n, mq = q1 - q0;
    int cheb = ix->metric == REEL_KNN_CHEBYSHEV;
    double grow = 1.0 / (1.0 - filter_slack(d));
    for (size_t t0 = 0; t0 < n; t0 += LT) {
        size_t nt = n - t0 < LT ? n - t0 : LT;
        memset(acc, 0, LQ * LT * sizeof *acc);
        for (size_t j = 0; j < d; j++) {
            const float *col = ix->XT + j * n + t0;
            for (size_t a = 0; a < mq; a++) {
                float qv = Q[(q0 + a) * d + j], *s = acc + a * LT;
                if (cheb)
                    for (size_t t = 0; t < nt; t++) {
                        float v = fabsf(col[t] - qv);
                        s[t] = v > s[t] ? v : s[t];
                    }
                else
                    for (size_t t = 0; t < nt; t++)
                        s[t] += fabsf(col[t] - qv);
            }
        }
        for (size_t a = 0; a < mq; a++) {
            const float *s = acc + a * LT, *q = Q + (q0 + a) * d;
            best_k *hq = &h[a];
            double thr = heap_bound(hq) * grow;
            for (size_t t = 0; t < nt; t++) {
                if (hq->len < hq->k || (double)s[t] <= thr) {
                    heap_offer(hq, exact_reduced(ix, ix->X + (t0 + t) * d, q, INFINITY), (int32_t)(t0 + t));
                    thr = heap_bound(hq) * grow;
                }
            }
        }
    }
}

/* Plain loops: general minkowski p (with early exit), and d = 0. */
static void scan_plain(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h)
{
    for (size_t a = 0; a < q1 - q0; a++) {
        const float *q = Q + (q0 + a) * ix->d;
        for (size_t t = 0; t < ix->n; t++)
            heap_offer(&h[a], exact_reduced(ix, ix->X + t * ix->d, q, heap_bound(&h[a])), (int32_t)t);
    }
}

int reel_knn_search(const reel_knn_index *ix, const float *Q, size_t m, size_t k, int threads, int32_t *idx,
                    double *dist, reel_error *err)
{
    if (k < 1 || k > ix->n)
        return reel_fail(err, "knn: n_neighbors (%zu) must be between 1 and the %zu training rows", k, ix->n);
    if (ix->n > INT32_MAX || ix->n > (size_t)INT_MAX / (ix->d ? ix->d : 1))
        return reel_fail(err, "knn: %zu training rows are too many for one search", ix->n);
    if (m == 0)
        return 0;
    int plain = ix->metric == REEL_KNN_MINKOWSKI || ix->d == 0;
    int euclid = !plain && ix->metric == REEL_KNN_EUCLIDEAN;
    size_t qblock = euclid ? EQ : plain ? 16 : LQ;
    size_t nblocks = (m + qblock - 1) / qblock;
    size_t scratch = euclid ? (size_t)EQ * ET : (size_t)LQ * LT;
    int failed = 0;

    /* Each thread runs its sgemm calls single-threaded; BLAS threads
     * would only fight the OpenMP ones. */
    int blas_threads = openblas_get_num_threads();
    if (euclid)
        openblas_set_num_threads(1);

#pragma omp parallel num_threads(threads > 0 ? threads : 1)
    {
        best_k h[EQ > LQ ? EQ : LQ];
        double *r = malloc(qblock * k * sizeof *r);
        int32_t *i = malloc(qblock * k * sizeof *i);
        float *buf = malloc(scratch * sizeof *buf);
        if (!r || !i || !buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblocks; b++) {
            if (!r || !i || !buf)
                continue;
            size_t q0 = b * qblock, q1 = q0 + qblock < m ? q0 + qblock : m;
            for (size_t a = 0; a < q1 - q0; a++)
                h[a] = (best_k){.r = r + a * k, .i = i + a * k, .k = k, .len = 0};
            if (euclid)
                scan_euclidean(ix, Q, q0, q1, h, buf);
            else if (plain)
                scan_plain(ix, Q, q0, q1, h);
            else
                scan_l1_linf(ix, Q, q0, q1, h, buf);
            for (size_t a = 0; a < q1 - q0; a++)
                heap_drain(&h[a], ix, idx + (q0 + a) * k, dist + (q0 + a) * k);
        }
        free(r);
        free(i);
        free(buf);
    }
    if (euclid)
        openblas_set_num_threads(blas_threads);
    return failed ? reel_fail(err, "knn: out of memory for the neighbour search (k = %zu)", k) : 0;
}
