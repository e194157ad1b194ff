"""What the peers share: their command line, their timing loop and the JSON they print and write
(with the fields bench/run.sh reads)."""
import argparse
import json
import math
import os
import re
import statistics
import sys
import time

import torch


def parse_args(doc, min_time_help="seconds per timed run", default_min_time=2.0):
    """--threads, --repeats, --min-time, --filter, --out, checked."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=default_min_time, help=min_time_help)
    ap.add_argument("--filter", default="", help="regex: report only the cases whose name it matches, as "
                    "the C++ --benchmark_filter (bench/run.sh passes its FILTER to both sides)")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    try:
        re.compile(args.filter)
    except re.error as e:
        ap.error(f"--filter {args.filter!r} is not a regular expression: {e}")
    if min(args.threads) < 1 or args.repeats < 1 or args.min_time <= 0:
        ap.error("--threads and --repeats must be >= 1 and --min-time > 0")
    return args


def timed(fn, repeats, run_seconds):
    """Calls/s of `repeats` runs of about run_seconds each, after two warm-up calls."""
    fn(), fn()
    start = time.perf_counter()
    fn()
    calls = max(1, math.ceil(run_seconds / max(time.perf_counter() - start, 1e-9)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(calls / (time.perf_counter() - start))
    return rates


def wanted(args, name):
    """Whether case `name` matches --filter (every case when it is empty)."""
    return re.search(args.filter, name) is not None


def entry(name, rates, **extra):
    """One case of the JSON: its rates and their median, with the current thread count."""
    return dict({"name": name, "threads": torch.get_num_threads(), "steps_per_second": rates,
                 "steps_per_second_median": statistics.median(rates)}, **extra)


def emit(name, args, benchmarks, **fields):
    """Prints the peer's JSON and, with --out, writes it there atomically (temporary name, rename).
    Cases --filter does not match are left out (a peer may also skip timing them: see wanted())."""
    benchmarks = [b for b in benchmarks if wanted(args, b["name"])]
    result = dict({"peer": name, "torch": torch.__version__, "python": sys.version.split()[0],
                   "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "repeats": args.repeats},
                  **fields, benchmarks=benchmarks)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)
    print(text)
