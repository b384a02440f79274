#!/usr/bin/env bash
# Everything reel checks on a machine with an NVIDIA GPU, in one command:
#   1. a CUDA build (-DREEL_CUDA=ON: a missing toolkit is an error, not a skip)
#   2. the whole test suite, whose test_nn_devices compares every device backend (CUDA, OpenCL) with
#      the CPU one (largest differences printed), many nets in one launch included; the CUDA
#      backend must be usable (REEL_TEST_REQUIRE_CUDA), not skipped
#   3. compute-sanitizer memcheck over test_nn_devices, racecheck over its many-nets cases
#      (the fused kernels' work-group memory)
#   4. bench/bench_nets.py --device gpu, box and U at batch 10 (reel vs PyTorch eager and
#      with the step in a CUDA graph), when data/movies.csv is there and Python has torch
#   5. bench/bench_devices.py --devices cpu,cuda: whole epochs in one launch vs the CPU backend
#   6. bench/bench_many.py --device cuda: 256 box nets in one launch vs one net, vs PyTorch one
#      after another and torch.func's stacked models; the box grid over 5 folds
# Each step runs under a time limit (the limits add up to under 10 minutes;
# a step that runs out is reported and the next one runs). Output goes to
# stdout and to $OUT (default build-gpu/gpu-check): summary.txt (device,
# each step's seconds and result), build.log, ctest.log, sanitizer.log,
# bench.log, bench_nets.json, bench_many.json (7 files).
# On a machine without a package registry, first unpack the Debian packages
# collected by ../shared/tools/device-prep.sh (see its header), e.g.
#   for f in .debs/*.deb; do dpkg -x "$f" /opt/reel-deps; done
#   export CMAKE_PREFIX_PATH=/opt/reel-deps/usr PKG_CONFIG_PATH=... LD_LIBRARY_PATH=...
# --dry-run (no GPU needed): says what it would run and which of the tools
# it needs are here, builds and runs nothing, and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build-gpu/gpu-check}
# seconds per step: build, ctest, nn_devices, memcheck, racecheck, bench_nets, bench_devices, bench_many
T_BUILD=150 T_CTEST=75 T_DEV=40 T_MEM=60 T_RACE=45 T_NETS=60 T_DEVICES=40 T_MANY=120
if [ "${1:-}" = "--dry-run" ]; then
  have() { command -v "$1" >/dev/null && echo "found" || echo "MISSING"; }
  echo "gpu-check.sh --dry-run: would run, writing logs to $out (time limit in seconds per step):"
  echo "  1. nvidia-smi (device: $(have nvidia-smi))"
  echo "  2. cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON; cmake --build build-gpu [$T_BUILD] (cmake: $(have cmake), nvcc: $(command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] && echo found || echo MISSING))"
  echo "  3. ctest in build-gpu [$T_CTEST], then build-gpu/tests/test_nn_devices --verbose [$T_DEV] (CUDA and OpenCL against the CPU backend; REEL_TEST_REQUIRE_CUDA=1)"
  echo "  4. compute-sanitizer memcheck over test_nn_devices [$T_MEM], racecheck over its many-nets cases [$T_RACE] (compute-sanitizer: $(have compute-sanitizer))"
  if [ -f data/movies.csv ] && python3 -c "import torch" 2>/dev/null; then t=ready; else t="would be skipped: needs data/movies.csv and torch"; fi
  echo "  5. bench/bench_nets.py --device gpu --cases movies-box-b10,movies-u-b10 [$T_NETS] ($t)"
  if [ -f data/movies.csv ]; then t=ready; else t="would be skipped: needs data/movies.csv"; fi
  echo "  6. bench/bench_devices.py --devices cpu,cuda --batches 10 [$T_DEVICES]: whole epochs in one launch (the fused kernel) vs the CPU backend ($t)"
  if [ -f data/movies.csv ] && python3 -c "import numpy, pandas" 2>/dev/null; then t="ready; PyTorch columns $(python3 -c 'import torch' 2>/dev/null && echo included || echo 'skipped: no torch here')"; else t="would be skipped: needs data/movies.csv, numpy and pandas"; fi
  echo "  7. bench/bench_many.py --device cuda --nets 256 --grid --torch cuda [$T_MANY]: 256 box nets in one launch vs one, vs PyTorch one after another and stacked (torch.func); the box grid over 5 folds ($t)"
  echo "  time limits add up to $((T_BUILD + T_CTEST + T_DEV + T_MEM + T_RACE + T_NETS + T_DEVICES + T_MANY)) s"
  exit 0
