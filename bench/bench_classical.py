#!/usr/bin/env python3
"""reel vs scikit-learn, side by side, on the movies data and one split.

Writes a copy of data/movies.csv (labeled films only) with a seeded `split`
column, then for each model runs reel (`reel train --split-column split
--valid-fraction 0 --format json`) and the same model in scikit-learn on
the same features (median imputation + missing indicator, mpaa one-hot top
10 + other, standardised for knn/ridge: reel's preprocessing, rebuilt here),
each in its own process so peak memory (RSS) is per model. Reports
samples-F1 of both, fit and predict seconds (median of --reps runs), the
ratios reel/sklearn, and peak RSS.

  /usr/bin/python3 bench/bench_classical.py [--reps 3] [--threads 2] [--models tree,forest,knn,ridge]
                                            [--scaling] [--json out.json]

--scaling adds fit time against rows (10k, 40k, 160k, 640k films resampled
with replacement) for tree, forest and knn. Needs python3-sklearn (Debian)
and a built reel (build/reel).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REEL = os.path.join(ROOT, "build", "reel")
LABELS = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]
NUMERIC = ["year", "length", "budget", "rating", "votes"] + [f"r{i}" for i in range(1, 11)]

# The settings of reference.md's table, as reel params and sklearn kwargs.
SETTINGS = {
    "tree": ({"max_depth": 10, "min_samples_leaf": 10}, "DecisionTreeClassifier(max_depth=10, min_samples_leaf=10, random_state=0)"),
    "forest": ({"n_estimators": 100, "max_depth": 20}, "RandomForestClassifier(n_estimators=100, max_depth=20, n_jobs=THREADS, random_state=0)"),
    "knn": ({"n_neighbors": 5}, "KNeighborsClassifier(n_neighbors=5, n_jobs=THREADS)"),
    "ridge": ({"alpha": 10}, "RidgeClassifier(alpha=10)"),
}
STANDARDISE = {"knn", "ridge"}


def write_split_csv(src, dst, seed=42, test_fraction=0.2, resample=None):
    """Labeled films with a seeded train/test split column (and optional resampling)."""
    import numpy as np
    with open(src, newline="") as f:
        rows = [r for r in csv.DictReader(f) if any(r[l] == "1" for l in LABELS)]
    rng = np.random.default_rng(seed)
    if resample:
        rows = [rows[i] for i in rng.integers(0, len(rows), resample)]
    perm = rng.permutation(len(rows))
    n_test = int(round(test_fraction * len(rows)))
    test = set(perm[:n_test].tolist())
    fields = list(rows[0].keys()) + ["split"]
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for i, r in enumerate(rows):
            r = dict(r)
            r["split"] = "test" if i in test else "train"
            w.writerow(r)
    return len(rows)


def movie_columns(rows, train):
    """The feature matrix of movie rows (dicts) given the boolean train mask:
    median imputation + missing indicator per numeric column, mpaa one-hot
    over the 10 most frequent training values + other (bench/suite.py too)."""
    import numpy as np
    cols = []
    for c in NUMERIC:
        v = np.array([float(r[c]) if r[c] not in ("", "NA") else np.nan for r in rows])
        miss = np.isnan(v)
        med = np.median(v[train & ~miss]) if (train & ~miss).any() else 0.0
        cols.append(np.where(miss, med, v))
        if miss[train].any():
            cols.append(miss.astype(float))
    mpaa = [r["mpaa"] for r in rows]
    counts = {}
    for m, t in zip(mpaa, train):
        if t and m:
            counts[m] = counts.get(m, 0) + 1
    top = sorted(counts, key=lambda k: -counts[k])[:10]
    for k in top:
        cols.append(np.array([m == k for m in mpaa], dtype=float))
    cols.append(np.array([bool(m) and m not in top for m in mpaa], dtype=float))
    return np.column_stack(cols)


def movie_features(path, labels=LABELS):
    """reel's preprocessing of the movies CSV with a split column, rebuilt:
    median imputation + missing indicator per numeric column, mpaa one-hot
    over the 10 most frequent training values + other. Returns raw X, Y (int)
    and the boolean train mask."""
    import numpy as np
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    train = np.array([r["split"] == "train" for r in rows])
    Y = np.array([[int(r[l]) for l in labels] for r in rows])
    return movie_columns(rows, train), Y, train


def sklearn_worker(path, model, threads, reps):
    """Runs in a child process: load, featurise, fit, predict; prints JSON."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier  # noqa: F401
    from sklearn.linear_model import RidgeClassifier  # noqa: F401
    from sklearn.metrics import f1_score
    from sklearn.neighbors import KNeighborsClassifier  # noqa: F401
    from sklearn.tree import DecisionTreeClassifier  # noqa: F401

    X, Y, train = movie_features(path)
    if model in STANDARDISE:
        mu, sd = X[train].mean(0), X[train].std(0)
        sd[sd == 0] = 1
        X = (X - mu) / sd
    Xtr, Ytr, Xte, Yte = X[train], Y[train], X[~train], Y[~train]
    fits, preds = [], []
    for _ in range(reps):
        est = eval(SETTINGS[model][1].replace("THREADS", str(threads)))
        t0 = time.perf_counter()
        est.fit(Xtr, Ytr)
        t1 = time.perf_counter()
        P = est.predict(Xte)
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        preds.append(t2 - t1)
    f1 = f1_score(Yte, P, average="samples", zero_division=0)
    print(json.dumps({"fit": statistics.median(fits), "predict": statistics.median(preds), "f1": f1,
                      "features": X.shape[1]}))


