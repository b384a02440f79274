"""NumPy arrays and pandas DataFrames to libreel datasets.

Numeric and boolean columns go over as float64 (NaN is missing); object,
string and category columns as text, which reel one-hot encodes over the
most frequent training values exactly as it does a CSV's text column
(None, NaN and "NA" are missing)."""
import ctypes

import numpy as np
import pandas as pd

from . import _lib


class Data:
    """Owns one reel_data handle."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if getattr(self, "handle", None):
            _lib.lib.reel_data_free(self.handle)
            self.handle = None


def _frame(X, names=None):
    """X as a DataFrame with string column names."""
    if isinstance(X, pd.DataFrame):
        df = X
        cols = [str(c) for c in df.columns]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D (rows x features), got shape {arr.shape}; "
                             "reshape a single feature with X.reshape(-1, 1)")
        df = pd.DataFrame(arr)
        cols = list(names) if names is not None else [f"x{j}" for j in range(arr.shape[1])]
        if len(cols) != arr.shape[1]:
            raise ValueError(f"X has {arr.shape[1]} features, but the model was fitted with {len(cols)}")
    if len(set(cols)) != len(cols):
        raise ValueError("X has duplicate column names")
    return df, cols


def _is_numeric(s):
    return (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) and \
        not isinstance(s.dtype, pd.CategoricalDtype)


def _numeric_of(s):
    """A numeric or object column as float64, or None when it holds text."""
    if _is_numeric(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if s.dtype == object:
        try:
            return pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError):
            return None
    return None


def labels_of(Y):
    """Y as an (n, L) uint8 0/1 matrix and its label names."""
    if isinstance(Y, pd.DataFrame):
        names = [str(c) for c in Y.columns]
        arr = Y.to_numpy()
    else:
        arr = np.asarray(Y)
        names = None
    if arr.ndim != 2:
        raise ValueError(f"Y must be a 0/1 matrix (rows x labels), got shape {arr.shape}: reel is a multi-label "
                         "classifier (one column per label; a single label is Y.reshape(-1, 1))")
    if arr.shape[1] == 0:
        raise ValueError("Y has no label columns")
    try:
        num = arr.astype(np.float64)
    except (ValueError, TypeError):
        raise ValueError("Y must hold 0 and 1 only") from None
    if not np.isin(num, (0.0, 1.0)).all():
        raise ValueError("Y must hold 0 and 1 only")
    if names is None:
        names = [f"y{k}" for k in range(arr.shape[1])]
    return np.ascontiguousarray(num.astype(np.uint8)), names


def is_class_column(Y):
    """Whether Y is one column of classes (binary or multi-class) rather than a
    0/1 label matrix: 1-D, or one column that holds more than 0 and 1 (scikit-learn's
    column vector, which it reads as 1-D)."""
    arr = Y.to_numpy() if isinstance(Y, pd.DataFrame) else np.asarray(Y)
    if arr.ndim == 1:
        return True
    if arr.ndim != 2 or arr.shape[1] != 1:
        return False
    try:
        return not np.isin(arr.astype(np.float64), (0.0, 1.0)).all()
    except (ValueError, TypeError):
        return True


def classes_of(y):
    """A 1-D y's sorted classes (y's own dtype, as numpy.unique sorts them) and
    each row's class index; scikit-learn's errors for a y that holds no classes."""
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    arr = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-D (one class per row) or a 0/1 label matrix, got shape {arr.shape}")
    check_classification_targets(arr)
    kind = type_of_target(arr)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: {kind!r}; reel takes a binary or multi-class y, or an n x L 0/1 "
                         "label matrix")
    classes, index = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y has 1 class ({classes[0]!r}); a classifier needs two or more classes")
    if classes.dtype.kind in "OUS" and any(str(c) == "" for c in classes):
        at = next(i for i, c in enumerate(arr) if str(c) == "")
        raise ValueError(f"y[{at}] is an empty string: a class needs a name (a model file and predict name each "
                         "class; give the rows without a class no row, or a name such as 'none')")
    if classes.dtype.kind in "OUS" and any("|" in str(c) for c in classes):
        import warnings
        warnings.warn("y holds classes with '|' (such as " + repr(next(str(c) for c in classes if "|" in str(c)))
                      + "): reel takes each whole string as one class; for label sets, make y a 0/1 matrix "
                      "with sklearn.preprocessing.MultiLabelBinarizer", UserWarning, stacklevel=3)
    return classes, np.ascontiguousarray(index.reshape(-1), dtype=np.uintp)


def set_classes(data, classes, index):
    """Makes a Data handle's target the class column `index` into `classes`."""
    names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        raise ValueError("y's classes must differ as text: " + ", ".join(repr(n) for n in names))
    rc = _lib.lib.reel_data_set_classes(data.handle, len(names), _strings(names),
                                        index.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)))
    if rc != 0:
        raise ValueError(_lib.last_error())
    # the model file keeps class names as text: their dtype brings them back as y had them
    _lib.check(_lib.lib.reel_data_set_class_dtype(data.handle, classes.dtype.str.encode()))


def to_data(X, Y=None, label_names=None, names=None):
    """A reel dataset of X (and labels Y), as a Data handle, plus its column names."""
    df, cols = _frame(X, names)
    n = len(df)
    if n == 0:
        raise ValueError("X has no rows")
    num_cols, num_names, text_cols, text_names = [], [], [], []
    for j, name in enumerate(cols):
        s = df.iloc[:, j]
        v = _numeric_of(s)
        if v is not None:
            if np.isinf(v).any():
                raise ValueError(f"column '{name}' holds an infinite value")
            num_cols.append(v)
            num_names.append(name)
        else:
            text_cols.append(s)
            text_names.append(name)
    d, t = len(num_cols), len(text_cols)
    Xn = np.ascontiguousarray(np.column_stack(num_cols) if d else np.zeros((n, 0)), dtype=np.float64)
    text = None
    if t:
        text = (ctypes.c_char_p * (n * t))()
        for q, s in enumerate(text_cols):
            for i, v in enumerate(s.tolist()):
                if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                    continue
                text[i * t + q] = str(v).encode("utf-8")
    L = 0
    Yp = None
    lab = None
    if Y is not None:
        Yarr, found = labels_of(Y)
        if len(Yarr) != n:
            raise ValueError(f"X has {n} rows but Y has {len(Yarr)}")
        L = Yarr.shape[1]
        Yp = Yarr.ctypes.data_as(_lib.c_bytes)
        lab = _strings(label_names if label_names is not None else found)
    h = _lib.lib.reel_data_from_arrays(
        n, d, Xn.ctypes.data_as(_lib.c_doubles) if d else None, _strings(num_names) if d else None,
        t, text, _strings(text_names) if t else None, L, Yp, lab)
    if not h:
        raise ValueError(_lib.last_error())
    return Data(h), cols


def _strings(values):
    arr = (ctypes.c_char_p * len(values))()
    for k, v in enumerate(values):
        arr[k] = str(v).encode("utf-8")
    return arr
