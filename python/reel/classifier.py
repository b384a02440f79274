"""reel.Classifier: one of reel's models as a scikit-learn estimator."""
import inspect
import os
import tempfile

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score

from . import _lib
from ._data import classes_of, is_class_column, labels_of, set_classes, to_data

# The estimator's own settings; everything else is a param of the model's definition.
_OWN = {"model": "box", "device": "auto", "random_state": 42, "n_jobs": None, "valid_fraction": 0.1,
        "top_categories": 10, "decision": "auto", "decision_rows": "auto", "verbose": 0}


def model_names():
    """The model definitions reel knows ("box", "tree", ...)."""
    return _lib.take_json(_lib.lib.reel_model_list())


def model_definition(model):
    """A definition: kind, summary, params (type, default, help) and search grid."""
    ptr = _lib.lib.reel_model_definition(_lib.enc(model))
    if not ptr:
        raise ValueError(_lib.last_error())
    return _lib.take_json(ptr)


def _plain(v):
    """Params as JSON: NumPy scalars and arrays become Python values."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


class _Model:
    """Owns one reel_classifier handle."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if getattr(self, "handle", None):
            _lib.lib.reel_classifier_free(self.handle)
            self.handle = None


class Classifier(ClassifierMixin, BaseEstimator):
    """A classifier: reel's model `model` ("box", "u", "tree",
    "forest", "knn", "ridge", "prior", "random", ...) with its params as
    keyword arguments (None: the definition's default; see
    reel.model_definition(model)).

    fit(X, Y) trains on every row of X (a NumPy array or a DataFrame; text and
    category columns are one-hot encoded, NaN is missing) and Y: an n x L 0/1
    matrix or DataFrame (multi-label: each row any set of the L labels), or a
    1-D y of classes (strings, integers or booleans: binary or multi-class, as
    scikit-learn's type_of_target says; classes_ holds them sorted). It holds
    out `valid_fraction` of the rows for the nets' early stopping and for
    choosing the decision rule (`decision`: "auto" by default, which is a
    multi-label model's best rule on those rows, the most probable class for
    multi-class, and P > 0.5 for binary, as scikit-learn; a binary model takes
    reel's tuned rules by name, such as decision="tuned-global");
    decision_rows="oof" chooses it on out-of-fold probabilities of every
    training and validation row instead (5 more fits on folds of them; a net
    with members="cross-fit" has its own). random_state seeds everything; n_jobs is the thread count (None:
    all cores, or a joblib worker's share under GridSearchCV(n_jobs=k));
    verbose: 0 silent, 1 a progress line on stderr, 2 every epoch and
    message. predict returns a DataFrame with the label names when fit's Y
    was one. The result is bit-identical to `reel train --test-fraction 0
    --keep-unlabeled` on the same rows, params and seed.
    """

    _estimator_type = "classifier"

    def __init__(self, model="box", device="auto", random_state=42, n_jobs=None, valid_fraction=0.1,
                 top_categories=10, decision="auto", decision_rows="auto", verbose=0, **params):
        self.model = model
        self.verbose = verbose
        self.device = device
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.valid_fraction = valid_fraction
        self.top_categories = top_categories
        self.decision = decision
        self.decision_rows = decision_rows
        self._params = dict(params)

    # ---- params: the estimator's own plus every param of the model's definition ----

    def _model_param_names(self):
        try:
            return list(model_definition(self.model).get("params", {}))
        except ValueError:
            return []

    def get_params(self, deep=True):
        out = {k: getattr(self, k) for k in _OWN}
        for k in self._model_param_names():
            out[k] = self._params.get(k)
        for k, v in self._params.items():  # a key of another model stays visible (fit names it)
            out.setdefault(k, v)
        return out

    def set_params(self, **params):
        model = params.get("model", self.model)
        try:
            names = list(model_definition(model).get("params", {}))
        except ValueError:
            names = []  # an unknown model is named by fit
        valid = set(_OWN) | set(names)
        bad = sorted(k for k in params if k not in valid)
        if bad:  # checked before anything changes
            raise ValueError(f"Invalid parameter {bad[0]!r} for reel model {model!r}; valid: "
                             + ", ".join(sorted(valid)))
        for k, v in params.items():
            if k in _OWN:
                setattr(self, k, v)
            else:
                self._params[k] = v
        return self

    def _options(self):
        o = {"seed": int(self.random_state) if self.random_state is not None else 42,
             "threads": _lib.threads(self.n_jobs),
             "device": self.device, "valid_fraction": float(self.valid_fraction),
             "top_categories": int(self.top_categories)}
        if self.decision is not None:
            o["decision"] = self.decision
        if self.decision_rows is not None:
            o["decision_rows"] = self.decision_rows
        return o

    def _model_params(self):
        return {k: _plain(v) for k, v in self._params.items() if v is not None}

    # ---- fit and predict ----

    def fit(self, X, y=None):
        X = _check_X(X)
        if y is None:
            raise ValueError("reel.Classifier requires y to be passed, but the target y is None")
        self._class_target = is_class_column(y)
        if self._class_target:
            classes, index = classes_of(y)
            data, cols = to_data(X)
            if len(index) != _lib.lib.reel_data_rows(data.handle):
                raise ValueError(f"X has {_lib.lib.reel_data_rows(data.handle)} rows but y has {len(index)}")
            set_classes(data, classes, index)
        else:
            Yarr, names = labels_of(y)
            data, cols = to_data(X, Yarr, label_names=names)
        with _lib.verbosity(self.verbose):
            h = _lib.lib.reel_fit(_lib.enc(self.model), _lib.to_json(self._model_params(), "params"),
                                  data.handle, _lib.to_json(self._options(), "options"))
        if not h:
            raise ValueError(_lib.last_error())
        self._set_fitted(_Model(h), cols, isinstance(X, pd.DataFrame))
        if self._class_target:
            self.classes_ = classes  # y's own values and dtype
        self._y_frame = isinstance(y, pd.DataFrame) and not self._class_target  # predict answers in one too
        return self

    def _set_fitted(self, m, cols, named):
        self.model_ = m
        self.n_features_in_ = len(cols)
        if named:
            self.feature_names_in_ = np.asarray(cols, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._columns = cols
        info = _lib.take_json(_lib.lib.reel_classifier_info(m.handle))
        self.labels_ = list(info["labels"])  # P's columns: the labels, or the classes
        self.target_ = info.get("target", "multilabel")
        self._class_target = self.target_ != "multilabel"
        self.n_outputs_ = 1 if self._class_target else len(self.labels_)
        dtype = (info.get("dataset") or {}).get("class_dtype")
        self.classes_ = _classes_from_names(info["classes"], dtype) if self._class_target else \
            [np.array([0, 1]) for _ in self.labels_]
        self.decision_rule_ = _lib.lib.reel_classifier_decision_rule(m.handle).decode()
        t = np.empty(len(self.labels_), dtype=np.float32)
        _lib.check(_lib.lib.reel_classifier_thresholds(m.handle, t.ctypes.data_as(_lib.c_floats)))
        self.thresholds_ = t.astype(np.float64)
        self.info_ = info

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError("this reel.Classifier is not fitted yet: call fit(X, Y) first")

    def _data(self, X):
        self._check_fitted()
        X = _check_X(X)
        if isinstance(X, pd.DataFrame):
            return to_data(X)[0]
        arr = np.asarray(X)
        if arr.ndim == 2 and arr.shape[1] != self.n_features_in_:
            # scikit-learn's wording, which its check_n_features_in_after_fitting looks for
            raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        return to_data(arr, names=self._columns)[0]

    def _out(self, X, call, dtype, ctype):
        """An (n, L) array of dtype filled by call(model, data, pointer)."""
        data = self._data(X)
        out = np.empty((_lib.lib.reel_data_rows(data.handle), len(self.labels_)), dtype=dtype)
        _lib.check(call(self.model_.handle, data.handle, out.ctypes.data_as(ctype)))
        return out

    def predict_proba(self, X):
        """(n, L) probabilities, one column per label (float32 values as float64);
        for a binary or multi-class y, (n, K), one column per class of classes_,
        each row summing to 1."""
        return self._out(X, _lib.lib.reel_predict_proba, np.float32, _lib.c_floats).astype(np.float64)

    def predict(self, X):
        """(n, L) 0/1 by the model's decision rule (decision_rule_): a DataFrame
        with the label names (labels_) as columns when fit's Y was a DataFrame
        (indexed as X when X is one), else an array. For a binary or
        multi-class y, the n classes (of y's dtype)."""
        Y = self._out(X, _lib.lib.reel_predict, np.uint8, _lib.c_bytes).astype(np.int64)
        if getattr(self, "_class_target", False):
            return self.classes_[np.argmax(Y, axis=1)]
        if getattr(self, "_y_frame", False):
            return pd.DataFrame(Y, columns=self.labels_, index=X.index if isinstance(X, pd.DataFrame) else None)
        return Y

    def score(self, X, y, sample_weight=None):
        """Samples-F1, reel's headline metric (scikit-learn's f1_score average="samples");
        accuracy for a binary or multi-class y (scikit-learn's ClassifierMixin.score)."""
        self._check_fitted()
        if getattr(self, "_class_target", False):
            return super().score(X, y, sample_weight=sample_weight)
        Yarr, _ = labels_of(y)
        return f1_score(Yarr, np.asarray(self.predict(X)), average="samples", zero_division=0,
                        sample_weight=sample_weight)

    def __repr__(self, N_CHAR_MAX=700):
        """Classifier(model='tree', max_depth=5): only what differs from the defaults."""
        shown = [(k, getattr(self, k)) for k in _OWN if k == "model" or getattr(self, k) != _OWN[k]]
        shown += [(k, v) for k, v in self._params.items() if v is not None]
        text = f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in shown) + ")"
        return text if len(text) <= N_CHAR_MAX else text[:N_CHAR_MAX - 4] + "...)"

    # ---- model files: the same safetensors files as `reel train --save` ----

    def save(self, path):
        self._check_fitted()
        _lib.check(_lib.lib.reel_classifier_save(self.model_.handle, _lib.enc(os.fspath(path))))
        return self

    @classmethod
    def load(cls, path):
        """A fitted Classifier from a model file (the CLI's or save()'s)."""
        h = _lib.lib.reel_classifier_load(_lib.enc(os.fspath(path)))
        if not h:
            raise _lib.error()
        m = _Model(h)
        info = _lib.take_json(_lib.lib.reel_classifier_info(h))
        est = cls(model=info["model"], **{k: v for k, v in (info.get("params") or {}).items()})
        est._set_fitted(m, list(info["columns"]), True)
        return est

    # pickling (copy, joblib) goes through the model file's bytes
    def __getstate__(self):
        state = self.__dict__.copy()
        m = state.pop("model_", None)
        if m is not None:
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, "m.safetensors")
                _lib.check(_lib.lib.reel_classifier_save(m.handle, p.encode()))
                with open(p, "rb") as f:
                    state["_model_bytes"] = f.read()
        return state

    def __setstate__(self, state):
        blob = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if blob is not None:
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, "m.safetensors")
                with open(p, "wb") as f:
                    f.write(blob)
                h = _lib.lib.reel_classifier_load(p.encode())
                if not h:
                    raise _lib.error()
                self.model_ = _Model(h)

    def __sklearn_tags__(self):  # scikit-learn >= 1.6; older ones read _more_tags
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.poor_score = True
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True  # text columns are one-hot encoded
        tags.target_tags.required = True
        return tags

    def _more_tags(self):
        return {"multilabel": True, "multioutput": True, "binary_only": False, "requires_y": True,
                "X_types": ["2darray", "string"], "allow_nan": True, "poor_score": True, "_xfail_checks": XFAIL_CHECKS}


