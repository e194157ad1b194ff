"""NTK-Attention and P-Tuning v2 forward + backward in Python PyTorch: the peer of
bench/ntk_attention_bench.cpp.

The same work per case as the C++ bench: q, k, v [1, 8, L, 64], causal, a fixed random output
gradient, gradients for q, k, v and the adapter's parameters.
  method 0  NTK-Attention written with PyTorch ops as in lmlab's composed reference (the released
            code's formula with the log-domain normaliser): scores q k^T / sqrt(D) causally masked,
            u = elu(q / D^(1/4)) + 1, lse = logsumexp([scores, log(u . softplus(k))]),
            out = exp(scores - lse) v + exp(-lse) u Z
  method 1  P-Tuning v2: m learnable keys/values per head prepended, softmax attention over m + L
            keys with the mask on the input keys only (as PEFT's prefix tuning hands past key/values
            to the model's eager attention)
Before timing, NTK-Attention is checked against the direct (non-log-domain) formula in double.
Prints JSON with the median steps/s per case and thread count (names as the C++ run names).
Run: /usr/bin/python3 bench/peers/ntk_attention_peer.py [--threads 1 2] [--repeats 5] [--min-time 0.25]
"""
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, parse_args, timed  # noqa: E402

HEADS, HEAD_DIM = 8, 64


def causal_mask(t, s):
    """True where query i (of the last t positions) may not see key j."""
    return torch.ones(t, s, dtype=torch.bool).triu(s - t + 1)


def ntk_attention(q, k, v, z, k_param, causal):
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if causal:
        scores = scores.masked_fill(causal_mask(q.shape[-2], k.shape[-2]), float("-inf"))
    u = F.elu(q / d ** 0.25) + 1
    log_mass = torch.log((u * F.softplus(k_param).unsqueeze(1)).sum(-1, keepdim=True))
    lse = torch.logsumexp(torch.cat([scores, log_mass], -1), -1, keepdim=True)
    return torch.exp(scores - lse) @ v + torch.exp(-lse) * (u @ z)


def prefix_attention(q, k, v, pk, pv, causal):
    b = q.shape[0]
    keys = torch.cat([pk.unsqueeze(0).expand(b, -1, -1, -1), k], 2)
    values = torch.cat([pv.unsqueeze(0).expand(b, -1, -1, -1), v], 2)
    scores = q @ keys.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        scores = scores.masked_fill(causal_mask(q.shape[-2], keys.shape[-2]), float("-inf"))
    return torch.softmax(scores, -1) @ values


def check():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 2, 30, HEAD_DIM, dtype=torch.double) for _ in range(3))
    z, kp = torch.randn(2, HEAD_DIM, HEAD_DIM, dtype=torch.double) * 0.1, torch.randn(2, HEAD_DIM, dtype=torch.double)
    got = ntk_attention(q, k, v, z, kp, True)
    scores = (q @ k.transpose(-2, -1) / 8).masked_fill(causal_mask(30, 30), float("-inf"))
    u = F.elu(q / HEAD_DIM ** 0.25) + 1
    want = (torch.exp(scores) @ v + u @ z) / (torch.exp(scores).sum(-1, keepdim=True) +
                                              (u * F.softplus(kp).unsqueeze(1)).sum(-1, keepdim=True))
    err = (got - want).abs().max().item()
    if not err < 1e-10:
        sys.exit(f"ntk_attention_peer: NTK-Attention is off the direct formula by {err}")


def cases():
    for method in (0, 1):
        for l in (128, 1024):
            for m in (16, 256, 4096, 65536):
                if not (l == 1024 and m == 65536):
                    yield method, l, m


def measure(threads, repeats, min_time):
    torch.set_num_threads(threads)
    out = []
    for method, l, m in cases():
        torch.manual_seed(l + m)
        q, k, v = (torch.randn(1, HEADS, l, HEAD_DIM, requires_grad=True) for _ in range(3))
        grad = torch.randn(1, HEADS, l, HEAD_DIM)
        if method == 0:
            params = [(torch.randn(HEADS, HEAD_DIM, HEAD_DIM) * 0.1).requires_grad_(),
                      torch.full((HEADS, HEAD_DIM), math.log(math.expm1(1e-2)), requires_grad=True)]
            forward = lambda: ntk_attention(q, k, v, params[0], params[1], True)  # noqa: E731
        else:
            params = [torch.randn(HEADS, m, HEAD_DIM, requires_grad=True) for _ in range(2)]
            forward = lambda: prefix_attention(q, k, v, params[0], params[1], True)  # noqa: E731
        wrt = params + [q, k, v]
        step = lambda: torch.autograd.grad([forward()], wrt, [grad])  # noqa: E731
        rates = timed(step, repeats, min_time)
        out.append({"name": f"ntk_attention_train/method:{method}/L:{l}/m:{m}", "threads": torch.get_num_threads(),
                    "steps_per_second": rates, "steps_per_second_median": statistics.median(rates),
                    "parameters": sum(p.numel() for p in params)})
    return out


def main():
    args = parse_args(__doc__, default_min_time=0.25)
    check()
    emit("ntk_attention_peer.py", args, [b for t in args.threads for b in measure(t, args.repeats, args.min_time)],
         min_time_s=args.min_time)


if __name__ == "__main__":
    main()
