#!/usr/bin/env bash
# The benchmark suite in one command (bench/suite.py says what it runs):
# makes bench/.venv (Debian's python3 with its numpy/scikit-learn, plus
# LightGBM from PyPI, for the benchmark only), fetches the movies and the
# Yeast data, builds reel when build/reel is missing, then runs the suite.
#   bench/suite.sh [suite.py options, e.g. --holdout --threads 2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/bench/.venv
LIGHTGBM=4.7.0
if [[ ! -x $venv/bin/python ]]; then
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import lightgbm" 2>/dev/null ||
    "$venv/bin/python" -m pip install -q "lightgbm==$LIGHTGBM"
"$root/data/fetch_movies.sh" >/dev/null
"$root/bench/fetch_yeast.sh" >/dev/null
if [[ ! -x $root/build/reel ]]; then
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$root/build" -j2 --target reel >/dev/null
fi
exec "$venv/bin/python" "$root/bench/suite.py" "$@"
