"""Loads a reel net's model file into PyTorch and reproduces reel's
probabilities: the weights with safetensors.torch.load_file into the
nn.Sequential that the model's params describe (Linear layers, each followed
by its activation module; "none" adds no module; then an nn.Dropout where the
layer has "dropout"; a first {"kind": "plr"} entry is the PLR module below),
reel's standardisation from the file's metadata (when the kind asks for it),
the net's own input transform from its kind state when it has one (signed
log1p of some columns, centre and scale, clip, or "robust"'s smooth clip),
then sigmoid or softmax.

usage: check_torch_load.py MODEL.safetensors RAW_FEATURES.csv PREDICT.json [TOLERANCE]

RAW_FEATURES.csv: a header of feature names, then one row per example: the
features as reel's preprocessing outputs them before standardisation.
PREDICT.json: `reel predict --format json` on the same rows (or expected
probabilities in the same shape). Prints the
largest absolute difference; exit 0 when it is within TOLERANCE (default
1e-5), 1 when not, 2 on any other problem.
"""
import csv
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
KIND_STATE = {"head", "epochs_run", "best_epoch", "input"}
INPUT_KEYS = {"mode", "log", "clip", "clip_at", "center", "scale"}
OPTIONAL_INPUT_KEYS = {"numeric"}


def input_transform(x, t):
    """The mlp kind's input transform, in double precision as reel computes it."""
    if not INPUT_KEYS <= set(t) <= INPUT_KEYS | OPTIONAL_INPUT_KEYS:
        raise ValueError(f"kind_state.input keys {sorted(t)}: this check knows {sorted(INPUT_KEYS)}")
    log = torch.tensor(t["log"], dtype=torch.bool)
    x = torch.where(log, torch.sign(x) * torch.log1p(torch.abs(x)), x)
    z = (x - torch.tensor(t["center"], dtype=torch.float64)) / torch.tensor(t["scale"], dtype=torch.float64)
    clip = torch.tensor(t["clip"], dtype=torch.bool)
    if t["mode"] == "robust":
        return torch.where(clip, z / torch.sqrt(1 + (z / t["clip_at"]) ** 2), z)
    return torch.where(clip, z.clamp(-t["clip_at"], t["clip_at"]), z)


class PLR(torch.nn.Module):
    """Per numeric column: v = 2 pi c x for k frequencies, then
    ReLU(W [sin v, cos v] + b); the other columns pass through after."""

    def __init__(self, numeric, k, width):
        super().__init__()
        self.num = [j for j, f in enumerate(numeric) if f]
        self.rest = [j for j, f in enumerate(numeric) if not f]
        q = len(self.num)
        self.frequencies = torch.nn.Parameter(torch.zeros(q, k))
        self.weight = torch.nn.Parameter(torch.zeros(q, width, 2 * k))
        self.bias = torch.nn.Parameter(torch.zeros(q, width))

    def forward(self, x):
        v = 2 * torch.pi * x[:, self.num, None].double() * self.frequencies.double()[None]
        f = torch.cat([torch.sin(v), torch.cos(v)], dim=2).float()
        e = torch.relu(torch.einsum("nqt,qet->nqe", f, self.weight) + self.bias)
        return torch.cat([e.flatten(1), x[:, self.rest]], dim=1)


def hidden_widths(layers, scale):
    """The Linear layers' widths, scaled by params["width"] when set: every
    width times width / (first width), halves rounded up, at least 1."""
    widths = [layer["width"] for layer in layers]
    if scale is None:
        return widths
    return [max(1, (w * scale * 2 + widths[0]) // (widths[0] * 2)) for w in widths]


def build_net(params, d, L, numeric):
    modules, width, layers = [], d, params["layers"]
    if layers and layers[0].get("kind") == "plr":
        plr = layers[0]
        modules.append(PLR(numeric, plr["frequencies"], plr["width"]))
        n_num = sum(1 for f in numeric if f)
        width = n_num * plr["width"] + d - n_num
        layers = layers[1:]
    for layer, out in zip(layers, hidden_widths(layers, params.get("width"))):
        modules.append(torch.nn.Linear(width, out))
        act = layer.get("activation", "relu")
        if act != "none":
            modules.append(ACTIVATIONS[act]())
        if layer.get("dropout", 0) > 0:
            modules.append(torch.nn.Dropout(layer["dropout"]))
        width = out
    modules.append(torch.nn.Linear(width, L))
    return torch.nn.Sequential(*modules)


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    model_path, features_path, predict_path = argv[1:4]
    tol = float(argv[4]) if len(argv) == 5 else 1e-5

    with safe_open(model_path, framework="pt") as f:
        meta = {k: v for k, v in f.metadata().items()}
    if meta.get("kind") != "mlp":
        print(f"{model_path} is not a net (kind {meta.get('kind')})", file=sys.stderr)
        return 2
    params = json.loads(meta["params"])
    pre = json.loads(meta["preprocessing"])
    labels = json.loads(meta["labels"])
    features = json.loads(meta["features"])
    kind_state = json.loads(meta.get("kind_state", "{}"))
    unknown = set(kind_state) - KIND_STATE
    if unknown:
        print(f"kind_state holds {sorted(unknown)}, which this check does not know", file=sys.stderr)
        return 2

    numeric = kind_state.get("input", {}).get("numeric", [1] * len(features))
    net = build_net(params, len(features), len(labels), numeric)
    # strict: every tensor in the file must be a parameter of this Sequential and vice versa.
    net.load_state_dict(load_file(model_path), strict=True)
    net.eval()

    with open(features_path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != features:
        print(f"feature columns {rows[0]} differ from the model's {features}", file=sys.stderr)
        return 2
    raw = torch.tensor([[float(v) for v in r] for r in rows[1:]], dtype=torch.float64)
    # reel standardises in double precision, then rounds to float32.
    X = raw.float()
    if meta.get("standardize") == "true":
        mean = torch.tensor([f["mean"] for f in pre["features"]], dtype=torch.float64)
        scale = torch.tensor([f["scale"] for f in pre["features"]], dtype=torch.float64)
        X = ((raw - mean) / scale).float()
    if "input" in kind_state:  # likewise double, then float32
        X = input_transform(X.double(), kind_state["input"]).float()

    with torch.no_grad():
        logits = net(X)
        P = torch.softmax(logits, dim=1) if params["head"] == "softmax" else torch.sigmoid(logits)

    with open(predict_path) as f:
        reel = json.load(f)
    R = torch.tensor([[row["probabilities"][name] for name in labels] for row in reel], dtype=torch.float64)
    if P.shape != R.shape:
        print(f"torch gave shape {tuple(P.shape)}, reel {tuple(R.shape)}", file=sys.stderr)
        return 2
    diff = float((P.double() - R).abs().max())
    print(f"torch {torch.__version__}: {P.shape[0]} rows x {P.shape[1]} labels, "
          f"max abs difference {diff:.3g} (tolerance {tol:g})")
    return 0 if diff <= tol else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
