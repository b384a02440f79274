#!/usr/bin/env python3
"""Tries one training recipe for box and u on the suite's tuning sets (issue
14): the same splits as bench/suite.py, `reel compare --models box,u
--params` with the recipe given for both nets, one thread, samples-F1 under
--decision auto. Results are cached per (tag, data set, seed) under
bench/out/recipe/; prints the means.

  bench/.venv/bin/python bench/recipe_explore.py TAG '{"lr": 0.001, "ensemble": 5}' \\
      [--u '{...}'] [--datasets yeast,synth,movies-3k] [--seeds 42,1,2] [--threads 1]

--u gives U its own recipe (default: the same as box's).

Never run it on the held-out set (bench/suite.py's HELD_OUT): it refuses.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import suite  # noqa: E402

OUT = os.path.join(HERE, "out", "recipe")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tag")
    ap.add_argument("recipe", help="params for both nets, a JSON object")
    ap.add_argument("--datasets", default="yeast,synth,movies-3k")
    ap.add_argument("--seeds", default="42,1,2")
    ap.add_argument("--u", help="U's params, a JSON object (default: the recipe)")
    ap.add_argument("--threads", default="1")
    args = ap.parse_args()
    recipe = json.loads(args.recipe)
    os.makedirs(OUT, exist_ok=True)
    pf = os.path.join(OUT, f"{args.tag}.params.json")
    with open(pf, "w") as f:
        json.dump({"box": recipe, "u": json.loads(args.u) if args.u else recipe}, f)
    for ds in args.datasets.split(","):
        if ds in suite.HELD_OUT:
            raise SystemExit(f"{ds} is held out")
        scores = {}
        for seed in args.seeds.split(","):
            cache = os.path.join(OUT, f"{args.tag}_{ds}_{seed}.json")
            if not os.path.exists(cache):
                work = os.path.join(OUT, f"{args.tag}_{ds}_{seed}")  # per tag: runs in parallel never share a file
                os.makedirs(work, exist_ok=True)
                path, data_args, *_ = suite.make_dataset(ds, int(seed), work)
                cmd = [suite.REEL, "compare", "--data", path, *data_args, "--split-column", "split", "--seed", seed,
                       "--models", "box,u", "--threads", args.threads, "--format", "json", "--quiet", "--params", pf]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode:
                    raise SystemExit(p.stderr)
                doc = json.loads(p.stdout)
                with open(cache, "w") as f:
                    json.dump({m["name"]: [m["metrics"]["samples_f1"], m["fit_seconds"]] for m in doc["models"]}, f)
            with open(cache) as f:
                for m, v in json.load(f).items():
                    scores.setdefault(m, []).append(v)
        line = "  ".join(f"{m} {sum(v[0] for v in vs) / len(vs):.4f} (fit {sum(v[1] for v in vs) / len(vs):.0f} s)"
                         for m, vs in scores.items())
        print(f"{args.tag:14s} {ds:10s} seeds {args.seeds}  {line}", flush=True)


if __name__ == "__main__":
    main()
