/* Exact brute-force k-nearest-neighbour search (see knn_search.h).
 *
 * Every query keeps its k best rows so far in a max-heap keyed on
 * (distance, index). Rows reach the heap through a cheap float32 filter:
 * classical/knn_kernel.c adds up the float per-feature terms ((x - q)^2,
 * |x - q| or their max) of LQ = 6 queries against panels of RB = 16
 * training rows (a packed copy of X), in registers, and hands back the
 * panels where some sum is at most its query's threshold. Up to SB groups
 * of queries go over the panels one cache tile (about TILE_BYTES) at a
 * time, so the copy streams from memory once per SB x LQ queries, not once
 * per group: the cost per pair stays that of the registers when the copy
 * outgrows the caches. A heap keeps the same k rows whatever order they
 * are offered in.
 *
 * Why the filter is safe: each float term is off by at most a few units
 * u = 2^-24 of its value (v = x - q rounds once, v^2 once more unless
 * fused into the add) and a float sum of d non-negative terms by at most
 * gamma_d = d u / (1 - d u) of the total, in any order, fused or not. So
 * the float sum times (1 - c), with c = gamma_d + 4 u (plus margins), never
 * exceeds the distance as computed in double. A row is skipped only when
 * that lower bound already exceeds the k-th best distance so far: it could
 * not enter the heap. Survivors are measured in double and compared
 * exactly, which makes the answer independent of vector width, FMA,
 * blocking and threads. General minkowski p filters on the euclidean float
 * sums: sum |v|^p is at least (sum v^2)^(p/2) for p <= 2 and d^(1 - p/2)
 * times that for p > 2 (Hoelder), so the k-th best reduced distance maps
 * to a euclidean threshold. Whole and half-whole p take products (and a
 * sqrt), not pow. Rows or queries with values beyond 1e15 (where float
 * sums could overflow) go through plain double loops. */
#include "classical/knn_search.h"

#include "classical/knn_kernel.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* The register block: LQ queries by a panel of RB training rows, LQ x RB
 * float sums in registers (12 AVX2 registers); up to SB groups of LQ
 * queries share each cache tile (about TILE_BYTES) of training panels. */
enum { LQ = REEL_KNN_LQ, RB = REEL_KNN_RB, SB = 64, TILE_BYTES = 16 * 1024 };

/* Beyond this magnitude the float filter is not used. */
#define FLOAT_SAFE 1e15

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
    if (!((double)f < x))
        return f;
    if (!(f >= 0)) /* distances are not negative: not reached */
        return nextafterf(f, INFINITY);
    uint32_t u; /* the next float up: its bits plus one (FLT_MAX's is infinity); no call */
    memcpy(&u, &f, sizeof u);
    u++;
    memcpy(&f, &u, sizeof f);
    return f;
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

    /* The filter's copy in panels of RB rows, each d x RB (feature-major),
     * the last padded with zeros. */
    ix->XP = reel_knn_panels(X, n, d);
    if (!ix->XP)
        return reel_fail(err, "knn: out of memory for a %zu x %zu copy of the training rows", n, d);
    return 0;
}

