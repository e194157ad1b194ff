"""What every peer prints and writes: its result as JSON, with the fields bench/run.sh reads; and its timing loop."""
import json
import math
import os
import sys
import time

import torch


def emit(name, args, benchmarks, **fields):
    """Prints the peer's JSON and, with --out, writes it there atomically (temporary name, rename)."""
    result = dict({"peer": name, "torch": torch.__version__, "python": sys.version.split()[0],
                   "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "repeats": args.repeats},
                  **fields, benchmarks=benchmarks)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)
    print(text)


def timed(fn, repeats, min_time):
    """Calls/s of `repeats` wall-clock runs of about min_time seconds each (the call count chosen from
    one timed call, as Google Benchmark chooses iterations), after two warm-up calls."""
    fn(), fn()
    start = time.perf_counter()
    fn()
    calls = max(1, math.ceil(min_time / max(time.perf_counter() - start, 1e-9)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(calls / (time.perf_counter() - start))
    return rates
