#!/usr/bin/env bash
# Builds here everything reel's GPU run needs, into one archive that the
# device tool carries to the GPU machine, which then builds nothing:
#   gpu-carry/reel-gpu.tar.xz (git-ignored; the device calls' carry list
#   names the folder gpu-carry), at most 40 MiB.
#
# What it holds (reel-gpu/ when unpacked):
#   run.sh            scripts/gpu-run.sh: the two calls' steps (see its header)
#   bin/              reel, reel_bench_many: wrappers that put lib/ and the CUDA
#                     libraries run.sh found on the loader's path; python3: the
#                     tests' Python, with the path run.sh was started with
#   libexec/          the programs themselves (stripped)
#   lib/              libreel.so, libreel_cuda.so (SASS for sm_80 and sm_90, no
#                     PTX: nothing is compiled on the GPU), and the libraries
#                     they and the tests need that the GPU image lacks, found
#                     with ldd (cJSON, Criterion and its own libraries, OpenBLAS,
#                     LAPACKE, libgfortran...): never glibc, libstdc++, libgcc_s,
#                     libgomp, libz, OpenSSL, nor CUDA's or the driver's own
#   tests/            every Criterion suite (stripped; linked against libreel.a:
#                     they use internal symbols libreel.so does not export)
#   src/              the files the tests and benchmarks read: tests/fixtures,
#                     tests/scripts, fuzz/corpus, scripts/reel-completion.bash,
#                     data/movies.json and data/movies.csv, models/, bench/*.py
#   COMMIT            the commit it was built from
# Built with OpenCL and MPI off (their loaders and plugins are invisible to ldd).
#
# Relocation: by the environment, not by a fixed path. The bundle runs from
# wherever it is unpacked: run.sh finds everything relative to itself and
# hands the test binaries their files through REEL_TEST_BINARY,
# REEL_TEST_FIXTURES and REEL_TEST_SOURCE_DIR (tests/helpers.h), the plugin
# through REEL_CUDA_PLUGIN, and runs in src/ (data/movies.json relative to
# the working folder). The calls below unpack it in /tmp.
#
#   scripts/gpu-bundle.sh                 build (folder build-bundle, ccache when
#                                         present) and write the archive
#   scripts/gpu-bundle.sh --print-calls   print the two device `run` calls
#                                         (command, carry, timeout_s)
#   scripts/gpu-bundle.sh --command N     call N's command alone
#   scripts/gpu-bundle.sh --no-archive    build and stage only (DIR/stage/reel-gpu:
#                                         scripts/gpu-check.sh's fallback on the GPU)
# REEL_BUNDLE_BUILD=DIR: another build folder; REEL_BUNDLE_CMAKE_ARGS: more
# cmake arguments (the fallback's -DREEL_WERROR=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
carry=gpu-carry
name=reel-gpu
archive=$carry/$name.tar.xz
build=${REEL_BUNDLE_BUILD:-build-bundle}
max_bytes=$((40 * 1024 * 1024))
call_s=240    # each device call's timeout_s
budget_s=225  # run.sh's budget inside it: the rest is unpacking and the tool's margin

# The device command: unpack (tar's xz, or Python's where tar has none), run one call.
command_for() { # CALL
  printf '%s' "set -o pipefail; rm -rf /tmp/$name; (tar -xJf $archive -C /tmp || python3 -c 'import sys, tarfile;" \
    " tarfile.open(sys.argv[1]).extractall(\"/tmp\")' $archive) && /tmp/$name/run.sh $1 --budget $budget_s"
}
if [ "${1:-}" = --command ]; then
  command_for "${2:?--command needs 1 or 2}"
  echo
  exit 0
fi
if [ "${1:-}" = --print-calls ]; then
  for c in 1 2; do
    what=$([ $c = 1 ] && echo "the essential one: tests with every net test on CUDA, test_nn_devices, memcheck" ||
      echo "racecheck over the fused kernels, the benchmarks")
    echo "call $c ($what):"
    python3 -c 'import json, sys; print(json.dumps({"command": sys.argv[1], "carry": [sys.argv[2]],
      "timeout_s": int(sys.argv[3])}))' "$(command_for $c)" "$carry" "$call_s"
  done
  echo "then give_back. Logs come back from \$OUT: summary.txt (the table for bench/RESULTS.md), probe.log, one per step."
  exit 0
fi
no_archive=0
[ "${1:-}" = --no-archive ] && no_archive=1 && shift
[ $# = 0 ] || { echo "usage: scripts/gpu-bundle.sh [--print-calls | --command N | --no-archive]" >&2; exit 2; }

# ---- build -------------------------------------------------------------------
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_CUDA_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}
fi
[ -f data/movies.csv ] || { echo "gpu-bundle.sh: data/movies.csv missing (data/fetch_movies.sh)" >&2; exit 1; }
echo "gpu-bundle.sh: building in $build (CUDA on, SASS sm_80 and sm_90; OpenCL and MPI off)"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DREEL_CUDA=ON -DREEL_OPENCL=OFF -DREEL_MPI=OFF \
  "-DCMAKE_CUDA_ARCHITECTURES=80-real;90-real" ${REEL_BUNDLE_CMAKE_ARGS:-} >"$build/bundle-configure.log" 2>&1 || {
  cat "$build/bundle-configure.log"
  exit 1
}
cmake --build "$build" -j "$(nproc)" >"$build/bundle-build.log" 2>&1 || {
  tail -40 "$build/bundle-build.log"
  exit 1
}

