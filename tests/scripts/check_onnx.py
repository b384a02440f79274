"""Runs an ONNX model written by `reel export --format onnx` with onnxruntime
and compares its probabilities with reel's own.

usage: check_onnx.py MODEL.onnx RAW_FEATURES.csv PREDICT.json [TOLERANCE]

RAW_FEATURES.csv: a header of feature names, then one row per example: the
features as reel's preprocessing outputs them before standardisation (the
graph's input). PREDICT.json: `reel predict --format json` on the same rows.
Prints the largest absolute difference; exit 0 when it is within TOLERANCE
(default 1e-5), 1 when not, 2 on any other problem.
"""
import csv
import json
import sys

import numpy as np
import onnxruntime as ort


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    model_path, features_path, predict_path = argv[1:4]
    tol = float(argv[4]) if len(argv) == 5 else 1e-5

    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    labels = json.loads(meta["labels"])
    features = json.loads(meta["features"])

    with open(features_path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != features:
        print(f"feature columns {rows[0]} differ from the model's {features}", file=sys.stderr)
        return 2
    X = np.array([[float(v) for v in r] for r in rows[1:]], dtype=np.float32)

    inputs, outputs = sess.get_inputs(), sess.get_outputs()
    if [i.name for i in inputs] != ["features"] or [o.name for o in outputs] != ["probabilities"]:
        print("graph input/output names are not features/probabilities", file=sys.stderr)
        return 2
    (P,) = sess.run(["probabilities"], {"features": X})

    with open(predict_path) as f:
        reel = json.load(f)
    R = np.array([[row["probabilities"][name] for name in labels] for row in reel], dtype=np.float64)
    if P.shape != R.shape:
        print(f"onnxruntime gave shape {P.shape}, reel {R.shape}", file=sys.stderr)
        return 2
    diff = float(np.max(np.abs(P.astype(np.float64) - R)))
    print(f"onnxruntime {ort.__version__}: {P.shape[0]} rows x {P.shape[1]} labels, "
          f"max abs difference {diff:.3g} (tolerance {tol:g})")
    return 0 if diff <= tol else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
