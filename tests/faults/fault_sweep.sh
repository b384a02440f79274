#!/usr/bin/env bash
# The fault suite (ctest: faults_*; the full sweep: scripts/fault-sweep.sh).
# Each case fails the Nth output step (open, write, sync, rename, stream:
# REEL_OUTFILE_FAULT=N, util/outfile.c) of a command, or signals it at a
# seeded random moment, or corrupts its journal/checkpoint, or races two
# runs on one destination; after each, the destination must hold the old
# or the new complete output, no temp file may be left, and a rerun must
# succeed. Prints "counts: ..." for the notes.
# usage: fault_sweep.sh REEL_BINARY CASE [SAMPLE]  (SAMPLE: at most this many
# fault points per command, seeded; 0 or none: every point)
set -uo pipefail
reel=$1 case=$2 sample=${3:-0} seed=${FAULT_SEED:-36}
dir=$(mktemp -d "${TMPDIR:-/tmp}/reel-faults.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL ($case): $*" >&2; exit 1; }
faults=0 signals=0 races=0 corruptions=0
awk 'BEGIN { s = 7; print "a,b,c,g,A,B,C"; for (i = 0; i < 300; i++) {
  s = (s * 1103515245 + 12345) % 2147483648; a = s % 100; s = (s * 1103515245 + 12345) % 2147483648; b = s % 100;
  print a "," b "," (a + b) % 7 "," ((a % 3) ? "x" : "y") "," (a > 55) "," (b > 40) "," ((a + b) % 2) } }' > d.csv
data=(--data d.csv --labels A,B,C --quiet)
echo '{"max_depth": [2, 4], "min_samples_leaf": [1, 5]}' > grid.json
echo '{"box": {"epochs": 3, "width": 8, "ensemble": 1}}' > box.json
untimed() { sed -E 's/"[a-z_]*seconds[a-z_]*":[[:space:]]*[-0-9.e+]*//g' "$1"; }
# complete DEST REF: DEST is a whole output of the kind REF is
complete() {
  local d=$1 r=$2
  if [ -d "$r" ]; then
    [ -d "$d" ] && [ "$(ls "$d")" = "$(ls "$r")" ] || return 1
    for f in "$r"/*; do complete "$d/${f##*/}" "$f" || return 1; done
  elif [[ $r == *.json ]]; then
    cmp -s <(untimed "$d") <(untimed "$r")
  elif [[ $r == *.st ]]; then
    "$reel" export --model-file "$d" --format json --out check.json >/dev/null 2>&1 &&
      "$reel" export --model-file "$r" --format json --out refcheck.json >/dev/null 2>&1 &&
      cmp -s <(untimed check.json) <(untimed refcheck.json)
  else
    cmp -s "$d" "$r"
  fi
}
same_as() { if [ -d "$2" ]; then diff -r "$1" "$2" >/dev/null 2>&1; else cmp -s "$1" "$2"; fi; }
no_temps() { ! ls -A . | grep -Eq '\.reel-(tmp|stage)|\.tmp\.' || fail "$1: temp files left: $(ls -A . | tr '\n' ' ')"; }
restore() { rm -rf "$dest"; [ ! -e "old.$dest" ] || cp -r "old.$dest" "$dest"; }
# the fault points of one command, all or a seeded sample (first and last kept)
points() {
  local n=$1
  if [ "$sample" -le 0 ] || [ "$n" -le "$sample" ]; then seq 1 "$n"
  else { echo 1; echo "$n"; seq 2 $((n - 1)) | awk -v s="$seed" 'BEGIN { srand(s) } { print rand() "\t" $0 }' |
         sort -n | head -n $((sample - 2)) | cut -f2; } | sort -n; fi
}
# sweep NAME DEST CMD...: old output in old.DEST (may be absent), new in new.DEST
sweep() {
  local name=$1; dest=$2; shift 2
  rm -rf "$dest"; "$@" >/dev/null 2>&1 || fail "$name: the clean run"; cp -r "$dest" "new.$dest"
  local total; total=$(count_steps "$@")
  [ "$total" -ge 3 ] || fail "$name: only $total output steps seen"
  echo "$name: $total output steps" >&2
  for n in $(points "$total"); do
    restore; rm -f log
    REEL_OUTFILE_FAULT=$n${errtype:-} REEL_OUTFILE_FAULT_LOG=log "$@" >out.txt 2>err.txt; rc=$?
    [ $rc -lt 128 ] || fail "$name: fault $n: died by signal $((rc - 128))"
    [ -s log ] || fail "$name: fault $n of $total did not fire"
    faults=$((faults + 1))
    [ $rc != 0 ] || complete "$dest" "new.$dest" || fail "$name: fault $n ($(cat log)): exit 0 but the output is not whole"
    if [ -e "old.$dest" ] && same_as "$dest" "old.$dest"; then :
    elif [ ! -e "old.$dest" ] && [ ! -e "$dest" ]; then :
    elif [ -n "${partial_ok:-}" ]; then :
    else complete "$dest" "new.$dest" || fail "$name: fault $n ($(cat log)): neither the old nor the new output"; fi
    [ $rc = 0 ] || [ -s err.txt ] || fail "$name: fault $n: failed without a message"
    no_temps "$name: fault $n"
    "$@" ${rerun_extra:-} >/dev/null 2>err.txt || fail "$name: the rerun after fault $n: $(cat err.txt)"
    ${rerun_check:-complete "$dest" "new.$dest"} || fail "$name: the rerun after fault $n wrote another output"
  done
}
# the number of output steps of a clean run (one step per fault() call)
count_steps() {
  local lo=1 hi=1
  while :; do restore; rm -f log; REEL_OUTFILE_FAULT=$hi REEL_OUTFILE_FAULT_LOG=log "$@" >/dev/null 2>&1
    [ -s log ] || break; lo=$hi; hi=$((hi * 2)); done
  while [ $((hi - lo)) -gt 1 ]; do m=$(((lo + hi) / 2)); restore; rm -f log
    REEL_OUTFILE_FAULT=$m REEL_OUTFILE_FAULT_LOG=log "$@" >/dev/null 2>&1
    if [ -s log ]; then lo=$m; else hi=$m; fi; done
  echo "$lo"
}
# a search resumed into r gives the uninterrupted search's result, its rounds too
resumed_whole() {
  local ok=0
  cmp -s <(untimed r/search.json) <(untimed full/search.json) && ok=1
  rm -rf r; [ $ok = 1 ]
}
tree=("$reel" train --model tree "${data[@]}" --seed 3)
old_tree=("$reel" train --model tree "${data[@]}" --seed 4)

