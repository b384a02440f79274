#!/usr/bin/env bash
# reel's run on a machine with an NVIDIA GPU, from the bundle that
# scripts/gpu-bundle.sh makes (this file is the bundle's run.sh). It builds
# nothing: programs, tests, libraries and files are all in the bundle, found
# relative to this script, wherever the bundle was unpacked.
#
#   run.sh 1 [--budget S]   call 1: the test suite with every net test on CUDA,
#                           test_nn_devices (largest GPU-vs-CPU differences),
#                           compute-sanitizer memcheck over test_nn_devices
#   run.sh 2 [--budget S]   call 2: racecheck over the fused kernels' tests,
#                           bench_nets, bench_devices, bench_many (GPU vs PyTorch)
#
# Each step runs under its own limit, cut to what is left of --budget (the
# seconds the device call allows, less unpacking). Logs go to $OUT (the
# device tool's folder; ./gpu-out without it), flat, at most 8 files:
# summary.txt (device, driver, CUDA, a table of each step's result and
# seconds), probe.log (the libraries found, every program's ldd) and one log
# per step. Exit status 0 when every step is ok, "no CUDA device" or
# "unavailable" (a sanitizer that refuses the device), 1 otherwise.
#
# Without a GPU (nvidia-smi lists none, as in scripts/gpu-check.sh
# --rehearse) the CUDA steps say "no CUDA device" and the benchmarks run a
# short CPU pass instead, so that every program and file is still used.
#
# Library path: the bundle's lib/ and the folders where libcudart,
# libcublas and libcuda.so.1 were found are given to reel's own programs
# only (the test binaries, bin/reel, bin/reel_bench_many); python3 (and
# PyTorch in it) runs with the environment it was started with, and the
# tests' own Python runs through bin/python3, which restores it.
set -uo pipefail
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
call=${1:-}
budget=235
[ "${2:-}" = --budget ] && budget=${3:?--budget needs seconds}
case $call in 1 | 2) ;; *)
  echo "usage: run.sh 1|2 [--budget SECONDS]" >&2
  exit 2
  ;;
esac
# REEL_GPU_SLOW=K: every step's limit and the budget times K (the rehearsal on a machine of
# fewer, shared cores; scripts/gpu-check.sh --rehearse); the summary says so
slow=${REEL_GPU_SLOW:-1}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
start=$(date +%s)
deadline=$((start + budget * slow))
summary=$out/summary.txt
status=0
rows=()

# ---- what this machine has -------------------------------------------------
gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then gpu=1; fi

# The first folder holding each CUDA library: the loader's cache, the
# toolkit's folders, the driver's, then the Python environment's wheels.
find_lib() { # NAME -> folder
  local name=$1 d f
  f=$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n && /x86-64/ {print $NF; exit}')
  if [ -n "$f" ]; then dirname "$f" && return 0; fi
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib \
    /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu $pywheels; do
    [ -e "$d/$name" ] && echo "$d" && return 0
  done
  return 1
}
pywheels=""
if command -v python3 >/dev/null; then # nvidia/*/lib (and nvidia/cu13/lib) of pip's CUDA wheels
  pywheels=$(python3 -c 'import nvidia, glob, os
for p in nvidia.__path__:
    print(*sorted(glob.glob(os.path.join(p, "*", "lib")) + glob.glob(os.path.join(p, "*", "*", "lib"))))' 2>/dev/null)
fi
libs=$B/lib
missing_cuda=""
for name in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcuda.so.1; do
  if d=$(find_lib "$name"); then
    case ":$libs:" in *":$d:"*) ;; *) libs=$libs:$d ;; esac
  else
    missing_cuda="$missing_cuda $name"
  fi
