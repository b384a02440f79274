#!/usr/bin/env bash
# The installed library as its users see it, with no LD_LIBRARY_PATH:
#   1. `cmake --install` of a build into BUILD/install; a C program compiled
#      against it with pkg-config, linked to libreel.so (found through the
#      run path reel.pc gives), then to libreel.a (with reel.pc's
#      Libs.private), both run;
#   2. `pip install ./python` alone in a fresh virtual environment: it builds
#      libreel through scikit-build-core (fetched from PyPI) into the package,
#      CUDA off unless REEL_CUDA says otherwise; the Python package's tests
#      (python/tests) against it, the CLI comparisons with BUILD's reel;
#   3. the package without its own library (SKBUILD_WHEEL_CMAKE=false) finds
#      the installed libreel through pkg-config.
#   scripts/check-install.sh [BUILD]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prefix=$PWD/$build/install
unset LD_LIBRARY_PATH REEL_LIBRARY
fail() { echo "check-install: $*" >&2; exit 1; }
rm -rf "$prefix" "$build/pyvenv" "$build/pyvenv-system"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/share/bash-completion/completions/reel" || fail "no bash completion installed"
libdir=$(find "$prefix" -name reel.pc -path '*pkgconfig*' -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir
test -f "$(pkg-config --variable=modelsdir reel)/box.json" || fail "no model definitions installed"

# shared: the run path comes from reel.pc's Libs
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror tests/install_client.c $(pkg-config --cflags --libs reel) -lm \
   -o "$build/install_client"
readelf -d "$build/install_client" | grep -q 'NEEDED.*libreel\.so' || fail "install_client does not use libreel.so"
"$build/install_client"
# static: libreel.a by name (-l:libreel.a), its dependencies from Libs.private
static_libs=" $(pkg-config --static --libs reel) "
static_libs=${static_libs/ -lreel / -l:libreel.a }
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror tests/install_client.c $(pkg-config --cflags reel) $static_libs -lm \
   -o "$build/install_client_static"
if readelf -d "$build/install_client_static" | grep -q 'NEEDED.*libreel'; then
  fail "install_client_static still needs libreel.so"
fi
"$build/install_client_static"

# The one-step route: Debian's numpy, pandas and scikit-learn (--system-site-packages),
# scikit-build-core from PyPI through pip's build isolation.
/usr/bin/python3 -m venv --system-site-packages "$build/pyvenv"
REEL_CUDA=${REEL_CUDA:-OFF} "$build/pyvenv/bin/pip" install -q ./python
"$build/pyvenv/bin/python" - <<'PY'
import os, reel, reel._lib as lib
inside = os.path.dirname(os.path.abspath(reel.__file__))
assert os.path.dirname(lib.path) == inside, f"reel loaded {lib.path}, not the package's own libreel"
print("check-install: the package loads its own", os.path.relpath(lib.path, inside))
PY
(cd "$build" && REEL_BINARY="$prefix/bin/reel" pyvenv/bin/python -m pytest -q -rs -p no:cacheprovider \
   "$OLDPWD/python/tests")

# The system-library route: no CMake step in pip, libreel from the install above.
/usr/bin/python3 -m venv --system-site-packages "$build/pyvenv-system"
SKBUILD_WHEEL_CMAKE=false "$build/pyvenv-system/bin/pip" install -q ./python
"$build/pyvenv-system/bin/python" - "$(pkg-config --variable=libdir reel)" <<'PY'
import os, sys, numpy as np, reel, reel._lib as lib
installed = os.path.realpath(sys.argv[1])
assert os.path.realpath(os.path.dirname(lib.path)) == installed, f"reel loaded {lib.path}, not the installed {installed}"
X, Y = np.arange(8.0).reshape(4, 2), np.array([[0, 1], [0, 1], [1, 0], [1, 1]])
P = reel.Classifier(model="prior").fit(X, Y).predict_proba(X)
assert P.shape == (4, 2) and ((P >= 0) & (P <= 1)).all(), P
print("check-install: the package without a library of its own uses", os.path.realpath(lib.path))
PY
