#!/usr/bin/env python3
"""Cost per (query, training row) pair of reel's exact neighbour search alone
(issue 37 item 1), as the training rows grow: bench/scale.py's rows series
(movies stacked with 1% jitter), prepared much as reel prepares it (median
fill, a budget-missing column, mpaa one-hot with missing as "other":
reel's 21 features; labelled rows, an 80/20 split of which 90% of the
training part is kept, standardised), the
test rows as queries (at most --queries of them). Each source tree's
classical/knn_search.c and knn_kernel.c are compiled with that tree's flags
(-O3, knn_kernel.c with -ffp-contract=fast) into bench/knn_pairs.c's driver,
which times reel_knn_search on one thread in CPU seconds.

  /usr/bin/python3 bench/knn_pairs.py [--src BEFORE_TREE --src AFTER_TREE]
        [--sizes 10000,58788,240000,1000000] [--queries 3072] [--k 5] [--repeat 3]

Prints per size: training rows n, queries m, and for each tree the median
CPU seconds and ns per pair (CPU / (n m)), and whether the neighbours agree
(a checksum of the indices).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import scale  # noqa: E402  (the rows series and its files)


def build(src, out):
    """The driver against one tree's search (reel's own flags for these files)."""
    inc = ["-I", os.path.join(src, "host"), "-I", os.path.join(src, "include")]
    common = ["-O3", "-DNDEBUG", "-fopenmp", "-std=c11", "-D_POSIX_C_SOURCE=200809L"] + inc
    objs = []
    for rel, extra in (("host/classical/knn_search.c", []), ("host/classical/knn_kernel.c", ["-ffp-contract=fast"]),
                       ("host/util/error.c", [])):
        path = os.path.join(src, rel)
        if not os.path.exists(path):
            continue
        obj = out + "." + os.path.basename(rel) + ".o"
        subprocess.run(["cc", "-c", path, "-o", obj] + common + extra, check=True)
        objs.append(obj)
    subprocess.run(["cc", os.path.join(HERE, "knn_pairs.c"), "-o", out] + objs + common + ["-lm"], check=True)


def prepare(size, data_dir, queries, path):
    """scale.py's rows-SIZE.csv as the scikit-learn side sees it, in the driver's format."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split
    csv = os.path.join(data_dir, f"rows-{size}.csv")
    if not os.path.exists(csv):
        scale.make_dataset("rows", size, False, csv)
    df = pd.read_csv(csv)
    Y = df[scale.GENRES].to_numpy(dtype=np.int8)
    X = df.drop(columns=scale.GENRES)
    X.insert(0, "budget_missing", X["budget"].isna().astype(float))  # reel's 21 features: these two as reel
    X = pd.get_dummies(X["mpaa"].fillna("other"), prefix="mpaa").join(X.drop(columns=["mpaa"]))
    X = X.to_numpy(dtype=np.float64)
    X = np.where(np.isnan(X), np.nanmedian(X, axis=0), X)[Y.any(axis=1)]
    Xtr, Xte = train_test_split(X, test_size=0.2, random_state=42)
    Xtr = Xtr[: int(len(Xtr) * 0.9)]
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1
    Xtr, Xte = (Xtr - mu) / sd, ((Xte - mu) / sd)[:queries]
    with open(path, "wb") as f:
        np.array([len(Xtr), len(Xte), X.shape[1]], dtype=np.int64).tofile(f)
        Xtr.astype(np.float32).tofile(f)
        Xte.astype(np.float32).tofile(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", action="append", default=None, help="source tree (give two: before, after)")
    ap.add_argument("--sizes", default="10000,58788,240000,1000000")
    ap.add_argument("--queries", type=int, default=3072)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "reel-scale"))
    a = ap.parse_args()
    srcs = a.src or [ROOT]
    work = tempfile.mkdtemp(prefix="knn-pairs-")
    drivers = []
    for i, src in enumerate(srcs):
        drivers.append(os.path.join(work, f"knn_pairs{i}"))
        build(src, drivers[-1])
    os.makedirs(a.data_dir, exist_ok=True)
    load = os.getloadavg()
    print(f"load at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {a.repeat}; one thread; "
          f"k = {a.k}; ns/pair = CPU / (n m)")
    hdr = f"{'size':>8} {'n':>8} {'m':>6} {'d':>3}"
    for i in range(len(srcs)):
        tag = "tree" if len(srcs) == 1 else ("before", "after")[i] if i < 2 else f"tree{i}"
        hdr += f" | {tag + ' CPU s':>13} {'ns/pair':>7}"
    print(hdr + (" | same" if len(srcs) > 1 else ""))
    for size in [int(s) for s in a.sizes.split(",")]:
        data = os.path.join(work, f"rows-{size}.bin")
        prepare(size, a.data_dir, a.queries, data)
        line, sums = "", set()
        for drv in drivers:
            r = json.loads(subprocess.run([drv, data, str(a.k), str(a.repeat)], check=True, capture_output=True,
                                          text=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout)
            cpu = statistics.median(r["cpu"])
            line += f" | {cpu:13.3f} {cpu * 1e9 / (r['n'] * r['m']):7.3f}"
            sums.add(r["checksum"])
        print(f"{size:8} {r['n']:8} {r['m']:6} {r['d']:3}" + line + (f" | {'yes' if len(sums) == 1 else 'NO'}"
                                                                      if len(srcs) > 1 else ""), flush=True)
        os.remove(data)
    load = os.getloadavg()
    print(f"load at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
