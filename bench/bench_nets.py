#!/usr/bin/env python3
"""reel's nets (box, U) side by side with PyTorch, in one run, as ratios.

CPU (issue: net speed on the CPU): one epoch of box and U at batch 10 (or
--batches) on the movies training rows; reel (`--device cpu`) against PyTorch eager on the
same thread count (torch.set_num_threads), same features, one net on each
side (reel with "ensemble": 1), the same loss (BCEWithLogitsLoss) and
optimiser (AdamW with the model's lr, betas, eps and weight decay from
models/<name>.json), and the same recipe: the model's label smoothing
(targets 1 - e/2 and e/2), learning-rate schedule and warm-up, and its
moving average of the weights (a float64 sum updated every 10 steps and
after an epoch's last, as host/nn/train.c does). PyTorch runs a tight loop
over pre-made tensors (a randperm per epoch, index_select per step) with
AdamW's for-loop and its foreach implementation; --dataloader adds a
DataLoader loop. Both flush denormals to zero (reel always does). Before
timing, the script checks that the two sides hold the same net on the same
features: reel trains one epoch and saves its weights, PyTorch loads them
into its nn.Sequential and predicts reel's test rows (one net: "ensemble": 1).

Ensembles (CPU, and on the GPU the movies cases at batch 10): reel at the
model's default ensemble (5 members; on the CPU trained in parallel threads
up to --threads) against PyTorch training as many nets one after another,
and as one stacked model (the K nets' Linears as torch.baddbmm over
[K, B, W] tensors, dropout drawn per element, so per member; vmap(grad)
cannot run dropout on PyTorch 1.13) whose AdamW runs over the stacked
tensors, each net on its own row order; same recipe.

GPU (issue: net speed on the GPU): epoch time and samples/s of box and U
on the movies training rows at batch 10, 256 and 4096 and on a synthetic
1,000,000 x 64 set with 20 labels at batch 4096, for reel (`--device gpu`),
PyTorch eager, PyTorch with the whole training step captured in a CUDA
graph, and torch.compile (where it works; "n/a" with the reason where it
does not). Peak GPU memory, and for each case the physical floors: FLOPs
per epoch over the GPU's nominal FP32 peak, bytes per epoch over its
nominal memory bandwidth, and kernels per step x steps x the measured
per-kernel time. Without a GPU the script says so and skips these cases.

How reel is timed: `reel train --valid-fraction 0` on a split column the
script writes (so both sides train on exactly the same rows and reel's
epoch holds no validation pass); an epoch's time is the `seconds` column of
<out>/history_<model>.csv (shuffle + steps + loss read-back). That column
has millisecond resolution, so when an epoch takes under 20 ms the time is
taken instead as (fit_seconds(E2) - fit_seconds(E1)) / (E2 - E1) from two
runs ("differential"), which also drops start-up costs.

--cpu-time (CPU cases, meant for --threads 1 on a machine that other work
shares): both sides are timed in CPU seconds of their process instead of
wall seconds, so time spent waiting for a core does not count. PyTorch:
time.process_time() around each epoch; reel: the CPU time of `reel train`
runs (getrusage of the child), as the difference between a run of 1 epoch
and one of 1 + --epochs epochs, per epoch.

  /usr/bin/python3 bench/bench_nets.py [--device cpu|gpu|both] [--reps 3] [--epochs 3]
        [--threads 2] [--batches 10] [--models box,u] [--dataloader] [--cpu-time] [--cases SUBSTR,...]
        [--synthetic-dir DIR] [--quick] [--films N] [--no-ensembles | --ensembles-only] [--json out.json]

--quick: a small subset (5,000 films, 1 rep, 1 epoch) as a smoke test;
without a GPU it also dry-runs the GPU case code (synthetic CSV included)
on the CPU, labelled as such. Needs a built reel (build/reel), numpy and
torch (python3-torch on Debian); run with /usr/bin/python3.
"""
import argparse
import concurrent.futures
import csv
import datetime
import io
import json
import math
import os
import platform
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # reel's side still runs; PyTorch columns say n/a
    torch = None

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
REEL = os.path.join(ROOT, "build", "reel")
CPU_TIME = False  # --cpu-time: CPU cases timed in process CPU seconds
sys.path.insert(0, BENCH)
from bench_classical import LABELS, NUMERIC, movie_features, write_split_csv  # noqa: E402

# Nominal dense FP32 (non-tensor-core) peaks and HBM bandwidths from the
# vendors' data sheets, matched on the device name (most specific first).
# Nominal: boost clocks, not what a given board sustains.
GPU_PEAKS = [
    ("H200", 67e12, 4.8e12),
    ("H100 NVL", 60e12, 3.9e12),
    ("H100 PCIe", 51e12, 2.0e12),
    ("H100", 67e12, 3.35e12),  # SXM5 ("NVIDIA H100 80GB HBM3")
    ("A100-SXM4-80GB", 19.5e12, 2.04e12),
    ("A100", 19.5e12, 1.56e12),
    ("L40S", 91.6e12, 0.864e12),
    ("L4", 30.3e12, 0.3e12),
]

SYNTH_ROWS, SYNTH_D, SYNTH_L, SYNTH_SEED = 1_000_000, 64, 20, 1234


class ReelError(Exception):
    pass


# ----------------------------------------------------------------- helpers

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".3f", na="n/a"):
    return na if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return None


def machine_info():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__ if torch else None, "commit": commit,
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "load_start": loadavg()}


def net_def(model):
    """The model's default layers, head and AdamW settings from models/<name>.json."""
    path = os.path.join(ROOT, "models", f"{model}.json")
    if not os.path.exists(path):
        raise SystemExit(f"--models: no {path}; nets here: box, u")
    with open(path) as f:
        p = json.load(f)["params"]
    d = {k: p[k]["default"] for k in ("layers", "head", "lr", "weight_decay", "beta1", "beta2", "eps")}
    # the training recipe; a key the model lacks means reel's default (none)
    for k, none in (("label_smoothing", 0.0), ("ema", 0.0), ("lr_schedule", "constant"), ("warmup_epochs", 0),
                    ("ensemble", 1)):
        d[k] = p[k]["default"] if k in p and p[k].get("default") is not None else none
    if d["head"] != "sigmoid":
        raise SystemExit(f"models/{model}.json: head '{d['head']}' is not sigmoid; this bench builds sigmoid nets")
    return d


def layer_dims(layers, d, L):
    """(in, out) of every Linear, the output layer included."""
    dims, w = [], d
    for ly in layers:
        dims.append((w, ly["width"]))
        w = ly["width"]
    dims.append((w, L))
    return dims


def build_torch_net(layers, d, L):
    """nn.Sequential with reel's module numbering (see host/nn/spec.h)."""
    mods, w = [], d
    for ly in layers:
        if ly.get("kind", "dense") != "dense":
            raise SystemExit(f"layer kind '{ly['kind']}': this bench builds dense layers only")
        mods.append(nn.Linear(w, ly["width"]))
        if ly["activation"] == "relu":
            mods.append(nn.ReLU())
        elif ly["activation"] == "tanh":
            mods.append(nn.Tanh())
        if ly.get("dropout", 0):  # after the activation, an index of its own, as reel numbers it
            mods.append(nn.Dropout(ly["dropout"]))
        w = ly["width"]
    mods.append(nn.Linear(w, L))
    return nn.Sequential(*mods)


