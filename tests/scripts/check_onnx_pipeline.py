"""Runs a whole-pipeline ONNX model (`reel export --format onnx`) with
onnxruntime on the raw rows of a CSV and compares it with `reel predict`.

usage: check_onnx_pipeline.py MODEL.onnx DATA.csv PREDICT.json [TOLERANCE]

DATA.csv: the CSV reel predict read; each graph input is fed its column as
the CSV holds it: a float input the cell as a number (NaN when the cell is
empty or a missing token), a string input the cell's text. PREDICT.json:
`reel predict --format json` on DATA.csv. Checks that the probabilities
agree within TOLERANCE (default 1e-5) and, when the graph has a "labels"
output, that its labels are reel's; without one, that the metadata says why.
Exit 0 when all agree, 1 when not, 2 on any other problem.
"""
import csv
import json
import math
import sys

import numpy as np
import onnxruntime as ort

MISSING = {"", "na", "n/a", "nan", "null"}


def number(cell):
    s = cell.strip()
    return math.nan if s.lower() in MISSING else float(s)


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    model_path, data_path, predict_path = argv[1:4]
    tol = float(argv[4]) if len(argv) == 5 else 1e-5
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    labels = json.loads(meta.get("classes") or meta["labels"])  # a binary or multiclass model's columns: its classes
    with open(data_path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    feed = {}
    for inp in sess.get_inputs():
        if inp.name not in header:
            print(f"graph input {inp.name!r} is not a column of {data_path}", file=sys.stderr)
            return 2
        j = header.index(inp.name)
        if inp.type == "tensor(string)":
            feed[inp.name] = np.array([[r[j]] for r in body], dtype=object)
        elif inp.type == "tensor(float)":
            feed[inp.name] = np.array([[number(r[j])] for r in body], dtype=np.float32)
        else:
            print(f"graph input {inp.name!r} has type {inp.type}", file=sys.stderr)
            return 2
    outputs = [o.name for o in sess.get_outputs()]
    results = dict(zip(outputs, sess.run(outputs, feed)))
    with open(predict_path) as f:
        reel = json.load(f)
    R = np.array([[row["probabilities"][name] for name in labels] for row in reel], dtype=np.float64)
    P = results["probabilities"].astype(np.float64)
    if P.shape != R.shape:
        print(f"onnxruntime gave shape {P.shape}, reel {R.shape}", file=sys.stderr)
        return 2
    diff = float(np.max(np.abs(P - R)))
    verdict = 0 if diff <= tol else 1
    what = "no labels output"
    if "labels" in results:
        Y = results["labels"]
        wrong = sum(1 for i, row in enumerate(reel)
                    if sorted(labels[k] for k in range(len(labels)) if Y[i, k]) != sorted(row["predicted"]))
        what = f"{wrong} rows whose labels differ from reel predict's"
        verdict = verdict or (1 if wrong else 0)
    elif not meta.get("labels_output"):
        what = "no labels output and no metadata note saying why"
        verdict = 1
    print(f"onnxruntime {ort.__version__}: {len(feed)} inputs, {P.shape[0]} rows x {P.shape[1]} labels, "
          f"max abs difference {diff:.3g} (tolerance {tol:g}), {what}")
    return verdict


if __name__ == "__main__":
    sys.exit(main(sys.argv))
