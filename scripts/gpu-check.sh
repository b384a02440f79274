#!/usr/bin/env bash
# Everything reel checks on a machine with an NVIDIA GPU, in one command:
#   1. a CUDA build (-DREEL_CUDA=ON: a missing toolkit is an error, not a skip)
#   2. the whole test suite, whose test_nn_devices compares every device backend (CUDA, OpenCL) with
#      the CPU one (largest differences printed)
#   3. compute-sanitizer memcheck and racecheck over test_nn_devices
#   4. bench/bench_nets.py --device gpu (reel vs PyTorch on the same GPU), when
#      data/movies.csv is there and Python has torch
# Output goes to stdout and to $OUT (default build-gpu/gpu-check) as log files.
# On a machine without a package registry, first unpack the Debian packages
# collected by ../shared/tools/device-prep.sh (see its header), e.g.
#   for f in .debs/*.deb; do dpkg -x "$f" /opt/reel-deps; done
#   export CMAKE_PREFIX_PATH=/opt/reel-deps/usr PKG_CONFIG_PATH=... LD_LIBRARY_PATH=...
# --dry-run (no GPU needed): says what it would run and which of the tools
# it needs are here, builds and runs nothing, and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build-gpu/gpu-check}
if [ "${1:-}" = "--dry-run" ]; then
  have() { command -v "$1" >/dev/null && echo "found" || echo "MISSING"; }
  echo "gpu-check.sh --dry-run: would run, writing logs to $out:"
  echo "  1. nvidia-smi (device: $(have nvidia-smi))"
  echo "  2. cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON; cmake --build build-gpu (cmake: $(have cmake), nvcc: $(command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] && echo found || echo MISSING))"
  echo "  3. ctest in build-gpu, then build-gpu/tests/test_nn_devices --verbose (CUDA and OpenCL against the CPU backend)"
  echo "  4. compute-sanitizer memcheck and racecheck over test_nn_devices (compute-sanitizer: $(have compute-sanitizer))"
  if [ -f data/movies.csv ] && python3 -c "import torch" 2>/dev/null; then t=ready; else t="would be skipped: needs data/movies.csv and torch"; fi
  echo "  5. bench/bench_nets.py --device gpu ($t)"
  if [ -f data/movies.csv ]; then t=ready; else t="would be skipped: needs data/movies.csv"; fi
  echo "  6. bench/bench_devices.py --devices cpu,cuda: whole epochs in one launch (the fused kernel) vs the CPU backend ($t)"
  exit 0
fi
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt" || {
  echo "gpu-check.sh: no NVIDIA GPU here (nvidia-smi failed)" >&2
  exit 1
}
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON >"$out/cmake.log" 2>&1 || {
  tail -20 "$out/cmake.log"
  exit 1
}
cmake --build build-gpu -j "$(nproc)" >"$out/build.log" 2>&1 || {
  tail -30 "$out/build.log"
  exit 1
}
# the test binaries run outside ctest too: they find the plugin through
# REEL_CUDA_PLUGIN, and a CUDA backend they cannot use fails them
export REEL_CUDA_PLUGIN="$PWD/build-gpu/libreel_cuda.so" REEL_TEST_REQUIRE_CUDA=1
status=0
(cd build-gpu && ctest --output-on-failure -j 4) 2>&1 | tee "$out/ctest.log" || status=1
./build-gpu/tests/test_nn_devices --jobs=1 --verbose 2>&1 | grep -E "nn_devices|backends|Synthesis" | tee "$out/nn_devices.log"
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    REEL_TEST_ONLY=cuda compute-sanitizer --tool "$tool" --error-exitcode 7 ./build-gpu/tests/test_nn_devices --jobs=1 \
      >"$out/sanitizer-$tool.log" 2>&1 && echo "compute-sanitizer $tool: clean" || {
      echo "compute-sanitizer $tool: FAILED (see $out/sanitizer-$tool.log)"
      status=1
    }
  done
else
  echo "compute-sanitizer: not found (it ships with the CUDA toolkit, under \$CUDA_HOME/bin)"
fi
if [ -f data/movies.csv ] && python3 -c "import torch" 2>/dev/null; then
  python3 bench/bench_nets.py --device gpu --reel ./build-gpu/reel --json "$out/bench_nets.json" \
    2>&1 | tee "$out/bench_nets.log" || status=1
else
  echo "bench_nets: skipped (needs data/movies.csv and a Python with torch)"
fi
if [ -f data/movies.csv ]; then # whole epochs in one launch; appended to the same log (8 files at most)
  python3 bench/bench_devices.py --devices cpu,cuda --reel ./build-gpu/reel --reps 3 --epochs 2 \
    2>&1 | tee -a "$out/bench_nets.log" || status=1
fi
exit $status
