"""lmlab.attention's sparse attention and k_eps (P3) against formulas written here in PyTorch: top-k and
mass selection, the tail mass and the error bound 2 tau max||v||, gradients (gradcheck in double, second
order), the closed-form law, and error messages."""
import math

import pytest
import torch

from lmlab.attention import gathered_attention, k_eps_from_probabilities, k_eps_from_scores, k_eps_gaussian_law, \
    normal_quantile, normal_tail, sparse_attention


def qkv(t, s, d, dtype=torch.float64, seed=0, b=2, h=2):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, h, n, d, generator=g, dtype=dtype) for n in (t, s, s)]


def masked_scores(q, k, causal):
    t, s = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[3])
    if causal:
        scores = scores.masked_fill(torch.ones(t, s, dtype=torch.bool).triu(s - t + 1), float("-inf"))
    return scores


def reference_top_k(q, k, v, kk, causal):
    """softmax over the kk largest visible scores of each row, the weighted sum of their values."""
    values, idx = masked_scores(q, k, causal).topk(kk, -1)
    p = torch.softmax(values, -1)                                       # -inf (not visible) -> 0
    kept_v = torch.gather(v.unsqueeze(2).expand(-1, -1, q.shape[2], -1, -1), 3,
                          idx.unsqueeze(-1).expand(-1, -1, -1, -1, v.shape[-1]))
    return (p.unsqueeze(-1) * kept_v).sum(-2), idx, torch.isfinite(values).sum(-1)


def reference_k_eps(p, eps):
    """The fewest largest entries of each row of p (rows summing to 1) with mass >= 1 - eps."""
    mass = p.sort(-1, descending=True).values.cumsum(-1)
    return (mass < 1 - eps).sum(-1) + 1


@pytest.mark.parametrize("t,s,kk,causal", [(6, 40, 5, False), (30, 30, 7, True), (4, 50, 50, False)])
def test_top_k_equals_the_pytorch_formula(t, s, kk, causal):
    q, k, v = qkv(t, s, 8)
    r = sparse_attention(q, k, v, top_k=kk, causal=causal, tail_mass=True)
    want, idx, visible = reference_top_k(q, k, v, kk, causal)
    assert (r.out - want).abs().max().item() < 1e-12
    assert torch.equal(r.kept, visible)
    assert torch.equal(r.indices.masked_fill(r.indices < 0, 0), idx.masked_fill(r.indices < 0, 0))
    p = torch.softmax(masked_scores(q, k, causal), -1)
    kept_mass = torch.gather(p, -1, idx).masked_fill(r.indices < 0, 0).sum(-1)
    assert (r.tail_mass - (1 - kept_mass)).abs().max().item() < 1e-12
    assert sparse_attention(q, k, v, top_k=kk, causal=causal).tail_mass is None
    if kk == s:  # every key kept: dense attention
        assert (r.out - p @ v).abs().max().item() < 1e-12


@pytest.mark.parametrize("eps,causal", [(0.1, False), (0.3, True)])
def test_mass_selection_keeps_k_eps_entries_and_obeys_the_tail_bound(eps, causal):
    q, k, v = qkv(20, 20, 16, seed=1)
    q = q * 3  # peaked rows: k_eps well below S
    r = sparse_attention(q, k, v, eps=eps, causal=causal)
    p = torch.softmax(masked_scores(q, k, causal), -1)
    assert torch.equal(r.kept, reference_k_eps(p, eps))
    assert torch.equal(r.kept, k_eps_from_scores(masked_scores(q, k, causal), eps))
    assert r.kept.float().mean().item() < 0.8 * 20
    top = p.sort(-1, descending=True)
    head = torch.arange(20) < r.kept.unsqueeze(-1)                        # the k_eps largest of each row
    kept_p = torch.zeros_like(p).scatter(-1, top.indices, top.values * head)
    assert (r.out - kept_p @ v / kept_p.sum(-1, keepdim=True)).abs().max().item() < 1e-12
    assert (r.tail_mass - (1 - kept_p.sum(-1))).abs().max().item() < 1e-12
    assert (r.tail_mass <= eps).all()
    dense = p @ v
    bound = 2 * r.tail_mass * v.norm(dim=-1).amax(-1, keepdim=True)
    assert ((dense - r.out).norm(dim=-1) <= bound + 1e-12).all()


def test_an_explicit_scale_and_row_blocks_give_the_same_attention():
    q, k, v = qkv(12, 30, 8, seed=5)
    r = sparse_attention(q, k, v, top_k=6, scale=0.7, block_rows=5, causal=True)
    want = reference_top_k(q * 0.7 * math.sqrt(8), k, v, 6, True)[0]   # scores 0.7 <q, k>
    assert (r.out - want).abs().max().item() < 1e-12
    assert (r.out - sparse_attention(q, k, v, top_k=6, scale=0.7, causal=True).out).abs().max().item() < 1e-12


def test_gathered_attention_reproduces_sparse_attention_in_float32():
    q, k, v = qkv(16, 64, 32, dtype=torch.float32, seed=2)
    r = sparse_attention(q, k, v, top_k=9, causal=True)
    assert (gathered_attention(q, k, v, r.indices) - r.out).abs().max().item() < 1e-5


