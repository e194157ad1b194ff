"""lmlab.attention's PrefixAttention (P-Tuning v2) and LoraLinear against formulas written here in
PyTorch: outputs, gradients reaching the C++ layers' parameters, optimizer steps and state_dict, and
error messages."""
import math

import pytest
import torch

from lmlab.attention import LoraLinear, PrefixAttention

U = 2.0 ** -24


def prefix_reference(q, k, v, pk, pv, causal):
    """softmax(q [pk; k]^T / sqrt(D) + M) [pv; v], M masking input keys after the query's position."""
    b, _, t, d = q.shape
    keys = torch.cat([pk.expand(b, -1, -1, -1), k], 2)
    values = torch.cat([pv.expand(b, -1, -1, -1), v], 2)
    scores = q @ keys.transpose(-2, -1) / math.sqrt(d)
    if causal:
        m = pk.shape[1]
        scores = scores.masked_fill(torch.ones(t, m + t, dtype=torch.bool).triu(m + 1), float("-inf"))
    return torch.softmax(scores, -1) @ values


def qkv(t, d, h=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(3, h, t, d, generator=g) * 2 - 1).requires_grad_() for _ in range(3)]


@pytest.mark.parametrize("causal", [True, False])
def test_prefix_attention_equals_the_pytorch_formula_with_gradients(causal):
    torch.manual_seed(0)
    layer = PrefixAttention(2, 16, length=5, init_std=0.5)
    assert [n for n, _ in layer.named_parameters()] == ["prefix_keys", "prefix_values"]
    q, k, v = qkv(9, 16)
    out = layer(q, k, v, causal)
    params = [layer.prefix_keys, layer.prefix_values]
    xd = [a.detach().double().requires_grad_() for a in [q, k, v] + params]
    want = prefix_reference(*xd, causal)
    assert (out.double() - want).abs().max().item() < 8 * (4 * 16 ** 1.5 + 14 + 4) * U  # exact attention's bound
    g = torch.rand_like(out)
    got = torch.autograd.grad(out, [q, k, v] + params, g)
    ref = torch.autograd.grad(want, xd, g.double())
    for a, b in zip(got, ref):
        assert (a.double() - b).abs().max().item() < 1e-5 * max(1.0, b.abs().max().item())


def test_reparameterized_prefix_is_the_mlp_of_the_embedding_and_trains():
    torch.manual_seed(1)
    layer = PrefixAttention(2, 4, length=3, reparameterize=True, hidden=6)
    names = [n for n, _ in layer.named_parameters()]
    assert names == ["embedding", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]
    first, second = getattr(layer.mlp, "0"), getattr(layer.mlp, "2")
    hidden = torch.tanh(layer.embedding @ first.weight.T + first.bias)
    kv = hidden @ second.weight.T + second.bias
    kv = kv.view(3, 2, 2, 4).permute(1, 2, 0, 3)                       # [m, 2C] -> 2 x [H, m, D]
    keys, values = layer.prefix()
    assert torch.allclose(keys, kv[0], atol=1e-6) and torch.allclose(values, kv[1], atol=1e-6)
    q, k, v = qkv(4, 4, seed=2)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    loss = layer(q, k, v, True).pow(2).sum()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    opt.step()
    assert layer(q, k, v, True).pow(2).sum().item() < loss.item()


def test_lora_linear_equals_the_low_rank_update_and_its_parameters_are_the_cpp_ones():
    torch.manual_seed(2)
    base = torch.nn.Linear(10, 6)
    layer = LoraLinear.from_linear(base, rank=3, alpha=12.0)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias", "lora_A", "lora_B"]
    assert layer.scaling == 4.0 and not layer.weight.requires_grad and layer.lora_A.requires_grad
    x = torch.randn(4, 5, 10)
    assert torch.equal(layer(x), base(x))                               # B = 0: the backbone
    with torch.no_grad():
        layer.lora_B.copy_(torch.randn(6, 3))
    a, b = layer.lora_A, layer.lora_B
    want = x @ base.weight.T + base.bias + 4.0 * (x @ a.T) @ b.T
    assert (layer(x) - want).abs().max().item() < 1e-5
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).pow(2).mean().backward()
    assert layer.weight.grad is None and a.grad.abs().sum() > 0
    opt.step()
    want = x @ base.weight.T + base.bias + 4.0 * (x @ layer.lora_A.T) @ layer.lora_B.T
    assert (layer(x) - want).abs().max().item() < 1e-5
    layer.double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: layer(x), (torch.randn(2, 10, dtype=torch.float64, requires_grad=True),))
    plain = LoraLinear(4, 3, bias=False, rank=1)
    assert plain.bias is None and [n for n, _ in plain.named_parameters()] == ["weight", "lora_A", "lora_B"]


def test_bad_input_raises_value_errors_that_name_the_problem():
    with pytest.raises(ValueError, match=r"rank must be in \[1, min\(in, out\)\] = \[1, 4\]"):
        LoraLinear(4, 8, rank=5)
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        LoraLinear(4, 8, rank=2, alpha=0.0)
    with pytest.raises(ValueError, match="length .* must be >= 1"):
        PrefixAttention(2, 4, length=0)
    layer = PrefixAttention(2, 4, length=2)
    q, k, v = qkv(3, 8)
    with pytest.raises(ValueError, match="built for 2 heads of size 4"):
        layer(q, k, v)


def test_from_linear_keeps_the_dtype_and_reassigning_a_cpp_parameter_is_refused():
    base = torch.nn.Linear(3, 4).double()
    layer = LoraLinear.from_linear(base, rank=2)
    assert layer.weight.dtype == torch.float64
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.equal(layer(x), base(x))
    with pytest.raises(ValueError, match="the C\\+\\+ layer owns"):
        layer.lora_A = torch.nn.Parameter(torch.zeros(2, 3, dtype=torch.float64))
    prefix = PrefixAttention(2, 4, 3, reparameterize=True)
    name = next(n for n, _ in prefix.named_parameters() if "." in n)  # a nested one, e.g. mlp.0.weight
    *path, leaf = name.split(".")
    owner = prefix
    for part in path:
        owner = getattr(owner, part)
    with pytest.raises(ValueError, match="the C\\+\\+ layer owns"):
        setattr(owner, leaf, torch.nn.Parameter(getattr(owner, leaf).detach().clone()))