case $case in
save)
  "${old_tree[@]}" --save old.m.st >/dev/null || fail "old"
  sweep save m.st "${tree[@]}" --save m.st
  errtype=:EIO sweep save-eio m.st "${tree[@]}" --save m.st
  ;;
out)
  "${old_tree[@]}" --out old.o >/dev/null || fail "old"
  sweep out o "${tree[@]}" --out o
  ;;
export)
  "${tree[@]}" --save a.st >/dev/null && "${old_tree[@]}" --save b.st >/dev/null || fail "models"
  "$reel" export --model-file b.st --format onnx --out old.m.onnx >/dev/null || fail "old"
  sweep export m.onnx "$reel" export --model-file a.st --format onnx --out m.onnx
  sweep export-json m.json "$reel" export --model-file a.st --format json --out m.json
  ;;
journal)
  # the journal is rewritten after each trial: any of its versions is whole
  # (its trials are checked on --resume: the rerun resumes from it)
  s=("$reel" search --model tree "${data[@]}" --seed 3 --folds 2 --strategy grid --grid grid.json)
  "${s[@]}" --out full >/dev/null || fail "full"
  rerun_extra="--resume --out r" rerun_check=resumed_whole partial_ok=1 sweep journal j.json "${s[@]}" --journal j.json
  ;;
checkpoint)
  # no old checkpoint: a faulted run leaves none or a whole one, and the
  # rerun resumes from it to the same model as a clean run
  b=("$reel" train --model box "${data[@]}" --seed 3 --params box.json --device cpu --threads 1)
  "${b[@]}" --save ref.st >/dev/null || fail "reference"
  rerun_check="complete m.st ref.st" partial_ok=1 sweep checkpoint c.ckpt "${b[@]}" --checkpoint c.ckpt --save m.st
  ;;
