#!/usr/bin/env bash
# MPI tests (ctest: mpi_*): `mpirun -np 3 reel ...` gives the same outputs as
# one process, a killed or failing rank stops the job with one message and
# no outputs, and a stopped search resumes from its journal.
# usage: mpi_test.sh REEL_BINARY MPIEXEC CASE (case resume needs no MPI)
set -uo pipefail
reel=$1 mpiexec=$2 case=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
dir=$(mktemp -d "${TMPDIR:-/tmp}/reel-mpi.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL ($case): $*" >&2; exit 1; }
mpi() { "$mpiexec" --oversubscribe -np 3 "$reel" "$@"; }

# 600 rows: a and b drive the labels, c is noise, g a text column.
awk 'BEGIN { s = 7; print "a,b,c,g,A,B,C";
  for (i = 0; i < 600; i++) {
    s = (s * 1103515245 + 12345) % 2147483648; a = s % 100;
    s = (s * 1103515245 + 12345) % 2147483648; b = s % 100;
    s = (s * 1103515245 + 12345) % 2147483648; c = s % 100;
    g = (a + c) % 3 == 0 ? "x" : ((a + c) % 3 == 1 ? "y" : "z");
    print a "," b "," c "," g "," (a > 55) "," (b > 40 || a < 20) "," ((a + b) % 2) } }' > d.csv
data=(--data d.csv --labels A,B,C --seed 3 --quiet)
echo '{"max_depth": [2, 4, null], "min_samples_leaf": [1, 5]}' > grid.json
# Timings differ run to run, and so do how many nets trained in one launch
# (each rank trains its share); everything else must be the same bits, a
# resumed search's rounds too.
untimed() { sed -E 's/"(seconds|fit_seconds|predict_seconds|nets_per_launch)":[[:space:]]*[-0-9.e+]*//g' "$1"; }
same() { cmp -s <(untimed "$1") <(untimed "$2") || { diff <(untimed "$1") <(untimed "$2") | head -20 >&2; fail "$1 and $2 differ"; }; }
# timings: the JSON's seconds, the history's last column, the reports' fit s and predict s
timeless() {
  case $1 in
  *.json) untimed "$1" ;;
  *history_*.csv) sed -E 's/,[^,]*$//' "$1" ;;
  *.md) sed -E 's/\| [0-9]+\.[0-9]{3} \| [0-9]+\.[0-9]{3} \|/| s | s |/' "$1" ;;
  *.html) sed -E 's#<td class="num">[0-9]+\.[0-9]{3}</td><td class="num">[0-9]+\.[0-9]{3}</td>#s s#' "$1" ;;
  *) cat "$1" ;;
  esac
}

case $case in
info)
  out=$(mpi info) || fail "reel info under mpirun"
  grep -q "mpi: built in .*3 ranks under mpirun" <<<"$out" || fail "info does not say 3 ranks: $out"
  [ "$(grep -c '^reel ' <<<"$out")" = 1 ] || fail "more than rank 0 printed: $out"
  ;;
search)
  "$reel" search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --out one >one.txt || fail "one process"
  mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --out three >three.txt || fail "mpirun"
  same one/search.json three/search.json
  cmp -s one/best_params.json three/best_params.json || fail "best_params.json differ"
  [ "$(grep -c '"score"' three/search.json)" -ge 7 ] || fail "too few trials in search.json"
  ;;
select)
  "$reel" select --model tree "${data[@]}" --folds 2 --out one >/dev/null || fail "one process"
  mpi select --model tree "${data[@]}" --folds 2 --out three >/dev/null || fail "mpirun"
  same one/selection.json three/selection.json
  ;;
compare)
  m=--models=tree,forest,knn,ridge,prior,random
  "$reel" compare "${data[@]}" $m --tune-thresholds per-label --out one >/dev/null || fail "one process"
  mpi compare "${data[@]}" $m --tune-thresholds per-label --out three >/dev/null || fail "mpirun"
  same one/metrics.json three/metrics.json
  for f in one/predictions_*.csv; do cmp -s "$f" "three/${f#one/}" || fail "$f differs"; done
  [ -f three/report.html ] || fail "no report"
  ;;