def adamw_kwargs(nd):
    return {"lr": nd["lr"], "weight_decay": nd["weight_decay"], "betas": (nd["beta1"], nd["beta2"]),
            "eps": nd["eps"]}


def smoothed(Y, eps):
    """reel's targets with label smoothing e: 1 - e/2 for a positive, e/2 for a negative."""
    return Y * (1 - eps) + eps / 2 if eps > 0 else Y


def epoch_lr(nd, epoch, epochs):
    """reel_nn_epoch_lr (host/nn/train.c): linear warm-up over the first
    warmup_epochs (epoch counted from 1), then constant or cosine to 0."""
    lr, w = nd["lr"], max(int(nd["warmup_epochs"]), 0)
    if epoch <= w:
        return lr * epoch / w
    if nd["lr_schedule"] == "cosine" and epochs > w:
        return lr * (1 + math.cos(math.pi * (epoch - w - 1) / (epochs - w))) / 2
    return lr


class WeightAverage:
    """reel's moving average of the weights (host/nn/train.c): a float64 sum
    of the live weights, updated every 10 steps and after an epoch's last
    step with decay^(steps since the last update). Off when decay is 0."""

    EVERY = 10

    def __init__(self, params, decay):
        self.params, self.decay, self.last = list(params), decay, 0
        self.sums = [torch.zeros_like(p, dtype=torch.float64) for p in self.params] if decay > 0 else None

    def after_step(self, step, last_of_epoch):
        if self.sums is None or not (step - self.last >= self.EVERY or last_of_epoch):
            return
        a = self.decay ** (step - self.last)
        with torch.no_grad():
            for s, p in zip(self.sums, self.params):
                s.mul_(a).add_(p.detach(), alpha=1 - a)
        self.last = step


def optimizer_accepts(name):
    import inspect
    return name in inspect.signature(torch.optim.AdamW).parameters


# --------------------------------------------------------------- features

def featurise(path, labels=LABELS):
    """reel's preprocessing of the movies split CSV (docs/file-formats.md, "Input format"):
    median imputation + <col>_missing when training rows miss values, mpaa
    one-hot over the 10 most frequent training values + other, every column
    standardised with the training mean and population std (scale 1 for a
    constant column). Returns train X, Y and test X, float32."""
    X, Y, train = movie_features(path, labels)
    Y = Y.astype(np.float32)
    X = standardise(X, train)
    return X[train], Y[train], X[~train]


def standardise(X, train):
    mu, sd = X[train].mean(0), X[train].std(0)
    sd[sd == 0] = 1
    return ((X - mu) / sd).astype(np.float32)


