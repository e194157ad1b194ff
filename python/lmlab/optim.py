"""Optimizer plug-ins of P4 and P8 around any torch.optim optimizer, the math in lmlab's C++
(lmlab/optim/; docs/optim.md has the rules as implemented and what we measured).

Step wrappers (P4, arXiv 2402.01515) see the optimizer's step as a direction and may replace it:
    RejectAccelerating(torch.optim.SGD(params, lr=0.1, momentum=0.9))
    RandomVectorAccelerating(torch.optim.Adam(params), seed=0, subspace_dim=0)
Learning-rate adapters (P8, arXiv 2310.11291, and its peer) set each parameter group's lr before
each step, optionally stepping through a wrapper:
    RDBD(torch.optim.SGD(params, lr=0.1))
    DeltaBarDelta(RandomVectorAccelerating(torch.optim.SGD(params, lr=0.1)))
    Hypergradient(torch.optim.Adam(params), beta=1e-7)
Each has step(closure=None), zero_grad(), param_groups, state_dict() and load_state_dict()
(the wrapped optimizer's state plus lmlab's own).
"""
import torch

from . import _lmlab

__all__ = ["DeltaBarDelta", "Hypergradient", "RDBD", "RandomVectorAccelerating", "RejectAccelerating"]


class _Plugin:
    """What every plug-in shares: the torch.optim optimizer, its C++ view and the C++ rule."""

    def __init__(self, optimizer, base, cpp):
        self.optimizer = optimizer
        self._base = base  # the C++ view of `optimizer`, shared with a wrapper stepped through
        self._cpp = cpp

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        """Evaluates `closure` (loss and backward) when given, then takes the plug-in's step."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._cpp.step()
        return loss

    def state_dict(self):
        return {"optimizer": self.optimizer.state_dict(), "lmlab": self._cpp.save()}

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict["optimizer"])
        self._cpp.load(state_dict["lmlab"])


def _check_optimizer(optimizer):
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"expected a torch.optim.Optimizer, got {type(optimizer).__name__}")


class RejectAccelerating(_Plugin):
    """Takes the plain gradient step instead of the optimizer's when what it adds to the gradient
    points against it (our reading of P4's RA)."""

    def __init__(self, optimizer):
        _check_optimizer(optimizer)
        base = _lmlab.OptimPythonOptimizer(optimizer)
        super().__init__(optimizer, base, _lmlab.OptimRejectAccelerating(base))

    @property
    def rejected(self):
        return self._cpp.rejected


class RandomVectorAccelerating(_Plugin):
    """Replaces the optimizer's step u by (I + 2 v v^T / ||v||^2) u, v ~ N(0, I) (optionally on
    `subspace_dim` random coordinates): expected (1 + 2 / dim) u (P4's RVA)."""

    def __init__(self, optimizer, seed=0, subspace_dim=0):
        _check_optimizer(optimizer)
        base = _lmlab.OptimPythonOptimizer(optimizer)
        super().__init__(optimizer, base, _lmlab.OptimRandomVectorAccelerating(base, seed, subspace_dim))


def _adapter_target(optimizer):
    """(torch.optim optimizer, its C++ view, the C++ wrapper to step through or None)."""
    if isinstance(optimizer, (RejectAccelerating, RandomVectorAccelerating)):
        return optimizer.optimizer, optimizer._base, optimizer._cpp
    _check_optimizer(optimizer)
    return optimizer, _lmlab.OptimPythonOptimizer(optimizer), None


class _LrAdapter(_Plugin):
    """What the learning-rate adapters share: the optimizer or the wrapper they step through, lrs()
    and a state_dict that also holds the wrapper's state."""

    def __init__(self, optimizer, make_rule):
        torch_optimizer, base, through = _adapter_target(optimizer)
        super().__init__(torch_optimizer, base, make_rule(base, through))
        self._through = optimizer if through is not None else None

    def lrs(self):
        return self._cpp.lrs()

    def state_dict(self):
        state = super().state_dict()
        if self._through is not None:
            state["through"] = self._through._cpp.save()
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if self._through is not None:
            self._through._cpp.load(state_dict["through"])


class DeltaBarDelta(_LrAdapter):
    """Jacobs's delta-bar-delta per parameter group: lr += kappa when the gradient agrees with the
    average of past steps, lr -= phi * lr when it disagrees; lr clamped to [lr_min, lr_max]."""

    _rule = "OptimDeltaBarDelta"

    def __init__(self, optimizer, kappa=1e-3, phi=0.1, theta=0.7, lr_min=1e-8, lr_max=10.0):
        rule = getattr(_lmlab, self._rule)
        super().__init__(optimizer, lambda base, through: rule(base, through, kappa, phi, theta, lr_min, lr_max))


class RDBD(DeltaBarDelta):
    """Regrettable delta-bar-delta (our reading of P8): an adjustment the next sign test disagrees
    with is undone before the new one applies."""

    _rule = "OptimRDBD"

    @property
    def regrets(self):
        return self._cpp.regrets


class Hypergradient(_LrAdapter):
    """Hypergradient descent (Baydin et al. 2018): lr += beta * <g_t, d_{t-1}>, d the previous step
    per unit lr (SGD-HD over SGD, Adam-HD over Adam; paper betas 1e-3 and 1e-7)."""

    def __init__(self, optimizer, beta=1e-3, lr_min=1e-8, lr_max=10.0):
        super().__init__(optimizer, lambda base, through: _lmlab.OptimHypergradient(base, through, beta, lr_min, lr_max))