compare_all)
  # every file compare writes, and its --format json, under the default rule
  # (auto: what it tried travels) with a net (the epoch whose weights it
  # kept travels): the same at 1 and 3 ranks, timings aside. Each run sits
  # in its own folder so that the command line in the reports is the same.
  echo '{"box": {"epochs": 4, "width": 8, "ensemble": 1}}' > np.json
  c=(compare --data ../d.csv --labels A,B,C --seed 3 --quiet --models=tree,knn,ridge,prior,box --params ../np.json
     --device cpu --format json --out out)
  mkdir one three
  (cd one && "$reel" "${c[@]}" >stdout.json) || fail "one process"
  (cd three && mpi "${c[@]}" >stdout.json) || fail "mpirun"
  grep -q '"auto_valid_samples_f1"' one/out/metrics.json || fail "one process wrote no auto_valid_samples_f1"
  grep -q 'weights of epoch' one/out/report.html || fail "one process's report has no kept epoch"
  [ "$(cd one && find . -type f | sort)" = "$(cd three && find . -type f | sort)" ] ||
    fail "other files: $(cd one && find . -type f | sort) against $(cd three && find . -type f | sort)"
  for f in $(cd one && find . -type f | sort); do
    cmp -s <(timeless "one/$f") <(timeless "three/$f") ||
      { diff <(timeless "one/$f") <(timeless "three/$f") | head -20 >&2; fail "$f differs at 1 and 3 ranks"; }
  done
  ;;
compare_classes)
  # a multiclass (g: x, y, z) and a binary (A: 0, 1) target: every file
  # compare writes the same at 1 and 3 ranks, timings aside
  echo '{"box": {"epochs": 4, "width": 8, "ensemble": 1}}' > np.json
  for t in g A; do
    c=(compare --data ../d.csv --target $t --seed 3 --quiet --models=tree,forest,knn,ridge,prior,random,box
       --params ../np.json --device cpu --out out)
    mkdir one_$t three_$t
    (cd one_$t && "$reel" "${c[@]}" >stdout.txt) || fail "one process, --target $t"
    (cd three_$t && mpi "${c[@]}" >stdout.txt) || fail "mpirun, --target $t"
    grep -q '"accuracy"' one_$t/out/metrics.json || fail "no accuracy for --target $t"
    grep -q 'Target: ' one_$t/out/report.md || fail "the report does not state the target $t"
    [ "$(cd one_$t && find out -type f | sort)" = "$(cd three_$t && find out -type f | sort)" ] || fail "other files, --target $t"
    for f in $(cd one_$t && find out -type f | sort); do
      cmp -s <(timeless "one_$t/$f") <(timeless "three_$t/$f") ||
        { diff <(timeless "one_$t/$f") <(timeless "three_$t/$f") | head -20 >&2; fail "$f differs at 1 and 3 ranks, --target $t"; }
    done
  done
  ;;
nets)
  # nets on OpenCL (PoCL in CI): each rank trains its share of a round in one launch
  "$reel" info | grep -q '^opencl: opencl:0' || { echo "SKIPPED: no OpenCL device"; exit 77; }
  echo '{"lr": [0.003, 0.03], "batch_size": [16, 40]}' > ngrid.json
  # the original box's layers (8 x 8 here), written out: a test of the ranks' launches, not of the defaults
  r='{"width": 8, "activation": "relu"}'
  echo "{\"box\": {\"epochs\": 3, \"ensemble\": 1, \"layers\": [$r, $r, $r, $r, $r, $r, $r, $r]}}" > np.json
  n=(--model box "${data[@]}" --device opencl --folds 3 --grid ngrid.json --params np.json)
  "$reel" search "${n[@]}" --out one >/dev/null || fail "one process"
  mpi search "${n[@]}" --out three >/dev/null || fail "mpirun"
  same one/search.json three/search.json
  /usr/bin/env python3 - one/search.json three/search.json <<'PY' || fail "nets per launch"
import json, sys
one, three = (json.load(open(f))["rounds"] for f in sys.argv[1:])
assert len(one) == len(three) == 4, (one, three)
for a, b in zip(one, three):
    # one process: every fit of the round in one launch; 3 ranks: a third each
    assert a["nets_per_launch"] == a["fits"] == b["fits"], (a, b)
    assert 0 < b["nets_per_launch"] <= -(-b["fits"] // 3) or b["fits"] < 3, (a, b)
PY
  ;;
forest)
  p='{"forest": {"n_estimators": 25, "max_depth": 6}}'
  echo "$p" > p.json
  "$reel" train --model forest "${data[@]}" --params p.json --save one.safetensors >/dev/null || fail "one process"
  mpi train --model forest "${data[@]}" --params p.json --save three.safetensors >/dev/null || fail "mpirun"
  "$reel" export --model-file one.safetensors --format json --out one.json || fail "export"
  "$reel" export --model-file three.safetensors --format json --out three.json || fail "export"
  same one.json three.json
  grep -q '"tree_nodes"' three.json || fail "no trees in the model file"
  ;;
