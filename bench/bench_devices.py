#!/usr/bin/env python3
"""reel's nets on each backend side by side: epoch time of box and U on the
movies training rows, `--device cpu` against `--device opencl` (PoCL on this
machine, or any OpenCL GPU), as ratios. No reference to beat: this records
what the OpenCL kernels cost on a CPU, the device CI runs them on.

Each case is `reel train --model M --device D --batch-size B --epochs E
--threads T --quiet --format json`; the epoch time is fit_seconds / epochs
(the fit includes the per-epoch validation pass), the median of --reps runs.
The machine's load average is printed beside the table.

A device written DEVICE+VAR=VALUE runs that device with that environment
variable set, e.g. opencl+REEL_NO_TILES=1 for the layered path's one-output
kernels beside the tiled ones (the before and after of the tiled products,
side by side under the same load).

--width N trains the nets at that first hidden width (the model's "width"
param: box at 256 is 8 x 256), e.g. past the fused kernel's work-group
memory, where the layered kernels (the tiled products) run; so does a batch
past 256 rows.

  /usr/bin/python3 bench/bench_devices.py [--reel build/reel] [--reps 3] [--epochs 2]
        [--batches 10,256] [--models box,u] [--devices cpu,opencl] [--threads 1] [--width N] [--json out.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(reel, model, device, batch, epochs, threads, params=None):
    env = None
    if "+" in device:  # DEVICE+VAR=VALUE: that device with that variable set
        device, var = device.split("+", 1)
        env = dict(os.environ, **dict([var.split("=", 1)]))
    cmd = [reel, "train", "--model", model, "--device", device, "--batch-size", str(batch), "--epochs",
           str(epochs), "--threads", str(threads), "--quiet", "--format", "json"]
    if params:
        cmd += ["--params", params]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    m = json.loads(out)["model"]
    return m["fit_seconds"] / epochs, m["metrics"]["samples_f1"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reel", default="build/reel")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batches", default="10,256")
    ap.add_argument("--models", default="box,u")
    ap.add_argument("--devices", default="cpu,opencl")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--width", type=int, help="the nets' first hidden width (default: the model's)")
    ap.add_argument("--json")
    a = ap.parse_args()
    params = None
    if a.width:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"width": a.width}, tmp)
        tmp.close()
        params = tmp.name
    devices = a.devices.split(",")
    rows = []
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{'model':6} {'batch':>6} " + " ".join(f"{d + ' s/epoch':>16}" for d in devices) +
          "".join(f" {d + '/' + devices[0]:>14}" for d in devices[1:]))
    for model in a.models.split(","):
        for batch in (int(b) for b in a.batches.split(",")):
            med = {}
            for d in devices:
                times = [run(a.reel, model, d, batch, a.epochs, a.threads, params)[0] for _ in range(a.reps)]
                med[d] = statistics.median(times)
            rows.append({"model": model, "batch": batch, "width": a.width, "epoch_seconds": med})
            print(f"{model:6} {batch:>6} " + " ".join(f"{med[d]:>16.3f}" for d in devices) +
                  "".join(f" {med[d] / med[devices[0]]:>13.2f}x" for d in devices[1:]), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if params:
        os.unlink(params)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"reps": a.reps, "epochs": a.epochs, "threads": a.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