signals)
  # SIGINT, SIGTERM, SIGHUP at seeded random moments; job control (set -m)
  # so the background runs do not start with SIGINT ignored
  set -m
  "${old_tree[@]}" --out old.o >/dev/null || fail "old"
  "${tree[@]}" --out new.o >/dev/null || fail "new"
  s=("$reel" search --model tree "${data[@]}" --seed 3 --folds 2 --strategy grid --grid grid.json)
  "${s[@]}" --out full >/dev/null || fail "full search"
  k=${sample:-0}; [ "$k" -gt 0 ] || k=30
  RANDOM=$seed
  for i in $(seq 1 "$k"); do
    sig=$(( RANDOM % 3 )); sig=$([ $sig = 0 ] && echo INT || { [ $sig = 1 ] && echo TERM || echo HUP; })
    delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", (r % 400) / 1000 }')
    rm -rf o; cp -r old.o o
    "${tree[@]}" --out o >/dev/null 2>err.txt & pid=$!
    sleep "$delay"; kill -s "$sig" "$pid" 2>/dev/null; signals=$((signals + 1))
    wait "$pid"; rc=$?
    [ $rc = 0 ] || [ $rc = 130 ] || [ $rc = 143 ] || [ $rc = 129 ] || [ $rc -lt 128 ] ||
      fail "train --out: SIG$sig after ${delay}s: exit $rc"
    same_as o old.o || complete o new.o || fail "train --out: SIG$sig after ${delay}s: neither old nor new"
    no_temps "SIG$sig"
    # a search stopped by a signal resumes from its journal to the full result
    rm -f j.json; rm -rf r
    "${s[@]}" --journal j.json >/dev/null 2>&1 & pid=$!
    sleep "$delay"; kill -s "$sig" "$pid" 2>/dev/null; signals=$((signals + 1)); wait "$pid"
    "${s[@]}" --journal j.json --resume --out r >/dev/null 2>err.txt || fail "resume after SIG$sig: $(cat err.txt)"
    resumed_whole || fail "resume after SIG$sig ${delay}s: another result"
  done
  ;;
corrupt)
  # a damaged journal or checkpoint: refused naming the file, or taken
  # when the damage leaves it whole; never a crash or another result
  s=("$reel" search --model tree "${data[@]}" --seed 3 --folds 2 --strategy grid --grid grid.json)
  "${s[@]}" --journal good.json --out full >/dev/null || fail "journal"
  b=("$reel" train --model box "${data[@]}" --seed 3 --params box.json --device cpu --threads 1)
  "${b[@]}" --checkpoint good.ckpt --save ref.st >/dev/null || fail "checkpoint"
  k=${sample:-0}; [ "$k" -gt 0 ] || k=40
  RANDOM=$seed
  for i in $(seq 1 "$k"); do
    for f in json ckpt; do
      size=$(stat -c %s "good.$f"); at=$(( (RANDOM * 32768 + RANDOM) % size ))
      cp "good.$f" "bad.$f"
      if [ $((i % 3)) = 0 ]; then truncate -s "$at" "bad.$f"; what="cut at $at"
      else printf "\\x$(printf %02x $(( (RANDOM % 255) + 1 )))" | dd of="bad.$f" bs=1 seek="$at" conv=notrunc 2>/dev/null
        what="byte $at changed"; fi
      corruptions=$((corruptions + 1)); rm -rf r
      if [ $f = json ]; then "${s[@]}" --journal bad.json --resume --out r >/dev/null 2>err.txt; rc=$?
      else "${b[@]}" --checkpoint bad.ckpt --save r.st >/dev/null 2>err.txt; rc=$?; fi
      [ $rc -lt 128 ] || fail "$f $what: died by signal $((rc - 128))"
      if [ $rc = 0 ]; then
        if [ $f = json ]; then resumed_whole || fail "journal $what: taken, and another result"
        else complete r.st ref.st || fail "checkpoint $what: taken, and another model"; fi
      else grep -q "bad.$f" err.txt || fail "$f $what: refused without naming the file: $(cat err.txt)"; fi
    done
  done
  ;;
