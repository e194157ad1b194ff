"""Sparse softmax attention and the mass-based sparsity measure k_eps (P3; lmlab/sparse_attention/sparse_attention.h)."""
import collections

from . import _lmlab

SparseAttentionResult = collections.namedtuple("SparseAttentionResult", ["out", "indices", "kept", "tail_mass"])
SparseAttentionResult.__doc__ = """What sparse_attention returns.

out [B,H,T,D] (q's dtype); indices [B,H,T,K] int64, each row's kept keys, largest score first, -1 in
unused slots (K the largest kept count); kept [B,H,T] int64, |H_i|; tail_mass [B,H,T] float64, the
dropped softmax mass tau_i (None for top_k selection unless tail_mass=True)."""


def sparse_attention(q, k, v, top_k=None, eps=None, causal=False, scale=None, tail_mass=False, block_rows=0):
    """Softmax attention over a kept set H_i of keys per query row, renormalised over H_i:

        out_i = sum_{j in H_i} p_ij v_j / (1 - tau_i),   p_ij = softmax_j(scale <q_i, k_j>),

    with exactly one of top_k (H_i = the top_k largest scores) or eps (H_i = the fewest entries
    holding at least 1 - eps of the row's softmax mass, |H_i| = k_eps). q [B,H,T,D], k [B,H,S,D],
    v [B,H,S,Dv], all float32 or all float64 on the CPU; causal: query i of T sees keys 0 .. S - T + i.
    scale defaults to 1/sqrt(D). No T x S map is held: scores are computed block_rows rows at a time
    (0: about 2 MiB of scores). Gradients flow to q, k, v with the selection held fixed (any order).
    Returns a SparseAttentionResult. ValueError on bad shapes or options, OSError on NaN/Inf inputs.
    """
    if (top_k is None) == (eps is None):
        raise ValueError("sparse_attention needs exactly one of top_k (keep the top_k largest scores of each row) "
                         "or eps (keep the fewest entries holding 1 - eps of each row's softmax mass)")
    if scale is not None and not scale > 0:
        raise ValueError(f"sparse_attention scale must be > 0 (None: 1/sqrt(D)); got {scale}")
    selection = "top_k" if top_k is not None else "mass"
    # The option of the selection not chosen is ignored by lmlab but still validated: pass a valid one.
    result = _lmlab.attention_sparse(q, k, v, selection, 1 if top_k is None else top_k, 0.5 if eps is None else eps,
                                     causal, scale or 0.0, tail_mass, block_rows)
    return SparseAttentionResult(*result)


def gathered_attention(q, k, v, indices, scale=None):
    """The composed reference of sparse_attention for given kept keys indices [B,H,T,K] (-1: unused):
    gather, matmul, softmax in LibTorch ops, any floating dtype, differentiable to every order."""
    return _lmlab.attention_gathered(q, k, v, indices, q.shape[-1] ** -0.5 if scale is None else scale)


def k_eps_from_scores(scores, eps):
    """k_eps of each row of scores [..., S]: the fewest entries of softmax(scores) holding at least 1 - eps
    of the mass; -inf marks masked entries (each row needs a finite one). int64 [...], computed in double."""
    return _lmlab.attention_k_eps_from_scores(scores, eps)


def k_eps_from_probabilities(probabilities, eps):
    """k_eps of each row of a non-negative map [..., S], its mass taken relative to the row's sum."""
    return _lmlab.attention_k_eps_from_probabilities(probabilities, eps)


def k_eps_gaussian_law(n, tau, eps):
    """The closed-form law for n i.i.d. scores N(0, tau^2): k_eps ~ n Qn(tau - z_{1-eps}) (NOTES.md P3)."""
    return _lmlab.attention_k_eps_gaussian_law(n, tau, eps)


def normal_quantile(p):
    """The standard normal quantile z_p, 0 < p < 1."""
    return _lmlab.attention_normal_quantile(p)


def normal_tail(x):
    """The standard normal tail Qn(x) = P(Z > x)."""
    return _lmlab.attention_normal_tail(x)
