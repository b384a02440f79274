/* How well a model's probabilities match the frequencies they claim, per
 * label: the Brier score and a reliability curve (scikit-learn's
 * calibration_curve with uniform bins: bin i holds P in (i/B, (i+1)/B],
 * P = 0 in the first). */
#ifndef REEL_CALIBRATION_H
#define REEL_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#define REEL_CAL_BINS 10

typedef struct {
    double brier;                     /* mean (P - y)^2 over the rows */
    size_t count[REEL_CAL_BINS];      /* rows in each bin (empty bins are not drawn) */
    double mean_p[REEL_CAL_BINS];     /* mean P of the bin's rows (NaN when empty) */
    double frac_pos[REEL_CAL_BINS];   /* share of them with y = 1 (NaN when empty) */
} reel_calibration;

/* Label k of P and Y (n x L, row-major). */
void reel_calibration_compute(reel_calibration *c, const float *P, const uint8_t *Y, size_t n, size_t L,
                              size_t k);

#endif