void reel_knn_index_free(reel_knn_index *ix)
{
    free(ix->XP);
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

/* The reduced distance in double, the row's features xs floats apart in x
 * (1 in X, RB in a panel: the same values). May stop early, returning a partial sum,
 * once it exceeds `stop` (the sums only grow). NaN counts as infinitely far. */
static double exact_reduced(const reel_knn_index *ix, const float *x, size_t xs, const float *q, double stop)
{
    size_t d = ix->d;
    double s = 0;
    switch (ix->metric) {
    case REEL_KNN_EUCLIDEAN:
        for (size_t j = 0; j < d; j++) {
            double v = (double)x[j * xs] - (double)q[j];
            s += v * v;
        }
        break;
    case REEL_KNN_MANHATTAN:
        for (size_t j = 0; j < d; j++)
            s += fabs((double)x[j * xs] - (double)q[j]);
        break;
    case REEL_KNN_CHEBYSHEV:
        for (size_t j = 0; j < d; j++) {
            double v = fabs((double)x[j * xs] - (double)q[j]);
            if (v > s || isnan(v))
                s = v;
        }
        break;
    case REEL_KNN_MINKOWSKI:
        if (ix->p_whole) {
            for (size_t j = 0; j < d && !(s > stop); j++) {
                double v = fabs((double)x[j * xs] - (double)q[j]), t = ix->p_half ? sqrt(v) * v : v;
                for (int e = 1; e < ix->p_whole; e++)
                    t *= v;
                s += t;
            }
        } else
            for (size_t j = 0; j < d && !(s > stop); j++)
                s += pow(fabs((double)x[j * xs] - (double)q[j]), ix->p);
        break;
    }
    return isnan(s) ? INFINITY : s;
}

/* ---- the float filter ---- */

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

/* A group: up to LQ queries, their rows in Q (mq x d) and transposed and
 * zero-padded in qt (d x LQ), their heaps h and filter thresholds thr. */
typedef struct {
    const float *Q, *qt;
    size_t mq;
    best_k *h;
    float thr[LQ];
} query_group;

/* The rows of panel p whose float sums s (LQ x RB) passed their query's
 * threshold (their bits in pass), rechecked as the threshold
 * tightens with each row that enters the heap: measured in double and
 * offered to that query's heap. */
static void offer_hits(const reel_knn_index *ix, query_group *g, size_t p, const float *s, const uint32_t *pass_at,
                       double grow)
{
    size_t d = ix->d, rows = ix->n - p * RB < RB ? ix->n - p * RB : RB;
    const float *xp = ix->XP + p * d * RB; /* the panel, still in cache (X's row may not be) */
    for (size_t a = 0; a < g->mq; a++) {
        const float *sa = s + a * RB;
        uint32_t pass = pass_at[a] & ((1u << rows) - 1); /* not the last panel's padding */
        for (; pass; pass &= pass - 1) {
            size_t r = (size_t)__builtin_ctz(pass), t = p * RB + r;
            if (sa[r] <= g->thr[a]) {
                heap_offer(&g->h[a], exact_reduced(ix, xp + r, RB, g->Q + a * d, INFINITY), (int32_t)t);
                g->thr[a] = filter_threshold(ix, heap_bound(&g->h[a]), grow);
            }
        }
    }
}

/* The group against training panels [p0, p1): the kernel's float sums,
 * and the exact distance of every row that passes the filter. Minkowski
 * filters on the euclidean sums (see the top). */
static void scan_panels(const reel_knn_index *ix, query_group *g, size_t p0, size_t p1, double grow)
{
    reel_knn_terms terms = ix->metric == REEL_KNN_MANHATTAN   ? REEL_KNN_ABS
                           : ix->metric == REEL_KNN_CHEBYSHEV ? REEL_KNN_MAX_ABS
                                                              : REEL_KNN_SQUARES;
    float s[LQ * RB];
    uint32_t pass[LQ];
    for (size_t p = p0; (p = reel_knn_panels_scan(terms, ix->XP, ix->d, g->qt, g->thr, p, p1, s)) < p1; p++) {
        reel_knn_pass_bits(s, g->thr, pass);
        offer_hits(ix, g, p, s, pass, grow);
    }
}

/* Plain double loops, with early exit: general minkowski p, d = 0, huge values. */
static void scan_plain(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h)
{
    for (size_t a = 0; a < q1 - q0; a++) {
        const float *q = Q + (q0 + a) * ix->d;
        for (size_t t = 0; t < ix->n; t++)
            heap_offer(&h[a], exact_reduced(ix, ix->X + t * ix->d, 1, q, heap_bound(&h[a])), (int32_t)t);
    }
}

/* Panels per cache tile: the training rows that every group of a
 * superblock scans before the next tile, about TILE_BYTES of the panels. */
static size_t cache_tile(size_t d)
{
    size_t panels = (size_t)TILE_BYTES / (4 * RB * (d ? d : 1));
    return panels < 1 ? 1 : panels;
}

/* A superblock: groups of LQ queries [q0, q1) that scan the training
 * panels one cache tile at a time, every group over a tile before the
 * next, so a tile is read from memory once per superblock rather than once
 * per group. The order rows reach a heap does not change what it keeps. */
static void scan_superblock(const reel_knn_index *ix, const float *Q, size_t q0, size_t q1, best_k *h,
                            float *qbuf, query_group *groups)
{
    size_t d = ix->d, ng = (q1 - q0 + LQ - 1) / LQ, tile = cache_tile(d), np = (ix->n + RB - 1) / RB;
    double grow = 1.0 / (1.0 - filter_slack(d));
    for (size_t gi = 0; gi < ng; gi++) {
        float *qt = qbuf + gi * d * LQ;
        size_t a0 = q0 + gi * LQ, mq = q1 - a0 < LQ ? q1 - a0 : LQ;
        for (size_t f = 0; f < d; f++)
            for (size_t a = 0; a < LQ; a++)
                qt[f * LQ + a] = a < mq ? Q[(a0 + a) * d + f] : 0.0f;
        query_group *g = &groups[gi];
        *g = (query_group){.Q = Q + a0 * d, .qt = qt, .mq = mq, .h = h + gi * LQ};
        for (size_t a = 0; a < LQ; a++) /* padding queries pass nothing */
            g->thr[a] = a < mq ? filter_threshold(ix, heap_bound(&g->h[a]), grow) : -INFINITY;
    }
    for (size_t p0 = 0; p0 < np; p0 += tile) {
        size_t p1 = np - p0 < tile ? np : p0 + tile;
        for (size_t gi = 0; gi < ng; gi++)
            scan_panels(ix, &groups[gi], p0, p1, grow);
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
        query_group *groups = malloc(per * sizeof *groups);
        float *qbuf = malloc(per * LQ * (d ? d : 1) * sizeof *qbuf);
        int ok = h && r && i && groups && qbuf;
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
            int all_safe = ix->XP != NULL;
            for (size_t g0 = q0; all_safe && g0 < q1; g0 += LQ)
                all_safe = float_safe(Q + g0 * d, ((q1 - g0 < LQ ? q1 - g0 : LQ)) * d);
            if (all_safe) {
                scan_superblock(ix, Q, q0, q1, h, qbuf, groups);
            } else {
                for (size_t g0 = q0; g0 < q1; g0 += LQ) {
                    size_t g1 = q1 - g0 < LQ ? q1 : g0 + LQ;
                    if (ix->XP && float_safe(Q + g0 * d, (g1 - g0) * d))
                        scan_superblock(ix, Q, g0, g1, h + (g0 - q0), qbuf, groups);
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
        free(groups);
        free(qbuf);
    }
    return failed ? reel_fail(err, "knn: out of memory for the neighbour search (k = %zu)", k) : 0;
}
