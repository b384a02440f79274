"""Binary and multi-class targets: a 1-D y of strings, integers or booleans,
as scikit-learn users pass it; multi-label stays as it was."""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

import reel


def rows(n=240, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    score = X[:, 0] - 0.5 * X[:, 1]
    klass = np.digitize(score + 0.3 * rng.normal(size=n), [-0.6, 0.6])  # 0, 1, 2
    return X, klass


def test_multiclass_of_strings():
    X, k = rows()
    y = np.array(["R", "PG", "PG-13"])[k]
    clf = reel.Classifier(model="tree", max_depth=4, n_jobs=1).fit(X, y)
    assert list(clf.classes_) == ["PG", "PG-13", "R"] and clf.target_ == "multiclass"
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
    pred = clf.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == y.dtype
    np.testing.assert_array_equal(pred, clf.classes_[P.argmax(axis=1)])
    assert clf.score(X, y) == accuracy_score(y, pred) > 0.8
    assert clf.decision_rule_ == "argmax"


def test_binary_of_integers_cuts_at_half():
    X, k = rows(seed=2)
    y = np.where(k == 2, 7, -3)
    clf = reel.Classifier(model="ridge", n_jobs=1).fit(X, y)
    assert list(clf.classes_) == [-3, 7] and clf.target_ == "binary"
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
    pred = clf.predict(X)
    assert pred.dtype == y.dtype
    np.testing.assert_array_equal(pred, np.where(P[:, 1] > 0.5, 7, -3))
    assert clf.decision_rule_ == "threshold" and clf.score(X, y) > 0.8
    tuned = reel.Classifier(model="ridge", decision="tuned-per-label", valid_fraction=0.3, n_jobs=1).fit(X, y)
    assert tuned.decision_rule_ == "tuned-per-label"
    with pytest.raises(ValueError, match="would predict the second class for every row"):
        reel.Classifier(model="ridge", decision="tuned-global", valid_fraction=0.3, n_jobs=1).fit(X, y)


def test_booleans_and_column_vector():
    X, k = rows(seed=3)
    y = k > 0
    clf = reel.Classifier(model="knn", n_jobs=1).fit(X, y)
    assert list(clf.classes_) == [False, True] and clf.predict(X).dtype == bool
    # an (n, 1) column of classes is the 1-D y (scikit-learn reads it so)
    a = reel.Classifier(model="forest", n_estimators=10, n_jobs=1).fit(X, k)
    b = reel.Classifier(model="forest", n_estimators=10, n_jobs=1).fit(X, k.reshape(-1, 1))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_multilabel_stays_as_it_was(small):
    X, Y = small
    clf = reel.Classifier(model="tree", max_depth=4, n_jobs=1).fit(X, Y)
    assert clf.target_ == "multilabel" and len(clf.classes_) == 3
    assert all(list(c) == [0, 1] for c in clf.classes_)
    assert clf.score(X, Y) == f1_score(Y, clf.predict(X), average="samples", zero_division=0)


def test_save_load_and_pickle(tmp_path):
    X, k = rows(seed=4)
    y = k * 10
    clf = reel.Classifier(model="box", epochs=5, n_jobs=1).fit(X, y)
    P = clf.predict_proba(X)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), P)
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    clf.save(tmp_path / "m.safetensors")
    loaded = reel.Classifier.load(tmp_path / "m.safetensors")
    assert loaded.target_ == "multiclass" and list(loaded.classes_) == [0, 10, 20]
    np.testing.assert_array_equal(loaded.predict_proba(X), P)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_bad_targets_are_refused():
    X, k = rows(seed=5)
    with pytest.raises(ValueError, match="Unknown label type"):
        reel.Classifier(model="prior").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="1 class"):
        reel.Classifier(model="prior").fit(X, np.full(len(X), "a"))
    with pytest.raises(ValueError, match="argmax"):
        reel.Classifier(model="prior", decision="tuned-per-label").fit(X, k)
    with pytest.raises(ValueError, match="rows"):
        reel.Classifier(model="prior").fit(X, k[:-1])
    named = np.array(["a", "b", "c"])[k]
    named[7] = ""
    with pytest.raises(ValueError, match=r"y\[7\] is an empty string: a class needs a name"):
        reel.Classifier(model="prior").fit(X, named)


@pytest.mark.parametrize("y_of", [
    lambda k: np.array(["1", "2", "3"])[k],                  # numbers written as strings stay strings
    lambda k: np.array(["10", "9", "x"], dtype=object)[k],
    lambda k: (k + 1).astype(np.int32),
    lambda k: k.astype(float) + 1,                         # 1.0, 2.0, 3.0
    lambda k: k > 0,
])
def test_load_gives_the_classes_as_fit_saw_them(tmp_path, y_of):
    X, k = rows(seed=8)
    y = y_of(k)
    clf = reel.Classifier(model="prior").fit(X, y)
    clf.save(tmp_path / "m.safetensors")
    loaded = reel.Classifier.load(tmp_path / "m.safetensors")
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.predict(X).dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_label_separator_warns():
    X, k = rows(seed=6)
    y = np.array(["Action|Drama", "Drama", "Comedy"], dtype=object)[k]
    with pytest.warns(UserWarning, match="MultiLabelBinarizer"):
        clf = reel.Classifier(model="prior").fit(X, y)
    assert "Action|Drama" in list(clf.classes_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reel.Classifier(model="prior").fit(X, np.array(["Action", "Drama", "Comedy"])[k])


def test_compare_and_search_on_classes():
    X, k = rows(n=300, seed=7)
    y = np.array(["R", "PG", "PG-13"])[k]
    board = reel.compare(X, y, models=["prior", "tree", "knn"], n_jobs=1)
    assert list(board.columns[1:4]) == ["accuracy", "macro_f1", "log_loss"]
    assert board["model"].iloc[-1] == "prior" and board["accuracy"].iloc[0] > board["accuracy"].iloc[-1] + 0.2
    binary = reel.compare(X, k > 0, models=["prior", "ridge"], n_jobs=1)
    assert {"f1", "roc_auc"} <= set(binary.columns) and binary["model"].iloc[0] == "ridge"
    doc = reel.search(X, y, "tree", grid={"max_depth": [1, 4]}, metric="macro-f1", n_jobs=1)
    assert doc["test_decision_rule"] == "argmax" and "accuracy" in doc["test_metrics"]
    with pytest.raises(reel.ReelError, match="roc-auc is for a binary target"):
        reel.search(X, y, "tree", grid={"max_depth": [1, 4]}, metric="roc-auc", n_jobs=1)