def synthetic_arrays(rows, d, L, seed):
    """rows x d features N(0,1) rounded to 3 decimals (as the CSV holds
    them) and L labels from a random linear model plus noise (about 27%
    positives each, so the task is learnable); float32."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, L)) / math.sqrt(d)
    X = np.round(rng.standard_normal((rows, d)), 3)
    Y = (X @ W + 0.5 * rng.standard_normal((rows, L)) > 0.7).astype(np.float32)
    return X.astype(np.float32), Y


def csv_chunk(X, Y):
    buf = io.StringIO()
    np.savetxt(buf, np.hstack([X, Y]), fmt=",".join(["%.3f"] * X.shape[1] + ["%d"] * Y.shape[1]))
    return buf.getvalue()


def write_synthetic(path, X, Y):
    """The CSV, formatted in parallel chunks (savetxt is slow per row)."""
    chunk = 50_000
    parts = [(X[s:s + chunk], Y[s:s + chunk]) for s in range(0, len(X), chunk)]
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(X.shape[1])] + [f"y{k}" for k in range(Y.shape[1])]) + "\n")
        try:
            with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count()) as ex:
                for text in ex.map(csv_chunk, *zip(*parts)):
                    f.write(text)
        except (OSError, concurrent.futures.process.BrokenProcessPool):
            f.seek(0)
            f.truncate()
            f.write(",".join([f"x{i}" for i in range(X.shape[1])] + [f"y{k}" for k in range(Y.shape[1])]) + "\n")
            for x, y in parts:
                f.write(csv_chunk(x, y))


# ------------------------------------------------------------------- reel

class GpuMemSampler:
    """Polls nvidia-smi's device-wide memory.used while a reel run lasts;
    peak minus the figure just before the run = what that process took
    (its CUDA context and cuBLAS workspace included)."""

    def __init__(self):
        self.ok = shutil.which("nvidia-smi") is not None
        self.base = self.read() if self.ok else None
        self.peak = self.base
        self.stop = threading.Event()
        self.thread = None

    @staticmethod
    def read():
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                                  "-i", "0"], capture_output=True, text=True, timeout=10).stdout
            return float(out.strip().splitlines()[0])
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            return None

    def _loop(self):
        while not self.stop.is_set():
            v = self.read()
            if v is not None and (self.peak is None or v > self.peak):
                self.peak = v
            self.stop.wait(0.05)

    def __enter__(self):
        if self.ok and self.base is not None:
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread:
            self.thread.join()

    def used_mib(self):
        return self.peak - self.base if self.ok and self.base is not None and self.peak is not None else None


def reel_train(data_args, model, batch, epochs, device, threads, save=None, sample_mem=False, params=None):
    """One `reel train` run; returns fit seconds, per-epoch seconds (history
    CSV), the dataset summary and, with sample_mem, the GPU memory it took."""
    # the params file lives beside --out, not in it: reel refuses an --out folder that holds files it does not write
    with tempfile.TemporaryDirectory(prefix="reel-netbench-") as tmp:
        out = os.path.join(tmp, "out")
        cmd = [REEL, "train", "--model", model, *data_args, "--valid-fraction", "0", "--batch-size", str(batch),
               "--epochs", str(epochs), "--device", device, "--threads", str(threads), "--out", out,
               "--format", "json", "--quiet"]
        if save:
            cmd += ["--save", save]
        if params:
            pfile = os.path.join(tmp, "params.json")
            with open(pfile, "w") as f:
                json.dump({model: params}, f)
            cmd += ["--params", pfile]
        sampler = GpuMemSampler() if sample_mem else None
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            if sampler:
                with sampler:
                    p = subprocess.run(cmd, capture_output=True, text=True)
            else:
                p = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            raise ReelError(f"could not run {REEL}: {e}")
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ReelError(f"reel train --model {model} --device {device} --batch-size {batch} failed "
                            f"(exit {p.returncode}): {last}")
        doc = json.loads(p.stdout)
        hist = os.path.join(out, f"history_{model}.csv")
        with open(hist, newline="") as f:
            secs = [float(r["seconds"]) for r in csv.DictReader(f)]
        if len(secs) != epochs:
            raise ReelError(f"{hist}: {len(secs)} epochs recorded, {epochs} asked for")
        preds = None
        if save:
            with open(os.path.join(out, "predictions.csv"), newline="") as f:
                preds = [[float(r[f"p_{l}"]) for l in doc["dataset"]["labels"]] for r in csv.DictReader(f)]
        return {"fit": doc["model"]["fit_seconds"], "seconds": secs, "dataset": doc["dataset"], "cpu_s": cpu_s,
                "device": doc["model"].get("device"), "preds": preds,
                "gpu_mem_mib": sampler.used_mib() if sampler else None}


ONE_NET = {"ensemble": 1}  # reel's side of a 1 vs 1 comparison


def ensemble_of(params, model=None):
    """Members reel trains with these params (None: the model's default)."""
    if params and "ensemble" in params:
        return params["ensemble"]
    return net_def(model)["ensemble"] if model else 5


def reel_epoch_times(data_args, model, batch, epochs, runs, device, threads, sample_mem=False, params=ONE_NET):
    """Per-epoch seconds of reel: from the history of `runs` runs of `epochs`
    epochs; epochs under 20 ms (the history's ms resolution) are timed as
    the fit-time difference of a 2-epoch and an E-epoch run instead. With
    --cpu-time (CPU only): the CPU-time difference of a 1-epoch and a
    (1 + epochs)-epoch run, per epoch, once per run."""
    if CPU_TIME and device == "cpu":
        per = []
        for _ in range(runs):
            a = reel_train(data_args, model, batch, 1, device, threads, params=params)
            b = reel_train(data_args, model, batch, 1 + epochs, device, threads,
                           params=params)
            per.append((b["cpu_s"] - a["cpu_s"]) / epochs)
        return {"method": f"CPU seconds, differential 1/{1 + epochs} epochs", "epoch_s": per, "gpu_mem_mib": None,
                "device": a["device"]}
    first = reel_train(data_args, model, batch, epochs, device, threads, sample_mem=sample_mem, params=params)
    mem = [first["gpu_mem_mib"]]
    secs = list(first["seconds"])
    if ensemble_of(params) > 1:  # the history is member 0's alone: time whole fits, 1 and 1 + E epochs
        per = []
        for _ in range(runs):
            a = reel_train(data_args, model, batch, 1, device, threads, sample_mem=sample_mem, params=params)
            b = reel_train(data_args, model, batch, 1 + epochs, device, threads, sample_mem=sample_mem,
                           params=params)
            per.append((b["fit"] - a["fit"]) / epochs)
            mem += [a["gpu_mem_mib"], b["gpu_mem_mib"]]
        return {"method": f"differential 1/{1 + epochs} epochs", "epoch_s": per, "gpu_mem_mib": max_or_none(mem),
                "device": first["device"]}
    if median(secs) >= 0.02:
        for _ in range(runs - 1):
            r = reel_train(data_args, model, batch, epochs, device, threads, sample_mem=sample_mem, params=params)
            secs += r["seconds"]
            mem.append(r["gpu_mem_mib"])
        return {"method": "history", "epoch_s": secs, "gpu_mem_mib": max_or_none(mem), "device": first["device"]}
    est = sum(secs) / len(secs) if sum(secs) > 0 else first["fit"] / epochs
    e_lo = 2
    e_hi = e_lo + min(max(math.ceil(1.5 / max(est, 1e-5)), 10), 20000)
    per = []
    for _ in range(runs):
        a = reel_train(data_args, model, batch, e_lo, device, threads, sample_mem=sample_mem, params=params)
        b = reel_train(data_args, model, batch, e_hi, device, threads, sample_mem=sample_mem, params=params)
        per.append((b["fit"] - a["fit"]) / (e_hi - e_lo))
        mem += [a["gpu_mem_mib"], b["gpu_mem_mib"]]
    return {"method": f"differential {e_lo}/{e_hi} epochs", "epoch_s": per, "gpu_mem_mib": max_or_none(mem),
            "device": first["device"]}


def max_or_none(xs):
    xs = [x for x in xs if x is not None]
    return max(xs) if xs else None


def reel_has_gpu():
    try:
        out = subprocess.run([REEL, "info"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"reel info failed: {e}"
    # "cuda: cuda:0 NAME (...)" for a device, "cuda: no device: why" without one
    for line in out.splitlines():
        if line.startswith("cuda:"):
            rest = line[5:].strip()
            return not rest.startswith("no device") and not rest.endswith(": not usable)"), rest
    return False, "reel info printed no cuda line"


# ------------------------------------------------------------ PyTorch, CPU

def safetensors_read(path):
    """{name: float32 array} from a safetensors file (reel's model file)."""
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=np.float32).reshape(t["shape"])
    return out


def check_same_net(split_csv, model, data, threads):
    """reel trains one epoch and saves its weights; the PyTorch net loads
    them and predicts reel's test rows from this script's features: a small
    difference means same features, same net, same head. The net's input
    is plain standardisation here ("input": "standard", as this script's
    features), not the default log-then-standardise of skewed columns."""
    nd = net_def(model)
    with tempfile.TemporaryDirectory(prefix="reel-netbench-") as tmp:
        save = os.path.join(tmp, "m.safetensors")
        r = reel_train(data["reel_args"], model, 10, 1, "cpu", threads, save=save,
                       params=dict(ONE_NET, input="standard"))
        ds = r["dataset"]
        if len(ds["features"]) != data["d"] or len(ds["labels"]) != data["L"] or ds["train"] != data["n"]:
            raise SystemExit(f"features differ: reel has {len(ds['features'])} features, {len(ds['labels'])} labels, "
                             f"{ds['train']} train rows; this script {data['d']}, {data['L']}, {data['n']}")
        net = build_torch_net(nd["layers"], data["d"], data["L"])
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in safetensors_read(save).items()})
        net.eval()  # dropout is training only
        with torch.no_grad():
            P = torch.sigmoid(net(torch.from_numpy(data["Xtest"]))).numpy()
        R = np.array(r["preds"], dtype=np.float64)
        if R.shape != P.shape:
            raise SystemExit(f"check: reel predicted {R.shape}, PyTorch {P.shape}")
        return float(np.max(np.abs(R - P)))


