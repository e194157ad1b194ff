"""Gradient-leakage attacks of P6 (arXiv 2311.13624) on any torch.nn.Module, and their metrics.

The attacks run in PyTorch here, calling the module's own forward; the metrics are lmlab's C++
(lmlab/privacy/; docs/privacy_attacks.md has the equations, defaults and what we measured).

    target = victim_gradients(model, images, labels)            # what a training step would share
    result = dlg(model, target, input_shape=(1, 1, 28, 28), label_shape=(1, 10))
    result = idlg(model, target, (1, 1, 28, 28), head_weight=-2, head_bias=-1)
    result = inverting_gradients(model, target, (1, 1, 28, 28), labels=labels)
    result = tag(model, target, (1, T, C), label_shape=(1, T, V), loss_fn=...)
    psnr(result.inputs, images), ssim(result.inputs, images)

`target` lists one gradient per entry of list(model.parameters()), in that order; perturb it
(noise, clipping) before calling an attack to measure a defense. `loss_fn(model, inputs, labels)`
gives the victim's training loss (default: soft_cross_entropy(model(inputs), labels)); labels are
int64 class ids or floating label logits (soft labels). Each attack returns an AttackResult.
Bad arguments raise ValueError.
"""
from typing import List, NamedTuple, Optional

import torch

from . import _lmlab

_cpp = _lmlab.privacy_attacks

__all__ = [
    "AttackResult", "causal_label_map", "dlg", "gradient_distance", "idlg", "idlg_label", "image_mse",
    "inverting_gradients", "label_accuracy", "mean_rouge_f1", "nearest_tokens", "psnr", "rouge_n",
    "soft_cross_entropy", "ssim", "tag", "token_accuracy", "tokens_in_gradient", "victim_gradients",
]

image_mse = _cpp.image_mse
psnr = _cpp.psnr
ssim = _cpp.ssim
label_accuracy = _cpp.label_accuracy
token_accuracy = _cpp.token_accuracy
mean_rouge_f1 = _cpp.mean_rouge_f1


def rouge_n(candidate, reference, n):
    """ROUGE-n of two token rows [T]: (precision, recall, f1)."""
    return _cpp.rouge_n(candidate, reference, n)


class AttackResult(NamedTuple):
    inputs: torch.Tensor                  # recovered x', detached
    labels: torch.Tensor                  # known labels, or argmax of the label logits
    label_logits: Optional[torch.Tensor]  # recovered y' (None when the labels were known)
    loss_history: List[float]             # matching objective at each outer step
    diverged: bool                        # objective became NaN/Inf; inputs are the last finite iterate


def soft_cross_entropy(logits, labels):
    """Cross-entropy of logits [..., K] against int64 ids or label logits (softmax taken), row mean."""
    rows = logits.reshape(-1, logits.shape[-1])
    if not labels.is_floating_point():
        return torch.nn.functional.cross_entropy(rows, labels.reshape(-1))
    if labels.shape != logits.shape:
        raise ValueError(f"label logits {tuple(labels.shape)} must have the logits' shape {tuple(logits.shape)}")
    target = torch.softmax(labels.reshape(rows.shape), 1)
    return -(target * torch.log_softmax(rows, 1)).sum(1).mean()


def _default_loss(model, inputs, labels):
    return soft_cross_entropy(model(inputs), labels)


def victim_gradients(model, inputs, labels, loss_fn=None, create_graph=False):
    """d loss / d parameters (list(model.parameters()) order); None where the loss does not reach."""
    loss = (loss_fn or _default_loss)(model, inputs, labels)
    grads = torch.autograd.grad(loss, list(model.parameters()), create_graph=create_graph, allow_unused=True)
    return [g if g is None or create_graph else g.detach() for g in grads]


