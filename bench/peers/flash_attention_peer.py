"""Exact attention in Python PyTorch: the peer of bench/flash_attention_bench.cpp.

The same cases as the C++ bench's LibTorch paths (lmlab's flash kernel has no PyTorch counterpart
on the CPU in torch 1.13): out = softmax(q k^T / sqrt(D) + M) v, q, k, v [1, 2, T, 64], as
matmul-softmax-matmul (composed, path 1) and torch.nn.functional._scaled_dot_product_attention
(sdpa, path 2), causal and not; attention_forward for T in 1024..16384, attention_train (forward +
backward for q, k, v) for T in 1024 and 4096. Each path is checked against double precision before
timing. Each timed run lasts about 0.25 s, as the C++ bench's fixed MinTime (--min-time is accepted
for bench/run.sh and ignored); --repeats runs, wall clock. Names match the C++ run names without
their thread and timing parts.
Run: /usr/bin/python3 bench/peers/flash_attention_peer.py [--threads 1 2] [--repeats 5] [--filter REGEX]
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402

RUN_SECONDS = 0.25
HEADS, HEAD_DIM = 2, 64
FORWARD_T = (1024, 2048, 4096, 8192, 16384)
TRAIN_T = (1024, 4096)


def composed(q, k, v, causal):
    t, s = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[3])
    if causal:
        future = torch.ones(t, s, dtype=torch.bool).triu(s - t + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return torch.softmax(scores, -1) @ v


def sdpa(q, k, v, causal):
    return F._scaled_dot_product_attention(q, k, v, None, 0.0, False, bool(causal))[0]


PATHS = {1: composed, 2: sdpa}


def inputs(t, requires_grad):
    torch.manual_seed(t)
    return [torch.randn(1, HEADS, t, HEAD_DIM, requires_grad=requires_grad) for _ in range(3)]


def check():
    for causal in (False, True):
        q, k, v = inputs(300, False)
        want = composed(q.double(), k.double(), v.double(), causal)
        for p, fn in PATHS.items():
            err = (fn(q, k, v, causal).double() - want).abs().max().item()
            if not err < 1e-4:
                sys.exit(f"flash_attention_peer: path {p} is off by {err}")


def measure(args, threads):
    torch.set_num_threads(threads)
    out = []
    for causal in (0, 1):
        for p, fn in PATHS.items():
            for t in FORWARD_T:
                name = f"attention_forward/path:{p}/T:{t}/causal:{causal}"
                if wanted(args, name):
                    q, k, v = inputs(t, False)
                    with torch.no_grad():
                        out.append(entry(name, timed(lambda: fn(q, k, v, causal), args.repeats, RUN_SECONDS)))
            for t in TRAIN_T:
                name = f"attention_train/path:{p}/T:{t}/causal:{causal}"
                if wanted(args, name):
                    q, k, v = inputs(t, True)
                    g = torch.randn(1, HEADS, t, HEAD_DIM)
                    out.append(entry(name, timed(lambda: torch.autograd.grad(fn(q, k, v, causal), (q, k, v), g),
                                                 args.repeats, RUN_SECONDS)))
    return out


def main():
    args = parse_args(__doc__, "ignored (fixed 0.25 s per run)", RUN_SECONDS)
    check()
    emit("flash_attention_peer.py", args, [b for t in args.threads for b in measure(args, t)],
         run_seconds=RUN_SECONDS)


if __name__ == "__main__":
    main()