def torch_cpu_epochs(nd, X, Y, batch, epochs, threads, variant, seed=0):
    """One fresh net + optimiser, `epochs` epochs; seconds of each epoch."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    n, d = X.shape
    net = build_torch_net(nd["layers"], d, Y.shape[1])
    kw = adamw_kwargs(nd)
    if optimizer_accepts("foreach"):
        kw["foreach"] = variant == "foreach"
    elif variant == "foreach":
        return None
    opt = torch.optim.AdamW(net.parameters(), **kw)
    lossf = nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(seed)
    times, last_loss = [], None
    Y = smoothed(Y, nd["label_smoothing"])
    avg = WeightAverage(net.parameters(), nd["ema"])
    steps_per_epoch, step = math.ceil(n / batch), 0
    if variant == "dataloader":
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=batch, shuffle=True,
                                             generator=g)
    clock = time.process_time if CPU_TIME else time.perf_counter
    for ep in range(epochs):
        t0 = clock()
        tot = 0.0
        for group in opt.param_groups:
            group["lr"] = epoch_lr(nd, ep + 1, epochs)
        if variant == "dataloader":
            batches = loader
        else:
            perm = torch.randperm(n, generator=g)
            batches = ((X.index_select(0, perm[s:s + batch]), Y.index_select(0, perm[s:s + batch]))
                       for s in range(0, n, batch))
        for k, (xb, yb) in enumerate(batches):
            opt.zero_grad(set_to_none=True)
            loss = lossf(net(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            avg.after_step(step, k + 1 == steps_per_epoch)
            tot += loss.item() * xb.shape[0]
        times.append(clock() - t0)
        last_loss = tot / n
    return times, last_loss


# ------------------------------------------------------------ PyTorch, GPU

def measure_launch(dev):
    """Seconds per tiny op: issued eagerly back to back (PyTorch dispatch +
    cudaLaunchKernel, the host-side cost), and replayed from a CUDA graph
    (the device-side minimum per kernel)."""
    x = torch.zeros(1, device=dev)
    for _ in range(100):
        x.add_(1)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(1000):
        x.add_(1)
    torch.cuda.synchronize()
    eager = (time.perf_counter() - t0) / 1000
    graph = None
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            x.add_(1)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(1000):
                x.add_(1)
        g.replay()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(5):
            g.replay()
        torch.cuda.synchronize()
        graph = (time.perf_counter() - t0) / 5000
    except Exception as e:  # noqa: BLE001 - reported, the rest goes on
        print(f"  CUDA graph launch timing failed: {e}")
    return eager, graph


def torch_gpu_case(nd, Xh, Yh, batch, reps, mode, dev, seed=0):
    """PyTorch on the GPU: 'eager', 'graph' (whole step captured: gather,
    forward, loss, backward, AdamW, loss sum; one graph for full batches,
    one for the last) or 'compile' (torch.compile of the net). Returns
    per-epoch seconds, peak allocated MiB, kernels per step (eager only)."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(dev)
    X = torch.from_numpy(Xh).to(dev)
    Y = smoothed(torch.from_numpy(Yh).to(dev), nd["label_smoothing"])
    n, d = X.shape
    torch.manual_seed(seed)
    net = build_torch_net(nd["layers"], d, Y.shape[1]).to(dev)
    # the learning rate stays the model's (its schedule is per epoch; the defaults are constant, no warm-up)
    avg = WeightAverage(net.parameters(), nd["ema"])
    at = {"step": 0}
    kw = adamw_kwargs(nd)
    if mode == "graph":
        kw["capturable"] = True
        kw["foreach"] = True
    elif optimizer_accepts("fused"):
        kw["fused"] = True
    else:
        kw["foreach"] = True
    opt = torch.optim.AdamW(net.parameters(), **kw)
    lossf = nn.BCEWithLogitsLoss()
    fwd = torch.compile(net) if mode == "compile" else net
    # batch sizes of the epoch's steps: full ones, then the rest (if any)
    sizes = list(dict.fromkeys([min(batch, n)] + ([n % batch] if n % batch else [])))
    loss_acc = torch.zeros((), device=dev)

    def step(idx):
        xb, yb = X.index_select(0, idx), Y.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = lossf(fwd(xb), yb)
        loss.backward()
        opt.step()
        loss_acc.add_(loss.detach() * idx.numel())

    idx0 = {m: torch.arange(m, device=dev) for m in sizes}
    # warm-up: allocator, cuBLAS heuristics, compilation of both batch shapes
    warm = torch.cuda.Stream() if mode == "graph" else torch.cuda.current_stream()
    warm.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(warm):
        for _ in range(5):
            for m in sizes:
                step(idx0[m])
    torch.cuda.current_stream().wait_stream(warm)
    torch.cuda.synchronize()

    graphs = {}
    if mode == "graph":
        for m in sizes:
            static_idx = idx0[m].clone()
            opt.zero_grad(set_to_none=True)  # grads allocated inside the graph's pool
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                step(static_idx)
            graphs[m] = (g, static_idx)
        torch.cuda.synchronize()

    kernels = None
    if mode == "eager":
        kernels = count_kernels(lambda: step(idx0[sizes[0]]))

    def epoch():
        loss_acc.zero_()
        perm = torch.randperm(n, device=dev)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            if graphs:
                g, static_idx = graphs[idx.numel()]
                static_idx.copy_(idx)
                g.replay()
            else:
                step(idx)
            at["step"] += 1
            avg.after_step(at["step"], s + batch >= n)
        return float(loss_acc) / n  # waits for the GPU

    times, t_all, last = [], 0.0, None
    while len(times) < reps or (t_all < 1.0 and len(times) < 100):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        last = epoch()
        dt = time.perf_counter() - t0
        times.append(dt)
        t_all += dt
    if not math.isfinite(last):
        raise RuntimeError(f"training loss is {last}")
    peak = torch.cuda.max_memory_allocated(dev) / 2**20
    graphs.clear()  # the rest goes when this returns; the next case empties the cache
    return {"epoch_s": times, "mem_mib": peak, "kernels_per_step": kernels, "loss": last,
            "optimizer": ",".join(k for k in ("fused", "foreach", "capturable") if kw.get(k))}


class StackedNets:
    """K nets of the same layers as one model of stacked tensors: a Linear
    is torch.baddbmm over [K, B, in] x [K, in, out], so every member runs
    on its own batch in the same call, and dropout (nn.functional.dropout
    on the [K, B, W] activations) draws its mask per element, so per
    member. (vmap(grad) cannot run dropout here: functorch 1.13 refuses
    random ops in vmap's default mode, and with randomness="different" says
    "Cannot ask for different inplace randomness on an unbatched tensor".)
    The weights start as the K nn.Sequential nets' own."""

    def __init__(self, layers, models):
        self.acts, self.drops, self.P = [], [], []
        linears = [[m for m in net if isinstance(m, nn.Linear)] for net in models]
        for li in range(len(linears[0])):
            W = torch.stack([lin[li].weight.detach().t() for lin in linears]).contiguous()  # [K, in, out]
            b = torch.stack([lin[li].bias.detach() for lin in linears]).unsqueeze(1).contiguous()  # [K, 1, out]
            self.P += [W.requires_grad_(), b.requires_grad_()]
            ly = layers[li] if li < len(layers) else {"activation": "none"}
            self.acts.append(ly.get("activation", "none"))
            self.drops.append(float(ly.get("dropout", 0) or 0))

    def __call__(self, x):
        for li, (act, p) in enumerate(zip(self.acts, self.drops)):
            x = torch.baddbmm(self.P[2 * li + 1], x, self.P[2 * li])
            if act == "relu":
                x = torch.relu(x)
            elif act == "tanh":
                x = torch.tanh(x)
            if p > 0:
                x = nn.functional.dropout(x, p, training=True)
        return x


