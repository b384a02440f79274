/* The exported ONNX graph run by onnxruntime gives reel predict's
 * probabilities (tests/scripts/check_onnx.py). Needs a Python with numpy and
 * onnxruntime ($REEL_PYTHON, /opt/reel-pyenv/bin/python3, /usr/bin/python3 or
 * python3); skipped visibly without one. Its own executable, so a skip here
 * never hides the result of test_export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"

Test(export_onnxruntime, graph_matches_reel_predict)
{
    char tried[1024];
    const char *python = export_find_python("numpy, onnxruntime", tried, sizeof tried);
    if (!python)
        REEL_SKIP("no Python with numpy and onnxruntime (tried %s); set REEL_PYTHON or pip install onnxruntime "
                  "into /opt/reel-pyenv",
                  tried);
    export_check_all_nets("check_onnx.py", 1, python);
}
