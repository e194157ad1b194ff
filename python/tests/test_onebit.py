"""lmlab.onebit against formulas written here in plain PyTorch, and its packed layers' contract."""
import math

import pytest
import torch
import torch.nn.functional as F

from lmlab import onebit


def reference_q(w, quant, centered=False, scaled=True):
    """Q(W) from its definition (include/lmlab/onebit/quantize.h), in plain PyTorch."""
    if quant == "binary":
        c = w.mean() if centered else 0.0
        s = torch.where(w - c >= 0, torch.ones_like(w), -torch.ones_like(w))
        return s * (w.abs().mean() if scaled else 1.0)
    gamma = w.abs().mean() + 1e-5
    return torch.clamp(torch.round(w / gamma), -1, 1) * (gamma if scaled else 1.0)


def reference_q8(x):
    step = x.abs().amax(-1, keepdim=True).clamp_min(1e-5) / 127.0
    return torch.clamp(torch.round(x / step), -127, 127) * step


@pytest.mark.parametrize("quant,centered", [("binary", False), ("binary", True), ("ternary", False)])
def test_quantize_weight_matches_its_definition_and_passes_gradients_straight_through(quant, centered):
    torch.manual_seed(0)
    w = torch.randn(7, 13, dtype=torch.double, requires_grad=True)
    q = onebit.quantize_weight(w, quant, centered)
    assert torch.equal(q, reference_q(w.detach(), quant, centered))
    g = torch.randn_like(q)
    (q * g).sum().backward()
    assert torch.equal(w.grad, g)


@pytest.mark.parametrize("act_bits,input_norm", [(0, False), (8, False), (8, True)])
def test_bit_linear_is_its_formula_with_straight_through_weight_gradient(act_bits, input_norm):
    torch.manual_seed(1)
    layer = onebit.TernaryLinear(20, 6, act_bits=act_bits, input_norm=input_norm).double()
    x = torch.randn(4, 3, 20, dtype=torch.double, requires_grad=True)
    h = F.layer_norm(x, (20,)) if input_norm else x
    h = reference_q8(h) if act_bits == 8 else h
    want = F.linear(h, reference_q(layer.weight.detach(), "ternary"), layer.bias.detach())
    y = layer(x)
    assert torch.allclose(y, want, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y)
    y.backward(g)
    # dL/dW := dL/dQ(W) = g^T h (straight through the quantizer), dL/db = sum g.
    assert torch.allclose(layer.weight.grad, g.reshape(-1, 6).t() @ h.detach().reshape(-1, 20), atol=1e-10)
    assert torch.allclose(layer.bias.grad, g.reshape(-1, 6).sum(0), atol=1e-12)


def test_bit_linear_shares_nn_linear_initialisation():
    torch.manual_seed(5)
    twin = torch.nn.Linear(9, 4)
    torch.manual_seed(5)
    layer = onebit.BinaryLinear(9, 4)
    assert torch.equal(layer.weight, twin.weight) and torch.equal(layer.bias, twin.bias)


@pytest.mark.parametrize("quant", ["binary", "ternary"])
@pytest.mark.parametrize("act_bits", [0, 8])
def test_packed_layer_computes_the_bit_linear(quant, act_bits):
    torch.manual_seed(2)
    layer = onebit.BitLinear(130, 11, quant=quant, act_bits=act_bits)
    packed = layer.pack()
    x = torch.randn(5, 130) * 2
    with torch.no_grad():
        want, got = layer(x), packed(x)
    # Same products summed in another fp32 order: within 2 K u sum|terms| (K = 130, u = 2^-24).
    h = reference_q8(x) if act_bits == 8 else x
    bound = 2 * 130 * 2.0 ** -24 * h.abs().sum(1, keepdim=True) * packed.weight_scale + 1e-6
    assert ((got - want).abs() <= bound).all()
    w = layer.weight.detach()
    assert torch.equal(packed.pattern(), reference_q(w, quant, scaled=False))
    scale = w.abs().mean().item() + (1e-5 if quant == "ternary" else 0.0)
    assert packed.weight_scale == pytest.approx(scale, rel=1e-6)
    planes = 1 if quant == "binary" else 2
    assert packed.packed_weight_bytes == 11 * math.ceil(130 / 64) * 8 * planes


def test_bad_input_raises_value_errors_that_name_the_problem():
    layer = onebit.BinaryLinear(16, 4)
    packed = layer.pack()
    with pytest.raises(ValueError, match="last dimension must be 16"):
        packed(torch.randn(2, 15))
    with pytest.raises(ValueError, match="float32"):
        packed(torch.randn(2, 16, dtype=torch.double))
    with pytest.raises(ValueError, match="inference only"):
        packed(torch.randn(2, 16, requires_grad=True))
    with pytest.raises(ValueError, match="last dimension must be 16"):
        layer(torch.randn(3, 17))
    with torch.no_grad():
        layer.weight[1, 3] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite entries, the first at \[1, 3\]"):
        layer.pack()
    with pytest.raises(ValueError, match="act_bits"):
        onebit.BitLinear(4, 4, act_bits=4)
    with pytest.raises(ValueError, match="quant"):
        onebit.BitLinear(4, 4, quant="quaternary")