def _classes_from_names(names, dtype=None):
    """classes_ of a model read from a file, which keeps class names as text:
    in the dtype fit saw (Python's models record it), else integers or
    numbers again when every name is one, else strings."""
    if dtype:
        dt = np.dtype(dtype)
        if dt.kind == "b":
            return np.array([n == "True" for n in names])
        if dt.kind == "O":
            return np.array(names, dtype=object)
        return np.array(names).astype(dt)
    for kind in (int, float):
        try:
            return np.array([kind(n) for n in names])
        except ValueError:
            pass
    return np.array(names, dtype=object)


def _check_X(X):
    """scikit-learn's checks and messages for arrays (sparse, complex, empty,
    1-D); NaN is allowed (missing). DataFrames keep their column types."""
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X has shape {X.shape}: reel needs at least one row and one feature column")
        return X
    from sklearn.utils.validation import check_array
    return check_array(X, dtype=None, accept_sparse=False, **{_FINITE: "allow-nan"})


# scikit-learn 1.6 renamed check_array's force_all_finite to ensure_all_finite
_FINITE = "ensure_all_finite" if "ensure_all_finite" in inspect.signature(
    __import__("sklearn.utils.validation", fromlist=["check_array"]).check_array).parameters else "force_all_finite"


# scikit-learn's check_estimator checks that do not apply to reel.Classifier, and why.
XFAIL_CHECKS = {
    "check_no_attributes_set_in_init":
        "model params differ per model and arrive as **params (kept in one dict), not as named arguments",
    "check_do_not_raise_errors_in_init_or_set_params":
        "set_params refuses at once a key that is not a param of the model (or **params itself), naming the "
        "valid ones",
}
if tuple(int(p) for p in sklearn.__version__.split(".")[:2] if p.isdigit()) >= (1, 6):
    del XFAIL_CHECKS["check_no_attributes_set_in_init"]  # from 1.6 it accepts **params kept in one dict
