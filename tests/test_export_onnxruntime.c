/* The exported ONNX graph run by onnxruntime gives reel predict's
 * probabilities (tests/scripts/check_onnx.py). Needs a Python with numpy and
 * onnxruntime ($REEL_PYTHON, /opt/reel-pyenv/bin/python3, /usr/bin/python3 or
 * python3; scripts/setup-python-checks.sh installs them): skipped visibly
 * without one, a failure under scripts/test.sh (REEL_TEST_REQUIRE_PYTHON).
 * Its own executable, so a skip here never hides the result of test_export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_fixture.h"

Test(export_onnxruntime, graph_matches_reel_predict)
{
    const char *python = export_require_python("numpy, onnxruntime", "run scripts/setup-python-checks.sh "
                                               "or set REEL_PYTHON");
    if (python)
        export_check_all_nets("check_onnx.py", 1, python);
}