done
export REEL_GPU_ORIG_LDSET=${LD_LIBRARY_PATH+1} REEL_GPU_ORIG_LDPATH=${LD_LIBRARY_PATH-}
export REEL_GPU_LIBS=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export REEL_GPU_PYTHON=$(command -v python3 || echo python3)
export REEL_CUDA_PLUGIN=$B/lib/libreel_cuda.so
# the tests' files and programs (tests/helpers.h), the tests' Python
export REEL_TEST_BINARY=$B/bin/reel REEL_TEST_FIXTURES=$B/src/tests/fixtures REEL_TEST_SOURCE_DIR=$B/src
export REEL_PYTHON=$B/bin/python3 REEL_TEST_ONLY=cuda
if [ $gpu = 1 ]; then export REEL_TEST_REQUIRE_CUDA=1; fi
cd "$B/src" || exit 1 # data/movies.json relative to the working folder, as in a checkout
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer /opt/nvidia/*/compute-sanitizer \
  2>/dev/null | head -1)

{
  echo "reel GPU run, call $call, $(date -u '+%Y-%m-%d %H:%M UTC'), bundle $(cat "$B/COMMIT" 2>/dev/null)"
  if [ $gpu = 1 ]; then
    echo "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1);" \
      "$(nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | head -1)"
  else
    echo "device: no NVIDIA GPU here (nvidia-smi lists none): CUDA steps report \"no CUDA device\""
  fi
  echo "machine: $(nproc) cores, $(uname -r), $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")," \
    "python3 $REEL_GPU_PYTHON, compute-sanitizer ${sanitizer:-not found}"
  echo "libraries for reel's programs: $libs${missing_cuda:+ (not found:$missing_cuda)}"
} >"$summary"
cat "$summary"

# ---- steps -----------------------------------------------------------------
# row NAME LIMIT SECONDS CPU RESULT: one line of the summary table
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); echo "== $1: $5 ($3 s of $2)"; }
# the CPU seconds (user + sys) of this shell's finished children so far, in
# $cpu (`times` in this shell: a command substitution would be a subshell's)
child_cpu() {
  times >"$TMPDIR/times"
  cpu=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }' "$TMPDIR/times")
}

# step NAME LIMIT LOG COMMAND...: runs it under min(LIMIT, what the budget
# leaves), output appended to LOG; its result is the exit status, unless the
# step's own check (ok_NAME, when defined) says otherwise.
step() {
  local name=$1 limit=$(($2 * slow)) log=$3 left t0 t1 c0 cpu rc result
  shift 3
  left=$((deadline - $(date +%s) - 7))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 3 ]; then
    row "$name" 0 0 0 "NOT RUN: the call's budget is spent"
    status=1
    return
  fi
  echo "== $name (limit $limit s): $*" >>"$log"
  t0=$(date +%s.%N)
  child_cpu
  c0=$cpu
  timeout --kill-after=5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  if [ $rc = 124 ] || [ $rc = 137 ]; then result="TIMED OUT"
  elif declare -F "ok_$name" >/dev/null; then result=$("ok_$name" "$rc" "$log")
  elif [ $rc = 0 ]; then result=ok
  else result="FAILED (exit $rc)"; fi
  case $result in ok* | "no CUDA device"* | unavailable*) ;; *) status=1 ;; esac
  child_cpu
  row "$name" "$limit" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
    "$(awk -v a="$c0" -v b="$cpu" 'BEGIN { printf "%.1f", b - a }')" "$result"
}
no_gpu() { row "$1" 0 0 0 "no CUDA device"; }

# probe: every program and library of the bundle loads with this path
probe() {
  local f l bad=0
  for f in "$B"/libexec/* "$B"/tests/* "$B"/lib/*.so*; do
    [ -f "$f" ] || continue
    echo "-- ldd $f"
    l=$(LD_LIBRARY_PATH=$REEL_GPU_LIBS ldd "$f" 2>&1)
    echo "$l"
    case $l in *"not found"* | *"not a dynamic"* | *rror*) echo "CANNOT LOAD: $f"; bad=1 ;; esac
  done
  for f in tests/fixtures/nn_golden.json data/movies.csv data/movies.json models/box.json bench/bench_nets.py \
    scripts/reel-completion.bash fuzz/corpus; do
    [ -e "$f" ] || { echo "missing: $B/src/$f"; bad=1; }
  done
  "$B/bin/reel" --version || bad=1
  "$B/bin/reel" info || bad=1 # its "cuda:" line: the plugin loaded, the device it sees
  [ -z "$missing_cuda" ] || [ $gpu = 0 ] || { echo "CUDA libraries not found:$missing_cuda"; bad=1; }
  return $bad
}
export -f probe
export B missing_cuda gpu

# tests: every suite but test_nn_devices (its own step), several at once; a
# suite's result is its exit status; "SKIPPED:" lines are listed
suites() {
  local jobs=$(($(nproc) / 2)) t
  [ $jobs -lt 1 ] && jobs=1
  [ $jobs -gt 8 ] && jobs=8
  mkdir -p "$TMPDIR/suites"
  for t in "$B"/tests/test_*; do
    [ "$(basename "$t")" = test_nn_devices ] || echo "$t"
  done | xargs -P "$jobs" -I{} bash -c 't={}; n=$(basename $t); s=$(date +%s.%N);
    LD_LIBRARY_PATH=$REEL_GPU_LIBS $t --jobs=1 --short-filename >"$TMPDIR/suites/$n.log" 2>&1; rc=$?;
    echo "$n exit $rc $(awk -v a=$s -v b=$(date +%s.%N) "BEGIN { printf \"%.1f\", b - a }") s" >"$TMPDIR/suites/$n.rc"'
  local failed=0 f
  for f in "$TMPDIR"/suites/*.rc; do
    n=$(basename "$f" .rc)
    echo "---- $(cat "$f")"
    cat "$TMPDIR/suites/$n.log"
    grep -q ' exit 0 ' "$f" || failed=$((failed + 1))
  done
  return $((failed > 0))
}
export -f suites
ok_tests() {
  local n failed skipped
  n=$(grep -c '^---- ' "$2")
  failed=$(grep '^---- ' "$2" | grep -vc ' exit 0 ')
  skipped=$(grep -h 'SKIPPED:' "$2" | sed 's/.*SKIPPED: //' | sort | uniq -c | sed 's/^ *//' | head -5 | paste -sd ';')
  if [ "$1" = 0 ]; then echo "ok: $n suites passed${skipped:+; skipped: $skipped}"
  else echo "FAILED: $failed of $n suites ($(grep '^---- ' "$2" | grep -v ' exit 0 ' | cut -c6- | paste -sd ',' | cut -c1-200))"; fi
}
# a sanitizer that refuses the device is unavailable, not a failure of reel
sanitizer_result() {
  if grep -qE 'Device not supported|device is not supported|Unable to (find|load)|not supported on this' "$2"; then
    echo "unavailable: $(grep -m1 -E 'Device not supported|not supported|Unable to' "$2" | cut -c1-120)"
  elif [ "$1" = 0 ]; then echo "ok: $(grep -m1 'ERROR SUMMARY' "$2" | sed 's/=* *//')"
  else echo "FAILED (exit $1): $(grep -m1 'ERROR SUMMARY' "$2" | sed 's/=* *//')"; fi
}
ok_memcheck() { sanitizer_result "$@"; }
ok_racecheck() { sanitizer_result "$@"; }
ok_nn_devices() {
  if [ "$1" = 0 ]; then echo "ok: $(grep -m1 'Synthesis' "$2" | sed 's/.*Synthesis: //')"
  else echo "FAILED (exit $1): $(grep -m1 'Synthesis' "$2" | sed 's/.*Synthesis: //')"; fi
}

