"""The exact-attention tables and plot of docs/flash_attention.md from one bench/run.sh run.

Reads flash_attention_bench.threadsN.json (Google Benchmark, medians over repeats) and
flash_attention_peer.threadsN.json from the run directory and writes there (and prints)
attention_report.md: per thread count, mode (forward or forward + backward) and causality, the
median time per call of lmlab's flash kernel, LibTorch's composed and sdpa paths (C++) and the same
two in Python PyTorch; the speedup of flash over the fastest LibTorch path in the same C++ run and
over the fastest PyTorch path; flash's useful GFLOP/s; peak tensor memory of flash and of the
fastest LibTorch path. Also attention_forward.svg: forward time per call against T (log-log).
Run: /usr/bin/python3 bench/flash_attention_report.py runs/bench/<timestamp>
"""
import json
import os
import subprocess
import sys

PATHS = ["flash", "composed", "sdpa"]


def load(out, name, threads):
    path = os.path.join(out, f"{name}.threads{threads}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def cpp_runs(out, threads):
    """{(case, path, T, causal): median record}."""
    data = load(out, "flash_attention_bench", threads)
    runs = {}
    for b in data["benchmarks"] if data else []:
        if b.get("aggregate_name") == "median":
            parts = b["run_name"].split("/")
            p = dict(x.split(":") for x in parts[1:] if ":" in x)
            if "path" in p:  # the attention cases (sgemm, the yardstick, has none)
                runs[(parts[0], int(p["path"]), int(p["T"]), int(p["causal"]))] = b
    return runs


def peer_runs(out, threads):
    data = load(out, "flash_attention_peer", threads)
    return {b["name"]: b["steps_per_second_median"] for b in data["benchmarks"]} if data else {}


def ms(rate):
    return 1e3 / rate if rate else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def table(runs, peer, threads, case, causal):
    ts = sorted({k[2] for k in runs if k[0] == case and k[3] == causal})
    if not ts:
        return []
    title = "forward" if case == "attention_forward" else "forward + backward"
    lines = [f"\n#### {title}, {'causal' if causal else 'not causal'}, {threads} thread(s): ms per call "
             "(B = 1, H = 2, D = 64)\n",
             "| T | flash | composed | sdpa | PyTorch composed | PyTorch sdpa | flash / best LibTorch |"
             " flash / best PyTorch | flash GFLOP/s | flash peak MB | LibTorch peak MB |",
             "|---:|" + "---:|" * 10]
    for t in ts:
        rec = [runs.get((case, i, t, causal)) for i in range(3)]
        rate = [r and r["items_per_second"] for r in rec]
        py = [peer.get(f"{case}/path:{i}/T:{t}/causal:{causal}") for i in (1, 2)]
        best_lt = max([r for r in rate[1:] if r], default=None)
        best_py = max([r for r in py if r], default=None)
        lt_index = 1 + rate[1:].index(best_lt) if best_lt else None
        lines.append(
            f"| {t} | " + " | ".join(fmt(ms(r), ".1f") for r in rate + py) + " | "
            + f"{fmt(rate[0] / best_lt if rate[0] and best_lt else None, '.1f')}x | "
            + f"{fmt(rate[0] / best_py if rate[0] and best_py else None, '.1f')}x | "
            + f"{fmt(rec[0] and rec[0]['flops'] / 1e9, '.0f')} | "
            + f"{fmt(rec[0] and rec[0]['peak_bytes'] / 1e6, '.1f')} | "
            + f"{fmt(lt_index and rec[lt_index]['peak_bytes'] / 1e6, '.0f')} |")
    return lines


def plot(out, runs_by_threads):
    """Forward ms per call against T, one line per path, thread count and causality."""
    data, series = [], []
    for threads, runs in runs_by_threads.items():
        for causal in (0, 1):
            for i, name in enumerate(PATHS):
                pts = sorted((k[2], 1e3 / r["items_per_second"]) for k, r in runs.items()
                             if k[0] == "attention_forward" and k[1] == i and k[3] == causal)
                if pts:
                    data.append("\n".join(f"{t} {v}" for t, v in pts))
                    series.append(f"{name}, {'causal' if causal else 'full'}, {threads} thr")
    if not data:
        return
    dat = os.path.join(out, "attention_forward.dat")
    with open(dat, "w") as f:
        f.write("\n\n\n".join(data) + "\n")
    lines = ", ".join(f"'{dat}' index {i} with linespoints title '{s}'" for i, s in enumerate(series))
    script = (f"set terminal svg size 800,520 dynamic; set output '{os.path.join(out, 'attention_forward.svg')}';"
              "set logscale xy; set xlabel 'T (tokens)'; set ylabel 'ms per forward (B=1, H=2, D=64)';"
              f"set key left top; set grid; plot {lines}")
    subprocess.run(["gnuplot", "-e", script], check=True)


def main():
    out = sys.argv[1]
    lines = ["### Exact attention: lmlab flash kernel against LibTorch and PyTorch",
             "medians over repeats, wall clock; best LibTorch = the faster of composed and sdpa in the"
             " same C++ run; peak MB = the most CPU tensor memory one call holds beyond its inputs"]
    runs_by_threads = {}
    for threads in (1, 2):
        runs = cpp_runs(out, threads)
        if not runs:
            continue
        runs_by_threads[threads] = runs
        peer = peer_runs(out, threads)
        for case in ("attention_forward", "attention_train"):
            for causal in (0, 1):
                lines += table(runs, peer, threads, case, causal)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "attention_report.md"), "w") as f:
        f.write(text)
    plot(out, runs_by_threads)
    print(text)


if __name__ == "__main__":
    main()
