#!/usr/bin/env python3
"""Scale check: a synthetic ROWS x COLS CSV (default 2,000,000 x 50: 48 numeric
features, 2 labels) is written to a temp dir, then `reel compare` trains ridge,
tree and box (1 epoch) on the CPU and predicts; `reel predict` then runs a saved
ridge on the whole file. Reports wall time and peak RSS of each run against the
raw float32 size of the data (target: peak < 4x).

  /usr/bin/python3 bench/bench_scale.py [--rows 2000000] [--cols 50] [--threads 2] [--keep]
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as o, tempfile.TemporaryFile("w+") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        _, status, usage = os.wait4(p.pid, 0)
        o.seek(0)
        e.seek(0)
        out, err = o.read(), e.read()
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"failed ({rc}): {' '.join(cmd)}\n{err}")
    return out, wall, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reel", default=os.path.join(ROOT, "build", "reel"))
    ap.add_argument("--keep", action="store_true", help="keep the generated CSV")
    a = ap.parse_args()
    import numpy as np

    tmp = tempfile.mkdtemp(prefix="reel-scale-")
    path = os.path.join(tmp, "big.csv")
    d = a.cols - 2
    rng = np.random.default_rng(0)
    W = rng.standard_normal((d, 2))
    t0 = time.perf_counter()
    with open(path, "w") as f:
        f.write(",".join([f"f{i}" for i in range(d)] + ["A", "B"]) + "\n")
        for start in range(0, a.rows, 200_000):
            n = min(200_000, a.rows - start)
            X = rng.standard_normal((n, d)).astype(np.float32)
            Y = (X @ W > 0).astype(int)
            Y[:, 0] |= ~Y.any(axis=1)  # every row labeled
            np.savetxt(f, np.hstack([X, Y]), fmt=["%.6g"] * d + ["%d", "%d"], delimiter=",")
    size_mb = os.path.getsize(path) / 2**20
    raw_mb = a.rows * a.cols * 4 / 2**20
    print(f"{a.rows} x {a.cols} CSV: {size_mb:.0f} MiB on disk, raw float32 {raw_mb:.0f} MiB "
          f"(written in {time.perf_counter() - t0:.0f} s)")
    params = os.path.join(tmp, "p.json")
    with open(params, "w") as f:
        json.dump({"box": {"epochs": 1}}, f)
    results = {"rows": a.rows, "cols": a.cols, "raw_mib": raw_mb, "runs": {}}
    for models in ("ridge", "tree", "box", "ridge,tree,box"):
        out, wall, rss = run([a.reel, "compare", "--data", path, "--labels", "A,B", "--models", models,
                              "--params", params, "--threads", str(a.threads), "--device", "cpu", "--format",
                              "json", "--quiet"])
        doc = json.loads(out)
        fits = ", ".join(f"{m['name']} fit {m['fit_seconds']:.1f} s, F1 {m['metrics']['samples_f1']:.3f}"
                         for m in doc["models"])
        print(f"compare {models:15} wall {wall:6.1f} s  peak RSS {rss:7.0f} MiB = {rss / raw_mb:.2f}x raw  ({fits})")
        results["runs"][models] = {"wall_s": wall, "peak_rss_mib": rss, "ratio": rss / raw_mb}
    model = os.path.join(tmp, "ridge.safetensors")
    run([a.reel, "train", "--model", "ridge", "--data", path, "--labels", "A,B", "--save", model, "--quiet"])
    _, wall, rss = run([a.reel, "predict", "--model-file", model, "--data", path, "--out",
                        os.path.join(tmp, "pred.csv"), "--quiet"])
    print(f"predict ridge on all rows   wall {wall:6.1f} s  peak RSS {rss:7.0f} MiB = {rss / raw_mb:.2f}x raw")
    results["runs"]["predict"] = {"wall_s": wall, "peak_rss_mib": rss, "ratio": rss / raw_mb}
    print(json.dumps(results))
    if not a.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