special)
  # special files and symlinks as destinations
  "${tree[@]}" --save ref.st >/dev/null || fail "reference"
  mkfifo fifo
  timeout -s KILL 30 "${tree[@]}" --save fifo >/dev/null 2>err.txt; rc=$?
  [ $rc != 137 ] || fail "--save FIFO hung"; [ $rc != 0 ] && [ $rc -lt 128 ] || fail "--save FIFO: exit $rc"
  grep -q fifo err.txt || fail "--save FIFO: no message naming it: $(cat err.txt)"
  mkdir real && ln -s real/m.st link.st
  "${tree[@]}" --save link.st >/dev/null 2>err.txt || fail "--save through a symlink: $(cat err.txt)"
  [ -L link.st ] && complete real/m.st ref.st || fail "--save LINK did not write the link's target"
  # --out LINK: the folder it leads to is written (twice: new, then
  # replaced) and the link kept; a folder reel may not replace is refused
  # naming the link; no stage folder is left beside either
  mkdir outreal && ln -s outreal olink
  for k in 1 2; do
    "${tree[@]}" --out olink >/dev/null 2>err.txt || fail "--out LINK ($k): $(cat err.txt)"
    [ -L olink ] && [ "$(readlink olink)" = outreal ] || fail "--out LINK replaced the link ($k)"
    [ -s outreal/metrics.json ] || fail "--out LINK did not write the link's folder ($k)"
    no_temps "--out LINK ($k)"
  done
  ln -s real rlink
  "${tree[@]}" --out rlink >/dev/null 2>err.txt && fail "--out LINK to a folder holding m.st was taken"
  grep -q "rlink holds 'm.st'" err.txt || fail "--out LINK refused without naming it: $(cat err.txt)"
  [ -L rlink ] && [ -f real/m.st ] || fail "the refused --out LINK was changed"
  no_temps "--out LINK refused"
  timeout -s KILL 30 "${tree[@]}" --save /dev/null >/dev/null 2>err.txt; rc=$?
  [ $rc -lt 128 ] || fail "--save /dev/null: exit $rc"
  [ -c /dev/null ] || fail "/dev/null replaced"
  corruptions=0
  ;;
races)
  # runs at once on one destination: each ends whole (the last rename wins)
  "${tree[@]}" --save ref.st --out ref.o >/dev/null || fail "reference"
  k=${sample:-0}; [ "$k" -gt 0 ] || k=20
  for i in $(seq 1 "$k"); do
    pids=()
    for j in 1 2 3; do "${tree[@]}" --save m.st --out o >/dev/null 2>"err$j.txt" & pids+=($!); done
    ok=0; for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
    races=$((races + 1))
    [ $ok -ge 1 ] || fail "race $i: every run failed: $(cat err1.txt)"
    complete m.st ref.st || fail "race $i: m.st is not whole"
    complete o ref.o || fail "race $i: o is not whole"
    no_temps "race $i"
  done
  ;;
malloc)
  # the Nth allocation of reel's own code fails (FAILMALLOC: the shim
  # tests/faults/failmalloc.c builds, build/tests/libreel_failmalloc.so):
  # a clean "out of memory" and exit 1, or a success with the same model,
  # never a crash, and no temp file.
  shim=$(cd "$OLDPWD" && realpath "${FAILMALLOC:?FAILMALLOC=path of libreel_failmalloc.so}") || fail "no shim"
  "${tree[@]}" --save ref.st >/dev/null || fail "reference"
  REEL_FAIL_MALLOC=0 REEL_FAIL_MALLOC_LOG=count.txt LD_PRELOAD=$shim "${tree[@]}" --save m.st >/dev/null ||
    fail "counting run"
  total=$(awk '{ print $2 }' count.txt)
  [ "$total" -gt 0 ] || fail "no allocation counted"
  for n in $(points "$total"); do
    rm -f m.st fired.txt
    timeout 60 env REEL_FAIL_MALLOC=$n LD_PRELOAD="$shim" "${tree[@]}" --save m.st \
      >/dev/null 2>err.txt; rc=$?
    faults=$((faults + 1))
    [ $rc -lt 124 ] || fail "allocation $n of $total: exit $rc (a crash or a hang)"
    if [ $rc = 0 ]; then complete m.st ref.st || fail "allocation $n of $total: exit 0 but another model"
    else grep -Eq "out of memory|Cannot allocate memory" err.txt ||
        fail "allocation $n of $total: exit $rc, not 'out of memory': $(cat err.txt)"
      [ ! -e m.st ] || fail "allocation $n of $total: failed but wrote m.st"; fi
    no_temps "allocation $n"
  done
  ;;
*) fail "unknown case" ;;
esac
echo "counts: faults $faults, signals $signals, races $races, corruptions $corruptions; all held"
echo "ok: $case"
