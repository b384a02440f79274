"""ctypes bindings of libreel (include/reel.h).

`pip install ./python` builds libreel and puts it inside this package
(libreel.so beside this file); the package holds no Python extension, so
one library serves every Python version. Where it looks, first hit wins:

1. $REEL_LIBRARY, the path of libreel.so itself;
2. the package's own copy (this folder);
3. an installed libreel (`cmake --install`, for a package installed with
   SKBUILD_WHEEL_CMAKE=false): the libdir of `pkg-config reel` (honours
   $PKG_CONFIG_PATH), the dynamic loader's search path
   (ctypes.util.find_library), ~/.local/lib and /usr/local/lib.
"""
import ctypes
import ctypes.util
import json
import logging
import re
import sys
import os
import shutil
import subprocess

_log = logging.getLogger("reel")


def _candidates():
    env = os.environ.get("REEL_LIBRARY")
    if env:
        yield env
        return
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libreel.so")
    if os.path.exists(here):
        yield here
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "reel"], capture_output=True,
                                    text=True, check=True).stdout.strip()
            if libdir:
                yield os.path.join(libdir, "libreel.so")
        except (OSError, subprocess.CalledProcessError):
            pass
    found = ctypes.util.find_library("reel")
    if found:
        yield found
    for d in (os.path.expanduser("~/.local/lib"), "/usr/local/lib"):
        yield os.path.join(d, "libreel.so")


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError(
        "reel: libreel.so not found; `pip install ./python` (from the repository root) builds it into "
        "the package, or install it with cmake (cmake -S . -B build && cmake --build build -j && "
        "cmake --install build --prefix ~/.local), or set REEL_LIBRARY to its path. Tried: "
        + ("; ".join(tried) or "nothing"))


lib, path = _load()

c_size = ctypes.c_size_t
c_str = ctypes.c_char_p
c_strs = ctypes.POINTER(ctypes.c_char_p)
c_doubles = ctypes.POINTER(ctypes.c_double)
c_floats = ctypes.POINTER(ctypes.c_float)
c_bytes = ctypes.POINTER(ctypes.c_ubyte)
c_handle = ctypes.c_void_p


class Progress(ctypes.Structure):
    """reel_progress: the numbers behind a progress message."""
    _fields_ = [("kind", ctypes.c_int), ("model", c_str), ("done", ctypes.c_long), ("total", ctypes.c_long),
                ("loss", ctypes.c_double), ("valid_loss", ctypes.c_double), ("valid_f1", ctypes.c_double),
                ("score", ctypes.c_double), ("samples_per_s", ctypes.c_double), ("elapsed_s", ctypes.c_double),
                ("eta_s", ctypes.c_double), ("what", c_str), ("member", ctypes.c_long), ("members", ctypes.c_long)]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, c_str, ctypes.POINTER(Progress))
PROGRESS_KINDS = {0: None, 1: "epoch", 2: "trial", 3: "feature", 4: "predict"}


def _sig(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)


_sig("reel_version", c_str)
_sig("reel_last_error", c_str)
_sig("reel_set_log", None, LOG_FN, ctypes.c_void_p, ctypes.c_int)
_sig("reel_free", None, ctypes.c_void_p)
_sig("reel_data_from_arrays", c_handle, c_size, c_size, c_doubles, c_strs, c_size, c_strs, c_strs, c_size,
     c_bytes, c_strs)
_sig("reel_data_from_file", c_handle, c_str, c_str)
_sig("reel_data_set_classes", ctypes.c_int, c_handle, c_size, c_strs, ctypes.POINTER(c_size))
_sig("reel_data_set_class_dtype", ctypes.c_int, c_handle, c_str)
_sig("reel_data_target", c_str, c_handle)
_sig("reel_data_rows", c_size, c_handle)
_sig("reel_data_free", None, c_handle)
_sig("reel_model_list", ctypes.c_void_p)
_sig("reel_device_list", ctypes.c_void_p)
_sig("reel_model_definition", ctypes.c_void_p, c_str)
_sig("reel_fit", c_handle, c_str, c_str, c_handle, c_str)
_sig("reel_predict_proba", ctypes.c_int, c_handle, c_handle, c_floats)
_sig("reel_predict", ctypes.c_int, c_handle, c_handle, c_bytes)
_sig("reel_classifier_save", ctypes.c_int, c_handle, c_str)
_sig("reel_classifier_load", c_handle, c_str)
_sig("reel_classifier_free", None, c_handle)
_sig("reel_classifier_labels", c_size, c_handle)
_sig("reel_classifier_target", c_str, c_handle)
_sig("reel_classifier_classes", c_size, c_handle)
_sig("reel_classifier_class", c_str, c_handle, c_size)
_sig("reel_classifier_decision_rule", c_str, c_handle)
_sig("reel_classifier_thresholds", ctypes.c_int, c_handle, c_floats)
_sig("reel_classifier_info", ctypes.c_void_p, c_handle)
_sig("reel_compare_models", ctypes.c_void_p, c_handle, c_str, c_str, c_str)
_sig("reel_search_params", ctypes.c_void_p, c_handle, c_str, c_str, c_str, c_str, c_str)
_sig("reel_select_features", ctypes.c_void_p, c_handle, c_str, c_str, c_str, c_str)
_sig("reel_task_new", c_handle, c_str, c_str)
_sig("reel_task_set_data", ctypes.c_int, c_handle, c_handle)
_sig("reel_task_run", ctypes.c_int, c_handle)
_sig("reel_task_result", c_str, c_handle)
_sig("reel_task_take_classifier", c_handle, c_handle)
_sig("reel_task_free", None, c_handle)


