"""reel.Classifier as scikit-learn code uses it, and against the CLI."""
import json
import pickle
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import reel
from reel import _lib


def test_fit_predict_numpy_and_frames(small):
    X, Y = small
    clf = reel.Classifier(model="tree", max_depth=4, n_jobs=1).fit(X, Y)
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 3) and P.dtype == np.float64
    assert ((P >= 0) & (P <= 1)).all()
    pred = clf.predict(X)
    assert pred.shape == (len(X), 3) and set(np.unique(pred)) <= {0, 1}
    assert clf.labels_ == ["Short", "Drama", "Action"]
    assert list(clf.feature_names_in_) == list(X.columns)
    assert clf.n_features_in_ == 5
    assert isinstance(clf.decision_rule_, str) and clf.thresholds_.shape == (3,)
    assert clf.score(X, Y) > 0.6, "a depth-4 tree learns these labels"
    # a NumPy matrix of the numeric columns works too (names x0.. given by position)
    num = X.drop(columns="mpaa").to_numpy()
    c2 = reel.Classifier(model="prior").fit(num, Y.to_numpy())
    assert c2.predict_proba(num).shape == (len(X), 3)
    assert not hasattr(c2, "feature_names_in_")
    with pytest.raises(ValueError, match="X has 3 features, but Classifier is expecting 4 features as input"):
        c2.predict_proba(num[:, :3])


def test_threshold_rule_predicts_p_above_cut(small):
    X, Y = small
    clf = reel.Classifier(model="knn", decision="threshold", n_jobs=1).fit(X, Y)
    assert clf.decision_rule_ == "threshold"
    np.testing.assert_array_equal(clf.predict(X), (clf.predict_proba(X) > clf.thresholds_).astype(int))


def test_errors_name_the_key(small):
    X, Y = small
    with pytest.raises(ValueError, match="max_depht"):
        reel.Classifier(model="tree", max_depht=3).fit(X, Y)
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        reel.Classifier(model="nope").fit(X, Y)
    with pytest.raises(ValueError, match="0 and 1"):
        reel.Classifier(model="prior").fit(X, Y * 2)
    with pytest.raises(ValueError, match="1 class"):
        reel.Classifier(model="prior").fit(X, np.ones(len(X)))
    with pytest.raises(ValueError, match="Invalid parameter 'lr'"):
        reel.Classifier(model="tree").set_params(lr=0.1)
    clf = reel.Classifier(model="prior").fit(X, Y)
    with pytest.raises(reel.ReelError, match="missing 1 column the model needs: mpaa"):
        clf.predict_proba(X.drop(columns="mpaa"))


def test_params_clone_and_set(small):
    X, Y = small
    clf = reel.Classifier(model="box", epochs=3, width=8, n_jobs=1)
    p = clf.get_params()
    assert p["epochs"] == 3 and p["width"] == 8 and p["lr"] is None and p["model"] == "box"
    assert {"layers", "weight_decay", "batch_size", "ema"} <= set(p)
    c = clone(clf)
    assert c.get_params() == p
    clf.set_params(lr=1e-3, epochs=2)
    assert clf.get_params()["lr"] == 1e-3 and c.get_params()["lr"] is None
    # a clone trains to the same bits
    a = clone(c).fit(X, Y).predict_proba(X)
    b = clone(c).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_pipeline_and_grid_search(small):
    X, Y = small
    pipe = Pipeline([("cols", FunctionTransformer(lambda d: d.drop(columns="budget"))),
                     ("clf", reel.Classifier(model="tree", n_jobs=1))])
    grid = GridSearchCV(pipe, {"clf__max_depth": [1, 4], "clf__min_samples_leaf": [5, 20]}, scoring="f1_samples",
                        cv=3)
    grid.fit(X, Y)
    assert set(grid.best_params_) == {"clf__max_depth", "clf__min_samples_leaf"}
    assert grid.best_params_["clf__max_depth"] == 4, grid.cv_results_["mean_test_score"]
    assert grid.predict(X).shape == Y.shape
    assert 0 < grid.best_score_ <= 1


def test_save_load_round_trip(small, tmp_path):
    X, Y = small
    clf = reel.Classifier(model="forest", n_estimators=10, n_jobs=1).fit(X, Y)
    path = tmp_path / "forest.safetensors"
    clf.save(path)
    back = reel.load(path)
    np.testing.assert_array_equal(clf.predict_proba(X), back.predict_proba(X))
    np.testing.assert_array_equal(clf.predict(X), back.predict(X))
    assert back.decision_rule_ == clf.decision_rule_ and back.labels_ == clf.labels_
    assert back.get_params()["n_estimators"] == 10
    # and through pickle (joblib, copies)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))