def gradient_distance(dummy, target, distance="l2", alpha=0.0):
    """'l2': sum ||d-g||^2 (DLG); 'cosine': 1 - cos over all layers (IG); 'l2+l1': + alpha ||d-g||_1 (TAG).
    Entries whose dummy gradient is None are left out."""
    if distance not in ("l2", "cosine", "l2+l1"):
        raise ValueError(f"unknown distance {distance!r}; use 'l2', 'cosine' or 'l2+l1'")
    if len(dummy) != len(target):
        raise ValueError(f"dummy and target list {len(dummy)} and {len(target)} gradients; they must match")
    pairs = [(d, g.to(d.dtype)) for d, g in zip(dummy, target) if d is not None]
    if not pairs:
        raise ValueError("no parameter depends on the dummy inputs: nothing to match")
    for d, g in pairs:
        if d.shape != g.shape:
            raise ValueError(f"gradient shapes differ: {tuple(d.shape)} vs target {tuple(g.shape)}")
    if distance == "cosine":
        dot = sum((d * g).sum() for d, g in pairs)
        dn = sum(d.pow(2).sum() for d, _ in pairs).sqrt()
        tn = sum(g.pow(2).sum() for _, g in pairs).sqrt()
        return 1 - dot / (dn * tn).clamp_min(1e-30)
    total = sum((d - g).pow(2).sum() for d, g in pairs)
    if distance == "l2+l1":
        total = total + alpha * sum((d - g).abs().sum() for d, g in pairs)
    return total


def _check_positive(**values):
    for name, v in values.items():
        if not (v > 0 and v == v and v != float("inf")):
            raise ValueError(f"{name} must be finite and > 0; got {v}")


class _Dummies:
    """The searched tensors: inputs, and label logits unless the labels are known."""

    def __init__(self, model, target, input_shape, labels, label_shape, seed, init_std, label_map):
        params = list(model.parameters())
        if len(target) != len(params):
            raise ValueError(f"the target lists {len(target)} gradients but the model has {len(params)} parameters")
        for i, (g, p) in enumerate(zip(target, params)):
            if g is None or g.shape != p.shape:
                raise ValueError(f"target gradient {i} must have parameter {i}'s shape {tuple(p.shape)}")
            if not torch.isfinite(g).all():
                raise ValueError(f"target gradient {i} holds NaN or Inf")
        if not input_shape or min(input_shape) < 1:
            raise ValueError(f"input_shape needs sizes >= 1; got {input_shape}")
        if labels is None and (not label_shape or label_shape[0] != input_shape[0]):
            raise ValueError("labels are unknown, so give label_shape with the batch first, e.g. (B, K)")
        _check_positive(init_std=init_std)
        dtype = next(iter(params)).dtype
        gen = torch.Generator().manual_seed(seed)
        self.inputs = (init_std * torch.randn(tuple(input_shape), generator=gen, dtype=dtype)).requires_grad_()
        self.known = labels
        self.logits = None if labels is not None else torch.randn(tuple(label_shape), generator=gen, dtype=dtype).requires_grad_()
        self.label_map = label_map

    def labels(self):
        if self.known is not None:
            return self.known
        return self.label_map(self.inputs, self.logits) if self.label_map else self.logits

    def trainable(self):
        return [self.inputs] + ([self.logits] if self.logits is not None else [])

    def result(self, history, diverged):
        if self.known is not None:
            return AttackResult(self.inputs.detach().clone(), self.known, None, history, diverged)
        with torch.no_grad():
            logits = self.labels().detach().clone()
        return AttackResult(self.inputs.detach().clone(), logits.argmax(-1), logits, history, diverged)


