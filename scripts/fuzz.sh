#!/usr/bin/env bash
# Fuzzes reel's readers with libFuzzer (clang from Debian): the CSV reader,
# the params JSON, the dataset descriptor, the model-file loader, the nets'
# checkpoint reader, the search journal, --column-type parsing and the
# Latin-1 conversion.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 120)] [TARGET ...]
# Each target starts from fuzz/corpus/<target>/ and adds what it finds
# there; a crash is written to fuzz/crashes/<target>/. Copy a crash into
# fuzz/corpus/<target>/ once fixed: tests/test_fuzz_corpus.c replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
shift || true
targets=${*:-csv params descriptor model_file checkpoint journal column_types latin1}
command -v clang >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DREEL_FUZZ=ON -DREEL_CUDA=OFF -DREEL_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
for t in $targets; do
  mkdir -p "fuzz/crashes/$t" "build-fuzz/corpus/$t"
  echo "fuzz.sh: $t for ${secs}s"
  # New inputs go to build-fuzz/corpus (not committed); the seeds stay read-only.
  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz/fuzz_$t "build-fuzz/corpus/$t" "fuzz/corpus/$t" \
    -max_total_time="$secs" -max_len=65536 -artifact_prefix="fuzz/crashes/$t/" -print_final_stats=1 \
    2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)" || true
done
found=$(find fuzz/crashes -type f | wc -l)
echo "fuzz.sh: $found crash file(s) under fuzz/crashes"
[ "$found" = 0 ]