def test_compare_returns_a_leaderboard(small):
    X, Y = small
    board = reel.compare(X, Y, models=["prior", "tree", "random"], n_jobs=1)
    assert isinstance(board, pd.DataFrame)
    assert set(board["model"]) == {"prior", "tree", "random"}
    assert list(board["samples_f1"]) == sorted(board["samples_f1"], reverse=True)
    assert {"micro_f1", "macro_f1", "decision", "fit_seconds"} <= set(board.columns)
    doc = reel.search(X, Y, "tree", grid={"max_depth": [2, 6]}, strategy="grid", n_jobs=1)
    tried = [t["params"].get("max_depth") for t in doc["trials"]]
    assert 2 in tried and 6 in tried and "test_metrics" in doc, tried
    sel = reel.select(X, Y, "tree", n_jobs=1)
    assert set(sel["kept"]) | set(sel["dropped"]) == set(X.columns)


def test_progress_records(small):
    X, Y = small
    seen = []
    reel.set_progress(seen.append)
    try:
        reel.Classifier(model="u", epochs=3, patience=100, n_jobs=1).fit(X, Y)
    finally:
        reel.set_progress(None)
    epochs = [r for r in seen if r["kind"] == "epoch"]
    # u is an ensemble of 5: every member's epochs, each record saying which member, under the model's name
    assert all(r["members"] == 5 and r["model"] == "u" for r in epochs)
    for m in range(1, 6):
        assert [r["done"] for r in epochs if r["member"] == m] == [1, 2, 3], m
    assert all(np.isfinite(r["loss"]) for r in epochs)


def test_same_bits_as_the_cli(small, reel_binary, tmp_path):
    """The Python path and `reel train` + `reel predict` on the same rows, params and seed."""
    X, Y = small
    Y = Y[Y.sum(axis=1) > 0]  # the CLI keeps every row with --keep-unlabeled; this keeps the test strict anyway
    X = X.loc[Y.index]
    csv = tmp_path / "small.csv"
    X.join(Y).to_csv(csv, index=False)  # floats written in full (repr), read back to the same doubles
    params = {"box": {"epochs": 4, "width": 16}}
    (tmp_path / "params.json").write_text(json.dumps(params))
    model = tmp_path / "cli.safetensors"
    subprocess.run([reel_binary, "train", "--model", "box", "--data", str(csv), "--labels", "Short,Drama,Action",
                    "--test-fraction", "0", "--keep-unlabeled", "--seed", "11", "--threads", "1", "--device", "cpu",
                    "--params", str(tmp_path / "params.json"), "--save", str(model), "--quiet"], check=True,
                   capture_output=True)
    out = subprocess.run([reel_binary, "predict", "--model-file", str(model), "--data", str(csv), "--format", "json",
                          "--quiet"], check=True, capture_output=True, text=True).stdout
    cli_P = np.array([[r["probabilities"][k] for k in Y.columns] for r in json.loads(out)])
    clf = reel.Classifier(model="box", random_state=11, n_jobs=1, device="cpu", **params["box"])
    py = pd.read_csv(csv, float_precision="round_trip")
    clf.fit(py[list(X.columns)], py[list(Y.columns)])
    P = clf.predict_proba(py[list(X.columns)])
    assert P.dtype == np.float64
    # the CLI's JSON holds the float32 values to at least 15 digits: back to float32 they are exact
    np.testing.assert_array_equal(P, cli_P.astype(np.float32).astype(np.float64))
    # the CLI's model file, loaded here, gives the same bits and the same decisions
    cli = reel.load(model)
    np.testing.assert_array_equal(cli.predict_proba(py[list(X.columns)]), P)
    assert cli.decision_rule_ == clf.decision_rule_
    np.testing.assert_array_equal(cli.predict(py[list(X.columns)]), clf.predict(py[list(X.columns)]))


