"""What every peer prints and writes: its result as JSON, with the fields bench/run.sh reads."""
import json
import os
import sys

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
