"""DP-SGD's step in plain Python PyTorch: the peer of bench/privacy_bench.cpp.

The tiny GPT (2 layers, width 64, 4 heads, T = 32, byte vocabulary, tied head) and tiny ViT (28x28,
patch 7, 2 layers, width 64, 10 classes) in lmlab's layout (same parameter counts), batch 64, SGD:
mode 0 plain step (mean loss, one backward); mode 1 DP-SGD with per-sample gradients from functorch
(vmap of grad over the batch, as torch 1.13 offers them), clipping to 1, noise, step; mode 2 one
forward and backward per example; mode 3 one forward, then one backward per example through it.
Run: /usr/bin/python3 bench/peers/privacy_peer.py [--threads 1 2] [--repeats 5] [--min-time 0.5]
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from functorch import grad, make_functional, vmap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402

BATCH, T, WIDTH, HEADS, LAYERS = 64, 32, 64, 4, 2


class Block(torch.nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.causal = causal
        self.ln1, self.ln2 = torch.nn.LayerNorm(WIDTH), torch.nn.LayerNorm(WIDTH)
        self.q, self.k, self.v, self.o = (torch.nn.Linear(WIDTH, WIDTH) for _ in range(4))
        self.fc, self.out = torch.nn.Linear(WIDTH, 4 * WIDTH), torch.nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        b, t, c = x.shape
        h = self.ln1(x)
        q, k, v = (f(h).reshape(b, t, HEADS, c // HEADS).transpose(1, 2) for f in (self.q, self.k, self.v))
        s = q @ k.transpose(-1, -2) / math.sqrt(c // HEADS)
        if self.causal:
            s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        x = x + self.o((s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = torch.nn.Embedding(256, WIDTH), torch.nn.Embedding(T, WIDTH)
        self.blocks = torch.nn.ModuleList(Block(True) for _ in range(LAYERS))
        self.ln_f = torch.nn.LayerNorm(WIDTH)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.wte.weight.t()


class ViT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Linear(49, WIDTH)
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, WIDTH))
        self.pos = torch.nn.Parameter(torch.zeros(1, 17, WIDTH))
        self.blocks = torch.nn.ModuleList(Block(False) for _ in range(LAYERS))
        self.ln_f, self.head = torch.nn.LayerNorm(WIDTH), torch.nn.Linear(WIDTH, 10)

    def forward(self, img):
        b = img.shape[0]
        p = img.reshape(b, 1, 4, 7, 4, 7).permute(0, 2, 4, 1, 3, 5).reshape(b, 16, 49)
        x = torch.cat([self.cls.expand(b, 1, WIDTH), self.patch(p)], 1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x)[:, 0])


def make(model):
    torch.manual_seed(7)
    if model == 0:
        net, x, y = GPT(), torch.randint(0, 256, (BATCH, T)), torch.randint(0, 256, (BATCH, T))

        def losses(net_fn, xs, ys):
            return F.cross_entropy(net_fn(xs).reshape(-1, 256), ys.reshape(-1), reduction="none").reshape(len(xs), -1).mean(1)
    else:
        net, x, y = ViT(), torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))

        def losses(net_fn, xs, ys):
            return F.cross_entropy(net_fn(xs), ys, reduction="none")
    fnet, _ = make_functional(net)
    return net, x, y, losses, fnet, torch.optim.SGD(net.parameters(), lr=1e-3)


def private_step(net, grads_per_example, sgd, sigma, gen):
    """Clip each example's flat gradient to norm 1, add N(0, sigma^2), average over the batch, step."""
    norms = torch.stack([g.reshape(BATCH, -1).norm(dim=1) for g in grads_per_example], 1).norm(dim=1)
    factor = (1.0 / (norms + 1e-6)).clamp(max=1.0)
    for p, g in zip(net.parameters(), grads_per_example):
        p.grad = (torch.einsum("b,b...->...", factor, g) + sigma * torch.randn(p.shape, generator=gen)) / BATCH
    sgd.step()


def step_fn(model, mode, sigma=1.0):
    net, x, y, losses, fnet, sgd = make(model)
    gen = torch.Generator().manual_seed(1)
    params = list(net.parameters())

    def one_loss(ps, xi, yi):
        return losses(lambda z: fnet(ps, z), xi.unsqueeze(0), yi.unsqueeze(0)).sum()
    per_sample = vmap(grad(one_loss), in_dims=(None, 0, 0))

    def step():
        if mode == 0:
            sgd.zero_grad()
            losses(net, x, y).mean().backward()
            sgd.step()
        elif mode == 1:
            private_step(net, per_sample(tuple(p.detach() for p in params), x, y), sgd, sigma, gen)
        else:
            all_losses = losses(net, x, y) if mode == 3 else None
            gs = [torch.autograd.grad(all_losses[i] if mode == 3 else losses(net, x[i:i + 1], y[i:i + 1]).sum(), params,
                                      retain_graph=mode == 3) for i in range(BATCH)]
            private_step(net, [torch.stack(g) for g in zip(*gs)], sgd, sigma, gen)
    return step, net


def check():
    """Without noise, the vmap step and the per-example loops take the same step."""
    for model in (0, 1):
        steps = [step_fn(model, mode, sigma=0.0) for mode in (1, 2, 3)]
        for s, _ in steps:
            s()
        ref = [p.detach() for p in steps[0][1].parameters()]
        for _, net in steps[1:]:
            for a, b in zip(ref, net.parameters()):
                if not torch.allclose(a, b.detach(), atol=1e-6, rtol=1e-4):
                    sys.exit(f"privacy_peer: model {model}: the vmap step and a loop's differ")


def measure(args, threads):
    torch.set_num_threads(threads)
    out = []
    for model in (0, 1):
        for mode in (0, 1, 2, 3):
            name = f"privacy_step/model:{model}/mode:{mode}"
            if not wanted(args, name):
                continue
            step, net = step_fn(model, mode)
            out.append(entry(name, timed(step, args.repeats, args.min_time),
                             parameters=sum(p.numel() for p in net.parameters())))
    return out


def main():
    args = parse_args(__doc__, default_min_time=0.5)
    check()
    emit("privacy_peer.py", args, [b for t in args.threads for b in measure(args, t)])


if __name__ == "__main__":
    main()
