/* Exact brute-force k-nearest-neighbour search (see knn_search.h).
 *
 * Every query keeps its k best rows so far in a max-heap keyed on
 * (distance, index). Rows reach the heap through a cheap float32 filter:
 * for a tile of 8 queries by up to LT training rows, tile_sums() adds up
 * the float per-feature terms ((x - q)^2, |x - q| or their max) over a
 * transposed copy of X, in registers, with AVX2/AVX-512 where the CPU has
 * them. Up to SB such groups of queries go over the training rows one
 * cache tile (about 256 KB of the copy) at a time, so the copy streams
 * from memory once per SB x 8 queries, not once per 8: the cost per pair
 * stays that of the registers when the copy outgrows the last-level cache.
 * A heap keeps the same k rows whatever order they are offered in.
 *
 * Why the filter is safe: each float term is off by at most a few units u
 * = 2^-24 of its value and a float sum of d non-negative terms by at most
 * gamma_d = d u / (1 - d u) of the total, in any order. So the float sum
 * times (1 - c), with c = gamma_d + 4 u (plus margins), never exceeds the
 * distance as computed in double. A row is skipped only when that lower
 * bound already exceeds the k-th best distance so far: it could not enter
 * the heap. Survivors are measured in double and compared exactly, which
 * makes the answer independent of vector width, blocking and threads.
 * General minkowski p filters on the euclidean float sums: sum |v|^p is at
 * least (sum v^2)^(p/2) for p <= 2 and d^(1 - p/2) times that for p > 2
 * (Hoelder), so the k-th best reduced distance maps to a euclidean
 * threshold. Whole and half-whole p take products (and a sqrt), not pow.
 * Rows or queries with values beyond 1e15 (where float sums could
 * overflow) go through plain double loops. */
#include "classical/knn_search.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A tile: LQ queries by LT training rows of float sums (16 KB, in L1),
 * computed RB rows at a time with LQ x RB accumulators in registers; up to
 * SB groups of LQ queries share each cache tile of training rows. */
enum { LQ = 8, LT = 512, RB = 8, SB = 32 };

/* Beyond this magnitude the float filter is not used. */
#define FLOAT_SAFE 1e15

/* Clones of the hot loops for wider vector units, chosen at run time
 * (GCC and Clang on x86-64 Linux); elsewhere one portable version. */
#if defined(__x86_64__) && defined(__linux__) && !defined(REEL_SANITIZE)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* The filter's relative slack c (see above), with a 5% margin and room for
 * the double arithmetic around it. */
static double filter_slack(size_t d)
{
    double u = ldexp(1.0, -24), g = (double)(d + 1) * u / (1.0 - (double)(d + 1) * u);
    return 1.05 * (g + 4 * u) + 1e-12;
}

/* The float just above the double x (x itself when exact): a threshold
 * that never tightens the double comparison it replaces. */
static float float_above(double x)
{
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

static int float_safe(const float *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!(fabsf(v[i]) <= FLOAT_SAFE))
            return 0;
    return 1;
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
        if (p <= 64 && floor(2 * p) == 2 * p) {
            ix->p_whole = (int)floor(p);
            ix->p_half = p != floor(p);
        }
        ix->p_floor = p <= 2 ? 1.0 : pow((double)(d ? d : 1), 1.0 - p / 2);
    } else
        return reel_fail(err,
                         "knn: key 'metric' must be one of \"minkowski\", \"euclidean\", \"manhattan\", "
                         "\"chebyshev\"; got \"%s\"",
                         metric);
    if (d == 0 || !float_safe(X, n * d))
        return 0; /* plain double loops */

    /* The filter's copy: d x stride, rows padded with zeros to a multiple of RB. */
    ix->stride = (n + RB - 1) / RB * RB;
    ix->XT = calloc(d * ix->stride, sizeof *ix->XT);
    if (!ix->XT)
        return reel_fail(err, "knn: out of memory for a %zu x %zu copy of the training rows", n, d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            ix->XT[j * ix->stride + i] = X[i * d + j];
    return 0;
}

void reel_knn_index_free(reel_knn_index *ix)
{
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
        if (ix->p_whole) {
            for (size_t j = 0; j < d && !(s > stop); j++) {
                double v = fabs((double)x[j] - (double)q[j]), t = ix->p_half ? sqrt(v) * v : v;
                for (int e = 1; e < ix->p_whole; e++)
                    t *= v;
                s += t;
            }
        } else
            for (size_t j = 0; j < d && !(s > stop); j++)
                s += pow(fabs((double)x[j] - (double)q[j]), ix->p);
        break;
    }
    return isnan(s) ? INFINITY : s;
}

/* ---- the float filter ---- */

