"""lmlab.attention: lmlab's attention kernels and layers for PyTorch tensors.

Exact attention: q [B, H, T, D] and k, v [B, H, S, D] give softmax(q k^T / sqrt(D) + M) v [B, H, T, D],
with M = -inf above the diagonal when causal (query i of T sees keys 0 .. S - T + i). Gradients flow
through each of them (torch.autograd), second derivatives included.

Also here (docs/python.md): sparse attention and k_eps (P3), streaming attention with its polynomial
method and CountSketch (P5), NTK-Attention (P2) and the P-Tuning v2 and LoRA layers it is compared with.
"""
from . import _lmlab
from ._ntk import composed_ntk_attention, fused_ntk_attention, ntk_attention, ntk_feature_map, ntk_prefix_state, \
    NtkAttention
from ._peft import LoraLinear, PrefixAttention
from ._sparse import gathered_attention, k_eps_from_probabilities, k_eps_from_scores, k_eps_gaussian_law, \
    normal_quantile, normal_tail, sparse_attention, SparseAttentionResult
from ._streaming import CountSketch, CountSketchOptions, exp_interpolation_error_bound, ExpPolynomial, \
    polynomial_feature_dim, PolynomialFeatures, StreamingAttention

__all__ = ["composed_attention", "composed_ntk_attention", "CountSketch", "CountSketchOptions",
           "exact_attention", "exp_interpolation_error_bound", "ExpPolynomial", "flash_attention",
           "fused_ntk_attention", "gathered_attention", "k_eps_from_probabilities", "k_eps_from_scores",
           "k_eps_gaussian_law", "LoraLinear", "normal_quantile", "normal_tail", "ntk_attention",
           "ntk_feature_map", "ntk_prefix_state", "NtkAttention", "polynomial_feature_dim", "PolynomialFeatures",
           "PrefixAttention", "sparse_attention", "SparseAttentionResult", "StreamingAttention"]


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
