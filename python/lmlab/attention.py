"""lmlab.attention: lmlab's attention kernels for PyTorch tensors.

All take q [B, H, T, D] and k, v [B, H, S, D] and return softmax(q k^T / sqrt(D) + M) v [B, H, T, D],
with M = -inf above the diagonal when causal (query i of T sees keys 0 .. S - T + i). Gradients flow
through each of them (torch.autograd), second derivatives included.
"""
from . import _lmlab


def flash_attention(q, k, v, causal=False):
    """lmlab's tiled online-softmax kernel (AVX-512/AVX2/scalar) with its fused backward: no T x S
    matrix, O((T + S) D) memory. float32 CPU tensors with finite entries; ValueError otherwise."""
    return _lmlab.attention_flash(q, k, v, causal)


def composed_attention(q, k, v, causal=False):
    """The reference: matmul, mask, softmax, matmul in LibTorch ops (materialises the attention map)."""
    return _lmlab.attention_composed(q, k, v, causal)


def exact_attention(q, k, v, causal=False):
    """flash_attention for float32 CPU tensors, composed_attention otherwise (what lmlab's models run)."""
    return _lmlab.attention_exact(q, k, v, causal)