def test_compare_same_through_the_cli_the_c_api_and_python(small, reel_binary, tmp_path):
    """One compare task: `reel compare`, reel_compare_models and reel.compare
    on the same rows and seed give the same models, metrics, rules and
    ranking (timings aside)."""
    X, Y = small
    Y = Y[Y.sum(axis=1) > 0]
    X = X.loc[Y.index]
    csv = tmp_path / "small.csv"
    X.join(Y).to_csv(csv, index=False)
    models, params = ["prior", "tree", "ridge", "knn"], {"tree": {"max_depth": 4}}
    (tmp_path / "params.json").write_text(json.dumps(params))
    out = subprocess.run([reel_binary, "compare", "--data", str(csv), "--labels", "Short,Drama,Action",
                          "--keep-unlabeled", "--models", ",".join(models), "--params", str(tmp_path / "params.json"),
                          "--metric", "macro-f1", "--seed", "5", "--threads", "1", "--format", "json", "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    cli = json.loads(out)
    py = pd.read_csv(csv, float_precision="round_trip")
    Xp, Yp = py[list(X.columns)], py[list(Y.columns)]
    doc = reel.compare(Xp, Yp, models=models, params=params, metric="macro-f1", random_state=5, n_jobs=1, full=True)
    data = reel.tasks._data(Xp, Yp)
    capi = _lib.take_json(_lib.lib.reel_compare_models(
        data.handle, _lib.enc(",".join(models)), _lib.to_json(params, "params"),
        _lib.to_json({"seed": 5, "threads": 1, "metric": "macro-f1"}, "options")))

    def untimed(d):
        return [{k: v for k, v in m.items() if k not in ("fit_seconds", "predict_seconds")} for m in d["models"]]
    assert [m["name"] for m in cli["models"]] == models
    assert untimed(cli) == untimed(doc) == untimed(capi)
    assert cli["ranking"] == doc["ranking"] == capi["ranking"] and cli["ranked_by"] == "macro-f1"
    board = reel.compare(Xp, Yp, models=models, params=params, metric="macro-f1", random_state=5, n_jobs=1)
    assert list(board["model"]) == cli["ranking"]
    assert list(board["macro_f1"]) == sorted(board["macro_f1"], reverse=True)


def _tensors(path):
    """A model file's tensors: the bytes after its header (whose metadata holds the fit's seconds)."""
    b = open(path, "rb").read()
    return b[8 + int.from_bytes(b[:8], "little"):]


@pytest.mark.parametrize("model,params", [("ridge", {"alpha": 3.0}), ("box", {"epochs": 2, "width": 8})])
def test_one_train_path(small, reel_binary, tmp_path, model, params):
    """`reel train` and Classifier.fit (reel_fit) are one path: a classical model and a net save the same tensors."""
    X, Y = small
    csv = tmp_path / "small.csv"
    X.join(Y).to_csv(csv, index=False)
    (tmp_path / "params.json").write_text(json.dumps({model: params}))
    cli = tmp_path / "cli.safetensors"
    subprocess.run([reel_binary, "train", "--model", model, "--data", str(csv), "--labels", "Short,Drama,Action",
                    "--test-fraction", "0", "--keep-unlabeled", "--seed", "3", "--threads", "1", "--device", "cpu",
                    "--params", str(tmp_path / "params.json"), "--save", str(cli), "--quiet"], check=True,
                   capture_output=True)
    py = pd.read_csv(csv, float_precision="round_trip")
    clf = reel.Classifier(model=model, random_state=3, n_jobs=1, device="cpu", **params)
    clf.fit(py[list(X.columns)], py[list(Y.columns)])
    clf.save(tmp_path / "py.safetensors")
    assert len(_tensors(cli)) > 0
    assert _tensors(tmp_path / "py.safetensors") == _tensors(cli)
    np.testing.assert_array_equal(reel.load(cli).predict_proba(py[list(X.columns)]),
                                  clf.predict_proba(py[list(X.columns)]))


def test_the_cli_value_checks_hold_here_too(small):
    """Issue 28: 1e39 (beyond float32), duplicate label names and NaN options
    are refused as the CLI refuses them, naming what is wrong."""
    X, Y = small
    bad = X.copy()
    bad.loc[3, "rating"] = 1e39
    with pytest.raises(ValueError, match=r"column 'rating', row 4: 1e\+39 is beyond the range of float32"):
        reel.Classifier(model="ridge").fit(bad, Y)
    twice = pd.DataFrame(Y.to_numpy(), columns=["L", "L", "M"])
    with pytest.raises(ValueError, match="label 'L' appears twice"):
        reel.Classifier(model="prior").fit(X, twice)
    with pytest.raises(ValueError, match="key 'valid_fraction' must be a finite number, got nan"):
        reel.Classifier(model="prior", valid_fraction=float("nan")).fit(X, Y)


def test_compare_without_test_rows_measures_nothing(small):
    """Issue 28: no test rows gives NaN scores (null in the JSON), never 0."""
    X, Y = small
    board = reel.compare(X, Y, models=["prior", "ridge"], test_fraction=0, n_jobs=1)
    assert board["samples_f1"].isna().all()
    doc = reel.compare(X, Y, models=["prior"], test_fraction=0, n_jobs=1, full=True)
    assert doc["models"][0]["metrics"]["samples_f1"] is None


def test_devices_lists_the_cpu_and_every_runtime():
    devs = reel.devices()
    assert devs[0]["device"] == "cpu"
    assert {d["runtime"] for d in devs} >= {"cpu", "cuda", "opencl"}
    assert sum(d["auto"] for d in devs) == 1
    for d in devs:
        assert d["device"].startswith(d["runtime"]) and d["detail"]


def test_predict_answers_in_the_labels_names_for_a_frame_y(small):
    X, Y = small
    clf = reel.Classifier(model="tree", max_depth=3, n_jobs=1).fit(X, Y)
    pred = clf.predict(X.iloc[5:9])
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == ["Short", "Drama", "Action"] and list(pred.index) == list(X.index[5:9])
    arr = reel.Classifier(model="tree", max_depth=3, n_jobs=1).fit(X, Y.to_numpy()).predict(X)
    assert isinstance(arr, np.ndarray), "an array Y gives arrays back"
    assert (arr == clf.predict(X).to_numpy()).all()


def test_repr_shows_what_differs_from_the_defaults():
    assert repr(reel.Classifier()) == "Classifier(model='box')"
    assert repr(reel.Classifier(model="tree", max_depth=5, n_jobs=2)) == \
        "Classifier(model='tree', n_jobs=2, max_depth=5)"


def test_verbose_prints_progress_only_when_asked(small, capsys):
    X, Y = small
    reel.Classifier(model="box", epochs=2, ensemble=1, n_jobs=1, device="cpu").fit(X, Y)
    assert capsys.readouterr().err == "", "verbose=0 is silent"
    reel.Classifier(model="box", epochs=2, ensemble=1, n_jobs=1, device="cpu", verbose=2).fit(X, Y)
    err = capsys.readouterr().err
    assert err.count("\n") >= 2 and "epoch" in err, err
    reel.Classifier(model="box", epochs=2, ensemble=1, n_jobs=1, device="cpu", verbose=1).fit(X, Y)
    err = capsys.readouterr().err
    assert "\r" in err and "epoch" in err, err
    reel.compare(X, Y, models=["box"], params={"box": {"epochs": 2, "ensemble": 1}}, n_jobs=1, device="cpu",
                 verbose=2)
    assert "epoch" in capsys.readouterr().err
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        reel.Classifier(model="prior", verbose=5).fit(X, Y)


def test_threads_follow_a_joblib_workers_share(monkeypatch):
    # GridSearchCV(n_jobs=k) runs k loky workers, each told OMP_NUM_THREADS = cores / k
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert reel.Classifier()._options()["threads"] == 3
    assert reel.Classifier(n_jobs=2)._options()["threads"] == 2, "an explicit n_jobs wins"
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert reel.Classifier()._options()["threads"] == 0, "all cores outside joblib"


def test_errors_name_the_python_parameter(small):
    X, Y = small
    with pytest.raises(ValueError, match=r"^device must be auto, cpu"):
        reel.Classifier(model="prior", device="tpu").fit(X, Y)
    with pytest.raises(ValueError, match=r"^n_jobs must be a number >= 0"):
        reel.Classifier(model="prior", n_jobs=100000).fit(X, Y)
    with pytest.raises(ValueError, match=r"^valid_fraction must be"):
        reel.Classifier(model="prior", valid_fraction=2.0).fit(X, Y)
    clf = reel.Classifier(model="prior").fit(X, Y)
    with pytest.raises(RuntimeError, match=r"^X: missing 1 column the model needs: rating"):
        clf.predict(X.drop(columns="rating"))


def test_decision_rows_oof_chooses_the_rule_on_every_training_row(small):
    """Issue 33: decision_rows="oof" (and a cross-fitted net) choose the rule
    on out-of-fold probabilities of every training and validation row."""
    X, Y = small
    doc = reel.compare(X, Y, models=["tree"], decision_rows="oof", n_jobs=1, full=True)
    d, m = doc["dataset"], doc["models"][0]
    assert m["decision_rows"] == {"from": "out-of-fold", "rows": d["train"] + d["valid"]}
    doc = reel.compare(X, Y, models=["box"], params={"box": {"members": "cross-fit", "ensemble": 2, "epochs": 2,
                                                             "width": 8}}, n_jobs=1, full=True)
    assert doc["models"][0]["decision_rows"]["from"] == "out-of-fold"
    assert reel.compare(X, Y, models=["tree"], n_jobs=1, full=True)["models"][0]["decision_rows"]["from"] == \
        "validation"
    clf = reel.Classifier(model="tree", decision_rows="oof", n_jobs=1).fit(X, Y)
    assert clf.get_params()["decision_rows"] == "oof"
    with pytest.raises(ValueError, match="decision_rows"):
        reel.Classifier(model="tree", decision_rows="valid", n_jobs=1).fit(X, Y)
