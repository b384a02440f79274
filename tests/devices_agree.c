/* The cross-device promise (docs/devices.md): the same seed on the CPU
 * backend and on OpenCL trains nets that are statistically equivalent, not
 * bit-identical (exp and tanh differ in the last ulp between the CPU's libm
 * and a device's, and training amplifies it). Checked on a generated set
 * small enough for CI: 3,000 rows, one member (ensemble 1), 10 epochs, the
 * threshold rule; the test samples-F1 of the two must be within TOLERANCE.
 * Built in the Release pass only (tests/CMakeLists.txt): slow under ASan. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "nn/opencl.h"

/* What docs/devices.md promises across devices, in test samples-F1 on this set
 * (measured: differences of 0 to 0.003 over seeds 1 to 3). */
#define TOLERANCE 0.02

/* A normal deviate from a 64-bit LCG (Box-Muller): the same rows everywhere. */
static double gauss(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double v = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* 3,000 rows: 8 numeric features, a text column, 5 labels from noisy rules. */
static const char *write_set(void)
{
    const char *path = tmp_path("devices.csv");
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs("x0,x1,x2,x3,x4,x5,x6,x7,cat,A,B,C,D,E\n", fp);
    unsigned long long s = 3;
    for (int i = 0; i < 3000; i++) {
        double x[8];
        for (int k = 0; k < 8; k++)
            x[k] = gauss(&s);
        int c = (int)(fabs(gauss(&s)) * 2.0) % 4;
        int A = x[0] + x[1] + 0.7 * gauss(&s) > 0.3, B = x[2] * x[3] + 0.7 * gauss(&s) > 0;
        int C = x[4] - x[5] + (c == 0) + 0.7 * gauss(&s) > 0.5, D = sin(x[6]) + 0.5 * x[7] + 0.7 * gauss(&s) > 0.2;
        int E = x[0] - x[7] + 0.7 * gauss(&s) > 1.0;
        for (int k = 0; k < 8; k++)
            fprintf(fp, "%.4f,", x[k]);
        fprintf(fp, "%c,%d,%d,%d,%d,%d\n", "pqrs"[c], A, B, C, D, E);
    }
    fclose(fp);
    return path;
}

/* Test samples-F1 of box trained on `device`. */
static double samples_f1(const char *csv, const char *params, const char *device)
{
    char *out = NULL, *err = NULL;
    int rc = run_reelf(&out, &err, "train --model box --params %s --data %s --labels A,B,C,D,E --epochs 10 "
                       "--seed 7 --decision threshold --device %s --format json --quiet", params, csv, device);
    cr_assert_eq(rc, 0, "%s: %s", device, err ? err : "");
    cJSON *doc = cJSON_Parse(out);
    const cJSON *f1 = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "model"), "metrics"),
                                          "samples_f1");
    cr_assert(cJSON_IsNumber(f1), "%s: no samples_f1 in %s", device, out);
    double v = f1->valuedouble;
    cJSON_Delete(doc);
    free(out);
    free(err);
    return v;
}

Test(devices, cpu_and_opencl_agree_within_the_stated_tolerance)
{
    const reel_nn_runtime *rt = &reel_nn_opencl_runtime;
    if (rt->count() < 1) {
        if (getenv("REEL_TEST_REQUIRE_OPENCL"))
            cr_assert_fail("REEL_TEST_REQUIRE_OPENCL is set but no OpenCL device: %s", rt->absent_reason());
        REEL_SKIP("no OpenCL device (%s)", rt->absent_reason());
    }
    const char *csv = write_set();
    /* the original box's 8 x 64, written out, as when the tolerance was measured: a test of the device */
    const char *params = tmp_write("one_member.json", "{\"box\": {\"ensemble\": 1, \"layers\": " TEST_BOX_8X64 "}}");
    double cpu = samples_f1(csv, params, "cpu"), cl = samples_f1(csv, params, "opencl");
    cr_expect(cpu > 0.6 && cl > 0.6, "the nets learned the rules: cpu %.4f, opencl %.4f", cpu, cl);
    cr_expect(fabs(cpu - cl) <= TOLERANCE, "test samples-F1: cpu %.4f, opencl %.4f, |difference| %.4f > %.2f",
              cpu, cl, fabs(cpu - cl), TOLERANCE);
    printf("devices: test samples-F1 cpu %.4f, opencl %.4f (tolerance %.2f)\n", cpu, cl, TOLERANCE);
}
