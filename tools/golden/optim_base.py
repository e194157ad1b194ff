"""Golden trajectories of torch.optim 1.13's base optimizers (tests/optim/base_golden_test.cpp).

SGD (momentum, dampening, Nesterov, weight decay), Adagrad (lr decay, weight decay, initial
accumulator), Adam and AdamW (betas, eps, weight decay, amsgrad), each for 100 steps in float64 with
foreach=False (the CPU default; torch 1.13's multi-tensor Adagrad drifts about 1e-7, NOTES.md P4)
on three problems: a quadratic 1/2 x^T A x - b^T x (A symmetric positive definite), logistic
regression mean(softplus(-y X w)) on 32 points, and the Rosenbrock function from (-1.2, 1).
Writes tests/golden/optim_base.{json,bin}: the problems' data and, per run, the parameters after
each step [101, n] (row 0 the start).
Run: /usr/bin/python3 tools/golden/optim_base.py
"""
import torch
import torch.nn.functional as F

from models_golden_io import write_golden

STEPS = 100
OPTIMIZERS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-8}),
    ("adam", {}),
    ("adam", {"betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.01}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.1}),
    ("adamw", {"amsgrad": True, "weight_decay": 0.01}),
]
# Base learning rate per optimizer, scaled per problem (Rosenbrock's gradients start near 200).
LR = {"sgd": 0.01, "adagrad": 0.1, "adam": 0.01, "adamw": 0.01}
PROBLEM_LR_SCALE = {"quadratic": 1.0, "logistic": 1.0, "rosenbrock": 0.01}


def problems():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(5, 5, generator=g, dtype=torch.float64)
    data = {
        "quadratic.A": m @ m.T / 5 + torch.eye(5, dtype=torch.float64),
        "quadratic.b": torch.randn(5, generator=g, dtype=torch.float64),
        "quadratic.x0": torch.randn(5, generator=g, dtype=torch.float64),
        "logistic.X": torch.randn(32, 4, generator=g, dtype=torch.float64),
        "logistic.y": torch.randint(0, 2, (32,), generator=g).to(torch.float64) * 2 - 1,
        "logistic.x0": torch.zeros(4, dtype=torch.float64),
        "rosenbrock.x0": torch.tensor([-1.2, 1.0], dtype=torch.float64),
    }
    losses = {
        "quadratic": lambda x: 0.5 * x @ (data["quadratic.A"] @ x) - data["quadratic.b"] @ x,
        "logistic": lambda x: F.softplus(-data["logistic.y"] * (data["logistic.X"] @ x)).mean(),
        "rosenbrock": lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
    }
    return data, losses


def make(name, params, lr, options):
    o = dict(options)
    if "betas" in o:
        o["betas"] = tuple(o["betas"])
    cls = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW}[name]
    return cls(params, lr=lr, foreach=False, **o)


def main():
    data, losses = problems()
    runs, tensors = [], list(data.items())
    for problem, loss_fn in losses.items():
        for name, options in OPTIMIZERS:
            lr = LR[name] * PROBLEM_LR_SCALE[problem]
            x = data[problem + ".x0"].clone().requires_grad_()
            opt = make(name, [x], lr, options)
            rows = [x.detach().clone()]
            for _ in range(STEPS):
                opt.zero_grad()
                loss_fn(x).backward()
                opt.step()
                rows.append(x.detach().clone())
            key = f"run{len(runs)}"
            runs.append({"tensor": key, "problem": problem, "optimizer": name, "lr": lr, "options": options})
            tensors.append((key, torch.stack(rows)))
    write_golden("optim_base", {"torch": torch.__version__, "steps": STEPS, "runs": runs}, tensors)


if __name__ == "__main__":
    main()
