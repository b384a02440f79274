#!/usr/bin/env bash
# valgrind memcheck over `reel compare` (every default model, nets for 2 epochs)
# on a small CSV written here. Exits non-zero on any invalid access or leak.
# Uses a CPU-only build (the CUDA runtime's own allocations are not ours).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "memcheck.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cmake -S . -B build-memcheck -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_CUDA=OFF -DREEL_TESTS=OFF >/dev/null
cmake --build build-memcheck -j "$(nproc)" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/small.csv" <<'PY'
import random, sys
random.seed(2)
with open(sys.argv[1], "w") as f:
    f.write("id,a,b,kind,A,B,C\n")
    for i in range(150):
        a, b = random.random() * 10, random.random() * 5
        k = random.choice(["x", "y", "", "z"])
        A, B = int(a > 5), int(b > 2)
        f.write(f"r{i},{a:.3f},{b:.3f},{k},{A},{B},{int(not (A or B) or a + b > 9)}\n")
PY
echo '{"box": {"epochs": 2}, "u": {"epochs": 2}, "forest": {"n_estimators": 5}}' > "$tmp/p.json"
valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=9 ./build-memcheck/reel compare --data "$tmp/small.csv" --labels A,B,C --id id \
  --params "$tmp/p.json" --out "$tmp/out" --threads 1 --quiet 2>&1 | grep -E "ERROR SUMMARY|lost:|Invalid"
echo "memcheck.sh: clean"