def _total_variation(x):
    return (x[..., :, 1:] - x[..., :, :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


def _objective(model, target, dummies, loss_fn, distance, alpha=0.0, tv_weight=0.0):
    grads = victim_gradients(model, dummies.inputs, dummies.labels(), loss_fn, create_graph=True)
    value = gradient_distance(grads, target, distance, alpha)
    if tv_weight > 0 and dummies.inputs.dim() == 4:
        value = value + tv_weight * _total_variation(dummies.inputs)
    return value


def dlg(model, target, input_shape, label_shape=None, labels=None, iterations=300, lr=1.0, history=100,
        inner_iterations=20, strong_wolfe=True, seed=0, init_std=1.0, loss_fn=None):
    """DLG (Zhu et al. 2019): L-BFGS on sum_l ||grad(x', y') - g||^2. strong_wolfe=False is the released
    code's L-BFGS without line search."""
    _check_positive(lr=lr)
    for name, v in dict(iterations=iterations, history=history, inner_iterations=inner_iterations).items():
        if v < 1:
            raise ValueError(f"{name} must be >= 1; got {v}")
    d = _Dummies(model, target, input_shape, labels, label_shape, seed, init_std, None)
    opt = torch.optim.LBFGS(d.trainable(), lr=lr, history_size=history, max_iter=inner_iterations,
                            line_search_fn="strong_wolfe" if strong_wolfe else None)
    losses = []

    def closure():
        opt.zero_grad()
        value = _objective(model, target, d, loss_fn, "l2")
        params = d.trainable()
        for p, g in zip(params, torch.autograd.grad(value, params)):
            p.grad = g
        return value.detach()

    for _ in range(iterations):
        saved = [p.detach().clone() for p in d.trainable()]
        value = float(opt.step(closure))
        if value != value or abs(value) == float("inf") or not torch.isfinite(d.inputs).all():
            with torch.no_grad():
                for p, s in zip(d.trainable(), saved):
                    p.copy_(s)
            return d.result(losses, True)
        losses.append(value)
    return d.result(losses, False)


def idlg_label(weight_grad=None, bias_grad=None):
    """iDLG (Zhao et al. 2020), batch 1: argmin of the last layer's bias gradient when given, else the
    row of its weight gradient [K, F] with the smallest (negative) sum."""
    if bias_grad is not None:
        return int(bias_grad.argmin())
    if weight_grad is None or weight_grad.dim() != 2:
        raise ValueError("idlg_label needs the last layer's weight gradient [K, F] or bias gradient [K]")
    return int(weight_grad.sum(1).argmin())


def idlg(model, target, input_shape, head_weight, head_bias=None, **dlg_options):
    """iDLG: the label from target[head_bias] (or target[head_weight]), then DLG with that label."""
    if input_shape[0] != 1:
        raise ValueError(f"iDLG's label rule holds for batch 1 only; got batch {input_shape[0]}")
    label = idlg_label(target[head_weight], None if head_bias is None else target[head_bias])
    return dlg(model, target, input_shape, labels=torch.tensor([label]), **dlg_options)


def _adam_attack(model, target, dummies, loss_fn, iterations, lr, distance, alpha=0.0, tv_weight=0.0,
                 signed=False, box=None, clip_norm=0.0):
    """Adam on the matching objective, lr x0.1 at 3/8, 5/8, 7/8 of the iterations (IG's schedule)."""
    params = dummies.trainable()
    opt = torch.optim.Adam(params, lr=lr)
    milestones = [iterations * 3 // 8, iterations * 5 // 8, iterations * 7 // 8]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[m for m in milestones if m > 0], gamma=0.1)
    losses, last = [], None
    for _ in range(iterations):
        value = _objective(model, target, dummies, loss_fn, distance, alpha, tv_weight)
        v = float(value)
        if v != v or abs(v) == float("inf"):
            if last is not None:
                with torch.no_grad():
                    for p, s in zip(params, last):
                        p.copy_(s)
            return dummies.result(losses, True)
        losses.append(v)
        last = [p.detach().clone() for p in params]
        for p, g in zip(params, torch.autograd.grad(value, params)):
            g = g.sign() if signed else g
            if clip_norm > 0 and float(g.norm()) > clip_norm:
                g = g * (clip_norm / float(g.norm()))
            p.grad = g
        opt.step()
        sched.step()
        if box is not None:
            with torch.no_grad():
                dummies.inputs.clamp_(box[0], box[1])
    return dummies.result(losses, False)


def inverting_gradients(model, target, input_shape, labels=None, label_shape=None, iterations=4000, lr=0.1,
                        tv_weight=1e-4, signed=True, box=(0.0, 1.0), seed=0, init_std=1.0, loss_fn=None):
    """Inverting Gradients (Geiping et al. 2020): 1 - cos + tv_weight TV, Adam on sign(grad), box projection."""
    _check_positive(lr=lr)
    if iterations < 1 or tv_weight < 0:
        raise ValueError(f"need iterations >= 1 and tv_weight >= 0; got {iterations}, {tv_weight}")
    if box is not None and not box[0] < box[1]:
        raise ValueError(f"box needs low < high; got {box}")
    d = _Dummies(model, target, input_shape, labels, label_shape, seed, init_std, None)
    return _adam_attack(model, target, d, loss_fn, iterations, lr, "cosine", tv_weight=tv_weight, signed=signed, box=box)


def tag(model, target, input_shape, label_shape=None, labels=None, iterations=1000, lr=0.05, alpha=0.1,
        clip_norm=1.0, seed=0, init_std=1.0, label_map=None, loss_fn=None):
    """TAG (Deng et al. 2021): ||dg||^2 + alpha ||dg||_1 over embeddings [B, T, C] (loss_fn feeds them to
    the model), Adam; label_map(inputs, label_logits) ties labels to inputs (causal_label_map)."""
    _check_positive(lr=lr)
    if iterations < 1 or alpha < 0 or clip_norm < 0:
        raise ValueError(f"need iterations >= 1, alpha >= 0, clip_norm >= 0; got {iterations}, {alpha}, {clip_norm}")
    if len(input_shape) != 3:
        raise ValueError(f"TAG searches embeddings [B, T, C]; got input_shape {input_shape}")
    d = _Dummies(model, target, input_shape, labels, label_shape, seed, init_std, label_map)
    return _adam_attack(model, target, d, loss_fn, iterations, lr, "l2+l1", alpha=alpha, clip_norm=clip_norm)


def nearest_tokens(embeddings, table, distance="cosine", candidates=None):
    """Token ids [B, T] of the rows of table [V, C] nearest to embeddings [B, T, C] (among candidates)."""
    if distance not in ("cosine", "l2"):
        raise ValueError(f"unknown distance {distance!r}; use 'cosine' or 'l2'")
    ids = torch.arange(table.shape[0]) if candidates is None else candidates.long()
    rows = table.detach()[ids]
    x = embeddings.detach().reshape(-1, table.shape[1]).to(rows.dtype)
    if distance == "cosine":
        pick = (torch.nn.functional.normalize(x, dim=1) @ torch.nn.functional.normalize(rows, dim=1).t()).argmax(1)
    else:
        pick = torch.cdist(x, rows).argmin(1)
    return ids[pick].view(embeddings.shape[0], embeddings.shape[1])


def tokens_in_gradient(table_grad):
    """Ids of the non-zero rows of a token table's gradient [V, C]: the batch's tokens when the table
    is reached only through the input lookup."""
    return table_grad.ne(0).any(1).nonzero().flatten()


def causal_label_map(table, scale=20.0):
    """Next-token labels tied to the searched embeddings [ours]: position t < T-1 gets logits
    scale * cos(x'_{t+1}, table rows); the last position keeps its own searched logits."""
    unit = torch.nn.functional.normalize(table.detach(), dim=1)

    def label_map(x, free):
        tied = scale * torch.nn.functional.normalize(x[:, 1:], dim=2) @ unit.t().to(x.dtype)
        return torch.cat([tied, free[:, -1:]], 1)

    return label_map
