/* The filter's float sums (see knn_kernel.h): one panel of RB = 16
 * training rows against LQ = 6 queries is 96 sums, held in 12 AVX2
 * registers while each feature adds its term: per feature, two loads of the
 * panel, six broadcasts of the queries' values, and 12 subtractions and 12
 * fused multiply-adds (euclidean), which the CPU's add and FMA units take
 * side by side. Six queries, not 4 or 8: with 8 registers the loop is
 * bound by its loads and bookkeeping, past 12 the accumulators spill (AVX2
 * has 16 registers); 6 x 16 measured fastest among 2..12 x 8..32 on the
 * 2-core EPYC (bench/RESULTS.md, issue 37). Built with -ffp-contract=fast
 * (CMakeLists.txt) so that s + v * v is one FMA where the target has one;
 * the filter's error bound (knn_search.c) holds fused or not. */
#include "classical/knn_kernel.h"

#include <stdint.h>
#include <stdlib.h>

enum { LQ = REEL_KNN_LQ, RB = REEL_KNN_RB };
_Static_assert(REEL_KNN_RB == 16, "scan_for holds a panel's 16 rows in two 8-float vectors");

/* Clones of the loop for wider vector units, chosen at run time (GCC and
 * Clang on x86-64 Linux): AVX-512, AVX2 with FMA, and the baseline. */
#if defined(__x86_64__) && defined(__linux__) && !defined(REEL_SANITIZE)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif
/* Inlined into each clone, so compiled for its target. */
#define CLONE_INLINE static inline __attribute__((always_inline))

/* Eight floats: one AVX register, two SSE ones, half an AVX-512 one.
 * GCC's and Clang's generic vectors, not intrinsics: each clone gets the
 * instructions of its target from the same source. (The plain-array form
 * vectorised with an accumulator spilled to the stack.) */
typedef float f8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
typedef float f8_unaligned __attribute__((vector_size(32), aligned(4)));

float *reel_knn_panels(const float *X, size_t n, size_t d)
{
    float *XP = calloc((n + RB - 1) / RB * d * RB + 1, sizeof *XP);
    if (XP)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                XP[(i / RB * d + j) * RB + i % RB] = X[i * d + j];
    return XP;
}

/* One term for eight rows x against one query value q, added to s
 * (pointers, not vector values: no vector crosses a call, whatever the
 * target's ABI). */
CLONE_INLINE void accumulate8(reel_knn_terms terms, f8 *s, const float *x, float q)
{
    f8 v = *(const f8_unaligned *)x - q;
    if (terms == REEL_KNN_SQUARES) {
        *s += v * v;
        return;
    }
    v = (f8)((i8)v & 0x7fffffff); /* |v| */
    if (terms == REEL_KNN_ABS) {
        *s += v;
        return;
    }
    i8 more = v > *s; /* the larger of the two, lane by lane */
    *s = (f8)(((i8)v & more) | ((i8)*s & ~more));
}

/* reel_knn_panels_scan for one kind of term: per panel, the LQ x RB sums
 * over the d features in registers, then one test against the thresholds;
 * the sums leave the registers only for a panel with a passing row. */
CLONE_INLINE size_t scan_for(reel_knn_terms terms, const float *XP, size_t d, const float *qt0, const float *thr,
                             size_t p0, size_t p1, float *out)
{
    for (size_t p = p0; p < p1; p++) {
        const float *x = XP + p * d * RB, *qt = qt0;
        f8 s[LQ][RB / 8] = {{{0}}};
        for (size_t f = 0; f < d; f++, x += RB, qt += LQ) {
#pragma GCC unroll 8
            for (size_t a = 0; a < LQ; a++) {
                accumulate8(terms, &s[a][0], x, qt[a]);
                accumulate8(terms, &s[a][1], x + 8, qt[a]);
            }
        }
        i8 hit = {0};
#pragma GCC unroll 8
        for (size_t a = 0; a < LQ; a++)
            hit |= (s[a][0] <= thr[a]) | (s[a][1] <= thr[a]);
        int any = 0;
#pragma GCC unroll 8
        for (size_t r = 0; r < 8; r++)
            any |= hit[r];
        if (any) {
#pragma GCC unroll 8
            for (size_t a = 0; a < LQ; a++) {
                *(f8_unaligned *)(out + a * RB) = s[a][0];
                *(f8_unaligned *)(out + a * RB + 8) = s[a][1];
            }
            return p;
        }
    }
    return p1;
}

/* One copy of the loop per kind of term, so each is branch-free. */
VECTOR_CLONES size_t reel_knn_panels_scan(reel_knn_terms terms, const float *XP, size_t d, const float *qt,
                                          const float *thr, size_t p0, size_t p1, float *s)
{
    switch (terms) {
    case REEL_KNN_SQUARES:
        return scan_for(REEL_KNN_SQUARES, XP, d, qt, thr, p0, p1, s);
    case REEL_KNN_ABS:
        return scan_for(REEL_KNN_ABS, XP, d, qt, thr, p0, p1, s);
    case REEL_KNN_MAX_ABS:
        return scan_for(REEL_KNN_MAX_ABS, XP, d, qt, thr, p0, p1, s);
    }
    return p1;
}

/* Apart from the scan, so its loop keeps every register for the sums. */
VECTOR_CLONES void reel_knn_pass_bits(const float *s, const float *thr, uint32_t *pass)
{
    /* lane r worth 1 << r, ORed across the lanes: a few vector steps, not
     * 96 scalar tests */
    const i8 low = {1, 2, 4, 8, 16, 32, 64, 128}, high = low << 8;
    const i8 half = {4, 5, 6, 7, 0, 1, 2, 3}, quarter = {2, 3, 0, 1, 6, 7, 4, 5}, eighth = {1, 0, 3, 2, 5, 4, 7, 6};
#pragma GCC unroll 8
    for (size_t a = 0; a < LQ; a++) {
        f8 s0 = *(const f8_unaligned *)(s + a * RB), s1 = *(const f8_unaligned *)(s + a * RB + 8);
        i8 m = ((s0 <= thr[a]) & low) | ((s1 <= thr[a]) & high);
        m |= __builtin_shuffle(m, half);
        m |= __builtin_shuffle(m, quarter);
        m |= __builtin_shuffle(m, eighth);
        pass[a] = (uint32_t)m[0];
    }
}
