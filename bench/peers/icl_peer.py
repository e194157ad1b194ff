"""The in-context learner and its reweighting fits in plain Python PyTorch: the peer of
bench/icl_bench.cpp.

The same model as lmlab/icl/learner.h (read-in Linear(d, C), learned positions, pre-norm GPT-2
blocks with causal softmax attention and a 4C GELU MLP, final LayerNorm, read-out Linear(C, 1) at
the x tokens; tokens x_0, (y_0, 0..), ..., x_{N-1}), as a PyTorch 1.13 user writes it. Cases:
one training step (fresh batch of 64 prompts, d = 5, forward, backward, Adam) at N = 11, 2 layers,
width 32 and N = 21, 3 layers, width 64; RICL (100 Adam steps on per-position weights, 256
validation prompts, batch 64) and LARICL (one Jacobian pass and a K x K ridge solve).
Run: /usr/bin/python3 bench/peers/icl_peer.py [--threads 1 2] [--repeats 5] [--min-time 0.5]
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402

D, BATCH, VALIDATION = 5, 64, 256


class Block(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.q, self.k, self.v, self.o = (nn.Linear(c, c) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))

    def forward(self, x):
        b, t, c = x.shape
        h = self.ln1(x)
        q, k, v = (f(h).view(b, t, self.heads, c // self.heads).transpose(1, 2) for f in (self.q, self.k, self.v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(c // self.heads)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class Learner(nn.Module):
    def __init__(self, points, layers, width, heads=2):
        super().__init__()
        self.read_in = nn.Linear(D, width)
        self.wpe = nn.Parameter(0.02 * torch.randn(2 * points - 1, width))
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, 1)

    def forward(self, xs, ys, weights=None):
        b, n, d = xs.shape
        y_tokens = torch.zeros_like(xs)
        y_tokens[:, :, 0] = ys
        e = self.read_in(torch.stack([xs, y_tokens], 2).reshape(b, 2 * n, d)[:, :2 * n - 1])
        if weights is not None:
            w = weights.expand(b, n - 1).repeat_interleave(2, dim=1)
            e = e * torch.cat([w, torch.ones(b, 1)], 1).unsqueeze(2)
        h = e + self.wpe[:2 * n - 1]
        for block in self.blocks:
            h = block(h)
        return self.read_out(self.ln_f(h)[:, 0::2]).squeeze(2)


def prompts(points, batch, gen):
    xs = torch.randn(batch, points, D, generator=gen)
    ws = torch.randn(batch, D, generator=gen)
    return xs, torch.einsum("bnd,bd->bn", xs, ws) + 0.5 * torch.randn(batch, points, generator=gen)


def train_step(points, layers, width):
    torch.manual_seed(0)
    model = Learner(points, layers, width)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)

    def step():
        xs, ys = prompts(points, BATCH, gen)
        loss = ((model(xs, ys) - ys) ** 2).mean() / D
        adam.zero_grad()
        loss.backward()
        adam.step()
    return step


def fit(ricl):
    torch.manual_seed(0)
    model = Learner(11, 2, 32).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    xs, ys = prompts(11, VALIDATION, torch.Generator().manual_seed(2))
    k = 10

    def ricl_fit():
        w = torch.ones(k, requires_grad=True)
        adam = torch.optim.Adam([w], lr=0.02)
        gen = torch.Generator().manual_seed(3)
        for _ in range(100):
            idx = torch.randperm(VALIDATION, generator=gen)[:BATCH]
            loss = ((model(xs[idx], ys[idx], w)[:, -1] - ys[idx, -1]) ** 2).mean() / D
            adam.zero_grad()
            loss.backward()
            adam.step()
        return w.detach()

    def laricl_fit():
        w = torch.ones(VALIDATION, k, requires_grad=True)
        pred = model(xs, ys, w)[:, -1]
        jac = torch.autograd.grad(pred.sum(), w)[0].double()
        r = ys[:, -1].double() - pred.detach().double()
        gram = jac.T @ jac / VALIDATION + 1e-3 * torch.eye(k, dtype=torch.float64)
        return 1 + torch.linalg.solve(gram, jac.T @ r / VALIDATION)
    return ricl_fit if ricl else laricl_fit


def check():
    for f in (fit(True), fit(False)):
        w = f()
        if w.shape != (10,) or not torch.isfinite(w).all():
            sys.exit("icl_peer: a fit gave non-finite or misshapen weights")


def measure(args, threads):
    torch.set_num_threads(threads)
    out = []
    for points, layers, width in ((11, 2, 32), (21, 3, 64)):
        name = f"icl_train_step/points:{points}/layers:{layers}/width:{width}"
        if wanted(args, name):
            out.append(entry(name, timed(train_step(points, layers, width), args.repeats, args.min_time)))
    for method in (0, 1):
        name = f"icl_fit/method:{method}"
        if wanted(args, name):
            out.append(entry(name, timed(fit(method == 0), args.repeats, args.min_time)))
    return out


def main():
    args = parse_args(__doc__, default_min_time=0.5)
    check()
    emit("icl_peer.py", args, [b for t in args.threads for b in measure(args, t)])


if __name__ == "__main__":
    main()
