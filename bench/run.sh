#!/usr/bin/env bash
# Runs every benchmark bench/<name>_bench.cpp (built in $BUILD) and its Python PyTorch peer
# bench/peers/<name>_peer.py (run by $PYTHON) in one go, and reports lmlab C++ against PyTorch:
# medians over repeats and their ratio. Time is reported, never asserted.
#
# For each thread count N (1 and 2, the counts each benchmark registers) the C++ benchmark and then
# its peer run in fresh processes with N intra-op threads and OPENBLAS_NUM_THREADS=N: setting
# LibTorch's threads leaves OpenBLAS alone, which otherwise runs one thread per core. Each side checks its step before timing, then runs
# $REPEATS timed runs of at least $MIN_TIME seconds each, wall clock. Other environment variables
# reach both sides unchanged; unless the caller sets OMP_WAIT_POLICY, both get the OpenMP settings
# lmlab's CLI uses (OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=10000, lmlab::use_passive_omp_wait),
# and both load the same BLAS: Debian's OpenMP build of OpenBLAS when installed (see below).
#
# Results go to runs/bench/<UTC timestamp>/: <name>_bench.threadsN.json (Google Benchmark, aggregates
# only), <name>_peer.threadsN.json, summary.json and summary.txt (the table printed at the end).
# C++ and peer results pair up by benchmark name and thread count: the first part of the C++ run
# name and its torch_threads counter, the peer's "name" and "threads".
#
# Usage: [BUILD=build] [PYTHON=/usr/bin/python3] [REPEATS=5] [MIN_TIME=2] bench/run.sh
# (`make bench` builds the benchmarks and calls this.) BENCHES="onebit train" runs only those;
# FILTER=REGEX only the cases whose name matches it before its /threads part, on both sides (e.g.
# FILTER='T:(8192|16384)/').
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
REPEATS=${REPEATS:-5}
MIN_TIME=${MIN_TIME:-2}
THREADS=(1 2)

names=()
for src in bench/*_bench.cpp; do
  name=$(basename "$src" .cpp)
  if [[ $name == allreduce_bench ]]; then continue; fi  # several ranks: bench/distributed.sh
  if [[ -n "${BENCHES:-}" && " $BENCHES " != *" ${name%_bench} "* ]]; then continue; fi
  if [[ ! -x "$BUILD/$name" ]]; then
    echo "bench/run.sh: $BUILD/$name not found; build the benchmarks with \`make bench\`" \
         "(or set BUILD to a build directory configured with -DLMLAB_BENCH=ON)" >&2
    exit 1
  fi
  names+=("$name")
done
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "bench/run.sh: $PYTHON cannot import torch; install python3-torch with scripts/install-deps.sh" \
       "or set PYTHON to an interpreter that has torch 1.13" >&2
  exit 1
fi

# The allocator setting lmlab's CLI and benchmarks make (lmlab::keep_freed_memory), for the peer,
# and the OpenMP wait policy they set (lmlab::use_passive_omp_wait) unless the caller chose one.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
if [[ -z "${OMP_WAIT_POLICY:-}" ]]; then
  export OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
fi

# The BLAS lmlab's programs load (CMakeLists.txt, LMLAB_OPENMP_BLAS): Debian's OpenMP build of
# OpenBLAS when installed, for the peers too, so both sides run the same BLAS on the same threads.
OPENMP_BLAS=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/openblas-openmp
if [[ -f "$OPENMP_BLAS/libblas.so.3" && ":${LD_LIBRARY_PATH:-}:" != *":$OPENMP_BLAS:"* ]]; then
  export LD_LIBRARY_PATH="$OPENMP_BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
echo "bench/run.sh: BLAS for the peers: $("$PYTHON" -c 'import torch, re; print(next((l.split()[-1] for l in open("/proc/self/maps") if "blas" in l), "unknown"))')"

out="runs/bench/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
for name in "${names[@]}"; do
  peer="bench/peers/${name%_bench}_peer.py"
  for n in "${THREADS[@]}"; do
    echo "== $name, $n thread(s): lmlab C++"
    OPENBLAS_NUM_THREADS=$n "$BUILD/$name" --benchmark_filter="${FILTER:-}.*/threads:$n(/|\$)" \
      --benchmark_repetitions="$REPEATS" --benchmark_report_aggregates_only=true \
      --benchmark_min_time="$MIN_TIME" --benchmark_out="$out/$name.threads$n.json" --benchmark_out_format=json
    if [[ -f "$peer" ]]; then
      echo "== $peer, $n thread(s): Python PyTorch ($PYTHON)"
      OPENBLAS_NUM_THREADS=$n "$PYTHON" "$peer" --threads "$n" --repeats "$REPEATS" --min-time "$MIN_TIME" \
        --filter "${FILTER:-}" --out "$out/${name%_bench}_peer.threads$n.json" >/dev/null
    fi
  done
