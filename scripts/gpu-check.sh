#!/usr/bin/env bash
# reel on a machine with an NVIDIA GPU. The first way there is the prebuilt
# bundle: scripts/gpu-bundle.sh builds it here, and `scripts/gpu-bundle.sh
# --print-calls` prints the two device calls that run it (the steps are in
# scripts/gpu-run.sh: the test suite with every net test on CUDA,
# test_nn_devices with the largest GPU-vs-CPU differences, compute-sanitizer
# memcheck and racecheck, the benchmarks against PyTorch). This script:
#
#   scripts/gpu-check.sh --rehearse   here, without a GPU: builds the bundle,
#       then in a private mount namespace hides the checkout (all of /work)
#       and every file of the Debian packages the GPU image lacks
#       (scripts/gpu-debs.sh's list, ocl-icd, PoCL and Open MPI), unpacks the
#       bundle where the GPU machine would and runs the two calls' commands as
#       printed. CUDA steps must say "no CUDA device", everything else must
#       pass; it fails if a program cannot load a library or find a file, if
#       a step or a call runs past its limit, or if a call's $OUT breaks the
#       device tool's limits (8 files, 16 MiB each, 64 MiB, plain names, 2
#       folders deep). Step limits are multiplied by REEL_GPU_SLOW (default
#       16 / this machine's cores, at least 4): the calls are sized for the
#       GPU machine's 16 cores. Run it by hand after any change to CUDA code,
#       the build or the tests (not in CI: too slow for 2 cores).
#   scripts/gpu-check.sh --rehearse-fallback   here: the fallback's configure
#       and build (the plugin, the library, one test) from .debs/ with the
#       same packages hidden, pkg-config among them
#   scripts/gpu-check.sh --dry-run    what the fallback would run, and which
#       of its tools are here; builds and runs nothing
#   scripts/gpu-check.sh              the FALLBACK, on the GPU machine, when
#       the bundle cannot run there: builds there (CUDA on, OpenCL and MPI
#       off, REEL_WERROR=OFF: the image's newer compiler may warn where
#       Debian 12's does not), stages the same bundle from that build and
#       runs its two calls one after the other. The image lacks some
#       libraries and has no package registry: carry .debs/ (made here by
#       `scripts/gpu-debs.sh --download`); they are unpacked with dpkg -x
#       into /opt/reel-deps and found through CMAKE_PREFIX_PATH and
#       LD_LIBRARY_PATH. Logs: $OUT (default build-gpu/gpu-check): build.log,
#       and per call summary.txt and one log (7 files at most).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${1:-}" = --dry-run ]; then
  have() { command -v "$1" >/dev/null && echo "found" || echo "MISSING"; }
  echo "gpu-check.sh --dry-run (the fallback; the bundle's calls: scripts/gpu-bundle.sh --print-calls):"
  echo "  1. nvidia-smi (device: $(have nvidia-smi))"
  echo "  2. .debs/*.deb unpacked into /opt/reel-deps ($(ls .debs/*.deb 2>/dev/null | wc -l) packages here;" \
    "scripts/gpu-debs.sh --download makes them)"
  echo "  3. scripts/gpu-bundle.sh with REEL_WERROR=OFF in build-gpu, staged, no archive (cmake: $(have cmake)," \
    "nvcc: $(command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] && echo found || echo MISSING))"
  echo "  4. the bundle's run.sh 1 and run.sh 2 (scripts/gpu-run.sh; compute-sanitizer: $(have compute-sanitizer)," \
    "data/movies.csv: $([ -f data/movies.csv ] && echo found || echo MISSING))"
  exit 0
fi

