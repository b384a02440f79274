/* A double as float32 without overflowing to infinity: values past
 * +-FLT_MAX (1e300 in a CSV, a standardised outlier) clamp to +-FLT_MAX;
 * NaN stays NaN. Preprocessing and a net's input transform both use it. */
#ifndef REEL_FLOAT_CLAMP_H
#define REEL_FLOAT_CLAMP_H

#include <float.h>

static inline float reel_float_clamped(double x)
{
    if (x > FLT_MAX)
        return FLT_MAX;
    if (x < -FLT_MAX)
        return -FLT_MAX;
    return (float)x;
}

#endif
