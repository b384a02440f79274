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
