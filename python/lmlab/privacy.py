"""Differential privacy and attention inversion, the math in lmlab's C++ (lmlab/privacy/;
docs/privacy.md has the formulas as implemented and what we measured).

Accountant (P6; RDP of the Poisson-subsampled Gaussian, Balle et al. 2020 conversion, Opacus's orders):
    eps, order = epsilon(noise_multiplier=1.1, sample_rate=0.01, steps=10000, delta=1e-5)
    sigma = noise_multiplier(target_epsilon=8.0, sample_rate=0.04, steps=2000, delta=1e-5)
DP-SGD on any torch.nn.Module whose parameters are used by linear, embedding and layer-norm layers
(lmlab's models included), with any torch.optim optimizer underneath:
    dp = DPSGD(model, torch.optim.SGD(model.parameters(), lr=0.1), noise_multiplier=1.1,
               max_grad_norm=1.0, sample_rate=0.01, dataset_size=60000)
    idx = dp.sample_batch(); dp.step(per_example_losses(x[idx], y[idx])); dp.epsilon(1e-5)
Per-example gradients from one backward, and the clip-and-noise step for per-sample gradients
computed elsewhere (functorch's vmap):
    grads = per_example_gradients(model, losses)            # {name: [B, *shape]}
    noisy = clip_and_noise(per_sample, max_grad_norm=1.0, noise_multiplier=1.1, expected_batch_size=64)
Attention inversion (P7): recover X [d, n] from W [d, d] and B = rowsoftmax(X^T W X):
    result = invert_attention(w, b, x0)  # .x, .losses, .iterations, .stalled
Gradient-leakage attacks on any torch.nn.Module given its shared gradient (P6; DLG, iDLG, Inverting
Gradients, TAG) and their metrics (PSNR, SSIM, ROUGE, token accuracy): see lmlab/_privacy_attacks.py.
"""
from collections import namedtuple

import torch

from . import _lmlab
from . import _privacy_attacks
from ._privacy_attacks import *  # noqa: F401,F403  (the attacks and their metrics)

__all__ = ["DPSGD", "InversionResult", "attention_map", "clip_and_noise", "default_orders", "epsilon",
           "fit_w_isometry", "inversion_gradient", "inversion_loss", "invert_attention", "noise_multiplier",
           "per_example_gradients", "rdp"] + _privacy_attacks.__all__


def default_orders():
    """Opacus's RDP orders: 1 + x / 10 for x = 1..99, then 12..63."""
    return _lmlab.privacy_default_orders()


def rdp(sample_rate, noise_multiplier, steps, orders=None):
    """RDP of `steps` steps of the Poisson-subsampled Gaussian, one value per order."""
    return _lmlab.privacy_rdp(sample_rate, noise_multiplier, steps, orders or default_orders())


def epsilon(noise_multiplier, sample_rate, steps, delta, orders=None, conversion="balle2020"):
    """(epsilon, best order) of DP-SGD; conversion 'balle2020' (Opacus, TF-Privacy) or 'classic'."""
    return _lmlab.privacy_epsilon(noise_multiplier, sample_rate, steps, delta, orders or [], conversion)


def noise_multiplier(target_epsilon, sample_rate, steps, delta, tolerance=0.01, orders=None, conversion="balle2020"):
    """The noise multiplier whose epsilon is within `tolerance` below the target (Opacus's bisection)."""
    return _lmlab.privacy_noise_multiplier(target_epsilon, sample_rate, steps, delta, orders or [], conversion,
                                           tolerance)


def _named(module):
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
    names, params = zip(*module.named_parameters()) if list(module.parameters()) else ((), ())
    return list(names), list(params)


def per_example_gradients(module, losses):
    """{name: [B, *param.shape]}: d losses[i] / d param for every example i, from one backward of
    losses.sum() (losses [B], one per example). Does not touch .grad. ValueError names a parameter
    whose layer is not supported."""
    names, grads = _lmlab.privacy_per_example_gradients(*_named(module), losses)
    return dict(zip(names, grads))


def clip_and_noise(per_sample_grads, max_grad_norm, noise_multiplier, expected_batch_size, generator=None):
    """DP-SGD's gradient from per-sample gradients (a list of [B, *shape], e.g. from functorch's
    vmap(grad(...))): each example clipped to total norm max_grad_norm, summed, plus
    N(0, (noise_multiplier max_grad_norm)^2), divided by expected_batch_size. Returns the list."""
    if expected_batch_size <= 0:
        raise ValueError(f"expected_batch_size = {expected_batch_size} must be > 0")
    if noise_multiplier < 0:
        raise ValueError(f"noise_multiplier = {noise_multiplier} must be >= 0")
    sums, _ = _lmlab.privacy_clipped_sum(list(per_sample_grads), max_grad_norm)
    std = noise_multiplier * max_grad_norm
    return [(s + std * torch.randn(s.shape, generator=generator, dtype=s.dtype)) / expected_batch_size for s in sums]


class DPSGD:
    """DP-SGD (Abadi et al. 2016) around a torch.optim optimizer: per-example gradients from one
    backward, clipping, Gaussian noise, the optimizer's step on the result; Poisson sampling and
    the RDP accountant. step(losses) takes the per-example losses of the sampled batch (None for an
    empty sample)."""

    def __init__(self, module, optimizer, noise_multiplier, max_grad_norm, sample_rate, dataset_size, seed=0):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"expected a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self._cpp = _lmlab.PrivacyDPSGD(*_named(module), optimizer.step, noise_multiplier, max_grad_norm, sample_rate,
                                        dataset_size, seed)

    def sample_batch(self):
        """Indices of the next Poisson sample (each example kept with probability sample_rate)."""
        return self._cpp.sample_batch()

    def step(self, losses):
        """One private step; returns {batch, mean_norm, clipped_fraction}. OSError naming the step
        when a gradient is NaN (the parameters are then unchanged)."""
        return self._cpp.step(losses)

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def epsilon(self, delta):
        """(epsilon, best order) spent so far."""
        return self._cpp.epsilon(delta)

    @property
    def steps(self):
        return self._cpp.steps


InversionResult = namedtuple("InversionResult", "x losses iterations stalled")


def attention_map(x, w):
    """rowsoftmax(X^T W X) [n, n] for X [d, n], W [d, d]."""
    return _lmlab.privacy_attention_map(x, w)


def inversion_loss(x, w, b, lam=0.0):
    """1/2 ||attention_map(X, W) - B||^2 + lam/2 ||X||^2."""
    return _lmlab.privacy_inversion_loss(x, w, b, lam)


def inversion_gradient(x, w, b, lam=0.0):
    """The analytic gradient of inversion_loss with respect to X."""
    return _lmlab.privacy_inversion_gradient(x, w, b, lam)


def invert_attention(w, b, x0, solver="gauss_newton", lam=0.0, max_iterations=200, tolerance=1e-28):
    """Minimises inversion_loss from x0 ('gauss_newton' or 'gradient_descent', both with line search)."""
    return InversionResult(*_lmlab.privacy_invert_attention(w, b, x0, solver, lam, max_iterations, tolerance))


def fit_w_isometry(x_true, x_hat, w):
    """(M, residual, isometry_defect): the least-squares M with X_true ~ M X_hat, the relative residual
    and ||M^T W M - W|| / ||W||."""
    return _lmlab.privacy_fit_w_isometry(x_true, x_hat, w)
