/* The float32 sums behind the exact neighbour search's filter
 * (classical/knn_search.c, which proves the filter safe): a few queries
 * against panels of training rows, in registers.
 *
 * The training rows are packed into panels of REEL_KNN_RB rows, each panel
 * d x REEL_KNN_RB floats (feature-major, the last panel padded with
 * zeros); queries go REEL_KNN_LQ at a time, transposed (d x REEL_KNN_LQ).
 * The sums for one panel are REEL_KNN_LQ x REEL_KNN_RB floats, adding up
 * the features in order 0 .. d-1 (a fused multiply-add where the CPU has
 * one). */
#ifndef REEL_KNN_KERNEL_H
#define REEL_KNN_KERNEL_H

#include <stddef.h>
#include <stdint.h>

enum { REEL_KNN_LQ = 6, REEL_KNN_RB = 16 };

/* What a sum adds up over the features, for v = x - q. */
typedef enum {
    REEL_KNN_SQUARES, /* v^2 */
    REEL_KNN_ABS,     /* |v| */
    REEL_KNN_MAX_ABS, /* the largest |v| */
} reel_knn_terms;

/* The n x d row-major rows X in panels: ceil(n / REEL_KNN_RB) * d *
 * REEL_KNN_RB floats (free with free()), or NULL when out of memory. */
float *reel_knn_panels(const float *X, size_t n, size_t d);

/* The first panel p in [p0, p1) of XP where some query a's sum is at most
 * thr[a] (REEL_KNN_LQ thresholds), with that panel's sums in s (REEL_KNN_LQ
 * x REEL_KNN_RB, query-major); p1 when no panel has one. */
size_t reel_knn_panels_scan(reel_knn_terms terms, const float *XP, size_t d, const float *qt, const float *thr,
                            size_t p0, size_t p1, float *s);

/* pass[a] = the rows r of such a panel whose sum s[a * REEL_KNN_RB + r] is
 * at most thr[a], as bits 1 << r (REEL_KNN_LQ queries). */
void reel_knn_pass_bits(const float *s, const float *thr, uint32_t *pass);

#endif
