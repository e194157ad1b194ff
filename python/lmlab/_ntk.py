"""NTK-Attention (P2; lmlab/ntk_attention/ntk_attention.h): softmax attention over the input plus a
learned term standing for an infinitely long prefix, with d^2 + d parameters per head.

q [B,H,T,D], k and v [B,H,S,D], Z [H,D,D], kappa [H,D] (>= 0), phi(x) = elu(x / D^(1/4)) + 1:

    out_i = (sum_j e^{s_ij} v_j + phi(q_i)^T Z) / (sum_j e^{s_ij} + phi(q_i)^T kappa),  s_ij = q_i.k_j / sqrt(D)

with the causal mask on the input keys only (query i of T sees keys 0 .. S - T + i; the prefix term is
never masked) and the normaliser in the log domain (no overflow for any finite scores).
"""
from . import _lmlab
from ._modules import CppModule


def ntk_feature_map(x):
    """phi(x) = elu(x / D^(1/4)) + 1 over the last dimension D of x."""
    return _lmlab.attention_ntk_feature_map(x)


def ntk_prefix_state(prefix_keys, prefix_values):
    """(Z [H,D,D], kappa [H,D]) = (sum_l phi(pk_l) pv_l^T, sum_l phi(pk_l)) of an explicit prefix
    pk, pv [H,m,D]: with them, NTK-Attention weighs prefix value l by phi(q).phi(pk_l) and input value j
    by e^{s_ij}, whatever the prefix length m."""
    return _lmlab.attention_ntk_prefix_state(prefix_keys, prefix_values)


def ntk_attention(q, k, v, z, kappa, causal=False, mask=None):
    """fused_ntk_attention for float32 CPU inputs without a mask, composed_ntk_attention otherwise."""
    return _lmlab.attention_ntk(q, k, v, z, kappa, causal, mask)


def fused_ntk_attention(q, k, v, z, kappa, causal=False):
    """lmlab's tiled kernel with its fused backward (no T x S matrix): float32 CPU tensors. Gradients
    flow to q, k, v, Z and kappa; second derivatives differentiate the composed formula."""
    return _lmlab.attention_ntk_fused(q, k, v, z, kappa, causal)


def composed_ntk_attention(q, k, v, z, kappa, causal=False, mask=None):
    """The reference in LibTorch ops: any floating dtype, optional boolean mask [.., T, S] (true where
    query i may see input key j, combined with causal), twice differentiable."""
    return _lmlab.attention_ntk_composed(q, k, v, z, kappa, causal, mask)


class NtkAttention(CppModule):
    """The NTK-Attention layer of lmlab's models: parameters Z [H,D,D] and k [H,D], kappa = softplus(k).

    forward(q, k, v, causal=False) runs ntk_attention (the fused kernel for float32 CPU inputs), so
    torch.autograd reaches Z and k. kappa_init: the initial softplus(k) entries (> 0); z_init_std: Z ~
    N(0, std^2) (0: the layer starts as plain softmax attention plus a small prefix mass).
    """

    def __init__(self, heads, head_dim, kappa_init=1e-2, z_init_std=0.0):
        super().__init__(_lmlab.AttentionNtkModule(heads, head_dim, kappa_init, z_init_std))
        self.heads, self.head_dim = heads, head_dim

    def forward(self, q, k, v, causal=False):
        return self._cpp.forward(q, k, v, causal)

    def kappa(self):
        """softplus(k) [H,D], differentiable in k."""
        return self._cpp.kappa()

    def extra_repr(self):
        return f"heads={self.heads}, head_dim={self.head_dim}"