# use_debs PREFIX: .debs/*.deb unpacked there (dpkg -x), and the variables
# that let CMake, the linker and the loader find them
use_debs() {
  local deps=$1 f l arch=$1/usr/lib/x86_64-linux-gnu
  for f in .debs/*.deb; do dpkg -x "$f" "$deps" || return 1; done
  export CMAKE_PREFIX_PATH=$deps/usr PATH=$deps/usr/bin:$PATH
  export LD_LIBRARY_PATH=$arch:$arch/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # no alternatives links there: the names the linker and loader look for
  for l in libblas.so.3 liblapack.so.3; do [ -e "$arch/$l" ] || ln -s "openblas-pthread/$l" "$arch/$l"; done
  echo "gpu-check.sh: $(ls .debs/*.deb | wc -l) packages unpacked into $deps"
}

# ---- the rehearsal ------------------------------------------------------------
# Packages whose files are hidden: what scripts/gpu-debs.sh lists, the
# reference BLAS/LAPACK, and the OpenCL and MPI stacks (the bundle has neither).
hidden_packages() {
  { scripts/gpu-debs.sh; dpkg-query -W -f '${Package}\n'; } | sort | uniq -d
  dpkg-query -W -f '${Package}\n' | grep -E '^(libblas3|liblapack3|ocl-icd|libpocl|pocl|openmpi|libopenmpi|libpmix|libhwloc-plugins)' || true
}

# in a mount namespace: every file listed in $1 under an empty file (in
# Python: thousands of mounts)
hide_files() {
  /usr/bin/python3 - "$1" <<'EOF' || return 1
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
n = 0
for path in open(sys.argv[1]).read().split("\n"):
    if path and os.path.isfile(path) and not os.path.islink(path):
        if libc.mount(b"/dev/null", path.encode(), None, 4096, None) != 0:  # MS_BIND
            sys.exit(f"rehearse: cannot hide {path}: {os.strerror(ctypes.get_errno())}")
        n += 1
print(f"rehearse: {n} files of {sys.argv[1]}'s packages hidden")
EOF
}

# in the namespace: hide, unpack, run both calls; $1 = the staging folder
rehearse_inside() {
  local st=$1 c rc ok=0
  mount -t tmpfs none /work || return 1 # every checkout, build folder and cache
  mount -t tmpfs none /tmp || return 1  # a bare machine's /tmp
  hide_files "$st/hidden.txt" || return 1
  mkdir -p "$st/repo/gpu-carry" && cp "$st/reel-gpu.tar.xz" "$st/repo/gpu-carry/"
  mkdir -p /work/repo && mount --bind "$st/repo" /work/repo && cd /work/repo || return 1
  ldd /usr/bin/cmake 2>/dev/null | grep -q 'not found' && echo "rehearse: (cmake cannot load now, as expected)"
  for c in 1 2; do
    mkdir -p "$st/out$c"
    echo "rehearse: call $c: $(cat "$st/cmd$c")"
    OUT=$st/out$c timeout --kill-after=10 $((240 * REEL_GPU_SLOW)) bash -c "$(cat "$st/cmd$c")" >"$st/call$c.txt" 2>&1
    rc=$?
    cat "$st/call$c.txt"
    [ $rc = 124 ] || [ $rc = 137 ] && echo "rehearse: call $c ran past its $((240 * REEL_GPU_SLOW)) s"
    [ $rc = 0 ] || { echo "rehearse: call $c FAILED (exit $rc)"; ok=1; }
  done
  return $ok
}

# $1/packages.txt and $1/hidden.txt: the packages and their files
list_hidden() {
  hidden_packages >"$1/packages.txt"
  xargs dpkg -L <"$1/packages.txt" 2>/dev/null | sort -u >"$1/hidden.txt"
}

# --rehearse-fallback, in the namespace: the fallback's configure and build
# from .debs with the same packages hidden (the plugin, the library, a test)
fallback_inside() {
  local st=$1
  mount -t tmpfs none /work || return 1
  hide_files "$st/hidden.txt" || return 1
  cd "$st/src" || return 1
  pkg-config --version 2>/dev/null && echo "rehearse: pkg-config is still here"
  use_debs "$st/deps" || return 1
  cmake -S . -B "$st/build" -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON -DREEL_OPENCL=OFF -DREEL_MPI=OFF \
    -DREEL_WERROR=OFF -DCMAKE_CUDA_ARCHITECTURES=90-real >"$st/configure.log" 2>&1 || { cat "$st/configure.log"; return 1; }
  grep -E '^(CJSON|OPENBLAS|LAPACKE|CRITERION)_' "$st/build/CMakeCache.txt"
  cmake --build "$st/build" -j "$(nproc)" --target reelcuda reel test_metrics >"$st/build.log" 2>&1 ||
    { tail -30 "$st/build.log"; return 1; }
  ldd "$st/build/libreel_cuda.so" | grep -E 'cudart|cublas'
  readelf -d "$st/build/libreel_cuda.so" | grep -E 'RUNPATH'
  "$st/build/reel" --version && "$st/build/tests/test_metrics" --jobs=1
}

# after: what the device tool would bring back, and what the logs say
rehearse_checks() {
  local st=$1 c f n bad=0
  for c in 1 2; do
    n=$(find "$st/out$c" -type f | wc -l)
    [ "$n" -le 8 ] || { echo "rehearse: call $c leaves $n files in \$OUT (at most 8 come back)"; bad=1; }
    [ "$(du -sb "$st/out$c" | cut -f1)" -le $((64 << 20)) ] || { echo "rehearse: call $c's \$OUT is over 64 MiB"; bad=1; }
    while IFS= read -r f; do
      [ "$(stat -c %s "$f")" -le $((16 << 20)) ] || { echo "rehearse: $f is over 16 MiB"; bad=1; }
      [[ ${f#"$st/out$c/"} =~ ^([A-Za-z0-9._-]+/){0,2}[A-Za-z0-9._-]+$ ]] || { echo "rehearse: $f: name or depth"; bad=1; }
    done < <(find "$st/out$c" -type f)
    if grep -rhE 'error while loading shared libraries|cannot open shared object file|CANNOT LOAD|missing: ' \
      "$st/out$c" "$st/call$c.txt"; then
      echo "rehearse: call $c: a program could not load a library or find a file (above)"
      bad=1
    fi
  done
  # the only skips allowed: no CUDA, no OpenCL (the bundle has no OpenCL)
  if grep -h 'SKIPPED:' "$st/out1/tests.log" | grep -vE 'CUDA|OpenCL|device backend'; then
    echo "rehearse: suites skipped for another reason than the missing GPU (above)"
    bad=1
  fi
  grep -q '| nn_devices | 0 | 0 | 0 | no CUDA device |' "$st/out1/summary.txt" || {
    echo "rehearse: call 1 did not report nn_devices as \"no CUDA device\""
    bad=1
  }
  return $bad
}

if [ "${1:-}" = --rehearse-fallback ]; then
  [ "$(id -u)" = 0 ] || { echo "gpu-check.sh --rehearse-fallback: needs root" >&2; exit 1; }
  ls .debs/*.deb >/dev/null 2>&1 || { echo "gpu-check.sh: no .debs/ (scripts/gpu-debs.sh --download)" >&2; exit 1; }
  t0=$(date +%s)
  st=$(mktemp -d /var/tmp/reel-fallback.XXXXXX)
  trap 'rm -rf "$st"' EXIT
  mkdir -p "$st/src" && git ls-files -z | xargs -0 cp --parents -t "$st/src" && cp -r .debs "$st/src/"
  list_hidden "$st"
  { declare -f hide_files use_debs fallback_inside; echo 'fallback_inside "$1"'; } >"$st/inside.sh"
  env -i HOME=/root PATH="/usr/local/cuda/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    unshare -m --propagation private bash "$st/inside.sh" "$st"
  rc=$?
  echo "rehearse-fallback: $([ $rc = 0 ] && echo PASSED || echo FAILED) in $(($(date +%s) - t0)) s"
  exit $rc
fi
if [ "${1:-}" = --rehearse ]; then
  [ "$(id -u)" = 0 ] || { echo "gpu-check.sh --rehearse: needs root (mount namespace, bind mounts)" >&2; exit 1; }
  nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && echo "gpu-check.sh --rehearse: note: this machine has a GPU"
  export REEL_GPU_SLOW=${REEL_GPU_SLOW:-$(((16 + $(nproc) - 1) / $(nproc)))}
  [ "$REEL_GPU_SLOW" -ge 4 ] || REEL_GPU_SLOW=4
  t0=$(date +%s)
  scripts/gpu-bundle.sh || exit 1
  st=$(mktemp -d /var/tmp/reel-rehearse.XXXXXX)
  trap 'rm -rf "$st"' EXIT
  cp gpu-carry/reel-gpu.tar.xz "$st/"
  for c in 1 2; do scripts/gpu-bundle.sh --command $c >"$st/cmd$c"; done
  list_hidden "$st"
  # The GPU image's python3 has torch, safetensors and onnxruntime, each with
  # its own BLAS (pip's wheels); here that is /opt/reel-pyenv's (Debian's
  # torch, which uses the hidden OpenBLAS): a copy of those for it alone.
  py=/usr/bin/python3
  [ -x /opt/reel-pyenv/bin/python3 ] && py=/opt/reel-pyenv/bin/python3
  mkdir -p "$st/pylibs" "$st/pybin"
  "$py" -c 'import glob, importlib, os
for name in ("numpy", "torch", "onnxruntime", "safetensors"):
    try:
        d = os.path.dirname(importlib.import_module(name).__file__)
    except ImportError:
        continue
    print(*glob.glob(d + "/**/*.so*", recursive=True), sep="\n")' 2>/dev/null |
    xargs -r ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
    while read -r lib path; do
      grep -qxF "$(readlink -f "$path")" "$st/hidden.txt" || grep -qxF "$path" "$st/hidden.txt" &&
        cp -L "$path" "$st/pylibs/$lib"
    done
  printf '#!/bin/sh\nexport LD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\nexec %s "$@"\n' \
    "$st/pylibs" "$py" >"$st/pybin/python3"
  chmod 755 "$st/pybin/python3"
  echo "rehearse: hiding $(wc -l <"$st/hidden.txt") paths of $(wc -l <"$st/packages.txt") packages:" \
    "$(paste -sd ' ' "$st/packages.txt")"
  echo "rehearse: python3 ($py) gets its own copies of: $(ls "$st/pylibs" | paste -sd ' ')"
  echo "rehearse: step limits x$REEL_GPU_SLOW (REEL_GPU_SLOW; $(nproc) cores here, load $(cut -d' ' -f1-3 /proc/loadavg))"
  { declare -f hide_files rehearse_inside; echo 'rehearse_inside "$1"'; } >"$st/inside.sh"
  env -i HOME=/root REEL_GPU_SLOW="$REEL_GPU_SLOW" PATH="$st/pybin:/usr/local/cuda/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    unshare -m --propagation private bash "$st/inside.sh" "$st"
  rc=$?
  rehearse_checks "$st" || rc=1
  echo "rehearse: $([ $rc = 0 ] && echo PASSED || echo FAILED) in $(($(date +%s) - t0)) s" \
    "(bundle $(($(stat -c %s gpu-carry/reel-gpu.tar.xz) / 1024)) KiB)"
  exit $rc
fi
[ $# = 0 ] || { echo "usage: scripts/gpu-check.sh [--rehearse | --rehearse-fallback | --dry-run]" >&2; exit 2; }

# ---- the fallback: build on the GPU machine --------------------------------------
out=${OUT:-build-gpu/gpu-check}
mkdir -p "$out"
nvidia-smi -L || { echo "gpu-check.sh: no NVIDIA GPU here (nvidia-smi failed)" >&2; exit 1; }
ls .debs/*.deb >/dev/null 2>&1 && use_debs /opt/reel-deps
export PATH=$PATH:/usr/local/cuda/bin
t0=$(date +%s)
REEL_BUNDLE_BUILD=build-gpu REEL_BUNDLE_CMAKE_ARGS=-DREEL_WERROR=OFF timeout "${T_BUILD:-240}" \
  scripts/gpu-bundle.sh --no-archive >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log"
  cat build-gpu/bundle-build.log 2>/dev/null | grep -E 'error|Error' | head -20
  exit 1
}
echo "gpu-check.sh: built and staged in $(($(date +%s) - t0)) s"
status=0
for c in 1 2; do
  left=$((570 - ($(date +%s) - t0)))
  OUT=$out/call$c build-gpu/stage/reel-gpu/run.sh $c --budget $((c == 1 ? left * 6 / 10 : left)) || status=1
  # the device tool brings back 8 files: one log per call beside its summary
  (cd "$out/call$c" && cat $(ls *.log) >"call$c.log.tmp" && rm -f *.log && mv "call$c.log.tmp" "call$c.log")
done
exit $status
