#!/usr/bin/env bash
# Sets up, builds, fetches the IMDB movies data and runs `reel compare` on it.
# Extra arguments go to `reel compare` (e.g. --models random,prior --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
data/fetch_movies.sh
exec ./build/reel compare "$@"
