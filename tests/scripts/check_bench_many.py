#!/usr/bin/env python3
"""ctest bench_many_driver: bench/bench_many.py's driver (reel_bench_many)
on a small random set, so the benchmark's measuring tool stays working:
three nets (different batch sizes, learning rates, heads, one on a fold)
trained together and one after another on OpenCL must end with the same
losses to the bit, all three in one launch, and close to the CPU backend's;
the fold's net is scored on its held-out rows. Without an OpenCL device it
prints SKIPPED (a failure when REEL_TEST_REQUIRE_OPENCL is set).
Standard library only.

  check_bench_many.py PATH/TO/reel_bench_many
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile


def main():
    driver = sys.argv[1]
    n, d, L = 300, 9, 4
    rng = random.Random(5)
    X = [rng.uniform(-1, 1) for _ in range(n * d)]
    Y = [float(rng.random() < 0.3 + 0.4 * (X[i * d + j % d] > 0)) for i in range(n) for j in range(L)]
    box = [{"width": 16, "activation": "relu"}, {"width": 11, "activation": "relu"}]
    nets = [
        {"params": {"layers": box, "head": "sigmoid"}, "lr": 1e-3, "weight_decay": 0, "batch_size": 10, "epochs": 2,
         "seed": 1},
        {"params": {"layers": box, "head": "softmax"}, "lr": 3e-3, "weight_decay": 1e-2, "batch_size": 32,
         "epochs": 3, "seed": 2},
        {"params": {"layers": box, "head": "sigmoid", "width": 8}, "lr": 1e-3, "weight_decay": 1e-3,
         "batch_size": 7, "epochs": 1, "seed": 3, "fold": 1, "folds": 5},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        data, spec = os.path.join(tmp, "data.bin"), os.path.join(tmp, "nets.json")
        with open(data, "wb") as f:
            f.write(struct.pack("<3q", n, d, L))
            f.write(struct.pack(f"<{n * d}f", *X))
            f.write(struct.pack(f"<{n * L}f", *Y))
        with open(spec, "w") as f:
            json.dump(nets, f)

        def run(device, mode):
            p = subprocess.run([driver, data, spec, device, mode], capture_output=True, text=True)
            if p.returncode != 0:
                return None, p.stderr.strip()
            return json.loads(p.stdout), ""

        cpu, e = run("cpu", "together")
        assert cpu, f"cpu: {e}"
        together, e = run("opencl", "together")
        if together is None:
            if os.environ.get("REEL_TEST_REQUIRE_OPENCL"):
                print(f"FAIL: REEL_TEST_REQUIRE_OPENCL is set but OpenCL failed: {e}")
                return 1
            print(f"SKIPPED: no OpenCL device ({e})")
            return 0
        alone, e = run("opencl", "alone")
        assert alone, f"opencl alone: {e}"
    print(json.dumps({"cpu": cpu["train_loss"], "together": together["train_loss"], "alone": alone["train_loss"],
                      "held": together["held_loss"], "shared": together["shared_max"]}))
    assert together["shared_max"] == 3, together["shared_max"]
    assert together["calls"] == 3 and alone["calls"] == 6, (together["calls"], alone["calls"])
    assert together["train_loss"] == alone["train_loss"], "together and alone differ"
    for a, b in zip(together["train_loss"], cpu["train_loss"]):
        assert abs(a - b) <= 1e-4 * abs(b) + 1e-6, (a, b)
    assert together["held_loss"][:2] == [-1, -1] and together["held_loss"][2] > 0, together["held_loss"]
    assert abs(together["held_loss"][2] - cpu["held_loss"][2]) <= 1e-4 * cpu["held_loss"][2]
    assert cpu["shared_max"] == 0
    print("bench_many driver: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
