"""The optimizer plug-ins written in plain Python PyTorch: the peer of bench/optim_bench.cpp.

One step over N float32 parameters (4 tensors of N / 4, gradients fixed) of torch.optim.SGD with
momentum 0.9 (method 0) and of the same plug-ins lmlab implements in C++ (lmlab/optim/), as a
PyTorch user would write them around it: Reject Accelerating (1), Random Vector Accelerating (2),
RDBD (3), hypergradient descent (4) and RVA on 1024 random coordinates (5); N = 1M and 10M.
Run: /usr/bin/python3 bench/peers/optim_peer.py [--threads 1 2] [--repeats 5] [--min-time 0.25]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402


def dot(a, b):
    return sum(torch.dot(x.reshape(-1), y.reshape(-1)) for x, y in zip(a, b)).item()


class Plugin:
    def __init__(self, method, params, sgd):
        self.method, self.params, self.sgd = method, params, sgd
        self.direction, self.average, self.last_change = None, None, 0.0
        self.kappa, self.phi, self.theta, self.beta = 1e-3, 0.1, 0.7, 1e-12

    def step(self):
        p, group = self.params, self.sgd.param_groups[0]
        if self.method == 0:
            self.sgd.step()
            return
        grads = [x.grad for x in p]
        with torch.no_grad():
            if self.method == 3 and self.average is not None:  # RDBD
                s = dot(grads, self.average)
                lr = group["lr"]
                if self.last_change != 0 and s != 0 and (s > 0) != (self.last_change > 0):
                    lr -= self.last_change
                self.last_change = self.kappa if s > 0 else (-self.phi * lr if s < 0 else 0.0)
                group["lr"] = min(max(lr + self.last_change, 1e-8), 10.0)
            if self.method == 4 and self.direction is not None:  # hypergradient
                group["lr"] = min(max(group["lr"] + self.beta * dot(grads, self.direction), 1e-8), 10.0)
            before = [x.detach().clone() for x in p]
            saved_grads = [g.clone() for g in grads]
        self.sgd.step()
        with torch.no_grad():
            lr = group["lr"]
            u = [b - x for b, x in zip(before, p)]
            if self.method == 1:  # RA
                a = [ui / lr - g for ui, g in zip(u, saved_grads)]
                if dot(a, a) > 1e-18 * dot(saved_grads, saved_grads) and dot(a, saved_grads) < 0:
                    for x, b, g in zip(p, before, saved_grads):
                        x.copy_(b - lr * g)
            elif self.method == 5:  # RVA on K random coordinates (distinct up to rare repeats)
                idx = torch.randint(sum(ui.numel() for ui in u), (K,)).unique()
                vals = torch.randn(idx.numel())
                picked, start = [], 0
                for ui in u:
                    mask = (idx >= start) & (idx < start + ui.numel())
                    picked.append((idx[mask] - start, vals[mask]))
                    start += ui.numel()
                vu = sum(torch.dot(ui.view(-1)[i], w) for ui, (i, w) in zip(u, picked)).item()
                c = 2 * vu / torch.dot(vals, vals).item()
                for x, (i, w) in zip(p, picked):
                    x.view(-1)[i] -= c * w
            elif self.method == 2:  # RVA
                v = [torch.randn_like(ui) for ui in u]
                vu, vv = dot(v, u), dot(v, v)
                c = 2 * abs(vu) / vv * (1 if vu >= 0 else -1)
                for x, b, ui, vi in zip(p, before, u, v):
                    x.copy_(b - (ui + c * vi))
            else:
                d = [ui / lr for ui in u]
                if self.method == 3:
                    if self.average is None:
                        self.average = [torch.zeros_like(di) for di in d]
                    for av, di in zip(self.average, d):
                        av.mul_(self.theta).add_(di, alpha=1 - self.theta)
                self.direction = d


K = 1024


def make(method, n, lr=1e-6):
    torch.manual_seed(n)
    params = []
    for _ in range(4):
        x = torch.randn(n // 4, requires_grad=True)
        x.grad = torch.randn(n // 4)
        params.append(x)
    return Plugin(method, params, torch.optim.SGD(params, lr=lr, momentum=0.9))


def check():
    """RVA's step is the accelerating branch: <d, u> >= ||u||^2 for the base step u (at lr 0.1, so
    that float32 rounding of the parameters does not hide the term of about 2 / dim ||u||^2)."""
    base, rva = make(0, 4000, 0.1), make(2, 4000, 0.1)
    before = [x.detach().clone() for x in rva.params]
    base.step(), rva.step()
    u = [b - x.detach() for b, x in zip(before, base.params)]
    d = [b - x.detach() for b, x in zip(before, rva.params)]
    if not dot(d, u) >= dot(u, u) * (1 - 1e-4):
        sys.exit("optim_peer: RVA's step is not the accelerating branch")


def measure(args, threads):
    torch.set_num_threads(threads)
    out = []
    for n in (1000000, 10000000):
        for method in range(6):
            name = f"optim_step/method:{method}/params:{n}"
            if not wanted(args, name):
                continue
            plugin = make(method, n)
            out.append(entry(name, timed(plugin.step, args.repeats, args.min_time)))
    return out


def main():
    args = parse_args(__doc__, default_min_time=0.25)
    check()
    emit("optim_peer.py", args, [b for t in args.threads for b in measure(args, t)])


if __name__ == "__main__":
    main()
