"""lmlab.copyright against plain-PyTorch formulas: the protected loss and its gradient, the
softmax-regression objective's analytic gradient and Hessian against torch.autograd, the solvers,
the audit on a model that has memorised its text, and bad input."""
import math

import pytest
import torch

from lmlab import copyright as cp


def batch(seed=0, b=3, t=5, v=11):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, t, v, dtype=torch.float64, generator=g).requires_grad_()
    targets = torch.randint(0, v, (b, t), generator=g)
    mask = torch.rand(b, t, generator=g) < 0.4
    return logits, targets, mask


def plain(logits, targets, mask, gamma):
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    return nll.mean() + gamma / nll[mask.reshape(-1)].mean()


def test_protected_loss_is_the_formula_with_its_gradient():
    for seed in range(3):
        logits, targets, mask = batch(seed)
        loss, stats = cp.protected_loss(logits, targets, mask, gamma=0.3, return_stats=True)
        ref = plain(logits, targets, mask, 0.3)
        assert loss.item() == pytest.approx(ref.item(), abs=1e-12)
        (g,) = torch.autograd.grad(loss, logits)
        (g_ref,) = torch.autograd.grad(ref, logits)
        assert torch.allclose(g, g_ref, atol=1e-12)
        assert stats["copyrighted_tokens"] == int(mask.sum()) and stats["tokens"] == 15


def test_protected_loss_trains_a_torch_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(11, 16), torch.nn.Linear(16, 11))
    x = torch.randint(0, 11, (4, 8))
    y, mask = torch.roll(x, -1, 1), torch.zeros(4, 8, dtype=torch.bool)
    mask[0] = True
    loss = cp.protected_loss(model(x), y, mask, gamma=0.5)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_protected_loss_guards():
    logits, targets, mask = batch(1)
    none = torch.zeros_like(mask)
    loss, stats = cp.protected_loss(logits, targets, none, gamma=0.5, return_stats=True)
    assert not stats["has_copyrighted"] and math.isnan(stats["ce_cp"])
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
    assert loss.item() == pytest.approx(ce.item(), abs=1e-12)
    sure = torch.where(mask.unsqueeze(2), torch.nn.functional.one_hot(targets, 11).double() * 80, logits.detach())
    loss, stats = cp.protected_loss(sure, targets, mask, gamma=0.5, ce_floor=0.01, return_stats=True)
    assert stats["floored"] and loss.item() == pytest.approx(stats["ce_all"] + 0.5 / 0.01)
    with pytest.raises(ValueError, match="gamma"):
        cp.protected_loss(logits, targets, mask, gamma=-0.1)
    with pytest.raises(ValueError, match="ce_floor"):
        cp.protected_loss(logits, targets, mask, gamma=0.1, ce_floor=0)
    with pytest.raises(ValueError, match="bool"):
        cp.protected_loss(logits, targets, mask.long(), gamma=0.1)


def test_softmax_regression_derivatives_match_autograd():
    a, b, mask = cp.make_softmax_data(tasks=5, copyrighted=2, rows=6, dim=4, seed=3)
    f = cp.SoftmaxRegression(a, b, mask, gamma=0.05, lam=0.01)
    x = torch.randn(4, dtype=torch.float64)

    def objective(x):
        losses = 0.5 * (torch.softmax(a @ x, -1) - b).pow(2).sum(-1)
        return losses[~mask].mean() + 0.05 / losses[mask].mean() + 0.005 * x.dot(x)

    e = f.evaluate(x)
    assert e["value"] == pytest.approx(objective(x).item(), abs=1e-12)
    assert torch.allclose(e["grad"], torch.autograd.functional.jacobian(objective, x), atol=1e-10)
    assert torch.allclose(e["hessian"], torch.autograd.functional.hessian(objective, x), atol=1e-9)
    assert e["tau"] == pytest.approx(e["l_cp"] - e["l_rest"])


def test_newton_needs_fewer_iterations_and_protection_raises_tau():
    a, b, mask = cp.make_softmax_data(tasks=8, copyrighted=2, rows=16, dim=8, seed=0)
    plain_fit = cp.SoftmaxRegression(a, b, mask, gamma=0.0, lam=0.01).solve("newton")
    newton = cp.SoftmaxRegression(a, b, mask, gamma=0.005, lam=0.01).solve("newton")
    gd = cp.SoftmaxRegression(a, b, mask, gamma=0.005, lam=0.01).solve("gd", initial_step=50.0)
    assert newton["converged"] and gd["converged"]
    assert newton["iterations"] < gd["iterations"]
    assert torch.allclose(newton["x"], gd["x"], atol=1e-4)
    assert newton["tau"] > plain_fit["tau"]
    with pytest.raises(ValueError, match="method"):
        cp.SoftmaxRegression(a, b, mask).solve("adam")
    with pytest.raises(ValueError, match="copyrighted set is empty"):
        cp.SoftmaxRegression(a, b, torch.zeros_like(mask))
    with pytest.raises(ValueError, match="gamma"):
        cp.SoftmaxRegression(a, b, mask, gamma=-1)


class Memoriser(torch.nn.Module):
    """Predicts the next byte of `text` from the previous four bytes (a lookup table; byte 0 when
    unseen): a model that has memorised `text` exactly."""

    def __init__(self, text):
        super().__init__()
        self.table = {bytes(text[i - 4:i]): text[i] for i in range(4, len(text))}

    def forward(self, idx):
        logits = torch.zeros(*idx.shape, 256)
        for bi, row in enumerate(idx.tolist()):
            for t in range(3, len(row)):
                logits[bi, t, self.table.get(bytes(row[t - 3:t + 1]), 0)] = 1.0
        return logits


def test_audit_finds_memorised_text_and_not_other_text():
    text = b"\n%\nwe hold these truths to be self-evident"
    model = Memoriser(text)
    seen = cp.extraction_audit(model, [text[3:].decode()], prefix=8, continuation=16)
    assert seen["exact_match_rate"] == 1.0 and seen["lcs_fraction"] == 1.0
    assert seen["examples"][0]["truth"] == seen["examples"][0]["continuation"] == b"these truths to "
    other = cp.extraction_audit(model, ["completely different words here"], prefix=8, continuation=16)
    assert other["exact_match_rate"] == 0.0 and other["lcs_fraction"] < 0.2
    skipped = cp.extraction_audit(model, ["short", text[3:]], prefix=8, continuation=16)
    assert skipped["documents"] == 1 and skipped["skipped"] == 1
    with pytest.raises(ValueError, match="none of the 1 documents"):
        cp.extraction_audit(model, ["short"], prefix=8, continuation=16)
    with pytest.raises(ValueError, match="prefix"):
        cp.extraction_audit(model, [text], prefix=0)


def test_longest_common_substring():
    assert cp.longest_common_substring("abcde", "xbcdy") == 3
    assert cp.longest_common_substring(b"", b"abc") == 0
