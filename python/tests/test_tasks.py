"""reel.search and reel.select run the tasks of reel.h that `reel search`
and `reel select` run: the CLI's --format json, the task through the C API
on the CSV, and Python on the rows in memory give the same documents."""
import json
import subprocess

import pandas as pd
import pytest

import reel
from reel import _lib


def _without_seconds(doc):
    """A document less what differs from run to run: each trial's fit seconds."""
    for t in doc.get("trials", []):
        t.pop("seconds")
    return doc


@pytest.mark.parametrize("command,flags,options", [
    ("search", ["--strategy", "grid", "--folds", "3"], {"strategy": "grid", "folds": 3,
                                                         "grid": {"max_depth": [2, 5], "min_samples_leaf": [1, 8]}}),
    ("select", ["--method", "backward"], {"method": "backward"}),
])
def test_one_path_through_the_cli_the_c_api_and_python(small, reel_binary, tmp_path, command, flags, options):
    X, Y = small
    keep = Y.sum(axis=1) > 0  # the CLI drops rows without a label; Python keeps every row it is given
    X, Y = X[keep], Y[keep]
    csv = tmp_path / "small.csv"
    X.join(Y).to_csv(csv, index=False)  # floats written in full (repr), read back to the same doubles
    if "grid" in options:
        (tmp_path / "grid.json").write_text(json.dumps(options["grid"]))
        flags = flags + ["--grid", str(tmp_path / "grid.json")]
    out = subprocess.run([reel_binary, command, "--model", "tree", "--data", str(csv), "--labels",
                          "Short,Drama,Action", "--seed", "7", "--threads", "1", "--quiet", "--format", "json",
                          *flags], check=True, capture_output=True, text=True).stdout
    cli = _without_seconds(json.loads(out))
    capi = _without_seconds(_lib.run_task(command, {"model": "tree", "data": str(csv), "labels": "Short,Drama,Action",
                                                    "seed": 7, "threads": 1, **options}))
    py = pd.read_csv(csv, float_precision="round_trip")
    run = reel.search if command == "search" else reel.select
    doc = _without_seconds(run(py[list(X.columns)], py[list(Y.columns)], "tree", random_state=7, n_jobs=1,
                               **options))
    assert ("trials" if command == "search" else "kept") in cli
    assert capi == cli
    assert doc == cli


def test_search_refuses_as_the_cli_does(small):
    X, Y = small
    with pytest.raises(reel.ReelError, match="resume needs journal FILE"):
        _lib.run_task("search", {"model": "tree", "resume": True})
    with pytest.raises(reel.ReelError, match="strategy must be one-at-a-time, coordinate, grid or random"):
        reel.search(X, Y, "tree", strategy="random")
