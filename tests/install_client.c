/* A program built against the installed libreel only (include/reel.h,
 * pkg-config reel): scripts/check-install.sh compiles and runs it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <reel.h>

int main(void)
{
    double X[8] = {1, 0, 2, 1, 3, 0, 4, 1};
    unsigned char Y[8] = {0, 1, 0, 1, 1, 0, 1, 0};
    const char *names[2] = {"a", "b"}, *labels[2] = {"low", "high"};
    reel_data *d = reel_data_from_arrays(4, 2, X, names, 0, NULL, NULL, 2, Y, labels);
    reel_classifier *c = d ? reel_fit("prior", NULL, d, "{\"threads\": 1}") : NULL;
    float P[8];
    if (!c || reel_predict_proba(c, d, P)) {
        fprintf(stderr, "install_client: %s\n", reel_last_error());
        return 1;
    }
    /* prior: each label's training frequency (all 4 rows train: no validation at this size) */
    int ok = fabsf(P[0] - P[2]) < 1e-7f && P[0] > 0 && P[0] < 1 && strcmp(reel_classifier_label(c, 1), "high") == 0;
    printf("install_client: reel %s, prior P = %.3f %.3f: %s\n", reel_version(), P[0], P[1], ok ? "ok" : "WRONG");
    reel_classifier_free(c);
    reel_data_free(d);
    return ok ? 0 : 1;
}
