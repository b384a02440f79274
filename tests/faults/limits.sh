#!/usr/bin/env bash
# Resource limits (ctest: limits_*): a limit too small ends in a clear
# message and a non-zero exit within seconds, never a hang or a crash.
# usage: limits.sh REEL_BINARY CASE
set -uo pipefail
reel=$1 case=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/reel-limits.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL ($case): $*" >&2; exit 1; }
awk 'BEGIN { s = 7; print "a,b,c,A,B"; for (i = 0; i < 300; i++) {
  s = (s * 1103515245 + 12345) % 2147483648; a = s % 100; s = (s * 1103515245 + 12345) % 2147483648; b = s % 100;
  print a "," b "," (a + b) % 7 "," (a > 55) "," (b > 40) } }' > d.csv
# runs "$@" under the limit (ulimit args in $lim), killed after 20 s
limited() { ( ulimit $lim; exec timeout -s KILL 20 "$@" ) >out.txt 2>err.txt; }
expect_refused() { # what the message says
  local rc=$1 what=$2
  [ "$rc" = 137 ] && fail "it hung (killed after 20 s)"
  [ "$rc" -ge 128 ] && fail "it died by signal $((rc - 128))"
  [ "$rc" != 0 ] || fail "exit 0 under the limit"
  grep -q "$what" err.txt || { cat err.txt >&2; fail "no message saying '$what'"; }
}
case $case in
address_space)
  # OpenBLAS retried a failed buffer mmap forever (info at exit, ridge in dgemm)
  lim="-v 120000"; limited "$reel" info; expect_refused $? "out of memory: the address-space limit (ulimit -v)"
  lim="-v 200000"; OPENBLAS_NUM_THREADS=1 limited "$reel" train --model ridge --data d.csv --labels A,B --quiet
  expect_refused $? "out of memory: the address-space limit (ulimit -v)"
  lim="-v 300000"; limited "$reel" train --model ridge --data d.csv --labels A,B --quiet
  expect_refused $? "out of memory: the address-space limit (ulimit -v)"
  lim="-v 1000000"; limited "$reel" train --model ridge --data d.csv --labels A,B --quiet ||
    fail "ridge under 1 GB: exit $? ($(tail -1 err.txt))"
  ;;
stack)
  # PoCL's device probe overflowed a 64 KiB stack
  for s in 64 96; do
    lim="-s $s"; limited "$reel" info; expect_refused $? "the stack limit (ulimit -s) is $s KiB"
  done
  ;;
*) fail "unknown case" ;;
esac
echo "ok: $case"
