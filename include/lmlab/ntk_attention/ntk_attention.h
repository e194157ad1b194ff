// NTK-Attention (Gu, Liang, Shi, Song, Yang, "Infinite-long prefix", arXiv:2406.14036; NOTES P2): exact
// softmax attention over the input tokens plus a learned term that stands for an infinitely long
// prefix, with d^2 + d parameters per head and cost independent of the prefix length.
//
// Shapes: q [B,H,T,D], k and v [B,H,S,D], Z [H,D,D], kappa [H,D] (>= 0) -> out [B,H,T,D].
// Per head and query row i, with s_ij = q_i.k_j / sqrt(D) and the feature map
//   phi(x) = elu(x / D^(1/4)) + 1       (so phi(q).phi(p) plays the role of e^{q.p / sqrt(D)}),
//   out_i = (sum_j e^{s_ij} v_j + phi(q_i)^T Z) / (sum_j e^{s_ij} + phi(q_i)^T kappa).
// Z stands for sum_l phi(p^K_l) (p^V_l)^T and kappa for sum_l phi(p^K_l) over a prefix p of any
// length m (ntk_prefix_state builds them from an explicit prefix). Causal masking applies to the
// input keys only (aligned to the last key as in lmlab/models/flash_attention.h); the prefix term
// is never masked.
// The normaliser is computed in the log domain, log Den_i = logaddexp(logsumexp_j s_ij,
// log phi(q_i)^T kappa): no overflow and no silently dropped prefix term for any finite scores
// (the released code exponentiates the row maximum separately and fails beyond |s| ~ 90).
//
// composed_ntk_attention: LibTorch ops, any dtype, optional boolean mask, twice differentiable;
//   the reference.
// fused_ntk_attention: the tiled kernel of lmlab/kernels/ntk_attention.h with a fused backward;
//   float32 CPU; saves q, k, v, phi(q), Z, kappa, the output and the row log-normaliser (no T x S
//   matrix). When the backward itself is differentiated (create_graph) it differentiates the
//   composed formula instead, so higher derivatives exist.
// ntk_attention: fused for float32 CPU inputs without a mask, composed otherwise.
//
// NtkAttention is the AttentionCore owning one (Z, k) per head, d^2 + d parameters, with
// kappa = softplus(k) > 0 (the released code uses |k| with k initialised at 0, whose gradient
// vanishes there, so k never trains).
// The start (Z = 0) is not exactly the backbone: each attention row is the backbone's softmax
// attention o_i scaled by E_i / (E_i + kappa_init sum_d phi(q_i)_d), E_i = sum_j e^{s_ij}, so it
// shrinks by about kappa_init D / E_i relative (tested exactly). At the default kappa_init = 1e-2
// and D = 32 that is ~0.3 / E_i: tens of percent at the first causal rows, whose E_i holds a few
// e^s terms; a ViT's rows (non-causal) sum all tokens and move far less. kappa_init = 1e-4 starts
// within ~0.4% of the backbone (E_i >= 1), but kappa then stays near 1e-4 (Adam moves k by about
// lr per step, i.e. kappa by a factor e^{+-lr}), and the learned term phi(q)^T Z / Den is then
// normalised by the input's E_i alone; in our quick fine-tuning runs that trained worse than the
// default, as did kappa = |k| from 1e-8 (docs/ntk_attention.md, "Starting at the backbone").
// Deviations from the released code: positive parameterisation, log-domain normaliser, no dropout.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/models/attention.h"

namespace lmlab::ntk_attention {

// phi(x) = elu(x / D^(1/4)) + 1 over the last dimension D of x.
torch::Tensor ntk_feature_map(const torch::Tensor& x);

// Z [H,D,D] = sum_l phi(pk_l) pv_l^T and kappa [H,D] = sum_l phi(pk_l) for an explicit prefix
// pk, pv [H,m,D] (m >= 1).
std::pair<torch::Tensor, torch::Tensor> ntk_prefix_state(const torch::Tensor& prefix_keys,
                                                         const torch::Tensor& prefix_values);

// UsageError naming the problem unless shapes agree (see above), the mask (if defined) is boolean
// with trailing dims [T,S] and broadcasts to [B,H,T,S], and kappa >= 0 with no NaN/Inf anywhere.
void check_ntk_inputs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                      const torch::Tensor& z, const torch::Tensor& kappa, bool causal,
                      const torch::Tensor& mask = {});

// mask: optional, true where query i may see input key j, combined with `causal`.
torch::Tensor composed_ntk_attention(const torch::Tensor& q, const torch::Tensor& k,
                                     const torch::Tensor& v, const torch::Tensor& z,
                                     const torch::Tensor& kappa, bool causal,
                                     const torch::Tensor& mask = {});

torch::Tensor fused_ntk_attention(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& z,
                                  const torch::Tensor& kappa, bool causal);

torch::Tensor ntk_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& z, const torch::Tensor& kappa, bool causal,
                            const torch::Tensor& mask = {});

struct NtkAttentionOptions {
  TORCH_ARG(double, kappa_init) = 1e-2;  // initial softplus(k) entries, > 0 (see above)
  TORCH_ARG(double, z_init_std) = 0.0;   // Z ~ N(0, std^2); with 0 only kappa_init moves the start
};

// Parameters "Z" [H,D,D] and "k" [H,D] (kappa = softplus(k)).
class NtkAttention : public AttentionCore {
 public:
  NtkAttention(int64_t heads, int64_t head_dim, const NtkAttentionOptions& options = {});
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) override;
  torch::Tensor kappa() const;  // softplus(k) [H,D]
  const torch::Tensor& z() const { return z_; }

 private:
  torch::Tensor z_, k_;
};

// Every layer gets its own NtkAttention.
AttentionFactory ntk_attention_factory(const NtkAttentionOptions& options = {});

}  // namespace lmlab::ntk_attention