def run_measured(cmd, env=None):
    """Runs cmd; returns (rc, stdout, stderr, peak RSS of that process in MiB)."""
    with tempfile.TemporaryFile("w+") as o, tempfile.TemporaryFile("w+") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        o.seek(0)
        e.seek(0)
        return p.returncode, o.read(), e.read(), usage.ru_maxrss / 1024.0


def run_sklearn(path, model, threads, reps):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    rc, out, err, rss = run_measured([sys.executable, __file__, "--worker", path, model, str(threads), str(reps)], env)
    if rc != 0:
        raise SystemExit(f"scikit-learn worker failed for {model}:\n{err}")
    res = json.loads(out.strip().splitlines()[-1])
    res["rss_mb"] = rss
    return res


def run_reel(path, model, threads, reps):
    params = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(SETTINGS[model][0], params)
    params.close()
    fits, preds, f1, rss = [], [], None, 0.0
    for _ in range(reps):
        cmd = [REEL, "train", "--model", model, "--data", path, "--labels", ",".join(LABELS), "--id", "title",
               "--split-column", "split", "--valid-fraction", "0", "--params", params.name, "--threads",
               str(threads), "--format", "json", "--quiet"]
        rc, out, err, peak = run_measured(cmd)
        if rc != 0:
            raise SystemExit(f"reel failed: {' '.join(cmd)}\n{err}")
        doc = json.loads(out)
        m = doc["model"]
        fits.append(m["fit_seconds"])
        preds.append(m["predict_seconds"])
        f1 = m["metrics"]["samples_f1"]
        rss = max(rss, peak)
    os.unlink(params.name)
    return {"fit": statistics.median(fits), "predict": statistics.median(preds), "f1": f1, "rss_mb": rss,
            "features": len(doc["dataset"]["features"])}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sklearn_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="tree,forest,knn,ridge")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    src = os.path.join(ROOT, "data", "movies.csv")
    if not os.path.exists(src):
        raise SystemExit("data/movies.csv missing: run data/fetch_movies.sh")
    if not os.access(REEL, os.X_OK):
        raise SystemExit("build/reel missing: build reel first")
    tmp = tempfile.mkdtemp(prefix="reel-bench-")
    path = os.path.join(tmp, "movies_split.csv")
    n = write_split_csv(src, path)
    results = {"rows": n, "threads": a.threads, "reps": a.reps, "models": {}, "scaling": {}}
    print(f"movies: {n} labeled films, seeded 80/20 split, {a.threads} threads, median of {a.reps} runs\n")
    hdr = f"{'model':8} {'F1 reel':>8} {'F1 skl':>8} {'dF1':>7} {'fit reel':>9} {'fit skl':>8} {'fit x':>6} " \
          f"{'pred reel':>9} {'pred skl':>8} {'pred x':>6} {'fit+pred x':>10} {'RSS reel':>9} {'RSS skl':>8}"
    print(hdr)
    for model in a.models.split(","):
        r = run_reel(path, model, a.threads, a.reps)
        s = run_sklearn(path, model, a.threads, a.reps)
        results["models"][model] = {"reel": r, "sklearn": s}
        ratio = lambda x, y: x / y if y > 0 else float("nan")
        print(f"{model:8} {r['f1']:8.4f} {s['f1']:8.4f} {r['f1'] - s['f1']:+7.4f} {r['fit']:9.3f} {s['fit']:8.3f} "
              f"{ratio(r['fit'], s['fit']):6.2f} {r['predict']:9.3f} {s['predict']:8.3f} "
              f"{ratio(r['predict'], s['predict']):6.2f} {ratio(r['fit'] + r['predict'], s['fit'] + s['predict']):10.2f} "
              f"{r['rss_mb']:8.0f}M {s['rss_mb']:7.0f}M", flush=True)
    if a.scaling:
        print("\nfit seconds against rows (resampled with replacement; reel / sklearn):")
        for rows in (10000, 40000, 160000, 640000):
            p = os.path.join(tmp, f"movies_{rows}.csv")
            write_split_csv(src, p, resample=rows)
            line = f"{rows:7d} rows:"
            for model in ("tree", "forest", "knn"):
                if model not in a.models.split(","):
                    continue
                r = run_reel(p, model, a.threads, 1)
                s = run_sklearn(p, model, a.threads, 1)
                key = "fit" if model != "knn" else "predict"
                results["scaling"].setdefault(model, []).append({"rows": rows, "reel": r, "sklearn": s})
                line += f"  {model} {key} {r[key]:.2f}/{s[key]:.2f} s ({r[key] / s[key]:.2f}x)"
            print(line, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
