#include "eval/calibration.h"

#include <math.h>
#include <string.h>

void reel_calibration_compute(reel_calibration *c, const float *P, const uint8_t *Y, size_t n, size_t L,
                              size_t k)
{
    memset(c, 0, sizeof *c);
    double sum_p[REEL_CAL_BINS] = {0}, pos[REEL_CAL_BINS] = {0}, se = 0;
    for (size_t i = 0; i < n; i++) {
        double p = P[i * L + k], y = Y[i * L + k] != 0;
        se += (p - y) * (p - y);
        /* the bin's upper edge is the first edge >= p; edges as numpy's
         * linspace makes them (i * 0.1), so ties land where scikit-learn's do */
        size_t b = 0;
        while (b + 1 < REEL_CAL_BINS && (double)(b + 1) * (1.0 / REEL_CAL_BINS) < p)
            b++;
        c->count[b]++;
        sum_p[b] += p;
        pos[b] += y;
    }
    c->brier = n ? se / (double)n : NAN;
    for (size_t b = 0; b < REEL_CAL_BINS; b++) {
        c->mean_p[b] = c->count[b] ? sum_p[b] / (double)c->count[b] : NAN;
        c->frac_pos[b] = c->count[b] ? pos[b] / (double)c->count[b] : NAN;
    }
}
