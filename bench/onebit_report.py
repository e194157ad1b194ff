"""The 1-bit inference tables of docs/onebit.md from one bench/run.sh run.

Reads onebit_bench.threadsN.json (Google Benchmark, medians over repeats) and
onebit_peer.threadsN.json from the run directory and writes onebit_report.md there (also printed):
per layer shape, batch and thread count the median time per call of every path; the speedup of
each packed path over the faster LibTorch fp32 path measured in the same C++ run (fp32_mv or
fp32_linear), and of the int8 packed paths over the faster LibTorch int8 engine; weight bytes read
per second against memory_read (the roofline of a GEMV); end-to-end GPT tokens/s.
Run: /usr/bin/python3 bench/onebit_report.py runs/bench/<timestamp>
"""
import json
import os
import sys

PACKED = ["binary_i8", "ternary_i8", "binary_f32", "ternary_f32"]
FP32 = ["fp32_mv", "fp32_linear"]
INT8 = ["int8_qnnpack", "int8_onednn"]
PATH_INDEX = {"fp32_linear": 0, "fp32_mv": 1}  # the path:<i> part of the case names


def case_params(run_name):
    parts = run_name.split("/")
    return parts[0], {k: int(v) for k, v in (p.split(":") for p in parts[1:] if ":" in p and p.split(":")[1].isdigit())}


def load_run(out, threads):
    """{(path, N, K, batch) or ('gpt', model, tokens) or ('memory',): median record} for one thread count."""
    path = os.path.join(out, f"onebit_bench.threads{threads}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        bench = json.load(f)["benchmarks"]
    runs = {}
    for b in bench:
        if b.get("aggregate_name") != "median":
            continue
        name, p = case_params(b["run_name"])
        if name == "memory_read":
            runs[("memory",)] = b
        elif name == "gpt_forward":
            runs[("gpt", p["model"], p["tokens"])] = b
        else:
            runs[(name, p["N"], p["K"], p["batch"])] = b
    return runs


def load_peer(out, threads):
    path = os.path.join(out, f"onebit_peer.threads{threads}.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {b["name"]: b["steps_per_second_median"] for b in json.load(f)["benchmarks"]}


def us(rate):
    return 1e6 / rate if rate else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def layer_tables(runs, peer, threads):
    shapes = sorted({(k[1], k[2], k[3]) for k in runs if len(k) == 4}, key=lambda s: (s[2], s[0] * s[1], s[0]))
    bandwidth = runs[("memory",)]["bytes_per_second"] if ("memory",) in runs else None
    rate = lambda path, s: runs[(path, *s)]["items_per_second"] if (path, *s) in runs else None  # noqa: E731
    times = [f"\n#### {threads} thread(s): median time per call, microseconds\n",
             "| N x K | B | " + " | ".join(FP32 + ["PyTorch fp32"] + INT8 + PACKED) + " |",
             "|---|---|" + "---:|" * (len(FP32) + 1 + len(INT8) + len(PACKED))]
    ratios = [f"\n#### {threads} thread(s): speedup of the packed layers; weight bytes/s against memory "
              f"bandwidth ({fmt(bandwidth and bandwidth / 1e9, '.1f')} GB/s measured)\n",
              "| N x K | B | " + " | ".join(f"{p} / fp32" for p in PACKED) + " | binary_i8 / int8 | ternary_i8 / int8"
              " | fp32 % of bw | binary_i8 % of bw | ternary_i8 % of bw |",
              "|---|---|" + "---:|" * (len(PACKED) + 5)]
    for s in shapes:
        n, k, b = s
        peer_fp32 = [peer.get(f"{p}/path:{PATH_INDEX[p]}/N:{n}/K:{k}/batch:{b}") for p in FP32]
        peer_best = max([r for r in peer_fp32 if r], default=None)
        times.append(f"| {n} x {k} | {b} | " + " | ".join(
            fmt(us(rate(p, s)), ".0f") for p in FP32) + f" | {fmt(us(peer_best), '.0f')} | " + " | ".join(
            fmt(us(rate(p, s)), ".0f") for p in INT8 + PACKED) + " |")
        fp32_best = max([rate(p, s) for p in FP32 if rate(p, s)], default=None)
        int8_best = max([rate(p, s) for p in INT8 if rate(p, s)], default=None)
        speed = lambda p, base: rate(p, s) / base if rate(p, s) and base else None  # noqa: E731
        share = lambda p: (runs[(p, *s)]["bytes_per_second"] / bandwidth  # noqa: E731
                           if bandwidth and (p, *s) in runs else None)
        fp32_share = max([share(p) for p in FP32 if share(p)], default=None)
        ratios.append(f"| {n} x {k} | {b} | " + " | ".join(fmt(speed(p, fp32_best), ".1f") for p in PACKED)
                      + f" | {fmt(speed('binary_i8', int8_best), '.1f')} | {fmt(speed('ternary_i8', int8_best), '.1f')}"
                      f" | {fmt(fp32_share and 100 * fp32_share, '.0f')} | {fmt(share('binary_i8') and 100 * share('binary_i8'), '.0f')}"
                      f" | {fmt(share('ternary_i8') and 100 * share('ternary_i8'), '.0f')} |")
    return times + ratios


def gpt_table(runs, peer, threads):
    tok = lambda m, t: runs[("gpt", m, t)]["tokens_per_second"] if ("gpt", m, t) in runs else None  # noqa: E731
    lines = [f"\n#### {threads} thread(s): GPT forward (width 1024, 4 layers, 50.8M parameters), tokens/s\n",
             "| context | fp32 twin (C++) | fp32 twin (PyTorch) | packed binary | packed ternary | binary / fp32 | ternary / fp32 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for t in (1, 64):
        py = peer.get(f"gpt_forward/model:0/tokens:{t}")
        fp = tok(0, t)
        ratio = lambda m: tok(m, t) / fp if fp and tok(m, t) else None  # noqa: E731
        lines.append(f"| {t} | {fmt(fp, '.1f')} | {fmt(py and py * t, '.1f')} | {fmt(tok(1, t), '.1f')} | "
                     f"{fmt(tok(2, t), '.1f')} | {fmt(ratio(1), '.1f')} | {fmt(ratio(2), '.1f')} |")
    return lines


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: onebit_report.py RUN_DIR (a runs/bench/<timestamp> directory of bench/run.sh)")
    out = sys.argv[1]
    lines = ["### Packed 1-bit inference (bench/onebit_bench.cpp, medians over repeats)"]
    for threads in (1, 2):
        runs = load_run(out, threads)
        if runs is None:
            continue
        peer = load_peer(out, threads)
        lines += layer_tables(runs, peer, threads) + gpt_table(runs, peer, threads)
    if len(lines) == 1:
        sys.exit(f"onebit_report.py: no onebit_bench.threadsN.json in {out}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "onebit_report.md.tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(out, "onebit_report.md.tmp"), os.path.join(out, "onebit_report.md"))
    print(text)


if __name__ == "__main__":
    main()
