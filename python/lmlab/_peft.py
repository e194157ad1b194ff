"""The other adapters of P2's comparison (lmlab/ntk_attention/{prefix_attention,lora}.h): P-Tuning v2
prefix attention and LoRA, as torch.nn.Modules running lmlab's C++ layers."""
from . import _lmlab
from ._modules import CppModule


class PrefixAttention(CppModule):
    """P-Tuning v2 attention: `length` (m) learned keys and values per head prepended to the input's.

    out = softmax(q [P_k; k]^T / sqrt(D) + M) [P_v; v] for q, k, v [B,H,T,D], the causal mask on the
    input keys only; runs lmlab's exact attention (the flash kernel for float32 CPU). Parameters
    "prefix_keys", "prefix_values" [H,m,D] ~ N(0, init_std^2); or, with reparameterize, "embedding" [m, H*D]
    and "mlp" (Linear(H*D, hidden), tanh, Linear(hidden, 2*H*D)) producing them.
    """

    def __init__(self, heads, head_dim, length, reparameterize=False, hidden=512, init_std=1.0):
        super().__init__(_lmlab.AttentionPrefixModule(heads, head_dim, length, reparameterize, hidden, init_std))
        self.heads, self.head_dim, self.length, self.reparameterize = heads, head_dim, length, reparameterize

    def forward(self, q, k, v, causal=False):
        return self._cpp.forward(q, k, v, causal)

    def prefix(self):
        """The current prefix keys and values, [H,m,D] each (differentiable in the parameters)."""
        return self._cpp.prefix()

    def extra_repr(self):
        return (f"heads={self.heads}, head_dim={self.head_dim}, length={self.length}, "
                f"reparameterize={self.reparameterize}")


class LoraLinear(CppModule):
    """LoRA: h = W x + b + (alpha / rank) B A x, x [..., in] -> [..., out] (Hu et al. 2021, eq. 3).

    Parameters "weight" [out, in], "bias" [out] (initialised as torch.nn.Linear's, named as its, so
    load_state_dict(linear.state_dict(), strict=False) or from_linear copies a backbone in), "lora_A"
    [rank, in] (Kaiming-uniform, as PEFT) and "lora_B" [out, rank] (zero: the layer starts as W x + b).
    Freezing W and b is the caller's choice: layer.weight.requires_grad_(False).
    """

    def __init__(self, in_features, out_features, bias=True, rank=8, alpha=16.0):
        super().__init__(_lmlab.AttentionLoraModule(in_features, out_features, bias, rank, alpha))
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        if not bias:
            self.register_parameter("bias", None)  # as torch.nn.Linear

    @classmethod
    def from_linear(cls, linear, rank=8, alpha=16.0, freeze=True):
        """A LoraLinear holding a copy of torch.nn.Linear `linear`'s weight and bias (frozen if freeze),
        in its dtype and on its device."""
        layer = cls(linear.in_features, linear.out_features, linear.bias is not None, rank, alpha)
        layer.to(dtype=linear.weight.dtype, device=linear.weight.device)
        layer.load_state_dict(linear.state_dict(), strict=False)
        for p in (layer.weight, layer.bias):
            if p is not None:
                p.requires_grad_(not freeze)
        return layer

    @property
    def scaling(self):
        """alpha / rank."""
        return self._cpp.scaling

    def forward(self, x):
        return self._cpp.forward(x)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}"
