#!/usr/bin/env bash
# The installed library as its users see it: `cmake --install` of a build
# into BUILD/install, a C program compiled against it with pkg-config, then
# `pip install ./python` in a fresh virtual environment and the Python
# package's tests (python/tests) against the installed libreel and reel.
#   scripts/check-install.sh [BUILD]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prefix=$PWD/$build/install
rm -rf "$prefix" "$build/pyvenv"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/share/bash-completion/completions/reel" || { echo "check-install: no bash completion installed" >&2; exit 1; }
libdir=$(find "$prefix" -name reel.pc -path '*pkgconfig*' -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror tests/install_client.c $(pkg-config --cflags --libs reel) -lm \
   -Wl,-rpath,"$(pkg-config --variable=libdir reel)" -o "$build/install_client"
"$build/install_client"
test -f "$(pkg-config --variable=modelsdir reel)/box.json"

# No compiler per Python version: the package is pure Python (ctypes) and
# finds the installed libreel through pkg-config.
/usr/bin/python3 -m venv --system-site-packages "$build/pyvenv"
"$build/pyvenv/bin/pip" install -q --no-build-isolation --no-deps ./python
rm -rf python/build python/reel.egg-info
(cd "$build" && REEL_BINARY="$prefix/bin/reel" pyvenv/bin/python -m pytest -q -rs -p no:cacheprovider \
   "$OLDPWD/python/tests")