# ---- stage -------------------------------------------------------------------
stage=$build/stage
B=$stage/$name
rm -rf "$stage"
mkdir -p "$B"/{bin,libexec,lib,tests,src/tests,src/scripts,src/fuzz,src/data}
install -m 755 scripts/gpu-run.sh "$B/run.sh"
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!data' 2>/dev/null || echo '+changes')" >"$B/COMMIT"
for p in reel reel_bench_many; do
  strip -o "$B/libexec/$p" "$build/$p"
  cat >"$B/bin/$p" <<EOF
#!/bin/sh
# $p with the bundle's libraries (and the CUDA ones run.sh found) on the loader's path
here=\$(dirname "\$(readlink -f "\$0")")
export LD_LIBRARY_PATH="\${REEL_GPU_LIBS:-\$here/../lib}"
exec "\$here/../libexec/$p" "\$@"
EOF
  chmod 755 "$B/bin/$p"
done
cat >"$B/bin/python3" <<'EOF'
#!/bin/sh
# the tests' Python (REEL_PYTHON): the loader path run.sh was started with, not reel's
if [ "${REEL_GPU_ORIG_LDSET:-}" = 1 ]; then export LD_LIBRARY_PATH="$REEL_GPU_ORIG_LDPATH"; else unset LD_LIBRARY_PATH; fi
exec "${REEL_GPU_PYTHON:-python3}" "$@"
EOF
chmod 755 "$B/bin/python3"
real=$(readlink -f "$build/libreel.so")
strip --strip-unneeded -o "$B/lib/$(basename "$real")" "$real"
ln -s "$(basename "$real")" "$B/lib/$(readlink "$build/libreel.so")"
strip --strip-unneeded -o "$B/lib/libreel_cuda.so" "$build/libreel_cuda.so"
for t in "$build"/tests/test_*; do
  [ -f "$t" ] && [ -x "$t" ] && strip -o "$B/tests/$(basename "$t")" "$t"
done
cp -r tests/fixtures tests/scripts "$B/src/tests/"
cp -r fuzz/corpus "$B/src/fuzz/"
cp scripts/reel-completion.bash "$B/src/scripts/"
cp data/movies.json data/movies.csv "$B/src/data/"
cp -r models "$B/src/"
mkdir -p "$B/src/bench" && cp bench/*.py "$B/src/bench/"

# ---- the libraries the GPU image lacks (ldd) ----------------------------------
# Left out: what every Linux with a C++ toolchain has, and CUDA's and the
# driver's libraries, which must be the GPU machine's own.
skip='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libnsl|libstdc\+\+|libgcc_s|libgomp|libz|libssl|libcrypto|libcuda|libcudart|libcublas|libcublasLt|libnv[A-Za-z]*|libreel|libreel_cuda)\.so'
missing=0
for f in "$B"/libexec/* "$B"/tests/* "$B"/lib/libreel*.so*; do
  [ -L "$f" ] && continue
  while read -r lib arrow path _; do
    [ "$arrow" = "=>" ] || continue
    if [ "$path" = "not" ]; then
      echo "gpu-bundle.sh: $f needs $lib, which is not found here" >&2
      missing=1
      continue
    fi
    [[ $lib =~ $skip ]] && continue
    [ -e "$B/lib/$lib" ] || cp -L "$path" "$B/lib/$lib"
  done < <(ldd "$f")
done
[ $missing = 0 ] || exit 1
for f in "$B"/lib/*.so*; do [ -L "$f" ] || strip --strip-unneeded "$f" 2>/dev/null || true; done

# ---- archive -------------------------------------------------------------------
if [ $no_archive = 1 ]; then
  echo "gpu-bundle.sh: staged in $B ($(du -sk "$B" | cut -f1) KiB)"
  exit 0
fi
mkdir -p "$carry"
tar -C "$stage" --owner=0 --group=0 -cf - "$name" | xz -9 -T"$(nproc)" >"$archive.part"
mv "$archive.part" "$archive"
size=$(stat -c %s "$archive")
echo "gpu-bundle.sh: $archive, $((size / 1024)) KiB ($(du -sk "$B" | cut -f1) KiB unpacked):" \
  "$(ls "$B/tests" | wc -l) test suites, $(ls "$B/lib" | wc -l) libraries: $(ls "$B/lib" | paste -sd ' ')"
if [ "$size" -gt $max_bytes ]; then
  echo "gpu-bundle.sh: the archive is over 40 MiB" >&2
  exit 1
fi
