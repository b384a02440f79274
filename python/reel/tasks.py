"""reel.compare, reel.search and reel.select: the CLI's whole-dataset
commands on arrays or DataFrames, each on a seeded train/valid/test split."""

import pandas as pd

from . import _lib
from ._data import classes_of, is_class_column, labels_of, set_classes, to_data

_METRICS = ["samples_f1", "samples_precision", "samples_recall", "micro_f1", "macro_f1", "hamming_accuracy",
            "subset_accuracy"]
# a binary or multi-class y's (binary adds f1 and roc_auc)
_CLASS_METRICS = ["accuracy", "macro_f1", "log_loss"]


def _option_dict(random_state, n_jobs, device, test_fraction, valid_fraction, top_categories, decision,
                 decision_rows="auto", **more):
    o = {"seed": int(random_state), "threads": _lib.threads(n_jobs), "device": device,
         "test_fraction": float(test_fraction), "valid_fraction": float(valid_fraction),
         "top_categories": int(top_categories)}
    if decision is not None:
        o["decision"] = decision
    if decision_rows is not None:
        o["decision_rows"] = decision_rows
    o.update({k: v for k, v in more.items() if v is not None})
    return o


def _options(*args, **more):
    return _lib.to_json(_option_dict(*args, **more), "options")


def _data(X, Y):
    """X with its target: an n x L 0/1 label matrix, or a 1-D y of classes."""
    if is_class_column(Y):
        classes, index = classes_of(Y)
        data = to_data(X)[0]
        if len(index) != _lib.lib.reel_data_rows(data.handle):
            raise ValueError(f"X has {_lib.lib.reel_data_rows(data.handle)} rows but y has {len(index)}")
        set_classes(data, classes, index)
        return data
    Yarr, names = labels_of(Y)
    return to_data(X, Yarr, label_names=names)[0]


def compare(X, Y, models=None, params=None, metric=None, random_state=42, n_jobs=None, device="auto",
            test_fraction=0.2, valid_fraction=0.1, top_categories=10, decision="auto", decision_rows="auto",
            full=False, verbose=0):
    """Trains each model on the same split of (X, Y), scores it on the test
    rows and returns the leaderboard, best first by metric (None: samples-f1;
    a 1-D y of classes: accuracy, with macro_f1 and log_loss, and for
    binary f1 and roc_auc): one row per
    model with its metrics, decision rule, device and seconds. models: names
    (None: reel's default set); params: {"model": {param: value}}; metric:
    as `reel compare --metric` (samples-f1, micro-f1, macro-f1; classes:
    accuracy, macro-f1, binary also f1, roc-auc). It runs the task of `reel
    compare`, through the same function. decision_rows: "auto" or "oof"
    (each rule chosen on out-of-fold rows, `--decision-rows`). full=True returns the whole JSON
    document instead (as `reel compare --format json`). verbose: 0 silent,
    1 a progress line on stderr, 2 every epoch and message."""
    data = _data(X, Y)
    options = _option_dict(random_state, n_jobs, device, test_fraction, valid_fraction, top_categories, decision,
                           decision_rows, models=",".join(models) if models else None, params=params or None, metric=metric)
    with _lib.verbosity(verbose):
        doc = _lib.run_task("compare", options, data)
    if full:
        return doc
    rows = []
    classes = is_class_column(Y)
    keys = _CLASS_METRICS + (["f1", "roc_auc"] if classes and len(classes_of(Y)[0]) == 2 else []) \
        if classes else _METRICS
    by_name = {m["name"]: m for m in doc["models"]}
    for name in doc["ranking"]:  # best first, by the task's metric
        m = by_name[name]
        row = {"model": m["name"]}
        # null in the JSON: not measured (no test rows), NaN here, never 0
        row.update({k: float("nan") if m["metrics"].get(k) is None else m["metrics"][k] for k in keys})
        row["decision"] = m.get("decision_rule")
        row.update({"device": m.get("device"), "fit_seconds": m.get("fit_seconds"),
                    "predict_seconds": m.get("predict_seconds")})
        rows.append(row)
    return pd.DataFrame(rows)


def search(X, Y, model, grid=None, strategy="one-at-a-time", params=None, folds=0, metric="samples-f1",
           budget=None, random_state=42, n_jobs=None, device="auto", test_fraction=0.2, valid_fraction=0.1,
           top_categories=10, decision="auto", decision_rows="auto", verbose=0):
    """reel search: tunes model's params (grid {param: [values]}, None: the
    model's own grid) without the test rows; returns its JSON document
    (best params, every trial, the best's test metrics). verbose as compare's."""
    data = _data(X, Y)
    with _lib.verbosity(verbose):  # `reel search`'s task, the one function the CLI runs
        return _lib.run_task("search", _option_dict(
            random_state, n_jobs, device, test_fraction, valid_fraction, top_categories, decision, decision_rows,
            model=model, grid=grid or None, strategy=strategy, params=params or None, folds=folds, metric=metric, budget=budget), data)


def select(X, Y, model, method="single-pass", params=None, folds=0, metric="samples-f1", random_state=42,
           n_jobs=None, device="auto", test_fraction=0.2, valid_fraction=0.1, top_categories=10, decision="auto",
           decision_rows="auto", verbose=0):
    """reel select: feature selection without the test rows; returns its JSON
    document (each feature's delta, kept, dropped, test metrics). verbose as
    compare's."""
    data = _data(X, Y)
    with _lib.verbosity(verbose):  # `reel select`'s task, the one function the CLI runs
        return _lib.run_task("select", _option_dict(
            random_state, n_jobs, device, test_fraction, valid_fraction, top_categories, decision, decision_rows,
            model=model, method=method, params=params or None, folds=folds, metric=metric), data)
