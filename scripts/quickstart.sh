#!/usr/bin/env bash
# Sets up, builds and installs reel, fetches the IMDB movies data and runs
# `reel compare` on it. Only the program and the libraries are built (no
# test suites); `cmake --install` puts them into $REEL_PREFIX (default
# ~/.local), so `reel` is on the PATH wherever $REEL_PREFIX/bin is.
# Extra arguments go to `reel compare` (e.g. --models random,prior --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${REEL_PREFIX:-$HOME/.local}
scripts/bootstrap.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DREEL_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
cmake --install build --prefix "$prefix" >/dev/null
echo "quickstart: installed reel into $prefix (bin/reel, lib/libreel.so, include/reel.h, lib/pkgconfig/reel.pc)" >&2
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "quickstart: $prefix/bin is not on your PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac
data/fetch_movies.sh
exec "$prefix/bin/reel" compare "$@"
