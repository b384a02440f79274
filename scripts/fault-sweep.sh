#!/usr/bin/env bash
# The fault suite's full sweep (CI runs a seeded sample: ctest -R faults_):
# every output step of save, --out, export, journal and checkpoint failed
# in turn, 30 signals, 40 corruptions of each kind, 20 races, and every
# allocation of a tree's train --save failed in turn (FAILMALLOC: the shim,
# default build/tests/libreel_failmalloc.so).
# usage: scripts/fault-sweep.sh [REEL_BINARY]   (default: build/reel)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
reel=$(realpath "${1:-$here/build/reel}")
rc=0
export FAILMALLOC=${FAILMALLOC:-$here/build/tests/libreel_failmalloc.so}
for c in save out export journal checkpoint signals corrupt special races malloc; do
  "$here/tests/faults/fault_sweep.sh" "$reel" "$c" 0 2>&1 | grep -E '^(counts|ok|FAIL)' | sed "s/^/$c: /" || rc=1
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
done
exit $rc