fi
mkdir -p "$out"
: >"$out/summary.txt"
status=0
# step NAME LIMIT LOG COMMAND...: runs it under the limit, appending to LOG; notes seconds and result
step() {
  local name=$1 limit=$2 log=$3 t0 rc
  shift 3
  t0=$(date +%s)
  echo "== $name" | tee -a "$log"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  local msg="ok"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then msg="TIMED OUT after $limit s"; status=1
  elif [ "$rc" != 0 ]; then msg="FAILED (exit $rc)"; status=1; fi
  echo "$name: $msg, $(($(date +%s) - t0)) s" | tee -a "$out/summary.txt"
  return "$rc"
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$out/summary.txt" || {
  echo "gpu-check.sh: no NVIDIA GPU here (nvidia-smi failed)" >&2
  exit 1
}
step build "$T_BUILD" "$out/build.log" bash -c \
  "cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON >/dev/null && cmake --build build-gpu -j $(nproc) >/dev/null" || {
  tail -30 "$out/build.log"
  exit 1
}
# the test binaries run outside ctest too: they find the plugin through
# REEL_CUDA_PLUGIN, and a CUDA backend they cannot use fails them
export REEL_CUDA_PLUGIN="$PWD/build-gpu/libreel_cuda.so" REEL_TEST_REQUIRE_CUDA=1
step ctest "$T_CTEST" "$out/ctest.log" bash -c "cd build-gpu && ctest --output-on-failure -j 8"
step nn_devices "$T_DEV" "$out/ctest.log" bash -o pipefail -c \
  "./build-gpu/tests/test_nn_devices --jobs=1 --verbose 2>&1 | grep -E 'nn_devices|backends|Synthesis|FAIL|\\[----\\]'"
if command -v compute-sanitizer >/dev/null; then
  step memcheck "$T_MEM" "$out/sanitizer.log" env REEL_TEST_ONLY=cuda compute-sanitizer --tool memcheck \
    --error-exitcode 7 ./build-gpu/tests/test_nn_devices --jobs=1
  step racecheck "$T_RACE" "$out/sanitizer.log" env REEL_TEST_ONLY=cuda compute-sanitizer --tool racecheck \
    --error-exitcode 7 ./build-gpu/tests/test_nn_devices --jobs=1 --filter='nn_devices/*many*'
else
  echo "compute-sanitizer: not found (it ships with the CUDA toolkit, under \$CUDA_HOME/bin)" | tee -a "$out/summary.txt"
fi
if [ -f data/movies.csv ] && python3 -c "import torch" 2>/dev/null; then
  step bench_nets "$T_NETS" "$out/bench.log" python3 bench/bench_nets.py --device gpu --reps 1 --epochs 2 \
    --cases movies-box-b10,movies-u-b10 --reel ./build-gpu/reel --json "$out/bench_nets.json"
else
  echo "bench_nets: skipped (needs data/movies.csv and a Python with torch)" | tee -a "$out/summary.txt"
fi
if [ -f data/movies.csv ]; then # whole epochs in one launch
  step bench_devices "$T_DEVICES" "$out/bench.log" python3 bench/bench_devices.py --devices cpu,cuda \
    --reel ./build-gpu/reel --reps 3 --epochs 1 --batches 10
  if python3 -c "import numpy, pandas" 2>/dev/null; then
    step bench_many "$T_MANY" "$out/bench.log" env PYTHONUNBUFFERED=1 python3 bench/bench_many.py --device cuda \
      --driver ./build-gpu/reel_bench_many --nets 256 --epochs 1 --reps 3 --grid --torch cuda --torch-seq 1 \
      --json "$out/bench_many.json"
  else
    echo "bench_many: skipped (needs numpy and pandas in python3)" | tee -a "$out/summary.txt"
  fi
else
  echo "bench_devices, bench_many: skipped (need data/movies.csv)" | tee -a "$out/summary.txt"
fi
exit $status
