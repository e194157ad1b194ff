"""lmlab.attention's NTK-Attention (P2) against the formula written here in PyTorch: the fused kernel's
output and gradients, gradcheck of the composed path in double, second derivatives, the dispatch, the
prefix state, the NtkAttention module (autograd and optimizer steps reach the C++ layer), and errors."""
import math

import pytest
import torch
import torch.nn.functional as F

from lmlab.attention import composed_ntk_attention, fused_ntk_attention, ntk_attention, ntk_feature_map, \
    ntk_prefix_state, NtkAttention

U = 2.0 ** -24


def phi(x):
    return F.elu(x / x.shape[-1] ** 0.25) + 1


def reference(q, k, v, z, kappa, causal, mask=None):
    """(sum_j e^{s_ij} v_j + phi(q_i) Z) / (sum_j e^{s_ij} + phi(q_i) kappa), computed directly."""
    t, s = q.shape[2], k.shape[2]
    weights = torch.exp(q @ k.transpose(-2, -1) / math.sqrt(q.shape[3]))
    if causal:
        weights = weights.masked_fill(torch.ones(t, s, dtype=torch.bool).triu(s - t + 1), 0)
    if mask is not None:
        weights = weights * mask
    u = phi(q)
    return (weights @ v + u @ z) / (weights.sum(-1, keepdim=True) + (u * kappa.unsqueeze(1)).sum(-1, keepdim=True))


