"""Dense and top-k softmax attention in Python PyTorch: the peer of bench/sparse_attention_bench.cpp.

One head, q, k, v [1, 1, T, 64] float32, non-causal, T in {4096, 16384}:
  dense/T:<T>                softmax(q k^T / sqrt(D)) v, composed (PyTorch 1.13 has no fused kernel)
  sparse_topk/T:<T>/k:<k>    the usual PyTorch top-k attention: dense scores, torch.topk (k = T^0.5),
                             softmax of the kept scores, weighted sum of the gathered v rows
Before timing, top-k with k = T is checked against dense attention. Timing is onebit_peer's: runs of
about 0.25 s (at least one call) after warm-up calls, --repeats runs, wall clock (--min-time is
accepted for bench/run.sh and ignored). Names match the C++ run names without their thread and
timing parts.
Run: /usr/bin/python3 bench/peers/sparse_attention_peer.py [--threads 1 2] [--repeats 5]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed  # noqa: E402

HEAD_DIM = 64
SIZES = (4096, 16384)


def inputs(t):
    torch.manual_seed(t)
    return tuple(torch.randn(1, 1, t, HEAD_DIM) for _ in range(3))


def dense(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(HEAD_DIM), -1) @ v


def top_k(q, k, v, kk):
    values, indices = (q @ k.transpose(-2, -1) / math.sqrt(HEAD_DIM)).topk(kk, -1)
    kept = v[0, 0][indices.view(-1)].view(1, 1, -1, kk, HEAD_DIM)
    return (torch.softmax(values, -1).unsqueeze(-2) @ kept).squeeze(-2)


def check():
    q, k, v = inputs(512)
    err = (top_k(q, k, v, 512) - dense(q, k, v)).abs().max().item()
    if not err < 1e-4:
        sys.exit(f"sparse_attention_peer: top-k with k = T is off dense attention by {err}")


def measure(threads, repeats):
    torch.set_num_threads(threads)
    out = []
    with torch.no_grad():
        for t in SIZES:
            q, k, v = inputs(t)
            kk = round(math.sqrt(t))
            for name, fn in ((f"dense/T:{t}", lambda: dense(q, k, v)),
                             (f"sparse_topk/T:{t}/k:{kk}", lambda: top_k(q, k, v, kk))):
                out.append(entry(name, timed(fn, repeats, 0.25)))
    return out


def main():
    args = parse_args(__doc__, "ignored (fixed 0.25 s per run)", 0.25)
    check()
    emit("sparse_attention_peer.py", args, [b for t in args.threads for b in measure(t, args.repeats)])


if __name__ == "__main__":
    main()