class ReelError(RuntimeError):
    """A failure inside libreel; the message names the key, column or file."""


# The library's messages name its options as the CLI and the JSON options do;
# here they name the Python parameter the user set.
_PY_NAMES = {"threads": "n_jobs", "seed": "random_state"}
_PY_WORDING = [
    (re.compile(r"options: key '(\w+)'"), lambda m: _PY_NAMES.get(m[1], m[1])),
    (re.compile(r"^--device (\S+): "), lambda m: f"device={m[1]!r}: "),
    (re.compile(r"^--device must"), lambda m: "device must"),
    (re.compile(r"^\(arrays\): "), lambda m: "X: "),
]


def python_message(text):
    """A library message with the Python parameter's name in place of the
    CLI's ("--device cuda: ..." -> "device='cuda': ...")."""
    for pattern, repl in _PY_WORDING:
        text = pattern.sub(repl, text)
    return text


def last_error():
    return python_message(lib.reel_last_error().decode("utf-8", "replace"))


def error():
    return ReelError(last_error())


def check(rc):
    if rc != 0:
        raise error()


def take_string(ptr):
    """A string the library allocated, decoded and freed."""
    if not ptr:
        raise error()
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.reel_free(ptr)


def take_json(ptr):
    return json.loads(take_string(ptr))


def _non_finite(value, path):
    """The first key path under value holding NaN or an infinity, or None."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for k, v in items:
        found = _non_finite(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def to_json(value, what):
    """value as JSON bytes for the C API; NaN and infinities (which JSON cannot
    hold) are refused naming the key, as the CLI refuses them."""
    bad = _non_finite(value, "")
    if bad:
        raise ValueError(f"{what}: key '{bad}' must be a finite number, got {_at(value, bad)!r}")
    return json.dumps(value).encode()


def _at(value, path):
    for k in path.split("."):
        value = value[int(k)] if isinstance(value, (list, tuple)) else value[k]
    return value


def threads(n_jobs):
    """The thread count for reel from n_jobs: n_jobs when > 0; else, inside a
    joblib worker (GridSearchCV(n_jobs=k) and the like), the OMP_NUM_THREADS
    joblib gives each worker, so that k workers do not each take every core;
    else 0 (all cores)."""
    if n_jobs is not None and n_jobs > 0:
        return int(n_jobs)
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else 0


def enc(s):
    return None if s is None else str(s).encode("utf-8")


def run_task(name, options, data=None):
    """Runs reel.h's task `name` (the CLI's command of that name, through the
    same function) with options (a dict: the CLI's flags spelt with
    underscores) on data (rows in memory; None: the option "data"); returns
    its JSON document."""
    task = lib.reel_task_new(enc(name), to_json(options, "options"))
    if not task:
        raise error()
    try:
        if data is not None:
            check(lib.reel_task_set_data(task, data.handle))
        check(lib.reel_task_run(task))
        return json.loads(lib.reel_task_result(task).decode("utf-8"))
    finally:
        lib.reel_task_free(task)


# ---- the log: messages to the "reel" logger, progress to a callback when set ----

_progress_callback = None
_verbose = 0  # set by verbosity(): 1 one updating progress line, 2 every message
_line_open = False  # verbose 1: a progress line is on stderr without its newline


def _show(text, progress):
    """verbose= output on stderr: at 1 the progress records (epochs, trials,
    features) rewrite one line in place and the other messages get their
    own; at 2 everything gets its own line."""
    global _line_open
    if progress and _verbose == 1:
        sys.stderr.write("\r" + text[:160].ljust(100))
        _line_open = True
    else:
        sys.stderr.write(("\n" if _line_open else "") + text + "\n")
        _line_open = False
    sys.stderr.flush()


class verbosity:
    """with verbosity(level): reel's messages on stderr while it runs (0:
    none, 1: one progress line, 2: every epoch and message)."""

    def __init__(self, level):
        if level not in (0, 1, 2, True, False, None):
            raise ValueError(f"verbose must be 0, 1 or 2, got {level!r}")
        self.level = int(level or 0)

    def __enter__(self):
        global _verbose
        self.saved, _verbose = _verbose, self.level
        return self

    def __exit__(self, *exc):
        global _verbose, _line_open
        if _line_open:
            sys.stderr.write("\n")
            _line_open = False
        _verbose = self.saved
        return False


def _on_log(user, level, message, progress):
    text = message.decode("utf-8", "replace")
    if _verbose:
        _show(text, bool(progress))
    if progress and _progress_callback is not None:
        p = progress.contents
        record = {f: getattr(p, f) for f, _ in Progress._fields_}
        record["kind"] = PROGRESS_KINDS.get(p.kind)
        record["model"] = p.model.decode() if p.model else None
        record["what"] = p.what.decode() if p.what else None
        try:
            _progress_callback(record)
        except Exception:  # a callback must not unwind through C
            _log.exception("reel: the progress callback failed")
    _log.log(logging.WARNING if level == 1 else logging.INFO, "%s", text)


_c_on_log = LOG_FN(_on_log)  # kept alive for as long as the library may call it
lib.reel_set_log(_c_on_log, None, 0)


def set_progress(callback):
    """callback(record) for every epoch, search trial and feature scored: a dict
    with kind ("epoch", "trial", "feature"), model, done, total, loss,
    valid_loss, valid_f1, score, samples_per_s, elapsed_s, eta_s, what.
    None turns it off. Messages go to logging.getLogger("reel") either way."""
    global _progress_callback
    _progress_callback = callback
