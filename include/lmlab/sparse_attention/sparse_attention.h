// Sparse softmax attention and the mass-based sparsity measure k_eps (P3, arXiv 2404.02690,
// Deng, Song, Yang: "Attention is naturally sparse with Gaussian inputs").
//
// Shapes: q [B,H,T,D], k and v [B,H,S,D] (S keys; T <= S when causal, the queries being the last T
// positions, as SoftmaxAttention), out [B,H,T,D]. Scores s_ij = scale * <q_i, k_j>, scale = 1/sqrt(D)
// unless set; p_ij = softmax_j(s_ij) over the keys row i may see.
//
// Selection of the kept set H_i per row (src/sparse_attention/sparse_attention.cpp):
//   TopK  H_i = the k largest scores (all visible keys when a causal row sees fewer than k);
//   Mass  H_i = the fewest entries whose softmax mass reaches 1 - eps (|H_i| = k_eps of the row).
// Sparse attention renormalises over the kept set:
//   Attn_H(i) = sum_{j in H_i} p_ij v_j / (1 - tau_i),  tau_i = sum_{j not in H_i} p_ij  (tail mass).
// Exact identity (NOTES.md P3): Attn - Attn_H = tau (mu_tail - mu_head), with mu_tail and mu_head
// the p-weighted means of v over the tail and the kept set, hence ||Attn - Attn_H|| <= 2 tau max||v_j||.
//
// Gradients treat the selection as fixed (it is piecewise constant in q and k). First-order
// gradients come from a custom backward; when the backward itself is differentiated (create_graph),
// a composed LibTorch formulation over the gathered kept keys is used instead, so every order is
// exact.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/models/attention.h"

namespace lmlab::sparse_attention {

enum class Selection { TopK, Mass };

struct SparseAttentionOptions {
  TORCH_ARG(Selection, selection) = Selection::TopK;
  TORCH_ARG(int64_t, k) = 128;          // TopK: entries kept per row, 1 <= k <= S
  TORCH_ARG(double, eps) = 0.1;         // Mass: dropped softmax mass at most eps, 0 < eps < 1
  TORCH_ARG(bool, causal) = false;
  TORCH_ARG(double, scale) = 0.0;       // 0: 1/sqrt(D)
  TORCH_ARG(bool, tail_mass) = false;   // TopK: also compute tau_i (costs S exponentials per row)
  TORCH_ARG(int64_t, block_rows) = 0;   // rows whose scores are held at once; 0: ~2 MiB of scores
};

struct SparseAttentionResult {
  torch::Tensor out;        // [B,H,T,D], the dtype of q
  torch::Tensor indices;    // [B,H,T,K] int64, the kept keys of each row, largest score first;
                            // K = the largest count; a row's unused slots hold -1
  torch::Tensor kept;       // [B,H,T] int64, |H_i|
  torch::Tensor tail_mass;  // [B,H,T] double, tau_i; undefined for TopK unless tail_mass(true)
};

// UsageError on wrong ranks or shapes, D mismatch, k outside [1, S], eps outside (0,1), T > S when
// causal, non-floating or mixed dtypes; DataError on NaN/Inf in q, k or v.
void check_sparse_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const SparseAttentionOptions& options);

// The sparse attention of q, k, v with autograd (see above). Scores are computed for a block of
// rows at a time into a bounded buffer, never the dense [T,S] map; only kept rows of v are read.
SparseAttentionResult sparse_attention(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, const SparseAttentionOptions& options);

// The composed reference: attention restricted to given kept keys, from LibTorch ops only
// (gather, matmul, softmax), twice differentiable. indices [B,H,T,K] as SparseAttentionResult's.
torch::Tensor gathered_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& indices, double scale);

// An AttentionCore running sparse_attention (options.causal is taken from each call).
class SparseAttentionCore : public AttentionCore {
 public:
  explicit SparseAttentionCore(SparseAttentionOptions options);
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) override;
  const SparseAttentionOptions& options() const { return options_; }

 private:
  SparseAttentionOptions options_;
};

}  // namespace lmlab::sparse_attention
