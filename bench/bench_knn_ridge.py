#!/usr/bin/env python3
"""Times scikit-learn's KNeighborsClassifier (k=5) and RidgeClassifier
(alpha=10) on the movies data, next to `reel compare --models knn,ridge`.

Features as reel builds them (21): year, length, budget (median-imputed) and
budget_missing, rating, votes, r1..r10, mpaa one-hot (R, PG-13, PG, NC-17,
other); unlabeled films dropped; 80/20 split then 10% of the training rows
held out for validation (so both train on ~33,120 rows); standardised.
scikit-learn's split is its own, so scores differ a little from reel's.

Run from the repository root after building:
  /usr/bin/python3 bench/bench_knn_ridge.py [--repeat 3] [--threads N]"""
import argparse
import csv
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

LABELS = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]
NUMERIC = ["year", "length", "budget", "rating", "votes"] + [f"r{i}" for i in range(1, 11)]
MPAA = ["R", "PG-13", "PG", "NC-17"]


def load(path):
    X, Y = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            y = [int(row[l]) for l in LABELS]
            if not any(y):
                continue
            num = [float(row[c]) if row[c] not in ("", "NA") else np.nan for c in NUMERIC]
            mp = row["mpaa"]
            X.append(num + [float(mp == m) for m in MPAA] + [float(mp not in MPAA)])
            Y.append(y)
    return np.array(X), np.array(Y)


def features(Xtr, Xte):
    """Median imputation + budget_missing, fitted on the training rows."""
    b = NUMERIC.index("budget")
    out = []
    med = np.nanmedian(Xtr[:, : len(NUMERIC)], axis=0)
    for X in (Xtr, Xte):
        num = X[:, : len(NUMERIC)].copy()
        miss = np.isnan(num[:, b]).astype(float)[:, None]
        num = np.where(np.isnan(num), med, num)
        out.append(np.hstack([num[:, : b + 1], miss, num[:, b + 1 :], X[:, len(NUMERIC) :]]))
    return out


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/movies.csv", help="the CSV scikit-learn reads")
    ap.add_argument("--reel-data", default="data/movies.json", help="the same data as reel reads it")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="reel --threads (0: all cores)")
    ap.add_argument("--reel", default="./build/reel")
    a = ap.parse_args()

    X, Y = load(a.data)
    Xtr, Xte, Ytr, Yte = train_test_split(X, Y, test_size=0.2, random_state=42)
    Xtr, _, Ytr, _ = train_test_split(Xtr, Ytr, test_size=0.1, random_state=42)
    Xtr, Xte = features(Xtr, Xte)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    print(f"scikit-learn: {len(Xtr)} train rows, {len(Xte)} test rows, {Xtr.shape[1]} features")

    models = {
        "knn": lambda: KNeighborsClassifier(n_neighbors=5),
        "ridge": lambda: RidgeClassifier(alpha=10),
    }
    rows = []
    for name, make in models.items():
        fit_s, m = best_of(a.repeat, lambda: make().fit(Xtr, Ytr))
        pred_s, P = best_of(a.repeat, lambda: m.predict(Xte))
        f1 = f1_score(Yte, P, average="samples", zero_division=0)
        rows.append(("sklearn", name, f1, fit_s, pred_s))

    with tempfile.TemporaryDirectory() as tmp:
        params = os.path.join(tmp, "p.json")
        with open(params, "w") as f:
            json.dump({"knn": {"n_neighbors": 5}, "ridge": {"alpha": 10}}, f)
        best = {}
        for _ in range(a.repeat):
            cmd = [a.reel, "compare", "--data", a.reel_data, "--models", "knn,ridge", "--params", params,
                   "--format", "json", "--quiet"]
            if a.threads:
                cmd += ["--threads", str(a.threads)]
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            for m in out["models"]:
                prev = best.get(m["name"])
                if not prev or m["fit_seconds"] + m["predict_seconds"] < prev["fit_seconds"] + prev["predict_seconds"]:
                    best[m["name"]] = m
        for name in models:
            m = best[name]
            rows.append(("reel", name, m["metrics"]["samples_f1"], m["fit_seconds"], m["predict_seconds"]))

    print(f"{'who':8} {'model':6} {'samples-F1':>10} {'fit s':>8} {'predict s':>10} {'total s':>8}")
    for who, name, f1, fit_s, pred_s in rows:
        print(f"{who:8} {name:6} {f1:10.4f} {fit_s:8.3f} {pred_s:10.3f} {fit_s + pred_s:8.3f}")
    for name in models:
        s = [r for r in rows if r[1] == name]
        print(f"{name}: reel / scikit-learn time = {(s[1][3] + s[1][4]) / (s[0][3] + s[0][4]):.3f}")


if __name__ == "__main__":
    main()