/* One metric's term, accumulated: (x - q)^2 summed, |x - q| summed, or the max. */
static inline float accumulate(reel_knn_metric metric, float s, float x, float q)
{
    float v = x - q;
    if (metric == REEL_KNN_EUCLIDEAN)
        return s + v * v;
    v = fabsf(v);
    if (metric == REEL_KNN_MANHATTAN)
        return s + v;
    return v > s ? v : s;
}

/* acc[a * LT + t] = float sum for query a (qt: d x LQ, transposed) and
 * training row t0 + t, t < nt rounded up to RB. */
static inline void tile_sums_for(reel_knn_metric metric, const reel_knn_index *ix, size_t t0, size_t nt,
                                 const float *qt, float *acc)
{
    for (size_t t = 0; t < nt; t += RB) {
        float s[LQ][RB] = {{0}};
        for (size_t f = 0; f < ix->d; f++) {
            const float *x = ix->XT + f * ix->stride + t0 + t, *q = qt + f * LQ;
#pragma GCC unroll 8
            for (size_t a = 0; a < LQ; a++)
#pragma GCC unroll 8
                for (size_t r = 0; r < RB; r++)
                    s[a][r] = accumulate(metric, s[a][r], x[r], q[a]);
        }
        for (size_t a = 0; a < LQ; a++)
            memcpy(acc + a * LT + t, s[a], sizeof s[a]);
    }
}

/* One copy of the loops per metric, so each inner loop is branch-free. */
VECTOR_CLONES static void tile_sums(const reel_knn_index *ix, size_t t0, size_t nt, const float *qt, float *acc)
{
    switch (ix->metric) {
    case REEL_KNN_EUCLIDEAN:
        tile_sums_for(REEL_KNN_EUCLIDEAN, ix, t0, nt, qt, acc);
        break;
    case REEL_KNN_MANHATTAN:
        tile_sums_for(REEL_KNN_MANHATTAN, ix, t0, nt, qt, acc);
        break;
    case REEL_KNN_CHEBYSHEV:
        tile_sums_for(REEL_KNN_CHEBYSHEV, ix, t0, nt, qt, acc);
        break;
    case REEL_KNN_MINKOWSKI: /* filtered on the euclidean sums (see the top) */
        tile_sums_for(REEL_KNN_EUCLIDEAN, ix, t0, nt, qt, acc);
        break;
    }
}

/* The filter's threshold for a query whose k-th best reduced distance is
 * bound: its own metric's scale, or for minkowski the euclidean sum below
 * which a row could still beat bound (bound loosened by 1e-9 for the
 * rounding of the exact sums). */
static float filter_threshold(const reel_knn_index *ix, double bound, double grow)
{
    if (ix->metric == REEL_KNN_MINKOWSKI && bound < INFINITY)
        bound = pow(bound * (1 + 1e-9) / ix->p_floor, 2.0 / ix->p);
    return float_above(bound * grow);
}

/* Plain double loops, with early exit: general minkowski p, d = 0, huge values. */
static void scan_plain(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h)
{
    for (size_t a = 0; a < q1 - q0; a++) {
        const float *q = Q + (q0 + a) * ix->d;
        for (size_t t = 0; t < ix->n; t++)
            heap_offer(&h[a], exact_reduced(ix, ix->X + t * ix->d, q, heap_bound(&h[a])), (int32_t)t);
    }
}

/* Training rows per cache tile: the rows of XT that a superblock's query
 * groups all scan before the next tile, about 256 KB of them (in L2), a
 * multiple of LT. */
static size_t cache_tile(size_t d)
{
    size_t rows = (size_t)(256 * 1024) / (4 * (d ? d : 1));
    return rows < LT ? LT : rows / LT * LT;
}

/* Queries [q0, q1) (at most LQ, transposed in qbuf: d x LQ) against
 * training rows [t0, t1) through the filter into heaps h. */
static void scan_filtered(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, const float *qbuf,
                          size_t t0, size_t t1, best_k *h, float *acc)
{
    size_t d = ix->d, mq = q1 - q0;
    double grow = 1.0 / (1.0 - filter_slack(d));
    for (; t0 < t1; t0 += LT) {
        size_t nt = t1 - t0 < LT ? t1 - t0 : LT;
        tile_sums(ix, t0, nt, qbuf, acc);
        for (size_t a = 0; a < mq; a++) {
            const float *s = acc + a * LT, *q = Q + (q0 + a) * d;
            best_k *hq = &h[a];
            float thr = filter_threshold(ix, heap_bound(hq), grow);
            for (size_t j0 = 0; j0 < nt; j0 += 16) {
                size_t j1 = j0 + 16 < nt ? j0 + 16 : nt;
                int hit = 0; /* any candidate among these 16? (vectorises) */
                for (size_t t = j0; t < j1; t++)
                    hit |= s[t] <= thr;
                if (!hit)
                    continue;
                for (size_t t = j0; t < j1; t++)
                    if (s[t] <= thr) {
                        heap_offer(hq, exact_reduced(ix, ix->X + (t0 + t) * d, q, INFINITY), (int32_t)(t0 + t));
                        thr = filter_threshold(ix, heap_bound(hq), grow);
                    }
            }
        }
    }
}

