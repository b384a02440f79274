"""The suite's binary and multi-class part (issue 38), run by bench/suite.py
(--datasets breast-cancer,wine,digits,mpaa): every reel model at its
defaults, with --target, beside scikit-learn's MLPClassifier, random forest,
decision tree, KNN and RidgeClassifier and LightGBM, on the same rows.

Data sets (the rule: scikit-learn's bundled classification tables that load
without a download, the binary one and the two multi-class ones, plus the
multi-class column the project already fetches):
  breast-cancer  load_breast_cancer(): 569 tumours, 30 features, binary
                 (malignant 212 / benign 357); seeds 42, 1, 2
  wine           load_wine(): 178 wines, 13 features, 3 cultivars; seeds 42, 1, 2
  digits         load_digits(): 1,797 8x8 digits, 64 pixel counts, 10
                 classes; seeds 42, 1
  mpaa           data/movies.csv, the films with a rating (4,924), target
                 mpaa (R, PG-13, PG, NC-17), the other columns features
                 (numbers with missing cells; the 7 genre columns as 0/1);
                 seed 42
Each split 72% train / 8% validation / 20% test by a seeded permutation
(suite.py's split column). reel: `reel compare --target y --split-column
split --threads 1`, one model per run so that its CPU time (user + sys of
the process: reading, fitting, predicting) is its own. The references fit
on the train rows (MLPClassifier and LightGBM stop early on the validation
rows, as reel's nets do), features imputed by the training median with a
missing flag, standardised for the MLP, KNN and RidgeClassifier; each
predicts its most probable class (binary: P > 0.5), reel's defaults for
classes. Scores on the test rows: accuracy and macro-F1; time: CPU seconds
of the fit (references: this process, one thread).
"""
import copy
import csv
import json
import os
import resource
import statistics
import subprocess

import numpy as np
from suite_cache import cached_results

CLASS_DATASETS = {
    "breast-cancer": [42, 1, 2],
    "wine": [42, 1, 2],
    "digits": [42, 1],
    "mpaa": [42],
}
REEL_CLASS_MODELS = ["box", "u", "forest", "tree", "knn", "ridge", "prior"]
CLASS_REFERENCES = ["sk-mlp", "sk-forest", "sk-tree", "sk-knn", "sk-ridge", "lightgbm"]
GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]
NUMERIC = ["year", "length", "budget", "rating", "votes"] + [f"r{i}" for i in range(1, 11)]