def test_gradients_pass_gradcheck_in_double_and_match_the_formula_in_float32():
    q, k, v = (x.requires_grad_() for x in qkv(5, 9, 4, b=1, seed=3))
    for options in ({"top_k": 4, "causal": True}, {"eps": 0.2}):
        assert torch.autograd.gradcheck(lambda a, b, c: sparse_attention(a, b, c, **options).out, (q, k, v))
    small = [x.detach()[:, :1, :4].requires_grad_() for x in (q, k, v)]
    assert torch.autograd.gradgradcheck(lambda a, b, c: sparse_attention(a, b, c, top_k=2).out, small)
    qf, kf, vf = (x.detach().float().requires_grad_() for x in (q, k, v))
    out = sparse_attention(qf, kf, vf, top_k=3).out
    want = reference_top_k(q, k, v, 3, False)[0]
    g = torch.rand_like(out)
    got = torch.autograd.grad(out, (qf, kf, vf), g)
    ref = torch.autograd.grad(want, (q, k, v), g.double())
    for a, b in zip(got, ref):
        assert (a.double() - b).abs().max().item() < 1e-5 * max(1.0, b.abs().max().item())


def test_k_eps_of_probabilities_reads_the_mass_relative_to_the_row_sum():
    g = torch.Generator().manual_seed(4)
    scores = torch.randn(3, 5, 100, generator=g, dtype=torch.float64) * 2
    p = torch.softmax(scores, -1)
    want = reference_k_eps(p, 0.05)
    assert torch.equal(k_eps_from_scores(scores, 0.05), want)
    assert torch.equal(k_eps_from_probabilities(p * 7.5, 0.05), want)
    assert torch.equal(k_eps_from_probabilities(p.float(), 0.5), reference_k_eps(p, 0.5))
    masked = scores.clone()
    masked[..., 50:] = float("-inf")
    assert torch.equal(k_eps_from_scores(masked, 0.05), reference_k_eps(torch.softmax(masked, -1), 0.05))


def test_the_gaussian_law_and_the_normal_distribution_functions():
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)
    for p in (1e-6, 0.05, 0.5, 0.9, 0.999):
        assert normal_quantile(p) == pytest.approx(normal.icdf(torch.tensor(p, dtype=torch.float64)).item(), abs=1e-9)
    for x in (-3.0, 0.0, 1.3, 8.0):
        assert normal_tail(x) == pytest.approx(0.5 * math.erfc(x / math.sqrt(2)), rel=1e-12)
    for n, tau, eps in ((1000, 1.0, 0.1), (4096, 3.0, 0.05)):
        z = normal.icdf(torch.tensor(1 - eps, dtype=torch.float64)).item()
        assert k_eps_gaussian_law(n, tau, eps) == pytest.approx(n * 0.5 * math.erfc((tau - z) / math.sqrt(2)), rel=1e-8)


def test_bad_input_raises_errors_that_name_the_problem():
    q, k, v = qkv(4, 6, 8)
    with pytest.raises(ValueError, match="exactly one of top_k"):
        sparse_attention(q, k, v)
    with pytest.raises(ValueError, match="exactly one of top_k"):
        sparse_attention(q, k, v, top_k=2, eps=0.1)
    with pytest.raises(ValueError, match="larger than the number of keys"):
        sparse_attention(q, k, v, top_k=7)
    with pytest.raises(ValueError, match=r"eps .* must lie in \(0, 1\)"):
        sparse_attention(q, k, v, eps=1.5)
    with pytest.raises(ValueError, match="all float32 or all float64"):
        sparse_attention(q.float(), k, v, top_k=2)
    with pytest.raises(ValueError, match="disagree on B or H"):
        sparse_attention(q, k[:1], v[:1], top_k=2)
    with pytest.raises(ValueError, match=r"indices must be key positions in \[0, S\)"):
        gathered_attention(q, k, v, torch.full(q.shape[:3] + (2,), -5, dtype=torch.long))
    with pytest.raises(ValueError, match="at least as many keys as queries"):
        sparse_attention(q, k[:, :, :2], v[:, :, :2], top_k=1, causal=True)
    bad = v.clone()
    bad[0, 1, 2, 3] = float("nan")
    with pytest.raises(OSError, match="v holds NaN or Inf"):
        sparse_attention(q, k, bad, top_k=2)
    with pytest.raises(OSError, match="entirely masked"):
        k_eps_from_scores(torch.full((2, 3), float("-inf")), 0.1)
    with pytest.raises(OSError, match="NaN"):
        k_eps_from_scores(torch.tensor([[0.0, float("nan")]]), 0.1)
    with pytest.raises(OSError, match="non-negative"):
        k_eps_from_probabilities(torch.tensor([[0.5, -0.1]]), 0.1)
    with pytest.raises(ValueError, match="floating-point"):
        k_eps_from_scores(torch.ones(2, 3, dtype=torch.int64), 0.1)
    with pytest.raises(ValueError, match=r"0 < p < 1"):
        normal_quantile(1.0)
