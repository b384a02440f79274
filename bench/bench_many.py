#!/usr/bin/env python3
"""Many box nets at once (issue 13): K nets with different hyperparameters
trained in one launch per epoch, against one net alone, against the same K
trained one after another in PyTorch, and against PyTorch's stacked models
(torch.func: stack_module_state + vmap, every net's step in one call); and
the original's box grid (models/box.json's "grid", each parameter varied on
its own around the defaults: 12 configurations) over 5 folds, 60 nets.

reel is measured through its driver (build/reel_bench_many, bench/many_driver.c):
it makes the nets, hands each the same data (one copy on a device), and for
every epoch calls reel_nn_train_epochs once over all the nets still
training (on OpenCL and CUDA: one kernel launch) and reads their losses.
Times are wall seconds of the epochs (set-up and scoring apart), medians of
--reps runs. The data are the movies' training rows (80/20 split, seed 42;
21 features: the numeric columns, budget_missing, mpaa one-hot; standardised,
skewed columns log-scaled; the 7 genres); --rows takes the first N of them.

Targets (on an H100/H200, scripts/gpu-check.sh runs it): K=256 nets in at
most 2x one net's time; the grid with 5 folds in under 60 s. Here (PoCL on
2 cores) the figures are recorded with a small K, no target.

  /usr/bin/python3 bench/bench_many.py [--device opencl] [--nets 256] [--epochs 1]
      [--batch 10] [--rows N] [--reps 3] [--grid] [--grid-epochs-cap E] [--grid-folds 5]
      [--torch cuda|cpu|none] [--torch-seq 2] [--driver build/reel_bench_many] [--json out.json]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


def movies(path, rows):
    """The training rows of the movies as float32 X (standardised) and Y."""
    import pandas as pd
    df = pd.read_csv(path)
    df = df[df[GENRES].sum(axis=1) > 0].reset_index(drop=True)
    rng = np.random.default_rng(42)
    idx = rng.permutation(len(df))
    df = df.iloc[idx[: int(round(0.8 * len(df)))]].reset_index(drop=True)
    num = ["year", "length", "budget", "rating", "votes"] + [f"r{i}" for i in range(1, 11)]
    X = df[num].astype(float)
    X["budget_missing"] = X["budget"].isna().astype(float)
    X = X.fillna(X.median())
    for c in ["budget", "votes"]:
        X[c] = np.log1p(X[c])
    mpaa = df["mpaa"].fillna("")
    for v in ["", "PG", "PG-13", "R", "NC-17"]:
        X["mpaa_" + (v or "none")] = (mpaa == v).astype(float)
    X = X.to_numpy(np.float64)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    X = np.clip(X, -5, 5).astype(np.float32)
    Y = df[GENRES].to_numpy(np.float32)
    if rows:
        X, Y = X[:rows], Y[:rows]
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def box_defaults():
    with open(os.path.join(ROOT, "models", "box.json")) as f:
        m = json.load(f)
    p = {k: v.get("default") for k, v in m["params"].items()}
    return p, m["grid"]


def net(p, lr, wd, batch, epochs, seed, width=None, head=None, fold=0, folds=1):
    params = {"layers": p["layers"], "head": head or p["head"]}
    if width:
        params["width"] = width
    return {"params": params, "lr": lr, "weight_decay": wd, "batch_size": batch, "epochs": epochs, "seed": seed,
            "fold": fold, "folds": folds}


def many_nets(p, K, batch, epochs):
    """K box nets: learning rates from 1e-4 to 1e-3 (log-spaced), weight
    decays 0 to 1e-2, each its own seed; one batch size for all (PyTorch's
    stacked models need one)."""
    out = []
    for k in range(K):
        lr = 10 ** (-4 + (k % 16) / 15.0)
        wd = [0.0, 1e-4, 1e-3, 1e-2][(k // 16) % 4]
        out.append(net(p, lr, wd, batch, epochs, 1000 + k))
    return out


def grid_nets(p, grid, folds, cap):
    """The original's one-at-a-time grid around the defaults, each
    configuration once per fold."""
    base = {"lr": p["lr"], "weight_decay": p["weight_decay"], "batch_size": p["batch_size"], "epochs": p["epochs"],
            "width": None, "head": p["head"]}
    configs = [dict(base)]
    for key, values in grid.items():
        for v in values:
            c = dict(base)
            c[key] = None if key == "width" and v == p["layers"][0]["width"] else v  # the default's width
            if c not in configs:
                configs.append(c)
    out = []
    for i, c in enumerate(configs):
        for f in range(folds):
            e = min(c["epochs"], cap) if cap else c["epochs"]
            out.append(net(p, c["lr"], c["weight_decay"], c["batch_size"], e, 2000 + 10 * i + f,
                           width=c["width"], head=c["head"], fold=f, folds=folds))
    return configs, out


def drive(driver, data, nets, device, mode):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(nets, f)
    try:
        out = subprocess.run([driver, data, f.name, device, mode], check=True, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return json.loads(out.stdout)


def median_run(reps, fn):
    runs = [fn() for _ in range(reps)]
    runs.sort(key=lambda r: r["train_seconds"])
    return runs[len(runs) // 2]


# ---------------------------------------------------------------- PyTorch


def torch_box(torch, d, L, width=64, depth=8):
    layers, w = [], d
    for _ in range(depth):
        layers += [torch.nn.Linear(w, width), torch.nn.ReLU()]
        w = width
    layers.append(torch.nn.Linear(w, L))
    return torch.nn.Sequential(*layers)


def sync(torch, dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def torch_one_after_another(torch, dev, X, Y, nets, count):
    """The first `count` nets, one after another, each one epoch in eager
    PyTorch (AdamW, BCE on sigmoid outputs, batch as given); seconds per net."""
    n, d = X.shape
    L = Y.shape[1]
    Xd, Yd = torch.tensor(X, device=dev), torch.tensor(Y, device=dev)
    times = []
    for cfg in nets[:count]:
        torch.manual_seed(cfg["seed"])
        m = torch_box(torch, d, L).to(dev)
        opt = torch.optim.AdamW(m.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        lossf = torch.nn.BCEWithLogitsLoss()
        B = cfg["batch_size"]
        for _ in range(3):  # warm-up steps (allocator, kernels)
            opt.zero_grad(set_to_none=True)
            lossf(m(Xd[:B]), Yd[:B]).backward()
            opt.step()
        sync(torch, dev)
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=dev)
        for s in range(0, n, B):
            i = perm[s: s + B]
            opt.zero_grad(set_to_none=True)
            lossf(m(Xd[i]), Yd[i]).backward()
            opt.step()
        sync(torch, dev)
        times.append(time.perf_counter() - t0)
    return times


def torch_stacked(torch, dev, X, Y, nets):
    """All the nets as one stacked model (torch.func; functorch on PyTorch
    1.x): each step one vmapped forward and backward over every net's own
    batch, and AdamW written out over the stacked tensors with each net's
    learning rate and decay; seconds for one epoch."""
    n, d = X.shape
    L = Y.shape[1]
    K, B = len(nets), nets[0]["batch_size"]
    Xd, Yd = torch.tensor(X, device=dev), torch.tensor(Y, device=dev)
    models = []
    for cfg in nets:
        torch.manual_seed(cfg["seed"])
        models.append(torch_box(torch, d, L).to(dev))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    try:
        from torch.func import functional_call, grad, stack_module_state, vmap
        pdict, buffers = stack_module_state(models)
        names, P = list(pdict), list(pdict.values())
        base = torch_box(torch, d, L).to("meta")

        def loss(p, b, x, y):
            return bce(functional_call(base, (dict(zip(names, p)), b), (x,)), y)
    except ImportError:  # PyTorch 1.x
        from functorch import combine_state_for_ensemble, grad, vmap
        fmodel, P, buffers = combine_state_for_ensemble(models)
        P = [p.detach() for p in P]

        def loss(p, b, x, y):
            return bce(fmodel(p, b, x), y)

    gfn = vmap(grad(loss), in_dims=(0, 0, 0, 0))
    lr = torch.tensor([c["lr"] for c in nets], device=dev)
    wd = torch.tensor([c["weight_decay"] for c in nets], device=dev)
    m1 = [torch.zeros_like(p) for p in P]
    m2 = [torch.zeros_like(p) for p in P]
    b1, b2, eps = 0.9, 0.999, 1e-8

    def step(t, idx):
        g = gfn(P, buffers, Xd[idx], Yd[idx])
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        with torch.no_grad():
            for p, gi, mi, vi in zip(P, g, m1, m2):
                shape = (K,) + (1,) * (p.dim() - 1)
                p.mul_((1 - lr * wd).view(shape))
                mi.mul_(b1).add_(gi, alpha=1 - b1)
                vi.mul_(b2).addcmul_(gi, gi, value=1 - b2)
                den = (vi.sqrt() / math.sqrt(bc2)).add_(eps)
                p.sub_((lr / bc1).view(shape) * mi / den)

    perm = torch.argsort(torch.rand(K, n, device=dev), dim=1)
    for t in range(1, 4):  # warm-up
        step(t, perm[:, :B])
    sync(torch, dev)
    t0 = time.perf_counter()
    perm = torch.argsort(torch.rand(K, n, device=dev), dim=1)
    for s in range(0, n, B):
        step(4 + s // B, perm[:, s: s + B])
    sync(torch, dev)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", default=os.path.join(ROOT, "build", "reel_bench_many"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "movies.csv"))
    ap.add_argument("--device", default="opencl")
    ap.add_argument("--nets", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--rows", type=int, default=0, help="the first N training rows (0: all)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--alone", action="store_true", help="also reel's K nets one launch after another")
    ap.add_argument("--grid", action="store_true", help="also the original's box grid over folds")
    ap.add_argument("--grid-folds", type=int, default=5)
    ap.add_argument("--grid-epochs-cap", type=int, default=0, help="at most this many epochs per net (0: the grid's)")
    ap.add_argument("--torch", default="auto", help="cuda, cpu, none or auto (cuda when reel's device is cuda)")
    ap.add_argument("--torch-seq", type=int, default=2, help="PyTorch nets timed one after another (then x K)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if not os.access(a.driver, os.X_OK):
        sys.exit(f"bench_many: no driver at {a.driver}; it is built with the tests (REEL_TESTS=ON, the default; "
                 "the quickstart's build leaves it out), or give --driver")

    X, Y = movies(a.data, a.rows)
    p, grid = box_defaults()
    res = {"device": a.device, "rows": int(X.shape[0]), "features": int(X.shape[1]), "labels": int(Y.shape[1]),
           "batch": a.batch, "epochs": a.epochs, "nets": a.nets, "reps": a.reps,
           "load_before": os.getloadavg()[0]}
    print(f"load average before: {res['load_before']:.2f}; {X.shape[0]} rows x {X.shape[1]} features, "
          f"{Y.shape[1]} labels; device {a.device}", flush=True)
    fd, data = tempfile.mkstemp(suffix=".bin")
    with os.fdopen(fd, "wb") as f:
        f.write(np.array(X.shape + (Y.shape[1],), dtype=np.int64).tobytes())
        f.write(X.tobytes())
        f.write(Y.tobytes())
    try:
        nets = many_nets(p, a.nets, a.batch, a.epochs)
        one = median_run(a.reps, lambda: drive(a.driver, data, nets[:1], a.device, "together"))
        many = median_run(a.reps, lambda: drive(a.driver, data, nets, a.device, "together"))
        res["reel_one"], res["reel_many"] = one, many
        t1, tk = one["train_seconds"] / a.epochs, many["train_seconds"] / a.epochs
        print(f"reel [{one['device']}] 1 box net:   {t1:9.3f} s/epoch", flush=True)
        print(f"reel [{many['device']}] {a.nets} box nets: {tk:9.3f} s/epoch, {many['shared_max']} in one launch: "
              f"{tk / t1:.2f}x one net (target <= 2x on a GPU)", flush=True)
        if a.alone:
            alone = median_run(1, lambda: drive(a.driver, data, nets, a.device, "alone"))
            res["reel_alone"] = alone
            ta = alone["train_seconds"] / a.epochs
            print(f"reel [{alone['device']}] {a.nets} nets one launch after another: {ta:9.3f} s/epoch "
                  f"(together: {tk / ta:.2f}x of it)", flush=True)
        tdev = a.torch
        if tdev == "auto":
            tdev = "cuda" if a.device.startswith("cuda") else "none"
        torch = None
        if tdev != "none":
            try:
                import torch as torch_mod
                torch = torch_mod
            except ImportError:
                print("PyTorch: not installed here, its columns are skipped")
        if torch is not None:
            seq = torch_one_after_another(torch, tdev, X, Y, nets, a.torch_seq)
            per = statistics.median(seq)
            stacked = torch_stacked(torch, tdev, X, Y, nets)
            res["torch"] = {"device": tdev, "version": torch.__version__, "eager_per_net_seconds": seq,
                            "eager_K_seconds_extrapolated": per * a.nets, "stacked_K_seconds": stacked}
            print(f"PyTorch {torch.__version__} [{tdev}] eager, one net: {per:9.3f} s/epoch; {a.nets} one after "
                  f"another: {per * a.nets:9.3f} s (x{a.nets} of the {len(seq)} timed); reel / that: "
                  f"{tk / (per * a.nets):.4f}x", flush=True)
            print(f"PyTorch [{tdev}] torch.func stacked {a.nets} nets: {stacked:9.3f} s/epoch; reel / that: "
                  f"{tk / stacked:.3f}x", flush=True)
        if a.grid:
            configs, gnets = grid_nets(p, grid, a.grid_folds, a.grid_epochs_cap)
            g = median_run(1, lambda: drive(a.driver, data, gnets, a.device, "together"))
            res["grid"] = {"configs": configs, "folds": a.grid_folds, "epochs_cap": a.grid_epochs_cap, "run": g}
            total = g["setup_seconds"] + g["train_seconds"] + g["score_seconds"]
            print(f"reel [{g['device']}] the box grid: {len(configs)} configurations x {a.grid_folds} folds = "
                  f"{len(gnets)} nets, up to {g['max_epochs']} epochs, {g['shared_max']} in one launch: "
                  f"{total:.2f} s in all (set-up {g['setup_seconds']:.2f}, epochs {g['train_seconds']:.2f}, "
                  f"scoring {g['score_seconds']:.2f}; target < 60 s on a GPU)", flush=True)
    finally:
        os.unlink(data)
    res["load_after"] = os.getloadavg()[0]
    print(f"load average after: {res['load_after']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
