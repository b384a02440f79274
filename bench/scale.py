#!/usr/bin/env python3
"""How cost grows: reel against scikit-learn on one thread as the rows, the
columns and the labels grow (issue 37).

Series (quick sizes by default, the issue's with --full):
  rows    movies stacked with 1% jitter on its numbers: 10k, 59k, 240k
          (--full: 10k, 59k, 240k, 1M, 4M)
  cols    N numeric columns (movies' 15 numbers, then random mixes of them
          plus noise), 7 labels: 16, 64, 256 on 10k rows (--full: 16 .. 1024 on 59k)
  labels  7, 50, 200 labels on movies' rows (the 7 genres, then thresholded
          random mixes of the features) on 20k rows (--full: 59k)
  select  ridge single-pass selection at 16, 64, 256 columns (reel only)
Each run is a fresh process: CPU time is user+sys (os.wait4), memory the peak
resident set; the median of --repeat runs. reel trains with `reel train
--threads 1 --device cpu` (the default decision rule, auto, unless a row
says otherwise); scikit-learn reads the same CSV with pandas, fills missing
numbers with the median, one-hots mpaa, scales (ridge, knn), fits and
predicts the test rows, with every BLAS pool at one thread (its CPU time
includes starting Python and importing pandas and scikit-learn, about 1.5 s
on the 2-core machines: compare at sizes where the fits dominate).

Printed per model and size: CPU s and peak MB for each, the growth exponent
of CPU time from the previous size (log t ratio / log size ratio), and
reel / scikit-learn.

  /usr/bin/python3 bench/scale.py [--series rows,cols,labels,select] [--models ridge,knn]
        [--full] [--repeat 3] [--reel build/reel] [--data-dir DIR] [--no-sklearn]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
NUMBERS = ["year", "length", "budget", "rating", "votes"] + [f"r{i}" for i in range(1, 11)]
GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]
# Forests and nets at these sizes take minutes: fewer trees, as the runs.
REEL_PARAMS = {"forest": {"n_estimators": 10}}

QUICK = {"rows": [10_000, 58_788, 240_000], "cols": [16, 64, 256], "labels": [7, 50, 200],
         "select": [16, 64, 256]}
FULL = {"rows": [10_000, 58_788, 240_000, 1_000_000, 4_000_000], "cols": [16, 64, 256, 1024],
        "labels": [7, 50, 200], "select": [16, 64, 256]}
MODELS = {"rows": ["prior", "ridge", "tree", "forest", "knn"], "cols": ["ridge", "tree", "forest", "knn"],
          "labels": ["prior", "ridge", "prior:threshold", "ridge:threshold", "prior:expected-f1"],
          "select": ["ridge"]}


# ---- data ----

def movies():
    import pandas as pd
    return pd.read_csv(os.path.join(ROOT, "data", "movies.csv"))


def write_csv(df, path):
    df.to_csv(path, index=False, float_format="%.6g")


def rows_csv(n, path):
    import numpy as np
    base = movies()
    rng = np.random.default_rng(n)
    reps = -(-n // len(base))
    df = base.loc[np.tile(np.arange(len(base)), reps)[:n]].reset_index(drop=True)
    if n > len(base):
        for c in NUMBERS:  # 1% jitter keeps stacked copies distinct
            v = df[c].to_numpy(dtype=float)
            df[c] = v * (1 + 0.01 * rng.standard_normal(n))
    write_csv(df.drop(columns=["title"]), path)
    return GENRES


def numeric_block(base, rng, d):
    import numpy as np
    X = base[NUMBERS].to_numpy(dtype=float)
    X = np.where(np.isnan(X), np.nanmedian(X, axis=0), X)
    Z = (X - X.mean(0)) / (X.std(0) + 1e-12)
    extra = max(0, d - len(NUMBERS))
    M = rng.standard_normal((len(NUMBERS), extra)) / math.sqrt(len(NUMBERS))
    return Z, Z @ M + 0.5 * rng.standard_normal((len(X), extra))


def cols_csv(d, rows, path):
    import numpy as np
    import pandas as pd
    base = movies().iloc[:rows]
    rng = np.random.default_rng(d)
    _, E = numeric_block(base, rng, d)
    keep = NUMBERS[:min(d, len(NUMBERS))]
    df = pd.concat([base[keep].reset_index(drop=True),
                    pd.DataFrame(E, columns=[f"x{i}" for i in range(E.shape[1])]),
                    base[GENRES].reset_index(drop=True)], axis=1)
    write_csv(df, path)
    return GENRES


def labels_csv(L, rows, path):
    import numpy as np
    base = movies().iloc[:rows].reset_index(drop=True)
    rng = np.random.default_rng(1000 + L)
    Z, _ = numeric_block(base, rng, 0)
    df = base.drop(columns=["title"])
    names = list(GENRES)
    extra = {}
    for j in range(L - len(GENRES)):
        w = rng.standard_normal(Z.shape[1])
        s = Z @ w + rng.standard_normal(len(Z)) * (0.5 + rng.random())
        rate = 0.01 + 0.29 * rng.random()  # 1% to 30% positive
        extra[f"y{j}"] = (s > np.quantile(s, 1 - rate)).astype(int)
        names.append(f"y{j}")
    import pandas as pd
    df = pd.concat([df, pd.DataFrame(extra)], axis=1)
    write_csv(df, path)
    return names


def make_dataset(series, size, full, path):
    if series == "rows":
        labels = rows_csv(size, path + ".tmp")
    elif series in ("cols", "select"):
        labels = cols_csv(size, 58_788 if full else 10_000, path + ".tmp")
    else:
        labels = labels_csv(size, 58_788 if full else 20_000, path + ".tmp")
    os.replace(path + ".tmp", path)
    with open(path + ".labels", "w") as f:
        f.write(",".join(labels))


def dataset(series, size, a):
    """The CSV's path and its label list, made once in a child process: a
    parent holding pandas' pages would lend its peak RSS to every child it
    forks."""
    path = os.path.join(a.data_dir, f"{series}-{size}{'-full' if a.full else ''}.csv")
    if not (os.path.exists(path) and os.path.exists(path + ".labels")):
        subprocess.run([sys.executable, os.path.abspath(__file__), "--make", series, str(size), path]
                       + (["--full"] if a.full else []), check=True)
    with open(path + ".labels") as f:
        return path, f.read()


# ---- runs ----

def measure(cmd, env=None):
    """(user+sys CPU seconds, peak RSS MB) of one child process."""
    with tempfile.TemporaryFile("w+") as o, tempfile.TemporaryFile("w+") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            e.seek(0)
            raise SystemExit(f"failed: {' '.join(cmd)}\n{e.read()[-2000:]}")
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def reel_cmd(binary, series, model, csv, labels, params):
    name, _, rule = model.partition(":")
    if series == "select":
        cmd = [binary, "select", "--model", name, "--method", "single-pass"]
    else:
        cmd = [binary, "train", "--model", name]
    cmd += ["--data", csv, "--labels", labels, "--threads", "1", "--device", "cpu", "--quiet",
            "--format", "json"]
    if name in REEL_PARAMS:
        cmd += ["--params", os.path.join(params, name + ".json")]
    if rule:
        cmd += ["--decision", rule]
    return cmd


def median_run(cmd, repeat, env=None):
    runs = [measure(cmd, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def sk_fit(model, csv, labels):
    """One scikit-learn fit and test prediction (run in its own process)."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split
    df = pd.read_csv(csv)
    names = labels.split(",")
    Y = df[names].to_numpy(dtype=np.int8)
    keep = Y.any(axis=1)
    X = df.drop(columns=names)
    if "mpaa" in X:
        top = X["mpaa"].value_counts().index[:10]
        X = pd.get_dummies(X["mpaa"].where(X["mpaa"].isin(top)), prefix="mpaa").join(X.drop(columns=["mpaa"]))
    X = X.to_numpy(dtype=np.float64)
    X = np.where(np.isnan(X), np.nanmedian(X, axis=0), X)[keep]
    Y = Y[keep]
    Xtr, Xte, Ytr, Yte = train_test_split(X, Y, test_size=0.2, random_state=42)
    Xtr = Xtr[: int(len(Xtr) * 0.9)]  # reel keeps 10% of the training rows for validation
    Ytr = Ytr[: len(Xtr)]
    if model in ("ridge", "knn"):
        from sklearn.preprocessing import StandardScaler
        s = StandardScaler().fit(Xtr)
        Xtr, Xte = s.transform(Xtr), s.transform(Xte)
    if model == "prior":
        from sklearn.dummy import DummyClassifier
        m = DummyClassifier(strategy="prior")
    elif model == "ridge":
        from sklearn.linear_model import Ridge
        m = Ridge(alpha=10.0)
    elif model == "tree":
        from sklearn.tree import DecisionTreeClassifier
        m = DecisionTreeClassifier(max_depth=10, min_samples_leaf=10, random_state=0)
    elif model == "forest":
        from sklearn.ensemble import RandomForestClassifier
        m = RandomForestClassifier(n_estimators=REEL_PARAMS["forest"]["n_estimators"], max_depth=20,
                                   n_jobs=1, random_state=0)
    elif model == "knn":
        from sklearn.neighbors import KNeighborsClassifier
        m = KNeighborsClassifier(n_neighbors=5, n_jobs=1)
    else:
        raise SystemExit(f"no scikit-learn model for {model}")
    m.fit(Xtr, Ytr)
    m.predict(Xte)


