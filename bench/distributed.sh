#!/usr/bin/env bash
# Allreduce bandwidth on this machine's loopback, 2 ranks (or $RANKS) started by torchrun: lmlab's
# data-parallel group (bench/allreduce_bench.cpp) and torch.distributed's gloo backend
# (bench/peers/allreduce_peer.py), the same Gloo library underneath, medians of $REPEATS. Prints a
# table (algorithm bandwidth, tensor bytes / time) and writes it with the raw results to
# runs/bench/<UTC timestamp>-allreduce/. Usage: [BUILD=build] [RANKS=2] [REPEATS=5] bench/distributed.sh
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RANKS=${RANKS:-2}
REPEATS=${REPEATS:-5}
if [[ ! -x "$BUILD/allreduce_bench" ]]; then
  echo "bench/distributed.sh: $BUILD/allreduce_bench not found; build the benchmarks with \`make bench\`" >&2
  exit 1
fi
out="runs/bench/$(date -u +%Y%m%d-%H%M%S)-allreduce"
mkdir -p "$out"
port=$((20000 + $$ % 20000))
# Debian's torchrun needs --redirects 1 --tee 1 (docs/distributed.md); rank 0's output is the result.
torchrun --no_python --redirects 1 --tee 1 --log_dir "$out/logs-cpp" --nproc_per_node "$RANKS" --master_port "$port" \
  "$BUILD/allreduce_bench" --benchmark_repetitions="$REPEATS" --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/allreduce_bench.json" --benchmark_out_format=json > "$out/cpp.txt" 2>&1 || {
  cat "$out/cpp.txt" >&2; exit 1; }
torchrun --redirects 1 --tee 1 --log_dir "$out/logs-peer" --nproc_per_node "$RANKS" --master_port "$((port + 1))" \
  bench/peers/allreduce_peer.py "$REPEATS" > "$out/peer.txt" 2>&1 || { cat "$out/peer.txt" >&2; exit 1; }
grep -ho '{"bytes".*' "$out"/logs-peer/*/attempt_0/0/stdout.log > "$out/allreduce_peer.jsonl"
/usr/bin/python3 - "$out" "$RANKS" <<'PY' | tee "$out/summary.txt"
import json, statistics, sys, platform
out, ranks = sys.argv[1], int(sys.argv[2])
cpp = {}
for b in json.load(open(f"{out}/allreduce_bench.json"))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        cpp[int(b["name"].split("/")[1])] = b["bytes_per_second"]
peer = {}
for line in open(f"{out}/allreduce_peer.jsonl"):
    r = json.loads(line)
    peer[r["bytes"]] = r["bytes"] / statistics.median(r["seconds"])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"allreduce, {ranks} ranks on loopback, {cpu}; medians; GB/s = tensor bytes / time")
print(f"{'bytes':>10} {'lmlab C++ GB/s':>15} {'torch.distributed GB/s':>23} {'ratio':>6}")
for size in sorted(cpp):
    c, p = cpp[size] / 1e9, peer.get(size, float("nan")) / 1e9
    print(f"{size:>10} {c:>15.3f} {p:>23.3f} {c / p:>6.2f}")
PY
