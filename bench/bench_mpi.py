#!/usr/bin/python3
"""reel over MPI ranks: a tree grid search with 5 folds and a 1,000-tree
forest on 1, 2 and 4 ranks (mpirun --oversubscribe, --threads 1 per rank),
checked to give the same results as one process, and a model of 16 and 64
ranks built from what the runs measured (REEL_DIST_STATS: each item's
seconds, the broadcast of the results and its bytes).

The model, per map (a batch of independent items): items go to whichever
rank is free next, in item order (reel's dynamic hand-out), each taking its
measured one-rank time plus one request round trip to rank 0; then rank 0
broadcasts every result: a binomial tree, ceil(log2 N) steps each costing
latency + bytes / bandwidth, fitted to the 2- and 4-rank broadcasts. What
runs outside the maps (reading the data, the final fit on the best params)
runs on every rank at once and does not shrink.

usage: bench/bench_mpi.py [--reel build/reel] [--data data/movies.csv] [--trees 1000]
       [--ranks 1,2,4] [--out /tmp/reel_bench_mpi.json]
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

LABELS = "Action,Animation,Comedy,Drama,Documentary,Romance,Short"
GRID = {"max_depth": [3, 10, None], "min_samples_leaf": [1, 10], "criterion": ["gini", "entropy"]}
RTT_S = 250e-6  # one item request to rank 0 and its answer: reel polls every 50-100 us


def run(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return wall


def stats(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def untimed(path):
    with open(path) as f:
        return re.sub(r'"(seconds|fit_seconds|predict_seconds)":\s*[-0-9.e+]+', "", f.read())


def schedule(item_s, ranks):
    """Finish time of items handed out in order to the earliest free rank."""
    free = [0.0] * ranks
    for t in item_s:
        k = min(range(ranks), key=free.__getitem__)
        free[k] += t + RTT_S
    return max(free)


def fit_bcast(points):
    """latency, seconds per byte from (ranks, bytes, seconds) broadcasts."""
    rows = [(math.ceil(math.log2(n)), b, s) for n, b, s in points if n > 1 and s > 0]
    if not rows:
        return 50e-6, 1 / 2e9
    # per step: s / steps = lat + bytes * inv_bw; least squares on two unknowns
    xs = [b for _, b, _ in rows]
    ys = [s / k for k, _, s in rows]
    n = len(rows)
    mx, my = sum(xs) / n, sum(ys) / n
    vx = sum((x - mx) ** 2 for x in xs)
    inv_bw = max(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / vx, 1e-12) if vx > 0 else my / max(mx, 1)
    lat = max(my - inv_bw * mx, 1e-6)
    return lat, inv_bw


def model(one_rank_maps, outside_s, lat, inv_bw, ranks):
    t = outside_s
    for m in one_rank_maps:
        steps = math.ceil(math.log2(ranks)) if ranks > 1 else 0
        t += schedule(m["item_s"], ranks) + steps * (lat + m["bytes"] * inv_bw)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reel", default="build/reel")
    ap.add_argument("--data", default="data/movies.csv")
    ap.add_argument("--trees", type=int, default=1000)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--out", default="/tmp/reel_bench_mpi.json")
    a = ap.parse_args()
    reel = os.path.abspath(a.reel)
    data = os.path.abspath(a.data)
    ranks = [int(r) for r in a.ranks.split(",")]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    tmp = tempfile.mkdtemp(prefix="reel-bench-mpi.")
    grid = os.path.join(tmp, "grid.json")
    with open(grid, "w") as f:
        json.dump(GRID, f)
    params = os.path.join(tmp, "forest.json")
    with open(params, "w") as f:
        json.dump({"forest": {"n_estimators": a.trees}}, f)
    common = ["--data", data, "--labels", LABELS, "--id", "title", "--threads", "1", "--quiet"]
    jobs = {
        "search": lambda out: ["search", "--model", "tree", "--folds", "5", "--strategy", "grid", "--grid", grid,
                               "--out", out] + common,
        "forest": lambda out: ["train", "--model", "forest", "--params", params, "--save", out] + common,
    }
    results = {"load_before": os.getloadavg(), "cores": os.cpu_count(), "runs": [], "launch_s": {}}
    for n in ranks:  # what starting the ranks costs, apart from the work: `reel info`
        launch = [reel] if n == 1 else ["mpirun", "--oversubscribe", "-np", str(n), reel]
        results["launch_s"][n] = min(run(launch + ["info"], env) for _ in range(3))
        print(f"start {n} ranks (reel info): {results['launch_s'][n]:.2f} s", flush=True)
    for name, args in jobs.items():
        ref = None
        for n in ranks:
            out = os.path.join(tmp, f"{name}_{n}" + (".safetensors" if name == "forest" else ""))
            st = os.path.join(tmp, f"{name}_{n}.jsonl")
            env["REEL_DIST_STATS"] = st
            launch = [reel] if n == 1 else ["mpirun", "--oversubscribe", "-np", str(n), reel]
            wall = run(launch + args(out), env)
            maps = stats(st)
            if name == "search":
                got = untimed(os.path.join(out, "search.json"))
            else:
                js = out + ".json"
                run([reel, "export", "--model-file", out, "--format", "json", "--out", js], env)
                got = untimed(js)
            same = ref is None or got == ref
            ref = ref or got
            row = {"job": name, "ranks": n, "wall_s": wall, "maps": maps, "same_as_1": same,
                   "load": os.getloadavg()[0]}
            results["runs"].append(row)
            print(f"{name:7s} {n} ranks: {wall:8.2f} s  ({len(maps)} maps, {sum(m['items'] for m in maps)} items,"
                  f" same as 1 rank: {same}, load {row['load']:.1f})", flush=True)
    # the model of more ranks, from the 1-rank item times and the measured broadcasts
    points = [(r["ranks"], m["bytes"], m["bcast_s"]) for r in results["runs"] for m in r["maps"]]
    lat, inv_bw = fit_bcast(points)
    results["bcast_fit"] = {"latency_s": lat, "bytes_per_s": 1 / inv_bw}
    results["model"] = []
    for name in jobs:
        one = next(r for r in results["runs"] if r["job"] == name and r["ranks"] == 1)
        outside = one["wall_s"] - sum(m["wall_s"] for m in one["maps"])
        for n in [1, 2, 4, 16, 64]:
            t = model(one["maps"], outside, lat, inv_bw, n)
            results["model"].append({"job": name, "ranks": n, "model_s": t, "speedup": model(
                one["maps"], outside, lat, inv_bw, 1) / t, "outside_maps_s": outside})
            print(f"model {name:7s} {n:3d} ranks: {t:8.2f} s  speedup {results['model'][-1]['speedup']:.2f}"
                  f"  (outside the maps {outside:.2f} s)")
    results["load_after"] = os.getloadavg()
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"broadcast fit: latency {lat * 1e6:.0f} us, {1 / inv_bw / 1e9:.2f} GB/s; wrote {a.out}")


if __name__ == "__main__":
    main()
