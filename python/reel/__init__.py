"""reel: multi-label classifiers on tabular data, from Python.

    import reel
    clf = reel.Classifier(model="box", device="auto").fit(X, Y)
    P = clf.predict_proba(X_new)
    board = reel.compare(X, Y, models=["prior", "tree", "box"])

The models, training and file formats are libreel's (the C library behind
the reel command), loaded through ctypes; see reel._lib for where the
library is looked for."""
from . import _lib
from ._lib import ReelError, set_progress
from ._lib import lib as _lib_handle
from .classifier import XFAIL_CHECKS, Classifier, model_definition, model_names
from .tasks import compare, search, select

__version__ = _lib_handle.reel_version().decode()


def devices():
    """Every device nets can train on: a list of dicts (device, runtime, name,
    detail, usable, gpu, auto, memory), the CPU first; a runtime without
    devices appears once, its detail saying why."""
    return _lib.take_json(_lib_handle.reel_device_list())


def load(path):
    """A fitted Classifier from a model file (`reel train --save` or Classifier.save)."""
    return Classifier.load(path)


__all__ = ["Classifier", "ReelError", "XFAIL_CHECKS", "compare", "devices", "load", "model_definition", "model_names",
           "search", "select", "set_progress"]