done

"$PYTHON" - "$out" "${THREADS[*]}" "${names[@]}" <<'EOF'
import json, os, statistics, sys

out, threads, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def same_count(py, cpp):
    return None if py is None or cpp is None else int(py) == int(cpp)


def case_name(run_name):
    """A C++ run name without its thread and timing parts: the peer's name for the same case."""
    return "/".join(p for p in run_name.split("/") if not p.startswith(("threads:", "min_time:"))
                    and p not in ("real_time", "process_time", "manual_time"))


rows = []
for name in names:
    for n in threads:
        peer = load(os.path.join(out, f"{name[:-len('_bench')]}_peer.threads{n}.json"))
        peer_runs = {(b["name"], b["threads"]): b for b in peer["benchmarks"]} if peer else {}
        cpp = load(os.path.join(out, f"{name}.threads{n}.json"))["benchmarks"]
        cpp = [b for b in cpp if "items_per_second" in b]  # a case without a rate (memory_read) has no peer
        cvs = {b["run_name"]: b["items_per_second"] for b in cpp if b.get("aggregate_name") == "cv"}
        for b in cpp:
            if b.get("aggregate_name") != "median":
                continue
            key = (case_name(b["run_name"]), int(b["torch_threads"]))
            py = peer_runs.get(key)
            c, q = b["items_per_second"], py and py["steps_per_second_median"]
            py_cv = statistics.stdev(py["steps_per_second"]) / statistics.mean(py["steps_per_second"]) \
                if py and len(py["steps_per_second"]) > 1 else None
            rows.append({"benchmark": key[0], "threads": key[1], "cpp_steps_per_second": c,
                         "python_steps_per_second": q, "ratio_cpp_over_python": c / q if q else None,
                         "cpp_cv": cvs.get(b["run_name"]), "python_cv": py_cv,
                         "same_parameter_count": same_count(py and py.get("parameters", peer.get("parameters")),
                                                            b.get("parameters"))})



def fmt(x, spec):
    return "-" if x is None else format(x, spec)


width = max([22] + [len(r["benchmark"]) for r in rows])
lines = [f"{'benchmark':<{width}} {'threads':>7} {'lmlab C++ steps/s':>18} {'PyTorch steps/s':>16} {'C++/Python':>11}"
         f" {'cv C++/Python':>14}"]
for r in rows:
    lines.append(f"{r['benchmark']:<{width}} {r['threads']:>7} {r['cpp_steps_per_second']:>18.2f} "
                 f"{fmt(r['python_steps_per_second'], '.2f'):>16} {fmt(r['ratio_cpp_over_python'], '.2f'):>11} "
                 f"{fmt(r['cpp_cv'], '.0%') + '/' + fmt(r['python_cv'], '.0%'):>14}"
                 + ("  (parameter counts differ!)" if r["same_parameter_count"] is False else ""))
lines.append("medians over repeats, wall clock; C++/Python > 1 means lmlab C++ is faster;"
             " cv: coefficient of variation over repeats")
for path, text in (("summary.json", json.dumps({"rows": rows}, indent=1)), ("summary.txt", "\n".join(lines))):
    with open(os.path.join(out, path + ".tmp"), "w") as f:
        f.write(text + "\n")
    os.replace(os.path.join(out, path + ".tmp"), os.path.join(out, path))
print("\n".join(lines))
print(f"results: {out}/")
EOF

# Benchmarks with more to say than C++ against Python (ratios between their own cases) have a
# bench/<name>_report.py that reads this run's JSON files.
for name in "${names[@]}"; do
  report="bench/${name%_bench}_report.py"
  if [[ -f "$report" ]]; then "$PYTHON" "$report" "$out"; fi
done