def exponent(prev, cur):
    if not prev or prev[1] <= 0 or cur[1] <= 0:
        return ""
    return f"{math.log(cur[1] / prev[1]) / math.log(cur[0] / prev[0]):5.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", default="rows,cols,labels,select")
    ap.add_argument("--models", default=None, help="only these models (names as printed)")
    ap.add_argument("--sizes", default=None, help="only these sizes (comma list)")
    ap.add_argument("--full", action="store_true", help="the issue's sizes (hours on 2 cores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reel", action="append", default=None,
                    help="reel binary; give it twice (before, after) to compare builds side by side")
    ap.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "reel-scale"))
    ap.add_argument("--no-sklearn", action="store_true")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--make", nargs=3, metavar=("SERIES", "SIZE", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--sk-one", nargs=3, metavar=("MODEL", "CSV", "LABELS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.make:
        make_dataset(a.make[0], int(a.make[1]), a.full, a.make[2])
        return
    if a.sk_one:
        sk_fit(*a.sk_one)
        return
    reels = a.reel or [os.path.join(ROOT, "build", "reel")]
    os.makedirs(a.data_dir, exist_ok=True)
    params = a.data_dir
    for name, p in REEL_PARAMS.items():
        with open(os.path.join(params, name + ".json"), "w") as f:
            json.dump(p, f)
    sizes = FULL if a.full else QUICK
    env = dict(os.environ, **ONE_THREAD)
    load = os.getloadavg()
    print(f"load at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {a.repeat}; "
          f"CPU = user+sys s, mem = peak RSS MB, exp = growth exponent of CPU time")
    results = []
    for series in a.series.split(","):
        # --models may add any model of the rows series to cols and labels (forest's memory at 200 labels)
        models = MODELS[series] if not a.models else [
            m for m in a.models.split(",")
            if m in MODELS[series] or (series in ("cols", "labels") and m in MODELS["rows"])]
        only = [int(s) for s in a.sizes.split(",")] if a.sizes else None
        for model in models:
            hdr = f"{series:6} {model:18} {'size':>8}"
            for i, _ in enumerate(reels):
                tag = "reel" if len(reels) == 1 else ("before", "after")[i] if i < 2 else f"reel{i}"
                hdr += f" | {tag + ' CPU':>11} {'mem':>6} {'exp':>5}"
            sk = not a.no_sklearn and series != "select" and ":" not in model
            if sk:
                hdr += f" | {'sk CPU':>8} {'mem':>6} {'exp':>5} | {'ratio':>5}"
            print(hdr)
            prev = [None] * (len(reels) + 1)
            for size in sizes[series]:
                if only and size not in only:
                    continue
                csv, labels = dataset(series, size, a)
                line = f"{series:6} {model:18} {size:8}"
                row = {"series": series, "model": model, "size": size}
                for i, binary in enumerate(reels):
                    cpu, mem = median_run(reel_cmd(binary, series, model, csv, labels, params), a.repeat, env)
                    line += f" | {cpu:11.2f} {mem:6.0f} {exponent(prev[i], (size, cpu)):>5}"
                    prev[i] = (size, cpu)
                    row[f"reel{i}"] = {"cpu": cpu, "mem": mem}
                if sk:
                    cpu_s, mem_s = median_run([sys.executable, os.path.abspath(__file__), "--sk-one", model, csv,
                                               labels], a.repeat, env)
                    line += f" | {cpu_s:8.2f} {mem_s:6.0f} {exponent(prev[-1], (size, cpu_s)):>5}"
                    line += f" | {row['reel' + str(len(reels) - 1)]['cpu'] / cpu_s:5.2f}"
                    prev[-1] = (size, cpu_s)
                    row["sklearn"] = {"cpu": cpu_s, "mem": mem_s}
                print(line, flush=True)
                results.append(row)
    load = os.getloadavg()
    print(f"load at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