/* A superblock: groups of LQ queries [q0, q1) that scan the training rows
 * one cache tile at a time, every group over a tile before the next, so a
 * tile is read from memory once per superblock rather than once per group.
 * The order rows reach a heap does not change what it keeps. */
static void scan_superblock(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h,
                            float *qbuf, float *acc)
{
    size_t d = ix->d, groups = (q1 - q0 + LQ - 1) / LQ, tile = cache_tile(d);
    for (size_t g = 0; g < groups; g++) {
        float *qt = qbuf + g * d * LQ;
        size_t a0 = q0 + g * LQ, mq = q1 - a0 < LQ ? q1 - a0 : LQ;
        for (size_t f = 0; f < d; f++)
            for (size_t a = 0; a < LQ; a++)
                qt[f * LQ + a] = a < mq ? Q[(a0 + a) * d + f] : 0.0f;
    }
    for (size_t t0 = 0; t0 < ix->n; t0 += tile) {
        size_t t1 = ix->n - t0 < tile ? ix->n : t0 + tile;
        for (size_t g = 0; g < groups; g++) {
            size_t a0 = q0 + g * LQ, a1 = q1 - a0 < LQ ? q1 : a0 + LQ;
            scan_filtered(ix, Q, a0, a1, qbuf + g * d * LQ, t0, t1, h + g * LQ, acc);
        }
    }
}

int reel_knn_search(const reel_knn_index *ix, const float *Q, size_t m, size_t k, int threads, int32_t *idx,
                    double *dist, reel_error *err)
{
    if (k < 1 || k > ix->n)
        return reel_fail(err, "knn: n_neighbors (%zu) must be between 1 and the %zu training rows", k, ix->n);
    if (ix->n > INT32_MAX)
        return reel_fail(err, "knn: %zu training rows are too many for one search", ix->n);
    int nth = threads > 0 ? threads : 1;
    /* Superblocks of up to SB groups of LQ queries; smaller when there are
     * few queries, so that every thread has some. */
    size_t groups = (m + LQ - 1) / LQ, per = groups / (4 * (size_t)nth);
    per = per < 1 ? 1 : per > SB ? SB : per;
    size_t nsuper = (groups + per - 1) / per, d = ix->d;
    int failed = 0;
#pragma omp parallel num_threads(nth)
    {
        best_k *h = malloc(per * LQ * sizeof *h);
        double *r = malloc(per * LQ * k * sizeof *r);
        int32_t *i = malloc(per * LQ * k * sizeof *i);
        float *acc = malloc(LQ * LT * sizeof *acc), *qbuf = malloc(per * LQ * (d ? d : 1) * sizeof *qbuf);
        int ok = h && r && i && acc && qbuf;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nsuper; b++) {
            if (!ok)
                continue;
            size_t q0 = b * per * LQ, q1 = q0 + per * LQ < m ? q0 + per * LQ : m;
            for (size_t a = 0; a < q1 - q0; a++)
                h[a] = (best_k){.r = r + a * k, .i = i + a * k, .k = k, .len = 0};
            /* each group of LQ takes the filter when its own values allow */
            int all_safe = ix->XT != NULL;
            for (size_t g0 = q0; all_safe && g0 < q1; g0 += LQ)
                all_safe = float_safe(Q + g0 * d, ((q1 - g0 < LQ ? q1 - g0 : LQ)) * d);
            if (all_safe) {
                scan_superblock(ix, Q, q0, q1, h, qbuf, acc);
            } else {
                for (size_t g0 = q0; g0 < q1; g0 += LQ) {
                    size_t g1 = q1 - g0 < LQ ? q1 : g0 + LQ;
                    if (ix->XT && float_safe(Q + g0 * d, (g1 - g0) * d))
                        scan_superblock(ix, Q, g0, g1, h + (g0 - q0), qbuf, acc);
                    else
                        scan_plain(ix, Q, g0, g1, h + (g0 - q0));
                }
            }
            for (size_t a = 0; a < q1 - q0; a++)
                heap_drain(&h[a], ix, idx + (q0 + a) * k, dist + (q0 + a) * k);
        }
        free(h);
        free(r);
        free(i);
        free(acc);
        free(qbuf);
    }
    return failed ? reel_fail(err, "knn: out of memory for the neighbour search (k = %zu)", k) : 0;
}
