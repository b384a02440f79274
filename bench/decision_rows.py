#!/usr/bin/env python3
"""The classical models' decision rule chosen on the validation rows or on
out-of-fold rows (issue 33, --decision-rows oof): the same splits as
bench/suite.py, `reel compare --models tree,forest,knn,ridge` with and
without --decision-rows oof, one thread, samples-F1 under --decision auto.
Results are cached per (data set, seed, rows) under bench/out/decision_rows/;
prints the means.

  bench/.venv/bin/python bench/decision_rows.py [--datasets movies-3k,yeast,synth] [--seeds 42,1,2]
                                                [--models tree,forest,knn,ridge] [--threads 1]

Never run it on the held-out sets (bench/suite.py's HELD_OUT): it refuses.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import suite  # noqa: E402

OUT = os.path.join(HERE, "out", "decision_rows")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="movies-3k,yeast,synth")
    ap.add_argument("--seeds", default="42,1,2")
    ap.add_argument("--models", default="tree,forest,knn,ridge")
    ap.add_argument("--threads", default="1")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for ds in args.datasets.split(","):
        if ds in suite.HELD_OUT:
            raise SystemExit(f"{ds} is held out")
        scores = {}  # (model, rows) -> [samples-F1 per seed]
        for seed in args.seeds.split(","):
            work = os.path.join(OUT, f"{ds}_{seed}")
            os.makedirs(work, exist_ok=True)
            path = None
            for rows in ("auto", "oof"):
                cache = os.path.join(OUT, f"{ds}_{seed}_{rows}.json")
                if not os.path.exists(cache):
                    if path is None:
                        path, data_args, *_ = suite.make_dataset(ds, int(seed), work)
                    cmd = [suite.REEL, "compare", "--data", path, *data_args, "--split-column", "split", "--seed",
                           seed, "--models", args.models, "--threads", args.threads, "--format", "json", "--quiet",
                           "--decision-rows", rows]
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    if p.returncode:
                        raise SystemExit(p.stderr)
                    doc = json.loads(p.stdout)
                    with open(cache, "w") as f:
                        json.dump({m["name"]: [m["metrics"]["samples_f1"], m["decision_rule"],
                                               m["decision_rows"]["rows"]] for m in doc["models"]}, f)
                with open(cache) as f:
                    for m, v in json.load(f).items():
                        scores.setdefault((m, rows), []).append(v)
        for m in args.models.split(","):
            a, o = scores[(m, "auto")], scores[(m, "oof")]
            mean = lambda vs: sum(v[0] for v in vs) / len(vs)  # noqa: E731
            print(f"{ds:10s} {m:7s} seeds {args.seeds}  validation rows {mean(a):.4f} ({a[0][2]} rows)  "
                  f"out-of-fold {mean(o):.4f} ({o[0][2]} rows)  delta {mean(o) - mean(a):+.4f}  "
                  f"rules {' '.join(v[1] for v in a)} / {' '.join(v[1] for v in o)}", flush=True)


if __name__ == "__main__":
    main()