killed)
  REEL_DIST_FAULT=kill:1 mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json \
    --out out >out.txt 2>err.txt && fail "a killed rank did not stop the job"
  grep -Eq "^reel: rank 1 \(pid [0-9]+\) died while working on trial [0-9]+ .*, fold [0-9]+; the job is stopped and nothing was written" err.txt ||
    { cat err.txt >&2; fail "no message naming rank 1 and its item"; }
  [ ! -e out ] || fail "outputs were written: $(ls out)"
  ;;
killed_select)
  # select's items read as what they compute
  REEL_DIST_FAULT=kill:1 mpi select --model tree "${data[@]}" --folds 2 --out out >out.txt 2>err.txt &&
    fail "a killed rank did not stop the job"
  grep -Eq "^reel: rank 1 \(pid [0-9]+\) died while working on the score with(out feature '[a-z]+'| every feature| the kept features), fold [12]( and the score with(out feature '[a-z]+'| every feature| the kept features), fold [12])*; the job is stopped and nothing was written" err.txt ||
    { cat err.txt >&2; fail "no message saying what rank 1 was doing"; }
  REEL_DIST_FAULT=fail:2 mpi select --model tree "${data[@]}" --folds 2 --out out >out.txt 2>err.txt &&
    fail "a failing rank did not stop the job"
  grep -Eq "^reel select: rank 2, the score with.*, fold [12]: injected failure" err.txt ||
    { cat err.txt >&2; fail "no message naming rank 2 and its item"; }
  [ ! -e out ] || fail "outputs were written: $(ls out)"
  ;;
alone)
  # rank 2 alone fails (its data is missing) while the others wait on it:
  # its own message is printed, once, naming it, and the job stops
  s=(search --model tree --labels A,B,C --quiet --seed 3 --folds 2 --strategy grid --grid grid.json --out out)
  timeout 60 "$mpiexec" --oversubscribe -np 2 "$reel" "${s[@]}" --data d.csv : -np 1 "$reel" "${s[@]}" --data gone.csv \
    >out.txt 2>err.txt && fail "a rank that failed alone did not stop the job"
  grep -Eq "^reel: rank 2 stopped with an error of its own: reel search: gone.csv: cannot open: No such file or directory; the job is stopped and nothing was written$" err.txt ||
    { cat err.txt >&2; fail "rank 2's own message is not printed"; }
  [ "$(grep -c 'gone.csv' err.txt)" = 1 ] || { cat err.txt >&2; fail "the message is not printed once"; }
  ! grep -q "stopped by mpirun" err.txt || { cat err.txt >&2; fail "a wrong cause is given"; }
  [ ! -e out ] || fail "outputs were written"
  ;;
failed)
  REEL_DIST_FAULT=fail:2 mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json \
    --out out >out.txt 2>err.txt && fail "a failing rank did not stop the job"
  grep -Eq "^reel search: rank 2, trial [0-9]+ .*fold [0-9]+: injected failure" err.txt ||
    { cat err.txt >&2; fail "no message naming rank 2 and its item"; }
  [ "$(grep -c 'injected failure' err.txt)" = 1 ] || fail "the message is not printed once"
  [ ! -e out ] || fail "outputs were written"
  ;;
resume)
  # no MPI: a search of part of the grid, then the whole grid resumed from its journal
  "$reel" search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --out full >/dev/null || fail "full run"
  echo '{"max_depth": [2, null], "min_samples_leaf": [1]}' > part.json
  "$reel" search --model tree "${data[@]}" --folds 3 --strategy grid --grid part.json --journal j.json >/dev/null ||
    fail "partial run"
  [ "$(grep -c '"score"' j.json)" = 3 ] || fail "the journal does not hold the 3 trials run"
  "$reel" search --model tree --data d.csv --labels A,B,C --seed 3 --folds 3 --strategy grid --grid grid.json \
    --journal j.json --resume --out resumed >/dev/null 2>err.txt || fail "resumed run"
  grep -q "resuming: 3 finished trials in j.json" err.txt || fail "no resume note: $(cat err.txt)"
  same full/search.json resumed/search.json
  [ "$(grep -c '"score"' j.json)" = 7 ] || fail "the journal does not hold every trial"
  "$reel" search --model tree "${data[@]}" --folds 2 --strategy grid --grid grid.json --journal j.json --resume \
    >/dev/null 2>err.txt && fail "a journal of another search was taken"
  grep -q "holds another search (its folds differs)" err.txt || fail "no message naming folds: $(cat err.txt)"
  ;;
