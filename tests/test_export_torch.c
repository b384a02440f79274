/* A net's model file loads into PyTorch: safetensors.torch.load_file into
 * the nn.Sequential its params describe, reel's standardisation from its
 * metadata, and the probabilities equal reel predict's
 * (tests/scripts/check_torch_load.py). Needs a Python with torch and
 * safetensors ($REEL_PYTHON, /opt/reel-pyenv/bin/python3, /usr/bin/python3
 * or python3); skipped visibly without one. Its own executable, so a skip
 * here never hides the result of test_export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"

/* transform: check the net with an input transform added to its file
 * (export_with_input_transform) against the probabilities computed in the
 * test (reel predict of this reel may not apply it); otherwise against reel
 * predict. */
static void check_net(const char *model, const char *params, double lr, int transform, const char *python)
{
    const char *m = export_train(model, params, "net.safetensors", lr);
    if (transform)
        m = export_with_input_transform(m);
    size_t n, d;
    const char *features;
    float *X = export_raw_features(m, &n, &d, &features);
    const char *pred = transform ? export_reference_probabilities(m, X, n, d) : export_predict_json(m, NULL);
    free(X);
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "'%s' '%s' '%s' 1e-5", m, features, pred);
    int rc = export_run_script(python, "check_torch_load.py", args, &out);
    fprintf(stderr, "%s (%s)%s: %s", model, params ? params : "defaults", transform ? " + input transform" : "",
            out ? out : "(no output)\n");
    cr_expect_eq(rc, 0, "check_torch_load.py exit %d: %s", rc, out);
    cr_expect(out && strstr(out, "max abs difference"), "%s", out);
    free(out);
}

Test(export_torch, safetensors_load_into_sequential_matches_reel_predict)
{
    char tried[1024];
    const char *python = export_find_python("torch, safetensors.torch", tried, sizeof tried);
    if (!python)
        REEL_SKIP("no Python with torch and safetensors (tried %s); set REEL_PYTHON or pip install safetensors "
                  "into /opt/reel-pyenv (a venv with --system-site-packages for Debian's python3-torch)",
                  tried);
    check_net("box", NULL, 0.01, 0, python);
    check_net("u", NULL, 0.01, 0, python);
    check_net("u", "{\"width\": 16}", 0.01, 0, python); /* layers scaled by "width" */
    check_net("box", EXPORT_SOFTMAX_NET, EXPORT_SOFTMAX_LR, 0, python);
    check_net("box", EXPORT_SOFTMAX_NET, EXPORT_SOFTMAX_LR, 1, python);
}
