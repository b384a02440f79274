#!/usr/bin/env python3
"""The CSV reader against pandas.read_csv (issue 37 item 5), loading alone.

Files: bench/scale.py's rows series (movies stacked with 1% jitter on its
numbers, 23 columns: 15 numbers, mpaa, 7 genre flags), made once in
--data-dir. reel is timed through its driver (build/reel_bench_csv,
bench/csv_driver.c: reel_table_read_csv_typed as every command reads, CPU
time of the process during the read); pandas inside one Python process,
time.process_time() around pandas.read_csv (imports not counted), pandas'
default C engine. Each measure is a fresh process; medians of --repeat.
Give --reel several times (before, after) to compare builds side by side:
their hashes of what was read must agree (same values, bit for bit).

  /usr/bin/python3 bench/csv_read.py [--sizes 240000,1000000] [--repeat 3]
        [--reel build/reel_bench_csv ...] [--threads 1,2] [--no-pandas]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PANDAS = """
import sys, time, pandas
t0 = time.process_time(); w0 = time.perf_counter()
df = pandas.read_csv(sys.argv[1])
print(time.process_time() - t0, time.perf_counter() - w0, len(df))
"""


def data_file(size, data_dir):
    path = os.path.join(data_dir, f"rows-{size}.csv")
    if not os.path.exists(path):
        os.makedirs(data_dir, exist_ok=True)
        import scale  # made in a child: the parent stays small
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import scale; "
                        f"scale.rows_csv({size}, {path + '.tmp'!r})"], check=True)
        os.replace(path + ".tmp", path)
    return path


def run_reel(binary, path, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), REEL_THREADS=str(threads))
    out = subprocess.run([binary, path], capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out)


def run_pandas(path):
    out = subprocess.run([sys.executable, "-c", PANDAS, path], capture_output=True, text=True,
                         check=True).stdout.split()
    return {"cpu_s": float(out[0]), "wall_s": float(out[1]), "rows": int(out[2])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="240000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reel", action="append", help="reel_bench_csv binary (repeat to compare builds)")
    ap.add_argument("--threads", default="1", help="comma list of thread counts for reel")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--data-dir", default="/tmp/reel-csv-bench")
    a = ap.parse_args()
    builds = a.reel or [os.path.join(HERE, "..", "build", "reel_bench_csv")]
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {a.repeat}; CPU = user+sys seconds of the read")
    print("| rows | reader | threads | CPU s | wall s | / pandas CPU | hash |")
    print("|---|---|---|---|---|---|---|")
    for size in [int(s) for s in a.sizes.split(",")]:
        path = data_file(size, a.data_dir)
        pandas_cpu = None
        if not a.no_pandas:
            runs = [run_pandas(path) for _ in range(a.repeat)]
            pandas_cpu = statistics.median(r["cpu_s"] for r in runs)
            print(f"| {size:,} | pandas {__import__('pandas').__version__} | 1 | {pandas_cpu:.3f} | "
                  f"{statistics.median(r['wall_s'] for r in runs):.3f} | 1.00 | |", flush=True)
        hashes = set()
        for b in builds:
            for th in [int(t) for t in a.threads.split(",")]:
                runs = [run_reel(b, path, th) for _ in range(a.repeat)]
                cpu = statistics.median(r["cpu_s"] for r in runs)
                wall = statistics.median(r["wall_s"] for r in runs)
                hashes.update(r["hash"] for r in runs)
                ratio = f"{cpu / pandas_cpu:.2f}" if pandas_cpu else ""
                print(f"| {size:,} | {b} | {th} | {cpu:.3f} | {wall:.3f} | {ratio} | {runs[0]['hash']} |",
                      flush=True)
        if len(hashes) > 1:
            print(f"DIFFERENT VALUES READ at {size} rows: {sorted(hashes)}")
            sys.exit(1)


if __name__ == "__main__":
    main()