def make_class_dataset(name, seed, workdir, root, split_column):
    """Writes workdir/data.csv (features, class column y, split); returns
    (path, reel's data args, X with missing cells as NaN, y, split)."""
    path = os.path.join(workdir, "data.csv")
    if name == "mpaa":
        with open(os.path.join(root, "data", "movies.csv"), newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["mpaa"]]
        feats = NUMERIC + GENRES
        X = np.array([[float(r[c]) if r[c] not in ("", "NA") else np.nan for c in feats] for r in rows])
        y = np.array([r["mpaa"] for r in rows], dtype=object)
    else:
        from sklearn import datasets
        X, c = getattr(datasets, "load_" + name.replace("-", "_"))(return_X_y=True)
        feats = [f"x{k}" for k in range(X.shape[1])]
        y = np.array([f"c{v}" for v in c], dtype=object)
    split = split_column(len(X), seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(feats + ["y", "split"])
        for i in range(len(X)):
            w.writerow(["" if np.isnan(v) else f"{v:.9g}" for v in X[i]] + [y[i], split[i]])
    return path, ["--target", "y"], X, y, split


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_reel_classes(reel, path, data_args, seed, models):
    res = {}
    for m in models:
        cmd = [reel, "compare", "--data", path, *data_args, "--split-column", "split", "--seed", str(seed),
               "--models", m, "--threads", "1", "--format", "json", "--quiet"]
        t0 = cpu_children()
        p = subprocess.run(cmd, capture_output=True, text=True)
        cpu = cpu_children() - t0
        if p.returncode != 0:
            res[m] = {"error": p.stderr.strip()}
            continue
        doc = json.loads(p.stdout)
        for r in doc["models"]:
            res[r["name"]] = {"accuracy": r["metrics"]["accuracy"], "macro_f1": r["metrics"]["macro_f1"],
                              "cpu_seconds": cpu, "fit_seconds": r["fit_seconds"], "rule": r["decision_rule"]}
        for r in doc.get("failed", []):
            res[r["name"]] = {"error": r["error"]}
        print(f"    reel {m}: {cpu:.1f} s CPU, accuracy {res.get(m, {}).get('accuracy', float('nan')):.4f}",
              flush=True)
    return res


def impute(X, train):
    """Training medians for missing cells, plus a flag column where training had any."""
    cols = []
    for j in range(X.shape[1]):
        v = X[:, j]
        miss = np.isnan(v)
        med = np.median(v[train & ~miss]) if (train & ~miss).any() else 0.0
        cols.append(np.where(miss, med, v))
        if miss[train].any():
            cols.append(miss.astype(float))
    return np.column_stack(cols)


def fit_mlp(Xtr, ytr, Xva, yva, classes, seed):
    """MLPClassifier() at its defaults, epoch by epoch, stopped when the
    validation log loss has not improved by tol for n_iter_no_change epochs;
    the best epoch kept (as suite.py's multi-label MLP)."""
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(random_state=seed)
    best, best_loss, bad = None, np.inf, 0
    for _ in range(clf.max_iter):
        clf.partial_fit(Xtr, ytr, classes=classes)
        loss = log_loss(yva, clf.predict_proba(Xva), labels=classes)
        if loss < best_loss - clf.tol:
            best, best_loss, bad = copy.deepcopy(clf), loss, 0
        else:
            bad += 1
            if bad >= clf.n_iter_no_change:
                break
    return best


def fit_lightgbm(Xtr, ytr, Xva, yva, seed):
    import warnings

    import lightgbm as lgb
    warnings.filterwarnings("ignore", message=".*eval_set.*")
    b = lgb.LGBMClassifier(n_estimators=1000, random_state=seed, n_jobs=1, verbose=-1)
    b.fit(Xtr, ytr, eval_set=[(Xva, yva)], callbacks=[lgb.early_stopping(50, verbose=False)])
    return b


def run_class_references(X, y, split, seed, refs):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import RidgeClassifier
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    tr, va, te = split == "train", split == "valid", split == "test"
    Xi = impute(X, tr)
    Xs = StandardScaler().fit(Xi[tr]).transform(Xi)
    classes = np.unique(y[tr])
    fits = {
        "sk-mlp": (Xs, lambda: fit_mlp(Xs[tr], y[tr], Xs[va], y[va], classes, seed)),
        "sk-forest": (Xi, lambda: RandomForestClassifier(random_state=seed, n_jobs=1).fit(Xi[tr], y[tr])),
        "sk-tree": (Xi, lambda: DecisionTreeClassifier(random_state=seed).fit(Xi[tr], y[tr])),
        "sk-knn": (Xs, lambda: KNeighborsClassifier().fit(Xs[tr], y[tr])),
        "sk-ridge": (Xs, lambda: RidgeClassifier().fit(Xs[tr], y[tr])),
        "lightgbm": (Xi, lambda: fit_lightgbm(Xi[tr], y[tr], Xi[va], y[va], seed)),
    }
    res = {}
    for name in refs:
        Xm, fit = fits[name]
        t0 = cpu_self()
        clf = fit()
        cpu = cpu_self() - t0
        p = clf.predict(Xm[te])
        res[name] = {"accuracy": accuracy_score(y[te], p), "macro_f1": f1_score(y[te], p, average="macro"),
                     "cpu_seconds": cpu}
        print(f"    {name}: {cpu:.1f} s CPU, accuracy {res[name]['accuracy']:.4f}", flush=True)
    return res


def run_class_one(name, seed, args, out, reel, root, split_column):
    workdir = os.path.join(out, name, str(seed))

    def compute(want_reel, want_refs):
        path, data_args, X, y, split = make_class_dataset(name, seed, workdir, root, split_column)
        res = {}
        if want_reel:
            res.update(run_reel_classes(reel, path, data_args, seed, want_reel))
        if want_refs:
            res.update(run_class_references(X, y, split, seed, want_refs))
        os.remove(path)
        return res
    return cached_results(workdir, args.fresh, args.models, REEL_CLASS_MODELS, CLASS_REFERENCES, compute,
                          f"  {name} seed {seed}")


def class_summary(results, datasets, models):
    lines = []
    for name in datasets:
        seeds = CLASS_DATASETS[name]
        lines.append(f"\n### {name}: seeds {', '.join(map(str, seeds))}\n")
        lines.append("| model | accuracy mean | min..max | macro-F1 mean | CPU s (median) |")
        lines.append("|---|--:|--:|--:|--:|")
        rows = []
        for m in models:
            runs = [results[name][s].get(m) for s in seeds if m in results[name].get(s, {})]
            runs = [r for r in runs if r and "error" not in r]
            if runs:
                acc = [r["accuracy"] for r in runs]
                rows.append((statistics.mean(acc), m, acc, statistics.mean(r["macro_f1"] for r in runs),
                             statistics.median(r["cpu_seconds"] for r in runs)))
        for mean, m, acc, f1, cpu in sorted(rows, reverse=True):
            lines.append(f"| {m} | {mean:.4f} | {min(acc):.4f}..{max(acc):.4f} | {f1:.4f} | {cpu:.2f} |")
        errors = sorted({m for s in seeds for m, r in results[name].get(s, {}).items() if "error" in r})
        for m in errors:
            lines.append(f"\n{m} failed: {next(r['error'] for s in seeds for k, r in results[name][s].items() if k == m and 'error' in r)}")
    return "\n".join(lines) + "\n"