def torch_stacked_epochs(nd, Xh, Yh, batch, epochs, K, dev, threads=None):
    """K nets as one stacked model (StackedNets): each step one forward and
    backward over every net's own batch (its own row order; the loss is
    the sum of the members' mean losses, so each member's gradient is its
    own), then one AdamW over the stacked tensors (elementwise, so the same
    as K optimisers); the model's recipe. Returns the seconds of each epoch
    (all K nets) and the method used."""
    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    X = torch.from_numpy(Xh).to(dev)
    Y = smoothed(torch.from_numpy(Yh).to(dev), nd["label_smoothing"])
    n, d = X.shape
    L = Y.shape[1]
    torch.manual_seed(0)
    models = [build_torch_net(nd["layers"], d, L).to(dev) for _ in range(K)]
    net = StackedNets(nd["layers"], models)
    api = "stacked baddbmm over [K, B, W], dropout per element"
    bce = nn.functional.binary_cross_entropy_with_logits
    kw = adamw_kwargs(nd)
    if optimizer_accepts("foreach"):
        kw["foreach"] = True
    opt = torch.optim.AdamW(net.P, **kw)
    avg = WeightAverage(net.P, nd["ema"])
    sync = torch.cuda.synchronize if dev != "cpu" else (lambda: None)
    clock = time.process_time if CPU_TIME and dev == "cpu" else time.perf_counter

    def step(idx):  # idx: [K, B] rows, one row order per member
        opt.zero_grad(set_to_none=True)
        z = net(X[idx])
        loss = bce(z, Y[idx], reduction="none").mean(dim=(1, 2)).sum()
        loss.backward()
        opt.step()

    step(torch.argsort(torch.rand(K, n, device=dev), dim=1)[:, :batch])  # warm-up
    sync()
    times, at = [], 0
    for ep in range(epochs):
        for group in opt.param_groups:
            group["lr"] = epoch_lr(nd, ep + 1, epochs)
        t0 = clock()
        perm = torch.argsort(torch.rand(K, n, device=dev), dim=1)
        for s in range(0, n, batch):
            step(perm[:, s:s + batch])
            at += 1
            avg.after_step(at, s + batch >= n)
        sync()
        times.append(clock() - t0)
    return times, api


def ensemble_case(a, data, model, batch, threads, dev):
    """reel's default ensemble against PyTorch's K nets one after another
    and stacked; returns the row (epoch seconds of all K nets)."""
    nd = net_def(model)
    K = nd["ensemble"]
    row = {"model": model, "batch": batch, "members": K, "n": data["n"], "threads": threads, "device": dev}
    try:
        r = reel_epoch_times(data["reel_args"], model, batch, a.epochs, a.reps, "cpu" if dev == "cpu" else "gpu",
                             threads, params=None)
        row["reel"] = {"epoch_s": median(r["epoch_s"]), "all": r["epoch_s"], "method": r["method"]}
    except ReelError as e:
        print(f"  reel FAILED: {e}")
        row["reel"] = {"error": str(e)}
    if torch is not None and (dev == "cpu" or torch.cuda.is_available()):
        try:  # one after another: each net's median epoch, summed
            per = []
            for k in range(K):
                if dev == "cpu":
                    t, _ = torch_cpu_epochs(nd, torch.from_numpy(data["X"]), torch.from_numpy(data["Y"]), batch,
                                            a.epochs, threads, "foreach", seed=k)
                else:
                    t = torch_gpu_case(nd, data["X"], data["Y"], batch, a.reps, "eager", dev, seed=k)["epoch_s"]
                per.append(median(t))
            row["torch_seq"] = {"epoch_s": sum(per), "per_net": per}
        except Exception as e:  # noqa: BLE001 - reported as n/a
            row["torch_seq"] = {"error": f"{type(e).__name__}: {e}"}
        try:
            t, api = torch_stacked_epochs(nd, data["X"], data["Y"], batch, max(a.epochs, a.reps), K, dev, threads)
            row["torch_stacked"] = {"epoch_s": median(t), "all": t, "api": api}
        except Exception as e:  # noqa: BLE001
            row["torch_stacked"] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    get = lambda k: row.get(k, {}).get("epoch_s")  # noqa: E731
    row["ratio_reel_over_seq"] = ratio(get("reel"), get("torch_seq"))
    row["ratio_reel_over_stacked"] = ratio(get("reel"), get("torch_stacked"))
    errs = "; ".join(f"{k}: {row[k]['error'][:160]}" for k in ("reel", "torch_seq", "torch_stacked")
                     if "error" in row.get(k, {}))
    print(f"{model:6} {K:>7} {fmt(get('reel')):>8} {fmt(get('torch_seq')):>12} {fmt(get('torch_stacked')):>14} "
          f"{fmt(row['ratio_reel_over_seq'], '.2f'):>9}x {fmt(row['ratio_reel_over_stacked'], '.2f'):>11}x"
          f"{'  ' + errs if errs else ''}", flush=True)
    return row


def ensemble_header(what):
    print(what)
    print(f"{'model':6} {'members':>7} {'reel s':>8} {'torch seq s':>12} {'torch stack s':>14} {'reel/seq':>10} "
          f"{'reel/stacked':>12}")


def ensemble_notes(rows):
    apis = {r.get("torch_stacked", {}).get("api") for r in rows} - {None}
    method = rows[0]["reel"].get("method", "n/a") if rows else "n/a"
    print(f"  epoch seconds of all members (median); reel: its default ensemble, whole fits ({method}); "
          f"torch seq: each net's median epoch, summed; torch stacked: {', '.join(sorted(apis)) or 'n/a'}")


def count_kernels(fn, steps=5):
    """Device-side events (kernels, memcpy, memset) per call of fn, from the
    profiler; None when the profiler cannot tell."""
    try:
        from torch.profiler import ProfilerActivity, profile
        fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                fn()
            torch.cuda.synchronize()
        n = sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
        return n / steps if n else None
    except Exception:  # noqa: BLE001
        return None


def gpu_peaks(name):
    for key, flops, bw in GPU_PEAKS:
        if key.lower() in name.lower():
            return flops, bw
    return None, None


def floors(dims, n, batch, flops_peak, bw, kernel_s, kernels_per_step, eager_op_s=None):
    """Physical lower bounds on one epoch's time (seconds; None if unknown).
    FLOPs: 2*in*out per Linear per row forward, x3 with backward. Bytes: a
    first-order count that moves each operand through memory once per
    kernel that uses it: per step the parameters 10 times (forward and
    backward weight reads, gradient write, AdamW's 4 reads + 3 writes), per
    row the gathered inputs twice and per Linear 3*in + 6*out floats.
    Launches: kernels per step x steps x the per-kernel time of a graph
    (launch_eager_s, for information: x the time of an eager PyTorch op)."""
    d, L = dims[0][0], dims[-1][1]
    P = sum(i * o + o for i, o in dims)
    steps = math.ceil(n / batch)
    flops = 6.0 * n * sum(i * o for i, o in dims)
    nbytes = 4.0 * (steps * 10 * P + n * (2 * (d + L) + sum(3 * i + 6 * o for i, o in dims)))
    f = {"flops": flops, "bytes": nbytes, "steps": steps,
         "flop_s": flops / flops_peak if flops_peak else None,
         "byte_s": nbytes / bw if bw else None,
         "launch_s": steps * kernels_per_step * kernel_s if kernel_s and kernels_per_step else None,
         "launch_eager_s": steps * kernels_per_step * eager_op_s if eager_op_s and kernels_per_step else None}
    known = [(v, k) for k, v in (("flops", f["flop_s"]), ("bytes", f["byte_s"]), ("launches", f["launch_s"]))
             if v is not None]
    f["limit_s"], f["bound"] = max(known) if known else (None, None)
    return f


