"""lmlab.optim around torch.optim optimizers: the same hand-computed steps as the C++ tests
(tests/optim/), RVA's expected direction, resume through state_dict, and bad input."""
import copy
import math

import pytest
import torch

from lmlab.optim import DeltaBarDelta, Hypergradient, RDBD, RandomVectorAccelerating, RejectAccelerating


def scalar():
    return torch.zeros(1, dtype=torch.float64, requires_grad=True)


def set_grad(x, g):
    x.grad = torch.full_like(x, float(g))


def test_delta_bar_delta_and_rdbd_follow_the_hand_computed_steps():
    # kappa 0.01, phi 0.5, theta 0.5 over SGD at lr 0.1, gradients +1, +1, -1, -1 (see
    # tests/optim/lr_adapter_test.cpp for the derivation).
    want = {False: ([0.1, 0.11, 0.055, 0.065], [-0.1, -0.21, -0.155, -0.09]),
            True: ([0.1, 0.11, 0.05, 0.11], [-0.1, -0.21, -0.16, -0.05])}
    for regret, (lrs, xs) in want.items():
        x = scalar()
        cls = RDBD if regret else DeltaBarDelta
        opt = cls(torch.optim.SGD([x], lr=0.1), kappa=0.01, phi=0.5, theta=0.5)
        for g, lr, value in zip([1, 1, -1, -1], lrs, xs):
            set_grad(x, g)
            opt.step()
            assert opt.lrs()[0] == pytest.approx(lr, abs=1e-15)
            assert opt.param_groups[0]["lr"] == pytest.approx(lr, abs=1e-15)  # the torch.optim group's own lr
            assert x.item() == pytest.approx(value, abs=1e-15)
        if regret:
            assert opt.regrets == 2


def test_adam_hd_moves_the_lr_by_beta_times_the_gradient_and_the_last_step():
    x = scalar()
    opt = Hypergradient(torch.optim.Adam([x], lr=0.1), beta=0.01)
    set_grad(x, 1)
    opt.step()
    set_grad(x, 2)
    opt.step()
    assert opt.lrs()[0] == pytest.approx(0.1 + 0.01 * 2 / (1 + 1e-8), abs=1e-12)


def test_reject_accelerating_rejects_momentum_against_the_gradient():
    x = scalar()
    opt = RejectAccelerating(torch.optim.SGD([x], lr=0.5, momentum=0.9))
    set_grad(x, 1)
    opt.step()
    set_grad(x, -1)
    opt.step()  # buffer 0.9 - 1 against g = -1: rejected, plain step x - 0.5 g = 0
    assert x.item() == 0.0
    assert opt.rejected == 1


def test_rva_expected_direction_is_one_plus_two_over_dim():
    # Each coordinate of d - g lies in [-2, 2] for ||g|| = 1; Hoeffding with N = 4000, t = 0.13:
    # 2 exp(-2 N t^2 / 16) = 4e-4 per coordinate (the draws are seeded).
    g = torch.tensor([0.5, -0.5, 0.5, 0.5], dtype=torch.float64)
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = RandomVectorAccelerating(torch.optim.SGD([x], lr=1.0), seed=11)
    total = torch.zeros(4, dtype=torch.float64)
    for _ in range(4000):
        with torch.no_grad():
            x.zero_()
        x.grad = g.clone()
        opt.step()
        total -= x.detach()
    assert (total / 4000 - 1.5 * g).abs().max().item() < 0.13


def test_state_dict_resumes_the_same_trajectory():
    def grad(x, t):
        return torch.cos(3 * x.detach() + t) + 0.3

    def make(x):
        rva = RandomVectorAccelerating(torch.optim.SGD([x], lr=0.05, momentum=0.9), seed=5)
        return RDBD(rva, kappa=0.01, phi=0.3)

    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = make(x)
    for t in range(10):
        x.grad = grad(x, t)
        opt.step()
        if t == 4:
            saved, x5 = copy.deepcopy(opt.state_dict()), x.detach().clone()  # torch.optim returns live tensors
    y = x5.clone().requires_grad_()
    resumed = make(y)
    resumed.load_state_dict(saved)  # torch.optim replaces its group dicts: the lr must follow
    for t in range(5, 10):
        y.grad = grad(y, t)
        resumed.step()
    assert torch.equal(x, y)
    assert resumed.lrs() == opt.lrs()


def test_closure_is_evaluated_with_gradients():
    x = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    opt = DeltaBarDelta(torch.optim.SGD([x], lr=0.1))

    def closure():
        opt.zero_grad()
        loss = (x ** 2).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    assert x.item() == pytest.approx(3.0 - 0.1 * 6.0)


def test_bad_input_is_an_error():
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        RDBD([scalar()])
    with pytest.raises(ValueError, match="phi"):
        RDBD(torch.optim.SGD([scalar()], lr=0.1), phi=1.5)
    with pytest.raises(ValueError, match="subspace_dim"):
        RandomVectorAccelerating(torch.optim.SGD([scalar()], lr=0.1), subspace_dim=-1)
    x = scalar()
    opt = RDBD(torch.optim.SGD([x], lr=0.1))
    x.grad = torch.tensor([math.nan], dtype=torch.float64)
    with pytest.raises(OSError, match="NaN or Inf"):
        opt.step()