def inputs(t, s, d, h=3, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = [(torch.rand(2, h, n, d, generator=g, dtype=dtype) * 4 - 2).requires_grad_() for n in (t, s, s)]
    z = (torch.randn(h, d, d, generator=g, dtype=dtype) * 0.5).requires_grad_()
    kappa = (torch.rand(h, d, generator=g, dtype=dtype) * 0.5).requires_grad_()
    return q, k, v, z, kappa


def bound(s, d):
    """float32 rounding of sums over S keys and D dims, entries in [-2, 2) (scores up to 4 sqrt(D))."""
    return 8 * (4 * d ** 1.5 + s + 4) * U


@pytest.mark.parametrize("t,s,d,causal", [(33, 33, 64, True), (10, 70, 16, False), (5, 40, 7, True)])
def test_fused_kernel_equals_the_pytorch_formula_with_gradients(t, s, d, causal):
    x = inputs(t, s, d)
    out = fused_ntk_attention(*x, causal)
    xd = [a.detach().double().requires_grad_() for a in x]
    want = reference(*xd, causal)
    assert (out.double() - want).abs().max().item() < bound(s, d)
    g = torch.rand_like(out) - 0.5
    got = torch.autograd.grad(out, x, g)
    ref = torch.autograd.grad(want, xd, g.double())
    for a, b in zip(got, ref):
        assert (a.double() - b).abs().max().item() < bound(s, d) * d * max(1.0, b.abs().max().item())


def test_composed_path_passes_gradcheck_in_double_with_a_mask():
    x = inputs(4, 6, 3, h=2, dtype=torch.float64, seed=1)
    mask = torch.rand(4, 6, generator=torch.Generator().manual_seed(2)) > 0.3
    assert torch.autograd.gradcheck(lambda *a: composed_ntk_attention(*a, True), x)
    assert torch.autograd.gradcheck(lambda *a: composed_ntk_attention(*a, False, mask), x)
    want = reference(*x, False, mask)
    assert (composed_ntk_attention(*x, False, mask) - want).abs().max().item() < 1e-12


def test_fused_second_derivatives_match_the_pytorch_formula():
    results = []
    for fn in (fused_ntk_attention, reference):
        x = inputs(8, 12, 8, seed=3)
        out = fn(*x, True)
        grads = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        results.append(torch.autograd.grad(sum(g.pow(2).sum() for g in grads), x))
    for a, b in zip(*results):
        assert b.abs().max().item() > 1e-3
        assert (a - b).abs().max().item() < 1e-4 * max(1.0, b.abs().max().item())


def test_ntk_attention_dispatches_to_fused_or_composed():
    x = inputs(6, 9, 8, seed=4)
    assert torch.equal(ntk_attention(*x, True), fused_ntk_attention(*x, True))
    mask = torch.ones(6, 9, dtype=torch.bool)
    assert torch.equal(ntk_attention(*x, True, mask), composed_ntk_attention(*x, True, mask))
    xd = [a.detach().double() for a in x]
    assert torch.equal(ntk_attention(*xd), composed_ntk_attention(*xd))


def test_feature_map_and_prefix_state_are_the_sums_over_an_explicit_prefix():
    g = torch.Generator().manual_seed(5)
    pk, pv = torch.randn(2, 300, 16, generator=g, dtype=torch.float64), torch.randn(2, 300, 16, generator=g,
                                                                                    dtype=torch.float64)
    assert torch.allclose(ntk_feature_map(pk), phi(pk), rtol=1e-15, atol=0)
    z, kappa = ntk_prefix_state(pk, pv)
    assert torch.allclose(z, phi(pk).transpose(1, 2) @ pv, rtol=1e-12, atol=1e-12)
    assert torch.allclose(kappa, phi(pk).sum(1), rtol=1e-12, atol=0)
    q, k, v = (torch.randn(1, 2, 5, 16, generator=g, dtype=torch.float64) for _ in range(3))
    kernel = phi(q) @ phi(pk).transpose(-2, -1)                         # phi(q).phi(p_l) per prefix entry
    weights = torch.exp(q @ k.transpose(-2, -1) / 4)
    want = (weights @ v + kernel @ pv) / (weights.sum(-1, keepdim=True) + kernel.sum(-1, keepdim=True))
    assert (ntk_attention(q, k, v, z, kappa) - want).abs().max().item() < 1e-12


def test_the_module_owns_z_and_k_and_trains_through_the_cpp_layer():
    torch.manual_seed(0)
    layer = NtkAttention(3, 8, kappa_init=0.05, z_init_std=0.1)
    assert [n for n, _ in layer.named_parameters()] == ["Z", "k"]
    assert torch.allclose(layer.kappa(), torch.full((3, 8), 0.05), rtol=1e-6)
    assert torch.equal(layer.kappa(), F.softplus(layer.k))
    q, k, v, _, _ = inputs(7, 7, 8, seed=6)
    out = layer(q, k, v, causal=True)
    assert torch.equal(out, fused_ntk_attention(q, k, v, layer.Z, F.softplus(layer.k), True))
    want = reference(q.double(), k.double(), v.double(), layer.Z.double(), F.softplus(layer.k.double()), True)
    g = torch.rand_like(out)
    got = torch.autograd.grad(out, [layer.Z, layer.k], g)
    ref = torch.autograd.grad(want, [layer.Z, layer.k], g.double())
    for a, b in zip(got, ref):
        assert b.abs().max().item() > 1e-4
        assert (a.double() - b).abs().max().item() < 1e-4 * b.abs().max().item()
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    layer(q, k, v, True).pow(2).sum().backward()
    before = layer.Z.detach().clone()
    opt.step()
    assert not torch.equal(layer.Z, before)
    assert torch.equal(layer(q, k, v, True), fused_ntk_attention(q, k, v, layer.Z, F.softplus(layer.k), True))
    twin = NtkAttention(3, 8)
    twin.load_state_dict(layer.state_dict())
    assert torch.equal(twin(q, k, v, True), layer(q, k, v, True))
    layer.double()
    xd = [a.detach().double() for a in (q, k, v)]
    assert torch.autograd.gradcheck(lambda z, kp: composed_ntk_attention(*xd, z, F.softplus(kp), True),
                                    (layer.Z, layer.k))
    assert torch.equal(layer(*xd, True), composed_ntk_attention(*xd, layer.Z, F.softplus(layer.k), True))


def test_bad_input_raises_value_errors_that_name_the_problem():
    q, k, v, z, kappa = (a.detach() for a in inputs(4, 6, 8))
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        ntk_attention(q, k, v, z, -kappa)
    with pytest.raises(ValueError, match=r"Z must be \[H,D,D\] = \[3,8,8\]"):
        ntk_attention(q, k, v, z[:, :4], kappa)
    bad = q.clone()
    bad[0, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="q holds NaN or Inf"):
        ntk_attention(bad, k, v, z, kappa)
    with pytest.raises(ValueError, match="float32 CPU"):
        fused_ntk_attention(q.double(), k.double(), v.double(), z.double(), kappa.double())
    with pytest.raises(ValueError, match="the mask must be boolean"):
        composed_ntk_attention(q, k, v, z, kappa, False, torch.ones(4, 6))
    with pytest.raises(ValueError, match="the prefix is empty"):
        ntk_prefix_state(torch.zeros(3, 0, 8), torch.zeros(3, 0, 8))
    with pytest.raises(ValueError, match="hold NaN or Inf"):
        ntk_prefix_state(torch.full((3, 2, 8), float("nan")), torch.zeros(3, 2, 8))
    with pytest.raises(ValueError, match="D >= 1"):
        ntk_attention(q[..., :0], k[..., :0], v[..., :0], z[:, :0, :0], kappa[:, :0])
    with pytest.raises(ValueError, match="T and D >= 1"):
        ntk_attention(q[:, :, :0], k, v, z, kappa)
    layer = NtkAttention(3, 8)
    with pytest.raises(ValueError, match="layer owns"):
        layer.Z = torch.nn.Parameter(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="kappa_init must be finite and > 0"):
        NtkAttention(2, 4, kappa_init=0.0)