export TMPDIR=${TMPDIR:-/tmp}/reel-gpu-run.$$
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT
tests_env=(env "LD_LIBRARY_PATH=$REEL_GPU_LIBS")
devices=("$B/tests/test_nn_devices" --jobs=1)

step probe 20 "$out/probe.log" bash -c probe
grep -E '^(cuda|nets):' "$out/probe.log" | sed 's/^/reel info: /' | tee -a "$summary"
if [ "$call" = 1 ]; then
  step tests 100 "$out/tests.log" bash -c suites
  if [ $gpu = 1 ]; then
    step nn_devices 35 "$out/nn_devices.log" "${tests_env[@]}" "${devices[@]}" --verbose
    if [ -n "$sanitizer" ]; then
      # --report-api-errors no: out_of_memory_names_the_sizes asks for 192 GiB
      # on purpose; --target-processes all: Criterion runs each test in a child
      step memcheck 75 "$out/memcheck.log" "${tests_env[@]}" "$sanitizer" --tool memcheck --report-api-errors no \
        --target-processes all --error-exitcode 7 --print-limit 50 "${devices[@]}"
    else row memcheck 0 0 0 "unavailable: compute-sanitizer not found"; fi
  else
    no_gpu nn_devices
    no_gpu memcheck
  fi
  # the largest GPU-vs-CPU differences, one line per comparison
  if [ -f "$out/nn_devices.log" ]; then
    diffs=$(grep -E 'largest difference' "$out/nn_devices.log" | head -60)
  fi
