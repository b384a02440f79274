#!/usr/bin/env python3
"""`reel search` on a net with a device backend: each round of trials x folds
trained together (one launch per epoch) against the same search with the
nets trained one at a time (REEL_NETS_ALONE=1: trials in parallel threads,
each net its own launches), side by side, alternating, on the movies data.

  /usr/bin/python3 bench/bench_search_many.py [--device opencl] [--repeats 3]
      [--folds 0] [--grid '{"lr": [...], ...}'] [--params '{"box": {...}}']

Prints each run's wall seconds, the medians and their ratio (alone /
together), the nets per launch of each round, and checks that both modes
gave the same scores."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--reel", default="./build/reel")
ap.add_argument("--model", default="box")
ap.add_argument("--device", default="opencl")
ap.add_argument("--folds", default="0")
ap.add_argument("--threads", default="2")
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--grid", default='{"lr": [0.001, 0.003], "batch_size": [32, 128]}')
ap.add_argument("--params", default='{"box": {"epochs": 3}}')
a = ap.parse_args()


def tmp_json(text):
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


grid, params = tmp_json(a.grid), tmp_json(a.params)
cmd = [a.reel, "search", "--model", a.model, "--device", a.device, "--folds", a.folds, "--threads", a.threads,
       "--grid", grid, "--params", params, "--format", "json", "--quiet"]
print("command:", " ".join(cmd), "(REEL_NETS_ALONE=1 for one at a time)")
print("load average before:", os.getloadavg())
times = {"together": [], "alone": []}
docs = {}
for r in range(a.repeats):
    for mode in ("together", "alone"):
        env = dict(os.environ)
        env.pop("REEL_NETS_ALONE", None)
        if mode == "alone":
            env["REEL_NETS_ALONE"] = "1"
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        dt = time.monotonic() - t0
        if p.returncode:
            sys.exit(f"{mode}: reel failed: {p.stderr.strip()}")
        docs[mode] = json.loads(p.stdout)
        times[mode].append(dt)
        print(f"run {r + 1} {mode:8s} {dt:8.2f} s  load {os.getloadavg()[0]:.2f}", flush=True)
os.unlink(grid)
os.unlink(params)
sa = [t["score"] for t in docs["together"]["trials"]]
sb = [t["score"] for t in docs["alone"]["trials"]]
print("scores equal:", sa == sb, sa)
print("rounds (together):", [(x["trials"], x["fits"], x["nets_per_launch"]) for x in docs["together"]["rounds"]])
mt, ma = statistics.median(times["together"]), statistics.median(times["alone"])
print(f"median together {mt:.2f} s, one at a time {ma:.2f} s, ratio one-at-a-time / together {ma / mt:.2f}")
print("load average after:", os.getloadavg())
sys.exit(0 if sa == sb else 1)