def reel_kernels_per_step(dims):
    """Kernels one reel GPU step launches, counted from host/nn/device_driver.c
    (dd_train_step): gather 1; per Linear forward sgemm + rk_bias_act; head 1;
    per Linear rk_act_backward_bias + dW sgemm, + dA sgemm for all but the
    first; rk_finish_step and rk_adamw 2. One per cuBLAS call (cuBLAS may use
    more)."""
    nl = len(dims)
    return 1 + 2 * nl + 1 + 2 * nl + (nl - 1) + 2


# ------------------------------------------------------------------ main

def prepare_movies(a, tmp):
    src = os.path.join(ROOT, "data", "movies.csv")
    if not os.path.exists(src):
        raise SystemExit("data/movies.csv missing: cp /work/shared/data/movies.csv data/ (or data/fetch_movies.sh)")
    path = os.path.join(tmp, "movies_split.csv")
    write_split_csv(src, path, resample=5000 if a.quick else a.films)
    Xtr, Ytr, Xte = featurise(path)
    return {"path": path, "X": Xtr, "Y": Ytr, "Xtest": Xte, "n": len(Xtr), "d": Xtr.shape[1], "L": Ytr.shape[1],
            "reel_args": ["--data", path, "--labels", ",".join(LABELS), "--id", "title", "--split-column", "split"]}


def cpu_section(a, movies, results, threads, batch, checks):
    if not a.ensembles_only:
        one_vs_one_cpu(a, movies, results, threads, batch, checks)
    if a.ensembles:
        ensemble_header(f"== CPU ensembles: batch {batch}, {threads} thread(s), {movies['n']} training films")
        rows = [ensemble_case(a, movies, model, batch, threads, "cpu") for model in a.models]
        ensemble_notes(rows)
        results.setdefault("cpu_ensembles", []).extend(rows)


def one_vs_one_cpu(a, movies, results, threads, batch, checks):
    """One net on each side (reel with "ensemble": 1)."""
    print(f"== CPU: batch {batch}, {movies['n']} training films, {threads} thread(s), {a.reps} run(s) x "
          f"{a.epochs} epoch(s) each side; median epoch{' in CPU seconds (--cpu-time)' if CPU_TIME else ''}")
    if torch is None:
        print("  PyTorch is not installed for this python: PyTorch columns are n/a")
    hdr = (f"{'model':6} {'reel s':>8} {'torch loop s':>12} {'foreach s':>10} {'DataLoader s':>12} "
           f"{'reel samp/s':>11} {'torch samp/s':>12} {'reel/torch':>10}  same-net check")
    print(hdr)
    for model in a.models:
        nd = net_def(model)
        row = {"model": model, "batch": batch, "n": movies["n"], "threads": threads}
        try:
            r = reel_epoch_times(movies["reel_args"], model, batch, a.epochs, a.reps, "cpu", threads)
            row["reel"] = {"epoch_s": median(r["epoch_s"]), "all": r["epoch_s"], "method": r["method"]}
        except ReelError as e:
            print(f"  reel FAILED: {e}")
            row["reel"] = {"error": str(e)}
        if torch is not None:
            X, Y = torch.from_numpy(movies["X"]), torch.from_numpy(movies["Y"])
            torch_cpu_epochs(nd, X[:200], Y[:200], 10, 1, threads, "loop")  # process warm-up, untimed
            for variant in ["loop", "foreach"] + (["dataloader"] if a.dataloader else []):
                allt = []
                for rep in range(a.reps):
                    out = torch_cpu_epochs(nd, X, Y, batch, a.epochs, threads, variant, seed=rep)
                    if out is None:
                        break
                    allt += out[0]
                row[f"torch_{variant}"] = {"epoch_s": median(allt), "all": allt} if allt else None
            if "epoch_s" in row["reel"] and model not in checks:  # once per model: it does not time anything
                try:
                    checks[model] = check_same_net(movies["path"], model, movies, threads)
                except ReelError as e:
                    checks[model] = None
                    print(f"  same-net check: reel FAILED: {e}")
            row["check_max_abs_dp"] = checks.get(model)
        reel_s = row["reel"].get("epoch_s")
        tv = [(row[k]["epoch_s"], k) for k in ("torch_loop", "torch_foreach", "torch_dataloader")
              if row.get(k)]
        best = min(tv) if tv else (None, None)
        row["torch_best"] = best[1]
        row["ratio_reel_over_torch_best"] = ratio(reel_s, best[0])
        ts = lambda k: row[k]["epoch_s"] if row.get(k) else None  # noqa: E731
        sps = lambda s: movies["n"] / s if s else None  # noqa: E731
        chk = row.get("check_max_abs_dp")
        print(f"{model:6} {fmt(reel_s):>8} {fmt(ts('torch_loop')):>12} {fmt(ts('torch_foreach')):>10} "
              f"{fmt(ts('torch_dataloader'), na='-'):>12} {fmt(sps(reel_s), '.0f'):>11} "
              f"{fmt(sps(best[0]), '.0f'):>12} {fmt(row['ratio_reel_over_torch_best'], '.2f'):>9}x  "
              f"{'max |dp| ' + format(chk, '.1e') if chk is not None else 'n/a'}", flush=True)
        results["cpu"].append(row)
    print("  reel/torch compares with the faster PyTorch variant; samples/s = training films / median epoch s")


def gpu_cases(a):
    cases = []
    for model in a.models:
        for b in (10, 256, 4096):
            cases.append(("movies", model, b))
    for model in a.models:
        cases.append(("synthetic", model, 4096))
    if a.cases:
        want = a.cases.split(",")
        cases = [c for c in cases if any(w in f"{c[0]}-{c[1]}-b{c[2]}" for w in want)]
    return cases


def synthetic_data(a):
    """The synthetic set: arrays for PyTorch, a CSV for reel (kept and
    reused from --synthetic-dir when it is already there)."""
    rows = 20_000 if a.quick else SYNTH_ROWS
    folder = a.synthetic_dir or tempfile.mkdtemp(prefix="reel-netbench-synth-")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"synthetic_{rows}x{SYNTH_D}_{SYNTH_L}_seed{SYNTH_SEED}.csv")
    t0 = time.perf_counter()
    X, Y = synthetic_arrays(rows, SYNTH_D, SYNTH_L, SYNTH_SEED)
    if os.path.exists(path):
        print(f"  synthetic: reusing {path}")
    else:
        write_synthetic(path + ".part", X, Y)
        os.replace(path + ".part", path)
        print(f"  synthetic: wrote {path} ({rows} x {SYNTH_D} + {SYNTH_L} labels, "
              f"{os.path.getsize(path) / 2**20:.0f} MiB, {time.perf_counter() - t0:.1f} s)", flush=True)
    args = ["--data", path, "--labels", ",".join(f"y{k}" for k in range(SYNTH_L)), "--test-fraction", "0",
            "--keep-unlabeled"]
    return {"path": path, "X": standardise(X.astype(np.float64), np.ones(rows, dtype=bool)), "Y": Y, "n": rows,
            "d": SYNTH_D, "L": SYNTH_L, "reel_args": args, "cleanup": None if a.synthetic_dir else folder}


