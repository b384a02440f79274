#!/usr/bin/env python3
"""Test samples-F1 of the box and U nets over several seeds (split, init and
shuffles all follow --seed), one training at a time.

  /usr/bin/python3 bench/bench_nets_seeds.py [--params '{"box": {...}, "u": {...}}']
      [--seeds 42,1,2,3,4] [--models box,u] [--label NAME]

Prints one line per seed and model (F1, fit seconds, epochs run, restored
epoch) and the mean and spread per model."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--reel", default="./build/reel")
ap.add_argument("--params", default=None, help="JSON object keyed by model name")
ap.add_argument("--seeds", default="42,1,2,3,4")
ap.add_argument("--models", default="box,u")
ap.add_argument("--threads", default="2")
ap.add_argument("--label", default="")
a = ap.parse_args()

pfile = None
if a.params:
    fd, pfile = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(a.params)

res = {m: [] for m in a.models.split(",")}
for seed in a.seeds.split(","):
    for m in a.models.split(","):
        cmd = [a.reel, "compare", "--models", m, "--seed", seed, "--threads", a.threads, "--format", "json"]
        if pfile:
            cmd += ["--params", pfile]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            sys.exit(p.stderr)
        r = json.loads(p.stdout)["models"][0]
        ep = re.findall(r"epoch (\d+)/", p.stderr)
        best = re.search(r"restored the (?:averaged )?weights of epoch (\d+)", p.stderr)
        run = int(ep[-1]) if ep else 0
        f1 = r["metrics"]["samples_f1"]
        res[m].append(f1)
        print(f"{a.label}\tseed {seed}\t{m}\tF1 {f1:.4f}\tfit {r['fit_seconds']:.1f}s\tepochs {run}\t"
              f"best {best.group(1) if best else run}", flush=True)
for m, v in res.items():
    print(f"{a.label}\t{m}\tmean {statistics.mean(v):.4f}\tmin {min(v):.4f}\tmax {max(v):.4f}\t"
          f"sd {statistics.pstdev(v):.4f}", flush=True)
if pfile:
    os.unlink(pfile)