resumed)
  # a job stopped by a killed rank, run again with --resume under mpirun
  "$reel" search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --out full >/dev/null || fail "full run"
  echo '{"max_depth": [2, null], "min_samples_leaf": [1]}' > part.json
  mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid part.json --journal j.json >/dev/null ||
    fail "partial run"
  REEL_DIST_FAULT=kill:1 mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json \
    --journal j.json --resume --out out >/dev/null 2>&1 && fail "a killed rank did not stop the job"
  [ ! -e out ] || fail "the killed job wrote outputs"
  n=$(grep -c '"score"' j.json)
  [ "$n" -ge 3 ] || fail "the journal lost trials ($n)"
  mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --journal j.json --resume \
    --out resumed >/dev/null || fail "resumed run"
  same full/search.json resumed/search.json
  [ "$(grep -c '"score"' j.json)" = 7 ] || fail "the journal does not hold every trial"
  ;;
late)
  # a rank that reads late (REEL_DIST_FAULT=late:2: 3 s, as a slow disk)
  # while the others journal trials: rank 0 reads the journal for all
  "$reel" search --model tree "${data[@]}" --folds 3 --strategy grid --grid grid.json --out full >/dev/null || fail "full run"
  echo '{"max_depth": [2, null], "min_samples_leaf": [1]}' > part.json
  mpi search --model tree "${data[@]}" --folds 3 --strategy grid --grid part.json --journal j.json >/dev/null ||
    fail "partial run"
  REEL_DIST_FAULT=late:2 timeout 90 "$mpiexec" --oversubscribe -np 3 "$reel" search --model tree "${data[@]}" \
    --folds 3 --strategy grid --grid grid.json --journal j.json --resume --out resumed >/dev/null 2>err.txt
  rc=$?
  [ $rc = 0 ] || { cat err.txt >&2; fail "the resumed job with a late rank failed or hung (exit $rc; 124: timeout)"; }
  same full/search.json resumed/search.json
  [ "$(grep -c '"score"' j.json)" = 7 ] || fail "the journal does not hold every trial"
  ;;
mismatch)
  # mpirun's MPMD form: rank 2 runs another task, refused naming it
  s=(search --model tree --data d.csv --labels A,B,C --quiet --folds 2 --strategy grid --grid grid.json)
  mpmd() { "$mpiexec" --oversubscribe -np 2 "$reel" "${s[@]}" --seed 3 --out out : -np 1 "$reel" "$@" --out out; }
  check() { # what rank 2 differs in, then its command
    local what=$1; shift
    mpmd "$@" >/dev/null 2>err.txt && fail "rank 2 with another $what was accepted"
    grep -q "^reel search: rank 2 runs another task than rank 0: its $what[. ]" err.txt ||
      { cat err.txt >&2; fail "no message naming rank 2 and its $what"; }
    [ ! -e out ] || fail "outputs were written"
  }
  check seed "${s[@]}" --seed 4
  awk -F, 'NR == 5 { $3 = $3 + 1 } { print }' OFS=, d.csv > moved.csv
  check content.data "${s[@]/d.csv/moved.csv}" --seed 3
  echo '{"min_samples_leaf": [1, 5], "max_depth": [2, 4, null]}' > reordered.json
  check options.grid "${s[@]/grid.json/reordered.json}" --seed 3
  # the same contents under another path is the same task
  cp d.csv copy.csv
  "$reel" "${s[@]}" --seed 3 --out one >/dev/null || fail "one process"
  mpmd "${s[@]/d.csv/copy.csv}" --seed 3 >/dev/null 2>err.txt || { cat err.txt >&2; fail "a copy of the data refused"; }
  same one/search.json out/search.json
  ;;
*) fail "unknown case" ;;
esac
echo "ok: $case"