def gpu_section(a, movies, results, dry_run=False):
    """dry_run: no GPU here; runs the case code on the CPU (reel --device
    cpu, PyTorch eager on the CPU) so the paths, the synthetic CSV included,
    are exercised. Its numbers are not GPU numbers and are labelled so."""
    sec = results["gpu"]
    reel_ok, reel_why = reel_has_gpu()
    torch_ok = torch is not None and torch.cuda.is_available()
    if not dry_run and not reel_ok and not torch_ok:
        print(f"== GPU\nno GPU: skipping GPU cases (reel: {reel_why}; "
              f"torch: {'not installed' if torch is None else 'torch.cuda.is_available() is False'})")
        sec["skipped"] = f"no GPU ({reel_why})"
        return
    if dry_run:
        print("== GPU case code, dry run ON THE CPU (no GPU here): not GPU numbers")
        sec["dry_run_on_cpu"] = True
        name, dev = "none (dry run)", "cpu"
    else:
        dev = "cuda"
        name = torch.cuda.get_device_name(0) if torch_ok else reel_why
        print(f"== GPU: {name}")
        if not reel_ok:
            print(f"  reel sees no GPU ({reel_why}): reel columns are n/a")
        if not torch_ok:
            print("  PyTorch has no CUDA here: PyTorch columns and the launch timing are n/a")
    flops_peak, bw = gpu_peaks(name)
    sec.update({"device": name, "fp32_peak_flops_nominal": flops_peak, "mem_bw_nominal": bw})
    eager_op = graph_kernel = None
    if torch_ok and not dry_run:
        before = GpuMemSampler.read()
        torch.ones(256, 256, device=dev) @ torch.ones(256, 256, device=dev)  # context + cuBLAS
        torch.cuda.synchronize()
        after = GpuMemSampler.read()
        sec["torch_context_mib"] = after - before if before is not None and after is not None else None
        eager_op, graph_kernel = measure_launch(dev)
        sec["launch_eager_op_s"], sec["launch_graph_kernel_s"] = eager_op, graph_kernel
        print(f"  nominal FP32 peak {fmt(flops_peak and flops_peak / 1e12, '.1f')} TFLOP/s, memory "
              f"{fmt(bw and bw / 1e12, '.2f')} TB/s (data-sheet values for this name); measured: eager PyTorch op "
              f"{fmt(eager_op and eager_op * 1e6, '.2f')} us, kernel in a CUDA graph "
              f"{fmt(graph_kernel and graph_kernel * 1e6, '.2f')} us; PyTorch CUDA context + cuBLAS "
              f"{fmt(sec.get('torch_context_mib'), '.0f')} MiB (nvidia-smi)")
    cases = gpu_cases(a)
    synth = None
    print(f"  epoch seconds (median; reel: {a.reps} run(s), PyTorch: at least {a.reps} epochs after warm-up); "
          "x lim = epoch s / physical floor")
    hdr = (f"  {'case':22} {'reel s':>8} {'eager s':>8} {'graph s':>8} {'compile s':>9} {'reel/eager':>10} "
           f"{'reel/best':>9} {'reel samp/s':>11} {'mem reel':>8} {'mem torch':>9} {'floor s':>9} {'bound':>8} "
           f"{'x lim reel':>10} {'x lim best':>10}")
    print(hdr)
    try:
        for data_name, model, batch in ([] if a.ensembles_only else cases):
            if data_name == "synthetic" and synth is None:
                synth = synthetic_data(a)
            data = movies if data_name == "movies" else synth
            nd = net_def(model)
            dims = layer_dims(nd["layers"], data["d"], data["L"])
            row = {"case": f"{data_name}-{model}-b{batch}", "data": data_name, "model": model, "batch": batch,
                   "n": data["n"], "d": data["d"], "L": data["L"]}
            if reel_ok or dry_run:
                # the synthetic CSV takes long to parse: one run, its epochs the repetitions
                runs, epochs = (1, max(a.epochs, a.reps)) if data_name == "synthetic" else (a.reps, a.epochs)
                try:
                    r = reel_epoch_times(data["reel_args"], model, batch, epochs, runs,
                                         "cpu" if dry_run else "gpu", a.threads, sample_mem=not dry_run)
                    row["reel"] = {"epoch_s": median(r["epoch_s"]), "all": r["epoch_s"], "method": r["method"],
                                   "gpu_mem_mib_nvidia_smi": r["gpu_mem_mib"], "device": r["device"]}
                except ReelError as e:
                    print(f"  reel FAILED: {e}")
                    row["reel"] = {"error": str(e)}
            modes = ["eager"] if dry_run else ["eager", "graph", "compile"]
            for mode in modes:
                if not (torch_ok or dry_run):
                    row[f"torch_{mode}"] = {"error": "no PyTorch with CUDA"}
                    continue
                if mode == "compile" and not hasattr(torch, "compile"):
                    row["torch_compile"] = {"error": f"torch {torch.__version__} has no torch.compile"}
                    continue
                try:
                    if dry_run:
                        t, _ = torch_cpu_epochs(nd, torch.from_numpy(data["X"]), torch.from_numpy(data["Y"]), batch,
                                                max(a.epochs, 1), a.threads, "foreach")
                        row[f"torch_{mode}"] = {"epoch_s": median(t), "all": t}
                    else:
                        out = torch_gpu_case(nd, data["X"], data["Y"], batch, a.reps, mode, dev)
                        row[f"torch_{mode}"] = dict(out, epoch_s=median(out["epoch_s"]), all=out["epoch_s"])
                except Exception as e:  # noqa: BLE001 - a failing variant is reported as n/a
                    msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                    row[f"torch_{mode}"] = {"error": msg}
                    print(f"  {row['case']}: torch {mode}: n/a ({msg[:200]})")
                    if torch_ok and not dry_run:
                        torch.cuda.synchronize()
            report_gpu_row(row, dims, data, batch, flops_peak, bw, graph_kernel, eager_op)
            sec.setdefault("cases", []).append(row)
    finally:
        if synth and synth["cleanup"]:
            shutil.rmtree(synth["cleanup"], ignore_errors=True)
    ens = [m for m in a.models if ("movies", m, 10) in cases]
    if a.ensembles and ens and not dry_run:
        ensemble_header(f"== GPU ensembles: batch 10, {movies['n']} training films")
        rows = [ensemble_case(a, movies, m, 10, a.threads, dev) for m in ens]
        ensemble_notes(rows)
        sec["ensembles"] = rows