else
  if [ $gpu = 1 ] && [ -n "$sanitizer" ]; then
    # the fused kernels: many nets in one launch, a whole epoch in one launch
    step racecheck 45 "$out/racecheck.log" "${tests_env[@]}" "$sanitizer" --tool racecheck --target-processes all \
      --error-exitcode 7 --print-limit 50 "${devices[@]}" --filter='nn_devices/@(*many*|*whole_epoch*)'
  elif [ $gpu = 1 ]; then row racecheck 0 0 0 "unavailable: compute-sanitizer not found"
  else no_gpu racecheck; fi
  bench=$out/bench.log
  export PYTHONUNBUFFERED=1
  if [ $gpu = 1 ]; then # the most wanted first: the budget cuts the last
    step bench_nets 40 "$bench" python3 bench/bench_nets.py --device gpu --reps 1 --epochs 2 --no-ensembles \
      --cases movies-box-b10,movies-u-b10 --reel "$B/bin/reel" --json "$out/bench_nets.json"
    step bench_many 70 "$bench" python3 bench/bench_many.py --device cuda --driver "$B/bin/reel_bench_many" \
      --data data/movies.csv --nets 256 --epochs 1 --reps 2 --grid --torch cuda --torch-seq 1 \
      --json "$out/bench_many.json"
    step bench_devices 25 "$bench" python3 bench/bench_devices.py --devices cpu,cuda --reel "$B/bin/reel" \
      --reps 2 --epochs 1 --batches 10
    step bench_ensembles 45 "$bench" python3 bench/bench_nets.py --device gpu --reps 1 --epochs 1 --ensembles-only \
      --models box --cases movies-box-b10 --reel "$B/bin/reel" --json "$out/bench_ensembles.json"
  else # the same scripts, programs and data, briefly on the CPU
    step bench_nets_cpu 60 "$bench" python3 bench/bench_nets.py --device cpu --quick --threads 1 \
      --models box --reel "$B/bin/reel" --json "$out/bench_nets.json"
    step bench_devices_cpu 40 "$bench" python3 bench/bench_devices.py --devices cpu --reel "$B/bin/reel" \
      --reps 1 --epochs 1 --batches 256 --models box
    step bench_many_cpu 60 "$bench" python3 bench/bench_many.py --device cpu --driver "$B/bin/reel_bench_many" \
      --data data/movies.csv --nets 4 --rows 2000 --epochs 1 --reps 1 --torch cpu --torch-seq 1 \
      --json "$out/bench_many.json"
  fi
fi

{
  echo
  echo "| step | limit s | seconds | CPU s | result |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo "call $call: $(($(date +%s) - start)) s in all of a $((budget * slow)) s budget; $([ $status = 0 ] && echo ok || echo FAILED)"
  [ "$slow" = 1 ] || echo "(every step's limit was multiplied by $slow: REEL_GPU_SLOW, a rehearsal on $(nproc) cores)"
  if [ -n "${diffs:-}" ]; then
    echo
    echo "largest GPU-vs-CPU differences (test_nn_devices, per comparison):"
    echo "$diffs"
  fi
} | tee -a "$summary"
# the device tool brings back files of at most 16 MiB
for f in "$out"/*; do
  [ "$(stat -c %s "$f")" -gt 16000000 ] && { tail -c 15000000 "$f" >"$f.tmp" && mv "$f.tmp" "$f"; }
done
exit $status
