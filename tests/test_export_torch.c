/* A net's model file loads into PyTorch: safetensors.torch.load_file into
 * the nn.Sequential its params describe, reel's standardisation from its
 * metadata, and the probabilities equal reel predict's
 * (tests/scripts/check_torch_load.py). Needs a Python with torch and
 * safetensors ($REEL_PYTHON, /opt/reel-pyenv/bin/python3, /usr/bin/python3
 * or python3; scripts/setup-python-checks.sh installs them): skipped visibly
 * without one, a failure under scripts/test.sh (REEL_TEST_REQUIRE_PYTHON).
 * Its own executable, so a skip here never hides the result of test_export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"

Test(export_torch, safetensors_load_into_sequential_matches_reel_predict)
{
    const char *python = export_require_python("torch, safetensors.torch", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (python)
        export_check_all_nets("check_torch_load.py", 0, python);
}

/* The recipe's layers: a PLR embedding (module 0: "0.frequencies",
 * "0.weight", "0.bias"), dropout modules (identity in eval) and the robust
 * input transform, loaded into torch modules that compute them. */
Test(export_torch, plr_dropout_and_robust_input_match_torch)
{
    const char *python = export_require_python("torch, safetensors.torch", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (python)
        export_check_net("check_torch_load.py", 0, "box",
                         "{\"input\": \"robust\", \"ensemble\": 1, \"layers\": [{\"kind\": \"plr\", \"frequencies\": "
                         "4, \"sigma\": 0.3, \"width\": 5}, {\"width\": 16, \"dropout\": 0.2}, {\"width\": 8, "
                         "\"activation\": \"tanh\", \"dropout\": 0.1}]}",
                         0.01, 0, python);
}