def report_gpu_row(row, dims, data, batch, flops_peak, bw, graph_kernel, eager_op):
    get = lambda k: row.get(k, {}).get("epoch_s")  # noqa: E731
    reel_s = get("reel")
    torch_times = [(get(k), k) for k in ("torch_eager", "torch_graph", "torch_compile") if get(k)]
    best_s, best_k = min(torch_times) if torch_times else (None, None)
    k_reel = reel_kernels_per_step(dims)
    k_torch = row.get("torch_eager", {}).get("kernels_per_step")
    f_reel = floors(dims, data["n"], batch, flops_peak, bw, graph_kernel, k_reel, eager_op)
    f_torch = floors(dims, data["n"], batch, flops_peak, bw, graph_kernel, k_torch, eager_op)
    row.update({"reel_kernels_per_step_counted": k_reel, "floor_reel": f_reel, "floor_torch": f_torch,
                "torch_best": best_k, "ratio_reel_over_torch_eager": ratio(reel_s, get("torch_eager")),
                "ratio_reel_over_torch_best": ratio(reel_s, best_s),
                "reel_x_limit": ratio(reel_s, f_reel["limit_s"]),
                "torch_best_x_limit": ratio(best_s, f_torch["limit_s"] if k_torch else f_reel["limit_s"])})
    mem_t = max_or_none([row.get(k, {}).get("mem_mib") for k in ("torch_eager", "torch_graph", "torch_compile")])
    print(f"  {row['case']:22} {fmt(reel_s, '.4f'):>8} {fmt(get('torch_eager'), '.4f'):>8} "
          f"{fmt(get('torch_graph'), '.4f'):>8} {fmt(get('torch_compile'), '.4f'):>9} "
          f"{fmt(row['ratio_reel_over_torch_eager'], '.2f'):>9}x {fmt(row['ratio_reel_over_torch_best'], '.2f'):>8}x "
          f"{fmt(data['n'] / reel_s if reel_s else None, '.0f'):>11} "
          f"{fmt(row.get('reel', {}).get('gpu_mem_mib_nvidia_smi'), '.0f'):>7}M {fmt(mem_t, '.0f'):>8}M "
          f"{fmt(f_reel['limit_s'], '.2e'):>9} {f_reel['bound'] or 'n/a':>8} "
          f"{fmt(row['reel_x_limit'], '.1f'):>10} {fmt(row['torch_best_x_limit'], '.1f'):>10}", flush=True)


def print_gpu_notes(results):
    sec = results["gpu"]
    if not sec.get("cases") or sec.get("dry_run_on_cpu"):
        return
    print("  mem reel: nvidia-smi memory.used peak minus before the run (its CUDA context and cuBLAS included); "
          "mem torch: torch.cuda.max_memory_allocated (tensors only, data included); floor: max of FLOPs / "
          "nominal FP32 peak, bytes / nominal bandwidth, kernels/step x steps x graph kernel time, "
          "with reel's kernel count (from host/nn/device_driver.c)")
    for row in sec["cases"]:
        f = row["floor_reel"]
        print(f"  {row['case']:22} {f['flops'] / 1e9:8.2f} GFLOP/epoch -> {fmt(f['flop_s'], '.2e')} s; "
              f"{f['bytes'] / 1e9:7.3f} GB -> {fmt(f['byte_s'], '.2e')} s; {f['steps']} steps x "
              f"{row['reel_kernels_per_step_counted']} (reel) / {fmt(row.get('torch_eager', {}).get('kernels_per_step'), '.0f')}"
              f" (torch eager, profiled) kernels -> {fmt(f['launch_s'], '.2e')} / "
              f"{fmt(row['floor_torch']['launch_s'], '.2e')} s in graphs, {fmt(f['launch_eager_s'], '.2e')} / "
              f"{fmt(row['floor_torch']['launch_eager_s'], '.2e')} s at the eager op time")


def main():
    global REEL, CPU_TIME
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "gpu", "both"], default="both")
    ap.add_argument("--reps", type=int, default=3, help="reel runs per case; PyTorch: fresh nets (CPU) / "
                    "least timed epochs (GPU)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run")
    ap.add_argument("--threads", default=str(os.cpu_count()),
                    help="CPU threads for both sides; a comma list (1,2) runs the CPU cases for each")
    ap.add_argument("--models", default="box,u")
    ap.add_argument("--dataloader", action="store_true", help="CPU: also time a torch DataLoader loop")
    ap.add_argument("--cpu-time", action="store_true",
                    help="CPU: time both sides in process CPU seconds (for a shared machine; use --threads 1)")
    ap.add_argument("--batches", default="10", help="CPU: batch sizes, a comma list (10)")
    ap.add_argument("--cases", help="GPU: only cases whose id (e.g. movies-box-b10, synthetic-u-b4096) "
                    "contains one of these comma-separated strings")
    ap.add_argument("--synthetic-dir", help="write the synthetic CSV here and keep it (default: a temp dir, removed)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 5,000 films, 1 run of 1 epoch")
    ap.add_argument("--films", type=int, help="a seeded resample of this many labelled films (default: all; "
                    "80%% of them train), for timings on a busy machine")
    ap.add_argument("--no-ensembles", dest="ensembles", action="store_false",
                    help="skip the ensemble cases (reel's default ensemble vs PyTorch's nets one after another "
                    "and stacked)")
    ap.add_argument("--ensembles-only", action="store_true", help="only the ensemble cases")
    ap.add_argument("--json", help="write all measurements here")
    ap.add_argument("--reel", default=REEL, help="the reel binary (build/reel)")
    a = ap.parse_args()
    REEL = os.path.abspath(a.reel)
    CPU_TIME = a.cpu_time
    a.models = a.models.split(",")
    for m in a.models:
        net_def(m)
    if a.quick:
        a.reps, a.epochs = 1, 1
    try:
        a.thread_list = [int(t) for t in a.threads.split(",")]
        a.batch_list = [int(t) for t in a.batches.split(",")]
    except ValueError:
        raise SystemExit(f"--threads and --batches take a number or a comma list of numbers, got "
                         f"'{a.threads}', '{a.batches}'")
    if a.reps < 1 or a.epochs < 1 or min(a.thread_list) < 1 or min(a.batch_list) < 1 or (a.films or 1) < 1:
        raise SystemExit("--reps, --epochs, --threads, --batches and --films must be >= 1")
    a.threads = max(a.thread_list)  # GPU cases: reel's --threads (predict only)
    if not os.access(REEL, os.X_OK):
        raise SystemExit(f"{REEL} missing: build reel first (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && "
                         "cmake --build build -j2)")
    results = {"machine": machine_info(), "args": vars(a), "cpu": [], "gpu": {}}
    load = results["machine"]["load_start"]
    print(f"machine: {results['machine']['cpu']}, {os.cpu_count()} cores; torch "
          f"{results['machine']['torch']}; commit {results['machine']['commit']}; "
          f"load average {fmt(load and load[0], '.2f')}")
    if load and load[0] > (os.cpu_count() or 1) - 0.5:
        print("  note: the machine is busy; CPU timings will be noisy")
    tmp = tempfile.mkdtemp(prefix="reel-netbench-")
    try:
        movies = prepare_movies(a, tmp)
        if a.device in ("cpu", "both"):
            checks = {}
            for batch in a.batch_list:
                for t in a.thread_list:
                    cpu_section(a, movies, results, t, batch, checks)
        if a.device in ("gpu", "both"):
            has = (torch is not None and torch.cuda.is_available()) or reel_has_gpu()[0]
            if not has and a.quick:
                gpu_section(a, movies, results)  # says it skips
                gpu_section(a, movies, results, dry_run=True)
            else:
                gpu_section(a, movies, results)
                print_gpu_notes(results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_end"] = loadavg()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
