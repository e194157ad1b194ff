"""The gradient-leakage attacks' iteration cost in plain Python PyTorch: the peer of
bench/privacy_attacks_bench.cpp.

On a tanh MLP 784 -> 512 -> 512 -> 10 (torch.nn.Sequential, float32) and the gradient of a batch of
B random 28x28 images: dlg_step, DLG's objective sum_l ||dL(x', y')/dtheta_l - g_l||^2 and its
derivative in x', y' through torch.autograd.grad(create_graph=True); ig_step, one Inverting
Gradients iteration (cosine objective, derivative, Adam on the sign, box projection). B = 1 and 8.
Run: /usr/bin/python3 bench/peers/privacy_attacks_peer.py [--threads 1 2] [--repeats 5] [--min-time 0.25]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402


class Problem:
    def __init__(self, batch):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.Tanh(),
                                         torch.nn.Linear(512, 512), torch.nn.Tanh(), torch.nn.Linear(512, 10))
        self.params = list(self.model.parameters())
        loss = torch.nn.functional.cross_entropy(self.model(torch.rand(batch, 1, 28, 28)), torch.randint(10, (batch,)))
        self.target = [g.detach() for g in torch.autograd.grad(loss, self.params)]
        self.x = torch.randn(batch, 1, 28, 28, requires_grad=True)
        self.y = torch.randn(batch, 10, requires_grad=True)

    def objective(self, cosine):
        p = torch.softmax(self.y, 1)
        loss = -(p * torch.log_softmax(self.model(self.x), 1)).sum(1).mean()
        grads = torch.autograd.grad(loss, self.params, create_graph=True)
        if cosine:
            dot = sum((d * g).sum() for d, g in zip(grads, self.target))
            dn = sum(d.pow(2).sum() for d in grads).sqrt()
            tn = sum(g.pow(2).sum() for g in self.target).sqrt()
            return 1 - dot / (dn * tn)
        return sum((d - g).pow(2).sum() for d, g in zip(grads, self.target))

    def dlg_step(self):
        f = self.objective(False)
        return torch.autograd.grad(f, [self.x, self.y])

    def make_ig_step(self):
        adam = torch.optim.Adam([self.x, self.y], lr=0.1)

        def step():
            gx, gy = torch.autograd.grad(self.objective(True), [self.x, self.y])
            self.x.grad, self.y.grad = gx.sign(), gy.sign()
            adam.step()
            with torch.no_grad():
                self.x.clamp_(0, 1)
        return step


def check():
    """The objective is finite and its derivative too."""
    p = Problem(2)
    gx, gy = p.dlg_step()
    if not (torch.isfinite(gx).all() and torch.isfinite(gy).all()):
        sys.exit("privacy_attacks_peer: a non-finite derivative")


def measure(args, threads):
    torch.set_num_threads(threads)
    out = []
    for batch in (1, 8):
        name = f"dlg_step/batch:{batch}"
        if wanted(args, name):
            out.append(entry(name, timed(Problem(batch).dlg_step, args.repeats, args.min_time)))
        name = f"ig_step/batch:{batch}"
        if wanted(args, name):
            out.append(entry(name, timed(Problem(batch).make_ig_step(), args.repeats, args.min_time)))
    return out


def main():
    args = parse_args(__doc__, default_min_time=0.25)
    check()
    emit("privacy_attacks_peer.py", args, [b for t in args.threads for b in measure(args, t)])


if __name__ == "__main__":
    main()
