"""lmlab.onebit: 1-bit and ternary linear layers for PyTorch, and their packed inference form (P1).

BitLinear (and its presets BinaryLinear, TernaryLinear) is a torch.nn.Module with full-precision
latent weights; its forward is lmlab's C++ BitLinear (include/lmlab/onebit/bit_linear.h):

    y = Q8(LN(x)) Q(W)^T + b     (LN if input_norm, Q8 if act_bits == 8)

with the straight-through gradient (dL/dW := dL/dQ(W)), so it trains with any torch.optim optimizer.
It starts from torch.nn.Linear's initialisation: a BitLinear and a Linear made after the same
torch.manual_seed share their latent weights (the full-precision twin). `layer.pack()` returns a
PackedLinear: 1 bit (binary) or 2 bits (ternary) per weight on lmlab's SIMD kernels, inference only.
"""
import torch

from . import _lmlab


def quantize_weight(weight, quant="binary", centered=False, scaled=True):
    """Q(W): beta * sign(W - c) (binary) or gamma * clip(round(W / gamma), -1, 1) (ternary), with the
    straight-through gradient. quant: "binary" | "ternary"."""
    return _lmlab.onebit_quantize_weight(weight, quant, centered, scaled)


def quantize_activations_int8(x):
    """Per-token (last dimension) absmax int8 quantization Q(x), with the straight-through gradient."""
    return _lmlab.onebit_quantize_activations_int8(x)


class BitLinear(torch.nn.Module):
    """A linear layer with 1-bit or ternary weights, trained through the straight-through estimator.

    quant: "binary" or "ternary"; centered: subtract mean(W) before sign (binary, BitNet); scaled:
    multiply by mean|W|; act_bits: 0 (full-precision activations) or 8 (int8 absmax per token);
    input_norm: LayerNorm without affine parameters before the activation quantizer.
    """

    def __init__(self, in_features, out_features, bias=True, quant="binary", centered=False, scaled=True,
                 act_bits=0, input_norm=False):
        super().__init__()
        if act_bits not in (0, 8):
            raise ValueError(f"BitLinear act_bits must be 0 (full precision) or 8 (int8 absmax), got {act_bits}")
        if quant not in ("binary", "ternary"):
            raise ValueError(f'BitLinear quant must be "binary" or "ternary", got {quant!r}')
        init = torch.nn.Linear(in_features, out_features, bias=bias)  # nn.Linear's initialisation
        self.weight = torch.nn.Parameter(init.weight.detach().clone())
        self.bias = torch.nn.Parameter(init.bias.detach().clone()) if bias else None
        self.in_features, self.out_features = in_features, out_features
        self.quant, self.centered, self.scaled = quant, centered, scaled
        self.act_bits, self.input_norm = act_bits, input_norm

    def forward(self, x):
        return _lmlab.onebit_bit_linear(x, self.weight, self.bias, self.quant, self.centered, self.scaled,
                                        self.act_bits, self.input_norm)

    def quantized_weight(self):
        """Q(W) as the forward uses it."""
        return quantize_weight(self.weight, self.quant, self.centered, self.scaled)

    def pack(self):
        """The packed inference layer for the current weights (ValueError if a weight is NaN or Inf)."""
        bias = None if self.bias is None else self.bias.detach()
        return PackedLinear(_lmlab.onebit_pack(self.weight.detach(), bias, self.quant, self.centered,
                                               self.scaled, self.act_bits, self.input_norm))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"quant={self.quant}, centered={self.centered}, scaled={self.scaled}, act_bits={self.act_bits}, "
                f"input_norm={self.input_norm}")


class BinaryLinear(BitLinear):
    """BitLinear with sign weights (BitNet): quant="binary"."""

    def __init__(self, in_features, out_features, bias=True, **options):
        super().__init__(in_features, out_features, bias, quant="binary", **options)


class TernaryLinear(BitLinear):
    """BitLinear with {-1, 0, +1} weights (BitNet b1.58): quant="ternary"."""

    def __init__(self, in_features, out_features, bias=True, **options):
        super().__init__(in_features, out_features, bias, quant="ternary", **options)


class PackedLinear(torch.nn.Module):
    """Inference form of a BitLinear: float32 CPU input [..., in], no gradients (use torch.no_grad())."""

    def __init__(self, packed):
        super().__init__()
        self._packed = packed

    def forward(self, x):
        return self._packed.forward(x)

    def pattern(self):
        """The stored weights T (values -1, 0, +1) as float [out, in]; Q(W) = weight_scale * T."""
        return self._packed.pattern()

    @property
    def weight_scale(self):
        return self._packed.weight_scale

    @property
    def packed_weight_bytes(self):
        return self._packed.packed_weight_bytes


def pack(layer):
    """layer.pack() for a BitLinear."""
    return layer.pack()
