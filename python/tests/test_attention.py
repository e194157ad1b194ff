"""lmlab.attention against attention written in plain PyTorch: forward, gradients (gradcheck of the
composed path in double; the flash kernel's float32 gradients against autograd of the PyTorch
formula in double), second derivatives, and error messages."""
import math

import pytest
import torch

import lmlab
from lmlab.attention import composed_attention, exact_attention, flash_attention

U = 2.0 ** -24


def reference(q, k, v, causal):
    t, s = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[3])
    if causal:
        scores = scores.masked_fill(torch.ones(t, s, dtype=torch.bool).triu(s - t + 1), float("-inf"))
    return torch.softmax(scores, -1) @ v


def qkv(t, s, d, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(2, 3, n, d, generator=g, dtype=dtype) * 4 - 2).requires_grad_() for n in (t, s, s)]


def bound(s, d):
    """The float32 bound of tests/models/flash_attention_test.cpp for entries in [-2, 2)."""
    return 8 * (4 * d ** 1.5 + s + 4) * U


@pytest.mark.parametrize("t,s,d,causal", [(37, 37, 64, True), (20, 90, 16, False), (5, 70, 7, True)])
def test_flash_attention_equals_the_pytorch_formula_with_gradients(t, s, d, causal):
    q, k, v = qkv(t, s, d)
    out = flash_attention(q, k, v, causal)
    qd, kd, vd = [x.detach().double().requires_grad_() for x in (q, k, v)]
    want = reference(qd, kd, vd, causal)
    assert (out.double() - want).abs().max().item() < bound(s, d)
    g = torch.rand_like(out) - 0.5
    got = torch.autograd.grad(out, (q, k, v), g)
    ref = torch.autograd.grad(want, (qd, kd, vd), g.double())
    for a, b in zip(got, ref):
        assert (a.double() - b).abs().max().item() < bound(s, d) * d * max(1.0, b.abs().max().item())


def test_composed_attention_passes_gradcheck_and_exact_attention_dispatches():
    q, k, v = qkv(4, 6, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, b, c: composed_attention(a, b, c, True), (q, k, v))
    assert torch.equal(exact_attention(q, k, v, True), composed_attention(q, k, v, True))
    qf, kf, vf = qkv(4, 6, 3)
    assert torch.equal(exact_attention(qf, kf, vf), flash_attention(qf, kf, vf))


def test_flash_attention_second_derivatives_match_the_pytorch_formula():
    results = []
    for fn in (flash_attention, reference):
        q, k, v = qkv(9, 12, 8, seed=3)
        out = fn(q, k, v, True)
        grads = torch.autograd.grad(out.pow(2).sum(), (q, k, v), create_graph=True)
        results.append(torch.autograd.grad(sum(g.pow(2).sum() for g in grads), (q, k, v)))
    for a, b in zip(*results):
        assert b.abs().max().item() > 1e-3
        assert (a - b).abs().max().item() < 1e-4 * max(1.0, b.abs().max().item())


def test_bad_input_raises_value_errors_that_name_the_problem():
    q, k, v = qkv(4, 6, 8)
    with pytest.raises(ValueError, match="float32 CPU"):
        flash_attention(q.double(), k, v)
    bad = k.detach().clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="k holds NaN or Inf"):
        flash_attention(q, bad, v)
    with pytest.raises(ValueError, match="shapes disagree"):
        flash_attention(q, k[..., :4], v)
    with pytest.raises(ValueError, match="at least as many keys"):
        flash_attention(q, k[:, :, :2], v[:, :, :2], True)
    assert "attention" in lmlab.__all__


def test_concurrent_python_threads_get_the_sequential_results():
    # The kernels run without the GIL: calls from several Python threads overlap and must not
    # disturb one another (each thread's output equals the same call made alone).
    from concurrent.futures import ThreadPoolExecutor
    inputs = [[x.detach() for x in qkv(300, 300, 64, seed=s)] for s in range(4)]
    alone = [flash_attention(q, k, v, True) for q, k, v in inputs]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda a: flash_attention(*a, True), inputs * 3))
    for i, out in enumerate(together):
        assert torch.equal(out, alone[i % 4])
