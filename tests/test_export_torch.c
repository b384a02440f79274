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

Test(export_torch, safetensors_load_into_sequential_matches_reel_predict)
{
    char tried[1024];
    const char *python = export_find_python("torch, safetensors.torch", tried, sizeof tried);
    if (!python)
        REEL_SKIP("no Python with torch and safetensors (tried %s); set REEL_PYTHON or pip install safetensors "
                  "into /opt/reel-pyenv (a venv with --system-site-packages for Debian's python3-torch)",
                  tried);
    export_check_all_nets("check_torch_load.py", 0, python);
}
